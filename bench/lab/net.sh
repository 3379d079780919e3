#!/bin/bash
# bench/net's measurements, run where KVM is real (the lab, or a host with
# hardware KVM): virtio-net throughput between the test guest and its host
# through a tap device, tern and QEMU (vhost=off) side by side.
#
# Each VMM runs in its own network namespace (bn-tern, bn-qemu) with tap0
# (10.0.0.1/24) as its backend; the guest's eth0 is 10.0.0.2/24. Both guests
# boot first; then BENCH_RUNS rounds, alternating which VMM goes first, and
# while one is measured the other is paused (QMP stop), so they never compete
# for the CPU. A round is four transfers of BENCH_NET_SECONDS each with
# nbench (tests/guest/nbench.c: in the guest /bin/nbench, here $NBENCH):
#   guest->host and host->guest UDP, 18-byte payloads (64-byte frames): pps
#   guest->host and host->guest TCP bulk, one connection: Gbit/s
# The receiver's count is the result (what got through, not what was offered).
#
# Environment: TERN, QEMU, NBENCH (binaries), LAB_GUEST (default /guest),
# LAB_TESTS (default /tests: tests/lab/tests, for qmp), BENCH_LIB (default
# /bench), BENCH_RUNS (default 3), BENCH_NET_SECONDS (default 3),
# BENCH_NET_QEMU_OFFLOADS (on: QEMU's defaults; off: QEMU without checksum
# and segmentation offloads, for reference). VAR=VALUE arguments set them too.
# Needs root, iproute2, socat. Output: bench/lab/lib.sh's protocol.
set -u
for a in "$@"; do case $a in *=*) export "${a?}" ;; esac; done
. "${LAB_TESTS:-/tests}/lib.sh"
. "${BENCH_LIB:-/bench}/lib.sh"

TERN=${TERN:-tern}
QEMU=${QEMU:-qemu-system-x86_64}
NBENCH=${NBENCH:-nbench}
GUEST=${LAB_GUEST:-/guest}
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_NET_SECONDS:-3}
OFFLOADS=${BENCH_NET_QEMU_OFFLOADS:-on}
MAC=52:54:00:12:34:56
APPEND="console=ttyS0 loglevel=4 panic=-1 tern.ip=10.0.0.2/24 tern.echo=0"
W=/tmp/bench-net
QEMU_NIC=
if [ "$OFFLOADS" = off ]; then
    for p in csum guest_csum gso guest_tso4 guest_tso6 guest_ecn guest_ufo host_tso4 host_tso6 \
             host_ecn host_ufo; do
        QEMU_NIC="$QEMU_NIC,$p=off"
    done
fi

cleanup() {
    for vmm in tern qemu; do
        [ -d "/tmp/vm-net-$vmm" ] && bvm_stop "net-$vmm"
        ip netns del "bn-$vmm" 2>/dev/null
    done
}
trap cleanup EXIT
rm -rf "$W"
mkdir -p "$W"

vmm_cmd() {
    case $1 in
        tern) echo "$TERN" -machine pc -enable-kvm -m 256 -smp 1 -nographic -serial stdio \
                   -no-reboot -qmp "unix:$W/tern.qmp,server=on,wait=off" \
                   -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
                   -device "virtio-net-pci,netdev=n0,mac=$MAC" ;;
        qemu) echo "$QEMU" -machine pc,accel=kvm -cpu host -m 256 -smp 1 -nodefaults \
                   -nographic -serial stdio -no-reboot -qmp "unix:$W/qemu.qmp,server=on,wait=off" \
                   -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off \
                   -device "virtio-net-pci,netdev=n0,mac=$MAC,romfile=$QEMU_NIC" ;;
    esac
}

# The virtio-net features the guest negotiated, by name (the ones that matter here).
features() {
    local bits
    bits=$(bvm_cmd "net-$1" 'cat /sys/class/net/eth0/device/features' 30 | tr -d '\r' | head -n1)
    awk -v b="$bits" 'BEGIN {
        split("0 csum 1 guest_csum 7 guest_tso4 8 guest_tso6 10 guest_ufo 11 host_tso4 " \
              "12 host_tso6 14 host_ufo 15 mrg_rxbuf 17 ctrl_vq 21 guest_announce 22 mq", a, " ")
        for (i = 1; i < 24; i += 2) if (substr(b, a[i] + 1, 1) == "1") s = s " " a[i + 1]
        print substr(s, 2)
    }'
}

bench_common_info
bench_info net_config "-m 256 -smp 1, -machine pc + KVM, virtio-net-pci on a tap, MTU 1500," \
    "${SECS} s per transfer; QEMU vhost=off, offloads $OFFLOADS"
bench_info tern_cmdline "$(vmm_cmd tern) -kernel vmlinuz -initrd initrd.gz -append '$APPEND'"
bench_info qemu_cmdline "$(vmm_cmd qemu) -kernel vmlinuz -initrd initrd.gz -append '$APPEND'"
bench_metric g2h_kpps higher "guest→host UDP, 64-byte frames (kpps)"
bench_metric h2g_kpps higher "host→guest UDP, 64-byte frames (kpps)"
bench_metric g2h_gbps higher "guest→host TCP bulk (Gbit/s)"
bench_metric h2g_gbps higher "host→guest TCP bulk (Gbit/s)"

# --- boot both guests ---------------------------------------------------------
for vmm in tern qemu; do
    ns=bn-$vmm
    ip netns add $ns
    ip -n $ns link set lo up
    ip -n $ns tuntap add dev tap0 mode tap
    ip -n $ns addr add 10.0.0.1/24 dev tap0
    ip -n $ns link set tap0 up
    # shellcheck disable=SC2046 # the command line is words on purpose
    bvm_start "net-$vmm" ip netns exec $ns $(vmm_cmd $vmm) -kernel "$GUEST/vmlinuz" \
        -initrd "$GUEST/initrd.gz" -append "$APPEND"
    if ! ms=$(bvm_wait_ready "net-$vmm" 300); then
        bench_diag "$vmm: the guest did not boot"
        tail -n 20 "/tmp/vm-net-$vmm/console" "/tmp/vm-net-$vmm/stderr" | sed 's/^/#   /'
        exit 1
    fi
    if ! ip netns exec $ns ping -c 1 -W 10 10.0.0.2 > /dev/null; then
        bench_diag "$vmm: the guest does not answer ping on 10.0.0.2"
        exit 1
    fi
    f=$(features $vmm)
    bench_info "features_$vmm" "$f"
    bench_diag "$vmm: guest ready after $ms ms; virtio-net features: $f"
    qmp "$W/$vmm.qmp" '{"execute":"stop"}' > /dev/null || bench_diag "$vmm: QMP stop failed"
done

# field LINE KEY: KEY's value in an "NBENCH ... KEY=V ..." line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }

# Each transfer prints the receiver's NBENCH line, or nothing (and, on fd 3,
# what the two sides said instead).
exec 3>&1
g2h() { # VMM udp|tcp PORT
    local ns=bn-$1 out
    ip netns exec $ns "$NBENCH" "$2-recv" -t "$SECS" -w 30 "$3" > "$W/recv" 2> "$W/recv.err" &
    local rp=$!
    sleep 0.5
    out=$(bvm_cmd "net-$1" "nbench $2-send -t $((SECS + 2)) 10.0.0.1 $3" $((SECS + 60)))
    wait $rp
    grep NBENCH "$W/recv" ||
        sed 's/^/# /' <<< "$1 $2 guest->host: sender: $out; receiver: $(cat "$W/recv.err")" >&3
}
h2g() { # VMM udp|tcp PORT
    local ns=bn-$1 out
    bvm_send "net-$1" "nbench $2-recv -t $SECS -w 30 $3"
    sleep 1
    ip netns exec $ns "$NBENCH" "$2-send" -t $((SECS + 2)) 10.0.0.2 "$3" > "$W/send" 2>&1
    out=$(bvm_done "net-$1" 60)
    grep NBENCH <<< "$out" ||
        sed 's/^/# /' <<< "$1 $2 host->guest: receiver: $out; sender: $(cat "$W/send")" >&3
}

for run in $(seq 1 "$RUNS"); do
    if [ $((run % 2)) = 1 ]; then order="tern qemu"; else order="qemu tern"; fi
    for vmm in $order; do
        qmp "$W/$vmm.qmp" '{"execute":"cont"}' > /dev/null
        sleep 1
        l=$(g2h $vmm udp 5001); v=$(field "$l" pps)
        [ -n "$v" ] && bench_result $vmm g2h_kpps "$(awk -v v="$v" 'BEGIN { printf "%.2f", v / 1000 }')"
        a=$v
        l=$(h2g $vmm udp 5002); v=$(field "$l" pps)
        [ -n "$v" ] && bench_result $vmm h2g_kpps "$(awk -v v="$v" 'BEGIN { printf "%.2f", v / 1000 }')"
        b=$v
        l=$(g2h $vmm tcp 5003); v=$(field "$l" gbps)
        [ -n "$v" ] && bench_result $vmm g2h_gbps "$v"
        c=$v
        l=$(h2g $vmm tcp 5004); v=$(field "$l" gbps)
        [ -n "$v" ] && bench_result $vmm h2g_gbps "$v"
        bench_diag "run $run $vmm: UDP g2h ${a:-?} pps, h2g ${b:-?} pps;" \
            "TCP g2h ${c:-?} Gbit/s, h2g ${v:-?} Gbit/s"
        qmp "$W/$vmm.qmp" '{"execute":"stop"}' > /dev/null
    done
done
