/*
 * collect.h - built-in metric collectors. Each platform file
 * (collect_linux.c, collect_windows.c) provides a table of collectors that
 * append collectd-style value lists (stock types.db names) to a message,
 * and the state they keep from one read to the next (collect_state_t).
 */
#ifndef HVKVP_COLLECT_H
#define HVKVP_COLLECT_H

#include "hvkvp.h"

/* The cpu collector's choices: collectd's cpu plugin options, with their
 * meaning (collectd.conf(5)). Per-CPU, per-state jiffies (type "cpu",
 * derive) with all three at (1, 1, 0); every other combination sends type
 * "percent" (gauge): the share of the interval's jiffies, from the second
 * read on. */
typedef struct {
  int report_by_cpu;     /* ReportByCpu: one series per CPU, else the sum */
  int report_by_state;   /* ReportByState: per state, else "active" */
  int values_percentage; /* ValuesPercentage: only with both above set */
} collect_cpu_opts_t;

/* What the collectors keep between reads (the previous cpu reading);
 * defined per platform. */
typedef struct collect_state collect_state_t;

/* A new, empty state (the next read is a first read); NULL without memory. */
collect_state_t *collect_state_new(void);
void collect_state_free(collect_state_t *s); /* NULL is fine */

typedef struct {
  const char *root; /* "" on a live system; a fixture dir in tests (Linux) */
  int include_loopback;
  double interval; /* seconds between reads (rate-like values); 0: 10 */
  collect_cpu_opts_t cpu;
  /* Kept from one read to the next; NULL: nothing kept, every read is a
   * first read (no cpu percentages). */
  collect_state_t *state;
} collect_ctx_t;

typedef struct {
  const char *name; /* "cpu", "memory", "df", "interface", ... */
  /* Appends value lists to m; returns 0, or -1 with err set (the reporter
   * logs it and keeps the other collectors' values). */
  int (*read)(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
              size_t errlen);
} collector_t;

/* The platform's collectors, in publication order (most important first:
 * trimming drops value lists from the end). */
const collector_t *collectors_platform(size_t *n);

#endif
