/*
 * kvp_sax.c - streaming decode of KVP enumeration pages (see kvp_sax.h).
 * Bounded: the input is capped before parsing, a DOCTYPE is refused, every
 * collected text has a fixed buffer, items per pool are capped.
 */
#include "kvp_stream.h"
#include "cimxml.h"
#include "hv_errors.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kvps_guid_norm(const char *s, size_t len, char out[37]) {
  if (len == 38 && s[0] == '{' && s[37] == '}') {
    s++;
    len = 36;
  }
  if (len != 36)
    return 0;
  for (size_t i = 0; i < 36; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return 0;
    } else if (!isxdigit((unsigned char)c)) {
      return 0;
    }
    out[i] = (char)toupper((unsigned char)c);
  }
  out[36] = '\0';
  return 1;
}

/* ---- items: append, then one dedupe per instance ---- */

static int kvps_append(hvkvp_items_t *it, const cimx_item_t *c) {
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 32;
    hvkvp_item_t *v = realloc(it->v, cap * sizeof(*v));
    if (v == NULL)
      return -1;
    it->v = v;
    it->cap = cap;
  }
  char *k = malloc(c->name_len + 1), *d = malloc(c->data_len + 1);
  if (k == NULL || d == NULL) {
    free(k);
    free(d);
    return -1;
  }
  memcpy(k, c->name, c->name_len + 1);
  memcpy(d, c->data, c->data_len + 1);
  it->v[it->n].key = k;
  it->v[it->n].value = d;
  it->n++;
  return 0;
}

static int kvps_cmp_idx(const void *a, const void *b, void *ctx) {
  const hvkvp_items_t *it = ctx;
  size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
  int c = strcmp(it->v[ia].key, it->v[ib].key);
  return c != 0 ? c : (ia < ib ? -1 : ia > ib);
}

/* Keys are unique in hvkvp_items_t: when a key repeats, the last value wins
 * (as hvkvp_items_set would do), kept at the position of the first. */
static int kvps_dedupe(hvkvp_items_t *it) {
  if (it->n < 2)
    return 0;
  size_t *idx = malloc(it->n * sizeof(*idx));
  if (idx == NULL)
    return -1;
  for (size_t i = 0; i < it->n; i++)
    idx[i] = i;
  qsort_r(idx, it->n, sizeof(*idx), kvps_cmp_idx, it);
  int dups = 0;
  for (size_t i = 1; i < it->n; i++) {
    hvkvp_item_t *first = &it->v[idx[i - 1]], *cur = &it->v[idx[i]];
    if (strcmp(first->key, cur->key) != 0)
      continue;
    free(first->value);
    first->value = cur->value;
    free(cur->key);
    cur->key = NULL;
    cur->value = NULL;
    idx[i] = idx[i - 1];
    dups = 1;
  }
  free(idx);
  if (dups) {
    size_t o = 0;
    for (size_t i = 0; i < it->n; i++)
      if (it->v[i].key != NULL)
        it->v[o++] = it->v[i];
    it->n = o;
  }
  return 0;
}

/* Moves every item of src to the end of dst (src is left empty). */
static int kvps_move(hvkvp_items_t *dst, hvkvp_items_t *src) {
  if (src->n == 0)
    return 0;
  if (dst->n == 0) {
    hvkvp_items_free(dst);
    *dst = *src;
    hvkvp_items_init(src);
    return 0;
  }
  if (dst->n + src->n > dst->cap) {
    hvkvp_item_t *v = realloc(dst->v, (dst->n + src->n) * sizeof(*v));
    if (v == NULL)
      return -1;
    dst->v = v;
    dst->cap = dst->n + src->n;
  }
  memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
  dst->n += src->n;
  free(src->v);
  hvkvp_items_init(src);
  return 0;
}

/* ---- SAX state ---- */

enum { COL_NONE, COL_CONTEXT, COL_KEY, COL_ITEM };
enum { ST_OK, ST_FAULT, ST_ERROR };

typedef struct {
  const kvps_class_t *cls;
  kvps_find_fn find;
  void *fctx;
  int is_pull;
  wsman_page_t *pg;
  size_t *items;
  ws_err_t *err;
  xmlParserCtxtPtr ctxt;
  int status;
  int depth;
  int body, resp, in_items; /* depth of each, 0: not inside */
  int wrapper;              /* depth of a wsman:Item, 0 if none */
  int inst;                 /* depth of the current instance, 0 if none */
  int collect, collect_depth, pool;
  char *text;
  size_t tlen, tcap;
  int tover;
  char key[256];
  hvkvp_items_t tmp[KVPS_POOLS];
  unsigned rejected;
  char reason[160];
  cimx_item_t scratch;
} kvps_t;

static void kvps_error(kvps_t *s, ws_err_kind_t kind, const char *fmt,
                       const char *arg) {
  if (s->status == ST_OK) {
    ws_err_set(s->err, kind, fmt, arg);
    s->status = ST_ERROR;
  }
  xmlStopParser(s->ctxt);
}

static int kvps_is(const xmlChar *uri, const char *ns) {
  return uri != NULL && strcmp((const char *)uri, ns) == 0;
}

static void kvps_reject(kvps_t *s, const char *prop, const char *what,
                        const char *why) {
  if (s->rejected++ == 0)
    snprintf(s->reason, sizeof(s->reason), "%s item refused: %s (%s)", prop,
             what, why);
}

static void kvps_reset_instance(kvps_t *s) {
  for (int i = 0; i < KVPS_POOLS; i++)
    hvkvp_items_free(&s->tmp[i]);
  s->key[0] = '\0';
  s->rejected = 0;
  s->reason[0] = '\0';
}

static void kvps_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
                       const xmlChar *uri, int nb_ns, const xmlChar **ns,
                       int nb_attr, int nb_def, const xmlChar **attrs) {
  kvps_t *s = ctx;
  int d = ++s->depth;
  const char *name = (const char *)local;
  if (s->status != ST_OK || s->collect != COL_NONE)
    return;
  if (d == 1) {
    if (!kvps_is(uri, WSMAN_NS_SOAP) || strcmp(name, "Envelope") != 0)
      kvps_error(s, WS_ERR_PARSE, "response is not a SOAP 1.2 envelope%s", "");
    return;
  }
  if (d == 2) {
    if (kvps_is(uri, WSMAN_NS_SOAP) && strcmp(name, "Body") == 0)
      s->body = d;
    return;
  }
  if (d == 3 && s->body) {
    const char *want = s->is_pull ? "PullResponse" : "EnumerateResponse";
    if (kvps_is(uri, WSMAN_NS_SOAP) && strcmp(name, "Fault") == 0) {
      s->status = ST_FAULT;
      xmlStopParser(s->ctxt);
    } else if (kvps_is(uri, WSMAN_NS_WSEN) && strcmp(name, want) == 0) {
      s->resp = d;
    } else {
      kvps_error(s, WS_ERR_PARSE, "response has no wsen:%s", want);
    }
    return;
  }
  if (d == 4 && s->resp) {
    if (kvps_is(uri, WSMAN_NS_WSEN) &&
        strcmp(name, "EnumerationContext") == 0) {
      s->collect = COL_CONTEXT;
      s->collect_depth = d;
      s->tlen = 0;
      s->tover = 0;
    } else if ((kvps_is(uri, WSMAN_NS_WSMAN) || kvps_is(uri, WSMAN_NS_WSEN)) &&
               strcmp(name, "Items") == 0) {
      s->in_items = d;
    } else if ((kvps_is(uri, WSMAN_NS_WSMAN) || kvps_is(uri, WSMAN_NS_WSEN)) &&
               strcmp(name, "EndOfSequence") == 0) {
      s->pg->eos = 1;
    }
    return;
  }
  if (!s->in_items)
    return;
  if (d == 5 && !s->inst) {
    if (kvps_is(uri, WSMAN_NS_WSMAN) && strcmp(name, "Item") == 0) {
      s->wrapper = d;
    } else {
      s->inst = d;
      kvps_reset_instance(s);
    }
    return;
  }
  if (d == 6 && s->wrapper && !s->inst) {
    if (!(kvps_is(uri, WSMAN_NS_WSA) &&
          strcmp(name, "EndpointReference") == 0)) {
      s->inst = d;
      kvps_reset_instance(s);
    }
    return;
  }
  if (!s->inst || d != s->inst + 1)
    return;
  /* a property of the instance */
  if (strcmp(name, s->cls->key_prop) == 0) {
    s->collect = COL_KEY;
  } else {
    int pool = -1;
    for (int i = 0; i < KVPS_POOLS; i++)
      if (s->cls->pool_prop[i] != NULL &&
          strcmp(name, s->cls->pool_prop[i]) == 0)
        pool = i;
    if (pool < 0)
      return;
    for (int i = 0; i < nb_attr; i++) {
      /* five pointers per attribute: local, prefix, URI, value, end */
      const xmlChar **a = attrs + (ptrdiff_t)5 * i;
      if (strcmp((const char *)a[0], "nil") == 0 &&
          kvps_is(a[2], "http://www.w3.org/2001/XMLSchema-instance") &&
          a[4] - a[3] == 4 && memcmp(a[3], "true", 4) == 0)
        return; /* null element or null array */
    }
    s->collect = COL_ITEM;
    s->pool = pool;
  }
  s->collect_depth = d;
  s->tlen = 0;
  s->tover = 0;
}

static void kvps_chars(void *ctx, const xmlChar *ch, int len) {
  kvps_t *s = ctx;
  if (s->collect == COL_NONE || s->status != ST_OK || len <= 0)
    return;
  if (s->tlen + (size_t)len > s->tcap) {
    s->tover = 1;
    return;
  }
  memcpy(s->text + s->tlen, ch, (size_t)len);
  s->tlen += (size_t)len;
}

static void kvps_item_end(kvps_t *s) {
  const char *prop = s->cls->pool_prop[s->pool];
  if (s->tover) {
    kvps_reject(s, prop, "too big", "embedded instance over 16 KiB");
    return;
  }
  char why[96];
  cimx_rc_t rc = cimx_decode(s->text, s->tlen, &s->scratch, why, sizeof(why));
  if (rc == CIMX_OK && s->tmp[s->pool].n >= KVPS_MAX_ITEMS_PER_POOL) {
    rc = CIMX_E_TOOBIG;
    snprintf(why, sizeof(why), "more than %d items in one pool",
             KVPS_MAX_ITEMS_PER_POOL);
  }
  if (rc != CIMX_OK) {
    kvps_reject(s, prop, cimx_strerror(rc), why);
    return;
  }
  if (kvps_append(&s->tmp[s->pool], &s->scratch) != 0)
    kvps_error(s, WS_ERR_PARSE, "out of memory storing KVP items%s", "");
}

/* The instance ended: join its items to the VM its key names. */
static void kvps_instance_end(kvps_t *s) {
  char guid[37];
  const char *k = s->key;
  size_t kl;
  if (s->cls->key_is_instanceid) {
    const char *colon = strchr(k, ':');
    k = colon != NULL ? colon + 1 : k;
    kl = strcspn(k, "\\/");
  } else {
    kl = strlen(k);
  }
  (*s->items)++;
  hv_vm_t *vm = kvps_guid_norm(k, kl, guid) ? s->find(s->fctx, guid) : NULL;
  if (vm != NULL) {
    hvkvp_items_t *dst[KVPS_POOLS] = {&vm->intrinsic, &vm->guest, &vm->host};
    if (s->cls->mark_kvp)
      vm->has_kvp = 1;
    for (int i = 0; i < KVPS_POOLS; i++) {
      /* the same VM in several instances: the cap holds for the sum */
      hvkvp_items_t *t = &s->tmp[i];
      while (t->n > 0 && dst[i]->n + t->n > KVPS_MAX_ITEMS_PER_POOL) {
        t->n--;
        free(t->v[t->n].key);
        free(t->v[t->n].value);
        kvps_reject(s, s->cls->pool_prop[i], "too big",
                    "more than 4096 items in one pool");
      }
      if (kvps_move(dst[i], t) != 0 || kvps_dedupe(dst[i]) != 0) {
        kvps_error(s, WS_ERR_PARSE, "out of memory storing KVP items%s", "");
        break;
      }
    }
    if (s->rejected > 0 && vm->items_rejected == 0)
      memcpy(vm->reject_reason, s->reason, sizeof(vm->reject_reason));
    vm->items_rejected += s->rejected;
  }
  kvps_reset_instance(s);
}

static void kvps_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
                     const xmlChar *uri) {
  kvps_t *s = ctx;
  int d = s->depth--;
  if (s->status != ST_OK)
    return;
  if (s->collect != COL_NONE && d == s->collect_depth) {
    int col = s->collect;
    s->collect = COL_NONE;
    if (col == COL_ITEM) {
      kvps_item_end(s);
    } else {
      char *dst = col == COL_CONTEXT ? s->pg->context : s->key;
      size_t sz = col == COL_CONTEXT ? sizeof(s->pg->context) : sizeof(s->key);
      if (s->tover || s->tlen >= sz) {
        if (col == COL_CONTEXT)
          kvps_error(s, WS_ERR_PARSE,
                     "EnumerationContext longer than 255 bytes%s", "");
        else
          s->key[0] = '\0'; /* not a key we can join */
      } else {
        memcpy(dst, s->text, s->tlen);
        dst[s->tlen] = '\0';
      }
    }
    return;
  }
  if (s->inst && d == s->inst) {
    kvps_instance_end(s);
    s->inst = 0;
  } else if (s->wrapper && d == s->wrapper) {
    s->wrapper = 0;
  } else if (s->in_items && d == s->in_items) {
    s->in_items = 0;
  }
}

static void kvps_silent(void *ctx, xmlErrorPtr e) {}

int kvps_page(const kvps_class_t *c, kvps_find_fn find, void *fctx,
              const char *buf, size_t len, size_t max_len, int is_pull,
              wsman_page_t *pg, size_t *items, ws_err_t *err) {
  memset(pg, 0, sizeof(*pg));
  *items = 0;
  if (len == 0)
    return ws_err_set(err, WS_ERR_PARSE, "empty response body");
  if (len > max_len || len > (size_t)0x7fffffff)
    return ws_err_set(err, WS_ERR_PARSE,
                      "response of %zu bytes exceeds the limit %zu", len,
                      max_len);
  /* the DOCTYPE check of the tree parser (xmlutil.c): none at all */
  if (memmem(buf, len, "<!DOCTYPE", 9) != NULL)
    return ws_err_set(err, WS_ERR_PARSE,
                      "response: XML document has a DOCTYPE (refused)");
  kvps_t *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return ws_err_set(err, WS_ERR_PARSE, "out of memory");
  s->tcap = CIMX_MAX_INPUT + 1;
  s->text = malloc(s->tcap);
  s->cls = c;
  s->find = find;
  s->fctx = fctx;
  s->is_pull = is_pull;
  s->pg = pg;
  s->items = items;
  s->err = err;
  for (int i = 0; i < KVPS_POOLS; i++)
    hvkvp_items_init(&s->tmp[i]);
  xmlSAXHandler sax;
  memset(&sax, 0, sizeof(sax));
  sax.initialized = XML_SAX2_MAGIC;
  sax.startElementNs = kvps_start;
  sax.endElementNs = kvps_end;
  sax.characters = kvps_chars;
  sax.cdataBlock = kvps_chars;
  sax.serror = kvps_silent;
  int rc = -1;
  if (s->text == NULL) {
    ws_err_set(err, WS_ERR_PARSE, "out of memory");
    goto out;
  }
  s->ctxt = xmlCreatePushParserCtxt(&sax, s, NULL, 0, NULL);
  if (s->ctxt == NULL) {
    ws_err_set(err, WS_ERR_PARSE, "out of memory creating the XML parser");
    goto out;
  }
  xmlCtxtUseOptions(s->ctxt,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  /* fed in pieces: the push parser refuses huge single lookups */
  for (size_t off = 0; off < len && s->status == ST_OK;) {
    size_t n = len - off < 65536 ? len - off : 65536;
    if (xmlParseChunk(s->ctxt, buf + off, (int)n, 0) != 0)
      break;
    off += n;
  }
  if (s->status == ST_OK)
    xmlParseChunk(s->ctxt, NULL, 0, 1);
  if (s->status == ST_FAULT) {
    rc = WSMAN_PAGE_FAULT;
  } else if (s->status == ST_ERROR) {
    rc = -1;
  } else if (!s->ctxt->wellFormed) {
    const xmlError *e = xmlCtxtGetLastError(s->ctxt);
    char m[160] = "not well-formed";
    if (e != NULL && e->message != NULL) {
      snprintf(m, sizeof(m), "%s", e->message);
      m[strcspn(m, "\n")] = '\0';
    }
    ws_err_set(err, WS_ERR_PARSE, "response: malformed XML at line %d: %s",
               e != NULL ? e->line : 0, m);
  } else if (!s->resp) {
    ws_err_set(err, WS_ERR_PARSE, "response has no wsen:%s",
               is_pull ? "PullResponse" : "EnumerateResponse");
  } else if (!pg->eos && pg->context[0] == '\0') {
    ws_err_set(err, WS_ERR_PARSE,
               "%s has neither EndOfSequence nor EnumerationContext",
               is_pull ? "PullResponse" : "EnumerateResponse");
  } else {
    rc = 0;
  }
out:
  if (s->ctxt != NULL)
    xmlFreeParserCtxt(s->ctxt);
  for (int i = 0; i < KVPS_POOLS; i++)
    hvkvp_items_free(&s->tmp[i]);
  free(s->text);
  free(s);
  return rc;
}
