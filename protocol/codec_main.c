/*
 * codec_main.c - hvkvp-codec: the protocol library as a line-oriented
 * coprocess for the simulator and tests (native builds only).
 *
 *   hvkvp-codec encode [--prefix P] [--enc zd1|z64|json] [--max-chunks N]
 *     in:  {"msg": {...}, "epoch": E, "gen": G, "current": {key: value}}
 *     out: {"put": [[key, value], ...], "del": [key, ...],
 *           "after": [key, ...], "trimmed": N} (head last in put; after:
 *          deleted once the head is set) or {"error": "NAME", "detail": ...}
 *   hvkvp-codec decode [--prefix P]
 *     in:  {key: value, ...}
 *     out: {"ok": true, "epoch": E, "gen": G, "slot": "A", "msg": {...}} or
 *          {"ok": false, "error": "NAME", "torn": bool, "detail": "..."}
 *   hvkvp-codec cfg [--prefix P]
 *     in:  {key: value, ...}   (the host items a guest sees)
 *     out: {"ok": true, "present": bool, "id": "...", "interval": N|null,
 *           "collectors": "a b"|null, "tags": {k: v}|null} or
 *          {"ok": false, "error": "NAME", "detail": "item ...: ..."}
 *
 * One output line per input line, flushed at once. u64 numbers (epoch, gen)
 * are read and written exactly.
 */
#include "hvkvp_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

enum { MAX_LINE_DEPTH = 32 };

typedef enum { MODE_ENCODE, MODE_DECODE, MODE_CFG } mode_t_;

typedef struct {
  mode_t_ mode;
  const char *prefix;
  hvkvp_enc_t enc;
  size_t max_chunks;
} opts_t;

static void usage(void) {
  fprintf(stderr, "usage: hvkvp-codec encode [--prefix P] "
                  "[--enc zd1|z64|json] "
                  "[--max-chunks N]\n"
                  "       hvkvp-codec decode [--prefix P]\n"
                  "       hvkvp-codec cfg [--prefix P]\n"
                  "Reads one JSON object per stdin line, writes one per stdout "
                  "line.\n");
}

/* Nesting depth of a JSON text, ignoring brackets inside strings. */
static int json_depth(const char *s) {
  int d = 0, max = 0, in_str = 0;
  for (; *s; s++) {
    if (in_str) {
      if (*s == '\\' && s[1] != '\0')
        s++;
      else if (*s == '"')
        in_str = 0;
    } else if (*s == '"') {
      in_str = 1;
    } else if (*s == '{' || *s == '[') {
      if (++d > max)
        max = d;
    } else if (*s == '}' || *s == ']') {
      d--;
    }
  }
  return max;
}

/* Re-serialises a yajl tree value (numbers verbatim) into g. */
static int tree_gen(yajl_gen g, yajl_val v) {
  size_t i;
  yajl_gen_status st = yajl_gen_status_ok;
  if (v == NULL)
    return -1;
  switch (v->type) {
  case yajl_t_string:
    st = yajl_gen_string(g, (const unsigned char *)v->u.string,
                         strlen(v->u.string));
    break;
  case yajl_t_number:
    st = yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    break;
  case yajl_t_object:
    st = yajl_gen_map_open(g);
    for (i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
      st = yajl_gen_string(g, (const unsigned char *)v->u.object.keys[i],
                           strlen(v->u.object.keys[i]));
      if (st == yajl_gen_status_ok && tree_gen(g, v->u.object.values[i]) != 0)
        return -1;
    }
    if (st == yajl_gen_status_ok)
      st = yajl_gen_map_close(g);
    break;
  case yajl_t_array:
    st = yajl_gen_array_open(g);
    for (i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
      if (tree_gen(g, v->u.array.values[i]) != 0)
        return -1;
    if (st == yajl_gen_status_ok)
      st = yajl_gen_array_close(g);
    break;
  case yajl_t_true:
    st = yajl_gen_bool(g, 1);
    break;
  case yajl_t_false:
    st = yajl_gen_bool(g, 0);
    break;
  default:
    st = yajl_gen_null(g);
    break;
  }
  return st == yajl_gen_status_ok ? 0 : -1;
}

static yajl_val obj_get(yajl_val obj, const char *key) {
  size_t i;
  for (i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      return obj->u.object.values[i];
  return NULL;
}

static int get_u64(yajl_val obj, const char *key, uint64_t *out) {
  yajl_val v = obj_get(obj, key);
  if (v == NULL || v->type != yajl_t_number)
    return -1;
  return hvkvp_parse_u64(v->u.number.r, strlen(v->u.number.r), out);
}

/* Fills items from a JSON object of string values. */
static int get_items(yajl_val obj, hvkvp_items_t *items, hvkvp_err_t *err) {
  size_t i;
  for (i = 0; i < obj->u.object.len; i++) {
    yajl_val v = obj->u.object.values[i];
    if (v == NULL || v->type != yajl_t_string)
      return hvkvp_err_set(err, HVKVP_E_ARG, "item \"%s\" is not a string",
                           obj->u.object.keys[i]);
    if (hvkvp_items_set(items, obj->u.object.keys[i], v->u.string) != 0)
      return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  }
  return 0;
}

static void out_error(hvkvp_buf_t *o, mode_t_ mode, const hvkvp_err_t *err) {
  const char *name = hvkvp_strerror(err->code);
  if (mode != MODE_ENCODE) {
    hvkvp_buf_puts(o, "{\"ok\":false,\"error\":");
    hvkvp_json_put_string(o, name, strlen(name));
    if (mode == MODE_DECODE)
      hvkvp_buf_puts(o, hvkvp_err_is_torn(err->code) ? ",\"torn\":true"
                                                     : ",\"torn\":false");
  } else {
    hvkvp_buf_puts(o, "{\"error\":");
    hvkvp_json_put_string(o, name, strlen(name));
  }
  hvkvp_buf_puts(o, ",\"detail\":");
  hvkvp_json_put_string(o, err->detail, strlen(err->detail));
  hvkvp_buf_puts(o, "}");
}

/* ,"name":["key",...] */
static void put_keys(hvkvp_buf_t *o, const char *name, char *const *keys,
                     size_t n) {
  hvkvp_buf_puts(o, "],\"");
  hvkvp_buf_puts(o, name);
  hvkvp_buf_puts(o, "\":[");
  for (size_t i = 0; i < n; i++) {
    if (i)
      hvkvp_buf_puts(o, ",");
    hvkvp_json_put_string(o, keys[i], strlen(keys[i]));
  }
}

static int do_encode(const opts_t *op, yajl_val root, hvkvp_buf_t *o,
                     hvkvp_err_t *err) {
  yajl_val mv = obj_get(root, "msg"), cur = obj_get(root, "current");
  hvkvp_encode_opts_t eo;
  hvkvp_items_t current;
  hvkvp_msg_t m;
  hvkvp_frame_t f;
  const unsigned char *txt;
  size_t tlen, i;
  yajl_gen g;
  int rc;
  char num[32];
  memset(&eo, 0, sizeof(eo));
  eo.prefix = op->prefix;
  eo.enc = op->enc;
  eo.max_chunks = op->max_chunks;
  if (mv == NULL || mv->type != yajl_t_object)
    return hvkvp_err_set(err, HVKVP_E_ARG, "input has no \"msg\" object");
  if (get_u64(root, "epoch", &eo.epoch) != 0 ||
      get_u64(root, "gen", &eo.gen) != 0)
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "input needs \"epoch\" and \"gen\" as unsigned "
                         "64-bit integers");
  if (cur != NULL && cur->type != yajl_t_object && cur->type != yajl_t_null)
    return hvkvp_err_set(err, HVKVP_E_ARG, "\"current\" is not an object");
  g = yajl_gen_alloc(NULL);
  if (g == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory");
  if (tree_gen(g, mv) != 0) {
    yajl_gen_free(g);
    return hvkvp_err_set(err, HVKVP_E_ARG, "cannot re-serialise \"msg\"");
  }
  yajl_gen_get_buf(g, &txt, &tlen);
  rc = hvkvp_msg_from_json((const char *)txt, tlen, &m, err);
  yajl_gen_free(g);
  if (rc != 0)
    return rc;
  hvkvp_items_init(&current);
  if (cur != NULL && cur->type == yajl_t_object &&
      (rc = get_items(cur, &current, err)) != 0) {
    hvkvp_items_free(&current);
    hvkvp_msg_free(&m);
    return rc;
  }
  rc = hvkvp_encode(&m, &eo, &current, &f, err);
  hvkvp_items_free(&current);
  hvkvp_msg_free(&m);
  if (rc != 0)
    return rc;
  hvkvp_buf_puts(o, "{\"put\":[");
  for (i = 0; i < f.put.n; i++) {
    hvkvp_buf_puts(o, i ? ",[" : "[");
    hvkvp_json_put_string(o, f.put.v[i].key, strlen(f.put.v[i].key));
    hvkvp_buf_puts(o, ",");
    hvkvp_json_put_string(o, f.put.v[i].value, strlen(f.put.v[i].value));
    hvkvp_buf_puts(o, "]");
  }
  put_keys(o, "del", f.del, f.n_del);
  put_keys(o, "after", f.after, f.n_after);
  snprintf(num, sizeof(num), "%" PRIu32, f.trimmed);
  hvkvp_buf_puts(o, "],\"trimmed\":");
  hvkvp_buf_puts(o, num);
  hvkvp_buf_puts(o, "}");
  hvkvp_frame_free(&f);
  return 0;
}

static int do_decode(const opts_t *op, yajl_val root, hvkvp_buf_t *o,
                     hvkvp_err_t *err) {
  hvkvp_items_t items;
  hvkvp_msg_t m;
  hvkvp_head_t h;
  char *json;
  size_t jlen;
  char num[96];
  int rc;
  hvkvp_items_init(&items);
  if ((rc = get_items(root, &items, err)) != 0) {
    hvkvp_items_free(&items);
    return rc;
  }
  rc = hvkvp_decode(&items, op->prefix, &m, &h, err);
  hvkvp_items_free(&items);
  if (rc != 0)
    return rc;
  rc = hvkvp_msg_to_json(&m, &json, &jlen);
  hvkvp_msg_free(&m);
  if (rc != 0)
    return hvkvp_err_set(err, (hvkvp_rc_t)rc,
                         "decoded message cannot be re-encoded as JSON");
  snprintf(num, sizeof(num),
           "{\"ok\":true,\"epoch\":%" PRIu64 ",\"gen\":%" PRIu64
           ",\"slot\":\"%c\",\"msg\":",
           h.epoch, h.gen, h.slot);
  hvkvp_buf_puts(o, num);
  hvkvp_buf_append(o, json, jlen);
  hvkvp_buf_puts(o, "}");
  free(json);
  return 0;
}

/* The pushed configuration a guest would apply (hvkvp_cfg_read). */
static int do_cfg(const opts_t *op, yajl_val root, hvkvp_buf_t *o,
                  hvkvp_err_t *err) {
  hvkvp_items_t items;
  hvkvp_cfg_t c;
  char num[64];
  hvkvp_items_init(&items);
  int rc = get_items(root, &items, err);
  if (rc == 0)
    rc = hvkvp_cfg_read(&items, op->prefix, &c, err);
  hvkvp_items_free(&items);
  if (rc != 0)
    return rc;
  hvkvp_buf_puts(o, c.present ? "{\"ok\":true,\"present\":true,\"id\":"
                              : "{\"ok\":true,\"present\":false,\"id\":");
  hvkvp_json_put_string(o, c.id, strlen(c.id));
  if (c.interval > 0)
    snprintf(num, sizeof(num), ",\"interval\":%.6g", c.interval);
  else
    snprintf(num, sizeof(num), ",\"interval\":null");
  hvkvp_buf_puts(o, num);
  hvkvp_buf_puts(o, ",\"collectors\":");
  if (c.has_collectors)
    hvkvp_json_put_string(o, c.collectors, strlen(c.collectors));
  else
    hvkvp_buf_puts(o, "null");
  hvkvp_buf_puts(o, ",\"tags\":");
  if (!c.has_tags)
    hvkvp_buf_puts(o, "null");
  for (size_t i = 0; c.has_tags && i < c.n_tags; i++) {
    hvkvp_buf_puts(o, i ? "," : "{");
    hvkvp_json_put_string(o, c.tags[i].key, strlen(c.tags[i].key));
    hvkvp_buf_puts(o, ":");
    hvkvp_json_put_string(o, c.tags[i].value, strlen(c.tags[i].value));
  }
  hvkvp_buf_puts(o, c.has_tags ? "}}" : "}");
  return 0;
}

static void handle_line(const opts_t *op, char *line, hvkvp_buf_t *o) {
  char ebuf[256];
  yajl_val root = NULL;
  hvkvp_err_t err;
  int rc;
  memset(&err, 0, sizeof(err));
  if (json_depth(line) > MAX_LINE_DEPTH) {
    rc = hvkvp_err_set(&err, HVKVP_E_TOO_BIG, "input line nests deeper than %d",
                       MAX_LINE_DEPTH);
  } else {
    ebuf[0] = '\0';
    root = yajl_tree_parse(line, ebuf, sizeof(ebuf));
    if (root == NULL) {
      char *nl = strchr(ebuf, '\n');
      if (nl != NULL)
        *nl = '\0';
      rc = hvkvp_err_set(&err, HVKVP_E_ARG, "input line is not JSON: %s", ebuf);
    } else if (root->type != yajl_t_object) {
      rc = hvkvp_err_set(&err, HVKVP_E_ARG, "input line is not an object");
    } else {
      rc = op->mode == MODE_DECODE ? do_decode(op, root, o, &err)
           : op->mode == MODE_CFG  ? do_cfg(op, root, o, &err)
                                   : do_encode(op, root, o, &err);
    }
  }
  if (rc != 0) {
    o->len = 0;
    o->oom = 0;
    out_error(o, op->mode, &err);
  }
  yajl_tree_free(root);
}

int main(int argc, char **argv) {
  opts_t op;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int i;
  hvkvp_err_t err;
  memset(&op, 0, sizeof(op));
  op.enc = HVKVP_ENC_DEFAULT;
  op.prefix = HVKVP_DEFAULT_PREFIX;
  if (argc < 2) {
    usage();
    return 2;
  }
  if (strcmp(argv[1], "decode") == 0)
    op.mode = MODE_DECODE;
  else if (strcmp(argv[1], "cfg") == 0)
    op.mode = MODE_CFG;
  else if (strcmp(argv[1], "encode") != 0) {
    usage();
    return 2;
  }
  for (i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
      op.prefix = argv[++i];
    } else if (strcmp(argv[i], "--enc") == 0 && i + 1 < argc &&
               op.mode == MODE_ENCODE) {
      const char *e = argv[++i];
      if (hvkvp_enc_parse(e, strlen(e), &op.enc) != 0) {
        fprintf(stderr, "hvkvp-codec: --enc must be zd1, z64 or json, not %s\n",
                e);
        return 2;
      }
    } else if (strcmp(argv[i], "--max-chunks") == 0 && i + 1 < argc &&
               op.mode == MODE_ENCODE) {
      char *end;
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > HVKVP_MAX_CHUNKS) {
        fprintf(stderr, "hvkvp-codec: --max-chunks must be 1..%d\n",
                HVKVP_MAX_CHUNKS);
        return 2;
      }
      op.max_chunks = v;
    } else {
      usage();
      return 2;
    }
  }
  if (hvkvp_prefix_check(op.prefix, &err) != 0) {
    fprintf(stderr, "hvkvp-codec: %s\n", err.detail);
    return 2;
  }
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    hvkvp_buf_t o;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    hvkvp_buf_init(&o);
    handle_line(&op, line, &o);
    if (o.oom || o.data == NULL) {
      fputs("{\"error\":\"NOMEM\",\"detail\":\"out of memory\"}\n", stdout);
    } else {
      fwrite(o.data, 1, o.len, stdout);
      fputc('\n', stdout);
    }
    fflush(stdout);
    hvkvp_buf_free(&o);
  }
  free(line);
  return 0;
}
