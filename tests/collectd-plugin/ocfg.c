/* ocfg.c - oconfig_item_t tree builder for unit tests (see ocfg.h). */
#include "ocfg.h"

#include <stdlib.h>
#include <string.h>

#define OC_CAP 64

static void oc_init(oconfig_item_t *ci, const char *key) {
  memset(ci, 0, sizeof(*ci));
  ci->key = strdup(key);
  ci->values = calloc(OC_CAP, sizeof(oconfig_value_t));
  ci->children = calloc(OC_CAP, sizeof(oconfig_item_t));
}

oconfig_item_t *oc_new(const char *key) {
  oconfig_item_t *ci = calloc(1, sizeof(*ci));
  oc_init(ci, key);
  return ci;
}

oconfig_item_t *oc_add(oconfig_item_t *parent, const char *key) {
  if (parent->children_num >= OC_CAP)
    abort();
  oconfig_item_t *c = &parent->children[parent->children_num++];
  oc_init(c, key);
  c->parent = parent;
  return c;
}

static oconfig_value_t *oc_val(oconfig_item_t *ci) {
  if (ci->values_num >= OC_CAP)
    abort();
  return &ci->values[ci->values_num++];
}

oconfig_item_t *oc_str(oconfig_item_t *ci, const char *s) {
  oconfig_value_t *v = oc_val(ci);
  v->type = OCONFIG_TYPE_STRING;
  v->value.string = strdup(s);
  return ci;
}

oconfig_item_t *oc_num(oconfig_item_t *ci, double d) {
  oconfig_value_t *v = oc_val(ci);
  v->type = OCONFIG_TYPE_NUMBER;
  v->value.number = d;
  return ci;
}

oconfig_item_t *oc_bool(oconfig_item_t *ci, int b) {
  oconfig_value_t *v = oc_val(ci);
  v->type = OCONFIG_TYPE_BOOLEAN;
  v->value.boolean = b;
  return ci;
}

oconfig_item_t *oc_opt_s(oconfig_item_t *p, const char *key, const char *s) {
  return oc_str(oc_add(p, key), s);
}
oconfig_item_t *oc_opt_n(oconfig_item_t *p, const char *key, double d) {
  return oc_num(oc_add(p, key), d);
}
oconfig_item_t *oc_opt_b(oconfig_item_t *p, const char *key, int b) {
  return oc_bool(oc_add(p, key), b);
}

static void oc_clear(oconfig_item_t *ci) {
  for (int i = 0; i < ci->values_num; i++)
    if (ci->values[i].type == OCONFIG_TYPE_STRING)
      free(ci->values[i].value.string);
  for (int i = 0; i < ci->children_num; i++)
    oc_clear(&ci->children[i]);
  free(ci->values);
  free(ci->children);
  free(ci->key);
}

void oc_free(oconfig_item_t *ci) {
  if (ci == NULL)
    return;
  oc_clear(ci);
  free(ci);
}
