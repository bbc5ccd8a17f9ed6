/*
 * collect_linux.c - the Linux collectors: /proc, /sys and statvfs read into
 * value lists named exactly like collectd's own Linux plugins with their
 * default options (cpu, memory, swap, load, uptime, df, interface, disk,
 * processes, entropy), so the host side's values look like collectd's.
 *
 * Every path is read under ctx->root ("" live, a fixture directory in
 * tests). statvfs() cannot be redirected, so with a non-empty root the df
 * collector reads "<root>/statvfs" instead: one line per mount point,
 * "<mountpoint> <f_frsize> <f_blocks> <f_bfree> <f_bavail>", the mount point
 * escaped like in /proc/mounts (space = \040).
 */
#include "collect.h"
#include "collect_linux.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Files larger than this are cut (none of the files we read comes close). */
#define CL_FILE_MAX 1048576 /* 1 MiB */
#define CL_MAX_DISKS 256

/* ---- helpers ---- */

/* Reads root+rel into a malloc'd NUL-terminated buffer; NULL with err. */
static char *cl_slurp(const collect_ctx_t *ctx, const char *rel, char *err,
                      size_t errlen) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s%s", ctx->root ? ctx->root : "", rel);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 8192, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    fclose(f);
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  for (;;) {
    if (len + 1 == cap) {
      if (cap >= CL_FILE_MAX)
        break;
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - 1 - len, f);
    if (n == 0)
      break;
    len += n;
  }
  fclose(f);
  if (buf == NULL) {
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  buf[len] = '\0';
  return buf;
}

static int cl_add(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                  const char *type, const char *tinst, hvkvp_ds_type_t t,
                  hvkvp_value_t v, char *err, size_t errlen) {
  if (hvkvp_msg_add1(m, plugin, pinst, type, tinst, t, v) != 0) {
    snprintf(err, errlen, "%s: cannot add value list %s/%s (message full)",
             plugin, type, tinst);
    return -1;
  }
  return 0;
}

static int cl_gauge(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                    const char *type, const char *tinst, double g, char *err,
                    size_t errlen) {
  hvkvp_value_t v = {.gauge = g};
  return cl_add(m, plugin, pinst, type, tinst, HVKVP_DS_GAUGE, v, err, errlen);
}

static int cl_derive(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                     const char *type, const char *tinst, int64_t d, char *err,
                     size_t errlen) {
  hvkvp_value_t v = {.derive = d};
  return cl_add(m, plugin, pinst, type, tinst, HVKVP_DS_DERIVE, v, err, errlen);
}

/* A value list with two derive data sources (rx/tx, read/write, ...). */
static int cl_derive2(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                      const char *type, const char *ds0, int64_t v0,
                      const char *ds1, int64_t v1, char *err, size_t errlen) {
  hvkvp_vl_t *vl = hvkvp_msg_add(m);
  if (vl == NULL) {
    snprintf(err, errlen, "%s: cannot add value list %s (message full)", plugin,
             type);
    return -1;
  }
  snprintf(vl->plugin, sizeof(vl->plugin), "%s", plugin);
  snprintf(vl->plugin_instance, sizeof(vl->plugin_instance), "%s", pinst);
  snprintf(vl->type, sizeof(vl->type), "%s", type);
  vl->n = 2;
  vl->dstypes[0] = vl->dstypes[1] = HVKVP_DS_DERIVE;
  snprintf(vl->dsnames[0], sizeof(vl->dsnames[0]), "%s", ds0);
  snprintf(vl->dsnames[1], sizeof(vl->dsnames[1]), "%s", ds1);
  vl->values[0].derive = v0;
  vl->values[1].derive = v1;
  return 0;
}

/* Splits s in place on whitespace into at most max fields. */
static size_t cl_split(char *s, char **f, size_t max) {
  size_t n = 0;
  char *save = NULL;
  for (char *t = strtok_r(s, " \t\r\n", &save); t != NULL && n < max;
       t = strtok_r(NULL, " \t\r\n", &save))
    f[n++] = t;
  return n;
}

/* Parses an unsigned decimal field; 0 on success. */
static int cl_u64(const char *s, uint64_t *out) {
  if (s == NULL || !isdigit((unsigned char)s[0]))
    return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

/* Parses a non-negative decimal number field ("1.35", "1605.32"); 0 on
 * success. Unlike sscanf's %lf it refuses trailing text, "nan", "inf" and
 * values that overflow. */
static int cl_f64(const char *s, double *out) {
  if (s == NULL || !isdigit((unsigned char)s[0]))
    return -1;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}

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

static int cl_cpu(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                  size_t errlen) {
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

/* ---- /proc/meminfo ---- */
typedef struct {
  const char *name;
  uint64_t kb;
  int seen;
} cl_meminfo_t;

static int cl_meminfo(const collect_ctx_t *ctx, cl_meminfo_t *want,
                      size_t nwant, char *err, size_t errlen) {
  char *buf = cl_slurp(ctx, "/proc/meminfo", err, errlen);
  if (buf == NULL)
    return -1;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *colon = strchr(line, ':');
    if (colon == NULL)
      continue;
    *colon = '\0';
    for (size_t i = 0; i < nwant; i++) {
      if (strcmp(line, want[i].name) != 0)
        continue;
      char *f[3];
      size_t n = cl_split(colon + 1, f, 3);
      uint64_t v;
      if (n >= 1 && cl_u64(f[0], &v) == 0) {
        want[i].kb = v;
        want[i].seen = 1;
      }
    }
  }
  free(buf);
  return 0;
}

/* memory: type "memory", used/buffered/cached/free/slab_unrecl/slab_recl in
 * bytes; used = total - (free + buffers + cached + slab), like collectd. */
static int cl_memory(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                     size_t errlen) {
  cl_meminfo_t w[] = {{"MemTotal", 0, 0},  {"MemFree", 0, 0},
                      {"Buffers", 0, 0},   {"Cached", 0, 0},
                      {"Slab", 0, 0},      {"SReclaimable", 0, 0},
                      {"SUnreclaim", 0, 0}};
  if (cl_meminfo(ctx, w, 7, err, errlen) != 0)
    return -1;
  for (int i = 0; i < 4; i++) {
    if (!w[i].seen) {
      snprintf(err, errlen, "/proc/meminfo: no %s line", w[i].name);
      return -1;
    }
  }
  double total = (double)w[0].kb * 1024, free_ = (double)w[1].kb * 1024,
         buffers = (double)w[2].kb * 1024, cached = (double)w[3].kb * 1024,
         slab = (double)w[4].kb * 1024;
  int detailed = w[5].seen && w[6].seen;
  if (detailed && !w[4].seen)
    slab = (double)(w[5].kb + w[6].kb) * 1024;
  if (total < free_ + buffers + cached + slab) {
    snprintf(err, errlen,
             "/proc/meminfo: MemTotal smaller than free+buffers+cached+slab");
    return -1;
  }
  double used = total - (free_ + buffers + cached + slab);
  if (cl_gauge(m, "memory", "", "memory", "used", used, err, errlen) ||
      cl_gauge(m, "memory", "", "memory", "buffered", buffers, err, errlen) ||
      cl_gauge(m, "memory", "", "memory", "cached", cached, err, errlen) ||
      cl_gauge(m, "memory", "", "memory", "free", free_, err, errlen))
    return -1;
  if (detailed)
    return cl_gauge(m, "memory", "", "memory", "slab_unrecl",
                    (double)w[6].kb * 1024, err, errlen) ||
                   cl_gauge(m, "memory", "", "memory", "slab_recl",
                            (double)w[5].kb * 1024, err, errlen)
               ? -1
               : 0;
  return cl_gauge(m, "memory", "", "memory", "slab", slab, err, errlen);
}

/* swap: type "swap" used/free/cached (bytes) from /proc/meminfo, type
 * "swap_io" in/out (pages, derive) from /proc/vmstat. */
static int cl_swap(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                   size_t errlen) {
  cl_meminfo_t w[] = {
      {"SwapTotal", 0, 0}, {"SwapFree", 0, 0}, {"SwapCached", 0, 0}};
  if (cl_meminfo(ctx, w, 3, err, errlen) != 0)
    return -1;
  if (!w[0].seen || !w[1].seen) {
    snprintf(err, errlen, "/proc/meminfo: no SwapTotal/SwapFree lines");
    return -1;
  }
  uint64_t used_kb = w[0].kb - (w[1].kb + w[2].kb);
  if (w[0].kb < w[1].kb + w[2].kb)
    used_kb = 0;
  if (cl_gauge(m, "swap", "", "swap", "used", (double)used_kb * 1024, err,
               errlen) ||
      cl_gauge(m, "swap", "", "swap", "free", (double)w[1].kb * 1024, err,
               errlen) ||
      cl_gauge(m, "swap", "", "swap", "cached", (double)w[2].kb * 1024, err,
               errlen))
    return -1;
  char *buf = cl_slurp(ctx, "/proc/vmstat", err, errlen);
  if (buf == NULL)
    return -1;
  uint64_t in = 0, out = 0;
  int seen = 0;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *f[3];
    size_t n = cl_split(line, f, 3);
    if (n == 2 && strcmp(f[0], "pswpin") == 0 && cl_u64(f[1], &in) == 0)
      seen |= 1;
    else if (n == 2 && strcmp(f[0], "pswpout") == 0 && cl_u64(f[1], &out) == 0)
      seen |= 2;
  }
  free(buf);
  if (seen != 3)
    return 0; /* no swap I/O counters: the swap sizes are still valid */
  if (cl_derive(m, "swap", "", "swap_io", "in", (int64_t)in, err, errlen) ||
      cl_derive(m, "swap", "", "swap_io", "out", (int64_t)out, err, errlen))
    return -1;
  return 0;
}

/* load: type "load", DS shortterm/midterm/longterm. */
static int cl_load(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                   size_t errlen) {
  char *buf = cl_slurp(ctx, "/proc/loadavg", err, errlen);
  if (buf == NULL)
    return -1;
  /* "1.35 0.79 0.37 2/130 30477" */
  double l[3];
  char *f[5];
  size_t n = cl_split(buf, f, 5);
  int ok = n >= 3 && cl_f64(f[0], &l[0]) == 0 && cl_f64(f[1], &l[1]) == 0 &&
           cl_f64(f[2], &l[2]) == 0;
  free(buf);
  if (!ok) {
    snprintf(err, errlen, "/proc/loadavg: want three load averages");
    return -1;
  }
  hvkvp_vl_t *vl = hvkvp_msg_add(m);
  if (vl == NULL) {
    snprintf(err, errlen, "load: cannot add value list (message full)");
    return -1;
  }
  static const char *const names[] = {"shortterm", "midterm", "longterm"};
  snprintf(vl->plugin, sizeof(vl->plugin), "load");
  snprintf(vl->type, sizeof(vl->type), "load");
  vl->n = 3;
  for (int i = 0; i < 3; i++) {
    vl->dstypes[i] = HVKVP_DS_GAUGE;
    snprintf(vl->dsnames[i], sizeof(vl->dsnames[i]), "%s", names[i]);
    vl->values[i].gauge = l[i];
  }
  return 0;
}

/* uptime: type "uptime", whole seconds. */
static int cl_uptime(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                     size_t errlen) {
  char *buf = cl_slurp(ctx, "/proc/uptime", err, errlen);
  if (buf == NULL)
    return -1;
  /* "1605.32 2810.82": uptime and idle time in seconds */
  double up;
  char *f[2];
  size_t n = cl_split(buf, f, 2);
  /* below 2^63, so that the conversion to int64_t below is defined */
  int ok = n >= 1 && cl_f64(f[0], &up) == 0 && up < 9223372036854775808.0;
  free(buf);
  if (!ok) {
    snprintf(err, errlen, "/proc/uptime: no uptime");
    return -1;
  }
  return cl_gauge(m, "uptime", "", "uptime", "", (double)(int64_t)up, err,
                  errlen);
}

/* ---- df ---- */

/* Filesystems that hold no storage of their own. */
static int cl_df_pseudo(const char *fstype) {
  static const char *const pseudo[] = {
      "proc",       "sysfs",           "devtmpfs",  "tmpfs",       "ramfs",
      "devpts",     "cgroup",          "cgroup2",   "mqueue",      "debugfs",
      "tracefs",    "securityfs",      "pstore",    "bpf",         "autofs",
      "configfs",   "fusectl",         "hugetlbfs", "binfmt_misc", "nsfs",
      "efivarfs",   "rpc_pipefs",      "selinuxfs", "squashfs",    "overlay",
      "fuse.lxcfs", "fuse.gvfsd-fuse", "nfsd"};
  for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
    if (strcmp(fstype, pseudo[i]) == 0)
      return 1;
  return 0;
}

/* /proc/mounts escapes space, tab, newline and backslash as \ooo. */
static void cl_unescape_octal(char *s) {
  char *o = s;
  for (char *p = s; *p != '\0'; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
        p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
      *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 3;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
}

/* collectd's df plugin instance: "root" for "/", else the mount point
 * without its leading '/' and with '/' turned into '-'. */
static void cl_df_instance(const char *mnt, char *out, size_t outsz) {
  if (strcmp(mnt, "/") == 0) {
    snprintf(out, outsz, "root");
    return;
  }
  while (*mnt == '/')
    mnt++;
  snprintf(out, outsz, "%s", mnt);
  for (char *p = out; *p != '\0'; p++)
    if (*p == '/')
      *p = '-';
}

typedef struct {
  uint64_t frsize, blocks, bfree, bavail;
} cl_fsstat_t;

static int cl_df_stat(const collect_ctx_t *ctx, const char *mnt,
                      cl_fsstat_t *st) {
  if (ctx->root == NULL || ctx->root[0] == '\0') {
    struct statvfs sv;
    if (statvfs(mnt, &sv) != 0)
      return -1;
    st->frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    st->blocks = sv.f_blocks;
    st->bfree = sv.f_bfree;
    st->bavail = sv.f_bavail;
    return 0;
  }
  char e[64];
  char *buf = cl_slurp(ctx, "/statvfs", e, sizeof(e));
  if (buf == NULL)
    return -1;
  int rc = -1;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *f[6];
    if (cl_split(line, f, 6) != 5)
      continue;
    cl_unescape_octal(f[0]);
    if (strcmp(f[0], mnt) == 0 && cl_u64(f[1], &st->frsize) == 0 &&
        cl_u64(f[2], &st->blocks) == 0 && cl_u64(f[3], &st->bfree) == 0 &&
        cl_u64(f[4], &st->bavail) == 0) {
      rc = 0;
      break;
    }
  }
  free(buf);
  return rc;
}

/* df: type "df_complex", used/free/reserved bytes per real filesystem. */
static int cl_df(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                 size_t errlen) {
  char *buf = cl_slurp(ctx, "/proc/mounts", err, errlen);
  if (buf == NULL)
    return -1;
  char seen[64][HVKVP_NAME_LEN];
  size_t nseen = 0;
  int rc = 0;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL && rc == 0;
       line = strtok_r(NULL, "\n", &save)) {
    char *f[6];
    if (cl_split(line, f, 6) < 3 || cl_df_pseudo(f[2]))
      continue;
    cl_unescape_octal(f[1]);
    char inst[HVKVP_NAME_LEN];
    cl_df_instance(f[1], inst, sizeof(inst));
    int dup = 0;
    for (size_t i = 0; i < nseen; i++)
      dup |= strcmp(seen[i], inst) == 0;
    if (dup)
      continue; /* the same mount point mounted twice: report it once */
    cl_fsstat_t st;
    if (cl_df_stat(ctx, f[1], &st) != 0 || st.blocks == 0)
      continue; /* not statable (permissions) or no blocks: skip */
    if (nseen < 64)
      snprintf(seen[nseen++], HVKVP_NAME_LEN, "%s", inst);
    if (st.bfree < st.bavail)
      st.bavail = st.bfree;
    if (st.blocks < st.bfree)
      st.bfree = st.blocks;
    double bs = (double)st.frsize;
    rc = cl_gauge(m, "df", inst, "df_complex", "free", (double)st.bavail * bs,
                  err, errlen) ||
                 cl_gauge(m, "df", inst, "df_complex", "reserved",
                          (double)(st.bfree - st.bavail) * bs, err, errlen) ||
                 cl_gauge(m, "df", inst, "df_complex", "used",
                          (double)(st.blocks - st.bfree) * bs, err, errlen)
             ? -1
             : 0;
  }
  free(buf);
  return rc;
}

/* interface: if_octets, if_packets, if_errors, if_dropped (rx/tx derive)
 * per interface of /proc/net/dev; "lo" only with IncludeLoopback. */
static int cl_interface(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                        size_t errlen) {
  char *buf = cl_slurp(ctx, "/proc/net/dev", err, errlen);
  if (buf == NULL)
    return -1;
  int rc = 0;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL && rc == 0;
       line = strtok_r(NULL, "\n", &save)) {
    char *colon = strchr(line, ':');
    if (colon == NULL)
      continue;
    *colon = '\0';
    char *name = line;
    while (*name == ' ')
      name++;
    if (*name == '\0' || strchr(name, '|') != NULL)
      continue;
    if (!ctx->include_loopback && strcmp(name, "lo") == 0)
      continue;
    char *f[17];
    size_t n = cl_split(colon + 1, f, 17);
    uint64_t v[16];
    if (n < 16) {
      snprintf(err, errlen, "/proc/net/dev: %s: %zu counters, want 16", name,
               n);
      rc = -1;
      break;
    }
    for (size_t i = 0; i < 16 && rc == 0; i++) {
      if (cl_u64(f[i], &v[i]) != 0) {
        snprintf(err, errlen, "/proc/net/dev: %s: counter %zu not a number",
                 name, i);
        rc = -1;
      }
    }
    if (rc != 0)
      break;
    /* rx: bytes packets errs drop ...; tx starts at field 8 */
    rc = cl_derive2(m, "interface", name, "if_octets", "rx", (int64_t)v[0],
                    "tx", (int64_t)v[8], err, errlen) ||
                 cl_derive2(m, "interface", name, "if_packets", "rx",
                            (int64_t)v[1], "tx", (int64_t)v[9], err, errlen) ||
                 cl_derive2(m, "interface", name, "if_errors", "rx",
                            (int64_t)v[2], "tx", (int64_t)v[10], err, errlen) ||
                 cl_derive2(m, "interface", name, "if_dropped", "rx",
                            (int64_t)v[3], "tx", (int64_t)v[11], err, errlen)
             ? -1
             : 0;
  }
  free(buf);
  return rc;
}

/* ---- disk ---- */

/* Previous sample per device, for disk_time (collectd reports the average
 * time per operation, accumulated, from the second read on). */
typedef struct {
  char name[64];
  uint64_t read_ops, write_ops, read_time, write_time;
  int64_t avg_read_time, avg_write_time;
  int polls;
} cl_disk_state_t;

static cl_disk_state_t cl_disks[CL_MAX_DISKS];
static size_t cl_ndisks;

static cl_disk_state_t *cl_disk_state(const char *name) {
  for (size_t i = 0; i < cl_ndisks; i++)
    if (strcmp(cl_disks[i].name, name) == 0)
      return &cl_disks[i];
  if (cl_ndisks == CL_MAX_DISKS || strlen(name) >= sizeof(cl_disks[0].name))
    return NULL;
  cl_disk_state_t *d = &cl_disks[cl_ndisks++];
  memset(d, 0, sizeof(*d));
  snprintf(d->name, sizeof(d->name), "%s", name);
  return d;
}

void collect_linux_reset_state(void) {
  cl_ndisks = 0;
}

static int64_t cl_disk_time_incr(uint64_t dtime, uint64_t dops,
                                 double interval) {
  if (dops == 0)
    return 0;
  return (int64_t)((double)dtime / (double)dops * interval + 0.5);
}

/* disk: per device of /proc/diskstats with any I/O: disk_octets, disk_ops,
 * disk_time (from the second read), disk_merged, disk_io_time,
 * pending_operations. */
static int cl_disk(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                   size_t errlen) {
  char *buf = cl_slurp(ctx, "/proc/diskstats", err, errlen);
  if (buf == NULL)
    return -1;
  double interval = ctx->interval > 0 ? ctx->interval : 10;
  int rc = 0;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL && rc == 0;
       line = strtok_r(NULL, "\n", &save)) {
    char *f[24];
    size_t n = cl_split(line, f, 24);
    if (n < 7)
      continue;
    const char *name = f[2];
    uint64_t v[14] = {0};
    size_t nv = n - 3 > 14 ? 14 : n - 3;
    int bad = 0;
    for (size_t i = 0; i < nv; i++)
      bad |= cl_u64(f[3 + i], &v[i]);
    if (bad) {
      snprintf(err, errlen, "/proc/diskstats: %s: a counter is not a number",
               name);
      rc = -1;
      break;
    }
    uint64_t rops, rmerged = 0, rsect, rtime = 0, wops, wmerged = 0, wsect,
                   wtime = 0, inprog = 0, iotime = 0, wiotime = 0;
    int full = nv >= 11;
    if (full) {
      rops = v[0], rmerged = v[1], rsect = v[2], rtime = v[3];
      wops = v[4], wmerged = v[5], wsect = v[6], wtime = v[7];
      inprog = v[8], iotime = v[9], wiotime = v[10];
    } else if (nv == 4) { /* old partition format */
      rops = v[0], rsect = v[1], wops = v[2], wsect = v[3];
    } else {
      continue;
    }
    if (rops == 0 && wops == 0)
      continue; /* like collectd: devices without any I/O are not reported */
    rc = cl_derive2(m, "disk", name, "disk_octets", "read",
                    (int64_t)(rsect * 512), "write", (int64_t)(wsect * 512),
                    err, errlen) ||
                 cl_derive2(m, "disk", name, "disk_ops", "read", (int64_t)rops,
                            "write", (int64_t)wops, err, errlen)
             ? -1
             : 0;
    if (rc != 0 || !full)
      continue;
    cl_disk_state_t *d = cl_disk_state(name);
    if (d != NULL) {
      if (d->polls > 0) {
        d->avg_read_time += cl_disk_time_incr(rtime - d->read_time,
                                              rops - d->read_ops, interval);
        d->avg_write_time += cl_disk_time_incr(wtime - d->write_time,
                                               wops - d->write_ops, interval);
        rc = cl_derive2(m, "disk", name, "disk_time", "read", d->avg_read_time,
                        "write", d->avg_write_time, err, errlen);
      }
      d->read_ops = rops, d->write_ops = wops;
      d->read_time = rtime, d->write_time = wtime;
      d->polls++;
    }
    if (rc == 0)
      rc = cl_derive2(m, "disk", name, "disk_merged", "read", (int64_t)rmerged,
                      "write", (int64_t)wmerged, err, errlen) ||
                   cl_derive2(m, "disk", name, "disk_io_time", "io_time",
                              (int64_t)iotime, "weighted_io_time",
                              (int64_t)wiotime, err, errlen) ||
                   cl_gauge(m, "disk", name, "pending_operations", "",
                            (double)inprog, err, errlen)
               ? -1
               : 0;
  }
  free(buf);
  return rc;
}

/* processes: ps_state running/sleeping/zombies/stopped/paging/blocked
 * (gauge, counted over /proc/<pid>/stat) and fork_rate (derive, "processes"
 * of /proc/stat). */
static int cl_processes(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                        size_t errlen) {
  char dirpath[PATH_MAX];
  snprintf(dirpath, sizeof(dirpath), "%s/proc", ctx->root ? ctx->root : "");
  DIR *d = opendir(dirpath);
  if (d == NULL) {
    snprintf(err, errlen, "%s: %s", dirpath, strerror(errno));
    return -1;
  }
  unsigned running = 0, sleeping = 0, zombies = 0, stopped = 0, paging = 0,
           blocked = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)de->d_name[0]))
      continue;
    /* "pid (comm) S ...": comm is at most 64 bytes, so the state is in
     * the first 256; open/read on the stack (this runs per process). */
    char path[64], buf[256];
    snprintf(path, sizeof(path), "%.32s/stat", de->d_name);
    int fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue; /* exited meanwhile */
    ssize_t got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (got <= 0)
      continue;
    buf[got] = '\0';
    char *rp = strrchr(buf, ')');
    char st = rp != NULL && rp[1] == ' ' ? rp[2] : '\0';
    switch (st) {
    case 'R':
      running++;
      break;
    case 'S':
    case 'I':
      sleeping++;
      break;
    case 'D':
      blocked++;
      break;
    case 'Z':
      zombies++;
      break;
    case 'T':
    case 't':
      stopped++;
      break;
    case 'W':
      paging++;
      break;
    default:
      break;
    }
  }
  closedir(d);
  if (cl_gauge(m, "processes", "", "ps_state", "running", running, err,
               errlen) ||
      cl_gauge(m, "processes", "", "ps_state", "sleeping", sleeping, err,
               errlen) ||
      cl_gauge(m, "processes", "", "ps_state", "zombies", zombies, err,
               errlen) ||
      cl_gauge(m, "processes", "", "ps_state", "stopped", stopped, err,
               errlen) ||
      cl_gauge(m, "processes", "", "ps_state", "paging", paging, err, errlen) ||
      cl_gauge(m, "processes", "", "ps_state", "blocked", blocked, err, errlen))
    return -1;
  char *buf = cl_slurp(ctx, "/proc/stat", err, errlen);
  if (buf == NULL)
    return -1;
  int rc = -1;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *f[3];
    uint64_t forks;
    if (cl_split(line, f, 3) == 2 && strcmp(f[0], "processes") == 0 &&
        cl_u64(f[1], &forks) == 0) {
      rc = cl_derive(m, "processes", "", "fork_rate", "", (int64_t)forks, err,
                     errlen);
      break;
    }
  }
  free(buf);
  if (rc != 0 && err[0] == '\0')
    snprintf(err, errlen, "/proc/stat: no processes line");
  return rc;
}

/* entropy: type "entropy", available bits. */
static int cl_entropy(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                      size_t errlen) {
  char *buf =
      cl_slurp(ctx, "/proc/sys/kernel/random/entropy_avail", err, errlen);
  if (buf == NULL)
    return -1;
  double v;
  char *f[2];
  int ok = cl_split(buf, f, 2) == 1 && cl_f64(f[0], &v) == 0; /* "256\n" */
  free(buf);
  if (!ok) {
    snprintf(err, errlen, "entropy_avail: not a number");
    return -1;
  }
  return cl_gauge(m, "entropy", "", "entropy", "", v, err, errlen);
}

static const collector_t cl_table[] = {
    {"cpu", cl_cpu},
    {"memory", cl_memory},
    {"load", cl_load},
    {"swap", cl_swap},
    {"uptime", cl_uptime},
    {"df", cl_df},
    {"interface", cl_interface},
    {"disk", cl_disk},
    {"processes", cl_processes},
    {"entropy", cl_entropy},
};

const collector_t *collectors_platform(size_t *n) {
  *n = sizeof(cl_table) / sizeof(cl_table[0]);
  return cl_table;
}
