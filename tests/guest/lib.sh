# shellcheck shell=sh
# Shared shell helpers for tests/guest and tests/lab (sourced, not executed).
# POSIX sh. Everything a script needs is installed here with apt-get, so the
# scripts work on a fresh Debian 12 machine as root: nothing installed by hand
# counts.

# msg/die: progress and errors go to stderr so stdout stays parseable.
msg() { printf '%s\n' "$*" >&2; }
APT_LOCK="-o DPkg::Lock::Timeout=600"
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_pkgs PKG...: install the Debian packages that are not installed yet.
# apt-get update only runs when an install fails (fresh machine, stale lists).
ensure_pkgs() {
    _missing=
    for _p in "$@"; do
        dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q 'ok installed' ||
            _missing="$_missing $_p"
    done
    [ -z "$_missing" ] && return 0
    [ "$(id -u)" = 0 ] || die "need root to install:$_missing"
    msg "installing:$_missing"
    export DEBIAN_FRONTEND=noninteractive
    # --no-install-recommends: qemu-system-x86 would otherwise pull a GUI stack.
    # The lock timeout waits for another apt/dpkg (a parallel build) to finish.
    if ! apt-get install -y -q $APT_LOCK --no-install-recommends $_missing >/dev/null 2>&1; then
        apt-get update -q $APT_LOCK >/dev/null 2>&1 || true
        apt-get install -y -q $APT_LOCK --no-install-recommends $_missing >/dev/null ||
            die "apt-get install failed:$_missing"
    fi
}

# apt_download_cached PKG DIR: leave PKG's .deb in DIR (downloaded once) and
# print its path. apt-get download fetches the candidate version.
apt_download_cached() {
    _pkg=$1 _dir=$2
    mkdir -p "$_dir"
    _deb=$(ls "$_dir/${_pkg}_"*.deb 2>/dev/null | head -n1)
    if [ -z "$_deb" ]; then
        ( cd "$_dir" && { apt-get download -q "$_pkg" >/dev/null 2>&1 ||
            { apt-get update -q $APT_LOCK >/dev/null 2>&1; apt-get download -q "$_pkg" >/dev/null; }; } ) ||
            die "apt-get download $_pkg failed"
        _deb=$(ls "$_dir/${_pkg}_"*.deb 2>/dev/null | head -n1)
    fi
    [ -n "$_deb" ] || die "no .deb for $_pkg in $_dir"
    printf '%s\n' "$_deb"
}

# cloud_kernel_pkg: the versioned kernel package that linux-image-cloud-amd64
# depends on (e.g. linux-image-6.1.0-56-cloud-amd64).
cloud_kernel_pkg() {
    _k=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
    if [ -z "$_k" ]; then
        apt-get update -q $APT_LOCK >/dev/null 2>&1 || true
        _k=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
    fi
    [ -n "$_k" ] || die "cannot resolve linux-image-cloud-amd64"
    printf '%s\n' "$_k"
}

# mod_closure MODROOT KVER MOD...: print the .ko paths (relative to
# MODROOT/lib/modules/KVER) needed to load MODs, dependencies first, each once.
# Modules built into the kernel (modules.builtin) print nothing. Needs the
# modules.dep that `depmod -b MODROOT KVER` writes.
mod_closure() {
    _root=$1/lib/modules/$2; shift 2
    awk -v want="$*" -v builtin="$_root/modules.builtin" '
        function norm(s) { gsub(/-/, "_", s); return s }
        function base(p,  n, a) { n = split(p, a, "/"); p = a[n]; sub(/\.ko(\.[a-z]+)?$/, "", p); return norm(p) }
        BEGIN {
            while ((getline l < builtin) > 0) bi[base(l)] = 1
        }
        {   sub(/:$/, "", $1); path[base($1)] = $1
            deps[base($1)] = ""
            for (i = NF; i >= 2; i--) deps[base($1)] = deps[base($1)] " " $i
        }
        function emit(m,  n, a, i) {
            if (m in done) return
            done[m] = 1
            # modules.dep lists the full transitive closure; loading it in
            # reverse order satisfies every dependency.
            n = split(deps[m], a, " ")
            for (i = 1; i <= n; i++) if (!(base(a[i]) in done)) { done[base(a[i])] = 1; print a[i] }
            print path[m]
        }
        END {
            n = split(want, w, " ")
            for (i = 1; i <= n; i++) {
                m = norm(w[i])
                if (m in bi) continue
                if (!(m in path)) { print "unknown module: " w[i] > "/dev/stderr"; exit 1 }
                emit(m)
            }
        }' "$_root/modules.dep"
}

# stage_modules STAGE MODROOT KVER ORDER MOD...: copy MODs and their dependencies
# into STAGE/lib/modules (same relative paths) and list them, load order, in
# STAGE/ORDER for the initramfs's /init to insmod.
stage_modules() {
    _stage=$1 _mroot=$2 _kver=$3 _order=$4; shift 4
    : > "$_stage/$_order"
    for _ko in $(mod_closure "$_mroot" "$_kver" "$@"); do
        mkdir -p "$_stage/lib/modules/$(dirname "$_ko")"
        cp "$_mroot/lib/modules/$_kver/$_ko" "$_stage/lib/modules/$_ko"
        echo "$_ko" >> "$_stage/$_order"
    done
}

# copy_with_libs DESTROOT FILE...: copy each executable into DESTROOT at the
# same absolute path, with every shared library `ldd` names (and the dynamic
# loader), also at the same paths. Static binaries copy alone.
copy_with_libs() {
    _dest=$1; shift
    for _f in "$@"; do
        [ -e "$_f" ] || die "no such file: $_f"
        _abs=$(readlink -f "$_f")
        mkdir -p "$_dest$(dirname "$_f")"
        cp -L "$_f" "$_dest$_f" 2>/dev/null || cp -L "$_abs" "$_dest$_f"
        ldd "$_abs" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' |
        while read -r _lib; do
            [ -e "$_dest$_lib" ] && continue
            mkdir -p "$_dest$(dirname "$_lib")"
            cp -L "$_lib" "$_dest$_lib"
        done
    done
}

# mk_cpio_gz SRCDIR OUT: pack SRCDIR as a gzip'd newc cpio archive (an
# initramfs). Owned by root whatever the build user; sorted for stable output.
mk_cpio_gz() {
    ( cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --quiet ) | gzip -6 -n > "$2"
}
