/*
 * seal.c - build and strictly parse WinRM's multipart/encrypted bodies
 * (MS-WSMV 2.2.9.1): the format only; gss_http.c seals and unseals them
 * with a security context.
 * The parser trusts nothing: bounded header lines, bounded signature and
 * payload lengths, exact boundary framing, no allocation before checks.
 */
#include "seal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WSEAL_MAX_CTYPE 512   /* bytes of the HTTP Content-Type value */
#define WSEAL_MAX_LINE 512    /* bytes of one part header line */
#define WSEAL_MAX_HEADERS 8   /* header lines in the first part */
#define WSEAL_MAX_BOUNDARY 70 /* RFC 2046 */

static int wseal_why(char *why, size_t whysz, const char *msg) {
  if (why != NULL && whysz > 0)
    snprintf(why, whysz, "%s", msg);
  return -1;
}

static const char *wseal_known_protocol(const char *p, size_t n) {
  if (n == strlen(WSEAL_PROTO_SPNEGO) &&
      strncasecmp(p, WSEAL_PROTO_SPNEGO, n) == 0)
    return WSEAL_PROTO_SPNEGO;
  if (n == strlen(WSEAL_PROTO_KERBEROS) &&
      strncasecmp(p, WSEAL_PROTO_KERBEROS, n) == 0)
    return WSEAL_PROTO_KERBEROS;
  return NULL;
}

static void wseal_trim(const char **p, size_t *n) {
  while (*n > 0 && (**p == ' ' || **p == '\t')) {
    (*p)++;
    (*n)--;
  }
  while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
    (*n)--;
}

/* Iterates `name=value` parameters separated by ';' (values may be
 * quoted). Returns 1 with the next one, 0 at the end, -1 if malformed. */
static int wseal_next_param(const char **cur, const char *end,
                            const char **name, size_t *namelen,
                            const char **val, size_t *vallen) {
  const char *p = *cur, *eq;
  while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
    p++;
  if (p >= end)
    return 0;
  eq = p;
  while (eq < end && *eq != '=' && *eq != ';')
    eq++;
  if (eq >= end || *eq != '=')
    return -1;
  *name = p;
  *namelen = (size_t)(eq - p);
  wseal_trim(name, namelen);
  p = eq + 1;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (p < end && *p == '"') {
    const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
    if (q == NULL)
      return -1;
    *val = p + 1;
    *vallen = (size_t)(q - p - 1);
    p = q + 1;
    while (p < end && (*p == ' ' || *p == '\t'))
      p++;
    if (p < end && *p != ';')
      return -1;
  } else {
    const char *s = memchr(p, ';', (size_t)(end - p));
    if (s == NULL)
      s = end;
    *val = p;
    *vallen = (size_t)(s - p);
    wseal_trim(val, vallen);
    p = s;
  }
  *cur = p;
  return *namelen > 0 ? 1 : -1;
}

int wseal_is_sealed(const char *ct) {
  size_t n = strlen("multipart/encrypted");
  if (ct == NULL)
    return 0;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  return strncasecmp(ct, "multipart/encrypted", n) == 0 &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int wseal_content_type(const char *protocol, char *out, size_t outsz) {
  int n = snprintf(out, outsz,
                   "multipart/encrypted;protocol=\"%s\";boundary=\"%s\"",
                   protocol, WSEAL_BOUNDARY);
  return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int wseal_build(const char *protocol, size_t orig_len, const uint8_t *sig,
                size_t siglen, const uint8_t *data, size_t datalen,
                uint8_t **out, size_t *outlen) {
  char head[512];
  const char *tail = "--" WSEAL_BOUNDARY "--\r\n";
  int hn;
  size_t n;
  uint8_t *b;
  *out = NULL;
  if (siglen > WSEAL_MAX_SIG || datalen > WSEAL_MAX_BODY)
    return -1;
  hn = snprintf(head, sizeof(head),
                "--" WSEAL_BOUNDARY "\r\n"
                "\tContent-Type: %s\r\n"
                "\tOriginalContent: type=" WSEAL_SOAP_CTYPE ";Length=%zu\r\n"
                "--" WSEAL_BOUNDARY "\r\n"
                "\tContent-Type: application/octet-stream\r\n",
                protocol, orig_len);
  if (hn < 0 || (size_t)hn >= sizeof(head))
    return -1;
  n = (size_t)hn + 4 + siglen + datalen + strlen(tail);
  b = malloc(n);
  if (b == NULL)
    return -1;
  memcpy(b, head, (size_t)hn);
  b[hn] = (uint8_t)(siglen & 0xff);
  b[hn + 1] = (uint8_t)((siglen >> 8) & 0xff);
  b[hn + 2] = (uint8_t)((siglen >> 16) & 0xff);
  b[hn + 3] = (uint8_t)((siglen >> 24) & 0xff);
  if (siglen)
    memcpy(b + hn + 4, sig, siglen);
  if (datalen)
    memcpy(b + hn + 4 + siglen, data, datalen);
  /* a binary body: no terminating NUL wanted */
  /* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
  memcpy(b + hn + 4 + siglen + datalen, tail, strlen(tail));
  *out = b;
  *outlen = n;
  return 0;
}

/* Reads one CRLF-terminated line starting at *pos (at most WSEAL_MAX_LINE
 * bytes, no NUL); returns its length or -1. */
static long wseal_line(const uint8_t *b, size_t len, size_t pos) {
  size_t i;
  for (i = pos; i + 1 < len && i - pos <= WSEAL_MAX_LINE; i++) {
    if (b[i] == '\0')
      return -1;
    if (b[i] == '\r' && b[i + 1] == '\n')
      return (long)(i - pos);
    if (b[i] == '\n' || b[i] == '\r')
      return -1;
  }
  return -1;
}

/* Splits a header line "  Name: value" (leading HT/SP allowed). */
static int wseal_header(const char *l, size_t n, const char **name,
                        size_t *namelen, const char **val, size_t *vallen) {
  const char *c;
  while (n > 0 && (*l == ' ' || *l == '\t')) {
    l++;
    n--;
  }
  c = memchr(l, ':', n);
  if (c == NULL || c == l)
    return -1;
  *name = l;
  *namelen = (size_t)(c - l);
  *val = c + 1;
  *vallen = n - *namelen - 1;
  wseal_trim(val, vallen);
  return 0;
}

static int wseal_is_boundary_line(const uint8_t *b, size_t n, const char *bnd,
                                  size_t bl) {
  return n == bl + 2 && b[0] == '-' && b[1] == '-' &&
         memcmp(b + 2, bnd, bl) == 0;
}

static int wseal_parse_length(const char *v, size_t n, size_t *out) {
  size_t x = 0, i;
  if (n == 0 || n > 10)
    return -1;
  for (i = 0; i < n; i++) {
    if (!isdigit((unsigned char)v[i]))
      return -1;
    x = x * 10 + (size_t)(v[i] - '0');
  }
  if (x > WSEAL_MAX_BODY)
    return -1;
  *out = x;
  return 0;
}

static int wseal_original(const char *v, size_t n, wseal_parts_t *o, char *why,
                          size_t whysz) {
  const char *cur = v, *end = v + n, *pn, *pv;
  size_t pnl, pvl;
  const char *type = NULL, *cs = NULL;
  size_t typel = 0, csl = 0;
  int have_len = 0, r;
  while ((r = wseal_next_param(&cur, end, &pn, &pnl, &pv, &pvl)) == 1) {
    if (pnl == 4 && strncasecmp(pn, "type", 4) == 0) {
      type = pv;
      typel = pvl;
    } else if (pnl == 7 && strncasecmp(pn, "charset", 7) == 0) {
      cs = pv;
      csl = pvl;
    } else if (pnl == 6 && strncasecmp(pn, "Length", 6) == 0) {
      if (have_len || wseal_parse_length(pv, pvl, &o->orig_len) != 0)
        return wseal_why(why, whysz,
                         "OriginalContent Length missing a number, repeated "
                         "or over the limit");
      have_len = 1;
    }
  }
  if (r < 0)
    return wseal_why(why, whysz, "malformed OriginalContent parameters");
  if (type == NULL || !have_len)
    return wseal_why(why, whysz, "OriginalContent lacks type or Length");
  if (typel + csl + 10 >= sizeof(o->orig_type))
    return wseal_why(why, whysz, "OriginalContent type too long");
  if (cs != NULL)
    snprintf(o->orig_type, sizeof(o->orig_type), "%.*s;charset=%.*s",
             (int)typel, type, (int)csl, cs);
  else
    snprintf(o->orig_type, sizeof(o->orig_type), "%.*s", (int)typel, type);
  return 0;
}

int wseal_parse(const char *ct, const uint8_t *b, size_t len, wseal_parts_t *o,
                char *why, size_t whysz) {
  const char *cur, *end, *pn, *pv, *proto = NULL;
  size_t pnl, pvl, ctl, pos, bl = 0, k, tail;
  char bnd[WSEAL_MAX_BOUNDARY + 1];
  int r, have_orig = 0, have_ct = 0;
  long ll;

  memset(o, 0, sizeof(*o));
  if (ct == NULL || (ctl = strnlen(ct, WSEAL_MAX_CTYPE + 1)) > WSEAL_MAX_CTYPE)
    return wseal_why(why, whysz, "Content-Type missing or too long");
  if (!wseal_is_sealed(ct))
    return wseal_why(why, whysz, "Content-Type is not multipart/encrypted");
  if (b == NULL || len > WSEAL_MAX_BODY + 4096)
    return wseal_why(why, whysz, "body missing or over the size limit");
  cur = memchr(ct, ';', ctl);
  end = ct + ctl;
  bnd[0] = '\0';
  while (cur != NULL &&
         (r = wseal_next_param(&cur, end, &pn, &pnl, &pv, &pvl)) != 0) {
    if (r < 0)
      return wseal_why(why, whysz, "malformed Content-Type parameters");
    if (pnl == 8 && strncasecmp(pn, "protocol", 8) == 0) {
      proto = wseal_known_protocol(pv, pvl);
      if (proto == NULL)
        return wseal_why(why, whysz,
                         "unsupported encryption protocol (only "
                         "HTTP-SPNEGO-session-encrypted and "
                         "HTTP-Kerberos-session-encrypted)");
    } else if (pnl == 8 && strncasecmp(pn, "boundary", 8) == 0) {
      if (pvl == 0 || pvl > WSEAL_MAX_BOUNDARY)
        return wseal_why(why, whysz, "boundary empty or too long");
      memcpy(bnd, pv, pvl);
      bnd[pvl] = '\0';
      bl = pvl;
    }
  }
  if (proto == NULL || bl == 0)
    return wseal_why(why, whysz, "Content-Type lacks protocol or boundary");
  snprintf(o->protocol, sizeof(o->protocol), "%s", proto);

  /* Part 1: control information. */
  pos = 0;
  ll = wseal_line(b, len, pos);
  if (ll < 0 || !wseal_is_boundary_line(b + pos, (size_t)ll, bnd, bl))
    return wseal_why(why, whysz, "body does not start with the boundary");
  pos += (size_t)ll + 2;
  for (k = 0;; k++) {
    const char *hn, *hv;
    size_t hnl, hvl;
    ll = wseal_line(b, len, pos);
    if (ll < 0)
      return wseal_why(why, whysz, "bad or over-long line in the first part");
    if (wseal_is_boundary_line(b + pos, (size_t)ll, bnd, bl))
      break;
    if (k >= WSEAL_MAX_HEADERS)
      return wseal_why(why, whysz, "too many header lines in the first part");
    if (wseal_header((const char *)b + pos, (size_t)ll, &hn, &hnl, &hv, &hvl) !=
        0)
      return wseal_why(why, whysz, "malformed header line in the first part");
    if (hnl == 12 && strncasecmp(hn, "Content-Type", 12) == 0) {
      if (have_ct || wseal_known_protocol(hv, hvl) != proto)
        return wseal_why(why, whysz,
                         "first part Content-Type repeated or not the "
                         "protocol named in the HTTP Content-Type");
      have_ct = 1;
    } else if (hnl == 15 && strncasecmp(hn, "OriginalContent", 15) == 0) {
      if (have_orig)
        return wseal_why(why, whysz, "OriginalContent repeated");
      if (wseal_original(hv, hvl, o, why, whysz) != 0)
        return -1;
      have_orig = 1;
    }
    pos += (size_t)ll + 2;
  }
  if (!have_ct || !have_orig)
    return wseal_why(why, whysz,
                     "first part lacks Content-Type or OriginalContent");
  pos += (size_t)ll + 2;

  /* Part 2: exactly one header line, then the binary up to the close. */
  {
    const char *hn, *hv;
    size_t hnl, hvl;
    ll = wseal_line(b, len, pos);
    if (ll < 0 ||
        wseal_header((const char *)b + pos, (size_t)ll, &hn, &hnl, &hv, &hvl) !=
            0 ||
        hnl != 12 || strncasecmp(hn, "Content-Type", 12) != 0 || hvl != 24 ||
        strncasecmp(hv, "application/octet-stream", 24) != 0)
      return wseal_why(why, whysz,
                       "second part must start with Content-Type: "
                       "application/octet-stream");
    pos += (size_t)ll + 2;
  }
  /* Closing delimiter "--B--" with an optional CRLF, at the very end. */
  tail = bl + 4;
  if (len >= pos + tail + 2 && b[len - 2] == '\r' && b[len - 1] == '\n')
    len -= 2;
  if (len < pos + tail || memcmp(b + len - tail, "--", 2) != 0 ||
      memcmp(b + len - tail + 2, bnd, bl) != 0 ||
      memcmp(b + len - 2, "--", 2) != 0)
    return wseal_why(why, whysz, "body does not end with the closing boundary");
  len -= tail;
  if (len - pos < 4)
    return wseal_why(why, whysz,
                     "encrypted part shorter than its length field");
  o->siglen = (size_t)b[pos] | (size_t)b[pos + 1] << 8 |
              (size_t)b[pos + 2] << 16 | (size_t)b[pos + 3] << 24;
  pos += 4;
  if (o->siglen == 0 || o->siglen > WSEAL_MAX_SIG || o->siglen > len - pos)
    return wseal_why(why, whysz,
                     "signature length zero, over the limit or past the end");
  o->sig = b + pos;
  o->data = b + pos + o->siglen;
  o->datalen = len - pos - o->siglen;
  return 0;
}
