#!/bin/bash
# Functional test: live migration of a real Linux guest (tests/guest) between tern
# processes under KVM, with memdirty running. The checks are in
# tests/functional/lab/kvm-migrate.sh; this wrapper decides where they run
# (tests/lab/detect.sh): on a host with hardware KVM directly (as root), otherwise inside
# the lab VM with the freshly built tern. Prints TAP; the suite runner picks it up.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TERN=${TERN_BINARY:-$PWD/$BUILD/tern}
CHECKS=tests/functional/lab/kvm-migrate.sh
UNIT=$PWD/$BUILD/tests/unit/test-kvm

if [ ! -x "$TERN" ] || [ ! -x "$UNIT" ]; then
    echo "1..0 # SKIP no tern or test-kvm binary in $BUILD (run make check)"
    exit 0
fi
mode=$(tests/lab/detect.sh 2>"/tmp/tern-detect.$$")
reason=$(cat "/tmp/tern-detect.$$"); rm -f "/tmp/tern-detect.$$"
echo "# KVM: $mode ($reason)"

case $mode in
lab)
    mkdir -p "$BUILD/functional"
    exec tests/lab/run-lab.sh --timeout 600 \
        --log "$BUILD/functional/kvm-migrate.console" --out "$BUILD/functional/kvm-migrate.ttyS1" \
        --add "$TERN:/usr/bin/tern" --add "$UNIT:/usr/bin/test-kvm" "$CHECKS"
    ;;
direct)
    if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root here (network namespaces, tap, bridge)"
        exit 0
    fi
    . tests/guest/lib.sh
    ensure_pkgs socat iproute2
    tests/guest/build-guest.sh "$BUILD/guest" >&2 || { echo "Bail out! build-guest.sh failed"; exit 1; }
    TERN=$TERN TERN_KVM_UNIT=$UNIT LAB_GUEST=$PWD/$BUILD/guest LAB_TESTS=$PWD/tests/lab/tests \
        exec "$CHECKS"
    ;;
esac
