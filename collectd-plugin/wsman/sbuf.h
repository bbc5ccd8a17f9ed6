/*
 * sbuf.h - a growable string buffer for building SOAP envelopes and CIM-XML
 * with XML escaping. Out-of-memory is sticky: check hvsb_failed() once at
 * the end.
 */
#ifndef HVKVP_SBUF_H
#define HVKVP_SBUF_H

#include <stddef.h>

typedef struct {
  char *p;    /* NUL-terminated when len > 0 */
  size_t len; /* bytes used, without the NUL */
  size_t cap;
  int failed; /* allocation failed or invalid text was added */
} hvsb_t;

void hvsb_init(hvsb_t *b);
void hvsb_free(hvsb_t *b);
void hvsb_reset(hvsb_t *b); /* keeps the allocation */
void hvsb_add(hvsb_t *b, const char *s, size_t n);
void hvsb_adds(hvsb_t *b, const char *s);
void hvsb_addf(hvsb_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s escaped for XML text or attribute values (& < > " ' and CR, TAB,
 * LF as character references). Returns -1 (and marks the buffer failed) if s
 * is not valid UTF-8 or holds a character XML 1.0 cannot carry. */
int hvsb_add_xml(hvsb_t *b, const char *s);
int hvsb_failed(const hvsb_t *b);
/* "" when empty. */
const char *hvsb_str(const hvsb_t *b);

/* Length of the valid UTF-8 sequence at s (1..4) or 0 if invalid. */
size_t hvsb_utf8_len(const unsigned char *s, size_t avail);

#endif
