/*
 * wsman.c - WS-Management transport (see wsman.h). Requests are built as
 * text with escaping (sbuf), sent with one reusable CURL easy handle
 * (keep-alive), and responses are capped in size, parsed with the safe
 * libxml2 helpers (xmlutil) and read by namespace URI + local name only.
 */
#include "wsman.h"
#include "gss.h"
#include "error.h"
#include "xmldoc.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <time.h>

/* ---- authentication: one small interface per scheme ----
 * Basic is plain HTTP authentication done by libcurl. Kerberos, NTLM and
 * Negotiate go through the GSSAPI client (auth_gss.h), which authenticates
 * the connection and seals the messages (MS-WSMV 2.2.9.1) when the
 * transport is plain HTTP, as WinRM's defaults require. */
typedef struct {
  const char *name;
  long curlauth; /* 0: the GSSAPI client */
} wsman_auth_t;

static const wsman_auth_t wsman_auths[] = {
    {"basic", CURLAUTH_BASIC},
    {"ntlm", 0},
    {"negotiate", 0},
    {"kerberos", 0},
};

static const wsman_auth_t *wsman_auth_find(const char *name) {
  if (name == NULL)
    name = "basic";
  for (size_t i = 0; i < sizeof(wsman_auths) / sizeof(wsman_auths[0]); i++)
    if (strcasecmp(wsman_auths[i].name, name) == 0)
      return &wsman_auths[i];
  return NULL;
}

static int wsman_auth_apply(const wsman_auth_t *a, CURL *c, const char *user,
                            const char *password) {
  if (a->curlauth == 0 || user == NULL || user[0] == '\0')
    return 0;
  if (curl_easy_setopt(c, CURLOPT_HTTPAUTH, a->curlauth) != CURLE_OK)
    return -1;
  curl_easy_setopt(c, CURLOPT_USERNAME, user);
  curl_easy_setopt(c, CURLOPT_PASSWORD, password != NULL ? password : "");
  return 0;
}

struct wsman {
  CURL *curl;
  struct curl_slist *headers;
  char *url;
  char *user;
  const wsman_auth_t *auth;
  hva_ctx_t *gss;      /* Kerberos / NTLM / Negotiate, else NULL */
  int seal;            /* seal every message (GSSAPI over http://) */
  size_t max_envelope; /* bytes */
  size_t max_response; /* bytes */
  unsigned op_timeout_s;
  wsman_stats_t stats;
  char curl_err[CURL_ERROR_SIZE];
  /* response accumulation */
  hvsb_t resp;
  int resp_over;
  hvsb_t req;
};

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
    ws_err_set(err, WS_ERR_FAULT, "%s", hvsb_str(&b));
    err->http_status = http_status;
    err->code = have_wmi ? wmicode : have_ws ? wscode : 0;
  }
  hvsb_free(&b);
}

int wsman_parse_response(const char *buf, size_t len, size_t max_len,
                         long http_status, wsman_resp_t *r, ws_err_t *err) {
  r->doc = NULL;
  r->body = NULL;
  char why[256];
  xmlDocPtr doc = NULL;
  if (len > 0)
    doc = hvx_parse(buf, len, max_len, why, sizeof(why));
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
    if (err)
      err->http_status = http_status;
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

int wsman_parse_page(const wsman_resp_t *r, int is_pull, wsman_page_t *pg,
                     ws_err_t *err) {
  const char *want = is_pull ? "PullResponse" : "EnumerateResponse";
  memset(pg, 0, sizeof(*pg));
  xmlNodePtr resp = hvx_child(r->body, WSMAN_NS_WSEN, want);
  if (resp == NULL)
    return ws_err_set(err, WS_ERR_PARSE, "response has no wsen:%s", want);
  xmlNodePtr ctx = hvx_child(resp, WSMAN_NS_WSEN, "EnumerationContext");
  if (ctx != NULL) {
    size_t n = hvx_text_copy(ctx, pg->context, sizeof(pg->context));
    if (n >= sizeof(pg->context))
      return ws_err_set(err, WS_ERR_PARSE,
                        "EnumerationContext longer than %zu bytes",
                        sizeof(pg->context) - 1);
  }
  pg->items = hvx_child(resp, WSMAN_NS_WSMAN, "Items");
  if (pg->items == NULL)
    pg->items = hvx_child(resp, WSMAN_NS_WSEN, "Items");
  pg->eos = hvx_child(resp, WSMAN_NS_WSMAN, "EndOfSequence") != NULL ||
            hvx_child(resp, WSMAN_NS_WSEN, "EndOfSequence") != NULL;
  if (!pg->eos && pg->context[0] == '\0')
    return ws_err_set(err, WS_ERR_PARSE,
                      "%s has neither EndOfSequence nor EnumerationContext",
                      want);
  return 0;
}

xmlNodePtr wsman_item_instance(xmlNodePtr item) {
  if (hvx_is(item, WSMAN_NS_WSMAN, "Item")) {
    for (xmlNodePtr c = hvx_first_elem(item); c != NULL; c = hvx_next_elem(c))
      if (!hvx_is(c, WSMAN_NS_WSA, "EndpointReference"))
        return c;
    return NULL;
  }
  return item;
}

/* ---- client ---- */

static size_t wsman_write_cb(char *ptr, size_t size, size_t nmemb, void *ud) {
  wsman_t *w = ud;
  size_t n = size * nmemb;
  if (w->resp.len + n > w->max_response) {
    w->resp_over = 1;
    return 0; /* aborts the transfer */
  }
  hvsb_add(&w->resp, ptr, n);
  if (hvsb_failed(&w->resp))
    return 0;
  return n;
}

/* The host part of an http(s) URL ("[v6]" without brackets). */
static void wsman_url_host(const char *url, char *out, size_t sz) {
  const char *p = strstr(url, "://");
  p = p != NULL ? p + 3 : url;
  size_t n;
  if (*p == '[') {
    p++;
    n = strcspn(p, "]");
  } else {
    n = strcspn(p, ":/");
  }
  if (n >= sz)
    n = sz - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

static int wsman_gss_setup(wsman_t *w, const wsman_opts_t *o, ws_err_t *err) {
  hva_mech_t mech;
  hva_enc_t enc = HVA_ENC_AUTO;
  if (hva_mech_parse(w->auth->name, &mech) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "unknown auth '%s'", w->auth->name);
  if (o->encryption != NULL && hva_enc_parse(o->encryption, &enc) != 0)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "unknown encryption '%s' (auto, required, off)",
                      o->encryption);
  char host[256];
  wsman_url_host(o->url, host, sizeof(host));
  hva_opts_t ho = {.mech = mech,
                   .host = host,
                   .user = o->user,
                   .password = o->password,
                   .keytab = o->keytab,
                   .principal = o->principal};
  w->gss = hva_new(&ho, err);
  if (w->gss == NULL)
    return -1;
  int https = strncmp(o->url, "https://", 8) == 0;
  w->seal = enc == HVA_ENC_REQUIRED || (enc == HVA_ENC_AUTO && !https);
  return 0;
}

wsman_t *wsman_new(const wsman_opts_t *o, ws_err_t *err) {
  if (o == NULL || o->url == NULL || o->url[0] == '\0') {
    ws_err_set(err, WS_ERR_CONFIG, "no WS-Management URL given");
    return NULL;
  }
  if (strncmp(o->url, "http://", 7) != 0 &&
      strncmp(o->url, "https://", 8) != 0) {
    ws_err_set(err, WS_ERR_CONFIG, "URL must start with http:// or https://");
    return NULL;
  }
  if (strchr(o->url, '@') != NULL) {
    ws_err_set(err, WS_ERR_CONFIG,
               "URL must not carry credentials: use the user and password "
               "options");
    return NULL;
  }
  const wsman_auth_t *auth = wsman_auth_find(o->auth);
  if (auth == NULL) {
    ws_err_set(err, WS_ERR_CONFIG,
               "unknown auth '%s' (basic, ntlm, negotiate, kerberos)", o->auth);
    return NULL;
  }
  xmlInitParser();
  wsman_t *w = calloc(1, sizeof(*w));
  if (w == NULL) {
    ws_err_set(err, WS_ERR_CONFIG, "out of memory");
    return NULL;
  }
  w->url = strdup(o->url);
  w->user = o->user ? strdup(o->user) : NULL;
  w->auth = auth;
  unsigned kb = o->max_envelope_kb ? o->max_envelope_kb : 500;
  if (kb > 64 * 1024)
    kb = 64 * 1024;
  w->max_envelope = (size_t)kb * 1024;
  w->max_response = w->max_envelope * 2;
  w->op_timeout_s = o->operation_timeout_s ? o->operation_timeout_s : 60;
  double timeout = o->timeout > 0 ? o->timeout : 10;
  double ctimeout = o->connect_timeout > 0 ? o->connect_timeout
                    : timeout < 10         ? timeout
                                           : 10;
  hvsb_init(&w->resp);
  hvsb_init(&w->req);
  w->curl = curl_easy_init();
  w->headers = curl_slist_append(
      NULL, "Content-Type: application/soap+xml;charset=UTF-8");
  if (w->headers != NULL)
    w->headers = curl_slist_append(w->headers, "Expect:");
  if (w->url == NULL || w->curl == NULL || w->headers == NULL) {
    wsman_free(w);
    ws_err_set(err, WS_ERR_CONFIG, "out of memory setting up libcurl");
    return NULL;
  }
  CURL *c = w->curl;
  curl_easy_setopt(c, CURLOPT_URL, w->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "hvkvp/0.1");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ctimeout * 1000));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wsman_write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->curl_err);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->verify_peer ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->verify_host ? 2L : 0L);
  if (o->cacert != NULL && o->cacert[0] != '\0')
    curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
  if (wsman_auth_apply(auth, c, o->user, o->password) != 0) {
    wsman_free(w);
    ws_err_set(err, WS_ERR_CONFIG, "this libcurl does not support auth '%s'",
               auth->name);
    return NULL;
  }
  if (auth->curlauth == 0 && wsman_gss_setup(w, o, err) != 0) {
    wsman_free(w);
    return NULL;
  }
  return w;
}

void wsman_free(wsman_t *w) {
  if (w == NULL)
    return;
  if (w->gss != NULL)
    hva_free(w->gss);
  if (w->curl != NULL)
    curl_easy_cleanup(w->curl);
  curl_slist_free_all(w->headers);
  free(w->url);
  free(w->user);
  hvsb_free(&w->resp);
  hvsb_free(&w->req);
  free(w);
}

void wsman_get_stats(const wsman_t *w, wsman_stats_t *st) {
  *st = w->stats;
}

static int wsman_is_tls_error(CURLcode rc) {
  switch (rc) {
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_USE_SSL_FAILED:
    return 1;
  default:
    return 0;
  }
}

/* POSTs w->req and parses the reply into r. */
/* POSTs w->req through the GSSAPI client (authentication legs, sealing). */
static int wsman_post_gss(wsman_t *w, const char *what, long *status,
                          ws_err_t *err) {
  hva_resp_t r;
  uint64_t before = hva_requests(w->gss);
  w->stats.bytes_out += w->req.len;
  int rc = hva_post(w->gss, w->curl, hvsb_str(&w->req), w->req.len, w->seal,
                    w->max_response, &r, err);
  w->stats.requests += hva_requests(w->gss) - before;
  if (rc != 0) {
    ws_err_prefix(err, "%s", what);
    return -1;
  }
  w->stats.bytes_in += r.len;
  if (r.body != NULL)
    hvsb_add(&w->resp, r.body, r.len);
  *status = r.status;
  hva_resp_free(&r);
  if (hvsb_failed(&w->resp))
    return ws_err_set(err, WS_ERR_PARSE, "%s: out of memory", what);
  return 0;
}

/* POSTs w->req; the body is left in w->resp and the status in *status. */
static int wsman_post_raw(wsman_t *w, const char *what, long *status,
                          ws_err_t *err) {
  *status = 0; /* set on every path, failures included */
  if (hvsb_failed(&w->req))
    return ws_err_set(err, WS_ERR_CONFIG,
                      "%s: request could not be built (out of memory or a "
                      "parameter that XML cannot carry)",
                      what);
  hvsb_reset(&w->resp);
  w->resp_over = 0;
  w->curl_err[0] = '\0';
  if (w->gss != NULL)
    return wsman_post_gss(w, what, status, err);
  curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, hvsb_str(&w->req));
  curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)w->req.len);
  w->stats.requests++;
  w->stats.bytes_out += w->req.len;
  CURLcode rc = curl_easy_perform(w->curl);
  w->stats.bytes_in += w->resp.len;
  if (rc != CURLE_OK) {
    const char *detail = w->curl_err[0] ? w->curl_err : curl_easy_strerror(rc);
    if (w->resp_over)
      return ws_err_set(err, WS_ERR_PARSE,
                        "%s: response exceeds %zu bytes (2 x MaxEnvelopeSize); "
                        "aborted",
                        what, w->max_response);
    if (wsman_is_tls_error(rc))
      return ws_err_set(err, WS_ERR_TLS, "%s: TLS error talking to %s: %s",
                        what, w->url, detail);
    if (rc == CURLE_LOGIN_DENIED)
      return ws_err_set(err, WS_ERR_AUTH, "%s: login denied by %s: %s", what,
                        w->url, detail);
    return ws_err_set(err, WS_ERR_CONNECT, "%s: cannot talk to %s: %s", what,
                      w->url, detail);
  }
  curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, status);
  return 0;
}

/* Parses w->resp into r (or the error it carries into err). */
static int wsman_parse_reply(wsman_t *w, const char *what, long status,
                             wsman_resp_t *r, ws_err_t *err) {
  if (wsman_parse_response(hvsb_str(&w->resp), w->resp.len, w->max_response,
                           status, r, err) != 0) {
    if (err != NULL && err->kind == WS_ERR_AUTH)
      ws_err_set(err, WS_ERR_AUTH,
                 "%s: HTTP 401 from %s: authentication as '%s' with %s "
                 "refused",
                 what, w->url, w->user ? w->user : "(no user)", w->auth->name);
    else
      ws_err_prefix(err, "%s", what);
    return -1;
  }
  return 0;
}

static int wsman_post(wsman_t *w, const char *what, wsman_resp_t *r,
                      ws_err_t *err) {
  long status;
  r->doc = NULL;
  r->body = NULL;
  if (wsman_post_raw(w, what, &status, err) != 0)
    return -1;
  return wsman_parse_reply(w, what, status, r, err);
}

static void wsman_hdr(wsman_t *w, wsman_hdr_t *h, char *mid, const char *action,
                      const char *uri, const wsman_selector_t *sel,
                      size_t nsel) {
  wsman_new_message_id(mid);
  h->to = w->url;
  h->action = action;
  h->resource_uri = uri;
  h->message_id = mid;
  h->max_envelope = (unsigned)w->max_envelope;
  h->timeout_s = w->op_timeout_s;
  h->sel = sel;
  h->nsel = nsel;
}

static void wsman_release(wsman_t *w, const char *uri, const char *context) {
  wsman_hdr_t h;
  char mid[64];
  wsman_hdr(w, &h, mid, WSMAN_ACTION_RELEASE, uri, NULL, 0);
  hvsb_reset(&w->req);
  wsman_build_release(&w->req, &h, context);
  wsman_resp_t r;
  ws_err_t ignored;
  if (wsman_post(w, "Release", &r, &ignored) == 0)
    wsman_resp_free(&r);
}

#define WSMAN_MAX_EMPTY_PULLS 64

/* Between two pages of an enumeration: gives up (releasing the context) when
 * too many pages in a row brought no item, else builds the next Pull into
 * w->req. `n` is the number of items the last page brought. */
static int wsman_prepare_pull(wsman_t *w, const char *resource_uri,
                              const char *context, unsigned max_elements,
                              size_t n, int *empty, ws_err_t *err) {
  *empty = n == 0 ? *empty + 1 : 0;
  if (*empty > WSMAN_MAX_EMPTY_PULLS) {
    wsman_release(w, resource_uri, context);
    return ws_err_set(err, WS_ERR_PARSE,
                      "enumeration of %s made no progress in %d pulls",
                      resource_uri, WSMAN_MAX_EMPTY_PULLS);
  }
  wsman_hdr_t h;
  char mid[64];
  wsman_hdr(w, &h, mid, WSMAN_ACTION_PULL, resource_uri, NULL, 0);
  hvsb_reset(&w->req);
  wsman_build_pull(&w->req, &h, context, max_elements);
  return 0;
}

int wsman_enumerate(wsman_t *w, const char *resource_uri, const char *wql,
                    unsigned max_elements, wsman_item_cb cb, void *ctx,
                    ws_err_t *err) {
  wsman_hdr_t h;
  char mid[64];
  wsman_resp_t r;
  wsman_page_t pg;
  if (max_elements == 0)
    max_elements = 512;
  wsman_hdr(w, &h, mid, WSMAN_ACTION_ENUMERATE, resource_uri, NULL, 0);
  hvsb_reset(&w->req);
  wsman_build_enumerate(&w->req, &h, wql, max_elements);
  if (wsman_post(w, "Enumerate", &r, err) != 0)
    return -1;
  int is_pull = 0, empty = 0;
  char context[sizeof(pg.context)] = "";
  for (;;) {
    if (wsman_parse_page(&r, is_pull, &pg, err) != 0) {
      wsman_resp_free(&r);
      if (context[0])
        wsman_release(w, resource_uri, context);
      return -1;
    }
    if (pg.context[0])
      memcpy(context, pg.context, sizeof(context));
    int stop = 0, n = 0;
    for (xmlNodePtr it = hvx_first_elem(pg.items); it != NULL && !stop;
         it = hvx_next_elem(it)) {
      xmlNodePtr inst = wsman_item_instance(it);
      if (inst == NULL)
        continue;
      n++;
      int rc = cb(inst, ctx, err);
      if (rc < 0) {
        wsman_resp_free(&r);
        if (!pg.eos && context[0])
          wsman_release(w, resource_uri, context);
        return -1;
      }
      if (rc > 0)
        stop = 1;
    }
    wsman_resp_free(&r);
    if (pg.eos)
      return 0;
    if (stop) {
      wsman_release(w, resource_uri, context);
      return 0;
    }
    if (wsman_prepare_pull(w, resource_uri, context, max_elements, (size_t)n,
                           &empty, err) != 0)
      return -1;
    if (wsman_post(w, "Pull", &r, err) != 0)
      return -1;
    is_pull = 1;
  }
}

int wsman_get(wsman_t *w, const char *resource_uri, const wsman_selector_t *sel,
              size_t nsel, wsman_resp_t *r, xmlNodePtr *instance,
              ws_err_t *err) {
  wsman_hdr_t h;
  char mid[64];
  wsman_hdr(w, &h, mid, WSMAN_ACTION_GET, resource_uri, sel, nsel);
  hvsb_reset(&w->req);
  wsman_build_get(&w->req, &h);
  if (wsman_post(w, "Get", r, err) != 0)
    return -1;
  *instance = hvx_first_elem(r->body);
  if (*instance == NULL) {
    wsman_resp_free(r);
    return ws_err_set(err, WS_ERR_PARSE, "Get response has an empty Body");
  }
  return 0;
}

int wsman_invoke(wsman_t *w, const char *resource_uri, const char *method,
                 const wsman_selector_t *sel, size_t nsel, const char *body_xml,
                 wsman_resp_t *r, xmlNodePtr *output, ws_err_t *err) {
  char action[512], outname[128];
  snprintf(action, sizeof(action), "%s/%s", resource_uri, method);
  snprintf(outname, sizeof(outname), "%s_OUTPUT", method);
  wsman_hdr_t h;
  char mid[64];
  wsman_hdr(w, &h, mid, action, resource_uri, sel, nsel);
  hvsb_reset(&w->req);
  wsman_build_invoke(&w->req, &h, body_xml);
  if (wsman_post(w, method, r, err) != 0)
    return -1;
  *output = hvx_child(r->body, NULL, outname);
  if (*output == NULL) {
    wsman_resp_free(r);
    return ws_err_set(err, WS_ERR_PARSE, "%s response has no %s element",
                      method, outname);
  }
  return 0;
}

int wsman_enumerate_stream(wsman_t *w, const char *resource_uri,
                           const char *wql, unsigned max_elements,
                           wsman_page_cb cb, void *ctx, ws_err_t *err) {
  wsman_hdr_t h;
  char mid[64];
  wsman_page_t pg;
  char context[sizeof(pg.context)] = "";
  int is_pull = 0, empty = 0;
  if (max_elements == 0)
    max_elements = 512;
  wsman_hdr(w, &h, mid, WSMAN_ACTION_ENUMERATE, resource_uri, NULL, 0);
  hvsb_reset(&w->req);
  wsman_build_enumerate(&w->req, &h, wql, max_elements);
  for (;;) {
    const char *what = is_pull ? "Pull" : "Enumerate";
    long status;
    if (wsman_post_raw(w, what, &status, err) != 0)
      return -1;
    int rc = -1;
    size_t items = 0;
    memset(&pg, 0, sizeof(pg));
    if (status == 200)
      rc = cb(hvsb_str(&w->resp), w->resp.len, w->max_response, is_pull, &pg,
              &items, ctx, err);
    if (status != 200 || rc == WSMAN_PAGE_FAULT) {
      /* an error reply: the tree parser describes it */
      wsman_resp_t r;
      if (wsman_parse_reply(w, what, status, &r, err) == 0) {
        wsman_resp_free(&r);
        ws_err_set(err, WS_ERR_PARSE, "%s: unexpected reply", what);
      }
      rc = -1;
    }
    if (pg.context[0])
      memcpy(context, pg.context, sizeof(context));
    if (rc < 0 || rc == WSMAN_PAGE_STOP) {
      if (!pg.eos && context[0])
        wsman_release(w, resource_uri, context);
      return rc < 0 ? -1 : 0;
    }
    if (pg.eos)
      return 0;
    if (wsman_prepare_pull(w, resource_uri, context, max_elements,
                           (size_t)items, &empty, err) != 0)
      return -1;
    is_pull = 1;
  }
}
