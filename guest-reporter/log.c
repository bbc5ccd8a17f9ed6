/*
 * log.c - the reporter's log sink: formats "time level: message" lines to
 * stderr or a LogFile, or hands the message to the system log
 * (platform.h). Portable C11; used on Linux and Windows.
 */
#include "log.h"
#include "platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int rlog_level = RLOG_INFO;
static FILE *rlog_file; /* NULL: stderr */
static int rlog_syslog;

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

void rlog_use_syslog(int on) {
  if (on && !rlog_syslog)
    plat_syslog_open("hvkvp-reporter");
  else if (!on && rlog_syslog)
    plat_syslog_close();
  rlog_syslog = on;
}

void rlog_close(void) {
  char e[8];
  rlog_set_file(NULL, e, sizeof(e));
  rlog_use_syslog(0);
}

void rlog(int level, const char *fmt, ...) {
  if (level > rlog_level)
    return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (rlog_syslog) {
    plat_syslog_write(level, msg);
    return;
  }
  FILE *out = rlog_file != NULL ? rlog_file : stderr;
  time_t now = (time_t)plat_wall_time();
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
