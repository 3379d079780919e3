#!/bin/bash
# Functional test: NIC hotplug with a real Linux guest (tests/guest) under tern with KVM:
# netdev_add, device_add, the guest's ACPI hotplug driver finding the NIC, ping through
# it, device_del, the guest's eject and DEVICE_DELETED. The checks are in
# tests/functional/lab/hotplug.sh; tests/functional/lib.sh decides where they run.
set -u
cd "$(dirname "$0")/../.."
. tests/functional/lib.sh
BUILD=${BUILD:-build}
TERN=${TERN_BINARY:-$PWD/$BUILD/tern}

if [ ! -x "$TERN" ]; then
    echo "1..0 # SKIP no tern binary at $TERN (run make first)"
    exit 0
fi
functional_run hotplug tests/functional/lab/hotplug.sh 900
