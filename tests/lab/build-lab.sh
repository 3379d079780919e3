#!/bin/sh
# Build the lab initramfs: everything the lab VM needs to give tern a real
# /dev/kvm (nested KVM inside a TCG-emulated AMD CPU) and real networking.
#
#   tests/lab/build-lab.sh [-o OUTDIR] [-g GUESTDIR] [--no-qemu] [EXTRA...]
#
#   -o OUTDIR     output directory (default build/lab)
#   -g GUESTDIR   test guest directory (default build/guest; built if needed)
#   --no-qemu     leave out qemu-system-x86_64 and its firmware. By default
#                 the lab has them: QEMU + KVM is the reference VMM that
#                 tests/lab/tests/guest-qemu.sh and side-by-side benchmarks use
#                 (costs ~12 MB compressed, ~0.5 s of lab boot)
#   EXTRA...      more host executables (e.g. ./tern), each copied at the same
#                 absolute path with the shared libraries `ldd` names. Files
#                 that change often are better passed per run:
#                 run-lab.sh --add FILE (no rebuild of this image).
#
# Produces OUTDIR/vmlinuz (the Debian cloud kernel, same as the guest's) and
# OUTDIR/lab-initrd.gz containing:
#   /init                       tests/lab/init
#   /bin/busybox + applets, /bin/bash (= /bin/sh), iproute2 ip + bridge,
#   tcpdump, socat (QMP over unix sockets), each with its shared libraries
#   /usr/bin/kvm-probe          tests/lab/kvm-probe.c, static
#   /usr/bin/nbench             tests/guest/nbench.c, static (bench/net's host side)
#   /lib/modules/..., /etc/lab-modules.order   kvm, kvm-amd, bridge, 8021q, ...
#   /guest/vmlinuz, /guest/initrd.gz           the test guest (tests/guest)
#   /tests/                     tests/lab/tests/* (scripts + lib.sh)
#   /usr/bin/qemu-system-x86_64 + firmware     unless --no-qemu
# Rebuilding takes a few seconds; downloads are cached by build-guest.sh.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest/lib.sh"

OUT=build/lab
GUEST=build/guest
WITH_QEMU=1
while [ $# -gt 0 ]; do
    case $1 in
        -o) OUT=$2; shift 2 ;;
        -g) GUEST=$2; shift 2 ;;
        --no-qemu) WITH_QEMU=0; shift ;;
        --with-qemu) WITH_QEMU=1; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1" ;;
        *) break ;;
    esac
done

# Modules the lab loads, in addition to their dependencies.
LAB_MODULES="kvm_amd kvm irqbypass bridge stp llc veth 8021q garp mrp macvlan tun vhost_net"

ensure_pkgs busybox-static cpio kmod gcc libc6-dev iproute2 tcpdump bash gzip socat
[ $WITH_QEMU = 1 ] && ensure_pkgs qemu-system-x86

"$HERE/../guest/build-guest.sh" "$GUEST"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
GUEST=$(cd "$GUEST" && pwd)
KROOT=$GUEST/cache/kernel
KVER=$(cat "$GUEST/kernel-version")

STAGE=$OUT/stage.$$        # per process: parallel builds do not collide
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$STAGE"
mkdir -p "$STAGE/bin" "$STAGE/sbin" "$STAGE/usr/bin" "$STAGE/usr/sbin" "$STAGE/etc" \
         "$STAGE/proc" "$STAGE/sys" "$STAGE/dev" "$STAGE/tmp" "$STAGE/run" "$STAGE/root" \
         "$STAGE/lib/modules" "$STAGE/guest" "$STAGE/tests" "$STAGE/lab"
mknod -m 600 "$STAGE/dev/console" c 5 1

# bash, iproute2 and tcpdump from the host, busybox from the cached .deb.
# /bin/sh is bash: Debian's busybox-static shell runs its own applets before
# anything in PATH (FEATURE_SH_STANDALONE), so under it `ip` would be busybox's
# limited ip, not iproute2's. Applet links are made only for names that no
# real program has.
copy_with_libs "$STAGE" /bin/bash /usr/sbin/ip /usr/sbin/bridge "$(command -v tcpdump)" /usr/bin/socat
ln -s bash "$STAGE/bin/sh"
cp "$GUEST/cache/busybox/bin/busybox" "$STAGE/bin/busybox"
for applet in $("$STAGE/bin/busybox" --list); do
    for d in bin sbin usr/bin usr/sbin; do
        [ -e "$STAGE/$d/$applet" ] || [ -L "$STAGE/$d/$applet" ] && continue 2
    done
    ln -s busybox "$STAGE/bin/$applet"
done
# tcpdump drops privileges to this user by default; give it one (tests can
# also pass -Z root).
printf 'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:104:110::/nonexistent:/bin/false\n' > "$STAGE/etc/passwd"
printf 'root:x:0:\ntcpdump:x:110:\n' > "$STAGE/etc/group"
mkdir -p "$STAGE/etc/iproute2"
[ -d /etc/iproute2 ] && cp -r /etc/iproute2/. "$STAGE/etc/iproute2/"

gcc -O2 -Wall -static -s -o "$STAGE/usr/bin/kvm-probe" "$HERE/kvm-probe.c"
gcc -O2 -Wall -static -s -o "$STAGE/usr/bin/nbench" "$HERE/../guest/nbench.c"

# shellcheck disable=SC2086
stage_modules "$STAGE" "$KROOT" "$KVER" etc/lab-modules.order $LAB_MODULES

cp "$GUEST/vmlinuz" "$GUEST/initrd.gz" "$STAGE/guest/"
cp -r "$HERE/tests/." "$STAGE/tests/"
chmod +x "$STAGE/tests/"*.sh

if [ $WITH_QEMU = 1 ]; then
    copy_with_libs "$STAGE" /usr/bin/qemu-system-x86_64
    # Firmware for -M pc/q35 with -kernel: SeaBIOS, the Linux boot option
    # ROMs, and the virtio-net option ROM that virtio-net-pci loads unless
    # romfile= is empty. cp -L resolves Debian's symlinks into ipxe/seabios.
    mkdir -p "$STAGE/usr/share/qemu" "$STAGE/usr/share/seabios"
    cp -L /usr/share/seabios/bios-256k.bin /usr/share/seabios/bios.bin "$STAGE/usr/share/seabios/" 2>/dev/null || true
    for f in bios-256k.bin bios.bin linuxboot.bin linuxboot_dma.bin kvmvapic.bin pvh.bin \
             multiboot.bin multiboot_dma.bin efi-virtio.rom pxe-virtio.rom; do
        [ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$STAGE/usr/share/qemu/"
    done
fi

for x in "$@"; do
    copy_with_libs "$STAGE" "$(cd "$(dirname "$x")" && pwd)/$(basename "$x")"
done

cp "$HERE/init" "$STAGE/init"
chmod 755 "$STAGE/init"

# Outputs replaced atomically (rename), for parallel readers and builders.
mk_cpio_gz "$STAGE" "$OUT/lab-initrd.gz.$$"
cp "$GUEST/vmlinuz" "$OUT/vmlinuz.$$"
mv "$OUT/vmlinuz.$$" "$OUT/vmlinuz"
echo "$KVER" > "$OUT/kernel-version"
# What run-lab.sh needs to rebuild the same image when an input changed.
{ [ $WITH_QEMU = 1 ] || echo --no-qemu; for x in "$@"; do
      echo "$(cd "$(dirname "$x")" && pwd)/$(basename "$x")"; done; } > "$OUT/build-args"
mv "$OUT/lab-initrd.gz.$$" "$OUT/lab-initrd.gz"
msg "lab: $OUT/vmlinuz $OUT/lab-initrd.gz ($(du -k "$OUT/lab-initrd.gz" | cut -f1) KiB)"
