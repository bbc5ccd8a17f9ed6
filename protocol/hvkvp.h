/*
 * hvkvp.h - the hvkvp wire protocol v1, shared by the guest reporter and the
 * host side: messages (collectd-style value lists), their JSON form, framing
 * as KVP items (head + two slots of chunks), decoding with hard limits,
 * generation tracking and name sanitising. Normative spec:
 * schemas/PROTOCOL.md. This library depends on yajl and zlib only.
 */
#ifndef HVKVP_H
#define HVKVP_H

#include <stddef.h>
#include <stdint.h>

#define HVKVP_VERSION 1

/* ---- limits (enforced before allocation; see PROTOCOL.md "Limits") ---- */
#define HVKVP_CHUNK_MAX 1000       /* characters per chunk value */
#define HVKVP_MAX_CHUNKS 64        /* chunks per message */
#define HVKVP_MAX_DECODED 262144   /* 256 KiB of JSON after inflate */
#define HVKVP_MAX_JSON_DEPTH 8     /* nesting of the message JSON */
#define HVKVP_MAX_VALUE_LISTS 4096 /* value lists per message */
#define HVKVP_MAX_DS 16            /* data sources per value list */
#define HVKVP_MAX_TAGS 16          /* extra static tags per message */
#define HVKVP_NAME_LEN 128         /* incl. NUL: plugin, type, ... */
#define HVKVP_HOST_LEN 256         /* incl. NUL: message host */
#define HVKVP_TEXT_LEN 256         /* incl. NUL: config_error */
#define HVKVP_PREFIX_LEN 64        /* incl. NUL: item key prefix */
#define HVKVP_KEY_LEN 512          /* incl. NUL: any KVP key */
#define HVKVP_VALUE_LEN 2048       /* incl. NUL: any KVP value */
#define HVKVP_DEFAULT_PREFIX "hvkvp"

/* ---- errors ---- */
typedef enum {
  HVKVP_OK = 0,
  HVKVP_E_NOHEAD,        /* no PREFIX.head item */
  HVKVP_E_HEAD_SYNTAX,   /* head does not follow the grammar */
  HVKVP_E_VERSION,       /* head v= is not a version we read */
  HVKVP_E_MISSING_CHUNK, /* a chunk the head names is absent (torn) */
  HVKVP_E_LENGTH,        /* chunk text length differs from head len= */
  HVKVP_E_CRC,           /* chunk text CRC differs from head crc= (torn) */
  HVKVP_E_BASE64,        /* invalid base64 */
  HVKVP_E_INFLATE,       /* invalid deflate stream */
  HVKVP_E_TOO_BIG,       /* a size or count limit was exceeded */
  HVKVP_E_JSON,          /* payload is not well-formed JSON */
  HVKVP_E_SCHEMA,        /* JSON does not follow the message schema */
  HVKVP_E_NOMEM,
  HVKVP_E_ARG, /* invalid argument from the caller */
} hvkvp_rc_t;

typedef struct {
  hvkvp_rc_t code;
  char detail[256]; /* human-readable: what exactly is wrong */
} hvkvp_err_t;

/* Return convention: functions returning int return 0 (HVKVP_OK) on
 * success and, on failure, an hvkvp_rc_t code (> 0) that is also stored with
 * a detail text in err when err is not NULL. Exceptions, noted at each:
 * hvkvp_items_set and hvkvp_msg_add1 return -1. */
const char *hvkvp_strerror(hvkvp_rc_t rc); /* short stable name, e.g. "CRC" */
/* 1 for errors that mean "a write was in progress" (missing chunk, CRC,
 * length): the reader skips this round and tries again later. */
int hvkvp_err_is_torn(hvkvp_rc_t rc);

/* ---- messages ---- */
typedef enum {
  HVKVP_DS_GAUGE = 0,
  HVKVP_DS_DERIVE = 1,
  HVKVP_DS_COUNTER = 2,
  HVKVP_DS_ABSOLUTE = 3,
} hvkvp_ds_type_t;

typedef union {
  double gauge;
  int64_t derive;
  uint64_t counter;
  uint64_t absolute;
} hvkvp_value_t;

typedef struct {
  char plugin[HVKVP_NAME_LEN];
  char plugin_instance[HVKVP_NAME_LEN];
  char type[HVKVP_NAME_LEN];
  char type_instance[HVKVP_NAME_LEN];
  size_t n; /* number of data sources, 1..HVKVP_MAX_DS */
  hvkvp_ds_type_t dstypes[HVKVP_MAX_DS];
  char dsnames[HVKVP_MAX_DS][HVKVP_NAME_LEN];
  hvkvp_value_t values[HVKVP_MAX_DS];
} hvkvp_vl_t;

typedef struct {
  char key[HVKVP_NAME_LEN];
  char value[HVKVP_NAME_LEN];
} hvkvp_tag_t;

typedef struct {
  char host[HVKVP_HOST_LEN];         /* guest hostname (UTF-8) */
  double time;                       /* unix seconds */
  double interval;                   /* seconds, > 0 */
  uint64_t seq;                      /* +1 per message */
  char config[HVKVP_NAME_LEN];       /* id of the applied config, "" none */
  char config_error[HVKVP_TEXT_LEN]; /* why a pushed config was refused */
  uint32_t trimmed;                  /* value lists dropped to fit */
  size_t n_tags;
  hvkvp_tag_t tags[HVKVP_MAX_TAGS];
  size_t n_vls, cap_vls;
  hvkvp_vl_t *vls;
} hvkvp_msg_t;

void hvkvp_msg_init(hvkvp_msg_t *m);
void hvkvp_msg_free(hvkvp_msg_t *m); /* frees vls; m can be reused after init */
/* Appends a zeroed value list; NULL at HVKVP_MAX_VALUE_LISTS or no memory. */
hvkvp_vl_t *hvkvp_msg_add(hvkvp_msg_t *m);
/* Convenience: one value list with a single data source named "value".
 * 0, or -1 (list cap reached, no memory, a name too long, bad type). */
int hvkvp_msg_add1(hvkvp_msg_t *m, const char *plugin, const char *pinst,
                   const char *type, const char *tinst, hvkvp_ds_type_t t,
                   hvkvp_value_t v);

/* Message <-> JSON (the payload before framing). The JSON is printable
 * ASCII (non-ASCII and DEL escaped as \uXXXX). *out is malloc'd and
 * NUL-terminated. ARG if a field of m is invalid (see hvkvp_encode). */
int hvkvp_msg_to_json(const hvkvp_msg_t *m, char **out, size_t *len);
/* from_json init's *out itself; on failure *out is left empty (freed). */
int hvkvp_msg_from_json(const char *json, size_t len, hvkvp_msg_t *out,
                        hvkvp_err_t *err);

/* Where the reader puts one value list: four names of HVKVP_NAME_LEN bytes,
 * HVKVP_MAX_DS types and values; dsnames NULL: checked, not kept. */
typedef struct {
  char *plugin, *plugin_instance, *type, *type_instance;
  hvkvp_ds_type_t *dstypes;
  hvkvp_value_t *values;
  char (*dsnames)[HVKVP_NAME_LEN];
} hvkvp_vl_dst_t;

/* A reader that keeps value lists itself (e.g. straight in the structures
 * it dispatches): begin gives the storage of the next value list (0, or -1
 * without memory); end says it is complete and valid, with n data sources.
 * The message is valid only once the whole call returns 0: on an error the
 * caller drops what it was given. */
typedef struct {
  int (*begin)(void *ctx, hvkvp_vl_dst_t *dst);
  void (*end)(void *ctx, size_t n);
  void *ctx;
} hvkvp_vl_sink_t;

/* hvkvp_msg_from_json with the value lists going to sink (NULL: into
 * out->vls); out gets the other fields. */
int hvkvp_msg_from_json_sink(const char *json, size_t len, hvkvp_msg_t *out,
                             const hvkvp_vl_sink_t *sink, hvkvp_err_t *err);

/* ---- KVP items ---- */
typedef struct {
  char *key;
  char *value;
} hvkvp_item_t;

typedef struct {
  size_t n, cap;
  hvkvp_item_t *v;
} hvkvp_items_t;

void hvkvp_items_init(hvkvp_items_t *it);
void hvkvp_items_free(hvkvp_items_t *it);
/* Copies key and value; replaces the value if key exists. 0 or -1. */
int hvkvp_items_set(hvkvp_items_t *it, const char *key, const char *value);
const char *hvkvp_items_get(const hvkvp_items_t *it, const char *key);
/* Appends a copy of key[0..klen) and value[0..vlen) without looking for the
 * key (bulk loading); hvkvp_items_dedupe then makes keys unique again, the
 * last value of a key kept at the place of its first. 0 or -1 (no memory). */
int hvkvp_items_add(hvkvp_items_t *it, const char *key, size_t klen,
                    const char *value, size_t vlen);
int hvkvp_items_dedupe(hvkvp_items_t *it);
int hvkvp_items_del(hvkvp_items_t *it, const char *key); /* 1 if removed */

/* ---- framing ---- */
typedef enum {
  HVKVP_ENC_Z64 = 0,  /* zlib, base64 */
  HVKVP_ENC_JSON = 1, /* the JSON itself */
  HVKVP_ENC_ZD1 = 2,  /* zlib with the preset dictionary zd1, base64 */
} hvkvp_enc_t;

/* What writers use unless told otherwise (PROTOCOL.md section 12). */
#define HVKVP_ENC_DEFAULT HVKVP_ENC_ZD1

/* The zd1 preset dictionary (PROTOCOL.md section 4; schemas/zd1.dict,
 * compiled in by CMake). */
extern const unsigned char hvkvp_zd1_dict[];
extern const size_t hvkvp_zd1_dict_len;

/* "z64", "json", "zd1"; NULL for another value. */
const char *hvkvp_enc_name(hvkvp_enc_t enc);
/* s[0..n) as an encoding name: 0, or -1 if it is none. */
int hvkvp_enc_parse(const char *s, size_t n, hvkvp_enc_t *enc);

typedef struct {
  int v;
  uint64_t epoch;
  char slot; /* 'A' or 'B' */
  uint64_t gen;
  size_t n;     /* chunks */
  size_t len;   /* characters of the concatenated chunk text */
  uint32_t crc; /* CRC-32 (zlib) of the concatenated chunk text */
  hvkvp_enc_t enc;
} hvkvp_head_t;

int hvkvp_head_parse(const char *s, hvkvp_head_t *h, hvkvp_err_t *err);
/* Writes the head value into buf (>= 160 bytes is always enough). */
int hvkvp_head_format(const hvkvp_head_t *h, char *buf, size_t bufsz);

typedef struct {
  const char *prefix; /* NULL: HVKVP_DEFAULT_PREFIX */
  hvkvp_enc_t enc;
  uint64_t epoch;    /* random, chosen at writer start */
  uint64_t gen;      /* this message's generation (> previous) */
  size_t max_chunks; /* 0: HVKVP_MAX_CHUNKS */
} hvkvp_encode_opts_t;

/* What the writer must do, in this order: set every item of `put` except
 * the head (the chunks of the new slot), delete every key of `del`, set the
 * head (`put`'s last item, key PREFIX.head), then delete every key of
 * `after` (the chunks of the slot the head named before: no reader needs
 * them once the new head is set). */
typedef struct {
  hvkvp_items_t put;
  size_t n_del;
  char **del;
  size_t n_after;
  char **after;
  hvkvp_head_t head;
  uint32_t trimmed; /* value lists dropped so that the message fits */
} hvkvp_frame_t;

void hvkvp_frame_free(hvkvp_frame_t *f);

/* Encodes m for publication. `current` holds the items under the prefix as
 * the store has them now (may be NULL/empty): the new chunks go to the slot
 * the current head does not point to, and `del` lists the surplus chunks of
 * that slot and any other key under "PREFIX." that is neither the head nor a
 * chunk of either live slot. If the message does not fit in max_chunks (or
 * its JSON exceeds HVKVP_MAX_DECODED), the first k value lists are kept such
 * that k fits and k + 1 does not; the message carries trimmed = m->trimmed +
 * dropped and f->trimmed = dropped. TOO_BIG if even k = 0 does not fit.
 * ARG if a field of m is invalid (detail names it; e.g. 0 or > 16 data
 * sources, empty plugin/type/dsname, interval <= 0, duplicate tag) or if
 * current's head has o->epoch and a gen >= o->gen (gens must increase).
 * f is always initialised (free it with hvkvp_frame_free on success; on
 * failure it is empty). */
int hvkvp_encode(const hvkvp_msg_t *m, const hvkvp_encode_opts_t *o,
                 const hvkvp_items_t *current, hvkvp_frame_t *f,
                 hvkvp_err_t *err);

/* Decodes the message the head under `prefix` points to. Every byte is
 * hostile: caps are checked before allocation. On success fills *out (init'd
 * by the callee) and, if head_out, the parsed head. */
int hvkvp_decode(const hvkvp_items_t *items, const char *prefix,
                 hvkvp_msg_t *out, hvkvp_head_t *head_out, hvkvp_err_t *err);

/* The head under `prefix`, parsed, without reading the chunks (a reader
 * that has dispatched this generation already stops here): 0, NOHEAD, ARG
 * (bad prefix) or the errors of hvkvp_head_parse. */
int hvkvp_head_of(const hvkvp_items_t *items, const char *prefix,
                  hvkvp_head_t *h, hvkvp_err_t *err);

/* A decoder keeps its buffers and inflate state between messages, so a
 * reader of many messages allocates nothing in the steady state. */
typedef struct hvkvp_decoder hvkvp_decoder_t;
hvkvp_decoder_t *hvkvp_decoder_new(void); /* NULL without memory */
void hvkvp_decoder_free(hvkvp_decoder_t *d);
/* hvkvp_decode with d's buffers; the value lists go to sink (NULL: into
 * out->vls). */
int hvkvp_decoder_run(hvkvp_decoder_t *d, const hvkvp_items_t *items,
                      const char *prefix, hvkvp_msg_t *out,
                      hvkvp_head_t *head_out, const hvkvp_vl_sink_t *sink,
                      hvkvp_err_t *err);

/* ---- generation tracking (reader side) ---- */
typedef struct {
  int seen;
  uint64_t epoch;
  uint64_t gen;
} hvkvp_gen_t;

/* 1 if (epoch, gen) should be dispatched now (first seen, a new epoch, or a
 * higher gen in the same epoch) and records it; 0 otherwise. */
int hvkvp_gen_accept(hvkvp_gen_t *t, uint64_t epoch, uint64_t gen);
/* The same test without recording: 1 if hvkvp_gen_accept would accept. */
int hvkvp_gen_is_new(const hvkvp_gen_t *t, uint64_t epoch, uint64_t gen);

/* ---- name sanitising for collectd and Graphite ---- */
typedef enum {
  HVKVP_NAME_PLUGIN,   /* plugin, type: [A-Za-z0-9_] */
  HVKVP_NAME_INSTANCE, /* plugin/type instance, dsname: [A-Za-z0-9_-] */
  HVKVP_NAME_HOST,     /* host: [A-Za-z0-9_.-], not starting with '.' */
  HVKVP_NAME_TAG,      /* tag key (meta data): [A-Za-z0-9_.:-], likewise */
} hvkvp_name_kind_t;

/* Copies src into dst (at most min(dstsz, HVKVP_NAME_LEN) - 1 bytes), every
 * other byte (a whole UTF-8 sequence counts as one) replaced by '_', and a
 * leading '.' too (so a name is never ".", ".." or hidden). Returns
 * 1 if anything was changed or cut, 0 if dst equals src. dst may be src
 * (in-place). */
int hvkvp_sanitize(char *dst, size_t dstsz, const char *src,
                   hvkvp_name_kind_t kind);

/* ---- host -> guest configuration (PROTOCOL.md section 11) ---- */
#define HVKVP_CFG_LIST_LEN 512 /* incl. NUL: cfg.collectors */
#define HVKVP_CFG_ID_LEN 13    /* incl. NUL: an id the host computes */
#define HVKVP_CFG_INTERVAL_MIN 1
#define HVKVP_CFG_INTERVAL_MAX 3600

typedef struct {
  int present;             /* hvkvp_cfg_read: any PREFIX.cfg.* item at all */
  char id[HVKVP_NAME_LEN]; /* cfg.id */
  double interval;         /* cfg.interval seconds; 0: not set */
  int has_collectors;
  char collectors[HVKVP_CFG_LIST_LEN]; /* names joined by one space */
  int has_tags;
  size_t n_tags;
  hvkvp_tag_t tags[HVKVP_MAX_TAGS];
} hvkvp_cfg_t;

void hvkvp_cfg_init(hvkvp_cfg_t *c);
/* One setting's value, checked as PROTOCOL.md says (ARG or TOO_BIG with a
 * detail such as "\"0\" is not seconds 1..3600"): interval strict decimal
 * 1..3600; collectors words of [A-Za-z0-9_-] separated by spaces, commas or
 * tabs (stored joined by one space); tags "k=v,k=v" with keys of
 * [A-Za-z0-9_.:-], values printable ASCII without ',' '=', at most 16, no key
 * twice. The parse_* functions fill only their field of c. */
int hvkvp_cfg_parse_interval(const char *v, double *out, hvkvp_err_t *err);
int hvkvp_cfg_parse_collectors(const char *v, hvkvp_cfg_t *c, hvkvp_err_t *err);
int hvkvp_cfg_parse_tags(const char *v, hvkvp_cfg_t *c, hvkvp_err_t *err);
/* 1 if name is a word of a Collectors list (words separated by spaces,
 * commas or tabs, as hvkvp_cfg_parse_collectors splits them), else 0. */
int hvkvp_cfg_list_has(const char *list, const char *name);
/* Guest side: the PREFIX.cfg.* items of `items` validated as a whole into
 * *out (init'd by the callee; unknown cfg names ignored). The detail names
 * the item: "item hvkvp.cfg.interval: \"0\" is not seconds 1..3600". */
int hvkvp_cfg_read(const hvkvp_items_t *items, const char *prefix,
                   hvkvp_cfg_t *out, hvkvp_err_t *err);
/* Host side: the items of c (init'd by the callee), PREFIX.cfg.id included,
 * whose value (also written to id) is the first 12 hex digits of FNV-1a 64
 * over the sorted "key=value\n" lines of the other items. */
int hvkvp_cfg_items(const hvkvp_cfg_t *c, const char *prefix,
                    hvkvp_items_t *out, char id[HVKVP_CFG_ID_LEN],
                    hvkvp_err_t *err);

/* ---- helpers shared by both ends ---- */
/* 0 if prefix is one PROTOCOL.md section 2 allows ([A-Za-z0-9_.-], 1..63
 * bytes, not starting or ending with '.'), else an HVKVP_E_ARG error whose
 * detail says what is wrong. Writers may restrict it further. */
int hvkvp_prefix_check(const char *prefix, hvkvp_err_t *err);
/* FNV-1a 64: h = hvkvp_fnv1a64(HVKVP_FNV1A64_INIT, p, n), chainable. */
#define HVKVP_FNV1A64_INIT 1469598103934665603ULL
uint64_t hvkvp_fnv1a64(uint64_t h, const void *p, size_t n);
/* Base64 (RFC 4648, no line breaks). Decoding rejects anything else. */
size_t hvkvp_b64_encoded_len(size_t n);
/* Writes hvkvp_b64_encoded_len(n) characters and a NUL into out. */
void hvkvp_b64_encode(const unsigned char *in, size_t n, char *out);
/* 0, HVKVP_E_BASE64 (bad length, character, padding or non-zero trailing
 * bits) or HVKVP_E_TOO_BIG (outsz too small). */
int hvkvp_b64_decode(const char *in, size_t n, unsigned char *out, size_t outsz,
                     size_t *outlen);

#endif /* HVKVP_H */
