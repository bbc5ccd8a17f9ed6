/*
 * items.c - a small owned set of KVP items (key -> value), the form in which
 * both ends hand chunks to and from their stores.
 */
#include "hvkvp_int.h"

#include <stdlib.h>
#include <string.h>

void hvkvp_items_init(hvkvp_items_t *it) {
  it->n = it->cap = 0;
  it->v = NULL;
}

void hvkvp_items_free(hvkvp_items_t *it) {
  size_t i;
  for (i = 0; i < it->n; i++) {
    free(it->v[i].key);
    free(it->v[i].value);
  }
  free(it->v);
  hvkvp_items_init(it);
}

static char *dup_str(const char *s) {
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d != NULL)
    memcpy(d, s, n + 1);
  return d;
}

static long find(const hvkvp_items_t *it, const char *key) {
  size_t i;
  for (i = 0; i < it->n; i++)
    if (strcmp(it->v[i].key, key) == 0)
      return (long)i;
  return -1;
}

int hvkvp_items_set(hvkvp_items_t *it, const char *key, const char *value) {
  long i;
  char *v;
  if (it == NULL || key == NULL || value == NULL)
    return -1;
  v = dup_str(value);
  if (v == NULL)
    return -1;
  i = find(it, key);
  if (i >= 0) {
    free(it->v[i].value);
    it->v[i].value = v;
    return 0;
  }
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 16;
    hvkvp_item_t *nv = realloc(it->v, cap * sizeof(*nv));
    if (nv == NULL) {
      free(v);
      return -1;
    }
    it->v = nv;
    it->cap = cap;
  }
  it->v[it->n].key = dup_str(key);
  if (it->v[it->n].key == NULL) {
    free(v);
    return -1;
  }
  it->v[it->n].value = v;
  it->n++;
  return 0;
}

int hvkvp_items_add(hvkvp_items_t *it, const char *key, size_t klen,
                    const char *value, size_t vlen) {
  char *k, *v;
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 16;
    hvkvp_item_t *nv = realloc(it->v, cap * sizeof(*nv));
    if (nv == NULL)
      return -1;
    it->v = nv;
    it->cap = cap;
  }
  k = malloc(klen + 1);
  v = malloc(vlen + 1);
  if (k == NULL || v == NULL) {
    free(k);
    free(v);
    return -1;
  }
  memcpy(k, key, klen);
  k[klen] = '\0';
  memcpy(v, value, vlen);
  v[vlen] = '\0';
  it->v[it->n].key = k;
  it->v[it->n].value = v;
  it->n++;
  return 0;
}

typedef struct {
  const char *key;
  size_t idx;
} key_ref_t;

static int cmp_ref(const void *a, const void *b) {
  const key_ref_t *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c != 0 ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

int hvkvp_items_dedupe(hvkvp_items_t *it) {
  key_ref_t *ref;
  size_t i, o;
  int dups = 0;
  if (it->n < 2)
    return 0;
  ref = malloc(it->n * sizeof(*ref));
  if (ref == NULL)
    return -1;
  for (i = 0; i < it->n; i++) {
    ref[i].key = it->v[i].key;
    ref[i].idx = i;
  }
  qsort(ref, it->n, sizeof(*ref), cmp_ref);
  for (i = 1; i < it->n; i++) {
    hvkvp_item_t *first = &it->v[ref[i - 1].idx], *cur = &it->v[ref[i].idx];
    if (strcmp(ref[i - 1].key, ref[i].key) != 0)
      continue;
    free(first->value); /* the later value wins, at the first's place */
    first->value = cur->value;
    free(cur->key);
    cur->key = NULL;
    cur->value = NULL;
    ref[i].idx = ref[i - 1].idx;
    ref[i].key = ref[i - 1].key;
    dups = 1;
  }
  free(ref);
  if (dups) {
    for (i = o = 0; i < it->n; i++)
      if (it->v[i].key != NULL)
        it->v[o++] = it->v[i];
    it->n = o;
  }
  return 0;
}

const char *hvkvp_items_get(const hvkvp_items_t *it, const char *key) {
  long i;
  if (it == NULL || key == NULL)
    return NULL;
  i = find(it, key);
  return i >= 0 ? it->v[i].value : NULL;
}

int hvkvp_items_del(hvkvp_items_t *it, const char *key) {
  long i;
  if (it == NULL || key == NULL)
    return 0;
  i = find(it, key);
  if (i < 0)
    return 0;
  free(it->v[i].key);
  free(it->v[i].value);
  memmove(&it->v[i], &it->v[i + 1], (it->n - (size_t)i - 1) * sizeof(*it->v));
  it->n--;
  return 1;
}
