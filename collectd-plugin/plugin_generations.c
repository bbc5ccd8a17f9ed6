/*
 * plugin_generations.c - the plugin-wide record of dispatched generations
 * (see plugin_generations.h), kept in the per-VM table of plugin_vmstate.c
 * under a mutex.
 */
#include "plugin_generations.h"
#include "plugin_vmstate.h"

#include <pthread.h>

static hvp_vmtab_t hvp_gens;
static pthread_mutex_t hvp_gens_lock = PTHREAD_MUTEX_INITIALIZER;

#define HVP_SHARED_FOR 3600.0 /* seconds a stream stays shared */

/* The verdict for an entry (the table locked). */
static hvp_gen_verdict_t hvp_gens_verdict(hvp_vm_t *e, uint64_t epoch,
                                          uint64_t gen, double t) {
  int known = e->gen.seen;
  if (known && e->gen.epoch == epoch && gen <= e->gen.gen)
    return HVP_GEN_SEEN;
  /* an old time is remembered too, so each such generation is said once */
  hvkvp_gen_accept(&e->gen, epoch, gen);
  if (known && t <= e->gen_time)
    return HVP_GEN_OLD_TIME;
  e->gen_time = t;
  return HVP_GEN_NEW;
}

hvp_gen_verdict_t hvp_gens_accept(const char *key, const void *block,
                                  uint64_t epoch, uint64_t gen, double t,
                                  double now, double *last_time, int *locked) {
  hvp_gen_verdict_t v = HVP_GEN_NOMEM;
  *locked = 0;
  pthread_mutex_lock(&hvp_gens_lock);
  hvp_vm_t *e = hvp_vmtab_get(&hvp_gens, key, 1);
  if (e != NULL) {
    e->seen = now;
    if (e->asker != NULL && e->asker != block)
      e->shared_at = now;
    e->asker = block;
    *last_time = e->gen_time;
    v = hvp_gens_verdict(e, epoch, gen, t);
  }
  if (v == HVP_GEN_NEW && e->shared_at > 0 &&
      now - e->shared_at < HVP_SHARED_FOR) {
    *locked = 1; /* hvp_gens_unlock once dispatched */
    return v;
  }
  pthread_mutex_unlock(&hvp_gens_lock);
  return v;
}

void hvp_gens_unlock(void) {
  pthread_mutex_unlock(&hvp_gens_lock);
}

static int hvp_gens_recent(const hvp_vm_t *e, const void *arg) {
  return e->seen >= *(const double *)arg;
}

void hvp_gens_sweep(double before) {
  pthread_mutex_lock(&hvp_gens_lock);
  hvp_vmtab_sweep(&hvp_gens, hvp_gens_recent, &before);
  pthread_mutex_unlock(&hvp_gens_lock);
}

void hvp_gens_clear(void) {
  pthread_mutex_lock(&hvp_gens_lock);
  hvp_vmtab_free(&hvp_gens);
  pthread_mutex_unlock(&hvp_gens_lock);
}
