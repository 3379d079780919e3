#!/usr/bin/env bash
# make demo (first cut): build tern, then show a VMM-only migration between two tern
# processes over QMP. The full demo (a real guest moving between two hosts, with the
# announce timeline) replaces this once real-guest migration lands.
set -eu
cd "$(dirname "$0")/.."
need() { command -v "$1" >/dev/null 2>&1 || { echo "demo: installing $2"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; }; }
need socat socat
make -s
dir=$(mktemp -d /tmp/tern-demo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
qmp() { # SOCKET JSON...: negotiate, send each command, print the replies
    local sock=$1; shift
    { echo '{"execute":"qmp_capabilities"}'; for c in "$@"; do echo "$c"; done; sleep 0.3; } |
        socat - "UNIX-CONNECT:$sock" | grep -v '"QMP"' | sed -n '2,$p'
}
build/tern -machine none -m 64 -display none -qmp "unix:$dir/src.qmp,server=on,wait=off" & pids+=($!)
build/tern -machine none -m 64 -display none -qmp "unix:$dir/dst.qmp,server=on,wait=off" \
    -incoming "unix:$dir/mig.sock" & pids+=($!)
for i in $(seq 50); do [ -S "$dir/dst.qmp" ] && [ -S "$dir/src.qmp" ] && [ -S "$dir/mig.sock" ] && break; sleep 0.1; done
echo "== source:      $(qmp "$dir/src.qmp" '{"execute":"query-status"}')"
echo "== destination: $(qmp "$dir/dst.qmp" '{"execute":"query-status"}')"
echo "== migrate source -> destination"
qmp "$dir/src.qmp" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:$dir/mig.sock\"}}" >/dev/null
for i in $(seq 50); do qmp "$dir/src.qmp" '{"execute":"query-migrate"}' | grep -q '"completed"' && break; sleep 0.1; done
echo "== source:      $(qmp "$dir/src.qmp" '{"execute":"query-migrate"}')"
echo "== source:      $(qmp "$dir/src.qmp" '{"execute":"query-status"}')"
echo "== destination: $(qmp "$dir/dst.qmp" '{"execute":"query-status"}')"
