/*
 * generation.c - reader-side generation tracking (PROTOCOL.md section 6):
 * dispatch each (epoch, gen) once, never go backwards within an epoch, and
 * accept a new epoch (a restarted reporter) at once.
 */
#include "hvkvp.h"

int hvkvp_gen_is_new(const hvkvp_gen_t *t, uint64_t epoch, uint64_t gen) {
  return !t->seen || t->epoch != epoch || gen > t->gen;
}

int hvkvp_gen_accept(hvkvp_gen_t *t, uint64_t epoch, uint64_t gen) {
  if (!hvkvp_gen_is_new(t, epoch, gen))
    return 0;
  t->seen = 1;
  t->epoch = epoch;
  t->gen = gen;
  return 1;
}
