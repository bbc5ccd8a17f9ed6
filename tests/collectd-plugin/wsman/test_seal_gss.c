/*
 * test_seal_gss.c - integration tests of auth_gss.c + wsman_seal.c with real
 * GSSAPI contexts established in-process: our initiator (hva_step) against a
 * plain gss_accept_sec_context acceptor using the test realm's service keytab
 * (KRB5_KTNAME) and gss-ntlmssp's NTLM_USER_FILE. Run under
 * run_with_realm.py (a real MIT KDC). Covers sealing both ways for Kerberos,
 * Negotiate and NTLM, tampered bodies -> decryption failure, and the
 * credential errors (no ticket, wrong password, KDC unreachable).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include "gss.h"
#include "seal.h"

static const char *need_env(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    fail_msg("%s is not set: run this test under tests/auth/run_with_realm.py",
             name);
  return v;
}

static const char b64c[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64dec(const char *in, uint8_t *out) {
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (; *in && *in != '='; in++) {
    const char *p = strchr(b64c, *in);
    assert_non_null(p);
    acc = acc << 6 | (uint32_t)(p - b64c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

static char *b64enc(const uint8_t *in, size_t n) {
  char *o = malloc(n * 4 / 3 + 8), *p = o;
  size_t i;
  for (i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    *p++ = b64c[v >> 18];
    *p++ = b64c[(v >> 12) & 63];
    *p++ = i + 1 < n ? b64c[(v >> 6) & 63] : '=';
    *p++ = i + 2 < n ? b64c[v & 63] : '=';
  }
  *p = '\0';
  return o;
}

typedef struct {
  hva_ctx_t *c;
  gss_ctx_id_t srv;
  int srv_ntlm;
} pair_t;

/* Runs the token exchange as the HTTP layer would: the server offers
 * "Negotiate" and "Kerberos"; returns the scheme the client used. */
static void establish(pair_t *p, const char *offer) {
  char *authz = NULL;
  ws_err_t err;
  OM_uint32 major = GSS_S_CONTINUE_NEEDED, minor;
  int rounds = 0;
  static uint8_t buf[65536];
  p->srv = GSS_C_NO_CONTEXT;
  if (hva_step(p->c, offer, &authz, &err) != 0)
    fail_msg("first step: %s", err.msg);
  while (authz != NULL) {
    char *sp = strchr(authz, ' ');
    gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
    gss_OID mech = GSS_C_NO_OID;
    assert_non_null(sp);
    in.length = b64dec(sp + 1, buf);
    in.value = buf;
    major = gss_accept_sec_context(&minor, &p->srv, GSS_C_NO_CREDENTIAL, &in,
                                   GSS_C_NO_CHANNEL_BINDINGS, NULL, &mech, &out,
                                   NULL, NULL, NULL);
    if (GSS_ERROR(major))
      fail_msg("acceptor failed: major %u minor %u", major, minor);
    *sp = '\0';
    free(authz);
    authz = NULL;
    if (out.length > 0) {
      char *tok = b64enc(out.value, out.length);
      char www[70000];
      snprintf(www, sizeof(www), "%s %s",
               strcmp(hva_protocol(p->c), WSEAL_PROTO_KERBEROS) == 0
                   ? "Kerberos"
                   : "Negotiate",
               tok);
      free(tok);
      gss_release_buffer(&minor, &out);
      if (hva_step(p->c, www, &authz, &err) != 0)
        fail_msg("step: %s", err.msg);
    }
    if (major == GSS_S_COMPLETE)
      p->srv_ntlm = mech != GSS_C_NO_OID && mech->length == 10 &&
                    memcmp(mech->elements,
                           "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 10) == 0;
    assert_true(++rounds < 10);
  }
  assert_int_equal(major, GSS_S_COMPLETE);
  assert_true(hva_established(p->c));
}

/* Server side sealing, as WinRM does it, built with wseal_build. */
static void server_seal(pair_t *p, const char *msg, uint8_t **body,
                        size_t *blen) {
  OM_uint32 minor;
  int conf = 0;
  size_t n = strlen(msg);
  if (p->srv_ntlm) {
    gss_buffer_desc in = {n, (void *)msg}, out = GSS_C_EMPTY_BUFFER;
    assert_false(GSS_ERROR(
        gss_wrap(&minor, p->srv, 1, GSS_C_QOP_DEFAULT, &in, &conf, &out)));
    assert_int_equal(wseal_build(hva_protocol(p->c), n, out.value, 16,
                                 (uint8_t *)out.value + 16, out.length - 16,
                                 body, blen),
                     0);
    gss_release_buffer(&minor, &out);
  } else {
    gss_iov_buffer_desc iov[3];
    uint8_t *data = malloc(n + 64);
    memset(iov, 0, sizeof(iov));
    memcpy(data, msg, n);
    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[1].buffer.value = data;
    iov[1].buffer.length = n;
    iov[2].type = GSS_IOV_BUFFER_TYPE_PADDING | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    assert_false(GSS_ERROR(
        gss_wrap_iov(&minor, p->srv, 1, GSS_C_QOP_DEFAULT, &conf, iov, 3)));
    assert_int_equal(iov[2].buffer.length, 0); /* AES: no padding */
    assert_int_equal(wseal_build(hva_protocol(p->c), n, iov[0].buffer.value,
                                 iov[0].buffer.length, data, n, body, blen),
                     0);
    iov[1].buffer.value = NULL;
    gss_release_iov_buffer(&minor, iov, 3);
    free(data);
  }
  assert_true(conf);
}

/* Client seals, server opens; server seals, client opens; then tampering. */
static void exchange(pair_t *p, size_t size) {
  char *soap = malloc(size + 1);
  uint8_t *body = NULL, *plain = NULL;
  size_t blen = 0, plen = 0, i;
  char ct[256], why[160];
  wseal_parts_t parts;
  ws_err_t err;
  OM_uint32 minor;
  for (i = 0; i < size; i++)
    soap[i] = "<s:Envelope/>"[i % 13];
  soap[size] = '\0';

  for (int round = 0; round < 3; round++) { /* sequence numbers advance */
    assert_int_equal(
        hva_seal(p->c, soap, size, &body, &blen, ct, sizeof(ct), &err), 0);
    assert_int_equal(wseal_parse(ct, body, blen, &parts, why, sizeof(why)), 0);
    assert_int_equal(parts.orig_len, size);
    assert_string_equal(parts.protocol, hva_protocol(p->c));
    if (p->srv_ntlm)
      assert_int_equal(parts.siglen, WSEAL_NTLM_SIG_LEN);
    /* It is encrypted: the plaintext does not show. */
    assert_null(memmem(body, blen, "<s:Envelope/><s:Envelope/>", 26));
    {
      uint8_t *tok = malloc(parts.siglen + parts.datalen);
      gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
      int conf = 0;
      memcpy(tok, parts.sig, parts.siglen);
      memcpy(tok + parts.siglen, parts.data, parts.datalen);
      in.value = tok;
      in.length = parts.siglen + parts.datalen;
      assert_false(
          GSS_ERROR(gss_unwrap(&minor, p->srv, &in, &out, &conf, NULL)));
      assert_true(conf);
      assert_int_equal(out.length, size);
      assert_memory_equal(out.value, soap, size);
      gss_release_buffer(&minor, &out);
      free(tok);
    }
    free(body);

    server_seal(p, soap, &body, &blen);
    assert_int_equal(
        hva_unseal(p->c, ct, body, blen, &plain, &plen, NULL, 0, &err), 0);
    assert_int_equal(plen, size);
    assert_memory_equal(plain, soap, size);
    assert_int_equal(plain[plen], '\0');
    free(plain);
    free(body);
  }

  /* A flipped byte in the encrypted data: decryption failure naming the
   * host. (The context stays usable for Kerberos; NTLM's RC4 stream state is
   * spent, as with Windows, so it is the last check.) */
  server_seal(p, soap, &body, &blen);
  body[blen - strlen("--Encrypted Boundary--\r\n") - 1] ^= 0x01;
  assert_int_equal(
      hva_unseal(p->c, ct, body, blen, &plain, &plen, NULL, 0, &err), -1);
  assert_null(plain);
  assert_int_equal(err.kind, WS_ERR_AUTH);
  assert_non_null(strstr(err.msg, "decryption failure"));
  assert_non_null(strstr(err.msg, "localhost"));
  free(body);
  free(soap);
}

static void teardown_pair(pair_t *p) {
  OM_uint32 minor;
  if (p->srv != GSS_C_NO_CONTEXT)
    gss_delete_sec_context(&minor, &p->srv, GSS_C_NO_BUFFER);
  hva_free(p->c);
}

static void run_mech(hva_opts_t *o, const char *offer, const char *proto,
                     size_t size) {
  pair_t p = {0};
  ws_err_t err;
  p.c = hva_new(o, &err);
  if (p.c == NULL)
    fail_msg("hva_new: %s", err.msg);
  establish(&p, offer);
  assert_string_equal(hva_protocol(p.c), proto);
  exchange(&p, size);
  teardown_pair(&p);
}

static void test_kerberos_ccache(void **state) {
  hva_opts_t o = {.mech = HVA_KERBEROS, .host = "localhost"};
  need_env("KRB5CCNAME");
  run_mech(&o, "Negotiate\nKerberos", WSEAL_PROTO_KERBEROS, 1000);
  /* Only Negotiate offered: krb5 tokens under Negotiate, SPNEGO framing. */
  run_mech(&o, "Negotiate", WSEAL_PROTO_SPNEGO, 70000);
}

static void test_kerberos_keytab(void **state) {
  hva_opts_t o = {.mech = HVA_KERBEROS, .host = "localhost"};
  o.keytab = need_env("HVKVP_TEST_CLIENT_KEYTAB");
  o.principal = need_env("HVKVP_TEST_PRINCIPAL");
  /* No ticket cache at all: the keytab must be enough. */
  setenv("KRB5CCNAME", "FILE:/nonexistent/hvkvp-no-ccache", 1);
  run_mech(&o, "Negotiate\nKerberos", WSEAL_PROTO_KERBEROS, 4096);
}

static void test_kerberos_password(void **state) {
  hva_opts_t o = {.mech = HVA_KERBEROS, .host = "localhost"};
  o.user = need_env("HVKVP_TEST_PRINCIPAL");
  o.password = need_env("HVKVP_TEST_PASSWORD");
  run_mech(&o, "Kerberos", WSEAL_PROTO_KERBEROS, 10);
}

static void test_negotiate_kerberos(void **state) {
  hva_opts_t o = {.mech = HVA_NEGOTIATE, .host = "localhost"};
  o.keytab = need_env("HVKVP_TEST_CLIENT_KEYTAB");
  run_mech(&o, "Negotiate", WSEAL_PROTO_SPNEGO, 3000);
}

static void test_ntlm(void **state) {
  hva_opts_t o = {.mech = HVA_NTLM, .host = "localhost"};
  need_env("NTLM_USER_FILE");
  o.user = need_env("HVKVP_TEST_NTLM_USER");
  o.password = need_env("HVKVP_TEST_NTLM_PASSWORD");
  run_mech(&o, "Negotiate", WSEAL_PROTO_SPNEGO, 5000);
  /* user@REALM form */
  o.user = "alice@HVKVP";
  run_mech(&o, "Negotiate", WSEAL_PROTO_SPNEGO, 64);
}

static void expect_step_error(hva_opts_t *o, const char *offer,
                              const char *cause) {
  ws_err_t err;
  char *authz = NULL;
  hva_ctx_t *c = hva_new(o, &err);
  assert_non_null(c);
  if (hva_step(c, offer, &authz, &err) != -1)
    fail_msg("expected a failure (%s), got a token", cause);
  assert_null(authz);
  assert_int_equal(err.kind, WS_ERR_AUTH);
  if (strstr(err.msg, cause) == NULL || strstr(err.msg, "localhost") == NULL)
    fail_msg("expected '%s' and the host in: %s", cause, err.msg);
  if (o->password != NULL && strstr(err.msg, o->password) != NULL)
    fail_msg("password leaked into: %s", err.msg);
  hva_free(c);
}

static void test_errors(void **state) {
  hva_opts_t o = {.mech = HVA_KERBEROS, .host = "localhost"};
  char conf[512], path[600];
  const char *dir = need_env("HVKVP_REALM_DIR");
  FILE *f;

  setenv("KRB5CCNAME", "FILE:/nonexistent/hvkvp-no-ccache", 1);
  expect_step_error(&o, "Kerberos", "no Kerberos ticket");
  {
    /* SPNEGO falls back to NTLM when NTLM credentials exist: without them
     * the missing ticket is the error. */
    char *ntlm_file = strdup(need_env("NTLM_USER_FILE"));
    unsetenv("NTLM_USER_FILE");
    o.mech = HVA_NEGOTIATE;
    expect_step_error(&o, "Negotiate", "no Kerberos ticket");
    setenv("NTLM_USER_FILE", ntlm_file, 1);
    free(ntlm_file);
  }

  o.mech = HVA_KERBEROS;
  o.user = need_env("HVKVP_TEST_PRINCIPAL");
  o.password = "not-the-password";
  expect_step_error(&o, "Kerberos", "wrong password");

  /* A KDC that does not answer: a closed loopback port. */
  snprintf(path, sizeof(path), "%s/dead-krb5.conf", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  snprintf(conf, sizeof(conf),
           "[libdefaults]\n default_realm = HVKVP.TEST\n"
           " dns_lookup_kdc = false\n udp_preference_limit = 1\n"
           "[realms]\n HVKVP.TEST = {\n  kdc = 127.0.0.1:9\n }\n");
  fputs(conf, f);
  fclose(f);
  setenv("KRB5_CONFIG", path, 1);
  o.password = need_env("HVKVP_TEST_PASSWORD");
  expect_step_error(&o, "Kerberos", "KDC unreachable");

  /* The server does not offer what we need. */
  o.mech = HVA_NTLM;
  o.user = "HVKVP\\alice";
  expect_step_error(&o, "Basic realm=\"WSMAN\"", "does not offer");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kerberos_ccache),
      cmocka_unit_test(test_kerberos_password),
      cmocka_unit_test(test_negotiate_kerberos),
      cmocka_unit_test(test_ntlm),
      cmocka_unit_test(test_kerberos_keytab),
      cmocka_unit_test(test_errors), /* changes KRB5_CONFIG: last */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
