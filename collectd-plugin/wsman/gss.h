/*
 * gss.h - client side of WinRM's Kerberos, Negotiate (SPNEGO) and NTLM
 * HTTP authentication through GSSAPI (MIT krb5, NTLM via gss-ntlmssp), and
 * the per-message seal/unseal with the established context that WinRM's
 * message encryption (MS-WSMV 2.2.9.1, see seal.h) needs.
 *
 * libcurl does the HTTP; this module produces and consumes the tokens of the
 * Authorization / WWW-Authenticate headers (hva_step) and drives the whole
 * exchange over a caller's CURL handle (hva_post). The context is bound to
 * the TCP connection the exchange ran on (WinRM authenticates connections):
 * hva_post notices a new connection and authenticates again.
 *
 * Secrets (passwords, tokens, session keys) are never logged or put into an
 * error message.
 */
#ifndef HVKVP_WSMAN_GSS_H
#define HVKVP_WSMAN_GSS_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
  HVA_KERBEROS,  /* krb5 mechanism; HTTP scheme "Kerberos" if offered,
                    else krb5 tokens under "Negotiate" */
  HVA_NTLM,      /* NTLMSSP (gss-ntlmssp) tokens under "Negotiate" (as
                    WinRM accepts them) or "NTLM" if only that is offered */
  HVA_NEGOTIATE, /* SPNEGO choosing Kerberos or NTLM */
} hva_mech_t;

typedef enum {
  HVA_ENC_AUTO,     /* seal over http://, rely on TLS over https:// */
  HVA_ENC_REQUIRED, /* seal always (also over https) */
  HVA_ENC_OFF,      /* never seal (needs AllowUnencrypted on the server) */
} hva_enc_t;

typedef struct {
  hva_mech_t mech;
  const char *host;      /* server host name: service HTTP@host; in errors */
  const char *user;      /* NTLM: DOMAIN\user or user@REALM; Kerberos:
                            principal to use with the password (optional) */
  const char *password;  /* optional: acquire credentials with it; never
                            logged nor copied: it must outlive the context */
  const char *keytab;    /* Kerberos client keytab (KerberosKeytab) */
  const char *principal; /* Kerberos client principal (KerberosPrincipal);
                            default: the keytab's first / the ccache's */
  const char *service;   /* default "HTTP" */
} hva_opts_t;

typedef struct hva_ctx hva_ctx_t;

/* Parses "kerberos" | "ntlm" | "negotiate" (case-insensitive); -1 if not
 * one of them ("basic" is libcurl's business, not ours). */
int hva_mech_parse(const char *s, hva_mech_t *out);
/* "auto" | "required" | "off"; -1 otherwise. */
int hva_enc_parse(const char *s, hva_enc_t *out);

/* Creates the client; acquires credentials lazily (first hva_step). */
hva_ctx_t *hva_new(const hva_opts_t *o, ws_err_t *err);
void hva_free(hva_ctx_t *c);
/* Forgets the security context (e.g. the connection was closed). */
void hva_reset(hva_ctx_t *c);
int hva_established(const hva_ctx_t *c);
/* HTTP requests hva_post made so far, authentication legs included. */
uint64_t hva_requests(const hva_ctx_t *c);

/* One authentication step. `www_auth` is every WWW-Authenticate value of the
 * last response joined by '\n' (NULL before the first request). On success
 * *authz is a malloc'ed Authorization header value ("Negotiate <b64>") or
 * NULL when the context is complete and nothing needs sending. Returns 0 or
 * -1 with err (kind WS_ERR_AUTH, message naming the host and the cause: no
 * ticket, KDC unreachable, clock skew, wrong password, ...). */
int hva_step(hva_ctx_t *c, const char *www_auth, char **authz, ws_err_t *err);

/* The encrypted-message protocol of the established context:
 * "application/HTTP-SPNEGO-session-encrypted" or
 * "application/HTTP-Kerberos-session-encrypted". */
const char *hva_protocol(const hva_ctx_t *c);

/* Seals `in`: *sig (the wrap token header / NTLM signature) and *data (the
 * encrypted bytes), both malloc'ed. */
int hva_wrap(hva_ctx_t *c, const uint8_t *in, size_t n, uint8_t **sig,
             size_t *siglen, uint8_t **data, size_t *datalen, ws_err_t *err);
/* Checks and decrypts; *out malloc'ed. Any tampering -> -1, WS_ERR_AUTH
 * "cannot decrypt ... from <host>". */
int hva_unwrap(hva_ctx_t *c, const uint8_t *sig, size_t siglen,
               const uint8_t *data, size_t datalen, uint8_t **out,
               size_t *outlen, ws_err_t *err);

/* What the HTTP exchange (gss_http.c) reads of the context: the server's
 * host name, the HTTP scheme chosen ("Negotiate", "Kerberos", "NTLM"),
 * whether NTLM was negotiated, and whether `www` (WWW-Authenticate values)
 * carries a token of that scheme. hva_note_request counts one request. */
const char *hva_host(const hva_ctx_t *c);
const char *hva_scheme(const hva_ctx_t *c);
int hva_is_ntlm(const hva_ctx_t *c);
int hva_has_token(const hva_ctx_t *c, const char *www);
void hva_note_request(hva_ctx_t *c);

/* ---- the whole exchange over libcurl (gss_http.c) ---- */

/* Seals `soap` into MS-WSMV's multipart/encrypted *body (malloc'ed) and
 * writes its Content-Type value. */
int hva_seal(hva_ctx_t *c, const char *soap, size_t len, uint8_t **body,
             size_t *bodylen, char *ctype, size_t ctypesz, ws_err_t *err);
/* Parses and decrypts a sealed body; checks the protocol matches the
 * context and the plaintext length equals OriginalContent's Length. *plain
 * is NUL terminated; orig_type (may be NULL) receives OriginalContent's
 * type, e.g. "application/soap+xml;charset=UTF-8". */
int hva_unseal(hva_ctx_t *c, const char *content_type, const uint8_t *body,
               size_t len, uint8_t **plain, size_t *plainlen, char *orig_type,
               size_t orig_type_sz, ws_err_t *err);

typedef struct {
  long status; /* HTTP status of the final response */
  char *body;  /* plaintext body (unsealed if it was sealed), NUL
                  terminated, malloc'ed; NULL if none */
  size_t len;
  int sealed;      /* the response was sealed */
  char ctype[256]; /* Content-Type of the (unsealed) body */
} hva_resp_t;

void hva_resp_free(hva_resp_t *r);

/* POSTs the SOAP `soap` (len bytes) to the URL already set on `curl`
 * (with its TLS/timeout options), authenticating the connection first if
 * needed, sealing the body when `seal` is set and unsealing the response.
 * Response bodies larger than max_body bytes are refused. The caller's
 * CURLOPT_HTTPHEADER, WRITEFUNCTION, HEADERFUNCTION and POSTFIELDS are
 * replaced. Returns 0 when an HTTP response arrived (any status; 401 after
 * a complete exchange -> -1 with a message saying whether the server
 * rejected the credentials or refused unencrypted traffic). */
int hva_post(hva_ctx_t *c, void *curl, const char *soap, size_t len, int seal,
             size_t max_body, hva_resp_t *resp, ws_err_t *err);

#endif
