/*
 * fnv1a.c - FNV-1a 64 (hvkvp.h), the hash of the host's config id
 * (PROTOCOL.md section 11), exported so that every party hashes alike.
 */
#include "hvkvp.h"

uint64_t hvkvp_fnv1a64(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 1099511628211ULL;
  }
  return h;
}
