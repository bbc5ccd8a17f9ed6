/*
 * collect_linux_proc.c - the Linux collectors that each read one or two
 * small /proc files into a few values: memory, swap, load, uptime,
 * processes and entropy, named like collectd's plugins of those names.
 */
#include "collect_linux_parts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
int cl_memory(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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
int cl_swap(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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
int cl_load(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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
int cl_uptime(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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

/* processes: ps_state running/sleeping/zombies/stopped/paging/blocked
 * (gauge, counted over /proc/<pid>/stat) and fork_rate (derive, "processes"
 * of /proc/stat). */
int cl_processes(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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
int cl_entropy(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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
