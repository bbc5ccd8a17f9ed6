/*
 * message_batch.h - the value lists a writer gathers for its next message
 * (write_hvkvp): at most one per identifier (a newer one replaces the
 * older), kept in identifier order (plugin, plugin instance, type, type
 * instance), so that what a capped message keeps is chosen the same way
 * every time. Its memory is kept from one message to the next. Portable
 * C11, independent of collectd.
 */
#ifndef HVKVP_MESSAGE_BATCH_H
#define HVKVP_MESSAGE_BATCH_H

#include "hvkvp.h"

#include <stddef.h>

typedef struct {
  hvkvp_vl_t *v; /* sorted by identifier */
  size_t n, cap;
  double newest;     /* latest time of a value list put, 0: none */
  size_t replaced;   /* value lists replaced by a newer one */
  size_t overflowed; /* value lists refused at HVKVP_MAX_VALUE_LISTS */
} mbatch_t;

void mbatch_init(mbatch_t *b);
void mbatch_free(mbatch_t *b);
/* Adds vl (time in unix seconds). 0 added, 1 replaced the older one of
 * the same identifier, -1 refused (the batch is full, or no memory). */
int mbatch_put(mbatch_t *b, const hvkvp_vl_t *vl, double time);
/* Lends the first max value lists (identifier order) to m without a copy
 * (m->vls points into the batch) and sets m->trimmed to the number left
 * out here and at mbatch_put. m must be given back with mbatch_return
 * before it is freed, and the batch not changed meanwhile. */
void mbatch_lend(mbatch_t *b, hvkvp_msg_t *m, size_t max);
/* Takes the value lists back from m and empties the batch for the next
 * message, keeping its memory (a steady round allocates nothing). */
void mbatch_return(mbatch_t *b, hvkvp_msg_t *m);

#endif
