#!/usr/bin/env bash
# scripts/fuzz.sh - runs every libFuzzer target (tests/fuzz/fuzz_*.c) for a
# given time, each from a copy of its committed corpus (tests/fuzz/corpus/
# <name>), and prints each target's executions per second. The test suite
# runs it for 20 s a target; for a long campaign outside CI:
#
#   ./scripts/fuzz.sh --seconds 3600 [--jobs N] [--keep DIR] [TARGET...]
#
#   --seconds S  time per target (default 20)
#   --keep DIR   keep each target's grown corpus in DIR/<name> (to review
#                and commit what is worth keeping); default: a temporary
#                copy that is removed
#   --jobs N     libFuzzer -jobs/-workers per target (default 1)
#   TARGET       fuzz_soap, decode, ... (default: all)
#
# Builds <repo>/build-fuzz with clang when needed. A crash stops that
# target and is reported with libFuzzer's reproducer path; the exit status
# is the number of targets that crashed.
#
# Speed: ASan keeps 2 frames (the function and its caller) of each allocation's and free's stack (its
# default of 30 costs a third of fuzz_soap's time; a reproducer re-run
# without ASAN_OPTIONS shows them all), and the XML targets mutate inputs
# of at most 4 KiB (a page of several instances; larger pages are the unit
# tests' business): fuzz_soap runs about 30,000 inputs a second where it
# ran 12,000.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER=20
KEEP=""
JOBS=1
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
  --seconds) SECONDS_PER=$2; shift 2 ;;
  --keep) KEEP=$2; shift 2 ;;
  --jobs) JOBS=$2; shift 2 ;;
  -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
  *) TARGETS+=("${1#fuzz_}"); shift ;;
  esac
done

BUILD="$ROOT/build-fuzz"
if ! cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVKVP_FUZZ=ON -DHVKVP_BENCH=OFF \
  >/dev/null || ! cmake --build "$BUILD" -j "$(nproc)" >/dev/null; then
  echo "fuzz: the libFuzzer build failed (clang, libfuzzer-14-dev)" >&2
  exit 100
fi
if [ ${#TARGETS[@]} -eq 0 ]; then
  for t in "$BUILD"/tests/fuzz/fuzz_*; do
    [ -x "$t" ] && [ -f "$t" ] && TARGETS+=("$(basename "$t" | sed 's/^fuzz_//')")
  done
fi
if [ ${#TARGETS[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets were built" >&2
  exit 100
fi

crashed=0
for name in "${TARGETS[@]}"; do
  exe="$BUILD/tests/fuzz/fuzz_$name"
  if [ ! -x "$exe" ]; then
    echo "fuzz_$name: no such target" >&2
    crashed=$((crashed + 1))
    continue
  fi
  if [ -n "$KEEP" ]; then
    work="$KEEP/$name"
    mkdir -p "$work"
  else
    work=$(mktemp -d)
  fi
  [ -d "$ROOT/tests/fuzz/corpus/$name" ] &&
    cp -rn "$ROOT/tests/fuzz/corpus/$name/." "$work/"
  log=$(mktemp)
  echo "==== fuzz_$name for ${SECONDS_PER}s"
  par=()
  [ "$JOBS" -gt 1 ] && par=(-jobs="$JOBS" -workers="$JOBS")
  case "$name" in
  soap | cimxml) par+=(-max_len=4096) ;;
  esac
  if ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=2}" \
    "$exe" -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048 \
    "${par[@]}" -print_final_stats=1 -artifact_prefix="$work/" "$work" \
    >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    echo "fuzz_$name: ok (${execs:-?} executions/s)"
  else
    tail -n 40 "$log"
    echo "fuzz_$name: CRASH (reproducer in $work)"
    crashed=$((crashed + 1))
    KEEP_THIS=1
  fi
  rm -f "$log"
  if [ -z "$KEEP" ] && [ -z "${KEEP_THIS:-}" ]; then
    rm -rf "$work"
  fi
  unset KEEP_THIS
done
exit "$crashed"
