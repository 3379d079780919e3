#!/bin/bash
# make demo, the part that runs where KVM is real (inside the lab, or directly on
# a host with hardware KVM): boot the test guest on host ha, ping it from the
# switch side, migrate it live to host hb with tern-migrate, watch the network
# follow, and write what happened as records for the host side to draw
# (scripts/demo/timeline.awk, scripts/demo/svg.awk). docs/demo.md explains it.
#
#   lab.sh NIC VMM...        NIC: guest (guest announce) or rarp
#                            (guest_announce=off: tern's RARP fallback);
#                            VMM: tern, qemu (one run each, in this order)
#
# The network is tests/lab/tests/topology.sh (hosts ha and hb behind a
# VLAN-filtering switch sw, the client cl pinging from the switch side, the
# migration stream on its own link). Per VMM: boot on ha, memdirty dirties
# 64 MiB at 8 MiB/s, pings to eth0, eth0.10 and macvlan0 every 100 ms, migrate
# to a fresh destination on hb (downtime-limit 300 ms, no bandwidth limit),
# capture the guest's frames entering the switch from hb, the switch's FDB
# events and the client's echo replies; for tern also read the destination's
# query-announce history once the announce is done (config interrupts, ACKs, RARP
# rounds with their times: tern's own view).
#
# stdout: what happens, one line each, for a person; "@progress LINE" for each
# line of tern-migrate's progress (the host redraws those in place on a
# terminal). Records: appended to $DEMO_REC (default: the lab's second serial
# port /dev/ttyS1, which run-lab.sh --out writes to a host file); the format
# is in scripts/demo/records.awk. Exit status 0 when tern's migration
# completed and the switch moved every (MAC, VLAN) of the guest.
#
# Environment: TERN, TERN_MIGRATE (default tern-migrate in PATH), LAB_GUEST,
# LAB_TESTS (lib.sh, topology.sh), DEMO_REC.
set -u
. "${LAB_TESTS:-/tests}/lib.sh"
. "${LAB_TESTS:-/tests}/topology.sh"

NIC=${1:-guest}
shift
VMMS=${*:-tern}
MIGRATE=${TERN_MIGRATE:-tern-migrate}
REC=${DEMO_REC:-/dev/ttyS1}
PORT=4450
W=$TOPO_W/demo
trap topo_down EXIT

say() { printf '%s\n' "$*"; }
# elapsed: seconds since the scenario began, for the person watching.
T_BEGIN=$EPOCHREALTIME
elapsed() { awk -v a="$T_BEGIN" -v b="$EPOCHREALTIME" 'BEGIN { printf "%5.1f s", b - a }'; }
step() { say "$(elapsed)  $*"; }

case $NIC in
    guest) export NIC_OPTS= ;;
    rarp) export NIC_OPTS=,guest_announce=off ;;
    *) say "demo: NIC must be guest or rarp, not '$NIC'"; exit 2 ;;
esac

# --- tern's own view: query-announce on the destination ----------------------------
# announce_watch SOCKET OUT: one QMP session (socat in a bash coprocess); waits for
# RESUME, then for ANNOUNCE_COMPLETED (or 4 s), then asks query-announce once: its
# history holds every config interrupt, ACK and RARP round with its wall-clock time.
# (Polling instead took the lab's one CPU from the guest and delayed the very announce
# it measured.) Writes, per step, cumulative figures at that moment:
#   US US US IRQS ACKS ROUNDS FRAMES MODE
# (the step's epoch in us, three times: the format allows an uncertainty window, here
# none), and resume EPOCH_US, completed EPOCH_US (the events' own timestamps).
# Touches OUT.ready once it listens for events.
announce_watch() {
    local sock=$1 out=$2 line resume='' end='' kind n frames us
    local irqs=0 acks=0 rounds=0 sent=0 mode=-
    coproc QW { exec socat - "UNIX-CONNECT:$sock"; }
    local rfd=${QW[0]} wfd=${QW[1]}
    : > "$out"
    # event_us LINE: the event's timestamp in us.
    event_us() {
        [[ $1 =~ \"seconds\":\ *([0-9]+).*\"microseconds\":\ *([0-9]+) ]] &&
            printf '%d%06d' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    }
    read -r -t 10 -u "$rfd" line || return 1                 # greeting
    echo '{"execute":"qmp_capabilities"}' >&"$wfd"
    read -r -t 10 -u "$rfd" line || return 1
    : > "$out.ready"
    while :; do
        read -r -t 120 -u "$rfd" line || return 1
        case $line in *'"event": "RESUME"'*)
            resume=$(event_us "$line"); echo "resume $resume" >> "$out"; break ;;
        esac
    done
    end=$(( ${EPOCHREALTIME/./} + 4000000 ))
    while [ "${EPOCHREALTIME/./}" -lt "$end" ]; do
        read -r -t 1 -u "$rfd" line || continue
        case $line in *ANNOUNCE_COMPLETED*)
            echo "completed $(event_us "$line")" >> "$out"; break ;;
        esac
    done
    echo '{"execute":"query-announce"}' >&"$wfd"
    while read -r -t 10 -u "$rfd" line; do
        case $line in *'"return"'*) break ;; esac
    done
    # Each history entry, in order (pure bash: no tool whose options vary in the lab).
    local re='\{"kind": "([a-z]+)", "n": ([0-9]+)(, "frames": ([0-9]+))?, "wall-us": ([0-9]+)\}'
    local rest=$line
    while [[ $rest =~ $re ]]; do
        rest=${rest#*"${BASH_REMATCH[0]}"}
        kind=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} frames=${BASH_REMATCH[4]:-0} us=${BASH_REMATCH[5]}
        case $kind in
            irq) irqs=$n rounds=$n mode=guest ;;
            ack) acks=$n ;;
            rarp) rounds=$n sent=$((sent + frames)); [ "$mode" = guest ] || mode=rarp ;;
        esac
        echo "$us $us $us $irqs $acks $rounds $sent $mode" >> "$out"
    done
    kill "$QW_PID" 2>/dev/null
    wait "$QW_PID" 2>/dev/null
    return 0
}

# --- one run -------------------------------------------------------------------------
# replies_epochs TARGET: the epochs of the client's echo replies from TARGET.
replies_epochs() { awk -v ip="$1" '$2 == "IP" && $3 == ip { print $1 }' "$TOPO_W/replies.txt"; }
# all_replied_since EPOCH: every target answered after EPOCH.
all_replied_since() {
    local t
    for t in $TOPO_TARGETS; do
        replies_epochs "$t" | awk -v e="$1" '$1 > e { f = 1 } END { exit !f }' || return 1
    done
}
# resumed VM: VM sent its RESUME event.
resumed() { [ -n "$(hop_resume "$1")" ]; }
# rel EPOCH: ms after RESUME, one decimal.
rel() { awk -v e="$1" -v r="$HOP_RESUME" 'BEGIN { printf "%.1f", (e - r) * 1000 }'; }

# records VMM: the run's records (format: scripts/demo/records.awk) on stdout.
records() {
    local vmm=$1 mac vlan name t f first i=0 target
    local -a targets
    read -ra targets <<< "$TOPO_TARGETS"
    echo "=== run vmm=$vmm nic=$NIC resume=$HOP_RESUME t0=$HOP_T0 port=$HOP_PORT status=$HOP_STATUS"
    printf 'meta total_ms %s\nmeta downtime_ms %s\nmeta setup_ms %s\nmeta bytes %s\n' \
        "$(printf '%s' "$HOP_INFO" | jget total-time)" "$(printf '%s' "$HOP_INFO" | jget downtime)" \
        "$(printf '%s' "$HOP_INFO" | jget setup-time)" "$(printf '%s' "$HOP_INFO" | jget transferred)"
    echo "meta stop_resume_ms $(hop_stop_resume_ms)"
    echo "meta poll_ms 0"
    echo "meta version $VERSION"
    t=$(hop_event "$HOP_SRC" STOP)
    [ -n "$t" ] && echo "ev $(rel "$t") stop -"
    echo "ev 0.0 resume -"
    # Every (MAC, VLAN) and what the switch did with it.
    while read -r mac vlan name; do
        target=${targets[$i]}; i=$((i + 1))
        echo "entry $name $mac $vlan $target"
        f=$(hop_fdb_ms "$mac" "$vlan")
        if [ "$f" = - ]; then
            echo "meta moved_$name no"
        else
            first=$(hop_first "$mac" "$vlan")
            [ -n "$first" ] && f=$(rel "${first%% *}")
            echo "ev $f fdb $name $HOP_PORT ${first#* }"
            echo "meta moved_$name yes"
        fi
        # The client's view: the last reply before RESUME, the first after.
        replies_epochs "$target" | awk -v r="$HOP_RESUME" -v n="$name" -v ip="$target" '
            $1 <= r { last = $1 } $1 > r && first == "" { first = $1 }
            END { if (last != "") printf "ev %.1f ping_last %s %s\n", (last - r) * 1000, n, ip
                  if (first != "") printf "ev %.1f ping_first %s %s\n", (first - r) * 1000, n, ip }'
    done <<< "$TOPO_KEYS"
    # The guest's frames entering the switch from the new host (echo replies
    # aside: the pings show those), classified by topology.sh; NA targets added.
    _frames | awk -v raw="$TOPO_W/frames.txt" -v t0="$HOP_T0" -v r="$HOP_RESUME" -v keys="$(tr '\n' ';' <<< "$TOPO_KEYS")" '
        BEGIN { nk = split(keys, kl, ";"); for (i = 1; i <= nk; i++) { split(kl[i], f, " "); nm[f[1] " " f[2]] = f[3] } }
        { getline line < raw
          if ($4 == "echo-reply" || $1 < t0) next
          ip = $5
          if ($4 == "na" && match(line, /tgt is [0-9a-f:]+/)) ip = substr(line, RSTART + 7, RLENGTH - 7)
          name = nm[$2 " " $3]; if (name == "") name = "?"
          printf "ev %.1f frame %s %s %s\n", ($1 - r) * 1000, name, $4, ip }'
    # tern's own view (query-announce's history).
    [ -s "$W/announce-$vmm.txt" ] && sed 's/^/watch /' "$W/announce-$vmm.txt"
    echo "=== end"
}

# run VMM: one boot, one migration ha -> hb; status 0 when every entry moved.
run() {
    local vmm=$1 src=${1}-src dst=${1}-dst rc wpid='' mac vlan name moved=0 t
    export VMM=$vmm
    PORT=$((PORT + 1))
    case $vmm in
        tern) VERSION=$("$TERN" -version 2>/dev/null | head -n 1) ;;
        qemu) VERSION=$(qemu-system-x86_64 -version 2>/dev/null | head -n 1) ;;
    esac
    say ""
    step "== $vmm: booting the test guest on host ha (eth0, eth0.10 = VLAN 10, macvlan0; $([ "$NIC" = guest ] && echo 'guest announce on' || echo 'guest_announce=off'))"
    # A second QMP socket for tern-migrate: QEMU serves one client per socket.
    if ! topo_vm "$src" ha -qmp "unix:$W/$src-mig.qmp,server=on,wait=off" || ! topo_guest_ready "$src"; then
        step "the guest did not boot under $vmm"; return 1
    fi
    step "guest up; memdirty dirties 64 MiB of its memory at 8 MiB/s"
    vm_cmd "$src" 'memdirty -r 8 64 &' >/dev/null
    vm_wait "$src" 'MEMDIRTY READY' 30 || step "(memdirty did not start)"
    topo_pings_start
    if ! client_ping_all 30; then step "the client cannot reach the guest on ha"; return 1; fi
    within 20 topo_neigh_settled "$src"
    within 10 fdb_all_at pa
    step "the client pings 10.0.0.2 (eth0), 10.0.10.2 (eth0.10), 10.0.20.2 (macvlan0) every 100 ms; switch: $(fdb_where | sed 's/=/ on /g')"

    HOP_SRC=$src HOP_PORT=pb HOP_STATUS='' HOP_INFO='' HOP_RESUME=''
    topo_vm "$dst" hb -incoming "tcp:10.99.0.2:$PORT" || { step "the destination did not start"; return 1; }
    if ! within 60 topo_listening hb "$PORT"; then
        step "the destination does not listen"; sed 's/^/   /' "/tmp/vm-$dst/stderr" | head -n 5; return 1
    fi
    if [ "$vmm" = tern ]; then
        announce_watch "$TOPO_W/$dst.qmp" "$W/announce-$vmm.txt" &
        wpid=$!
        within 10 test -e "$W/announce-$vmm.txt.ready"
    fi
    topo_observe_start pb
    step "== migrating to host hb (tern-migrate: pass, sent / remaining, dirty rate, expected downtime)"
    HOP_T0=$EPOCHREALTIME
    "$MIGRATE" -d 300 -b 0 "unix:$W/$src-mig.qmp" "tcp:10.99.0.2:$PORT" 2>&1 |
    while IFS= read -r line; do
        case $line in
            [0-9]*' s  '*) say "@progress $line" ;;
            completed*) ;;   # said below, from query-migrate (QEMU fills its times a moment later)
            *) step "migration $line" ;;
        esac
    done
    rc=${PIPESTATUS[0]}
    HOP_INFO=$(qmp_cmd "$src" '{"execute":"query-migrate"}')
    HOP_STATUS=$(printf '%s' "$HOP_INFO" | jget status)
    if [ "$rc" != 0 ] || [ "$HOP_STATUS" != completed ]; then
        step "the migration did not complete (${HOP_STATUS:-no status})"
        sed 's/^/   /' "/tmp/vm-$src/stderr" "/tmp/vm-$dst/stderr" | tail -n 10
        [ -n "$wpid" ] && { kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null; }
        topo_observe_stop; topo_pings_stop
        return 1
    fi
    step "migration completed: total time $(printf '%s' "$HOP_INFO" | jget total-time) ms, downtime $(printf '%s' "$HOP_INFO" | jget downtime) ms, $(printf '%s' "$HOP_INFO" | jget transferred | awk '{ printf "%.1f", $1 / 1048576 }') MiB sent"
    within 5 resumed "$dst"
    HOP_RESUME=$(hop_resume "$dst")
    step "the guest runs on hb; waiting for the switch to move its entries and the pings to answer"
    # Every entry moved (or 10 s), the announce rounds over (~1 s), the pings back (or 4 s more).
    within 10 fdb_all_at pb
    t=$(awk -v r="$HOP_RESUME" -v n="$EPOCHREALTIME" 'BEGIN { d = r + 2 - n; printf "%.1f", d > 0 ? d : 0 }')
    sleep "$t"
    within 4 all_replied_since "$HOP_RESUME"
    topo_observe_stop
    [ -n "$wpid" ] && wait "$wpid" 2>/dev/null
    step "switch: $(fdb_where | sed 's/=/ on /g')"
    records "$vmm" >> "$REC" 2>/dev/null
    # The raw captures too (topology.sh's format; records.awk skips them), for a closer look.
    TOPO_LOG=$REC hop_save "demo $vmm"
    topo_pings_stop
    vm_stop "$src"; vm_stop "$dst"; qmp_close "$src"; qmp_close "$dst"
    while read -r mac vlan name; do
        [ "$(fdb_port "$mac" "$vlan")" = pb ] && moved=$((moved + 1))
    done <<< "$TOPO_KEYS"
    step "$vmm: $moved of 3 (MAC, VLAN) entries moved to hb's port"
    [ "$moved" = 3 ]
}

[ "$REC" = /dev/ttyS1 ] || : > "$REC"
step "network: hosts ha and hb (a tap on a bridge each) behind switch sw (VLAN filtering); client cl pings from the switch side"
if ! topo_up; then say "demo: the network namespaces could not be set up"; exit 1; fi
mkdir -p "$W"
status=0
for vmm in $VMMS; do
    if ! run "$vmm"; then
        # Only tern's result decides the exit status; QEMU is the comparison.
        [ "$vmm" = tern ] && status=1
    fi
done
exit $status
