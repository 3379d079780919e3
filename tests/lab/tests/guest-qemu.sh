#!/bin/sh
# The test guest under QEMU with KVM, inside the lab: proves the guest, the
# nested KVM and the switch topology that tern's functional tests will use,
# with a reference VMM. Needs a lab built with `build-lab.sh --with-qemu`
# (skips otherwise).
#
#   tests/lab/run-lab.sh guest-qemu.sh
#
# Topology (all inside the lab):
#   netns lab-sw: bridge br0 (vlan_filtering 1), ports
#       tap0 -> the guest's virtio-net NIC; trunk: VLAN 1 untagged (pvid),
#               VLAN 10 tagged
#       psw  -> veth to netns lab-peer; the same trunk
#     QEMU runs in lab-sw (a tap lives in the namespace that made it).
#   netns lab-peer: veth "peer" 10.0.0.1/24 + 10.0.20.1/24, peer.10 10.0.10.1/24
#     (and fd00::1/64, fd00:10::1/64)
#   guest: eth0 10.0.0.2/24, eth0.10 10.0.10.2/24, macvlan0 (own MAC) 10.0.20.2/24
. "${LAB_TESTS:-/tests}/lib.sh"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "1..0 # SKIP no qemu-system-x86_64 in the lab (build-lab.sh --with-qemu)"
    exit 0
fi
plan 13

GUEST=${LAB_GUEST:-/guest}
GUEST_MAC=52:54:00:12:34:56
MV_MAC=52:54:00:aa:00:02
W=/tmp/guest-qemu
mkdir -p $W

cleanup() {
    vm_stop g1 2>/dev/null
    lab_switch_down lab-sw lab-peer
}
trap cleanup EXIT

lab_switch lab-sw lab-peer tap0          # lib.sh: the topology above

# The guest's serial console is QEMU's stdio, driven by vm_* from lib.sh.
t0=$(uptime_s)
vm_start g1 ip netns exec lab-sw qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 256 -M pc \
    -nodefaults -display none -no-reboot -serial stdio \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
    -append "console=ttyS0 loglevel=4 panic=-1 tern.ip=10.0.0.2/24 tern.vlan=10:10.0.10.2/24 tern.macvlan=$MV_MAC:10.0.20.2/24" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on \
    -device virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile=

if vm_wait g1 TERN-GUEST-READY 120; then
    t1=$(uptime_s)
    ok "guest boots under QEMU+KVM in the lab ($(awk "BEGIN{print $t1 - $t0}") s to TERN-GUEST-READY)"
else
    not_ok "guest boots under QEMU+KVM in the lab"
    sed 's/^/#   /' /tmp/vm-g1/console /tmp/vm-g1/stderr
    exit 1
fi

check "ping eth0 (untagged)" ip netns exec lab-peer ping -c 2 -W 5 10.0.0.2
check "ping eth0.10 (VLAN 10 tagged through the bridge)" ip netns exec lab-peer ping -c 2 -W 5 10.0.10.2
check "ping macvlan0 (own MAC)" ip netns exec lab-peer ping -c 2 -W 5 10.0.20.2
check "bridge learned the NIC MAC on VLAN 10 at tap0" sh -c \
    "bridge -n lab-sw fdb show br br0 | grep -i '$GUEST_MAC dev tap0 vlan 10'"
check "bridge learned the NIC MAC on VLAN 1 at tap0" sh -c \
    "bridge -n lab-sw fdb show br br0 | grep -i '$GUEST_MAC dev tap0 vlan 1 '"
check "bridge learned the macvlan MAC at tap0" sh -c \
    "bridge -n lab-sw fdb show br br0 | grep -i '$MV_MAC dev tap0 vlan 1 '"
check "peer's ARP entry for the macvlan has the macvlan MAC" sh -c \
    "ip -n lab-peer neigh show 10.0.20.2 | grep -i $MV_MAC"

# A tagged frame on the wire: capture on the trunk port (tap0 side) while the
# peer pings the VLAN address.
ip netns exec lab-sw tcpdump -Z root -e -n -i tap0 -c 1 'vlan 10 and icmp' >$W/td 2>/dev/null &
td=$!
sleep 1
ip netns exec lab-peer ping -c 2 -W 2 10.0.10.2 >/dev/null 2>&1
n=0; while kill -0 $td 2>/dev/null && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
kill $td 2>/dev/null; wait $td 2>/dev/null
check "tap0 carries 802.1Q tag 10 (tcpdump)" grep -q 'vlan 10' $W/td

# Serial command loop: output and exit status.
out=$(vm_cmd g1 'grep -c "eth0" /proc/net/vlan/config; ip -br link show macvlan0')
rc=$?
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -qx 1 && printf '%s\n' "$out" | grep -qi "$MV_MAC"; then
    ok "serial command loop: output and TERN-CMD-DONE 0"
else
    not_ok "serial command loop (status $rc)"
    printf '%s\n' "$out" | sed 's/^/#   /'
fi
vm_cmd g1 'exit 7' >/dev/null
rc=$?
if [ $rc = 7 ]; then ok "serial command loop: exit status 7"; else not_ok "serial command loop: exit status (got $rc)"; fi

out=$(vm_cmd g1 'memdirty -t 3 -i 1 32' 90)
rc=$?
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q 'MEMDIRTY VERIFY OK'; then
    ok "memdirty 32 MiB for 3 s: $(printf '%s\n' "$out" | grep STATUS | tail -1 | sed 's/MEMDIRTY //')"
else
    not_ok "memdirty (status $rc)"
fi

vm_cmd g1 'poweroff -f' 5 >/dev/null
if vm_stop g1 30; then ok "guest poweroff ends QEMU"; else not_ok "guest poweroff ends QEMU"; fi
diag "guest console:"
tr -d '\r' < /tmp/vm-g1/console | sed 's/^/#   /'
done_testing
