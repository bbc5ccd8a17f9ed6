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
