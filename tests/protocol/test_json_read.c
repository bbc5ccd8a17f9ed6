/*
 * test_json_read.c - the JSON payload reader: a table of malformed and
 * out-of-schema messages with the error code and detail each must give,
 * forward compatibility (unknown keys skipped), collectd write_http value
 * lists accepted as they are, and the nesting, count and length caps.
 */
#include "tp_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR                                                                    \
  "{\"v\":1,\"host\":\"h\",\"time\":1.5,\"interval\":10,\"seq\":7,"            \
  "\"config\":\"c\","
#define VL(vals, types, names)                                                 \
  "{\"values\":" vals ",\"dstypes\":" types ",\"dsnames\":" names              \
  ",\"plugin\":\"p\",\"plugin_instance\":\"\",\"type\":\"t\","                 \
  "\"type_instance\":\"\"}"

static int parse(const char *json, hvkvp_msg_t *m, hvkvp_err_t *err) {
  return hvkvp_msg_from_json(json, strlen(json), m, err);
}

static void t_table(void **state) {
  static const struct {
    const char *json;
    hvkvp_rc_t rc;
    const char *detail;
  } cases[] = {
      {HDR "\"values\":[]}", HVKVP_OK, NULL},
      {"", HVKVP_E_JSON, "premature EOF"},
      {"{", HVKVP_E_JSON, NULL},
      {HDR "\"values\":[]} x", HVKVP_E_JSON, "invalid JSON"},
      {HDR "\"values\":[]}{}", HVKVP_E_JSON, NULL},
      {HDR "\"values\":[],}", HVKVP_E_JSON, NULL},
      {"/* c */" HDR "\"values\":[]}", HVKVP_E_JSON, NULL},
      {"\"str\"", HVKVP_E_SCHEMA, "expected an object"},
      {"{\"v\":2}", HVKVP_E_VERSION, "v=2"},
      {"{\"v\":\"1\"}", HVKVP_E_SCHEMA, "\"v\" is a string"},
      {"{\"v\":1.0}", HVKVP_E_VERSION, NULL},
      {HDR "\"values\":[],\"v\":1}", HVKVP_E_SCHEMA, "\"v\" appears twice"},
      {"{\"v\":1,\"time\":1,\"interval\":1,\"seq\":1,\"config\":\"\","
       "\"values\":[]}",
       HVKVP_E_SCHEMA, "no \"host\""},
      {"{\"v\":1,\"host\":\"\",\"time\":1,\"interval\":1,\"seq\":1,"
       "\"values\":[]}",
       HVKVP_E_SCHEMA, "no \"config\""},
      {HDR "\"values\":{}}", HVKVP_E_SCHEMA, "\"values\" is an object"},
      {"{\"v\":1,\"host\":5}", HVKVP_E_SCHEMA, "\"host\" is a number"},
      {"{\"v\":1,\"time\":\"now\"}", HVKVP_E_SCHEMA, "\"time\" is a string"},
      {"{\"v\":1,\"time\":-1}", HVKVP_E_SCHEMA, "\"time\" -1"},
      {"{\"v\":1,\"time\":1e400}", HVKVP_E_SCHEMA, "time"},
      {"{\"v\":1,\"interval\":0}", HVKVP_E_SCHEMA, "\"interval\" 0"},
      {"{\"v\":1,\"seq\":-1}", HVKVP_E_SCHEMA, "\"seq\" -1"},
      {"{\"v\":1,\"seq\":1.5}", HVKVP_E_SCHEMA, "seq"},
      {"{\"v\":1,\"seq\":18446744073709551616}", HVKVP_E_SCHEMA, "seq"},
      {"{\"v\":1,\"trimmed\":4294967296}", HVKVP_E_SCHEMA, "32-bit"},
      {"{\"v\":1,\"tags\":[]}", HVKVP_E_SCHEMA, "\"tags\" is an array"},
      {"{\"v\":1,\"tags\":{\"a\":1}}", HVKVP_E_SCHEMA, "tag \"a\""},
      {"{\"v\":1,\"tags\":{\"a\":\"1\",\"a\":\"2\"}}", HVKVP_E_SCHEMA,
       "appears twice"},
      {"{\"v\":1,\"tags\":{\"\":\"1\"}}", HVKVP_E_SCHEMA, "empty name"},
      {"{\"v\":1,\"host\":\"a\\u0000b\"}", HVKVP_E_SCHEMA, "NUL"},
      {"{\"v\":1,\"host\":\"a\\udc00b\"}", HVKVP_E_SCHEMA, "UTF-8"},
      {"{\"v\":1,\"time\":1000000000000.001}", HVKVP_E_SCHEMA, "time"},
      {HDR "\"values\":[5]}", HVKVP_E_SCHEMA, "values[0] is a number"},
      {HDR "\"values\":[" VL("[1]", "[\"gauge\"]", "[\"value\"]") "]}",
       HVKVP_OK, NULL},
      {HDR "\"values\":[" VL("[]", "[]", "[]") "]}", HVKVP_E_SCHEMA,
       "no data sources"},
      {HDR "\"values\":[" VL("[1,2]", "[\"gauge\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "must be equal"},
      {HDR "\"values\":[" VL("[1]", "[\"gauge\"]", "[\"a\",\"b\"]") "]}",
       HVKVP_E_SCHEMA, "must be equal"},
      {HDR "\"values\":[" VL("[1]", "[\"GAUGE\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "values[0].dstypes[0] is not gauge"},
      {HDR "\"values\":[" VL("[1]", "[1]", "[\"value\"]") "]}", HVKVP_E_SCHEMA,
       "values[0].dstypes[0] is a number"},
      {HDR "\"values\":[" VL("[\"1\"]", "[\"gauge\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "values[0].values[0] is a string"},
      {HDR "\"values\":[" VL("[[1]]", "[\"gauge\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "holds an array"},
      {HDR "\"values\":[" VL("[1]", "[\"gauge\"]", "[\"\"]") "]}",
       HVKVP_E_SCHEMA, "dsnames[0] is empty"},
      {HDR "\"values\":[" VL("[1.5]", "[\"derive\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "not a valid derive"},
      {HDR "\"values\":[" VL("[null]", "[\"derive\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "\"null\" is not a valid derive"},
      {HDR "\"values\":[" VL("[9223372036854775808]", "[\"derive\"]",
                             "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "derive"},
      {HDR "\"values\":[" VL("[-1]", "[\"counter\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "counter"},
      {HDR "\"values\":[" VL("[18446744073709551616]", "[\"absolute\"]",
                             "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "not a valid"},
      {HDR "\"values\":[" VL("[1e3]", "[\"counter\"]", "[\"value\"]") "]}",
       HVKVP_E_SCHEMA, "counter"},
      {HDR "\"values\":[{\"values\":[1],\"dstypes\":[\"gauge\"],"
           "\"dsnames\":[\"v\"],\"type\":\"t\"}]}",
       HVKVP_E_SCHEMA, "values[0] has no \"plugin\""},
      {HDR "\"values\":[{\"values\":[1],\"dstypes\":[\"gauge\"],"
           "\"dsnames\":[\"v\"],\"plugin\":\"\",\"type\":\"t\"}]}",
       HVKVP_E_SCHEMA, "empty"},
      {HDR "\"values\":[{\"values\":[1],\"values\":[1]}]}", HVKVP_E_SCHEMA,
       "values[0]: key \"values\" appears twice"},
      {HDR "\"values\":[{\"plugin\":7}]}", HVKVP_E_SCHEMA,
       "values[0].plugin is a number"},
      /* 17 data sources */
      {HDR "\"values\":[" VL("[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", "[]",
                             "[]") "]}",
       HVKVP_E_SCHEMA, "more than 16"},
      /* nesting deeper than 8 inside an unknown key */
      {"{\"x\":[[[[[[[[1]]]]]]]]}", HVKVP_E_TOO_BIG, "deeper than 8"},
      /* exactly 8 levels is fine */
      {"{\"x\":[[[[[[[1]]]]]]],\"v\":1,\"host\":\"h\",\"time\":1.5,"
       "\"interval\":10,\"seq\":7,\"config\":\"c\",\"values\":[]}",
       HVKVP_OK, NULL},
  };
  size_t i;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    hvkvp_msg_t m;
    hvkvp_err_t err;
    int rc = parse(cases[i].json, &m, &err);
    if (rc != (int)cases[i].rc)
      fail_msg("case %zu %s: got %s (%s), want %s", i, cases[i].json,
               hvkvp_strerror(rc), rc ? err.detail : "",
               hvkvp_strerror(cases[i].rc));
    if (cases[i].detail != NULL && strstr(err.detail, cases[i].detail) == NULL)
      fail_msg("case %zu: detail \"%s\" lacks \"%s\"", i, err.detail,
               cases[i].detail);
    if (rc != 0)
      assert_int_equal(m.n_vls, 0); /* left empty on failure */
    hvkvp_msg_free(&m);
  }
}

static void t_forward_compatible(void **state) {
  /* unknown keys at both levels (objects nested up to the depth cap are
   * skipped); collectd write_http's own time/interval/host/meta fields */
  const char *json =
      "{\"future\":{\"a\":[1,{\"b\":null}]},\"v\":1,\"host\":\"h\","
      "\"time\":1.5,\"interval\":10,\"seq\":7,\"config\":\"c\","
      "\"values\":[{\"values\":[1.5,-2,3],\"dstypes\":[\"gauge\",\"derive\","
      "\"counter\"],\"dsnames\":[\"a\",\"b\",\"c\"],\"time\":1.5,"
      "\"interval\":10,\"host\":\"x\",\"plugin\":\"p\",\"plugin_instance\":"
      "\"0\",\"type\":\"t\",\"type_instance\":\"ti\",\"meta\":{\"m\":"
      "[[true]]}}],\"also_new\":[true,false]}";
  hvkvp_msg_t m;
  hvkvp_err_t err;
  if (parse(json, &m, &err) != 0)
    fail_msg("%s", err.detail);
  assert_int_equal(m.n_vls, 1);
  assert_int_equal(m.vls[0].n, 3);
  assert_true(m.vls[0].values[0].gauge == 1.5);
  assert_true(m.vls[0].values[1].derive == -2);
  assert_true(m.vls[0].values[2].counter == 3);
  assert_string_equal(m.vls[0].type_instance, "ti");
  assert_string_equal(m.host, "h");
  hvkvp_msg_free(&m);
}

static void t_optional_fields_default(void **state) {
  hvkvp_msg_t m;
  hvkvp_err_t err;
  assert_int_equal(
      parse(HDR "\"values\":[{\"values\":[null],\"dstypes\":[\"gauge\"],"
                "\"dsnames\":[\"v\"],\"plugin\":\"p\",\"type\":\"t\"}]}",
            &m, &err),
      0);
  assert_string_equal(m.vls[0].plugin_instance, "");
  assert_string_equal(m.vls[0].type_instance, "");
  assert_true(isnan(m.vls[0].values[0].gauge));
  assert_int_equal(m.trimmed, 0);
  assert_int_equal(m.n_tags, 0);
  assert_string_equal(m.config_error, "");
  hvkvp_msg_free(&m);
}

static void t_name_lengths(void **state) {
  char json[2048];
  hvkvp_msg_t m;
  hvkvp_err_t err;
  /* 127-byte plugin is fine, 128 is a SCHEMA error (never truncated) */
  snprintf(json, sizeof(json),
           HDR "\"values\":[{\"values\":[1],\"dstypes\":[\"gauge\"],"
               "\"dsnames\":[\"v\"],\"plugin\":\"%s\",\"type\":\"t\"}]}",
           tp_repeat('p', HVKVP_NAME_LEN - 1));
  assert_int_equal(parse(json, &m, &err), 0);
  assert_int_equal(strlen(m.vls[0].plugin), HVKVP_NAME_LEN - 1);
  hvkvp_msg_free(&m);
  snprintf(json, sizeof(json),
           HDR "\"values\":[{\"values\":[1],\"dstypes\":[\"gauge\"],"
               "\"dsnames\":[\"v\"],\"plugin\":\"%s\",\"type\":\"t\"}]}",
           tp_repeat('p', HVKVP_NAME_LEN));
  assert_int_equal(parse(json, &m, &err), HVKVP_E_SCHEMA);
  assert_non_null(strstr(err.detail, "values[0].plugin is 128 bytes"));
  /* a 2-byte UTF-8 character counts 2 bytes */
  snprintf(json, sizeof(json),
           HDR "\"values\":[{\"values\":[1],\"dstypes\":[\"gauge\"],"
               "\"dsnames\":[\"v\"],\"plugin\":\"p\",\"type\":\"t\","
               "\"type_instance\":\"%s\\u00e9\"}]}",
           tp_repeat('i', HVKVP_NAME_LEN - 2));
  assert_int_equal(parse(json, &m, &err), HVKVP_E_SCHEMA);
  snprintf(json, sizeof(json), "{\"v\":1,\"host\":\"%s\"}",
           tp_repeat('h', HVKVP_HOST_LEN));
  assert_int_equal(parse(json, &m, &err), HVKVP_E_SCHEMA);
  assert_non_null(strstr(err.detail, "host is 256 bytes"));
  snprintf(json, sizeof(json), "{\"v\":1,\"config_error\":\"%s\"}",
           tp_repeat('e', HVKVP_TEXT_LEN));
  assert_int_equal(parse(json, &m, &err), HVKVP_E_SCHEMA);
  snprintf(json, sizeof(json), "{\"v\":1,\"tags\":{\"%s\":\"v\"}}",
           tp_repeat('k', HVKVP_NAME_LEN));
  assert_int_equal(parse(json, &m, &err), HVKVP_E_SCHEMA);
  assert_non_null(strstr(err.detail, "tag name"));
}

static void t_counts(void **state) {
  char *json = malloc(HVKVP_MAX_DECODED + 2);
  hvkvp_msg_t m;
  hvkvp_err_t err;
  size_t off, i;
  static const char one[] = "{\"values\":[1],\"dstypes\":[\"gauge\"],"
                            "\"dsnames\":[\"v\"],\"plugin\":\"p\","
                            "\"type\":\"t\"}";
  assert_non_null(json);
  /* 3000 minimal value lists (~256 KB) parse; the 4096-list cap itself
   * cannot be reached within HVKVP_MAX_DECODED (a list takes > 64 bytes),
   * it is enforced by hvkvp_msg_add (test_roundtrip t_msg_add_cap). */
  {
    size_t j;
    off = (size_t)sprintf(json, HDR "\"values\":[");
    for (j = 0; j < 3000; j++)
      off += (size_t)sprintf(json + off, "%s%s", j ? "," : "", one);
    off += (size_t)sprintf(json + off, "]}");
    assert_true(off <= HVKVP_MAX_DECODED);
    assert_int_equal(hvkvp_msg_from_json(json, off, &m, &err), 0);
    assert_int_equal(m.n_vls, 3000);
    hvkvp_msg_free(&m);
  }
  /* 16 tags fine, 17 TOO_BIG */
  off = (size_t)sprintf(json, "{\"v\":1,\"tags\":{");
  for (i = 0; i < 17; i++)
    off += (size_t)sprintf(json + off, "%s\"k%zu\":\"v\"", i ? "," : "", i);
  sprintf(json + off, "}}");
  assert_int_equal(parse(json, &m, &err), HVKVP_E_TOO_BIG);
  assert_non_null(strstr(err.detail, "more than 16 tags"));
  /* payload above HVKVP_MAX_DECODED is refused before parsing */
  memset(json, ' ', HVKVP_MAX_DECODED + 1);
  assert_int_equal(hvkvp_msg_from_json(json, HVKVP_MAX_DECODED + 1, &m, &err),
                   HVKVP_E_TOO_BIG);
  free(json);
}

static void t_deep_nesting_no_crash(void **state) {
  /* 100000 nested arrays: refused at depth 9, no recursion, no crash */
  size_t n = 100000, i;
  char *json = malloc(2 * n + 16);
  hvkvp_msg_t m;
  hvkvp_err_t err;
  assert_non_null(json);
  strcpy(json, "{\"x\":");
  for (i = 0; i < n; i++)
    json[5 + i] = '[';
  json[5 + n] = '\0';
  assert_int_equal(parse(json, &m, &err), HVKVP_E_TOO_BIG);
  free(json);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_table),
      cmocka_unit_test(t_forward_compatible),
      cmocka_unit_test(t_optional_fields_default),
      cmocka_unit_test(t_name_lengths),
      cmocka_unit_test(t_counts),
      cmocka_unit_test(t_deep_nesting_no_crash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
