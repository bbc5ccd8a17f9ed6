/*
 * publisher.h - the writer half of the protocol over a store, shared by
 * hvkvp-reporter and write_hvkvp: a random epoch per start, gen (and seq)
 * continuing after the head found in the store so they never go backwards
 * across restarts, and one message encoded (protocol/) and published per
 * call with the store's crash-safe write order.
 */
#ifndef HVKVP_PUBLISHER_H
#define HVKVP_PUBLISHER_H

#include "hvkvp.h"
#include "store.h"

typedef struct {
  hvkvp_store_t *store; /* NULL: nothing to publish to (dry runs) */
  char prefix[HVKVP_PREFIX_LEN];
  hvkvp_enc_t enc;   /* HVKVP_ENC_DEFAULT unless set */
  size_t max_chunks; /* 0: HVKVP_MAX_CHUNKS */
  uint64_t epoch;
  uint64_t gen; /* of the next message; its seq is the same number */
} publisher_t;

/* Chooses the epoch and reads the store's head for gen. store may be NULL.
 * 0, or -1 with err when no random epoch could be had. */
int publisher_init(publisher_t *p, hvkvp_store_t *store, const char *prefix,
                   char *err, size_t errlen);
/* Another prefix: gen continues after that prefix's head, never lower. */
void publisher_set_prefix(publisher_t *p, const char *prefix);
/* Sets m->seq, encodes m and publishes it; *trimmed (may be NULL) gets the
 * value lists dropped to fit max_chunks. gen moves on even after a failure
 * (a gen is never reused). 0, or -1 with err. */
int publisher_publish(publisher_t *p, hvkvp_msg_t *m, uint32_t *trimmed,
                      char *err, size_t errlen);

#endif
