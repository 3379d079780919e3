#!/bin/bash
# make demo: a VM live-migrates from host ha to host hb and the network follows it.
#
#   make demo                 tern, guest announce (virtio-net VIRTIO_NET_S_ANNOUNCE)
#   make demo NIC=rarp        tern, guest_announce=off: tern's RARP fallback
#   make demo COMPARE=qemu    the same run with QEMU 7.2 too, both in one chart
#
# On a fresh Debian 12 machine as root it does all the set-up itself: the Debian
# packages (apt-get), tern's build, the test guest, and the lab when this host's
# /dev/kvm cannot boot Linux (tests/lab/detect.sh). Then it boots the test guest
# (eth0, eth0.10 on VLAN 10, macvlan0) under tern on host ha, pings it from the
# switch side, migrates it live to hb with a progress line, and prints one
# timeline in ms after the destination's RESUME; the same timeline goes to an SVG
# chart in demo-out/. docs/demo.md says what every line means.
#
# Exit status 0 only when tern's migration completed and the switch moved every
# (MAC, VLAN) of the guest to hb's port. Files in demo-out/: timeline-*.svg,
# timeline-*.txt, records-*.txt (the raw records; re-render with
# scripts/demo/render.sh), lab-console-*.log.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/guest/lib.sh

NIC=${NIC:-guest}
COMPARE=${COMPARE:-}
case $NIC in guest|rarp) ;; *) die "NIC must be guest (the default) or rarp, not '$NIC'" ;; esac
case $COMPARE in ''|qemu) ;; *) die "COMPARE must be qemu or empty, not '$COMPARE'" ;; esac
[ "$(id -u)" = 0 ] || die "make demo needs root (network namespaces, taps, bridges, apt-get): run it as root"

OUT=$PWD/demo-out
TAG=tern-$NIC
[ -n "$COMPARE" ] && TAG=tern-vs-qemu-$NIC
T_START=$EPOCHREALTIME
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

# relay: the scenario's lines to the user. "@progress LINE" is the migration's
# progress: redrawn in place on a terminal, a plain line otherwise. Lines from
# the lab's own bookkeeping ("# lab: ...") are shown as "lab: ...".
relay() {
    local line open=0 cols=100
    [ -t 1 ] && cols=$(tput cols 2>/dev/null || echo 100)
    while IFS= read -r line; do
        case $line in
            '@progress '*)
                line="        ${line#@progress }"
                if [ -t 1 ]; then
                    printf '\r%s\033[K' "${line:0:cols-1}"
                    open=1
                else
                    printf '%s\n' "$line"
                fi
                continue ;;
            '# lab: '*) line="        lab: ${line#\# lab: }" ;;
        esac
        [ $open = 1 ] && { printf '\n'; open=0; }
        printf '%s\n' "$line"
    done
    [ $open = 1 ] && printf '\n'
    return 0
}

echo "== make demo: $([ "$NIC" = guest ] && echo 'guest announce' || echo 'guest_announce=off (RARP fallback)')${COMPARE:+, compared with QEMU 7.2}"
echo "== set-up: packages, build, test guest"
ensure_pkgs gcc make libc6-dev pkg-config socat iproute2 tcpdump
[ -n "$COMPARE" ] && ensure_pkgs qemu-system-x86
make -s all || die "the build failed"
mode=$(tests/lab/detect.sh 2>/tmp/tern-demo-detect.$$)
echo "   KVM: $mode ($(cat /tmp/tern-demo-detect.$$))"
rm -f /tmp/tern-demo-detect.$$
mkdir -p "$OUT"
REC=$OUT/records-$TAG.txt
rm -f "$REC"
VMMS="tern${COMPARE:+ $COMPARE}"
T_RUN=$EPOCHREALTIME
case $mode in
lab)
    echo "== starting the lab (a VM whose nested KVM is real: tests/lab/README.md); the demo runs inside it"
    tests/lab/run-lab.sh --timeout 420 --log "$OUT/lab-console-$TAG.log" --out "$REC" \
        --add "$PWD/build/tern:/usr/bin/tern" --add "$PWD/build/tern-migrate:/usr/bin/tern-migrate" \
        scripts/demo/lab.sh "$NIC" $VMMS | relay
    rc=${PIPESTATUS[0]}
    ;;
direct)
    ensure_pkgs busybox-static cpio
    tests/guest/build-guest.sh build/guest >&2 || die "building the test guest failed"
    TERN=$PWD/build/tern TERN_MIGRATE=$PWD/build/tern-migrate LAB_GUEST=$PWD/build/guest \
        LAB_TESTS=$PWD/tests/lab/tests DEMO_REC=$REC scripts/demo/lab.sh "$NIC" $VMMS | relay
    rc=${PIPESTATUS[0]}
    ;;
*) die "tests/lab/detect.sh said '$mode'" ;;
esac
T_END=$EPOCHREALTIME

if [ ! -s "$REC" ]; then
    echo "demo: FAILED: no records from the run (exit status $rc)"
    [ "$mode" = lab ] && echo "demo: the lab's console is in $OUT/lab-console-$TAG.log"
    exit 1
fi
scripts/demo/render.sh "$REC" "$OUT/timeline-$TAG" || rc=1
echo
echo "chart: $OUT/timeline-$TAG.svg   (text: $OUT/timeline-$TAG.txt, raw records: $REC)"
echo "time: $(secs_since "$T_START") s in all, of which the $([ "$mode" = lab ] && echo 'lab run' || echo 'run') $(awk -v a="$T_RUN" -v b="$T_END" 'BEGIN { printf "%.0f", b - a }') s"
if [ "$rc" = 0 ]; then
    echo "demo: ok: the switch moved every (MAC, VLAN) of the guest to hb"
else
    echo "demo: FAILED (exit status $rc): see the lines above$([ "$mode" = lab ] && echo "; lab console: $OUT/lab-console-$TAG.log")"
fi
exit "$rc"
