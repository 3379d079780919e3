#!/bin/sh
# need-clang.sh: make sure clang can build libFuzzer targets with ASan and UBSan.
# Debian's clang package brings libFuzzer (its compiler runtime); as root we install it
# with apt-get when it is missing, as ./configure does for the rest; otherwise we stop
# with one line naming the packages. Only the fuzz build needs this, never tern itself.
set -e
probe() {
    dir=$(mktemp -d)
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$dir/p.c"
    clang -fsanitize=fuzzer,address,undefined -o "$dir/p" "$dir/p.c" >/dev/null 2>&1
    rc=$?
    rm -rf "$dir"
    return $rc
}
command -v clang >/dev/null 2>&1 && probe && exit 0
PKGS="clang libclang-rt-dev"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "need-clang: installing $PKGS (for the fuzz targets)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $PKGS >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $PKGS >/dev/null; }
    probe && exit 0
fi
echo "need-clang: the fuzz targets need clang with libFuzzer: install the Debian package(s): $PKGS" >&2
exit 1
