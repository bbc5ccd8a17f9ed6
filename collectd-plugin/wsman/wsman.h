/*
 * wsman.h - WS-Management transport for WinRM (MS-WSMV): SOAP 1.2 envelopes
 * for Enumerate/Pull/Release, Get and Invoke, one reusable libcurl handle
 * per host, authentication behind a small interface, bounded responses
 * parsed by namespace URI + local name, and SOAP faults turned into ws_err_t.
 */
#ifndef HVKVP_WSMAN_H
#define HVKVP_WSMAN_H

#include "error.h"
#include "sbuf.h"

#include <libxml/tree.h>

#define WSMAN_NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define WSMAN_NS_WSA "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WSMAN_NS_WSMAN "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define WSMAN_NS_WSEN "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define WSMAN_NS_WSMANFAULT                                                    \
  "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#define WSMAN_ANONYMOUS                                                        \
  "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
#define WSMAN_DIALECT_WQL "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#define WSMAN_ACTION_ENUMERATE WSMAN_NS_WSEN "/Enumerate"
#define WSMAN_ACTION_PULL WSMAN_NS_WSEN "/Pull"
#define WSMAN_ACTION_RELEASE WSMAN_NS_WSEN "/Release"
#define WSMAN_ACTION_GET "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"

typedef struct wsman wsman_t;

/* What one client has sent and received so far. */
typedef struct {
  uint64_t requests; /* HTTP requests made */
  uint64_t bytes_in, bytes_out;
} wsman_stats_t;

typedef struct {
  const char *url;
  const char *user;
  const char *password;
  const char *auth; /* basic | ntlm | negotiate | kerberos; NULL: basic */
  const char *cacert;
  int verify_peer, verify_host;
  double timeout;               /* total seconds per request */
  double connect_timeout;       /* seconds; 0: min(timeout, 10) */
  unsigned max_envelope_kb;     /* MaxEnvelopeSize; the response cap is 2x */
  unsigned operation_timeout_s; /* wsman:OperationTimeout; 0: 60 */
  /* Kerberos / NTLM / Negotiate (auth_gss.h): message encryption "auto"
   * (seal over http://, default), "required" or "off"; Kerberos client
   * keytab and principal (NULL: the credential cache). */
  const char *encryption;
  const char *keytab;
  const char *principal;
} wsman_opts_t;

typedef struct {
  const char *name;
  const char *value;
} wsman_selector_t;

/* The header fields of one request. */
typedef struct {
  const char *to;
  const char *action;
  const char *resource_uri;
  const char *message_id; /* "uuid:..." */
  unsigned max_envelope;  /* bytes */
  unsigned timeout_s;
  const wsman_selector_t *sel;
  size_t nsel;
} wsman_hdr_t;

/* ---- envelope builders (pure; exposed for tests) ---- */
int wsman_build_enumerate(hvsb_t *b, const wsman_hdr_t *h, const char *wql,
                          unsigned max_elements);
int wsman_build_pull(hvsb_t *b, const wsman_hdr_t *h, const char *context,
                     unsigned max_elements);
int wsman_build_release(hvsb_t *b, const wsman_hdr_t *h, const char *context);
int wsman_build_get(hvsb_t *b, const wsman_hdr_t *h);
/* body_xml: the method's input element, already serialised XML. */
int wsman_build_invoke(hvsb_t *b, const wsman_hdr_t *h, const char *body_xml);
/* Appends an EPR body (wsa:Address + wsa:ReferenceParameters). */
void wsman_build_epr(hvsb_t *b, const char *resource_uri,
                     const wsman_selector_t *sel, size_t nsel);
void wsman_new_message_id(char out[64]);

/* ---- response parsing (pure; exposed for tests and fuzzing) ---- */
typedef struct {
  xmlDocPtr doc;
  xmlNodePtr body; /* s:Body */
} wsman_resp_t;

/* Parses a response body of the given HTTP status. A SOAP fault becomes
 * WS_ERR_FAULT (message with code, subcode, reason, WSManFault code and
 * message, MSFT_WmiError code and message); a 401 WS_ERR_AUTH; another
 * non-200 without a fault WS_ERR_HTTP; malformed XML WS_ERR_PARSE. On
 * success r holds the document (free with wsman_resp_free). */
int wsman_parse_response(const char *buf, size_t len, size_t max_len,
                         long http_status, wsman_resp_t *r, ws_err_t *err);
void wsman_resp_free(wsman_resp_t *r);
/* Fills err from a s:Fault element. */
void wsman_fault_to_err(const xmlNode *fault, long http_status, ws_err_t *err);

typedef struct {
  xmlNodePtr items; /* wsman:Items / wsen:Items, or NULL */
  char context[256];
  int eos;
} wsman_page_t;

/* EnumerateResponse (is_pull 0) or PullResponse (is_pull 1). */
int wsman_parse_page(const wsman_resp_t *r, int is_pull, wsman_page_t *pg,
                     ws_err_t *err);
/* The instance element of an Items child: the element itself, the content
 * of a wsman:Item, or the wsman:XmlFragment (whose children are the
 * properties). */
xmlNodePtr wsman_item_instance(xmlNodePtr item);

/* ---- client ---- */
wsman_t *wsman_new(const wsman_opts_t *o, ws_err_t *err);
void wsman_free(wsman_t *w);
void wsman_get_stats(const wsman_t *w, wsman_stats_t *st);

/* cb returns 0 to go on, 1 to stop early (the enumeration is released), -1
 * on error (err filled; the enumeration is released). */
typedef int (*wsman_item_cb)(xmlNodePtr instance, void *ctx, ws_err_t *err);
int wsman_enumerate(wsman_t *w, const char *resource_uri, const char *wql,
                    unsigned max_elements, wsman_item_cb cb, void *ctx,
                    ws_err_t *err);
/* Streaming enumeration: cb parses each page's raw body itself (e.g. with
 * SAX) and fills pg->context, pg->eos (pg->items stays NULL) and *items
 * (instances seen). It returns 0 to go on, WSMAN_PAGE_STOP to stop early,
 * WSMAN_PAGE_FAULT when the body is a SOAP fault (the transport then
 * describes it in err), or -1 with err filled. Non-200 replies never reach
 * cb. */
enum { WSMAN_PAGE_STOP = 1, WSMAN_PAGE_FAULT = 2 };
typedef int (*wsman_page_cb)(const char *buf, size_t len, size_t max_len,
                             int is_pull, wsman_page_t *pg, size_t *items,
                             void *ctx, ws_err_t *err);
int wsman_enumerate_stream(wsman_t *w, const char *resource_uri,
                           const char *wql, unsigned max_elements,
                           wsman_page_cb cb, void *ctx, ws_err_t *err);
/* Get: *instance is the first element of the body, valid until
 * wsman_resp_free(r). */
int wsman_get(wsman_t *w, const char *resource_uri, const wsman_selector_t *sel,
              size_t nsel, wsman_resp_t *r, xmlNodePtr *instance,
              ws_err_t *err);
/* Invoke: *output is the <Method>_OUTPUT element. */
int wsman_invoke(wsman_t *w, const char *resource_uri, const char *method,
                 const wsman_selector_t *sel, size_t nsel, const char *body_xml,
                 wsman_resp_t *r, xmlNodePtr *output, ws_err_t *err);

#endif
