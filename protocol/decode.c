/*
 * decode.c - KVP items -> message. Every byte is hostile: the head is
 * parsed strictly, chunk presence, total length and CRC are checked before
 * the text is assembled, base64 is strict, inflate stops at
 * HVKVP_MAX_DECODED bytes of output, and the JSON reader enforces the
 * schema with its own caps.
 */
#include "hvkvp_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Inflates a zlib stream into a buffer that grows up to HVKVP_MAX_DECODED
 * bytes; more output is TOO_BIG, a bad or truncated stream INFLATE. */
static int inflate_capped(const unsigned char *in, size_t n, char **out,
                          size_t *outlen, hvkvp_err_t *err) {
  z_stream zs;
  size_t cap = n * 4 < 4096 ? 4096 : n * 4;
  char *buf;
  int zrc;
  if (cap > HVKVP_MAX_DECODED)
    cap = HVKVP_MAX_DECODED;
  buf = malloc(cap + 1);
  if (buf == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  memset(&zs, 0, sizeof(zs));
  if (inflateInit(&zs) != Z_OK) {
    free(buf);
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "inflateInit failed");
  }
  zs.next_in = (Bytef *)in;
  zs.avail_in = (uInt)n;
  zs.next_out = (Bytef *)buf;
  zs.avail_out = (uInt)cap;
  for (;;) {
    zrc = inflate(&zs, Z_NO_FLUSH);
    if (zrc == Z_STREAM_END)
      break;
    if (zrc == Z_OK && zs.avail_out == 0) {
      char *nb;
      size_t ncap;
      if (cap >= HVKVP_MAX_DECODED) {
        /* Full at the cap: one more byte of output means too big. */
        unsigned char probe;
        zs.next_out = &probe;
        zs.avail_out = 1;
        zrc = inflate(&zs, Z_NO_FLUSH);
        if (zrc == Z_STREAM_END && zs.avail_out == 1)
          break;
        inflateEnd(&zs);
        free(buf);
        if (zs.avail_out == 0)
          return hvkvp_err_set(err, HVKVP_E_TOO_BIG,
                               "payload inflates to more than %d bytes",
                               HVKVP_MAX_DECODED);
        if (zrc == Z_OK || zrc == Z_BUF_ERROR)
          return hvkvp_err_set(err, HVKVP_E_INFLATE,
                               "deflate stream is truncated (%lu bytes in)",
                               (unsigned long)zs.total_in);
        return hvkvp_err_set(err, HVKVP_E_INFLATE,
                             "invalid deflate stream (zlib error %d)", zrc);
      }
      ncap = cap * 2 > HVKVP_MAX_DECODED ? HVKVP_MAX_DECODED : cap * 2;
      nb = realloc(buf, ncap + 1);
      if (nb == NULL) {
        inflateEnd(&zs);
        free(buf);
        return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
      }
      buf = nb;
      zs.next_out = (Bytef *)(buf + cap);
      zs.avail_out = (uInt)(ncap - cap);
      cap = ncap;
      continue;
    }
    inflateEnd(&zs);
    free(buf);
    if (zrc == Z_OK || zrc == Z_BUF_ERROR)
      return hvkvp_err_set(err, HVKVP_E_INFLATE,
                           "deflate stream is truncated (%lu bytes in)",
                           (unsigned long)zs.total_in);
    return hvkvp_err_set(err, HVKVP_E_INFLATE,
                         "invalid deflate stream (zlib error %d%s%s)", zrc,
                         zs.msg ? ": " : "", zs.msg ? zs.msg : "");
  }
  if (zs.avail_in != 0) {
    size_t extra = zs.avail_in;
    inflateEnd(&zs);
    free(buf);
    return hvkvp_err_set(err, HVKVP_E_INFLATE,
                         "%zu bytes of garbage after the deflate stream",
                         extra);
  }
  *outlen = zs.total_out;
  buf[*outlen] = '\0';
  inflateEnd(&zs);
  *out = buf;
  return 0;
}

int hvkvp_decode(const hvkvp_items_t *items, const char *prefix,
                 hvkvp_msg_t *out, hvkvp_head_t *head_out, hvkvp_err_t *err) {
  char key[HVKVP_KEY_LEN];
  const char *hv;
  hvkvp_head_t h;
  char *text = NULL, *json = NULL;
  size_t i, off = 0, jlen = 0;
  uint32_t crc;
  int rc;

  if (out == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "NULL output message");
  hvkvp_msg_init(out);
  if (prefix == NULL)
    prefix = HVKVP_DEFAULT_PREFIX;
  if ((rc = hvkvp_prefix_check(prefix, err)) != 0)
    return rc;
  snprintf(key, sizeof(key), "%s.head", prefix);
  hv = items != NULL ? hvkvp_items_get(items, key) : NULL;
  if (hv == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOHEAD, "no %s item", key);
  if ((rc = hvkvp_head_parse(hv, &h, err)) != 0)
    return rc;
  if (head_out != NULL)
    *head_out = h;

  /* Presence and total length first: nothing is allocated before the head's
   * len (capped by n * HVKVP_CHUNK_MAX) is known to match. */
  for (i = 0; i < h.n; i++) {
    const char *c;
    size_t cl;
    snprintf(key, sizeof(key), "%s.%c.%zu", prefix, h.slot, i);
    c = hvkvp_items_get(items, key);
    if (c == NULL)
      return hvkvp_err_set(err, HVKVP_E_MISSING_CHUNK,
                           "chunk %s missing (head gen %" PRIu64
                           " names %zu chunks)",
                           key, h.gen, h.n);
    cl = hvkvp_strnlen(c, HVKVP_CHUNK_MAX + 1);
    if (cl > HVKVP_CHUNK_MAX)
      return hvkvp_err_set(err, HVKVP_E_LENGTH,
                           "chunk %s is longer than %d characters (head gen "
                           "%" PRIu64 ")",
                           key, HVKVP_CHUNK_MAX, h.gen);
    if (cl == 0)
      return hvkvp_err_set(err, HVKVP_E_LENGTH,
                           "chunk %s is empty (head gen %" PRIu64 ")", key,
                           h.gen);
    off += cl;
    if (off > h.len)
      return hvkvp_err_set(err, HVKVP_E_LENGTH,
                           "chunks %s.%c.0..%zu hold more than head len=%zu "
                           "characters (gen %" PRIu64 ")",
                           prefix, h.slot, i, h.len, h.gen);
  }
  if (off != h.len)
    return hvkvp_err_set(err, HVKVP_E_LENGTH,
                         "chunks hold %zu characters, head gen %" PRIu64
                         " says len=%zu",
                         off, h.gen, h.len);
  text = malloc(h.len + 1);
  if (text == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  off = 0;
  for (i = 0; i < h.n; i++) {
    const char *c;
    size_t cl;
    snprintf(key, sizeof(key), "%s.%c.%zu", prefix, h.slot, i);
    c = hvkvp_items_get(items, key);
    cl = strlen(c);
    memcpy(text + off, c, cl);
    off += cl;
  }
  text[off] = '\0';
  crc = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)h.len);
  if (crc != h.crc) {
    free(text);
    return hvkvp_err_set(err, HVKVP_E_CRC,
                         "chunk text CRC %08" PRIx32 " differs from head gen "
                         "%" PRIu64 " crc=%08" PRIx32,
                         crc, h.gen, h.crc);
  }

  if (h.enc == HVKVP_ENC_JSON) {
    for (i = 0; i < h.len; i++) {
      unsigned char c = (unsigned char)text[i];
      if (c < 0x20 || c > 0x7e) {
        free(text);
        return hvkvp_err_set(err, HVKVP_E_JSON,
                             "enc=json payload has non-ASCII or control byte "
                             "0x%02x at offset %zu",
                             c, i);
      }
    }
    json = text;
    jlen = h.len;
    text = NULL;
  } else {
    size_t zmax = h.len / 4 * 3, zlen = 0;
    unsigned char *z = malloc(zmax + 1);
    if (z == NULL) {
      free(text);
      return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
    }
    rc = hvkvp_b64_decode(text, h.len, z, zmax, &zlen);
    free(text);
    if (rc != 0) {
      free(z);
      return hvkvp_err_set(err, HVKVP_E_BASE64,
                           "chunk text of gen %" PRIu64 " is not valid base64",
                           h.gen);
    }
    rc = inflate_capped(z, zlen, &json, &jlen, err);
    free(z);
    if (rc != 0)
      return rc;
  }
  rc = hvkvp_msg_from_json(json, jlen, out, err);
  free(json);
  return rc;
}
