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

hvp_gen_verdict_t hvp_gens_accept(const char *key, uint64_t epoch, uint64_t gen,
                                  double t, double now, double *last_time) {
  hvp_gen_verdict_t v;
  pthread_mutex_lock(&hvp_gens_lock);
  hvp_vm_t *e = hvp_vmtab_get(&hvp_gens, key, 1);
  if (e == NULL) {
    v = HVP_GEN_NOMEM;
  } else {
    int known = e->gen.seen;
    e->seen = now;
    *last_time = e->gen_time;
    if (known && e->gen.epoch == epoch && gen <= e->gen.gen) {
      v = HVP_GEN_SEEN;
    } else if (known && t <= e->gen_time) {
      /* remembered, so each such generation is reported once */
      hvkvp_gen_accept(&e->gen, epoch, gen);
      v = HVP_GEN_OLD_TIME;
    } else {
      hvkvp_gen_accept(&e->gen, epoch, gen);
      e->gen_time = t;
      v = HVP_GEN_NEW;
    }
  }
  pthread_mutex_unlock(&hvp_gens_lock);
  return v;
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
