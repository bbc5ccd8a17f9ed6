/*
 * options.c - the model's connection options (hv_opts_t, hyperv.h): the
 * namespace checked here, everything else by the transport; freed with the
 * password wiped.
 */
#include "hyperv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void hv_opts_free(hv_opts_t *o) {
  if (o == NULL)
    return;
  wsman_opts_free(&o->ws);
  free(o->ns);
  o->ns = NULL;
  o->max_elements = 0;
}

static int hv_ns_ok(const char *ns) {
  if (ns[0] == '\0' || strlen(ns) >= 128)
    return 0;
  for (const char *p = ns; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '/' && *p != '_')
      return 0;
  return 1;
}

int hv_opts_check(const hv_opts_t *o, ws_err_t *err) {
  if (o == NULL)
    return ws_err_set(err, WS_ERR_CONFIG, "no options");
  if (o->ns != NULL && !hv_ns_ok(o->ns))
    return ws_err_set(err, WS_ERR_CONFIG,
                      "WMI namespace \"%.100s\" is invalid (e.g. "
                      "root/virtualization/v2)",
                      o->ns);
  return wsman_opts_check(&o->ws, err);
}

wsman_budget_t hv_poll_budget(const wsman_budget_t *given, double interval,
                              double timeout) {
  wsman_budget_t b = *given;
  if (timeout <= 0)
    timeout = 10;
  if (b.seconds <= 0)
    b.seconds = interval > timeout ? interval : timeout;
  if (b.requests == 0)
    b.requests = b.seconds * 100 > 256 ? (uint64_t)(b.seconds * 100) : 256;
  if (b.bytes == 0)
    b.bytes = b.seconds * 10e6 > (double)(64ULL << 20)
                  ? (uint64_t)(b.seconds * 10e6)
                  : (64ULL << 20);
  return b;
}
