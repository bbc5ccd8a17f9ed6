/*
 * http.h - one HTTP(S) connection to a WinRM endpoint over a reusable
 * libcurl handle (keep-alive): TLS checks, timeouts, a cap on response
 * bodies, and authentication behind one interface (Basic by libcurl;
 * Kerberos, NTLM and Negotiate with sealing by gss_http.c). Internal to
 * wsman/.
 */
#ifndef HVKVP_WSMAN_HTTP_H
#define HVKVP_WSMAN_HTTP_H

#include "error.h"
#include "wsman.h"

#include <stddef.h>

typedef struct wsman_http wsman_http_t;

/* One response: the plaintext body (unsealed), valid until the next post. */
typedef struct {
  long status;
  const char *body;
  size_t len;
  char charset[32]; /* of the Content-Type ("" when none was given) */
} wsman_reply_t;

wsman_http_t *wsman_http_new(const wsman_opts_t *o, size_t max_response,
                             ws_err_t *err);
void wsman_http_free(wsman_http_t *h);
/* POSTs a SOAP request. 0 when an HTTP response arrived (any status), -1
 * with err (connection, TLS, authentication, response over the cap). `what`
 * names the request in messages. The transfer may take `seconds` at most
 * (0: the configured Timeout; never more than it). */
int wsman_http_post(wsman_http_t *h, const char *what, const char *req,
                    size_t len, double seconds, wsman_reply_t *rep,
                    ws_err_t *err);
void wsman_http_stats(const wsman_http_t *h, wsman_stats_t *st);
/* The URL, the user and the auth scheme, for messages. */
const char *wsman_http_url(const wsman_http_t *h);
const char *wsman_http_who(const wsman_http_t *h);
const char *wsman_http_auth(const wsman_http_t *h);

#endif
