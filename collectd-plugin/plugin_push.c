/*
 * plugin_push.c - desired configuration items, diff and apply (see
 * plugin_push.h).
 */
#include "plugin_push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hvp_push_desired(const hvp_push_conf_t *p, const char *prefix,
                     hvkvp_items_t *out, char id[HVP_CFG_ID_LEN]) {
  hvkvp_err_t e;
  return hvkvp_cfg_items(&p->cfg, prefix, out, id, &e) == 0 ? 0 : -1;
}

void hvp_push_diff_init(hvp_push_diff_t *d) {
  hvkvp_items_init(&d->add);
  hvkvp_items_init(&d->modify);
  hvkvp_items_init(&d->remove);
}

void hvp_push_diff_free(hvp_push_diff_t *d) {
  hvkvp_items_free(&d->add);
  hvkvp_items_free(&d->modify);
  hvkvp_items_free(&d->remove);
}

int hvp_push_diff(const hvkvp_items_t *desired, const hvkvp_items_t *current,
                  const char *prefix, hvp_push_diff_t *d) {
  char cfg[HVKVP_PREFIX_LEN + 8];
  snprintf(cfg, sizeof(cfg), "%s.cfg.", prefix);
  size_t cfglen = strlen(cfg);
  hvp_push_diff_init(d);
  for (size_t i = 0; i < desired->n; i++) {
    const char *k = desired->v[i].key, *v = desired->v[i].value;
    const char *cur = current ? hvkvp_items_get(current, k) : NULL;
    if (cur == NULL) {
      if (hvkvp_items_set(&d->add, k, v) != 0)
        goto fail;
    } else if (strcmp(cur, v) != 0) {
      if (hvkvp_items_set(&d->modify, k, v) != 0)
        goto fail;
    }
  }
  for (size_t i = 0; current && i < current->n; i++) {
    const char *k = current->v[i].key;
    if (strncmp(k, cfg, cfglen) == 0 && hvkvp_items_get(desired, k) == NULL)
      if (hvkvp_items_set(&d->remove, k, "") != 0)
        goto fail;
  }
  return (int)(d->add.n + d->modify.n + d->remove.n);
fail:
  hvp_push_diff_free(d);
  return -1;
}

/* Runs op on the items of `in` whose key is (want_id 1) or is not (0) the
 * id key, in calls of at most 128 items. */
static int hvp_push_run(hv_host_t *h, const char *guid, hv_kvp_op_t op,
                        const hvkvp_items_t *in, const char *idkey, int want_id,
                        double deadline_s, unsigned *ops, ws_err_t *err) {
  hvkvp_items_t batch;
  hvkvp_items_init(&batch);
  int rc = 0;
  for (size_t i = 0; i <= in->n; i++) {
    if (i < in->n) {
      int is_id = strcmp(in->v[i].key, idkey) == 0;
      if (is_id != want_id)
        continue;
      if (hvkvp_items_set(&batch, in->v[i].key, in->v[i].value) != 0) {
        ws_err_set(err, WS_ERR_CONFIG, "out of memory");
        rc = -1;
        break;
      }
    }
    if (batch.n > 0 && (batch.n == 128 || i == in->n)) {
      (*ops)++;
      rc = hv_kvp_items(h, guid, op, &batch, deadline_s, err);
      hvkvp_items_free(&batch);
      hvkvp_items_init(&batch);
      if (rc != 0)
        break;
    }
  }
  hvkvp_items_free(&batch);
  return rc;
}

int hvp_push_apply(hv_host_t *h, const char *guid, const hvp_push_diff_t *d,
                   const char *prefix, double deadline_s, unsigned *ops,
                   ws_err_t *err) {
  char idkey[HVKVP_KEY_LEN];
  snprintf(idkey, sizeof(idkey), "%s.cfg.id", prefix);
  if (hvp_push_run(h, guid, HV_KVP_REMOVE, &d->remove, idkey, 0, deadline_s,
                   ops, err) != 0 ||
      hvp_push_run(h, guid, HV_KVP_ADD, &d->add, idkey, 0, deadline_s, ops,
                   err) != 0 ||
      hvp_push_run(h, guid, HV_KVP_MODIFY, &d->modify, idkey, 0, deadline_s,
                   ops, err) != 0 ||
      hvp_push_run(h, guid, HV_KVP_REMOVE, &d->remove, idkey, 1, deadline_s,
                   ops, err) != 0 ||
      hvp_push_run(h, guid, HV_KVP_ADD, &d->add, idkey, 1, deadline_s, ops,
                   err) != 0 ||
      hvp_push_run(h, guid, HV_KVP_MODIFY, &d->modify, idkey, 1, deadline_s,
                   ops, err) != 0)
    return -1;
  return 0;
}
