#!/bin/bash
# The real-guest checks of tern under KVM, run where KVM is real: inside the lab
# (tests/functional/kvm-guest.sh starts it there) or on a host with hardware KVM.
# Prints TAP. One script, two guest boots, so the lab boots once for all of it:
#
#  1. -smp 1, no devices, -no-reboot: boots to TERN-GUEST-READY; one vCPU;
#     `reboot -f` ends tern with status 0 and SHUTDOWN {guest, "guest-reset"}.
#  2. -smp 2, virtio-net-pci on a tap in a VLAN-filtering bridge (tap0 carries
#     VLAN 1 untagged and VLAN 10 tagged): two vCPUs; the peer namespace pings
#     the guest's eth0, eth0.10 and macvlan0 (own MAC); QMP `stop` makes pings
#     fail (and query-status says paused), `cont` brings them back; `poweroff -f`
#     ends tern with status 0 and SHUTDOWN {guest, "guest-shutdown"}.
# Boot times are reported as "# boot-to-marker: N ms" comments, not asserted.
#
# Environment: TERN (default: tern in PATH), LAB_GUEST (default /guest: vmlinuz
# and initrd.gz from tests/guest/build-guest.sh), LAB_TESTS (default /tests:
# tests/lab/tests, for lib.sh: TAP and the vm_* console driver). Needs root,
# iproute2, bridge, socat.
. "${LAB_TESTS:-/tests}/lib.sh"

TERN=${TERN:-tern}
GUEST=${LAB_GUEST:-/guest}
W=/tmp/tern-kvm-guest
GUEST_MAC=52:54:00:12:34:56
MV_MAC=52:54:00:aa:00:02
APPEND="console=ttyS0 loglevel=4 panic=-1"

plan 15

cleanup() {
    for vm in k1 k2; do vm_stop $vm 2>/dev/null; done
    qmp_close k1; qmp_close k2
    lab_switch_down tern-sw tern-peer
}
trap cleanup EXIT
rm -rf "$W"; mkdir -p "$W"

ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# QMP sessions that stay open (events arrive while the guest runs): qmp_open,
# qmp_cmd, qmp_events, qmp_close from lib.sh.

# vm_exit_status NAME SECONDS: wait for the VMM to end by itself; its exit
# status, or 255 if it is still running (then vm_stop kills it).
vm_exit_status() {
    local pid
    pid=$(vm_pid "$1")
    wait_until "$2" sh -c "! kill -0 $pid 2>/dev/null" || return 255
    wait "$pid"
}

# guest_ends NAME CMD WHAT REASON: the guest runs CMD (no reply expected): two
# results, tern exited by itself with status 0, and QMP saw SHUTDOWN with
# {guest: true, reason: REASON}.
guest_ends() {
    local rc
    printf '%s\n' "$2" >> "/tmp/vm-$1/in"
    vm_exit_status "$1" 30; rc=$?
    [ $rc = 0 ] && ok "$3 ends tern with status 0" ||
        not_ok "$3 ends tern with status 0 (status $rc)"
    check "SHUTDOWN event {guest: true, reason: $4}" \
        sh -c "grep '\"SHUTDOWN\"' /tmp/qmp-$1/out | grep '\"$4\"' | grep -q '\"guest\": *true'"
}

# boot NAME SMP EXTRA_APPEND [MORE TERN ARGS...]: start tern (prefixed by the
# words in $IN_NS, e.g. "ip netns exec NS"), wait for the marker, report the
# time; status 0 when the guest is ready.
IN_NS=
BOOT_MS=
boot() {
    local name=$1 smp=$2 extra=$3 t0 t1
    shift 3
    t0=$(ms)
    vm_start "$name" $IN_NS "$TERN" -enable-kvm -m 256 -smp "$smp" \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" -append "$APPEND $extra" \
        -nographic -no-reboot -qmp "unix:$W/$name.qmp,server=on,wait=off" "$@"
    if vm_wait "$name" TERN-GUEST-READY 120; then
        t1=$(ms)
        BOOT_MS=$((t1 - t0))
        diag "boot-to-marker: $BOOT_MS ms (-smp $smp)"
        return 0
    fi
    sed 's/^/#   /' "/tmp/vm-$name/console" "/tmp/vm-$name/stderr" | tail -n 40
    return 1
}

# --- 1: one vCPU, no devices, reboot with -no-reboot ------------------------
if boot k1 1 ""; then
    ok "guest boots to its marker with 1 vCPU ($BOOT_MS ms, not asserted)"
    qmp_open k1 "$W/k1.qmp"
    n=$(vm_cmd k1 'grep -c ^processor /proc/cpuinfo')
    [ "$n" = 1 ] && ok "guest sees 1 CPU" || not_ok "guest sees 1 CPU (got '$n')"
    out=$(vm_cmd k1 'dmesg | grep -iE "XSAVE consistency|MP-BIOS bug|Firmware Bug|ACPI (BIOS )?Error" ; true')
    [ -z "$out" ] && ok "no firmware/XSAVE complaints in the guest's kernel log" ||
        { not_ok "no firmware/XSAVE complaints in the guest's kernel log"; printf '%s\n' "$out" | sed 's/^/#   /'; }
    guest_ends k1 'reboot -f' "guest reboot with -no-reboot" guest-reset
else
    not_ok "guest boots to its marker with 1 vCPU"
    for d in "guest sees 1 CPU" "no firmware complaints" "reboot ends tern" "SHUTDOWN guest-reset"; do
        not_ok "$d (no guest)"
    done
fi
vm_stop k1; qmp_close k1

# --- 2: two vCPUs, virtio-net on a VLAN-filtering bridge, stop/cont, poweroff --
# tap0 in netns tern-sw on a VLAN-filtering bridge (VLAN 1 untagged, VLAN 10
# tagged), the peer in tern-peer (lib.sh).
lab_switch tern-sw tern-peer tap0

peer_ping() { ip netns exec tern-peer ping -c "${2:-2}" -W "${3:-5}" "$1"; }

IN_NS="ip netns exec tern-sw"
if boot k2 2 "tern.ip=10.0.0.2/24 tern.vlan=10:10.0.10.2/24 tern.macvlan=$MV_MAC:10.0.20.2/24" \
        -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
        -device virtio-net-pci,netdev=n0,mac=$GUEST_MAC; then
    ok "guest boots to its marker with 2 vCPUs and virtio-net-pci ($BOOT_MS ms, not asserted)"
    qmp_open k2 "$W/k2.qmp"
    n=$(vm_cmd k2 'grep -c ^processor /proc/cpuinfo')
    [ "$n" = 2 ] && ok "guest brought up 2 CPUs" || not_ok "guest brought up 2 CPUs (got '$n')"
    check "ping eth0 (untagged)" peer_ping 10.0.0.2
    check "ping eth0.10 (VLAN 10, tagged through the bridge)" peer_ping 10.0.10.2
    check "ping macvlan0 (own MAC)" peer_ping 10.0.20.2
    # Guest uptime (kvm-clock) and lab time around the pause: the guest must not
    # see the paused seconds.
    g0=$(vm_cmd k2 'cut -d" " -f1 /proc/uptime'); h0=$(ms)
    if qmp_cmd k2 '{"execute":"stop"}' > /dev/null &&
       qmp_cmd k2 '{"execute":"query-status"}' | grep -q '"paused"'; then
        if peer_ping 10.0.0.2 2 2 > /dev/null 2>&1; then
            not_ok "stop: the paused guest does not answer ping"
        else
            ok "stop: the paused guest does not answer ping"
        fi
    else
        not_ok "stop: QMP stop and query-status paused"
    fi
    qmp_cmd k2 '{"execute":"cont"}' > /dev/null
    if wait_until 20 peer_ping 10.0.0.2 1 2; then
        ok "cont: the guest answers ping again"
    else
        not_ok "cont: the guest answers ping again"
    fi
    g1=$(vm_cmd k2 'cut -d" " -f1 /proc/uptime'); h1=$(ms)
    gd=$(awk "BEGIN{printf \"%d\", ($g1 - $g0) * 1000}")
    diag "across stop/cont: guest clock advanced $gd ms, lab clock $((h1 - h0)) ms"
    [ -n "$g0" ] && [ -n "$g1" ] && [ "$gd" -lt $((h1 - h0 - 1000)) ] &&
        ok "kvm-clock stands still while the VM is stopped" ||
        not_ok "kvm-clock stands still while the VM is stopped"
    guest_ends k2 'poweroff -f' "guest poweroff" guest-shutdown
else
    not_ok "guest boots to its marker with 2 vCPUs and virtio-net-pci"
    for d in "2 CPUs" "ping eth0" "ping eth0.10" "ping macvlan0" "stop" "cont" "kvm-clock" "poweroff" \
             "SHUTDOWN guest-shutdown"; do
        not_ok "$d (no guest)"
    done
fi
if [ -s /tmp/vm-k2/stderr ]; then
    sed 's/^/# tern: /' /tmp/vm-k2/stderr | head -n 20
fi
done_testing
