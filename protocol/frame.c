/*
 * frame.c - framing a message as KVP items: the head grammar (parse and
 * format), encoding the payload (z64 = zlib deflate + base64, or plain
 * ASCII JSON) into the free slot's chunks, trimming value lists from the end
 * until the message fits, and listing the stale keys the writer must delete.
 */
#include "hvkvp_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- head ---- */

enum { HK_V, HK_EPOCH, HK_SLOT, HK_GEN, HK_N, HK_LEN, HK_CRC, HK_ENC, HK_NUM };
static const char *const head_keys[HK_NUM] = {"v", "epoch", "slot", "gen",
                                              "n", "len",   "crc",  "enc"};

/* The fields of a head, as split: val[k] points into the head (NULL when
 * key k is absent), vlen[k] bytes long. */
typedef struct {
  const char *val[HK_NUM];
  size_t vlen[HK_NUM];
} head_fields_t;

/* The index of the known key p[0..n), or HK_NUM. */
static int head_key(const char *p, size_t n) {
  int k;
  for (k = 0; k < HK_NUM; k++)
    if (strlen(head_keys[k]) == n && memcmp(head_keys[k], p, n) == 0)
      break;
  return k;
}

/* Splits s at ';' into key=value fields; unknown keys are skipped, a known
 * key twice is an error. */
static int head_split(const char *s, head_fields_t *f, hvkvp_err_t *err) {
  const char *p = s;
  for (;;) {
    const char *end = strchr(p, ';');
    size_t seg = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', seg);
    int k;
    if (eq == NULL || eq == p)
      return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                           "head field %zu (\"%.*s\") is not key=value",
                           (size_t)(p - s), (int)(seg > 40 ? 40 : seg), p);
    k = head_key(p, (size_t)(eq - p));
    if (k < HK_NUM) {
      if (f->val[k] != NULL)
        return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX, "head has \"%s\" twice",
                             head_keys[k]);
      f->val[k] = eq + 1;
      f->vlen[k] = seg - (size_t)(eq + 1 - p);
    }
    if (end == NULL)
      return 0;
    p = end + 1;
  }
}

/* v first, so that a head of another version is named as such whatever its
 * other fields; then every other key must be there. */
static int head_version(const head_fields_t *f, hvkvp_head_t *h,
                        hvkvp_err_t *err) {
  uint64_t u;
  int k;
  if (f->val[HK_V] == NULL)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX, "head has no \"v\"");
  if (hvkvp_parse_u64(f->val[HK_V], f->vlen[HK_V], &u) != 0)
    return hvkvp_err_set(
        err, HVKVP_E_HEAD_SYNTAX, "head v=\"%.*s\" is not a number",
        (int)(f->vlen[HK_V] > 20 ? 20 : f->vlen[HK_V]), f->val[HK_V]);
  if (u != HVKVP_VERSION)
    return hvkvp_err_set(err, HVKVP_E_VERSION,
                         "head v=%" PRIu64 ", this reader reads v=%d", u,
                         HVKVP_VERSION);
  h->v = HVKVP_VERSION;
  for (k = 0; k < HK_NUM; k++)
    if (f->val[k] == NULL)
      return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX, "head has no \"%s\"",
                           head_keys[k]);
  return 0;
}

/* epoch, gen and slot: which message this is. */
static int head_ids(const head_fields_t *f, hvkvp_head_t *h, hvkvp_err_t *err) {
  if (hvkvp_parse_u64(f->val[HK_EPOCH], f->vlen[HK_EPOCH], &h->epoch) != 0)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                         "head epoch is not an unsigned 64-bit decimal");
  if (hvkvp_parse_u64(f->val[HK_GEN], f->vlen[HK_GEN], &h->gen) != 0)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                         "head gen is not an unsigned 64-bit decimal");
  if (f->vlen[HK_SLOT] != 1 ||
      (f->val[HK_SLOT][0] != 'A' && f->val[HK_SLOT][0] != 'B'))
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX, "head slot is not A or B");
  h->slot = f->val[HK_SLOT][0];
  return 0;
}

/* n and len: how many chunks, how many bytes in them (within the caps). */
static int head_size(const head_fields_t *f, hvkvp_head_t *h,
                     hvkvp_err_t *err) {
  uint64_t u;
  if (hvkvp_parse_u64(f->val[HK_N], f->vlen[HK_N], &u) != 0)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                         "head n is not an unsigned decimal");
  if (u == 0)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX, "head n=0 (at least 1)");
  if (u > HVKVP_MAX_CHUNKS)
    return hvkvp_err_set(err, HVKVP_E_TOO_BIG,
                         "head n=%" PRIu64 ", at most %d chunks", u,
                         HVKVP_MAX_CHUNKS);
  h->n = (size_t)u;
  if (hvkvp_parse_u64(f->val[HK_LEN], f->vlen[HK_LEN], &u) != 0)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                         "head len is not an unsigned decimal");
  if (u > (uint64_t)h->n * HVKVP_CHUNK_MAX)
    return hvkvp_err_set(err, HVKVP_E_TOO_BIG,
                         "head len=%" PRIu64 " exceeds n=%zu chunks of %d", u,
                         h->n, HVKVP_CHUNK_MAX);
  if (u < h->n)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                         "head len=%" PRIu64 " is less than n=%zu", u, h->n);
  h->len = (size_t)u;
  return 0;
}

/* crc: exactly 8 hex digits, either case. */
static int head_crc(const head_fields_t *f, hvkvp_head_t *h, hvkvp_err_t *err) {
  int k;
  if (f->vlen[HK_CRC] != 8)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                         "head crc is not 8 hex digits");
  for (k = 0; k < 8; k++) {
    char c = f->val[HK_CRC][k];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                           "head crc is not 8 hex digits");
    h->crc = (h->crc << 4) | d;
  }
  return 0;
}

int hvkvp_head_parse(const char *s, hvkvp_head_t *h, hvkvp_err_t *err) {
  head_fields_t f;
  int rc;
  if (s == NULL || h == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "NULL head");
  memset(h, 0, sizeof(*h)); /* zeroed on every path, errors included */
  memset(&f, 0, sizeof(f));
  if (hvkvp_strnlen(s, HVKVP_VALUE_LEN) >= HVKVP_VALUE_LEN)
    return hvkvp_err_set(err, HVKVP_E_HEAD_SYNTAX,
                         "head is longer than %d bytes", HVKVP_VALUE_LEN - 1);
  if ((rc = head_split(s, &f, err)) != 0 ||
      (rc = head_version(&f, h, err)) != 0 ||
      (rc = head_ids(&f, h, err)) != 0 || (rc = head_size(&f, h, err)) != 0 ||
      (rc = head_crc(&f, h, err)) != 0)
    return rc;
  if (hvkvp_enc_parse(f.val[HK_ENC], f.vlen[HK_ENC], &h->enc) != 0)
    return hvkvp_err_set(
        err, HVKVP_E_HEAD_SYNTAX, "head enc=\"%.*s\" is not zd1, z64 or json",
        (int)(f.vlen[HK_ENC] > 20 ? 20 : f.vlen[HK_ENC]), f.val[HK_ENC]);
  return 0;
}

static const char *const enc_names[] = {"z64", "json", "zd1"};

const char *hvkvp_enc_name(hvkvp_enc_t enc) {
  return (unsigned)enc < sizeof(enc_names) / sizeof(enc_names[0])
             ? enc_names[enc]
             : NULL;
}

int hvkvp_enc_parse(const char *s, size_t n, hvkvp_enc_t *enc) {
  for (size_t i = 0; i < sizeof(enc_names) / sizeof(enc_names[0]); i++)
    if (strlen(enc_names[i]) == n && memcmp(enc_names[i], s, n) == 0) {
      *enc = (hvkvp_enc_t)i;
      return 0;
    }
  return -1;
}

int hvkvp_head_format(const hvkvp_head_t *h, char *buf, size_t bufsz) {
  int n;
  if (h == NULL || buf == NULL || (h->slot != 'A' && h->slot != 'B') ||
      hvkvp_enc_name(h->enc) == NULL)
    return HVKVP_E_ARG;
  n = snprintf(buf, bufsz,
               "v=%d;epoch=%" PRIu64 ";slot=%c;gen=%" PRIu64
               ";n=%zu;len=%zu;crc=%08" PRIx32 ";enc=%s",
               HVKVP_VERSION, h->epoch, h->slot, h->gen, h->n, h->len, h->crc,
               hvkvp_enc_name(h->enc));
  if (n < 0 || (size_t)n >= bufsz)
    return HVKVP_E_ARG;
  return 0;
}

/* ---- encoding ---- */

void hvkvp_frame_free(hvkvp_frame_t *f) {
  size_t i;
  if (f == NULL)
    return;
  hvkvp_items_free(&f->put);
  for (i = 0; i < f->n_del; i++)
    free(f->del[i]);
  free(f->del);
  f->del = NULL;
  f->n_del = 0;
  for (i = 0; i < f->n_after; i++)
    free(f->after[i]);
  free(f->after);
  f->after = NULL;
  f->n_after = 0;
}

/* Chunk text of a JSON payload (NUL-terminated, malloc'd) per encoding. */
static int make_text(const hvkvp_buf_t *json, hvkvp_enc_t enc, char **text,
                     size_t *tlen, hvkvp_err_t *err) {
  unsigned char *z;
  uLongf zlen;
  z_stream zs;
  int zrc;
  *text = NULL; /* set on every path, errors included */
  *tlen = 0;
  if (enc == HVKVP_ENC_JSON) {
    *text = malloc(json->len + 1);
    if (*text == NULL)
      return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
    memcpy(*text, json->data, json->len + 1);
    *tlen = json->len;
    return 0;
  }
  zlen = compressBound((uLong)json->len);
  z = malloc(zlen);
  if (z == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  memset(&zs, 0, sizeof(zs));
  if (deflateInit(&zs, enc == HVKVP_ENC_ZD1 ? 9 : 6) != Z_OK) {
    free(z);
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "deflateInit failed");
  }
  if (enc == HVKVP_ENC_ZD1 &&
      deflateSetDictionary(&zs, hvkvp_zd1_dict, (uInt)hvkvp_zd1_dict_len) !=
          Z_OK) {
    deflateEnd(&zs);
    free(z);
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "deflateSetDictionary failed");
  }
  zs.next_in = (Bytef *)json->data;
  zs.avail_in = (uInt)json->len;
  zs.next_out = z;
  zs.avail_out = (uInt)zlen;
  zrc = deflate(&zs, Z_FINISH);
  zlen = zs.total_out;
  deflateEnd(&zs);
  if (zrc != Z_STREAM_END) {
    free(z);
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "deflate failed (%d)", zrc);
  }
  *tlen = hvkvp_b64_encoded_len(zlen);
  *text = malloc(*tlen + 1);
  if (*text == NULL) {
    free(z);
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  }
  hvkvp_b64_encode(z, zlen, *text);
  free(z);
  return 0;
}

/* Builds the chunk text for the first k value lists. *fits is set to 1 if it
 * fits max_chunks and HVKVP_MAX_DECODED. */
static int try_k(const hvkvp_msg_t *m, size_t k, uint32_t trimmed,
                 const hvkvp_encode_opts_t *o, size_t max_chunks, char **text,
                 size_t *tlen, int *fits, hvkvp_err_t *err) {
  hvkvp_buf_t json;
  int rc;
  hvkvp_buf_init(&json);
  *text = NULL;
  rc = hvkvp_json_write(m, k, trimmed, &json, err);
  if (rc != 0) {
    hvkvp_buf_free(&json);
    return rc;
  }
  if (json.len > HVKVP_MAX_DECODED) {
    hvkvp_buf_free(&json);
    *fits = 0;
    return 0;
  }
  rc = make_text(&json, o->enc, text, tlen, err);
  hvkvp_buf_free(&json);
  if (rc != 0)
    return rc;
  *fits = (*tlen + HVKVP_CHUNK_MAX - 1) / HVKVP_CHUNK_MAX <= max_chunks;
  if (!*fits) {
    free(*text);
    *text = NULL;
  }
  return 0;
}

/* Appends a copy of key to a list of keys. 0 or -1. */
static int add_key(char ***list, size_t *n, const char *key) {
  char **d = realloc(*list, (*n + 1) * sizeof(*d));
  size_t len = strlen(key);
  if (d == NULL)
    return -1;
  *list = d;
  d[*n] = malloc(len + 1);
  if (d[*n] == NULL)
    return -1;
  memcpy(d[*n], key, len + 1);
  (*n)++;
  return 0;
}

int hvkvp_encode(const hvkvp_msg_t *m, const hvkvp_encode_opts_t *o,
                 const hvkvp_items_t *current, hvkvp_frame_t *f,
                 hvkvp_err_t *err) {
  const char *prefix;
  char key[HVKVP_KEY_LEN], headval[160];
  hvkvp_head_t cur;
  int have_cur = 0, fits = 0, rc;
  size_t max_chunks, lo, hi, k, i, pl;
  char *text = NULL;
  size_t tlen = 0;
  uint32_t dropped;

  if (f == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "NULL frame");
  memset(f, 0, sizeof(*f));
  hvkvp_items_init(&f->put);
  if (m == NULL || o == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "NULL message or options");
  prefix = o->prefix ? o->prefix : HVKVP_DEFAULT_PREFIX;
  if ((rc = hvkvp_prefix_check(prefix, err)) != 0)
    return rc;
  pl = strlen(prefix);
  if (hvkvp_enc_name(o->enc) == NULL)
    return hvkvp_err_set(err, HVKVP_E_ARG, "unknown encoding %d", (int)o->enc);
  max_chunks = o->max_chunks ? o->max_chunks : HVKVP_MAX_CHUNKS;
  if (max_chunks > HVKVP_MAX_CHUNKS)
    return hvkvp_err_set(err, HVKVP_E_ARG, "max_chunks %zu exceeds %d",
                         max_chunks, HVKVP_MAX_CHUNKS);
  if (m->n_vls > HVKVP_MAX_VALUE_LISTS)
    return hvkvp_err_set(err, HVKVP_E_ARG, "%zu value lists, at most %d",
                         m->n_vls, HVKVP_MAX_VALUE_LISTS);

  snprintf(key, sizeof(key), "%s.head", prefix);
  if (current != NULL) {
    const char *hv = hvkvp_items_get(current, key);
    if (hv != NULL && hvkvp_head_parse(hv, &cur, NULL) == 0)
      have_cur = 1;
  }
  if (have_cur && cur.epoch == o->epoch && o->gen <= cur.gen)
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "gen %" PRIu64 " does not exceed the published gen "
                         "%" PRIu64 " of epoch %" PRIu64,
                         o->gen, cur.gen, o->epoch);

  /* Whole message first; else bisect the largest prefix of value lists
   * that fits (k fits and k + 1 does not). */
  rc = try_k(m, m->n_vls, m->trimmed, o, max_chunks, &text, &tlen, &fits, err);
  if (rc != 0)
    return rc;
  k = m->n_vls;
  if (!fits) {
    lo = 0;        /* unknown whether 0 fits yet */
    hi = m->n_vls; /* known not to fit */
    rc = try_k(m, 0, m->trimmed + (uint32_t)m->n_vls, o, max_chunks, &text,
               &tlen, &fits, err);
    if (rc != 0)
      return rc;
    if (!fits)
      return hvkvp_err_set(err, HVKVP_E_TOO_BIG,
                           "message does not fit in %zu chunks even without "
                           "value lists",
                           max_chunks);
    free(text);
    text = NULL;
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      char *t;
      size_t tl;
      rc = try_k(m, mid, m->trimmed + (uint32_t)(m->n_vls - mid), o, max_chunks,
                 &t, &tl, &fits, err);
      if (rc != 0)
        return rc;
      if (fits) {
        lo = mid;
        free(t);
      } else {
        hi = mid;
      }
    }
    k = lo;
    rc = try_k(m, k, m->trimmed + (uint32_t)(m->n_vls - k), o, max_chunks,
               &text, &tlen, &fits, err);
    if (rc != 0)
      return rc;
  }
  /* try_k returned 0 with fits set: it made the text (make_text's failures
   * all return non-zero codes through hvkvp_err_set) */
  if (text == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  dropped = (uint32_t)(m->n_vls - k);
  f->trimmed = dropped;

  memset(&f->head, 0, sizeof(f->head));
  f->head.v = HVKVP_VERSION;
  f->head.epoch = o->epoch;
  f->head.gen = o->gen;
  f->head.slot = (have_cur && cur.slot == 'A') ? 'B' : 'A';
  f->head.n = (tlen + HVKVP_CHUNK_MAX - 1) / HVKVP_CHUNK_MAX;
  if (f->head.n == 0)
    f->head.n = 1;
  f->head.len = tlen;
  f->head.crc = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)tlen);
  f->head.enc = o->enc;

  for (i = 0; i < f->head.n; i++) {
    char chunk[HVKVP_CHUNK_MAX + 1];
    size_t off = i * HVKVP_CHUNK_MAX;
    size_t cl = tlen - off < HVKVP_CHUNK_MAX ? tlen - off : HVKVP_CHUNK_MAX;
    memcpy(chunk, text + off, cl);
    chunk[cl] = '\0';
    snprintf(key, sizeof(key), "%s.%c.%zu", prefix, f->head.slot, i);
    if (hvkvp_items_set(&f->put, key, chunk) != 0) {
      free(text);
      hvkvp_frame_free(f);
      return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
    }
  }
  free(text);
  hvkvp_head_format(&f->head, headval, sizeof(headval));
  snprintf(key, sizeof(key), "%s.head", prefix);
  if (hvkvp_items_set(&f->put, key, headval) != 0) {
    hvkvp_frame_free(f);
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  }

  /* Stale keys: everything under "PREFIX." except the head, the new slot's
   * chunks and the live chunks of the slot the current head points to;
   * those go once the new head is set. */
  for (i = 0; current != NULL && i < current->n; i++) {
    const char *ck = current->v[i].key;
    char slot;
    size_t idx;
    if (strncmp(ck, prefix, pl) != 0 || ck[pl] != '.')
      continue;
    if (strcmp(ck + pl + 1, "head") == 0)
      continue;
    int live = 0;
    if (hvkvp_chunk_key_parse(ck, prefix, &slot, &idx)) {
      if (slot == f->head.slot && idx < f->head.n)
        continue;
      live = have_cur && slot == cur.slot && idx < cur.n;
    }
    if (live ? add_key(&f->after, &f->n_after, ck) != 0
             : add_key(&f->del, &f->n_del, ck) != 0) {
      hvkvp_frame_free(f);
      return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
    }
  }
  if (err != NULL) {
    err->code = HVKVP_OK;
    err->detail[0] = '\0';
  }
  return 0;
}
