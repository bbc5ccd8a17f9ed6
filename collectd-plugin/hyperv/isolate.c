/*
 * isolate.c - reading around unreadable VMs (see isolate.h). Cost: a VM
 * found on a host of n VMs costs about 2 log2(min(n, 48)) enumerations in
 * the list that finds it; while it is quarantined, nothing; each retry, one
 * enumeration per pool.
 */
#include "isolate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HV_ISO_EXCLUDE_MAX 32 /* quarantined VMs left out by WHERE ... AND */
#define HV_ISO_BACKOFF_MAX 32 /* lists between two tries: 2, 4 ... 32 */

/* The property a KVP component names its VM with (SystemName). */
static const char *hv_iso_key(void) {
  return hv_wmi_props[hv_wmi_pools[HV_POOL_GUEST].key].name;
}

void hv_iso_begin(hv_host_t *h) {
  h->list_no++;
  memset(&h->iso, 0, sizeof(h->iso));
}

static hv_quarantine_t *hv_iso_find(hv_host_t *h, const char *guid) {
  for (size_t i = 0; i < h->n_quar; i++)
    if (strcmp(h->quar[i].guid, guid) == 0)
      return &h->quar[i];
  return NULL;
}

int hv_iso_is_quarantined(const hv_host_t *h, const char *guid) {
  return hv_iso_find((hv_host_t *)h, guid) != NULL;
}

void hv_iso_where(const hv_host_t *h, hvsb_t *where) {
  for (size_t i = 0; i < h->n_quar && i < HV_ISO_EXCLUDE_MAX; i++)
    hvsb_addf(where, "%s%s <> '%s'", i ? " AND " : "", hv_iso_key(),
              h->quar[i].guid);
}

void hv_iso_group(hvsb_t *b, const hv_vms_t *vms, const size_t *idx, size_t n) {
  hvsb_reset(b);
  for (size_t i = 0; i < n; i++)
    hvsb_addf(b, "%s%s = '%s'", i ? " OR " : "", hv_iso_key(),
              vms->v[idx[i]].guid);
}

static void hv_iso_mark(hv_vm_t *vm, const char *reason) {
  vm->unreadable = 1;
  snprintf(vm->unreadable_reason, sizeof(vm->unreadable_reason), "%s", reason);
}

/* Puts the VM aside (or keeps it aside, waiting twice as long). */
static void hv_iso_quarantine(hv_host_t *h, hv_vm_t *vm, const char *reason) {
  hv_quarantine_t *q = hv_iso_find(h, vm->guid);
  hv_iso_mark(vm, reason);
  if (q == NULL && h->n_quar < HV_QUARANTINE_MAX) {
    hv_quarantine_t *nq = realloc(h->quar, (h->n_quar + 1) * sizeof(*nq));
    if (nq == NULL)
      return; /* not kept aside: it is isolated again next time */
    h->quar = nq;
    q = &h->quar[h->n_quar++];
    memset(q, 0, sizeof(*q));
    memcpy(q->guid, vm->guid, sizeof(q->guid));
    h->iso.found++;
  }
  if (q == NULL)
    return;
  q->backoff = q->backoff == 0                       ? 2
               : q->backoff * 2 > HV_ISO_BACKOFF_MAX ? HV_ISO_BACKOFF_MAX
                                                     : q->backoff * 2;
  q->due = h->list_no + q->backoff;
  snprintf(q->reason, sizeof(q->reason), "%s", reason);
}

/* Reads one VM alone, one pool at a time (the fewest properties): reason
 * says which pool could not be read and why ("" when all were). -1 only
 * for a failure that is not about the content. */
static int hv_iso_alone(const hv_reader_t *r, size_t i, char *reason, size_t sz,
                        ws_err_t *err) {
  hvsb_t where;
  int rc = 0;
  reason[0] = '\0';
  hvsb_init(&where);
  hv_iso_group(&where, r->vms, &i, 1);
  for (int p = 0; p < HV_POOL__COUNT && rc == 0; p++) {
    ws_err_t e;
    if (!(r->pools & (1u << p)) ||
        r->read(r->ctx, hvsb_str(&where), 1u << p, &e) == 0)
      continue;
    if (!e.content) {
      *err = e;
      rc = -1;
    } else if (reason[0] == '\0') {
      snprintf(reason, sz, "%s: %.180s",
               hv_wmi_props[hv_wmi_pools[p].prop].name, e.msg);
    }
  }
  hvsb_free(&where);
  return rc;
}

static int hv_iso_one(hv_host_t *h, const hv_reader_t *r, size_t i,
                      ws_err_t *err) {
  char reason[224];
  if (hv_iso_alone(r, i, reason, sizeof(reason), err) != 0)
    return -1;
  if (reason[0] != '\0')
    hv_iso_quarantine(h, &r->vms->v[i], reason);
  return 0;
}

/* Reads the VMs idx[0..n) as a group; where that fails for what a page
 * holds, halves what the group did not deliver until one VM is left. */
static int hv_iso_bisect(hv_host_t *h, const hv_reader_t *r, size_t *idx,
                         size_t n, hvsb_t *where, ws_err_t *err) {
  ws_err_t e;
  if (n == 0)
    return 0;
  if (n == 1)
    return hv_iso_one(h, r, idx[0], err);
  hv_iso_group(where, r->vms, idx, n);
  if (r->read(r->ctx, hvsb_str(where), r->pools, &e) == 0)
    return 0;
  if (!e.content) {
    *err = e;
    return -1;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!r->seen(r->ctx, idx[i]))
      idx[m++] = idx[i];
  return hv_iso_bisect(h, r, idx, m / 2, where, err) != 0 ||
                 hv_iso_bisect(h, r, idx + m / 2, m - m / 2, where, err) != 0
             ? -1
             : 0;
}

int hv_iso_read_around(hv_host_t *h, const hv_reader_t *r, ws_err_t *err) {
  wsman_stats_t s0, s1;
  hvsb_t where;
  size_t *idx = malloc((r->vms->n ? r->vms->n : 1) * sizeof(*idx));
  size_t n = 0;
  if (idx == NULL)
    return ws_err_set(err, WS_ERR_NOMEM, "out of memory");
  wsman_get_stats(h->w, &s0);
  for (size_t i = 0; i < r->vms->n; i++)
    if (!r->seen(r->ctx, i) && hv_iso_find(h, r->vms->v[i].guid) == NULL)
      idx[n++] = i;
  hvsb_init(&where);
  int rc = 0;
  for (size_t from = 0; from < n && rc == 0; from += HV_GROUP_MAX)
    rc = hv_iso_bisect(h, r, idx + from,
                       n - from < HV_GROUP_MAX ? n - from : HV_GROUP_MAX,
                       &where, err);
  hvsb_free(&where);
  free(idx);
  wsman_get_stats(h->w, &s1);
  h->iso.requests += s1.requests - s0.requests;
  return rc;
}

/* Listed VM index of guid, or -1. */
static long hv_iso_listed(const hv_vms_t *vms, const char *guid) {
  for (size_t i = 0; i < vms->n; i++)
    if (strcmp(vms->v[i].guid, guid) == 0)
      return (long)i;
  return -1;
}

int hv_iso_quarantined(hv_host_t *h, const hv_reader_t *r, ws_err_t *err) {
  wsman_stats_t s0, s1;
  wsman_get_stats(h->w, &s0);
  size_t o = 0;
  int rc = 0;
  for (size_t k = 0; k < h->n_quar; k++) {
    hv_quarantine_t q = h->quar[k];
    long i = hv_iso_listed(r->vms, q.guid);
    char reason[224] = "";
    if (i < 0)
      continue; /* gone from the host: forgotten */
    if (rc == 0 && h->list_no >= q.due) {
      h->iso.retried++;
      rc = hv_iso_alone(r, (size_t)i, reason, sizeof(reason), err);
      if (rc == 0 && reason[0] == '\0')
        continue; /* readable again */
    }
    h->quar[o++] = q;
    if (reason[0] != '\0') { /* still unreadable: wait twice as long */
      hv_quarantine_t *nq = &h->quar[o - 1];
      nq->backoff = nq->backoff * 2 > HV_ISO_BACKOFF_MAX ? HV_ISO_BACKOFF_MAX
                                                         : nq->backoff * 2;
      nq->due = h->list_no + nq->backoff;
      snprintf(nq->reason, sizeof(nq->reason), "%s", reason);
    }
    hv_iso_mark(&r->vms->v[i], h->quar[o - 1].reason);
    h->iso.quarantined++;
  }
  h->n_quar = o;
  wsman_get_stats(h->w, &s1);
  h->iso.requests += s1.requests - s0.requests;
  return rc;
}
