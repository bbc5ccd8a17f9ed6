/*
 * vms.c - a host's VMs with their KVP item pools (hv_list_vms, hyperv.h) in
 * a constant number of enumerations: Msvm_ComputerSystem, then the KVP
 * classes streamed through kvp_stream.c, whose (GUID, pool, key, value)
 * items are joined to their VM through a hash map.
 */
#include "envelope.h"
#include "host.h"
#include "hyperv_int.h"
#include "isolate.h"
#include "kvp_stream.h"
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hv_vms_free(hv_vms_t *vms) {
  if (vms == NULL)
    return;
  for (size_t i = 0; i < vms->n; i++)
    for (int p = 0; p < HV_POOL__COUNT; p++)
      hvkvp_items_free(&vms->v[i].pool[p]);
  free(vms->v);
  vms->v = NULL;
  vms->n = 0;
}

/* ---- the join map: VM GUID -> index in the result ---- */
typedef struct {
  size_t cap;    /* power of two */
  int32_t *slot; /* -1 empty */
  hv_vms_t *vms;
} hv_map_t;

static size_t hv_map_hash(const char *guid) {
  return (size_t)hvkvp_fnv1a64(HVKVP_FNV1A64_INIT, guid, strlen(guid));
}

static int hv_map_build(hv_map_t *m, hv_vms_t *vms) {
  m->cap = 16;
  while (m->cap < vms->n * 2)
    m->cap *= 2;
  m->slot = malloc(m->cap * sizeof(*m->slot));
  if (m->slot == NULL)
    return -1;
  for (size_t i = 0; i < m->cap; i++)
    m->slot[i] = -1;
  m->vms = vms;
  for (size_t i = 0; i < vms->n; i++) {
    size_t k = hv_map_hash(vms->v[i].guid) & (m->cap - 1);
    while (m->slot[k] >= 0)
      k = (k + 1) & (m->cap - 1);
    m->slot[k] = (int32_t)i;
  }
  return 0;
}

static hv_vm_t *hv_map_get(const hv_map_t *m, const char *guid) {
  size_t k = hv_map_hash(guid) & (m->cap - 1);
  while (m->slot[k] >= 0) {
    hv_vm_t *vm = &m->vms->v[m->slot[k]];
    if (strcmp(vm->guid, guid) == 0)
      return vm;
    k = (k + 1) & (m->cap - 1);
  }
  return NULL;
}

/* ---- Msvm_ComputerSystem: the VMs ---- */
typedef struct {
  hv_vms_t *vms;
  size_t cap;
  char name[64], ename[256], state[16];
  int have_name;
} hv_cs_t;

static int hv_cs_begin(void *ctx, ws_err_t *err) {
  hv_cs_t *l = ctx;
  l->name[0] = l->ename[0] = l->state[0] = '\0';
  l->have_name = 0;
  return 0;
}

static int hv_cs_prop(void *ctx, const wsman_prop_t *p, ws_err_t *err) {
  hv_cs_t *l = ctx;
  switch (hv_wmi_prop(HV_CLASS_CS, p->name)) {
  case HV_CS_NAME:
    l->have_name = p->len < sizeof(l->name);
    snprintf(l->name, sizeof(l->name), "%s", l->have_name ? p->text : "");
    break;
  case HV_CS_ELEMENTNAME:
    snprintf(l->ename, sizeof(l->ename), "%s", p->text);
    break;
  case HV_CS_ENABLEDSTATE:
    snprintf(l->state, sizeof(l->state), "%s", p->text);
    break;
  default:
    break;
  }
  return 0;
}

static hv_vm_t *hv_cs_add(hv_cs_t *l, ws_err_t *err) {
  if (l->vms->n >= HV_MAX_VMS) {
    ws_err_set(err, WS_ERR_PARSE, "more than %d VMs listed", HV_MAX_VMS);
    return NULL;
  }
  if (l->vms->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 64;
    hv_vm_t *v = realloc(l->vms->v, nc * sizeof(*v));
    if (v == NULL) {
      ws_err_set(err, WS_ERR_NOMEM, "out of memory listing VMs");
      return NULL;
    }
    l->vms->v = v;
    l->cap = nc;
  }
  hv_vm_t *vm = &l->vms->v[l->vms->n++];
  memset(vm, 0, sizeof(*vm));
  for (int p = 0; p < HV_POOL__COUNT; p++)
    hvkvp_items_init(&vm->pool[p]);
  return vm;
}

static int hv_cs_end(void *ctx, ws_err_t *err) {
  hv_cs_t *l = ctx;
  char guid[37];
  uint32_t es;
  /* VMs are named by their GUID; the host is named by its computer name. */
  if (!l->have_name || !hv_wmi_guid(l->name, strlen(l->name), guid))
    return 0;
  hv_vm_t *vm = hv_cs_add(l, err);
  if (vm == NULL)
    return -1;
  memcpy(vm->guid, guid, sizeof(guid));
  snprintf(vm->name, sizeof(vm->name), "%s", l->ename);
  /* missing or not a number: 0, "Unknown" */
  vm->state = hv_wmi_parse_u32(l->state, &es) == 0 && es <= 0xffff ? es : 0;
  return 0;
}

static const wsman_sink_t hv_cs_sink = {hv_cs_begin, hv_cs_prop, hv_cs_end,
                                        255};

/* ---- KVP items joined to their VM ---- */
typedef struct {
  hv_map_t map;
  hv_vm_t *vm;         /* the VM of the current instance, NULL: not listed */
  unsigned char *seen; /* by VM index: its instance was delivered */
  int mark_kvp;
  unsigned pools; /* the pools of the current read */
} hv_join_t;

static int hv_join_instance(void *ctx, const char *guid, ws_err_t *err) {
  hv_join_t *j = ctx;
  j->vm = hv_map_get(&j->map, guid);
  if (j->vm != NULL && j->mark_kvp)
    j->vm->has_kvp = 1;
  if (j->vm != NULL)
    j->vm->pools_read |= j->pools;
  if (j->vm != NULL && j->seen != NULL)
    j->seen[j->vm - j->map.vms->v] = 1;
  return 0;
}

static void hv_join_refuse(hv_vm_t *vm, const char *why) {
  if (vm->items_rejected++ == 0)
    snprintf(vm->reject_reason, sizeof(vm->reject_reason), "%s", why);
}

static int hv_join_item(void *ctx, const char *guid, const kvps_item_t *it,
                        ws_err_t *err) {
  hv_join_t *j = ctx;
  hv_vm_t *vm = j->vm;
  if (vm == NULL)
    return 0;
  hvkvp_items_t *dst = &vm->pool[it->pool];
  char why[160];
  if (it->refused != NULL) {
    hv_join_refuse(vm, it->refused);
  } else if (dst->n >= KVPS_MAX_ITEMS_PER_POOL) {
    /* the same VM in several instances: the cap holds for the sum */
    snprintf(why, sizeof(why),
             "%s item refused: too big (more than %d items in one pool)",
             hv_wmi_props[hv_wmi_pools[it->pool].prop].name,
             KVPS_MAX_ITEMS_PER_POOL);
    hv_join_refuse(vm, why);
  } else if (hvkvp_items_add(dst, it->key, it->key_len, it->value,
                             it->value_len) != 0) {
    return ws_err_set(err, WS_ERR_NOMEM, "out of memory storing KVP items");
  }
  return 0;
}

static const kvps_out_t hv_join_out = {hv_join_instance, hv_join_item};

/* Keys are unique in a pool: where a key repeats, the last value wins. */
static int hv_join_finish(hv_vms_t *vms, ws_err_t *err) {
  for (size_t i = 0; i < vms->n; i++)
    for (int p = 0; p < HV_POOL__COUNT; p++)
      if (hvkvp_items_dedupe(&vms->v[i].pool[p]) != 0)
        return ws_err_set(err, WS_ERR_NOMEM, "out of memory");
  return 0;
}

/* ---- reading a KVP class into the VMs ---- */
typedef struct {
  hv_host_t *h;
  hv_class_t cls;
  hv_join_t *j;
} hv_kvp_read_t;

/* The pools of `want` that class c holds. */
static unsigned hv_class_pools(hv_class_t c, unsigned want) {
  unsigned m = 0;
  for (int p = 0; p < HV_POOL__COUNT; p++)
    if (hv_wmi_pools[p].cls == c && (want & (1u << p)))
      m |= 1u << p;
  return m;
}

static int hv_kvp_read(void *ctx, const char *where, unsigned pools,
                       ws_err_t *err) {
  hv_kvp_read_t *r = ctx;
  kvps_t *s = kvps_new(r->cls, pools, &hv_join_out, r->j);
  if (s == NULL)
    return ws_err_set(err, WS_ERR_NOMEM, "out of memory");
  r->j->mark_kvp = r->cls == HV_CLASS_KVP;
  r->j->pools = pools;
  int rc = hv_wmi_enumerate(r->h->w, r->h->ns, r->cls, kvps_mask(s),
                            where != NULL && where[0] ? where : NULL,
                            r->h->max_elements, &kvps_sink, s, err);
  kvps_free(s);
  return rc;
}

static int hv_kvp_seen(void *ctx, size_t i) {
  const hv_kvp_read_t *r = ctx;
  return r->j->seen[i];
}

/* The guests' pools: everything a tenant writes, read around what cannot
 * be read (isolate.c). */
static int hv_read_guest_pools(hv_host_t *h, hv_vms_t *vms, hv_join_t *j,
                               unsigned pools, ws_err_t *err) {
  hv_kvp_read_t rd = {h, HV_CLASS_KVP, j};
  hv_reader_t r = {hv_kvp_read, hv_kvp_seen, &rd, vms, pools};
  hvsb_t where;
  hvsb_init(&where);
  hv_iso_where(h, &where);
  int rc = hvsb_failed(&where)
               ? ws_err_set(err, WS_ERR_NOMEM, "out of memory")
               : hv_kvp_read(&rd, hvsb_str(&where), r.pools, err);
  hvsb_free(&where);
  if (rc != 0 && err != NULL && err->content)
    rc = hv_iso_read_around(h, &r, err);
  return rc == 0 ? hv_iso_quarantined(h, &r, err) : -1;
}

/* A guest pool of the VMs idx[0..n) only, HV_GROUP_MAX per enumeration;
 * read around what cannot be read, as for every VM. */
static int hv_read_some(hv_host_t *h, hv_vms_t *vms, hv_join_t *j,
                        unsigned pools, const size_t *idx, size_t n,
                        ws_err_t *err) {
  hv_kvp_read_t rd = {h, HV_CLASS_KVP, j};
  hv_reader_t r = {hv_kvp_read, hv_kvp_seen, &rd, vms, pools};
  hvsb_t where;
  int rc = 0;
  hvsb_init(&where);
  memset(j->seen, 1, vms->n);
  for (size_t from = 0; from < n && rc == 0; from += HV_GROUP_MAX) {
    size_t k = n - from < HV_GROUP_MAX ? n - from : HV_GROUP_MAX;
    for (size_t i = 0; i < k; i++)
      j->seen[idx[from + i]] = 0;
    hv_iso_group(&where, vms, idx + from, k);
    rc = hvsb_failed(&where) ? ws_err_set(err, WS_ERR_NOMEM, "out of memory")
                             : hv_kvp_read(&rd, hvsb_str(&where), pools, err);
    if (rc != 0 && err->content)
      rc = hv_iso_read_around(h, &r, err);
  }
  hvsb_free(&where);
  return rc;
}

/* The VMs extra->pick selects (quarantined ones aside), as indexes into
 * vms (*n of them). */
static size_t *hv_picked(const hv_host_t *h, const hv_vms_t *vms,
                         const hv_pick_t *extra, size_t *n) {
  size_t *idx = malloc((vms->n ? vms->n : 1) * sizeof(*idx));
  *n = 0;
  for (size_t i = 0; idx != NULL && i < vms->n; i++)
    if (!hv_iso_is_quarantined(h, vms->v[i].guid) &&
        extra->pick(extra->ctx, &vms->v[i]))
      idx[(*n)++] = i;
  return idx;
}

/* The host's items (HostExchangeItems): written by us, read as they are. */
static int hv_read_host_pool(hv_host_t *h, hv_join_t *j, ws_err_t *err) {
  hv_kvp_read_t rd = {h, HV_CLASS_KVPSD, j};
  return hv_kvp_read(&rd, NULL, 1u << HV_POOL_HOST, err);
}

int hv_list_vms(hv_host_t *h, unsigned want, hv_vms_t *out, ws_err_t *err) {
  return hv_list_vms_pick(h, want, NULL, out, err);
}

/* The guest pools: `want`'s for every VM, extra's for the VMs it picks (in
 * the same enumeration when more than two groups of VMs are picked). */
static int hv_read_guests(hv_host_t *h, hv_vms_t *vms, hv_join_t *j,
                          unsigned want, const hv_pick_t *extra,
                          ws_err_t *err) {
  unsigned pools = hv_class_pools(HV_CLASS_KVP, want);
  unsigned more = extra != NULL
                      ? hv_class_pools(HV_CLASS_KVP, 1u << extra->pool) & ~pools
                      : 0;
  size_t n = 0, *idx = more ? hv_picked(h, vms, extra, &n) : NULL;
  if (more && idx == NULL)
    return ws_err_set(err, WS_ERR_NOMEM, "out of memory");
  if (n > (size_t)2 * HV_GROUP_MAX) {
    pools |= more;
    n = 0;
  }
  int rc = pools != 0 ? hv_read_guest_pools(h, vms, j, pools, err) : 0;
  if (rc == 0 && n > 0)
    rc = hv_read_some(h, vms, j, more, idx, n, err);
  free(idx);
  return rc;
}

int hv_list_vms_pick(hv_host_t *h, unsigned want, const hv_pick_t *extra,
                     hv_vms_t *out, ws_err_t *err) {
  ws_err_clear(err);
  out->n = 0;
  out->v = NULL;
  hv_iso_begin(h);
  hv_cs_t l = {.vms = out};
  hv_join_t j = {{0, NULL, NULL}, NULL, NULL, 0, 0};
  uint64_t cs = HV_PROP_BIT(HV_CS_NAME) | HV_PROP_BIT(HV_CS_ELEMENTNAME) |
                HV_PROP_BIT(HV_CS_ENABLEDSTATE);
  if (hv_wmi_enumerate(h->w, h->ns, HV_CLASS_CS, cs, NULL, h->max_elements,
                       &hv_cs_sink, &l, err) != 0)
    goto fail;
  j.seen = calloc(out->n ? out->n : 1, 1);
  if (j.seen == NULL || hv_map_build(&j.map, out) != 0) {
    ws_err_set(err, WS_ERR_NOMEM, "out of memory");
    goto fail;
  }
  if (out->n > 0 && hv_read_guests(h, out, &j, want, extra, err) != 0)
    goto fail;
  if (out->n > 0 && (want & HV_WANT_HOST) && hv_read_host_pool(h, &j, err) != 0)
    goto fail;
  if (hv_join_finish(out, err) != 0)
    goto fail;
  free(j.map.slot);
  free(j.seen);
  return 0;
fail:
  free(j.map.slot);
  free(j.seen);
  hv_vms_free(out);
  return -1;
}

/* ---- one page decoded offline (tests, fuzzing, benchmarks) ---- */
struct hv_page_decoder {
  wsman_pager_t *pager;
  kvps_t *kvps;
  hv_join_t join;
};

hv_page_decoder_t *hv_page_decoder_new(unsigned want) {
  hv_page_decoder_t *d = calloc(1, sizeof(*d));
  if (d == NULL)
    return NULL;
  d->pager = wsman_pager_new();
  d->kvps = kvps_new(HV_CLASS_KVP, want, &hv_join_out, &d->join);
  d->join.mark_kvp = 1;
  if (d->pager == NULL || d->kvps == NULL) {
    hv_page_decoder_free(d);
    return NULL;
  }
  return d;
}

void hv_page_decoder_free(hv_page_decoder_t *d) {
  if (d == NULL)
    return;
  wsman_pager_free(d->pager);
  kvps_free(d->kvps);
  free(d);
}

int hv_page_decode(hv_page_decoder_t *d, hv_vms_t *vms, const char *buf,
                   size_t len, size_t max_len, int is_pull, ws_err_t *err) {
  wsman_page_t pg;
  ws_err_clear(err);
  if (hv_map_build(&d->join.map, vms) != 0)
    return ws_err_set(err, WS_ERR_NOMEM, "out of memory");
  int rc = wsman_pager_parse(d->pager, buf, len, max_len, NULL, is_pull,
                             &kvps_sink, d->kvps, &pg, err);
  if (rc == WSMAN_PAGE_FAULT) {
    wsman_resp_t r; /* the transport describes the fault */
    rc = wsman_parse_response(buf, len, max_len, NULL, 200, &r, err) == 0
             ? ws_err_set(err, WS_ERR_PARSE, "unexpected fault page")
             : -1;
    if (r.doc != NULL)
      wsman_resp_free(&r);
  }
  if (rc == 0)
    rc = hv_join_finish(vms, err);
  free(d->join.map.slot);
  d->join.map.slot = NULL;
  return rc;
}
