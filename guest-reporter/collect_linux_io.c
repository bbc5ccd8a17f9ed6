/*
 * collect_linux_io.c - the Linux I/O collectors: interface (/proc/net/dev)
 * and disk (/proc/diskstats, with the per-device state that disk_time needs
 * between reads), named like collectd's plugins of those names.
 */
#include "collect_linux_parts.h"
#include "collect_linux.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* interface: if_octets, if_packets, if_errors, if_dropped (rx/tx derive)
 * per interface of /proc/net/dev; "lo" only with IncludeLoopback. */
int cl_interface(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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

#define CL_MAX_DISKS 256

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
int cl_disk(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
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
