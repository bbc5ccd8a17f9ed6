/*
 * plugin_dispatch.c - decoded message -> collectd value lists (see
 * plugin_dispatch.h). Everything in a message came from a guest and is
 * hostile: names are sanitised before use, types must exist in collectd's
 * types.db with the same number of data sources, and values are converted
 * to the DS types collectd expects.
 */
#include "plugin_dispatch.h"

#include "collectd/core/utils/common/common.h"
#include "collectd/core/utils/metadata/meta_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HVP_PLUGIN_NAME "hyperv_kvp"

void hvp_format_host(char *dst, size_t sz, const hvp_hn_field_t *hn,
                     size_t n_hn, const char *name, const char *guid,
                     const char *guest_host) {
  char joined[HVKVP_HOST_LEN * 3 + 4];
  size_t off = 0;
  joined[0] = '\0';
  for (size_t i = 0; i < n_hn; i++) {
    const char *f = hn[i] == HVP_HN_NAME   ? name
                    : hn[i] == HVP_HN_UUID ? guid
                                           : guest_host;
    if (f == NULL || f[0] == '\0')
      continue;
    int n = snprintf(joined + off, sizeof(joined) - off, "%s%.255s",
                     off ? "_" : "", f);
    if (n < 0 || (size_t)n >= sizeof(joined) - off)
      break;
    off += (size_t)n;
  }
  if (off == 0)
    snprintf(joined, sizeof(joined), "%s", guid ? guid : "");
  hvkvp_sanitize(dst, sz, joined, HVKVP_NAME_HOST);
}

void hvp_idset_free(hvp_idset_t *s) {
  free(s->slot);
  s->slot = NULL;
  s->cap = 0;
}

/* Readies the set for n identifiers: a power-of-two table at most half
 * full, cleared. -1 without memory. */
static int hvp_idset_reset(hvp_idset_t *s, size_t n) {
  size_t cap = 64;
  while (cap < 2 * n)
    cap *= 2;
  if (cap > s->cap) {
    uint64_t *t = realloc(s->slot, cap * sizeof(*t));
    if (t == NULL)
      return -1;
    s->slot = t;
    s->cap = cap;
  }
  memset(s->slot, 0, s->cap * sizeof(*s->slot));
  return 0;
}

/* 1 if the identifier of vl was already added (0 is never a key: a hash
 * of 0 becomes 1). */
static int hvp_idset_seen(hvp_idset_t *s, const value_list_t *vl) {
  const char *f[4] = {vl->plugin, vl->plugin_instance, vl->type,
                      vl->type_instance};
  uint64_t h = HVKVP_FNV1A64_INIT;
  for (int i = 0; i < 4; i++)
    h = hvkvp_fnv1a64(h, f[i], strlen(f[i]) + 1);
  h = h ? h : 1;
  size_t k = (size_t)h & (s->cap - 1);
  for (; s->slot[k] != 0; k = (k + 1) & (s->cap - 1))
    if (s->slot[k] == h)
      return 1;
  s->slot[k] = h;
  return 0;
}

static void hvp_convert(const hvkvp_vl_t *in, size_t i, int ds_type,
                        value_t *out) {
  hvkvp_ds_type_t t = in->dstypes[i];
  hvkvp_value_t v = in->values[i];
  double d;
  switch (t) {
  case HVKVP_DS_GAUGE:
    d = v.gauge;
    break;
  case HVKVP_DS_DERIVE:
    d = (double)v.derive;
    break;
  case HVKVP_DS_COUNTER:
    d = (double)v.counter;
    break;
  default:
    d = (double)v.absolute;
    break;
  }
  switch (ds_type) {
  case DS_TYPE_GAUGE:
    out->gauge = (t == HVKVP_DS_GAUGE) ? v.gauge : d;
    break;
  case DS_TYPE_DERIVE:
    if (t == HVKVP_DS_DERIVE)
      out->derive = v.derive;
    else if (t == HVKVP_DS_GAUGE)
      out->derive = isfinite(d) && fabs(d) < 9.2e18 ? (derive_t)d : 0;
    else
      out->derive = (derive_t)v.counter;
    break;
  case DS_TYPE_COUNTER:
    if (t == HVKVP_DS_GAUGE)
      out->counter = isfinite(d) && d >= 0 && d < 1.8e19 ? (counter_t)d : 0;
    else
      out->counter = (counter_t)v.counter; /* same bits for the integers */
    break;
  default: /* DS_TYPE_ABSOLUTE */
    if (t == HVKVP_DS_GAUGE)
      out->absolute = isfinite(d) && d >= 0 && d < 1.8e19 ? (absolute_t)d : 0;
    else
      out->absolute = (absolute_t)v.absolute;
    break;
  }
}

/* Meta data from the message's tags: keys sanitised, values limited to
 * printable ASCII. NULL if there are no tags. */
static meta_data_t *hvp_tags_meta(const hvkvp_msg_t *m) {
  if (m->n_tags == 0)
    return NULL;
  meta_data_t *md = meta_data_create();
  if (md == NULL)
    return NULL;
  for (size_t i = 0; i < m->n_tags && i < HVKVP_MAX_TAGS; i++) {
    char key[HVKVP_NAME_LEN], val[HVKVP_NAME_LEN];
    hvkvp_sanitize(key, sizeof(key), m->tags[i].key, HVKVP_NAME_TAG);
    if (key[0] == '\0')
      continue;
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)m->tags[i].value;
         *p && j + 1 < sizeof(val); p++)
      val[j++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '_';
    val[j] = '\0';
    meta_data_add_string(md, key, val);
  }
  return md;
}

double hvp_dispatch_time(const hvkvp_msg_t *m, double now) {
  double t = m->time;
  return !isfinite(t) || t <= 0 || fabs(t - now) > 86400.0 ? now : t;
}

/* Sanitised names into vl; 0, or -1 if a name cannot be used. */
static int hvp_names(const hvkvp_vl_t *in, value_list_t *vl) {
  hvkvp_sanitize(vl->plugin, sizeof(vl->plugin), in->plugin, HVKVP_NAME_PLUGIN);
  hvkvp_sanitize(vl->plugin_instance, sizeof(vl->plugin_instance),
                 in->plugin_instance, HVKVP_NAME_INSTANCE);
  hvkvp_sanitize(vl->type, sizeof(vl->type), in->type, HVKVP_NAME_PLUGIN);
  hvkvp_sanitize(vl->type_instance, sizeof(vl->type_instance),
                 in->type_instance, HVKVP_NAME_INSTANCE);
  return vl->plugin[0] == '\0' || vl->type[0] == '\0' || in->n == 0 ||
                 in->n > HVKVP_MAX_DS
             ? -1
             : 0;
}

static void hvp_bad_type(hvp_dispatch_res_t *res, const char *type, size_t n,
                         size_t ds) {
  if (res->bad_types++ == 0) {
    sstrncpy(res->bad_type, type, sizeof(res->bad_type));
    res->bad_type_n = n;
    res->bad_type_ds = ds;
  }
}

/* One value list: 1 dispatched, 0 dropped (counted in res). */
static int hvp_dispatch_vl(const hvkvp_vl_t *in, value_list_t *vl,
                           hvp_idset_t *ids, hvp_dispatch_res_t *res) {
  if (hvp_names(in, vl) != 0) {
    res->bad_names++;
    return 0;
  }
  if (ids->cap > 0 && hvp_idset_seen(ids, vl)) {
    res->duplicates++;
    return 0;
  }
  const data_set_t *ds = plugin_get_ds(vl->type);
  if (ds == NULL || ds->ds_num != in->n) {
    hvp_bad_type(res, vl->type, in->n, ds ? ds->ds_num : 0);
    return 0;
  }
  for (size_t j = 0; j < in->n; j++)
    hvp_convert(in, j, ds->ds[j].type, &vl->values[j]);
  vl->values_len = in->n;
  return plugin_dispatch_values(vl) == 0;
}

void hvp_dispatch_msg(const hvkvp_msg_t *m, const char *host, double now,
                      double poll_interval, hvp_idset_t *ids,
                      hvp_dispatch_res_t *res) {
  value_t values[HVKVP_MAX_DS];
  value_list_t vl = VALUE_LIST_INIT;
  double iv = m->interval;
  if (!isfinite(iv) || iv <= 0 || iv > 86400.0)
    iv = 0;
  if (isfinite(poll_interval) && poll_interval > iv)
    iv = poll_interval;
  vl.time = DOUBLE_TO_CDTIME_T(hvp_dispatch_time(m, now));
  vl.interval = iv > 0 ? DOUBLE_TO_CDTIME_T(iv) : 0;
  vl.meta = hvp_tags_meta(m);
  vl.values = values;
  sstrncpy(vl.host, host, sizeof(vl.host));
  if (hvp_idset_reset(ids, m->n_vls) != 0)
    hvp_idset_free(ids); /* no memory: no duplicate check this time */
  for (size_t i = 0; i < m->n_vls; i++) {
    if (hvp_dispatch_vl(&m->vls[i], &vl, ids, res))
      res->dispatched++;
    else
      res->dropped++;
  }
  if (vl.meta != NULL)
    meta_data_destroy(vl.meta);
}

int hvp_dispatch_self(const char *block, const char *type, const char *tinst,
                      const value_t *values, size_t n, double interval) {
  value_list_t vl = VALUE_LIST_INIT;
  value_t v[4];
  if (n > 4)
    return -1;
  memcpy(v, values, n * sizeof(*v));
  vl.values = v;
  vl.values_len = n;
  vl.interval = interval > 0 ? DOUBLE_TO_CDTIME_T(interval) : 0;
  sstrncpy(vl.plugin, HVP_PLUGIN_NAME, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, block, sizeof(vl.plugin_instance));
  sstrncpy(vl.type, type, sizeof(vl.type));
  sstrncpy(vl.type_instance, tinst, sizeof(vl.type_instance));
  return plugin_dispatch_values(&vl);
}
