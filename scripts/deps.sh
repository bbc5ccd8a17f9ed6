#!/usr/bin/env bash
# scripts/deps.sh - installs, with apt-get, every Debian package hvkvp needs to
# build, test and run the demo; does nothing when all are present. Idempotent.
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config clang clang-format clang-tidy cppcheck
  libxml2-dev libyajl-dev libcurl4-openssl-dev zlib1g-dev collectd-dev
  libcmocka-dev libkrb5-dev
  # fuzzing and sanitizers
  libfuzzer-14-dev libclang-rt-14-dev
  # real components the tests and the demo run
  collectd-core hyperv-daemons wsl curl libxml2-utils openssl python3
  python3-gssapi procps psmisc util-linux
  # the simulator's second independent WS-Man client (pywinrm)
  python3-winrm python3-requests-kerberos
  influxdb graphite-carbon graphite-web krb5-kdc krb5-admin-server krb5-user gss-ntlmssp
  # Windows guest build and run
  gcc-mingw-w64-x86-64 libz-mingw-w64-dev wine wine64 dpkg-dev
  # packages (scripts/package.sh) and man pages
  debhelper lintian rpm wixl msitools pandoc fakeroot
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "hvkvp: missing Debian packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "hvkvp: installing ${missing[*]}"
# Packages must not start their services (influxdb, carbon, krb5-kdc): the
# tests start private instances on loopback.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "hvkvp: dependencies installed"
