/*
 * plugin_filter.c - IncludeVM / ExcludeVM patterns (see plugin_filter.h):
 * "/regex/" (POSIX extended, unanchored unless the regex anchors itself) or a
 * literal compared case-sensitively with the VM's name and, case-insensitively,
 * with its GUID.
 */
#include "plugin_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void hvp_filter_init(hvp_filter_t *f) {
  memset(f, 0, sizeof(*f));
}

static void hvp_pattern_free(hvp_pattern_t *p) {
  if (p->is_regex)
    regfree(&p->re);
  free(p->literal);
  memset(p, 0, sizeof(*p));
}

void hvp_filter_free(hvp_filter_t *f) {
  for (size_t i = 0; i < f->n_inc; i++)
    hvp_pattern_free(&f->inc[i]);
  for (size_t i = 0; i < f->n_exc; i++)
    hvp_pattern_free(&f->exc[i]);
  f->n_inc = f->n_exc = 0;
}

int hvp_filter_add(hvp_filter_t *f, int exclude, const char *pattern,
                   ws_err_t *err) {
  const char *what = exclude ? "ExcludeVM" : "IncludeVM";
  size_t *n = exclude ? &f->n_exc : &f->n_inc;
  hvp_pattern_t *list = exclude ? f->exc : f->inc;

  if (pattern == NULL || pattern[0] == '\0') {
    ws_err_set(err, WS_ERR_CONFIG, "%s: empty pattern", what);
    return -1;
  }
  if (*n >= HVP_FILTER_MAX) {
    ws_err_set(err, WS_ERR_CONFIG, "%s \"%s\": more than %d patterns", what,
               pattern, HVP_FILTER_MAX);
    return -1;
  }
  hvp_pattern_t *p = &list[*n];
  memset(p, 0, sizeof(*p));
  size_t len = strlen(pattern);
  if (len >= 2 && pattern[0] == '/' && pattern[len - 1] == '/') {
    char *body = strndup(pattern + 1, len - 2);
    if (body == NULL) {
      ws_err_set(err, WS_ERR_CONFIG, "%s \"%s\": out of memory", what, pattern);
      return -1;
    }
    int rc = regcomp(&p->re, body, REG_EXTENDED | REG_NOSUB);
    free(body);
    if (rc != 0) {
      char msg[128];
      regerror(rc, &p->re, msg, sizeof(msg));
      ws_err_set(err, WS_ERR_CONFIG,
                 "%s \"%s\": invalid regular expression: %s", what, pattern,
                 msg);
      return -1;
    }
    p->is_regex = 1;
  }
  p->literal = strdup(pattern);
  if (p->literal == NULL) {
    if (p->is_regex)
      regfree(&p->re);
    p->is_regex = 0;
    ws_err_set(err, WS_ERR_CONFIG, "%s \"%s\": out of memory", what, pattern);
    return -1;
  }
  (*n)++;
  return 0;
}

static int hvp_pattern_match(const hvp_pattern_t *p, const char *name,
                             const char *guid) {
  if (p->is_regex) {
    if (name != NULL && regexec(&p->re, name, 0, NULL, 0) == 0)
      return 1;
    if (guid != NULL && regexec(&p->re, guid, 0, NULL, 0) == 0)
      return 1;
    return 0;
  }
  if (name != NULL && strcmp(p->literal, name) == 0)
    return 1;
  if (guid != NULL && strcasecmp(p->literal, guid) == 0)
    return 1;
  return 0;
}

int hvp_filter_match(const hvp_filter_t *f, const char *name,
                     const char *guid) {
  if (f->n_inc > 0) {
    int hit = 0;
    for (size_t i = 0; i < f->n_inc && !hit; i++)
      hit = hvp_pattern_match(&f->inc[i], name, guid);
    if (!hit)
      return 0;
  }
  for (size_t i = 0; i < f->n_exc; i++)
    if (hvp_pattern_match(&f->exc[i], name, guid))
      return 0;
  return 1;
}
