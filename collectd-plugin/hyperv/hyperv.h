/*
 * hyperv.h - the Hyper-V model (root/virtualization/v2), the one header the
 * plugin and hvkvpctl include: a host connection, its VMs with their KVP
 * item pools in a constant number of enumerations, host item changes
 * through Msvm_VirtualSystemManagementService (following Msvm_ConcreteJob),
 * and a VM's hvkvp message. Classes, states and codes are named in wmi.h.
 */
#ifndef HVKVP_HYPERV_H
#define HVKVP_HYPERV_H

#include "hvkvp.h"
#include "wmi.h"
#include "wsman.h"

#include <stdint.h>

/* Connection options: the transport's and the model's, filled once by the
 * plugin's config or hvkvpctl's command line and passed down as they are
 * (the struct must outlive the host connection). */
typedef struct {
  wsman_opts_t ws;
  char *ns;              /* WMI namespace; NULL: root/virtualization/v2 */
  unsigned max_elements; /* instances per Enumerate/Pull at most; 0: 32000
                            (WinRM's MaxBatchItems): pages are filled up to
                            the envelope size, by bytes */
} hv_opts_t;

void hv_opts_free(hv_opts_t *o);
/* The transport's checks and the namespace's; 0 or -1 (WS_ERR_CONFIG). */
int hv_opts_check(const hv_opts_t *o, ws_err_t *err);

/* The budget of one poll: what `given` sets (a zero field: derived), the
 * rest from the poll interval and the request Timeout: time max(interval,
 * Timeout); 100 requests and 10 MB for each second of it, at least 256
 * requests and 64 MiB. The plugin and hvkvpctl use the same bounds. */
wsman_budget_t hv_poll_budget(const wsman_budget_t *given, double interval,
                              double timeout);

typedef struct hv_host hv_host_t;

typedef struct {
  char guid[64];       /* Msvm_ComputerSystem.Name */
  char name[256];      /* ElementName */
  uint32_t state;      /* EnabledState: HV_STATE_RUNNING, ... */
  int has_kvp;         /* a Msvm_KvpExchangeComponent was joined */
  unsigned pools_read; /* 1 << hv_pool_t: the pools this list read */
  hvkvp_items_t pool[HV_POOL__COUNT]; /* by hv_pool_t: Name -> Data */
  /* Embedded item instances refused while decoding (cimxml.h rules: wrong
   * class, no Name, duplicate property, over the size caps, bad encoding);
   * the first refusal is described in reject_reason. */
  unsigned items_rejected;
  char reject_reason[160];
  /* Its KVP component could not be read this time, even alone (a guest
   * whose items make any page that holds them fail: over the envelope, not
   * XML): its pools are empty and `unreadable` says why. Such a VM is kept
   * aside (quarantined: not asked for) and tried again after a back-off. */
  int unreadable;
  char unreadable_reason[224];
} hv_vm_t;

typedef struct {
  size_t n;
  hv_vm_t *v;
} hv_vms_t;

/* Which pools hv_list_vms reads: bits 1 << hv_pool_t. */
enum {
  HV_WANT_INTRINSIC = 1u << HV_POOL_INTRINSIC,
  HV_WANT_GUEST = 1u << HV_POOL_GUEST,
  HV_WANT_HOST = 1u << HV_POOL_HOST,
};

hv_host_t *hv_host_new(const hv_opts_t *o, ws_err_t *err);
void hv_host_free(hv_host_t *h);
void hv_host_stats(const hv_host_t *h, wsman_stats_t *st);

/* The budget of one poll for everything the host does until
 * hv_host_budget_end (wsman_budget_t: requests, bytes, time). */
void hv_host_budget(hv_host_t *h, const wsman_budget_t *b);
void hv_host_budget_end(hv_host_t *h);

/* What the last hv_list_vms did to read around unreadable VMs. */
typedef struct {
  unsigned found;       /* VMs newly found unreadable (now quarantined) */
  unsigned quarantined; /* VMs kept aside, not asked for */
  unsigned retried;     /* quarantined VMs tried again (due) */
  uint64_t requests;    /* requests spent isolating and retrying */
} hv_isolation_t;

void hv_host_isolation(const hv_host_t *h, hv_isolation_t *st);

/* All VMs of the host (not the host itself) with the pools asked for in
 * `want`, in O(1) enumerations whatever the number of VMs. A page that
 * cannot be read for what it holds (EncodingLimit, 413, not XML) does not
 * fail the list: the VMs it would have held are read in smaller groups
 * down to one VM alone, one pool at a time, and a VM that still cannot be
 * read is returned with `unreadable` set and quarantined (see hv_vm_t). */
int hv_list_vms(hv_host_t *h, unsigned want, hv_vms_t *out, ws_err_t *err);

/* VMs named in one WQL WHERE (... = 'a' OR ... = 'b'): its length stays
 * far under what WinRM takes. */
#define HV_GROUP_MAX 48

/* Which VMs need a pool beyond `want` (e.g. the intrinsic pool of the VMs
 * whose message lives there): pick(ctx, vm) once a VM is listed (guid, name,
 * state set, no items yet). */
typedef struct {
  hv_pool_t pool;
  int (*pick)(void *ctx, const hv_vm_t *vm);
  void *ctx;
} hv_pick_t;

/* hv_list_vms, and `extra->pool` of the VMs extra->pick selects: in the
 * same enumeration when many are picked, else read for those alone (WHERE
 * of at most HV_GROUP_MAX VMs per enumeration). pools_read says what each
 * VM got. */
int hv_list_vms_pick(hv_host_t *h, unsigned want, const hv_pick_t *extra,
                     hv_vms_t *out, ws_err_t *err);
void hv_vms_free(hv_vms_t *vms);

/* 1 if the VM runs (EnabledState Enabled). */
int hv_vm_running(const hv_vm_t *vm);

/* Adds, modifies or removes host items (values ignored for REMOVE) on one
 * VM, at most 128 per call, following a 4096 job until `deadline_s` seconds
 * from now. */
int hv_kvp_items(hv_host_t *h, const char *vm_guid, hv_kvp_op_t op,
                 const hvkvp_items_t *items, double deadline_s, ws_err_t *err);

/* The pool holding a VM's hvkvp message under `prefix` (its PREFIX.head):
 * GuestExchangeItems (Linux pool 1, Windows "Guest") first, then
 * GuestIntrinsicExchangeItems (a Windows reporter writing to "Auto"); NULL
 * if neither (of the pools read) has one. *which (if not NULL) gets the
 * pool. Decode it with hvkvp_decode / hvkvp_decoder_run. */
const hvkvp_items_t *hv_vm_message_pool(const hv_vm_t *vm, const char *prefix,
                                        hv_pool_t *which);

#endif
