/*
 * message_batch.c - the value lists of the next message (message_batch.h).
 */
#include "message_batch.h"

#include <stdlib.h>
#include <string.h>

void mbatch_init(mbatch_t *b) {
  memset(b, 0, sizeof(*b));
}

void mbatch_free(mbatch_t *b) {
  free(b->v);
  mbatch_init(b);
}

static int mbatch_cmp(const hvkvp_vl_t *a, const hvkvp_vl_t *b) {
  int c = strcmp(a->plugin, b->plugin);
  if (c == 0)
    c = strcmp(a->plugin_instance, b->plugin_instance);
  if (c == 0)
    c = strcmp(a->type, b->type);
  if (c == 0)
    c = strcmp(a->type_instance, b->type_instance);
  return c;
}

/* Index of vl's identifier, or where it belongs (*found = 0). */
static size_t mbatch_find(const mbatch_t *b, const hvkvp_vl_t *vl, int *found) {
  size_t lo = 0, hi = b->n;
  *found = 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = mbatch_cmp(&b->v[mid], vl);
    if (c == 0) {
      *found = 1;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int mbatch_grow(mbatch_t *b) {
  if (b->n < b->cap)
    return 0;
  size_t ncap = b->cap + 64; /* grows once to the steady size, no slack */
  if (ncap > HVKVP_MAX_VALUE_LISTS)
    ncap = HVKVP_MAX_VALUE_LISTS;
  hvkvp_vl_t *v = ncap > b->cap ? realloc(b->v, ncap * sizeof(*v)) : NULL;
  if (v == NULL)
    return -1;
  b->v = v;
  b->cap = ncap;
  return 0;
}

int mbatch_put(mbatch_t *b, const hvkvp_vl_t *vl, double time) {
  int found;
  size_t i = mbatch_find(b, vl, &found);
  if (found) {
    b->v[i] = *vl;
    b->replaced++;
  } else if (mbatch_grow(b) != 0) {
    b->overflowed++;
    return -1;
  } else {
    memmove(&b->v[i + 1], &b->v[i], (b->n - i) * sizeof(b->v[0]));
    b->v[i] = *vl;
    b->n++;
  }
  if (time > b->newest)
    b->newest = time;
  return found;
}

void mbatch_lend(mbatch_t *b, hvkvp_msg_t *m, size_t max) {
  size_t keep = b->n < max ? b->n : max;
  m->vls = b->v;
  m->n_vls = keep;
  m->cap_vls = keep;
  m->trimmed = (uint32_t)(b->n - keep + b->overflowed);
}

void mbatch_return(mbatch_t *b, hvkvp_msg_t *m) {
  if (m->vls == b->v) {
    m->vls = NULL;
    m->n_vls = m->cap_vls = 0;
  }
  b->n = 0;
  b->newest = 0;
  b->replaced = 0;
  b->overflowed = 0;
}
