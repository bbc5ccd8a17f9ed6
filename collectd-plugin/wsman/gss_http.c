/*
 * gss_http.c - WinRM's authenticated (and sealed) HTTP exchange over a
 * caller's libcurl handle (hva_post, gss.h): the 401 Negotiate/Kerberos/NTLM
 * legs on the connection, then the SOAP request sealed into MS-WSMV's
 * multipart/encrypted body (seal.h) and the response unsealed, with the
 * connection-bound context re-established when the server forgets it.
 */
#include "gss.h"
#include "seal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HVA_MAX_HDRS 8192 /* bytes of WWW-Authenticate values kept */
#define HVA_MAX_ROUNDS 8  /* legs of one authentication */

typedef struct {
  char www[HVA_MAX_HDRS];
  size_t wwwlen;
  char ctype[256];
  char *body;
  size_t len, cap, max;
  int too_big;
} hva_io_t;

static size_t hva_on_header(char *p, size_t sz, size_t n, void *ud) {
  hva_io_t *io = ud;
  size_t len = sz * n, k;
  const char *v;
  if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* new response: reset */
    io->wwwlen = 0;
    io->www[0] = '\0';
    io->ctype[0] = '\0';
    return len;
  }
  for (k = 0; k < len && p[k] != ':'; k++)
    ;
  if (k == len)
    return len;
  v = p + k + 1;
  {
    size_t vl = len - k - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
      v++;
      vl--;
    }
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
      vl--;
    if (k == 16 && strncasecmp(p, "WWW-Authenticate", 16) == 0) {
      if (io->wwwlen + vl + 2 < sizeof(io->www)) {
        if (io->wwwlen)
          io->www[io->wwwlen++] = '\n';
        memcpy(io->www + io->wwwlen, v, vl);
        io->wwwlen += vl;
        io->www[io->wwwlen] = '\0';
      }
    } else if (k == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
      snprintf(io->ctype, sizeof(io->ctype), "%.*s", (int)vl, v);
    }
  }
  return len;
}

static size_t hva_on_body(char *p, size_t sz, size_t n, void *ud) {
  hva_io_t *io = ud;
  size_t len = sz * n;
  if (io->len + len > io->max) {
    io->too_big = 1;
    return 0;
  }
  if (io->len + len + 1 > io->cap) {
    size_t cap = io->cap ? io->cap : 16384;
    char *b;
    while (cap < io->len + len + 1)
      cap *= 2;
    b = realloc(io->body, cap);
    if (b == NULL)
      return 0;
    io->body = b;
    io->cap = cap;
  }
  memcpy(io->body + io->len, p, len);
  io->len += len;
  io->body[io->len] = '\0';
  return len;
}

/* One POST on the handle. *new_conn: a new TCP connection was opened. */
static int hva_perform(hva_ctx_t *c, CURL *curl, const char *authz,
                       const char *ctype, const void *body, size_t len,
                       hva_io_t *io, long *status, int *new_conn,
                       ws_err_t *err) {
  struct curl_slist *h = NULL, *t;
  char line[512];
  CURLcode cc;
  long conns = 0;
  free(io->body);
  io->body = NULL;
  io->len = io->cap = 0;
  io->too_big = 0;
  io->wwwlen = 0;
  io->www[0] = '\0';
  io->ctype[0] = '\0';
  snprintf(line, sizeof(line), "Content-Type: %s", ctype);
  h = curl_slist_append(h, line);
  if (h != NULL && (t = curl_slist_append(h, "Expect:")) != NULL)
    h = t;
  if (authz != NULL) {
    char *a = malloc(strlen(authz) + 16);
    if (a != NULL) {
      sprintf(a, "Authorization: %s", authz);
      if ((t = curl_slist_append(h, a)) != NULL)
        h = t;
      free(a);
    }
  }
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_NONE);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, len ? body : "");
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, hva_on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, io);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, hva_on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, io);
  hva_note_request(c);
  cc = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(h);
  if (io->too_big)
    return ws_err_set(err, WS_ERR_PARSE,
                      "response from %s exceeds %zu bytes: refused",
                      hva_host(c), io->max);
  if (cc != CURLE_OK)
    return ws_err_set(
        err,
        cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION
            ? WS_ERR_TLS
        : cc == CURLE_OPERATION_TIMEDOUT ? WS_ERR_TIMEOUT
                                         : WS_ERR_CONNECT,
        "request to %s failed: %s", hva_host(c), curl_easy_strerror(cc));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &conns);
  *new_conn = conns > 0;
  return 0;
}

/* Runs the 401 exchange on the current connection with empty POSTs. */
static int hva_authenticate(hva_ctx_t *c, CURL *curl, hva_io_t *io,
                            ws_err_t *err) {
  long status = 0;
  int newc = 0, round, rc0;
  char *authz = NULL;
  const char *soap_ct = WSEAL_SOAP_CTYPE;

  hva_reset(c);
  /* Probe without credentials to learn the offered schemes, on a new
   * connection: an old one may still carry a context the server holds. */
  curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
  rc0 = hva_perform(c, curl, NULL, soap_ct, NULL, 0, io, &status, &newc, err);
  curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 0L);
  if (rc0 != 0)
    return -1;
  if (status != 401)
    return ws_err_set(err, WS_ERR_AUTH,
                      "%s answered HTTP %ld to an unauthenticated request "
                      "(expected 401 with WWW-Authenticate)",
                      hva_host(c), status);
  if (hva_step(c, io->www, &authz, err) != 0)
    return -1;
  for (round = 0; round < HVA_MAX_ROUNDS; round++) {
    int rc;
    if (authz == NULL)
      return ws_err_set(err, WS_ERR_AUTH,
                        "authentication to %s: nothing to send", hva_host(c));
    rc = hva_perform(c, curl, authz, soap_ct, NULL, 0, io, &status, &newc, err);
    free(authz);
    authz = NULL;
    if (rc != 0)
      return -1;
    if (newc) {
      hva_reset(c);
      return ws_err_set(err, WS_ERR_AUTH,
                        "%s closed the connection during authentication "
                        "(connection-bound authentication impossible)",
                        hva_host(c));
    }
    if (status == 200 || status == 204) {
      /* The last leg (Kerberos AP-REP for mutual authentication) comes
       * with the 200. */
      if (hva_has_token(c, io->www) && hva_step(c, io->www, &authz, err) != 0)
        return -1;
      free(authz);
      if (!hva_established(c)) {
        hva_reset(c);
        return ws_err_set(err, WS_ERR_AUTH,
                          "%s accepted an incomplete %s exchange (no mutual "
                          "authentication token)",
                          hva_host(c), hva_scheme(c));
      }
      return 0;
    }
    if (status != 401)
      return ws_err_set(err, WS_ERR_AUTH,
                        "%s answered HTTP %ld during %s authentication",
                        hva_host(c), status, hva_scheme(c));
    if (hva_established(c)) {
      int ntlm = hva_is_ntlm(c);
      hva_reset(c);
      return ws_err_set(err, WS_ERR_AUTH,
                        ntlm ? "%s rejected the credentials (NTLM: wrong user "
                               "or password, or the account is not allowed)"
                             : "%s rejected the credentials (Kerberos: clock "
                               "skew between client and server, a service "
                               "keytab out of date, or the account is not "
                               "allowed)",
                        hva_host(c));
    }
    if (hva_step(c, io->www, &authz, err) != 0)
      return -1;
  }
  free(authz);
  hva_reset(c);
  return ws_err_set(err, WS_ERR_AUTH,
                    "authentication to %s did not finish in %d rounds",
                    hva_host(c), HVA_MAX_ROUNDS);
}

/* ---- the sealed message (MS-WSMV 2.2.9.1) ---- */

int hva_seal(hva_ctx_t *c, const char *soap, size_t len, uint8_t **body,
             size_t *bodylen, char *ctype, size_t ctypesz, ws_err_t *err) {
  uint8_t *sig = NULL, *data = NULL;
  size_t siglen = 0, datalen = 0;
  const char *proto = hva_protocol(c);
  int rc;
  *body = NULL;
  if (hva_wrap(c, (const uint8_t *)soap, len, &sig, &siglen, &data, &datalen,
               err) != 0)
    return -1;
  rc = wseal_build(proto, len, sig, siglen, data, datalen, body, bodylen);
  free(sig);
  free(data);
  if (rc != 0 || wseal_content_type(proto, ctype, ctypesz) != 0) {
    free(*body);
    *body = NULL;
    if (err != NULL) {
      err->kind = WS_ERR_CONFIG;
      snprintf(err->msg, sizeof(err->msg),
               "cannot build the sealed message (%zu bytes over the limit?)",
               len);
    }
    return -1;
  }
  return 0;
}

int hva_unseal(hva_ctx_t *c, const char *ct, const uint8_t *body, size_t len,
               uint8_t **plain, size_t *plainlen, char *orig_type,
               size_t orig_type_sz, ws_err_t *err) {
  wseal_parts_t p;
  char why[160];
  *plain = NULL;
  if (wseal_parse(ct, body, len, &p, why, sizeof(why)) != 0) {
    if (err != NULL) {
      err->kind = WS_ERR_PARSE;
      snprintf(err->msg, sizeof(err->msg), "malformed encrypted message: %s",
               why);
    }
    return -1;
  }
  if (strcmp(p.protocol, hva_protocol(c)) != 0) {
    if (err != NULL) {
      err->kind = WS_ERR_PARSE;
      snprintf(err->msg, sizeof(err->msg),
               "encrypted message uses protocol %s, the session uses %s",
               p.protocol, hva_protocol(c));
    }
    return -1;
  }
  if (hva_unwrap(c, p.sig, p.siglen, p.data, p.datalen, plain, plainlen, err) !=
      0)
    return -1;
  if (orig_type != NULL && orig_type_sz > 0)
    snprintf(orig_type, orig_type_sz, "%s", p.orig_type);
  if (*plainlen != p.orig_len) {
    free(*plain);
    *plain = NULL;
    if (err != NULL) {
      err->kind = WS_ERR_PARSE;
      snprintf(err->msg, sizeof(err->msg),
               "decrypted message is %zu bytes, OriginalContent says %zu",
               *plainlen, p.orig_len);
    }
    return -1;
  }
  return 0;
}

void hva_resp_free(hva_resp_t *r) {
  if (r != NULL) {
    free(r->body);
    r->body = NULL;
    r->len = 0;
  }
}

int hva_post(hva_ctx_t *c, void *curlp, const char *soap, size_t len, int seal,
             size_t max_body, hva_resp_t *resp, ws_err_t *err) {
  CURL *curl = curlp;
  hva_io_t *io = calloc(1, sizeof(*io));
  int attempt, rc = -1;

  memset(resp, 0, sizeof(*resp));
  if (io == NULL)
    return ws_err_set(err, WS_ERR_CONFIG, "auth: out of memory");
  io->max = max_body;
  for (attempt = 0; attempt < 2; attempt++) {
    int newc = 0, fresh = 0;
    long status = 0;
    uint8_t *body = NULL;
    size_t blen = 0;
    char ctype[256];

    if (!hva_established(c)) {
      if (hva_authenticate(c, curl, io, err) != 0)
        goto out;
      fresh = 1;
    }
    if (seal) {
      if (hva_seal(c, soap, len, &body, &blen, ctype, sizeof(ctype), err))
        goto out;
    } else {
      snprintf(ctype, sizeof(ctype), "%s", WSEAL_SOAP_CTYPE);
    }
    rc = hva_perform(c, curl, NULL, ctype, seal ? (void *)body : soap,
                     seal ? blen : len, io, &status, &newc, err);
    free(body);
    if (rc != 0) {
      hva_reset(c); /* the connection is gone with its context */
      goto out;
    }
    rc = -1;
    if (status == 401 && !fresh) {
      /* The keep-alive connection was replaced, or the server forgot the
       * context: authenticate again and resend once. */
      hva_reset(c);
      continue;
    }
    if (status == 401) {
      char *scheme = NULL;
      int https =
          curl_easy_getinfo(curl, CURLINFO_SCHEME, &scheme) == CURLE_OK &&
          scheme != NULL && strcasecmp(scheme, "https") == 0;
      hva_reset(c);
      if (!seal && !https)
        ws_err_set(err, WS_ERR_AUTH,
                   "%s refused unencrypted traffic (HTTP 401 after "
                   "authenticating; its AllowUnencrypted is false): set "
                   "Encryption \"auto\" or use HTTPS",
                   hva_host(c));
      else
        ws_err_set(err, WS_ERR_AUTH,
                   "%s refused the %s request (HTTP 401 right after "
                   "authenticating)",
                   hva_host(c), seal ? "sealed" : "authenticated");
      if (err != NULL)
        err->http_status = 401;
      goto out;
    }
    if (seal && status == 400 && io->len == 0) {
      /* WinRM's answer to a body it cannot decrypt. */
      hva_reset(c);
      ws_err_set(err, WS_ERR_AUTH,
                 "%s could not decrypt the sealed request (HTTP 400 without a "
                 "body): session out of step, authenticating again next time",
                 hva_host(c));
      if (err != NULL)
        err->http_status = 400;
      goto out;
    }
    resp->status = status;
    if (wseal_is_sealed(io->ctype)) {
      uint8_t *plain = NULL;
      size_t plen = 0;
      if (hva_unseal(c, io->ctype, (const uint8_t *)io->body, io->len, &plain,
                     &plen, resp->ctype, sizeof(resp->ctype), err) != 0) {
        if (err != NULL)
          err->http_status = status;
        hva_reset(c); /* sequence state is lost: authenticate afresh */
        goto out;
      }
      resp->body = (char *)plain;
      resp->len = plen;
      resp->sealed = 1;
    } else {
      if (seal && io->len > 0) {
        ws_err_set(
            err, WS_ERR_AUTH,
            "%s answered HTTP %ld with an unencrypted body (Content-Type "
            "\"%.100s\") to a sealed request",
            hva_host(c), status, io->ctype);
        if (err != NULL)
          err->http_status = status;
        goto out;
      }
      resp->body = io->body;
      resp->len = io->len;
      snprintf(resp->ctype, sizeof(resp->ctype), "%s", io->ctype);
      io->body = NULL;
      if (resp->body == NULL)
        resp->body = calloc(1, 1);
    }
    rc = 0;
    goto out;
  }
  ws_err_set(err, WS_ERR_AUTH, "%s keeps refusing the authenticated connection",
             hva_host(c));
out:
  free(io->body);
  free(io);
  return rc;
}
