/*
 * msg.c - the in-memory message model: init/free and appending value lists
 * (bounded by HVKVP_MAX_VALUE_LISTS).
 */
#include "hvkvp_int.h"

#include <stdlib.h>
#include <string.h>

void hvkvp_msg_init(hvkvp_msg_t *m) {
  memset(m, 0, sizeof(*m));
}

void hvkvp_msg_free(hvkvp_msg_t *m) {
  free(m->vls);
  m->vls = NULL;
  m->n_vls = m->cap_vls = 0;
}

hvkvp_vl_t *hvkvp_msg_add(hvkvp_msg_t *m) {
  hvkvp_vl_t *vl;
  if (m->n_vls >= HVKVP_MAX_VALUE_LISTS)
    return NULL;
  if (m->n_vls == m->cap_vls) {
    size_t cap = m->cap_vls ? m->cap_vls * 2 : 16;
    hvkvp_vl_t *v;
    if (cap > HVKVP_MAX_VALUE_LISTS)
      cap = HVKVP_MAX_VALUE_LISTS;
    v = realloc(m->vls, cap * sizeof(*v));
    if (v == NULL)
      return NULL;
    m->vls = v;
    m->cap_vls = cap;
  }
  vl = &m->vls[m->n_vls++];
  memset(vl, 0, sizeof(*vl));
  return vl;
}

/* Copies src into a fixed-size name field; -1 if it does not fit. */
static int copy_name(char *dst, size_t dstsz, const char *src) {
  size_t n;
  if (src == NULL)
    src = "";
  n = hvkvp_strnlen(src, dstsz);
  if (n >= dstsz)
    return -1;
  memcpy(dst, src, n + 1);
  return 0;
}

int hvkvp_msg_add1(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                   const char *type, const char *tinst, hvkvp_ds_type_t t,
                   hvkvp_value_t v) {
  hvkvp_vl_t tmp;
  hvkvp_vl_t *vl;
  memset(&tmp, 0, sizeof(tmp));
  if (copy_name(tmp.plugin, sizeof(tmp.plugin), plugin) != 0 ||
      copy_name(tmp.plugin_instance, sizeof(tmp.plugin_instance), pinst) != 0 ||
      copy_name(tmp.type, sizeof(tmp.type), type) != 0 ||
      copy_name(tmp.type_instance, sizeof(tmp.type_instance), tinst) != 0)
    return -1;
  if ((int)t < HVKVP_DS_GAUGE || (int)t > HVKVP_DS_ABSOLUTE)
    return -1;
  tmp.n = 1;
  tmp.dstypes[0] = t;
  strcpy(tmp.dsnames[0], "value");
  tmp.values[0] = v;
  vl = hvkvp_msg_add(m);
  if (vl == NULL)
    return -1;
  *vl = tmp;
  return 0;
}
