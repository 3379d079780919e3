# shellcheck shell=bash
# Helpers for the benchmark scripts that run where KVM is real: inside the lab
# (bench/NAME starts them there through tests/lab/run-lab.sh) or directly on a
# host with hardware KVM. Sourced; needs bash (the lab's /bin/sh is bash).
#
# Output protocol (stdout; the host side, bench/lib.sh, parses it):
#   INFO KEY VALUE...          a fact about the machine or a version
#   METRIC KEY lower|higher LABEL...   a figure, which way is better, its label
#   RESULT VMM KEY VALUE       one measurement (one line per run)
#   # ...                      a comment for humans
#
# A VM here is driven like tests/lab/tests/lib.sh's vm_* (state in /tmp/vm-NAME:
# in, console, pid, holder, so vm_stop works on it), but nothing polls: a
# reader process copies the VMM's stdout into the console file and posts the
# guest's marker lines, stamped with $EPOCHREALTIME, into a FIFO the script
# blocks on. A polling loop would steal CPU from the guest being measured (the
# lab has one CPU).

declare -A BVM_EV BVM_T0

bench_info() { echo "INFO $*"; }
bench_metric() { echo "METRIC $*"; }
bench_result() { echo "RESULT $1 $2 $3"; }
bench_diag() { echo "# $*"; }

# bench_common_info: the machine KVM runs on (the lab VM, or this host).
bench_common_info() {
    bench_info kvm_cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    bench_info kvm_cpus "$(grep -c ^processor /proc/cpuinfo)"
    bench_info kvm_kernel "$(uname -r)"
    bench_info qemu_version "$("${QEMU:-qemu-system-x86_64}" --version 2>/dev/null | head -n1)"
    bench_info tern_version "$("${TERN:-tern}" -version 2>/dev/null | head -n1)"
}

# _bvm_reader DIR: copy DIR/out to DIR/console; post marker lines to DIR/events.
_bvm_reader() {
    local d=$1 line
    while IFS= read -r line; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >> "$d/console"
        case $line in
            *TERN-GUEST-READY*) echo "READY $EPOCHREALTIME" > "$d/events" ;;
            *TERN-CMD-DONE*) echo "DONE ${line##*TERN-CMD-DONE }" > "$d/events" ;;
        esac
    done < "$d/out"
    echo "EOF $EPOCHREALTIME" > "$d/events"
}

# bvm_start NAME CMD...: start CMD (a VMM with -serial stdio); the time of the
# exec is remembered for bvm_wait_ready.
bvm_start() {
    local name=$1 d=/tmp/vm-$1 fd
    shift
    rm -rf "$d"
    mkdir -p "$d"
    mkfifo "$d/in" "$d/out" "$d/events"
    : > "$d/console"
    # Opened read-write, so the reader's writes never block and this never
    # sees EOF.
    exec {fd}<>"$d/events"
    BVM_EV[$name]=$fd
    _bvm_reader "$d" &
    echo $! > "$d/reader"
    # Keeps the VMM's stdin open between commands (as vm_start does).
    sleep 2147483647 > "$d/in" &
    echo $! > "$d/holder"
    BVM_T0[$name]=$EPOCHREALTIME
    "$@" < "$d/in" > "$d/out" 2> "$d/stderr" &
    echo $! > "$d/pid"
}

bvm_pid() { cat "/tmp/vm-$1/pid"; }

# bvm_event NAME KIND SECONDS: wait for the next event of KIND (READY, DONE);
# print its argument. Fails on timeout or when the VMM's output ended.
bvm_event() {
    local fd=${BVM_EV[$1]} kind arg deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        IFS=' ' read -r -t $((deadline - SECONDS)) -u "$fd" kind arg || return 1
        [ "$kind" = "$2" ] && { printf '%s\n' "$arg"; return 0; }
        [ "$kind" = EOF ] && return 1
    done
    return 1
}

# bvm_wait_ready NAME SECONDS: print ms from the exec to TERN-GUEST-READY.
bvm_wait_ready() {
    local t1
    t1=$(bvm_event "$1" READY "$2") || return 1
    awk -v a="${BVM_T0[$1]}" -v b="$t1" 'BEGIN { printf "%d\n", (b - a) * 1000 + 0.5 }'
}

# bvm_send NAME CMD: run CMD in the guest without waiting (see bvm_done).
bvm_send() {
    wc -l < "/tmp/vm-$1/console" > "/tmp/vm-$1/mark"
    printf '%s\n' "$2" >> "/tmp/vm-$1/in"
}

# bvm_done NAME SECONDS: wait for the command bvm_send started; print its
# output and return its exit status (255 on timeout).
bvm_done() {
    local st l0
    st=$(bvm_event "$1" DONE "$2") || return 255
    l0=$(cat "/tmp/vm-$1/mark")
    tail -n +$((l0 + 1)) "/tmp/vm-$1/console" | sed '/TERN-CMD-DONE/,$d'
    return "${st%% *}"
}

# bvm_cmd NAME CMD [SECONDS]: run CMD in the guest, print its output, return
# its status.
bvm_cmd() {
    bvm_send "$1" "$2"
    bvm_done "$1" "${3:-60}"
}

# bvm_stop NAME [SECONDS]: let the VMM exit by itself for SECONDS, then kill
# it; reap it, the stdin holder and the reader; close the event FIFO.
bvm_stop() {
    local d=/tmp/vm-$1 p fd=${BVM_EV[$1]:-} rc
    vm_stop "$1" "${2:-0}" 2>/dev/null
    rc=$?
    p=$(cat "$d/reader" 2>/dev/null)
    [ -n "$p" ] && { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
    [ -n "$fd" ] && exec {fd}>&-
    unset "BVM_EV[$1]"
    return $rc
}

# vm_stop NAME [SECONDS] (the same as tests/lab/tests/lib.sh's): status 0 when
# the VMM had exited by itself.
vm_stop() {
    local d=/tmp/vm-$1 pid rc=0 t=$(( ${2:-0} * 10 )) h
    pid=$(cat "$d/pid" 2>/dev/null)
    while [ $t -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; t=$((t - 1)); done
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        rc=1
        kill "$pid" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    fi
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
    h=$(cat "$d/holder" 2>/dev/null)
    [ -n "$h" ] && { kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; }
    return $rc
}

# bvm_memory PID RAM_MIB: "RSS RAM_RSS RAM_VMA ANON RAM_ANON" (KiB) of a
# running VMM, from /proc/PID/smaps. Guest RAM is the anonymous mapping of at
# least RAM_MIB whose size is closest to it (tern and QEMU both back -m with
# one anonymous mmap below 4 GiB); its resident pages (RAM_RSS) are the guest
# RAM that was touched, by the guest or by the VMM loading the kernel. RSS and
# ANON are the process's totals of Rss and Anonymous; RAM_ANON is the
# mapping's Anonymous. So RSS - RAM_RSS is the VMM's own resident memory and
# ANON - RAM_ANON the part of it that is not code or files. RAM_VMA (the
# mapping's size) is larger than RAM_MIB when the kernel merged a neighbouring
# anonymous mapping into it; then that neighbour's pages count as guest RAM.
bvm_memory() {
    awk -v want=$(($2 * 1024)) '
        /^[0-9a-f]+-[0-9a-f]+ / { anon = (NF == 5); next }
        /^Size:/ { size = $2; take = anon && size >= want && (best == 0 || size < best); next }
        /^Rss:/ { rss += $2; if (take) { best = size; ram = $2 }; next }
        /^Anonymous:/ { an += $2; if (take) ram_an = $2; next }
        END { printf "%d %d %d %d %d\n", rss, ram, best, an, ram_an }' "/proc/$1/smaps"
}
