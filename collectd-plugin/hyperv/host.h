/*
 * host.h - the model's connection to one Hyper-V host, shared by the files
 * of hyperv/ (host.c opens it, vms.c lists VMs, kvp_items.c changes host
 * items). Not for the layers above: they see hv_host_t as opaque.
 */
#ifndef HVKVP_HYPERV_HOST_H
#define HVKVP_HYPERV_HOST_H

#include "hyperv.h"

/* Bound on what one host may make us hold (items per pool: kvp_stream.h). */
#define HV_MAX_VMS 65536

/* A VM kept aside: its items made every page that held them fail. */
typedef struct {
  char guid[37];
  char reason[224];
  unsigned backoff; /* lists to wait before trying again: 2, 4 ... 32 */
  unsigned due;     /* the list number of the next try */
} hv_quarantine_t;

#define HV_QUARANTINE_MAX 256

struct hv_host {
  const hv_opts_t *o; /* borrowed: outlives the host */
  wsman_t *w;
  const char *ns;
  unsigned max_elements;
  /* Msvm_VirtualSystemManagementService, found on first use: the values
   * of its CreationClassName, Name, SystemCreationClassName, SystemName */
  int have_vsms;
  char vsms_sel[4][256];
  /* isolation of unreadable VMs (isolate.c) */
  unsigned list_no; /* hv_list_vms calls so far */
  hv_quarantine_t *quar;
  size_t n_quar;
  hv_isolation_t iso; /* of the last list */
};

#endif
