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
#include <stdint.h>

/* What one message's dispatch did, for the caller's per-VM complaints. */
typedef struct {
  size_t dispatched; /* value lists handed to collectd */
  size_t dropped;    /* all the others: */
  size_t bad_names;  /*   empty plugin or type, no or too many values */
  size_t bad_types;  /*   not in types.db, or another DS count */
  size_t duplicates; /*   an identifier already in this message */
  char bad_type[DATA_MAX_NAME_LEN]; /* the first bad type */
  size_t bad_type_n, bad_type_ds;   /* its values sent and in types.db (0) */
} hvp_dispatch_res_t;

/* The value lists of several messages, held for one burst of
 * plugin_dispatch_values: the decoder writes their names straight into
 * value_list_t (hvp_batch_sink), their types and values beside;
 * hvp_dispatch_msg checks and converts one message's, hvp_batch_flush hands
 * them all to collectd. Dispatching in bursts rather than VM by VM keeps
 * collectd's write threads from sleeping and waking for every value list
 * (ten times fewer context switches). Reused from one poll to the next: no
 * allocation once it has grown. */
typedef struct {
  value_list_t *vl;
  hvkvp_ds_type_t (*types)[HVKVP_MAX_DS];
  hvkvp_value_t (*vals)[HVKVP_MAX_DS];
  value_t (*out)[HVKVP_MAX_DS]; /* values as types.db wants them */
  unsigned char *ready;         /* passed the checks: to dispatch */
  size_t n, cap;
  size_t msg_start;    /* value lists before it belong to checked messages */
  meta_data_t **metas; /* one per message with tags, freed by the flush */
  size_t n_metas, cap_metas;
  uint64_t *ids; /* identifier hashes of one message, open addressing */
  size_t ids_cap;
} hvp_batch_t;

/* Value lists in a batch that make hvp_batch_due say "flush". */
#define HVP_BATCH_BURST 2048

void hvp_batch_free(hvp_batch_t *b);
/* The sink that adds one message's value lists to b (hvkvp_decoder_run);
 * what an earlier sink added but no hvp_dispatch_msg took is dropped. */
hvkvp_vl_sink_t hvp_batch_sink(hvp_batch_t *b);
/* 1 once b holds HVP_BATCH_BURST value lists. */
int hvp_batch_due(const hvp_batch_t *b);
/* Dispatches every checked value list of b and empties it; how many
 * collectd refused. */
size_t hvp_batch_flush(hvp_batch_t *b);

/* Builds the value-list host from HostnameFormat: the fields joined with '_',
 * sanitised (HVKVP_NAME_HOST). A field that is empty (no guest hostname yet)
 * is skipped; if all are empty the GUID is used. */
void hvp_format_host(char *dst, size_t sz, const hvp_hn_field_t *hn,
                     size_t n_hn, const char *name, const char *guid,
                     const char *guest_host);

/* The time a message's values are dispatched with: its own, or now if it is
 * missing or over a day away from now. */
double hvp_dispatch_time(const hvkvp_msg_t *m, double now);

/* Takes the value lists the last sink added to b (decoded from m) for the
 * next flush, with host `host` (already sanitised), the time
 * hvp_dispatch_time gives and as interval the larger of the message's and
 * `poll_interval` (values are refreshed no faster than the host is
 * polled). A value list whose identifier (after sanitising) is already in
 * the message is dropped, as is one whose type collectd does not know with
 * that many values. Logs nothing: res says what happened. */
void hvp_dispatch_msg(const hvkvp_msg_t *m, hvp_batch_t *b, const char *host,
                      double now, double poll_interval,
                      hvp_dispatch_res_t *res);

/* One self metric: plugin "hyperv_kvp", plugin instance = Host block name,
 * host = collectd's own hostname. */
int hvp_dispatch_self(const char *block, const char *type, const char *tinst,
                      const value_t *values, size_t n, double interval);

#endif
