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

/* Frames raw bytes as zd1 (or z64 with dict set): deflate with a preset
 * dictionary of dict[0..dlen), base64. */
static void put_zdict(hvkvp_items_t *it, const void *raw, size_t n,
                      const void *dict, size_t dlen, hvkvp_enc_t enc) {
  z_stream zs;
  unsigned char z[8192];
  memset(&zs, 0, sizeof(zs));
  assert_int_equal(deflateInit(&zs, 9), Z_OK);
  if (dict != NULL)
    assert_int_equal(deflateSetDictionary(&zs, dict, (uInt)dlen), Z_OK);
  zs.next_in = (Bytef *)raw;
  zs.avail_in = (uInt)n;
  zs.next_out = z;
  zs.avail_out = sizeof(z);
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  size_t zl = zs.total_out;
  deflateEnd(&zs);
  char *b = malloc(hvkvp_b64_encoded_len(zl) + 1);
  assert_non_null(b);
  hvkvp_b64_encode(z, zl, b);
  put_text(it, b, strlen(b), enc);
  free(b);
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

/* zd1: the stream must use exactly the zd1 dictionary; z64 must use none. */
static void t_zd1(void **state) {
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  put_zdict(&it, GOOD_JSON, strlen(GOOD_JSON), hvkvp_zd1_dict,
            hvkvp_zd1_dict_len, HVKVP_ENC_ZD1);
  expect(&it, HVKVP_OK, NULL);
  hvkvp_items_free(&it);
  put_zdict(&it, GOOD_JSON, strlen(GOOD_JSON), NULL, 0, HVKVP_ENC_ZD1);
  expect(&it, HVKVP_E_INFLATE, "does not use the zd1 dictionary");
  hvkvp_items_free(&it);
  put_zdict(&it, GOOD_JSON, strlen(GOOD_JSON), "{\"v\":1,\"host\"", 11,
            HVKVP_ENC_ZD1);
  expect(&it, HVKVP_E_INFLATE, "other than zd1's");
  hvkvp_items_free(&it);
  put_zdict(&it, GOOD_JSON, strlen(GOOD_JSON), hvkvp_zd1_dict,
            hvkvp_zd1_dict_len, HVKVP_ENC_Z64);
  expect(&it, HVKVP_E_INFLATE, "enc=z64 has none");
  hvkvp_items_free(&it);
  /* the head names it; an old reader's refusal is a clean HEAD_SYNTAX */
  hvkvp_head_t h;
  assert_int_equal(
      hvkvp_head_parse("v=1;epoch=1;slot=A;gen=1;n=1;len=4;crc=00000000;"
                       "enc=zd1",
                       &h, NULL),
      0);
  assert_int_equal(h.enc, HVKVP_ENC_ZD1);
  assert_string_equal(hvkvp_enc_name(HVKVP_ENC_ZD1), "zd1");
  assert_null(hvkvp_enc_name((hvkvp_enc_t)3));
}

/* One decoder for many messages: a failure in between leaves nothing
 * behind, and buffers grown for a large message serve smaller ones. */
static void t_decoder_reuse(void **state) {
  hvkvp_decoder_t *d = hvkvp_decoder_new();
  hvkvp_items_t good, bad;
  hvkvp_msg_t m;
  hvkvp_head_t h;
  hvkvp_err_t err;
  assert_non_null(d);
  hvkvp_items_init(&good);
  hvkvp_items_init(&bad);
  put_z64(&good, GOOD_JSON, strlen(GOOD_JSON));
  put_z64(&bad, "{\"v\":1", 7);
  for (int round = 0; round < 3; round++) {
    assert_int_equal(hvkvp_decoder_run(d, &good, NULL, &m, &h, NULL, &err), 0);
    assert_string_equal(m.host, "h");
    assert_int_equal(h.gen, 17);
    hvkvp_msg_free(&m);
    assert_int_equal(hvkvp_decoder_run(d, &bad, NULL, &m, NULL, NULL, &err),
                     HVKVP_E_JSON);
    assert_int_equal(m.n_vls, 0);
  }
  hvkvp_items_free(&good);
  hvkvp_items_free(&bad);
  hvkvp_decoder_free(d);
}

/* A sink gets every value list in its own storage, dsnames only checked
 * when it keeps none; the message's own list stays empty. */
typedef struct {
  char names[4][4][HVKVP_NAME_LEN];
  hvkvp_ds_type_t types[4][HVKVP_MAX_DS];
  hvkvp_value_t values[4][HVKVP_MAX_DS];
  size_t n[4], begun, ended;
} sink_store_t;

static int sink_begin(void *ctx, hvkvp_vl_dst_t *dst) {
  sink_store_t *s = ctx;
  if (s->begun == 4)
    return -1;
  size_t i = s->begun++;
  dst->plugin = s->names[i][0];
  dst->plugin_instance = s->names[i][1];
  dst->type = s->names[i][2];
  dst->type_instance = s->names[i][3];
  dst->dstypes = s->types[i];
  dst->values = s->values[i];
  dst->dsnames = NULL;
  return 0;
}

static void sink_end(void *ctx, size_t n) {
  sink_store_t *s = ctx;
  s->n[s->ended++] = n;
}

static void t_sink(void **state) {
  static const char json[] =
      "{\"v\":1,\"host\":\"h\",\"time\":1,\"interval\":10,\"seq\":1,"
      "\"config\":\"\",\"values\":[{\"values\":[1.5,-2],\"dstypes\":"
      "[\"gauge\",\"derive\"],\"dsnames\":[\"a\",\"b\"],\"plugin\":\"p\","
      "\"type\":\"t\",\"type_instance\":\"x\"},{\"values\":[7],"
      "\"dstypes\":[\"counter\"],\"dsnames\":[\"value\"],\"plugin\":\"q\","
      "\"plugin_instance\":\"0\",\"type\":\"u\"}]}";
  sink_store_t st;
  memset(&st, 0, sizeof(st));
  hvkvp_vl_sink_t sink = {sink_begin, sink_end, &st};
  hvkvp_msg_t m;
  hvkvp_err_t err;
  assert_int_equal(
      hvkvp_msg_from_json_sink(json, strlen(json), &m, &sink, &err), 0);
  assert_int_equal(m.n_vls, 0);
  assert_int_equal(st.ended, 2);
  assert_string_equal(st.names[0][0], "p");
  assert_string_equal(st.names[0][1], "");
  assert_string_equal(st.names[0][3], "x");
  assert_int_equal(st.n[0], 2);
  assert_true(st.values[0][0].gauge == 1.5);
  assert_int_equal(st.values[0][1].derive, -2);
  assert_string_equal(st.names[1][1], "0");
  assert_string_equal(st.names[1][3], "");
  assert_int_equal(st.types[1][0], HVKVP_DS_COUNTER);
  assert_int_equal(st.values[1][0].counter, 7);
  /* a dsname is checked even when it is not kept */
  memset(&st, 0, sizeof(st));
  static const char bad[] =
      "{\"v\":1,\"host\":\"h\",\"time\":1,\"interval\":10,\"seq\":1,"
      "\"config\":\"\",\"values\":[{\"values\":[1],\"dstypes\":"
      "[\"gauge\"],\"dsnames\":[\"a\\u0000\"],\"plugin\":\"p\","
      "\"type\":\"t\"}]}";
  assert_int_equal(hvkvp_msg_from_json_sink(bad, strlen(bad), &m, &sink, &err),
                   HVKVP_E_SCHEMA);
  assert_non_null(strstr(err.detail, "values[0].dsnames[0] contains a NUL"));
  /* a sink without memory */
  st.begun = 4;
  assert_int_equal(
      hvkvp_msg_from_json_sink(json, strlen(json), &m, &sink, &err),
      HVKVP_E_NOMEM);
}

/* The head alone, for a reader that already has this generation. */
static void t_head_of(void **state) {
  hvkvp_items_t it;
  hvkvp_head_t h;
  hvkvp_err_t err;
  hvkvp_items_init(&it);
  assert_int_equal(hvkvp_head_of(&it, NULL, &h, &err), HVKVP_E_NOHEAD);
  put_text(&it, "x", 1, HVKVP_ENC_JSON);
  assert_int_equal(hvkvp_items_del(&it, "hvkvp.A.0"), 1);
  assert_int_equal(hvkvp_head_of(&it, NULL, &h, &err), 0);
  assert_int_equal(h.gen, 17);
  assert_int_equal(h.epoch, 9);
  assert_int_equal(hvkvp_head_of(&it, "bad prefix", &h, &err), HVKVP_E_ARG);
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
      cmocka_unit_test(t_zd1),
      cmocka_unit_test(t_decoder_reuse),
      cmocka_unit_test(t_sink),
      cmocka_unit_test(t_head_of),
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
