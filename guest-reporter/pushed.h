/*
 * pushed.h - the configuration the host pushes (PREFIX.cfg.* in pool 0 /
 * External), as a guest writer keeps it: read every cycle, validated as a
 * whole by protocol/ (hvkvp_cfg_read) plus the writer's own check of the
 * collector names, the last good set kept when a new one is refused, the
 * refusal reported in the next message's config_error, and every distinct
 * problem logged once. Shared by hvkvp-reporter and write_hvkvp.
 */
#ifndef HVKVP_PUSHED_H
#define HVKVP_PUSHED_H

#include "hvkvp.h"
#include "store.h"

typedef struct {
  hvkvp_cfg_t cfg;             /* in effect (cfg.present = 0: none) */
  char error[HVKVP_TEXT_LEN];  /* config_error for the next message */
  char logged[HVKVP_TEXT_LEN]; /* the problem logged last ("" = none) */
  /* Checks one pushed collector name: 1 known, 0 refused with why set
   * (NULL: every name is accepted). */
  int (*collector_ok)(const char *name, void *arg, char *why, size_t whylen);
  void *arg;
} pushed_t;

void pushed_init(pushed_t *p,
                 int (*collector_ok)(const char *name, void *arg, char *why,
                                     size_t whylen),
                 void *arg);
/* Reads and applies the pushed items of store under prefix. Returns 1 when
 * the configuration in effect changed (applied or removed), else 0. */
int pushed_refresh(pushed_t *p, hvkvp_store_t *store, const char *prefix);
/* The items a refresh would read, validated: 0 with *out, or -1 with err
 * naming the item (what pushed_refresh does, without state). */
int pushed_check(const pushed_t *p, const hvkvp_items_t *items,
                 const char *prefix, hvkvp_cfg_t *out, char *err,
                 size_t errlen);

#endif
