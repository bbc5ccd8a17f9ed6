#!/bin/sh
# krb5-testrealm.sh - a throwaway MIT Kerberos realm (HVKVP.TEST) and an NTLM
# user file for the auth tests and the demo. Everything lives in DIR; nothing
# outside DIR is touched, the KDC listens on a loopback port only.
#
#   scripts/krb5-testrealm.sh start DIR   create the realm, start krb5kdc,
#                                         write DIR/env.sh (source it)
#   scripts/krb5-testrealm.sh stop DIR    stop that KDC
#
# DIR/env.sh exports KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME (DIR/ccache),
# KRB5_KTNAME (service keytab: HTTP/localhost, HTTP/127.0.0.1),
# HVKVP_TEST_CLIENT_KEYTAB (client keytab), HVKVP_TEST_PRINCIPAL,
# HVKVP_TEST_PASSWORD, NTLM_USER_FILE (DOMAIN:user:password lines),
# HVKVP_TEST_NTLM_USER, HVKVP_TEST_KDC_PORT.
set -eu

REALM=HVKVP.TEST
CLIENT=monitor
# Test-only secrets of a throwaway realm.
CLIENT_PW=Kerb-Test-Pass-1
NTLM_DOMAIN=HVKVP
NTLM_USER=alice
NTLM_PW=Ntlm-Test-Pass-1

die() {
  echo "krb5-testrealm: $*" >&2
  exit 1
}

need() {
  [ -x "$1" ] || die "$1 not found: install the Debian package '$2'"
}

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  dir=$1
  need /usr/sbin/krb5kdc krb5-kdc
  need /usr/sbin/kdb5_util krb5-kdc
  need /usr/sbin/kadmin.local krb5-admin-server
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -e "$dir/kdc.pid" ] && die "$dir already has a running KDC (stop it first)"
  port=$(free_port)
  cat >"$dir/krb5.conf" <<CONF
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  default_ccache_name = FILE:$dir/ccache
[realms]
  $REALM = {
    kdc = 127.0.0.1:$port
  }
[domain_realm]
  localhost = $REALM
  127.0.0.1 = $REALM
CONF
  cat >"$dir/kdc.conf" <<CONF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$port
  kdc_tcp_listen = 127.0.0.1:$port
[realms]
  $REALM = {
    database_name = $dir/principal
    key_stash_file = $dir/stash
    acl_file = $dir/kadm5.acl
    max_life = 1h
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:$dir/kdc.log
CONF
  : >"$dir/kadm5.acl"
  export KRB5_CONFIG="$dir/krb5.conf" KRB5_KDC_PROFILE="$dir/kdc.conf"
  kdb5_util create -s -r $REALM -P "kdc-master-$$" >"$dir/setup.log" 2>&1 ||
    die "kdb5_util create failed: see $dir/setup.log"
  ka() { kadmin.local -r $REALM -q "$1" >>"$dir/setup.log" 2>&1 || die "kadmin.local '$1' failed: see $dir/setup.log"; }
  ka "addprinc -randkey HTTP/localhost"
  ka "addprinc -randkey HTTP/127.0.0.1"
  ka "addprinc +requires_preauth -pw $CLIENT_PW $CLIENT"
  ka "ktadd -k $dir/http.keytab HTTP/localhost HTTP/127.0.0.1"
  # -norandkey keeps the password valid next to the keytab.
  ka "ktadd -norandkey -k $dir/client.keytab $CLIENT"
  /usr/sbin/krb5kdc -n -P "$dir/kdc.pid" >>"$dir/kdc.log" 2>&1 &
  echo $! >"$dir/kdc.pid"
  # Ready when the port accepts connections.
  i=0
  until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 100 ] && die "krb5kdc did not listen on 127.0.0.1:$port: see $dir/kdc.log"
    kill -0 "$(cat "$dir/kdc.pid")" 2>/dev/null || die "krb5kdc exited: see $dir/kdc.log"
    sleep 0.05
  done
  echo "$NTLM_DOMAIN:$NTLM_USER:$NTLM_PW" >"$dir/ntlm_users"
  cat >"$dir/env.sh" <<ENV
export KRB5_CONFIG='$dir/krb5.conf'
export KRB5_KDC_PROFILE='$dir/kdc.conf'
export KRB5CCNAME='FILE:$dir/ccache'
export KRB5_KTNAME='FILE:$dir/http.keytab'
export HVKVP_TEST_CLIENT_KEYTAB='$dir/client.keytab'
export HVKVP_TEST_PRINCIPAL='$CLIENT@$REALM'
export HVKVP_TEST_PASSWORD='$CLIENT_PW'
export NTLM_USER_FILE='$dir/ntlm_users'
export HVKVP_TEST_NTLM_USER='$NTLM_DOMAIN\\$NTLM_USER'
export HVKVP_TEST_NTLM_PASSWORD='$NTLM_PW'
export HVKVP_TEST_KDC_PORT='$port'
ENV
  echo "krb5-testrealm: realm $REALM, KDC on 127.0.0.1:$port, source $dir/env.sh"
}

stop() {
  dir=$1
  [ -f "$dir/kdc.pid" ] || return 0
  pid=$(cat "$dir/kdc.pid")
  kill "$pid" 2>/dev/null || true
  rm -f "$dir/kdc.pid"
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 start|stop DIR" ;;
esac
