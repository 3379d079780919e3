#!/bin/bash
# Live migration of a real Linux guest between tern processes under KVM, run where KVM
# is real: inside the lab (tests/functional/kvm-migrate.sh starts it there) or on a host
# with hardware KVM. Prints TAP. One lab boot, one guest boot, four migrations:
#
#  A   the test guest (-smp 1 -m 256, virtio-net on tap "tapa", memdirty running)
#  B1  destination of a migration that is cancelled mid-way: A must go on running,
#      answer on its console and on the network; B1 must exit (a half-loaded guest
#      never runs)
#  B   destination of the real migration A -> B: A postmigrate, B running, the guest
#      answers on B's console (another process, another serial backend: the console
#      protocol simply continues there), memdirty verifies every page it wrote before
#      and during the migration, ping works once A is gone, the guest's clock did not
#      jump
#  A'  a fresh tern, destination of B -> A': the same checks again.
#
# The taps share one bridge in netns tern-mig, which holds br0 = 10.0.0.1/24 and every
# tern (migrating over its loopback). Figures (downtime, total time, guest clock drift)
# are TAP comments, not asserted. First, the accelerator's unit tests (test-kvm: state
# round trip, dirty log, TSC and kvm-clock across a stop) run once under this real KVM,
# since on a PVM host make check runs them where parts of them skip.
#
# Environment: TERN (default: tern in PATH), TERN_KVM_UNIT (default /usr/bin/test-kvm),
# LAB_GUEST (default /guest), LAB_TESTS (default /tests: lib.sh). Needs root, iproute2,
# bridge, socat.
. "${LAB_TESTS:-/tests}/lib.sh"

TERN=${TERN:-tern}
GUEST=${LAB_GUEST:-/guest}
W=/tmp/tern-kvm-migrate
NS=tern-mig
MAC=52:54:00:12:34:56
GUEST_IP=10.0.0.2
APPEND="console=ttyS0 loglevel=4 panic=-1 tern.ip=$GUEST_IP/24"

plan 29

cleanup() {
    for vm in a b1 b a2; do vm_stop $vm 2>/dev/null; done
    ip netns del $NS 2>/dev/null
}
trap cleanup EXIT
rm -rf "$W"; mkdir -p "$W"

ip netns add $NS
ip -n $NS link set lo up
ip -n $NS link add br0 type bridge
ip -n $NS link set br0 up
ip -n $NS addr add 10.0.0.1/24 dev br0
for t in tapa tapb; do
    ip -n $NS tuntap add dev $t mode tap
    ip -n $NS link set $t master br0
    ip -n $NS link set $t up
done

in_ns() { ip netns exec $NS "$@"; }
ping_guest() { in_ns ping -c 1 -W "${1:-2}" $GUEST_IP; }
ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# tern_vm NAME TAP [ARGS...]: the same machine every time (migration needs it).
tern_vm() {
    local name=$1 tap=$2
    shift 2
    vm_start "$name" ip netns exec $NS "$TERN" -enable-kvm -m 256 -smp 1 \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" -append "$APPEND" \
        -nographic -no-reboot -qmp "unix:$W/$name.qmp,server=on,wait=off" \
        -netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
        -device virtio-net-pci,netdev=n0,mac=$MAC "$@"
}

# listening PORT: a socket in the namespace listens on it (tern's -incoming).
listening() {
    local hex
    hex=$(printf '%04X' "$1")
    in_ns cat /proc/net/tcp | grep -q ":$hex 00000000:0000 0A"
}

# destination NAME TAP PORT: start tern with -incoming and wait until it listens.
destination() {
    tern_vm "$1" "$2" -incoming "tcp:127.0.0.1:$3"
    wait_until 30 listening "$3"
}

qmp_ok() { qmp "$W/$1.qmp" "$2" > /dev/null; }
qmp_has() { qmp "$W/$1.qmp" "$2" | grep -q -- "$3"; }
status_of() { qmp "$W/$1.qmp" '{"execute":"query-status"}' | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p'; }
mig_status() { qmp "$W/$1.qmp" '{"execute":"query-migrate"}' | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p'; }
mig_is() { [ "$(mig_status "$1")" = "$2" ]; }
# json_int JSON KEY: the first integer member KEY.
json_int() { printf '%s\n' "$1" | sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" | head -n 1; }

# migrate SRC PORT: QMP migrate and wait (120 s) for the end; prints the final status.
migrate() {
    local st=
    qmp_ok "$1" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$2\"}}" ||
        { echo "migrate-refused"; return; }
    for _ in $(seq 1 600); do
        st=$(mig_status "$1")
        case $st in completed|failed|cancelled) break ;; esac
        sleep 0.2
    done
    echo "$st"
}

show_logs() {
    local vm
    for vm in "$@"; do
        tr -d '\r' < "/tmp/vm-$vm/console" | tail -n 15 | sed "s/^/#   $vm console: /"
        tail -n 10 "/tmp/vm-$vm/stderr" | sed "s/^/#   $vm stderr: /"
    done
}

# guest_clock NAME: the guest's uptime in ms (CLOCK_BOOTTIME, from kvm-clock).
guest_clock() { vm_cmd "$1" 'cut -d" " -f1 /proc/uptime' | awk '{printf "%d\n", $1 * 1000}'; }

# verify_memdirty NAME: memdirty re-reads every page it wrote (on whichever side).
verify_memdirty() {
    local n0
    n0=$(grep -c 'MEMDIRTY VERIFY' "/tmp/vm-$1/console")
    # shellcheck disable=SC2016
    vm_cmd "$1" 'kill -USR1 $(pidof memdirty)' > /dev/null || return 1
    wait_until 60 sh -c "[ \$(grep -c 'MEMDIRTY VERIFY' /tmp/vm-$1/console) -gt $n0 ]" || return 1
    grep 'MEMDIRTY VERIFY' "/tmp/vm-$1/console" | tail -n 1 | tr -d '\r'
    grep 'MEMDIRTY VERIFY' "/tmp/vm-$1/console" | tail -n 1 | grep -q 'VERIFY OK'
}

# after_migration SRC DST WHAT G0 H0: the checks on both sides after SRC -> DST.
after_migration() {
    local src=$1 dst=$2 what=$3 g0=$4 h0=$5 out g1 h1 gd hd
    check "$what: source is postmigrate" qmp_has "$src" '{"execute":"query-status"}' '"postmigrate"'
    check "$what: destination is running" qmp_has "$dst" '{"execute":"query-status"}' '"running"'
    out=$(vm_cmd "$dst" 'echo console-on-$((6 * 7))')
    if [ "$out" = console-on-42 ]; then
        ok "$what: the guest answers on the destination's console"
    else
        not_ok "$what: the guest answers on the destination's console (got '$out')"
        show_logs "$dst"
    fi
    if out=$(verify_memdirty "$dst"); then
        ok "$what: memdirty verifies every page ($(echo "$out" | cut -c1-60))"
    else
        not_ok "$what: memdirty verifies every page"
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
    g1=$(guest_clock "$dst"); h1=$(ms)
    gd=$((g1 - g0)); hd=$((h1 - h0))
    diag "guest clock: advanced $gd ms while the lab's advanced $hd ms ($what)"
    if [ -n "$g1" ] && [ "$gd" -ge $((hd - 5000)) ] && [ "$gd" -le $((hd + 2000)) ]; then
        ok "$what: guest clock continues (no jump)"
    else
        not_ok "$what: guest clock continues (guest +$gd ms, lab +$hd ms)"
    fi
    out=$(vm_cmd "$dst" 'dmesg | grep -A3 -iE "soft lockup|rcu.*stall|BUG:|clocksource.*unstable|hung task" ; true')
    if [ -z "$out" ]; then
        ok "$what: no lockup, stall or clock complaints in the guest's kernel log"
    else
        not_ok "$what: no lockup, stall or clock complaints in the guest's kernel log"
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
}

# report_figures SRC WHAT: downtime and total time from the source's query-migrate.
report_figures() {
    local q
    q=$(qmp "$W/$1.qmp" '{"execute":"query-migrate"}')
    diag "downtime: $(json_int "$q" downtime) ms ($2)"
    diag "total-time: $(json_int "$q" total-time) ms ($2)"
    diag "transferred: $(( $(json_int "$q" transferred) / 1048576 )) MiB in $(json_int "$q" dirty-sync-count) syncs ($2)"
}

# --- the accelerator's unit tests, under real KVM -------------------------------
UNIT=${TERN_KVM_UNIT:-/usr/bin/test-kvm}
if [ -x "$UNIT" ]; then
    out=$("$UNIT" --tap 2>&1)
    n_ok=$(printf '%s\n' "$out" | grep -c '^ok ')
    n_skip=$(printf '%s\n' "$out" | grep -c '^ok .*# SKIP')
    n_fail=$(printf '%s\n' "$out" | grep -cE '^not ok|^Bail out')
    printf '%s\n' "$out" | grep -E '^# across' | sed 's/^# /# test-kvm: /'
    if [ "$n_fail" = 0 ] && [ "$n_ok" -gt 0 ]; then
        ok "test-kvm under this KVM: $((n_ok - n_skip)) passed, $n_skip skipped"
    else
        not_ok "test-kvm under this KVM: $n_fail failed"
        printf '%s\n' "$out" | grep -vE '^ok ' | tail -n 20 | sed 's/^/#   /'
    fi
else
    skip "test-kvm under this KVM" "no $UNIT"
fi

# --- A: boot, memdirty --------------------------------------------------------
t0=$(ms)
tern_vm a tapa
if ! vm_wait a TERN-GUEST-READY 120; then
    not_ok "guest boots on A"
    show_logs a
    done_testing
    exit 1
fi
ok "guest boots on A ($(( $(ms) - t0 )) ms)"
check "ping the guest on A" wait_until 10 ping_guest
vm_cmd a 'memdirty -r 8 64 &' > /dev/null
check "memdirty runs in the guest" vm_wait a 'MEMDIRTY READY' 30
G0=$(guest_clock a); H0=$(ms)

# --- a migration cancelled mid-way ---------------------------------------------
destination b1 tapb 4441 || diag "B1 does not listen on 4441"
qmp_ok a '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":4194304}}'
qmp_ok a '{"execute":"migrate","arguments":{"uri":"tcp:127.0.0.1:4441"}}'
wait_until 10 mig_is a active
sleep 1
st=$(mig_status a)
qmp_ok a '{"execute":"migrate_cancel"}'
wait_until 20 mig_is a cancelled
if qmp_has a '{"execute":"query-migrate"}' '"cancelled"'; then
    ok "cancel: query-migrate says cancelled (it was '$st' at the cancel)"
else
    not_ok "cancel: query-migrate says cancelled (was '$st', now '$(mig_status a)')"
fi
check "cancel: A is running" qmp_has a '{"execute":"query-status"}' '"running"'
out=$(vm_cmd a 'echo still-here')
[ "$out" = still-here ] && ok "cancel: the guest answers on A's console" ||
    { not_ok "cancel: the guest answers on A's console (got '$out')"; show_logs a; }
check "cancel: the guest answers ping on A" wait_until 10 ping_guest
vm_stop b1 10
rc=$?
[ $rc = 0 ] && ok "cancel: the destination exits by itself" ||
    not_ok "cancel: the destination exits by itself (still running: killed)"
grep -q 'incoming migration failed' /tmp/vm-b1/stderr &&
    ok "cancel: the destination says why ($(grep -m1 'incoming migration failed' /tmp/vm-b1/stderr | cut -c1-80))" ||
    { not_ok "cancel: the destination says why"; show_logs b1; }
qmp_ok a '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":134217728}}'

# hop SRC DST TAP PORT WHAT: migrate SRC to a new tern DST on TAP and check both sides;
# then SRC goes away as a source host would, and the guest must answer ping there. The
# guest's announce (or tern's RARP) should already have moved the bridge's entry.
hop() {
    local src=$1 dst=$2 tap=$3 port=$4 what=$5 st
    destination "$dst" "$tap" "$port" || diag "$dst does not listen on $port"
    st=$(migrate "$src" "$port")
    if [ "$st" = completed ]; then
        ok "$what: migration completed"
    else
        not_ok "$what: migration completed (status '$st')"
        diag "$(qmp "$W/$src.qmp" '{"execute":"query-migrate"}' | cut -c1-300)"
        show_logs "$src" "$dst"
    fi
    report_figures "$src" "$what"
    after_migration "$src" "$dst" "$what" "$G0" "$H0"
    diag "bridge fdb for the guest before $src goes:" \
        "$(in_ns bridge fdb show br br0 | grep -i $MAC | grep -v permanent | tr '\n' ' ')"
    vm_stop "$src"
    check "$what: the guest answers ping on $dst" wait_until 15 ping_guest
    G0=$(guest_clock "$dst"); H0=$(ms)
}

hop a b tapb 4442 "A -> B"
hop b a2 tapa 4443 "B -> A'"

# Negative control: memdirty rolls page 0 back a generation behind its own table, as a
# lost dirty page would; its next verification must say so.
# shellcheck disable=SC2016
vm_cmd a2 'kill -USR2 $(pidof memdirty)' > /dev/null
out=$(verify_memdirty a2)
if printf '%s\n' "$out" | grep -q 'VERIFY FAIL'; then
    ok "memdirty notices a page rolled back (negative control: $(echo "$out" | cut -c1-40))"
else
    not_ok "memdirty notices a page rolled back (negative control; got '$out')"
fi

printf '%s\n' 'poweroff -f' >> /tmp/vm-a2/in
vm_stop a2 20 && ok "the guest powers off on A' (tern exits by itself)" ||
    not_ok "the guest powers off on A' (tern exits by itself)"
# Sanitizer reports (make check SANITIZE=1 brings an ASan/UBSan tern in here) and GLib
# warnings from any of the four processes.
bad=
for vm in a b1 b a2; do
    if grep -qE 'Sanitizer|runtime error|-WARNING|-CRITICAL' "/tmp/vm-$vm/stderr" 2>/dev/null; then
        bad="$bad $vm"
        grep -E 'Sanitizer|runtime error|-WARNING|-CRITICAL' "/tmp/vm-$vm/stderr" | head -n 5 |
            sed "s/^/#   tern $vm: /"
    fi
done
[ -z "$bad" ] && ok "no sanitizer report or warning from any tern" ||
    not_ok "no sanitizer report or warning from any tern (from:$bad)"
done_testing
