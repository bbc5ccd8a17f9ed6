/*
 * test_plugin_poll.c - whole polls of one Hyper-V host against the hyperv.h
 * stand-in, with messages framed by the real protocol library: values
 * dispatched under the right host, each generation once (a new epoch resets),
 * the intrinsic-items fallback, torn and invalid messages counted and
 * complained about once, staleness, the filter, state of vanished VMs freed,
 * configuration push and the in-sync count, a failing host, self metrics
 * with stock types, ReportIntrinsic notifications.
 */
#include "ocfg.h"
#include "plugin_generations.h"
#include "plugin_poll.h"
#include "stubs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T0 1700000000.0
#define G1 "11111111-AAAA-4BBB-8CCC-000000000001"
#define G2 "22222222-AAAA-4BBB-8CCC-000000000002"

static double pub_interval = 10; /* interval of the published messages */
static double pub_time = T0;     /* time of the next published message */

/* Frames a message (cpu percent value = `value`, config id `cfg`) and puts
 * its items into *items, replacing what was there. */
static void publish(hvkvp_items_t *items, const char *prefix, uint64_t epoch,
                    uint64_t gen, double value, const char *cfg) {
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  snprintf(m.host, sizeof(m.host), "guest-%llu.example.com",
           (unsigned long long)epoch);
  m.time = pub_time;
  pub_time += 1; /* a reporter's clock goes forward */
  m.interval = pub_interval;
  m.seq = gen;
  snprintf(m.config, sizeof(m.config), "%s", cfg ? cfg : "");
  hvkvp_value_t v = {.gauge = value};
  assert_int_equal(
      hvkvp_msg_add1(&m, "cpu", "0", "percent", "user", HVKVP_DS_GAUGE, v), 0);
  m.n_tags = 1;
  strcpy(m.tags[0].key, "role");
  strcpy(m.tags[0].value, "web");
  hvkvp_encode_opts_t o = {
      .prefix = prefix, .enc = HVKVP_ENC_DEFAULT, .epoch = epoch, .gen = gen};
  hvkvp_frame_t f;
  hvkvp_err_t err;
  memset(&f, 0, sizeof(f));
  int rc = hvkvp_encode(&m, &o, items, &f, &err);
  if (rc != 0)
    fail_msg("hvkvp_encode: %s", err.detail);
  for (size_t i = 0; i < f.put.n; i++)
    hvkvp_items_set(items, f.put.v[i].key, f.put.v[i].value);
  for (size_t i = 0; i < f.n_del; i++)
    hvkvp_items_del(items, f.del[i]);
  for (size_t i = 0; i < f.n_after; i++)
    hvkvp_items_del(items, f.after[i]);
  hvkvp_frame_free(&f);
  hvkvp_msg_free(&m);
}

static hvp_host_t *open_host(void (*extra)(oconfig_item_t *)) {
  oconfig_item_t *h = oc_new("Host");
  oc_str(h, "hv01");
  oc_opt_s(h, "URL", "http://127.0.0.1:1/wsman");
  oc_opt_s(h, "User", "u");
  oc_opt_s(h, "Password", "p");
  if (extra)
    extra(h);
  hvp_host_conf_t *c = calloc(1, sizeof(*c));
  assert_int_equal(hvp_config_host(h, c), 0);
  oc_free(h);
  hvp_host_t *host = hvp_host_open(c);
  assert_non_null(host);
  return host;
}

static const cap_vl_t *vm_value(const char *host) {
  return cap_find(host, "cpu", "0", "percent", "user");
}

static double self_value(const char *type, const char *tinst) {
  const cap_vl_t *c = cap_find("", "hyperv_kvp", "hv01", type, tinst);
  if (c == NULL)
    fail_msg("self metric %s-%s not dispatched", type, tinst);
  const data_set_t *ds = plugin_get_ds(type);
  assert_non_null(ds); /* a stock type */
  assert_int_equal(ds->ds_num, c->vl.values_len);
  return ds->ds[0].type == DS_TYPE_GAUGE ? c->values[0].gauge
                                         : (double)c->values[0].derive;
}

static int setup(void **state) {
  stub_reset();
  cap_reset();
  hvp_gens_clear(); /* plugin-wide: each test starts with new VMs */
  pub_time = T0;
  return 0;
}

static int teardown(void **state) {
  stub_reset();
  assert_int_equal(stub_hosts_live, 0);
  assert_int_equal(cap_meta_live, 0);
  return 0;
}

static void test_dispatch_once_per_gen(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 77, 1, 10.0, NULL);
  hvp_host_t *h = open_host(NULL);

  assert_int_equal(hvp_poll(h, T0 + 1, 10), 0);
  assert_int_equal(stub_last_want, HV_WANT_GUEST);
  const cap_vl_t *c = vm_value("web-01");
  assert_non_null(c);
  assert_true(c->values[0].gauge == 10.0);
  assert_int_equal(c->n_meta, 1);
  assert_string_equal(c->meta_k[0], "role");
  assert_true(self_value("operations", "messages_ok") == 1);
  assert_true(self_value("count", "vms") == 1);
  assert_true(self_value("requests", "poll") == 2);
  self_value("duration", "poll");
  self_value("http_requests", "wsman");
  self_value("io_octets", "wsman");

  /* Same generation again: nothing new. */
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 11, 10), 0);
  assert_null(vm_value("web-01"));
  assert_true(self_value("operations", "messages_ok") == 1);

  /* Next generation. */
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 77, 2, 20.0, NULL);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 21, 10), 0);
  assert_true(vm_value("web-01")->values[0].gauge == 20.0);

  /* A restarted reporter (new epoch) with a lower gen is accepted. */
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 78, 1, 30.0, NULL);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 31, 10), 0);
  assert_true(vm_value("web-01")->values[0].gauge == 30.0);
  assert_true(self_value("operations", "messages_ok") == 3);
  hvp_host_close(h);
}

static void guest_hostname(oconfig_item_t *h) {
  oc_opt_s(h, "HostnameFormat", "guest_hostname");
  oc_opt_s(h, "Prefix", "acme");
}

static void test_intrinsic_fallback_and_prefix(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "win-01");
  /* A Windows reporter writing to Auto: the items are intrinsic. */
  publish(&vm->pool[HV_POOL_INTRINSIC], "acme", 5, 1, 42.0, NULL);
  hvkvp_items_set(&vm->pool[HV_POOL_INTRINSIC], "OSName",
                  "Windows Server 2022");
  /* A message under another prefix is not ours. */
  vm = stub_add_vm(G2, "lin-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 6, 1, 1.0, NULL);
  hvp_host_t *h = open_host(guest_hostname);
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  const cap_vl_t *c = vm_value("guest-5.example.com");
  assert_non_null(c);
  assert_true(c->values[0].gauge == 42.0);
  assert_int_equal(cap_count_host("guest-6.example.com"), 0);
  assert_true(self_value("count", "vms") == 2);
  assert_true(self_value("count", "vms_without_message") == 1);
  hvp_host_close(h);
}

static void intrinsic_on(oconfig_item_t *h);

/* The intrinsic pool is read where a message may be: every VM the first
 * time, then a VM whose message is there (Auto) or nowhere; every VM's
 * now and then for ReportIntrinsic. */
static void test_intrinsic_only_when_needed(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "lin-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL);
  vm = stub_add_vm(G2, "win-01");
  publish(&vm->pool[HV_POOL_INTRINSIC], "hvkvp", 2, 1, 2.0, NULL);
  stub_add_vm("33333333-AAAA-4BBB-8CCC-000000000003", "bare-01");
  hvp_host_t *h = open_host(NULL);
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  assert_int_equal(stub_last_want, HV_WANT_GUEST);
  assert_int_equal(stub_picked, 3); /* all new */
  assert_non_null(vm_value("win-01"));
  cap_reset();
  publish(&stub_vms.v[1].pool[HV_POOL_INTRINSIC], "hvkvp", 2, 2, 3.0, NULL);
  assert_int_equal(hvp_poll(h, T0 + 10, 10), 0);
  assert_int_equal(stub_picked, 2); /* win-01 (Auto), bare-01 (none) */
  assert_true(vm_value("win-01")->values[0].gauge == 3.0);
  /* lin-01's message leaves its guest pool: looked for next time */
  hvkvp_items_free(&stub_vms.v[0].pool[HV_POOL_GUEST]);
  assert_int_equal(hvp_poll(h, T0 + 20, 10), 0);
  assert_int_equal(hvp_poll(h, T0 + 30, 10), 0);
  assert_int_equal(stub_picked, 3);
  hvp_host_close(h);
  /* ReportIntrinsic: every VM's pool in the first list and every 30th */
  h = open_host(intrinsic_on);
  for (int i = 0; i < 31; i++) {
    assert_int_equal(hvp_poll(h, T0 + 40 + i, 10), 0);
    assert_int_equal(stub_last_want & HV_WANT_INTRINSIC,
                     i % 30 == 0 ? HV_WANT_INTRINSIC : 0);
  }
  hvp_host_close(h);
}

/* A generation taken already is not decoded again: what its chunks turn
 * into afterwards is not read (no torn or invalid message counted). */
static void test_same_gen_not_decoded(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL);
  hvp_host_t *h = open_host(NULL);
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  assert_true(self_value("operations", "messages_ok") == 1);
  hvkvp_items_set(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp.A.0", "junk");
  assert_int_equal(hvp_poll(h, T0 + 10, 10), 0);
  assert_true(self_value("operations", "messages_invalid") == 0);
  assert_true(self_value("operations", "messages_torn") == 0);
  assert_true(self_value("operations", "messages_ok") == 1);
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 1, 2, 5.0, NULL);
  assert_int_equal(hvp_poll(h, T0 + 20, 10), 0);
  assert_true(self_value("operations", "messages_ok") == 2);
  hvp_host_close(h);
}

static void test_torn_invalid(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL);
  /* Tear it: drop the first chunk the head names. */
  hvkvp_head_t head;
  hvkvp_err_t err;
  assert_int_equal(
      hvkvp_head_parse(hvkvp_items_get(&vm->pool[HV_POOL_GUEST], "hvkvp.head"),
                       &head, &err),
      0);
  char key[64];
  snprintf(key, sizeof(key), "hvkvp.%c.0", head.slot);
  char *saved = strdup(hvkvp_items_get(&vm->pool[HV_POOL_GUEST], key));
  assert_int_equal(hvkvp_items_del(&vm->pool[HV_POOL_GUEST], key), 1);

  hvp_host_t *h = open_host(NULL);
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  assert_int_equal(hvp_poll(h, T0 + 10, 10), 0);
  assert_int_equal(cap_count_host("web-01"), 0);
  assert_true(self_value("operations", "messages_torn") == 2);
  assert_int_equal(cap_log_n[LOG_WARNING], 1); /* complained once */
  assert_non_null(strstr(cap_log, "torn message"));
  assert_non_null(strstr(cap_log, G1));

  /* The writer finishes: whole again, dispatched, complaint released. */
  hvkvp_items_set(&stub_vms.v[0].pool[HV_POOL_GUEST], key, saved);
  free(saved);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 20, 10), 0);
  assert_non_null(vm_value("web-01"));
  assert_int_equal(cap_release_n, 1);
  assert_non_null(strstr(cap_log, "whole again"));

  /* Garbage head: invalid, not torn. */
  hvkvp_items_set(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp.head",
                  "v=1;garbage;;");
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 30, 10), 0);
  assert_int_equal(hvp_poll(h, T0 + 40, 10), 0);
  assert_true(self_value("operations", "messages_invalid") == 2);
  assert_true(self_value("operations", "messages_torn") == 2);
  assert_int_equal(cap_log_n[LOG_ERR], 1);
  assert_non_null(strstr(cap_log, "invalid message"));
  hvp_host_close(h);
}

static void test_stale(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL); /* interval 10 */
  hvp_host_t *h = open_host(NULL); /* StaleAfter 3 */
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  assert_true(self_value("count", "vms_stale") == 0);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 30, 10), 0); /* 30 s: not yet */
  assert_true(self_value("count", "vms_stale") == 0);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 31, 10), 0);
  assert_true(self_value("count", "vms_stale") == 1);
  assert_non_null(strstr(cap_log, "no new message for 31 s"));
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 41, 10), 0);
  assert_true(self_value("count", "vms_stale") == 1);
  assert_int_equal(cap_log_n[LOG_WARNING], 0); /* said once */
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 1, 2, 2.0, NULL);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 51, 10), 0);
  assert_true(self_value("count", "vms_stale") == 0);
  assert_non_null(strstr(cap_log, "arrive again"));
  hvp_host_close(h);

  /* An absurd message interval does not keep a VM from ever being stale:
   * the poll interval (10 s) is used. */
  pub_interval = 1e9;
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 2, 1, 2.0, NULL);
  pub_interval = 10;
  h = open_host(NULL);
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 31, 10), 0);
  assert_true(self_value("count", "vms_stale") == 1);
  hvp_host_close(h);
}

static void filter_web(oconfig_item_t *h) {
  oc_opt_s(h, "IncludeVM", "/^web-/");
  oc_opt_s(h, "HostnameFormat", "name uuid");
}

static void test_filter_and_vanish(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL);
  vm = stub_add_vm(G2, "db-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 2, 1, 2.0, NULL);
  hvp_host_t *h = open_host(filter_web);
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  assert_non_null(vm_value("web-01_" G1));
  assert_int_equal(cap_count_host("db-01_" G2), 0);
  assert_true(self_value("count", "vms") == 1);
  assert_int_equal(h->vms.n, 1);

  /* The VM goes away: its state is freed. It comes back: the generation
   * dispatched before is not dispatched twice (the plugin remembers it for
   * every Host block), its next one is. */
  hv_vms_t keep = stub_vms;
  stub_vms.n = 0;
  assert_int_equal(hvp_poll(h, T0 + 10, 10), 0);
  assert_int_equal(h->vms.n, 0);
  stub_vms = keep;
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 20, 10), 0);
  assert_null(vm_value("web-01_" G1));
  assert_int_equal(h->vms.n, 1);
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 1, 2, 3.0, NULL);
  assert_int_equal(hvp_poll(h, T0 + 30, 10), 0);
  assert_non_null(vm_value("web-01_" G1));
  hvp_host_close(h);
}

static void push_all(oconfig_item_t *h) {
  oconfig_item_t *p = oc_add(h, "Push");
  oc_opt_s(p, "IncludeVM", "/^web-/");
  oc_opt_n(p, "Interval", 5);
  oc_opt_s(p, "Collectors", "cpu memory");
}

static void test_push_and_sync(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL);
  hvkvp_items_set(&vm->pool[HV_POOL_HOST], "unrelated.key", "keep");
  vm = stub_add_vm(G2, "db-01"); /* no Push block applies */
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 2, 1, 1.0, NULL);
  hvp_host_t *h = open_host(push_all);
  const char *id = h->push[0].id;

  assert_int_equal(hvp_poll(h, T0, 10), 0);
  assert_int_equal(stub_last_want, HV_WANT_GUEST | HV_WANT_HOST);
  assert_int_equal(stub_n_ops, 2); /* add values, then add the id */
  assert_string_equal(stub_ops[0].guid, G1);
  assert_int_equal(stub_ops[0].op, HV_KVP_ADD);
  assert_int_equal(stub_ops[0].items.n, 2);
  assert_int_equal(stub_ops[1].items.n, 1);
  const hvkvp_items_t *hi = &stub_vms.v[0].pool[HV_POOL_HOST];
  assert_string_equal(hvkvp_items_get(hi, "hvkvp.cfg.interval"), "5");
  assert_string_equal(hvkvp_items_get(hi, "hvkvp.cfg.collectors"),
                      "cpu memory");
  assert_string_equal(hvkvp_items_get(hi, "hvkvp.cfg.id"), id);
  assert_string_equal(hvkvp_items_get(hi, "unrelated.key"), "keep");
  assert_int_equal(stub_vms.v[1].pool[HV_POOL_HOST].n, 0);
  assert_true(self_value("operations", "push_ok") == 1);
  assert_true(self_value("count", "vms_in_sync") == 0);
  assert_true(self_value("count", "vms_push_target") == 1);
  assert_true(self_value("requests", "poll") == 4);
  assert_true(self_value("count", "vms_push_pending") == 0);
  /* A push may follow its jobs for at least Timeout (10 s), even when less
   * of the budget (half the 10 s interval) is left. */
  assert_true(stub_last_deadline >= 10.0);

  /* The guest applies it and echoes the id: in sync; nothing more pushed. */
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 1, 2, 1.0, id);
  stub_ops_clear();
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 10, 10), 0);
  assert_int_equal(stub_n_ops, 0);
  assert_true(self_value("count", "vms_in_sync") == 1);

  /* Someone changed a value on the host: modified back. */
  hvkvp_items_set(&stub_vms.v[0].pool[HV_POOL_HOST], "hvkvp.cfg.interval",
                  "60");
  assert_int_equal(hvp_poll(h, T0 + 20, 10), 0);
  assert_int_equal(stub_n_ops, 1);
  assert_int_equal(stub_ops[0].op, HV_KVP_MODIFY);
  assert_string_equal(
      hvkvp_items_get(&stub_vms.v[0].pool[HV_POOL_HOST], "hvkvp.cfg.interval"),
      "5");

  /* Failures are reported with the model's message and counted. */
  hvkvp_items_del(&stub_vms.v[0].pool[HV_POOL_HOST], "hvkvp.cfg.interval");
  stub_kvp_fail = 1;
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 30, 10), 0);
  assert_int_equal(hvp_poll(h, T0 + 40, 10), 0);
  assert_true(self_value("operations", "push_failed") == 2);
  assert_int_equal(cap_log_n[LOG_ERR], 1);
  assert_non_null(strstr(cap_log, "Access Denied"));
  hvp_host_close(h);
}

static void test_list_failure(void **state) {
  stub_add_vm(G1, "web-01");
  hvp_host_t *h = open_host(NULL);
  stub_list_fail = 1;
  assert_int_equal(hvp_poll(h, T0, 10), -1);
  assert_int_equal(hvp_poll(h, T0 + 10, 10), -1);
  assert_int_equal(cap_log_n[LOG_ERR], 1);
  assert_non_null(strstr(cap_log, "connection refused"));
  assert_non_null(strstr(cap_log, "Host \"hv01\""));
  self_value("duration", "poll");
  assert_null(cap_find("", "hyperv_kvp", "hv01", "count", "vms"));
  stub_list_fail = 0;
  assert_int_equal(hvp_poll(h, T0 + 20, 10), 0);
  assert_int_equal(cap_release_n, 1);
  hvp_host_close(h);

  /* The model refuses the options: open fails with its message. */
  stub_host_new_fail = 1;
  hvp_host_conf_t *c = calloc(1, sizeof(*c));
  oconfig_item_t *o = oc_new("Host");
  oc_str(o, "hv09");
  oc_opt_s(o, "URL", "http://bad/wsman");
  oc_opt_s(o, "Auth", "negotiate");
  assert_int_equal(hvp_config_host(o, c), 0);
  oc_free(o);
  cap_reset();
  assert_null(hvp_host_open(c));
  assert_non_null(strstr(cap_log, "refused URL http://bad/wsman"));
}

static void intrinsic_on(oconfig_item_t *h) {
  oc_opt_b(h, "ReportIntrinsic", 1);
}

static void test_report_intrinsic(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  hvkvp_items_set(&vm->pool[HV_POOL_INTRINSIC], "OSName", "Debian GNU/Linux\n");
  hvkvp_items_set(&vm->pool[HV_POOL_INTRINSIC], "OSVersion", "12\x01");
  hvp_host_t *h = open_host(intrinsic_on);
  assert_int_equal(hvp_poll(h, T0, 10), 0);
  assert_int_equal(cap_notif_n, 1);
  assert_non_null(strstr(cap_notif_msg, "Debian GNU/Linux 12"));
  assert_non_null(strstr(cap_notif_meta, "OSName=Debian GNU/Linux;"));
  assert_int_equal(hvp_poll(h, T0 + 10, 10), 0);
  assert_int_equal(cap_notif_n, 1); /* unchanged: not again */
  hvkvp_items_set(&stub_vms.v[0].pool[HV_POOL_INTRINSIC], "OSVersion", "13");
  assert_int_equal(hvp_poll(h, T0 + 20, 10), 0);
  assert_int_equal(cap_notif_n, 2);
  hvp_host_close(h);
}

/* A generation whose time is not after the VM's last dispatched one is not
 * dispatched (collectd would call every value too old): counted and said
 * once; a later time is dispatched again. */
static void test_time_goes_back(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 7, 1, 1.0, NULL);
  hvp_host_t *h = open_host(NULL);
  assert_int_equal(hvp_poll(h, T0 + 1, 10), 0);
  assert_non_null(vm_value("web-01"));
  for (uint64_t gen = 2; gen <= 4; gen++) {
    pub_time = T0 - 3600; /* an hour back (a new epoch would be too) */
    publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 7, gen, 2.0, NULL);
    cap_reset();
    assert_int_equal(hvp_poll(h, T0 + 10.0 * (double)gen, 10), 0);
    assert_null(vm_value("web-01"));
    assert_true(self_value("operations", "messages_old") == (double)gen - 1);
  }
  assert_int_equal(cap_complain_n, 1); /* one line for the three */
  pub_time = T0 + 100;
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 7, 5, 5.0, NULL);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 60, 10), 0);
  assert_true(vm_value("web-01")->values[0].gauge == 5.0);
  assert_int_equal(cap_release_n, 1);
  hvp_host_close(h);
}

/* A VM seen through two Host blocks (live migration between two polled
 * hosts) is dispatched once per generation, by whichever sees it first. */
static void test_vm_on_two_hosts(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 9, 1, 1.0, NULL);
  hvp_host_t *a = open_host(NULL), *b = open_host(NULL);
  assert_int_equal(hvp_poll(a, T0 + 1, 10), 0);
  assert_int_equal(cap_count_host("web-01"), 1);
  cap_reset();
  assert_int_equal(hvp_poll(b, T0 + 2, 10), 0);
  assert_int_equal(cap_count_host("web-01"), 0);
  assert_int_equal(cap_log_n[LOG_WARNING], 0); /* quietly: not "too old" */
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 9, 2, 2.0, NULL);
  cap_reset();
  assert_int_equal(hvp_poll(b, T0 + 11, 10), 0);
  assert_int_equal(cap_count_host("web-01"), 1);
  cap_reset();
  assert_int_equal(hvp_poll(a, T0 + 12, 10), 0);
  assert_int_equal(cap_count_host("web-01"), 0);
  /* neither block calls it stale: both saw its new generations */
  assert_int_equal(hvp_poll(a, T0 + 25, 10), 0);
  assert_true(self_value("count", "vms_stale") == 0);
  hvp_host_close(a);
  hvp_host_close(b);
}

static void prefix_acme(oconfig_item_t *h) {
  oc_opt_s(h, "Prefix", "acme");
}

/* Two writers in one VM (the reporter and write_hvkvp, two prefixes, two
 * Host blocks): two streams. One's time before the other's last is not
 * "not after the last dispatched". */
static void test_two_writers_one_vm(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL);
  pub_time = T0 - 5; /* the second writer's clock is a little behind */
  publish(&vm->pool[HV_POOL_GUEST], "acme", 2, 1, 2.0, NULL);
  hvp_host_t *a = open_host(NULL), *b = open_host(prefix_acme);
  assert_int_equal(hvp_poll(a, T0 + 1, 10), 0);
  assert_int_equal(hvp_poll(b, T0 + 1, 10), 0);
  assert_int_equal(cap_count_host("web-01"), 2);
  assert_int_equal(cap_log_n[LOG_WARNING], 0);
  hvp_host_close(a);
  hvp_host_close(b);
}

static void prefixes_both(oconfig_item_t *h) {
  oc_str(oc_opt_s(h, "Prefix", "hvkvp"), "acme");
  oc_opt_s(h, "HostnameFormat", "guest_hostname");
  push_all(h);
}

/* One Host block reading both writers of a VM (Prefix "hvkvp" "acme"): each
 * prefix is its own stream, read from the same listing (no extra request),
 * watched and pushed to on its own; a VM counts once. */
static void test_one_block_two_prefixes(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 1, 1, 1.0, NULL);
  publish(&vm->pool[HV_POOL_GUEST], "acme", 2, 1, 2.0, NULL);
  vm = stub_add_vm(G2, "web-02"); /* only the reporter */
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 3, 1, 3.0, NULL);
  hvp_host_t *h = open_host(prefixes_both);
  const char *id = h->push[0].id;
  assert_int_equal(hvp_poll(h, T0 + 1, 10), 0);
  /* guest host names are "guest-<epoch>.example.com": one per stream */
  assert_non_null(vm_value("guest-1.example.com"));
  assert_non_null(vm_value("guest-2.example.com"));
  assert_non_null(vm_value("guest-3.example.com"));
  assert_true(self_value("count", "vms") == 2);
  assert_true(self_value("count", "vms_without_message") == 0);
  assert_true(self_value("count", "vms_push_target") == 2);
  /* one listing (2 requests in the stub), then 2 calls per prefix pushed */
  assert_true(self_value("requests", "poll") == 2 + 2 * 4);
  for (size_t i = 0; i < 2; i++) {
    const hvkvp_items_t *hi = &stub_vms.v[i].pool[HV_POOL_HOST];
    assert_string_equal(hvkvp_items_get(hi, "hvkvp.cfg.interval"), "5");
    assert_string_equal(hvkvp_items_get(hi, "acme.cfg.interval"), "5");
    assert_string_equal(hvkvp_items_get(hi, "acme.cfg.id"), id);
  }

  /* In sync once every writer that publishes echoes the id: web-01 needs
   * both, web-02 only its reporter. */
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 1, 2, 1.0, id);
  publish(&stub_vms.v[1].pool[HV_POOL_GUEST], "hvkvp", 3, 2, 3.0, id);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 11, 10), 0);
  assert_true(self_value("count", "vms_in_sync") == 1);
  assert_true(self_value("requests", "poll") == 2);
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "acme", 2, 2, 2.0, id);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 21, 10), 0);
  assert_true(self_value("count", "vms_in_sync") == 2);

  /* web-01's second writer stops: the VM is stale once, not twice, and
   * says which stream in its log line. */
  cap_reset();
  publish(&stub_vms.v[0].pool[HV_POOL_GUEST], "hvkvp", 1, 3, 1.0, id);
  publish(&stub_vms.v[1].pool[HV_POOL_GUEST], "hvkvp", 3, 3, 3.0, id);
  assert_int_equal(hvp_poll(h, T0 + 52, 10), 0);
  assert_true(self_value("count", "vms_stale") == 1);
  assert_int_equal(cap_log_n[LOG_WARNING], 1);
  assert_non_null(strstr(cap_log, "VM " G1 "/acme: no new message"));
  hvp_host_close(h);
}

static void prefix_dotted(oconfig_item_t *h) {
  oc_opt_s(h, "Prefix", "my.app");
}

/* A prefix with '.' inside (PROTOCOL.md allows it; the reference writers do
 * not use one) is read like any other; "my" is not it. */
static void test_dotted_prefix(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "web-01");
  publish(&vm->pool[HV_POOL_GUEST], "my.app", 1, 1, 4.0, NULL);
  hv_vm_t *vm2 = stub_add_vm(G2, "web-02");
  publish(&vm2->pool[HV_POOL_GUEST], "my", 2, 1, 5.0, NULL);
  hvp_host_t *h = open_host(prefix_dotted);
  assert_int_equal(hvp_poll(h, T0 + 1, 10), 0);
  const cap_vl_t *v = vm_value("web-01");
  assert_non_null(v);
  assert_true(v->values[0].gauge == 4.0);
  assert_int_equal(cap_count_host("web-01"), 1);
  assert_int_equal(cap_count_host("web-02"), 0);
  assert_true(self_value("count", "vms_without_message") == 1);
  assert_int_equal(cap_log_n[LOG_WARNING] + cap_log_n[LOG_ERR], 0);
  hvp_host_close(h);
}

/* A VM the model could not read (kept aside) is counted and said once with
 * its reason until it can be read again; refused items likewise; a bad type
 * is said once per VM and said again after the VM was clean. */
static void test_unreadable_and_complaints(void **state) {
  hv_vm_t *vm = stub_add_vm(G1, "evil");
  vm->unreadable = 1;
  snprintf(vm->unreadable_reason, sizeof(vm->unreadable_reason),
           "GuestExchangeItems: EncodingLimit");
  vm = stub_add_vm(G2, "web-02");
  publish(&vm->pool[HV_POOL_GUEST], "hvkvp", 3, 1, 1.0, NULL);
  stub_vms.v[1].items_rejected = 2;
  snprintf(stub_vms.v[1].reject_reason, sizeof(stub_vms.v[1].reject_reason),
           "GuestExchangeItems item refused: too big");
  stub_isolation_requests = 7;
  hvp_host_t *h = open_host(NULL);
  cap_reset();
  assert_int_equal(hvp_poll(h, T0 + 1, 10), 0);
  assert_true(self_value("count", "vms_unreadable") == 1);
  assert_true(self_value("requests", "isolation") == 7);
  assert_true(self_value("operations", "items_refused") == 2);
  assert_non_null(strstr(cap_log, "VM \"evil\" (" G1 ") cannot be read: "
                                  "GuestExchangeItems: EncodingLimit"));
  assert_non_null(strstr(cap_log, "2 KVP item(s) refused; first: "
                                  "GuestExchangeItems item refused: too big"));
  assert_non_null(vm_value("web-02"));
  int lines = cap_log_n[LOG_ERR] + cap_log_n[LOG_WARNING];
  assert_int_equal(hvp_poll(h, T0 + 11, 10), 0);
  assert_int_equal(cap_log_n[LOG_ERR] + cap_log_n[LOG_WARNING], lines);
  stub_vms.v[0].unreadable = 0;
  stub_vms.v[1].items_rejected = 0;
  assert_int_equal(hvp_poll(h, T0 + 21, 10), 0);
  assert_true(self_value("count", "vms_unreadable") == 0);
  assert_non_null(strstr(cap_log, "can be read again"));
  hvp_host_close(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_dispatch_once_per_gen, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_intrinsic_fallback_and_prefix, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_torn_invalid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
      cmocka_unit_test_setup_teardown(test_filter_and_vanish, setup, teardown),
      cmocka_unit_test_setup_teardown(test_push_and_sync, setup, teardown),
      cmocka_unit_test_setup_teardown(test_list_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_report_intrinsic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_time_goes_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intrinsic_only_when_needed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_same_gen_not_decoded, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_vm_on_two_hosts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_writers_one_vm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_block_two_prefixes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_dotted_prefix, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreadable_and_complaints, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
