/*
 * reporter.c - the reporter cycle: host-pushed config (validated as a whole,
 * last good kept, refusal reported in "config_error"), collectors and Exec
 * entries into one message, encode (protocol/) and publish (store.h).
 * Keeps epoch (random per start), gen and seq (one more than the head found
 * in the store at start, so they never go backwards across restarts).
 * Portable C11.
 */
#include "reporter.h"
#include "exec.h"
#include "log.h"
#include "platform.h"

#include <stdlib.h>
#include <string.h>

/* ---- which collectors run ---- */

/* Built-in collector names of every platform (PROTOCOL.md "Host to guest
 * configuration"): a host pushes one list to Linux and Windows guests alike,
 * so a name that only another platform has is accepted and runs nothing
 * here; a name no platform has is refused. */
static const char *const reporter_any_platform[] = {
    "cpu", "memory",    "load", "swap",      "uptime",
    "df",  "interface", "disk", "processes", "entropy"};

static int reporter_known(const char *name, void *arg) {
  const reporter_t *r = arg;
  for (size_t i = 0;
       i < sizeof(reporter_any_platform) / sizeof(reporter_any_platform[0]);
       i++)
    if (strcmp(reporter_any_platform[i], name) == 0)
      return 1;
  size_t n;
  const collector_t *c = collectors_platform(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(c[i].name, name) == 0)
      return 1;
  for (size_t i = 0; i < r->cfg.n_exec; i++)
    if (strcmp(r->cfg.exec[i].name, name) == 0)
      return 1;
  return 0;
}

/* The effective Collectors list: pushed, else the file's; "" = all. */
static const char *reporter_list(const reporter_t *r) {
  if (r->pushed.present && r->pushed.has_collectors)
    return r->pushed.collectors;
  return r->cfg.collectors;
}

static int reporter_enabled(const reporter_t *r, const char *name) {
  const char *l = reporter_list(r);
  return l[0] == '\0' || rcfg_list_has(l, name);
}

/* ---- gen recovery ---- */

static void reporter_load_gen(reporter_t *r) {
  r->gen = 1;
  if (r->store == NULL)
    return;
  hvkvp_items_t cur;
  char err[256] = "";
  if (r->store->read_own(r->store, r->cfg.prefix, &cur, err, sizeof(err)) !=
      0) {
    rlog_warning("cannot read own items to continue gen: %s", err);
    return;
  }
  char hk[HVKVP_PREFIX_LEN + 8];
  snprintf(hk, sizeof(hk), "%s.head", r->cfg.prefix);
  const char *hv = hvkvp_items_get(&cur, hk);
  if (hv != NULL) {
    hvkvp_head_t h;
    hvkvp_err_t he = {0};
    if (hvkvp_head_parse(hv, &h, &he) == 0 && h.gen < UINT64_MAX - 1) {
      r->gen = h.gen + 1;
    } else {
      /* A head cut by a crash mid-write may fail the grammar; its gen=
       * field is still the old or the new gen: continue after it. */
      const char *g = strstr(hv, ";gen=");
      unsigned long long v = g != NULL ? strtoull(g + 5, NULL, 10) : 0;
      if (v > 0 && v < UINT64_MAX - 1)
        r->gen = (uint64_t)v + 1;
      rlog_warning("stored head unreadable (%s): continuing at gen %llu",
                   he.detail, (unsigned long long)r->gen);
    }
  }
  hvkvp_items_free(&cur);
  r->gen_loaded = 1;
}

int reporter_init(reporter_t *r, const rcfg_t *cfg, hvkvp_store_t *store,
                  char *err, size_t errlen) {
  memset(r, 0, sizeof(*r));
  r->cfg = *cfg;
  r->store = store;
  r->root = "";
  do {
    if (plat_random_u64(&r->epoch, err, errlen) != 0)
      return -1;
  } while (r->epoch == 0);
  reporter_load_gen(r);
  r->seq = r->gen;
  return 0;
}

int reporter_reconfigure(reporter_t *r, const rcfg_t *cfg, char *err,
                         size_t errlen) {
  (void)err;
  (void)errlen;
  int prefix_changed = strcmp(r->cfg.prefix, cfg->prefix) != 0;
  r->cfg = *cfg;
  if (prefix_changed) {
    reporter_load_gen(r);
    if (r->seq > r->gen)
      r->gen = r->seq;
  }
  r->last_bad[0] = '\0';
  return 0;
}

uint64_t reporter_interval_ms(const reporter_t *r) {
  if (r->cfg.interval_ms > 0)
    return r->cfg.interval_ms;
  double s = r->cfg.interval;
  if (r->pushed.present && r->pushed.interval > 0)
    s = r->pushed.interval;
  return (uint64_t)(s * 1000.0 + 0.5);
}

/* ---- pushed config ---- */

static int reporter_pushed_same(const hvkvp_cfg_t *a, const hvkvp_cfg_t *b) {
  return a->present == b->present && strcmp(a->id, b->id) == 0 &&
         a->interval == b->interval && a->has_collectors == b->has_collectors &&
         a->has_tags == b->has_tags &&
         strcmp(a->collectors, b->collectors) == 0 && a->n_tags == b->n_tags &&
         memcmp(a->tags, b->tags, a->n_tags * sizeof(a->tags[0])) == 0;
}

void reporter_apply_pushed(reporter_t *r) {
  if (r->store == NULL)
    return;
  hvkvp_items_t items;
  char err[HVKVP_TEXT_LEN] = "";
  if (r->store->read_config(r->store, r->cfg.prefix, &items, err,
                            sizeof(err)) != 0) {
    rlog_warning("cannot read pushed config: %s", err);
    return;
  }
  hvkvp_cfg_t p;
  int rc = rpushed_parse(&items, r->cfg.prefix, reporter_known, r, &p, err,
                         sizeof(err));
  hvkvp_items_free(&items);
  if (rc != 0) {
    if (strcmp(err, r->last_bad) != 0)
      rlog_warning("pushed config refused (keeping %s%s): %s",
                   r->pushed.present ? "id " : "the config file",
                   r->pushed.present ? r->pushed.id : "", err);
    snprintf(r->last_bad, sizeof(r->last_bad), "%s", err);
    snprintf(r->config_error, sizeof(r->config_error), "%s", err);
    return;
  }
  r->last_bad[0] = '\0';
  r->config_error[0] = '\0';
  if (reporter_pushed_same(&p, &r->pushed))
    return;
  if (p.present)
    rlog_info("pushed config %s applied (interval %s, collectors %s, %zu tags)",
              p.id, p.interval > 0 ? "set" : "unchanged",
              p.has_collectors ? p.collectors : "unchanged", p.n_tags);
  else
    rlog_info("pushed config removed: back to the config file");
  r->pushed = p;
}

/* ---- message ---- */

int reporter_build(reporter_t *r, hvkvp_msg_t *m, char *err, size_t errlen) {
  hvkvp_msg_init(m);
  if (r->cfg.hostname[0] != '\0')
    snprintf(m->host, sizeof(m->host), "%s", r->cfg.hostname);
  else {
    if (r->hostname[0] == '\0' &&
        plat_hostname(r->hostname, sizeof(r->hostname), err, errlen) != 0)
      return -1;
    snprintf(m->host, sizeof(m->host), "%s", r->hostname);
  }
  m->time = plat_wall_time();
  m->interval = (double)reporter_interval_ms(r) / 1000.0;
  m->seq = r->seq;
  if (r->pushed.present)
    snprintf(m->config, sizeof(m->config), "%s", r->pushed.id);
  snprintf(m->config_error, sizeof(m->config_error), "%s", r->config_error);
  m->n_tags = r->pushed.present ? r->pushed.n_tags : 0;
  memcpy(m->tags, r->pushed.tags, m->n_tags * sizeof(m->tags[0]));

  collect_ctx_t ctx = {.root = r->root,
                       .include_loopback = r->cfg.include_loopback,
                       .interval = m->interval};
  size_t n;
  const collector_t *c = collectors_platform(&n);
  for (size_t i = 0; i < n; i++) {
    if (!reporter_enabled(r, c[i].name))
      continue;
    size_t before = m->n_vls;
    char cerr[256] = "";
    if (c[i].read(&ctx, m, cerr, sizeof(cerr)) != 0) {
      m->n_vls = before; /* all of a collector's values or none */
      rlog_warning("collector %s: %s", c[i].name, cerr);
    }
  }
  for (size_t i = 0; i < r->cfg.n_exec; i++) {
    const rcfg_exec_t *e = &r->cfg.exec[i];
    if (!reporter_enabled(r, e->name))
      continue;
    char xerr[256] = "";
    if (rexec_run(e, r->cfg.exec_timeout, m, xerr, sizeof(xerr)) < 0)
      rlog_warning("%s", xerr);
  }
  return 0;
}

int reporter_cycle(reporter_t *r, FILE *dry, char *err, size_t errlen) {
  reporter_apply_pushed(r);
  hvkvp_msg_t m;
  if (reporter_build(r, &m, err, errlen) != 0) {
    hvkvp_msg_free(&m);
    return -1;
  }
  int rc = -1;
  if (dry != NULL) {
    char *json = NULL;
    size_t len = 0;
    if (hvkvp_msg_to_json(&m, &json, &len) != 0) {
      snprintf(err, errlen, "cannot encode the message as JSON");
    } else {
      fwrite(json, 1, len, dry);
      fputc('\n', dry);
      fflush(dry);
      free(json);
      rc = 0;
    }
    hvkvp_msg_free(&m);
    return rc;
  }
  if (r->store == NULL) {
    snprintf(err, errlen, "no store to publish to");
    hvkvp_msg_free(&m);
    return -1;
  }
  hvkvp_items_t cur;
  if (r->store->read_own(r->store, r->cfg.prefix, &cur, err, errlen) != 0) {
    hvkvp_msg_free(&m);
    return -1;
  }
  hvkvp_encode_opts_t o = {.prefix = r->cfg.prefix,
                           .enc = r->cfg.enc,
                           .epoch = r->epoch,
                           .gen = r->gen,
                           .max_chunks = r->cfg.max_chunks};
  hvkvp_frame_t f;
  memset(&f, 0, sizeof(f));
  hvkvp_err_t he;
  memset(&he, 0, sizeof(he));
  if (hvkvp_encode(&m, &o, &cur, &f, &he) != 0) {
    snprintf(err, errlen, "encode: %s: %s", hvkvp_strerror(he.code), he.detail);
  } else {
    if (f.trimmed > 0)
      rlog_warning("message too big for %zu chunks: %u value lists dropped "
                   "(reported in \"trimmed\")",
                   r->cfg.max_chunks, f.trimmed);
    if (r->store->publish(r->store, &f, err, errlen) == 0) {
      rc = 0;
      rlog_debug("published gen %llu: %zu value lists in %zu chunks",
                 (unsigned long long)r->gen, m.n_vls, f.head.n);
    }
  }
  /* gen and seq move on even after a failure: never reuse a gen. */
  r->gen++;
  r->seq++;
  r->cycles++;
  hvkvp_frame_free(&f);
  hvkvp_items_free(&cur);
  hvkvp_msg_free(&m);
  return rc;
}

void reporter_free(reporter_t *r) {
  (void)r;
}
