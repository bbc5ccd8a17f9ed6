/*
 * http.c - one connection to a WinRM endpoint (see http.h). Basic is plain
 * HTTP authentication done by libcurl; Kerberos, NTLM and Negotiate go
 * through the GSSAPI client (gss.h), which authenticates the connection and
 * seals the messages (MS-WSMV 2.2.9.1) over plain HTTP, as WinRM's defaults
 * require.
 */
#include "http.h"
#include "gss.h"
#include "sbuf.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct wsman_http {
  const wsman_opts_t *o; /* borrowed: outlives the connection */
  CURL *curl;
  struct curl_slist *headers;
  hva_ctx_t *gss; /* Kerberos / NTLM / Negotiate, else NULL (Basic) */
  int seal;       /* seal every message (GSSAPI over http://) */
  size_t max_response;
  wsman_stats_t stats;
  char curl_err[CURL_ERROR_SIZE];
  hvsb_t resp; /* the last response body */
  int resp_over;
};

static size_t http_on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  wsman_http_t *h = ud;
  size_t n = size * nmemb;
  if (h->resp.len + n > h->max_response) {
    h->resp_over = 1;
    return 0; /* aborts the transfer */
  }
  hvsb_add(&h->resp, ptr, n);
  return hvsb_failed(&h->resp) ? 0 : n;
}

/* The host part of an http(s) URL ("[v6]" without brackets). */
static void http_url_host(const char *url, char *out, size_t sz) {
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

static int http_is_basic(const wsman_opts_t *o) {
  return o->auth == NULL || strcasecmp(o->auth, "basic") == 0;
}

static int http_gss_setup(wsman_http_t *h, ws_err_t *err) {
  const wsman_opts_t *o = h->o;
  hva_mech_t mech;
  hva_enc_t enc = HVA_ENC_AUTO;
  if (hva_mech_parse(o->auth, &mech) != 0 ||
      (o->encryption != NULL && hva_enc_parse(o->encryption, &enc) != 0))
    return wsman_opts_check(o, err);
  char host[256];
  http_url_host(o->url, host, sizeof(host));
  hva_opts_t ho = {.mech = mech,
                   .host = host,
                   .user = o->user,
                   .password = o->password,
                   .keytab = o->keytab,
                   .principal = o->principal};
  h->gss = hva_new(&ho, err);
  if (h->gss == NULL)
    return -1;
  int https = strncasecmp(o->url, "https://", 8) == 0;
  h->seal = enc == HVA_ENC_REQUIRED || (enc == HVA_ENC_AUTO && !https);
  return 0;
}

static int http_curl_setup(wsman_http_t *h, ws_err_t *err) {
  const wsman_opts_t *o = h->o;
  double timeout = o->timeout > 0 ? o->timeout : 10;
  double ctimeout = timeout < 10 ? timeout : 10;
  CURL *c = h->curl = curl_easy_init();
  h->headers = curl_slist_append(
      NULL, "Content-Type: application/soap+xml;charset=UTF-8");
  if (h->headers != NULL)
    h->headers = curl_slist_append(h->headers, "Expect:");
  if (c == NULL || h->headers == NULL)
    return ws_err_set(err, WS_ERR_CONFIG, "out of memory setting up libcurl");
  curl_easy_setopt(c, CURLOPT_URL, o->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "hvkvp/0.1");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ctimeout * 1000));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->insecure_peer ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->insecure_host ? 0L : 2L);
  if (o->cacert != NULL && o->cacert[0] != '\0')
    curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
  if (!http_is_basic(o) || o->user == NULL || o->user[0] == '\0')
    return 0;
  if (curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "this libcurl does not support Basic authentication");
  curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
  curl_easy_setopt(c, CURLOPT_PASSWORD, o->password ? o->password : "");
  return 0;
}

wsman_http_t *wsman_http_new(const wsman_opts_t *o, size_t max_response,
                             ws_err_t *err) {
  if (wsman_opts_check(o, err) != 0)
    return NULL;
  wsman_http_t *h = calloc(1, sizeof(*h));
  if (h == NULL) {
    ws_err_set(err, WS_ERR_CONFIG, "out of memory");
    return NULL;
  }
  h->o = o;
  h->max_response = max_response;
  hvsb_init(&h->resp);
  if (http_curl_setup(h, err) != 0 ||
      (!http_is_basic(o) && http_gss_setup(h, err) != 0)) {
    wsman_http_free(h);
    return NULL;
  }
  return h;
}

void wsman_http_free(wsman_http_t *h) {
  if (h == NULL)
    return;
  if (h->gss != NULL)
    hva_free(h->gss);
  if (h->curl != NULL)
    curl_easy_cleanup(h->curl);
  curl_slist_free_all(h->headers);
  hvsb_free(&h->resp);
  free(h);
}

void wsman_http_stats(const wsman_http_t *h, wsman_stats_t *st) {
  *st = h->stats;
}

const char *wsman_http_url(const wsman_http_t *h) {
  return h->o->url;
}

const char *wsman_http_who(const wsman_http_t *h) {
  return h->o->user ? h->o->user : "(no user)";
}

const char *wsman_http_auth(const wsman_http_t *h) {
  return h->o->auth ? h->o->auth : "basic";
}

/* The charset parameter of a Content-Type value ("" when none). */
static void http_charset(const char *ctype, char *out, size_t sz) {
  out[0] = '\0';
  const char *p = ctype ? strcasestr(ctype, "charset=") : NULL;
  if (p == NULL)
    return;
  p += 8;
  if (*p == '"')
    p++;
  size_t n = strcspn(p, "\";, \t");
  if (n >= sz)
    n = sz - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

static int http_is_tls_error(CURLcode rc) {
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

/* Through the GSSAPI client: authentication legs, sealing. */
static int http_post_gss(wsman_http_t *h, const char *what, const char *req,
                         size_t len, wsman_reply_t *rep, ws_err_t *err) {
  hva_resp_t r;
  uint64_t before = hva_requests(h->gss);
  h->stats.bytes_out += len;
  int rc =
      hva_post(h->gss, h->curl, req, len, h->seal, h->max_response, &r, err);
  h->stats.requests += hva_requests(h->gss) - before;
  if (rc != 0) {
    ws_err_prefix(err, "%s", what);
    return -1;
  }
  h->stats.bytes_in += r.len;
  if (r.body != NULL)
    hvsb_add(&h->resp, r.body, r.len);
  rep->status = r.status;
  http_charset(r.ctype, rep->charset, sizeof(rep->charset));
  hva_resp_free(&r);
  if (hvsb_failed(&h->resp))
    return ws_err_set(err, WS_ERR_NOMEM, "%s: out of memory", what);
  return 0;
}

static int http_curl_error(wsman_http_t *h, const char *what, CURLcode rc,
                           ws_err_t *err) {
  const char *url = h->o->url;
  const char *detail = h->curl_err[0] ? h->curl_err : curl_easy_strerror(rc);
  if (h->resp_over) {
    ws_err_set(err, WS_ERR_PARSE,
               "%s: response exceeds %zu bytes (2 x MaxEnvelopeSize); "
               "aborted",
               what, h->max_response);
    err->content = 1;
    return -1;
  }
  if (http_is_tls_error(rc))
    return ws_err_set(err, WS_ERR_TLS, "%s: TLS error talking to %s: %s", what,
                      url, detail);
  if (rc == CURLE_LOGIN_DENIED)
    return ws_err_set(err, WS_ERR_AUTH, "%s: login denied by %s: %s", what, url,
                      detail);
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return ws_err_set(err, WS_ERR_TIMEOUT, "%s: %s did not answer in time: %s",
                      what, url, detail);
  return ws_err_set(err, WS_ERR_CONNECT, "%s: cannot talk to %s: %s", what, url,
                    detail);
}

/* The transfer timeout of one request: the configured Timeout, cut to
 * what the caller's budget leaves (at least 1 ms). */
static void http_timeout(wsman_http_t *h, double seconds) {
  double t = h->o->timeout > 0 ? h->o->timeout : 10;
  if (seconds > 0 && seconds < t)
    t = seconds;
  long ms = (long)(t * 1000);
  curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
}

int wsman_http_post(wsman_http_t *h, const char *what, const char *req,
                    size_t len, double seconds, wsman_reply_t *rep,
                    ws_err_t *err) {
  memset(rep, 0, sizeof(*rep));
  http_timeout(h, seconds);
  hvsb_reset(&h->resp);
  h->resp_over = 0;
  h->curl_err[0] = '\0';
  int rc;
  if (h->gss != NULL) {
    rc = http_post_gss(h, what, req, len, rep, err);
  } else {
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    h->stats.requests++;
    h->stats.bytes_out += len;
    CURLcode cc = curl_easy_perform(h->curl);
    h->stats.bytes_in += h->resp.len;
    rc = cc == CURLE_OK ? 0 : http_curl_error(h, what, cc, err);
    if (rc == 0) {
      char *ct = NULL;
      curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &rep->status);
      curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct);
      http_charset(ct, rep->charset, sizeof(rep->charset));
    }
  }
  rep->body = hvsb_str(&h->resp);
  rep->len = h->resp.len;
  return rc;
}
