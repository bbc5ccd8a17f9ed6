/*
 * out_json.c - hvkvpctl's --json output: VMs with their message state, a
 * VM's KVP items, a VM's decoded hvkvp message. Strings are escaped so that
 * any guest text stays one JSON string.
 */
#include "ctl.h"

#include <stdio.h>

void json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", stdout);
    else if (*p == '\r')
      fputs("\\r", stdout);
    else if (*p == '\t')
      fputs("\\t", stdout);
    else if (*p < 0x20 || *p == 0x7f)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

/* A string, or null. */
static void json_str_or_null(const char *s) {
  if (s)
    json_str(s);
  else
    printf("null");
}

/* ---- vms ---- */

/* The "message" member of a VM. */
static void json_vm_message(const ctl_msg_t *d, double now) {
  if (d->rc == HVKVP_OK)
    printf("{\"present\":true,\"gen\":%llu,\"seq\":%llu,\"time\":%.3f,"
           "\"age\":%.1f}",
           (unsigned long long)d->head.gen, (unsigned long long)d->m.seq,
           d->m.time, now - d->m.time);
  else if (d->rc == HVKVP_E_NOHEAD)
    printf("{\"present\":false}");
  else {
    printf("{\"present\":true,\"error\":");
    json_str(hvkvp_strerror((hvkvp_rc_t)d->rc));
    printf(",\"detail\":");
    json_str(d->e.detail);
    printf("}");
  }
}

void json_vms_begin(void) {
  printf("{\"vms\":[");
}

/* The i-th VM of the "vms" array. */
void json_vm(const hv_vm_t *vm, size_t i, const ctl_msg_t *d, double now) {
  const char *os = hvkvp_items_get(&vm->pool[HV_POOL_INTRINSIC], "OSName");
  printf("%s{\"guid\":", i ? "," : "");
  json_str(vm->guid);
  printf(",\"name\":");
  json_str(vm->name);
  printf(",\"state\":%u,\"state_name\":", vm->state);
  json_str(hv_state_str(vm->state));
  printf(",\"os\":");
  json_str_or_null(os);
  printf(",\"kvp\":%s,\"items_rejected\":%u,\"unreadable\":",
         vm->has_kvp ? "true" : "false", vm->items_rejected);
  json_str_or_null(vm->unreadable ? vm->unreadable_reason : NULL);
  printf(",\"message\":");
  json_vm_message(d, now);
  printf("}");
}

/* Closes the "vms" array and adds the cost of the listing. */
void json_vms_end(const wsman_stats_t *st, const hv_isolation_t *iso) {
  printf("],\"requests\":%llu,\"isolation\":{\"unreadable\":%u,"
         "\"requests\":%llu}}\n",
         (unsigned long long)st->requests, iso->quarantined,
         (unsigned long long)iso->requests);
}

/* ---- items ---- */

static void json_pool(const char *name, const hvkvp_items_t *it) {
  printf(",\"%s\":{", name);
  for (size_t i = 0; i < it->n; i++) {
    if (i)
      putchar(',');
    json_str(it->v[i].key);
    putchar(':');
    json_str(it->v[i].value ? it->v[i].value : "");
  }
  putchar('}');
}

/* A VM's items of the pools in want (HV_WANT_*). */
void json_items(const hv_vm_t *vm, unsigned want) {
  printf("{\"guid\":");
  json_str(vm->guid);
  printf(",\"name\":");
  json_str(vm->name);
  if (want & HV_WANT_INTRINSIC)
    json_pool("intrinsic", &vm->pool[HV_POOL_INTRINSIC]);
  if (want & HV_WANT_GUEST)
    json_pool("guest", &vm->pool[HV_POOL_GUEST]);
  if (want & HV_WANT_HOST)
    json_pool("host", &vm->pool[HV_POOL_HOST]);
  printf(",\"items_rejected\":%u,\"reject_reason\":", vm->items_rejected);
  json_str(vm->reject_reason);
  printf("}\n");
}

/* ---- messages ---- */

static const char *ds_str(hvkvp_ds_type_t t) {
  switch (t) {
  case HVKVP_DS_GAUGE:
    return "gauge";
  case HVKVP_DS_DERIVE:
    return "derive";
  case HVKVP_DS_COUNTER:
    return "counter";
  case HVKVP_DS_ABSOLUTE:
    return "absolute";
  }
  return "?";
}

static void json_tags(const hvkvp_msg_t *m) {
  printf(",\"tags\":{");
  for (size_t i = 0; i < m->n_tags; i++) {
    if (i)
      putchar(',');
    json_str(m->tags[i].key);
    putchar(':');
    json_str(m->tags[i].value);
  }
  printf("}");
}

/* The i-th value list of the "values" array. */
static void json_vl(const hvkvp_vl_t *vl, size_t i) {
  printf("%s{\"plugin\":", i ? "," : "");
  json_str(vl->plugin);
  printf(",\"plugin_instance\":");
  json_str(vl->plugin_instance);
  printf(",\"type\":");
  json_str(vl->type);
  printf(",\"type_instance\":");
  json_str(vl->type_instance);
  printf(",\"dsnames\":[");
  for (size_t j = 0; j < vl->n; j++) {
    if (j)
      putchar(',');
    json_str(vl->dsnames[j]);
  }
  printf("],\"dstypes\":[");
  for (size_t j = 0; j < vl->n; j++)
    printf("%s\"%s\"", j ? "," : "", ds_str(vl->dstypes[j]));
  printf("],\"values\":[");
  for (size_t j = 0; j < vl->n; j++) {
    if (j)
      putchar(',');
    ctl_value(vl, j);
  }
  printf("]}");
}

/* A VM's decoded message (d->rc is HVKVP_OK), age seconds old. */
void json_message(const hv_vm_t *vm, const ctl_msg_t *d, double age) {
  const hvkvp_msg_t *m = &d->m;
  printf("{\"guid\":");
  json_str(vm->guid);
  printf(",\"host\":");
  json_str(m->host);
  printf(",\"epoch\":%llu,\"gen\":%llu,\"seq\":%llu,\"time\":%.3f,"
         "\"age\":%.1f,\"interval\":%g,\"config\":",
         (unsigned long long)d->head.epoch, (unsigned long long)d->head.gen,
         (unsigned long long)m->seq, m->time, age, m->interval);
  json_str(m->config);
  printf(",\"config_error\":");
  json_str(m->config_error);
  json_tags(m);
  printf(",\"trimmed\":%u,\"values\":[", m->trimmed);
  for (size_t i = 0; i < m->n_vls; i++)
    json_vl(&m->vls[i], i);
  printf("]}\n");
}
