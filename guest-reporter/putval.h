/*
 * putval.h - collectd's exec-plugin output lines
 *   PUTVAL "host/plugin-instance/type-instance" [interval=N] N:v[:v...]
 * parsed into value lists (types from types_db.h).
 */
#ifndef HVKVP_PUTVAL_H
#define HVKVP_PUTVAL_H

#include "hvkvp.h"

#include <stddef.h>

/* Parses one line. Returns 1 if it added value lists to m, 0 for a blank
 * line, -1 with err (the reason) for a bad line, which adds nothing. */
int putval_parse_line(const char *line, hvkvp_msg_t *m, char *err,
                      size_t errlen);

#endif
