/*
 * stub_hyperv.c - a stand-in for the Hyper-V model (hyperv.h) in the plugin
 * unit tests: hv_list_vms_pick returns a deep copy of stub_vms (the pools
 * asked for, the extra pool for the VMs picked; stub_picked counts them),
 * hv_kvp_items
 * records each call and applies it to the VM's host items the way Hyper-V
 * does (Add fails if a key exists, Modify if it is missing), every call
 * counts one request.
 */
#include "stubs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct hv_host {
  int dummy;
};

hv_vms_t stub_vms;
int stub_list_fail;
unsigned stub_last_want;
size_t stub_picked;
stub_op_t stub_ops[256];
size_t stub_n_ops;
int stub_kvp_fail;
double stub_last_deadline;
uint64_t stub_requests;
int stub_host_new_fail;
int stub_hosts_live;
wsman_budget_t stub_last_budget;
uint64_t stub_isolation_requests;

static void stub_items_copy(hvkvp_items_t *dst, const hvkvp_items_t *src) {
  hvkvp_items_init(dst);
  for (size_t i = 0; i < src->n; i++)
    hvkvp_items_set(dst, src->v[i].key, src->v[i].value);
}

static void stub_vm_free(hv_vm_t *vm) {
  for (int p = 0; p < HV_POOL__COUNT; p++)
    hvkvp_items_free(&vm->pool[p]);
}

void stub_free_vms(void) {
  for (size_t i = 0; i < stub_vms.n; i++)
    stub_vm_free(&stub_vms.v[i]);
  free(stub_vms.v);
  stub_vms.v = NULL;
  stub_vms.n = 0;
}

void stub_ops_clear(void) {
  for (size_t i = 0; i < stub_n_ops; i++)
    hvkvp_items_free(&stub_ops[i].items);
  stub_n_ops = 0;
}

void stub_reset(void) {
  stub_free_vms();
  stub_ops_clear();
  stub_list_fail = 0;
  stub_kvp_fail = 0;
  stub_requests = 0;
  stub_host_new_fail = 0;
  stub_last_want = 0;
  stub_isolation_requests = 0;
}

hv_vm_t *stub_add_vm(const char *guid, const char *name) {
  hv_vm_t *v = realloc(stub_vms.v, (stub_vms.n + 1) * sizeof(*v));
  if (v == NULL)
    abort();
  stub_vms.v = v;
  hv_vm_t *vm = &v[stub_vms.n++];
  memset(vm, 0, sizeof(*vm));
  snprintf(vm->guid, sizeof(vm->guid), "%s", guid);
  snprintf(vm->name, sizeof(vm->name), "%s", name);
  vm->state = HV_STATE_RUNNING;
  vm->has_kvp = 1;
  for (int p = 0; p < HV_POOL__COUNT; p++)
    hvkvp_items_init(&vm->pool[p]);
  return vm;
}

hv_host_t *hv_host_new(const hv_opts_t *o, ws_err_t *err) {
  if (stub_host_new_fail) {
    err->kind = WS_ERR_CONFIG;
    snprintf(err->msg, sizeof(err->msg), "stub: refused URL %s", o->ws.url);
    return NULL;
  }
  stub_hosts_live++;
  return calloc(1, sizeof(hv_host_t));
}

void hv_host_free(hv_host_t *h) {
  if (h != NULL)
    stub_hosts_live--;
  free(h);
}

int hv_list_vms_pick(hv_host_t *h, unsigned want, const hv_pick_t *extra,
                     hv_vms_t *out, ws_err_t *err) {
  stub_requests += 2;
  stub_last_want = want;
  stub_picked = 0;
  out->n = 0;
  out->v = NULL;
  if (stub_list_fail) {
    err->kind = WS_ERR_CONNECT;
    snprintf(err->msg, sizeof(err->msg), "stub: connection refused");
    return -1;
  }
  out->v = calloc(stub_vms.n ? stub_vms.n : 1, sizeof(hv_vm_t));
  out->n = stub_vms.n;
  for (size_t i = 0; i < stub_vms.n; i++) {
    hv_vm_t *d = &out->v[i];
    const hv_vm_t *s = &stub_vms.v[i];
    *d = *s; /* names, state, refusals, unreadable; pools copied below */
    unsigned pools = want;
    if (extra != NULL && !(want & (1u << extra->pool)) &&
        extra->pick(extra->ctx, d)) {
      pools |= 1u << extra->pool;
      stub_picked++;
    }
    d->pools_read = s->unreadable ? 0 : pools;
    for (int p = 0; p < HV_POOL__COUNT; p++) {
      if ((pools & (1u << p)) && !s->unreadable)
        stub_items_copy(&d->pool[p], &s->pool[p]);
      else
        hvkvp_items_init(&d->pool[p]);
    }
  }
  return 0;
}

void hv_vms_free(hv_vms_t *vms) {
  for (size_t i = 0; i < vms->n; i++)
    stub_vm_free(&vms->v[i]);
  free(vms->v);
  vms->v = NULL;
  vms->n = 0;
}

int hv_kvp_items(hv_host_t *h, const char *vm_guid, hv_kvp_op_t op,
                 const hvkvp_items_t *items, double deadline_s, ws_err_t *err) {
  stub_requests++;
  stub_last_deadline = deadline_s;
  if (stub_n_ops < 256) {
    stub_op_t *o = &stub_ops[stub_n_ops++];
    snprintf(o->guid, sizeof(o->guid), "%s", vm_guid);
    o->op = op;
    stub_items_copy(&o->items, items);
  }
  if (stub_kvp_fail) {
    err->kind = WS_ERR_METHOD;
    err->code = 32769;
    snprintf(err->msg, sizeof(err->msg), "stub: AddKvpItems: Access Denied");
    return -1;
  }
  hv_vm_t *vm = NULL;
  for (size_t i = 0; i < stub_vms.n; i++)
    if (strcasecmp(stub_vms.v[i].guid, vm_guid) == 0)
      vm = &stub_vms.v[i];
  if (vm == NULL) {
    err->kind = WS_ERR_NOTFOUND;
    snprintf(err->msg, sizeof(err->msg), "stub: no VM %s", vm_guid);
    return -1;
  }
  for (size_t i = 0; i < items->n; i++) {
    const char *k = items->v[i].key;
    int exists = hvkvp_items_get(&vm->pool[HV_POOL_HOST], k) != NULL;
    if ((op == HV_KVP_ADD && exists) || (op == HV_KVP_MODIFY && !exists)) {
      err->kind = WS_ERR_METHOD;
      err->code = op == HV_KVP_ADD ? 32773 : 32779;
      snprintf(err->msg, sizeof(err->msg), "stub: key %s %s", k,
               exists ? "exists" : "missing");
      return -1;
    }
    if (op == HV_KVP_REMOVE)
      hvkvp_items_del(&vm->pool[HV_POOL_HOST], k);
    else
      hvkvp_items_set(&vm->pool[HV_POOL_HOST], k, items->v[i].value);
  }
  return 0;
}

void hv_host_stats(const hv_host_t *h, wsman_stats_t *st) {
  memset(st, 0, sizeof(*st));
  st->requests = stub_requests;
  st->bytes_in = stub_requests * 1000;
  st->bytes_out = stub_requests * 500;
}

void hv_host_budget(hv_host_t *h, const wsman_budget_t *b) {
  stub_last_budget = *b;
}

void hv_host_budget_end(hv_host_t *h) {}

void hv_host_isolation(const hv_host_t *h, hv_isolation_t *st) {
  memset(st, 0, sizeof(*st));
  st->requests = stub_isolation_requests;
}
