#!/usr/bin/env bash
# scripts/package.sh - builds every hvkvp package into OUTDIR, with Debian's
# own tools:
#   collectd-hyperv-kvp_<v>_<arch>.deb, hvkvp-reporter_<v>_<arch>.deb,
#   collectd-write-hvkvp_<v>_<arch>.deb
#       dpkg-buildpackage + debhelper (debian/), from a copy of the tree
#   hvkvp-reporter-<v>-1.<arch>.rpm
#       rpmbuild (Debian package rpm) from contrib/rpm/hvkvp-reporter.spec and
#       a source tarball hvkvp-<v>.tar.gz (also left in OUTDIR)
#   hvkvp-reporter-<v>-x64.msi
#       wixl (Debian package wixl) from contrib/windows/hvkvp-reporter.wxs and
#       the mingw-w64 build of hvkvp-reporter.exe
#
#   scripts/package.sh OUTDIR
#
# HVKVP_WIN_BUILD_DIR (default <repo>/build-win) holds the Windows build; it
# is made with scripts/build-windows.sh when hvkvp-reporter.exe is missing.
# HVKVP_JOBS (default: nproc) parallel jobs. Missing Debian packages are
# installed by scripts/deps.sh (needs root). Idempotent: OUTDIR's packages
# are replaced.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || {
  echo "usage: $0 OUTDIR" >&2
  exit 2
}
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
WIN_BUILD=${HVKVP_WIN_BUILD_DIR:-$ROOT/build-win}
JOBS=${HVKVP_JOBS:-$(nproc)}

die() {
  echo "package: $*" >&2
  exit 1
}
step() { printf '\n==== package: %s ====\n' "$*"; }

"$ROOT/scripts/deps.sh" || die "missing Debian packages (scripts/deps.sh)"

# ---- one version everywhere ----
VERSION=$(sed -n 's/^project(hvkvp VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
[ -n "$VERSION" ] || die "no project(hvkvp VERSION ...) in CMakeLists.txt"
deb_version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
rpm_version=$(sed -n 's/^Version: *//p' "$ROOT/contrib/rpm/hvkvp-reporter.spec")
[ "$deb_version" = "$VERSION" ] ||
  die "debian/changelog has $deb_version, CMakeLists.txt $VERSION"
[ "$rpm_version" = "$VERSION" ] ||
  die "contrib/rpm/hvkvp-reporter.spec has $rpm_version, CMakeLists.txt $VERSION"

WORK=$OUT/work
rm -rf "$WORK"
mkdir -p "$WORK"
SRC=$WORK/hvkvp-$VERSION

# ---- the source tree: the files git knows (tracked, and new ones not
# ignored), so build directories and local clutter stay out ----
step "source tree hvkvp-$VERSION"
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -C "$SRC" -xf -
else
  tar -C "$ROOT" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$SRC" -xf -
fi
rm -f "$OUT/hvkvp-$VERSION.tar.gz"
tar -C "$WORK" --sort=name --owner=0 --group=0 --numeric-owner \
  -czf "$OUT/hvkvp-$VERSION.tar.gz" "hvkvp-$VERSION"

# ---- Debian packages ----
step "Debian packages (dpkg-buildpackage)"
rm -f "$OUT"/collectd-hyperv-kvp_*.deb "$OUT"/hvkvp-reporter_*.deb \
  "$OUT"/collectd-write-hvkvp_*.deb
(cd "$SRC" && DEB_BUILD_OPTIONS="parallel=$JOBS nocheck" \
  dpkg-buildpackage -b -us -uc) >"$WORK/dpkg-buildpackage.log" 2>&1 || {
  tail -n 60 "$WORK/dpkg-buildpackage.log" >&2
  die "dpkg-buildpackage failed (log: $WORK/dpkg-buildpackage.log)"
}
for p in collectd-hyperv-kvp hvkvp-reporter collectd-write-hvkvp; do
  deb=$(find "$WORK" -maxdepth 1 -name "${p}_${VERSION}_*.deb" | head -n 1)
  [ -n "$deb" ] || die "dpkg-buildpackage made no $p .deb"
  mv "$deb" "$OUT/"
done

# ---- RPM (guest reporter) ----
step "RPM (rpmbuild)"
TOP=$WORK/rpmbuild
mkdir -p "$TOP/SOURCES"
cp "$OUT/hvkvp-$VERSION.tar.gz" "$TOP/SOURCES/"
rpm_args=(--define "_topdir $TOP" --define "_smp_mflags -j$JOBS")
# Debian's rpm has no systemd macros (RHEL: systemd-rpm-macros) and no
# debuginfo extractor; its rpm database knows none of the BuildRequires,
# which dpkg provides here (scripts/deps.sh): hence --nodeps.
if [ -z "$(rpm --eval '%{?systemd_post:yes}')" ]; then
  rpm_args+=(--load "$ROOT/contrib/rpm/macros.systemd-fallback")
fi
if [ ! -x /usr/lib/rpm/find-debuginfo.sh ] && ! command -v find-debuginfo >/dev/null; then
  rpm_args+=(--define "debug_package %{nil}")
fi
rm -f "$OUT"/hvkvp-reporter-*.rpm
rpmbuild "${rpm_args[@]}" --nodeps -bb "$ROOT/contrib/rpm/hvkvp-reporter.spec" \
  >"$WORK/rpmbuild.log" 2>&1 || {
  tail -n 60 "$WORK/rpmbuild.log" >&2
  die "rpmbuild failed (log: $WORK/rpmbuild.log)"
}
rpm=$(find "$TOP/RPMS" -name "hvkvp-reporter-$VERSION-*.rpm" | head -n 1)
[ -n "$rpm" ] || die "rpmbuild made no hvkvp-reporter RPM"
mv "$rpm" "$OUT/"

# ---- MSI (Windows guest reporter) ----
step "MSI (wixl)"
EXE=$WIN_BUILD/guest-reporter/hvkvp-reporter.exe
if [ ! -f "$EXE" ] || [ -n "$(find "$ROOT/guest-reporter" "$ROOT/protocol" -newer "$EXE" -name '*.[ch]' | head -n 1)" ]; then
  "$ROOT/scripts/build-windows.sh" "$WIN_BUILD" >"$WORK/build-windows.log" 2>&1 || {
    tail -n 40 "$WORK/build-windows.log" >&2
    die "scripts/build-windows.sh failed (log: $WORK/build-windows.log)"
  }
fi
MSI=$OUT/hvkvp-reporter-$VERSION-x64.msi
rm -f "$MSI"
# wixl resolves File sources relative to its working directory only.
exe_dir=$(cd "$(dirname "$EXE")" && pwd)
(cd / && wixl -a x64 -D "Version=$VERSION" -D "ExeDir=${exe_dir#/}" \
  -D "ConfDir=${ROOT#/}/contrib" -o "$MSI" "$ROOT/contrib/windows/hvkvp-reporter.wxs") \
  2>"$WORK/wixl.log" || {
  cat "$WORK/wixl.log" >&2
  die "wixl failed"
}
# What wixl cannot say: STORE and INTERVAL are public properties passed to
# the installation (SecureCustomProperties), and the rollback action runs in
# the rollback script (in-script + rollback + no-impersonate + continue).
msi_value() { # TABLE KEY -> the second column of KEY's row
  msiinfo export "$MSI" "$1" | tr -d '\r' | awk -F'\t' -v k="$2" '$1 == k { print $2 }'
}
secure=$(msi_value Property SecureCustomProperties)
msibuild "$MSI" \
  -q "UPDATE Property SET Value='${secure:+$secure;}STORE;INTERVAL' WHERE Property='SecureCustomProperties'" \
  -q "UPDATE CustomAction SET Type=3410 WHERE Action='RegisterServiceRollback'" ||
  die "msibuild could not finish $MSI"
[ "$(msi_value Property SecureCustomProperties)" = "${secure:+$secure;}STORE;INTERVAL" ] &&
  [ "$(msi_value CustomAction RegisterServiceRollback)" = 3410 ] ||
  die "msibuild did not change $MSI"

rm -rf "$WORK"
step "packages in $OUT"
(cd "$OUT" && ls -l ./*.deb ./*.rpm ./*.msi ./*.tar.gz)
