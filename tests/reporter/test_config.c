/*
 * test_config.c - the config file parser (every option, good and bad lines
 * with their file:line messages), command splitting, and host-pushed config
 * validation and application through a real pool store: a valid push is
 * applied and its id echoed, an invalid one is refused with config_error
 * while the last good config stays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collect_linux.h"
#include "config.h"
#include "log.h"
#include "reporter.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_defaults(void **state) {
  rcfg_t c;
  rcfg_defaults(&c);
  assert_true(c.interval == 60);
  assert_string_equal(c.prefix, "hvkvp");
  assert_string_equal(c.store, "pool");
  assert_int_equal(c.enc, HVKVP_ENC_DEFAULT); /* zd1 */
  assert_int_equal(c.max_chunks, HVKVP_MAX_CHUNKS);
  assert_int_equal(c.include_loopback, 0);
  /* cpu: the sum over the CPUs, per state, in percent */
  assert_int_equal(c.cpu.report_by_cpu, 0);
  assert_int_equal(c.cpu.report_by_state, 1);
  assert_int_equal(c.cpu.values_percentage, 0);
  assert_int_equal(c.n_exec, 0);
}

/* <Collector cpu> holds collectd's cpu plugin options, by their names. */
static void test_cpu_block(void **state) {
  static const struct {
    const char *text;
    int by_cpu, by_state, pct;
  } cases[] = {
      {"<Collector cpu>\n  ReportByCpu true\n  ReportByState true\n"
       "  ValuesPercentage false\n</Collector>\n",
       1, 1, 0},
      {"<Collector \"cpu\">  # quoted, as collectd allows\n"
       "ReportByCpu yes\nValuesPercentage on\n</Collector>\nInterval 5\n",
       1, 1, 1},
      {"<Collector cpu>\nReportByCpu false\nReportByState false\n"
       "</Collector>\n",
       0, 0, 0},
      {"<Collector cpu>\n</Collector>\n", 0, 1, 0},
      {"\t<Collector cpu>\t\n\tReportByState 0\n\t</Collector>  \n", 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    rcfg_t c;
    rcfg_defaults(&c);
    char err[512] = "";
    if (rcfg_parse_text(&c, cases[i].text, "t.conf", err, sizeof(err)) != 0)
      fail_msg("case %zu: %s", i, err);
    if (c.cpu.report_by_cpu != cases[i].by_cpu ||
        c.cpu.report_by_state != cases[i].by_state ||
        c.cpu.values_percentage != cases[i].pct)
      fail_msg("case %zu: got %d %d %d", i, c.cpu.report_by_cpu,
               c.cpu.report_by_state, c.cpu.values_percentage);
  }
}

static void test_good_file(void **state) {
  const char *text =
      "# hvkvp-reporter test config\n"
      "\n"
      "Interval 15   # seconds\n"
      "Prefix vmstats\n"
      "Store \"pool:/var/tmp/pools\"\n"
      "Collectors \"cpu memory df\"\n"
      "Hostname guest-01.example\n"
      "Exec \"temps\" \"/usr/local/bin/temps --all \\\"two words\\\"\"\n"
      "Exec mq \"/bin/mq-stats\"\n"
      "ExecTimeout 2.5\n"
      "TypesDB /usr/share/collectd/types.db\n"
      "Encoding json\n"
      "MaxChunks 8\n"
      "IncludeLoopback true\n"
      "LogLevel debug\n"
      "LogFile \"/var/log/hvkvp reporter.log\"\n";
  rcfg_t c;
  rcfg_defaults(&c);
  char err[512] = "";
  if (rcfg_parse_text(&c, text, "t.conf", err, sizeof(err)) != 0)
    fail_msg("%s", err);
  assert_true(c.interval == 15);
  assert_string_equal(c.prefix, "vmstats");
  assert_string_equal(c.store, "pool:/var/tmp/pools");
  assert_string_equal(c.collectors, "cpu memory df");
  assert_string_equal(c.hostname, "guest-01.example");
  assert_int_equal(c.n_exec, 2);
  assert_string_equal(c.exec[0].name, "temps");
  assert_int_equal(c.exec[0].argc, 3);
  assert_string_equal(rcfg_exec_arg(&c.exec[0], 0), "/usr/local/bin/temps");
  assert_string_equal(rcfg_exec_arg(&c.exec[0], 1), "--all");
  assert_string_equal(rcfg_exec_arg(&c.exec[0], 2), "two words");
  assert_string_equal(c.exec[1].name, "mq");
  assert_string_equal(rcfg_exec_arg(&c.exec[1], 0), "/bin/mq-stats");
  assert_true(c.exec_timeout == 2.5);
  assert_string_equal(c.types_db, "/usr/share/collectd/types.db");
  assert_int_equal(c.enc, HVKVP_ENC_JSON);
  assert_int_equal(c.max_chunks, 8);
  assert_int_equal(c.include_loopback, 1);
  assert_int_equal(c.log_level, RLOG_DEBUG);
  assert_string_equal(c.log_file, "/var/log/hvkvp reporter.log");
}

static void test_bad_lines(void **state) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"Interval 0\n", "t.conf:1: Interval \"0\": want seconds, 1 to 3600"},
      {"\n\nInterval 3601\n", "t.conf:3: Interval \"3601\""},
      {"Interval ten\n", "t.conf:1: Interval \"ten\""},
      {"Intervall 10\n", "t.conf:1: unknown option \"Intervall\""},
      {"Prefix a.b\n", "t.conf:1: Prefix \"a.b\": want 1-63 characters"},
      {"Store nfs:/x\n", "t.conf:1: Store \"nfs:/x\": want pool"},
      {"Store registry:Other\n", "t.conf:1: Store \"registry:Other\""},
      {"Encoding gzip\n", "t.conf:1: Encoding \"gzip\": want zd1, z64 or json"},
      {"MaxChunks 65\n", "t.conf:1: MaxChunks \"65\": want an integer 1 to 64"},
      {"MaxChunks 2.5\n", "t.conf:1: MaxChunks \"2.5\""},
      {"IncludeLoopback maybe\n", "t.conf:1: IncludeLoopback \"maybe\""},
      {"LogLevel loud\n", "t.conf:1: LogLevel \"loud\""},
      {"ExecTimeout 0\n", "t.conf:1: ExecTimeout \"0\""},
      {"Exec onlyname\n", "t.conf:1: Exec: want Exec \"name\" \"command"},
      {"Exec \"bad name\" \"/bin/true\"\n", "t.conf:1: Exec name \"bad name\""},
      {"Exec a \"/bin/true\"\nExec a \"/bin/false\"\n",
       "t.conf:2: Exec \"a\" defined twice"},
      {"Exec a \"/bin/x \\\"open\"\n", "t.conf:1: Exec \"a\": unbalanced"},
      {"Prefix \"unterminated\n", "t.conf:1: missing closing '\"'"},
      {"Interval 10 20\n", "t.conf:1: Interval: unexpected text \"20\""},
      {"Interval\n", "t.conf:1: Interval: missing value"},
      {"Collectors \"cpu m/x\"\n", "t.conf:1: Collectors: \"m/x\" is not"},
      {"<Collector cpu>\nReportByCpu maybe\n</Collector>\n",
       "t.conf:2: ReportByCpu \"maybe\": want true or false"},
      {"<Collector cpu>\nValuesPercentage\n</Collector>\n",
       "t.conf:2: ValuesPercentage: missing value"},
      {"<Collector cpu>\nReportNumCpu true\n</Collector>\n",
       "t.conf:2: unknown option \"ReportNumCpu\" in <Collector cpu>: want "
       "ReportByCpu, ReportByState or ValuesPercentage"},
      {"<Collector cpu>\nInterval 10\n</Collector>\n",
       "t.conf:2: unknown option \"Interval\" in <Collector cpu>"},
      {"ReportByState false\n",
       "t.conf:1: ReportByState is an option of the cpu collector: write it "
       "inside <Collector cpu> ... </Collector>"},
      {"Interval 5\n<Collector cpu>\nReportByCpu true\n",
       "t.conf:2: <Collector cpu> is not closed (</Collector>)"},
      {"</Collector>\n", "t.conf:1: </Collector> without <Collector ...>"},
      {"<Collector cpu>\n<Collector cpu>\n",
       "t.conf:2: <Collector> inside <Collector cpu> (line 1): blocks do not"},
      {"<Collector memory>\n</Collector>\n",
       "t.conf:1: <Collector \"memory\">: no options for this collector"},
      {"<Collector>\n", "t.conf:1: \"<Collector>\": want <Collector NAME>"},
      {"<Collector cpu memory>\n",
       "t.conf:1: <Collector cpu memory>: want one collector name"},
      {"<Plugin cpu>\n", "t.conf:1: \"<Plugin cpu>\": want <Collector NAME>"},
      {"<Collector cpu\n", "t.conf:1: \"<Collector cpu\": want"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    rcfg_t c;
    rcfg_defaults(&c);
    char err[512] = "";
    if (rcfg_parse_text(&c, cases[i].text, "t.conf", err, sizeof(err)) == 0)
      fail_msg("case %zu accepted: %s", i, cases[i].text);
    if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
      fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i, err,
               cases[i].want);
  }
}

static void test_load_file_errors(void **state) {
  rcfg_t c;
  rcfg_defaults(&c);
  char err[512] = "";
  assert_int_equal(rcfg_load_file(&c, "/nonexistent/r.conf", err, sizeof(err)),
                   -1);
  assert_string_equal(err, "/nonexistent/r.conf: No such file or directory");
  char path[] = "/tmp/hvkvp-cfg-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "Interval 10\nPrefix ok\nBogus 1\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  assert_int_equal(rcfg_load_file(&c, path, err, sizeof(err)), -1);
  char want[128];
  snprintf(want, sizeof(want), "%s:3: unknown option \"Bogus\"", path);
  assert_string_equal(err, want);
  unlink(path);
}

/* ---- pushed config ---- */

static int known(const char *name, void *arg, char *why, size_t whylen) {
  (void)arg;
  if (strcmp(name, "cpu") == 0 || strcmp(name, "memory") == 0 ||
      strcmp(name, "temps") == 0)
    return 1;
  snprintf(why, whylen, "unknown collector \"%s\"", name);
  return 0;
}

static void items(hvkvp_items_t *it, const char *const *kv) {
  hvkvp_items_init(it);
  for (; kv[0] != NULL; kv += 2)
    assert_int_equal(hvkvp_items_set(it, kv[0], kv[1]), 0);
}

static void test_pushed_parse(void **state) {
  pushed_t ps;
  pushed_init(&ps, known, NULL);
  hvkvp_items_t it;
  hvkvp_cfg_t p;
  char err[256];
  const char *good[] = {"hvkvp.cfg.id",
                        "c-17",
                        "hvkvp.cfg.interval",
                        "30",
                        "hvkvp.cfg.collectors",
                        "cpu temps",
                        "hvkvp.cfg.tags",
                        "env=prod,rack=r12",
                        "hvkvp.cfg.future",
                        "ignored",
                        "hvkvp.head",
                        "not config",
                        NULL};
  items(&it, good);
  assert_int_equal(pushed_check(&ps, &it, "hvkvp", &p, err, sizeof(err)), 0);
  assert_true(p.present);
  assert_string_equal(p.id, "c-17");
  assert_true(p.interval == 30);
  assert_true(p.has_collectors);
  assert_string_equal(p.collectors, "cpu temps");
  assert_int_equal(p.n_tags, 2);
  assert_string_equal(p.tags[0].key, "env");
  assert_string_equal(p.tags[0].value, "prod");
  assert_string_equal(p.tags[1].key, "rack");
  assert_string_equal(p.tags[1].value, "r12");
  hvkvp_items_free(&it);

  const char *none[] = {"other.cfg.id", "x", NULL};
  items(&it, none);
  assert_int_equal(pushed_check(&ps, &it, "hvkvp", &p, err, sizeof(err)), 0);
  assert_false(p.present);
  hvkvp_items_free(&it);

  static const struct {
    const char *k1, *v1, *k2, *v2, *want;
  } bad[] = {
      {"hvkvp.cfg.interval", "30", NULL, NULL,
       "item hvkvp.cfg.id missing: a pushed config needs an id"},
      {"hvkvp.cfg.id", "a", "hvkvp.cfg.interval", "0",
       "item hvkvp.cfg.interval: \"0\" is not seconds 1..3600"},
      {"hvkvp.cfg.id", "a", "hvkvp.cfg.interval", "abc",
       "item hvkvp.cfg.interval: \"abc\""},
      {"hvkvp.cfg.id", "a", "hvkvp.cfg.collectors", "cpu gpu",
       "item hvkvp.cfg.collectors: unknown collector \"gpu\""},
      {"hvkvp.cfg.id", "a", "hvkvp.cfg.tags", "env",
       "item hvkvp.cfg.tags: \"env\" is not key=value"},
      {"hvkvp.cfg.id", "a", "hvkvp.cfg.tags", "e v=1",
       "item hvkvp.cfg.tags: key \"e v\""},
      {"hvkvp.cfg.id", "a", "hvkvp.cfg.tags", "a=1,a=2",
       "item hvkvp.cfg.tags: key a given twice"},
      {"hvkvp.cfg.id", "", NULL, NULL, "item hvkvp.cfg.id: want 1-127"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const char *kv[] = {bad[i].k1, bad[i].v1, bad[i].k2, bad[i].v2, NULL};
    items(&it, kv);
    err[0] = '\0';
    if (pushed_check(&ps, &it, "hvkvp", &p, err, sizeof(err)) == 0)
      fail_msg("bad case %zu accepted", i);
    if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
      fail_msg("bad case %zu: got \"%s\", want \"%s\"", i, err, bad[i].want);
    hvkvp_items_free(&it);
  }
}

/* Writes pool 0 with the given key/value pairs (NULL-terminated). */
static void write_pool0(const char *dir, const char *const *kv) {
  char path[128];
  snprintf(path, sizeof(path), "%s/.kvp_pool_0", dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  for (; kv[0] != NULL; kv += 2) {
    char rec[2560];
    memset(rec, 0, sizeof(rec));
    memcpy(rec, kv[0], strlen(kv[0]));
    memcpy(rec + 512, kv[1], strlen(kv[1]));
    assert_int_equal(fwrite(rec, 1, sizeof(rec), f), sizeof(rec));
  }
  fclose(f);
}

/* Runs one dry cycle and returns the message JSON (malloc'd). */
static char *dry_cycle(reporter_t *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  char err[256] = "";
  if (reporter_cycle(r, f, err, sizeof(err)) != 0)
    fail_msg("cycle: %s", err);
  fclose(f);
  return buf;
}

/* Makes a temporary directory from the template dir and opens a pool
 * store in it. */
static hvkvp_store_t *tmp_pool_open(char *dir) {
  rlog_set_level(RLOG_ERROR);
  assert_non_null(mkdtemp(dir));
  char err[256];
  hvkvp_store_t *s = store_pool_open(dir, err, sizeof(err));
  assert_non_null(s);
  return s;
}

/* Closes s and removes its directory with the pool file the test wrote. */
static void tmp_pool_close(hvkvp_store_t *s, const char *dir, int pool) {
  s->close(s);
  char p[128];
  snprintf(p, sizeof(p), "%s/.kvp_pool_%d", dir, pool);
  unlink(p);
  rmdir(dir);
}

/* Reads the reporter's own items back and decodes the message. */
static void decode_own(hvkvp_store_t *s, hvkvp_items_t *cur, hvkvp_msg_t *m,
                       hvkvp_head_t *h) {
  char err[256];
  assert_int_equal(s->read_own(s, "hvkvp", cur, err, sizeof(err)), 0);
  hvkvp_err_t he;
  assert_int_equal(hvkvp_decode(cur, "hvkvp", m, h, &he), 0);
}

/* Writes kv to pool 0 (write_pool0), runs one dry cycle, checks the
 * interval in force and the config id the message echoes, and returns the
 * message JSON (malloc'd). */
static char *push_cycle(reporter_t *r, const char *dir, const char *const *kv,
                        uint64_t interval_ms, const char *id) {
  write_pool0(dir, kv);
  char *j = dry_cycle(r);
  assert_int_equal(reporter_interval_ms(r), interval_ms);
  char want[128];
  snprintf(want, sizeof(want), "\"config\":\"%s\"", id);
  assert_non_null(strstr(j, want));
  return j;
}

static void test_pushed_apply_and_reject(void **state) {
  char dir[] = "/tmp/hvkvp-push-XXXXXX";
  hvkvp_store_t *s = tmp_pool_open(dir);
  char err[256];
  rcfg_t c;
  rcfg_defaults(&c);
  c.interval = 60;
  snprintf(c.collectors, sizeof(c.collectors), "uptime");
  reporter_t r;
  assert_int_equal(reporter_init(&r, &c, s, err, sizeof(err)), 0);
  assert_int_equal(reporter_interval_ms(&r), 60000);

  /* nothing pushed: no config id */
  char *j = dry_cycle(&r);
  assert_non_null(strstr(j, "\"config\":\"\""));
  assert_non_null(strstr(j, "\"plugin\":\"uptime\""));
  free(j);

  /* a valid push: interval, collectors, tags applied; id echoed */
  const char *good[] = {"hvkvp.cfg.id",
                        "push-1",
                        "hvkvp.cfg.interval",
                        "20",
                        "hvkvp.cfg.collectors",
                        "memory",
                        "hvkvp.cfg.tags",
                        "env=test",
                        NULL};
  j = push_cycle(&r, dir, good, 20000, "push-1");
  assert_non_null(strstr(j, "\"interval\":20"));
  assert_non_null(strstr(j, "\"env\":\"test\""));
  assert_non_null(strstr(j, "\"plugin\":\"memory\""));
  assert_null(strstr(j, "\"plugin\":\"uptime\""));
  assert_null(strstr(j, "config_error"));
  free(j);

  /* an invalid push: refused as a whole, reason reported, push-1 stays */
  const char *bad[] = {"hvkvp.cfg.id", "push-2", "hvkvp.cfg.interval", "99999",
                       NULL};
  j = push_cycle(&r, dir, bad, 20000, "push-1");
  assert_non_null(strstr(j, "\"config_error\":\"item hvkvp.cfg.interval: "
                            "\\\"99999\\\" is not seconds 1..3600\""));
  free(j);

  /* fixed push: applied, error cleared */
  const char *fixed[] = {"hvkvp.cfg.id", "push-3", "hvkvp.cfg.interval", "5",
                         NULL};
  j = push_cycle(&r, dir, fixed, 5000, "push-3");
  assert_null(strstr(j, "config_error"));
  /* push-3 names no collectors: the file's list is back */
  assert_non_null(strstr(j, "\"plugin\":\"uptime\""));
  free(j);

  /* everything removed: back to the file */
  const char *empty[] = {NULL};
  j = push_cycle(&r, dir, empty, 60000, "");
  free(j);

  reporter_free(&r);
  tmp_pool_close(s, dir, 0);
}

static void test_gen_continues_after_restart(void **state) {
  char dir[] = "/tmp/hvkvp-gen-XXXXXX";
  hvkvp_store_t *s = tmp_pool_open(dir);
  char err[256];
  rcfg_t c;
  rcfg_defaults(&c);
  snprintf(c.collectors, sizeof(c.collectors), "uptime");
  reporter_t r;
  assert_int_equal(reporter_init(&r, &c, s, err, sizeof(err)), 0);
  assert_int_equal(r.pub.gen, 1);
  for (int i = 0; i < 3; i++)
    assert_int_equal(reporter_cycle(&r, NULL, err, sizeof(err)), 0);
  uint64_t epoch1 = r.pub.epoch;
  reporter_free(&r);
  /* "restart": a new reporter continues after the stored head's gen */
  assert_int_equal(reporter_init(&r, &c, s, err, sizeof(err)), 0);
  assert_int_equal(r.pub.gen, 4);
  assert_int_equal(r.pub.gen, 4);
  assert_true(r.pub.epoch != epoch1);
  assert_int_equal(reporter_cycle(&r, NULL, err, sizeof(err)), 0);
  hvkvp_items_t cur;
  hvkvp_msg_t m;
  hvkvp_head_t h;
  decode_own(s, &cur, &m, &h);
  assert_int_equal(h.gen, 4);
  assert_int_equal(h.epoch, r.pub.epoch);
  assert_int_equal(m.seq, 4);
  hvkvp_msg_free(&m);
  hvkvp_items_free(&cur);
  reporter_free(&r);
  tmp_pool_close(s, dir, 1);
}

/* contrib/hvkvp-reporter.conf documents every option commented out: with
 * each "#Key value" line uncommented it must parse. */
static void test_example_config(void **state) {
  const char *path = HVKVP_REPORTER_FIXTURES "/../../../contrib/"
                                             "hvkvp-reporter.conf";
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char text[16384];
  size_t n = 0, keys = 0;
  char line[1024];
  int in_block = 0; /* inside a commented-out <Collector ...> block */
  while (fgets(line, sizeof(line), f) != NULL) {
    const char *l = line;
    if (l[0] == '#' && l[1] >= 'A' && l[1] <= 'Z') {
      l++;
      keys++;
    } else if (l[0] == '#' && l[1] == '<') { /* "#<Collector cpu>" */
      l++;
      in_block = l[1] != '/';
    } else if (in_block && strncmp(l, "#  ", 3) == 0 && l[3] >= 'A' &&
               l[3] <= 'Z') { /* "#  ReportByCpu false" */
      l++;
      keys++;
    }
    size_t len = strlen(l);
    assert_true(n + len < sizeof(text));
    memcpy(text + n, l, len);
    n += len;
  }
  text[n] = '\0';
  fclose(f);
  rcfg_t c;
  rcfg_defaults(&c);
  char err[512] = "";
  if (rcfg_parse_text(&c, text, path, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  assert_int_equal(keys, 16);                 /* every option is documented */
  assert_int_equal(c.cpu.report_by_state, 1); /* the block's defaults */
  assert_int_equal(c.n_exec, 1);
}

/* A message too big for MaxChunks is trimmed from the end, and the count is
 * published in "trimmed" (never silently dropped). */
static void test_trimmed_reported(void **state) {
  char dir[] = "/tmp/hvkvp-trim-XXXXXX";
  hvkvp_store_t *s = tmp_pool_open(dir);
  char err[256];
  rcfg_t c;
  rcfg_defaults(&c);
  c.enc = HVKVP_ENC_JSON;
  c.max_chunks = 2;
  c.cpu.report_by_cpu = 1; /* cpu jiffies: values from the first cycle */
  reporter_t r;
  assert_int_equal(reporter_init(&r, &c, s, err, sizeof(err)), 0);
  r.root = HVKVP_REPORTER_FIXTURES "/live";
  hvkvp_msg_t full;
  assert_int_equal(reporter_build(&r, &full, err, sizeof(err)), 0);
  size_t all = full.n_vls;
  hvkvp_msg_free(&full);
  assert_true(all > 40);
  collect_linux_reset_state(); /* same disk values (no disk_time) again */
  assert_int_equal(reporter_cycle(&r, NULL, err, sizeof(err)), 0);
  hvkvp_items_t cur;
  hvkvp_msg_t m;
  hvkvp_head_t h;
  decode_own(s, &cur, &m, &h);
  assert_int_equal(h.n, 2);
  assert_true(m.trimmed > 0);
  assert_int_equal(m.n_vls + m.trimmed, all);
  /* the most important values (collector order: cpu first) are kept */
  assert_string_equal(m.vls[0].plugin, "cpu");
  hvkvp_msg_free(&m);
  hvkvp_items_free(&cur);
  reporter_free(&r);
  tmp_pool_close(s, dir, 1);
}

static void test_check_collectors(void **state) {
  rcfg_t c;
  rcfg_defaults(&c);
  char err[256] = "";
  assert_int_equal(rcfg_parse_text(&c,
                                   "Collectors \"cpu, df mine\"\n"
                                   "Exec mine \"/bin/true\"\n",
                                   "t.conf", err, sizeof(err)),
                   0);
  assert_int_equal(rcfg_check_collectors(&c, err, sizeof(err)), 0);
  snprintf(c.collectors, sizeof(c.collectors), "cpu gpu");
  assert_int_equal(rcfg_check_collectors(&c, err, sizeof(err)), -1);
  assert_string_equal(err, "Collectors: \"gpu\" is neither a collector of "
                           "this platform nor an Exec name");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_cpu_block),
      cmocka_unit_test(test_good_file),
      cmocka_unit_test(test_bad_lines),
      cmocka_unit_test(test_load_file_errors),
      cmocka_unit_test(test_example_config),
      cmocka_unit_test(test_check_collectors),
      cmocka_unit_test(test_pushed_parse),
      cmocka_unit_test(test_pushed_apply_and_reject),
      cmocka_unit_test(test_gen_continues_after_restart),
      cmocka_unit_test(test_trimmed_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
