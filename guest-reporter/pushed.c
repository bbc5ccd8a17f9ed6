/*
 * pushed.c - host-pushed configuration kept by a guest writer (pushed.h).
 * Portable C11 over store.h and protocol/cfg.c.
 */
#include "pushed.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

void pushed_init(pushed_t *p,
                 int (*collector_ok)(const char *name, void *arg, char *why,
                                     size_t whylen),
                 void *arg) {
  memset(p, 0, sizeof(*p));
  hvkvp_cfg_init(&p->cfg);
  p->collector_ok = collector_ok;
  p->arg = arg;
}

int pushed_check(const pushed_t *p, const hvkvp_items_t *items,
                 const char *prefix, hvkvp_cfg_t *out, char *err,
                 size_t errlen) {
  hvkvp_err_t e;
  if (hvkvp_cfg_read(items, prefix, out, &e) != 0) {
    snprintf(err, errlen, "%s", e.detail);
    return -1;
  }
  if (!out->has_collectors || p->collector_ok == NULL)
    return 0;
  char tmp[HVKVP_CFG_LIST_LEN];
  snprintf(tmp, sizeof(tmp), "%s", out->collectors);
  char *save = NULL;
  for (char *w = strtok_r(tmp, " ", &save); w != NULL;
       w = strtok_r(NULL, " ", &save)) {
    char why[160];
    if (!p->collector_ok(w, p->arg, why, sizeof(why))) {
      snprintf(err, errlen, "item %s.cfg.collectors: %s", prefix, why);
      return -1;
    }
  }
  return 0;
}

/* Logs problem once: again only after a different problem or a recovery. */
static void pushed_problem(pushed_t *p, const char *what, const char *problem) {
  if (strcmp(problem, p->logged) != 0)
    rlog_warning("%s (keeping %s%s): %s", what,
                 p->cfg.present ? "id " : "the local config",
                 p->cfg.present ? p->cfg.id : "", problem);
  snprintf(p->logged, sizeof(p->logged), "%s", problem);
  snprintf(p->error, sizeof(p->error), "%s", problem);
}

static int pushed_same(const hvkvp_cfg_t *a, const hvkvp_cfg_t *b) {
  return a->present == b->present && strcmp(a->id, b->id) == 0 &&
         a->interval == b->interval && a->has_collectors == b->has_collectors &&
         a->has_tags == b->has_tags &&
         strcmp(a->collectors, b->collectors) == 0 && a->n_tags == b->n_tags &&
         memcmp(a->tags, b->tags, a->n_tags * sizeof(a->tags[0])) == 0;
}

static void pushed_log_applied(const hvkvp_cfg_t *c) {
  if (!c->present) {
    rlog_info("pushed config removed: back to the local config");
    return;
  }
  rlog_info("pushed config %s applied (interval %s, collectors %s, %zu tags)",
            c->id, c->interval > 0 ? "set" : "unchanged",
            c->has_collectors ? c->collectors : "unchanged", c->n_tags);
}

int pushed_refresh(pushed_t *p, hvkvp_store_t *store, const char *prefix) {
  if (store == NULL)
    return 0;
  hvkvp_items_t items;
  char err[HVKVP_TEXT_LEN] = "";
  if (store->read_config(store, prefix, &items, err, sizeof(err)) != 0) {
    pushed_problem(p, "cannot read pushed config", err);
    return 0;
  }
  hvkvp_cfg_t c;
  int rc = pushed_check(p, &items, prefix, &c, err, sizeof(err));
  hvkvp_items_free(&items);
  if (rc != 0) {
    pushed_problem(p, "pushed config refused", err);
    return 0;
  }
  int same = pushed_same(&c, &p->cfg);
  if (p->logged[0] != '\0' && same)
    rlog_info("pushed config accepted again: %s%s in effect",
              c.present ? "id " : "the local config", c.present ? c.id : "");
  p->logged[0] = '\0';
  p->error[0] = '\0';
  if (same)
    return 0;
  pushed_log_applied(&c);
  p->cfg = c;
  return 1;
}
