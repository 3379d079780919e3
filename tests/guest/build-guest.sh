#!/bin/sh
# Build tern's test guest: Debian's cloud kernel + a busybox initramfs.
#
#   tests/guest/build-guest.sh [OUTDIR]        (default build/guest)
#
# Produces OUTDIR/vmlinuz and OUTDIR/initrd.gz (gzip'd newc cpio). The .debs
# are fetched with `apt-get download` into OUTDIR/cache and reused, and the
# outputs are rebuilt only when an input changed, so a second run is instant.
# OUTDIR/cache/kernel/ keeps the unpacked kernel package with its modules and a
# modules.dep (tests/lab/build-lab.sh takes the lab kernel modules from there).
#
# The initramfs holds: /init (tests/guest/init: kernel-parameter driven network
# setup, echo service, serial command loop), busybox-static, iproute2's `ip`
# (busybox ip cannot make macvlans nor IPv6 nodad addresses) with its shared
# libraries, /bin/memdirty (tests/guest/memdirty.c, static), /bin/nbench
# (tests/guest/nbench.c, static: bench/net's load generator) and the modules
# virtio_pci, virtio_net, 8021q and macvlan with all their dependencies.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

OUT=${1:-build/guest}
CACHE=$OUT/cache
# Guest kernel modules, loaded by /init in dependency order.
GUEST_MODULES="virtio_pci virtio_net 8021q macvlan"

mkdir -p "$CACHE"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/cache

ensure_pkgs cpio kmod gcc libc6-dev iproute2 gzip

# --- downloads (cached) ------------------------------------------------------
KPKG=$(cloud_kernel_pkg)
KDEB=$(apt_download_cached "$KPKG" "$CACHE")
BBDEB=$(apt_download_cached busybox-static "$CACHE")

# --- up to date? -------------------------------------------------------------
if [ -f "$OUT/initrd.gz" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$CACHE/kernel/.from" ] &&
   [ -z "$(find "$HERE/init" "$HERE/memdirty.c" "$HERE/nbench.c" "$HERE/lib.sh" "$HERE/build-guest.sh" \
                "$KDEB" "$BBDEB" /usr/sbin/ip -newer "$OUT/initrd.gz" 2>/dev/null)" ]; then
    msg "guest up to date: $OUT/vmlinuz $OUT/initrd.gz"
    exit 0
fi

# --- unpack the kernel (once per .deb) and index its modules -----------------
KROOT=$CACHE/kernel
if [ "$(cat "$KROOT/.from" 2>/dev/null)" != "$(basename "$KDEB")" ]; then
    # Unpacked aside and renamed, so a parallel build never sees half a tree.
    rm -rf "$KROOT.$$"
    mkdir -p "$KROOT.$$"
    dpkg-deb -x "$KDEB" "$KROOT.$$"
    KVER=$(ls "$KROOT.$$/lib/modules")
    # The package ships no modules.dep: make one.
    depmod -b "$KROOT.$$" "$KVER"
    basename "$KDEB" > "$KROOT.$$/.from"
    rm -rf "$KROOT"
    mv "$KROOT.$$" "$KROOT"
fi
KVER=$(ls "$KROOT/lib/modules")
BBROOT=$CACHE/busybox
if [ "$(cat "$BBROOT/.from" 2>/dev/null)" != "$(basename "$BBDEB")" ]; then
    rm -rf "$BBROOT.$$"
    dpkg-deb -x "$BBDEB" "$BBROOT.$$"
    basename "$BBDEB" > "$BBROOT.$$/.from"
    rm -rf "$BBROOT"
    mv "$BBROOT.$$" "$BBROOT"
fi

# --- stage the initramfs -----------------------------------------------------
STAGE=$OUT/stage.$$        # per process: parallel builds do not collide
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$STAGE"
mkdir -p "$STAGE/bin" "$STAGE/sbin" "$STAGE/usr/bin" "$STAGE/usr/sbin" "$STAGE/etc" \
         "$STAGE/proc" "$STAGE/sys" "$STAGE/dev" "$STAGE/tmp" "$STAGE/run" "$STAGE/root" \
         "$STAGE/lib/modules"
# The kernel opens /dev/console before /init runs (devtmpfs is mounted later).
mknod -m 600 "$STAGE/dev/console" c 5 1

cp "$BBROOT/bin/busybox" "$STAGE/bin/busybox"
for applet in $("$STAGE/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$STAGE/bin/$applet"
done

# iproute2's ip, at /usr/sbin/ip (first in the guest's PATH), with its libs.
copy_with_libs "$STAGE" /usr/sbin/ip

gcc -O2 -Wall -static -s -o "$STAGE/bin/memdirty" "$HERE/memdirty.c"
gcc -O2 -Wall -static -s -o "$STAGE/bin/nbench" "$HERE/nbench.c"

# shellcheck disable=SC2086
stage_modules "$STAGE" "$KROOT" "$KVER" etc/modules.order $GUEST_MODULES

cp "$HERE/init" "$STAGE/init"
chmod 755 "$STAGE/init"

# Outputs replaced atomically (rename), for parallel readers and builders.
mk_cpio_gz "$STAGE" "$OUT/initrd.gz.$$"
cp "$KROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz.$$"
echo "$KVER" > "$OUT/kernel-version.$$"
mv "$OUT/vmlinuz.$$" "$OUT/vmlinuz"
mv "$OUT/kernel-version.$$" "$OUT/kernel-version"
mv "$OUT/initrd.gz.$$" "$OUT/initrd.gz"
rm -rf "$STAGE"

msg "guest: $OUT/vmlinuz ($(du -k "$OUT/vmlinuz" | cut -f1) KiB)" \
    "$OUT/initrd.gz ($(du -k "$OUT/initrd.gz" | cut -f1) KiB), kernel $KVER"
