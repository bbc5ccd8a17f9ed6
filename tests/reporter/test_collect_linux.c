/*
 * test_collect_linux.c - the Linux collectors on recorded /proc & /sys
 * fixtures (fixtures/live: this build machine's real files; fixtures/edge:
 * old kernel formats, escapes, duplicates, odd process names), checked for
 * collectd's exact names and the exact values the files imply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collect.h"
#include "collect_linux.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIX HVKVP_REPORTER_FIXTURES

static const collector_t *find_collector(const char *name) {
  size_t n;
  const collector_t *c = collectors_platform(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(c[i].name, name) == 0)
      return &c[i];
  fail_msg("no collector %s", name);
  return NULL;
}

/* collectd's cpu plugin defaults: per CPU, per state, jiffies. */
static const collect_cpu_opts_t cpu_jiffies = {1, 1, 0};

/* Runs one collector on a fixture root into m (init'd here); no state kept
 * (every read is a first read), cpu in jiffies. */
static void run(const char *name, const char *root, int loopback,
                hvkvp_msg_t *m) {
  collect_ctx_t ctx = {.root = root,
                       .include_loopback = loopback,
                       .interval = 10,
                       .cpu = cpu_jiffies};
  char err[256] = "";
  hvkvp_msg_init(m);
  int rc = find_collector(name)->read(&ctx, m, err, sizeof(err));
  if (rc != 0)
    fail_msg("collector %s on %s: %s", name, root, err);
}

static const hvkvp_vl_t *get(const hvkvp_msg_t *m, const char *plugin,
                             const char *pinst, const char *type,
                             const char *tinst) {
  const hvkvp_vl_t *found = NULL;
  for (size_t i = 0; i < m->n_vls; i++) {
    const hvkvp_vl_t *v = &m->vls[i];
    if (strcmp(v->plugin, plugin) == 0 &&
        strcmp(v->plugin_instance, pinst) == 0 && strcmp(v->type, type) == 0 &&
        strcmp(v->type_instance, tinst) == 0) {
      if (found != NULL)
        fail_msg("duplicate value list %s/%s/%s/%s", plugin, pinst, type,
                 tinst);
      found = v;
    }
  }
  return found;
}

static void expect_gauge(const hvkvp_msg_t *m, const char *plugin,
                         const char *pinst, const char *type, const char *tinst,
                         double want) {
  const hvkvp_vl_t *v = get(m, plugin, pinst, type, tinst);
  if (v == NULL)
    fail_msg("missing %s/%s/%s/%s", plugin, pinst, type, tinst);
  assert_int_equal(v->n, 1);
  assert_int_equal(v->dstypes[0], HVKVP_DS_GAUGE);
  assert_string_equal(v->dsnames[0], "value");
  if (fabs(v->values[0].gauge - want) > 1e-9)
    fail_msg("%s/%s/%s/%s = %.17g, want %.17g", plugin, pinst, type, tinst,
             v->values[0].gauge, want);
}

static void expect_derive(const hvkvp_msg_t *m, const char *plugin,
                          const char *pinst, const char *type,
                          const char *tinst, int64_t want) {
  const hvkvp_vl_t *v = get(m, plugin, pinst, type, tinst);
  if (v == NULL)
    fail_msg("missing %s/%s/%s/%s", plugin, pinst, type, tinst);
  assert_int_equal(v->n, 1);
  assert_int_equal(v->dstypes[0], HVKVP_DS_DERIVE);
  assert_int_equal(v->values[0].derive, want);
}

static void expect_pair(const hvkvp_msg_t *m, const char *plugin,
                        const char *pinst, const char *type, const char *ds0,
                        int64_t v0, const char *ds1, int64_t v1) {
  const hvkvp_vl_t *v = get(m, plugin, pinst, type, "");
  if (v == NULL)
    fail_msg("missing %s/%s/%s", plugin, pinst, type);
  assert_int_equal(v->n, 2);
  assert_string_equal(v->dsnames[0], ds0);
  assert_string_equal(v->dsnames[1], ds1);
  assert_int_equal(v->dstypes[0], HVKVP_DS_DERIVE);
  assert_int_equal(v->dstypes[1], HVKVP_DS_DERIVE);
  assert_int_equal(v->values[0].derive, v0);
  assert_int_equal(v->values[1].derive, v1);
}

/* One expected gauge of a table for expect_gauges(). */
typedef struct {
  const char *tinst;
  double want;
} gauge_want_t;

#define N_WANT(w) (sizeof(w) / sizeof((w)[0]))

/* expect_gauge() for each type instance of w under plugin/pinst/type. */
static void expect_gauges(const hvkvp_msg_t *m, const char *plugin,
                          const char *pinst, const char *type,
                          const gauge_want_t *w, size_t n) {
  for (size_t i = 0; i < n; i++)
    expect_gauge(m, plugin, pinst, type, w[i].tinst, w[i].want);
}

/* Runs a collector that sends one gauge named like itself (uptime,
 * entropy) on root and checks its value. */
static void expect_single_gauge(const char *name, const char *root,
                                double want) {
  hvkvp_msg_t m;
  run(name, root, 0, &m);
  expect_gauge(&m, name, "", name, "", want);
  hvkvp_msg_free(&m);
}

/* Checks the load value list's three gauges (exactly) and returns it. */
static const hvkvp_vl_t *expect_load(const hvkvp_msg_t *m, double shortterm,
                                     double midterm, double longterm) {
  const hvkvp_vl_t *v = get(m, "load", "", "load", "");
  assert_non_null(v);
  assert_true(v->values[0].gauge == shortterm &&
              v->values[1].gauge == midterm && v->values[2].gauge == longterm);
  return v;
}

/* The first disk read since the collectors' state was reset. */
static void run_first_disk(const char *root, hvkvp_msg_t *m) {
  collect_linux_reset_state();
  run("disk", root, 0, m);
}

/* ---- live fixtures (this machine) ---- */

static void test_live_cpu(void **state) {
  hvkvp_msg_t m;
  run("cpu", FIX "/live", 0, &m);
  static const char *const st[] = {"user", "nice",      "system",  "idle",
                                   "wait", "interrupt", "softirq", "steal"};
  static const int64_t c0[] = {8963, 0, 6284, 144246, 116, 0, 30, 25};
  static const int64_t c1[] = {12776, 0, 8805, 136834, 1096, 0, 121, 29};
  for (int i = 0; i < 8; i++) {
    expect_derive(&m, "cpu", "0", "cpu", st[i], c0[i]);
    expect_derive(&m, "cpu", "1", "cpu", st[i], c1[i]);
  }
  assert_int_equal(m.n_vls, 16); /* no aggregate "cpu" line, no guest */
  hvkvp_msg_free(&m);
}

static void test_live_memory_swap(void **state) {
  hvkvp_msg_t m;
  run("memory", FIX "/live", 0, &m);
  static const gauge_want_t mem[] = {
      {"used", 190720.0 * 1024},       {"buffered", 9084.0 * 1024},
      {"cached", 1923824.0 * 1024},    {"free", 22411976.0 * 1024},
      {"slab_unrecl", 28952.0 * 1024}, {"slab_recl", 119528.0 * 1024}};
  expect_gauges(&m, "memory", "", "memory", mem, N_WANT(mem));
  assert_int_equal(m.n_vls, 6);
  hvkvp_msg_free(&m);
  run("swap", FIX "/live", 0, &m);
  static const gauge_want_t swap[] = {{"used", 0}, {"free", 0}, {"cached", 0}};
  expect_gauges(&m, "swap", "", "swap", swap, N_WANT(swap));
  expect_derive(&m, "swap", "", "swap_io", "in", 0);
  expect_derive(&m, "swap", "", "swap_io", "out", 0);
  hvkvp_msg_free(&m);
}

static void test_live_load_uptime_entropy(void **state) {
  hvkvp_msg_t m;
  run("load", FIX "/live", 0, &m);
  const hvkvp_vl_t *v = expect_load(&m, 1.35, 0.79, 0.37);
  assert_int_equal(v->n, 3);
  assert_string_equal(v->dsnames[0], "shortterm");
  assert_string_equal(v->dsnames[1], "midterm");
  assert_string_equal(v->dsnames[2], "longterm");
  hvkvp_msg_free(&m);
  expect_single_gauge("uptime", FIX "/live", 1605);
  expect_single_gauge("entropy", FIX "/live", 256);
}

static void test_live_df(void **state) {
  hvkvp_msg_t m;
  run("df", FIX "/live", 0, &m);
  static const gauge_want_t root[] = {{"free", 81921634304.0},
                                      {"reserved", 167807893504.0},
                                      {"used", 20823646208.0}};
  expect_gauges(&m, "df", "root", "df_complex", root, N_WANT(root));
  assert_int_equal(m.n_vls, 3); /* tmpfs, cgroup, proc, devpts... skipped */
  hvkvp_msg_free(&m);
}

static void test_live_interface(void **state) {
  hvkvp_msg_t m;
  run("interface", FIX "/live", 0, &m);
  expect_pair(&m, "interface", "eth0", "if_octets", "rx", 267484866, "tx",
              199424);
  expect_pair(&m, "interface", "eth0", "if_packets", "rx", 5052, "tx", 2718);
  expect_pair(&m, "interface", "eth0", "if_errors", "rx", 0, "tx", 0);
  expect_pair(&m, "interface", "eth0", "if_dropped", "rx", 0, "tx", 0);
  assert_non_null(get(&m, "interface", "ifb0", "if_octets", ""));
  assert_null(get(&m, "interface", "lo", "if_octets", ""));
  assert_int_equal(m.n_vls, 12);
  hvkvp_msg_free(&m);
  run("interface", FIX "/live", 1, &m);
  expect_pair(&m, "interface", "lo", "if_octets", "rx", 1236465, "tx", 1236465);
  assert_int_equal(m.n_vls, 16);
  hvkvp_msg_free(&m);
}

static void test_live_disk_processes(void **state) {
  hvkvp_msg_t m;
  run_first_disk(FIX "/live", &m);
  expect_pair(&m, "disk", "vda", "disk_octets", "read", 12746514LL * 512,
              "write", 8767912LL * 512);
  expect_pair(&m, "disk", "vda", "disk_ops", "read", 145525, "write", 31008);
  expect_pair(&m, "disk", "vda", "disk_merged", "read", 20141, "write", 19110);
  expect_pair(&m, "disk", "vda", "disk_io_time", "io_time", 20476,
              "weighted_io_time", 183603);
  expect_gauge(&m, "disk", "vda", "pending_operations", "", 0);
  assert_null(get(&m, "disk", "loop0", "disk_ops", "")); /* no I/O */
  assert_null(get(&m, "disk", "vda", "disk_time", ""));  /* first read */
  assert_int_equal(m.n_vls, 5);
  hvkvp_msg_free(&m);
  run("processes", FIX "/live", 0, &m);
  static const gauge_want_t ps[] = {{"sleeping", 2}, {"running", 0}};
  expect_gauges(&m, "processes", "", "ps_state", ps, N_WANT(ps));
  expect_derive(&m, "processes", "", "fork_rate", "", 30476);
  hvkvp_msg_free(&m);
}

/* ---- edge cases ---- */

static void test_edge_cpu_old_formats(void **state) {
  hvkvp_msg_t m;
  run("cpu", FIX "/edge", 0, &m);
  /* cpu0 has only 4 fields (very old kernels): 4 states */
  expect_derive(&m, "cpu", "0", "cpu", "user", 1);
  expect_derive(&m, "cpu", "0", "cpu", "idle", 4);
  assert_null(get(&m, "cpu", "0", "cpu", "wait"));
  /* cpu1 has guest fields: not reported (collectd's default) */
  expect_derive(&m, "cpu", "1", "cpu", "steal", 12);
  expect_derive(&m, "cpu", "1", "cpu", "wait", 9);
  assert_int_equal(m.n_vls, 12);
  hvkvp_msg_free(&m);
}

/* ---- cpu: collectd's ReportByCpu, ReportByState, ValuesPercentage ----
 * fixtures/cpu/t0..t3: successive /proc/stat readings.
 * t0 -> t1: cpu0 +300 user +100 system +500 idle +50 wait +10 interrupt +20
 *   softirq +20 steal (1000 jiffies); cpu1 +100 user +50 nice +50 system
 *   +200 idle +50 softirq +50 steal (500); cpu2 appears (no previous).
 * t1 -> t2: cpu0 +100 user +100 idle, its wait 5 back (a NO_HZ iowait
 *   glitch: counts 0); cpu1's counters all restart lower (a reset: no
 *   value); cpu2 gone.
 * t2 -> t3: cpu0 +100 user +50 system +250 idle (400); cpu1 from its new
 *   start: +60 user +5 system +20 idle (85); cpu2 back, but had no t2
 *   line: no value. */

#define CPU_FIX(t) FIX "/cpu/" t

/* One read of the cpu collector on root with the given options and state
 * into m (init'd here). */
static void run_cpu(const char *root, collect_cpu_opts_t o, collect_state_t *st,
                    hvkvp_msg_t *m) {
  collect_ctx_t ctx = {.root = root, .interval = 10, .cpu = o, .state = st};
  char err[256] = "";
  hvkvp_msg_init(m);
  if (find_collector("cpu")->read(&ctx, m, err, sizeof(err)) != 0)
    fail_msg("cpu on %s: %s", root, err);
  for (size_t i = 0; i < m->n_vls; i++)
    assert_string_equal(m->vls[i].plugin, "cpu");
}

/* Expects the percent value lists of one series: shares[s] / total for the
 * 8 states, or "active" alone. */
static void expect_cpu_shares(const hvkvp_msg_t *m, const char *pinst,
                              int by_state, const double shares[8],
                              double total) {
  static const char *const st[] = {"user", "nice",      "system",  "idle",
                                   "wait", "interrupt", "softirq", "steal"};
  if (!by_state) {
    expect_gauge(m, "cpu", pinst, "percent", "active",
                 100.0 * (total - shares[3]) / total);
    assert_null(get(m, "cpu", pinst, "percent", "idle"));
    return;
  }
  for (int i = 0; i < 8; i++)
    expect_gauge(m, "cpu", pinst, "percent", st[i], 100.0 * shares[i] / total);
  assert_null(get(m, "cpu", pinst, "percent", "active"));
}

/* The modes of collectd.conf(5), with their value lists from t0 -> t1. */
static void test_cpu_modes(void **state) {
  static const double cpu0[8] = {300, 0, 100, 500, 50, 10, 20, 20};
  static const double cpu1[8] = {100, 50, 50, 200, 0, 0, 50, 50};
  double sum[8];
  for (int i = 0; i < 8; i++)
    sum[i] = cpu0[i] + cpu1[i];
  static const struct {
    collect_cpu_opts_t o;
    size_t n_vls; /* after t1 */
  } modes[] = {
      {{1, 1, 1}, 16}, /* per CPU, per state, percent */
      {{1, 0, 0}, 2},  /* per CPU, active */
      {{1, 0, 1}, 2},  /* ValuesPercentage: no effect without ReportByState */
      {{0, 1, 0}, 8},  /* the sum, per state (the reporter's default) */
      {{0, 1, 1}, 8},  /* ValuesPercentage: no effect without ReportByCpu */
      {{0, 0, 0}, 1},  /* the sum, active */
  };
  for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
    collect_cpu_opts_t o = modes[k].o;
    collect_state_t *st = collect_state_new();
    assert_non_null(st);
    hvkvp_msg_t m;
    run_cpu(CPU_FIX("t0"), o, st, &m); /* first read: no percentages */
    assert_int_equal(m.n_vls, 0);
    hvkvp_msg_free(&m);
    run_cpu(CPU_FIX("t1"), o, st, &m);
    if (m.n_vls != modes[k].n_vls)
      fail_msg("mode %d %d %d: %zu value lists, want %zu", o.report_by_cpu,
               o.report_by_state, o.values_percentage, m.n_vls, modes[k].n_vls);
    for (size_t i = 0; i < m.n_vls; i++) {
      assert_string_equal(m.vls[i].type, "percent");
      assert_int_equal(m.vls[i].dstypes[0], HVKVP_DS_GAUGE);
      if (!o.report_by_cpu)
        assert_string_equal(m.vls[i].plugin_instance, "");
    }
    if (o.report_by_cpu) {
      expect_cpu_shares(&m, "0", o.report_by_state, cpu0, 1000);
      expect_cpu_shares(&m, "1", o.report_by_state, cpu1, 500);
      assert_null(get(&m, "cpu", "2", "percent", "user")); /* new CPU */
    } else {
      /* jiffies summed over the CPUs, then shared: not the mean of the
       * CPUs' percentages */
      expect_cpu_shares(&m, "", o.report_by_state, sum, 1500);
    }
    hvkvp_msg_free(&m);
    /* nothing elapsed (the same reading again): no value */
    run_cpu(CPU_FIX("t1"), o, st, &m);
    assert_int_equal(m.n_vls, 0);
    hvkvp_msg_free(&m);
    collect_state_free(st);
  }
}

/* (true, true, false), collectd's default: jiffies as read, from the first
 * read on, whatever the state holds. */
static void test_cpu_jiffies_mode(void **state) {
  collect_state_t *st = collect_state_new();
  assert_non_null(st);
  hvkvp_msg_t m;
  run_cpu(CPU_FIX("t0"), cpu_jiffies, st, &m);
  assert_int_equal(m.n_vls, 16);
  expect_derive(&m, "cpu", "0", "cpu", "user", 1000);
  expect_derive(&m, "cpu", "1", "cpu", "steal", 100);
  hvkvp_msg_free(&m);
  run_cpu(CPU_FIX("t1"), cpu_jiffies, st, &m);
  assert_int_equal(m.n_vls, 24);
  expect_derive(&m, "cpu", "2", "cpu", "idle", 900);
  assert_null(get(&m, "cpu", "", "percent", "user"));
  hvkvp_msg_free(&m);
  /* a counter that went back is sent as read (the reader's derive
   * handling applies, as with collectd) */
  run_cpu(CPU_FIX("t2"), cpu_jiffies, st, &m);
  expect_derive(&m, "cpu", "0", "cpu", "wait", 245);
  expect_derive(&m, "cpu", "1", "cpu", "user", 10);
  hvkvp_msg_free(&m);
  collect_state_free(st);
}

/* Counters that go back: one state (iowait) counts 0; a CPU whose
 * counters all went back (reset) or that has no previous line sends
 * nothing that read, and is left out of the sum. */
static void test_cpu_backwards_and_reset(void **state) {
  static const collect_cpu_opts_t per_cpu = {1, 1, 1}, sum = {0, 1, 0},
                                  active = {0, 0, 0};
  collect_state_t *a = collect_state_new(), *b = collect_state_new(),
                  *c = collect_state_new();
  assert_true(a != NULL && b != NULL && c != NULL);
  hvkvp_msg_t m;
  static const char *const roots[] = {CPU_FIX("t0"), CPU_FIX("t1")};
  for (size_t i = 0; i < 2; i++) {
    run_cpu(roots[i], per_cpu, a, &m);
    hvkvp_msg_free(&m);
    run_cpu(roots[i], sum, b, &m);
    hvkvp_msg_free(&m);
    run_cpu(roots[i], active, c, &m);
    hvkvp_msg_free(&m);
  }
  static const double cpu0_t2[8] = {100, 0, 0, 100, 0, 0, 0, 0};
  run_cpu(CPU_FIX("t2"), per_cpu, a, &m);
  assert_int_equal(m.n_vls, 8); /* cpu0 only */
  expect_cpu_shares(&m, "0", 1, cpu0_t2, 200);
  assert_null(get(&m, "cpu", "1", "percent", "user"));
  hvkvp_msg_free(&m);
  run_cpu(CPU_FIX("t2"), sum, b, &m);
  expect_cpu_shares(&m, "", 1, cpu0_t2, 200); /* cpu1 left out */
  hvkvp_msg_free(&m);
  run_cpu(CPU_FIX("t2"), active, c, &m);
  expect_cpu_shares(&m, "", 0, cpu0_t2, 200);
  hvkvp_msg_free(&m);
  /* after the reset cpu1 counts again from its new start */
  static const double cpu0_t3[8] = {100, 0, 50, 250, 0, 0, 0, 0};
  static const double cpu1_t3[8] = {60, 0, 5, 20, 0, 0, 0, 0};
  double both[8];
  for (int i = 0; i < 8; i++)
    both[i] = cpu0_t3[i] + cpu1_t3[i];
  run_cpu(CPU_FIX("t3"), per_cpu, a, &m);
  assert_int_equal(m.n_vls, 16); /* cpu2: no t2 line to compare with */
  expect_cpu_shares(&m, "0", 1, cpu0_t3, 400);
  expect_cpu_shares(&m, "1", 1, cpu1_t3, 85);
  hvkvp_msg_free(&m);
  run_cpu(CPU_FIX("t3"), sum, b, &m);
  expect_cpu_shares(&m, "", 1, both, 485);
  hvkvp_msg_free(&m);
  run_cpu(CPU_FIX("t3"), active, c, &m);
  expect_cpu_shares(&m, "", 0, both, 485);
  hvkvp_msg_free(&m);
  collect_state_free(a);
  collect_state_free(b);
  collect_state_free(c);
}

/* The state holds readings, not values of a mode: after a reload that
 * changes the mode the next read has percentages at once; no state (NULL)
 * is a first read every time. */
static void test_cpu_state_across_modes(void **state) {
  collect_state_t *st = collect_state_new();
  assert_non_null(st);
  hvkvp_msg_t m;
  run_cpu(CPU_FIX("t0"), cpu_jiffies, st, &m);
  hvkvp_msg_free(&m);
  static const collect_cpu_opts_t sum = {0, 1, 0};
  run_cpu(CPU_FIX("t1"), sum, st, &m);
  assert_int_equal(m.n_vls, 8);
  hvkvp_msg_free(&m);
  collect_state_free(st);
  collect_state_free(NULL);
  run_cpu(CPU_FIX("t0"), sum, NULL, &m);
  assert_int_equal(m.n_vls, 0);
  hvkvp_msg_free(&m);
  run_cpu(CPU_FIX("t1"), sum, NULL, &m);
  assert_int_equal(m.n_vls, 0);
  hvkvp_msg_free(&m);
}

static void test_edge_memory_swap(void **state) {
  hvkvp_msg_t m;
  run("memory", FIX "/edge", 0, &m);
  /* no SReclaimable/SUnreclaim: "slab" as a whole */
  static const gauge_want_t mem[] = {{"used", 625.0 * 1024},
                                     {"slab", 25.0 * 1024}};
  expect_gauges(&m, "memory", "", "memory", mem, N_WANT(mem));
  assert_null(get(&m, "memory", "", "memory", "slab_recl"));
  assert_int_equal(m.n_vls, 5);
  hvkvp_msg_free(&m);
  run("swap", FIX "/edge", 0, &m);
  static const gauge_want_t swap[] = {{"used", 400.0 * 1024},
                                      {"free", 1500.0 * 1024},
                                      {"cached", 100.0 * 1024}};
  expect_gauges(&m, "swap", "", "swap", swap, N_WANT(swap));
  assert_null(get(&m, "swap", "", "swap_io", "in")); /* no pswpin */
  hvkvp_msg_free(&m);
}

static void test_edge_df(void **state) {
  hvkvp_msg_t m;
  run("df", FIX "/edge", 0, &m);
  static const gauge_want_t root[] = {{"free", 300.0 * 4096},
                                      {"reserved", 100.0 * 4096},
                                      {"used", 600.0 * 4096}};
  expect_gauges(&m, "df", "root", "df_complex", root, N_WANT(root));
  /* escaped space, mounted twice, bavail > bfree clamped */
  static const gauge_want_t mnt[] = {
      {"free", 10240}, {"reserved", 0}, {"used", 0}};
  expect_gauges(&m, "df", "mnt-my disk", "df_complex", mnt, N_WANT(mnt));
  expect_gauge(&m, "df", "srv-data-x", "df_complex", "used", 51200);
  /* proc, tmpfs, unstatable and zero-block filesystems skipped */
  assert_int_equal(m.n_vls, 9);
  hvkvp_msg_free(&m);
}

static void test_edge_interface(void **state) {
  hvkvp_msg_t m;
  run("interface", FIX "/edge", 0, &m);
  expect_pair(&m, "interface", "verylonginterfacename0", "if_octets", "rx",
              INT64_MAX, "tx", 5);
  expect_pair(&m, "interface", "verylonginterfacename0", "if_dropped", "rx", 4,
              "tx", 8);
  expect_pair(&m, "interface", "eth1", "if_errors", "rx", 3, "tx", 11);
  assert_null(get(&m, "interface", "lo", "if_octets", ""));
  assert_int_equal(m.n_vls, 8);
  hvkvp_msg_free(&m);
}

static void test_edge_disk_time(void **state) {
  hvkvp_msg_t m;
  run_first_disk(FIX "/edge", &m);
  expect_pair(&m, "disk", "sda", "disk_octets", "read", 409600, "write",
              819200);
  expect_pair(&m, "disk", "sda1", "disk_ops", "read", 10, "write", 20);
  assert_null(get(&m, "disk", "sda1", "disk_merged", "")); /* old format */
  expect_pair(&m, "disk", "sdb", "disk_octets", "read", 0, "write", 12288);
  assert_null(get(&m, "disk", "loop0", "disk_octets", ""));
  assert_null(get(&m, "disk", "sda", "disk_time", ""));
  hvkvp_msg_free(&m);
  /* second read: +10 reads taking +30 ms, +20 writes taking +40 ms, at a
   * 10 s interval: collectd adds avg time per op x interval */
  run("disk", FIX "/edge2", 0, &m);
  expect_pair(&m, "disk", "sda", "disk_time", "read", 30, "write", 20);
  hvkvp_msg_free(&m);
}

static void test_edge_processes(void **state) {
  hvkvp_msg_t m;
  run("processes", FIX "/edge", 0, &m);
  static const gauge_want_t ps[] = {{"running", 1},  /* "(a) b)" */
                                    {"sleeping", 2}, /* S, I */
                                    {"blocked", 1},  {"zombies", 1},
                                    {"stopped", 1},  {"paging", 0}};
  expect_gauges(&m, "processes", "", "ps_state", ps, N_WANT(ps));
  expect_derive(&m, "processes", "", "fork_rate", "", 777);
  hvkvp_msg_free(&m);
}

static void test_missing_root_fails(void **state) {
  collect_ctx_t ctx = {.root = FIX "/does-not-exist"};
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  char err[256] = "";
  assert_int_equal(find_collector("memory")->read(&ctx, &m, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "does-not-exist/proc/meminfo"));
  hvkvp_msg_free(&m);
}

/* Writes text to root/rel (the directories exist). */
static void put_file(const char *root, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof(path), "%s%s", root, rel);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* Numbers that sscanf's %lf took: NaN, infinity, overflow, trailing text.
 * Each makes its collector fail with a message instead of sending NaN or
 * converting an infinite uptime to int64_t. */
static void test_bad_numbers_refused(void **state) {
  char root[] = "/tmp/hvkvp_cl_XXXXXX";
  assert_non_null(mkdtemp(root));
  static const char *const dirs[] = {"/proc", "/proc/sys", "/proc/sys/kernel",
                                     "/proc/sys/kernel/random"};
  char path[512];
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
    assert_int_equal(mkdir(path, 0755), 0);
  }
  static const char *const entropy = "/proc/sys/kernel/random/entropy_avail";
  static const struct {
    const char *collector, *rel, *text;
  } bad[] = {
      {"load", "/proc/loadavg", "nan nan nan 1/1 1\n"},
      {"load", "/proc/loadavg", "0.5 inf 0.1 1/1 1\n"},
      {"load", "/proc/loadavg", "1e999 0.5 0.1 1/1 1\n"},
      {"load", "/proc/loadavg", "0.5 0.25x 0.1 1/1 1\n"},
      {"load", "/proc/loadavg", "-1 0.5 0.1 1/1 1\n"},
      {"uptime", "/proc/uptime", "inf 1.0\n"},
      {"uptime", "/proc/uptime", "nan 1.0\n"},
      {"uptime", "/proc/uptime", "1e300 1.0\n"},
      {"uptime", "/proc/uptime", "12s 1.0\n"},
      {"entropy", "/proc/sys/kernel/random/entropy_avail", "nan\n"},
      {"entropy", "/proc/sys/kernel/random/entropy_avail", "256 bits\n"},
  };
  collect_ctx_t ctx = {.root = root, .interval = 10};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    put_file(root, bad[i].rel, bad[i].text);
    hvkvp_msg_t m;
    hvkvp_msg_init(&m);
    char err[256] = "";
    int rc = find_collector(bad[i].collector)->read(&ctx, &m, err, sizeof(err));
    if (rc != -1 || err[0] == '\0' || m.n_vls != 0)
      fail_msg("%s on \"%s\": rc %d, %zu value lists, err \"%s\"",
               bad[i].collector, bad[i].text, rc, m.n_vls, err);
    hvkvp_msg_free(&m);
  }
  /* the same files with good numbers */
  put_file(root, "/proc/loadavg", "0.50 0.25 0.125 1/1 1\n");
  put_file(root, "/proc/uptime", "42.99 1.0\n");
  put_file(root, entropy, "3000\n");
  hvkvp_msg_t m;
  run("load", root, 0, &m);
  expect_load(&m, 0.5, 0.25, 0.125);
  hvkvp_msg_free(&m);
  expect_single_gauge("uptime", root, 42);
  expect_single_gauge("entropy", root, 3000);
  static const char *const files[] = {"/proc/loadavg", "/proc/uptime",
                                      "/proc/sys/kernel/random/entropy_avail"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    snprintf(path, sizeof(path), "%s%s", root, files[i]);
    unlink(path);
  }
  for (size_t i = sizeof(dirs) / sizeof(dirs[0]); i > 0; i--) {
    snprintf(path, sizeof(path), "%s%s", root, dirs[i - 1]);
    rmdir(path);
  }
  rmdir(root);
}

static void test_live_system(void **state) {
  /* The real /proc of this machine: every collector works. */
  size_t n;
  const collector_t *c = collectors_platform(&n);
  collect_ctx_t ctx = {.root = "", .interval = 10};
  for (size_t i = 0; i < n; i++) {
    hvkvp_msg_t m;
    hvkvp_msg_init(&m);
    char err[256] = "";
    if (c[i].read(&ctx, &m, err, sizeof(err)) != 0)
      fail_msg("live collector %s: %s", c[i].name, err);
    hvkvp_msg_free(&m);
  }
  /* the reporter's default cpu mode, two reads 0.1 s apart: 8 shares of
   * 100 % */
  collect_ctx_t two = {.root = "", .interval = 10, .cpu = {0, 1, 0}};
  two.state = collect_state_new();
  assert_non_null(two.state);
  const collector_t *cpu = find_collector("cpu");
  for (int k = 0; k < 2; k++) {
    hvkvp_msg_t m;
    hvkvp_msg_init(&m);
    char err[256] = "";
    if (k == 1)
      usleep(100000);
    if (cpu->read(&two, &m, err, sizeof(err)) != 0)
      fail_msg("live cpu: %s", err);
    assert_int_equal(m.n_vls, k == 0 ? 0 : 8);
    double total = 0;
    for (size_t i = 0; i < m.n_vls; i++)
      total += m.vls[i].values[0].gauge;
    if (k == 1 && fabs(total - 100) > 1e-6)
      fail_msg("live cpu shares sum to %.17g", total);
    hvkvp_msg_free(&m);
  }
  collect_state_free(two.state);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_live_cpu),
      cmocka_unit_test(test_live_memory_swap),
      cmocka_unit_test(test_live_load_uptime_entropy),
      cmocka_unit_test(test_live_df),
      cmocka_unit_test(test_live_interface),
      cmocka_unit_test(test_live_disk_processes),
      cmocka_unit_test(test_edge_cpu_old_formats),
      cmocka_unit_test(test_cpu_modes),
      cmocka_unit_test(test_cpu_jiffies_mode),
      cmocka_unit_test(test_cpu_backwards_and_reset),
      cmocka_unit_test(test_cpu_state_across_modes),
      cmocka_unit_test(test_edge_memory_swap),
      cmocka_unit_test(test_edge_df),
      cmocka_unit_test(test_edge_interface),
      cmocka_unit_test(test_edge_disk_time),
      cmocka_unit_test(test_edge_processes),
      cmocka_unit_test(test_missing_root_fails),
      cmocka_unit_test(test_bad_numbers_refused),
      cmocka_unit_test(test_live_system),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
