/*
 * collect_linux_df.c - the Linux df collector: used/free/reserved bytes of
 * every real filesystem in /proc/mounts, named like collectd's df plugin.
 * statvfs() cannot be redirected, so with a non-empty ctx->root it reads
 * "<root>/statvfs" instead (format in collect_linux.c).
 */
#include "collect_linux_parts.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

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
int cl_df(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err, size_t errlen) {
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
