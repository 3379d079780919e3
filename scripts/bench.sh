#!/bin/bash
# make bench: run tern's benchmarks, each side by side with QEMU 7.2 in the same
# run, and write bench/RESULTS.md.
#
#   scripts/bench.sh [NAME...]      (default: boot migrate net)
#
# A benchmark is an executable bench/NAME (or bench/NAME/run) that measures
# tern and QEMU and writes bench/results/NAME.md: a "## " heading, the
# conditions, one table (medians, min-max, ratio tern/QEMU) and notes. This
# script runs each one present, then assembles bench/RESULTS.md: where it was
# measured (the lab or real KVM), the machine and versions, and every result
# file written in this run. A benchmark that fails or is absent is listed as
# such; the exit status is 0 only when every present one succeeded.
#
# Environment: BUILD (default build), BENCH_RUNS (runs per VMM, default 3), and
# what each benchmark documents (bench/README.md).
set -u
cd "$(dirname "$0")/.."
. tests/guest/lib.sh
BUILD=${BUILD:-build}
export BUILD BENCH_RUNS=${BENCH_RUNS:-3}
[ -x "$BUILD/tern" ] || make -s "$BUILD/tern" || die "cannot build tern"

NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(boot migrate net)
OUT=bench/RESULTS.md
mkdir -p bench/results "$BUILD/bench"
STAMP=$BUILD/bench/started
: > "$STAMP"
START=$(date -u '+%Y-%m-%d %H:%M UTC')
T0=$SECONDS

declare -A STATE
failed=0
for name in "${NAMES[@]}"; do
    if [ -f "bench/$name" ] && [ -x "bench/$name" ]; then
        cmd=("bench/$name")
    elif [ -x "bench/$name/run" ]; then
        cmd=("bench/$name/run")
    else
        STATE[$name]="not present in this tree"
        msg "== bench/$name: not present, skipped"
        continue
    fi
    msg "== bench/$name"
    t=$SECONDS
    if "${cmd[@]}" && [ "bench/results/$name.md" -nt "$STAMP" ]; then
        STATE[$name]="ok ($((SECONDS - t)) s)"
    else
        STATE[$name]="FAILED (see its output above)"
        failed=$((failed + 1))
    fi
done

mode=$(tests/lab/detect.sh 2>"$BUILD/bench/detect.why")
why=$(cat "$BUILD/bench/detect.why")
qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -n1)
{
    echo "# tern benchmarks"
    echo
    echo "Written by \`make bench\` (scripts/bench.sh), started $START, $((SECONDS - T0)) s in all."
    echo "Every table compares tern with QEMU measured in the same run, on the same"
    echo "guest; bench/README.md says what each figure means and how to run one alone."
    echo
    case $mode in
        lab) echo "**Where: the lab** ($why). KVM ran nested inside a QEMU TCG VM with one vCPU:"
             echo "guest code runs 20-50x slower than on hardware, so read the ratios"
             echo "tern/QEMU, not the absolute figures." ;;
        direct) echo "**Where: real KVM** on this host ($why)." ;;
    esac
    echo
    echo "- Machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)," \
         "$(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, Linux $(uname -r)"
    echo "- tern: $("$BUILD/tern" -version | head -n1), git $(git describe --always --dirty 2>/dev/null || echo unknown)"
    echo "- QEMU: ${qemu:-not installed}"
    echo "- Guest: Debian's cloud kernel $(cat "$BUILD/guest/kernel-version" 2>/dev/null || echo '(not built)')" \
         "with tests/guest's busybox initramfs"
    echo "- Runs: $BENCH_RUNS per VMM for each benchmark (medians, min–max)"
    echo
    echo "| benchmark | this run |"
    echo "| --- | --- |"
    for name in "${NAMES[@]}"; do echo "| $name | ${STATE[$name]} |"; done
    for name in "${NAMES[@]}"; do
        f=bench/results/$name.md
        [ -f "$f" ] && [ "$f" -nt "$STAMP" ] || continue
        echo
        # A result file is a section of this page: its top heading becomes "##".
        if head -n1 "$f" | grep -q '^# '; then
            sed -E 's/^(#+) /#\1 /' "$f"
        else
            cat "$f"
        fi
    done
} > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
msg "== wrote $OUT"
for name in "${NAMES[@]}"; do msg "   $name: ${STATE[$name]}"; done
[ $failed = 0 ]
