/*
 * exec.h - Exec entries: run a command each interval (with a timeout) and
 * add the value lists of its PUTVAL output lines (putval.h) to the message.
 */
#ifndef HVKVP_REXEC_H
#define HVKVP_REXEC_H

#include "config.h"
#include "hvkvp.h"

#include <stddef.h>

/* stdout bytes read per command; the rest is discarded. */
#define REXEC_MAX_OUTPUT 65536 /* 64 KiB */

/* Runs e (timeout in seconds) and adds its values to m. Bad lines are logged
 * with the reason and skipped. Returns the number of value lists added, or
 * -1 with err when the command could not run, timed out or failed (values of
 * the good lines read before are kept). */
int rexec_run(const rcfg_exec_t *e, double timeout, hvkvp_msg_t *m, char *err,
              size_t errlen);

#endif
