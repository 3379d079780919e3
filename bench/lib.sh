# shellcheck shell=bash
# Host side of tern's benchmarks (sourced by bench/boot, bench/net, ...).
#
# A benchmark is two scripts: bench/NAME (here, on the host) and
# bench/lab/NAME.sh (where KVM is real). bench_measure runs the second in the
# lab (tests/lab/run-lab.sh, one lab boot for the whole benchmark) when this
# host's /dev/kvm cannot boot Linux, or directly on a host with hardware KVM
# (tests/lab/detect.sh decides), and keeps its output (bench/lab/lib.sh's
# INFO / METRIC / RESULT lines). bench_report turns that into
# bench/results/NAME.md: the conditions, then one table with the median and
# min-max of every figure for tern and for QEMU and the ratio of the medians.
#
# Environment: BUILD (default build), BENCH_RUNS (default 3), TERN_KVM_MODE
# (direct|lab: override the detection).

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$BENCH_ROOT" || exit 1
. tests/guest/lib.sh
BUILD=${BUILD:-build}
TERN=$BENCH_ROOT/$BUILD/tern
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_OUT=$BENCH_ROOT/bench/results
BENCH_WORK=$BENCH_ROOT/$BUILD/bench
mkdir -p "$BENCH_OUT" "$BENCH_WORK"

[ -x "$TERN" ] || die "no tern binary at $TERN (run make first)"
BENCH_MODE=$(tests/lab/detect.sh 2>"$BENCH_WORK/detect.why")
BENCH_MODE_WHY=$(cat "$BENCH_WORK/detect.why")

# bench_where: one sentence on where the figures come from.
bench_where() {
    case $BENCH_MODE in
        lab) echo "in the lab: nested KVM (kvm-amd, nested paging) inside a QEMU TCG VM" \
                  "with one vCPU on this host, because here $BENCH_MODE_WHY." \
                  "Relative figures only: the lab runs guest code 20-50x slower than" \
                  "hardware, so compare tern with QEMU, never with other machines." ;;
        direct) echo "on real KVM on this host ($BENCH_MODE_WHY)." ;;
    esac
}

# bench_measure NAME RAW [TIMEOUT] [VAR=VALUE...]: run bench/lab/NAME.sh where
# KVM is real, its output into RAW; comment lines are shown on stderr as they
# come. The VAR=VALUE arguments become the script's environment.
bench_measure() {
    local name=$1 raw=$2 timeout=${3:-1800} rc
    shift $(($# < 3 ? $# : 3))
    local script=bench/lab/$name.sh
    msg "bench/$name: measuring $BENCH_MODE ($BENCH_MODE_WHY), $BENCH_RUNS runs per VMM"
    case $BENCH_MODE in
    lab)
        tests/lab/run-lab.sh --timeout "$timeout" \
            --log "$BENCH_WORK/$name.console" --out "$BENCH_WORK/$name.ttyS1" \
            --add "$TERN:/usr/bin/tern" --add "bench/lab:/bench" \
            "$script" "BENCH_RUNS=$BENCH_RUNS" "$@" |
            tee "$raw" | grep --line-buffered '^#' >&2
        rc=${PIPESTATUS[0]}
        ;;
    direct)
        [ "$(id -u)" = 0 ] || die "bench/$name needs root (tap devices, namespaces)"
        ensure_pkgs qemu-system-x86 socat iproute2
        tests/guest/build-guest.sh "$BUILD/guest" >&2 || die "build-guest.sh failed"
        gcc -O2 -Wall -static -s -o "$BENCH_WORK/nbench" tests/guest/nbench.c ||
            die "cannot build nbench"
        env TERN="$TERN" LAB_GUEST="$BENCH_ROOT/$BUILD/guest" BENCH_LIB="$BENCH_ROOT/bench/lab" \
            LAB_TESTS="$BENCH_ROOT/tests/lab/tests" \
            NBENCH="$BENCH_WORK/nbench" BENCH_RUNS="$BENCH_RUNS" "$@" \
            timeout --kill-after=10 "$timeout" bash "$script" |
            tee "$raw" | grep --line-buffered '^#' >&2
        rc=${PIPESTATUS[0]}
        ;;
    esac
    [ "$rc" = 0 ] || msg "bench/$name: the measuring script exited with status $rc"
    grep -q '^RESULT ' "$raw"
}

# bench_info_of RAW KEY: the value of "INFO KEY ..." in RAW.
bench_info_of() { sed -n "s/^INFO $2 //p" "$1" | head -n1; }

# bench_table RAW: the markdown table of RAW's METRICs (in their order).
bench_table() {
    awk '
        function fmt(v,  a) {
            a = v < 0 ? -v : v
            # three significant digits, no exponent for what benchmarks print
            if (a >= 100) return sprintf("%.0f", v)
            return sprintf("%.3g", v)
        }
        # median, min, max of the n values in vals (sorted in place)
        function stats(key,  n, i, j, t, v) {
            n = split(all[key], v, " ")
            for (i = 2; i <= n; i++) {
                t = v[i] + 0
                for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
                v[j + 1] = t
            }
            cnt = n
            if (n == 0) { med = ""; lo = ""; hi = ""; return }
            med = n % 2 ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
            lo = v[1] + 0; hi = v[n] + 0
        }
        $1 == "METRIC" {
            key = $2; order[++nm] = key; better[key] = $3
            $1 = $2 = $3 = ""; sub(/^ +/, ""); label[key] = $0
        }
        $1 == "RESULT" { all[$2 SUBSEP $3] = all[$2 SUBSEP $3] " " $4 }
        END {
            print "| figure | tern median | tern min–max | QEMU median | QEMU min–max | tern/QEMU |"
            print "| --- | ---: | ---: | ---: | ---: | ---: |"
            for (i = 1; i <= nm; i++) {
                k = order[i]
                stats("tern" SUBSEP k); tm = med; tl = lo; th = hi; tn = cnt
                stats("qemu" SUBSEP k); qm = med; ql = lo; qh = hi; qn = cnt
                ratio = (tn && qn && qm != 0) ? sprintf("%.2f", tm / qm) : "–"
                arrow = better[k] == "lower" ? " (lower is better)" : " (higher is better)"
                printf "| %s%s | %s | %s | %s | %s | %s |\n", label[k], arrow,
                    tn ? fmt(tm) : "–", tn ? fmt(tl) "–" fmt(th) : "–",
                    qn ? fmt(qm) : "–", qn ? fmt(ql) "–" fmt(qh) : "–", ratio
            }
        }' "$1"
}

# bench_runs_of RAW VMM KEY: how many results VMM has for KEY.
bench_runs_of() { grep -c "^RESULT $2 $3 " "$1"; }

# bench_conditions RAW: the lines every result file starts with.
bench_conditions() {
    local raw=$1 gk
    gk=$(cat "$BUILD/guest/kernel-version" 2>/dev/null || echo unknown)
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') $(bench_where)"
    echo
    echo "- Host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)," \
         "$(nproc) cores, Linux $(uname -r)"
    [ "$BENCH_MODE" = lab ] &&
        echo "- KVM ran in the lab VM: $(bench_info_of "$raw" kvm_cpu) (emulated)," \
             "$(bench_info_of "$raw" kvm_cpus) CPU, Linux $(bench_info_of "$raw" kvm_kernel)"
    echo "- tern: $(bench_info_of "$raw" tern_version)" \
         "(git $(git describe --always --dirty 2>/dev/null || echo unknown));" \
         "QEMU: $(bench_info_of "$raw" qemu_version)"
    echo "- Guest: Debian's cloud kernel $gk with tests/guest's busybox initramfs"
}

# bench_report NAME TITLE RAW NOTES_FILE: write bench/results/NAME.md.
bench_report() {
    local name=$1 title=$2 raw=$3 notes=$4 out=$BENCH_OUT/$1.md
    {
        echo "## $title"
        echo
        bench_conditions "$raw"
        echo
        bench_table "$raw"
        echo
        cat "$notes"
    } > "$out.tmp" && mv "$out.tmp" "$out"
    msg "bench/$name: wrote ${out#$BENCH_ROOT/}"
    cat "$out"
}
