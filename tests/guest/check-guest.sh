#!/bin/bash
# Validate the test guest on this host, under QEMU with TCG (no KVM needed).
#
#   tests/guest/check-guest.sh [GUESTDIR]      (default build/guest; built first)
#
# Prints TAP. Needs root: it creates a network namespace holding a tap device;
# QEMU runs inside that namespace (a tap belongs to the namespace it was
# created in) with the guest's NIC on the tap. The namespace side pings the
# guest's eth0 and its macvlan (checking that the macvlan answers with its own
# MAC), talks to the echo service on port 7, drives the serial command loop
# and runs memdirty. 802.1Q is checked in the lab (tests/lab/tests/guest-qemu.sh):
# this host kernel has no 8021q.
#
# Everything it starts (namespace, QEMU) is removed on exit, by name and PID.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
GUEST=${1:-build/guest}

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (network namespace, tap)"; exit 0; }
ensure_pkgs qemu-system-x86 iproute2 iputils-ping
"$HERE/build-guest.sh" "$GUEST" || exit 1

NS=tern-cg-$$
TMP=$(mktemp -d)
QPID=
cleanup() {
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill "$QPID" 2>/dev/null; sleep 0.5; kill -9 "$QPID" 2>/dev/null
    fi
    [ -n "$QPID" ] && wait "$QPID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    [ -n "${CATPID:-}" ] && { kill "$CATPID" 2>/dev/null; wait "$CATPID" 2>/dev/null; }
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { desc=$1; shift; if "$@" >>"$TMP/log" 2>&1; then ok "$desc"; else notok "$desc"; fi; }
nsx() { ip netns exec "$NS" "$@"; }

GUEST_MAC=52:54:00:12:34:56
MV_MAC=52:54:00:aa:00:02

ip netns add "$NS"
nsx ip link set lo up
nsx ip tuntap add dev tap0 mode tap
nsx ip addr add 10.0.0.1/24 dev tap0
nsx ip addr add 10.0.20.1/24 dev tap0
nsx ip -6 addr add fd00::1/64 dev tap0 nodad
nsx ip link set tap0 up

# Serial console on a pair of FIFOs: QEMU reads serial.in, writes serial.out.
mkfifo "$TMP/serial.in" "$TMP/serial.out"
T0=$(date +%s.%N)
nsx qemu-system-x86_64 -accel tcg -m 256 -M pc -nodefaults -display none -no-reboot \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
    -append "console=ttyS0 loglevel=4 panic=-1 tern.ip=10.0.0.2/24 tern.ip6=fd00::2/64 tern.macvlan=$MV_MAC:10.0.20.2/24" \
    -chardev pipe,id=s0,path="$TMP/serial" -serial chardev:s0 \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=$GUEST_MAC </dev/null >"$TMP/qemu.log" 2>&1 &
QPID=$!
cat "$TMP/serial.out" > "$TMP/console" &
CATPID=$!
exec 3>"$TMP/serial.in"

# wait_for PATTERN SECONDS: wait until the console log has a line matching it.
wait_for() {
    local end=$((SECONDS + $2))
    while [ $SECONDS -lt $end ]; do
        grep -q -- "$1" "$TMP/console" 2>/dev/null && return 0
        kill -0 "$QPID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
# guest_cmd CMD [SECONDS]: run CMD through the command loop, print its output,
# return its exit status (255 on timeout).
guest_cmd() {
    local before marks rc
    before=$(grep -c 'TERN-CMD-DONE' "$TMP/console")
    local lines
    lines=$(wc -l < "$TMP/console")
    printf '%s\n' "$1" >&3
    local end=$((SECONDS + ${2:-30}))
    while [ $SECONDS -lt $end ]; do
        marks=$(grep -c 'TERN-CMD-DONE' "$TMP/console")
        if [ "$marks" -gt "$before" ]; then
            tail -n +$((lines + 1)) "$TMP/console" | tr -d '\r' | sed '/^TERN-CMD-DONE/,$d'
            rc=$(grep 'TERN-CMD-DONE' "$TMP/console" | sed -n "$((before + 1))p" | tr -d '\r' | awk '{print $2}')
            return "$rc"
        fi
        sleep 0.1
    done
    return 255
}

echo "1..12"
if wait_for TERN-GUEST-READY 120; then
    T1=$(date +%s.%N)
    ok "guest boots to TERN-GUEST-READY ($(echo "$T1 - $T0" | bc 2>/dev/null || awk "BEGIN{print $T1-$T0}") s under TCG)"
else
    notok "guest boots to TERN-GUEST-READY"
    sed 's/^/# /' "$TMP/console" "$TMP/qemu.log"
    exit 1
fi

check "ping eth0 (10.0.0.2)" nsx ping -c 2 -W 5 10.0.0.2
check "ping6 eth0 (fd00::2, no DAD)" nsx ping -6 -c 2 -W 5 fd00::2
check "ping macvlan0 (10.0.20.2)" nsx ping -c 2 -W 5 10.0.20.2
check "eth0 answers ARP with the NIC MAC" \
    sh -c "ip netns exec $NS ip neigh show 10.0.0.2 dev tap0 | grep -qi $GUEST_MAC"
check "macvlan0 answers ARP with its own MAC" \
    sh -c "ip netns exec $NS ip neigh show 10.0.20.2 dev tap0 | grep -qi $MV_MAC"
echo_reply=$(nsx timeout 10 bash -c 'exec 3<>/dev/tcp/10.0.0.2/7; echo tern-echo >&3; read -t 8 l <&3; echo "$l"' 2>>"$TMP/log")
if [ "$echo_reply" = tern-echo ]; then ok "TCP echo on port 7"; else notok "TCP echo on port 7 (got '$echo_reply')"; fi

out=$(guest_cmd 'echo hello; cat /sys/class/net/eth0/address')
rc=$?
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q '^hello$' && printf '%s\n' "$out" | grep -qi "^$GUEST_MAC$"; then
    ok "command loop runs a command and reports TERN-CMD-DONE 0"
else notok "command loop (rc=$rc out=$out)"; fi

guest_cmd 'exit 3' >/dev/null; rc=$?
if [ $rc = 3 ]; then ok "command loop reports the exit status (3)"; else notok "command loop exit status (got $rc)"; fi

out=$(guest_cmd 'ip -d link show macvlan0' 2>&1)
if printf '%s\n' "$out" | grep -q 'macvlan mode bridge'; then ok "macvlan0 is mode bridge (iproute2 ip in the guest)"; else notok "macvlan0 mode bridge"; fi

out=$(guest_cmd 'memdirty -t 2 -i 1 32' 60)
rc=$?
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q 'MEMDIRTY VERIFY OK'; then
    ok "memdirty 32 MiB: $(printf '%s\n' "$out" | grep STATUS | tail -1 | sed 's/MEMDIRTY //')"
else notok "memdirty (rc=$rc)"; fi

printf 'poweroff -f\n' >&3
end=$((SECONDS + 30))
while kill -0 "$QPID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
if ! kill -0 "$QPID" 2>/dev/null; then ok "poweroff -f ends QEMU"; else notok "poweroff -f ends QEMU"; fi

if [ $fails -gt 0 ]; then
    echo "# console:"; tr -d '\r' < "$TMP/console" | sed 's/^/#   /'
    echo "# log:"; sed 's/^/#   /' "$TMP/log"
fi
exit $((fails > 0))
