/*
 * test_misc.c - unit tests of the small protocol pieces: name sanitising
 * table, base64 edge cases, head grammar edge cases, generation tracking,
 * items set/get/del and error names.
 */
#include "tp_util.h"

#include <stdio.h>
#include <string.h>

static void t_sanitize_table(void **state) {
  static const struct {
    const char *in;
    hvkvp_name_kind_t kind;
    const char *out;
    int changed;
  } cases[] = {
      {"", HVKVP_NAME_PLUGIN, "", 0},
      {"cpu", HVKVP_NAME_PLUGIN, "cpu", 0},
      {"if-octets", HVKVP_NAME_PLUGIN, "if_octets", 1},
      {"if-octets", HVKVP_NAME_INSTANCE, "if-octets", 0},
      {"a.b", HVKVP_NAME_INSTANCE, "a_b", 1},
      {"web-01.example.org", HVKVP_NAME_HOST, "web-01.example.org", 0},
      {"a/b c;d*e[f]", HVKVP_NAME_INSTANCE, "a_b_c_d_e_f_", 1},
      {"caf\xc3\xa9", HVKVP_NAME_INSTANCE, "caf_", 1},        /* 2-byte seq */
      {"\xe4\xb8\xad\xe6\x96\x87", HVKVP_NAME_HOST, "__", 1}, /* 2 CJK */
      {"x\xf0\x9f\x98\x80y", HVKVP_NAME_INSTANCE, "x_y", 1},  /* emoji */
      {"\xff\xfe", HVKVP_NAME_INSTANCE, "__", 1}, /* invalid bytes */
      {"\xc3", HVKVP_NAME_INSTANCE, "_", 1},      /* truncated seq */
      {"a\xed\xa0\x80"
       "b",
       HVKVP_NAME_INSTANCE, "a___b", 1}, /* surrogate */
      {"tab\there", HVKVP_NAME_HOST, "tab_here", 1},
      {"..", HVKVP_NAME_HOST, "_.", 1},
      {".", HVKVP_NAME_HOST, "_", 1},
      {".hidden", HVKVP_NAME_HOST, "_hidden", 1},
      {"site.dc:1", HVKVP_NAME_TAG, "site.dc:1", 0},
      {".x y", HVKVP_NAME_TAG, "_x_y", 1},
      {"a:b", HVKVP_NAME_HOST, "a_b", 1},
  };
  size_t i;
  char dst[HVKVP_NAME_LEN];
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int c = hvkvp_sanitize(dst, sizeof(dst), cases[i].in, cases[i].kind);
    if (strcmp(dst, cases[i].out) != 0 || c != cases[i].changed)
      fail_msg("case %zu: got \"%s\" (%d), want \"%s\" (%d)", i, dst, c,
               cases[i].out, cases[i].changed);
  }
}

static void t_sanitize_caps(void **state) {
  char big[300], dst[HVKVP_NAME_LEN + 50], small[5];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(hvkvp_sanitize(dst, sizeof(dst), big, HVKVP_NAME_PLUGIN), 1);
  assert_int_equal(strlen(dst), HVKVP_NAME_LEN - 1);
  big[HVKVP_NAME_LEN - 1] = '\0'; /* exactly 127: unchanged */
  assert_int_equal(hvkvp_sanitize(dst, sizeof(dst), big, HVKVP_NAME_PLUGIN), 0);
  assert_int_equal(strlen(dst), HVKVP_NAME_LEN - 1);
  assert_int_equal(
      hvkvp_sanitize(small, sizeof(small), "abcdef", HVKVP_NAME_PLUGIN), 1);
  assert_string_equal(small, "abcd");
  assert_int_equal(
      hvkvp_sanitize(small, sizeof(small), "abcd", HVKVP_NAME_PLUGIN), 0);
  /* a multi-byte sequence costs one output byte */
  assert_int_equal(hvkvp_sanitize(small, sizeof(small),
                                  "\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad",
                                  HVKVP_NAME_PLUGIN),
                   1);
  assert_string_equal(small, "___");
}

static void t_sanitize_in_place(void **state) {
  char buf[HVKVP_NAME_LEN] = "caf\xc3\xa9 \xf0\x9f\x98\x80/x-y.z";
  assert_int_equal(hvkvp_sanitize(buf, sizeof(buf), buf, HVKVP_NAME_PLUGIN), 1);
  assert_string_equal(buf, "caf____x_y_z"); /* e-acute, space, emoji, slash */
}

static void b64_rt(const char *in, size_t n, const char *want) {
  char enc[64];
  unsigned char dec[64];
  size_t dl = 99;
  assert_int_equal(hvkvp_b64_encoded_len(n), strlen(want));
  hvkvp_b64_encode((const unsigned char *)in, n, enc);
  assert_string_equal(enc, want);
  assert_int_equal(hvkvp_b64_decode(enc, strlen(enc), dec, sizeof(dec), &dl),
                   0);
  assert_int_equal(dl, n);
  assert_memory_equal(dec, in, n);
}

static void t_base64(void **state) {
  unsigned char out[16];
  size_t ol;
  /* RFC 4648 section 10 vectors */
  b64_rt("", 0, "");
  b64_rt("f", 1, "Zg==");
  b64_rt("fo", 2, "Zm8=");
  b64_rt("foo", 3, "Zm9v");
  b64_rt("foob", 4, "Zm9vYg==");
  b64_rt("fooba", 5, "Zm9vYmE=");
  b64_rt("foobar", 6, "Zm9vYmFy");
  b64_rt("\xff\xfe\x00\x01", 4, "//4AAQ==");
  assert_int_equal(hvkvp_b64_decode("Zg=", 3, out, sizeof(out), &ol),
                   HVKVP_E_BASE64); /* length not a multiple of 4 */
  assert_int_equal(hvkvp_b64_decode("Zg==Zg==", 8, out, sizeof(out), &ol),
                   HVKVP_E_BASE64); /* padding in the middle */
  assert_int_equal(hvkvp_b64_decode("Z===", 4, out, sizeof(out), &ol),
                   HVKVP_E_BASE64);
  assert_int_equal(hvkvp_b64_decode("====", 4, out, sizeof(out), &ol),
                   HVKVP_E_BASE64);
  assert_int_equal(hvkvp_b64_decode("Zm9v\n", 5, out, sizeof(out), &ol),
                   HVKVP_E_BASE64); /* line break */
  assert_int_equal(hvkvp_b64_decode("Zm-v", 4, out, sizeof(out), &ol),
                   HVKVP_E_BASE64); /* base64url alphabet */
  assert_int_equal(hvkvp_b64_decode("Zh==", 4, out, sizeof(out), &ol),
                   HVKVP_E_BASE64); /* non-zero trailing bits */
  assert_int_equal(hvkvp_b64_decode("Zm9=", 4, out, sizeof(out), &ol),
                   HVKVP_E_BASE64);
  assert_int_equal(hvkvp_b64_decode("Zm=v", 4, out, sizeof(out), &ol),
                   HVKVP_E_BASE64);
  assert_int_equal(hvkvp_b64_decode("Zm9vYmFy", 8, out, 5, &ol),
                   HVKVP_E_TOO_BIG); /* output buffer too small */
  assert_int_equal(hvkvp_b64_decode("Zm9vYmE=", 8, out, 5, &ol), 0);
  assert_int_equal(ol, 5);
}

static void t_head_format_parse(void **state) {
  hvkvp_head_t h = {1,  UINT64_MAX, 'B',        12345,
                    64, 64000,      0x0badf00d, HVKVP_ENC_JSON},
               p;
  char buf[160];
  hvkvp_err_t err;
  assert_int_equal(hvkvp_head_format(&h, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "v=1;epoch=18446744073709551615;slot=B;gen=12345;"
                           "n=64;len=64000;crc=0badf00d;enc=json");
  assert_int_equal(hvkvp_head_parse(buf, &p, &err), 0);
  assert_true(p.v == 1 && p.epoch == h.epoch && p.slot == h.slot &&
              p.gen == h.gen && p.n == h.n && p.len == h.len &&
              p.crc == h.crc && p.enc == h.enc);
  assert_int_equal(hvkvp_head_format(&h, buf, 20), HVKVP_E_ARG);
  h.slot = 'C';
  assert_int_equal(hvkvp_head_format(&h, buf, sizeof(buf)), HVKVP_E_ARG);
}

static void t_head_grammar(void **state) {
  static const struct {
    const char *s;
    hvkvp_rc_t rc;
  } cases[] = {
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64", HVKVP_OK},
      /* any order, unknown keys ignored, upper-case hex */
      {"enc=json;crc=ABCDEF01;len=5;n=1;gen=2;slot=B;epoch=1;v=1", HVKVP_OK},
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64;x=y;zz=",
       HVKVP_OK},
      {"", HVKVP_E_HEAD_SYNTAX},
      {"garbage", HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd", HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;enc=z64", HVKVP_E_HEAD_SYNTAX},
      {"epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64;",
       HVKVP_E_HEAD_SYNTAX}, /* empty trailing field */
      {"v=1;;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX}, /* duplicate */
      {"v=1;epoch=01;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX}, /* leading zero */
      {"v=1;epoch=18446744073709551616;slot=A;gen=2;n=1;len=5;crc=0000abcd;"
       "enc=z64",
       HVKVP_E_HEAD_SYNTAX}, /* u64 overflow */
      {"v=1;epoch=-1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=+2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=C;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=AB;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=0;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=2;len=1;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX}, /* fewer characters than chunks */
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcg;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=gzip",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1; epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX}, /* " epoch" is an unknown key: epoch missing */
      {"v=2;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_VERSION},
      {"v=2;whatever=new", HVKVP_E_VERSION},
      {"v=0;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_VERSION},
      {"v=x;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=65;len=5;crc=0000abcd;enc=z64",
       HVKVP_E_TOO_BIG},
      {"v=1;epoch=1;slot=A;gen=2;n=99999999999999999999;len=5;crc=0000abcd;"
       "enc=z64",
       HVKVP_E_HEAD_SYNTAX},
      {"v=1;epoch=1;slot=A;gen=2;n=2;len=2001;crc=0000abcd;enc=z64",
       HVKVP_E_TOO_BIG},
      {"v=1;epoch=1;slot=A;gen=2;n=64;len=64000;crc=0000abcd;enc=z64",
       HVKVP_OK},
  };
  size_t i;
  hvkvp_head_t h;
  hvkvp_err_t err;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int rc = hvkvp_head_parse(cases[i].s, &h, &err);
    if (rc != (int)cases[i].rc)
      fail_msg("case %zu \"%s\": got %s (%s), want %s", i, cases[i].s,
               hvkvp_strerror(rc), rc ? err.detail : "",
               hvkvp_strerror(cases[i].rc));
    if (rc != 0)
      assert_true(strlen(err.detail) > 0);
  }
  assert_int_equal(hvkvp_head_parse(cases[1].s, &h, &err), 0);
  assert_true(h.slot == 'B' && h.enc == HVKVP_ENC_JSON &&
              h.crc == 0xabcdef01u && h.gen == 2 && h.epoch == 1 && h.n == 1 &&
              h.len == 5);
  /* an over-long head */
  {
    static char longhead[HVKVP_VALUE_LEN + 10];
    strcpy(longhead,
           "v=1;epoch=1;slot=A;gen=2;n=1;len=5;crc=0000abcd;enc=z64;x=");
    memset(longhead + strlen(longhead), 'x',
           sizeof(longhead) - strlen(longhead) - 1);
    assert_int_equal(hvkvp_head_parse(longhead, &h, &err), HVKVP_E_HEAD_SYNTAX);
  }
}

static void t_gen_tracking(void **state) {
  hvkvp_gen_t t = {0, 0, 0};
  assert_int_equal(hvkvp_gen_accept(&t, 5, 10), 1); /* first */
  assert_int_equal(hvkvp_gen_accept(&t, 5, 10), 0); /* duplicate */
  assert_int_equal(hvkvp_gen_accept(&t, 5, 9), 0);  /* backwards */
  assert_int_equal(hvkvp_gen_accept(&t, 5, 11), 1);
  assert_int_equal(hvkvp_gen_accept(&t, 5, 100), 1); /* gaps are fine */
  assert_int_equal(hvkvp_gen_accept(&t, 6, 1), 1);   /* new epoch resets */
  assert_int_equal(hvkvp_gen_accept(&t, 6, 1), 0);
  assert_int_equal(hvkvp_gen_accept(&t, 6, 2), 1);
  assert_int_equal(hvkvp_gen_accept(&t, 5, 200), 1); /* any other epoch */
  assert_int_equal(hvkvp_gen_accept(&t, 5, 150), 0);
  assert_true(t.epoch == 5 && t.gen == 200);
  {
    hvkvp_gen_t z = {0, 0, 0};
    assert_int_equal(hvkvp_gen_accept(&z, 0, 0), 1);
    assert_int_equal(hvkvp_gen_accept(&z, 0, 0), 0);
  }
}

static void t_items(void **state) {
  hvkvp_items_t it;
  char k[16];
  int i;
  hvkvp_items_init(&it);
  assert_null(hvkvp_items_get(&it, "a"));
  assert_int_equal(hvkvp_items_set(&it, "a", "1"), 0);
  assert_int_equal(hvkvp_items_set(&it, "b", "2"), 0);
  assert_int_equal(hvkvp_items_set(&it, "a", "3"), 0);
  assert_int_equal(it.n, 2);
  assert_string_equal(hvkvp_items_get(&it, "a"), "3");
  assert_int_equal(hvkvp_items_del(&it, "a"), 1);
  assert_int_equal(hvkvp_items_del(&it, "a"), 0);
  assert_string_equal(hvkvp_items_get(&it, "b"), "2");
  for (i = 0; i < 100; i++) {
    snprintf(k, sizeof(k), "k%d", i);
    assert_int_equal(hvkvp_items_set(&it, k, k), 0);
  }
  assert_int_equal(it.n, 101);
  assert_string_equal(hvkvp_items_get(&it, "k77"), "k77");
  assert_int_equal(hvkvp_items_set(&it, NULL, "x"), -1);
  hvkvp_items_free(&it);
  assert_int_equal(it.n, 0);
}

static void t_error_names(void **state) {
  int rc;
  for (rc = HVKVP_OK; rc <= HVKVP_E_ARG; rc++)
    assert_string_not_equal(hvkvp_strerror((hvkvp_rc_t)rc), "UNKNOWN");
  assert_string_equal(hvkvp_strerror(HVKVP_E_TOO_BIG), "TOO_BIG");
  assert_string_equal(hvkvp_strerror(HVKVP_E_HEAD_SYNTAX), "HEAD_SYNTAX");
  assert_true(hvkvp_err_is_torn(HVKVP_E_CRC));
  assert_true(hvkvp_err_is_torn(HVKVP_E_MISSING_CHUNK));
  assert_true(hvkvp_err_is_torn(HVKVP_E_LENGTH));
  assert_false(hvkvp_err_is_torn(HVKVP_E_SCHEMA));
  assert_false(hvkvp_err_is_torn(HVKVP_E_BASE64));
  assert_false(hvkvp_err_is_torn(HVKVP_OK));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_sanitize_table),    cmocka_unit_test(t_sanitize_caps),
      cmocka_unit_test(t_sanitize_in_place), cmocka_unit_test(t_base64),
      cmocka_unit_test(t_head_format_parse), cmocka_unit_test(t_head_grammar),
      cmocka_unit_test(t_gen_tracking),      cmocka_unit_test(t_items),
      cmocka_unit_test(t_error_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
