/*
 * test_message_batch.c - the value lists of write_hvkvp's next message
 * (message_batch.c): identifier order whatever the arrival order, a newer
 * value list replacing the older one of its identifier, the cap keeping the
 * first value lists in identifier order and counting the rest in
 * "trimmed", the HVKVP_MAX_VALUE_LISTS bound, and the batch lent to the
 * message without a copy and empty (its memory kept) once given back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "message_batch.h"

#include <stdio.h>
#include <string.h>

static hvkvp_vl_t vl(const char *plugin, const char *pinst, const char *type,
                     double v) {
  hvkvp_vl_t x;
  memset(&x, 0, sizeof(x));
  snprintf(x.plugin, sizeof(x.plugin), "%s", plugin);
  snprintf(x.plugin_instance, sizeof(x.plugin_instance), "%s", pinst);
  snprintf(x.type, sizeof(x.type), "%s", type);
  x.n = 1;
  x.dstypes[0] = HVKVP_DS_GAUGE;
  snprintf(x.dsnames[0], sizeof(x.dsnames[0]), "value");
  x.values[0].gauge = v;
  return x;
}

static void test_order_and_replace(void **state) {
  (void)state;
  mbatch_t b;
  mbatch_init(&b);
  hvkvp_vl_t a = vl("memory", "", "memory", 1), c = vl("cpu", "1", "cpu", 2),
             d = vl("cpu", "0", "cpu", 3), e = vl("cpu", "0", "cpu", 4);
  assert_int_equal(mbatch_put(&b, &a, 100.5), 0);
  assert_int_equal(mbatch_put(&b, &c, 101.0), 0);
  assert_int_equal(mbatch_put(&b, &d, 99.0), 0);
  assert_int_equal(mbatch_put(&b, &e, 100.0), 1); /* same identifier */
  assert_int_equal(b.n, 3);
  assert_int_equal(b.replaced, 1);
  assert_true(b.newest == 101.0);
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  mbatch_lend(&b, &m, HVKVP_MAX_VALUE_LISTS);
  assert_int_equal(m.n_vls, 3);
  assert_int_equal(m.trimmed, 0);
  assert_string_equal(m.vls[0].plugin_instance, "0");
  assert_true(m.vls[0].values[0].gauge == 4); /* the newer one */
  assert_string_equal(m.vls[1].plugin_instance, "1");
  assert_string_equal(m.vls[2].plugin, "memory");
  assert_ptr_equal(m.vls, b.v); /* lent, not copied */
  mbatch_return(&b, &m);
  assert_null(m.vls);
  assert_int_equal(b.n, 0); /* empty for the next message */
  assert_true(b.newest == 0);
  assert_non_null(b.v); /* its memory kept */
  hvkvp_msg_free(&m);
  mbatch_free(&b);
}

static void test_cap_is_deterministic(void **state) {
  (void)state;
  char name[32];
  char first[20][HVKVP_NAME_LEN];
  for (int round = 0; round < 2; round++) {
    mbatch_t b;
    mbatch_init(&b);
    for (int i = 0; i < 50; i++) {
      int k = round == 0 ? i : 49 - i; /* another arrival order */
      snprintf(name, sizeof(name), "p%02d", k);
      hvkvp_vl_t x = vl(name, "", "gauge", k);
      assert_int_equal(mbatch_put(&b, &x, 1), 0);
    }
    hvkvp_msg_t m;
    hvkvp_msg_init(&m);
    mbatch_lend(&b, &m, 20);
    assert_int_equal(m.n_vls, 20);
    assert_int_equal(m.trimmed, 30);
    assert_string_equal(m.vls[19].plugin, "p19");
    for (size_t i = 0; i < 20; i++) {
      if (round == 0)
        snprintf(first[i], sizeof(first[i]), "%s", m.vls[i].plugin);
      else
        assert_string_equal(m.vls[i].plugin, first[i]);
    }
    mbatch_return(&b, &m);
    hvkvp_msg_free(&m);
    mbatch_free(&b);
  }
}

static void test_bound(void **state) {
  (void)state;
  mbatch_t b;
  mbatch_init(&b);
  char name[32];
  for (int i = 0; i < HVKVP_MAX_VALUE_LISTS + 5; i++) {
    snprintf(name, sizeof(name), "p%05d", i);
    hvkvp_vl_t x = vl(name, "", "gauge", i);
    assert_int_equal(mbatch_put(&b, &x, 1), i < HVKVP_MAX_VALUE_LISTS ? 0 : -1);
  }
  assert_int_equal(b.n, HVKVP_MAX_VALUE_LISTS);
  assert_int_equal(b.overflowed, 5);
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  mbatch_lend(&b, &m, 100);
  assert_int_equal(m.n_vls, 100);
  assert_int_equal(m.trimmed, HVKVP_MAX_VALUE_LISTS - 100 + 5);
  mbatch_return(&b, &m);
  assert_int_equal(b.overflowed, 0);
  hvkvp_msg_free(&m);
  mbatch_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order_and_replace),
      cmocka_unit_test(test_cap_is_deterministic),
      cmocka_unit_test(test_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
