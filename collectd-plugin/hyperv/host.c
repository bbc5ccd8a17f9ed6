/*
 * host.c - opening and closing the model's connection to a Hyper-V host
 * (see hyperv.h): options checked once, the transport created with them as
 * they are.
 */
#include "host.h"

#include <stdlib.h>

hv_host_t *hv_host_new(const hv_opts_t *o, ws_err_t *err) {
  ws_err_clear(err);
  if (hv_opts_check(o, err) != 0)
    return NULL;
  hv_host_t *h = calloc(1, sizeof(*h));
  if (h == NULL) {
    ws_err_set(err, WS_ERR_CONFIG, "out of memory");
    return NULL;
  }
  h->o = o;
  h->ns = o->ns != NULL ? o->ns : HV_WMI_DEFAULT_NS;
  h->max_elements = o->max_elements ? o->max_elements : 32000;
  h->w = wsman_new(&o->ws, err);
  if (h->w == NULL) {
    free(h);
    return NULL;
  }
  return h;
}

void hv_host_free(hv_host_t *h) {
  if (h == NULL)
    return;
  wsman_free(h->w);
  free(h->quar);
  free(h);
}

void hv_host_stats(const hv_host_t *h, wsman_stats_t *st) {
  wsman_get_stats(h->w, st);
}

void hv_host_budget(hv_host_t *h, const wsman_budget_t *b) {
  wsman_budget_start(h->w, b);
}

void hv_host_budget_end(hv_host_t *h) {
  wsman_budget_end(h->w);
}

void hv_host_isolation(const hv_host_t *h, hv_isolation_t *st) {
  *st = h->iso;
}
