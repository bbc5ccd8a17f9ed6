/*
 * utf8.c - strict UTF-8 decoding of one sequence (no overlongs, surrogates
 * or code points above U+10FFFF), used by the JSON reader and writer and by
 * name sanitising.
 */
#include "hvkvp_int.h"

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
