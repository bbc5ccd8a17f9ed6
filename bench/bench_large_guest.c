/*
 * bench_large_guest.c - what each cpu collector choice costs on the wire
 * for a large guest: tests/reporter/fixtures/large (32 vCPUs, 8 disks, 4
 * NICs, 12 file systems; two readings 60 s apart, made by make_large.py).
 * For every mode of <Collector cpu> (ReportByCpu, ReportByState,
 * ValuesPercentage) it runs the real reporter cycle (reporter.c: every
 * collector, the default encoding zd1, the pool store) on the first reading
 * and then on the second, and reads back what the second cycle published:
 * value lists, JSON bytes, chunk characters, chunks, and the bytes on the
 * wire, estimated as PROTOCOL.md section 4 does: every KVP item (the head
 * and each chunk) costs about 640 bytes of CIM-XML around its value.
 * Prints figures; asserts nothing.
 *
 * usage: bench_large_guest [FIXTURE_DIR]   (default: the source tree's;
 * make_large.py --cpus N --out DIR writes the same guest with N vCPUs)
 */
#include "config.h"
#include "log.h"
#include "reporter.h"
#include "store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HVKVP_SOURCE_DIR
#define HVKVP_SOURCE_DIR "."
#endif

#define BENCH_ITEM_XML 640 /* CIM-XML around one KVP item (PROTOCOL.md 4) */

typedef struct {
  size_t cpu_vls, vls, json, text, chunks, head, wire;
  uint32_t trimmed;
} bench_fig_t;

/* The reporter's two cycles on t0 then t1 with cpu options o and encoding
 * enc into a pool in a temp dir; f gets the second message's figures. */
static int bench_mode(const char *fix, collect_cpu_opts_t o, hvkvp_enc_t enc,
                      bench_fig_t *f) {
  char dir[] = "/tmp/hvkvp-bench-large-XXXXXX", err[512];
  if (mkdtemp(dir) == NULL)
    return -1;
  hvkvp_store_t *s = store_pool_open(dir, err, sizeof(err));
  if (s == NULL) {
    fprintf(stderr, "bench_large_guest: %s\n", err);
    rmdir(dir);
    return -1;
  }
  rcfg_t c;
  rcfg_defaults(&c);
  c.cpu = o;
  c.enc = enc;
  snprintf(c.hostname, sizeof(c.hostname), "db-large-01.example.com");
  reporter_t r;
  int rc = reporter_init(&r, &c, s, err, sizeof(err));
  char t0[PATH_MAX], t1[PATH_MAX];
  snprintf(t0, sizeof(t0), "%s/t0", fix);
  snprintf(t1, sizeof(t1), "%s/t1", fix);
  if (rc == 0) {
    r.root = t0;
    rc = reporter_cycle(&r, NULL, err, sizeof(err));
    r.root = t1;
    if (rc == 0)
      rc = reporter_cycle(&r, NULL, err, sizeof(err));
    reporter_free(&r);
  }
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  if (rc == 0)
    rc = s->read_own(s, "hvkvp", &it, err, sizeof(err));
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  hvkvp_head_t h;
  hvkvp_err_t he;
  if (rc == 0 && hvkvp_decode(&it, "hvkvp", &m, &h, &he) != 0) {
    snprintf(err, sizeof(err), "decode: %s", he.detail);
    rc = -1;
  }
  if (rc == 0) {
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < it.n; i++) /* at rest: the head and one slot */
      f->wire += BENCH_ITEM_XML + strlen(it.v[i].value);
    const char *head = hvkvp_items_get(&it, "hvkvp.head");
    f->head = head != NULL ? strlen(head) : 0;
    f->vls = m.n_vls;
    for (size_t i = 0; i < m.n_vls; i++)
      f->cpu_vls += strcmp(m.vls[i].plugin, "cpu") == 0;
    f->text = h.len;
    f->chunks = h.n;
    f->trimmed = m.trimmed;
    char *json = NULL;
    if (hvkvp_msg_to_json(&m, &json, &f->json) != 0)
      f->json = 0;
    free(json);
  } else {
    fprintf(stderr, "bench_large_guest: %s\n", err);
  }
  hvkvp_msg_free(&m);
  hvkvp_items_free(&it);
  s->close(s);
  char p[PATH_MAX];
  for (int i = 0; i < 2; i++) {
    snprintf(p, sizeof(p), "%s/.kvp_pool_%d", dir, i);
    unlink(p);
  }
  rmdir(dir);
  return rc;
}

/* The cpuN lines of FIX/t0/proc/stat. */
static unsigned bench_cpus(const char *fix) {
  char p[PATH_MAX], line[4096];
  snprintf(p, sizeof(p), "%s/t0/proc/stat", fix);
  FILE *f = fopen(p, "r");
  unsigned n = 0;
  while (f != NULL && fgets(line, sizeof(line), f) != NULL)
    n += strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9';
  if (f != NULL)
    fclose(f);
  return n;
}

int main(int argc, char **argv) {
  const char *fix =
      argc > 1 ? argv[1] : HVKVP_SOURCE_DIR "/tests/reporter/fixtures/large";
  rlog_set_level(RLOG_ERROR);
  static const struct {
    collect_cpu_opts_t o;
    const char *what;
  } modes[] = {
      {{1, 1, 0}, "per CPU and state, jiffies (collectd's default)"},
      {{1, 1, 1}, "per CPU and state, percent"},
      {{1, 0, 0}, "per CPU, active, percent"},
      {{0, 1, 0}, "sum, per state, percent (hvkvp-reporter's default)"},
      {{0, 0, 0}, "sum, active, percent"},
  };
  printf("large guest (%s): %u vCPUs, 8 disks, 4 NICs, 12 file systems; the "
         "second cycle's message, enc=zd1\n",
         fix, bench_cpus(fix));
  printf("%-5s %-5s %-5s %7s %7s %7s %7s %6s %7s  %s\n", "ByCpu", "ByStt",
         "Pct", "cpu_vls", "all_vls", "json_B", "chunk_c", "chunks", "wire_B",
         "mode");
  int rc = 0;
  size_t head = 0;
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    bench_fig_t f;
    if (bench_mode(fix, modes[i].o, HVKVP_ENC_ZD1, &f) != 0) {
      rc = 1;
      continue;
    }
    printf("%-5s %-5s %-5s %7zu %7zu %7zu %7zu %6zu %7zu  %s%s\n",
           modes[i].o.report_by_cpu ? "true" : "false",
           modes[i].o.report_by_state ? "true" : "false",
           modes[i].o.values_percentage ? "true" : "false", f.cpu_vls, f.vls,
           f.json, f.text, f.chunks, f.wire, modes[i].what,
           f.trimmed > 0 ? " TRIMMED" : "");
    head = f.head;
  }
  printf("wire_B: the head (%zu characters) and the chunks, each value + %d "
         "bytes of CIM-XML; goal: <= 16384 (16 KiB) per poll\n",
         head, BENCH_ITEM_XML);
  return rc;
}
