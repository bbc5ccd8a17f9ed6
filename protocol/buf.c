/*
 * buf.c - the growable byte buffer the protocol writers build JSON, chunk
 * text and codec answers in (hvkvp_buf_t, hvkvp_int.h).
 */
#include "hvkvp_int.h"

#include <stdlib.h>
#include <string.h>

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
