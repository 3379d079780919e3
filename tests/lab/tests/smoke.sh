#!/bin/sh
# Lab smoke test: is everything tern's functional tests need really there?
# Runs inside the lab: tests/lab/run-lab.sh smoke.sh
. "${LAB_TESTS:-/tests}/lib.sh"

plan 12

check "/dev/kvm exists" test -c /dev/kvm
probe=$(kvm-probe 2>&1); rc=$?
if [ $rc = 0 ]; then
    ok "KVM_GET_API_VERSION, KVM_CREATE_VM, caps and a real-mode vCPU run (kvm-probe)"
else
    not_ok "kvm-probe (status $rc)"
fi
printf '%s\n' "$probe" | sed 's/^/# /'
check "kvm_amd nested=1" grep -qxE "1|Y" /sys/module/kvm_amd/parameters/nested
check "kvm_amd npt=1" grep -qxE "1|Y" /sys/module/kvm_amd/parameters/npt

# Two namespaces joined by a veth pair.
cleanup() {
    for ns in lab-a lab-b lab-sw; do ip netns del $ns 2>/dev/null; done
    ip link del lab-tap0 2>/dev/null
}
cleanup
ip netns add lab-a && ip netns add lab-b && ip netns add lab-sw
ip -n lab-a link set lo up; ip -n lab-b link set lo up; ip -n lab-sw link set lo up
ip link add va type veth peer name vb
ip link set va netns lab-a; ip link set vb netns lab-b
ip -n lab-a addr add 10.9.0.1/24 dev va; ip -n lab-a link set va up
ip -n lab-b addr add 10.9.0.2/24 dev vb; ip -n lab-b link set vb up
check "network namespaces + veth: ping across" ip netns exec lab-a ping -c 1 -W 3 10.9.0.2

# A VLAN-filtering bridge in lab-sw with two ports tagged for VLAN 10; each end
# (lab-a, lab-b) talks through an 802.1Q device.
ip -n lab-sw link add br0 type bridge vlan_filtering 1
ip -n lab-sw link set br0 up
for side in a b; do
    ip link add p$side type veth peer name t$side
    ip link set p$side netns lab-sw
    ip link set t$side netns lab-$side
    ip -n lab-sw link set p$side master br0
    ip -n lab-sw link set p$side up
    bridge -n lab-sw vlan add vid 10 dev p$side
    ip -n lab-$side link set t$side up
    ip -n lab-$side link add link t$side name t$side.10 type vlan id 10
    ip -n lab-$side link set t$side.10 up
done
ip -n lab-a addr add 10.9.10.1/24 dev ta.10
ip -n lab-b addr add 10.9.10.2/24 dev tb.10
check "bridge vlan_filtering=1" ip netns exec lab-sw grep -qx 1 /sys/class/net/br0/bridge/vlan_filtering
check "ping over VLAN 10 through the bridge (8021q + tagged ports)" \
    ip netns exec lab-a ping -c 1 -W 3 10.9.10.2
check "bridge learned ta.10's MAC on VLAN 10" sh -c \
    "bridge -n lab-sw fdb show br br0 | grep -i \"\$(ip -n lab-a -br link show ta.10 | awk '{print \$3}') dev pa vlan 10\""

# macvlan in bridge mode over tb, with its own MAC and address.
ip -n lab-b link add link vb name mv0 address 52:54:00:aa:00:09 type macvlan mode bridge
ip -n lab-b addr add 10.9.0.3/24 dev mv0
ip -n lab-b link set mv0 up
check "macvlan answers ping" ip netns exec lab-a ping -c 1 -W 3 10.9.0.3

# tcpdump sees the ping (and prints it).
ip netns exec lab-a tcpdump -Z root -n -i va -c 1 icmp >/tmp/td.out 2>/dev/null &
td=$!
sleep 1
ip netns exec lab-a ping -c 2 -W 2 10.9.0.2 >/dev/null 2>&1
wait $td
check "tcpdump captures ICMP" grep -q ICMP /tmp/td.out

check "tun: /dev/net/tun and a tap device" sh -c \
    "test -c /dev/net/tun && ip tuntap add dev lab-tap0 mode tap && ip link show lab-tap0"
check "vhost-net: /dev/vhost-net" test -c /dev/vhost-net

cleanup
done_testing
