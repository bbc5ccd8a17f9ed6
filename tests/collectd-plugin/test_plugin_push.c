/*
 * test_plugin_push.c - host -> guest configuration: the desired PREFIX.cfg.*
 * set and its id, the Add/Modify/Remove diff against HostExchangeItems (keys
 * outside PREFIX.cfg. untouched), and apply order (id last, <= 128 items per
 * call).
 */
#include "plugin_push.h"
#include "stubs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static hvp_push_conf_t conf(int interval, const char *coll, const char *tags) {
  hvp_push_conf_t p;
  hvkvp_err_t e;
  memset(&p, 0, sizeof(p));
  hvkvp_cfg_init(&p.cfg);
  p.cfg.interval = interval;
  if (coll != NULL)
    assert_int_equal(hvkvp_cfg_parse_collectors(coll, &p.cfg, &e), 0);
  if (tags != NULL)
    assert_int_equal(hvkvp_cfg_parse_tags(tags, &p.cfg, &e), 0);
  return p;
}

static void test_desired(void **state) {
  hvp_push_conf_t p = conf(10, "cpu memory", "env=prod");
  hvkvp_items_t d;
  char id[HVP_CFG_ID_LEN], id2[HVP_CFG_ID_LEN];
  assert_int_equal(hvp_push_desired(&p, "hvkvp", &d, id), 0);
  assert_int_equal(d.n, 4);
  assert_string_equal(hvkvp_items_get(&d, "hvkvp.cfg.interval"), "10");
  assert_string_equal(hvkvp_items_get(&d, "hvkvp.cfg.collectors"),
                      "cpu memory");
  assert_string_equal(hvkvp_items_get(&d, "hvkvp.cfg.tags"), "env=prod");
  assert_string_equal(hvkvp_items_get(&d, "hvkvp.cfg.id"), id);
  assert_int_equal(strlen(id), 12);
  assert_int_equal(strspn(id, "0123456789abcdef"), 12);
  hvkvp_items_free(&d);

  /* Same set: same id; any change: another id; another prefix too. */
  assert_int_equal(hvp_push_desired(&p, "hvkvp", &d, id2), 0);
  assert_string_equal(id, id2);
  hvkvp_items_free(&d);
  p.cfg.interval = 11;
  assert_int_equal(hvp_push_desired(&p, "hvkvp", &d, id2), 0);
  assert_string_not_equal(id, id2);
  hvkvp_items_free(&d);
  p.cfg.interval = 10;
  assert_int_equal(hvp_push_desired(&p, "acme", &d, id2), 0);
  assert_string_not_equal(id, id2);
  assert_non_null(hvkvp_items_get(&d, "acme.cfg.id"));
  assert_null(hvkvp_items_get(&d, "hvkvp.cfg.id"));
  hvkvp_items_free(&d);

  /* Only what is configured is desired. */
  p = conf(30, NULL, NULL);
  assert_int_equal(hvp_push_desired(&p, "hvkvp", &d, id), 0);
  assert_int_equal(d.n, 2);
  assert_null(hvkvp_items_get(&d, "hvkvp.cfg.tags"));
  hvkvp_items_free(&d);
}

static void test_diff(void **state) {
  hvp_push_conf_t p = conf(10, "cpu", NULL);
  hvkvp_items_t want, cur;
  char id[HVP_CFG_ID_LEN];
  assert_int_equal(hvp_push_desired(&p, "hvkvp", &want, id), 0);
  hvkvp_items_init(&cur);
  hvp_push_diff_t d;

  /* Nothing there: everything added. */
  assert_int_equal(hvp_push_diff(&want, &cur, "hvkvp", &d), 3);
  assert_int_equal(d.add.n, 3);
  assert_int_equal(d.modify.n, 0);
  assert_int_equal(d.remove.n, 0);
  hvp_push_diff_free(&d);

  /* Older config with an extra key, plus keys that are not ours. */
  hvkvp_items_set(&cur, "hvkvp.cfg.interval", "60");
  hvkvp_items_set(&cur, "hvkvp.cfg.collectors", "cpu");
  hvkvp_items_set(&cur, "hvkvp.cfg.tags", "old=1");
  hvkvp_items_set(&cur, "hvkvp.cfg.id", "000000000000");
  hvkvp_items_set(&cur, "other.setting", "x");
  hvkvp_items_set(&cur, "hvkvp.head", "not-cfg");
  hvkvp_items_set(&cur, "hvkvp.cfgX", "not-cfg");
  assert_int_equal(hvp_push_diff(&want, &cur, "hvkvp", &d), 3);
  assert_int_equal(d.add.n, 0);
  assert_int_equal(d.modify.n, 2);
  assert_string_equal(hvkvp_items_get(&d.modify, "hvkvp.cfg.interval"), "10");
  assert_string_equal(hvkvp_items_get(&d.modify, "hvkvp.cfg.id"), id);
  assert_int_equal(d.remove.n, 1);
  assert_non_null(hvkvp_items_get(&d.remove, "hvkvp.cfg.tags"));
  hvp_push_diff_free(&d);

  /* In sync: nothing to do. */
  hvkvp_items_free(&cur);
  hvkvp_items_init(&cur);
  for (size_t i = 0; i < want.n; i++)
    hvkvp_items_set(&cur, want.v[i].key, want.v[i].value);
  hvkvp_items_set(&cur, "unrelated", "1");
  assert_int_equal(hvp_push_diff(&want, &cur, "hvkvp", &d), 0);
  hvp_push_diff_free(&d);
  hvkvp_items_free(&cur);
  hvkvp_items_free(&want);
}

static void test_apply_order(void **state) {
  stub_reset();
  hv_vm_t *vm = stub_add_vm("G1", "vm1");
  hvkvp_items_set(&vm->pool[HV_POOL_HOST], "hvkvp.cfg.interval", "60");
  hvkvp_items_set(&vm->pool[HV_POOL_HOST], "hvkvp.cfg.tags", "a=b");
  hvkvp_items_set(&vm->pool[HV_POOL_HOST], "hvkvp.cfg.id", "0123456789ab");
  hvp_push_conf_t p = conf(10, "cpu memory", NULL);
  hvkvp_items_t want;
  char id[HVP_CFG_ID_LEN];
  assert_int_equal(hvp_push_desired(&p, "hvkvp", &want, id), 0);
  hvp_push_diff_t d;
  assert_int_equal(hvp_push_diff(&want, &vm->pool[HV_POOL_HOST], "hvkvp", &d),
                   4);
  ws_err_t err;
  memset(&err, 0, sizeof(err));
  unsigned ops = 0;
  hv_host_t *h = hv_host_new(&(hv_opts_t){.ws = {.url = "x"}}, &err);
  assert_int_equal(hvp_push_apply(h, "G1", &d, "hvkvp", 5, &ops, &err), 0);
  assert_int_equal(ops, 4);
  assert_int_equal(stub_n_ops, 4);
  assert_int_equal(stub_ops[0].op, HV_KVP_REMOVE);
  assert_non_null(hvkvp_items_get(&stub_ops[0].items, "hvkvp.cfg.tags"));
  assert_int_equal(stub_ops[1].op, HV_KVP_ADD);
  assert_non_null(hvkvp_items_get(&stub_ops[1].items, "hvkvp.cfg.collectors"));
  assert_int_equal(stub_ops[2].op, HV_KVP_MODIFY);
  assert_non_null(hvkvp_items_get(&stub_ops[2].items, "hvkvp.cfg.interval"));
  assert_null(hvkvp_items_get(&stub_ops[2].items, "hvkvp.cfg.id"));
  assert_int_equal(stub_ops[3].op, HV_KVP_MODIFY); /* the id, last */
  assert_int_equal(stub_ops[3].items.n, 1);
  assert_string_equal(hvkvp_items_get(&stub_ops[3].items, "hvkvp.cfg.id"), id);
  /* The VM now holds exactly the desired set. */
  hvp_push_diff_free(&d);
  assert_int_equal(
      hvp_push_diff(&want, &stub_vms.v[0].pool[HV_POOL_HOST], "hvkvp", &d), 0);
  hvp_push_diff_free(&d);

  /* A diff of 130 removals goes in two calls; a failure stops and says so. */
  hvp_push_diff_init(&d);
  char key[64];
  for (int i = 0; i < 130; i++) {
    snprintf(key, sizeof(key), "hvkvp.cfg.k%d", i);
    hvkvp_items_set(&d.remove, key, "");
  }
  stub_ops_clear();
  ops = 0;
  assert_int_equal(hvp_push_apply(h, "G1", &d, "hvkvp", 5, &ops, &err), 0);
  assert_int_equal(ops, 2);
  assert_int_equal(stub_ops[0].items.n, 128);
  assert_int_equal(stub_ops[1].items.n, 2);
  stub_kvp_fail = 1;
  ops = 0;
  assert_int_equal(hvp_push_apply(h, "G1", &d, "hvkvp", 5, &ops, &err), -1);
  assert_int_equal(ops, 1);
  assert_non_null(strstr(err.msg, "Access Denied"));
  hvp_push_diff_free(&d);
  hvkvp_items_free(&want);
  hv_host_free(h);
  stub_reset();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_desired),
      cmocka_unit_test(test_diff),
      cmocka_unit_test(test_apply_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
