/*
 * test_seal_parse.c - unit tests of the MS-WSMV multipart/encrypted builder
 * and its strict parser (wsman_seal.c) on good and malformed bodies, and of
 * the Auth / Encryption option parsers (auth_gss.c). No GSS context needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gss.h"
#include "seal.h"

#define CT_SPNEGO                                                              \
  "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-"            \
  "encrypted\";boundary=\"Encrypted Boundary\""

/* A body laid out as Windows sends it (tabs, CRLF), signature
 * "SIGNATURE1234567" (16 bytes, like NTLM) and 5 bytes of "encrypted" data. */
static const char win_body[] =
    "--Encrypted Boundary\r\n"
    "\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
    "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=5\r\n"
    "--Encrypted Boundary\r\n"
    "\tContent-Type: application/octet-stream\r\n"
    "\x10\x00\x00\x00"
    "SIGNATURE1234567"
    "\x01\x02\r\n\x03"
    "--Encrypted Boundary--\r\n";

static size_t win_len(void) {
  return sizeof(win_body) - 1;
}

static void test_windows_layout(void **state) {
  wseal_parts_t p;
  char why[160] = "";
  assert_int_equal(wseal_parse(CT_SPNEGO, (const uint8_t *)win_body, win_len(),
                               &p, why, sizeof(why)),
                   0);
  assert_string_equal(p.protocol, WSEAL_PROTO_SPNEGO);
  assert_string_equal(p.orig_type, "application/soap+xml;charset=UTF-8");
  assert_int_equal(p.orig_len, 5);
  assert_int_equal(p.siglen, 16);
  assert_memory_equal(p.sig, "SIGNATURE1234567", 16);
  assert_int_equal(p.datalen, 5);
  assert_memory_equal(p.data, "\x01\x02\r\n\x03", 5);
}

static void test_build_matches_layout(void **state) {
  uint8_t *b = NULL;
  size_t n = 0;
  char ct[256];
  assert_int_equal(wseal_build(WSEAL_PROTO_SPNEGO, 5,
                               (const uint8_t *)"SIGNATURE1234567", 16,
                               (const uint8_t *)"\x01\x02\r\n\x03", 5, &b, &n),
                   0);
  assert_int_equal(n, win_len());
  assert_memory_equal(b, win_body, n);
  free(b);
  assert_int_equal(wseal_content_type(WSEAL_PROTO_SPNEGO, ct, sizeof(ct)), 0);
  assert_string_equal(ct, CT_SPNEGO);
  assert_int_equal(wseal_content_type(WSEAL_PROTO_SPNEGO, ct, 20), -1);
}

static void test_build_parse_kerberos_binary(void **state) {
  uint8_t sig[60], data[1000], *b = NULL;
  size_t n = 0, i;
  wseal_parts_t p;
  char why[160];
  char ct[256];
  /* Binary that contains the boundary text itself must not confuse it. */
  for (i = 0; i < sizeof(sig); i++)
    sig[i] = (uint8_t)(i * 7);
  memset(data, '-', sizeof(data));
  memcpy(data + 100, "--Encrypted Boundary--\r\n", 24);
  memcpy(data + 500, "--Encrypted Boundary\r\n", 22);
  assert_int_equal(wseal_build(WSEAL_PROTO_KERBEROS, 1234, sig, sizeof(sig),
                               data, sizeof(data), &b, &n),
                   0);
  assert_int_equal(wseal_content_type(WSEAL_PROTO_KERBEROS, ct, sizeof(ct)), 0);
  assert_int_equal(wseal_parse(ct, b, n, &p, why, sizeof(why)), 0);
  assert_string_equal(p.protocol, WSEAL_PROTO_KERBEROS);
  assert_int_equal(p.orig_len, 1234);
  assert_int_equal(p.siglen, sizeof(sig));
  assert_memory_equal(p.sig, sig, sizeof(sig));
  assert_int_equal(p.datalen, sizeof(data));
  assert_memory_equal(p.data, data, sizeof(data));
  /* The SPNEGO protocol in the header does not match a Kerberos part. */
  assert_int_equal(wseal_parse(CT_SPNEGO, b, n, &p, why, sizeof(why)), -1);
  assert_non_null(strstr(why, "protocol named in the HTTP Content-Type"));
  free(b);
}

static void test_tolerated_variants(void **state) {
  /* No tabs, unquoted parameters, no final CRLF, mixed case. */
  static const char body[] =
      "--Encrypted Boundary\r\n"
      "Content-Type: application/http-spnego-session-encrypted\r\n"
      "originalcontent: type=application/soap+xml; charset=UTF-8; "
      "length=2\r\n"
      "--Encrypted Boundary\r\n"
      "content-type: Application/Octet-Stream\r\n"
      "\x01\x00\x00\x00"
      "S"
      "ab"
      "--Encrypted Boundary--";
  wseal_parts_t p;
  char why[160] = "";
  assert_int_equal(
      wseal_parse("Multipart/Encrypted; boundary=\"Encrypted Boundary\"; "
                  "protocol=application/HTTP-SPNEGO-session-encrypted",
                  (const uint8_t *)body, sizeof(body) - 1, &p, why,
                  sizeof(why)),
      0);
  assert_int_equal(p.orig_len, 2);
  assert_int_equal(p.siglen, 1);
  assert_int_equal(p.datalen, 2);
  assert_memory_equal(p.data, "ab", 2);
}

/* Replaces the first `from` in the Windows body by `to` and parses. */
static int parse_mutated(const char *ct, const char *from, const char *to,
                         char *why, size_t whysz) {
  char buf[1024];
  const char *at = NULL;
  size_t i, fl = strlen(from), tl = strlen(to), n = win_len();
  wseal_parts_t p;
  for (i = 0; i + fl <= n; i++)
    if (memcmp(win_body + i, from, fl) == 0) {
      at = win_body + i;
      break;
    }
  assert_non_null(at);
  assert_true(n - fl + tl < sizeof(buf));
  memcpy(buf, win_body, (size_t)(at - win_body));
  memcpy(buf + (at - win_body), to, tl);
  memcpy(buf + (at - win_body) + tl, at + fl, n - (size_t)(at - win_body) - fl);
  return wseal_parse(ct, (const uint8_t *)buf, n - fl + tl, &p, why, whysz);
}

static void expect_bad(const char *ct, const char *from, const char *to,
                       const char *reason) {
  char why[160] = "";
  assert_int_equal(parse_mutated(ct, from, to, why, sizeof(why)), -1);
  if (strstr(why, reason) == NULL)
    fail_msg("expected '%s' in '%s'", reason, why);
}

static void test_malformed_bodies(void **state) {
  expect_bad(CT_SPNEGO, "--Encrypted Boundary\r\n\tContent-Type: app",
             "--Other Boundary\r\n\tContent-Type: app", "start with");
  expect_bad(CT_SPNEGO, "--Encrypted Boundary--", "--Encrypted Boundary-X",
             "closing boundary");
  expect_bad(CT_SPNEGO, "\x10\x00\x00\x00", "\x7f\x00\x00\x00",
             "signature length");
  expect_bad(CT_SPNEGO, "\x10\x00\x00\x00", "\xff\xff\xff\xff",
             "signature length");
  expect_bad(CT_SPNEGO, "\x10\x00\x00\x00", "\x00\x00\x00\x00",
             "signature length");
  expect_bad(CT_SPNEGO, "Length=5", "Length=x5", "Length");
  expect_bad(CT_SPNEGO, "Length=5", "Length=99999999999", "Length");
  expect_bad(CT_SPNEGO, "Length=5", "Length=5;Length=5", "Length");
  expect_bad(CT_SPNEGO, ";Length=5", "", "lacks type or Length");
  expect_bad(CT_SPNEGO, "\tOriginalContent", "\tX-Original", "lacks");
  expect_bad(CT_SPNEGO, "application/HTTP-SPNEGO-session-encrypted\r\n",
             "application/HTTP-Kerberos-session-encrypted\r\n",
             "protocol named");
  expect_bad(CT_SPNEGO, "application/octet-stream", "application/x-binary",
             "application/octet-stream");
  expect_bad(CT_SPNEGO, "\tOriginalContent:", "\tOriginalContent\x01",
             "malformed header");
  expect_bad(CT_SPNEGO, "\tOriginalContent:", "\tOriginal\nContent:",
             "bad or over-long line");
  {
    char longline[700];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    memcpy(longline, "\tX-Pad: ", 8);
    expect_bad(CT_SPNEGO, "\tOriginalContent:", longline,
               "bad or over-long line");
  }
  expect_bad(CT_SPNEGO, "\tOriginalContent:",
             "\tA: 1\r\n\tB: 2\r\n\tC: 3\r\n\tD: 4\r\n\tE: 5\r\n\tF: 6\r\n"
             "\tG: 7\r\n\tOriginalContent:",
             "too many header lines");
}

static void test_bad_content_types(void **state) {
  static const char *bad[] = {
      NULL,
      "application/soap+xml;charset=UTF-8",
      "multipart/encrypted;boundary=\"Encrypted Boundary\"",
      "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-"
      "encrypted\"",
      "multipart/encrypted;protocol=\"application/HTTP-CredSSP-session-"
      "encrypted\";boundary=\"Encrypted Boundary\"",
      "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-"
      "encrypted;boundary=\"Encrypted Boundary\"",
      "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-"
      "encrypted\";boundary=\"\"",
      "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-"
      "encrypted\";boundary=\"Another\"",
      "multipart/encrypted;protocol",
  };
  size_t i;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    wseal_parts_t p;
    char why[160] = "";
    if (wseal_parse(bad[i], (const uint8_t *)win_body, win_len(), &p, why,
                    sizeof(why)) != -1)
      fail_msg("content type %zu accepted", i);
    assert_true(why[0] != '\0');
  }
}

static void test_every_truncation_fails(void **state) {
  size_t n;
  /* Dropping only the final CRLF is still a complete body. */
  for (n = 0; n + 2 < win_len(); n++) {
    wseal_parts_t p;
    char why[160];
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */
    memcpy(copy, win_body, n);
    if (wseal_parse(CT_SPNEGO, copy, n, &p, why, sizeof(why)) != -1)
      fail_msg("truncated body of %zu bytes accepted", n);
    free(copy);
  }
}

static void test_is_sealed(void **state) {
  assert_true(wseal_is_sealed(CT_SPNEGO));
  assert_true(wseal_is_sealed(" multipart/encrypted"));
  assert_false(wseal_is_sealed("multipart/encryptedx"));
  assert_false(wseal_is_sealed("application/soap+xml;charset=UTF-8"));
  assert_false(wseal_is_sealed(NULL));
}

static void test_option_parsers(void **state) {
  hva_mech_t m;
  hva_enc_t e;
  assert_int_equal(hva_mech_parse("Kerberos", &m), 0);
  assert_int_equal(m, HVA_KERBEROS);
  assert_int_equal(hva_mech_parse("ntlm", &m), 0);
  assert_int_equal(m, HVA_NTLM);
  assert_int_equal(hva_mech_parse("NEGOTIATE", &m), 0);
  assert_int_equal(m, HVA_NEGOTIATE);
  assert_int_equal(hva_mech_parse("basic", &m), -1);
  assert_int_equal(hva_mech_parse(NULL, &m), -1);
  assert_int_equal(hva_enc_parse("auto", &e), 0);
  assert_int_equal(e, HVA_ENC_AUTO);
  assert_int_equal(hva_enc_parse("Required", &e), 0);
  assert_int_equal(e, HVA_ENC_REQUIRED);
  assert_int_equal(hva_enc_parse("off", &e), 0);
  assert_int_equal(e, HVA_ENC_OFF);
  assert_int_equal(hva_enc_parse("on", &e), -1);
}

static void test_new_requires_ntlm_credentials(void **state) {
  hva_opts_t o = {.mech = HVA_NTLM, .host = "hv01"};
  ws_err_t err;
  unsetenv("NTLM_USER_FILE");
  assert_null(hva_new(&o, &err));
  assert_int_equal(err.kind, WS_ERR_CONFIG);
  assert_non_null(strstr(err.msg, "hv01"));
  o.host = NULL;
  assert_null(hva_new(&o, &err));
  o.host = "hv01";
  o.user = "DOM\\u";
  o.password = "pw";
  hva_ctx_t *c = hva_new(&o, &err);
  assert_non_null(c);
  assert_false(hva_established(c));
  hva_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_windows_layout),
      cmocka_unit_test(test_build_matches_layout),
      cmocka_unit_test(test_build_parse_kerberos_binary),
      cmocka_unit_test(test_tolerated_variants),
      cmocka_unit_test(test_malformed_bodies),
      cmocka_unit_test(test_bad_content_types),
      cmocka_unit_test(test_every_truncation_fails),
      cmocka_unit_test(test_is_sealed),
      cmocka_unit_test(test_option_parsers),
      cmocka_unit_test(test_new_requires_ntlm_credentials),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
