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

/* 1 the first time `type` is seen (and remembered), 0 after. */
static int hvp_typelog_first(hvp_typelog_t *tl, const char *type,
                             const char *block) {
  for (size_t i = 0; i < tl->n; i++)
    if (strcmp(tl->names[i], type) == 0)
      return 0;
  if (tl->n >= HVP_TYPES_COMPLAINED_MAX) {
    if (!tl->full_logged) {
      tl->full_logged = 1;
      WARNING("hyperv_kvp plugin: Host \"%s\": more than %d bad types; "
              "further ones are dropped without a message",
              block, HVP_TYPES_COMPLAINED_MAX);
    }
    return 0;
  }
  sstrncpy(tl->names[tl->n++], type, DATA_MAX_NAME_LEN);
  return 1;
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

void hvp_dispatch_msg(const hvkvp_msg_t *m, const char *host, double now,
                      double poll_interval, const char *block,
                      hvp_typelog_t *tl, hvp_dispatch_res_t *res) {
  value_t values[HVKVP_MAX_DS];
  value_list_t vl = VALUE_LIST_INIT;
  double t = m->time;
  if (!isfinite(t) || t <= 0 || fabs(t - now) > 86400.0)
    t = now;
  double iv = m->interval;
  if (!isfinite(iv) || iv <= 0 || iv > 86400.0)
    iv = 0;
  if (isfinite(poll_interval) && poll_interval > iv)
    iv = poll_interval;
  vl.time = DOUBLE_TO_CDTIME_T(t);
  vl.interval = iv > 0 ? DOUBLE_TO_CDTIME_T(iv) : 0;
  vl.meta = hvp_tags_meta(m);
  vl.values = values;
  sstrncpy(vl.host, host, sizeof(vl.host));

  for (size_t i = 0; i < m->n_vls; i++) {
    const hvkvp_vl_t *in = &m->vls[i];
    hvkvp_sanitize(vl.plugin, sizeof(vl.plugin), in->plugin, HVKVP_NAME_PLUGIN);
    hvkvp_sanitize(vl.plugin_instance, sizeof(vl.plugin_instance),
                   in->plugin_instance, HVKVP_NAME_INSTANCE);
    hvkvp_sanitize(vl.type, sizeof(vl.type), in->type, HVKVP_NAME_PLUGIN);
    hvkvp_sanitize(vl.type_instance, sizeof(vl.type_instance),
                   in->type_instance, HVKVP_NAME_INSTANCE);
    if (vl.plugin[0] == '\0' || vl.type[0] == '\0' || in->n == 0 ||
        in->n > HVKVP_MAX_DS) {
      res->dropped++;
      continue;
    }
    const data_set_t *ds = plugin_get_ds(vl.type);
    if (ds == NULL) {
      if (hvp_typelog_first(tl, vl.type, block))
        ERROR("hyperv_kvp plugin: Host \"%s\": VM host \"%s\" sent type "
              "\"%s\", which is not in collectd's types.db: its values are "
              "dropped",
              block, host, vl.type);
      res->dropped++;
      continue;
    }
    if (ds->ds_num != in->n) {
      if (hvp_typelog_first(tl, vl.type, block))
        ERROR("hyperv_kvp plugin: Host \"%s\": VM host \"%s\" sent type "
              "\"%s\" with %zu values, but types.db defines %zu: its values "
              "are dropped",
              block, host, vl.type, in->n, ds->ds_num);
      res->dropped++;
      continue;
    }
    for (size_t j = 0; j < in->n; j++)
      hvp_convert(in, j, ds->ds[j].type, &values[j]);
    vl.values_len = in->n;
    if (plugin_dispatch_values(&vl) == 0)
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
