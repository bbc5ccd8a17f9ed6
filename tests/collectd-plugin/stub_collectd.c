/*
 * stub_collectd.c - stand-ins for the collectd daemon functions the plugin
 * calls, for unit tests (Debian ships no plugin mock). Value lists are
 * captured; plugin_get_ds answers from the real /usr/share/collectd/types.db
 * so type checks meet collectd's real types.
 */
#include "stubs.h"

#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"
#include "collectd/core/utils/metadata/meta_data.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cap_vl_t cap_vls[CAP_MAX_VLS];
size_t cap_n;
int cap_log_n[8];
char cap_log[65536];
int cap_complain_n, cap_release_n;
int cap_notif_n;
char cap_notif_msg[256];
char cap_notif_meta[1024];
int cap_meta_live;

void cap_reset(void) {
  cap_n = 0;
  memset(cap_log_n, 0, sizeof(cap_log_n));
  cap_log[0] = '\0';
  cap_complain_n = cap_release_n = 0;
  cap_notif_n = 0;
  cap_notif_msg[0] = cap_notif_meta[0] = '\0';
}

static int cap_eq(const char *want, const char *have) {
  return want == NULL || strcmp(want, have) == 0;
}

const cap_vl_t *cap_find(const char *host, const char *plugin,
                         const char *pinst, const char *type,
                         const char *tinst) {
  for (size_t i = cap_n; i-- > 0;) {
    const value_list_t *vl = &cap_vls[i].vl;
    if (cap_eq(host, vl->host) && cap_eq(plugin, vl->plugin) &&
        cap_eq(pinst, vl->plugin_instance) && cap_eq(type, vl->type) &&
        cap_eq(tinst, vl->type_instance))
      return &cap_vls[i];
  }
  return NULL;
}

size_t cap_count_host(const char *host) {
  size_t n = 0;
  for (size_t i = 0; i < cap_n; i++)
    n += strcmp(cap_vls[i].vl.host, host) == 0;
  return n;
}

/* ---- meta data: a small list ---- */
struct meta_data_s {
  size_t n;
  char k[CAP_MAX_META][128];
  char v[CAP_MAX_META][128];
};

meta_data_t *meta_data_create(void) {
  cap_meta_live++;
  return calloc(1, sizeof(meta_data_t));
}

void meta_data_destroy(meta_data_t *md) {
  if (md != NULL)
    cap_meta_live--;
  free(md);
}

int meta_data_add_string(meta_data_t *md, const char *key, const char *value) {
  if (md->n >= CAP_MAX_META)
    return -1;
  snprintf(md->k[md->n], 128, "%s", key);
  snprintf(md->v[md->n], 128, "%s", value);
  md->n++;
  return 0;
}

int plugin_dispatch_values(value_list_t const *vl) {
  if (cap_n >= CAP_MAX_VLS || vl->values_len > 16)
    return -1;
  cap_vl_t *c = &cap_vls[cap_n++];
  memset(c, 0, sizeof(*c));
  c->vl = *vl;
  memcpy(c->values, vl->values, vl->values_len * sizeof(value_t));
  c->vl.values = c->values;
  c->vl.meta = NULL;
  if (vl->meta != NULL) {
    c->n_meta = vl->meta->n;
    memcpy(c->meta_k, vl->meta->k, sizeof(c->meta_k));
    memcpy(c->meta_v, vl->meta->v, sizeof(c->meta_v));
  }
  return 0;
}

/* ---- types.db ---- */
#define TDB_MAX 1024
static data_set_t tdb[TDB_MAX];
static size_t tdb_n;
static int tdb_loaded;

static int tdb_type(const char *s) {
  if (strcmp(s, "GAUGE") == 0)
    return DS_TYPE_GAUGE;
  if (strcmp(s, "DERIVE") == 0)
    return DS_TYPE_DERIVE;
  if (strcmp(s, "COUNTER") == 0)
    return DS_TYPE_COUNTER;
  return DS_TYPE_ABSOLUTE;
}

static void tdb_load(void) {
  tdb_loaded = 1;
  FILE *fh = fopen("/usr/share/collectd/types.db", "r");
  if (fh == NULL) {
    fprintf(stderr, "stub: cannot open /usr/share/collectd/types.db\n");
    abort(); /* a missing prerequisite fails the test loudly */
  }
  char line[1024];
  while (fgets(line, sizeof(line), fh) != NULL && tdb_n < TDB_MAX) {
    char *save = NULL;
    char *name = strtok_r(line, " \t\n", &save);
    if (name == NULL || name[0] == '#')
      continue;
    data_set_t *ds = &tdb[tdb_n];
    snprintf(ds->type, sizeof(ds->type), "%s", name);
    ds->ds = calloc(16, sizeof(data_source_t));
    for (char *d = strtok_r(NULL, " \t\n,", &save);
         d != NULL && ds->ds_num < 16; d = strtok_r(NULL, " \t\n,", &save)) {
      char *c1 = strchr(d, ':');
      if (c1 == NULL)
        continue;
      *c1 = '\0';
      char *c2 = strchr(c1 + 1, ':');
      if (c2 != NULL)
        *c2 = '\0';
      data_source_t *src = &ds->ds[ds->ds_num++];
      snprintf(src->name, sizeof(src->name), "%s", d);
      src->type = tdb_type(c1 + 1);
    }
    tdb_n++;
  }
  fclose(fh);
}

const data_set_t *plugin_get_ds(const char *name) {
  if (!tdb_loaded)
    tdb_load();
  for (size_t i = 0; i < tdb_n; i++)
    if (strcmp(tdb[i].type, name) == 0)
      return &tdb[i];
  return NULL;
}

/* ---- log, complaints ---- */
static void cap_vlog(int level, const char *fmt, va_list ap) {
  char line[1024];
  vsnprintf(line, sizeof(line), fmt, ap);
  if (level >= 0 && level < 8)
    cap_log_n[level]++;
  size_t off = strlen(cap_log);
  snprintf(cap_log + off, sizeof(cap_log) - off, "%s\n", line);
  if (getenv("STUB_LOG") != NULL)
    fprintf(stderr, "log[%d]: %s\n", level, line);
}

void plugin_log(int level, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  cap_vlog(level, format, ap);
  va_end(ap);
}

/* Like collectd's: report, then only after the back-off interval. The tests
 * never let the interval pass, so a complaint is logged once. */
void c_complain(int level, c_complain_t *c, const char *format, ...) {
  cap_complain_n++;
  if (c->interval != 0)
    return;
  c->interval = 1;
  va_list ap;
  va_start(ap, format);
  cap_vlog(level, format, ap);
  va_end(ap);
}

/* Like collectd's: once, until released. */
void c_complain_once(int level, c_complain_t *c, const char *format, ...) {
  cap_complain_n++;
  if (c->complained_once)
    return;
  c->complained_once = true;
  c->interval = 1;
  va_list ap;
  va_start(ap, format);
  cap_vlog(level, format, ap);
  va_end(ap);
}

void c_do_release(int level, c_complain_t *c, const char *format, ...) {
  cap_release_n++;
  c->interval = 0;
  c->complained_once = false;
  va_list ap;
  va_start(ap, format);
  cap_vlog(level, format, ap);
  va_end(ap);
}

char *sstrncpy(char *dest, const char *src, size_t n) {
  if (n == 0)
    return dest;
  strncpy(dest, src, n - 1);
  dest[n - 1] = '\0';
  return dest;
}

/* ---- notifications ---- */
int plugin_notification_meta_add_string(notification_t *n, const char *name,
                                        const char *value) {
  notification_meta_t *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return -1;
  snprintf(m->name, sizeof(m->name), "%s", name);
  m->type = NM_TYPE_STRING;
  m->nm_value.nm_string = strdup(value);
  m->next = n->meta;
  n->meta = m;
  return 0;
}

int plugin_notification_meta_free(notification_meta_t *n) {
  while (n != NULL) {
    notification_meta_t *next = n->next;
    free((char *)n->nm_value.nm_string);
    free(n);
    n = next;
  }
  return 0;
}

int plugin_dispatch_notification(const notification_t *notif) {
  cap_notif_n++;
  snprintf(cap_notif_msg, sizeof(cap_notif_msg), "%s", notif->message);
  cap_notif_meta[0] = '\0';
  for (const notification_meta_t *m = notif->meta; m != NULL; m = m->next) {
    size_t off = strlen(cap_notif_meta);
    snprintf(cap_notif_meta + off, sizeof(cap_notif_meta) - off, "%s=%s;",
             m->name, m->nm_value.nm_string);
  }
  return 0;
}
