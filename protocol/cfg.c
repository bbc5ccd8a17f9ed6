/*
 * cfg.c - the host -> guest configuration contract (PROTOCOL.md section 11),
 * written once for every party: the host plugin builds the PREFIX.cfg.*
 * items and their id from a hvkvp_cfg_t, the guest (reporter, write_hvkvp)
 * reads and validates them back, and hvkvp-codec exposes both to the
 * simulator. Values are checked by the same functions on both sides, so the
 * two cannot drift apart.
 */
#include "hvkvp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hvkvp_cfg_init(hvkvp_cfg_t *c) {
  memset(c, 0, sizeof(*c));
}

static int cfg_name_char(char ch, int tag_key) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')
    return 1;
  return tag_key && (ch == '.' || ch == ':');
}

int hvkvp_cfg_parse_interval(const char *v, double *out, hvkvp_err_t *err) {
  /* strict decimal: 1*DIGIT ["." 1*DIGIT]; no sign, space, hex, exponent */
  size_t i = 0, int_digits = 0, frac_digits = 0;
  double val = 0, scale = 1;
  while (v[i] >= '0' && v[i] <= '9' && int_digits < 8) {
    val = val * 10 + (v[i] - '0');
    i++;
    int_digits++;
  }
  if (v[i] == '.') {
    i++;
    while (v[i] >= '0' && v[i] <= '9' && frac_digits < 6) {
      scale /= 10;
      val += (v[i] - '0') * scale;
      i++;
      frac_digits++;
    }
    if (frac_digits == 0)
      int_digits = 0; /* "5." is not a number */
  }
  if (int_digits == 0 || v[i] != '\0' || val < HVKVP_CFG_INTERVAL_MIN ||
      val > HVKVP_CFG_INTERVAL_MAX)
    return hvkvp_err_set(err, HVKVP_E_ARG, "\"%.32s\" is not seconds %d..%d", v,
                         HVKVP_CFG_INTERVAL_MIN, HVKVP_CFG_INTERVAL_MAX);
  *out = val;
  return 0;
}

/* Calls fn on each word of a list separated by spaces, commas or tabs. */
static int cfg_words(const char *list,
                     int (*fn)(const char *w, size_t n, void *arg,
                               hvkvp_err_t *err),
                     void *arg, hvkvp_err_t *err) {
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',' || *p == '\t')
      p++;
    const char *s = p;
    while (*p && *p != ' ' && *p != ',' && *p != '\t')
      p++;
    if (p > s) {
      int rc = fn(s, (size_t)(p - s), arg, err);
      if (rc != 0)
        return rc;
    }
  }
  return 0;
}

static int cfg_word_is(const char *w, size_t n, void *arg, hvkvp_err_t *err) {
  (void)err;
  const char *name = arg;
  return strlen(name) == n && strncmp(w, name, n) == 0; /* 1 stops */
}

int hvkvp_cfg_list_has(const char *list, const char *name) {
  return name[0] != '\0' && cfg_words(list, cfg_word_is, (void *)name, NULL);
}

typedef struct {
  char *out;
  size_t len, cap, n;
} cfg_join_t;

static int cfg_collector_word(const char *w, size_t n, void *arg,
                              hvkvp_err_t *err) {
  cfg_join_t *j = arg;
  for (size_t i = 0; i < n; i++)
    if (!cfg_name_char(w[i], 0) || n >= HVKVP_NAME_LEN)
      return hvkvp_err_set(err, HVKVP_E_ARG,
                           "collector \"%.*s\" is not 1..127 characters of "
                           "[A-Za-z0-9_-]",
                           (int)(n < 40 ? n : 40), w);
  if (j->len + n + 2 > j->cap)
    return hvkvp_err_set(err, HVKVP_E_TOO_BIG, "longer than %d bytes",
                         HVKVP_CFG_LIST_LEN - 1);
  if (j->len > 0)
    j->out[j->len++] = ' ';
  memcpy(j->out + j->len, w, n);
  j->len += n;
  j->out[j->len] = '\0';
  j->n++;
  return 0;
}

int hvkvp_cfg_parse_collectors(const char *v, hvkvp_cfg_t *c,
                               hvkvp_err_t *err) {
  char list[HVKVP_CFG_LIST_LEN];
  cfg_join_t j = {list, 0, sizeof(list), 0};
  list[0] = '\0';
  int rc = cfg_words(v, cfg_collector_word, &j, err);
  if (rc != 0)
    return rc;
  if (j.n == 0)
    return hvkvp_err_set(err, HVKVP_E_ARG, "names no collector");
  memcpy(c->collectors, list, j.len + 1);
  c->has_collectors = 1;
  return 0;
}

/* One "key=value" of a tags list (n bytes at s). */
static int cfg_tag(const char *s, size_t n, hvkvp_cfg_t *c, hvkvp_err_t *err) {
  const char *eq = memchr(s, '=', n);
  if (eq == NULL || eq == s)
    return hvkvp_err_set(err, HVKVP_E_ARG, "\"%.*s\" is not key=value",
                         (int)(n < 40 ? n : 40), s);
  size_t kn = (size_t)(eq - s), vn = n - kn - 1;
  for (size_t i = 0; i < kn; i++)
    if (!cfg_name_char(s[i], 1) || kn >= HVKVP_NAME_LEN)
      return hvkvp_err_set(err, HVKVP_E_ARG,
                           "key \"%.*s\" is not 1..127 characters of "
                           "[A-Za-z0-9_.:-]",
                           (int)(kn < 40 ? kn : 40), s);
  if (vn >= HVKVP_NAME_LEN)
    return hvkvp_err_set(err, HVKVP_E_ARG, "value of %.*s longer than %d bytes",
                         (int)kn, s, HVKVP_NAME_LEN - 1);
  for (size_t i = 0; i < vn; i++) {
    unsigned char ch = (unsigned char)eq[1 + i];
    if (ch < 0x20 || ch > 0x7e || ch == '=')
      return hvkvp_err_set(err, HVKVP_E_ARG,
                           "value of %.*s has a forbidden character", (int)kn,
                           s);
  }
  for (size_t i = 0; i < c->n_tags; i++)
    if (strlen(c->tags[i].key) == kn && memcmp(c->tags[i].key, s, kn) == 0)
      return hvkvp_err_set(err, HVKVP_E_ARG, "key %.*s given twice", (int)kn,
                           s);
  if (c->n_tags == HVKVP_MAX_TAGS)
    return hvkvp_err_set(err, HVKVP_E_TOO_BIG, "more than %d tags",
                         HVKVP_MAX_TAGS);
  hvkvp_tag_t *t = &c->tags[c->n_tags++];
  memcpy(t->key, s, kn);
  t->key[kn] = '\0';
  memcpy(t->value, eq + 1, vn);
  t->value[vn] = '\0';
  return 0;
}

int hvkvp_cfg_parse_tags(const char *v, hvkvp_cfg_t *c, hvkvp_err_t *err) {
  hvkvp_cfg_t tmp = *c;
  tmp.n_tags = 0;
  const char *p = v;
  while (*p) {
    while (*p == ' ')
      p++;
    size_t n = strcspn(p, ",");
    while (n > 0 && p[n - 1] == ' ')
      n--;
    if (n > 0) {
      int rc = cfg_tag(p, n, &tmp, err);
      if (rc != 0)
        return rc;
    }
    p += strcspn(p, ",");
    if (*p == ',')
      p++;
  }
  if (tmp.n_tags == 0)
    return hvkvp_err_set(err, HVKVP_E_ARG, "holds no tag");
  c->n_tags = tmp.n_tags;
  memcpy(c->tags, tmp.tags, sizeof(c->tags));
  c->has_tags = 1;
  return 0;
}

static int cfg_id_check(const char *v, hvkvp_err_t *err) {
  size_t n = hvkvp_strnlen(v, HVKVP_NAME_LEN);
  if (n == 0 || n >= HVKVP_NAME_LEN)
    return hvkvp_err_set(err, HVKVP_E_ARG, "want 1-%d characters",
                         HVKVP_NAME_LEN - 1);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
      return hvkvp_err_set(err, HVKVP_E_ARG, "non-printable character");
  return 0;
}

/* Prefixes err's detail with "item KEY: ". */
static int cfg_item_err(hvkvp_err_t *err, int rc, const char *key) {
  if (err != NULL) {
    char d[sizeof(err->detail)];
    snprintf(d, sizeof(d), "%s", err->detail);
    hvkvp_err_set(err, (hvkvp_rc_t)rc, "item %s: %s", key, d);
  }
  return rc;
}

int hvkvp_cfg_read(const hvkvp_items_t *items, const char *prefix,
                   hvkvp_cfg_t *out, hvkvp_err_t *err) {
  char pfx[HVKVP_PREFIX_LEN + 8];
  hvkvp_cfg_init(out);
  int rc = hvkvp_prefix_check(prefix, err);
  if (rc != 0)
    return rc;
  int pl = snprintf(pfx, sizeof(pfx), "%s.cfg.", prefix);
  for (size_t i = 0; items != NULL && i < items->n; i++) {
    const char *k = items->v[i].key, *v = items->v[i].value;
    if (strncmp(k, pfx, (size_t)pl) != 0)
      continue;
    const char *name = k + pl;
    out->present = 1;
    if (strcmp(name, "id") == 0) {
      rc = cfg_id_check(v, err);
      if (rc == 0)
        memcpy(out->id, v, strlen(v) + 1);
    } else if (strcmp(name, "interval") == 0) {
      rc = hvkvp_cfg_parse_interval(v, &out->interval, err);
    } else if (strcmp(name, "collectors") == 0) {
      rc = hvkvp_cfg_parse_collectors(v, out, err);
    } else if (strcmp(name, "tags") == 0) {
      rc = hvkvp_cfg_parse_tags(v, out, err);
    } /* else: a setting of a newer host, ignored (PROTOCOL.md 11) */
    if (rc != 0)
      return cfg_item_err(err, rc, k);
  }
  if (out->present && out->id[0] == '\0')
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "item %sid missing: a pushed config needs an id", pfx);
  return 0;
}

static int cfg_item_cmp(const void *a, const void *b) {
  return strcmp(((const hvkvp_item_t *)a)->key, ((const hvkvp_item_t *)b)->key);
}

/* The id: the first 12 hex digits of FNV-1a 64 over the sorted
 * "key=value\n" lines of the other items. */
static int cfg_id(const hvkvp_items_t *it, char id[HVKVP_CFG_ID_LEN]) {
  hvkvp_item_t *sorted = malloc((it->n ? it->n : 1) * sizeof(*sorted));
  if (sorted == NULL)
    return -1;
  memcpy(sorted, it->v, it->n * sizeof(*sorted));
  qsort(sorted, it->n, sizeof(*sorted), cfg_item_cmp);
  uint64_t h = HVKVP_FNV1A64_INIT;
  for (size_t i = 0; i < it->n; i++) {
    h = hvkvp_fnv1a64(h, sorted[i].key, strlen(sorted[i].key));
    h = hvkvp_fnv1a64(h, "=", 1);
    h = hvkvp_fnv1a64(h, sorted[i].value, strlen(sorted[i].value));
    h = hvkvp_fnv1a64(h, "\n", 1);
  }
  free(sorted);
  snprintf(id, HVKVP_CFG_ID_LEN, "%012llx", (unsigned long long)(h >> 16));
  return 0;
}

/* Writes an interval as the shortest strict decimal (at most 3 decimals). */
static void cfg_format_interval(double v, char *buf, size_t sz) {
  snprintf(buf, sz, "%.3f", v);
  char *dot = strchr(buf, '.');
  if (dot == NULL)
    return;
  char *e = buf + strlen(buf);
  while (e > dot + 1 && e[-1] == '0')
    *--e = '\0';
  if (e == dot + 1)
    *dot = '\0';
}

int hvkvp_cfg_items(const hvkvp_cfg_t *c, const char *prefix,
                    hvkvp_items_t *out, char id[HVKVP_CFG_ID_LEN],
                    hvkvp_err_t *err) {
  char key[HVKVP_KEY_LEN], val[HVKVP_VALUE_LEN];
  hvkvp_items_init(out);
  int rc = hvkvp_prefix_check(prefix, err);
  if (rc != 0)
    return rc;
  if (c->interval != 0) {
    double chk;
    cfg_format_interval(c->interval, val, sizeof(val));
    rc = hvkvp_cfg_parse_interval(val, &chk, err);
    if (rc != 0)
      return rc;
    snprintf(key, sizeof(key), "%s.cfg.interval", prefix);
    if (hvkvp_items_set(out, key, val) != 0)
      goto nomem;
  }
  if (c->has_collectors) {
    snprintf(key, sizeof(key), "%s.cfg.collectors", prefix);
    if (hvkvp_items_set(out, key, c->collectors) != 0)
      goto nomem;
  }
  if (c->has_tags) {
    size_t o = 0;
    val[0] = '\0';
    for (size_t i = 0; i < c->n_tags && o < sizeof(val); i++)
      o += (size_t)snprintf(val + o, sizeof(val) - o, "%s%s=%s", i ? "," : "",
                            c->tags[i].key, c->tags[i].value);
    if (o >= sizeof(val)) {
      hvkvp_items_free(out);
      return hvkvp_err_set(err, HVKVP_E_TOO_BIG,
                           "tags longer than %d bytes (a KVP value)",
                           HVKVP_VALUE_LEN - 1);
    }
    snprintf(key, sizeof(key), "%s.cfg.tags", prefix);
    if (hvkvp_items_set(out, key, val) != 0)
      goto nomem;
  }
  if (out->n == 0)
    return hvkvp_err_set(err, HVKVP_E_ARG,
                         "a configuration sets none of interval, collectors, "
                         "tags");
  if (cfg_id(out, id) != 0)
    goto nomem;
  snprintf(key, sizeof(key), "%s.cfg.id", prefix);
  if (hvkvp_items_set(out, key, id) != 0)
    goto nomem;
  return 0;
nomem:
  hvkvp_items_free(out);
  return hvkvp_err_set(err, HVKVP_E_NOMEM, "out of memory building items");
}
