/*
 * test_seal_ntlm.c - unit test (no KDC, no other process): a real NTLM
 * context pair in-process (gss-ntlmssp; our hva_step initiator against
 * gss_accept_sec_context with a throwaway NTLM_USER_FILE), then sealing both
 * ways through the MS-WSMV multipart format, a tampered body -> decryption
 * failure naming the host, and a protocol mismatch refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gssapi/gssapi.h>

#include "gss.h"
#include "seal.h"

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
    if ((bits += 6) >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

static char *b64enc(const uint8_t *in, size_t n) {
  char *o = malloc(n * 4 / 3 + 8), *p = o;
  for (size_t i = 0; i < n; i += 3) {
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
  char dir[64];
  char file[96];
  hva_ctx_t *c;
  gss_ctx_id_t srv;
} fx_t;

static int setup(void **state) {
  fx_t *f = calloc(1, sizeof(*f));
  FILE *fp;
  if (f == NULL)
    return -1;
  snprintf(f->dir, sizeof(f->dir), "/tmp/hvkvp-ntlm-XXXXXX");
  if (mkdtemp(f->dir) == NULL) {
    free(f);
    return -1;
  }
  snprintf(f->file, sizeof(f->file), "%s/users", f->dir);
  fp = fopen(f->file, "w");
  if (fp == NULL) {
    rmdir(f->dir);
    free(f);
    return -1;
  }
  fputs("UNIT:tester:Unit-Pass-1\n", fp);
  fclose(fp);
  setenv("NTLM_USER_FILE", f->file, 1);
  f->srv = GSS_C_NO_CONTEXT;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx_t *f = *state;
  OM_uint32 minor;
  if (f->srv != GSS_C_NO_CONTEXT)
    gss_delete_sec_context(&minor, &f->srv, GSS_C_NO_BUFFER);
  hva_free(f->c);
  unlink(f->file);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* Token exchange as over HTTP (Negotiate carrying raw NTLM). Returns the
 * acceptor's final major status. */
static OM_uint32 establish(fx_t *f, const char *user, const char *pw) {
  hva_opts_t o = {.mech = HVA_NTLM, .host = "hv-unit"};
  static uint8_t buf[65536];
  char *authz = NULL, www[70000];
  ws_err_t err;
  OM_uint32 major = GSS_S_FAILURE, minor;
  o.user = user;
  o.password = pw;
  f->c = hva_new(&o, &err);
  assert_non_null(f->c);
  /* Challenges joined in one header value are understood as well. */
  if (hva_step(f->c, "Basic realm=\"WSMAN\", Negotiate", &authz, &err) != 0)
    fail_msg("first step: %s", err.msg);
  assert_non_null(authz);
  assert_int_equal(strncmp(authz, "Negotiate ", 10), 0);
  while (authz != NULL) {
    gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
    in.length = b64dec(authz + 10, buf);
    in.value = buf;
    free(authz);
    authz = NULL;
    major = gss_accept_sec_context(&minor, &f->srv, GSS_C_NO_CREDENTIAL, &in,
                                   GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL, &out,
                                   NULL, NULL, NULL);
    if (GSS_ERROR(major))
      return major;
    if (out.length > 0) {
      char *t = b64enc(out.value, out.length);
      snprintf(www, sizeof(www), "Negotiate %s", t);
      free(t);
      gss_release_buffer(&minor, &out);
      if (hva_step(f->c, www, &authz, &err) != 0)
        fail_msg("step: %s", err.msg);
    }
  }
  return major;
}

static void server_seal(fx_t *f, const char *msg, uint8_t **body,
                        size_t *blen) {
  OM_uint32 minor;
  int conf = 0;
  gss_buffer_desc in = {strlen(msg), (void *)msg}, out = GSS_C_EMPTY_BUFFER;
  assert_false(GSS_ERROR(
      gss_wrap(&minor, f->srv, 1, GSS_C_QOP_DEFAULT, &in, &conf, &out)));
  assert_true(conf);
  assert_int_equal(wseal_build(WSEAL_PROTO_SPNEGO, in.length, out.value, 16,
                               (uint8_t *)out.value + 16, out.length - 16, body,
                               blen),
                   0);
  gss_release_buffer(&minor, &out);
}

static void test_round_trip_and_tamper(void **state) {
  fx_t *f = *state;
  const char *soap = "<s:Envelope><s:Body>unit</s:Body></s:Envelope>";
  uint8_t *body = NULL, *plain = NULL;
  size_t blen = 0, plen = 0;
  char ct[256], why[160];
  wseal_parts_t p;
  ws_err_t err;
  OM_uint32 minor;

  assert_int_equal(establish(f, "UNIT\\tester", "Unit-Pass-1"), GSS_S_COMPLETE);
  assert_true(hva_established(f->c));
  assert_string_equal(hva_protocol(f->c), WSEAL_PROTO_SPNEGO);

  for (int i = 0; i < 3; i++) {
    /* client -> server */
    assert_int_equal(
        hva_seal(f->c, soap, strlen(soap), &body, &blen, ct, sizeof(ct), &err),
        0);
    assert_int_equal(wseal_parse(ct, body, blen, &p, why, sizeof(why)), 0);
    assert_int_equal(p.siglen, WSEAL_NTLM_SIG_LEN);
    /* NTLMSSP message signature version 1 leads the signature */
    assert_memory_equal(p.sig, "\x01\x00\x00\x00", 4);
    assert_null(memmem(body, blen, "unit", 4));
    {
      uint8_t *tok = malloc(p.siglen + p.datalen);
      gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
      memcpy(tok, p.sig, p.siglen);
      memcpy(tok + p.siglen, p.data, p.datalen);
      in.value = tok;
      in.length = p.siglen + p.datalen;
      assert_false(
          GSS_ERROR(gss_unwrap(&minor, f->srv, &in, &out, NULL, NULL)));
      assert_int_equal(out.length, strlen(soap));
      assert_memory_equal(out.value, soap, out.length);
      gss_release_buffer(&minor, &out);
      free(tok);
    }
    free(body);
    /* server -> client */
    server_seal(f, soap, &body, &blen);
    assert_int_equal(
        hva_unseal(f->c, ct, body, blen, &plain, &plen, NULL, 0, &err), 0);
    assert_int_equal(plen, strlen(soap));
    assert_memory_equal(plain, soap, plen);
    free(plain);
    free(body);
  }

  /* A reply claiming the Kerberos protocol on this session is refused. */
  server_seal(f, soap, &body, &blen);
  {
    char kct[256];
    assert_int_equal(wseal_content_type(WSEAL_PROTO_KERBEROS, kct, 256), 0);
    assert_int_equal(
        hva_unseal(f->c, kct, body, blen, &plain, &plen, NULL, 0, &err), -1);
    assert_int_equal(err.kind, WS_ERR_PARSE);
  }
  free(body);

  /* Tampered data: decryption failure naming the host. */
  server_seal(f, soap, &body, &blen);
  body[blen - strlen("--Encrypted Boundary--\r\n") - 2] ^= 0x20;
  assert_int_equal(
      hva_unseal(f->c, ct, body, blen, &plain, &plen, NULL, 0, &err), -1);
  assert_null(plain);
  assert_int_equal(err.kind, WS_ERR_AUTH);
  assert_non_null(strstr(err.msg, "decryption failure"));
  assert_non_null(strstr(err.msg, "hv-unit"));
  free(body);
}

static void test_wrong_password_rejected_by_acceptor(void **state) {
  fx_t *f = *state;
  OM_uint32 major = establish(f, "UNIT\\tester", "Wrong-Pass");
  assert_true(GSS_ERROR(major));
}

static void test_not_established(void **state) {
  fx_t *f = *state;
  hva_opts_t o = {.mech = HVA_NTLM,
                  .host = "hv-unit",
                  .user = "UNIT\\tester",
                  .password = "x"};
  uint8_t *body = NULL;
  size_t blen;
  char ct[256];
  ws_err_t err;
  f->c = hva_new(&o, &err);
  assert_int_equal(
      hva_seal(f->c, "<a/>", 4, &body, &blen, ct, sizeof(ct), &err), -1);
  assert_null(body);
  assert_non_null(strstr(err.msg, "not authenticated"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip_and_tamper, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_wrong_password_rejected_by_acceptor,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_established, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
