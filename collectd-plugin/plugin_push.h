/*
 * plugin_push.h - host -> guest configuration push of the hyperv_kvp plugin:
 * the desired PREFIX.cfg.* items of a <Push> block (with PREFIX.cfg.id, a
 * hash of the set), their diff against a VM's HostExchangeItems (what to
 * add, modify, remove), and applying that diff through hv_kvp_items with the
 * id written last, so a guest never sees the new id before the new values.
 */
#ifndef HVKVP_PLUGIN_PUSH_H
#define HVKVP_PLUGIN_PUSH_H

#include "hvkvp.h"
#include "hyperv.h"
#include "plugin_config.h"

#define HVP_CFG_ID_LEN HVKVP_CFG_ID_LEN

typedef struct {
  hvkvp_items_t add;    /* keys missing on the VM */
  hvkvp_items_t modify; /* keys whose value differs */
  hvkvp_items_t remove; /* PREFIX.cfg.* keys not desired (values ignored) */
} hvp_push_diff_t;

/* The desired items of p under prefix (PREFIX.cfg.interval, .collectors,
 * .tags as configured, and .id) into *out (init'd by the callee); the id
 * (first 12 hex digits of FNV-1a 64 over the sorted "key=value\n" lines of
 * the other items) into id. 0 or -1 (no memory). */
int hvp_push_desired(const hvp_push_conf_t *p, const char *prefix,
                     hvkvp_items_t *out, char id[HVP_CFG_ID_LEN]);

void hvp_push_diff_init(hvp_push_diff_t *d);
void hvp_push_diff_free(hvp_push_diff_t *d);
/* Fills d (init'd by the callee) with what turns `current` (the VM's
 * HostExchangeItems; keys outside PREFIX.cfg. are never touched) into
 * `desired`. Returns the number of operations on items (0: in sync), -1 on
 * no memory. */
int hvp_push_diff(const hvkvp_items_t *desired, const hvkvp_items_t *current,
                  const char *prefix, hvp_push_diff_t *d);

/* Applies d to the VM: remove, add and modify every key but PREFIX.cfg.id,
 * then the id. Stops at the first failure (err filled). `ops` counts the
 * hv_kvp_items calls made. Returns 0 or -1. */
int hvp_push_apply(hv_host_t *h, const char *guid, const hvp_push_diff_t *d,
                   const char *prefix, double deadline_s, unsigned *ops,
                   ws_err_t *err);

#endif
