/*
 * collect.h - built-in metric collectors. Each platform file
 * (collect_linux.c, collect_windows.c) provides a table of collectors that
 * append collectd-style value lists (stock types.db names) to a message.
 */
#ifndef HVKVP_COLLECT_H
#define HVKVP_COLLECT_H

#include "hvkvp.h"

typedef struct {
  const char *root; /* "" on a live system; a fixture dir in tests (Linux) */
  int include_loopback;
  double interval; /* seconds between reads (rate-like values); 0: 10 */
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
