#!/bin/bash
# build.sh DIR: fetch Debian's qemu source package into DIR and build only the QEMU qtest
# programs tern is checked against (tests/qemu-qtest/run.sh). The result is cached: a
# second call finds DIR/qemu/build/tests/qtest/* up to date and returns at once.
#
# The deb-src entry is derived from this machine's apt sources and lives in a private apt
# configuration under DIR, so the host's apt setup is not changed. Exit status 2 means
# "cannot be had here" (no network, no matching source): the caller reports a SKIP.
set -u
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
log=$dir/build.log
PROGRAMS="qos-test qmp-test qmp-cmd-test i440fx-test fw_cfg-test device-plug-test"

say() { echo "# qemu-qtest: $*" >&2; }

# Print deb-src stanzas (deb822) for every "deb" source this machine uses.
derive_deb_src() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?/deb-src \1/p' "$f"
    done >"$dir/apt/sources.list"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # A stanza is kept if its Types include deb; its Types line becomes deb-src.
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             /(^|\n)Types:[^\n]*deb([ \t\n]|$)/ && !/(^|\n)Enabled:[ \t]*no/ {
                 sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f"
    done >"$dir/apt/sources.list.d/derived.sources"
}

fetch_source() {
    [ -d "$dir/qemu" ] && return 0
    mkdir -p "$dir/apt/sources.list.d" "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
    derive_deb_src
    local opts=(-o "Dir::Etc::SourceList=$dir/apt/sources.list"
        -o "Dir::Etc::SourceParts=$dir/apt/sources.list.d"
        -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
        -o "APT::Sandbox::User=root" -q)
    say "fetching Debian's qemu source package"
    if ! apt-get "${opts[@]}" update >>"$log" 2>&1; then
        say "apt-get update failed (no network?); see $log"
        return 2
    fi
    rm -rf "$dir/src" && mkdir -p "$dir/src"
    if ! (cd "$dir/src" && apt-get "${opts[@]}" source qemu) >>"$log" 2>&1; then
        say "apt-get source qemu failed; see $log"
        return 2
    fi
    local top
    top=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -n 1)
    [ -n "$top" ] || { say "no source tree unpacked"; return 2; }
    mv "$top" "$dir/qemu"
}

install_build_deps() {
    local need=() p
    for p in dpkg-dev ninja-build meson flex bison pkg-config libglib2.0-dev libpixman-1-dev \
        zlib1g-dev libfdt-dev python3-venv gcc make; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    say "installing build dependencies: ${need[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>"$log" 2>&1; then
        apt-get update -q >>"$log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>"$log" 2>&1 ||
            { say "cannot install ${need[*]}; see $log"; return 2; }
    fi
}

configure_qemu() {
    [ -f "$dir/qemu/build/build.ninja" ] && return 0
    say "configuring QEMU (x86_64-softmmu, only what the qtest programs need)"
    mkdir -p "$dir/qemu/build"
    # Everything optional is off: the test programs need libqos, qapi and glib, nothing else.
    (cd "$dir/qemu/build" && PATH=/usr/bin:$PATH ../configure --target-list=x86_64-softmmu \
        --meson=/usr/bin/meson \
        --without-default-features --disable-docs --disable-tools \
        --disable-werror --disable-install-blobs) >>"$log" 2>&1 ||
        { rm -rf "$dir/qemu/build"; say "configure failed; see $log"; return 1; }
}

build_programs() {
    local targets=() p
    for p in $PROGRAMS; do targets+=("tests/qtest/$p"); done
    say "building ${targets[*]} (cached in $dir/qemu/build)"
    ninja -C "$dir/qemu/build" -j "${JOBS:-2}" "${targets[@]}" >>"$log" 2>&1 ||
        { say "build failed; see $log"; return 1; }
}

install_build_deps || exit $?
fetch_source || exit $?
configure_qemu || exit $?
build_programs || exit $?
