#!/bin/bash
# Functional test: live migration between two hosts with a VLAN-filtering switch, and the
# network following the guest (guest announce, RARP fallback, announce-rounds 0, -S, back
# and forth, memdirty). The checks are in tests/functional/lab/net-migrate.sh (the
# design: docs/testing-migration.md); they run in the lab, or directly where KVM is real
# (tests/functional/lib.sh). Prints TAP; figures (downtime, RESUME -> FDB moves) as
# comments.
#
#   tests/functional/net-migrate.sh            # tern (what `make check` runs)
#   VMM=qemu tests/functional/net-migrate.sh   # the same checks against QEMU 7.2
set -u
cd "$(dirname "$0")/../.."
. tests/functional/lib.sh
VMM=${VMM:-tern}
if [ "$VMM" = tern ]; then
    functional_need "$TERN"
fi
pkgs=tcpdump
[ "$VMM" = qemu ] && pkgs="$pkgs qemu-system-x86"
# The raw records of every migration (frames, FDB events): the lab's ttyS1
# (build/functional/net-migrate-VMM.ttyS1), or this file in a direct run.
mkdir -p "$BUILD/functional"
functional_run "net-migrate-$VMM" tests/functional/lab/net-migrate.sh 540 --pkgs "$pkgs" \
    --env "TOPO_LOG=$PWD/$BUILD/functional/net-migrate-$VMM.records" -- "$VMM"
