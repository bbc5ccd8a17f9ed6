#!/usr/bin/env bash
# scripts/demo.sh - the hvkvp demo: installs what is missing, builds, and runs
# the pipeline on this machine. (Until the end-to-end demo lands this builds
# everything and prints one guest message from the reporter's dry run.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/deps.sh"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" -j "$(nproc)"
exec "$ROOT/build/guest-reporter/hvkvp-reporter" --once --dry-run
