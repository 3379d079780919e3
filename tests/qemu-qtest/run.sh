#!/bin/bash
# run.sh: QEMU 7.2's own qtest programs (Debian 12's qemu source package, built by
# build.sh into a cache under the build directory) run against build/tern. Prints TAP,
# one line per test path: the paths tern claims must pass; every other path the programs
# list is reported as "# SKIP not applicable: REASON", never dropped silently.
#
# Environment: TERN_BINARY (default build/tern), QEMU_QTEST_DIR (the cache, default
# build/qemu-qtest), QEMU_QTEST_PATH_TIMEOUT (seconds per path, default 60),
# QEMU_QTEST_ONLY (run only paths containing this string).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TERN=${TERN_BINARY:-$PWD/$BUILD/tern}
CACHE=${QEMU_QTEST_DIR:-$PWD/build/qemu-qtest}
PATH_TIMEOUT=${QEMU_QTEST_PATH_TIMEOUT:-60}
ONLY=${QEMU_QTEST_ONLY:-}

if [ ! -x "$TERN" ]; then
    echo "1..0 # SKIP no tern binary at $TERN (run make first)"
    exit 0
fi
start=$(date +%s)
tests/qemu-qtest/build.sh "$CACHE"
rc=$?
if [ $rc -eq 2 ]; then
    echo "1..0 # SKIP QEMU's qemu source package cannot be fetched or built here (no network?)"
    exit 0
elif [ $rc -ne 0 ]; then
    echo "1..1"
    echo "not ok 1 - building QEMU's qtest programs (see $CACHE/build.log)"
    exit 1
fi
echo "# qemu-qtest: programs ready after $(($(date +%s) - start)) s"
QTEST_DIR=$CACHE/qemu/build/tests/qtest

# libqtest takes the target architecture from the binary's name (*-system-ARCH).
mkdir -p "$CACHE/bin"
ln -sfn "$(readlink -f "$TERN")" "$CACHE/bin/tern-system-x86_64"
export QTEST_QEMU_BINARY=$CACHE/bin/tern-system-x86_64
# Each program's sockets and scratch files in a directory of this run's own.
export TMPDIR=$(mktemp -d /tmp/tern-qemu-qtest.XXXXXX)
trap 'rm -rf "$TMPDIR"' EXIT

# The paths tern claims (issue 13), by program. qmp-cmd-test claims every path it lists:
# one per query-* command tern declares, which each must answer without error.
VNET=/x86_64/pc/i440FX-pcihost/pci-bus-pc/pci-bus/virtio-net-pci
CLAIMED="
qos-test $VNET/virtio-net/virtio-net-tests/basic
qos-test $VNET/virtio-net/virtio-net-tests/rx_stop_cont
qos-test $VNET/virtio-net/virtio-net-tests/announce-self
qos-test $VNET/virtio-net/virtio-net-tests/large_tx/uint_max
qos-test $VNET/virtio-net/virtio-net-tests/large_tx/net_bufsize
qos-test $VNET/virtio-net-pci-tests/hotplug
qmp-test /x86_64/qmp/protocol
qmp-test /x86_64/qmp/missing-any-arg
qmp-cmd-test *
i440fx-test /x86_64/i440fx/defaults
i440fx-test /x86_64/i440fx/pam
fw_cfg-test /x86_64/fw_cfg/signature
fw_cfg-test /x86_64/fw_cfg/id
fw_cfg-test /x86_64/fw_cfg/uuid
fw_cfg-test /x86_64/fw_cfg/ram_size
fw_cfg-test /x86_64/fw_cfg/nographic
fw_cfg-test /x86_64/fw_cfg/nb_cpus
fw_cfg-test /x86_64/fw_cfg/max_cpus
fw_cfg-test /x86_64/fw_cfg/boot_menu
fw_cfg-test /x86_64/fw_cfg/reboot_timeout
fw_cfg-test /x86_64/fw_cfg/no_reboot_timeout
fw_cfg-test /x86_64/fw_cfg/splash_time
fw_cfg-test /x86_64/fw_cfg/numa
device-plug-test /x86_64/device-plug/pci-unplug-request
device-plug-test /x86_64/device-plug/pci-unplug-json-request
"

# Claimed paths that fail today, with the reason (each is TAP "not ok ... # TODO": shown,
# not counted as a failure). A path here that passes is reported so it can be removed.
KNOWN_FAILING="
/x86_64/qmp/missing-any-arg tern has no qom-set
/x86_64/qmp/object-add-failure-modes tern has no object-add
"

known_failing() {
    local p q
    while read -r p q; do
        [ -n "$p" ] && [ "$p" = "$1" ] && { echo "$q"; return 0; }
    done <<<"$KNOWN_FAILING"
    return 1
}

# Why a listed path is not claimed: the first matching pattern gives the reason.
not_applicable() {
    case "$1" in
    *q35*) echo "tern has only the pc (i440FX) machine, no q35" ;;
    */firmware/*) echo "tern loads no firmware images (-bios and pflash are refused)" ;;
    */qmp/oob) echo "tern has no out-of-band QMP execution (docs/qtest.md says why)" ;;
    */qmp/preconfig) echo "tern has no --preconfig" ;;
    */qmp/object-add-failure-modes) echo "tern has no object-add (no user-creatable objects)" ;;
    *) echo "not among the paths tern claims (issue 13)" ;;
    esac
}

claimed() {
    local prog=$1 path=$2 p q
    while read -r p q; do
        [ "$p" = "$prog" ] || continue
        [ "$q" = "*" ] || [ "$q" = "$path" ] && return 0
    done <<<"$CLAIMED"
    return 1
}

n=0

for prog in qos-test qmp-test qmp-cmd-test i440fx-test fw_cfg-test device-plug-test; do
    # Listing needs a working binary (qos-test asks it for its machines and types first).
    list=$(timeout "$PATH_TIMEOUT" "$QTEST_DIR/$prog" -l 2>"$TMPDIR/list.err" | grep '^/')
    if [ -z "$list" ]; then
        # Then each claimed path runs (and fails) on its own, reported one by one.
        echo "# qemu-qtest: $prog cannot list its paths against tern:"
        grep -v '^# ' "$TMPDIR/list.err" | tail -n 3 | sed 's/^/#   /'
        list=$(while read -r p q; do [ "$p" = "$prog" ] && echo "$q"; done <<<"$CLAIMED")
    fi
    # A claimed path the program does not list (tern lacks what it needs) is a failure.
    while read -r p q; do
        [ "$p" = "$prog" ] && [ "$q" != "*" ] || continue
        grep -qxF "$q" <<<"$list" && continue
        n=$((n + 1))
        echo "not ok $n - $prog $q: not listed by $prog against tern"
    done <<<"$CLAIMED"
    while read -r path; do
        [ -n "$ONLY" ] && [[ "$path" != *"$ONLY"* ]] && continue
        n=$((n + 1))
        if ! claimed "$prog" "$path"; then
            echo "ok $n - $prog $path # SKIP not applicable: $(not_applicable "$path")"
            continue
        fi
        todo=$(known_failing "$path")
        # A path known to fail (some hang until the timeout) gets less time.
        limit=$PATH_TIMEOUT
        [ -n "$todo" ] && limit=15
        t0=$(date +%s%N)
        timeout --kill-after=5 "$limit" "$QTEST_DIR/$prog" --tap -p "$path" \
            >"$TMPDIR/out" 2>&1
        rc=$?
        ms=$((($(date +%s%N) - t0) / 1000000))
        if [ $rc -eq 0 ] && grep -q "^ok " "$TMPDIR/out" && ! grep -q "^not ok" "$TMPDIR/out"; then
            echo "ok $n - $prog $path (${ms} ms)${todo:+ (passes now: drop it from KNOWN_FAILING)}"
        elif [ -n "$todo" ]; then
            echo "not ok $n - $prog $path # TODO $todo"
        else
            echo "not ok $n - $prog $path (exit $rc)"
            grep -v '^# \(random seed\|Start of\|End of\)' "$TMPDIR/out" | tail -n 6 |
                cut -c1-300 | sed 's/^/#   /'
        fi
    done <<<"$list"
done
echo "1..$n"
echo "# qemu-qtest: total $(($(date +%s) - start)) s"
