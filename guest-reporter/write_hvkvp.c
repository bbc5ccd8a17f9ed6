/*
 * write_hvkvp.c - write_hvkvp, a collectd write plugin for Linux guests:
 * whatever the guest's collectd collects is published through the Hyper-V
 * KVP exchange with the hvkvp protocol, as hvkvp-reporter does, from the
 * same pieces (hvkvp_guest: the pool store with its locking and crash-safe
 * write order, the publisher, the pushed config; message_batch.c).
 *
 * Write callbacks (collectd's write threads) put each value list into the
 * batch of the next message. One thread of ours publishes: half an
 * interval after the first value list of a round arrives, then every
 * interval (the effective one: pushed, else the Interval option, else
 * collectd's), so a round of reads lands in one message. A flush publishes
 * at once; shutdown publishes what is left. Before each message the
 * host-pushed config (pool 0) is read: Interval and Tags apply, the id is
 * echoed in "config", pushed Collectors are refused in "config_error".
 * See write_hvkvp.md.
 */
#include "collectd/core/daemon/plugin.h"
#include "collectd/core/daemon/utils_complain.h"
#include "collectd/core/utils/common/common.h"

#include "log.h"
#include "message_batch.h"
#include "publisher.h"
#include "pushed.h"
#include "store.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define WH_NAME "write_hvkvp"
#define WH_MAX_FILTER 64

typedef struct {
  /* options */
  char store_spec[1024];
  char prefix[HVKVP_PREFIX_LEN];
  double interval; /* seconds; 0: collectd's */
  double collectd_interval;
  size_t max_vls;
  char include[WH_MAX_FILTER][DATA_MAX_NAME_LEN];
  size_t n_include;
  char exclude[WH_MAX_FILTER][DATA_MAX_NAME_LEN];
  size_t n_exclude;
  hvkvp_cfg_t tags; /* the Tags option (n_tags, tags) */
  /* running state: the batch under lock, the rest the thread's */
  hvkvp_store_t *store;
  publisher_t pub;
  pushed_t pushed;
  mbatch_t batch;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t thread;
  int running, stop, flush;
  int trimming; /* the last message left value lists out */
} wh_t;

static wh_t wh = {.prefix = "hvkvp",
                  .store_spec = "pool",
                  .max_vls = HVKVP_MAX_VALUE_LISTS,
                  .lock = PTHREAD_MUTEX_INITIALIZER,
                  .cond = PTHREAD_COND_INITIALIZER};

/* ---- log: the guest log goes to collectd's ---- */

static void wh_log_sink(int level, const char *msg) {
  static const int sev[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
  plugin_log(sev[level < 0   ? 0
                 : level > 3 ? 3
                             : level],
             WH_NAME " plugin: %s", msg);
}

/* ---- options ---- */

static int wh_prefix_ok(const char *p) {
  size_t n = strlen(p);
  return n > 0 && n < HVKVP_PREFIX_LEN &&
         strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_-") == n;
}

static int wh_bad(const oconfig_item_t *ci, const char *want) {
  ERROR(WH_NAME " plugin: option %s: %s", ci->key, want);
  return -1;
}

static int wh_opt_store(const oconfig_item_t *ci) {
  char v[sizeof(wh.store_spec)];
  if (cf_util_get_string_buffer(ci, v, sizeof(v)) != 0 ||
      (strcmp(v, "pool") != 0 && (strncmp(v, "pool:", 5) != 0 || !v[5])))
    return wh_bad(ci, "want \"pool\" or \"pool:DIR\"");
  sstrncpy(wh.store_spec, v, sizeof(wh.store_spec));
  return 0;
}

static int wh_opt_prefix(const oconfig_item_t *ci) {
  char v[HVKVP_PREFIX_LEN + 1];
  if (cf_util_get_string_buffer(ci, v, sizeof(v)) != 0 || !wh_prefix_ok(v))
    return wh_bad(ci, "want 1-63 characters of [A-Za-z0-9_-]");
  sstrncpy(wh.prefix, v, sizeof(wh.prefix));
  return 0;
}

static int wh_opt_interval(const oconfig_item_t *ci) {
  double d;
  if (cf_util_get_double(ci, &d) != 0 || !(d >= 1 && d <= 3600))
    return wh_bad(ci, "want seconds, 1 to 3600");
  wh.interval = d;
  return 0;
}

static int wh_opt_max_vls(const oconfig_item_t *ci) {
  double d;
  if (cf_util_get_double(ci, &d) != 0 || !(d >= 1) ||
      d > HVKVP_MAX_VALUE_LISTS || d != (double)(size_t)d)
    return wh_bad(ci, "want an integer, 1 to 4096");
  wh.max_vls = (size_t)d;
  return 0;
}

/* Include / Exclude "plugin" ["plugin" ...], repeatable. */
static int wh_opt_filter(const oconfig_item_t *ci,
                         char (*list)[DATA_MAX_NAME_LEN], size_t *n) {
  if (ci->values_num < 1)
    return wh_bad(ci, "want one or more plugin names");
  for (int i = 0; i < ci->values_num; i++) {
    const oconfig_value_t *v = &ci->values[i];
    if (v->type != OCONFIG_TYPE_STRING || v->value.string[0] == '\0' ||
        strlen(v->value.string) >= DATA_MAX_NAME_LEN)
      return wh_bad(ci, "want plugin names (strings)");
    if (*n == WH_MAX_FILTER)
      return wh_bad(ci, "more than 64 plugin names");
    sstrncpy(list[(*n)++], v->value.string, DATA_MAX_NAME_LEN);
  }
  return 0;
}

static int wh_opt_tags(const oconfig_item_t *ci) {
  char v[HVKVP_MAX_TAGS * 2 * HVKVP_NAME_LEN];
  hvkvp_err_t e;
  if (cf_util_get_string_buffer(ci, v, sizeof(v)) != 0)
    return wh_bad(ci, "want \"key=value,key=value\"");
  hvkvp_cfg_init(&wh.tags);
  if (hvkvp_cfg_parse_tags(v, &wh.tags, &e) != 0)
    return wh_bad(ci, e.detail);
  return 0;
}

static int wh_config(oconfig_item_t *ci) {
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *c = &ci->children[i];
    int rc;
    if (strcasecmp(c->key, "Store") == 0)
      rc = wh_opt_store(c);
    else if (strcasecmp(c->key, "Prefix") == 0)
      rc = wh_opt_prefix(c);
    else if (strcasecmp(c->key, "Interval") == 0)
      rc = wh_opt_interval(c);
    else if (strcasecmp(c->key, "MaxValueLists") == 0)
      rc = wh_opt_max_vls(c);
    else if (strcasecmp(c->key, "Include") == 0)
      rc = wh_opt_filter(c, wh.include, &wh.n_include);
    else if (strcasecmp(c->key, "Exclude") == 0)
      rc = wh_opt_filter(c, wh.exclude, &wh.n_exclude);
    else if (strcasecmp(c->key, "Tags") == 0)
      rc = wh_opt_tags(c);
    else
      rc = wh_bad(c, "unknown option");
    if (rc != 0)
      return -1;
  }
  return 0;
}

/* ---- the message ---- */

static double wh_now(void) {
  return CDTIME_T_TO_DOUBLE(cdtime());
}

/* The interval in effect: pushed, else the option, else collectd's. */
static double wh_interval(void) {
  if (wh.pushed.cfg.present && wh.pushed.cfg.interval > 0)
    return wh.pushed.cfg.interval;
  if (wh.interval > 0)
    return wh.interval;
  return wh.collectd_interval;
}

/* Message fields besides the values: host, time, config, tags. */
static void wh_fill(hvkvp_msg_t *m, double newest) {
  sstrncpy(m->host, hostname_g, sizeof(m->host));
  m->time = newest > 0 ? newest : wh_now();
  m->interval = wh_interval();
  const hvkvp_cfg_t *p = &wh.pushed.cfg;
  if (p->present)
    sstrncpy(m->config, p->id, sizeof(m->config));
  sstrncpy(m->config_error, wh.pushed.error, sizeof(m->config_error));
  const hvkvp_cfg_t *t = p->present && p->has_tags ? p : &wh.tags;
  m->n_tags = t->n_tags;
  memcpy(m->tags, t->tags, t->n_tags * sizeof(t->tags[0]));
}

/* One log line when trimming starts (with the count), one when it stops;
 * the count of every message is in its "trimmed". */
static void wh_note_trimmed(uint32_t trimmed, size_t kept) {
  if ((trimmed > 0) == wh.trimming)
    return;
  if (trimmed > 0)
    WARNING(WH_NAME " plugin: message capped at %zu value lists: %u left out "
                    "(reported in \"trimmed\"; choose with Include/Exclude "
                    "or MaxValueLists)",
            kept, trimmed);
  else
    INFO(WH_NAME " plugin: every value list fits in the message again");
  wh.trimming = trimmed > 0;
}

/* Publishes the batch taken from under the lock (the thread only) and
 * empties it. */
static void wh_publish(mbatch_t *b) {
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  pushed_refresh(&wh.pushed, wh.store, wh.prefix);
  wh_fill(&m, b->newest);
  mbatch_lend(b, &m, wh.max_vls);
  uint32_t before = m.trimmed, dropped = 0;
  char err[512];
  if (publisher_publish(&wh.pub, &m, &dropped, err, sizeof(err)) != 0)
    ERROR(WH_NAME " plugin: publishing gen %llu failed: %s",
          (unsigned long long)m.seq, err);
  else
    wh_note_trimmed(before + dropped, m.n_vls - dropped);
  mbatch_return(b, &m);
  hvkvp_msg_free(&m);
}

/* ---- the publishing thread ---- */

static void wh_deadline(struct timespec *ts, double t) {
  ts->tv_sec = (time_t)t;
  ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
}

/* Waits (lock held) until the next message is due; 0 to publish, -1 to
 * stop. *next is the due time (0: not scheduled yet). */
static int wh_wait_due(double *next) {
  for (;;) {
    if (wh.stop)
      return -1;
    if (wh.batch.n == 0 && wh.batch.overflowed == 0) {
      pthread_cond_wait(&wh.cond, &wh.lock);
      continue;
    }
    double now = wh_now();
    if (*next == 0)
      *next = now + wh_interval() / 2; /* the rest of this round comes */
    if (wh.flush || now >= *next)
      return 0;
    struct timespec ts;
    wh_deadline(&ts, *next);
    pthread_cond_timedwait(&wh.cond, &wh.lock, &ts);
  }
}

/* Two batches take turns: the writers fill one while the other is
 * published; each keeps its memory. */
static void *wh_thread(void *arg) {
  (void)arg;
  double next = 0;
  mbatch_t b;
  mbatch_init(&b);
  pthread_mutex_lock(&wh.lock);
  while (wh_wait_due(&next) == 0) {
    mbatch_t full = wh.batch;
    wh.batch = b;
    b = full;
    wh.flush = 0;
    pthread_mutex_unlock(&wh.lock);
    wh_publish(&b);
    double now = wh_now();
    next += wh_interval();
    if (next <= now) /* late, idle, or a flush: a new cadence */
      next = 0;
    pthread_mutex_lock(&wh.lock);
  }
  mbatch_free(&b);
  b = wh.batch; /* shutdown: what is left */
  mbatch_init(&wh.batch);
  pthread_mutex_unlock(&wh.lock);
  if (b.n > 0)
    wh_publish(&b);
  mbatch_free(&b);
  return NULL;
}

/* ---- collectd callbacks ---- */

static int wh_selected(const char *plugin) {
  for (size_t i = 0; i < wh.n_exclude; i++)
    if (strcmp(wh.exclude[i], plugin) == 0)
      return 0;
  if (wh.n_include == 0)
    return 1;
  for (size_t i = 0; i < wh.n_include; i++)
    if (strcmp(wh.include[i], plugin) == 0)
      return 1;
  return 0;
}

/* collectd's value list as the protocol's; -1 if it cannot be one. */
static int wh_convert(const data_set_t *ds, const value_list_t *vl,
                      hvkvp_vl_t *out) {
  if (ds->ds_num < 1 || ds->ds_num > HVKVP_MAX_DS ||
      vl->values_len != ds->ds_num)
    return -1;
  memset(out, 0, sizeof(*out));
  sstrncpy(out->plugin, vl->plugin, sizeof(out->plugin));
  sstrncpy(out->plugin_instance, vl->plugin_instance,
           sizeof(out->plugin_instance));
  sstrncpy(out->type, vl->type, sizeof(out->type));
  sstrncpy(out->type_instance, vl->type_instance, sizeof(out->type_instance));
  out->n = ds->ds_num;
  for (size_t i = 0; i < ds->ds_num; i++) {
    static const hvkvp_ds_type_t map[] = {[DS_TYPE_COUNTER] = HVKVP_DS_COUNTER,
                                          [DS_TYPE_GAUGE] = HVKVP_DS_GAUGE,
                                          [DS_TYPE_DERIVE] = HVKVP_DS_DERIVE,
                                          [DS_TYPE_ABSOLUTE] =
                                              HVKVP_DS_ABSOLUTE};
    int t = ds->ds[i].type;
    if (t < 0 || t > DS_TYPE_ABSOLUTE)
      return -1;
    out->dstypes[i] = map[t];
    sstrncpy(out->dsnames[i], ds->ds[i].name, sizeof(out->dsnames[i]));
    memcpy(&out->values[i], &vl->values[i], sizeof(out->values[i]));
  }
  return 0;
}

static int wh_write(const data_set_t *ds, const value_list_t *vl,
                    user_data_t *ud) {
  (void)ud;
  hvkvp_vl_t v;
  if (!wh_selected(vl->plugin))
    return 0;
  if (wh_convert(ds, vl, &v) != 0) {
    static c_complain_t complained = C_COMPLAIN_INIT_STATIC;
    c_complain_once(LOG_WARNING, &complained,
                    WH_NAME " plugin: %s/%s: %zu data sources cannot be sent",
                    vl->plugin, vl->type, ds->ds_num);
    return 0;
  }
  pthread_mutex_lock(&wh.lock);
  int rc = mbatch_put(&wh.batch, &v, CDTIME_T_TO_DOUBLE(vl->time));
  pthread_cond_signal(&wh.cond);
  pthread_mutex_unlock(&wh.lock);
  return rc < 0 ? -1 : 0;
}

static int wh_flush(cdtime_t timeout, const char *identifier, user_data_t *ud) {
  (void)timeout;
  (void)identifier;
  (void)ud;
  pthread_mutex_lock(&wh.lock);
  wh.flush = 1;
  pthread_cond_signal(&wh.cond);
  pthread_mutex_unlock(&wh.lock);
  return 0;
}

/* Refuses every pushed collector: collectd.conf chooses the plugins. */
static int wh_collector_ok(const char *name, void *arg, char *why,
                           size_t whylen) {
  (void)arg;
  snprintf(why, whylen,
           "write_hvkvp does not apply pushed Collectors (\"%.40s\"): "
           "collectd.conf chooses its plugins",
           name);
  return 0;
}

static int wh_init(void) {
  char err[512];
  const char *colon = strchr(wh.store_spec, ':');
  rlog_set_sink(wh_log_sink);
  rlog_set_level(RLOG_DEBUG); /* collectd's LogLevel filters */
  wh.collectd_interval = CDTIME_T_TO_DOUBLE(plugin_get_interval());
  wh.store = store_pool_open(colon != NULL ? colon + 1 : "", err, sizeof(err));
  if (wh.store == NULL) {
    ERROR(WH_NAME " plugin: Store %s: %s", wh.store_spec, err);
    return -1;
  }
  pushed_init(&wh.pushed, wh_collector_ok, NULL);
  if (publisher_init(&wh.pub, wh.store, wh.prefix, err, sizeof(err)) != 0) {
    ERROR(WH_NAME " plugin: %s", err);
    return -1;
  }
  if (plugin_thread_create(&wh.thread, wh_thread, NULL, WH_NAME) != 0) {
    ERROR(WH_NAME " plugin: cannot start the publishing thread");
    return -1;
  }
  wh.running = 1;
  INFO(WH_NAME " plugin: publishing to %s, prefix %s, epoch %016llx, gen %llu",
       wh.store_spec, wh.prefix, (unsigned long long)wh.pub.epoch,
       (unsigned long long)wh.pub.gen);
  return 0;
}

static int wh_shutdown(void) {
  if (wh.running) {
    pthread_mutex_lock(&wh.lock);
    wh.stop = 1;
    pthread_cond_signal(&wh.cond);
    pthread_mutex_unlock(&wh.lock);
    pthread_join(wh.thread, NULL);
    wh.running = 0;
  }
  mbatch_free(&wh.batch);
  if (wh.store != NULL)
    wh.store->close(wh.store);
  wh.store = NULL;
  rlog_set_sink(NULL);
  return 0;
}

void module_register(void);

__attribute__((visibility("default"))) void module_register(void) {
  plugin_register_complex_config(WH_NAME, wh_config);
  plugin_register_init(WH_NAME, wh_init);
  plugin_register_write(WH_NAME, wh_write, NULL);
  plugin_register_flush(WH_NAME, wh_flush, NULL);
  plugin_register_shutdown(WH_NAME, wh_shutdown);
}
