/*
 * plugin_poll.h - one Hyper-V host as the hyperv_kvp plugin polls it: its
 * configuration, hv_host_t connection, per-VM state and counters, and the
 * poll itself (list VMs, filter, decode, dispatch, staleness, push, self
 * metrics). One hvp_host_t is the user data of one complex read callback;
 * collectd never runs one callback twice at once, so no locking is needed.
 */
#ifndef HVKVP_PLUGIN_POLL_H
#define HVKVP_PLUGIN_POLL_H

#include "hyperv.h"
#include "plugin_config.h"
#include "plugin_dispatch.h"
#include "plugin_push.h"
#include "plugin_vmstate.h"

#include <stdint.h>

typedef struct {
  hvkvp_items_t desired[HVP_PREFIX_MAX]; /* PREFIX.cfg.* incl. the id */
  char id[HVP_CFG_ID_LEN];
} hvp_push_state_t;

typedef struct {
  size_t vms;          /* VMs the filter selected */
  size_t no_message;   /* selected VMs without any hvkvp head */
  size_t stale;        /* VMs whose message is stale */
  size_t in_sync;      /* pushed-to VMs that echo the desired config id */
  size_t push_target;  /* VMs a <Push> block applies to */
  size_t push_pending; /* VMs left for the next poll (time budget spent) */
  size_t unreadable;   /* VMs whose KVP items could not be read (aside) */
  uint64_t requests;   /* HTTP requests of this poll */
  uint64_t isolation;  /* of which reading around unreadable VMs */
  double duration;     /* seconds */
} hvp_poll_figures_t;

typedef struct {
  hvp_host_conf_t *conf; /* owned */
  hv_host_t *hv;
  hvp_vmtab_t vms;
  hvkvp_decoder_t *dec; /* one for every VM (buffers kept) */
  hvp_batch_t batch;    /* value lists to dispatch in one burst */
  hvp_push_state_t push[HVP_PUSH_MAX];
  unsigned poll_no;
  c_complain_t list_c;
  /* cumulative counters, dispatched as DERIVE */
  uint64_t msg_ok, msg_torn, msg_invalid, msg_old;
  uint64_t items_refused;
  uint64_t push_ok, push_failed;
  uint64_t values_dispatched, values_dropped;
  hvp_poll_figures_t last;
} hvp_host_t;

/* Takes ownership of conf (freed on failure too) and creates the hv_host_t.
 * Returns NULL after logging why. */
hvp_host_t *hvp_host_open(hvp_host_conf_t *conf);
/* Frees everything; usable as user_data_t.free_func. */
void hvp_host_close(void *h);

/* Polls once. now: unix seconds; interval: this read's interval (seconds),
 * used for staleness of messages without interval, the push time budget
 * (half of it) and the poll's budget. Returns 0, or -1 if the VMs could not
 * be listed (within the budget). */
int hvp_poll(hvp_host_t *h, double now, double interval);

#endif
