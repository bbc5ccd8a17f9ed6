#!/usr/bin/env bash
# scripts/build-windows.sh - cross-builds the Windows guest side of hvkvp
# (hvkvp-reporter.exe, and contrib/hvsim/wine's helper when present) with
# mingw-w64, statically linked so it runs under Wine with no extra DLLs.
#
#   scripts/build-windows.sh [BUILD_DIR]      (default: <repo>/build-win)
#
# zlib comes from Debian's libz-mingw-w64-dev; yajl is not packaged for
# mingw, so it is cross-compiled from Debian's yajl source package (fetched
# once with `apt-get source` into BUILD_DIR/yajl-src and cached). Missing
# Debian packages are installed with apt-get (needs root). Idempotent.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$REPO/build-win}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
CC=x86_64-w64-mingw32-gcc
AR=x86_64-w64-mingw32-ar
YAJL_SRC=$BUILD/yajl-src
YAJL_ROOT=$BUILD/yajl-mingw

die() {
  echo "build-windows: $*" >&2
  exit 1
}

# ---- Debian packages ----
need_pkgs=()
for p in gcc-mingw-w64-x86-64 libz-mingw-w64-dev wine wine64 dpkg-dev cmake; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    need_pkgs+=("$p")
  fi
done
apt_updated=0
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${need_pkgs[*]} (run as root or: sudo apt-get install ${need_pkgs[*]})"
  echo "build-windows: installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  apt_updated=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"
fi
command -v "$CC" >/dev/null || die "$CC not found after installing gcc-mingw-w64-x86-64"

# ---- yajl source (cached) ----
yajl_dir() { find "$YAJL_SRC" -mindepth 1 -maxdepth 1 -type d -name 'yajl-*' | head -n1; }
if [ ! -d "$YAJL_SRC" ] || [ -z "$(yajl_dir)" ]; then
  # apt-get source needs a deb-src entry: mirror the binary entries of
  # debian.sources (same URIs, suites, keyring) as Types: deb-src.
  srclist=/etc/apt/sources.list.d/hvkvp-deb-src.sources
  if ! apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -q '^Sources$'; then
    [ "$(id -u)" -eq 0 ] || die "no deb-src entry for apt-get source; run as root once so $srclist can be created"
    base=/etc/apt/sources.list.d/debian.sources
    [ -f "$base" ] || die "$base not found: add a deb-src entry for Debian by hand"
    sed -e 's/^Types:.*/Types: deb-src/' "$base" >"$srclist"
    echo "build-windows: added $srclist"
    apt-get update -q || die "apt-get update failed"
    apt_updated=1
  fi
  rm -rf "$YAJL_SRC.tmp"
  mkdir -p "$YAJL_SRC.tmp"
  if ! (cd "$YAJL_SRC.tmp" && apt-get source --download-only yajl); then
    # Stale source lists: refresh once (root only) and retry.
    [ "$apt_updated" = 0 ] && [ "$(id -u)" -eq 0 ] ||
      die "apt-get source --download-only yajl failed"
    apt-get update -q || die "apt-get update failed"
    (cd "$YAJL_SRC.tmp" && apt-get source --download-only yajl) ||
      die "apt-get source --download-only yajl failed"
  fi
  # apt verified the files against the signed Release/Sources indices;
  # --no-check only skips dpkg-source's own OpenPGP check of the .dsc.
  (cd "$YAJL_SRC.tmp" && dpkg-source --no-check -x ./*.dsc) ||
    die "unpacking the yajl source package failed"
  rm -rf "$YAJL_SRC"
  mv "$YAJL_SRC.tmp" "$YAJL_SRC"
fi
YDIR=$(yajl_dir)
[ -n "$YDIR" ] && [ -d "$YDIR/src" ] || die "no unpacked yajl source under $YAJL_SRC"

# ---- yajl, cross-compiled into a static library ----
if [ ! -f "$YAJL_ROOT/lib/libyajl_s.a" ] || [ "$YDIR/src" -nt "$YAJL_ROOT/lib/libyajl_s.a" ]; then
  echo "build-windows: cross-compiling yajl from $YDIR"
  rm -rf "$YAJL_ROOT"
  mkdir -p "$YAJL_ROOT/include/yajl" "$YAJL_ROOT/lib" "$YAJL_ROOT/obj"
  cp "$YDIR"/src/api/*.h "$YAJL_ROOT/include/yajl/"
  # yajl's CMake generates yajl_version.h from yajl_version.h.cmake with the
  # YAJL_MAJOR/MINOR/MICRO numbers set in its top-level CMakeLists.txt.
  ver() { sed -n "s/^SET *( *YAJL_$1 *\([0-9][0-9]*\) *)/\1/p" "$YDIR/CMakeLists.txt" | head -n1; }
  major=$(ver MAJOR)
  minor=$(ver MINOR)
  micro=$(ver MICRO)
  [ -n "$major" ] && [ -n "$minor" ] && [ -n "$micro" ] ||
    die "cannot read the yajl version from $YDIR/CMakeLists.txt"
  tmpl=$YDIR/src/api/yajl_version.h.cmake
  [ -f "$tmpl" ] || die "$tmpl not found"
  sed -e "s/\${YAJL_MAJOR}/$major/g" -e "s/\${YAJL_MINOR}/$minor/g" \
    -e "s/\${YAJL_MICRO}/$micro/g" "$tmpl" >"$YAJL_ROOT/include/yajl/yajl_version.h"
  rm -f "$YAJL_ROOT/include/yajl/yajl_version.h.cmake"
  objs=()
  for c in "$YDIR"/src/*.c; do
    o=$YAJL_ROOT/obj/$(basename "${c%.c}").o
    # yajl's sources include <yajl/...>: the laid-out include dir serves.
    # -w: yajl's own MSVC shims (isnan/isinf) redefine mingw macros.
    "$CC" -O2 -std=c99 -w -DYAJL_BUILD -I"$YAJL_ROOT/include" -I"$YDIR/src" -c "$c" -o "$o"
    objs+=("$o")
  done
  "$AR" rcs "$YAJL_ROOT/lib/libyajl_s.a.tmp" "${objs[@]}"
  mv "$YAJL_ROOT/lib/libyajl_s.a.tmp" "$YAJL_ROOT/lib/libyajl_s.a"
  echo "build-windows: yajl $major.$minor.$micro -> $YAJL_ROOT/lib/libyajl_s.a"
fi

# ---- hvkvp ----
cmake -S "$REPO" -B "$BUILD" \
  -DCMAKE_TOOLCHAIN_FILE="$REPO/contrib/mingw-w64-x86_64.cmake" \
  -DHVKVP_GUEST_ONLY=ON -DHVKVP_TESTS=OFF -DHVKVP_BENCH=OFF \
  -DHVKVP_YAJL_ROOT="$YAJL_ROOT"
targets=(hvkvp-reporter)
if [ -f "$REPO/contrib/hvsim/wine/CMakeLists.txt" ]; then
  targets+=(hvsim-winreg)
fi
# Build everything the cross configuration defines (the named targets are
# all of it today); fail if an expected .exe did not come out.
cmake --build "$BUILD" -j"$(nproc)"
for t in "${targets[@]}"; do
  exe=$(find "$BUILD" -name "$t.exe" -type f | head -n1)
  [ -n "$exe" ] || die "$t.exe was not produced in $BUILD"
  echo "build-windows: built $exe"
done
