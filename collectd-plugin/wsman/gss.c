/*
 * gss.c - the GSSAPI security context for WinRM's Kerberos / Negotiate /
 * NTLM authentication (see gss.h): credentials (ccache, keytab or password),
 * the tokens of each authentication leg, and gss_wrap / gss_unwrap of
 * message bodies. The HTTP exchange that carries the tokens is gss_http.c;
 * libcurl's own Negotiate is not used so that we keep the context.
 */
#include "gss.h"
#include "seal.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>

#include <ctype.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HVA_MAX_TOKEN 65536 /* bytes of a decoded token we accept */

static gss_OID_desc hva_oid_krb5 = {9, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
static gss_OID_desc hva_oid_spnego = {6, "\x2b\x06\x01\x05\x05\x02"};
static gss_OID_desc hva_oid_ntlm = {10,
                                    "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"};

struct hva_ctx;
static void hva_k5_release(struct hva_ctx *c);

struct hva_ctx {
  hva_mech_t mech;
  char *host;
  char *user;
  const char *password; /* borrowed: the caller's one buffer (options.c) */
  char *keytab;
  char *principal;
  char *service;
  char ccache[64]; /* MEMORY ccache for keytab/password credentials */
  krb5_context k5; /* owns the MEMORY ccache while we hold it */
  krb5_ccache k5cc;
  gss_cred_id_t cred;
  int have_cred;
  gss_ctx_id_t ctx;
  int complete;
  int is_ntlm;          /* the established context's mechanism is NTLM */
  char scheme[16];      /* "Negotiate" | "Kerberos" | "NTLM" */
  int final_token_sent; /* the last leg went out: a 401 now is a refusal */
  uint64_t requests;    /* HTTP requests made (authentication legs too) */
};

/* ---------------------------------------------------------------- errors */

static int hva_fail(ws_err_t *err, ws_err_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int hva_fail(ws_err_t *err, ws_err_kind_t kind, const char *fmt, ...) {
  va_list ap;
  if (err == NULL)
    return -1;
  err->kind = kind;
  err->http_status = 0;
  err->code = 0;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return -1;
}

/* Appends GSSAPI's text for one status value. */
static void hva_status_text(OM_uint32 code, int type, gss_OID mech, char *out,
                            size_t outsz) {
  OM_uint32 minor, ctx = 0;
  size_t used = strlen(out);
  do {
    gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
    if (GSS_ERROR(gss_display_status(&minor, code, type, mech, &ctx, &b)))
      break;
    if (used + 3 < outsz) {
      int n = snprintf(out + used, outsz - used, "%s%.*s", used ? "; " : "",
                       (int)b.length, (const char *)b.value);
      if (n > 0)
        used += (size_t)n < outsz - used ? (size_t)n : outsz - used - 1;
    }
    gss_release_buffer(&minor, &b);
  } while (ctx != 0);
}

static int hva_contains(const char *hay, const char *needle) {
  return strcasestr(hay, needle) != NULL;
}

/* Turns a GSSAPI failure into a message that names the host and the likely
 * cause. */
static int hva_gss_fail(hva_ctx_t *c, ws_err_t *err, const char *what,
                        OM_uint32 major, OM_uint32 minor) {
  char text[320] = "";
  const char *cause = NULL;
  hva_status_text(major, GSS_C_GSS_CODE, GSS_C_NO_OID, text, sizeof(text));
  if (minor != 0)
    hva_status_text(minor, GSS_C_MECH_CODE, GSS_C_NO_OID, text, sizeof(text));
  if (hva_contains(text, "Cannot contact any KDC") ||
      hva_contains(text, "Cannot find KDC"))
    cause = "KDC unreachable";
  else if (hva_contains(text, "Clock skew"))
    cause = "clock skew too great between this host and the KDC/server";
  else if (hva_contains(text, "Preauthentication failed") ||
           hva_contains(text, "Password incorrect") ||
           hva_contains(text, "password has expired"))
    cause = "wrong password";
  else if (hva_contains(text, "No Kerberos credentials") ||
           hva_contains(text, "No credentials cache") ||
           hva_contains(text, "No credentials were supplied") ||
           hva_contains(text, "Credentials cache file") ||
           hva_contains(text, "Matching credential not found"))
    cause = c->mech == HVA_NTLM ? "no NTLM credentials (set User and Password)"
                                : "no Kerberos ticket (run kinit or set "
                                  "KerberosKeytab)";
  else if (hva_contains(text, "not found in Kerberos database") ||
           hva_contains(text, "Server not found"))
    cause = "principal unknown to the KDC";
  else if (hva_contains(text, "Key table") || hva_contains(text, "keytab"))
    cause = "keytab unusable";
  return hva_fail(err, WS_ERR_AUTH,
                  "%s authentication to %s: %s failed%s%s (%s)",
                  c->mech == HVA_KERBEROS ? "Kerberos"
                  : c->mech == HVA_NTLM   ? "NTLM"
                                          : "Negotiate",
                  c->host, what, cause ? ": " : "", cause ? cause : "", text);
}

/* ---------------------------------------------------------------- base64 */

/* Tokens travel base64-encoded in HTTP headers: glibc's b64_ntop/b64_pton
 * (libresolv) do the coding. NULL / -1 on failure. */
static char *hva_b64_encode(const uint8_t *in, size_t n) {
  size_t cap = (n + 2) / 3 * 4 + 1;
  char *out = malloc(cap);
  if (out != NULL && b64_ntop(in, n, out, cap) < 0) {
    free(out);
    out = NULL;
  }
  return out;
}

/* Decodes a token of at most HVA_MAX_TOKEN bytes. */
static int hva_b64_decode(const char *in, size_t n, uint8_t **out,
                          size_t *outlen) {
  char *s;
  uint8_t *o;
  int k;
  if (n == 0 || n % 4 != 0 || n / 4 * 3 > HVA_MAX_TOKEN)
    return -1;
  s = strndup(in, n);
  o = malloc(n / 4 * 3);
  k = s != NULL && o != NULL ? b64_pton(s, o, n / 4 * 3) : -1;
  free(s);
  if (k < 0) {
    free(o);
    return -1;
  }
  *out = o;
  *outlen = (size_t)k;
  return 0;
}

/* ---------------------------------------------------------------- setup */

int hva_mech_parse(const char *s, hva_mech_t *out) {
  if (s == NULL)
    return -1;
  if (strcasecmp(s, "kerberos") == 0)
    *out = HVA_KERBEROS;
  else if (strcasecmp(s, "ntlm") == 0)
    *out = HVA_NTLM;
  else if (strcasecmp(s, "negotiate") == 0)
    *out = HVA_NEGOTIATE;
  else
    return -1;
  return 0;
}

int hva_enc_parse(const char *s, hva_enc_t *out) {
  if (s == NULL)
    return -1;
  if (strcasecmp(s, "auto") == 0)
    *out = HVA_ENC_AUTO;
  else if (strcasecmp(s, "required") == 0)
    *out = HVA_ENC_REQUIRED;
  else if (strcasecmp(s, "off") == 0)
    *out = HVA_ENC_OFF;
  else
    return -1;
  return 0;
}

static char *hva_dup(const char *s) {
  return s != NULL && *s != '\0' ? strdup(s) : NULL;
}

hva_ctx_t *hva_new(const hva_opts_t *o, ws_err_t *err) {
  hva_ctx_t *c;
  if (o == NULL || o->host == NULL || *o->host == '\0') {
    hva_fail(err, WS_ERR_CONFIG, "auth: no server host name given");
    return NULL;
  }
  if (o->mech == HVA_NTLM && (o->user == NULL || o->password == NULL) &&
      getenv("NTLM_USER_FILE") == NULL) {
    hva_fail(err, WS_ERR_CONFIG,
             "NTLM authentication to %s needs User and Password (or "
             "NTLM_USER_FILE)",
             o->host);
    return NULL;
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    hva_fail(err, WS_ERR_CONFIG, "auth: out of memory");
    return NULL;
  }
  c->mech = o->mech;
  c->host = strdup(o->host);
  c->user = hva_dup(o->user);
  c->password = o->password != NULL && *o->password ? o->password : NULL;
  c->keytab = hva_dup(o->keytab);
  c->principal = hva_dup(o->principal);
  c->service = strdup(o->service && *o->service ? o->service : "HTTP");
  snprintf(c->ccache, sizeof(c->ccache), "MEMORY:hvkvp-%p", (void *)c);
  c->cred = GSS_C_NO_CREDENTIAL;
  c->ctx = GSS_C_NO_CONTEXT;
  if (c->host == NULL || c->service == NULL) {
    hva_free(c);
    hva_fail(err, WS_ERR_CONFIG, "auth: out of memory");
    return NULL;
  }
  return c;
}

void hva_reset(hva_ctx_t *c) {
  OM_uint32 minor;
  if (c == NULL)
    return;
  if (c->ctx != GSS_C_NO_CONTEXT)
    gss_delete_sec_context(&minor, &c->ctx, GSS_C_NO_BUFFER);
  c->ctx = GSS_C_NO_CONTEXT;
  c->complete = 0;
  c->is_ntlm = 0;
  c->final_token_sent = 0;
  c->scheme[0] = '\0';
}

void hva_free(hva_ctx_t *c) {
  OM_uint32 minor;
  if (c == NULL)
    return;
  hva_reset(c);
  if (c->cred != GSS_C_NO_CREDENTIAL)
    gss_release_cred(&minor, &c->cred);
  hva_k5_release(c);
  free(c->host);
  free(c->user);
  free(c->keytab);
  free(c->principal);
  free(c->service);
  free(c);
}

int hva_established(const hva_ctx_t *c) {
  return c != NULL && c->complete;
}

uint64_t hva_requests(const hva_ctx_t *c) {
  return c != NULL ? c->requests : 0;
}

static gss_OID hva_mech_oid(hva_mech_t m) {
  return m == HVA_KERBEROS ? &hva_oid_krb5
         : m == HVA_NTLM   ? &hva_oid_ntlm
                           : &hva_oid_spnego;
}

static int hva_import_user(hva_ctx_t *c, const char *user, gss_name_t *name,
                           ws_err_t *err) {
  OM_uint32 major, minor;
  gss_buffer_desc b = {strlen(user), (void *)user};
  gss_OID type = c->mech == HVA_KERBEROS ? (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME
                                         : GSS_C_NT_USER_NAME;
  major = gss_import_name(&minor, &b, type, name);
  if (GSS_ERROR(major))
    return hva_gss_fail(c, err, "user name", major, minor);
  return 0;
}

static void hva_k5_release(hva_ctx_t *c) {
  if (c->k5cc != NULL)
    krb5_cc_destroy(c->k5, c->k5cc);
  c->k5cc = NULL;
  if (c->k5 != NULL)
    krb5_free_context(c->k5);
  c->k5 = NULL;
}

static int hva_k5_fail(hva_ctx_t *c, ws_err_t *err, krb5_error_code code,
                       const char *what) {
  const char *text = c->k5 ? krb5_get_error_message(c->k5, code) : NULL;
  const char *cause;
  switch (code) {
  case KRB5_KDC_UNREACH:
  case KRB5_REALM_CANT_RESOLVE:
  case KRB5_REALM_UNKNOWN:
    cause = "KDC unreachable";
    break;
  case KRB5KRB_AP_ERR_SKEW:
    cause = "clock skew too great between this host and the KDC";
    break;
  case KRB5KDC_ERR_PREAUTH_FAILED:
  case KRB5KRB_AP_ERR_BAD_INTEGRITY:
    cause = c->password ? "wrong password"
                        : "keytab key rejected by the KDC (stale keytab?)";
    break;
  case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
    cause = "client principal unknown to the KDC";
    break;
  case KRB5KDC_ERR_KEY_EXP:
    cause = "password expired";
    break;
  case KRB5KDC_ERR_CLIENT_REVOKED:
    cause = "account disabled or locked";
    break;
  default:
    cause = "Kerberos error";
    break;
  }
  hva_fail(err, WS_ERR_AUTH,
           "Kerberos authentication to %s: %s failed: %s (%s)", c->host, what,
           cause, text ? text : "unknown error");
  if (text != NULL)
    krb5_free_error_message(c->k5, text);
  hva_k5_release(c);
  return -1;
}

/* Gets a TGT with the password or the keytab into our own MEMORY ccache
 * (the KDC's answer gives precise errors: wrong password, KDC unreachable,
 * clock skew, unknown principal). */
static int hva_kinit(hva_ctx_t *c, ws_err_t *err) {
  krb5_error_code code;
  krb5_principal princ = NULL;
  krb5_keytab kt = NULL;
  krb5_get_init_creds_opt *opt = NULL;
  krb5_creds creds;
  const char *who = c->principal ? c->principal : c->user;
  int rc = -1;

  memset(&creds, 0, sizeof(creds));
  hva_k5_release(c);
  if ((code = krb5_init_context(&c->k5)) != 0) {
    c->k5 = NULL;
    return hva_fail(err, WS_ERR_AUTH,
                    "Kerberos authentication to %s: cannot read the Kerberos "
                    "configuration (KRB5_CONFIG): error %d",
                    c->host, (int)code);
  }
  if (c->keytab != NULL && c->password == NULL) {
    if ((code = krb5_kt_resolve(c->k5, c->keytab, &kt)) != 0)
      return hva_k5_fail(c, err, code, "opening the keytab");
    if (who == NULL) { /* the keytab's first principal */
      krb5_kt_cursor cur;
      krb5_keytab_entry ent;
      if ((code = krb5_kt_start_seq_get(c->k5, kt, &cur)) != 0 ||
          (code = krb5_kt_next_entry(c->k5, kt, &ent, &cur)) != 0) {
        krb5_kt_close(c->k5, kt);
        return hva_k5_fail(c, err, code, "reading the keytab");
      }
      code = krb5_copy_principal(c->k5, ent.principal, &princ);
      krb5_free_keytab_entry_contents(c->k5, &ent);
      krb5_kt_end_seq_get(c->k5, kt, &cur);
      if (code != 0) {
        krb5_kt_close(c->k5, kt);
        return hva_k5_fail(c, err, code, "reading the keytab");
      }
    }
  }
  if (princ == NULL && (code = krb5_parse_name(c->k5, who, &princ)) != 0) {
    if (kt)
      krb5_kt_close(c->k5, kt);
    return hva_k5_fail(c, err, code, "parsing the principal name");
  }
  if ((code = krb5_get_init_creds_opt_alloc(c->k5, &opt)) != 0)
    goto fail;
  if (kt != NULL)
    code = krb5_get_init_creds_keytab(c->k5, &creds, princ, kt, 0, NULL, opt);
  else
    code = krb5_get_init_creds_password(c->k5, &creds, princ, c->password, NULL,
                                        NULL, 0, NULL, opt);
  if (code != 0)
    goto fail;
  if ((code = krb5_cc_resolve(c->k5, c->ccache, &c->k5cc)) != 0 ||
      (code = krb5_cc_initialize(c->k5, c->k5cc, creds.client)) != 0 ||
      (code = krb5_cc_store_cred(c->k5, c->k5cc, &creds)) != 0)
    goto fail;
  rc = 0;
fail:
  if (rc != 0) {
    krb5_free_cred_contents(c->k5, &creds);
    krb5_free_principal(c->k5, princ);
    if (opt)
      krb5_get_init_creds_opt_free(c->k5, opt);
    if (kt)
      krb5_kt_close(c->k5, kt);
    return hva_k5_fail(c, err, code, "getting a ticket");
  }
  krb5_free_cred_contents(c->k5, &creds);
  krb5_free_principal(c->k5, princ);
  krb5_get_init_creds_opt_free(c->k5, opt);
  if (kt)
    krb5_kt_close(c->k5, kt);
  return 0;
}

/* Acquires the client credentials once: password, keytab or the process's
 * default (ticket cache / NTLM_USER_FILE). Kerberos with a password or a
 * keytab gets its ticket itself (hva_kinit) into a private MEMORY ccache. */
static int hva_acquire(hva_ctx_t *c, ws_err_t *err) {
  OM_uint32 major, minor;
  gss_OID_set_desc mechs = {1, hva_mech_oid(c->mech)};
  gss_name_t name = GSS_C_NO_NAME;
  const char *who = c->principal ? c->principal : c->user;

  if (c->have_cred)
    return 0;
  if (c->mech != HVA_NTLM &&
      ((c->password != NULL && who != NULL && strchr(who, '\\') == NULL) ||
       (c->keytab != NULL && c->password == NULL))) {
    gss_key_value_element_desc el = {"ccache", c->ccache};
    gss_key_value_set_desc store = {1, &el};
    if (hva_kinit(c, err) != 0)
      return -1;
    major =
        gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs,
                              GSS_C_INITIATE, &store, &c->cred, NULL, NULL);
    if (GSS_ERROR(major))
      return hva_gss_fail(c, err, "acquiring credentials", major, minor);
    c->have_cred = 1;
    return 0;
  }
  if (who != NULL && hva_import_user(c, who, &name, err) != 0)
    return -1;
  if (c->password != NULL && who != NULL) {
    gss_buffer_desc pw = {strlen(c->password), (void *)c->password};
    major = gss_acquire_cred_with_password(&minor, name, &pw, GSS_C_INDEFINITE,
                                           &mechs, GSS_C_INITIATE, &c->cred,
                                           NULL, NULL);
  } else {
    major = gss_acquire_cred(&minor, name, GSS_C_INDEFINITE, &mechs,
                             GSS_C_INITIATE, &c->cred, NULL, NULL);
  }
  if (name != GSS_C_NO_NAME)
    gss_release_name(&minor, &name);
  if (GSS_ERROR(major))
    return hva_gss_fail(c, err, "acquiring credentials", major, minor);
  c->have_cred = 1;
  return 0;
}

/* ---------------------------------------------------------------- steps */

/* Finds scheme `s` in the WWW-Authenticate values; sets *tok to its token
 * (or NULL) and returns 1 if offered. Bounded by the caller's buffer. */
static int hva_offer(const char *www, const char *s, const char **tok,
                     size_t *toklen) {
  size_t sl = strlen(s);
  const char *p = www;
  while (p != NULL && *p != '\0') {
    /* one challenge per header line, or several joined by ',' (tokens are
     * base64: no commas) */
    const char *end = strpbrk(p, "\n,");
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len > 0 && (*p == ' ' || *p == '\t')) {
      p++;
      len--;
    }
    while (len > 0 && isspace((unsigned char)p[len - 1]))
      len--;
    if (len >= sl && strncasecmp(p, s, sl) == 0 &&
        (len == sl || p[sl] == ' ')) {
      const char *t = p + sl;
      while (t < p + len && *t == ' ')
        t++;
      *tok = t < p + len ? t : NULL;
      *toklen = (size_t)(p + len - t);
      return 1;
    }
    p = end ? end + 1 : NULL;
  }
  return 0;
}

static int hva_choose_scheme(hva_ctx_t *c, const char *www, ws_err_t *err) {
  const char *t;
  size_t tl;
  const char *pick = NULL;
  if (www == NULL) /* no challenge seen: WinRM always offers Negotiate */
    pick = c->mech == HVA_KERBEROS ? "Kerberos" : "Negotiate";
  else if (c->mech == HVA_KERBEROS && hva_offer(www, "Kerberos", &t, &tl))
    pick = "Kerberos";
  else if (hva_offer(www, "Negotiate", &t, &tl))
    pick = "Negotiate";
  else if (c->mech == HVA_NTLM && hva_offer(www, "NTLM", &t, &tl))
    pick = "NTLM";
  if (pick == NULL)
    return hva_fail(err, WS_ERR_AUTH,
                    "%s does not offer %s authentication (it offers: %.200s)",
                    c->host,
                    c->mech == HVA_KERBEROS ? "Kerberos or Negotiate"
                    : c->mech == HVA_NTLM   ? "Negotiate or NTLM"
                                            : "Negotiate",
                    *www ? www : "nothing");
  snprintf(c->scheme, sizeof(c->scheme), "%s", pick);
  return 0;
}

/* The first leg: credentials, then the scheme the server offers. */
static int hva_first_leg(hva_ctx_t *c, const char *www_auth, ws_err_t *err) {
  if (hva_acquire(c, err) != 0)
    return -1;
  return hva_choose_scheme(c, www_auth, err);
}

/* A later leg: the server's token for our scheme, decoded into *tok (to be
 * freed). 0 to go on, 1 when there is nothing more to do, -1 on error. */
static int hva_server_token(hva_ctx_t *c, const char *www_auth, uint8_t **tok,
                            size_t *toklen, ws_err_t *err) {
  const char *t = NULL;
  size_t tl = 0;
  if (www_auth == NULL || !hva_offer(www_auth, c->scheme, &t, &tl) || t == NULL)
    return hva_fail(err, WS_ERR_AUTH,
                    "%s rejected the credentials (%s authentication "
                    "refused, wrong user or password?)",
                    c->host, c->scheme);
  if (hva_b64_decode(t, tl, tok, toklen) != 0)
    return hva_fail(err, WS_ERR_AUTH,
                    "%s sent a malformed %s token (bad base64 or over %d "
                    "bytes)",
                    c->host, c->scheme, HVA_MAX_TOKEN);
  if (c->complete) { /* mutual-auth token after completion: ignore */
    free(*tok);
    *tok = NULL;
    return 1;
  }
  return 0;
}

/* The server's name: service@host. */
static int hva_target(hva_ctx_t *c, gss_name_t *target, ws_err_t *err) {
  OM_uint32 major, minor;
  char spn[512];
  snprintf(spn, sizeof(spn), "%s@%s", c->service, c->host);
  gss_buffer_desc nb = {strlen(spn), spn};
  major = gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, target);
  if (GSS_ERROR(major))
    return hva_gss_fail(c, err, "service name", major, minor);
  return 0;
}

/* One call of gss_init_sec_context; *major its status. A failure drops the
 * context and the credentials (an expired or revoked ticket: acquire afresh
 * next time). */
static int hva_init(hva_ctx_t *c, gss_name_t target, gss_buffer_t in,
                    gss_buffer_t out, OM_uint32 *flags, OM_uint32 *major,
                    ws_err_t *err) {
  OM_uint32 minor;
  gss_OID actual = GSS_C_NO_OID;
  *major = gss_init_sec_context(
      &minor, c->cred, &c->ctx, target, hva_mech_oid(c->mech),
      GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_REPLAY_FLAG |
          GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG,
      GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS, in, &actual, out, flags,
      NULL);
  if (!GSS_ERROR(*major))
    return 0;
  hva_gss_fail(c, err, "security context", *major, minor);
  hva_reset(c);
  gss_release_cred(&minor, &c->cred);
  c->cred = GSS_C_NO_CREDENTIAL;
  c->have_cred = 0;
  return -1;
}

/* The Authorization header for our token: "<scheme> <base64>"; none for an
 * empty token. */
static int hva_authz(hva_ctx_t *c, const gss_buffer_desc *out, char **authz,
                     ws_err_t *err) {
  if (out->length == 0)
    return 0;
  char *b = hva_b64_encode(out->value, out->length);
  size_t n = b ? strlen(b) + strlen(c->scheme) + 2 : 0;
  *authz = b ? malloc(n) : NULL;
  if (*authz == NULL) {
    free(b);
    return hva_fail(err, WS_ERR_AUTH, "auth: out of memory");
  }
  snprintf(*authz, n, "%s %s", c->scheme, b);
  free(b);
  return 0;
}

/* The context is complete (sent: our last token goes out with *authz): note
 * whether it is NTLM, and refuse one that cannot seal. */
static int hva_completed(hva_ctx_t *c, int sent, OM_uint32 flags, char **authz,
                         ws_err_t *err) {
  OM_uint32 minor;
  gss_OID mech = GSS_C_NO_OID;
  c->complete = 1;
  c->final_token_sent = sent;
  if (!GSS_ERROR(gss_inquire_context(&minor, c->ctx, NULL, NULL, NULL, &mech,
                                     NULL, NULL, NULL)) &&
      mech != GSS_C_NO_OID)
    c->is_ntlm =
        mech->length == hva_oid_ntlm.length &&
        memcmp(mech->elements, hva_oid_ntlm.elements, mech->length) == 0;
  if ((flags & GSS_C_CONF_FLAG) != 0)
    return 0;
  hva_fail(err, WS_ERR_AUTH,
           "security context with %s offers no confidentiality "
           "(cannot seal messages)",
           c->host);
  free(*authz);
  *authz = NULL;
  hva_reset(c);
  return -1;
}

int hva_step(hva_ctx_t *c, const char *www_auth, char **authz, ws_err_t *err) {
  OM_uint32 major = 0, minor, flags = 0;
  gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
  gss_name_t target = GSS_C_NO_NAME;
  uint8_t *intok = NULL;
  size_t intoklen = 0;
  int rc;

  *authz = NULL;
  if (c->ctx == GSS_C_NO_CONTEXT && !c->complete)
    rc = hva_first_leg(c, www_auth, err);
  else
    rc = hva_server_token(c, www_auth, &intok, &intoklen, err);
  if (rc != 0)
    return rc > 0 ? 0 : -1;
  in.value = intok;
  in.length = intoklen;
  rc = -1;
  if (hva_target(c, &target, err) == 0 &&
      hva_init(c, target, &in, &out, &flags, &major, err) == 0 &&
      hva_authz(c, &out, authz, err) == 0 &&
      (major != GSS_S_COMPLETE ||
       hva_completed(c, out.length > 0, flags, authz, err) == 0))
    rc = 0;
  if (out.value != NULL)
    gss_release_buffer(&minor, &out);
  if (target != GSS_C_NO_NAME)
    gss_release_name(&minor, &target);
  free(intok);
  return rc;
}

const char *hva_protocol(const hva_ctx_t *c) {
  return strcmp(c->scheme, "Kerberos") == 0 ? WSEAL_PROTO_KERBEROS
                                            : WSEAL_PROTO_SPNEGO;
}

/* ---------------------------------------------------------------- seal */

int hva_wrap(hva_ctx_t *c, const uint8_t *in, size_t n, uint8_t **sig,
             size_t *siglen, uint8_t **data, size_t *datalen, ws_err_t *err) {
  OM_uint32 major, minor;
  int conf = 0;
  *sig = *data = NULL;
  if (!c->complete)
    return hva_fail(err, WS_ERR_AUTH,
                    "cannot seal a message to %s: not authenticated", c->host);
  if (c->is_ntlm) {
    /* gss-ntlmssp has no gss_wrap_iov; its token is the 16-byte NTLM
     * signature followed by the sealed message (checked by the tests). */
    gss_buffer_desc ib = {n, (void *)in}, ob = GSS_C_EMPTY_BUFFER;
    major = gss_wrap(&minor, c->ctx, 1, GSS_C_QOP_DEFAULT, &ib, &conf, &ob);
    if (GSS_ERROR(major))
      return hva_gss_fail(c, err, "sealing a message", major, minor);
    if (ob.length < WSEAL_NTLM_SIG_LEN || !conf) {
      gss_release_buffer(&minor, &ob);
      return hva_fail(err, WS_ERR_AUTH, "NTLM sealing to %s failed", c->host);
    }
    *siglen = WSEAL_NTLM_SIG_LEN;
    *datalen = ob.length - WSEAL_NTLM_SIG_LEN;
    *sig = malloc(*siglen);
    *data = malloc(*datalen ? *datalen : 1);
    if (*sig != NULL && *data != NULL) {
      memcpy(*sig, ob.value, *siglen);
      memcpy(*data, (uint8_t *)ob.value + *siglen, *datalen);
    }
    gss_release_buffer(&minor, &ob);
  } else {
    /* Kerberos (raw or under SPNEGO): header | data | padding, no trailer,
     * so the header is the RFC 4121 token (with RRC) that WinRM expects. */
    gss_iov_buffer_desc iov[3];
    memset(iov, 0, sizeof(iov));
    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[1].buffer.value = malloc(n ? n : 1);
    iov[1].buffer.length = n;
    iov[2].type = GSS_IOV_BUFFER_TYPE_PADDING | GSS_IOV_BUFFER_FLAG_ALLOCATE;
    if (iov[1].buffer.value == NULL)
      return hva_fail(err, WS_ERR_AUTH, "auth: out of memory");
    memcpy(iov[1].buffer.value, in, n);
    major = gss_wrap_iov(&minor, c->ctx, 1, GSS_C_QOP_DEFAULT, &conf, iov, 3);
    if (GSS_ERROR(major) || !conf) {
      free(iov[1].buffer.value);
      gss_release_iov_buffer(&minor, iov, 3);
      return hva_gss_fail(c, err, "sealing a message", major, minor);
    }
    *siglen = iov[0].buffer.length;
    *datalen = n + iov[2].buffer.length;
    *sig = malloc(*siglen ? *siglen : 1);
    *data = malloc(*datalen ? *datalen : 1);
    if (*sig != NULL && *data != NULL) {
      memcpy(*sig, iov[0].buffer.value, *siglen);
      memcpy(*data, iov[1].buffer.value, n);
      if (iov[2].buffer.length)
        memcpy(*data + n, iov[2].buffer.value, iov[2].buffer.length);
    }
    free(iov[1].buffer.value);
    iov[1].buffer.value = NULL;
    gss_release_iov_buffer(&minor, iov, 3);
  }
  if (*sig == NULL || *data == NULL) {
    free(*sig);
    free(*data);
    *sig = *data = NULL;
    return hva_fail(err, WS_ERR_AUTH, "auth: out of memory");
  }
  return 0;
}

int hva_unwrap(hva_ctx_t *c, const uint8_t *sig, size_t siglen,
               const uint8_t *data, size_t datalen, uint8_t **out,
               size_t *outlen, ws_err_t *err) {
  OM_uint32 major, minor;
  int conf = 0;
  gss_buffer_desc ib, ob = GSS_C_EMPTY_BUFFER;
  uint8_t *tok;
  *out = NULL;
  if (!c->complete)
    return hva_fail(err, WS_ERR_AUTH,
                    "cannot decrypt a message from %s: not authenticated",
                    c->host);
  if (siglen > WSEAL_MAX_SIG || datalen > WSEAL_MAX_BODY)
    return hva_fail(err, WS_ERR_AUTH,
                    "cannot decrypt the message from %s: sizes out of bounds",
                    c->host);
  /* Both layouts are "signature then data" as one token: MIT's gss_unwrap
   * undoes the RRC rotation of a Kerberos header-only token. */
  tok = malloc(siglen + datalen + 1);
  if (tok == NULL)
    return hva_fail(err, WS_ERR_AUTH, "auth: out of memory");
  memcpy(tok, sig, siglen);
  memcpy(tok + siglen, data, datalen);
  ib.value = tok;
  ib.length = siglen + datalen;
  major = gss_unwrap(&minor, c->ctx, &ib, &ob, &conf, NULL);
  free(tok);
  if (GSS_ERROR(major) || !conf) {
    char text[256] = "";
    if (GSS_ERROR(major))
      hva_status_text(major, GSS_C_GSS_CODE, GSS_C_NO_OID, text, sizeof(text));
    else
      snprintf(text, sizeof(text), "message was not encrypted");
    if (ob.value != NULL)
      gss_release_buffer(&minor, &ob);
    return hva_fail(err, WS_ERR_AUTH,
                    "decryption failure: cannot decrypt the message from %s "
                    "(%s)",
                    c->host, text);
  }
  *out = malloc(ob.length + 1);
  if (*out == NULL) {
    gss_release_buffer(&minor, &ob);
    return hva_fail(err, WS_ERR_AUTH, "auth: out of memory");
  }
  memcpy(*out, ob.value, ob.length);
  (*out)[ob.length] = '\0';
  *outlen = ob.length;
  gss_release_buffer(&minor, &ob);
  return 0;
}

/* ---------------------------------------------------------------- state
 * What the HTTP exchange (gss_http.c) needs to know of the context. */

const char *hva_host(const hva_ctx_t *c) {
  return c->host;
}

const char *hva_scheme(const hva_ctx_t *c) {
  return c->scheme;
}

int hva_is_ntlm(const hva_ctx_t *c) {
  return c->is_ntlm;
}

void hva_note_request(hva_ctx_t *c) {
  c->requests++;
}

int hva_has_token(const hva_ctx_t *c, const char *www) {
  const char *t;
  size_t tl;
  return hva_offer(www, c->scheme, &t, &tl) && t != NULL;
}
