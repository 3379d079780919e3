#!/bin/bash
# Boot the lab VM, run one test script inside it, print its TAP on stdout.
#
#   tests/lab/run-lab.sh [options] SCRIPT [ARGS...]
#
#   SCRIPT        a file on the host (copied into the lab as /lab/run), or the
#                 name of a script in tests/lab/tests/ ("smoke" or "smoke.sh").
#                 It runs as /lab/run ARGS... in the lab (cwd /tmp, stdin
#                 /dev/null, env LAB=1 LAB_GUEST=/guest LAB_TESTS=/tests).
#   --timeout S   kill the lab after S seconds (default 600)
#   --lab DIR     lab build directory (default build/lab; built when missing)
#   --add SRC[:DEST]  put a host file or directory into this run's lab at DEST
#                 (default: the same absolute path). An executable's shared
#                 libraries (ldd) come along at their own paths. Repeatable.
#                 This is how the freshly built tern binary gets in:
#                 --add ./tern:/usr/bin/tern
#   --append ARGS extra lab kernel command-line arguments
#   --out FILE    where the lab's second serial port /dev/ttyS1 goes
#                 (default DIR/logs/SCRIPTNAME.ttyS1): a data channel out
#   --log FILE    full console log (default DIR/logs/SCRIPTNAME.console)
#   -v            also copy the whole console to stderr as it comes
#
# Output: the script's TAP lines ("LAB: " prefix stripped), plus TAP comments
# with timings. The exit status is the script's, or 124 on timeout / 125 when
# the lab died without reporting (both print "Bail out!").
#
# How the script and files get in: the lab image (build-lab.sh) is fixed; each
# run appends a small gzip'd cpio "overlay" (/lab/run, /lab/args, --add files)
# to a copy of it. Linux unpacks concatenated initramfs archives in order,
# later files winning.
#
# QEMU is always killed and reaped by PID, whatever happens.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest/lib.sh"

TIMEOUT=600
LAB=build/lab
ADDS=()
APPEND=
OUTFILE=
LOG=
VERBOSE=0
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) TIMEOUT=$2; shift 2 ;;
        --lab) LAB=$2; shift 2 ;;
        --add) ADDS+=("$2"); shift 2 ;;
        --append) APPEND=$2; shift 2 ;;
        --out) OUTFILE=$2; shift 2 ;;
        --log) LOG=$2; shift 2 ;;
        -v) VERBOSE=1; shift ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || die "usage: run-lab.sh [options] SCRIPT [ARGS...]"
SCRIPT=$1; shift

if [ ! -f "$SCRIPT" ]; then
    for c in "$HERE/tests/$SCRIPT" "$HERE/tests/$SCRIPT.sh"; do
        [ -f "$c" ] && { SCRIPT=$c; break; }
    done
fi
[ -f "$SCRIPT" ] || die "no such script: $SCRIPT"

ensure_pkgs qemu-system-x86 cpio gzip socat
# (Re)build the lab image when it is missing or older than its sources, with
# the arguments it was built with (build-args).
if [ ! -f "$LAB/lab-initrd.gz" ] ||
   [ -n "$(find "$HERE/init" "$HERE/build-lab.sh" "$HERE/kvm-probe.c" "$HERE/../guest/init" \
              "$HERE/../guest/memdirty.c" "$HERE/../guest/nbench.c" "$HERE/../guest/build-guest.sh" "$HERE/../guest/lib.sh" \
              -newer "$LAB/lab-initrd.gz" 2>/dev/null)" ]; then
    BARGS=()
    [ -f "$LAB/build-args" ] && mapfile -t BARGS < "$LAB/build-args"
    "$HERE/build-lab.sh" -o "$LAB" "${BARGS[@]+"${BARGS[@]}"}" >&2 || die "build-lab.sh failed"
fi
LAB=$(cd "$LAB" && pwd)
mkdir -p "$LAB/logs"
NAME=$(basename "$SCRIPT" .sh)
LOG=${LOG:-$LAB/logs/$NAME.console}
OUTFILE=${OUTFILE:-$LAB/logs/$NAME.ttyS1}

TMP=$(mktemp -d)
QPID=
UNSTICK_PID=
finish() {
    if [ -n "$UNSTICK_PID" ]; then
        kill "$UNSTICK_PID" 2>/dev/null
        wait "$UNSTICK_PID" 2>/dev/null
        UNSTICK_PID=
    fi
    if [ -n "$QPID" ]; then
        if kill -0 "$QPID" 2>/dev/null; then
            kill -TERM "$QPID" 2>/dev/null
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
            kill -KILL "$QPID" 2>/dev/null
        fi
        wait "$QPID" 2>/dev/null
        QPID=
    fi
    rm -rf "$TMP"
}
trap finish EXIT
trap 'exit 130' INT TERM HUP

# --- the per-run overlay ----------------------------------------------------
OV=$TMP/overlay
mkdir -p "$OV/lab" "$OV/tests"
# The current tests/lab/tests (small) so that lib.sh and scripts are never stale.
cp -r "$HERE/tests/." "$OV/tests/"
cp "$SCRIPT" "$OV/lab/run"
chmod 755 "$OV/lab/run"
: > "$OV/lab/args"
for a in "$@"; do printf '%s\n' "$a" >> "$OV/lab/args"; done
for spec in "${ADDS[@]+"${ADDS[@]}"}"; do
    src=${spec%%:*}
    dest=${spec#*:}
    [ "$dest" = "$spec" ] && dest=
    [ -e "$src" ] || die "--add: no such file: $src"
    src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
    dest=${dest:-$src}
    mkdir -p "$OV$(dirname "$dest")"
    if [ -d "$src" ]; then
        cp -a "$src" "$OV$dest"
    else
        cp -L "$src" "$OV$dest"
        # Its shared libraries, at the same paths as on the host.
        if [ -x "$src" ]; then
            ldd "$src" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' |
            while read -r lib; do
                mkdir -p "$OV$(dirname "$lib")"
                cp -L "$lib" "$OV$lib"
            done
        fi
    fi
done
mk_cpio_gz "$OV" "$TMP/overlay.cpio.gz"
cat "$LAB/lab-initrd.gz" "$TMP/overlay.cpio.gz" > "$TMP/initrd"

# --- CPU model: an emulated AMD CPU with SVM + nested paging ------------------
CPU=EPYC-v3,+svm,+npt
qemu-system-x86_64 -cpu help 2>/dev/null | grep -q 'EPYC-v3' || CPU=max

# --- boot ---------------------------------------------------------------------
mkfifo "$TMP/console"
: > "$LOG"
T0=$(date +%s%N)
qemu-system-x86_64 -accel tcg,thread=multi -smp 1 -m 4G -M q35 -cpu "$CPU" \
    -kernel "$LAB/vmlinuz" -initrd "$TMP/initrd" \
    -append "console=ttyS0 panic=-1 loglevel=4 $APPEND" \
    -no-reboot -nodefaults -display none \
    -serial stdio -chardev file,id=ttyS1,path="$OUTFILE" -serial chardev:ttyS1 \
    -monitor "unix:$TMP/monitor,server=on,wait=off" \
    </dev/null >"$TMP/console" 2>"$TMP/qemu.err" &
QPID=$!
exec 4<"$TMP/console"

ms_since() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# lab_cpu_state: the lab CPU's registers, twice 2 s apart, from QEMU's monitor
# (for a lab that stopped making progress: is its kernel stuck, and where?).
lab_cpu_state() {
    local i
    for i in 1 2; do
        echo "=== run-lab.sh: lab CPU state ($i of 2)"
        printf 'info registers\n' | socat -t 2 - "UNIX-CONNECT:$TMP/monitor" 2>&1 | tr -d '\r'
        [ $i = 1 ] && sleep 2
    done
}

# lab_unstick: QEMU 7.2's TCG, emulating SVM for the lab's nested KVM, now and then
# leaves a pending interrupt undelivered while the lab's CPU halts (seen: the LAPIC
# timer's vector in IRR, HLT=1, IF=1, for minutes): the lab freezes until some other
# interrupt arrives. Watch for exactly that, the CPU halted with an IRR bit set in two
# looks a second apart, and deliver a harmless interrupt (a Shift key press through
# the i8042 and the IOAPIC), which makes QEMU re-evaluate the APIC and wake the CPU.
# Each wake-up is reported as a "# lab:" comment and in the console log.
lab_unstick() {
    local seen=0 out msg sp=
    trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; exit 0' TERM
    while kill -0 "$QPID" 2>/dev/null; do
        sleep 1 &
        sp=$!
        wait "$sp"
        sp=
        out=$(printf 'info registers\ninfo lapic\n' |
              socat -t 1 - "UNIX-CONNECT:$TMP/monitor" 2>/dev/null | tr -d '\r')
        if grep -q 'HLT=1' <<< "$out" && grep -Eq '^IRR[[:space:]]+[0-9]' <<< "$out"; then
            seen=$((seen + 1))
        else
            seen=0
        fi
        if [ $seen -ge 2 ]; then
            msg="lab: its CPU was halted with interrupt $(grep -E '^IRR' <<< "$out" | awk '{print $2}') pending (QEMU TCG lost wake-up); woke it with a key press at $(secs "$(ms_since)")s"
            printf 'sendkey shift\n' | socat -t 1 - "UNIX-CONNECT:$TMP/monitor" >/dev/null 2>&1
            echo "run-$msg" >> "$LOG"
            echo "# $msg"
            seen=0
        fi
    done
}
lab_unstick &
UNSTICK_PID=$!

status=
first_lab_ms=
deadline=$((SECONDS + TIMEOUT))
while :; do
    left=$((deadline - SECONDS))
    if [ $left -le 0 ]; then
        echo "Bail out! lab timed out after ${TIMEOUT}s (console: $LOG)"
        lab_cpu_state >> "$LOG"
        status=124
        break
    fi
    if IFS= read -r -t "$left" line <&4; then
        line=${line%$'\r'}
        printf '%s\n' "$line" >> "$LOG"
        [ $VERBOSE = 1 ] && printf '%s\n' "$line" >&2
        case $line in
            "LAB: exit "*)
                status=${line#LAB: exit }
                break ;;
            "LAB: "*)
                [ -n "$first_lab_ms" ] || first_lab_ms=$(ms_since)
                printf '%s\n' "${line#LAB: }" ;;
        esac
    else
        rc=$?
        if [ $rc -gt 128 ]; then continue; fi     # read timed out: loop checks
        [ -n "$line" ] && printf '%s\n' "$line" >> "$LOG"
        echo "Bail out! lab ended without reporting an exit status (console: $LOG)"
        sed 's/^/# qemu: /' "$TMP/qemu.err" | grep -v 'TCG doesn.t support' | head -n 20
        status=125
        break
    fi
done
end_ms=$(ms_since)
# After "LAB: exit" the lab powers off: keep its last words (EOF = QEMU gone).
if [ "$status" != 124 ] && [ "$status" != 125 ]; then
    while IFS= read -r -t 10 line <&4; do printf '%s\n' "${line%$'\r'}" >> "$LOG"; done
fi
exec 4<&-

# Let the lab power off by itself (it does right after "LAB: exit"), then
# make sure: finish() kills and reaps QEMU by PID.
if [ "$status" != 124 ]; then
    for _ in $(seq 1 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
fi
finish
trap - EXIT
echo "# lab: first output at $(secs "${first_lab_ms:-0}")s, finished at $(secs "$end_ms")s (host wall clock)"
case $status in
    ''|*[!0-9]*) exit 125 ;;
    *) exit "$status" ;;
esac
