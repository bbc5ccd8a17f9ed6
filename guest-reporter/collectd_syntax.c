/*
 * collectd_syntax.c - the word splitting of collectd's line syntax
 * (collectd_syntax.h), shared by config.c and putval.c.
 */
#include "collectd_syntax.h"

#include <stdio.h>

static int collectd_word_put(char *out, size_t outsz, size_t *n, char ch,
                             char *err, size_t errlen) {
  if (*n + 1 >= outsz) {
    snprintf(err, errlen, "word longer than %zu bytes", outsz - 1);
    return -1;
  }
  out[(*n)++] = ch;
  return 0;
}

int collectd_word_next(const char **pp, char *out, size_t outsz, char *err,
                       size_t errlen) {
  const char *p = *pp;
  size_t n = 0;
  out[0] = '\0';
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0') {
    *pp = p;
    return 0;
  }
  if (*p == '"') {
    for (p++; *p != '"'; p++) {
      if (*p == '\0') {
        snprintf(err, errlen, "missing closing '\"'");
        return -1;
      }
      if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
        p++;
      if (collectd_word_put(out, outsz, &n, *p, err, errlen) != 0)
        return -1;
    }
    p++;
    if (*p != '\0' && *p != ' ' && *p != '\t') {
      snprintf(err, errlen, "text right after a closing '\"'");
      return -1;
    }
  } else {
    for (; *p != '\0' && *p != ' ' && *p != '\t'; p++)
      if (collectd_word_put(out, outsz, &n, *p, err, errlen) != 0)
        return -1;
  }
  out[n] = '\0';
  *pp = p;
  return 1;
}
