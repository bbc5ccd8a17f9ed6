/*
 * plugin_dispatch.h - turns decoded hvkvp messages into collectd value lists
 * (names sanitised, types checked against collectd's types.db through
 * plugin_get_ds, values converted to the data set's DS types, message tags as
 * meta data) and dispatches the plugin's own metrics.
 */
#ifndef HVKVP_PLUGIN_DISPATCH_H
#define HVKVP_PLUGIN_DISPATCH_H

#include "hvkvp.h"
#include "plugin_config.h"

#include "collectd/core/daemon/plugin.h"

#include <stddef.h>

#define HVP_TYPES_COMPLAINED_MAX 64

/* Types already complained about (unknown, or a DS count that differs), so
 * each is logged once per Hyper-V host. */
typedef struct {
  size_t n;
  int full_logged;
  char names[HVP_TYPES_COMPLAINED_MAX][DATA_MAX_NAME_LEN];
} hvp_typelog_t;

typedef struct {
  size_t dispatched; /* value lists handed to collectd */
  size_t dropped;    /* unknown type, DS count mismatch, empty name */
} hvp_dispatch_res_t;

/* Builds the value-list host from HostnameFormat: the fields joined with '_',
 * sanitised (HVKVP_NAME_HOST). A field that is empty (no guest hostname yet)
 * is skipped; if all are empty the GUID is used. */
void hvp_format_host(char *dst, size_t sz, const hvp_hn_field_t *hn,
                     size_t n_hn, const char *name, const char *guid,
                     const char *guest_host);

/* Dispatches every value list of m with host `host` (already sanitised),
 * the message's time (now if it is missing or over a day away from now) and
 * as interval the larger of the message's and `poll_interval` (values are
 * refreshed no faster than the host is polled). `block` names the Host block
 * in log messages. */
void hvp_dispatch_msg(const hvkvp_msg_t *m, const char *host, double now,
                      double poll_interval, const char *block,
                      hvp_typelog_t *tl, hvp_dispatch_res_t *res);

/* One self metric: plugin "hyperv_kvp", plugin instance = Host block name,
 * host = collectd's own hostname. */
int hvp_dispatch_self(const char *block, const char *type, const char *tinst,
                      const value_t *values, size_t n, double interval);

#endif
