#!/bin/sh
# Reference run: live-migrate the test guest between two QEMU+KVM processes in
# the lab and record what the network sees afterwards. This is what tern's
# migration + announce tests will be compared with (same guest, topology and
# checks), and it proves memdirty survives a real pre-copy migration.
#
#   tests/lab/run-lab.sh qemu-migrate.sh
#
# Topology: netns lab-sw holds bridge br0 (vlan_filtering 1) with trunk ports
# tap0 (source VM), tap1 (destination VM) and psw (veth to netns lab-peer); on
# each trunk VLAN 1 is untagged (pvid) and VLAN 10 tagged. Both QEMUs run in
# lab-sw; migration goes over lab-sw's loopback. The guest has eth0
# 10.0.0.2/24 + fd00::2/64, eth0.10 10.0.10.2/24 + fd00:10::2/64 and macvlan0
# (own MAC) 10.0.20.2/24.
. "${LAB_TESTS:-/tests}/lib.sh"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "1..0 # SKIP no qemu-system-x86_64 in the lab (build-lab.sh without --no-qemu)"
    exit 0
fi
plan 13

GUEST=${LAB_GUEST:-/guest}
GUEST_MAC=52:54:00:12:34:56
MV_MAC=52:54:00:aa:00:02
W=/tmp/qemu-migrate
mkdir -p $W
TD=

cleanup() {
    [ -n "$TD" ] && { kill "$TD" 2>/dev/null; wait "$TD" 2>/dev/null; }
    vm_stop src 2>/dev/null
    vm_stop dst 2>/dev/null
    lab_switch_down lab-sw lab-peer
}
trap cleanup EXIT

lab_switch lab-sw lab-peer tap0 tap1     # lib.sh: the topology above

APPEND="console=ttyS0 loglevel=4 panic=-1 tern.ip=10.0.0.2/24 tern.ip6=fd00::2/64 tern.vlan=10:10.0.10.2/24 tern.addr=eth0.10:fd00:10::2/64 tern.macvlan=$MV_MAC:10.0.20.2/24"
# vm NAME TAP EXTRA...: the same machine on both sides (as migration requires).
vm() {
    _name=$1 _tap=$2; shift 2
    vm_start "$_name" ip netns exec lab-sw qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 256 -M pc \
        -nodefaults -display none -no-reboot -serial stdio \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" -append "$APPEND" \
        -netdev tap,id=n0,ifname="$_tap",script=no,downscript=no,vhost=on \
        -device virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile= \
        -qmp unix:$W/$_name.qmp,server=on,wait=off "$@"
}

vm src tap0
if vm_wait src TERN-GUEST-READY 120; then ok "source guest ready"; else
    not_ok "source guest ready"; sed 's/^/#   /' /tmp/vm-src/console /tmp/vm-src/stderr; exit 1; fi
# Warm up the peer's neighbour tables and the bridge's fdb on tap0.
ip netns exec lab-peer ping -c 1 -W 5 10.0.0.2 >/dev/null
ip netns exec lab-peer ping -c 1 -W 5 10.0.10.2 >/dev/null
ip netns exec lab-peer ping -c 1 -W 5 10.0.20.2 >/dev/null

# memdirty keeps 64 MiB dirty during the migration (rate-limited so that
# pre-copy converges within QEMU's default downtime on this slow nested CPU).
vm_cmd src 'memdirty -r 8 64 &' >/dev/null
vm_wait src 'MEMDIRTY READY' 30 && ok "memdirty running in the guest" || not_ok "memdirty running in the guest"

vm dst tap1 -incoming tcp:127.0.0.1:4444
# QEMU creates the QMP socket before it listens for the incoming stream: wait
# for the listening socket itself (port 4444 = 0x115C, state 0A = LISTEN).
listening() { ip netns exec lab-sw cat /proc/net/tcp | grep -q ':115C 00000000:0000 0A'; }
wait_until 60 listening || diag "destination does not listen on 4444"

# Everything announce-like the destination's port sends from now on.
ip netns exec lab-sw tcpdump -Z root -l -e -n -i tap1 \
    'arp or rarp or icmp6 or (vlan and (arp or icmp6))' > $W/announce.txt 2>/dev/null &
TD=$!
sleep 1

t0=$(uptime_s)
check "QMP migrate accepted" qmp $W/src.qmp '{"execute":"migrate","arguments":{"uri":"tcp:127.0.0.1:4444"}}'
status=
for _ in $(seq 1 600); do
    status=$(qmp $W/src.qmp '{"execute":"query-migrate"}' | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p')
    case $status in completed|failed|cancelled) break ;; esac
    sleep 0.5
done
t1=$(uptime_s)
if [ "$status" = completed ]; then
    ok "migration completed in $(awk "BEGIN{print $t1 - $t0}") s"
else
    not_ok "migration completed (status '$status')"
fi
diag "source query-migrate: $(qmp $W/src.qmp '{"execute":"query-migrate"}' | cut -c1-400)"
# qmp_has SOCKET JSON PATTERN: the reply matches PATTERN.
qmp_has() { qmp "$1" "$2" | grep -q -- "$3"; }
check "source is postmigrate" qmp_has $W/src.qmp '{"execute":"query-status"}' '"status": "postmigrate"'
check "destination is running" qmp_has $W/dst.qmp '{"execute":"query-status"}' '"status": "running"'


# Let the announce rounds (50+150+250+350 ms apart) finish.
sleep 3
kill $TD 2>/dev/null; wait $TD 2>/dev/null; TD=
diag "frames on tap1 after the migration:"
sed 's/^/#   /' $W/announce.txt
check "gratuitous ARP for eth0 (untagged, NIC MAC)" \
    grep -qiE "^[^ ]+ $GUEST_MAC > ff:ff:ff:ff:ff:ff, ethertype ARP.*(Request who-has 10.0.0.2 tell 10.0.0.2|Reply 10.0.0.2 is-at)" $W/announce.txt
check "gratuitous ARP for eth0.10 (802.1Q tag 10)" \
    grep -qiE "^[^ ]+ $GUEST_MAC > ff:ff:ff:ff:ff:ff, ethertype 802.1Q.*vlan 10.*10.0.10.2" $W/announce.txt
check "gratuitous ARP for macvlan0 (its own MAC)" \
    grep -qiE "^[^ ]+ $MV_MAC > ff:ff:ff:ff:ff:ff, ethertype ARP.*10.0.20.2" $W/announce.txt
check "unsolicited NA for fd00::2 (eth0) and fd00:10::2 (eth0.10, tagged)" sh -c "
    grep -qiE 'neighbor advertisement, tgt is fd00::2,' $W/announce.txt &&
    grep -qiE 'vlan 10.*neighbor advertisement, tgt is fd00:10::2,' $W/announce.txt"
diag "RARP frames from QEMU itself: $(grep -ci 'rarp\|ethertype Reverse' $W/announce.txt)"
diag "GARP counts: eth0 $(grep -ci "ethertype ARP.*10.0.0.2 tell 10.0.0.2" $W/announce.txt)," \
     "eth0.10 $(grep -ci "vlan 10.*10.0.10.2 tell 10.0.10.2" $W/announce.txt)," \
     "macvlan0 $(grep -ci "ethertype ARP.*10.0.20.2 tell 10.0.20.2" $W/announce.txt)"

check "bridge moved the guest's MACs to tap1 (VLAN 1, VLAN 10, macvlan)" sh -c "
    f=\$(bridge -n lab-sw fdb show br br0)
    echo \"\$f\" | grep -qi '$GUEST_MAC dev tap1 vlan 1 ' &&
    echo \"\$f\" | grep -qi '$GUEST_MAC dev tap1 vlan 10' &&
    echo \"\$f\" | grep -qi '$MV_MAC dev tap1 vlan 1 '"

# memdirty on the destination: verify everything it wrote before and during
# the migration.
# shellcheck disable=SC2016
vm_cmd dst 'kill -USR1 $(pidof memdirty); sleep 5' 60 >/dev/null
if grep -q 'MEMDIRTY VERIFY OK' /tmp/vm-dst/console; then
    ok "memdirty verifies after migration: $(grep 'MEMDIRTY VERIFY' /tmp/vm-dst/console | tr -d '\r' | tail -1)"
else
    not_ok "memdirty verifies after migration"
    tr -d '\r' < /tmp/vm-dst/console | sed 's/^/#   /'
fi
check "peer reaches eth0, eth0.10 and macvlan0 after migration" sh -c \
    "ip netns exec lab-peer ping -c 1 -W 5 10.0.0.2 && ip netns exec lab-peer ping -c 1 -W 5 10.0.10.2 && ip netns exec lab-peer ping -c 1 -W 5 10.0.20.2"

vm_cmd dst 'poweroff -f' 5 >/dev/null
vm_stop dst 20
vm_stop src
done_testing
