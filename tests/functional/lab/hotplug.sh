#!/bin/bash
# The real-guest checks of NIC hotplug, run where KVM is real: inside the lab
# (tests/functional/hotplug.sh starts it there) or on a host with hardware KVM.
# Prints TAP. A guest boots with no NIC; over QMP the test adds a tap netdev
# (netdev_add) and a virtio-net-pci NIC (device_add, slot 6). The guest's ACPI
# hotplug driver (GPE 1, \_GPE._E01, bus check) must find it: the interface with
# the NIC's MAC appears, comes up and answers ping from a peer namespace through a
# bridge. device_del asks the guest to eject it: the interface goes and
# DEVICE_DELETED {"device": "hnic", "path": "/machine/peripheral/hnic"} arrives.
# Then the NIC is added again at the same slot and works again.
#
# Environment: as tests/functional/lab/kvm-guest.sh (TERN, LAB_GUEST, LAB_TESTS).
. "${LAB_TESTS:-/tests}/lib.sh"

TERN=${TERN:-tern}
GUEST=${LAB_GUEST:-/guest}
W=/tmp/tern-hotplug
MAC=52:54:00:12:34:77
APPEND="console=ttyS0 loglevel=4 panic=-1"

plan 11

cleanup() {
    vm_stop h1 2>/dev/null
    qmp_close h1
    lab_switch_down tern-sw tern-peer
}
trap cleanup EXIT
rm -rf "$W"; mkdir -p "$W"

peer_ping() { ip netns exec tern-peer ping -c "${2:-2}" -W "${3:-5}" "$1"; }

# The guest's interface that carries $MAC, empty when none.
nic_name() {
    vm_cmd h1 "for i in /sys/class/net/*; do grep -q $MAC \$i/address && basename \$i; done; true"
}
nic_present() { [ -n "$(nic_name)" ]; }
nic_absent() { [ -z "$(nic_name)" ]; }

# add_nic: device_add at slot 6 and wait for the guest to bring the NIC up
# with 10.0.0.2/24; prints nothing, status 0 when the peer can ping it.
add_nic() {
    local ifname
    qmp_cmd h1 '{"execute":"device_add","arguments":{"driver":"virtio-net-pci","id":"hnic","netdev":"hn","mac":"'$MAC'","addr":"0x6"}}' > /dev/null || return 1
    wait_until 30 nic_present || return 2
    ifname=$(nic_name)
    vm_cmd h1 "ip addr add 10.0.0.2/24 dev $ifname && ip link set $ifname up" > /dev/null || return 3
    wait_until 20 peer_ping 10.0.0.2 1 2 > /dev/null
}

deleted_event() { qmp_events h1 | grep '"DEVICE_DELETED"' | grep -q '"device": *"hnic"'; }

lab_switch tern-sw tern-peer tap0

vm_start h1 ip netns exec tern-sw "$TERN" -enable-kvm -m 256 -smp 1 \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" -append "$APPEND" \
    -nographic -no-reboot -qmp "unix:$W/h1.qmp,server=on,wait=off"
if ! vm_wait h1 TERN-GUEST-READY 120; then
    sed 's/^/#   /' /tmp/vm-h1/console /tmp/vm-h1/stderr | tail -n 40
    not_ok "guest boots with no NIC"
    for d in netdev_add device_add appears ping device_del gone DEVICE_DELETED "acpi errors" \
             re-add poweroff; do
        not_ok "$d (no guest)"
    done
    done_testing
    exit
fi
ok "guest boots with no NIC"
qmp_open h1 "$W/h1.qmp"

check "netdev_add tap (QEMU's arguments)" qmp_cmd h1 \
    '{"execute":"netdev_add","arguments":{"type":"tap","id":"hn","ifname":"tap0","script":"no","downscript":"no"}}'
add_nic; rc=$?
[ $rc -ge 2 ] || [ $rc = 0 ] && ok "device_add virtio-net-pci at slot 6" ||
    not_ok "device_add virtio-net-pci at slot 6"
[ $rc -ge 3 ] || [ $rc = 0 ] && ok "the guest sees the NIC appear (ACPI hotplug, bus check)" ||
    not_ok "the guest sees the NIC appear (ACPI hotplug, bus check)"
[ $rc = 0 ] && ok "the hot-added NIC answers ping from the peer" ||
    not_ok "the hot-added NIC answers ping from the peer (step $rc)"

check "device_del hnic" qmp_cmd h1 '{"execute":"device_del","arguments":{"id":"hnic"}}'
check "the guest ejects the NIC: its interface goes" wait_until 30 nic_absent
if wait_until 10 deleted_event; then
    ok "DEVICE_DELETED {device: hnic, path: /machine/peripheral/hnic}"
    qmp_events h1 | grep '"DEVICE_DELETED"' | sed 's/^/#   /'
else
    not_ok "DEVICE_DELETED {device: hnic, path: /machine/peripheral/hnic}"
fi
out=$(vm_cmd h1 'dmesg | grep -iE "ACPI (BIOS )?Error|AE_[A-Z_]+|acpiphp.*(fail|error)"; true')
[ -z "$out" ] && ok "no ACPI errors in the guest's kernel log" ||
    { not_ok "no ACPI errors in the guest's kernel log"; printf '%s\n' "$out" | sed 's/^/#   /'; }

add_nic; rc=$?
[ $rc = 0 ] && ok "the NIC added again at the same slot works" ||
    not_ok "the NIC added again at the same slot works (step $rc)"

printf '%s\n' 'poweroff -f' >> /tmp/vm-h1/in
vm_stop h1 30 && ok "guest poweroff ends tern" || not_ok "guest poweroff ends tern"
if [ -s /tmp/vm-h1/stderr ]; then
    sed 's/^/# tern: /' /tmp/vm-h1/stderr | head -n 20
fi
done_testing
