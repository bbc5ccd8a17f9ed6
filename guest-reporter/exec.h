/*
 * exec.h - Exec entries: run a command each interval (with a timeout) and
 * add the value lists of its PUTVAL output lines (putval.h) to the message.
 */
#ifndef HVKVP_REXEC_H
#define HVKVP_REXEC_H

#include "config.h"
#include "hvkvp.h"

#include <stddef.h>
#include <stdint.h>

/* stdout bytes kept per run; the rest is read and discarded. */
#define REXEC_MAX_OUTPUT 65536 /* 64 KiB */
/* stderr bytes kept per run for the log; the rest is read and discarded. */
#define REXEC_MAX_STDERR 4096
/* stderr lines logged at most per run, and per window per Exec entry. */
#define REXEC_STDERR_RUN 3
#define REXEC_STDERR_WINDOW 10
#define REXEC_STDERR_WINDOW_MS 600000 /* 10 minutes */

/* Per Exec entry, kept across runs: its stderr log budget. Zeroed = new. */
typedef struct {
  uint64_t window_ms; /* start of the current window (monotonic ms) */
  unsigned lines;     /* stderr lines logged in this window */
  unsigned long held; /* stderr lines not logged since the last notice */
} rexec_state_t;

/* Runs e (timeout in seconds) and adds its values to m. Bad output lines
 * are skipped and counted in one warning per run (with the first reason);
 * stderr goes to the log within st's budget (st NULL: stderr is read and
 * dropped). Returns the number of value lists added, or -1 with err when
 * the command could not run, timed out or failed (the values of the good
 * lines read before are kept). */
int rexec_run(const rcfg_exec_t *e, double timeout, rexec_state_t *st,
              hvkvp_msg_t *m, char *err, size_t errlen);

#endif
