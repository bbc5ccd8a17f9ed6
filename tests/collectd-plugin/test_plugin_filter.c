/*
 * test_plugin_filter.c - IncludeVM / ExcludeVM: literals against the name
 * (exact) and GUID (any case), /regex/ patterns, include then exclude, and
 * the errors for bad patterns.
 */
#include "plugin_filter.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define GUID "5F1C3E2A-1B2C-4D5E-8F90-0123456789AB"

static void test_empty_selects_all(void **state) {
  hvp_filter_t f;
  hvp_filter_init(&f);
  assert_true(hvp_filter_match(&f, "web-01", GUID));
  assert_true(hvp_filter_match(&f, NULL, NULL));
  hvp_filter_free(&f);
}

static void test_literal_and_regex(void **state) {
  hvp_filter_t f;
  ws_err_t err;
  hvp_filter_init(&f);
  assert_int_equal(hvp_filter_add(&f, 0, "db-01", &err), 0);
  assert_int_equal(hvp_filter_add(&f, 0, "/^web-[0-9]+$/", &err), 0);
  assert_int_equal(
      hvp_filter_add(&f, 0, "5f1c3e2a-1b2c-4d5e-8f90-0123456789ab", &err), 0);
  assert_true(hvp_filter_match(&f, "db-01", "X"));
  assert_false(hvp_filter_match(&f, "db-011", "X")); /* literal is whole */
  assert_false(hvp_filter_match(&f, "DB-01", "X"));  /* names: exact case */
  assert_true(hvp_filter_match(&f, "web-12", "X"));
  assert_false(hvp_filter_match(&f, "web-12a", "X"));
  assert_true(hvp_filter_match(&f, "other", GUID)); /* GUID: any case */
  assert_false(hvp_filter_match(&f, "other", "X"));
  hvp_filter_free(&f);
}

static void test_exclude_wins(void **state) {
  hvp_filter_t f;
  ws_err_t err;
  hvp_filter_init(&f);
  assert_int_equal(hvp_filter_add(&f, 0, "/^web-/", &err), 0);
  assert_int_equal(hvp_filter_add(&f, 1, "/-test$/", &err), 0);
  assert_int_equal(hvp_filter_add(&f, 1, GUID, &err), 0);
  assert_true(hvp_filter_match(&f, "web-01", "A"));
  assert_false(hvp_filter_match(&f, "web-01-test", "A"));
  assert_false(hvp_filter_match(&f, "web-02", GUID));
  assert_false(hvp_filter_match(&f, "db-01", "A"));
  hvp_filter_free(&f);

  /* Exclude only. */
  hvp_filter_init(&f);
  assert_int_equal(hvp_filter_add(&f, 1, "/^tmp/", &err), 0);
  assert_true(hvp_filter_match(&f, "web", "A"));
  assert_false(hvp_filter_match(&f, "tmp1", "A"));
  hvp_filter_free(&f);
}

static void test_bad_patterns(void **state) {
  hvp_filter_t f;
  ws_err_t err;
  hvp_filter_init(&f);
  assert_int_equal(hvp_filter_add(&f, 0, "/web-(/", &err), -1);
  assert_non_null(strstr(err.msg, "IncludeVM \"/web-(/\""));
  assert_non_null(strstr(err.msg, "invalid regular expression"));
  assert_int_equal(hvp_filter_add(&f, 1, "", &err), -1);
  assert_non_null(strstr(err.msg, "ExcludeVM"));
  for (int i = 0; i < HVP_FILTER_MAX; i++)
    assert_int_equal(hvp_filter_add(&f, 0, "x", &err), 0);
  assert_int_equal(hvp_filter_add(&f, 0, "y", &err), -1);
  assert_non_null(strstr(err.msg, "more than"));
  /* "/" alone is a literal, not an empty regex. */
  hvp_filter_free(&f);
  hvp_filter_init(&f);
  assert_int_equal(hvp_filter_add(&f, 0, "/", &err), 0);
  assert_true(hvp_filter_match(&f, "/", NULL));
  assert_false(hvp_filter_match(&f, "a", NULL));
  hvp_filter_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_selects_all),
      cmocka_unit_test(test_literal_and_regex),
      cmocka_unit_test(test_exclude_wins),
      cmocka_unit_test(test_bad_patterns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
