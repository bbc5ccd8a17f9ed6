/*
 * plugin_dispatch.c - decoded messages -> collectd value lists (see
 * plugin_dispatch.h), dispatched in bursts. Everything in a message came
 * from a guest and is hostile: names are sanitised before use, types must
 * exist in collectd's types.db with the same number of data sources, and
 * values are converted to the DS types collectd expects.
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

void hvp_batch_free(hvp_batch_t *b) {
  for (size_t i = 0; i < b->n_metas; i++)
    meta_data_destroy(b->metas[i]);
  free(b->vl);
  free(b->types);
  free(b->vals);
  free(b->out);
  free(b->ready);
  free(b->metas);
  free(b->ids);
  memset(b, 0, sizeof(*b));
}

/* p resized to cap elements of size sz; 0, or -1 (p unchanged). */
static int hvp_resize(void *pp, size_t cap, size_t sz) {
  void **p = pp;
  void *q = realloc(*p, cap * sz);
  if (q == NULL)
    return -1;
  *p = q;
  return 0;
}

/* Room for one more value list. -1 without memory. */
static int hvp_batch_grow(hvp_batch_t *b) {
  size_t cap = b->cap ? b->cap * 2 : 256;
  if (hvp_resize(&b->vl, cap, sizeof(*b->vl)) != 0 ||
      hvp_resize(&b->types, cap, sizeof(*b->types)) != 0 ||
      hvp_resize(&b->vals, cap, sizeof(*b->vals)) != 0 ||
      hvp_resize(&b->out, cap, sizeof(*b->out)) != 0 ||
      hvp_resize(&b->ready, cap, sizeof(*b->ready)) != 0)
    return -1;
  b->cap = cap;
  return 0;
}

static int hvp_batch_begin(void *ctx, hvkvp_vl_dst_t *dst) {
  hvp_batch_t *b = ctx;
  if (b->n - b->msg_start >= HVKVP_MAX_VALUE_LISTS ||
      (b->n == b->cap && hvp_batch_grow(b) != 0))
    return -1;
  value_list_t *vl = &b->vl[b->n];
  dst->plugin = vl->plugin;
  dst->plugin_instance = vl->plugin_instance;
  dst->type = vl->type;
  dst->type_instance = vl->type_instance;
  dst->dstypes = b->types[b->n];
  dst->values = b->vals[b->n];
  dst->dsnames = NULL; /* types.db names the data sources */
  return 0;
}

static void hvp_batch_end(void *ctx, size_t n) {
  hvp_batch_t *b = ctx;
  b->vl[b->n++].values_len = n;
}

hvkvp_vl_sink_t hvp_batch_sink(hvp_batch_t *b) {
  b->n = b->msg_start;
  return (hvkvp_vl_sink_t){hvp_batch_begin, hvp_batch_end, b};
}

int hvp_batch_due(const hvp_batch_t *b) {
  return b->msg_start >= HVP_BATCH_BURST;
}

size_t hvp_batch_flush(hvp_batch_t *b) {
  size_t refused = 0;
  for (size_t i = 0; i < b->msg_start; i++) {
    if (!b->ready[i])
      continue;
    b->vl[i].values = b->out[i];
    refused += plugin_dispatch_values(&b->vl[i]) != 0;
  }
  for (size_t i = 0; i < b->n_metas; i++)
    meta_data_destroy(b->metas[i]);
  b->n_metas = 0;
  b->n = b->msg_start = 0;
  return refused;
}

/* Keeps a message's meta data until the flush. -1 without memory. */
static int hvp_batch_keep_meta(hvp_batch_t *b, meta_data_t *md) {
  if (b->n_metas == b->cap_metas) {
    size_t cap = b->cap_metas ? b->cap_metas * 2 : 16;
    if (hvp_resize(&b->metas, cap, sizeof(meta_data_t *)) != 0)
      return -1;
    b->cap_metas = cap;
  }
  b->metas[b->n_metas++] = md;
  return 0;
}

/* Readies the identifier set for n identifiers: a power-of-two table at
 * most half full, cleared. -1 without memory. */
static int hvp_ids_reset(hvp_batch_t *b, size_t n) {
  size_t cap = 64;
  while (cap < 2 * n)
    cap *= 2;
  if (cap > b->ids_cap) {
    uint64_t *t = realloc(b->ids, cap * sizeof(*t));
    if (t == NULL)
      return -1;
    b->ids = t;
    b->ids_cap = cap;
  }
  memset(b->ids, 0, b->ids_cap * sizeof(*b->ids));
  return 0;
}

/* 1 if the identifier of vl was already added (0 is never a key: a hash
 * of 0 becomes 1). */
static int hvp_ids_seen(hvp_batch_t *b, const value_list_t *vl) {
  const char *f[4] = {vl->plugin, vl->plugin_instance, vl->type,
                      vl->type_instance};
  uint64_t h = HVKVP_FNV1A64_INIT;
  for (int i = 0; i < 4; i++)
    h = hvkvp_fnv1a64(h, f[i], strlen(f[i]) + 1);
  h = h ? h : 1;
  size_t k = (size_t)h & (b->ids_cap - 1);
  for (; b->ids[k] != 0; k = (k + 1) & (b->ids_cap - 1))
    if (b->ids[k] == h)
      return 1;
  b->ids[k] = h;
  return 0;
}

/* One value as the data source type types.db gives. */
static value_t hvp_convert(hvkvp_ds_type_t t, hvkvp_value_t v, int ds_type) {
  value_t out;
  double d = t == HVKVP_DS_GAUGE    ? v.gauge
             : t == HVKVP_DS_DERIVE ? (double)v.derive
                                    : (double)v.counter;
  int finite = isfinite(d);
  switch (ds_type) {
  case DS_TYPE_GAUGE:
    out.gauge = d;
    break;
  case DS_TYPE_DERIVE:
    if (t == HVKVP_DS_GAUGE)
      out.derive = finite && fabs(d) < 9.2e18 ? (derive_t)d : 0;
    else
      out.derive = t == HVKVP_DS_DERIVE ? v.derive : (derive_t)v.counter;
    break;
  case DS_TYPE_COUNTER:
    if (t == HVKVP_DS_GAUGE)
      out.counter = finite && d >= 0 && d < 1.8e19 ? (counter_t)d : 0;
    else
      out.counter = (counter_t)v.counter; /* same bits for the integers */
    break;
  default: /* DS_TYPE_ABSOLUTE */
    if (t == HVKVP_DS_GAUGE)
      out.absolute = finite && d >= 0 && d < 1.8e19 ? (absolute_t)d : 0;
    else
      out.absolute = (absolute_t)v.absolute;
    break;
  }
  return out;
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

/* Names sanitised in place; 0, or -1 if a name cannot be used. */
static int hvp_names(value_list_t *vl) {
  hvkvp_sanitize(vl->plugin, sizeof(vl->plugin), vl->plugin, HVKVP_NAME_PLUGIN);
  hvkvp_sanitize(vl->plugin_instance, sizeof(vl->plugin_instance),
                 vl->plugin_instance, HVKVP_NAME_INSTANCE);
  hvkvp_sanitize(vl->type, sizeof(vl->type), vl->type, HVKVP_NAME_PLUGIN);
  hvkvp_sanitize(vl->type_instance, sizeof(vl->type_instance),
                 vl->type_instance, HVKVP_NAME_INSTANCE);
  return vl->plugin[0] == '\0' || vl->type[0] == '\0' || vl->values_len == 0 ||
                 vl->values_len > HVKVP_MAX_DS
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

/* Value list i of b: 1 checked and converted for the flush, 0 dropped
 * (counted in res). */
static int hvp_check_vl(hvp_batch_t *b, size_t i, int check_ids,
                        hvp_dispatch_res_t *res) {
  value_list_t *vl = &b->vl[i];
  size_t n = vl->values_len;
  if (hvp_names(vl) != 0) {
    res->bad_names++;
    return 0;
  }
  if (check_ids && hvp_ids_seen(b, vl)) {
    res->duplicates++;
    return 0;
  }
  const data_set_t *ds = plugin_get_ds(vl->type);
  if (ds == NULL || ds->ds_num != n) {
    hvp_bad_type(res, vl->type, n, ds ? ds->ds_num : 0);
    return 0;
  }
  for (size_t j = 0; j < n; j++)
    b->out[i][j] = hvp_convert(b->types[i][j], b->vals[i][j], ds->ds[j].type);
  return 1;
}

void hvp_dispatch_msg(const hvkvp_msg_t *m, hvp_batch_t *b, const char *host,
                      double now, double poll_interval,
                      hvp_dispatch_res_t *res) {
  double iv = m->interval;
  if (!isfinite(iv) || iv <= 0 || iv > 86400.0)
    iv = 0;
  if (isfinite(poll_interval) && poll_interval > iv)
    iv = poll_interval;
  cdtime_t time = DOUBLE_TO_CDTIME_T(hvp_dispatch_time(m, now));
  cdtime_t interval = iv > 0 ? DOUBLE_TO_CDTIME_T(iv) : 0;
  meta_data_t *meta = hvp_tags_meta(m);
  if (meta != NULL && hvp_batch_keep_meta(b, meta) != 0) {
    meta_data_destroy(meta); /* no memory: the values go without tags */
    meta = NULL;
  }
  /* no memory for the table: no duplicate check this time */
  int check_ids = hvp_ids_reset(b, b->n - b->msg_start) == 0;
  for (size_t i = b->msg_start; i < b->n; i++) {
    value_list_t *vl = &b->vl[i];
    sstrncpy(vl->host, host, sizeof(vl->host));
    vl->time = time;
    vl->interval = interval;
    vl->meta = meta;
    b->ready[i] = (unsigned char)hvp_check_vl(b, i, check_ids, res);
    if (b->ready[i])
      res->dispatched++;
    else
      res->dropped++;
  }
  b->msg_start = b->n;
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
