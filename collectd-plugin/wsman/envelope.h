/*
 * envelope.h - the SOAP 1.2 envelopes of WS-Management as WinRM speaks them
 * (MS-WSMV): request builders for Enumerate, Pull, Release, Get and Invoke,
 * the parse of a whole response (a tree: Get, Invoke, faults) with SOAP
 * faults turned into ws_err_t, and the delivery of one instance of such a
 * tree to a sink. Pure functions, exposed for the tests.
 */
#ifndef HVKVP_WSMAN_ENVELOPE_H
#define HVKVP_WSMAN_ENVELOPE_H

#include "error.h"
#include "instance.h"
#include "sbuf.h"

#include <libxml/tree.h>

#define WSMAN_NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define WSMAN_NS_WSA "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WSMAN_NS_WSMAN "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define WSMAN_NS_WSEN "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define WSMAN_NS_WSMANFAULT                                                    \
  "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#define WSMAN_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define WSMAN_ANONYMOUS                                                        \
  "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
#define WSMAN_DIALECT_WQL "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#define WSMAN_ACTION_ENUMERATE WSMAN_NS_WSEN "/Enumerate"
#define WSMAN_ACTION_PULL WSMAN_NS_WSEN "/Pull"
#define WSMAN_ACTION_RELEASE WSMAN_NS_WSEN "/Release"
#define WSMAN_ACTION_GET "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"

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

/* ---- request builders: 0, or -1 (out of memory, text XML cannot carry) */
int wsman_build_enumerate(hvsb_t *b, const wsman_hdr_t *h, const char *wql,
                          unsigned max_elements);
int wsman_build_pull(hvsb_t *b, const wsman_hdr_t *h, const char *context,
                     unsigned max_elements);
int wsman_build_release(hvsb_t *b, const wsman_hdr_t *h, const char *context);
int wsman_build_get(hvsb_t *b, const wsman_hdr_t *h);
/* body_xml: the method's input element, already serialised XML. */
int wsman_build_invoke(hvsb_t *b, const wsman_hdr_t *h, const char *body_xml);
/* Appends an endpoint reference (wsa:Address + wsa:ReferenceParameters). */
void wsman_build_epr(hvsb_t *b, const char *resource_uri,
                     const wsman_selector_t *sel, size_t nsel);
void wsman_new_message_id(char out[64]);

/* ---- whole responses ---- */
typedef struct {
  xmlDocPtr doc;
  xmlNodePtr body; /* s:Body */
} wsman_resp_t;

/* Parses a response body of the given HTTP status in `encoding` (NULL:
 * UTF-8 or declared). A SOAP fault becomes WS_ERR_FAULT (code, subcode,
 * reason, WSManFault code and message, MSFT_WmiError code and message); a
 * 401 WS_ERR_AUTH; another non-200 without a fault WS_ERR_HTTP; malformed
 * XML WS_ERR_PARSE. On success r holds the document (wsman_resp_free). */
int wsman_parse_response(const char *buf, size_t len, size_t max_len,
                         const char *encoding, long http_status,
                         wsman_resp_t *r, ws_err_t *err);
void wsman_resp_free(wsman_resp_t *r);
/* Fills err from a s:Fault element. */
void wsman_fault_to_err(const xmlNode *fault, long http_status, ws_err_t *err);

/* Hands the element `inst` to the sink as one instance: each child element
 * is a property (text, nil; an endpoint reference with its selectors). */
int wsman_deliver(const xmlNode *inst, const wsman_sink_t *sink, void *ctx,
                  ws_err_t *err);

#endif
