/*
 * json_write.c - message -> JSON payload (DESIGN.md section 3) with
 * yajl_gen. The output is printable ASCII: a print callback turns DEL and
 * every UTF-8 sequence yajl passes through into \uXXXX escapes (surrogate
 * pairs above U+FFFF; malformed bytes become \ufffd). Numbers are written
 * exactly: gauges as the shortest text that round-trips (NaN/Inf as null),
 * derive as int64, counter/absolute as uint64, time with millisecond precision.
 */
#include "hvkvp_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

static const char *const ds_names[] = {"gauge", "derive", "counter",
                                       "absolute"};

static void put_u_escape(hvkvp_buf_t *b, unsigned v) {
  char e[8];
  snprintf(e, sizeof(e), "\\u%04x", v & 0xFFFFu);
  hvkvp_buf_append(b, e, 6);
}

/* Appends s[0..n) with every non-ASCII sequence as \u escapes. */
static void put_ascii(hvkvp_buf_t *b, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, run = 0;
  while (i < n) {
    uint32_t cp;
    size_t l;
    if (u[i] < 0x7f) {
      i++;
      continue;
    }
    hvkvp_buf_append(b, s + run, i - run);
    l = hvkvp_utf8_decode(u + i, n - i, &cp); /* 0x7f (DEL) decodes as 1 */
    if (l == 0) {
      cp = 0xFFFD;
      l = 1;
    }
    if (cp > 0xFFFF) {
      cp -= 0x10000;
      put_u_escape(b, 0xD800 + (cp >> 10));
      put_u_escape(b, 0xDC00 + (cp & 0x3FF));
    } else {
      put_u_escape(b, cp);
    }
    i += l;
    run = i;
  }
  hvkvp_buf_append(b, s + run, n - run);
}

int hvkvp_json_put_string(hvkvp_buf_t *b, const char *s, size_t n) {
  size_t i, run = 0;
  hvkvp_buf_append(b, "\"", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char tmp[8];
    if (c == '"')
      esc = "\\\"";
    else if (c == '\\')
      esc = "\\\\";
    else if (c == '\n')
      esc = "\\n";
    else if (c == '\r')
      esc = "\\r";
    else if (c == '\t')
      esc = "\\t";
    else if (c < 0x20) {
      snprintf(tmp, sizeof(tmp), "\\u%04x", c);
      esc = tmp;
    }
    if (esc != NULL) {
      put_ascii(b, s + run, i - run);
      hvkvp_buf_puts(b, esc);
      run = i + 1;
    }
  }
  put_ascii(b, s + run, n - run);
  hvkvp_buf_append(b, "\"", 1);
  return b->oom ? -1 : 0;
}

static void print_cb(void *ctx, const char *s, size_t n) {
  put_ascii((hvkvp_buf_t *)ctx, s, n);
}

/* Shortest decimal text that strtod reads back as exactly d. */
static void fmt_double(char *buf, size_t sz, double d) {
  int prec;
  for (prec = 15; prec <= 17; prec++) {
    snprintf(buf, sz, "%.*g", prec, d);
    if (strtod(buf, NULL) == d)
      return;
  }
}

/* Decimal text of v (snprintf is a large part of the encode cost). */
static void fmt_u64(char *buf, uint64_t v, int neg) {
  char tmp[24];
  size_t n = 0, i = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  if (neg)
    buf[i++] = '-';
  while (n > 0)
    buf[i++] = tmp[--n];
  buf[i] = '\0';
}

static void fmt_i64(char *buf, int64_t v) {
  if (v < 0)
    fmt_u64(buf, (uint64_t)0 - (uint64_t)v, 1);
  else
    fmt_u64(buf, (uint64_t)v, 0);
}

typedef struct {
  yajl_gen g;
  int bad; /* a yajl_gen call failed */
} gen_t;

static void g_str(gen_t *w, const char *s) {
  if (yajl_gen_string(w->g, (const unsigned char *)s, strlen(s)) !=
      yajl_gen_status_ok)
    w->bad = 1;
}

static void g_num(gen_t *w, const char *text) {
  if (yajl_gen_number(w->g, text, strlen(text)) != yajl_gen_status_ok)
    w->bad = 1;
}

static void g_kv(gen_t *w, const char *k, const char *v) {
  g_str(w, k);
  g_str(w, v);
}

static void g_ok(gen_t *w, yajl_gen_status st) {
  if (st != yajl_gen_status_ok)
    w->bad = 1;
}

/* Checks a fixed-size string field is NUL-terminated within the field. */
static int field_ok(const char *s, size_t sz) {
  return hvkvp_strnlen(s, sz) < sz;
}

static int check_vl(const hvkvp_vl_t *vl, size_t idx, hvkvp_err_t *err) {
  size_t i;
  if (!field_ok(vl->plugin, sizeof(vl->plugin)) ||
      !field_ok(vl->plugin_instance, sizeof(vl->plugin_instance)) ||
      !field_ok(vl->type, sizeof(vl->type)) ||
      !field_ok(vl->type_instance, sizeof(vl->type_instance)))
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "value list %zu: a name is not NUL-terminated", idx);
  if (vl->plugin[0] == '\0' || vl->type[0] == '\0')
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "value list %zu: plugin and type must not be empty",
                         idx);
  if (vl->n < 1 || vl->n > HVKVP_MAX_DS)
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "value list %zu (%s/%s): %zu data sources, must be "
                         "1..%d",
                         idx, vl->plugin, vl->type, vl->n, HVKVP_MAX_DS);
  for (i = 0; i < vl->n; i++) {
    if ((int)vl->dstypes[i] < HVKVP_DS_GAUGE ||
        (int)vl->dstypes[i] > HVKVP_DS_ABSOLUTE)
      return hvkvp_err_set(err, HVKVP_E_ARG,
                           "value list %zu (%s/%s): data source %zu has "
                           "invalid type %d",
                           idx, vl->plugin, vl->type, i, (int)vl->dstypes[i]);
    if (!field_ok(vl->dsnames[i], sizeof(vl->dsnames[i])) ||
        vl->dsnames[i][0] == '\0')
      return hvkvp_err_set(err, HVKVP_E_ARG,
                           "value list %zu (%s/%s): data source %zu has an "
                           "empty or unterminated name",
                           idx, vl->plugin, vl->type, i);
  }
  return 0;
}

static int check_msg(const hvkvp_msg_t *m, size_t n_vls, hvkvp_err_t *err) {
  size_t i, j;
  int rc;
  if (!field_ok(m->host, sizeof(m->host)) ||
      !field_ok(m->config, sizeof(m->config)) ||
      !field_ok(m->config_error, sizeof(m->config_error)))
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "host, config or config_error is not NUL-terminated");
  if (!isfinite(m->time) || m->time < 0 || m->time > 1e12)
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "time %g is not in [0, 1e12] unix seconds", m->time);
  if (!isfinite(m->interval) || m->interval <= 0 || m->interval > 1e9)
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "interval %g is not in (0, 1e9] seconds", m->interval);
  if (m->n_tags > HVKVP_MAX_TAGS)
    return hvkvp_err_set(err, HVKVP_E_ARG, "%zu tags, at most %d allowed",
                         m->n_tags, HVKVP_MAX_TAGS);
  for (i = 0; i < m->n_tags; i++) {
    const hvkvp_tag_t *t = &m->tags[i];
    if (!field_ok(t->key, sizeof(t->key)) ||
        !field_ok(t->value, sizeof(t->value)) || t->key[0] == '\0')
      return hvkvp_err_set(err, HVKVP_E_ARG,
                           "tag %zu: empty or unterminated key or value", i);
    for (j = 0; j < i; j++)
      if (strcmp(m->tags[j].key, t->key) == 0)
        return hvkvp_err_set(err, HVKVP_E_ARG, "tag \"%s\" appears twice",
                             t->key);
  }
  if (n_vls > HVKVP_MAX_VALUE_LISTS || n_vls > m->n_vls ||
      (n_vls > 0 && m->vls == NULL))
    return hvkvp_err_set(err, HVKVP_E_ARG, "invalid value list count %zu",
                         n_vls);
  for (i = 0; i < n_vls; i++)
    if ((rc = check_vl(&m->vls[i], i, err)) != 0)
      return rc;
  return 0;
}

static void gen_vl(gen_t *w, const hvkvp_vl_t *vl) {
  size_t i;
  char num[48];
  g_ok(w, yajl_gen_map_open(w->g));
  g_str(w, "values");
  g_ok(w, yajl_gen_array_open(w->g));
  for (i = 0; i < vl->n; i++) {
    switch (vl->dstypes[i]) {
    case HVKVP_DS_GAUGE:
      if (!isfinite(vl->values[i].gauge)) {
        g_ok(w, yajl_gen_null(w->g));
        continue;
      }
      fmt_double(num, sizeof(num), vl->values[i].gauge);
      break;
    case HVKVP_DS_DERIVE:
      fmt_i64(num, vl->values[i].derive);
      break;
    case HVKVP_DS_COUNTER:
      fmt_u64(num, vl->values[i].counter, 0);
      break;
    default:
      fmt_u64(num, vl->values[i].absolute, 0);
      break;
    }
    g_num(w, num);
  }
  g_ok(w, yajl_gen_array_close(w->g));
  g_str(w, "dstypes");
  g_ok(w, yajl_gen_array_open(w->g));
  for (i = 0; i < vl->n; i++)
    g_str(w, ds_names[vl->dstypes[i]]);
  g_ok(w, yajl_gen_array_close(w->g));
  g_str(w, "dsnames");
  g_ok(w, yajl_gen_array_open(w->g));
  for (i = 0; i < vl->n; i++)
    g_str(w, vl->dsnames[i]);
  g_ok(w, yajl_gen_array_close(w->g));
  g_kv(w, "plugin", vl->plugin);
  g_kv(w, "plugin_instance", vl->plugin_instance);
  g_kv(w, "type", vl->type);
  g_kv(w, "type_instance", vl->type_instance);
  g_ok(w, yajl_gen_map_close(w->g));
}

int hvkvp_json_write(const hvkvp_msg_t *m, size_t n_vls, uint32_t trimmed,
                     hvkvp_buf_t *out, hvkvp_err_t *err) {
  gen_t w;
  char num[48];
  size_t i;
  int rc;
  if ((rc = check_msg(m, n_vls, err)) != 0)
    return rc;
  w.bad = 0;
  w.g = yajl_gen_alloc(NULL);
  if (w.g == NULL)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory (yajl_gen)");
  yajl_gen_config(w.g, yajl_gen_print_callback, print_cb, (void *)out);
  g_ok(&w, yajl_gen_map_open(w.g));
  g_str(&w, "v");
  g_num(&w, "1");
  g_kv(&w, "host", m->host);
  g_str(&w, "time");
  snprintf(num, sizeof(num), "%.3f", m->time);
  g_num(&w, num);
  g_str(&w, "interval");
  fmt_double(num, sizeof(num), m->interval);
  g_num(&w, num);
  g_str(&w, "seq");
  snprintf(num, sizeof(num), "%" PRIu64, m->seq);
  g_num(&w, num);
  g_kv(&w, "config", m->config);
  if (m->config_error[0] != '\0')
    g_kv(&w, "config_error", m->config_error);
  if (trimmed > 0) {
    g_str(&w, "trimmed");
    snprintf(num, sizeof(num), "%" PRIu32, trimmed);
    g_num(&w, num);
  }
  if (m->n_tags > 0) {
    g_str(&w, "tags");
    g_ok(&w, yajl_gen_map_open(w.g));
    for (i = 0; i < m->n_tags; i++)
      g_kv(&w, m->tags[i].key, m->tags[i].value);
    g_ok(&w, yajl_gen_map_close(w.g));
  }
  g_str(&w, "values");
  g_ok(&w, yajl_gen_array_open(w.g));
  for (i = 0; i < n_vls; i++)
    gen_vl(&w, &m->vls[i]);
  g_ok(&w, yajl_gen_array_close(w.g));
  g_ok(&w, yajl_gen_map_close(w.g));
  yajl_gen_free(w.g);
  if (out->oom)
    return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory writing JSON");
  if (w.bad)
    return hvkvp_err_set(err, HVKVP_E_ARG, "yajl_gen refused the message");
  return 0;
}

int hvkvp_msg_to_json(const hvkvp_msg_t *m, char **out, size_t *len) {
  hvkvp_buf_t b;
  int rc;
  if (m == NULL || out == NULL)
    return HVKVP_E_ARG;
  hvkvp_buf_init(&b);
  rc = hvkvp_json_write(m, m->n_vls, m->trimmed, &b, NULL);
  if (rc != 0) {
    hvkvp_buf_free(&b);
    return rc;
  }
  *out = b.data;
  if (len != NULL)
    *len = b.len;
  return 0;
}
