/*
 * exec.h - Exec entries: run a command each interval (with a timeout) and
 * turn its collectd exec-plugin output lines
 *   PUTVAL "host/plugin-instance/type-instance" [interval=N] N:v[:v...]
 * into value lists. Data-source names and types come from a built-in table
 * of common stock types.db types, extended by a TypesDB file.
 */
#ifndef HVKVP_REXEC_H
#define HVKVP_REXEC_H

#include "config.h"
#include "hvkvp.h"

#include <stddef.h>

/* stdout bytes read per command; the rest is discarded. */
#define REXEC_MAX_OUTPUT 65536 /* 64 KiB */

/* Loads a collectd types.db file ("name ds:TYPE:min:max, ..." lines) on top
 * of the built-in table. -1 with "path:line: ..." on error. */
int rexec_types_load(const char *path, char *err, size_t errlen);
/* Forgets the types loaded from files (back to the built-in table). */
void rexec_types_reset(void);

/* Parses one line. Returns 1 if it added value lists to m, 0 for a blank
 * line, -1 with err (the reason) for a bad line, which adds nothing. */
int rexec_parse_line(const char *line, hvkvp_msg_t *m, char *err,
                     size_t errlen);

/* Runs e (timeout in seconds) and adds its values to m. Bad lines are logged
 * with the reason and skipped. Returns the number of value lists added, or
 * -1 with err when the command could not run, timed out or failed (values of
 * the good lines read before are kept). */
int rexec_run(const rcfg_exec_t *e, double timeout, hvkvp_msg_t *m, char *err,
              size_t errlen);

#endif
