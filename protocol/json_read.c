/*
 * json_read.c - JSON payload -> message with yajl's callback parser, so
 * limits apply while parsing (nesting depth, value list count, data sources
 * per list, name lengths) and nothing unbounded is ever built. Numbers come
 * in as text and are converted exactly (u64 above 2^53 included). Unknown
 * keys (top level and inside value lists) are skipped; known keys must have
 * the documented type and appear once.
 */
#include "hvkvp_int.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

enum { NUMTEXT = 64 };

typedef enum { S_START, S_TOP, S_TAGS, S_VLS, S_VL, S_VL_ARR, S_END } state_t;

enum {
  TK_V,
  TK_HOST,
  TK_TIME,
  TK_INTERVAL,
  TK_SEQ,
  TK_CONFIG,
  TK_CONFIG_ERROR,
  TK_TRIMMED,
  TK_TAGS,
  TK_VALUES,
  TK_UNKNOWN
};
static const char *const top_keys[] = {
    "v",      "host",         "time",    "interval", "seq",
    "config", "config_error", "trimmed", "tags",     "values"};
static const unsigned char top_lens[] = {1, 4, 4, 8, 3, 6, 12, 7, 4, 6};
#define TOP_REQUIRED                                                           \
  ((1u << TK_V) | (1u << TK_HOST) | (1u << TK_TIME) | (1u << TK_INTERVAL) |    \
   (1u << TK_SEQ) | (1u << TK_CONFIG) | (1u << TK_VALUES))

enum {
  VK_VALUES,
  VK_DSTYPES,
  VK_DSNAMES,
  VK_PLUGIN,
  VK_PINST,
  VK_TYPE,
  VK_TINST,
  VK_UNKNOWN
};
static const char *const vl_keys[] = {
    "values",          "dstypes", "dsnames",      "plugin",
    "plugin_instance", "type",    "type_instance"};
static const unsigned char vl_lens[] = {6, 7, 7, 6, 15, 4, 13};
#define VL_REQUIRED                                                            \
  ((1u << VK_VALUES) | (1u << VK_DSTYPES) | (1u << VK_DSNAMES) |               \
   (1u << VK_PLUGIN) | (1u << VK_TYPE))

typedef struct {
  hvkvp_msg_t *m;
  const hvkvp_vl_sink_t *sink;
  hvkvp_err_t *err;
  int rc;         /* first error we raised (parser then cancels) */
  int depth;      /* current container nesting */
  int skip_depth; /* > 0: skipping an unknown value opened at this depth */
  state_t st;
  int key;       /* key id awaiting its value in S_TOP / S_VL */
  unsigned seen; /* top-level keys seen */
  char tag_key[HVKVP_NAME_LEN];
  /* current value list: where the sink wants it */
  size_t n_vls; /* value lists begun */
  hvkvp_vl_dst_t dst;
  unsigned vl_seen;
  int arr; /* which array of the value list S_VL_ARR fills */
  size_t n_vals, n_types, n_names;
  char vals[HVKVP_MAX_DS][NUMTEXT]; /* number text, "" for null */
} rd_t;

static int fail(rd_t *r, hvkvp_rc_t code, const char *fmt, ...)
    HVKVP_PRINTF(3, 4);
static int fail(rd_t *r, hvkvp_rc_t code, const char *fmt, ...) {
  if (r->rc == 0) {
    va_list ap;
    r->rc = (int)code;
    if (r->err != NULL) {
      r->err->code = code;
      va_start(ap, fmt);
      vsnprintf(r->err->detail, sizeof(r->err->detail), fmt, ap);
      va_end(ap);
    }
  }
  return 0; /* cancels the yajl parse */
}

static size_t vl_index(const rd_t *r) {
  return r->n_vls ? r->n_vls - 1 : 0;
}

/* Where an error inside the current value list is ("values[3].type",
 * "values[3].dsnames[1]"); built only when something failed. */
static const char *vl_what(const rd_t *r, char *buf, size_t sz) {
  if (r->st == S_VL_ARR) {
    const size_t *cnt = r->arr == VK_VALUES    ? &r->n_vals
                        : r->arr == VK_DSTYPES ? &r->n_types
                                               : &r->n_names;
    snprintf(buf, sz, "values[%zu].%s[%zu]", vl_index(r), vl_keys[r->arr],
             *cnt);
  } else {
    snprintf(buf, sz, "values[%zu].%s", vl_index(r), vl_keys[r->key]);
  }
  return buf;
}

static int lookup(const char *const *names, const unsigned char *lens, int n,
                  const unsigned char *k, size_t len) {
  for (int i = 0; i < n; i++)
    if (lens[i] == len && memcmp(names[i], k, len) == 0)
      return i;
  return n;
}

/* 1 if s[0..len) fits in dstsz with its NUL, holds no NUL and is strict
 * UTF-8 (yajl passes e.g. "\udc00" through as a UTF-8-encoded surrogate,
 * which we refuse). ASCII, the usual case, takes one pass. */
static int str_ok(const unsigned char *s, size_t len, size_t dstsz) {
  size_t i = 0;
  if (len >= dstsz)
    return 0;
  while (i < len && s[i] != 0 && s[i] < 0x80)
    i++;
  while (i < len) {
    uint32_t cp;
    size_t l = s[i] != 0 ? hvkvp_utf8_decode(s + i, len - i, &cp) : 0;
    if (l == 0)
      return 0;
    i += l;
  }
  return 1;
}

/* The SCHEMA error for a string str_ok refused. */
static int str_fail(rd_t *r, const char *what, const unsigned char *s,
                    size_t len, size_t dstsz) {
  if (len >= dstsz)
    return fail(r, HVKVP_E_SCHEMA, "%s is %zu bytes long, at most %zu allowed",
                what, len, dstsz - 1);
  if (memchr(s, '\0', len) != NULL)
    return fail(r, HVKVP_E_SCHEMA, "%s contains a NUL character", what);
  return fail(r, HVKVP_E_SCHEMA,
              "%s is not valid UTF-8 (an unpaired surrogate escape?)", what);
}

/* Copies a JSON string into a fixed field: SCHEMA if too long or has NUL.
 * dst NULL: checked only. */
static int put_str(rd_t *r, char *dst, size_t dstsz, const unsigned char *s,
                   size_t len, const char *what) {
  if (!str_ok(s, len, dstsz))
    return str_fail(r, what, s, len, dstsz);
  if (dst != NULL) {
    memcpy(dst, s, len);
    dst[len] = '\0';
  }
  return 1;
}

/* put_str for a string of the current value list. */
static int put_vl_str(rd_t *r, char *dst, const unsigned char *s, size_t len) {
  char what[64];
  if (!str_ok(s, len, HVKVP_NAME_LEN))
    return str_fail(r, vl_what(r, what, sizeof(what)), s, len, HVKVP_NAME_LEN);
  if (dst != NULL) {
    memcpy(dst, s, len);
    dst[len] = '\0';
  }
  return 1;
}

/* Copies number text (NUL-terminated) into buf; SCHEMA if too long. */
static int num_text(rd_t *r, char *buf, const char *s, size_t len,
                    const char *what) {
  if (len >= NUMTEXT)
    return fail(r, HVKVP_E_SCHEMA, "%s: number text longer than %d characters",
                what, NUMTEXT - 1);
  memcpy(buf, s, len);
  buf[len] = '\0';
  return 1;
}

static int parse_double(const char *t, double *out) {
  char *end;
  double d;
  errno = 0;
  d = strtod(t, &end);
  if (*end != '\0' || !isfinite(d))
    return -1;
  *out = d;
  return 0;
}

static int parse_i64(const char *t, int64_t *out) {
  uint64_t u;
  if (t[0] == '-') {
    if (hvkvp_parse_u64(t + 1, strlen(t + 1), &u) != 0 ||
        u > (uint64_t)INT64_MAX + 1)
      return -1;
    *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    return 0;
  }
  if (hvkvp_parse_u64(t, strlen(t), &u) != 0 || u > (uint64_t)INT64_MAX)
    return -1;
  *out = (int64_t)u;
  return 0;
}

static const char *type_word(int kind) {
  static const char *const w[] = {"null",     "a boolean", "a number",
                                  "a string", "an object", "an array"};
  return w[kind];
}
enum { J_NULL, J_BOOL, J_NUM, J_STR, J_MAP, J_ARR };

/* "v": the number 1. */
static int top_version(rd_t *r, int kind, const char *s, size_t len) {
  char t[NUMTEXT];
  if (kind != J_NUM)
    return fail(r, HVKVP_E_SCHEMA, "\"v\" is %s, expected the number 1",
                type_word(kind));
  if (len == 1 && s[0] == '1')
    return 1;
  if (!num_text(r, t, s, len, "v"))
    return 0;
  return fail(r, HVKVP_E_VERSION, "message version v=%s, this reader reads 1",
              t);
}

/* "host", "config", "config_error": strings into the message. */
static int top_string(rd_t *r, int kind, const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  if (kind != J_STR)
    return fail(r, HVKVP_E_SCHEMA, "\"%s\" is %s, expected a string",
                top_keys[r->key], type_word(kind));
  if (r->key == TK_HOST)
    return put_str(r, r->m->host, sizeof(r->m->host), u, len, "host");
  if (r->key == TK_CONFIG)
    return put_str(r, r->m->config, sizeof(r->m->config), u, len, "config");
  return put_str(r, r->m->config_error, sizeof(r->m->config_error), u, len,
                 "config_error");
}

/* "time" (unix seconds) and "interval" (seconds): finite numbers in range. */
static int top_seconds(rd_t *r, int kind, const char *s, size_t len) {
  char t[NUMTEXT];
  const char *name = top_keys[r->key];
  if (kind != J_NUM)
    return fail(r, HVKVP_E_SCHEMA, "\"%s\" is %s, expected a number", name,
                type_word(kind));
  if (!num_text(r, t, s, len, name))
    return 0;
  if (r->key == TK_TIME) {
    if (parse_double(t, &r->m->time) != 0 || r->m->time < 0 ||
        r->m->time > 1e12)
      return fail(r, HVKVP_E_SCHEMA,
                  "\"time\" %s is not in [0, 1e12] unix seconds", t);
  } else if (parse_double(t, &r->m->interval) != 0 || r->m->interval <= 0 ||
             r->m->interval > 1e9) {
    return fail(r, HVKVP_E_SCHEMA, "\"interval\" %s is not in (0, 1e9] seconds",
                t);
  }
  return 1;
}

/* "seq" (64-bit) and "trimmed" (32-bit): unsigned integers. */
static int top_integer(rd_t *r, int kind, const char *s, size_t len) {
  char t[NUMTEXT];
  const char *name = top_keys[r->key];
  uint64_t u;
  if (kind != J_NUM)
    return fail(r, HVKVP_E_SCHEMA, "\"%s\" is %s, expected an integer", name,
                type_word(kind));
  if (!num_text(r, t, s, len, name))
    return 0;
  if (hvkvp_parse_u64(t, len, &u) != 0 ||
      (r->key == TK_TRIMMED && u > UINT32_MAX))
    return fail(r, HVKVP_E_SCHEMA, "\"%s\" %s is not an unsigned %s integer",
                name, t, r->key == TK_SEQ ? "64-bit" : "32-bit");
  if (r->key == TK_SEQ)
    r->m->seq = u;
  else
    r->m->trimmed = (uint32_t)u;
  return 1;
}

/* "tags" (an object) and "values" (an array): the state their members are
 * read in. */
static int top_container(rd_t *r, int kind) {
  if (r->key == TK_TAGS) {
    if (kind != J_MAP)
      return fail(r, HVKVP_E_SCHEMA, "\"tags\" is %s, expected an object",
                  type_word(kind));
    r->st = S_TAGS;
    return 1;
  }
  if (kind != J_ARR)
    return fail(r, HVKVP_E_SCHEMA, "\"values\" is %s, expected an array",
                type_word(kind));
  r->st = S_VLS;
  return 1;
}

/* Handles a scalar or container-open value for the pending key. Returns
 * 1 to continue, 0 to cancel. For containers, the caller opens them. */
static int top_value(rd_t *r, int kind, const char *s, size_t len) {
  switch (r->key) {
  case TK_UNKNOWN:
    if (kind == J_MAP || kind == J_ARR)
      r->skip_depth = r->depth;
    return 1;
  case TK_V:
    return top_version(r, kind, s, len);
  case TK_HOST:
  case TK_CONFIG:
  case TK_CONFIG_ERROR:
    return top_string(r, kind, s, len);
  case TK_TIME:
  case TK_INTERVAL:
    return top_seconds(r, kind, s, len);
  case TK_SEQ:
  case TK_TRIMMED:
    return top_integer(r, kind, s, len);
  case TK_TAGS:
  case TK_VALUES:
    return top_container(r, kind);
  }
  return 1;
}

static int vl_value(rd_t *r, int kind, const char *s, size_t len) {
  char what[64];
  int key = r->key;
  if (key == VK_UNKNOWN) {
    if (kind == J_MAP || kind == J_ARR)
      r->skip_depth = r->depth;
    return 1;
  }
  if (key <= VK_DSNAMES) {
    if (kind != J_ARR)
      return fail(r, HVKVP_E_SCHEMA, "%s is %s, expected an array",
                  vl_what(r, what, sizeof(what)), type_word(kind));
    r->arr = key;
    r->st = S_VL_ARR;
    return 1;
  }
  if (kind != J_STR)
    return fail(r, HVKVP_E_SCHEMA, "%s is %s, expected a string",
                vl_what(r, what, sizeof(what)), type_word(kind));
  char *dst = key == VK_PLUGIN  ? r->dst.plugin
              : key == VK_PINST ? r->dst.plugin_instance
              : key == VK_TYPE  ? r->dst.type
                                : r->dst.type_instance;
  return put_vl_str(r, dst, (const unsigned char *)s, len);
}

static const char *const ds_words[] = {"gauge", "derive", "counter",
                                       "absolute"};
static const unsigned char ds_lens[] = {5, 6, 7, 8};

static int arr_elem(rd_t *r, int kind, const char *s, size_t len) {
  size_t *cnt = r->arr == VK_VALUES    ? &r->n_vals
                : r->arr == VK_DSTYPES ? &r->n_types
                                       : &r->n_names;
  char what[64];
  if (*cnt >= HVKVP_MAX_DS)
    return fail(r, HVKVP_E_SCHEMA,
                "values[%zu].%s has more than %d elements (data sources)",
                vl_index(r), vl_keys[r->arr], HVKVP_MAX_DS);
  if (r->arr == VK_VALUES) {
    if (kind == J_NULL) {
      r->vals[*cnt][0] = '\0';
    } else if (kind != J_NUM) {
      return fail(r, HVKVP_E_SCHEMA, "%s is %s, expected a number or null",
                  vl_what(r, what, sizeof(what)), type_word(kind));
    } else if (len == 0) {
      return fail(r, HVKVP_E_SCHEMA, "%s is an empty number",
                  vl_what(r, what, sizeof(what)));
    } else if (len < NUMTEXT) {
      memcpy(r->vals[*cnt], s, len);
      r->vals[*cnt][len] = '\0';
    } else {
      return num_text(r, r->vals[*cnt], s, len, vl_what(r, what, sizeof(what)));
    }
  } else if (kind != J_STR) {
    return fail(r, HVKVP_E_SCHEMA, "%s is %s, expected a string",
                vl_what(r, what, sizeof(what)), type_word(kind));
  } else if (r->arr == VK_DSTYPES) {
    int t = lookup(ds_words, ds_lens, 4, (const unsigned char *)s, len);
    if (t == 4)
      return fail(r, HVKVP_E_SCHEMA,
                  "%s is not gauge, derive, counter or absolute",
                  vl_what(r, what, sizeof(what)));
    r->dst.dstypes[*cnt] = (hvkvp_ds_type_t)t;
  } else {
    if (len == 0)
      return fail(r, HVKVP_E_SCHEMA, "%s is empty",
                  vl_what(r, what, sizeof(what)));
    if (!put_vl_str(r, r->dst.dsnames ? r->dst.dsnames[*cnt] : NULL,
                    (const unsigned char *)s, len))
      return 0;
  }
  (*cnt)++;
  return 1;
}

/* One number text as a value of type t; 0, or -1 if it is not one. */
static int parse_value(const char *t, hvkvp_ds_type_t type, hvkvp_value_t *v) {
  switch (type) {
  case HVKVP_DS_GAUGE:
    if (t[0] != '\0')
      return parse_double(t, &v->gauge);
    v->gauge = NAN;
    return 0;
  case HVKVP_DS_DERIVE:
    return t[0] == '\0' ? -1 : parse_i64(t, &v->derive);
  case HVKVP_DS_COUNTER:
    return hvkvp_parse_u64(t, strlen(t), &v->counter);
  default:
    return hvkvp_parse_u64(t, strlen(t), &v->absolute);
  }
}

/* Completes the current value list: required keys, equal array lengths,
 * values converted per data source type; then the sink has it. */
static int vl_finish(rd_t *r) {
  size_t i = vl_index(r), d, n = r->n_vals;
  if ((r->vl_seen & VL_REQUIRED) != VL_REQUIRED) {
    int k;
    for (k = 0; k < VK_UNKNOWN; k++)
      if ((VL_REQUIRED & (1u << k)) && !(r->vl_seen & (1u << k)))
        break;
    return fail(r, HVKVP_E_SCHEMA, "values[%zu] has no \"%s\"", i,
                k < VK_UNKNOWN ? vl_keys[k] : "?");
  }
  if (n == 0)
    return fail(r, HVKVP_E_SCHEMA, "values[%zu] has no data sources", i);
  if (n != r->n_types || n != r->n_names)
    return fail(r, HVKVP_E_SCHEMA,
                "values[%zu]: values, dstypes and dsnames have %zu, %zu and "
                "%zu elements (must be equal)",
                i, n, r->n_types, r->n_names);
  if (r->dst.plugin[0] == '\0' || r->dst.type[0] == '\0')
    return fail(r, HVKVP_E_SCHEMA, "values[%zu]: plugin or type is empty", i);
  for (d = 0; d < n; d++) {
    const char *t = r->vals[d];
    hvkvp_ds_type_t type = r->dst.dstypes[d];
    if (parse_value(t, type, &r->dst.values[d]) != 0)
      return fail(r, HVKVP_E_SCHEMA,
                  "values[%zu].values[%zu] \"%s\" is not a valid %s value", i,
                  d, t[0] ? t : "null",
                  type == HVKVP_DS_GAUGE    ? "gauge"
                  : type == HVKVP_DS_DERIVE ? "derive (int64)"
                                            : "counter (uint64)");
  }
  r->sink->end(r->sink->ctx, n);
  r->st = S_VLS;
  return 1;
}

/* A value list opens: the sink says where it goes. */
static int vl_begin(rd_t *r) {
  if (r->n_vls >= HVKVP_MAX_VALUE_LISTS)
    return fail(r, HVKVP_E_TOO_BIG, "more than %d value lists",
                HVKVP_MAX_VALUE_LISTS);
  if (r->sink->begin(r->sink->ctx, &r->dst) != 0)
    return fail(r, HVKVP_E_NOMEM, "out of memory adding a value list");
  r->n_vls++;
  r->dst.plugin_instance[0] = r->dst.type_instance[0] = '\0';
  r->dst.plugin[0] = r->dst.type[0] = '\0';
  r->vl_seen = 0;
  r->n_vals = r->n_types = r->n_names = 0;
  r->st = S_VL;
  return 1;
}

/* Dispatches any value (scalar or container start) by state. */
static int on_value(rd_t *r, int kind, const char *s, size_t len) {
  if (r->skip_depth > 0)
    return 1;
  switch (r->st) {
  case S_START:
    if (kind != J_MAP)
      return fail(r, HVKVP_E_SCHEMA, "payload is %s, expected an object",
                  type_word(kind));
    r->st = S_TOP;
    return 1;
  case S_TOP:
    return top_value(r, kind, s, len);
  case S_TAGS:
    if (kind != J_STR)
      return fail(r, HVKVP_E_SCHEMA, "tag \"%s\" is %s, expected a string",
                  r->tag_key, type_word(kind));
    return put_str(r, r->m->tags[r->m->n_tags - 1].value, HVKVP_NAME_LEN,
                   (const unsigned char *)s, len, "tag value");
  case S_VLS:
    if (kind != J_MAP)
      return fail(r, HVKVP_E_SCHEMA, "values[%zu] is %s, expected an object",
                  r->n_vls, type_word(kind));
    return vl_begin(r);
  case S_VL:
    return vl_value(r, kind, s, len);
  case S_VL_ARR:
    if (kind == J_MAP || kind == J_ARR)
      return fail(r, HVKVP_E_SCHEMA, "values[%zu].%s holds %s", vl_index(r),
                  vl_keys[r->arr], type_word(kind));
    return arr_elem(r, kind, s, len);
  case S_END:
    break;
  }
  return fail(r, HVKVP_E_SCHEMA, "unexpected value after the message");
}

static int open_container(rd_t *r, int kind) {
  if (++r->depth > HVKVP_MAX_JSON_DEPTH)
    return fail(r, HVKVP_E_TOO_BIG, "JSON nesting deeper than %d",
                HVKVP_MAX_JSON_DEPTH);
  return on_value(r, kind, NULL, 0);
}

static int close_container(rd_t *r) {
  int d = r->depth--;
  if (r->skip_depth > 0) {
    if (d == r->skip_depth)
      r->skip_depth = 0;
    return 1;
  }
  switch (r->st) {
  case S_TOP:
    if ((r->seen & TOP_REQUIRED) != TOP_REQUIRED) {
      int k;
      for (k = 0; k < TK_UNKNOWN; k++)
        if ((TOP_REQUIRED & (1u << k)) && !(r->seen & (1u << k)))
          break;
      return fail(r, HVKVP_E_SCHEMA, "message has no \"%s\"",
                  k < TK_UNKNOWN ? top_keys[k] : "?");
    }
    r->st = S_END;
    return 1;
  case S_TAGS:
  case S_VLS:
    r->st = S_TOP;
    return 1;
  case S_VL:
    return vl_finish(r);
  case S_VL_ARR:
    r->st = S_VL;
    return 1;
  default:
    return 1;
  }
}

static int cb_null(void *ctx) {
  return on_value(ctx, J_NULL, NULL, 0);
}
static int cb_bool(void *ctx, int b) {
  return on_value(ctx, J_BOOL, NULL, 0);
}
static int cb_number(void *ctx, const char *s, size_t len) {
  return on_value(ctx, J_NUM, s, len);
}
static int cb_string(void *ctx, const unsigned char *s, size_t len) {
  return on_value(ctx, J_STR, (const char *)s, len);
}
static int cb_start_map(void *ctx) {
  return open_container(ctx, J_MAP);
}
static int cb_start_array(void *ctx) {
  return open_container(ctx, J_ARR);
}
static int cb_end(void *ctx) {
  return close_container(ctx);
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t len) {
  rd_t *r = ctx;
  size_t j;
  if (r->skip_depth > 0)
    return 1;
  if (r->st == S_TOP) {
    r->key = lookup(top_keys, top_lens, TK_UNKNOWN, k, len);
    if (r->key != TK_UNKNOWN) {
      if (r->seen & (1u << r->key))
        return fail(r, HVKVP_E_SCHEMA, "key \"%s\" appears twice",
                    top_keys[r->key]);
      r->seen |= 1u << r->key;
    }
    return 1;
  }
  if (r->st == S_VL) {
    r->key = lookup(vl_keys, vl_lens, VK_UNKNOWN, k, len);
    if (r->key != VK_UNKNOWN) {
      if (r->vl_seen & (1u << r->key))
        return fail(r, HVKVP_E_SCHEMA, "values[%zu]: key \"%s\" appears twice",
                    vl_index(r), vl_keys[r->key]);
      r->vl_seen |= 1u << r->key;
    }
    return 1;
  }
  /* S_TAGS */
  if (r->m->n_tags >= HVKVP_MAX_TAGS)
    return fail(r, HVKVP_E_TOO_BIG, "more than %d tags", HVKVP_MAX_TAGS);
  if (len == 0)
    return fail(r, HVKVP_E_SCHEMA, "a tag has an empty name");
  if (!put_str(r, r->tag_key, sizeof(r->tag_key), k, len, "tag name"))
    return 0;
  for (j = 0; j < r->m->n_tags; j++)
    if (strcmp(r->m->tags[j].key, r->tag_key) == 0)
      return fail(r, HVKVP_E_SCHEMA, "tag \"%s\" appears twice", r->tag_key);
  memcpy(r->m->tags[r->m->n_tags].key, r->tag_key, len + 1);
  r->m->tags[r->m->n_tags].value[0] = '\0';
  r->m->n_tags++;
  return 1;
}

static const yajl_callbacks callbacks = {
    cb_null,      cb_bool,    NULL,   NULL,           cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end};

/* The default sink: value lists appended to the message itself. */
static int msg_begin(void *ctx, hvkvp_vl_dst_t *dst) {
  hvkvp_vl_t *vl = hvkvp_msg_add(ctx);
  if (vl == NULL)
    return -1;
  dst->plugin = vl->plugin;
  dst->plugin_instance = vl->plugin_instance;
  dst->type = vl->type;
  dst->type_instance = vl->type_instance;
  dst->dstypes = vl->dstypes;
  dst->values = vl->values;
  dst->dsnames = vl->dsnames;
  return 0;
}

static void msg_end(void *ctx, size_t n) {
  hvkvp_msg_t *m = ctx;
  m->vls[m->n_vls - 1].n = n;
}

/* yajl's own error for a payload that is not JSON. */
static int json_syntax(rd_t *r, yajl_handle h) {
  unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
  size_t off = yajl_get_bytes_consumed(h);
  char *nl = msg != NULL ? strchr((char *)msg, '\n') : NULL;
  if (nl != NULL)
    *nl = '\0';
  hvkvp_err_set(r->err, HVKVP_E_JSON, "invalid JSON near byte %zu: %s", off,
                msg != NULL ? (const char *)msg : "parse error");
  if (msg != NULL)
    yajl_free_error(h, msg);
  return r->rc = HVKVP_E_JSON;
}

int hvkvp_msg_from_json_sink(const char *json, size_t len, hvkvp_msg_t *out,
                             const hvkvp_vl_sink_t *sink, hvkvp_err_t *err) {
  rd_t r;
  if (out == NULL || (json == NULL && len > 0))
    return hvkvp_err_set(err, HVKVP_E_ARG, "NULL message or JSON");
  hvkvp_msg_init(out);
  const hvkvp_vl_sink_t own = {msg_begin, msg_end, out};
  if (len > HVKVP_MAX_DECODED)
    return hvkvp_err_set(err, HVKVP_E_TOO_BIG,
                         "JSON payload is %zu bytes, at most %d allowed", len,
                         HVKVP_MAX_DECODED);
  memset(&r, 0, sizeof(r));
  r.m = out;
  r.sink = sink != NULL ? sink : &own;
  r.err = err;
  r.st = S_START;
  yajl_handle h = yajl_alloc(&callbacks, NULL, &r);
  if (h == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory (yajl_alloc)");
  yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  if (st != yajl_status_ok && r.rc == 0)
    json_syntax(&r, h);
  yajl_free(h);
  if (r.rc == 0 && r.st != S_END)
    r.rc = hvkvp_err_set(err, HVKVP_E_JSON, "JSON payload is incomplete");
  if (r.rc != 0) {
    hvkvp_msg_free(out);
    hvkvp_msg_init(out);
    return r.rc;
  }
  if (err != NULL) {
    err->code = HVKVP_OK;
    err->detail[0] = '\0';
  }
  return 0;
}

int hvkvp_msg_from_json(const char *json, size_t len, hvkvp_msg_t *out,
                        hvkvp_err_t *err) {
  return hvkvp_msg_from_json_sink(json, len, out, NULL, err);
}
