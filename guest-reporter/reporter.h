/*
 * reporter.h - one reporter cycle: apply host-pushed config, collect,
 * run Exec entries, build the message, encode it (protocol/) and publish it
 * to the store, plus the epoch/gen/seq bookkeeping that survives restarts.
 */
#ifndef HVKVP_REPORTER_H
#define HVKVP_REPORTER_H

#include "collect.h"
#include "config.h"
#include "hvkvp.h"
#include "store.h"

#include <stdio.h>

typedef struct {
  rcfg_t cfg;           /* base config (file + flags) */
  hvkvp_store_t *store; /* NULL: dry run without a store */
  const char *root;     /* collector root ("" live) */
  uint64_t epoch, gen, seq;
  int gen_loaded;
  /* host-pushed config */
  hvkvp_cfg_t pushed; /* last good pushed config (present=0: none) */
  char config_error[HVKVP_TEXT_LEN];
  char last_bad[HVKVP_TEXT_LEN]; /* to log a refused config once */
  char hostname[HVKVP_HOST_LEN];
  unsigned cycles; /* completed */
} reporter_t;

/* store may be NULL only for dry runs. The store stays owned by the caller.
 * Chooses the random epoch. */
int reporter_init(reporter_t *r, const rcfg_t *cfg, hvkvp_store_t *store,
                  char *err, size_t errlen);
/* Replaces the base config (SIGHUP); pushed config stays. */
int reporter_reconfigure(reporter_t *r, const rcfg_t *cfg, char *err,
                         size_t errlen);
/* Reads PREFIX.cfg.* from the store and applies or refuses them. */
void reporter_apply_pushed(reporter_t *r);
/* Builds this cycle's message into m (init'd by the callee). */
int reporter_build(reporter_t *r, hvkvp_msg_t *m, char *err, size_t errlen);
/* One whole cycle. dry != NULL: print the message JSON there, write
 * nothing. 0, or -1 with err. */
int reporter_cycle(reporter_t *r, FILE *dry, char *err, size_t errlen);
/* The interval in effect (pushed overrides the file), in milliseconds. */
uint64_t reporter_interval_ms(const reporter_t *r);
void reporter_free(reporter_t *r);

#endif
