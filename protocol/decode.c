/*
 * decode.c - KVP items -> message. Every byte is hostile: the head is
 * parsed strictly, chunk presence, total length and CRC are checked before
 * the text is assembled, base64 is strict, inflate stops at
 * HVKVP_MAX_DECODED bytes of output, and the JSON reader enforces the
 * schema with its own caps. A decoder keeps its buffers and its inflate
 * state from one message to the next (a host decodes thousands per poll).
 */
#include "hvkvp_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct hvkvp_decoder {
  hvkvp_buf_t text; /* the chunks, joined */
  hvkvp_buf_t z;    /* the deflate stream (base64 decoded) */
  hvkvp_buf_t json; /* the payload */
  z_stream zs;
  int zs_ready;
};

hvkvp_decoder_t *hvkvp_decoder_new(void) {
  hvkvp_decoder_t *d = calloc(1, sizeof(*d));
  if (d == NULL)
    return NULL;
  hvkvp_buf_init(&d->text);
  hvkvp_buf_init(&d->z);
  hvkvp_buf_init(&d->json);
  return d;
}

void hvkvp_decoder_free(hvkvp_decoder_t *d) {
  if (d == NULL)
    return;
  hvkvp_buf_free(&d->text);
  hvkvp_buf_free(&d->z);
  hvkvp_buf_free(&d->json);
  if (d->zs_ready)
    inflateEnd(&d->zs);
  free(d);
}

/* Room for n bytes and a NUL in b (its length is left at 0). */
static int room(hvkvp_buf_t *b, size_t n, hvkvp_err_t *err) {
  b->len = 0;
  if (n + 1 <= b->cap)
    return 0;
  char *p = realloc(b->data, n + 1);
  if (p == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  b->data = p;
  b->cap = n + 1;
  return 0;
}

static int inflate_fail(const z_stream *zs, int zrc, hvkvp_err_t *err) {
  if (zrc == Z_OK || zrc == Z_BUF_ERROR)
    return hvkvp_err_set(err, HVKVP_E_INFLATE,
                         "deflate stream is truncated (%lu bytes in)",
                         (unsigned long)zs->total_in);
  return hvkvp_err_set(err, HVKVP_E_INFLATE,
                       "invalid deflate stream (zlib error %d%s%s)", zrc,
                       zs->msg ? ": " : "", zs->msg ? zs->msg : "");
}

/* The stream asks for a preset dictionary: zd1's, or an error. */
static int set_dict(z_stream *zs, hvkvp_enc_t enc, hvkvp_err_t *err) {
  if (enc != HVKVP_ENC_ZD1)
    return hvkvp_err_set(err, HVKVP_E_INFLATE,
                         "deflate stream asks for a preset dictionary; "
                         "enc=z64 has none");
  if (inflateSetDictionary(zs, hvkvp_zd1_dict, (uInt)hvkvp_zd1_dict_len) !=
      Z_OK)
    return hvkvp_err_set(err, HVKVP_E_INFLATE,
                         "deflate stream asks for a preset dictionary other "
                         "than zd1's (Adler-32 %08lx)",
                         (unsigned long)zs->adler);
  return 0;
}

/* Inflates d->z into d->json, growing it up to HVKVP_MAX_DECODED bytes;
 * more output is TOO_BIG, a bad or truncated stream INFLATE. */
static int inflate_capped(hvkvp_decoder_t *d, hvkvp_enc_t enc,
                          hvkvp_err_t *err) {
  z_stream *zs = &d->zs;
  int dict_used = 0, zrc;
  if (!d->zs_ready) {
    memset(zs, 0, sizeof(*zs));
    if (inflateInit(zs) != Z_OK)
      return hvkvp_err_set(err, HVKVP_E_NOMEM, "inflateInit failed");
    d->zs_ready = 1;
  } else if (inflateReset(zs) != Z_OK) {
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "inflateReset failed");
  }
  size_t cap = d->z.len * 8 < 4096 ? 4096 : d->z.len * 8;
  if (cap > HVKVP_MAX_DECODED)
    cap = HVKVP_MAX_DECODED;
  if (d->json.cap > cap + 1)
    cap = d->json.cap - 1 > HVKVP_MAX_DECODED ? HVKVP_MAX_DECODED
                                              : d->json.cap - 1;
  if (room(&d->json, cap, err) != 0)
    return HVKVP_E_NOMEM;
  zs->next_in = (Bytef *)d->z.data;
  zs->avail_in = (uInt)d->z.len;
  zs->next_out = (Bytef *)d->json.data;
  zs->avail_out = (uInt)cap;
  for (;;) {
    zrc = inflate(zs, Z_NO_FLUSH);
    if (zrc == Z_STREAM_END)
      break;
    if (zrc == Z_NEED_DICT) {
      if (set_dict(zs, enc, err) != 0)
        return HVKVP_E_INFLATE;
      dict_used = 1;
      continue;
    }
    if (zrc != Z_OK || zs->avail_out != 0)
      return inflate_fail(zs, zrc, err);
    if (cap >= HVKVP_MAX_DECODED) {
      /* Full at the cap: one more byte of output means too big. */
      unsigned char probe;
      zs->next_out = &probe;
      zs->avail_out = 1;
      zrc = inflate(zs, Z_NO_FLUSH);
      if (zrc == Z_STREAM_END && zs->avail_out == 1)
        break;
      if (zs->avail_out == 0)
        return hvkvp_err_set(err, HVKVP_E_TOO_BIG,
                             "payload inflates to more than %d bytes",
                             HVKVP_MAX_DECODED);
      return inflate_fail(zs, zrc, err);
    }
    size_t ncap = cap * 2 > HVKVP_MAX_DECODED ? HVKVP_MAX_DECODED : cap * 2;
    char *nb = realloc(d->json.data, ncap + 1);
    if (nb == NULL)
      return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
    d->json.data = nb;
    d->json.cap = ncap + 1;
    zs->next_out = (Bytef *)(nb + cap);
    zs->avail_out = (uInt)(ncap - cap);
    cap = ncap;
  }
  if (zs->avail_in != 0)
    return hvkvp_err_set(err, HVKVP_E_INFLATE,
                         "%u bytes of garbage after the deflate stream",
                         zs->avail_in);
  if (enc == HVKVP_ENC_ZD1 && !dict_used)
    return hvkvp_err_set(err, HVKVP_E_INFLATE,
                         "enc=zd1 but the deflate stream does not use the "
                         "zd1 dictionary");
  d->json.len = zs->total_out;
  d->json.data[d->json.len] = '\0';
  return 0;
}

int hvkvp_head_of(const hvkvp_items_t *items, const char *prefix,
                  hvkvp_head_t *h, hvkvp_err_t *err) {
  char key[HVKVP_KEY_LEN];
  int rc;
  if (prefix == NULL)
    prefix = HVKVP_DEFAULT_PREFIX;
  if ((rc = hvkvp_prefix_check(prefix, err)) != 0)
    return rc;
  snprintf(key, sizeof(key), "%s.head", prefix);
  const char *hv = items != NULL ? hvkvp_items_get(items, key) : NULL;
  if (hv == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOHEAD, "no %s item", key);
  return hvkvp_head_parse(hv, h, err);
}

/* Chunk i of the head's slot, or NULL. */
static const char *chunk(const hvkvp_items_t *items, const char *prefix,
                         const hvkvp_head_t *h, size_t i, char *key,
                         size_t keysz) {
  snprintf(key, keysz, "%s.%c.%zu", prefix, h->slot, i);
  return hvkvp_items_get(items, key);
}

/* Presence and total length first: nothing is allocated before the head's
 * len (capped by n * HVKVP_CHUNK_MAX) is known to match. */
static int check_chunks(const hvkvp_items_t *items, const char *prefix,
                        const hvkvp_head_t *h, hvkvp_err_t *err) {
  char key[HVKVP_KEY_LEN];
  size_t off = 0;
  for (size_t i = 0; i < h->n; i++) {
    const char *c = chunk(items, prefix, h, i, key, sizeof(key));
    if (c == NULL)
      return hvkvp_err_set(err, HVKVP_E_MISSING_CHUNK,
                           "chunk %s missing (head gen %" PRIu64
                           " names %zu chunks)",
                           key, h->gen, h->n);
    size_t cl = hvkvp_strnlen(c, HVKVP_CHUNK_MAX + 1);
    if (cl > HVKVP_CHUNK_MAX)
      return hvkvp_err_set(err, HVKVP_E_LENGTH,
                           "chunk %s is longer than %d characters (head gen "
                           "%" PRIu64 ")",
                           key, HVKVP_CHUNK_MAX, h->gen);
    if (cl == 0)
      return hvkvp_err_set(err, HVKVP_E_LENGTH,
                           "chunk %s is empty (head gen %" PRIu64 ")", key,
                           h->gen);
    off += cl;
    if (off > h->len)
      return hvkvp_err_set(err, HVKVP_E_LENGTH,
                           "chunks %s.%c.0..%zu hold more than head len=%zu "
                           "characters (gen %" PRIu64 ")",
                           prefix, h->slot, i, h->len, h->gen);
  }
  if (off != h->len)
    return hvkvp_err_set(err, HVKVP_E_LENGTH,
                         "chunks hold %zu characters, head gen %" PRIu64
                         " says len=%zu",
                         off, h->gen, h->len);
  return 0;
}

/* The chunks joined into d->text, checked against the head's CRC. */
static int join_chunks(hvkvp_decoder_t *d, const hvkvp_items_t *items,
                       const char *prefix, const hvkvp_head_t *h,
                       hvkvp_err_t *err) {
  char key[HVKVP_KEY_LEN];
  if (room(&d->text, h->len, err) != 0)
    return HVKVP_E_NOMEM;
  for (size_t i = 0; i < h->n; i++) {
    const char *c = chunk(items, prefix, h, i, key, sizeof(key));
    size_t cl = strlen(c);
    memcpy(d->text.data + d->text.len, c, cl);
    d->text.len += cl;
  }
  d->text.data[d->text.len] = '\0';
  uint32_t crc =
      (uint32_t)crc32(0L, (const Bytef *)d->text.data, (uInt)d->text.len);
  if (crc != h->crc)
    return hvkvp_err_set(err, HVKVP_E_CRC,
                         "chunk text CRC %08" PRIx32 " differs from head gen "
                         "%" PRIu64 " crc=%08" PRIx32,
                         crc, h->gen, h->crc);
  return 0;
}

/* The payload JSON of the joined text, per the head's enc: d->json, or for
 * enc=json the text itself (*json, *len). */
static int payload(hvkvp_decoder_t *d, const hvkvp_head_t *h, const char **json,
                   size_t *len, hvkvp_err_t *err) {
  if (h->enc == HVKVP_ENC_JSON) {
    for (size_t i = 0; i < h->len; i++) {
      unsigned char c = (unsigned char)d->text.data[i];
      if (c < 0x20 || c > 0x7e)
        return hvkvp_err_set(err, HVKVP_E_JSON,
                             "enc=json payload has non-ASCII or control byte "
                             "0x%02x at offset %zu",
                             c, i);
    }
    *json = d->text.data;
    *len = d->text.len;
    return 0;
  }
  size_t zmax = h->len / 4 * 3;
  if (room(&d->z, zmax, err) != 0)
    return HVKVP_E_NOMEM;
  if (hvkvp_b64_decode(d->text.data, h->len, (unsigned char *)d->z.data, zmax,
                       &d->z.len) != 0)
    return hvkvp_err_set(err, HVKVP_E_BASE64,
                         "chunk text of gen %" PRIu64 " is not valid base64",
                         h->gen);
  int rc = inflate_capped(d, h->enc, err);
  *json = d->json.data;
  *len = d->json.len;
  return rc;
}

int hvkvp_decoder_run(hvkvp_decoder_t *d, const hvkvp_items_t *items,
                      const char *prefix, hvkvp_msg_t *out,
                      hvkvp_head_t *head_out, const hvkvp_vl_sink_t *sink,
                      hvkvp_err_t *err) {
  hvkvp_head_t h = {0}; /* set by hvkvp_head_of (clang-analyzer cannot tell) */
  const char *json = NULL;
  size_t jlen = 0;
  int rc;
  if (out == NULL || d == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "NULL decoder or output message");
  hvkvp_msg_init(out);
  if (prefix == NULL)
    prefix = HVKVP_DEFAULT_PREFIX;
  if ((rc = hvkvp_head_of(items, prefix, &h, err)) != 0)
    return rc;
  if (head_out != NULL)
    *head_out = h;
  if ((rc = check_chunks(items, prefix, &h, err)) != 0 ||
      (rc = join_chunks(d, items, prefix, &h, err)) != 0 ||
      (rc = payload(d, &h, &json, &jlen, err)) != 0)
    return rc;
  return hvkvp_msg_from_json_sink(json, jlen, out, sink, err);
}

int hvkvp_decode(const hvkvp_items_t *items, const char *prefix,
                 hvkvp_msg_t *out, hvkvp_head_t *head_out, hvkvp_err_t *err) {
  if (out == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "NULL output message");
  hvkvp_msg_init(out);
  hvkvp_decoder_t *d = hvkvp_decoder_new();
  if (d == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  int rc = hvkvp_decoder_run(d, items, prefix, out, head_out, NULL, err);
  hvkvp_decoder_free(d);
  return rc;
}
