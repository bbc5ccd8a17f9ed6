/*
 * kvp_stream.c - decoding the KVP pools of streamed instances (see
 * kvp_stream.h). One instance's items are kept in a reused arena (no
 * allocation per item) until the instance ends and names its VM. Bounded:
 * an embedded instance over CIMX_MAX_INPUT, or more than
 * KVPS_MAX_ITEMS_PER_POOL items in a pool, is refused item by item.
 */
#include "kvp_stream.h"
#include "cimxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  hv_pool_t pool;
  size_t key, value, refused; /* offsets into the arena; refused 0: none */
  size_t key_len, value_len;
} kvps_rec_t;

struct kvps {
  hv_class_t cls;
  hv_prop_t key_prop;
  int key_in_path;
  int pool_of[HV_PROP__COUNT]; /* the pool an array property holds, or -1 */
  const kvps_out_t *out;
  void *out_ctx;
  /* the current instance */
  char key[256];
  int key_ok;
  size_t n_pool[HV_POOL__COUNT];
  kvps_rec_t *recs;
  size_t n_recs, cap_recs;
  char *arena; /* starts with a NUL: offset 0 is "" */
  size_t alen, acap;
  cimx_item_t scratch;
};

kvps_t *kvps_new(hv_class_t c, unsigned want, const kvps_out_t *out,
                 void *out_ctx) {
  kvps_t *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NULL;
  s->cls = c;
  s->out = out;
  s->out_ctx = out_ctx;
  s->key_prop = (hv_prop_t)-1;
  for (int i = 0; i < HV_PROP__COUNT; i++)
    s->pool_of[i] = -1;
  for (int p = 0; p < HV_POOL__COUNT; p++) {
    const hv_pool_desc_t *d = &hv_wmi_pools[p];
    if (d->cls != c)
      continue;
    s->key_prop = d->key;
    s->key_in_path = d->key_in_path;
    if (want & (1u << p))
      s->pool_of[d->prop] = p;
  }
  return s;
}

void kvps_free(kvps_t *s) {
  if (s == NULL)
    return;
  free(s->recs);
  free(s->arena);
  free(s);
}

uint64_t kvps_mask(const kvps_t *s) {
  uint64_t m = HV_PROP_BIT(s->key_prop);
  for (int i = 0; i < HV_PROP__COUNT; i++)
    if (s->pool_of[i] >= 0)
      m |= HV_PROP_BIT(i);
  return m;
}

#define KVPS_NOMEM ((size_t)-1)

/* Appends n bytes and a NUL to the arena; its offset, or KVPS_NOMEM. */
static size_t kvps_keep(kvps_t *s, const char *p, size_t n) {
  if (s->alen + n + 1 > s->acap) {
    size_t cap = s->acap ? s->acap : 16384;
    while (cap < s->alen + n + 1)
      cap *= 2;
    char *a = realloc(s->arena, cap);
    if (a == NULL)
      return KVPS_NOMEM;
    s->arena = a;
    s->acap = cap;
  }
  size_t off = s->alen;
  memcpy(s->arena + off, p, n);
  s->arena[off + n] = '\0';
  s->alen += n + 1;
  return off;
}

static kvps_rec_t *kvps_rec(kvps_t *s, hv_pool_t pool, ws_err_t *err) {
  if (s->n_recs == s->cap_recs) {
    size_t cap = s->cap_recs ? s->cap_recs * 2 : 64;
    kvps_rec_t *r = realloc(s->recs, cap * sizeof(*r));
    if (r == NULL) {
      ws_err_set(err, WS_ERR_NOMEM, "out of memory storing KVP items");
      return NULL;
    }
    s->recs = r;
    s->cap_recs = cap;
  }
  kvps_rec_t *r = &s->recs[s->n_recs++];
  memset(r, 0, sizeof(*r));
  r->pool = pool;
  return r;
}

static int kvps_refuse(kvps_t *s, hv_pool_t pool, const char *what,
                       const char *why, ws_err_t *err) {
  char msg[224];
  snprintf(msg, sizeof(msg), "%s item refused: %s (%s)",
           hv_wmi_props[hv_wmi_pools[pool].prop].name, what, why);
  kvps_rec_t *r = kvps_rec(s, pool, err);
  if (r == NULL)
    return -1;
  r->refused = kvps_keep(s, msg, strlen(msg));
  return r->refused == KVPS_NOMEM
             ? ws_err_set(err, WS_ERR_NOMEM, "out of memory")
             : 0;
}

static int kvps_item(kvps_t *s, hv_pool_t pool, const wsman_prop_t *p,
                     ws_err_t *err) {
  ws_err_t why;
  if (p->flags & WSMAN_PROP_CUT)
    return kvps_refuse(s, pool, "too big", "embedded instance over 16 KiB",
                       err);
  if (s->n_pool[pool] >= KVPS_MAX_ITEMS_PER_POOL)
    return kvps_refuse(s, pool, "too big", "more than 4096 items in one pool",
                       err);
  cimx_rc_t rc = cimx_decode(p->text, p->len, &s->scratch, &why);
  if (rc != CIMX_OK)
    return kvps_refuse(s, pool, cimx_strerror(rc), why.msg, err);
  kvps_rec_t *r = kvps_rec(s, pool, err);
  if (r == NULL)
    return -1;
  r->key = kvps_keep(s, s->scratch.name, s->scratch.name_len);
  r->value = kvps_keep(s, s->scratch.data, s->scratch.data_len);
  r->key_len = s->scratch.name_len;
  r->value_len = s->scratch.data_len;
  s->n_pool[pool]++;
  if (r->key == KVPS_NOMEM || r->value == KVPS_NOMEM)
    return ws_err_set(err, WS_ERR_NOMEM, "out of memory storing KVP items");
  return 0;
}

static int kvps_begin(void *ctx, ws_err_t *err) {
  kvps_t *s = ctx;
  s->key_ok = 0;
  s->n_recs = 0;
  s->alen = 0;
  memset(s->n_pool, 0, sizeof(s->n_pool));
  /* offset 0 holds "": a record's refused 0 means "not refused" */
  return kvps_keep(s, "", 0) == KVPS_NOMEM
             ? ws_err_set(err, WS_ERR_NOMEM, "out of memory")
             : 0;
}

static int kvps_prop(void *ctx, const wsman_prop_t *p, ws_err_t *err) {
  kvps_t *s = ctx;
  int id = hv_wmi_prop(s->cls, p->name);
  if (id < 0)
    return 0;
  if (id == (int)s->key_prop) {
    s->key_ok = !(p->flags & (WSMAN_PROP_NIL | WSMAN_PROP_CUT)) &&
                p->len < sizeof(s->key);
    if (s->key_ok)
      memcpy(s->key, p->text, p->len + 1);
    return 0;
  }
  if (s->pool_of[id] < 0 || (p->flags & WSMAN_PROP_NIL))
    return 0; /* not wanted, or a null element or array */
  return kvps_item(s, (hv_pool_t)s->pool_of[id], p, err);
}

/* The VM GUID the instance's key names, or 0. */
static int kvps_guid(const kvps_t *s, char guid[37]) {
  const char *k = s->key;
  size_t kl;
  if (!s->key_ok)
    return 0;
  if (s->key_in_path) {
    const char *colon = strchr(k, ':');
    k = colon != NULL ? colon + 1 : k;
    kl = strcspn(k, "\\/");
  } else {
    kl = strlen(k);
  }
  return hv_wmi_guid(k, kl, guid);
}

static int kvps_end(void *ctx, ws_err_t *err) {
  kvps_t *s = ctx;
  char guid[37];
  if (!kvps_guid(s, guid))
    return 0; /* not a VM: the host's own component, or junk */
  if (s->out->instance != NULL && s->out->instance(s->out_ctx, guid, err) != 0)
    return -1;
  for (size_t i = 0; i < s->n_recs; i++) {
    const kvps_rec_t *r = &s->recs[i];
    kvps_item_t it = {r->pool, NULL, NULL, 0, 0, NULL};
    if (r->refused != 0) {
      it.refused = s->arena + r->refused;
    } else {
      it.key = s->arena + r->key;
      it.value = s->arena + r->value;
      it.key_len = r->key_len;
      it.value_len = r->value_len;
    }
    if (s->out->item(s->out_ctx, guid, &it, err) != 0)
      return -1;
  }
  return 0;
}

const wsman_sink_t kvps_sink = {kvps_begin, kvps_prop, kvps_end,
                                CIMX_MAX_INPUT};
