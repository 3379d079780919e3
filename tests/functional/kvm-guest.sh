#!/bin/bash
# Functional test: a real Linux guest (tests/guest) under tern with KVM. The checks are in
# tests/functional/lab/kvm-guest.sh; tests/functional/lib.sh decides where they run
# (tests/lab/detect.sh): on a host with hardware KVM directly (as root), otherwise inside
# the lab VM with the freshly built tern. Prints TAP; the suite runner picks it up.
set -u
cd "$(dirname "$0")/../.."
. tests/functional/lib.sh
functional_need "$TERN"
functional_run kvm-guest tests/functional/lab/kvm-guest.sh 900
