/*
 * test_cfg.c - unit tests of the host -> guest configuration contract
 * (protocol/cfg.c, PROTOCOL.md section 11): strict intervals, collector
 * lists, tags with '.' and ':' in keys, the items and id the host builds,
 * and the guest reading back exactly what the host built.
 */
#include "tp_util.h"

#include <stdio.h>
#include <string.h>

static void t_interval(void **state) {
  static const char *const good[] = {"1", "10", "3600", "2.5", "0010.250"};
  static const double gv[] = {1, 10, 3600, 2.5, 10.25};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    double d = 0;
    hvkvp_err_t e;
    if (hvkvp_cfg_parse_interval(good[i], &d, &e) != 0 || d != gv[i])
      fail_msg("\"%s\" refused or misread (%g): %s", good[i], d, e.detail);
  }
  static const char *const bad[] = {"0",  "0x10", " 5",  "5 ", "1e1",
                                    "+5", "5.",   ".5",  "",   "3601",
                                    "-1", "inf",  "nan", "1,5"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    double d = 0;
    hvkvp_err_t e;
    if (hvkvp_cfg_parse_interval(bad[i], &d, &e) == 0)
      fail_msg("\"%s\" accepted as %g", bad[i], d);
    assert_int_equal(e.code, HVKVP_E_ARG);
    assert_non_null(strstr(e.detail, "is not seconds 1..3600"));
  }
}

static void t_collectors(void **state) {
  hvkvp_cfg_t c;
  hvkvp_err_t e;
  hvkvp_cfg_init(&c);
  assert_int_equal(
      hvkvp_cfg_parse_collectors(" cpu,memory\tdf  my-exec ", &c, &e), 0);
  assert_true(c.has_collectors);
  assert_string_equal(c.collectors, "cpu memory df my-exec");
  hvkvp_cfg_init(&c);
  assert_int_not_equal(hvkvp_cfg_parse_collectors("cpu;mem", &c, &e), 0);
  assert_non_null(strstr(e.detail, "\"cpu;mem\""));
  assert_false(c.has_collectors);
  assert_int_not_equal(hvkvp_cfg_parse_collectors(" , ", &c, &e), 0);
  assert_string_equal(e.detail, "names no collector");
  char big[HVKVP_CFG_LIST_LEN + 10];
  for (size_t i = 0; i + 1 < sizeof(big); i++)
    big[i] = i % 10 == 9 ? ' ' : 'c';
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(hvkvp_cfg_parse_collectors(big, &c, &e), HVKVP_E_TOO_BIG);
}

static void t_list_has(void **state) {
  (void)state;
  /* the same word splitting as t_collectors: spaces, commas, tabs */
  assert_true(hvkvp_cfg_list_has("cpu memory", "memory"));
  assert_true(hvkvp_cfg_list_has(" cpu,\tdf ,", "df"));
  assert_true(hvkvp_cfg_list_has("cpu", "cpu"));
  assert_false(hvkvp_cfg_list_has("cpu memory", "mem"));
  assert_false(hvkvp_cfg_list_has("cpux", "cpu"));
  assert_false(hvkvp_cfg_list_has("", "cpu"));
  assert_false(hvkvp_cfg_list_has("cpu", ""));
}

static void t_tags(void **state) {
  hvkvp_cfg_t c;
  hvkvp_err_t e;
  hvkvp_cfg_init(&c);
  assert_int_equal(hvkvp_cfg_parse_tags(
                       "env=prod, site.dc=eu:west,k8s:ns=a b,empty=", &c, &e),
                   0);
  assert_int_equal(c.n_tags, 4);
  assert_string_equal(c.tags[1].key, "site.dc");
  assert_string_equal(c.tags[1].value, "eu:west");
  assert_string_equal(c.tags[2].key, "k8s:ns");
  assert_string_equal(c.tags[2].value, "a b");
  assert_string_equal(c.tags[3].value, "");
  static const struct {
    const char *in, *want;
  } bad[] = {
      {"env", "\"env\" is not key=value"},
      {"=x", "is not key=value"},
      {"e v=1", "key \"e v\""},
      {"a/b=1", "[A-Za-z0-9_.:-]"},
      {"a=1,a=2", "key a given twice"},
      {"a=x=y", "forbidden character"},
      {"a=\x7f", "forbidden character"},
      {"", "holds no tag"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    hvkvp_cfg_init(&c);
    if (hvkvp_cfg_parse_tags(bad[i].in, &c, &e) == 0)
      fail_msg("tags \"%s\" accepted", bad[i].in);
    if (strstr(e.detail, bad[i].want) == NULL)
      fail_msg("tags \"%s\": got \"%s\", want \"%s\"", bad[i].in, e.detail,
               bad[i].want);
    assert_false(c.has_tags);
  }
  char many[400] = "";
  for (int i = 0; i < 17; i++)
    snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sk%d=v",
             i ? "," : "", i);
  hvkvp_cfg_init(&c);
  assert_int_equal(hvkvp_cfg_parse_tags(many, &c, &e), HVKVP_E_TOO_BIG);
}

/* What the host builds, the guest reads back unchanged; the id is the one
 * PROTOCOL.md defines (FNV-1a 64 of the sorted lines, first 12 hex). */
static void t_items_roundtrip(void **state) {
  hvkvp_cfg_t c, back;
  hvkvp_err_t e;
  hvkvp_items_t it;
  char id[HVKVP_CFG_ID_LEN];
  hvkvp_cfg_init(&c);
  c.interval = 10;
  assert_int_equal(hvkvp_cfg_parse_tags("env=prod,site.dc=eu", &c, &e), 0);
  assert_int_equal(hvkvp_cfg_items(&c, "hvkvp", &it, id, &e), 0);
  assert_string_equal(id, "302b14fd1750");
  assert_int_equal(it.n, 3);
  assert_string_equal(hvkvp_items_get(&it, "hvkvp.cfg.interval"), "10");
  assert_string_equal(hvkvp_items_get(&it, "hvkvp.cfg.tags"),
                      "env=prod,site.dc=eu");
  assert_string_equal(hvkvp_items_get(&it, "hvkvp.cfg.id"), id);
  assert_int_equal(hvkvp_cfg_read(&it, "hvkvp", &back, &e), 0);
  assert_true(back.present);
  assert_string_equal(back.id, id);
  assert_true(back.interval == 10);
  assert_int_equal(back.n_tags, 2);
  assert_string_equal(back.tags[1].key, "site.dc");
  hvkvp_items_free(&it);

  hvkvp_cfg_init(&c);
  c.interval = 2.5;
  assert_int_equal(hvkvp_cfg_parse_collectors("cpu memory", &c, &e), 0);
  assert_int_equal(hvkvp_cfg_items(&c, "acme", &it, id, &e), 0);
  assert_string_equal(hvkvp_items_get(&it, "acme.cfg.interval"), "2.5");
  assert_string_equal(hvkvp_items_get(&it, "acme.cfg.collectors"),
                      "cpu memory");
  hvkvp_items_free(&it);

  hvkvp_cfg_init(&c);
  assert_int_equal(hvkvp_cfg_items(&c, "hvkvp", &it, id, &e), HVKVP_E_ARG);
  c.interval = 0.5; /* out of range: the host refuses to build it */
  assert_int_equal(hvkvp_cfg_items(&c, "hvkvp", &it, id, &e), HVKVP_E_ARG);
  assert_int_equal(it.n, 0);
}

static void t_read(void **state) {
  hvkvp_items_t it;
  hvkvp_cfg_t c;
  hvkvp_err_t e;
  hvkvp_items_init(&it);
  assert_int_equal(hvkvp_cfg_read(&it, "hvkvp", &c, &e), 0);
  assert_false(c.present);
  hvkvp_items_set(&it, "hvkvp.cfg.future", "x"); /* a newer host's setting */
  hvkvp_items_set(&it, "hvkvp.head", "not config");
  assert_int_equal(hvkvp_cfg_read(&it, "hvkvp", &c, &e), HVKVP_E_ARG);
  assert_string_equal(e.detail,
                      "item hvkvp.cfg.id missing: a pushed config needs an id");
  hvkvp_items_set(&it, "hvkvp.cfg.id", "c-1");
  assert_int_equal(hvkvp_cfg_read(&it, "hvkvp", &c, &e), 0);
  assert_true(c.present);
  assert_true(c.interval == 0);
  hvkvp_items_set(&it, "hvkvp.cfg.interval", "0x10");
  assert_int_equal(hvkvp_cfg_read(&it, "hvkvp", &c, &e), HVKVP_E_ARG);
  assert_string_equal(e.detail, "item hvkvp.cfg.interval: \"0x10\" is not "
                                "seconds 1..3600");
  hvkvp_items_set(&it, "hvkvp.cfg.interval", "30");
  hvkvp_items_set(&it, "hvkvp.cfg.id", "bad\x01id");
  assert_int_equal(hvkvp_cfg_read(&it, "hvkvp", &c, &e), HVKVP_E_ARG);
  assert_string_equal(e.detail, "item hvkvp.cfg.id: non-printable character");
  hvkvp_items_free(&it);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_interval), cmocka_unit_test(t_collectors),
      cmocka_unit_test(t_tags),     cmocka_unit_test(t_items_roundtrip),
      cmocka_unit_test(t_read),     cmocka_unit_test(t_list_has),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
