/*
 * reporter.c - the reporter cycle: host-pushed config (pushed.c: validated
 * as a whole, last good kept, refusal reported in "config_error"),
 * collectors and Exec entries into one message, published by publisher.c.
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

static int reporter_known(const char *name, const reporter_t *r) {
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

/* pushed.h collector check: a known name, or why not. */
static int reporter_collector_ok(const char *name, void *arg, char *why,
                                 size_t whylen) {
  if (reporter_known(name, arg))
    return 1;
  snprintf(why, whylen, "unknown collector \"%.40s\"", name);
  return 0;
}

const char *reporter_collectors(const reporter_t *r) {
  const hvkvp_cfg_t *p = &r->pushed.cfg;
  return p->present && p->has_collectors ? p->collectors : r->cfg.collectors;
}

static int reporter_enabled(const reporter_t *r, const char *name) {
  const char *l = reporter_collectors(r);
  return l[0] == '\0' || hvkvp_cfg_list_has(l, name);
}

/* ---- set-up ---- */

int reporter_init(reporter_t *r, const rcfg_t *cfg, hvkvp_store_t *store,
                  char *err, size_t errlen) {
  memset(r, 0, sizeof(*r));
  r->cfg = *cfg;
  r->store = store;
  r->root = "";
  pushed_init(&r->pushed, reporter_collector_ok, r);
  r->collect_state = collect_state_new();
  if (r->collect_state == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (publisher_init(&r->pub, store, cfg->prefix, err, errlen) != 0) {
    reporter_free(r);
    return -1;
  }
  r->pub.enc = cfg->enc;
  r->pub.max_chunks = cfg->max_chunks;
  return 0;
}

int reporter_reconfigure(reporter_t *r, const rcfg_t *cfg, char *err,
                         size_t errlen) {
  (void)err; /* cfg was checked by rcfg_check_collectors: cannot fail */
  (void)errlen;
  r->cfg = *cfg;
  publisher_set_prefix(&r->pub, cfg->prefix);
  r->pub.enc = cfg->enc;
  r->pub.max_chunks = cfg->max_chunks;
  r->pushed.logged[0] = '\0'; /* log the current problem again, once */
  return 0;
}

uint64_t reporter_interval_ms(const reporter_t *r) {
  if (r->cfg.interval_ms > 0)
    return r->cfg.interval_ms;
  double s = r->cfg.interval;
  if (r->pushed.cfg.present && r->pushed.cfg.interval > 0)
    s = r->pushed.cfg.interval;
  return (uint64_t)(s * 1000.0 + 0.5);
}

void reporter_apply_pushed(reporter_t *r) {
  pushed_refresh(&r->pushed, r->store, r->cfg.prefix);
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
  m->seq = r->pub.gen;
  const hvkvp_cfg_t *p = &r->pushed.cfg;
  if (p->present)
    snprintf(m->config, sizeof(m->config), "%s", p->id);
  snprintf(m->config_error, sizeof(m->config_error), "%s", r->pushed.error);
  m->n_tags = p->present ? p->n_tags : 0;
  memcpy(m->tags, p->tags, m->n_tags * sizeof(m->tags[0]));

  collect_ctx_t ctx = {.root = r->root,
                       .include_loopback = r->cfg.include_loopback,
                       .interval = m->interval,
                       .cpu = r->cfg.cpu,
                       .state = r->collect_state};
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
    if (rexec_run(e, r->cfg.exec_timeout, &r->exec_state[i], m, xerr,
                  sizeof(xerr)) < 0)
      rlog_warning("%s", xerr);
  }
  return 0;
}

/* Prints m's JSON to dry. */
static int reporter_print(const hvkvp_msg_t *m, FILE *dry, char *err,
                          size_t errlen) {
  char *json = NULL;
  size_t len = 0;
  if (hvkvp_msg_to_json(m, &json, &len) != 0) {
    snprintf(err, errlen, "cannot encode the message as JSON");
    return -1;
  }
  fwrite(json, 1, len, dry);
  fputc('\n', dry);
  fflush(dry);
  free(json);
  return 0;
}

int reporter_cycle(reporter_t *r, FILE *dry, char *err, size_t errlen) {
  reporter_apply_pushed(r);
  hvkvp_msg_t m;
  int rc = reporter_build(r, &m, err, errlen);
  if (rc == 0 && dry != NULL) {
    rc = reporter_print(&m, dry, err, errlen);
  } else if (rc == 0) {
    uint32_t trimmed = 0;
    rc = publisher_publish(&r->pub, &m, &trimmed, err, errlen);
    if (trimmed > 0)
      rlog_warning("message too big for %zu chunks: %u value lists dropped "
                   "(reported in \"trimmed\")",
                   r->cfg.max_chunks, trimmed);
    if (rc == 0)
      rlog_debug("published gen %llu: %zu value lists",
                 (unsigned long long)m.seq, m.n_vls);
    r->cycles++;
  }
  hvkvp_msg_free(&m);
  return rc;
}

void reporter_free(reporter_t *r) {
  collect_state_free(r->collect_state);
  r->collect_state = NULL;
}
