# shellcheck shell=bash
# Shared by the wrappers tests/functional/*.sh (sourced; not a test itself: the
# suite runs only executable scripts here). A wrapper checks its binaries, then
# calls functional_run, which decides where the real-guest checks run
# (tests/lab/detect.sh): inside the lab VM with the freshly built tern, or
# directly, as root, on a host with hardware KVM.
#
#   functional_run LOG CHECKS TIMEOUT [OPTIONS] [-- ARGS...]
#     LOG       name of the logs, $BUILD/functional/LOG.console and LOG.ttyS1
#     CHECKS    the script with the checks (tests/functional/lab/NAME.sh)
#     TIMEOUT   seconds the lab may take
#     --add SRC:DEST   another file for the lab (run-lab.sh --add)
#     --env VAR=VALUE  another variable for a direct run
#     --pkgs "P ..."   Debian packages a direct run needs beyond socat, iproute2
#     ARGS      arguments of CHECKS
#   functional_need FILE...   the binaries the test runs: a missing one skips it whole
# Sourced from the top of the tree; sets BUILD and TERN (the binary under test).

BUILD=${BUILD:-build}
TERN=${TERN_BINARY:-$PWD/$BUILD/tern}

functional_need() {
    local f
    for f in "$@"; do
        if [ ! -x "$f" ]; then
            echo "1..0 # SKIP no $(basename "$f") binary at $f (run make check)"
            exit 0
        fi
    done
}

functional_run() {
    local log=$1 checks=$2 timeout=$3 mode reason pkgs=
    local -a adds=() envs=()
    shift 3
    while [ $# -gt 0 ]; do
        case $1 in
            --add) adds+=(--add "$2"); shift 2 ;;
            --env) envs+=("$2"); shift 2 ;;
            --pkgs) pkgs="$pkgs $2"; shift 2 ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    mode=$(tests/lab/detect.sh 2>"/tmp/tern-detect.$$")
    reason=$(cat "/tmp/tern-detect.$$"); rm -f "/tmp/tern-detect.$$"
    echo "# KVM: $mode ($reason)"
    case $mode in
    lab)
        mkdir -p "$BUILD/functional"
        [ -x "$TERN" ] && adds=(--add "$TERN:/usr/bin/tern" "${adds[@]}")
        exec tests/lab/run-lab.sh --timeout "$timeout" \
            --log "$BUILD/functional/$log.console" --out "$BUILD/functional/$log.ttyS1" \
            "${adds[@]}" "$checks" "$@"
        ;;
    direct)
        if [ "$(id -u)" != 0 ]; then
            echo "1..0 # SKIP needs root here (network namespaces, tap, bridge)"
            exit 0
        fi
        . tests/guest/lib.sh
        # shellcheck disable=SC2086
        ensure_pkgs socat iproute2 $pkgs
        tests/guest/build-guest.sh "$BUILD/guest" >&2 || { echo "Bail out! build-guest.sh failed"; exit 1; }
        exec env TERN="$TERN" LAB_GUEST="$PWD/$BUILD/guest" LAB_TESTS="$PWD/tests/lab/tests" \
            "${envs[@]}" "$checks" "$@"
        ;;
    esac
}
