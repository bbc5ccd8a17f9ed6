/*
 * hyperv.h - the Hyper-V WMI model (root/virtualization/v2) above the WS-Man
 * transport (wsman.h): list VMs with their KVP items in a constant number of
 * enumerations, and add/modify/remove host KVP items through
 * Msvm_VirtualSystemManagementService, following Msvm_ConcreteJob. Used by
 * the collectd plugin (hyperv_kvp.c) and the operator CLI (hvkvpctl.c).
 */
#ifndef HVKVP_HYPERV_H
#define HVKVP_HYPERV_H

#include "hvkvp.h"
#include "wsman.h"

#include <stdint.h>

typedef struct hv_host hv_host_t;

typedef struct {
  const char *url;      /* http(s)://host:port/wsman */
  const char *user;     /* DOMAIN\user or user@REALM; NULL: none */
  const char *password; /* never logged */
  const char *auth;     /* "basic" | "ntlm" | "negotiate" | "kerberos" */
  const char *cacert;   /* CA file for HTTPS; NULL: system store */
  int insecure_peer;    /* 1: skip the certificate check (default 0: verify) */
  int insecure_host;    /* 1: skip the host name check (default 0: verify) */
  double timeout;       /* seconds for one request, default 10 */
  const char *ns;       /* default "root/virtualization/v2" */
  unsigned max_envelope_kb; /* default 500 */
  unsigned max_elements;    /* per Enumerate/Pull batch, default 512 */
  /* Added by the host library (NULL keeps the defaults): for kerberos,
   * ntlm and negotiate, message encryption "auto" (seal over http://,
   * TLS only over https://), "required" or "off"; a Kerberos client keytab
   * and principal instead of the credential cache. */
  const char *encryption;
  const char *keytab;
  const char *principal;
} hv_opts_t;

typedef struct {
  char guid[64];           /* Msvm_ComputerSystem.Name */
  char name[256];          /* ElementName */
  int enabled_state;       /* 2 running, 3 off, 6 enabled but offline, ... */
  int has_kvp;             /* a Msvm_KvpExchangeComponent was joined */
  hvkvp_items_t intrinsic; /* GuestIntrinsicExchangeItems (Name -> Data) */
  hvkvp_items_t guest;     /* GuestExchangeItems */
  hvkvp_items_t host;      /* HostExchangeItems (setting data) */
  /* Embedded item instances refused while decoding (cimxml.h rules: wrong
   * class, no Name, duplicate property, over the size caps, bad encoding);
   * the first refusal is described in reject_reason. */
  unsigned items_rejected;
  char reject_reason[160];
} hv_vm_t;

typedef struct {
  size_t n;
  hv_vm_t *v;
} hv_vms_t;

enum {
  HV_WANT_INTRINSIC = 1,
  HV_WANT_GUEST = 2,
  HV_WANT_HOST = 4,
};

typedef enum { HV_KVP_ADD, HV_KVP_MODIFY, HV_KVP_REMOVE } hv_kvp_op_t;

hv_host_t *hv_host_new(const hv_opts_t *o, ws_err_t *err);
void hv_host_free(hv_host_t *h);

/* All VMs of the host (not the host itself) with the items asked for in
 * `want`, in O(1) enumerations whatever the number of VMs. */
int hv_list_vms(hv_host_t *h, unsigned want, hv_vms_t *out, ws_err_t *err);
void hv_vms_free(hv_vms_t *vms);

/* Adds, modifies or removes host items (values ignored for REMOVE) on one
 * VM, at most 128 per call, following a 4096 job until `deadline_s` seconds
 * from now. */
int hv_kvp_items(hv_host_t *h, const char *vm_guid, hv_kvp_op_t op,
                 const hvkvp_items_t *items, double deadline_s, ws_err_t *err);

void hv_host_stats(const hv_host_t *h, wsman_stats_t *st);

/* Decodes a VM's hvkvp message under `prefix`: from GuestExchangeItems (Linux
 * pool 1, Windows "Guest"), or, when those hold no head, from
 * GuestIntrinsicExchangeItems (a Windows reporter writing to "Auto"). Same
 * contract as hvkvp_decode. */
int hv_vm_decode(const hv_vm_t *vm, const char *prefix, hvkvp_msg_t *msg,
                 hvkvp_head_t *head, hvkvp_err_t *err);
/* "Completed with No Error", "Access Denied", ... for a method ReturnValue. */
const char *hv_return_code_str(uint32_t rc);

#endif
