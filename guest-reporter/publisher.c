/*
 * publisher.c - publishing messages to a store (publisher.h). Portable C11
 * over store.h, os_random.h and protocol/.
 */
#include "publisher.h"
#include "log.h"
#include "os_random.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gen of the head cut by a crash mid-write: its gen= field is still the
 * old or the new gen, so continuing after it is safe. 0 if none. */
static uint64_t publisher_torn_gen(const char *head) {
  const char *g = strstr(head, ";gen=");
  unsigned long long v = g != NULL ? strtoull(g + 5, NULL, 10) : 0;
  return v < UINT64_MAX - 1 ? (uint64_t)v : 0;
}

/* The gen after the head stored under p->prefix, 1 when there is none. */
static uint64_t publisher_stored_next(const publisher_t *p) {
  if (p->store == NULL)
    return 1;
  hvkvp_items_t cur;
  char err[256] = "";
  if (p->store->read_own(p->store, p->prefix, &cur, err, sizeof(err)) != 0) {
    rlog_warning("cannot read own items to continue gen: %s", err);
    return 1;
  }
  char hk[HVKVP_PREFIX_LEN + 8];
  snprintf(hk, sizeof(hk), "%s.head", p->prefix);
  const char *hv = hvkvp_items_get(&cur, hk);
  uint64_t next = 1;
  hvkvp_head_t h;
  hvkvp_err_t he = {0};
  if (hv != NULL && hvkvp_head_parse(hv, &h, &he) == 0 &&
      h.gen < UINT64_MAX - 1) {
    next = h.gen + 1;
  } else if (hv != NULL) {
    next = publisher_torn_gen(hv) + 1;
    rlog_warning("stored head unreadable (%s): continuing at gen %llu",
                 he.detail, (unsigned long long)next);
  }
  hvkvp_items_free(&cur);
  return next;
}

int publisher_init(publisher_t *p, hvkvp_store_t *store, const char *prefix,
                   char *err, size_t errlen) {
  memset(p, 0, sizeof(*p));
  p->store = store;
  p->enc = HVKVP_ENC_DEFAULT;
  snprintf(p->prefix, sizeof(p->prefix), "%s", prefix);
  do {
    if (os_random_u64(&p->epoch, err, errlen) != 0)
      return -1;
  } while (p->epoch == 0);
  p->gen = publisher_stored_next(p);
  return 0;
}

void publisher_set_prefix(publisher_t *p, const char *prefix) {
  if (strcmp(p->prefix, prefix) == 0)
    return;
  snprintf(p->prefix, sizeof(p->prefix), "%s", prefix);
  uint64_t next = publisher_stored_next(p);
  if (next > p->gen)
    p->gen = next;
}

static int publisher_write(publisher_t *p, const hvkvp_msg_t *m,
                           uint32_t *trimmed, char *err, size_t errlen) {
  hvkvp_items_t cur;
  if (p->store->read_own(p->store, p->prefix, &cur, err, errlen) != 0)
    return -1;
  hvkvp_encode_opts_t o = {.prefix = p->prefix,
                           .enc = p->enc,
                           .epoch = p->epoch,
                           .gen = p->gen,
                           .max_chunks = p->max_chunks};
  hvkvp_frame_t f;
  hvkvp_err_t he;
  memset(&he, 0, sizeof(he));
  int rc = -1;
  if (hvkvp_encode(m, &o, &cur, &f, &he) != 0) {
    snprintf(err, errlen, "encode: %s: %s", hvkvp_strerror(he.code), he.detail);
  } else {
    if (trimmed != NULL)
      *trimmed = f.trimmed;
    rc = p->store->publish(p->store, &f, err, errlen);
    hvkvp_frame_free(&f);
  }
  hvkvp_items_free(&cur);
  return rc;
}

int publisher_publish(publisher_t *p, hvkvp_msg_t *m, uint32_t *trimmed,
                      char *err, size_t errlen) {
  if (trimmed != NULL)
    *trimmed = 0;
  if (p->store == NULL) {
    snprintf(err, errlen, "no store to publish to");
    return -1;
  }
  m->seq = p->gen;
  int rc = publisher_write(p, m, trimmed, err, errlen);
  p->gen++;
  return rc;
}
