/*
 * plugin_generations.h - which generation of which VM the plugin has
 * dispatched, for all its Host blocks at once, per VM and prefix (two
 * writers in one VM, e.g. hvkvp-reporter and write_hvkvp, are two
 * streams): a VM seen by two polled
 * Hyper-V hosts (live migration) is dispatched once per generation, and a
 * generation whose time is not after the last one dispatched for that VM is
 * not dispatched at all (collectd would refuse every value as too old). The
 * read callbacks of several Host blocks run in parallel threads: a mutex
 * guards the table.
 */
#ifndef HVKVP_PLUGIN_GENERATIONS_H
#define HVKVP_PLUGIN_GENERATIONS_H

#include <stdint.h>

typedef enum {
  HVP_GEN_NEW,      /* dispatch it (recorded as the VM's last) */
  HVP_GEN_SEEN,     /* dispatched already, by this or another Host block */
  HVP_GEN_OLD_TIME, /* a new generation whose time is not after the last
                       dispatched one: not dispatched */
  HVP_GEN_NOMEM,
} hvp_gen_verdict_t;

/* The verdict on generation (epoch, gen) of the stream `key` ("GUID/prefix")
 * with time `t` (seconds; last_time receives the stream's last dispatched
 * time), asked by Host block `block`. A stream that two blocks asked about
 * within the last hour (a VM on two polled hosts) is shared: a NEW verdict
 * for it returns with the table locked (*locked set), and the caller
 * dispatches that message at once, then calls hvp_gens_unlock(), so that
 * no block can dispatch a later generation before it (collectd would call
 * the earlier one too old). */
hvp_gen_verdict_t hvp_gens_accept(const char *key, const void *block,
                                  uint64_t epoch, uint64_t gen, double t,
                                  double now, double *last_time, int *locked);
void hvp_gens_unlock(void);
/* Forgets VMs no Host block has asked about since `before`. */
void hvp_gens_sweep(double before);
/* Forgets everything (shutdown, tests). */
void hvp_gens_clear(void);

#endif
