/*
 * test_large_guest.c - a large guest publishes whole and small: the
 * reporter's cycle on fixtures/large (32 vCPUs, 8 disks, 4 NICs, 12 file
 * systems; readings t0 and t1, 60 s apart) publishes, in every mode of
 * <Collector cpu>, a message that is not trimmed and costs at most 16 KiB
 * on the wire per poll (PROTOCOL.md section 4: each KVP item, the head and
 * every chunk, about 640 bytes of CIM-XML around its value). The figures
 * of each mode: bench/bench_large_guest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "reporter.h"
#include "store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LARGE HVKVP_REPORTER_FIXTURES "/large"
#define ITEM_XML 640
#define WIRE_MAX 16384
/* every collector but cpu: disk 8 x 6, df 12 x 3, interface 4 x 4,
 * processes 7, memory 6, swap 5, load, uptime, entropy */
#define OTHER_VLS 121

typedef struct {
  size_t vls, cpu_vls, chunks, wire;
  uint32_t trimmed;
  double cpu_percent_sum;
} published_t;

/* Two reporter cycles (t0, then t1) with cpu options o into a pool in a
 * temp dir; what the second one published. */
static void publish_large(collect_cpu_opts_t o, published_t *p) {
  rlog_set_level(RLOG_ERROR);
  char dir[] = "/tmp/hvkvp-large-XXXXXX", err[512] = "";
  assert_non_null(mkdtemp(dir));
  hvkvp_store_t *s = store_pool_open(dir, err, sizeof(err));
  assert_non_null(s);
  rcfg_t c;
  rcfg_defaults(&c);
  c.cpu = o;
  snprintf(c.hostname, sizeof(c.hostname), "db-large-01.example.com");
  reporter_t r;
  assert_int_equal(reporter_init(&r, &c, s, err, sizeof(err)), 0);
  r.root = LARGE "/t0";
  if (reporter_cycle(&r, NULL, err, sizeof(err)) != 0)
    fail_msg("cycle on t0: %s", err);
  r.root = LARGE "/t1";
  if (reporter_cycle(&r, NULL, err, sizeof(err)) != 0)
    fail_msg("cycle on t1: %s", err);
  reporter_free(&r);
  hvkvp_items_t it;
  assert_int_equal(s->read_own(s, "hvkvp", &it, err, sizeof(err)), 0);
  hvkvp_msg_t m;
  hvkvp_head_t h;
  hvkvp_err_t he;
  if (hvkvp_decode(&it, "hvkvp", &m, &h, &he) != 0)
    fail_msg("decode: %s", he.detail);
  assert_int_equal(h.enc, HVKVP_ENC_ZD1); /* the default encoding */
  memset(p, 0, sizeof(*p));
  assert_int_equal(it.n, h.n + 1); /* at rest: the head and one slot */
  for (size_t i = 0; i < it.n; i++)
    p->wire += ITEM_XML + strlen(it.v[i].value);
  p->vls = m.n_vls;
  p->chunks = h.n;
  p->trimmed = m.trimmed;
  for (size_t i = 0; i < m.n_vls; i++) {
    if (strcmp(m.vls[i].plugin, "cpu") != 0)
      continue;
    p->cpu_vls++;
    if (strcmp(m.vls[i].type, "percent") == 0)
      p->cpu_percent_sum += m.vls[i].values[0].gauge;
  }
  hvkvp_msg_free(&m);
  hvkvp_items_free(&it);
  s->close(s);
  char path[128];
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof(path), "%s/.kvp_pool_%d", dir, i);
    unlink(path);
  }
  rmdir(dir);
}

static void test_every_mode_fits(void **state) {
  static const struct {
    collect_cpu_opts_t o;
    size_t cpu_vls;
    double percent_sum; /* the shares per state add up; -1: "active" */
  } modes[] = {
      {{1, 1, 0}, 32 * 8, 0}, {{1, 1, 1}, 32 * 8, 32 * 100},
      {{1, 0, 0}, 32, -1},    {{0, 1, 0}, 8, 100},
      {{0, 0, 0}, 1, -1},
  };
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    published_t p;
    publish_large(modes[i].o, &p);
    if (p.trimmed != 0 || p.cpu_vls != modes[i].cpu_vls ||
        p.vls != OTHER_VLS + modes[i].cpu_vls || p.wire > WIRE_MAX)
      fail_msg("mode %d %d %d: %zu value lists (%zu cpu), %u trimmed, %zu "
               "chunks, about %zu bytes on the wire",
               modes[i].o.report_by_cpu, modes[i].o.report_by_state,
               modes[i].o.values_percentage, p.vls, p.cpu_vls, p.trimmed,
               p.chunks, p.wire);
    if (modes[i].percent_sum >= 0 &&
        fabs(p.cpu_percent_sum - modes[i].percent_sum) > 1e-6)
      fail_msg("mode %d %d %d: shares sum to %.17g", modes[i].o.report_by_cpu,
               modes[i].o.report_by_state, modes[i].o.values_percentage,
               p.cpu_percent_sum);
  }
}

/* The defaults, whatever they are. */
static void test_default_mode(void **state) {
  rcfg_t c;
  rcfg_defaults(&c);
  published_t p;
  publish_large(c.cpu, &p);
  assert_int_equal(p.trimmed, 0);
  assert_true(p.wire <= WIRE_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_mode_fits),
      cmocka_unit_test(test_default_mode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
