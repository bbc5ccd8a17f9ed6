/*
 * hvkvp_int.h - the declarations the files of the hvkvp_protocol library
 * (and hvkvp-codec) share but the public API (hvkvp.h) does not show: error
 * reporting (errors.c), bounded string length, the growable buffer (buf.c),
 * the key grammar (keys.c), canonical decimals (decimal.c), UTF-8 decoding
 * (utf8.c) and the JSON writer's entry points (json_write.c).
 */
#ifndef HVKVP_INT_H
#define HVKVP_INT_H

#include "hvkvp.h"

#include <stdarg.h>

#if defined(__GNUC__)
#define HVKVP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HVKVP_PRINTF(a, b)
#endif

/* Sets err (may be NULL) to code and a formatted detail; returns code. */
int hvkvp_err_set(hvkvp_err_t *err, hvkvp_rc_t code, const char *fmt, ...)
    HVKVP_PRINTF(3, 4);

/* Length of s, at most max (like POSIX strnlen, which mingw may lack). */
static inline size_t hvkvp_strnlen(const char *s, size_t max) {
  size_t i = 0;
  while (i < max && s[i] != '\0')
    i++;
  return i;
}

/* Growable byte buffer; data is always NUL-terminated when len > 0. */
typedef struct {
  char *data;
  size_t len, cap;
  int oom; /* set once an append failed */
} hvkvp_buf_t;

void hvkvp_buf_init(hvkvp_buf_t *b);
void hvkvp_buf_free(hvkvp_buf_t *b);
int hvkvp_buf_append(hvkvp_buf_t *b, const void *p, size_t n);
int hvkvp_buf_puts(hvkvp_buf_t *b, const char *s);

/* Appends s as a JSON string literal (with quotes), ASCII only: non-ASCII
 * as \uXXXX (surrogate pairs above U+FFFF), invalid UTF-8 as \ufffd. */
int hvkvp_json_put_string(hvkvp_buf_t *b, const char *s, size_t n);

/* If key is "<prefix>.<A|B>.<i>" (i decimal without leading zeros, below
 * 1000000) returns 1 and sets *slot and *idx; else 0. */
int hvkvp_chunk_key_parse(const char *key, const char *prefix, char *slot,
                          size_t *idx);

/* Parses a canonical unsigned decimal (no sign, no leading zeros, fits
 * uint64). Returns 0 or -1. */
int hvkvp_parse_u64(const char *s, size_t n, uint64_t *out);

/* Decodes one well-formed UTF-8 sequence (no overlongs, surrogates or code
 * points above U+10FFFF) from s[0..n); returns its length, 0 if malformed. */
size_t hvkvp_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes m's JSON with only its first n_vls value lists and the given
 * trimmed count into out (appending). HVKVP_E_ARG names an invalid field. */
int hvkvp_json_write(const hvkvp_msg_t *m, size_t n_vls, uint32_t trimmed,
                     hvkvp_buf_t *out, hvkvp_err_t *err);

#endif /* HVKVP_INT_H */
