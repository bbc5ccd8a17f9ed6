/*
 * log.h - the guest log: levels, and one sink at a time (stderr by default,
 * a LogFile, or a function: the system log when the reporter runs as a
 * daemon or service, collectd's log inside write_hvkvp). Shared by
 * hvkvp-reporter and write_hvkvp. Secrets are never passed here.
 */
#ifndef HVKVP_RLOG_H
#define HVKVP_RLOG_H

#include <stddef.h>

typedef enum {
  RLOG_ERROR = 0,
  RLOG_WARNING = 1,
  RLOG_INFO = 2,
  RLOG_DEBUG = 3,
} rlog_level_t;

/* "error", "warning", "info", "debug" -> level; -1 if unknown. */
int rlog_level_parse(const char *s);
void rlog_set_level(int level);
int rlog_get_level(void);
/* Sends lines to path (appended); NULL or "" returns to stderr. 0, or -1
 * with err set (the previous sink stays). */
int rlog_set_file(const char *path, char *err, size_t errlen);
/* Hands every message (unformatted, no time stamp) to fn instead of
 * stderr or the LogFile; NULL goes back to them. */
typedef void (*rlog_sink_fn)(int level, const char *msg);
void rlog_set_sink(rlog_sink_fn fn);
void rlog_close(void);

#if defined(__MINGW32__)
#define RLOG_PRINTF __attribute__((format(gnu_printf, 2, 3)))
#else
#define RLOG_PRINTF __attribute__((format(printf, 2, 3)))
#endif
void rlog(int level, const char *fmt, ...) RLOG_PRINTF;

#define rlog_error(...) rlog(RLOG_ERROR, __VA_ARGS__)
#define rlog_warning(...) rlog(RLOG_WARNING, __VA_ARGS__)
#define rlog_info(...) rlog(RLOG_INFO, __VA_ARGS__)
#define rlog_debug(...) rlog(RLOG_DEBUG, __VA_ARGS__)

#endif
