/*
 * util.c - small internal helpers of the protocol library: bounded string
 * length, a growable buffer, canonical u64 parsing, prefix validation and
 * chunk key recognition.
 */
#include "hvkvp_int.h"

#include <stdlib.h>
#include <string.h>

size_t hvkvp_strnlen(const char *s, size_t max) {
  size_t i = 0;
  while (i < max && s[i] != '\0')
    i++;
  return i;
}

void hvkvp_buf_init(hvkvp_buf_t *b) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

void hvkvp_buf_free(hvkvp_buf_t *b) {
  free(b->data);
  hvkvp_buf_init(b);
}

int hvkvp_buf_append(hvkvp_buf_t *b, const void *p, size_t n) {
  if (b->oom)
    return -1;
  if (n >= SIZE_MAX / 2 - b->len) {
    b->oom = 1;
    return -1;
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *d;
    while (cap < b->len + n + 1)
      cap *= 2;
    d = realloc(b->data, cap);
    if (d == NULL) {
      b->oom = 1;
      return -1;
    }
    b->data = d;
    b->cap = cap;
  }
  if (n > 0)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int hvkvp_buf_puts(hvkvp_buf_t *b, const char *s) {
  return hvkvp_buf_append(b, s, strlen(s));
}

uint64_t hvkvp_fnv1a64(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int hvkvp_parse_u64(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  size_t i;
  if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
    return -1;
  for (i = 0; i < n; i++) {
    unsigned d;
    if (s[i] < '0' || s[i] > '9')
      return -1;
    d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

static int prefix_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

int hvkvp_prefix_check(const char *prefix, hvkvp_err_t *err) {
  size_t n, i;
  if (prefix == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "key prefix is NULL");
  n = hvkvp_strnlen(prefix, HVKVP_PREFIX_LEN);
  if (n == 0)
    return hvkvp_err_set(err, HVKVP_E_ARG, "key prefix is empty");
  if (n >= HVKVP_PREFIX_LEN)
    return hvkvp_err_set(err, HVKVP_E_ARG, "key prefix is longer than %d bytes",
                         HVKVP_PREFIX_LEN - 1);
  for (i = 0; i < n; i++)
    if (!prefix_char_ok(prefix[i]))
      return hvkvp_err_set(err, HVKVP_E_ARG,
                           "key prefix has invalid byte 0x%02x at %zu "
                           "(allowed: A-Z a-z 0-9 _ - .)",
                           (unsigned char)prefix[i], i);
  if (prefix[0] == '.' || prefix[n - 1] == '.')
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "key prefix must not start or end with '.'");
  return 0;
}

int hvkvp_chunk_key_parse(const char *key, const char *prefix, char *slot,
                          size_t *idx) {
  size_t pl = strlen(prefix), n, i;
  size_t v = 0;
  if (strncmp(key, prefix, pl) != 0 || key[pl] != '.')
    return 0;
  key += pl + 1;
  if ((key[0] != 'A' && key[0] != 'B') || key[1] != '.')
    return 0;
  n = hvkvp_strnlen(key + 2, 8);
  if (n == 0 || n > 6 || (n > 1 && key[2] == '0'))
    return 0;
  for (i = 0; i < n; i++) {
    char c = key[2 + i];
    if (c < '0' || c > '9')
      return 0;
    v = v * 10 + (size_t)(c - '0');
  }
  *slot = key[0];
  *idx = v;
  return 1;
}

size_t hvkvp_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  uint32_t c;
  size_t len, i;
  unsigned char lo = 0x80, hi = 0xBF;
  if (n == 0)
    return 0;
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  if (s[0] >= 0xC2 && s[0] <= 0xDF) {
    len = 2;
    c = s[0] & 0x1F;
  } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
    len = 3;
    c = s[0] & 0x0F;
    if (s[0] == 0xE0)
      lo = 0xA0; /* overlong */
    else if (s[0] == 0xED)
      hi = 0x9F; /* surrogates */
  } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
    len = 4;
    c = s[0] & 0x07;
    if (s[0] == 0xF0)
      lo = 0x90;
    else if (s[0] == 0xF4)
      hi = 0x8F; /* above U+10FFFF */
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (i = 1; i < len; i++) {
    unsigned char b = s[i];
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
      return 0;
    c = (c << 6) | (b & 0x3F);
  }
  *cp = c;
  return len;
}
