/*
 * test_decode.c - every hvkvp_decode error code, each from a crafted set of
 * items, with the detail text checked where it names the culprit; the zlib
 * bomb and oversize inputs.
 */
#include "tp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *const GOOD_JSON =
    "{\"v\":1,\"host\":\"h\",\"time\":1,\"interval\":10,\"seq\":1,"
    "\"config\":\"\",\"values\":[]}";

/* Frames arbitrary chunk text as gen 17, epoch 9, slot A in chunks of
 * HVKVP_CHUNK_MAX with a correct head. */
static void put_text(hvkvp_items_t *it, const char *text, size_t len,
                     hvkvp_enc_t enc) {
  hvkvp_head_t h = {1, 9, 'A', 17, 0, len, 0, enc};
  char key[64], head[160], chunk[HVKVP_CHUNK_MAX + 1];
  size_t i;
  h.n = (len + HVKVP_CHUNK_MAX - 1) / HVKVP_CHUNK_MAX;
  h.crc = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)len);
  for (i = 0; i < h.n; i++) {
    size_t cl = len - i * HVKVP_CHUNK_MAX;
    if (cl > HVKVP_CHUNK_MAX)
      cl = HVKVP_CHUNK_MAX;
    memcpy(chunk, text + i * HVKVP_CHUNK_MAX, cl);
    chunk[cl] = '\0';
    snprintf(key, sizeof(key), "hvkvp.A.%zu", i);
    assert_int_equal(hvkvp_items_set(it, key, chunk), 0);
  }
  assert_int_equal(hvkvp_head_format(&h, head, sizeof(head)), 0);
  assert_int_equal(hvkvp_items_set(it, "hvkvp.head", head), 0);
}

/* Frames raw bytes as z64: zlib deflate, base64. */
static void put_z64(hvkvp_items_t *it, const void *raw, size_t n) {
  uLongf zl = compressBound((uLong)n);
  unsigned char *z = malloc(zl);
  char *b;
  assert_non_null(z);
  assert_int_equal(compress2(z, &zl, raw, (uLong)n, 9), Z_OK);
  b = malloc(hvkvp_b64_encoded_len(zl) + 1);
  assert_non_null(b);
  hvkvp_b64_encode(z, zl, b);
  put_text(it, b, strlen(b), HVKVP_ENC_Z64);
  free(b);
  free(z);
}

static int decode_rc(const hvkvp_items_t *it, hvkvp_err_t *err) {
  hvkvp_msg_t m;
  int rc = hvkvp_decode(it, NULL, &m, NULL, err);
  hvkvp_msg_free(&m);
  if (rc != 0)
    assert_int_equal(err->code, rc);
  return rc;
}

static void expect(const hvkvp_items_t *it, hvkvp_rc_t want,
                   const char *detail_part) {
  hvkvp_err_t err;
  int rc = decode_rc(it, &err);
  if (rc != (int)want)
    fail_msg("got %s (%s), want %s", hvkvp_strerror(rc), rc ? err.detail : "",
             hvkvp_strerror(want));
  if (detail_part != NULL && strstr(err.detail, detail_part) == NULL)
    fail_msg("detail \"%s\" lacks \"%s\"", err.detail, detail_part);
}

static void t_ok_both_encodings(void **state) {
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  put_text(&it, GOOD_JSON, strlen(GOOD_JSON), HVKVP_ENC_JSON);
  expect(&it, HVKVP_OK, NULL);
  hvkvp_items_free(&it);
  put_z64(&it, GOOD_JSON, strlen(GOOD_JSON));
  expect(&it, HVKVP_OK, NULL);
  hvkvp_items_free(&it);
}

static void t_nohead(void **state) {
  hvkvp_items_t it;
  hvkvp_msg_t m;
  hvkvp_err_t err;
  hvkvp_items_init(&it);
  expect(&it, HVKVP_E_NOHEAD, "hvkvp.head");
  put_text(&it, GOOD_JSON, strlen(GOOD_JSON), HVKVP_ENC_JSON);
  assert_int_equal(hvkvp_decode(&it, "other", &m, NULL, &err), HVKVP_E_NOHEAD);
  assert_non_null(strstr(err.detail, "other.head"));
  assert_int_equal(hvkvp_decode(NULL, NULL, &m, NULL, &err), HVKVP_E_NOHEAD);
  hvkvp_items_free(&it);
}

static void t_head_errors(void **state) {
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  put_text(&it, GOOD_JSON, strlen(GOOD_JSON), HVKVP_ENC_JSON);
  hvkvp_items_set(&it, "hvkvp.head", "v=1;epoch=1");
  expect(&it, HVKVP_E_HEAD_SYNTAX, "slot");
  hvkvp_items_set(&it, "hvkvp.head",
                  "v=7;epoch=1;slot=A;gen=1;n=1;len=1;crc=00000000;enc=z64");
  expect(&it, HVKVP_E_VERSION, "v=7");
  hvkvp_items_set(&it, "hvkvp.head",
                  "v=1;epoch=1;slot=A;gen=1;n=65;len=1;crc=00000000;enc=z64");
  expect(&it, HVKVP_E_TOO_BIG, "n=65");
  hvkvp_items_set(&it, "hvkvp.head",
                  "v=1;epoch=1;slot=A;gen=1;n=1;len=1001;"
                  "crc=00000000;enc=z64");
  expect(&it, HVKVP_E_TOO_BIG, "len=1001");
  hvkvp_items_free(&it);
}

static void t_missing_chunk(void **state) {
  hvkvp_items_t it;
  char big[2500];
  memset(big, ' ', sizeof(big));
  memcpy(big, GOOD_JSON, strlen(GOOD_JSON)); /* JSON + trailing spaces */
  hvkvp_items_init(&it);
  put_text(&it, big, sizeof(big), HVKVP_ENC_JSON);
  expect(&it, HVKVP_OK, NULL);
  hvkvp_items_del(&it, "hvkvp.A.1");
  expect(&it, HVKVP_E_MISSING_CHUNK,
         "chunk hvkvp.A.1 missing (head gen 17 names 3 chunks)");
  assert_true(hvkvp_err_is_torn(HVKVP_E_MISSING_CHUNK));
  hvkvp_items_free(&it);
}

static void t_length(void **state) {
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  put_text(&it, GOOD_JSON, strlen(GOOD_JSON), HVKVP_ENC_JSON);
  {
    char v[200];
    snprintf(v, sizeof(v), "%s ", hvkvp_items_get(&it, "hvkvp.A.0"));
    hvkvp_items_set(&it, "hvkvp.A.0", v); /* one character too many */
  }
  expect(&it, HVKVP_E_LENGTH, "len=");
  hvkvp_items_set(&it, "hvkvp.A.0", "{}"); /* too few */
  expect(&it, HVKVP_E_LENGTH, "says len=");
  hvkvp_items_set(&it, "hvkvp.A.0", tp_repeat(' ', HVKVP_CHUNK_MAX + 1));
  expect(&it, HVKVP_E_LENGTH, "longer than 1000");
  hvkvp_items_set(&it, "hvkvp.A.0", "");
  expect(&it, HVKVP_E_LENGTH, "empty");
  hvkvp_items_free(&it);
}

static void t_crc(void **state) {
  hvkvp_items_t it;
  char v[200];
  hvkvp_items_init(&it);
  put_text(&it, GOOD_JSON, strlen(GOOD_JSON), HVKVP_ENC_JSON);
  snprintf(v, sizeof(v), "%s", hvkvp_items_get(&it, "hvkvp.A.0"));
  v[strlen(v) - 3] ^= 1; /* same length, one bit off */
  hvkvp_items_set(&it, "hvkvp.A.0", v);
  expect(&it, HVKVP_E_CRC, "head gen 17 crc=");
  hvkvp_items_free(&it);
}

static void t_base64_err(void **state) {
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  put_text(&it, "Zm9v!mFy", 8, HVKVP_ENC_Z64);
  expect(&it, HVKVP_E_BASE64, "gen 17");
  hvkvp_items_free(&it);
  put_text(&it, "Zm9vY", 5, HVKVP_ENC_Z64);
  expect(&it, HVKVP_E_BASE64, NULL);
  hvkvp_items_free(&it);
}

static void t_inflate_err(void **state) {
  hvkvp_items_t it;
  char b[512];
  uLongf zl = 256;
  unsigned char z[256];
  hvkvp_items_init(&it);
  hvkvp_b64_encode((const unsigned char *)"not a zlib stream", 17, b);
  put_text(&it, b, strlen(b), HVKVP_ENC_Z64);
  expect(&it, HVKVP_E_INFLATE, "invalid deflate");
  hvkvp_items_free(&it);
  /* truncated stream */
  assert_int_equal(
      compress2(z, &zl, (const Bytef *)GOOD_JSON, (uLong)strlen(GOOD_JSON), 6),
      Z_OK);
  hvkvp_b64_encode(z, zl - 5, b);
  put_text(&it, b, strlen(b), HVKVP_ENC_Z64);
  expect(&it, HVKVP_E_INFLATE, "truncated");
  hvkvp_items_free(&it);
  /* garbage after the stream */
  {
    unsigned char zz[300];
    char bb[500];
    memcpy(zz, z, zl);
    memcpy(zz + zl, "XYZ", 3);
    hvkvp_b64_encode(zz, zl + 3, bb);
    put_text(&it, bb, strlen(bb), HVKVP_ENC_Z64);
    expect(&it, HVKVP_E_INFLATE, "garbage after");
    hvkvp_items_free(&it);
  }
}

static void t_bomb(void **state) {
  /* 16 MB of spaces deflates to ~16 KB; 1 MB to ~1 KB: both must stop at
   * HVKVP_MAX_DECODED with TOO_BIG. */
  size_t sizes[] = {1024 * 1024, 16 * 1024 * 1024, HVKVP_MAX_DECODED + 1};
  size_t i;
  for (i = 0; i < 3; i++) {
    hvkvp_items_t it;
    char *raw = malloc(sizes[i]);
    assert_non_null(raw);
    memset(raw, ' ', sizes[i]);
    hvkvp_items_init(&it);
    put_z64(&it, raw, sizes[i]);
    if (i == 0)
      assert_true(hvkvp_items_get(&it, "hvkvp.head") != NULL &&
                  strstr(hvkvp_items_get(&it, "hvkvp.head"), ";n=2;") != NULL);
    expect(&it, HVKVP_E_TOO_BIG, "more than 262144");
    hvkvp_items_free(&it);
    free(raw);
  }
  /* exactly the cap, then the stream is cut: truncated, not too big */
  {
    hvkvp_items_t it;
    uLongf zl = compressBound(HVKVP_MAX_DECODED);
    unsigned char *z = malloc(zl);
    char *raw = malloc(HVKVP_MAX_DECODED), *b;
    assert_non_null(z);
    assert_non_null(raw);
    memset(raw, ' ', HVKVP_MAX_DECODED);
    assert_int_equal(
        compress2(z, &zl, (const Bytef *)raw, HVKVP_MAX_DECODED, 9), Z_OK);
    b = malloc(hvkvp_b64_encoded_len(zl) + 1);
    assert_non_null(b);
    hvkvp_b64_encode(z, zl - 4, b); /* drop the Adler-32 trailer */
    hvkvp_items_init(&it);
    put_text(&it, b, strlen(b), HVKVP_ENC_Z64);
    expect(&it, HVKVP_E_INFLATE, "truncated");
    hvkvp_items_free(&it);
    free(b);
    free(raw);
    free(z);
  }
  /* exactly at the cap: inflates fine, then it is JSON's turn */
  {
    hvkvp_items_t it;
    char *raw = malloc(HVKVP_MAX_DECODED);
    assert_non_null(raw);
    memset(raw, ' ', HVKVP_MAX_DECODED);
    memcpy(raw, GOOD_JSON, strlen(GOOD_JSON));
    hvkvp_items_init(&it);
    put_z64(&it, raw, HVKVP_MAX_DECODED);
    expect(&it, HVKVP_OK, NULL);
    hvkvp_items_free(&it);
    free(raw);
  }
}

static void t_json_and_schema(void **state) {
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  put_text(&it, "{\"v\":1,", 7, HVKVP_ENC_JSON);
  expect(&it, HVKVP_E_JSON, NULL);
  hvkvp_items_free(&it);
  put_z64(&it, "{\"v\":1,\"host\":tru", 18);
  expect(&it, HVKVP_E_JSON, "invalid JSON");
  hvkvp_items_free(&it);
  put_z64(&it, "[1,2", 4); /* not an object: refused before the syntax */
  expect(&it, HVKVP_E_SCHEMA, "expected an object");
  hvkvp_items_free(&it);
  put_text(&it, "{\"v\":1}", 7, HVKVP_ENC_JSON);
  expect(&it, HVKVP_E_SCHEMA, "no \"host\"");
  hvkvp_items_free(&it);
  put_text(&it, "{\"v\":\"h\xc3\xa9\"}", 10, HVKVP_ENC_JSON);
  expect(&it, HVKVP_E_JSON, "non-ASCII");
  hvkvp_items_free(&it);
  put_z64(&it, "{\"v\":2}", 7);
  expect(&it, HVKVP_E_VERSION, NULL);
  hvkvp_items_free(&it);
}

static void t_arg(void **state) {
  hvkvp_items_t it;
  hvkvp_msg_t m;
  hvkvp_err_t err;
  hvkvp_items_init(&it);
  assert_int_equal(hvkvp_decode(&it, "bad prefix", &m, NULL, &err),
                   HVKVP_E_ARG);
  assert_non_null(strstr(err.detail, "0x20"));
  assert_int_equal(hvkvp_decode(&it, "", &m, NULL, &err), HVKVP_E_ARG);
  assert_int_equal(hvkvp_decode(&it, "x.", &m, NULL, &err), HVKVP_E_ARG);
  assert_int_equal(
      hvkvp_decode(&it, tp_repeat('p', HVKVP_PREFIX_LEN), &m, NULL, &err),
      HVKVP_E_ARG);
  assert_int_equal(hvkvp_decode(&it, NULL, NULL, NULL, &err), HVKVP_E_ARG);
}

static void t_custom_prefix_and_head_out(void **state) {
  hvkvp_items_t it;
  hvkvp_msg_t m, back;
  hvkvp_head_t h;
  hvkvp_err_t err;
  hvkvp_frame_t f;
  hvkvp_encode_opts_t o = {"vm.telemetry-2", HVKVP_ENC_Z64, 3, 4, 0};
  tp_make_msg(&m, 10);
  hvkvp_items_init(&it);
  assert_int_equal(hvkvp_encode(&m, &o, &it, &f, &err), 0);
  assert_string_equal(f.put.v[0].key, "vm.telemetry-2.A.0");
  assert_string_equal(f.put.v[f.put.n - 1].key, "vm.telemetry-2.head");
  hvkvp_items_set(&it, f.put.v[0].key, f.put.v[0].value);
  hvkvp_items_set(&it, f.put.v[1].key, f.put.v[1].value);
  assert_int_equal(hvkvp_decode(&it, "vm.telemetry-2", &back, &h, &err), 0);
  assert_true(h.epoch == 3 && h.gen == 4 && h.slot == 'A');
  tp_assert_msg_equal(&m, &back);
  hvkvp_msg_free(&back);
  assert_int_equal(hvkvp_decode(&it, NULL, &back, NULL, &err), HVKVP_E_NOHEAD);
  hvkvp_frame_free(&f);
  hvkvp_items_free(&it);
  hvkvp_msg_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_ok_both_encodings),
      cmocka_unit_test(t_nohead),
      cmocka_unit_test(t_head_errors),
      cmocka_unit_test(t_missing_chunk),
      cmocka_unit_test(t_length),
      cmocka_unit_test(t_crc),
      cmocka_unit_test(t_base64_err),
      cmocka_unit_test(t_inflate_err),
      cmocka_unit_test(t_bomb),
      cmocka_unit_test(t_json_and_schema),
      cmocka_unit_test(t_arg),
      cmocka_unit_test(t_custom_prefix_and_head_out),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
