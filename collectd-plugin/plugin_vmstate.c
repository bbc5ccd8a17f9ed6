/*
 * plugin_vmstate.c - the per-VM state hash table (see plugin_vmstate.h):
 * separate chaining, FNV-1a over the lower-cased key, doubling when the
 * load passes 1.
 */
#include "plugin_vmstate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* FNV-1a over the lower-cased key. */
static uint64_t hvp_vm_hash(const char *key) {
  char low[128];
  size_t n = 0;
  for (; n < sizeof(low) && key[n] != '\0'; n++)
    low[n] = (char)tolower((unsigned char)key[n]);
  return hvkvp_fnv1a64(HVKVP_FNV1A64_INIT, low, n);
}

void hvp_vmtab_init(hvp_vmtab_t *t) {
  memset(t, 0, sizeof(*t));
}

void hvp_vmtab_free(hvp_vmtab_t *t) {
  for (size_t i = 0; i < t->nb; i++) {
    hvp_vm_t *e = t->b[i];
    while (e != NULL) {
      hvp_vm_t *next = e->next;
      free(e);
      e = next;
    }
  }
  free(t->b);
  memset(t, 0, sizeof(*t));
}

static int hvp_vmtab_grow(hvp_vmtab_t *t) {
  size_t nb = t->nb ? t->nb * 2 : 64;
  hvp_vm_t **b = calloc(nb, sizeof(hvp_vm_t *)); /* bucket heads */
  if (b == NULL)
    return -1;
  for (size_t i = 0; i < t->nb; i++) {
    hvp_vm_t *e = t->b[i];
    while (e != NULL) {
      hvp_vm_t *next = e->next;
      size_t k = (size_t)(hvp_vm_hash(e->key) % nb);
      e->next = b[k];
      b[k] = e;
      e = next;
    }
  }
  free(t->b);
  t->b = b;
  t->nb = nb;
  return 0;
}

hvp_vm_t *hvp_vmtab_get(hvp_vmtab_t *t, const char *key, int create) {
  if (key == NULL || key[0] == '\0')
    return NULL;
  if (t->nb > 0) {
    size_t k = (size_t)(hvp_vm_hash(key) % t->nb);
    for (hvp_vm_t *e = t->b[k]; e != NULL; e = e->next)
      if (strcasecmp(e->key, key) == 0)
        return e;
  }
  if (!create)
    return NULL;
  if (t->n >= t->nb && hvp_vmtab_grow(t) != 0)
    return NULL;
  hvp_vm_t *e = calloc(1, sizeof(*e));
  if (e == NULL)
    return NULL;
  snprintf(e->key, sizeof(e->key), "%s", key);
  C_COMPLAIN_INIT(&e->torn_c);
  C_COMPLAIN_INIT(&e->invalid_c);
  C_COMPLAIN_INIT(&e->stale_c);
  C_COMPLAIN_INIT(&e->push_c);
  C_COMPLAIN_INIT(&e->items_c);
  C_COMPLAIN_INIT(&e->unreadable_c);
  C_COMPLAIN_INIT(&e->types_c);
  C_COMPLAIN_INIT(&e->dup_c);
  C_COMPLAIN_INIT(&e->old_c);
  size_t k = (size_t)(hvp_vm_hash(e->key) % t->nb);
  e->next = t->b[k];
  t->b[k] = e;
  t->n++;
  return e;
}

size_t hvp_vmtab_sweep(hvp_vmtab_t *t,
                       int (*keep)(const hvp_vm_t *e, const void *arg),
                       const void *arg) {
  size_t freed = 0;
  for (size_t i = 0; i < t->nb; i++) {
    hvp_vm_t **pp = &t->b[i];
    while (*pp != NULL) {
      hvp_vm_t *e = *pp;
      if (!keep(e, arg)) {
        *pp = e->next;
        free(e);
        freed++;
        t->n--;
      } else {
        pp = &e->next;
      }
    }
  }
  return freed;
}
