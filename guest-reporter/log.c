/*
 * log.c - the guest log (log.h): formats "time level: message" lines to
 * stderr or a LogFile, or hands the message to a sink function; control
 * characters in a message become '?'. Portable
 * C11; used on Linux and Windows, in the reporter and in write_hvkvp.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int rlog_level = RLOG_INFO;
static FILE *rlog_file; /* NULL: stderr */
static rlog_sink_fn rlog_sink;

static const char *const rlog_names[] = {"error", "warning", "info", "debug"};

int rlog_level_parse(const char *s) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, rlog_names[i]) == 0)
      return i;
  return -1;
}

void rlog_set_level(int level) {
  if (level < RLOG_ERROR)
    level = RLOG_ERROR;
  if (level > RLOG_DEBUG)
    level = RLOG_DEBUG;
  rlog_level = level;
}

int rlog_get_level(void) {
  return rlog_level;
}

int rlog_set_file(const char *path, char *err, size_t errlen) {
  FILE *f = NULL;
  if (path != NULL && path[0] != '\0') {
    f = fopen(path, "a");
    if (f == NULL) {
      snprintf(err, errlen, "LogFile %s: cannot open for appending: %s", path,
               strerror(errno));
      return -1;
    }
  }
  if (rlog_file != NULL)
    fclose(rlog_file);
  rlog_file = f;
  return 0;
}

void rlog_set_sink(rlog_sink_fn fn) {
  rlog_sink = fn;
}

void rlog_close(void) {
  char e[8];
  rlog_set_file(NULL, e, sizeof(e));
  rlog_sink = NULL;
}

void rlog(int level, const char *fmt, ...) {
  if (level > rlog_level)
    return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  /* Messages quote what hosts and scripts wrote: a control character must
   * not start a forged log line. */
  for (char *p = msg; *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  if (rlog_sink != NULL) {
    rlog_sink(level, msg);
    return;
  }
  FILE *out = rlog_file != NULL ? rlog_file : stderr;
  time_t now = time(NULL);
  struct tm tm;
#ifdef _WIN32
  gmtime_s(&tm, &now);
#else
  gmtime_r(&now, &tm);
#endif
  char ts[32];
  strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(out, "%s hvkvp-reporter %s: %s\n", ts,
          rlog_names[level < 0   ? 0
                     : level > 3 ? 3
                                 : level],
          msg);
  fflush(out);
}
