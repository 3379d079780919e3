#!/bin/sh
# Where can tern's KVM tests run on this machine?
#
#   tests/lab/detect.sh      prints "direct" or "lab" on stdout, and a
#                            one-line reason on stderr; exit status 0
#
#   direct  /dev/kvm is a real hardware KVM (kvm_intel or kvm_amd loaded) that
#           this user can open: run tern and the guest right here.
#   lab     /dev/kvm is kvm_pvm (a software hypervisor that cannot boot an
#           unmodified Linux guest), or absent, or unusable: run the tests in
#           the lab VM (tests/lab/run-lab.sh), whose nested KVM is real.
# TERN_KVM_MODE=direct|lab overrides the detection.

case ${TERN_KVM_MODE:-} in
    direct|lab) echo "TERN_KVM_MODE=$TERN_KVM_MODE set in the environment" >&2
                echo "$TERN_KVM_MODE"; exit 0 ;;
esac

if [ -d /sys/module/kvm_pvm ]; then
    echo "/dev/kvm is kvm_pvm (PVM): it cannot boot an unmodified Linux guest" >&2
    echo lab; exit 0
fi
if [ ! -e /dev/kvm ]; then
    echo "no /dev/kvm" >&2
    echo lab; exit 0
fi
if [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
    echo "/dev/kvm exists but neither kvm_intel nor kvm_amd is loaded" >&2
    echo lab; exit 0
fi
# Usable: openable read-write by this user (a subshell, so no fd leaks).
if ! ( exec 3<>/dev/kvm ) 2>/dev/null; then
    echo "/dev/kvm cannot be opened read-write by $(id -un)" >&2
    echo lab; exit 0
fi
for m in kvm_intel kvm_amd; do
    [ -d /sys/module/$m ] && echo "/dev/kvm is hardware KVM ($m)" >&2
done
echo direct
