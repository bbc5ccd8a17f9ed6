/*
 * sbuf.c - growable string buffer with XML escaping (see sbuf.h).
 */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hvsb_init(hvsb_t *b) {
  memset(b, 0, sizeof(*b));
}

void hvsb_free(hvsb_t *b) {
  free(b->p);
  memset(b, 0, sizeof(*b));
}

void hvsb_reset(hvsb_t *b) {
  b->len = 0;
  b->failed = 0;
  if (b->p != NULL)
    b->p[0] = '\0';
}

static int hvsb_grow(hvsb_t *b, size_t need) {
  if (b->failed)
    return -1;
  if (b->len + need + 1 <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + need + 1) {
    if (cap > ((size_t)-1) / 2) {
      b->failed = 1;
      return -1;
    }
    cap *= 2;
  }
  char *p = realloc(b->p, cap);
  if (p == NULL) {
    b->failed = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

void hvsb_add(hvsb_t *b, const char *s, size_t n) {
  if (hvsb_grow(b, n) != 0)
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void hvsb_adds(hvsb_t *b, const char *s) {
  hvsb_add(b, s, strlen(s));
}

void hvsb_addf(hvsb_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char tmp[256];
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if ((size_t)n < sizeof(tmp)) {
    hvsb_add(b, tmp, (size_t)n);
    return;
  }
  if (hvsb_grow(b, (size_t)n) != 0)
    return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

size_t hvsb_utf8_len(const unsigned char *s, size_t avail) {
  unsigned c = s[0];
  if (c < 0x80)
    return 1;
  size_t n;
  unsigned cp;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (avail < n)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  if (cp >= 0xd800 && cp <= 0xdfff)
    return 0;
  if (cp == 0xfffe || cp == 0xffff)
    return 0;
  return n;
}

int hvsb_add_xml(hvsb_t *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t avail = strlen(s);
  while (avail > 0) {
    /* copy a run of plain characters at once */
    size_t run = 0;
    while (run < avail && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '&' &&
           p[run] != '<' && p[run] != '>' && p[run] != '"' && p[run] != '\'')
      run++;
    if (run > 0) {
      hvsb_add(b, (const char *)p, run);
      p += run;
      avail -= run;
      continue;
    }
    unsigned c = *p;
    const char *rep = NULL;
    switch (c) {
    case '&':
      rep = "&amp;";
      break;
    case '<':
      rep = "&lt;";
      break;
    case '>':
      rep = "&gt;";
      break;
    case '"':
      rep = "&quot;";
      break;
    case '\'':
      rep = "&apos;";
      break;
    case '\t':
      rep = "&#9;";
      break;
    case '\n':
      rep = "&#10;";
      break;
    case '\r':
      rep = "&#13;";
      break;
    default:
      break;
    }
    if (rep != NULL) {
      hvsb_adds(b, rep);
      p++;
      avail--;
      continue;
    }
    if (c < 0x20) {
      b->failed = 1;
      return -1;
    }
    size_t n = hvsb_utf8_len(p, avail);
    if (n == 0) {
      b->failed = 1;
      return -1;
    }
    hvsb_add(b, (const char *)p, n);
    p += n;
    avail -= n;
  }
  return b->failed ? -1 : 0;
}

int hvsb_failed(const hvsb_t *b) {
  return b->failed;
}

const char *hvsb_str(const hvsb_t *b) {
  return b->p != NULL ? b->p : "";
}
