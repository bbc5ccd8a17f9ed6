/*
 * plugin_filter.h - the VM include/exclude filter of the hyperv_kvp collectd
 * plugin (IncludeVM / ExcludeVM). collectd's ignorelist is not exported to
 * plugins, so this is our own: a pattern written "/.../" is a POSIX extended
 * regex, anything else a literal compared whole. A VM is selected when its
 * name or GUID matches an include pattern (or there is none) and neither
 * matches an exclude pattern.
 */
#ifndef HVKVP_PLUGIN_FILTER_H
#define HVKVP_PLUGIN_FILTER_H

#include "error.h"

#include <regex.h>
#include <stddef.h>

#define HVP_FILTER_MAX 64 /* patterns per list */

typedef struct {
  int is_regex;
  regex_t re;
  char *literal; /* the pattern text (also kept for regexes) */
} hvp_pattern_t;

typedef struct {
  size_t n_inc, n_exc;
  hvp_pattern_t inc[HVP_FILTER_MAX];
  hvp_pattern_t exc[HVP_FILTER_MAX];
} hvp_filter_t;

void hvp_filter_init(hvp_filter_t *f);
void hvp_filter_free(hvp_filter_t *f);

/* Adds a pattern to the include (exclude = 0) or exclude list. Returns 0, or
 * -1 with err (WS_ERR_CONFIG) naming the pattern (bad regex, empty, too many).
 */
int hvp_filter_add(hvp_filter_t *f, int exclude, const char *pattern,
                   ws_err_t *err);

/* 1 if the VM (name, guid; either may be NULL) is selected, 0 if not. */
int hvp_filter_match(const hvp_filter_t *f, const char *name, const char *guid);

#endif
