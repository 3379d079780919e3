#!/bin/bash
# bench/migrate's measurements, run where KVM is real (the lab, or a host with
# hardware KVM): the test guest live-migrated BENCH_RUNS times by tern and by
# QEMU 7.2, on the two-host topology of the functional test
# (tests/lab/tests/topology.sh: hosts ha and hb behind a VLAN-filtering switch,
# the migration stream on its own link).
#
# BENCH_RUNS rounds; in each, tern and QEMU in turn (odd rounds tern first, even
# rounds QEMU first), one VM at a time: boot on ha, memdirty dirtying 64 MiB at
# BENCH_MIG_DIRTY MiB/s (default 8), the client pinging eth0, eth0.10 and
# macvlan0 every 100 ms, the guest's neighbour entries settled; migrate to hb
# with the same parameters on both VMMs (max-bandwidth 0 = no limit,
# downtime-limit 300 ms, announce defaults); memdirty verifies the guest's
# memory on hb; both VMMs are killed.
#
# Figures per migration: the VMM's own downtime and total time
# (query-migrate), the source's STOP to the destination's RESUME (QMP event
# timestamps, one clock: the downtime the guest lives), the throughput
# (transferred bytes over total minus setup time, both VMMs the same formula),
# the bytes sent, RESUME to the first and to the last of the three (MAC, VLAN)
# entries moving in the switch (bridge monitor), and the longest gap in echo
# replies from eth0.
#
# Both VMMs: -M pc -enable-kvm -smp 1 -m 256, virtio-net-pci on a tap with
# vhost=off (tern has no vhost), same kernel, initramfs and command line.
# QEMU also gets -cpu host -nodefaults.
#
# Environment (VAR=VALUE arguments too): TERN, LAB_GUEST, LAB_TESTS (lib.sh,
# topology.sh), BENCH_LIB (default /bench), BENCH_RUNS (default 3),
# BENCH_MIG_DIRTY (MiB/s, default 8), BENCH_MIG_VMMS (default "tern qemu"),
# BENCH_MIG_TERN_NIC (appended to tern's -device, e.g. ",announce_rarp=always").
# Output: bench/lab/lib.sh's protocol (INFO, METRIC, RESULT, # comments).
set -u
for a in "$@"; do case $a in *=*) export "${a?}" ;; esac; done
# tern prints what its completion path costs after the confirmation (migration.c).
export TERN_MIG_TIMING=1
. "${LAB_TESTS:-/tests}/lib.sh"
. "${LAB_TESTS:-/tests}/topology.sh"
. "${BENCH_LIB:-/bench}/lib.sh"

RUNS=${BENCH_RUNS:-3}
DIRTY=${BENCH_MIG_DIRTY:-8}
MIG_BANDWIDTH=0
MIG_DOWNTIME=300
trap topo_down EXIT

bench_common_info
bench_info mig_config "-M pc -enable-kvm -smp 1 -m $GUEST_MEM, virtio-net-pci on a tap (vhost=off)${BENCH_MIG_TERN_NIC:+, tern NIC with $BENCH_MIG_TERN_NIC}; memdirty 64 MiB at $DIRTY MiB/s; max-bandwidth 0 (no limit), downtime-limit ${MIG_DOWNTIME} ms, announce defaults"
bench_metric stop_resume_ms lower "source STOP to destination RESUME (ms)"
bench_metric downtime_ms lower "downtime as the VMM reports it (ms)"
bench_metric total_ms lower "total time (ms)"
bench_metric mbps higher "throughput (Mbit/s)"
bench_metric mib lower "sent (MiB)"
bench_metric fdb_first_ms lower "RESUME to the first FDB entry moved (ms)"
bench_metric fdb_all_ms lower "RESUME to every (MAC, VLAN) FDB entry moved (ms)"
bench_metric irq_ms lower "RESUME to the first announce config interrupt (ms)"
# Per address (TOPO_KEYS order: eth0, eth0.10, macvlan0): the guest's first
# gratuitous ARP for it, its first echo reply on the wire, the client's blackout.
ADDRS="eth0 10.0.0.2
eth0.10 10.0.10.2
macvlan0 10.0.20.2"
while read -r name ip; do
    bench_metric "garp_$name" lower "RESUME to the first gratuitous ARP, $name (ms)"
done <<< "$ADDRS"
while read -r name ip; do
    bench_metric "reply_$name" lower "RESUME to the first echo reply, $name (ms)"
done <<< "$ADDRS"
while read -r name ip; do
    bench_metric "blackout_$name" lower "ping blackout, $name (ms, pings every 100 ms)"
done <<< "$ADDRS"

# QEMU has no query for its announce: its trace point, with wall-clock stamps
# ("PID@SEC.USEC:virtio_net_announce_notify"), tells when it raised the config
# interrupt. tern's query-announce history has the same moment (kind irq).
QEMU_TRACE=/tmp/bench-mig-trace.log
dst_args() {
    case $1 in
        qemu) rm -f "$QEMU_TRACE"
              echo "-trace virtio_net_announce_notify -msg timestamp=on -D $QEMU_TRACE" ;;
    esac
}

# irq_epoch VMM DST: epoch (s.us) of the first announce config interrupt on DST.
irq_epoch() {
    case $1 in
        qemu) sed -n 's/^[0-9]*@\([0-9]*\.[0-9]*\):virtio_net_announce_notify.*/\1/p' "$QEMU_TRACE" 2>/dev/null |
                  head -n 1 ;;
        tern) qmp_cmd "$2" '{"execute":"query-announce"}' | tr '{' '\n' |
                  sed -n 's/.*"kind": *"irq".*"wall-us": *\([0-9]*\).*/\1/p' | head -n 1 |
                  awk '{ printf "%d.%06d\n", $1 / 1000000, $1 % 1000000 }' ;;
    esac
}

# first_reply_ms IP: ms from RESUME to the first echo reply from IP entering the
# switch port toward the new host (the capture's kernel timestamp).
first_reply_ms() {
    awk -v ip="$1" -v r="$HOP_RESUME" '
        index($0, " " ip " > ") && /ICMP echo reply/ && $1 >= r { printf "%d\n", ($1 - r) * 1000; f = 1; exit }
        END { if (!f) print "-" }' "$TOPO_W/frames.txt"
}

# result VMM: the RESULT lines of the hop just done.
result() {
    local vmm=$1 total down setup xfer mac vlan name f first=- all=0
    total=$(printf '%s' "$HOP_INFO" | jget total-time)
    down=$(printf '%s' "$HOP_INFO" | jget downtime)
    setup=$(printf '%s' "$HOP_INFO" | jget setup-time)
    xfer=$(printf '%s' "$HOP_INFO" | jget transferred)
    while read -r mac vlan name; do
        f=$(hop_fdb_ms "$mac" "$vlan")
        if [ "$f" = - ]; then all=-; continue; fi
        { [ "$first" = - ] || [ "$f" -lt "$first" ]; } && first=$f
        [ "$all" != - ] && [ "$f" -gt "$all" ] && all=$f
    done <<< "$TOPO_KEYS"
    [ -n "$down" ] && bench_result "$vmm" downtime_ms "$down"
    [ -n "$total" ] && bench_result "$vmm" total_ms "$total"
    f=$(hop_stop_resume_ms); [ "$f" != - ] && bench_result "$vmm" stop_resume_ms "$f"
    if [ -n "$xfer" ] && [ -n "$total" ] && [ -n "$setup" ] && [ "$total" -gt "$setup" ]; then
        bench_result "$vmm" mbps "$(awk -v b="$xfer" -v t=$((total - setup)) 'BEGIN { printf "%.1f", b * 8 / t / 1000 }')"
        bench_result "$vmm" mib "$(awk -v b="$xfer" 'BEGIN { printf "%.1f", b / 1048576 }')"
    fi
    [ "$first" != - ] && bench_result "$vmm" fdb_first_ms "$first"
    [ "$all" != - ] && bench_result "$vmm" fdb_all_ms "$all"
    f=$(irq_epoch "$vmm" "$2")
    [ -n "$f" ] && [ -n "$HOP_RESUME" ] && bench_result "$vmm" irq_ms "$(ms_since "$HOP_RESUME" "$f")"
    local i=0 ip line=
    while read -r name ip; do
        i=$((i + 1))
        mac=$(sed -n "${i}p" <<< "$TOPO_KEYS" | cut -d' ' -f1)
        vlan=$(sed -n "${i}p" <<< "$TOPO_KEYS" | cut -d' ' -f2)
        f=$(hop_first_ms "$mac" "$vlan" garp); [ "$f" != - ] && bench_result "$vmm" "garp_$name" "$f"
        line="$line $name: garp $f"
        f=$(first_reply_ms "$ip"); [ "$f" != - ] && bench_result "$vmm" "reply_$name" "$f"
        line="$line reply $f"
        f=$(hop_blackout "$ip"); [ "$f" != - ] && bench_result "$vmm" "blackout_$name" "$f"
        line="$line blackout $f;"
    done <<< "$ADDRS"
    bench_diag "$vmm: ms after RESUME: config irq $(f=$(irq_epoch "$vmm" "$2"); [ -n "$f" ] && ms_since "$HOP_RESUME" "$f");$line"
}

# measure VMM RUN: boot on ha, load, migrate to hb, record; status 0 when the
# migration completed and memdirty verified.
measure() {
    local src=mig-$1-$2-a dst=mig-$1-$2-b r
    VMM=$1
    # tern's NIC properties to try (e.g. ",announce_rarp=always"); QEMU gets none.
    NIC_OPTS=
    [ "$1" = tern ] && NIC_OPTS=${BENCH_MIG_TERN_NIC:-}
    topo_forget
    if ! { topo_vm "$src" ha && topo_guest_ready "$src"; }; then
        bench_diag "$1 run $2: the guest did not boot"
        vm_stop "$src"; qmp_close "$src"
        return 1
    fi
    vm_cmd "$src" "memdirty -r $DIRTY 64 &" >/dev/null
    vm_wait "$src" 'MEMDIRTY READY' 30 || bench_diag "$1 run $2: memdirty did not start"
    topo_pings_start
    client_ping_all 30 || bench_diag "$1 run $2: the client does not reach every address"
    within 20 topo_neigh_settled "$src" || bench_diag "$1 run $2: guest neighbour entries not settled"
    # shellcheck disable=SC2046 # words on purpose
    if ! topo_migrate "$src" "$dst" hb $(dst_args "$1") || ! topo_settle 10; then
        bench_diag "$1 run $2: migration ${HOP_STATUS:-did not start}"
        sed "s/^/# $dst: /" "/tmp/vm-$dst/stderr" 2>/dev/null | tail -n 5
        topo_pings_stop; topo_observe_stop
        vm_stop "$src"; vm_stop "$dst"; qmp_close "$src"; qmp_close "$dst"
        return 1
    fi
    hop_figures "$1 run $2" | grep -v '^# hop '
    result "$1" "$dst"
    # tern's own figure (TERN_MIG_TIMING): the source's completion path after the
    # confirmation, on the migration thread and on the main thread.
    [ "$1" = tern ] && bench_diag "$1 run $2: source: $(grep -h 'after the confirmation' \
        "/tmp/vm-$src/stderr" 2>/dev/null | sed 's/^tern: migration: //' | tail -n 1)"
    topo_pings_stop
    vm_stop "$src"; qmp_close "$src"
    # shellcheck disable=SC2016
    vm_cmd "$dst" 'kill -USR1 $(pidof memdirty)' >/dev/null
    vm_wait "$dst" 'MEMDIRTY VERIFY' 60
    r=$(grep 'MEMDIRTY VERIFY' "/tmp/vm-$dst/console" | tail -n 1 | tr -d '\r')
    bench_diag "$1 run $2: after the migration: ${r:-memdirty did not answer}"
    vm_stop "$dst"; qmp_close "$dst"
    case $r in *'VERIFY OK'*) VERIFIED[$1]=$(( ${VERIFIED[$1]:-0} + 1 )); return 0 ;; esac
    return 1
}

topo_up || { bench_diag "cannot build the topology"; exit 1; }
declare -A VERIFIED
VMMS=(${BENCH_MIG_VMMS:-tern qemu})
failed=0
for run in $(seq 1 "$RUNS"); do
    # Alternate who goes first, so that a slow phase of a shared host does not
    # always hit the same VMM.
    if [ $((run % 2)) = 1 ]; then order=("${VMMS[@]}"); else order=($(printf '%s\n' "${VMMS[@]}" | tac)); fi
    for vmm in "${order[@]}"; do
        measure "$vmm" "$run" || failed=1
    done
done
for vmm in "${VMMS[@]}"; do
    bench_info "memdirty_$vmm" "${VERIFIED[$vmm]:-0} of $RUNS migrations: memdirty VERIFY OK"
done
exit $failed
