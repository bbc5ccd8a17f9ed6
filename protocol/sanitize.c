/*
 * sanitize.c - makes names safe for collectd and Graphite: every byte outside
 * the allowed set (a whole UTF-8 sequence counting as one) becomes '_', as
 * does a leading '.', and the result is capped at HVKVP_NAME_LEN - 1 bytes.
 */
#include "hvkvp_int.h"

#include <string.h>

static int allowed(unsigned char c, hvkvp_name_kind_t kind, size_t pos) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9') || c == '_')
    return 1;
  if (c == '-')
    return kind != HVKVP_NAME_PLUGIN;
  if (c == '.') /* never first: no ".", ".." or hidden file names */
    return pos > 0 && (kind == HVKVP_NAME_HOST || kind == HVKVP_NAME_TAG);
  if (c == ':')
    return kind == HVKVP_NAME_TAG;
  return 0;
}

int hvkvp_sanitize(char *dst, size_t dstsz, const char *src,
                   hvkvp_name_kind_t kind) {
  const unsigned char *s = (const unsigned char *)src;
  size_t cap, o = 0;
  int changed = 0;
  if (dstsz == 0 || dst == NULL)
    return src != NULL && src[0] != '\0';
  if (src == NULL) {
    dst[0] = '\0';
    return 0;
  }
  cap = dstsz < HVKVP_NAME_LEN ? dstsz - 1 : HVKVP_NAME_LEN - 1;
  while (*s != '\0') {
    if (o >= cap) {
      changed = 1; /* cut */
      break;
    }
    if (allowed(*s, kind, o)) {
      dst[o++] = (char)*s++;
    } else {
      uint32_t cp;
      size_t l = hvkvp_utf8_decode(s, hvkvp_strnlen((const char *)s, 4), &cp);
      s += l > 0 ? l : 1;
      dst[o++] = '_';
      changed = 1;
    }
  }
  dst[o] = '\0';
  return changed;
}
