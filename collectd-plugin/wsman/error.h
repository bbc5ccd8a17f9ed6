/*
 * error.h - the one error type of the host libraries (wsman/ and the model
 * in hyperv/ above it): what failed (kind), the HTTP status and the numeric
 * code the server gave, and a complete human-readable message that never
 * holds a secret.
 */
#ifndef HVKVP_WS_ERROR_H
#define HVKVP_WS_ERROR_H

#include <stdint.h>

typedef enum {
  WS_ERR_NONE = 0,
  WS_ERR_CONFIG,   /* bad options */
  WS_ERR_CONNECT,  /* DNS, refused, reset, timeout before a response */
  WS_ERR_TLS,      /* certificate or handshake */
  WS_ERR_AUTH,     /* authentication refused or impossible */
  WS_ERR_HTTP,     /* other HTTP status without a SOAP fault */
  WS_ERR_FAULT,    /* WS-Management SOAP fault */
  WS_ERR_PARSE,    /* malformed or unexpected response */
  WS_ERR_NOTFOUND, /* no such instance (e.g. VM) */
  WS_ERR_METHOD,   /* a method returned an error code */
  WS_ERR_JOB,      /* an asynchronous job ended in an error state */
  WS_ERR_TIMEOUT,  /* a deadline passed */
  WS_ERR_BUDGET,   /* the poll's budget (requests, bytes, time) is spent */
  WS_ERR_NOMEM,    /* out of memory */
} ws_err_kind_t;

typedef struct {
  ws_err_kind_t kind;
  long http_status;
  uint32_t code; /* WSManFault Code, MSFT_WmiError error_Code or ReturnValue */
  /* 1: the failure comes from what the server had to send, not from the
   * connection or the request: a response over the envelope (EncodingLimit,
   * HTTP 413, over our cap) or not readable (malformed XML, an undecodable
   * page). Asking for less (smaller pages, fewer instances or properties)
   * may succeed. */
  int content;
  char msg[512]; /* complete, human-readable, never holds a secret */
} ws_err_t;

/* Sets err (if not NULL) to a new error: kind, a printf-style message, no
 * HTTP status, code or content flag (callers add them). Returns -1 so
 * callers can `return ws_err_set(...)`. */
int ws_err_set(ws_err_t *err, ws_err_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "what: " to err->msg (keeps kind and codes). */
void ws_err_prefix(ws_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ws_err_clear(ws_err_t *err);
/* "connection", "tls", "auth", ... */
const char *ws_err_kind_str(ws_err_kind_t kind);

#endif
