#!/bin/bash
# Functional test: NIC hotplug with a real Linux guest (tests/guest) under tern with KVM:
# netdev_add, device_add, the guest's ACPI hotplug driver finding the NIC, ping through
# it, device_del, the guest's eject and DEVICE_DELETED. The checks are in
# tests/functional/lab/hotplug.sh; tests/functional/lib.sh decides where they run.
set -u
cd "$(dirname "$0")/../.."
. tests/functional/lib.sh
functional_need "$TERN"
functional_run hotplug tests/functional/lab/hotplug.sh 900
