#!/bin/bash
# bench/boot's measurements, run where KVM is real (the lab, or a host with
# hardware KVM): the test guest booted BENCH_RUNS times by tern and by QEMU,
# alternating (odd runs tern first, even runs QEMU first), one VM at a time.
#
# For each boot: the time from the VMM's exec to TERN-GUEST-READY on its serial
# console, and at that moment the VMM's memory from /proc/PID/smaps: RSS, the
# resident part of the guest RAM mapping, and the difference (the VMM's own
# memory). Then the VMM is killed.
#
# Both VMMs get the same kernel, initramfs, command line, -m 256 -smp 1, no
# devices beyond the board, -machine pc with KVM and direct -kernel boot. QEMU
# also gets -cpu host (tern passes KVM's supported CPUID through, the same
# thing) and -nodefaults; it boots through SeaBIOS and its linuxboot option ROM,
# which is how QEMU's -kernel works on -M pc: part of what is measured.
#
# Environment: TERN, QEMU (binaries; default from PATH), LAB_GUEST (vmlinuz,
# initrd.gz; default /guest), BENCH_LIB (default /bench: bench/lab),
# BENCH_RUNS (default 3); VAR=VALUE arguments set them too (the lab passes
# arguments, not the environment). Output: bench/lab/lib.sh's protocol.
set -u
for a in "$@"; do case $a in *=*) export "${a?}" ;; esac; done
. "${BENCH_LIB:-/bench}/lib.sh"

TERN=${TERN:-tern}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST=${LAB_GUEST:-/guest}
RUNS=${BENCH_RUNS:-3}
MEM=256
APPEND="console=ttyS0 loglevel=4 panic=-1"

cleanup() {
    for d in /tmp/vm-boot-*; do [ -d "$d" ] && bvm_stop "${d#/tmp/vm-}"; done
}
trap cleanup EXIT

vmm_cmd() {
    case $1 in
        tern) echo "$TERN" -machine pc -enable-kvm -m $MEM -smp 1 -nographic -serial stdio \
                   -no-reboot ;;
        qemu) echo "$QEMU" -machine pc,accel=kvm -cpu host -m $MEM -smp 1 -nodefaults \
                   -nographic -serial stdio -no-reboot ;;
    esac
}

bench_common_info
bench_info boot_config "-m $MEM -smp 1, -machine pc + KVM, -kernel/-initrd direct boot, no NIC"
bench_info tern_cmdline "$(vmm_cmd tern) -kernel vmlinuz -initrd initrd.gz -append '$APPEND'"
bench_info qemu_cmdline "$(vmm_cmd qemu) -kernel vmlinuz -initrd initrd.gz -append '$APPEND'"
bench_metric boot_ms lower "exec to guest ready (ms)"
bench_metric overhead_mib lower "VMM memory beyond guest RAM (MiB RSS)"
bench_metric anon_mib lower "VMM anonymous memory beyond guest RAM (MiB)"
bench_metric ram_mib lower "guest RAM resident (MiB)"
bench_metric rss_mib lower "VMM RSS in all (MiB)"

failed=0
for run in $(seq 1 "$RUNS"); do
    if [ $((run % 2)) = 1 ]; then order="tern qemu"; else order="qemu tern"; fi
    for vmm in $order; do
        name=boot-$vmm-$run
        # shellcheck disable=SC2046 # the command line is words on purpose
        bvm_start "$name" $(vmm_cmd $vmm) -kernel "$GUEST/vmlinuz" \
            -initrd "$GUEST/initrd.gz" -append "$APPEND"
        if ms=$(bvm_wait_ready "$name" 300) &&
           mem=$(bvm_memory "$(bvm_pid "$name")" $MEM); then
            read -r rss ram vma anon ram_anon <<< "$mem"
            over=$(awk -v a="$rss" -v b="$ram" 'BEGIN { printf "%.1f", (a - b) / 1024 }')
            bench_result $vmm boot_ms "$ms"
            bench_result $vmm overhead_mib "$over"
            bench_result $vmm anon_mib "$(awk -v a="$anon" -v b="$ram_anon" \
                'BEGIN { printf "%.1f", (a - b) / 1024 }')"
            bench_info "ram_vma_excess_$vmm" "$((vma - MEM * 1024))"
            bench_result $vmm ram_mib "$(awk -v a="$ram" 'BEGIN { printf "%.1f", a / 1024 }')"
            bench_result $vmm rss_mib "$(awk -v a="$rss" 'BEGIN { printf "%.1f", a / 1024 }')"
            bench_diag "run $run $vmm: ready after $ms ms; RSS $rss KiB, guest RAM" \
                "resident $ram KiB (mapping $vma KiB), VMM $over MiB"
        else
            failed=$((failed + 1))
            bench_diag "run $run $vmm: no TERN-GUEST-READY within 300 s"
            tail -n 20 "/tmp/vm-$name/console" "/tmp/vm-$name/stderr" | sed 's/^/#   /'
        fi
        bvm_stop "$name"
    done
done
[ $failed = 0 ]
