#!/usr/bin/env bash
# scripts/test.sh - the whole hvkvp test suite, from a fresh clone:
#   1. installs missing Debian packages (scripts/deps.sh),
#   2. cross-builds the Windows guest reporter (scripts/build-windows.sh),
#   3. builds everything and runs every ctest test (unit, integration, e2e),
#   4. rebuilds with ASan/UBSan and runs the unit and integration labels again,
#   5. builds the libFuzzer targets with clang and runs each for a bounded time,
#   and checks formatting (clang-format), cppcheck and clang-tidy on the way.
# Exits non-zero if any step or test fails. Environment knobs:
#   HVKVP_FUZZ_SECONDS (default 20), HVKVP_JOBS (default: nproc),
#   HVKVP_SKIP_PHASES (space-separated subset of "windows asan fuzz": for local
#   iteration only; CI never sets it).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=${HVKVP_JOBS:-$(nproc)}
FUZZ_SECONDS=${HVKVP_FUZZ_SECONDS:-20}
SKIP=" ${HVKVP_SKIP_PHASES:-} "
export CTEST_OUTPUT_ON_FAILURE=1

passed=0
failed=0
failures=()

phase() { printf '\n==== hvkvp test: %s ====\n' "$*"; }
note_fail() {
  failed=$((failed + 1))
  failures+=("$1")
}
skipped() { case "$SKIP" in *" $1 "*) return 0 ;; esac; return 1; }

# Runs ctest and adds its counts to the totals.
run_ctest() {
  local dir=$1 name=$2
  shift 2
  local log
  log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure --timeout 900 "$@" 2>&1 | tee "$log"
  local line p f t
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    note_fail "$name: ctest printed no summary (no tests?)"
  else
    f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    p=$((t - f))
    passed=$((passed + p))
    if [ "$f" -ne 0 ]; then
      failed=$((failed + f))
      failures+=("$name: $f of $t ctest tests failed")
    fi
  fi
  rm -f "$log"
}

phase "dependencies"
if ! "$ROOT/scripts/deps.sh"; then
  echo "hvkvp: could not install dependencies" >&2
  exit 1
fi

if ! skipped windows; then
  phase "Windows guest cross build (mingw-w64)"
  if "$ROOT/scripts/build-windows.sh" "$ROOT/build-win"; then
    passed=$((passed + 1))
  else
    note_fail "Windows cross build"
  fi
fi
export HVKVP_WIN_BUILD_DIR="$ROOT/build-win"

phase "build (native)"
if cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  && cmake --build "$ROOT/build" -j "$JOBS"; then
  phase "ctest: all tests"
  run_ctest "$ROOT/build" "native" -j 2
  if [ -f "$ROOT/build/CMakeCache.txt" ] && cmake --build "$ROOT/build" --target format-check >/dev/null 2>&1; then
    passed=$((passed + 1))
    echo "format-check: ok"
  else
    note_fail "format-check (run: cmake --build build --target format)"
  fi
else
  note_fail "native build"
fi

phase "static analysis (cppcheck)"
if cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
  --inline-suppr -I protocol -I collectd-plugin -I collectd-plugin/wsman \
  -I collectd-plugin/hyperv -I guest-reporter \
  --suppress=missingIncludeSystem protocol guest-reporter collectd-plugin \
  contrib/hvsim tests bench; then
  passed=$((passed + 1))
  echo "cppcheck: clean"
else
  note_fail "cppcheck found problems (listed above)"
fi

phase "static analysis (clang-tidy)"
# The repo's .clang-tidy over the C sources of the three parts (the Windows
# files need mingw headers), with the native build's compile_commands.json.
# Any finding fails. One file per clang-tidy process: clang-tidy 14 carries
# analyzer state from one file to the next in a process, which can make
# findings depend on the batching; two processes at a time (~1 minute).
tidy_log=$(mktemp)
if [ ! -f "$ROOT/build/compile_commands.json" ]; then
  note_fail "clang-tidy: no build/compile_commands.json (native configure failed)"
elif printf '%s\n' protocol/*.c guest-reporter/*.c collectd-plugin/*.c \
  collectd-plugin/*/*.c \
  | grep -v '_windows\.c$' \
  | xargs -P 2 -n 1 clang-tidy -p "$ROOT/build" --quiet --warnings-as-errors='*' \
    >"$tidy_log" 2>&1 \
  && ! grep -qE '(warning|error):' "$tidy_log"; then
  passed=$((passed + 1))
  echo "clang-tidy: clean"
else
  grep -vE '^[0-9]+ (warning|error)s? (and [0-9]+ (warning|error)s? )?generated\.$' "$tidy_log"
  note_fail "clang-tidy found problems (listed above)"
fi
rm -f "$tidy_log"

if ! skipped asan; then
  phase "build (ASan + UBSan)"
  if cmake -S "$ROOT" -B "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug \
    -DHVKVP_SANITIZE=ON -DHVKVP_BENCH=OFF \
    && cmake --build "$ROOT/build-asan" -j "$JOBS"; then
    phase "ctest under ASan/UBSan: unit + integration"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      run_ctest "$ROOT/build-asan" "asan" -L 'unit|integration' -LE 'noasan' -j 2
  else
    note_fail "ASan build"
  fi
fi

if ! skipped fuzz; then
  phase "libFuzzer targets, ${FUZZ_SECONDS}s each (scripts/fuzz.sh)"
  fuzz_log=$(mktemp)
  "$ROOT/scripts/fuzz.sh" --seconds "$FUZZ_SECONDS" 2>&1 | tee "$fuzz_log"
  rc=${PIPESTATUS[0]}
  ok=$(grep -c '^fuzz_[a-z_]*: ok' "$fuzz_log")
  passed=$((passed + ok))
  if [ "$rc" -eq 100 ] || [ "$ok" -eq 0 ]; then
    note_fail "fuzz: the targets were not built or run (see above)"
  elif [ "$rc" -ne 0 ]; then
    note_fail "fuzz: $rc target(s) found a crash (see above)"
  fi
  rm -f "$fuzz_log"
fi

phase "summary"
for f in "${failures[@]+"${failures[@]}"}"; do
  echo "FAILED: $f"
done
echo "hvkvp: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
