/*
 * test_roundtrip.c - message -> JSON -> items -> message round trips:
 * empty, one value, 1000 values, multi-DS, non-ASCII host, NaN gauge,
 * u64 max counter, int64 extremes, tags and config_error, both encodings.
 */
#include "tp_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void roundtrip_enc(const hvkvp_msg_t *m, hvkvp_enc_t enc) {
  hvkvp_items_t store;
  hvkvp_msg_t back;
  hvkvp_head_t h;
  hvkvp_err_t err;
  int rc;
  hvkvp_items_init(&store);
  tp_publish(&store, m, 77, 1, enc, NULL);
  rc = hvkvp_decode(&store, NULL, &back, &h, &err);
  if (rc != 0)
    fail_msg("decode: %s: %s", hvkvp_strerror(rc), err.detail);
  assert_int_equal(h.enc, enc);
  assert_true(h.epoch == 77 && h.gen == 1);
  tp_assert_msg_equal(m, &back);
  hvkvp_msg_free(&back);
  hvkvp_items_free(&store);
}

static void roundtrip(const hvkvp_msg_t *m) {
  char *json;
  size_t len, i;
  hvkvp_msg_t back;
  hvkvp_err_t err;
  assert_int_equal(hvkvp_msg_to_json(m, &json, &len), 0);
  assert_int_equal(strlen(json), len);
  for (i = 0; i < len; i++)
    assert_true((unsigned char)json[i] >= 0x20 &&
                (unsigned char)json[i] < 0x7f);
  if (hvkvp_msg_from_json(json, len, &back, &err) != 0)
    fail_msg("from_json: %s in %s", err.detail, json);
  tp_assert_msg_equal(m, &back);
  hvkvp_msg_free(&back);
  free(json);
  roundtrip_enc(m, HVKVP_ENC_Z64);
  roundtrip_enc(m, HVKVP_ENC_JSON);
}

static void t_empty(void **state) {
  hvkvp_msg_t m;
  tp_make_msg(&m, 0);
  roundtrip(&m);
  hvkvp_msg_init(&m); /* all defaults except interval */
  m.interval = 1;
  roundtrip(&m);
}

static void t_one(void **state) {
  hvkvp_msg_t m;
  hvkvp_value_t v;
  tp_make_msg(&m, 0);
  v.gauge = 0.1;
  assert_int_equal(
      hvkvp_msg_add1(&m, "load", "", "load", "", HVKVP_DS_GAUGE, v), 0);
  roundtrip(&m);
  hvkvp_msg_free(&m);
}

/* 1000 value lists round-trip through JSON and z64 framing; as enc=json
 * they exceed 64 chunks, so the decoded message is the first k lists with
 * trimmed = 1000 - k. */
static void t_thousand(void **state) {
  hvkvp_msg_t m, back, head_part;
  hvkvp_items_t store;
  hvkvp_frame_t f;
  hvkvp_err_t err;
  char *json;
  size_t len, k;
  tp_make_msg(&m, 1000);
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), 0);
  assert_int_equal(hvkvp_msg_from_json(json, len, &back, &err), 0);
  tp_assert_msg_equal(&m, &back);
  hvkvp_msg_free(&back);
  free(json);
  roundtrip_enc(&m, HVKVP_ENC_Z64);

  hvkvp_items_init(&store);
  tp_publish(&store, &m, 1, 1, HVKVP_ENC_JSON, &f);
  assert_true(f.trimmed > 0 && f.trimmed < 1000);
  assert_int_equal(f.head.n, HVKVP_MAX_CHUNKS);
  assert_int_equal(hvkvp_decode(&store, NULL, &back, NULL, &err), 0);
  k = 1000 - f.trimmed;
  assert_int_equal(back.n_vls, k);
  assert_int_equal(back.trimmed, f.trimmed);
  head_part = m;
  head_part.n_vls = k;
  head_part.trimmed = f.trimmed;
  tp_assert_msg_equal(&head_part, &back);
  hvkvp_msg_free(&back);
  hvkvp_frame_free(&f);
  hvkvp_items_free(&store);
  hvkvp_msg_free(&m);
}

static void t_multi_ds(void **state) {
  hvkvp_msg_t m;
  hvkvp_vl_t *vl;
  size_t i;
  tp_make_msg(&m, 0);
  vl = hvkvp_msg_add(&m);
  strcpy(vl->plugin, "interface");
  strcpy(vl->plugin_instance, "eth0");
  strcpy(vl->type, "if_octets");
  vl->n = HVKVP_MAX_DS;
  for (i = 0; i < vl->n; i++) {
    vl->dstypes[i] = (hvkvp_ds_type_t)(i % 4);
    snprintf(vl->dsnames[i], sizeof(vl->dsnames[i]), "ds%zu", i);
    vl->values[i].counter = i * 1000003u;
  }
  vl->values[0].gauge = -1.5e-300;
  vl->values[4].gauge = 1.7976931348623157e308;
  roundtrip(&m);
  hvkvp_msg_free(&m);
}

static void t_non_ascii(void **state) {
  hvkvp_msg_t m;
  hvkvp_value_t v;
  char *json;
  size_t len;
  tp_make_msg(&m, 0);
  /* e-acute, CJK, an emoji (above U+FFFF), a quote, a backslash, a tab */
  strcpy(m.host, "caf\xc3\xa9-\xe4\xb8\xad-\xf0\x9f\x98\x80-\"\\\t\x7f");
  strcpy(m.config_error, "interval \"0\" is not in 1..3600");
  v.derive = 5;
  assert_int_equal(hvkvp_msg_add1(&m, "p\xc3\xa9", "\xe2\x82\xac", "t", "ti",
                                  HVKVP_DS_DERIVE, v),
                   0);
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), 0);
  assert_non_null(
      strstr(json, "caf\\u00e9-\\u4e2d-\\ud83d\\ude00-\\\"\\\\\\t\\u007f"));
  free(json);
  roundtrip(&m);
  hvkvp_msg_free(&m);
}

static void t_invalid_utf8_escaped(void **state) {
  hvkvp_msg_t m, back;
  hvkvp_err_t err;
  char *json;
  size_t len;
  tp_make_msg(&m, 0);
  strcpy(m.host, "a\xff"
                 "b\xc3");
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), 0);
  assert_non_null(strstr(json, "\"a\\ufffdb\\ufffd\""));
  assert_int_equal(hvkvp_msg_from_json(json, len, &back, &err), 0);
  assert_string_equal(back.host, "a\xef\xbf\xbd"
                                 "b\xef\xbf\xbd");
  free(json);
}

static void t_nan_gauge(void **state) {
  hvkvp_msg_t m;
  hvkvp_value_t v;
  char *json;
  size_t len;
  tp_make_msg(&m, 0);
  v.gauge = NAN;
  assert_int_equal(
      hvkvp_msg_add1(&m, "ping", "", "ping", "gw", HVKVP_DS_GAUGE, v), 0);
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), 0);
  assert_non_null(strstr(json, "\"values\":[null]"));
  free(json);
  roundtrip(&m);
  hvkvp_msg_free(&m);
}

static void t_integer_extremes(void **state) {
  hvkvp_msg_t m;
  hvkvp_value_t v;
  char *json;
  size_t len;
  tp_make_msg(&m, 0);
  m.seq = UINT64_MAX;
  v.counter = UINT64_MAX;
  assert_int_equal(
      hvkvp_msg_add1(&m, "c", "", "counter", "", HVKVP_DS_COUNTER, v), 0);
  v.absolute = UINT64_MAX;
  assert_int_equal(
      hvkvp_msg_add1(&m, "c", "", "absolute", "", HVKVP_DS_ABSOLUTE, v), 0);
  v.derive = INT64_MIN;
  assert_int_equal(
      hvkvp_msg_add1(&m, "c", "", "derive", "min", HVKVP_DS_DERIVE, v), 0);
  v.derive = INT64_MAX;
  assert_int_equal(
      hvkvp_msg_add1(&m, "c", "", "derive", "max", HVKVP_DS_DERIVE, v), 0);
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), 0);
  assert_non_null(strstr(json, "\"values\":[18446744073709551615]"));
  assert_non_null(strstr(json, "\"values\":[-9223372036854775808]"));
  assert_non_null(strstr(json, "\"seq\":18446744073709551615"));
  free(json);
  roundtrip(&m);
  hvkvp_msg_free(&m);
}

static void t_tags_and_errors(void **state) {
  hvkvp_msg_t m;
  size_t i;
  tp_make_msg(&m, 3);
  m.n_tags = HVKVP_MAX_TAGS;
  for (i = 0; i < m.n_tags; i++) {
    snprintf(m.tags[i].key, sizeof(m.tags[i].key), "k%zu", i);
    snprintf(m.tags[i].value, sizeof(m.tags[i].value), "v=%zu,x", i);
  }
  strcpy(m.config_error, "cfg.interval: \"abc\" is not a number");
  m.trimmed = 7;
  roundtrip(&m);
  hvkvp_msg_free(&m);
}

static void t_time_millis(void **state) {
  hvkvp_msg_t m, back;
  hvkvp_err_t err;
  char *json;
  size_t len;
  tp_make_msg(&m, 0);
  m.time = 1763900000.1234;
  m.interval = 0.5;
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), 0);
  assert_non_null(strstr(json, "\"time\":1763900000.123,"));
  assert_non_null(strstr(json, "\"interval\":0.5,"));
  assert_int_equal(hvkvp_msg_from_json(json, len, &back, &err), 0);
  assert_true(fabs(back.time - 1763900000.123) < 1e-6);
  free(json);
}

static void t_writer_rejects_invalid(void **state) {
  hvkvp_msg_t m;
  char *json = NULL;
  size_t len;
  hvkvp_vl_t *vl;
  tp_make_msg(&m, 1);
  m.vls[0].n = 0;
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), HVKVP_E_ARG);
  m.vls[0].n = HVKVP_MAX_DS + 1;
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), HVKVP_E_ARG);
  m.vls[0].n = 1;
  m.vls[0].plugin[0] = '\0';
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), HVKVP_E_ARG);
  strcpy(m.vls[0].plugin, "cpu");
  m.interval = 0;
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), HVKVP_E_ARG);
  m.interval = 10;
  m.time = NAN;
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), HVKVP_E_ARG);
  m.time = 1;
  vl = &m.vls[0];
  vl->dstypes[0] = (hvkvp_ds_type_t)9;
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), HVKVP_E_ARG);
  vl->dstypes[0] = HVKVP_DS_GAUGE;
  m.n_tags = 2;
  strcpy(m.tags[0].key, "a");
  strcpy(m.tags[1].key, "a");
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), HVKVP_E_ARG);
  strcpy(m.tags[1].key, "b");
  assert_int_equal(hvkvp_msg_to_json(&m, &json, &len), 0);
  assert_non_null(json);
  free(json);
  hvkvp_msg_free(&m);
}

static void t_msg_add_cap(void **state) {
  hvkvp_msg_t m;
  hvkvp_value_t v;
  size_t i;
  hvkvp_msg_init(&m);
  v.gauge = 1;
  for (i = 0; i < HVKVP_MAX_VALUE_LISTS; i++)
    assert_int_equal(
        hvkvp_msg_add1(&m, "p", "", "gauge", "", HVKVP_DS_GAUGE, v), 0);
  assert_null(hvkvp_msg_add(&m));
  assert_int_equal(hvkvp_msg_add1(&m, "p", "", "gauge", "", HVKVP_DS_GAUGE, v),
                   -1);
  assert_int_equal(m.n_vls, HVKVP_MAX_VALUE_LISTS);
  hvkvp_msg_free(&m);
  assert_int_equal(hvkvp_msg_add1(&m, tp_repeat('x', HVKVP_NAME_LEN), "",
                                  "gauge", "", HVKVP_DS_GAUGE, v),
                   -1);
  hvkvp_msg_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_empty),
      cmocka_unit_test(t_one),
      cmocka_unit_test(t_thousand),
      cmocka_unit_test(t_multi_ds),
      cmocka_unit_test(t_non_ascii),
      cmocka_unit_test(t_invalid_utf8_escaped),
      cmocka_unit_test(t_nan_gauge),
      cmocka_unit_test(t_integer_extremes),
      cmocka_unit_test(t_tags_and_errors),
      cmocka_unit_test(t_time_millis),
      cmocka_unit_test(t_writer_rejects_invalid),
      cmocka_unit_test(t_msg_add_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
