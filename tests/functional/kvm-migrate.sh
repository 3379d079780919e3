#!/bin/bash
# Functional test: live migration of a real Linux guest (tests/guest) between tern
# processes under KVM, with memdirty running. The checks are in
# tests/functional/lab/kvm-migrate.sh; tests/functional/lib.sh decides where they run
# (tests/lab/detect.sh): on a host with hardware KVM directly (as root), otherwise inside
# the lab VM with the freshly built tern. Prints TAP; the suite runner picks it up.
set -u
cd "$(dirname "$0")/../.."
. tests/functional/lib.sh
UNIT=$PWD/$BUILD/tests/unit/test-kvm
functional_need "$TERN" "$UNIT"
functional_run kvm-migrate tests/functional/lab/kvm-migrate.sh 600 \
    --add "$UNIT:/usr/bin/test-kvm" --env "TERN_KVM_UNIT=$UNIT"
