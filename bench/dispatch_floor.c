/*
 * dispatch_floor.c - hvkvp_dispatch_floor.so, a collectd read plugin for
 * bench/bench_poll.py: what collectd itself costs to take the value lists
 * of N VMs, with nothing of ours in the way. At init it decodes one message
 * (a JSON file, the one the simulated guests publish) and builds every
 * value_list_t of every VM, types and values as types.db wants them; each
 * read only sets the time and calls plugin_dispatch_values for each. The
 * hyperv_kvp plugin's CPU per VM over this plugin's is the ratio
 * bench_poll.py prints. It also registers a write callback that does
 * nothing (without any writer collectd logs a line per value): every run
 * of the benchmark loads it, with VMs 0 where it only writes.
 *
 *   <Plugin hvkvp_dispatch_floor>
 *     Message "schemas/examples/linux_typical.json"
 *     VMs 1000
 *   </Plugin>
 */
#include "hvkvp.h"

#include "collectd/core/daemon/plugin.h"
#include "collectd/core/utils/common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *df_message;
static int df_vms;
static value_list_t *df_vl; /* df_vms x df_n value lists */
static value_t *df_values;  /* HVKVP_MAX_DS per value list */
static size_t df_n;

static int df_config(const char *key, const char *value) {
  if (strcasecmp(key, "Message") == 0) {
    free(df_message);
    df_message = strdup(value);
    return df_message == NULL ? -1 : 0;
  }
  if (strcasecmp(key, "VMs") == 0) {
    df_vms = atoi(value);
    return df_vms >= 0 ? 0 : -1;
  }
  return -1;
}

static char *df_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  char *buf = malloc(HVKVP_MAX_DECODED + 1);
  *len = buf != NULL ? fread(buf, 1, HVKVP_MAX_DECODED, f) : 0;
  fclose(f);
  if (buf != NULL)
    buf[*len] = '\0';
  return buf;
}

/* One value as types.db's data source type wants it. */
static value_t df_value(hvkvp_ds_type_t t, hvkvp_value_t v, int ds_type) {
  value_t out;
  double d = t == HVKVP_DS_GAUGE ? v.gauge : (double)v.derive;
  if (ds_type == DS_TYPE_GAUGE)
    out.gauge = d;
  else if (ds_type == DS_TYPE_DERIVE)
    out.derive = t == HVKVP_DS_GAUGE ? (derive_t)d : v.derive;
  else
    out.counter = t == HVKVP_DS_GAUGE ? (counter_t)d : v.counter;
  return out;
}

static int df_build(const hvkvp_msg_t *m) {
  df_vl = calloc((size_t)df_vms * m->n_vls, sizeof(*df_vl));
  df_values =
      calloc((size_t)df_vms * m->n_vls * HVKVP_MAX_DS, sizeof(*df_values));
  if (df_vl == NULL || df_values == NULL)
    return -1;
  for (int v = 0; v < df_vms; v++)
    for (size_t i = 0; i < m->n_vls; i++) {
      const hvkvp_vl_t *in = &m->vls[i];
      const data_set_t *ds = plugin_get_ds(in->type);
      if (ds == NULL || ds->ds_num != in->n)
        continue;
      value_list_t *vl = &df_vl[df_n];
      vl->values = &df_values[df_n * HVKVP_MAX_DS];
      vl->values_len = in->n;
      for (size_t j = 0; j < in->n; j++)
        vl->values[j] = df_value(in->dstypes[j], in->values[j], ds->ds[j].type);
      snprintf(vl->host, sizeof(vl->host), "floor-%05d", v);
      sstrncpy(vl->plugin, in->plugin, sizeof(vl->plugin));
      sstrncpy(vl->plugin_instance, in->plugin_instance,
               sizeof(vl->plugin_instance));
      sstrncpy(vl->type, in->type, sizeof(vl->type));
      sstrncpy(vl->type_instance, in->type_instance, sizeof(vl->type_instance));
      df_n++;
    }
  return 0;
}

static int df_init(void) {
  if (df_vms == 0)
    return 0; /* the writer alone */
  size_t len;
  char *json = df_message != NULL ? df_slurp(df_message, &len) : NULL;
  hvkvp_msg_t m;
  hvkvp_err_t err;
  if (json == NULL || hvkvp_msg_from_json(json, len, &m, &err) != 0) {
    ERROR("hvkvp_dispatch_floor plugin: cannot read Message \"%s\"",
          df_message ? df_message : "");
    free(json);
    return -1;
  }
  free(json);
  int rc = df_build(&m);
  INFO("hvkvp_dispatch_floor plugin: %zu value lists for %d VMs", df_n, df_vms);
  hvkvp_msg_free(&m);
  return rc;
}

static int df_read(void) {
  cdtime_t now = cdtime();
  for (size_t i = 0; i < df_n; i++) {
    df_vl[i].time = now;
    plugin_dispatch_values(&df_vl[i]);
  }
  return 0;
}

static int df_write(const data_set_t *ds, const value_list_t *vl,
                    user_data_t *ud) {
  return 0;
}

static int df_shutdown(void) {
  free(df_vl);
  free(df_values);
  free(df_message);
  return 0;
}

static const char *df_keys[] = {"Message", "VMs"};

__attribute__((visibility("default"))) void module_register(void) {
  plugin_register_config("hvkvp_dispatch_floor", df_config, df_keys, 2);
  plugin_register_init("hvkvp_dispatch_floor", df_init);
  plugin_register_read("hvkvp_dispatch_floor", df_read);
  plugin_register_write("hvkvp_dispatch_floor", df_write, NULL);
  plugin_register_shutdown("hvkvp_dispatch_floor", df_shutdown);
}
