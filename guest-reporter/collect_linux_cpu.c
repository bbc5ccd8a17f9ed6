/*
 * collect_linux_cpu.c - the Linux cpu collector: the cpuN lines of
 * /proc/stat as collectd's cpu plugin reports them, with its options
 * ReportByCpu, ReportByState and ValuesPercentage, and the previous read
 * that percentages need (collect_state_t).
 */
#include "collect_linux_parts.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cpu: plugin "cpu"; collectd's cpu plugin with its options
 * ReportByCpu, ReportByState and ValuesPercentage (collect.h). With all
 * three at (true, true, false), collectd's default: plugin_instance = CPU
 * number, type "cpu", type_instance = state, derive jiffies. Otherwise type
 * "percent": each state's (or "active"'s) share of the jiffies since the
 * previous read, per CPU or summed over the CPUs (plugin_instance ""), as
 * collectd computes it; nothing on a first read. ---- */

/* The states /proc/stat has, in its order (guest and guest_nice are not
 * reported: collectd's default, ReportGuestState false). */
#define CL_CPU_STATES 8
#define CL_CPU_IDLE 3
#define CL_MAX_CPUS 8192 /* Linux's largest NR_CPUS */

static const char *const cl_cpu_state_names[CL_CPU_STATES] = {
    "user", "nice", "system", "idle", "wait", "interrupt", "softirq", "steal"};

/* One CPU's line of /proc/stat: jiffies of its first nstates states (4, 7
 * or 8: what the kernel's line has, as collectd reads it); nstates 0: the
 * CPU had no line. */
typedef struct {
  uint64_t j[CL_CPU_STATES];
  unsigned nstates;
} cl_cpu_reading_t;

struct collect_state {
  cl_cpu_reading_t *cpu; /* the previous read, by CPU number */
  size_t ncpu;
};

collect_state_t *collect_state_new(void) {
  return calloc(1, sizeof(collect_state_t));
}

void collect_state_free(collect_state_t *s) {
  if (s == NULL)
    return;
  free(s->cpu);
  free(s);
}

/* Grows *r (zeroed entries) to hold CPU number cpu; 0, or -1 (memory). */
static int cl_cpu_grow(cl_cpu_reading_t **r, size_t *n, size_t cpu) {
  if (cpu < *n)
    return 0;
  size_t want = *n > 0 ? *n : 8;
  while (want <= cpu)
    want *= 2;
  cl_cpu_reading_t *nr = realloc(*r, want * sizeof(*nr));
  if (nr == NULL)
    return -1;
  memset(nr + *n, 0, (want - *n) * sizeof(*nr));
  *r = nr;
  *n = want;
  return 0;
}

/* Parses the cpuN lines of /proc/stat (buf, modified) into *out, by CPU
 * number (*nout entries, malloc'd). 0, or -1 with err. */
static int cl_cpu_parse(char *buf, cl_cpu_reading_t **out, size_t *nout,
                        char *err, size_t errlen) {
  cl_cpu_reading_t *r = NULL;
  size_t n = 0, found = 0;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "cpu", 3) != 0 || !isdigit((unsigned char)line[3]))
      continue;
    char *f[16];
    size_t nf = cl_split(line, f, 16);
    uint64_t cpu;
    if (cl_u64(f[0] + 3, &cpu) != 0 || cpu >= CL_MAX_CPUS) {
      snprintf(err, errlen, "/proc/stat: \"%.32s\" is not cpu0..cpu%d", f[0],
               CL_MAX_CPUS - 1);
      goto fail;
    }
    if (nf < 5) {
      snprintf(err, errlen, "/proc/stat: %s: %zu fields, want at least 5", f[0],
               nf);
      goto fail;
    }
    if (cl_cpu_grow(&r, &n, (size_t)cpu) != 0) {
      snprintf(err, errlen, "/proc/stat: out of memory");
      goto fail;
    }
    cl_cpu_reading_t *c = &r[cpu];
    if (c->nstates != 0) {
      snprintf(err, errlen, "/proc/stat: %s twice", f[0]);
      goto fail;
    }
    /* collectd: user nice system idle; wait, interrupt and softirq from 8
     * fields on; steal from 9 on */
    unsigned ns = nf >= 9 ? 8 : nf >= 8 ? 7 : 4;
    for (unsigned s = 0; s < ns; s++) {
      if (cl_u64(f[s + 1], &c->j[s]) != 0) {
        snprintf(err, errlen, "/proc/stat: %s field %u '%.32s' not a number",
                 f[0], s + 1, f[s + 1]);
        goto fail;
      }
    }
    c->nstates = ns;
    found++;
  }
  if (found == 0) {
    snprintf(err, errlen, "/proc/stat: no cpuN lines");
    goto fail;
  }
  *out = r;
  *nout = n;
  return 0;
fail:
  free(r);
  return -1;
}

/* d[s] = jiffies of state s since prev (0 for a counter that went back, as
 * iowait does on some NO_HZ kernels); returns their sum, 0 when there is
 * nothing to compare: no previous line (first read, CPU just online), a
 * different line format, every counter back (reset) or a sum that would
 * overflow. */
static uint64_t cl_cpu_delta(const cl_cpu_reading_t *cur,
                             const cl_cpu_reading_t *prev,
                             uint64_t d[CL_CPU_STATES]) {
  if (prev == NULL || cur->nstates == 0 || prev->nstates != cur->nstates)
    return 0;
  uint64_t total = 0;
  for (unsigned s = 0; s < cur->nstates; s++) {
    d[s] = cur->j[s] >= prev->j[s] ? cur->j[s] - prev->j[s] : 0;
    if (d[s] > UINT64_MAX - total)
      return 0;
    total += d[s];
  }
  return total;
}

static int cl_percent(hvkvp_msg_t *m, const char *pinst, const char *state,
                      double part, double total, char *err, size_t errlen) {
  return cl_gauge(m, "cpu", pinst, "percent", state, 100.0 * part / total, err,
                  errlen);
}

/* One series of percentages (a CPU's, or the sum over CPUs): each of the
 * nstates states, or "active" (all but idle) alone. */
static int cl_cpu_percent(hvkvp_msg_t *m, const char *pinst,
                          const double d[CL_CPU_STATES], unsigned nstates,
                          double total, int by_state, char *err,
                          size_t errlen) {
  if (!by_state)
    return cl_percent(m, pinst, "active", total - d[CL_CPU_IDLE], total, err,
                      errlen);
  for (unsigned s = 0; s < nstates; s++)
    if (cl_percent(m, pinst, cl_cpu_state_names[s], d[s], total, err, errlen) !=
        0)
      return -1;
  return 0;
}

static int cl_cpu_report(const collect_cpu_opts_t *o,
                         const cl_cpu_reading_t *cur, size_t ncur,
                         const collect_state_t *st, hvkvp_msg_t *m, char *err,
                         size_t errlen) {
  char inst[24];
  if (o->report_by_cpu && o->report_by_state && !o->values_percentage) {
    for (size_t c = 0; c < ncur; c++) {
      snprintf(inst, sizeof(inst), "%zu", c);
      for (unsigned s = 0; s < cur[c].nstates; s++)
        if (cl_derive(m, "cpu", inst, "cpu", cl_cpu_state_names[s],
                      (int64_t)cur[c].j[s], err, errlen) != 0)
          return -1;
    }
    return 0;
  }
  double sum[CL_CPU_STATES] = {0}, sum_total = 0;
  unsigned sum_states = 0;
  for (size_t c = 0; c < ncur; c++) {
    uint64_t d[CL_CPU_STATES] = {0};
    const cl_cpu_reading_t *prev =
        st != NULL && c < st->ncpu ? &st->cpu[c] : NULL;
    uint64_t total = cl_cpu_delta(&cur[c], prev, d);
    if (total == 0)
      continue; /* nothing to compare with: no value, as collectd */
    double dd[CL_CPU_STATES] = {0};
    for (unsigned s = 0; s < cur[c].nstates; s++) {
      dd[s] = (double)d[s];
      sum[s] += dd[s];
    }
    if (cur[c].nstates > sum_states)
      sum_states = cur[c].nstates;
    sum_total += (double)total;
    if (o->report_by_cpu) {
      snprintf(inst, sizeof(inst), "%zu", c);
      if (cl_cpu_percent(m, inst, dd, cur[c].nstates, (double)total,
                         o->report_by_state, err, errlen) != 0)
        return -1;
    }
  }
  if (o->report_by_cpu || sum_total == 0)
    return 0;
  return cl_cpu_percent(m, "", sum, sum_states, sum_total, o->report_by_state,
                        err, errlen);
}

int cl_cpu(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err, size_t errlen) {
  char *buf = cl_slurp(ctx, "/proc/stat", err, errlen);
  if (buf == NULL)
    return -1;
  cl_cpu_reading_t *cur = NULL;
  size_t ncur = 0;
  int rc = cl_cpu_parse(buf, &cur, &ncur, err, errlen);
  free(buf);
  if (rc != 0)
    return -1;
  rc = cl_cpu_report(&ctx->cpu, cur, ncur, ctx->state, m, err, errlen);
  if (ctx->state != NULL) { /* this read is the next one's previous */
    free(ctx->state->cpu);
    ctx->state->cpu = cur;
    ctx->state->ncpu = ncur;
  } else {
    free(cur);
  }
  return rc;
}
