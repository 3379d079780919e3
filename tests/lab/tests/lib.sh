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
    printf '%s\n' "$2" >> "$_d/in"
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
