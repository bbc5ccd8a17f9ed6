/*
 * page.c - streaming read of enumeration pages (see page.h). The SOAP
 * envelope is followed by namespace URI and local name only (Windows varies
 * its prefixes); every element under Items is an instance (a wsman:Item
 * wrapper and its EndpointReference are looked through) and every element
 * under an instance a property.
 */
#include "page.h"
#include "envelope.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COL_NONE, COL_CONTEXT, COL_PROP };
enum { ST_OK, ST_FAULT, ST_ERROR };

struct wsman_pager {
  xmlSAXHandler sax;
  xmlParserCtxtPtr ctxt;
  char *text; /* collected property or context text */
  size_t tlen, tcap;
  int tover;
  char xml_error[160]; /* the parser's first complaint */
  int xml_error_line;
  /* one parse */
  const wsman_sink_t *sink;
  void *ctx;
  ws_err_t *err;
  wsman_page_t *pg;
  int is_pull, status, depth;
  int body, resp, in_items; /* depth of each, 0: not inside */
  int wrapper;              /* depth of a wsman:Item, 0 if none */
  int inst;                 /* depth of the current instance, 0 if none */
  int collect, collect_depth;
  int stopped; /* the sink wants no more instances */
  char prop[128];
  unsigned prop_flags;
};

static int pg_is(const xmlChar *uri, const char *ns) {
  return uri != NULL && strcmp((const char *)uri, ns) == 0;
}

/* Records the first error and stops the parser. */
static void pg_fail(wsman_pager_t *p, int status, const char *fmt,
                    const char *arg) {
  if (p->status == ST_OK) {
    if (status == ST_ERROR)
      ws_err_set(p->err, WS_ERR_PARSE, fmt, arg);
    p->status = status;
  }
  xmlStopParser(p->ctxt);
}

/* A sink callback's verdict: 0 go on; an error stops the parse; a stop
 * lets the page be read to its end (its EndOfSequence and context say
 * whether the enumeration must be released) without more instances. */
static void pg_verdict(wsman_pager_t *p, int rc) {
  if (rc == 0 || p->status != ST_OK || p->stopped)
    return;
  if (rc > 0) {
    p->stopped = 1;
    return;
  }
  p->status = ST_ERROR;
  xmlStopParser(p->ctxt);
}

static void pg_collect(wsman_pager_t *p, int what, int depth) {
  p->collect = what;
  p->collect_depth = depth;
  p->tlen = 0;
  p->tover = 0;
}

/* An element at depth d inside the response body (d >= 4). */
static void pg_start_items(wsman_pager_t *p, int d, const char *name,
                           const xmlChar *uri, int nb_attr,
                           const xmlChar **attrs) {
  if (d == 4) {
    if (pg_is(uri, WSMAN_NS_WSEN) && strcmp(name, "EnumerationContext") == 0)
      pg_collect(p, COL_CONTEXT, d);
    else if ((pg_is(uri, WSMAN_NS_WSMAN) || pg_is(uri, WSMAN_NS_WSEN)) &&
             strcmp(name, "Items") == 0)
      p->in_items = d;
    else if ((pg_is(uri, WSMAN_NS_WSMAN) || pg_is(uri, WSMAN_NS_WSEN)) &&
             strcmp(name, "EndOfSequence") == 0)
      p->pg->eos = 1;
    return;
  }
  if (!p->in_items)
    return;
  int inst_depth = p->wrapper ? p->wrapper + 1 : p->in_items + 1;
  if (!p->inst && d == p->in_items + 1 && pg_is(uri, WSMAN_NS_WSMAN) &&
      strcmp(name, "Item") == 0) {
    p->wrapper = d;
    return;
  }
  if (!p->inst && d == inst_depth) {
    if (p->wrapper && pg_is(uri, WSMAN_NS_WSA) &&
        strcmp(name, "EndpointReference") == 0)
      return;
    p->inst = d;
    p->pg->items++;
    if (!p->stopped && p->sink->begin != NULL)
      pg_verdict(p, p->sink->begin(p->ctx, p->err));
    return;
  }
  if (!p->inst || d != p->inst + 1 || p->stopped)
    return;
  /* a property of the instance */
  snprintf(p->prop, sizeof(p->prop), "%s", name);
  p->prop_flags = 0;
  for (int i = 0; i < nb_attr; i++) {
    /* five pointers per attribute: local, prefix, URI, value, end */
    const xmlChar **a = attrs + (ptrdiff_t)5 * i;
    if (strcmp((const char *)a[0], "nil") == 0 && pg_is(a[2], WSMAN_NS_XSI) &&
        a[4] - a[3] == 4 && memcmp(a[3], "true", 4) == 0)
      p->prop_flags |= WSMAN_PROP_NIL;
  }
  pg_collect(p, COL_PROP, d);
}

static void pg_start(void *ud, const xmlChar *local, const xmlChar *prefix,
                     const xmlChar *uri, int nb_ns, const xmlChar **ns,
                     int nb_attr, int nb_def, const xmlChar **attrs) {
  wsman_pager_t *p = ud;
  int d = ++p->depth;
  const char *name = (const char *)local;
  if (p->status != ST_OK || p->collect != COL_NONE)
    return;
  if (d == 1) {
    if (!pg_is(uri, WSMAN_NS_SOAP) || strcmp(name, "Envelope") != 0)
      pg_fail(p, ST_ERROR, "response is not a SOAP 1.2 envelope%s", "");
  } else if (d == 2) {
    if (pg_is(uri, WSMAN_NS_SOAP) && strcmp(name, "Body") == 0)
      p->body = d;
  } else if (d == 3 && p->body) {
    const char *want = p->is_pull ? "PullResponse" : "EnumerateResponse";
    if (pg_is(uri, WSMAN_NS_SOAP) && strcmp(name, "Fault") == 0)
      pg_fail(p, ST_FAULT, "%s", "");
    else if (pg_is(uri, WSMAN_NS_WSEN) && strcmp(name, want) == 0)
      p->resp = d;
    else
      pg_fail(p, ST_ERROR, "response has no wsen:%s", want);
  } else if (d >= 4 && p->resp) {
    pg_start_items(p, d, name, uri, nb_attr, attrs);
  }
}

static void pg_chars(void *ud, const xmlChar *ch, int len) {
  wsman_pager_t *p = ud;
  if (p->collect == COL_NONE || p->status != ST_OK || len <= 0)
    return;
  if (p->tlen + (size_t)len >= p->tcap) {
    p->tover = 1;
    return;
  }
  memcpy(p->text + p->tlen, ch, (size_t)len);
  p->tlen += (size_t)len;
}

static void pg_prop_end(wsman_pager_t *p) {
  unsigned flags = p->prop_flags;
  if (p->tover)
    flags |= WSMAN_PROP_CUT;
  if (flags != 0)
    p->tlen = 0;
  p->text[p->tlen] = '\0';
  wsman_prop_t prop = {p->prop, p->text, p->tlen, flags, NULL, 0};
  pg_verdict(p, p->sink->prop(p->ctx, &prop, p->err));
}

static void pg_end(void *ud, const xmlChar *local, const xmlChar *prefix,
                   const xmlChar *uri) {
  wsman_pager_t *p = ud;
  int d = p->depth--;
  if (p->status != ST_OK)
    return;
  if (p->collect != COL_NONE && d == p->collect_depth) {
    int col = p->collect;
    p->collect = COL_NONE;
    if (col == COL_PROP) {
      pg_prop_end(p);
    } else if (p->tover || p->tlen >= sizeof(p->pg->context)) {
      pg_fail(p, ST_ERROR, "EnumerationContext longer than 255 bytes%s", "");
    } else {
      memcpy(p->pg->context, p->text, p->tlen);
      p->pg->context[p->tlen] = '\0';
    }
  } else if (p->inst && d == p->inst) {
    p->inst = 0;
    if (!p->stopped && p->sink->end != NULL)
      pg_verdict(p, p->sink->end(p->ctx, p->err));
  } else if (p->wrapper && d == p->wrapper) {
    p->wrapper = 0;
  } else if (p->in_items && d == p->in_items) {
    p->in_items = 0;
  }
}

/* A DOCTYPE is refused whatever the document's encoding: no DTD, no
 * entity declarations, no amplification. */
static void pg_subset(void *ud, const xmlChar *name, const xmlChar *ext,
                      const xmlChar *sys) {
  pg_fail(ud, ST_ERROR, "response: XML document has a DOCTYPE (refused)%s", "");
}

static void pg_xml_error(void *ud, xmlErrorPtr e) {
  wsman_pager_t *p = ud;
  if (p->xml_error[0] != '\0' || e == NULL)
    return;
  snprintf(p->xml_error, sizeof(p->xml_error), "%s",
           e->message ? e->message : "not well-formed");
  p->xml_error[strcspn(p->xml_error, "\n")] = '\0';
  p->xml_error_line = e->line;
}

wsman_pager_t *wsman_pager_new(void) {
  wsman_pager_t *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NULL;
  p->sax.initialized = XML_SAX2_MAGIC;
  p->sax.startElementNs = pg_start;
  p->sax.endElementNs = pg_end;
  p->sax.characters = pg_chars;
  p->sax.cdataBlock = pg_chars;
  p->sax.internalSubset = pg_subset;
  p->sax.serror = pg_xml_error;
  p->ctxt = xmlCreatePushParserCtxt(&p->sax, p, NULL, 0, NULL);
  if (p->ctxt == NULL) {
    free(p);
    return NULL;
  }
  return p;
}

void wsman_pager_free(wsman_pager_t *p) {
  if (p == NULL)
    return;
  xmlFreeParserCtxt(p->ctxt);
  free(p->text);
  free(p);
}

/* Readies the pager for one page: buffer, state, parser. */
static int pg_reset(wsman_pager_t *p, const wsman_sink_t *sink,
                    const char *encoding, ws_err_t *err) {
  size_t need = sink->max_text + 1 > 512 ? sink->max_text + 1 : 512;
  if (p->tcap < need) {
    char *t = realloc(p->text, need);
    if (t == NULL)
      return ws_err_set(err, WS_ERR_NOMEM, "out of memory");
    p->text = t;
    p->tcap = need;
  }
  p->status = ST_OK;
  p->stopped = 0;
  p->depth = p->body = p->resp = p->in_items = p->wrapper = p->inst = 0;
  p->collect = COL_NONE;
  p->xml_error[0] = '\0';
  p->xml_error_line = 0;
  if (xmlCtxtResetPush(p->ctxt, NULL, 0, NULL, encoding) != 0)
    return ws_err_set(err, WS_ERR_PARSE,
                      "response: unsupported character set \"%.40s\"",
                      encoding ? encoding : "");
  xmlCtxtUseOptions(p->ctxt,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  return 0;
}

/* The verdict on a page that parsed to its end. */
static int pg_result(wsman_pager_t *p, ws_err_t *err) {
  const char *what = p->is_pull ? "PullResponse" : "EnumerateResponse";
  if (p->status == ST_FAULT)
    return WSMAN_PAGE_FAULT;
  if (p->status == ST_ERROR)
    return -1;
  if (!p->ctxt->wellFormed)
    return ws_err_set(
        err, WS_ERR_PARSE, "response: malformed XML at line %d: %s",
        p->xml_error_line, p->xml_error[0] ? p->xml_error : "not well-formed");
  if (!p->resp)
    return ws_err_set(err, WS_ERR_PARSE, "response has no wsen:%s", what);
  if (!p->pg->eos && p->pg->context[0] == '\0')
    return ws_err_set(err, WS_ERR_PARSE,
                      "%s has neither EndOfSequence nor EnumerationContext",
                      what);
  return p->stopped ? WSMAN_STOP : 0;
}

int wsman_pager_parse(wsman_pager_t *p, const char *buf, size_t len,
                      size_t max_len, const char *encoding, int is_pull,
                      const wsman_sink_t *sink, void *ctx, wsman_page_t *pg,
                      ws_err_t *err) {
  memset(pg, 0, sizeof(*pg));
  if (len == 0)
    return ws_err_set(err, WS_ERR_PARSE, "empty response body");
  if (len > max_len || len > (size_t)0x7fffffff)
    return ws_err_set(err, WS_ERR_PARSE,
                      "response of %zu bytes exceeds the limit %zu", len,
                      max_len);
  if (pg_reset(p, sink, encoding, err) != 0)
    return -1;
  p->sink = sink;
  p->ctx = ctx;
  p->err = err;
  p->pg = pg;
  p->is_pull = is_pull;
  /* fed in pieces: the push parser refuses huge single lookups */
  for (size_t off = 0; off < len && p->status == ST_OK;) {
    size_t n = len - off < 65536 ? len - off : 65536;
    if (xmlParseChunk(p->ctxt, buf + off, (int)n, 0) != 0)
      break;
    off += n;
  }
  if (p->status == ST_OK)
    xmlParseChunk(p->ctxt, NULL, 0, 1);
  return pg_result(p, err);
}
