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
 *
 * This file holds the table of collectors and the helpers they share
 * (collect_linux_parts.h); the collectors live in collect_linux_cpu.c,
 * collect_linux_proc.c, collect_linux_df.c and collect_linux_io.c.
 */
#include "collect_linux_parts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files larger than this are cut (none of the files we read comes close). */
#define CL_FILE_MAX 1048576 /* 1 MiB */

/* Reads root+rel into a malloc'd NUL-terminated buffer; NULL with err. */
char *cl_slurp(const collect_ctx_t *ctx, const char *rel, char *err,
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

int cl_add(hvkvp_msg_t *m, const char *plugin, const char *pinst,
           const char *type, const char *tinst, hvkvp_ds_type_t t,
           hvkvp_value_t v, char *err, size_t errlen) {
  if (hvkvp_msg_add1(m, plugin, pinst, type, tinst, t, v) != 0) {
    snprintf(err, errlen, "%s: cannot add value list %s/%s (message full)",
             plugin, type, tinst);
    return -1;
  }
  return 0;
}

int cl_gauge(hvkvp_msg_t *m, const char *plugin, const char *pinst,
             const char *type, const char *tinst, double g, char *err,
             size_t errlen) {
  hvkvp_value_t v = {.gauge = g};
  return cl_add(m, plugin, pinst, type, tinst, HVKVP_DS_GAUGE, v, err, errlen);
}

int cl_derive(hvkvp_msg_t *m, const char *plugin, const char *pinst,
              const char *type, const char *tinst, int64_t d, char *err,
              size_t errlen) {
  hvkvp_value_t v = {.derive = d};
  return cl_add(m, plugin, pinst, type, tinst, HVKVP_DS_DERIVE, v, err, errlen);
}

/* A value list with two derive data sources (rx/tx, read/write, ...). */
int cl_derive2(hvkvp_msg_t *m, const char *plugin, const char *pinst,
               const char *type, const char *ds0, int64_t v0, const char *ds1,
               int64_t v1, char *err, size_t errlen) {
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
size_t cl_split(char *s, char **f, size_t max) {
  size_t n = 0;
  char *save = NULL;
  for (char *t = strtok_r(s, " \t\r\n", &save); t != NULL && n < max;
       t = strtok_r(NULL, " \t\r\n", &save))
    f[n++] = t;
  return n;
}

/* Parses an unsigned decimal field; 0 on success. */
int cl_u64(const char *s, uint64_t *out) {
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
int cl_f64(const char *s, double *out) {
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
