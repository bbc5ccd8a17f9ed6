/*
 * keys.c - the item key grammar of PROTOCOL.md section 2: which prefixes are
 * usable, and which keys are chunk keys "PREFIX.<A|B>.<index>".
 */
#include "hvkvp_int.h"

#include <string.h>

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
