/*
 * envelope.c - WS-Management SOAP envelopes (see envelope.h): requests are
 * built as text with escaping (sbuf), responses parsed with the safe
 * libxml2 helpers (xmldoc) and read by namespace URI + local name only.
 */
#include "envelope.h"
#include "xmldoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- envelope building ---- */

void wsman_new_message_id(char out[64]) {
  unsigned char r[16];
  if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
    /* fall back to something unique enough for a message id */
    static unsigned long counter;
    unsigned long v = (unsigned long)time(NULL) ^ (++counter << 20);
    for (size_t i = 0; i < sizeof(r); i++)
      r[i] = (unsigned char)(v >> ((i % 8) * 8)) ^ (unsigned char)i;
  }
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, 64,
           "uuid:%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
           "%02X%02X%02X%02X%02X%02X",
           r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
           r[11], r[12], r[13], r[14], r[15]);
}

static void wsman_add_selectors(hvsb_t *b, const wsman_selector_t *sel,
                                size_t nsel) {
  if (nsel == 0)
    return;
  hvsb_adds(b, "<w:SelectorSet>");
  for (size_t i = 0; i < nsel; i++) {
    hvsb_adds(b, "<w:Selector Name=\"");
    hvsb_add_xml(b, sel[i].name);
    hvsb_adds(b, "\">");
    hvsb_add_xml(b, sel[i].value);
    hvsb_adds(b, "</w:Selector>");
  }
  hvsb_adds(b, "</w:SelectorSet>");
}

static void wsman_head(hvsb_t *b, const wsman_hdr_t *h) {
  hvsb_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
               "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP
               "\" xmlns:a=\"" WSMAN_NS_WSA "\" xmlns:n=\"" WSMAN_NS_WSEN
               "\" xmlns:w=\"" WSMAN_NS_WSMAN "\"><s:Header><a:To>");
  hvsb_add_xml(b, h->to);
  hvsb_adds(b, "</a:To><w:ResourceURI s:mustUnderstand=\"true\">");
  hvsb_add_xml(b, h->resource_uri);
  hvsb_adds(b, "</w:ResourceURI><a:ReplyTo><a:Address "
               "s:mustUnderstand=\"true\">" WSMAN_ANONYMOUS
               "</a:Address></a:ReplyTo><a:Action s:mustUnderstand=\"true\">");
  hvsb_add_xml(b, h->action);
  hvsb_addf(b,
            "</a:Action><w:MaxEnvelopeSize s:mustUnderstand=\"true\">%u"
            "</w:MaxEnvelopeSize><a:MessageID>",
            h->max_envelope);
  hvsb_add_xml(b, h->message_id);
  hvsb_addf(b,
            "</a:MessageID><w:Locale xml:lang=\"en-US\" "
            "s:mustUnderstand=\"false\"/><w:OperationTimeout>PT%u.000S"
            "</w:OperationTimeout>",
            h->timeout_s);
  wsman_add_selectors(b, h->sel, h->nsel);
  hvsb_adds(b, "</s:Header><s:Body>");
}

static int wsman_tail(hvsb_t *b) {
  hvsb_adds(b, "</s:Body></s:Envelope>");
  return hvsb_failed(b) ? -1 : 0;
}

int wsman_build_enumerate(hvsb_t *b, const wsman_hdr_t *h, const char *wql,
                          unsigned max_elements) {
  wsman_head(b, h);
  hvsb_addf(b,
            "<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>%u"
            "</w:MaxElements>",
            max_elements);
  if (wql != NULL) {
    hvsb_adds(b, "<w:Filter Dialect=\"" WSMAN_DIALECT_WQL "\">");
    hvsb_add_xml(b, wql);
    hvsb_adds(b, "</w:Filter>");
  }
  hvsb_adds(b, "</n:Enumerate>");
  return wsman_tail(b);
}

int wsman_build_pull(hvsb_t *b, const wsman_hdr_t *h, const char *context,
                     unsigned max_elements) {
  wsman_head(b, h);
  hvsb_adds(b, "<n:Pull><n:EnumerationContext>");
  hvsb_add_xml(b, context);
  hvsb_addf(b,
            "</n:EnumerationContext><n:MaxElements>%u</n:MaxElements>"
            "</n:Pull>",
            max_elements);
  return wsman_tail(b);
}

int wsman_build_release(hvsb_t *b, const wsman_hdr_t *h, const char *context) {
  wsman_head(b, h);
  hvsb_adds(b, "<n:Release><n:EnumerationContext>");
  hvsb_add_xml(b, context);
  hvsb_adds(b, "</n:EnumerationContext></n:Release>");
  return wsman_tail(b);
}

int wsman_build_get(hvsb_t *b, const wsman_hdr_t *h) {
  wsman_head(b, h);
  return wsman_tail(b);
}

int wsman_build_invoke(hvsb_t *b, const wsman_hdr_t *h, const char *body_xml) {
  wsman_head(b, h);
  hvsb_adds(b, body_xml);
  return wsman_tail(b);
}

void wsman_build_epr(hvsb_t *b, const char *resource_uri,
                     const wsman_selector_t *sel, size_t nsel) {
  hvsb_adds(b, "<a:Address xmlns:a=\"" WSMAN_NS_WSA "\">" WSMAN_ANONYMOUS
               "</a:Address><a:ReferenceParameters xmlns:a=\"" WSMAN_NS_WSA
               "\" xmlns:w=\"" WSMAN_NS_WSMAN "\"><w:ResourceURI>");
  hvsb_add_xml(b, resource_uri);
  hvsb_adds(b, "</w:ResourceURI>");
  wsman_add_selectors(b, sel, nsel);
  hvsb_adds(b, "</a:ReferenceParameters>");
}

/* ---- response parsing ---- */

void wsman_resp_free(wsman_resp_t *r) {
  if (r == NULL)
    return;
  if (r->doc != NULL)
    xmlFreeDoc(r->doc);
  r->doc = NULL;
  r->body = NULL;
}

/* Text with whitespace runs collapsed and control characters dropped, cut to
 * bufsz. */
static void wsman_clean_text(const xmlNode *n, char *buf, size_t bufsz) {
  xmlChar *all = xmlNodeGetContent(n);
  size_t o = 0;
  int space = 0;
  if (all != NULL) {
    for (const unsigned char *p = all; *p && o + 1 < bufsz; p++) {
      if (*p <= 0x20 || *p == 0x7f) {
        space = o > 0;
        continue;
      }
      if (space && o + 2 < bufsz)
        buf[o++] = ' ';
      space = 0;
      buf[o++] = (char)*p;
    }
  }
  if (bufsz > 0)
    buf[o] = '\0';
  xmlFree(all);
}

/* Depth-bounded search for the first element with this local name. */
static xmlNodePtr wsman_find_desc(const xmlNode *n, const char *local,
                                  int depth) {
  if (n == NULL || depth > 16)
    return NULL;
  for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (strcmp((const char *)c->name, local) == 0)
      return c;
    xmlNodePtr d = wsman_find_desc(c, local, depth + 1);
    if (d != NULL)
      return d;
  }
  return NULL;
}

static uint32_t wsman_parse_u32(const char *s, int *ok) {
  char *end;
  *ok = 0;
  if (s == NULL || *s == '\0' || *s == '-')
    return 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (*end != '\0' || v > 0xffffffffULL)
    return 0;
  *ok = 1;
  return (uint32_t)v;
}

void wsman_fault_to_err(const xmlNode *fault, long http_status, ws_err_t *err) {
  char code[96] = "", sub[96] = "", reason[256] = "", wsmsg[256] = "";
  char wmimsg[256] = "", wscode_s[32] = "";
  uint32_t wscode = 0, wmicode = 0;
  int have_ws = 0, have_wmi = 0;
  xmlNodePtr c = hvx_child(fault, WSMAN_NS_SOAP, "Code");
  wsman_clean_text(hvx_child(c, WSMAN_NS_SOAP, "Value"), code, sizeof(code));
  wsman_clean_text(
      hvx_path(c, WSMAN_NS_SOAP, "Subcode", "Value", (const char *)NULL), sub,
      sizeof(sub));
  wsman_clean_text(
      hvx_path(fault, WSMAN_NS_SOAP, "Reason", "Text", (const char *)NULL),
      reason, sizeof(reason));
  xmlNodePtr detail = hvx_child(fault, WSMAN_NS_SOAP, "Detail");
  xmlNodePtr wf = hvx_child(detail, WSMAN_NS_WSMANFAULT, "WSManFault");
  if (wf != NULL) {
    xmlChar *a = hvx_attr(wf, "Code");
    if (a != NULL) {
      wscode = wsman_parse_u32((const char *)a, &have_ws);
      snprintf(wscode_s, sizeof(wscode_s), "%s", (const char *)a);
      xmlFree(a);
    }
    wsman_clean_text(hvx_child(wf, WSMAN_NS_WSMANFAULT, "Message"), wsmsg,
                     sizeof(wsmsg));
  }
  xmlNodePtr wmi = wsman_find_desc(detail, "MSFT_WmiError", 0);
  if (wmi != NULL) {
    char tmp[32];
    wsman_clean_text(hvx_child(wmi, NULL, "error_Code"), tmp, sizeof(tmp));
    wmicode = wsman_parse_u32(tmp, &have_wmi);
    wsman_clean_text(hvx_child(wmi, NULL, "Message"), wmimsg, sizeof(wmimsg));
  }
  hvsb_t b;
  hvsb_init(&b);
  hvsb_adds(&b, "WS-Management fault");
  if (http_status > 0)
    hvsb_addf(&b, " (HTTP %ld)", http_status);
  hvsb_addf(&b, " %s", code[0] ? code : "(no code)");
  if (sub[0])
    hvsb_addf(&b, "/%s", sub);
  if (reason[0])
    hvsb_addf(&b, ": %s", reason);
  if (have_ws)
    hvsb_addf(&b, " [WSManFault %u (0x%08X)%s%s]", wscode, wscode,
              wsmsg[0] ? ": " : "", wsmsg);
  else if (wsmsg[0] || wscode_s[0])
    hvsb_addf(&b, " [WSManFault %s: %s]", wscode_s, wsmsg);
  if (have_wmi || wmimsg[0])
    hvsb_addf(&b, " [MSFT_WmiError %u (0x%08X)%s%s]", wmicode, wmicode,
              wmimsg[0] ? ": " : "", wmimsg);
  if (err != NULL) {
    const char *local = strrchr(sub, ':');
    ws_err_set(err, WS_ERR_FAULT, "%s", hvsb_str(&b));
    err->http_status = http_status;
    err->code = have_wmi ? wmicode : have_ws ? wscode : 0;
    /* the response would not fit the envelope: a smaller one may */
    err->content = strcmp(local ? local + 1 : sub, "EncodingLimit") == 0;
  }
  hvsb_free(&b);
}

int wsman_parse_response(const char *buf, size_t len, size_t max_len,
                         const char *encoding, long http_status,
                         wsman_resp_t *r, ws_err_t *err) {
  r->doc = NULL;
  r->body = NULL;
  char why[256];
  xmlDocPtr doc = NULL;
  if (len > 0)
    doc = hvx_parse(buf, len, max_len, encoding, why, sizeof(why));
  else
    snprintf(why, sizeof(why), "empty response body");
  xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
  xmlNodePtr body = NULL;
  if (root != NULL && hvx_is(root, WSMAN_NS_SOAP, "Envelope"))
    body = hvx_child(root, WSMAN_NS_SOAP, "Body");
  xmlNodePtr fault = body ? hvx_child(body, WSMAN_NS_SOAP, "Fault") : NULL;
  if (fault != NULL) {
    wsman_fault_to_err(fault, http_status, err);
    xmlFreeDoc(doc);
    return -1;
  }
  if (http_status == 401) {
    xmlFreeDoc(doc);
    ws_err_set(err, WS_ERR_AUTH,
               "HTTP 401: authentication refused (check user, password and "
               "auth scheme)");
    if (err)
      err->http_status = 401;
    return -1;
  }
  if (http_status != 200) {
    xmlFreeDoc(doc);
    if (http_status == 413)
      ws_err_set(err, WS_ERR_HTTP,
                 "HTTP 413: request or response envelope too large for the "
                 "server (MaxEnvelopeSizekb)");
    else
      ws_err_set(err, WS_ERR_HTTP, "HTTP %ld without a SOAP fault",
                 http_status);
    if (err) {
      err->http_status = http_status;
      err->content = http_status == 413;
    }
    return -1;
  }
  if (doc == NULL) {
    ws_err_set(err, WS_ERR_PARSE, "response: %s", why);
    return -1;
  }
  if (body == NULL) {
    xmlFreeDoc(doc);
    return ws_err_set(err, WS_ERR_PARSE,
                      "response is not a SOAP 1.2 envelope with a Body");
  }
  r->doc = doc;
  r->body = body;
  return 0;
}

/* ---- one instance to a sink ---- */

/* The selectors of an endpoint reference (wsa:ReferenceParameters /
 * wsman:SelectorSet); texts stay owned by the document or by tofree. */
static size_t wsman_epr_selectors(const xmlNode *rp, wsman_selector_t *sel,
                                  xmlChar **tofree) {
  size_t n = 0;
  xmlNodePtr ss = hvx_child(rp, WSMAN_NS_WSMAN, "SelectorSet");
  for (xmlNodePtr s = hvx_child(ss, WSMAN_NS_WSMAN, "Selector");
       s != NULL && n < WSMAN_MAX_SELECTORS;
       s = hvx_next(s, WSMAN_NS_WSMAN, "Selector")) {
    xmlChar *name = hvx_attr(s, "Name");
    xmlChar *val = NULL;
    const char *v = hvx_text(s, &val);
    if (name == NULL) {
      xmlFree(val);
      continue;
    }
    tofree[2 * n] = name;
    tofree[2 * n + 1] = val;
    sel[n].name = (const char *)name;
    sel[n].value = v;
    n++;
  }
  return n;
}

static int wsman_deliver_prop(const xmlNode *c, const wsman_sink_t *sink,
                              void *ctx, ws_err_t *err) {
  wsman_selector_t sel[WSMAN_MAX_SELECTORS];
  xmlChar *owned[2 * WSMAN_MAX_SELECTORS] = {NULL};
  xmlChar *text = NULL;
  wsman_prop_t p = {(const char *)c->name, "", 0, 0, sel, 0};
  xmlNodePtr rp = hvx_child(c, WSMAN_NS_WSA, "ReferenceParameters");
  if (rp != NULL) {
    p.nsel = wsman_epr_selectors(rp, sel, owned);
  } else if (hvx_is_nil(c)) {
    p.flags = WSMAN_PROP_NIL;
  } else {
    p.text = hvx_text(c, &text);
    p.len = strlen(p.text);
    if (p.len > sink->max_text) {
      p.text = "";
      p.len = 0;
      p.flags = WSMAN_PROP_CUT;
    }
  }
  int rc = sink->prop(ctx, &p, err);
  for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
    xmlFree(owned[i]);
  xmlFree(text);
  return rc;
}

int wsman_deliver(const xmlNode *inst, const wsman_sink_t *sink, void *ctx,
                  ws_err_t *err) {
  int rc = sink->begin ? sink->begin(ctx, err) : 0;
  for (xmlNodePtr c = hvx_first_elem(inst); c != NULL && rc == 0;
       c = hvx_next_elem(c))
    rc = wsman_deliver_prop(c, sink, ctx, err);
  if (rc == 0 && sink->end)
    rc = sink->end(ctx, err);
  return rc;
}
