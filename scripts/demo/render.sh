#!/bin/sh
# Render make demo's records (scripts/demo/lab.sh) as text and as an SVG chart:
#
#   scripts/demo/render.sh RECORDS BASE     writes BASE.txt (also printed) and BASE.svg
#
# Exit status 1 when tern's run did not move every (MAC, VLAN) (or no tern run).
HERE=$(dirname "$0")
[ $# = 2 ] || { echo "usage: render.sh RECORDS BASE" >&2; exit 2; }
awk -f "$HERE/records.awk" -f "$HERE/timeline.awk" "$1" > "$2.txt"
rc=$?
cat "$2.txt"
awk -f "$HERE/records.awk" -f "$HERE/svg.awk" "$1" > "$2.svg" || rc=1
exit $rc
