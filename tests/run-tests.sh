#!/usr/bin/env bash
# run-tests.sh: run every test of the suite and end with "N passed, N failed, N skipped".
#
# Every GTest binary under $BUILD/tests runs with --tap; executable scripts named
# tests/functional/*.sh print TAP too (they run the real-guest tests, in the lab when the
# host's KVM cannot boot Linux), and so does tests/qemu-qtest/run.sh (QEMU's own qtest
# programs against tern; its first run builds them, hence its longer time limit); the fuzz
# targets in $FUZZ_BUILD get a short run each (FUZZ_CHECK_SECONDS) and replay their
# regression inputs (tests/fuzz/run-fuzz.sh); tests/check-format.sh fails a C file that
# differs from .clang-format. A binary that dies without reporting counts
# as a failure.
# Under SANITIZE=1 every process (tests and the tern binaries they start) logs sanitizer
# reports into one directory; any report there fails the run.
#
# --unit: only the unit and qtest binaries (no functional, lab or fuzz runs), for
# `make check-unit`, the quick loop while editing.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SANITIZE=${SANITIZE:-0}
export TERN_BINARY=${TERN_BINARY:-$PWD/$BUILD/tern}
export TERN_SOURCE_DIR=$PWD
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
unit_only=0
test_dirs="$BUILD/tests"
if [ "${1:-}" = --unit ]; then
    unit_only=1
    test_dirs="$BUILD/tests/unit $BUILD/tests/qtest"
fi

logdir=$(mktemp -d /tmp/tern-check.XXXXXX)
trap 'rm -rf "$logdir"' EXIT
if [ "$SANITIZE" = 1 ]; then
    export ASAN_OPTIONS="log_path=$logdir/asan:detect_leaks=0:abort_on_error=0"
    export UBSAN_OPTIONS="log_path=$logdir/ubsan:print_stacktrace=1:halt_on_error=1"
fi

passed=0 failed=0 skipped=0

# Run one TAP producer; count its results.
run_tap() {
    local name=$1; shift
    local out="$logdir/out.$$"
    local ok=0 notok=0 skip=0
    timeout --kill-after=10 "$TEST_TIMEOUT" "$@" >"$out" 2>"$out.err"
    local rc=$?
    while IFS= read -r line; do
        case "$line" in
        "ok "*"# SKIP"*|"ok "*"# skip"*)
            skip=$((skip + 1)); echo "SKIP: $name: ${line#ok }" ;;
        "ok "*)
            ok=$((ok + 1)); echo "PASS: $name: ${line#ok }" ;;
        "not ok "*"# TODO"*)
            skip=$((skip + 1)); echo "TODO: $name: ${line#not ok }" ;;
        "not ok "*)
            notok=$((notok + 1)); echo "FAIL: $name: ${line#not ok }" ;;
        "# random seed"*|"# DEBUG"*|"# Start of"*|"# End of"*) ;;
        "# "*:*[0-9]*)
            # figures a test reports (boot time, downtime): shown, never asserted
            echo "NOTE: $name: ${line#\# }" ;;
        "Bail out!"*)
            echo "FAIL: $name: $line" ;;
        esac
    done <"$out"
    if [ $rc -ne 0 ] && [ $notok -eq 0 ]; then
        notok=1
        echo "FAIL: $name: exited with status $rc without reporting a failing test"
    fi
    if [ $notok -gt 0 ]; then
        echo "---- $name: output (last 40 lines) ----"
        tail -n 40 "$out.err"
        echo "----"
    fi
    passed=$((passed + ok)); failed=$((failed + notok)); skipped=$((skipped + skip))
    rm -f "$out" "$out.err"
}

for t in $(find $test_dirs -type f -name 'test-*' ! -name '*.o' ! -name '*.d' 2>/dev/null | sort); do
    [ -x "$t" ] || continue
    run_tap "${t#$BUILD/}" "$t" --tap
done

if [ $unit_only = 0 ] && [ -n "${FUZZ_BUILD:-}" ]; then
    FUZZ_BUILD=$FUZZ_BUILD run_tap tests/fuzz/run-fuzz.sh tests/fuzz/run-fuzz.sh \
        "${FUZZ_CHECK_SECONDS:-6}"
fi

for t in tests/functional/*.sh; do
    [ $unit_only = 0 ] && [ -x "$t" ] || continue
    run_tap "$t" "$t"
done

if [ $unit_only = 0 ]; then
    run_tap tests/check-format.sh tests/check-format.sh
    TEST_TIMEOUT=${QEMU_QTEST_TIMEOUT:-2400} run_tap tests/qemu-qtest/run.sh tests/qemu-qtest/run.sh
fi

if [ "$SANITIZE" = 1 ] && ls "$logdir"/asan* "$logdir"/ubsan* >/dev/null 2>&1; then
    echo "FAIL: sanitizer reports:"
    cat "$logdir"/asan* "$logdir"/ubsan* 2>/dev/null | head -n 200
    failed=$((failed + 1))
fi

echo
if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
