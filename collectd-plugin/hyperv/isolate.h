/*
 * isolate.h - reading around a VM whose KVP items no page can carry (one
 * tenant must not blind the monitoring of its whole host): when a page of
 * the KVP enumeration fails for what it holds, the VMs it did not deliver
 * are read again in groups (WQL WHERE SystemName = ... OR ...), halved
 * while a group fails, down to one VM read alone one pool at a time. A VM
 * that still cannot be read is quarantined: left out of the enumerations
 * (WHERE SystemName <> ...) and tried again after a back-off. Internal to
 * hyperv/ (vms.c drives it).
 */
#ifndef HVKVP_HYPERV_ISOLATE_H
#define HVKVP_HYPERV_ISOLATE_H

#include "host.h"

/* How isolation reads the KVP class: `read` enumerates the instances a
 * WHERE clause selects (NULL: all) with the pools in `pools` into the
 * listed VMs; `seen` says whether VM i was delivered in this list. */
typedef struct {
  int (*read)(void *ctx, const char *where, unsigned pools, ws_err_t *err);
  int (*seen)(void *ctx, size_t vm);
  void *ctx;
  hv_vms_t *vms;
  unsigned pools; /* the pools asked for */
} hv_reader_t;

/* The WHERE clause that selects the VMs idx[0..n) of vms (n at most
 * HV_GROUP_MAX). */
void hv_iso_group(hvsb_t *b, const hv_vms_t *vms, const size_t *idx, size_t n);
/* Starts one list: counts it and clears the isolation figures. */
void hv_iso_begin(hv_host_t *h);
/* 1 if the VM is kept aside (not asked for until its back-off passed). */
int hv_iso_is_quarantined(const hv_host_t *h, const char *guid);
/* The WHERE clause that leaves quarantined VMs out ("" when none). */
void hv_iso_where(const hv_host_t *h, hvsb_t *where);
/* After a failed read (err->content set): reads what was not delivered,
 * isolating and quarantining what cannot be read. 0, or -1 with err when
 * something else failed (connection, budget, ...). */
int hv_iso_read_around(hv_host_t *h, const hv_reader_t *r, ws_err_t *err);
/* Tries again the quarantined VMs whose back-off has passed, marks the
 * others unreadable in vms, forgets VMs no longer listed. 0 or -1. */
int hv_iso_quarantined(hv_host_t *h, const hv_reader_t *r, ws_err_t *err);

#endif
