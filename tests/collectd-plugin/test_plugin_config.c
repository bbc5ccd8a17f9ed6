/*
 * test_plugin_config.c - <Host> block parsing of the hyperv_kvp plugin: a
 * complete good block, the defaults, and bad blocks, each of which must fail
 * with a log line naming the option and its value (passwords never shown).
 */
#include "ocfg.h"
#include "plugin_config.h"
#include "stubs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static oconfig_item_t *host_block(const char *name) {
  oconfig_item_t *h = oc_new("Host");
  oc_str(h, name);
  return h;
}

static void test_good_block(void **state) {
  char pwfile[] = "/tmp/hvkvp_test_pwXXXXXX";
  int fd = mkstemp(pwfile);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "s3cret-pw\n", 10), 10);
  close(fd);

  oconfig_item_t *h = host_block("hv01");
  oc_opt_s(h, "URL", "https://hv01.example.com:5986/wsman");
  oc_opt_s(h, "User", "EXAMPLE\\monitor");
  oc_opt_s(h, "PasswordFile", pwfile);
  oc_opt_s(h, "Auth", "Negotiate");
  oc_opt_s(h, "CACert", pwfile); /* any readable file */
  oc_opt_b(h, "VerifyPeer", 0);
  oc_opt_s(h, "VerifyHost", "false");
  oc_opt_n(h, "Timeout", 7.5);
  oc_opt_n(h, "Interval", 30);
  oc_opt_s(h, "Namespace", "root/virtualization");
  oc_opt_n(h, "MaxEnvelopeSize", 150);
  oc_opt_n(h, "MaxPollTime", 20);
  oc_opt_n(h, "MaxPollRequests", 500);
  oc_opt_n(h, "MaxPollBytes", 1e8);
  oc_opt_s(h, "IncludeVM", "/^web-/");
  oc_str(oc_opt_s(h, "ExcludeVM", "web-test"), "/-old$/");
  oc_opt_s(h, "HostnameFormat", "name uuid");
  oc_opt_s(h, "Prefix", "acme_kvp");
  oc_opt_n(h, "StaleAfter", 5);
  oc_opt_b(h, "ReportIntrinsic", 1);
  oconfig_item_t *p = oc_add(h, "Push");
  oc_opt_s(p, "IncludeVM", "/.*/");
  oc_opt_n(p, "Interval", 10);
  oc_opt_s(p, "Collectors", "cpu memory df interface");
  oc_opt_s(p, "Tags", "env=prod,site.dc=eu:west");

  cap_reset();
  hvp_host_conf_t c;
  assert_int_equal(hvp_config_host(h, &c), 0);
  assert_string_equal(c.name, "hv01");
  assert_string_equal(c.hv.ws.url, "https://hv01.example.com:5986/wsman");
  assert_string_equal(c.hv.ws.user, "EXAMPLE\\monitor");
  assert_string_equal(c.hv.ws.password, "s3cret-pw");
  assert_string_equal(c.hv.ws.auth, "negotiate");
  assert_string_equal(c.hv.ws.cacert, pwfile);
  assert_int_equal(c.hv.ws.insecure_peer, 1);
  assert_int_equal(c.hv.ws.insecure_host, 1);
  assert_true(c.hv.ws.timeout == 7.5);
  assert_true(c.interval == 30);
  assert_string_equal(c.hv.ns, "root/virtualization");
  assert_int_equal(c.hv.ws.max_envelope_kb, 150);
  assert_true(c.budget.seconds == 20);
  assert_int_equal(c.budget.requests, 500);
  assert_int_equal(c.budget.bytes, 100000000);
  assert_int_equal(c.filter.n_inc, 1);
  assert_int_equal(c.filter.n_exc, 2);
  assert_int_equal(c.n_hn, 2);
  assert_int_equal(c.hn[0], HVP_HN_NAME);
  assert_int_equal(c.hn[1], HVP_HN_UUID);
  assert_string_equal(c.prefix[0], "acme_kvp");
  assert_int_equal(c.stale_after, 5);
  assert_int_equal(c.report_intrinsic, 1);
  assert_int_equal(c.n_push, 1);
  assert_true(c.push[0].cfg.interval == 10);
  assert_string_equal(c.push[0].cfg.collectors, "cpu memory df interface");
  assert_int_equal(c.push[0].cfg.n_tags, 2);
  assert_string_equal(c.push[0].cfg.tags[1].key, "site.dc");
  assert_string_equal(c.push[0].cfg.tags[1].value, "eu:west");
  assert_non_null(hvp_config_push_for(&c, "anything", "G"));
  assert_true(hvp_filter_match(&c.filter, "web-01", NULL));
  assert_false(hvp_filter_match(&c.filter, "web-test", NULL));
  assert_false(hvp_filter_match(&c.filter, "web-02-old", NULL));
  assert_false(hvp_filter_match(&c.filter, "db-01", NULL));
  assert_int_equal(cap_log_n[LOG_ERR], 0);
  hvp_host_conf_free(&c);
  oc_free(h);

  /* A password file group or others can read is refused, naming its mode;
   * a password over the limit is refused, not cut. */
  chmod(pwfile, 0640);
  h = host_block("hv01");
  oc_opt_s(h, "URL", "https://hv01.example.com:5986/wsman");
  oc_opt_s(h, "User", "u");
  oc_opt_s(h, "PasswordFile", pwfile);
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(strstr(cap_log, pwfile));
  assert_non_null(strstr(cap_log, "mode 0640"));
  assert_null(strstr(cap_log, "s3cret"));
  chmod(pwfile, 0600);
  FILE *f = fopen(pwfile, "w");
  for (int i = 0; i < 1100; i++)
    fputc('p', f);
  fclose(f);
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(strstr(cap_log, "longer than 1024 bytes"));
  oc_free(h);
  unlink(pwfile);
}

static void test_defaults(void **state) {
  oconfig_item_t *h = host_block("hv-02.lab");
  oc_opt_s(h, "URL", "http://127.0.0.1:5985/wsman");
  oc_opt_s(h, "User", "u");
  oc_opt_s(h, "Password", "p");
  hvp_host_conf_t c;
  assert_int_equal(hvp_config_host(h, &c), 0);
  assert_int_equal(c.hv.ws.insecure_peer, 0);
  assert_int_equal(c.hv.ws.insecure_host, 0);
  assert_true(c.hv.ws.timeout == 10);
  assert_true(c.interval == 0);
  assert_null(c.hv.ns);
  assert_string_equal(c.hv.ws.auth, "basic");
  assert_int_equal(c.n_prefix, 1);
  assert_string_equal(c.prefix[0], "hvkvp");
  assert_int_equal(c.stale_after, 3);
  assert_int_equal(c.report_intrinsic, 0);
  assert_int_equal(c.n_hn, 1);
  assert_int_equal(c.hn[0], HVP_HN_NAME);
  assert_int_equal(c.n_push, 0);
  assert_null(hvp_config_push_for(&c, "x", "y"));
  hvp_host_conf_free(&c);
  oc_free(h);

  /* HostnameFormat as several arguments, guest_hostname first. */
  h = host_block("hv03");
  oc_opt_s(h, "URL", "http://h/wsman");
  oc_opt_s(h, "Auth", "kerberos");
  oc_str(oc_opt_s(h, "HostnameFormat", "guest_hostname"), "uuid");
  assert_int_equal(hvp_config_host(h, &c), 0);
  assert_int_equal(c.n_hn, 2);
  assert_int_equal(c.hn[0], HVP_HN_GUEST);
  assert_int_equal(c.hn[1], HVP_HN_UUID);
  assert_null(c.hv.ws.user);
  hvp_host_conf_free(&c);
  oc_free(h);
}

/* One bad option per case: kind of value and what the log must name. */
typedef struct {
  const char *key;
  char kind; /* s string, n number, b bool, P push child, 0 none */
  const char *s;
  double n;
  const char *expect1, *expect2;
} bad_t;

static const bad_t bads[] = {
    {"Foo", 's', "bar", 0, "unknown option \"Foo\"", NULL},
    {"VerifyPeer", 's', "maybe", 0, "VerifyPeer", "\"maybe\""},
    {"Timeout", 'n', NULL, -1, "Timeout", "-1"},
    {"Timeout", 's', "ten", 0, "Timeout", "\"ten\""},
    {"Auth", 's', "digest", 0, "Auth", "\"digest\""},
    {"HostnameFormat", 's', "name foo", 0, "HostnameFormat", "foo"},
    {"HostnameFormat", 's', "name name", 0, "HostnameFormat", "twice"},
    {"IncludeVM", 's', "/[/", 0, "IncludeVM", "\"/[/\""},
    {"ExcludeVM", 's', "", 0, "ExcludeVM", "empty"},
    {"Prefix", 's', "a.b.", 0, "Prefix", "must not start or end with '.'"},
    {"StaleAfter", 'n', NULL, 0, "StaleAfter", "0"},
    {"StaleAfter", 'n', NULL, 2.5, "StaleAfter", "2.5"},
    {"URL", 's', "ftp://x/wsman", 0, "URL", "\"ftp://x/wsman\""},
    {"Namespace", 's', "root\\virt", 0, "WMI namespace", "root\\virt"},
    {"ReportIntrinsic", 'n', NULL, 1, "ReportIntrinsic", "1"},
    {"PasswordFile", 's', "/nonexistent/hvkvp.pass", 0, "PasswordFile",
     "/nonexistent/hvkvp.pass"},
    {"Interval", 'n', NULL, 1, "Password", "PasswordFile"}, /* see below */
    {"Frobnicate", 'P', "x", 0, "unknown option \"Frobnicate\" in <Push>",
     NULL},
    {"Interval", 'P', NULL, 0, "Interval", "0"},
    {"Interval", 'P', NULL, 4000, "Interval", "4000"},
    {"Tags", 'P', "env", 0, "Tags", "\"env\""},
    {"Tags", 'P', "env=a=b", 0, "Tags", "forbidden character"},
    {"Tags", 'P', "e/nv=a", 0, "Tags", "[A-Za-z0-9_.:-]"},
    {"Collectors", 'P', "cpu;mem", 0, "Collectors", "\"cpu;mem\""},
    {"IncludeVM", 'P', "/(/", 0, "IncludeVM", "\"/(/\""},
    {"CACert", 's', "/nonexistent/ca.pem", 0, "CA certificate file",
     "cannot be read"},
    {"MaxEnvelopeSize", 'n', NULL, 16, "MaxEnvelopeSize", "16"},
    {"MaxPollTime", 'n', NULL, 0, "MaxPollTime", "0"},
    {"MaxPollRequests", 'n', NULL, 2.5, "MaxPollRequests", "2.5"},
    {"MaxPollBytes", 's', "lots", 0, "MaxPollBytes", "\"lots\""},
    {"Prefix", 's', "", 0, "Prefix", "key prefix is empty"},
};

/* Prefix takes the writers of one VM (reporter, write_hvkvp): one to four
 * prefixes, each once. */
static void test_prefixes(void **state) {
  (void)state;
  oconfig_item_t *h = host_block("hv04");
  oc_opt_s(h, "URL", "http://h/wsman");
  oc_opt_s(h, "Auth", "kerberos");
  oc_str(oc_opt_s(h, "Prefix", "hvkvp"), "app.collectd");
  hvp_host_conf_t c;
  assert_int_equal(hvp_config_host(h, &c), 0);
  assert_int_equal(c.n_prefix, 2);
  assert_string_equal(c.prefix[0], "hvkvp");
  assert_string_equal(c.prefix[1], "app.collectd"); /* PROTOCOL.md allows '.' */
  hvp_host_conf_free(&c);
  oc_free(h);

  static const char *const bad[][6] = {
      {"a", "b", "a", NULL, NULL, "names a prefix twice"},
      {"a", "b", "c", "d", "e", "expects one to 4 strings"},
      {"a", "b c", NULL, NULL, NULL, "invalid byte 0x20 at 1"},
      {"app.cd", "x", "app", NULL, NULL, "inside another one's keys"},
      {"ab", "a.b", "a", NULL, NULL, "inside another one's keys"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    h = host_block("hv05");
    oc_opt_s(h, "URL", "http://h/wsman");
    oc_opt_s(h, "Auth", "kerberos");
    oconfig_item_t *o = oc_opt_s(h, "Prefix", bad[i][0]);
    for (size_t k = 1; k < 5 && bad[i][k] != NULL; k++)
      oc_str(o, bad[i][k]);
    cap_reset();
    assert_int_equal(hvp_config_host(h, &c), -1);
    if (strstr(cap_log, bad[i][5]) == NULL || strstr(cap_log, "Prefix") == NULL)
      fail_msg("case %zu: want \"%s\" in: %s", i, bad[i][5], cap_log);
    oc_free(h);
  }
}

static void test_bad_blocks(void **state) {
  for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
    const bad_t *b = &bads[i];
    oconfig_item_t *h = host_block("hv01");
    oc_opt_s(h, "URL", "https://hv01:5986/wsman");
    oc_opt_s(h, "User", "u");
    if (i == 16) {
      /* Password and PasswordFile together. */
      oc_opt_s(h, "Password", "s3cret");
      oc_opt_s(h, "PasswordFile", "/etc/hostname");
    } else {
      oc_opt_s(h, "Password", "s3cret");
    }
    oconfig_item_t *target = h;
    if (b->kind == 'P') {
      target = oc_add(h, "Push");
      if (strcmp(b->key, "Interval") != 0)
        oc_opt_n(target, "Interval", 10);
    }
    if (i != 16) {
      oconfig_item_t *o = oc_add(target, b->key);
      if (b->s != NULL)
        oc_str(o, b->s);
      else
        oc_num(o, b->n);
    }
    cap_reset();
    hvp_host_conf_t c;
    int rc = hvp_config_host(h, &c);
    if (rc != -1 || strstr(cap_log, b->expect1) == NULL ||
        (b->expect2 && strstr(cap_log, b->expect2) == NULL))
      fail_msg("case %zu (%s): rc %d, log: %s", i, b->key, rc, cap_log);
    assert_int_equal(cap_log_n[LOG_ERR], 1);
    assert_non_null(strstr(cap_log, "Host \"hv01\""));
    assert_null(strstr(cap_log, "s3cret"));
    oc_free(h);
  }
}

static void test_bad_structure(void **state) {
  hvp_host_conf_t c;
  /* No URL. */
  oconfig_item_t *h = host_block("hv01");
  oc_opt_s(h, "Auth", "negotiate");
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(strstr(cap_log, "\"URL\" is required"));
  oc_free(h);

  /* No name. */
  h = oc_new("Host");
  oc_opt_s(h, "URL", "http://h/wsman");
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(strstr(cap_log, "<Host>"));
  oc_free(h);

  /* A name that cannot be a plugin instance. */
  h = host_block("hv/01");
  oc_opt_s(h, "URL", "http://h/wsman");
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(strstr(cap_log, "hv/01"));
  oc_free(h);

  /* Basic auth without a password. */
  h = host_block("hv01");
  oc_opt_s(h, "URL", "http://h/wsman");
  oc_opt_s(h, "User", "u");
  oc_opt_s(h, "Auth", "basic");
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(
      strstr(cap_log, "Auth basic with User \"u\" needs a password"));
  oc_free(h);

  /* A password with two values: the value is not shown. */
  h = host_block("hv01");
  oc_opt_s(h, "URL", "http://h/wsman");
  oc_str(oc_opt_s(h, "Password", "topsecret"), "other");
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(strstr(cap_log, "Password"));
  assert_null(strstr(cap_log, "topsecret"));
  oc_free(h);

  /* An empty <Push>. */
  h = host_block("hv01");
  oc_opt_s(h, "URL", "http://h/wsman");
  oc_add(h, "Push");
  cap_reset();
  assert_int_equal(hvp_config_host(h, &c), -1);
  assert_non_null(strstr(cap_log, "<Push> block sets none"));
  oc_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_block),    cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_prefixes),      cmocka_unit_test(test_bad_blocks),
      cmocka_unit_test(test_bad_structure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
