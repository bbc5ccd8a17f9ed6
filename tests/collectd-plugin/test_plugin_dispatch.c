/*
 * test_plugin_dispatch.c - message -> collectd value lists: names sanitised
 * (hostile plugin/type/instance/host names), types checked against the real
 * types.db (unknown type or wrong DS count dropped and counted), value
 * lists repeating an identifier of the same message dropped, values
 * converted to the DS types, time and interval taken from the message, tags
 * as meta data, and the HostnameFormat host.
 */
#include "plugin_dispatch.h"
#include "stubs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define NOW 1700000000.0

static void msg_base(hvkvp_msg_t *m) {
  hvkvp_msg_init(m);
  strcpy(m->host, "web-01.example.com");
  m->time = NOW - 5;
  m->interval = 10;
  m->seq = 7;
}

static hvkvp_vl_t *add_vl(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                          const char *type, const char *tinst, size_t n) {
  hvkvp_vl_t *vl = hvkvp_msg_add(m);
  assert_non_null(vl);
  snprintf(vl->plugin, sizeof(vl->plugin), "%s", plugin);
  snprintf(vl->plugin_instance, sizeof(vl->plugin_instance), "%s", pinst);
  snprintf(vl->type, sizeof(vl->type), "%s", type);
  snprintf(vl->type_instance, sizeof(vl->type_instance), "%s", tinst);
  vl->n = n;
  for (size_t i = 0; i < n; i++)
    snprintf(vl->dsnames[i], sizeof(vl->dsnames[i]), "v%zu", i);
  return vl;
}

static void decode_into(const hvkvp_msg_t *m, hvp_batch_t *b);

/* Hands m's value lists to the batch through its sink, as the decoder
 * does, checks them and dispatches them. */
static void dispatch(const hvkvp_msg_t *m, hvp_batch_t *b, const char *host,
                     double poll_interval, hvp_dispatch_res_t *res) {
  decode_into(m, b);
  hvp_dispatch_msg(m, b, host, NOW, poll_interval, res);
  assert_int_equal(hvp_batch_flush(b), 0);
}

static void test_dispatch_basic(void **state) {
  hvkvp_msg_t m;
  msg_base(&m);
  hvkvp_vl_t *vl = add_vl(&m, "cpu", "0", "percent", "user", 1);
  vl->dstypes[0] = HVKVP_DS_GAUGE;
  vl->values[0].gauge = 12.5;
  vl = add_vl(&m, "interface", "eth0", "if_octets", "", 2);
  vl->dstypes[0] = vl->dstypes[1] = HVKVP_DS_DERIVE;
  vl->values[0].derive = 1000;
  vl->values[1].derive = 2000;
  m.n_tags = 2;
  strcpy(m.tags[0].key, "site.dc");
  strcpy(m.tags[0].value, "prod");
  strcpy(m.tags[1].key, "te am");
  strcpy(m.tags[1].value, "web\n1");

  hvp_batch_t b = {0};
  hvp_dispatch_res_t res;
  memset(&res, 0, sizeof(res));
  cap_reset();
  dispatch(&m, &b, "web-01", 0, &res);
  assert_int_equal(res.dispatched, 2);
  assert_int_equal(res.dropped, 0);
  assert_int_equal(cap_n, 2);
  const cap_vl_t *c = cap_find("web-01", "cpu", "0", "percent", "user");
  assert_non_null(c);
  assert_true(c->values[0].gauge == 12.5);
  assert_int_equal(c->vl.values_len, 1);
  assert_true(c->vl.time == DOUBLE_TO_CDTIME_T(NOW - 5));
  assert_true(c->vl.interval == DOUBLE_TO_CDTIME_T(10));
  assert_int_equal(c->n_meta, 2);
  assert_string_equal(c->meta_k[0], "site.dc");
  assert_string_equal(c->meta_v[0], "prod");
  assert_string_equal(c->meta_k[1], "te_am");
  assert_string_equal(c->meta_v[1], "web_1");
  c = cap_find("web-01", "interface", "eth0", "if_octets", "");
  assert_non_null(c);
  assert_int_equal(c->values[0].derive, 1000);
  assert_int_equal(c->values[1].derive, 2000);
  assert_int_equal(cap_meta_live, 0);
  hvp_batch_free(&b);
  hvkvp_msg_free(&m);
}

static void test_hostile_names(void **state) {
  hvkvp_msg_t m;
  msg_base(&m);
  hvkvp_vl_t *vl =
      add_vl(&m, "my-plugin/x", "a.b;c*[d]", "gauge", "t i/\xc3\xa9", 1);
  vl->dstypes[0] = HVKVP_DS_GAUGE;
  vl->values[0].gauge = 1;
  add_vl(&m, "", "x", "gauge", "", 1); /* empty plugin: dropped */
  add_vl(&m, "p", "x", "", "", 1);     /* empty type: dropped */
  hvp_batch_t b = {0};
  hvp_dispatch_res_t res;
  memset(&res, 0, sizeof(res));
  cap_reset();
  dispatch(&m, &b, "web-01", 0, &res);
  assert_int_equal(res.dispatched, 1);
  assert_int_equal(res.dropped, 2);
  const cap_vl_t *c = cap_find("web-01", NULL, NULL, "gauge", NULL);
  assert_non_null(c);
  assert_null(strchr(c->vl.plugin, '-'));
  assert_null(strchr(c->vl.plugin, '/'));
  for (const char *p = c->vl.plugin_instance; *p; p++)
    assert_non_null(
        strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789_-",
               *p));
  for (const char *p = c->vl.type_instance; *p; p++)
    assert_true(*p > 0x20 && *p < 0x7f && *p != '/');
  hvp_batch_free(&b);
  hvkvp_msg_free(&m);
}

static void test_types_checked(void **state) {
  hvkvp_msg_t m;
  msg_base(&m);
  add_vl(&m, "x", "", "no_such_type_hvkvp", "", 1);
  add_vl(&m, "x", "", "if_octets", "", 1); /* types.db: 2 data sources */
  add_vl(&m, "x", "", "no_such_type_hvkvp", "b", 1);
  hvp_batch_t b = {0};
  hvp_dispatch_res_t res;
  memset(&res, 0, sizeof(res));
  cap_reset();
  dispatch(&m, &b, "vm", 0, &res);
  dispatch(&m, &b, "vm", 0, &res);
  assert_int_equal(res.dispatched, 0);
  assert_int_equal(res.dropped, 6);
  assert_int_equal(res.bad_types, 6);
  assert_int_equal(cap_n, 0);
  /* the first bad type is named for the caller's log line; nothing logged */
  assert_string_equal(res.bad_type, "no_such_type_hvkvp");
  assert_int_equal(res.bad_type_ds, 0);
  assert_int_equal(cap_log_n[LOG_ERR], 0);
  memset(&res, 0, sizeof(res));
  hvkvp_msg_t m2;
  msg_base(&m2);
  add_vl(&m2, "x", "", "if_octets", "", 1);
  dispatch(&m2, &b, "vm", 0, &res);
  assert_string_equal(res.bad_type, "if_octets");
  assert_int_equal(res.bad_type_n, 1);
  assert_int_equal(res.bad_type_ds, 2);
  hvkvp_msg_free(&m2);
  hvp_batch_free(&b);
  hvkvp_msg_free(&m);
}

/* Within one message an identifier (after sanitising) is dispatched once:
 * later value lists with it are dropped and counted, so collectd never
 * logs "Value too old" for a guest repeating itself. */
static void test_duplicate_identifiers(void **state) {
  hvkvp_msg_t m;
  msg_base(&m);
  for (int i = 0; i < 1800; i++) {
    hvkvp_vl_t *vl = add_vl(&m, "cpu", "0", "percent", "user", 1);
    vl->dstypes[0] = HVKVP_DS_GAUGE;
    vl->values[0].gauge = i;
  }
  hvkvp_vl_t *vl = add_vl(&m, "cpu", "0", "percent", "us/er", 1);
  vl->dstypes[0] = HVKVP_DS_GAUGE; /* sanitised: "us_er" */
  vl = add_vl(&m, "cpu", "0", "percent", "us_er", 1);
  vl->dstypes[0] = HVKVP_DS_GAUGE; /* the same identifier after sanitising */
  vl = add_vl(&m, "cpu", "1", "percent", "user", 1);
  vl->dstypes[0] = HVKVP_DS_GAUGE;
  hvp_batch_t b = {0};
  hvp_dispatch_res_t res;
  memset(&res, 0, sizeof(res));
  cap_reset();
  dispatch(&m, &b, "vm", 0, &res);
  assert_int_equal(res.dispatched, 3);
  assert_int_equal(res.duplicates, 1800);
  assert_int_equal(res.dropped, 1800);
  assert_true(cap_find("vm", "cpu", "0", "percent", "user")->values[0].gauge ==
              0); /* the first one */
  /* the set is per message: the next message dispatches them again */
  memset(&res, 0, sizeof(res));
  dispatch(&m, &b, "vm", 0, &res);
  assert_int_equal(res.dispatched, 3);
  hvp_batch_free(&b);
  hvkvp_msg_free(&m);
}

static void test_conversion_and_time(void **state) {
  hvkvp_msg_t m;
  msg_base(&m);
  m.time = NOW + 3 * 86400.0; /* a guest clock far off: now is used */
  m.interval = -1;
  hvkvp_vl_t *vl = add_vl(&m, "x", "", "derive", "", 1); /* DERIVE */
  vl->dstypes[0] = HVKVP_DS_GAUGE;
  vl->values[0].gauge = 5.7;
  vl = add_vl(&m, "x", "", "gauge", "", 1); /* GAUGE */
  vl->dstypes[0] = HVKVP_DS_DERIVE;
  vl->values[0].derive = -42;
  vl = add_vl(&m, "x", "a", "derive", "", 1);
  vl->dstypes[0] = HVKVP_DS_GAUGE;
  vl->values[0].gauge = 1.0 / 0.0; /* not finite: 0 */
  hvp_batch_t b = {0};
  hvp_dispatch_res_t res;
  memset(&res, 0, sizeof(res));
  cap_reset();
  dispatch(&m, &b, "vm", 0, &res);
  assert_int_equal(res.dispatched, 3);
  const cap_vl_t *c = cap_find("vm", "x", "", "derive", "");
  assert_int_equal(c->values[0].derive, 5);
  assert_true(c->vl.time == DOUBLE_TO_CDTIME_T(NOW));
  assert_true(c->vl.interval == 0);
  c = cap_find("vm", "x", "", "gauge", "");
  assert_true(c->values[0].gauge == -42.0);
  c = cap_find("vm", "x", "a", "derive", "");
  assert_int_equal(c->values[0].derive, 0);
  assert_int_equal(cap_meta_live, 0);

  /* Polled every 30 s, a guest sending every 10 s is refreshed every 30. */
  m.time = NOW;
  m.interval = 10;
  cap_reset();
  dispatch(&m, &b, "vm", 30, &res);
  assert_true(cap_find("vm", "x", "", "gauge", "")->vl.interval ==
              DOUBLE_TO_CDTIME_T(30));
  cap_reset();
  dispatch(&m, &b, "vm", 5, &res);
  assert_true(cap_find("vm", "x", "", "gauge", "")->vl.interval ==
              DOUBLE_TO_CDTIME_T(10));
  hvp_batch_free(&b);
  hvkvp_msg_free(&m);
}

static void test_format_host(void **state) {
  char h[128];
  hvp_hn_field_t name_uuid[] = {HVP_HN_NAME, HVP_HN_UUID};
  hvp_format_host(h, sizeof(h), name_uuid, 2, "web 01", "AB-CD", "g.example");
  assert_string_equal(h, "web_01_AB-CD");
  hvp_hn_field_t guest[] = {HVP_HN_GUEST};
  hvp_format_host(h, sizeof(h), guest, 1, "web", "AB-CD", "g.example.com");
  assert_string_equal(h, "g.example.com");
  /* No guest hostname yet: the GUID. */
  hvp_format_host(h, sizeof(h), guest, 1, "web", "AB-CD", "");
  assert_string_equal(h, "AB-CD");
  /* Hostile guest hostname: only [A-Za-z0-9_.-] remain, at most 127. */
  char longname[400];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  longname[3] = ';';
  longname[4] = '*';
  hvp_format_host(h, sizeof(h), guest, 1, "web", "AB-CD", longname);
  assert_int_equal(strlen(h), 127);
  assert_null(strchr(h, ';'));
  assert_null(strchr(h, '*'));
}

static void test_self(void **state) {
  value_t v[2];
  v[0].gauge = 0.25;
  cap_reset();
  assert_int_equal(hvp_dispatch_self("hv01", "duration", "poll", v, 1, 30), 0);
  const cap_vl_t *c = cap_find("", "hyperv_kvp", "hv01", "duration", "poll");
  assert_non_null(c);
  assert_true(c->values[0].gauge == 0.25);
  assert_true(c->vl.interval == DOUBLE_TO_CDTIME_T(30));
}

/* Adds m's value lists to the batch as the decoder does (no check yet). */
static void decode_into(const hvkvp_msg_t *m, hvp_batch_t *b) {
  hvkvp_vl_sink_t sink = hvp_batch_sink(b);
  for (size_t i = 0; i < m->n_vls; i++) {
    hvkvp_vl_dst_t d;
    assert_int_equal(sink.begin(sink.ctx, &d), 0);
    strcpy(d.plugin, m->vls[i].plugin);
    strcpy(d.plugin_instance, m->vls[i].plugin_instance);
    strcpy(d.type, m->vls[i].type);
    strcpy(d.type_instance, m->vls[i].type_instance);
    memcpy(d.dstypes, m->vls[i].dstypes, sizeof(m->vls[i].dstypes));
    memcpy(d.values, m->vls[i].values, sizeof(m->vls[i].values));
    assert_null(d.dsnames); /* types.db names the data sources */
    sink.end(sink.ctx, m->vls[i].n);
  }
}

/* Several messages go to collectd in one burst, each with its own host,
 * time and tags; one decoded but never checked (its generation was not
 * taken) is dropped; nothing is dispatched before the flush. */
static void test_burst(void **state) {
  hvp_batch_t b = {0};
  hvp_dispatch_res_t res;
  memset(&res, 0, sizeof(res));
  cap_reset();
  for (int k = 0; k < 3; k++) {
    hvkvp_msg_t m;
    msg_base(&m);
    m.time = NOW - 10 + k;
    if (k == 0) {
      m.n_tags = 1;
      strcpy(m.tags[0].key, "env");
      strcpy(m.tags[0].value, "prod");
    }
    hvkvp_vl_t *vl = add_vl(&m, "cpu", "0", "percent", "user", 1);
    vl->dstypes[0] = HVKVP_DS_GAUGE;
    vl->values[0].gauge = k;
    decode_into(&m, &b);
    char host[16];
    snprintf(host, sizeof(host), "vm-%d", k);
    if (k != 1) /* vm-1's message was decoded, then not taken */
      hvp_dispatch_msg(&m, &b, host, NOW, 0, &res);
    hvkvp_msg_free(&m);
  }
  assert_int_equal(cap_n, 0);
  assert_int_equal(res.dispatched, 2);
  assert_int_equal(hvp_batch_flush(&b), 0);
  assert_int_equal(cap_n, 2);
  const cap_vl_t *c = cap_find("vm-0", "cpu", "0", "percent", "user");
  assert_non_null(c);
  assert_true(c->values[0].gauge == 0);
  assert_int_equal(c->n_meta, 1);
  assert_true(c->vl.time == DOUBLE_TO_CDTIME_T(NOW - 10));
  c = cap_find("vm-2", "cpu", "0", "percent", "user");
  assert_non_null(c);
  assert_true(c->values[0].gauge == 2);
  assert_int_equal(c->n_meta, 0);
  assert_true(c->vl.time == DOUBLE_TO_CDTIME_T(NOW - 8));
  assert_null(cap_find("vm-1", "cpu", "0", "percent", "user"));
  assert_int_equal(hvp_batch_flush(&b), 0); /* emptied */
  assert_int_equal(cap_n, 2);
  hvp_batch_free(&b);
  assert_int_equal(cap_meta_live, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dispatch_basic),
      cmocka_unit_test(test_hostile_names),
      cmocka_unit_test(test_types_checked),
      cmocka_unit_test(test_duplicate_identifiers),
      cmocka_unit_test(test_conversion_and_time),
      cmocka_unit_test(test_format_host),
      cmocka_unit_test(test_self),
      cmocka_unit_test(test_burst),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
