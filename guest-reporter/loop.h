/*
 * loop.h - the reporter's run loop, written once for every platform: one
 * cycle at every multiple of the interval, stop and reload events handled
 * between cycles, an interval pushed by the host taking effect from the
 * next tick. The platform only supplies the wait (plat_wait, platform.h).
 */
#ifndef HVKVP_LOOP_H
#define HVKVP_LOOP_H

#include "reporter.h"

typedef struct {
  /* Re-reads the configuration (SIGHUP). 0: applied to r; -1 with err:
   * refused, the running configuration stays. NULL: reloads are ignored. */
  int (*reload)(reporter_t *r, void *arg, char *err, size_t errlen);
  void *arg;
  unsigned long max_cycles; /* stop after this many cycles; 0: no limit */
} loop_opts_t;

/* Milliseconds from now_ms (wall clock) to the next multiple of
 * interval_ms. Never 0: a tick that is due now is the next one. */
uint64_t loop_ms_to_tick(uint64_t now_ms, uint64_t interval_ms);

/* Runs cycles until a stop event (or max_cycles). 0 when it stopped as
 * asked, -1 with err when the events could not be set up. */
int loop_run(reporter_t *r, const loop_opts_t *o, char *err, size_t errlen);

#endif
