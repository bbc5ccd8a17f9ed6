/*
 * b64.c - strict base64 (RFC 4648 alphabet, '=' padding, no line breaks,
 * canonical trailing bits) used for the z64 chunk encoding.
 */
#include "hvkvp_int.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t hvkvp_b64_encoded_len(size_t n) {
  return (n + 2) / 3 * 4;
}

void hvkvp_b64_encode(const unsigned char *in, size_t n, char *out) {
  size_t i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned long v = ((unsigned long)in[i] << 16) |
                      ((unsigned long)in[i + 1] << 8) | in[i + 2];
    out[o++] = b64_alpha[(v >> 18) & 63];
    out[o++] = b64_alpha[(v >> 12) & 63];
    out[o++] = b64_alpha[(v >> 6) & 63];
    out[o++] = b64_alpha[v & 63];
  }
  if (n - i == 1) {
    unsigned long v = (unsigned long)in[i] << 16;
    out[o++] = b64_alpha[(v >> 18) & 63];
    out[o++] = b64_alpha[(v >> 12) & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (n - i == 2) {
    unsigned long v =
        ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
    out[o++] = b64_alpha[(v >> 18) & 63];
    out[o++] = b64_alpha[(v >> 12) & 63];
    out[o++] = b64_alpha[(v >> 6) & 63];
    out[o++] = '=';
  }
  out[o] = '\0';
}

static int b64_val(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int hvkvp_b64_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
                     size_t *outlen) {
  size_t i, o = 0, need;
  if (n % 4 != 0)
    return HVKVP_E_BASE64;
  need = n / 4 * 3;
  if (n > 0 && in[n - 1] == '=')
    need--;
  if (n > 1 && in[n - 2] == '=')
    need--;
  if (need > outsz)
    return HVKVP_E_TOO_BIG;
  for (i = 0; i < n; i += 4) {
    int a = b64_val(in[i]), b = b64_val(in[i + 1]);
    int c = b64_val(in[i + 2]), d = b64_val(in[i + 3]);
    int last = (i + 4 == n);
    if (a < 0 || b < 0)
      return HVKVP_E_BASE64;
    if (last && in[i + 2] == '=' && in[i + 3] == '=') {
      if ((b & 15) != 0) /* non-canonical trailing bits */
        return HVKVP_E_BASE64;
      out[o++] = (unsigned char)((a << 2) | (b >> 4));
      break;
    }
    if (c < 0)
      return HVKVP_E_BASE64;
    if (last && in[i + 3] == '=') {
      if ((c & 3) != 0)
        return HVKVP_E_BASE64;
      out[o++] = (unsigned char)((a << 2) | (b >> 4));
      out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
      break;
    }
    if (d < 0)
      return HVKVP_E_BASE64;
    out[o++] = (unsigned char)((a << 2) | (b >> 4));
    out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
    out[o++] = (unsigned char)(((c & 3) << 6) | d);
  }
  if (outlen != NULL)
    *outlen = o;
  return HVKVP_OK;
}
