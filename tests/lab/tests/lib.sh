# shellcheck shell=sh
# TAP helpers for lab test scripts (POSIX sh; sourced, e.g.
#   . "${LAB_TESTS:-/tests}/lib.sh"
# ). Write TAP on stdout only: the lab's /init prefixes every stdout line with
# "LAB: " and run-lab.sh strips it again on the host. Diagnostics go to stderr
# or as "# ..." comments.

_tap_n=0
_tap_fail=0
_tap_planned=

plan() { _tap_planned=$1; echo "1..$1"; }
diag() { echo "# $*"; }
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $*"; }
# skip DESC REASON
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }
# todo DESC REASON: a known, expected failure (TAP TODO; not counted as failed)
todo() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $1 # TODO $2"; }

# check DESC CMD...: ok when CMD succeeds; on failure its output becomes
# TAP comments.
check() {
    _desc=$1; shift
    if _out=$("$@" 2>&1); then
        ok "$_desc"
    else
        not_ok "$_desc"
        printf '%s\n' "$_out" | sed 's/^/#   /'
    fi
}

# done_testing: print the plan if none was given; status 0 when all passed.
done_testing() {
    [ -n "$_tap_planned" ] || echo "1..$_tap_n"
    [ "$_tap_fail" -eq 0 ]
}

# wait_until SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
wait_until() {
    _t=$(( $1 * 10 )); shift
    while [ $_t -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        _t=$((_t - 1))
    done
    return 1
}

# uptime_s: seconds since the lab kernel booted (for timings).
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# --- driving a VM's serial console (the test guest's command loop) ---------
# The VMM (tern or QEMU) runs with `-serial stdio`: its stdin is a FIFO the
# test writes command lines into, its stdout a file the test reads. The guest
# prints TERN-GUEST-READY once, then answers each line with the command's
# output and "TERN-CMD-DONE <status>" (see tests/guest/init). State lives in
# /tmp/vm-NAME/{in,console,stderr,pid,holder}.

# vm_start NAME CMD...: start CMD (a VMM command line with -serial stdio).
# _fifo_write FIFO LINE: append LINE to FIFO, giving up after 5 s. Opening a FIFO
# for writing blocks until it has a reader: if the reader (a VMM's stdin, socat)
# is gone, a plain `>>` would hang the whole test.
_fifo_write() {
    timeout 5 bash -c 'printf "%s\n" "$1" >> "$2"' _ "$2" "$1"
}

vm_start() {
    _d=/tmp/vm-$1; shift
    rm -rf "$_d"; mkdir -p "$_d"; mkfifo "$_d/in"; : > "$_d/console"
    # A writer that never writes keeps the FIFO open, so the VMM never sees
    # EOF between commands (each vm_cmd opens, writes and closes).
    sleep 2147483647 > "$_d/in" &
    echo $! > "$_d/holder"
    "$@" < "$_d/in" > "$_d/console" 2> "$_d/stderr" &
    echo $! > "$_d/pid"
}

# vm_pid NAME: the VMM's PID.
vm_pid() { cat "/tmp/vm-$1/pid"; }

# vm_wait NAME PATTERN SECONDS: wait for a console line matching PATTERN
# (grep -E); fails early when the VMM exits.
vm_wait() {
    _d=/tmp/vm-$1; _t=$(( $3 * 10 ))
    while [ $_t -gt 0 ]; do
        grep -qE -- "$2" "$_d/console" && return 0
        kill -0 "$(cat "$_d/pid")" 2>/dev/null || { grep -qE -- "$2" "$_d/console"; return; }
        sleep 0.1; _t=$((_t - 1))
    done
    return 1
}

# vm_cmd NAME CMD [SECONDS]: run CMD in the guest (default timeout 30 s), print
# its output (\r removed), return its exit status; 255 on timeout.
vm_cmd() {
    _d=/tmp/vm-$1
    _n0=$(grep -c '^TERN-CMD-DONE' "$_d/console")
    _l0=$(wc -l < "$_d/console")
    # (writing into the FIFO would block forever without a reader)
    kill -0 "$(cat "$_d/pid")" 2>/dev/null || return 255
    _fifo_write "$_d/in" "$2" || return 255
    _t=$(( ${3:-30} * 10 ))
    while [ $_t -gt 0 ]; do
        if [ "$(grep -c '^TERN-CMD-DONE' "$_d/console")" -gt "$_n0" ]; then
            tail -n +$((_l0 + 1)) "$_d/console" | tr -d '\r' | sed '/^TERN-CMD-DONE/,$d'
            return "$(grep '^TERN-CMD-DONE' "$_d/console" | sed -n "$((_n0 + 1))p" | tr -d '\r' | cut -d' ' -f2)"
        fi
        sleep 0.1; _t=$((_t - 1))
    done
    return 255
}

# vm_stop NAME [SECONDS]: wait up to SECONDS (default 0) for the VMM to exit
# by itself, then kill it; always reaps it and the FIFO holder. Status 0 when
# it had exited by itself.
vm_stop() {
    _d=/tmp/vm-$1; _pid=$(cat "$_d/pid" 2>/dev/null); _t=$(( ${2:-0} * 10 )); _rc=0
    while [ $_t -gt 0 ] && kill -0 "$_pid" 2>/dev/null; do sleep 0.1; _t=$((_t - 1)); done
    if [ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null; then
        _rc=1; kill "$_pid" 2>/dev/null; sleep 0.3; kill -9 "$_pid" 2>/dev/null
    fi
    [ -n "$_pid" ] && wait "$_pid" 2>/dev/null
    _h=$(cat "$_d/holder" 2>/dev/null)
    [ -n "$_h" ] && { kill "$_h" 2>/dev/null; wait "$_h" 2>/dev/null; }
    return $_rc
}

# --- QMP ----------------------------------------------------------------------
# qmp SOCKET JSON: one QMP session on a unix socket (the VMM was started with
# -qmp unix:SOCKET,server=on,wait=off): greeting, qmp_capabilities, JSON;
# prints the reply to JSON (the line with "return" or "error"; events are
# skipped) and succeeds when it is a "return". Needs bash (the lab's /bin/sh)
# and socat (in the lab).
qmp() {
    _sock=$1 _cmd=$2
    # socat reads our commands from a FIFO kept open until we are done.
    _q=$(mktemp -d)
    mkfifo "$_q/in"
    socat -t 30 - "UNIX-CONNECT:$_sock" < "$_q/in" > "$_q/out" 2>/dev/null &
    _sp=$!
    exec 7>"$_q/in"
    # _qmp_reply N: wait (10 s) until N lines with "return"/"error" arrived.
    _qmp_reply() {
        _t=100
        while [ $_t -gt 0 ]; do
            [ "$(grep -cE '"(return|error)"' "$_q/out")" -ge "$1" ] && return 0
            kill -0 $_sp 2>/dev/null || return 1
            sleep 0.1; _t=$((_t - 1))
        done
        return 1
    }
    _rc=1
    echo '{"execute":"qmp_capabilities"}' >&7
    if _qmp_reply 1; then
        printf '%s\n' "$_cmd" >&7
        if _qmp_reply 2; then
            _line=$(grep -E '"(return|error)"' "$_q/out" | sed -n 2p)
            printf '%s\n' "$_line"
            case $_line in *'"return"'*) _rc=0 ;; esac
        fi
    fi
    exec 7>&-
    kill $_sp 2>/dev/null; wait $_sp 2>/dev/null
    rm -rf "$_q"
    return $_rc
}

# --- QMP sessions that stay open ---------------------------------------------
# One connection for many commands and for the events that arrive meanwhile
# (STOP, RESUME, MIGRATION, SHUTDOWN): qmp_open NAME SOCKET connects and
# negotiates capabilities; qmp_cmd NAME JSON [SECONDS] prints the reply line
# and succeeds on "return" (default timeout 10 s); qmp_events NAME prints the
# event lines received so far; qmp_close NAME ends the session. Needs bash and
# socat. State in /tmp/qmp-NAME/.
qmp_open() {
    local d=/tmp/qmp-$1
    qmp_close "$1"
    rm -rf "$d"; mkdir -p "$d"; mkfifo "$d/in"; : > "$d/out"
    wait_until 10 test -S "$2" || return 1
    # A writer that never writes keeps socat's stdin open between commands.
    sleep 2147483647 > "$d/in" &
    echo $! > "$d/holder"
    socat -t 5 - "UNIX-CONNECT:$2" < "$d/in" > "$d/out" 2> "$d/err" &
    echo $! > "$d/pid"
    qmp_cmd "$1" '{"execute":"qmp_capabilities"}' > /dev/null
}
_qmp_replies() { grep -cE '"(return|error)"' "/tmp/qmp-$1/out"; }
qmp_cmd() {
    local d=/tmp/qmp-$1 n0 t
    n0=$(_qmp_replies "$1")
    _fifo_write "$d/in" "$2" || return 1
    t=$(( ${3:-10} * 10 ))
    while [ "$(_qmp_replies "$1")" -le "$n0" ]; do
        [ $t -gt 0 ] && kill -0 "$(cat "$d/pid")" 2>/dev/null || return 1
        sleep 0.1; t=$((t - 1))
    done
    grep -E '"(return|error)"' "$d/out" | sed -n "$((n0 + 1))p" | grep '"return"'
}
qmp_events() { grep '"event"' "/tmp/qmp-$1/out"; }
qmp_close() {
    local d=/tmp/qmp-$1 p
    for p in holder pid; do
        [ -f "$d/$p" ] && { kill "$(cat "$d/$p")" 2>/dev/null; wait "$(cat "$d/$p")" 2>/dev/null; }
        rm -f "$d/$p"
    done
    return 0
}

# --- the guest's switch: a VLAN-filtering bridge and a peer ------------------
# The test guest (eth0, eth0.10, macvlan0) talks to a peer through a Linux
# bridge that filters VLANs like a switch. Building blocks, each in a netns:
#   lab_bridge NS            bridge br0 with vlan_filtering 1 (VLAN 1 = pvid)
#   lab_trunk NS BR PORT...  enslave PORTs to BR as trunks: VLAN 1 untagged
#                            (pvid), VLAN 10 tagged; brings them up
#   lab_client NS IF         the peer's addresses on IF: 10.0.0.1/24,
#                            10.0.20.1/24, fd00::1/64; IF.10 (VLAN 10):
#                            10.0.10.1/24, fd00:10::1/64
# and the single-host switch of the guest tests:
#   lab_switch SW PEER TAP...  netns SW: br0 with the taps and psw; netns PEER:
#                              veth "peer" (the other end of psw), lab_client
#   lab_switch_down NS...      delete the namespaces (and all in them)
lab_bridge() {
    ip -n "$1" link add br0 type bridge vlan_filtering 1 &&
    ip -n "$1" link set br0 up
}
lab_trunk() {
    local ns=$1 br=$2 p; shift 2
    for p in "$@"; do
        ip -n "$ns" link set "$p" master "$br" &&
        ip -n "$ns" link set "$p" up &&
        bridge -n "$ns" vlan add vid 10 dev "$p" || return 1  # tagged; VLAN 1 stays pvid
    done
}
lab_client() {
    local ns=$1 dev=$2
    ip -n "$ns" link set "$dev" up &&
    ip -n "$ns" addr add 10.0.0.1/24 dev "$dev" &&
    ip -n "$ns" addr add 10.0.20.1/24 dev "$dev" &&
    ip -n "$ns" addr add fd00::1/64 dev "$dev" nodad &&
    ip -n "$ns" link add link "$dev" name "$dev.10" type vlan id 10 &&
    ip -n "$ns" link set "$dev.10" up &&
    ip -n "$ns" addr add 10.0.10.1/24 dev "$dev.10" &&
    ip -n "$ns" addr add fd00:10::1/64 dev "$dev.10" nodad
}
lab_switch() {
    local sw=$1 peer=$2 t; shift 2
    ip netns add "$sw" && ip netns add "$peer" || return 1
    ip -n "$sw" link set lo up
    ip -n "$peer" link set lo up
    lab_bridge "$sw" || return 1
    for t in "$@"; do ip -n "$sw" tuntap add dev "$t" mode tap || return 1; done
    ip link add psw type veth peer name peer &&
    ip link set psw netns "$sw" &&
    ip link set peer netns "$peer" &&
    lab_trunk "$sw" br0 "$@" psw &&
    lab_client "$peer" peer
}
lab_switch_down() {
    local ns
    for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
    return 0
}
