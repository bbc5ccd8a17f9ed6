/*
 * collect_windows.c - the built-in collectors on Windows, with plain Win32
 * calls (no WMI): cpu (GetSystemTimes), memory (GlobalMemoryStatusEx), swap
 * (the page files: EnumPageFilesW), uptime (GetTickCount64), df per fixed
 * volume (GetDiskFreeSpaceExW), interface (GetIfTable2) and processes
 * (toolhelp snapshot). Names follow collectd's Linux plugins so that graphs
 * and queries work for both kinds of guest:
 *   cpu/percent-{user,system,idle} or cpu/percent-active, or
 *     cpu/cpu-{user,system,idle} (derive, jiffies: 1/100 s, all CPUs
 *     summed), as collectd's cpu options choose (see wincol_cpu)
 *   memory/memory-{used,free} (bytes)
 *   swap/swap-{used,free} (bytes)
 *   uptime/uptime (seconds)
 *   df-<volume>/df_complex-{used,free,reserved} (bytes; "C:\" -> "C")
 *   interface-<alias>/if_{octets,packets,errors,dropped} (rx, tx)
 *   processes/ps_count (processes, threads)
 */
#include "collect.h"

#include <winsock2.h>
#include <ws2ipdef.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <psapi.h>
#include <tlhelp32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FILETIME-style 100 ns ticks per collectd jiffy (USER_HZ = 100). */
#define WINCOL_TICKS_PER_JIFFY 100000ULL
/* Bounds on what the system hands back (the collector's own input). */
#define WINCOL_MAX_VOLUMES 64
#define WINCOL_MAX_IFACES 256

static void wincol_lasterr(char *err, size_t errlen, const char *what,
                           DWORD code) {
  snprintf(err, errlen, "%s failed (error %lu)", what, (unsigned long)code);
}

static int wincol_add_nomem(char *err, size_t errlen) {
  snprintf(err, errlen, "too many value lists or out of memory");
  return -1;
}

static int wincol_gauge(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                        const char *type, const char *tinst, double v,
                        char *err, size_t errlen) {
  hvkvp_value_t val = {.gauge = v};
  if (hvkvp_msg_add1(m, plugin, pinst, type, tinst, HVKVP_DS_GAUGE, val) != 0)
    return wincol_add_nomem(err, errlen);
  return 0;
}

static uint64_t wincol_ft(FILETIME ft) {
  return ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

/* ---- cpu ----
 * GetSystemTimes has the machine's totals only (all CPUs summed), so every
 * mode of collectd's options (collect.h) is machine-wide here
 * (plugin_instance ""): ReportByCpu cannot split by CPU. (true, true,
 * false) sends the jiffies of user, system and idle (type "cpu", derive);
 * every other combination sends their shares, or "active" (user + system),
 * in percent of the time since the previous read (type "percent"). */

#define WINCOL_CPU_STATES 3
#define WINCOL_CPU_IDLE 2

static const char *const wincol_cpu_names[WINCOL_CPU_STATES] = {
    "user", "system", "idle"};

struct collect_state {
  uint64_t ticks[WINCOL_CPU_STATES]; /* the previous read, 100 ns */
  int have;
};

collect_state_t *collect_state_new(void) {
  return calloc(1, sizeof(collect_state_t));
}

void collect_state_free(collect_state_t *s) {
  free(s);
}

static int wincol_percent(hvkvp_msg_t *m, const char *state, uint64_t part,
                          uint64_t total, char *err, size_t errlen) {
  return wincol_gauge(m, "cpu", "", "percent", state,
                      100.0 * (double)part / (double)total, err, errlen);
}

/* The shares of the time since prev; nothing when no time passed or every
 * counter went back. A counter that went back counts 0. */
static int wincol_cpu_percent(const collect_cpu_opts_t *o,
                              const uint64_t cur[WINCOL_CPU_STATES],
                              const uint64_t prev[WINCOL_CPU_STATES],
                              hvkvp_msg_t *m, char *err, size_t errlen) {
  uint64_t d[WINCOL_CPU_STATES], total = 0;
  for (int s = 0; s < WINCOL_CPU_STATES; s++) {
    d[s] = cur[s] >= prev[s] ? cur[s] - prev[s] : 0;
    total += d[s]; /* one interval of 100 ns ticks: no overflow */
  }
  if (total == 0)
    return 0;
  if (!o->report_by_state)
    return wincol_percent(m, "active", total - d[WINCOL_CPU_IDLE], total, err,
                          errlen);
  for (int s = 0; s < WINCOL_CPU_STATES; s++)
    if (wincol_percent(m, wincol_cpu_names[s], d[s], total, err, errlen) != 0)
      return -1;
  return 0;
}

static int wincol_cpu(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                      size_t errlen) {
  FILETIME idle, kernel, user;
  if (!GetSystemTimes(&idle, &kernel, &user)) {
    wincol_lasterr(err, errlen, "GetSystemTimes", GetLastError());
    return -1;
  }
  uint64_t i = wincol_ft(idle), k = wincol_ft(kernel), u = wincol_ft(user);
  /* Kernel time includes the idle time. */
  const uint64_t cur[WINCOL_CPU_STATES] = {u, k >= i ? k - i : 0, i};
  const collect_cpu_opts_t *o = &ctx->cpu;
  collect_state_t *st = ctx->state;
  int rc = 0;
  if (o->report_by_cpu && o->report_by_state && !o->values_percentage) {
    for (int s = 0; s < WINCOL_CPU_STATES && rc == 0; s++) {
      hvkvp_value_t v = {.derive = (int64_t)(cur[s] / WINCOL_TICKS_PER_JIFFY)};
      if (hvkvp_msg_add1(m, "cpu", "", "cpu", wincol_cpu_names[s],
                         HVKVP_DS_DERIVE, v) != 0)
        rc = wincol_add_nomem(err, errlen);
    }
  } else if (st != NULL && st->have) {
    rc = wincol_cpu_percent(o, cur, st->ticks, m, err, errlen);
  }
  if (st != NULL) { /* this read is the next one's previous */
    memcpy(st->ticks, cur, sizeof(st->ticks));
    st->have = 1;
  }
  return rc;
}

/* ---- memory ---- */

static int wincol_memstatus(MEMORYSTATUSEX *ms, char *err, size_t errlen) {
  memset(ms, 0, sizeof(*ms));
  ms->dwLength = sizeof(*ms);
  if (!GlobalMemoryStatusEx(ms)) {
    wincol_lasterr(err, errlen, "GlobalMemoryStatusEx", GetLastError());
    return -1;
  }
  return 0;
}

static int wincol_memory(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                         size_t errlen) {
  (void)ctx;
  MEMORYSTATUSEX ms;
  if (wincol_memstatus(&ms, err, errlen) != 0)
    return -1;
  uint64_t total = ms.ullTotalPhys, avail = ms.ullAvailPhys;
  uint64_t used = total >= avail ? total - avail : 0;
  if (wincol_gauge(m, "memory", "", "memory", "used", (double)used, err,
                   errlen) != 0 ||
      wincol_gauge(m, "memory", "", "memory", "free", (double)avail, err,
                   errlen) != 0)
    return -1;
  return 0;
}

/* ---- swap (page files) ---- */

typedef struct {
  uint64_t total_pages, used_pages;
} wincol_swap_t;

static BOOL CALLBACK wincol_pagefile_cb(LPVOID ctx,
                                        PENUM_PAGE_FILE_INFORMATION info,
                                        LPCWSTR name) {
  (void)name;
  wincol_swap_t *s = ctx;
  s->total_pages += info->TotalSize;
  s->used_pages += info->TotalInUse;
  return TRUE;
}

/* Page file use from the commit figures, when EnumPageFilesW cannot say
 * (Wine, restricted accounts): the commit limit beyond RAM is the page
 * file size, the commit charge beyond the RAM in use is what the page file
 * holds. An estimate, clamped to [0, size]. */
static int wincol_swap_estimate(wincol_swap_t *s, uint64_t page, char *err,
                                size_t errlen) {
  MEMORYSTATUSEX ms;
  if (wincol_memstatus(&ms, err, errlen) != 0)
    return -1;
  uint64_t total = ms.ullTotalPageFile > ms.ullTotalPhys
                       ? ms.ullTotalPageFile - ms.ullTotalPhys
                       : 0;
  uint64_t commit = ms.ullTotalPageFile >= ms.ullAvailPageFile
                        ? ms.ullTotalPageFile - ms.ullAvailPageFile
                        : 0;
  uint64_t ram_used = ms.ullTotalPhys >= ms.ullAvailPhys
                          ? ms.ullTotalPhys - ms.ullAvailPhys
                          : 0;
  uint64_t used = commit > ram_used ? commit - ram_used : 0;
  if (used > total)
    used = total;
  s->total_pages = total / page;
  s->used_pages = used / page;
  return 0;
}

static int wincol_swap(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                       size_t errlen) {
  (void)ctx;
  wincol_swap_t s = {0, 0};
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  uint64_t page = si.dwPageSize > 0 ? si.dwPageSize : 4096;
  /* No page file is a valid configuration: swap is then 0 used, 0 free,
   * as collectd reports on a Linux guest without swap. */
  if (!EnumPageFilesW(wincol_pagefile_cb, &s)) {
    s.total_pages = s.used_pages = 0;
    if (wincol_swap_estimate(&s, page, err, errlen) != 0)
      return -1;
  }
  uint64_t used = s.used_pages * page;
  uint64_t free_b =
      s.total_pages >= s.used_pages ? (s.total_pages - s.used_pages) * page : 0;
  if (wincol_gauge(m, "swap", "", "swap", "used", (double)used, err, errlen) !=
          0 ||
      wincol_gauge(m, "swap", "", "swap", "free", (double)free_b, err,
                   errlen) != 0)
    return -1;
  return 0;
}

/* ---- uptime ---- */

static int wincol_uptime(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                         size_t errlen) {
  (void)ctx;
  return wincol_gauge(m, "uptime", "", "uptime", "",
                      (double)(GetTickCount64() / 1000ULL), err, errlen);
}

/* ---- df ---- */

/* "C:\" -> "C"; a mount folder "D:\mnt\data\" -> "D-mnt-data", the way
 * collectd's df plugin turns "/mnt/data" into "mnt-data". */
static void wincol_volume_name(const wchar_t *root, char *out, size_t outsz) {
  char raw[HVKVP_NAME_LEN];
  int k = WideCharToMultiByte(CP_UTF8, 0, root, -1, raw, (int)sizeof(raw), NULL,
                              NULL);
  if (k <= 0)
    raw[0] = '\0';
  raw[sizeof(raw) - 1] = '\0';
  size_t n = strlen(raw);
  while (n > 0 && (raw[n - 1] == '\\' || raw[n - 1] == '/'))
    raw[--n] = '\0';
  char tmp[HVKVP_NAME_LEN];
  size_t j = 0;
  for (size_t i = 0; i < n && j + 1 < sizeof(tmp); i++) {
    if (raw[i] == ':')
      continue;
    tmp[j++] = (raw[i] == '\\' || raw[i] == '/') ? '-' : raw[i];
  }
  tmp[j] = '\0';
  hvkvp_sanitize(out, outsz, tmp[0] != '\0' ? tmp : "root",
                 HVKVP_NAME_INSTANCE);
}

static int wincol_df(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                     size_t errlen) {
  (void)ctx;
  wchar_t drives[4 * 26 + 2]; /* "A:\<NUL>" per letter, final NUL */
  DWORD n = GetLogicalDriveStringsW((DWORD)(sizeof(drives) / sizeof(drives[0])),
                                    drives);
  if (n == 0 || n >= sizeof(drives) / sizeof(drives[0])) {
    wincol_lasterr(err, errlen, "GetLogicalDriveStringsW", GetLastError());
    return -1;
  }
  int volumes = 0;
  /* Drives that are not ready (empty card reader) or not ours to read are
   * skipped silently, as collectd skips them; a failure on every fixed
   * drive is an error. */
  int failed = 0;
  DWORD last_fail = 0;
  UINT old_mode = SetErrorMode(SEM_FAILCRITICALERRORS);
  for (const wchar_t *d = drives; *d != L'\0' && volumes < WINCOL_MAX_VOLUMES;
       d += wcslen(d) + 1) {
    if (GetDriveTypeW(d) != DRIVE_FIXED)
      continue;
    ULARGE_INTEGER avail, total, tfree;
    if (!GetDiskFreeSpaceExW(d, &avail, &total, &tfree)) {
      failed++;
      last_fail = GetLastError();
      continue;
    }
    char inst[HVKVP_NAME_LEN];
    wincol_volume_name(d, inst, sizeof(inst));
    uint64_t used =
        total.QuadPart >= tfree.QuadPart ? total.QuadPart - tfree.QuadPart : 0;
    uint64_t reserved =
        tfree.QuadPart >= avail.QuadPart ? tfree.QuadPart - avail.QuadPart : 0;
    if (wincol_gauge(m, "df", inst, "df_complex", "used", (double)used, err,
                     errlen) != 0 ||
        wincol_gauge(m, "df", inst, "df_complex", "free",
                     (double)avail.QuadPart, err, errlen) != 0 ||
        wincol_gauge(m, "df", inst, "df_complex", "reserved", (double)reserved,
                     err, errlen) != 0) {
      SetErrorMode(old_mode);
      return -1;
    }
    volumes++;
  }
  SetErrorMode(old_mode);
  if (volumes == 0 && failed > 0) {
    wincol_lasterr(err, errlen, "GetDiskFreeSpaceExW on every fixed drive",
                   last_fail);
    return -1;
  }
  return 0;
}

/* ---- interface ---- */

/* One value list of two data sources of type t. */
static int wincol_pair(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                       const char *type, hvkvp_ds_type_t t, const char *ds0,
                       hvkvp_value_t v0, const char *ds1, hvkvp_value_t v1,
                       char *err, size_t errlen) {
  hvkvp_vl_t *vl = hvkvp_msg_add(m);
  if (vl == NULL)
    return wincol_add_nomem(err, errlen);
  snprintf(vl->plugin, sizeof(vl->plugin), "%s", plugin);
  snprintf(vl->plugin_instance, sizeof(vl->plugin_instance), "%s", pinst);
  snprintf(vl->type, sizeof(vl->type), "%s", type);
  vl->n = 2;
  vl->dstypes[0] = vl->dstypes[1] = t;
  snprintf(vl->dsnames[0], sizeof(vl->dsnames[0]), "%s", ds0);
  snprintf(vl->dsnames[1], sizeof(vl->dsnames[1]), "%s", ds1);
  vl->values[0] = v0;
  vl->values[1] = v1;
  return 0;
}

static int wincol_if2(hvkvp_msg_t *m, const char *inst, const char *type,
                      uint64_t rx, uint64_t tx, char *err, size_t errlen) {
  hvkvp_value_t r = {.derive = (int64_t)rx}, t = {.derive = (int64_t)tx};
  return wincol_pair(m, "interface", inst, type, HVKVP_DS_DERIVE, "rx", r, "tx",
                     t, err, errlen);
}

static int wincol_interface(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                            size_t errlen) {
  MIB_IF_TABLE2 *t = NULL;
  DWORD rc = GetIfTable2(&t);
  if (rc != NO_ERROR) {
    wincol_lasterr(err, errlen, "GetIfTable2", rc);
    return -1;
  }
  int r = 0, reported = 0;
  for (ULONG i = 0; i < t->NumEntries && reported < WINCOL_MAX_IFACES; i++) {
    const MIB_IF_ROW2 *row = &t->Table[i];
    /* NDIS filter and other stacked pseudo-interfaces repeat the counters
     * of the adapter below them. */
    if (row->InterfaceAndOperStatusFlags.FilterInterface)
      continue;
    if (row->Type == IF_TYPE_SOFTWARE_LOOPBACK && !ctx->include_loopback)
      continue;
    char alias[HVKVP_NAME_LEN];
    int k = WideCharToMultiByte(CP_UTF8, 0, row->Alias, -1, alias,
                                (int)sizeof(alias), NULL, NULL);
    if (k <= 1) /* no alias: fall back on the interface index */
      snprintf(alias, sizeof(alias), "if%lu",
               (unsigned long)row->InterfaceIndex);
    alias[sizeof(alias) - 1] = '\0';
    char inst[HVKVP_NAME_LEN];
    hvkvp_sanitize(inst, sizeof(inst), alias, HVKVP_NAME_INSTANCE);
    if (wincol_if2(m, inst, "if_octets", row->InOctets, row->OutOctets, err,
                   errlen) != 0 ||
        wincol_if2(m, inst, "if_packets", row->InUcastPkts + row->InNUcastPkts,
                   row->OutUcastPkts + row->OutNUcastPkts, err, errlen) != 0 ||
        wincol_if2(m, inst, "if_errors", row->InErrors, row->OutErrors, err,
                   errlen) != 0 ||
        wincol_if2(m, inst, "if_dropped", row->InDiscards, row->OutDiscards,
                   err, errlen) != 0) {
      r = -1;
      break;
    }
    reported++;
  }
  FreeMibTable(t);
  return r;
}

/* ---- processes ---- */

static int wincol_processes(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                            size_t errlen) {
  (void)ctx;
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE) {
    wincol_lasterr(err, errlen, "CreateToolhelp32Snapshot", GetLastError());
    return -1;
  }
  PROCESSENTRY32W pe;
  memset(&pe, 0, sizeof(pe));
  pe.dwSize = sizeof(pe);
  uint64_t procs = 0, threads = 0;
  if (Process32FirstW(snap, &pe)) {
    do {
      procs++;
      threads += pe.cntThreads;
    } while (Process32NextW(snap, &pe));
  }
  DWORD e = GetLastError();
  CloseHandle(snap);
  if (procs == 0) {
    wincol_lasterr(err, errlen, "Process32FirstW", e);
    return -1;
  }
  hvkvp_value_t p = {.gauge = (double)procs}, t = {.gauge = (double)threads};
  return wincol_pair(m, "processes", "", "ps_count", HVKVP_DS_GAUGE,
                     "processes", p, "threads", t, err, errlen);
}

static const collector_t wincol_table[] = {
    {"cpu", wincol_cpu},
    {"memory", wincol_memory},
    {"df", wincol_df},
    {"swap", wincol_swap},
    {"uptime", wincol_uptime},
    {"interface", wincol_interface},
    {"processes", wincol_processes},
};

const collector_t *collectors_platform(size_t *n) {
  *n = sizeof(wincol_table) / sizeof(wincol_table[0]);
  return wincol_table;
}
