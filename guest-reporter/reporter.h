/*
 * reporter.h - one reporter cycle: apply host-pushed config (pushed.h),
 * collect, run Exec entries, build the message and publish it
 * (publisher.h).
 */
#ifndef HVKVP_REPORTER_H
#define HVKVP_REPORTER_H

#include "collect.h"
#include "config.h"
#include "exec.h"
#include "hvkvp.h"
#include "publisher.h"
#include "pushed.h"
#include "store.h"

#include <stdio.h>

typedef struct {
  rcfg_t cfg;                              /* base config (file + flags) */
  hvkvp_store_t *store;                    /* NULL: dry run without a store */
  const char *root;                        /* collector root ("" live) */
  publisher_t pub;                         /* epoch, gen (= seq) */
  pushed_t pushed;                         /* host-pushed config */
  rexec_state_t exec_state[RCFG_MAX_EXEC]; /* per Exec entry, by index */
  collect_state_t *collect_state;          /* the collectors' last reads */
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
/* The collectors list in effect: pushed, else the file's; "" = all. */
const char *reporter_collectors(const reporter_t *r);
/* Builds this cycle's message into m (init'd by the callee). */
int reporter_build(reporter_t *r, hvkvp_msg_t *m, char *err, size_t errlen);
/* One whole cycle. dry != NULL: print the message JSON there, write
 * nothing. 0, or -1 with err. */
int reporter_cycle(reporter_t *r, FILE *dry, char *err, size_t errlen);
/* The interval in effect (pushed overrides the file), in milliseconds. */
uint64_t reporter_interval_ms(const reporter_t *r);
void reporter_free(reporter_t *r);

#endif
