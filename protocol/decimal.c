/*
 * decimal.c - canonical unsigned decimal numbers (PROTOCOL.md: no sign, no
 * leading zeros, at most UINT64_MAX), as the head fields and the message's
 * u64 fields are written.
 */
#include "hvkvp_int.h"

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
