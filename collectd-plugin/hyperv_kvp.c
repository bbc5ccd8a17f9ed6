/*
 * hyperv_kvp.c - the collectd plugin "hyperv_kvp": reads every VM's hvkvp
 * message from Hyper-V hosts over WS-Management and dispatches the guests'
 * metrics; optionally pushes configuration to the guests. This file is only
 * the collectd glue: the config callback parses each <Host> block
 * (plugin_config.c), opens it (plugin_poll.c) and registers one complex read
 * callback per host ("hyperv_kvp-<name>", the block's Interval) so collectd's
 * read threads poll hosts in parallel. Options: hyperv_kvp.md.
 */
#include "plugin_config.h"
#include "plugin_generations.h"
#include "plugin_poll.h"

#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/utils/common/common.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HKP_MAX_HOSTS 256

/* Names of the registered Host blocks, to refuse duplicates. Only touched
 * by the config callback and shutdown, which collectd runs single-threaded. */
static char *hkp_names[HKP_MAX_HOSTS];
static size_t hkp_n_names;

static int hkp_read(user_data_t *ud) {
  hvp_host_t *h = ud->data;
  double interval = h->conf->interval > 0
                        ? h->conf->interval
                        : CDTIME_T_TO_DOUBLE(plugin_get_interval());
  return hvp_poll(h, CDTIME_T_TO_DOUBLE(cdtime()), interval);
}

static int hkp_config_host(oconfig_item_t *ci) {
  hvp_host_conf_t *conf = calloc(1, sizeof(*conf));
  if (conf == NULL) {
    ERROR("hyperv_kvp plugin: out of memory");
    return -1;
  }
  if (hvp_config_host(ci, conf) != 0) {
    free(conf);
    return -1;
  }
  for (size_t i = 0; i < hkp_n_names; i++) {
    if (strcmp(hkp_names[i], conf->name) == 0) {
      ERROR("hyperv_kvp plugin: <Host \"%s\"> is configured twice", conf->name);
      hvp_host_conf_free(conf);
      free(conf);
      return -1;
    }
  }
  if (hkp_n_names >= HKP_MAX_HOSTS) {
    ERROR("hyperv_kvp plugin: more than %d <Host> blocks", HKP_MAX_HOSTS);
    hvp_host_conf_free(conf);
    free(conf);
    return -1;
  }
  char *name = strdup(conf->name);
  if (name == NULL) {
    hvp_host_conf_free(conf);
    free(conf);
    return -1;
  }
  double interval = conf->interval;
  hvp_host_t *h = hvp_host_open(conf); /* owns conf from here */
  if (h == NULL) {
    free(name);
    return -1;
  }
  char cb_name[DATA_MAX_NAME_LEN];
  snprintf(cb_name, sizeof(cb_name), "hyperv_kvp-%s", name);
  user_data_t ud = {.data = h, .free_func = hvp_host_close};
  if (plugin_register_complex_read("hyperv_kvp", cb_name, hkp_read,
                                   DOUBLE_TO_CDTIME_T(interval), &ud) != 0) {
    ERROR("hyperv_kvp plugin: Host \"%s\": registering the read callback "
          "failed",
          name);
    hvp_host_close(h);
    free(name);
    return -1;
  }
  hkp_names[hkp_n_names++] = name;
  return 0;
}

static int hkp_config(oconfig_item_t *ci) {
  for (int i = 0; i < ci->children_num; i++) {
    oconfig_item_t *child = &ci->children[i];
    if (strcasecmp(child->key, "Host") == 0) {
      if (hkp_config_host(child) != 0)
        return -1;
    } else {
      ERROR("hyperv_kvp plugin: unknown option \"%s\" (expected <Host> "
            "blocks)",
            child->key);
      return -1;
    }
  }
  return 0;
}

static int hkp_init(void) {
  if (hkp_n_names == 0)
    WARNING("hyperv_kvp plugin: no <Host> block configured: nothing to "
            "read");
  return 0;
}

/* The read callbacks' user data (hvp_host_t) is freed by collectd through
 * hvp_host_close when it unregisters them. */
static int hkp_shutdown(void) {
  for (size_t i = 0; i < hkp_n_names; i++)
    free(hkp_names[i]);
  hkp_n_names = 0;
  hvp_gens_clear();
  return 0;
}

__attribute__((visibility("default"))) void module_register(void) {
  plugin_register_complex_config("hyperv_kvp", hkp_config);
  plugin_register_init("hyperv_kvp", hkp_init);
  plugin_register_shutdown("hyperv_kvp", hkp_shutdown);
}
