# shellcheck shell=bash
# The two-host network of the migration tests and benchmarks (sourced after
# lib.sh; bash). Used by tests/functional/lab/net-migrate.sh and
# bench/lab/migrate.sh; docs/testing-migration.md explains the design.
#
#   netns ha                        netns sw                        netns hb
#   VM -- tap0 -- br0 -- sw0 ===== pa -- br0 -- pb ===== sw0 -- br0 -- tap0 -- VM
#                 mg 10.99.0.1/24 =========================== mg 10.99.0.2/24
#                                         |                 (migration link)
#                                         pc
#                                         ||
#                    netns cl: cl0 10.0.0.1/24 10.0.20.1/24 fd00::1/64
#                              cl0.10 (VLAN 10) 10.0.10.1/24 fd00:10::1/64
#
# sw's br0 is the switch: vlan_filtering 1, pa/pb/pc trunks (VLAN 1 untagged
# pvid, VLAN 10 tagged). The hosts' br0 are plain bridges (they pass tags as
# they are). IPv6 is off in ha, hb and sw, so captures there hold only the
# guest's and the client's frames. The migration stream goes over mg, never
# through the switch.
#
# The guest (tests/guest): eth0 $GUEST_MAC 10.0.0.2/24 fd00::2/64, eth0.10
# 10.0.10.2/24 fd00:10::2/64, macvlan0 $MV_MAC 10.0.20.2/24. The switch must
# move three (MAC, VLAN) entries when it moves: $TOPO_KEYS.
#
# Environment: VMM (tern or qemu; default tern), TERN (the tern binary),
# LAB_GUEST (vmlinuz + initrd.gz), GUEST_MEM (MiB, default 256), NIC_OPTS
# (appended to the -device, e.g. ",guest_announce=off"), MIG_BANDWIDTH
# (bytes/s, default 0 = unlimited) and MIG_DOWNTIME (ms, default 300) for the
# source, MIG_DST_PARAMS (JSON object for the destination's
# migrate-set-parameters, e.g. '{"announce-rounds": 0}').
#
# Functions (state in $TOPO_W):
#   topo_up / topo_down            build / remove everything (down kills only
#                                  what these functions started, by PID)
#   topo_vm NAME HOST [ARGS...]    the VMM on a fresh tap0 in HOST (the VMM that
#                                  used HOST before must be gone), console via
#                                  vm_*, QMP session NAME (qmp_cmd NAME ...)
#   topo_forget                    the switch and the client forget the guest
#   topo_migrate SRC DST HOST [ARGS...]
#                                  start DST in HOST with -incoming (ARGS added),
#                                  observe the switch port toward HOST, migrate
#                                  SRC there, wait until it ends; sets HOP_*
#   topo_settle SECONDS            wait until every key sits on $HOP_PORT (at
#                                  most SECONDS), then 1 s more; stop observing
#   topo_pings_start / topo_pings_stop   the client pings every target (0.1 s)
#   topo_neigh_settled VM          the guest's neighbour entries are all REACHABLE
#   fdb_port MAC VLAN              where the switch has that entry now
#   hop_resume VM, hop_event VM EV epoch of VM's last RESUME (EV) event
#   hop_fdb_ms MAC VLAN            ms from $HOP_RESUME to the entry's move to
#                                  $HOP_PORT (the moving frame's capture time,
#                                  the move seen by bridge monitor), "-" if none
#   hop_first MAC VLAN [SKIP]      "EPOCH KIND IP" of the first frame from that
#                                  entry on $HOP_PORT since the migrate command
#                                  (frames of kind SKIP left out)
#   hop_count MAC VLAN KIND        how many such frames of KIND (garp, rarp, na,
#                                  arp, echo-reply, other)
#   hop_figures TAG                TAP comments with the hop's figures and one
#                                  machine-readable "# hop ..." line

VMM=${VMM:-tern}
TERN=${TERN:-tern}
GUEST=${LAB_GUEST:-/guest}
GUEST_MEM=${GUEST_MEM:-256}
TOPO_W=${TOPO_W:-/tmp/topo}
GUEST_MAC=52:54:00:12:34:56
MV_MAC=52:54:00:aa:00:02
GUEST_APPEND="console=ttyS0 loglevel=4 panic=-1 tern.ip=10.0.0.2/24 tern.ip6=fd00::2/64 tern.vlan=10:10.0.10.2/24 tern.addr=eth0.10:fd00:10::2/64 tern.macvlan=$MV_MAC:10.0.20.2/24"
# "MAC VLAN NAME" per line: what the switch must move.
TOPO_KEYS="$GUEST_MAC 1 eth0
$GUEST_MAC 10 eth0.10
$MV_MAC 1 macvlan0"
TOPO_TARGETS="10.0.0.2 10.0.10.2 10.0.20.2"
TOPO_MIGPORT=4440
TOPO_VMS=

topo_port() { case $1 in ha) echo pa ;; hb) echo pb ;; esac; }
topo_addr() { case $1 in ha) echo 10.99.0.1 ;; hb) echo 10.99.0.2 ;; esac; }
ms_since() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%d\n", (b - a) * 1000 }'; }

topo_up() {
    local ns h
    rm -rf "$TOPO_W"; mkdir -p "$TOPO_W"
    for ns in ha hb sw cl; do
        ip netns add $ns || return 1
        ip -n $ns link set lo up
    done
    for ns in ha hb sw; do
        ip netns exec $ns sh -c 'for c in all default; do echo 1 > /proc/sys/net/ipv6/conf/$c/disable_ipv6; done'
    done
    lab_bridge sw || return 1
    ip link add pa netns sw type veth peer name sw0 netns ha &&
    ip link add pb netns sw type veth peer name sw0 netns hb &&
    ip link add pc netns sw type veth peer name cl0 netns cl &&
    lab_trunk sw br0 pa pb pc &&
    lab_client cl cl0 || return 1
    for h in ha hb; do
        ip -n $h link add br0 type bridge &&
        ip -n $h link set sw0 master br0 &&
        ip -n $h link set sw0 up &&
        ip -n $h link set br0 up || return 1
    done
    ip link add mg netns ha type veth peer name mg netns hb &&
    ip -n ha addr add 10.99.0.1/24 dev mg &&
    ip -n hb addr add 10.99.0.2/24 dev mg &&
    ip -n ha link set mg up &&
    ip -n hb link set mg up
}

# topo_tap HOST: a fresh tap0 on HOST's bridge, as libvirt makes one per VM
# start. A persistent tap keeps what its last user configured (vnet header
# size, offloads): a VMM must not inherit that from another VMM.
topo_tap() {
    ip -n "$1" link del tap0 2>/dev/null
    ip -n "$1" tuntap add dev tap0 mode tap &&
    ip -n "$1" link set tap0 master br0 &&
    ip -n "$1" link set tap0 up
}

# topo_forget: the switch forgets the guest's entries and the client its
# neighbours, before a guest boots afresh (nothing stale decides where the
# first frames go).
topo_forget() {
    local mac vlan name p
    while read -r mac vlan name; do
        for p in pa pb; do bridge -n sw fdb del "$mac" dev $p vlan "$vlan" master 2>/dev/null; done
    done <<< "$TOPO_KEYS"
    ip -n cl neigh flush all 2>/dev/null
    return 0
}

topo_down() {
    local v
    topo_pings_stop
    topo_observe_stop
    for v in $TOPO_VMS; do
        vm_stop "$v" 2>/dev/null
        qmp_close "$v"
    done
    TOPO_VMS=
    for v in ha hb sw cl; do ip netns del $v 2>/dev/null; done
    return 0
}

# _bg NAME CMD...: start CMD in the background, remember its PID as NAME.
_bg() {
    local n=$1; shift
    "$@" &
    echo $! > "$TOPO_W/$n.pid"
}
# _bg_stop NAME...: end those background processes (by their PID).
_bg_stop() {
    local n p
    for n in "$@"; do
        [ -f "$TOPO_W/$n.pid" ] || continue
        p=$(cat "$TOPO_W/$n.pid"); rm -f "$TOPO_W/$n.pid"
        kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    return 0
}

topo_vm() {
    local name=$1 host=$2 bin; shift 2
    local pre=()
    case $VMM in
        qemu) bin=qemu-system-x86_64; pre=(-cpu host -nodefaults) ;;
        tern) bin=$TERN ;;
        *) echo "topo_vm: VMM must be tern or qemu, not '$VMM'" >&2; return 1 ;;
    esac
    rm -f "$TOPO_W/$name.qmp"
    topo_tap "$host" || { echo "topo_vm: cannot make tap0 in $host (still in use?)" >&2; return 1; }
    vm_start "$name" ip netns exec "$host" "$bin" "${pre[@]}" -enable-kvm -M pc -smp 1 \
        -m "$GUEST_MEM" -display none -no-reboot -serial stdio \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" -append "$GUEST_APPEND" \
        -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off \
        -device "virtio-net-pci,netdev=n0,id=nic0,mac=$GUEST_MAC,romfile=${NIC_OPTS:-}" \
        -qmp "unix:$TOPO_W/$name.qmp,server=on,wait=off" "$@"
    TOPO_VMS="$TOPO_VMS $name"
    if ! qmp_open "$name" "$TOPO_W/$name.qmp"; then
        sed 's/^/#   /' "/tmp/vm-$name/stderr" | head -n 20
        return 1
    fi
}

# topo_guest_ready NAME: wait for the guest's marker, then keep it quiet on the
# network: no IPv6 router solicitations, and neighbour entries that stay
# reachable for an hour (no unicast ARP probes every ~30 s while pings run).
# Either would move the switch's entries by itself, at times nobody controls,
# and blur which frames did it.
topo_guest_ready() {
    if ! vm_wait "$1" TERN-GUEST-READY 120; then
        tr -d '\r' < "/tmp/vm-$1/console" | tail -n 20 | sed 's/^/#   /'
        sed 's/^/#   /' "/tmp/vm-$1/stderr" | head -n 20
        return 1
    fi
    vm_cmd "$1" 'for f in /proc/sys/net/ipv6/conf/*/router_solicitations; do echo 0 > $f; done; for f in /proc/sys/net/ipv4/neigh/*/base_reachable_time_ms; do echo 3600000 > $f; done' >/dev/null
}

# topo_neigh_settled VM: every IPv4 neighbour entry of the guest is REACHABLE
# (none in DELAY or PROBE: a unicast ARP probe of its own, due a few seconds
# after pings start, would otherwise race the announce after a migration).
topo_neigh_settled() {
    local out
    out=$(vm_cmd "$1" 'ip -4 neigh show' 10 | grep -E '^[0-9]') || return 1
    ! printf '%s\n' "$out" | grep -qv REACHABLE
}

# topo_listening HOST PORT: something listens on TCP PORT in HOST's netns.
topo_listening() {
    local hex
    hex=$(printf '%04X' "$2")
    ip netns exec "$1" cat /proc/net/tcp | awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

# jget KEY: the first number (or string) value of "KEY" in the JSON on stdin.
jget() {
    sed -n "s/.*\"$1\": *\"\{0,1\}\([-0-9.e+a-z]*\).*/\1/p" | head -n 1
}

topo_observe_start() {
    local port=$1
    : > "$TOPO_W/fdb.txt"; : > "$TOPO_W/frames.txt"
    # (bash, not busybox env: that would run busybox's own ip applet)
    _bg fdbmon bash -c 'TZ=UTC exec ip netns exec sw bridge -timestamp monitor fdb' > "$TOPO_W/fdb.txt" 2>&1
    _bg capture ip netns exec sw tcpdump -Z root -tt -e -n -l -Q in -i "$port" \
        "ether src $GUEST_MAC or ether src $MV_MAC" > "$TOPO_W/frames.txt" 2> "$TOPO_W/capture.err"
    within 10 grep -q "listening on" "$TOPO_W/capture.err" || diag "tcpdump on $port did not start"
}
topo_observe_stop() { _bg_stop capture fdbmon; }

topo_pings_start() {
    local t
    : > "$TOPO_W/replies.txt"
    _bg replies ip netns exec cl tcpdump -Z root -tt -n -l -Q in -i cl0 \
        'icmp[icmptype] == icmp-echoreply' > "$TOPO_W/replies.txt" 2> "$TOPO_W/replies.err"
    within 10 grep -q "listening on" "$TOPO_W/replies.err"
    for t in $TOPO_TARGETS; do
        _bg "ping-$t" ip netns exec cl ping -q -i 0.1 "$t" > /dev/null 2>&1
    done
}
topo_pings_stop() {
    local t
    for t in $TOPO_TARGETS; do _bg_stop "ping-$t"; done
    _bg_stop replies
}

# within SECONDS CMD...: retry CMD every 0.2 s until it succeeds, for at most
# SECONDS (an integer) of wall-clock time, however long each try takes.
within() {
    local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "${EPOCHREALTIME/./}" -ge $end ] && return 1
        sleep 0.2
    done
}
# client_ping TARGET [SECONDS]: one ping from the client answers within SECONDS.
client_ping() { ip netns exec cl ping -c 1 -W "${2:-3}" "$1" >/dev/null 2>&1; }
# client_reaches TARGET [SECONDS]: TARGET answers a ping (retried for SECONDS,
# default 10); client_ping_all [SECONDS]: every target does.
client_reaches() { within "${2:-10}" client_ping "$1" 1; }
client_ping_all() {
    local t
    for t in $TOPO_TARGETS; do client_reaches "$t" "${1:-10}" || { echo "no answer from $t"; return 1; }; done
}

fdb_port() {
    bridge -n sw fdb show br br0 | awk -v m="$1" -v v="$2" \
        '$1 == m && $2 == "dev" { for (i = 4; i < NF; i++) if ($i == "vlan" && $(i + 1) == v) print $3 }'
}
# fdb_all_at PORT: every key's entry is on PORT.
fdb_all_at() {
    local mac vlan name
    while read -r mac vlan name; do
        [ "$(fdb_port "$mac" "$vlan")" = "$1" ] || return 1
    done <<< "$TOPO_KEYS"
}
# fdb_where: "name=port ..." for every key (diagnostics).
fdb_where() {
    local mac vlan name out=
    while read -r mac vlan name; do out="$out $name=$(fdb_port "$mac" "$vlan")"; done <<< "$TOPO_KEYS"
    echo "${out# }"
}

topo_migrate() {
    local src=$1 dst=$2 host=$3 addr status i; shift 3
    TOPO_MIGPORT=$((TOPO_MIGPORT + 1))
    addr=$(topo_addr "$host")
    HOP_SRC=$src HOP_DST=$dst HOP_PORT=$(topo_port "$host") HOP_STATUS='' HOP_INFO='' HOP_RESUME=''
    topo_vm "$dst" "$host" -incoming "tcp:$addr:$TOPO_MIGPORT" "$@" || return 1
    if ! within 60 topo_listening "$host" "$TOPO_MIGPORT"; then
        diag "$dst does not listen on $addr:$TOPO_MIGPORT"
        sed 's/^/#   /' "/tmp/vm-$dst/stderr" | head -n 20
        return 1
    fi
    if [ -n "${MIG_DST_PARAMS:-}" ]; then
        qmp_cmd "$dst" "{\"execute\":\"migrate-set-parameters\",\"arguments\":$MIG_DST_PARAMS}" >/dev/null ||
            diag "$dst: migrate-set-parameters $MIG_DST_PARAMS refused"
    fi
    qmp_cmd "$src" "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":${MIG_BANDWIDTH:-0},\"downtime-limit\":${MIG_DOWNTIME:-300}}}" >/dev/null ||
        diag "$src: migrate-set-parameters refused"
    topo_observe_start "$HOP_PORT"
    HOP_T0=$EPOCHREALTIME
    if ! qmp_cmd "$src" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:$addr:$TOPO_MIGPORT\"}}" >/dev/null; then
        HOP_STATUS=refused
        grep -E '"error"' "/tmp/qmp-$src/out" | tail -n 1 | sed 's/^/#   /'
        return 1
    fi
    for _ in $(seq 1 1500); do
        HOP_INFO=$(qmp_cmd "$src" '{"execute":"query-migrate"}')
        status=$(printf '%s' "$HOP_INFO" | jget status)
        case $status in completed|failed|cancelled) break ;; esac
        kill -0 "$(vm_pid "$src")" 2>/dev/null || { status=source-died; break; }
        sleep 0.2
    done
    HOP_STATUS=$status
    HOP_RESUME=$(hop_resume "$dst")
    [ "$HOP_STATUS" = completed ]
}

# topo_settle SECONDS: wait (at most SECONDS) until every key is on $HOP_PORT,
# then 1 s more for the remaining rounds, then stop observing.
topo_settle() {
    within "$1" fdb_all_at "$HOP_PORT"
    sleep 1
    topo_observe_stop
}

# hop_event VM EVENT: epoch (s.us) of VM's last QMP EVENT, empty if none;
# hop_resume VM: of its last RESUME.
hop_resume() { hop_event "$1" RESUME; }
hop_event() {
    qmp_events "$1" | grep "\"$2\"" | tail -n 1 | awk '{
        s = $0; sub(/.*"seconds": */, "", s); sub(/[^0-9].*/, "", s)
        u = $0; sub(/.*"microseconds": */, "", u); sub(/[^0-9].*/, "", u)
        if (s != "" && u != "") printf "%d.%06d\n", s, u }'
}

# hop_stop_resume_ms: from the source's last STOP to the destination's RESUME
# (QMP event timestamps, one clock): the downtime as the guest lives it.
hop_stop_resume_ms() {
    local stop
    stop=$(hop_event "$HOP_SRC" STOP)
    [ -n "$stop" ] && [ -n "$HOP_RESUME" ] || { echo -; return; }
    ms_since "$stop" "$HOP_RESUME"
}

# The bridge monitor's lines, as "EPOCH MAC PORT VLAN" (moves and new entries).
# `bridge -timestamp` (iproute2 6.1 has no -tshort) writes, in UTC here,
#   Timestamp: Sun Nov 22 01:10:16 2026 123456 usec
#   52:54:00:12:34:56 dev pb vlan 10 master br0
_fdb_events() {
    awk '
    function days(y, m, d,   era, yoe, doy) {
        y -= (m <= 2); era = int(y / 400); yoe = y - era * 400
        doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
        return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
    }
    $1 == "Timestamp:" {
        mon = (index("JanFebMarAprMayJunJulAugSepOctNovDec", $3) + 2) / 3
        split($5, hms, ":")
        e = days($6 + 0, mon, $4 + 0) * 86400 + hms[1] * 3600 + hms[2] * 60 + hms[3] + $7 / 1e6
        next
    }
    $2 == "dev" && e != "" {
        vlan = ""
        for (i = 3; i < NF; i++) if ($i == "vlan") vlan = $(i + 1)
        if (vlan != "") printf "%.6f %s %s %s\n", e, $1, $3, vlan
    }' "$TOPO_W/fdb.txt"
}

# The moment of the move is the kernel's timestamp of the first frame of that
# (MAC, VLAN) the capture saw entering the port: the bridge learns from every
# frame it receives, in the same softirq, so that frame is the one that moved
# the entry. The bridge monitor confirms that a move to the port happened; its
# own timestamps are taken in user space, tens of ms late on a busy lab CPU.
hop_fdb_ms() {
    local mon first
    mon=$(_fdb_events | awk -v m="$1" -v v="$2" -v p="$HOP_PORT" -v t0="$HOP_T0" \
        '$2 == m && $3 == p && $4 == v && $1 >= t0 { print $1; exit }')
    if [ -z "$mon" ] || [ -z "$HOP_RESUME" ]; then echo -; return; fi
    first=$(hop_first "$1" "$2")
    ms_since "$HOP_RESUME" "${first%% *}${first:-$mon}"
}

# The capture's lines, as "EPOCH MAC VLAN KIND IP".
_frames() {
    awk '{
        vlan = 1; kind = "other"; ip = "-"
        if (match($0, /ethertype 802\.1Q \(0x8100\), length [0-9]+: vlan [0-9]+/)) {
            s = substr($0, RSTART, RLENGTH); sub(/.*vlan /, "", s); vlan = s + 0
        }
        if ($0 ~ /Reverse Request/) kind = "rarp"
        else if (match($0, /Request who-has [0-9.]+ tell [0-9.]+/)) {
            split(substr($0, RSTART, RLENGTH), a, " "); ip = a[3]
            kind = (a[3] == a[5]) ? "garp" : "arp"
        } else if ($0 ~ /ethertype ARP/) kind = "arp"
        else if ($0 ~ /neighbor advertisement/) kind = "na"
        else if ($0 ~ /ICMP echo reply/) kind = "echo-reply"
        print $1, tolower($2), vlan, kind, ip
    }' "$TOPO_W/frames.txt"
}
hop_first() { _frames | awk -v m="$1" -v v="$2" -v t0="$HOP_T0" -v skip="${3:-}" '$2 == m && $3 == v && $1 >= t0 && $4 != skip { print $1, $4, $5; exit }'; }
hop_count() { _frames | awk -v m="$1" -v v="$2" -v k="$3" -v t0="$HOP_T0" '$2 == m && $3 == v && $4 == k && $1 >= t0 { n++ } END { print n + 0 }'; }
# hop_frames_since EPOCH: how many frames from the guest's MACs came in since EPOCH.
hop_frames_since() { _frames | awk -v t="$1" '$1 >= t { n++ } END { print n + 0 }'; }
# hop_first_ms MAC VLAN KIND: ms from RESUME to the first such frame, "-" if none.
hop_first_ms() {
    _frames | awk -v m="$1" -v v="$2" -v k="$3" -v r="$HOP_RESUME" -v t0="$HOP_T0" '
        $2 == m && $3 == v && $4 == k && $1 >= t0 && r != "" { printf "%d\n", ($1 - r) * 1000; f = 1; exit }
        END { if (!f) print "-" }'
}

# hop_blackout TARGET: the longest time (ms) without an echo reply from TARGET
# since the migrate command (the pings run every 100 ms), up to now.
hop_blackout() {
    awk -v ip="$1" -v t0="$HOP_T0" -v now="$EPOCHREALTIME" '
        $3 == ip && $2 == "IP" {
            if ($1 >= t0 && $1 - last > gap) gap = $1 - last
            last = $1 }
        END { if (last == "" || last < t0) last = t0
              if (now - last > gap) gap = now - last
              printf "%d\n", gap * 1000 }' "$TOPO_W/replies.txt"
}

hop_figures() {
    local tag=$1 mac vlan name f all=0 line
    local total down setup mbps xfer
    total=$(printf '%s' "$HOP_INFO" | jget total-time)
    down=$(printf '%s' "$HOP_INFO" | jget downtime)
    setup=$(printf '%s' "$HOP_INFO" | jget setup-time)
    mbps=$(printf '%s' "$HOP_INFO" | jget mbps)
    xfer=$(printf '%s' "$HOP_INFO" | jget transferred)
    diag "$tag: total-time: ${total:--} ms, downtime: ${down:--} ms, setup-time: ${setup:--} ms, throughput: ${mbps:--} Mbit/s, transferred: ${xfer:--} bytes"
    diag "$tag: source STOP to destination RESUME: $(hop_stop_resume_ms) ms"
    line="hop vmm=$VMM tag=${tag// /_} status=$HOP_STATUS total_ms=${total:--} downtime_ms=${down:--} stop_resume_ms=$(hop_stop_resume_ms) setup_ms=${setup:--} mbps=${mbps:--} bytes=${xfer:--}"
    while read -r mac vlan name; do
        f=$(hop_fdb_ms "$mac" "$vlan")
        diag "$tag: RESUME to FDB move of $name ($mac vlan $vlan): $f ms; first GARP $(hop_first_ms "$mac" "$vlan" garp) ms, first RARP $(hop_first_ms "$mac" "$vlan" rarp) ms"
        line="$line fdb_$name=$f"
        if [ "$f" = - ]; then all=-; elif [ "$all" != - ] && [ "$f" -gt "$all" ]; then all=$f; fi
    done <<< "$TOPO_KEYS"
    line="$line fdb_all=$all"
    diag "$tag: RESUME to every entry moved: $all ms"
    if [ -f "$TOPO_W/replies.pid" ]; then
        for f in $TOPO_TARGETS; do line="$line blackout_$f=$(hop_blackout "$f")"; done
        diag "$tag: ping blackout (ms):$(for f in $TOPO_TARGETS; do printf ' %s %s' "$f" "$(hop_blackout "$f")"; done)"
    fi
    echo "# $line"
    hop_save "$tag"
}

# hop_save TAG: append the hop's raw records (source query-migrate, RESUME,
# the frames captured on the switch port, the bridge monitor, the client's
# echo replies) to $TOPO_LOG: in the lab the second serial port /dev/ttyS1,
# which run-lab.sh writes to a host file (--out); elsewhere only when set.
hop_save() {
    local log=${TOPO_LOG:-}
    [ -z "$log" ] && [ "${LAB:-}" = 1 ] && [ -c /dev/ttyS1 ] && log=/dev/ttyS1
    [ -n "$log" ] || return 0
    {
        echo "=== hop $1 vmm=$VMM port=$HOP_PORT t0=$HOP_T0 resume=$HOP_RESUME status=$HOP_STATUS"
        echo "--- query-migrate"; printf '%s\n' "$HOP_INFO"
        echo "--- frames"; cat "$TOPO_W/frames.txt"
        echo "--- fdb"; cat "$TOPO_W/fdb.txt"
        if [ -f "$TOPO_W/replies.pid" ]; then echo "--- replies"; cat "$TOPO_W/replies.txt"; fi
        echo "=== end"
    } >> "$log" 2>/dev/null
}

# hop_dump: the captured frames and FDB events (after a failure).
hop_dump() {
    diag "frames from the guest on $HOP_PORT (resume at $HOP_RESUME):"
    sed 's/^/#   /' "$TOPO_W/frames.txt" | head -n 60
    diag "bridge monitor:"
    grep -iE "$GUEST_MAC|$MV_MAC" "$TOPO_W/fdb.txt" | sed 's/^/#   /' | head -n 30
}
