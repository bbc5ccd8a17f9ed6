#!/usr/bin/env bash
# scripts/demo.sh - the hvkvp demo, from a fresh clone: installs what is
# missing, builds (native + the Windows guest reporter), then runs a simulated
# Hyper-V host with two Linux guests (real hv_kvp_daemon + hvkvp-reporter) and
# one Windows guest (hvkvp-reporter.exe under Wine), a real collectd with the
# hyperv_kvp plugin, and shows every VM's metrics live; after a few intervals
# it pushes a new interval to the guests and shows them applying it.
# Ctrl-C stops everything. Options go to contrib/demo/hvkvp-demo, e.g.
#   scripts/demo.sh --sink influxdb     (or --sink graphite)
#   scripts/demo.sh --intervals 6       (stop by itself, never before the
#                                        push and every guest's confirmation)
# HVKVP_BUILD_DIR (default build) and HVKVP_WIN_BUILD_DIR (default build-win)
# choose the build directories.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HVKVP_BUILD_DIR:-$ROOT/build}
WIN_BUILD=${HVKVP_WIN_BUILD_DIR:-$ROOT/build-win}
"$ROOT/scripts/deps.sh"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
if [ ! -x "$WIN_BUILD/guest-reporter/hvkvp-reporter.exe" ]; then
  "$ROOT/scripts/build-windows.sh" "$WIN_BUILD" >/dev/null
fi
exec /usr/bin/python3 "$ROOT/contrib/demo/hvkvp-demo" --build-dir "$BUILD" \
  --win-build-dir "$WIN_BUILD" "$@"
