/*
 * message_batch.h - the value lists a writer gathers for its next message
 * (write_hvkvp): at most one per identifier (a newer one replaces the
 * older), kept in identifier order (plugin, plugin instance, type, type
 * instance), so that what a capped message keeps is chosen the same way
 * every time. Portable C11, independent of collectd.
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
/* Appends the first max value lists (identifier order) to m, sets
 * m->trimmed to the number left out here and at mbatch_put, and empties
 * the batch for the next message. 0, or -1 when m cannot take them. */
int mbatch_take(mbatch_t *b, hvkvp_msg_t *m, size_t max);

#endif
