/*
 * collectd_syntax.h - splits a line into words the way collectd's own files do:
 * bare words end at a blank, "quoted" words may hold blanks, \" and \\ inside
 * quotes stand for " and \. Used by the config file reader and the Exec
 * PUTVAL parser (putval.c).
 */
#ifndef HVKVP_COLLECTD_SYNTAX_H
#define HVKVP_COLLECTD_SYNTAX_H

#include <stddef.h>

/* Reads the next word of *pp into out (NUL-terminated) and advances *pp.
 * Returns 1 for a word, 0 at the end of the line (out is ""), -1 with err
 * set for an unterminated quote, text glued to a closing quote, or a word
 * that does not fit in outsz. */
int collectd_word_next(const char **pp, char *out, size_t outsz, char *err,
                       size_t errlen);

#endif
