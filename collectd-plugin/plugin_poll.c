/*
 * plugin_poll.c - one poll of one Hyper-V host (see plugin_poll.h): list the
 * VMs with their KVP items in one hv_list_vms call, decode each selected VM's
 * hvkvp message under each configured prefix (GuestExchangeItems, else
 * GuestIntrinsicExchangeItems where a Windows reporter writing to "Auto"
 * lands; one stream per VM and prefix), dispatch each generation once,
 * track torn/invalid/stale messages per VM, push desired configuration within
 * half an interval, and dispatch the plugin's own metrics.
 */
#include "plugin_poll.h"
#include "plugin_generations.h"

#include "collectd/core/utils/common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

hvp_host_t *hvp_host_open(hvp_host_conf_t *conf) {
  hvp_host_t *h = calloc(1, sizeof(*h));
  if (h == NULL) {
    ERROR("hyperv_kvp plugin: Host \"%s\": out of memory", conf->name);
    hvp_host_conf_free(conf);
    free(conf);
    return NULL;
  }
  h->conf = conf;
  hvp_vmtab_init(&h->vms);
  h->dec = hvkvp_decoder_new();
  if (h->dec == NULL) {
    ERROR("hyperv_kvp plugin: Host \"%s\": out of memory", conf->name);
    hvp_host_close(h);
    return NULL;
  }
  C_COMPLAIN_INIT(&h->list_c);
  for (size_t i = 0; i < HVP_PUSH_MAX; i++)
    for (size_t p = 0; p < HVP_PREFIX_MAX; p++)
      hvkvp_items_init(&h->push[i].desired[p]);
  for (size_t i = 0; i < conf->n_push; i++) {
    for (size_t p = 0; p < conf->n_prefix; p++) {
      if (hvp_push_desired(&conf->push[i], conf->prefix[p],
                           &h->push[i].desired[p], h->push[i].id) != 0) {
        ERROR("hyperv_kvp plugin: Host \"%s\": out of memory", conf->name);
        hvp_host_close(h);
        return NULL;
      }
    }
  }
  ws_err_t err;
  memset(&err, 0, sizeof(err));
  h->hv = hv_host_new(&conf->hv, &err);
  if (h->hv == NULL) {
    ERROR("hyperv_kvp plugin: Host \"%s\": cannot set up the connection to "
          "%s: %s",
          conf->name, conf->hv.ws.url, err.msg);
    hvp_host_close(h);
    return NULL;
  }
  return h;
}

void hvp_host_close(void *p) {
  hvp_host_t *h = p;
  if (h == NULL)
    return;
  if (h->hv != NULL)
    hv_host_free(h->hv);
  hvp_vmtab_free(&h->vms);
  hvp_batch_free(&h->batch);
  hvkvp_decoder_free(h->dec);
  for (size_t i = 0; i < HVP_PUSH_MAX; i++)
    for (size_t k = 0; k < HVP_PREFIX_MAX; k++)
      hvkvp_items_free(&h->push[i].desired[k]);
  if (h->conf != NULL) {
    hvp_host_conf_free(h->conf);
    free(h->conf);
  }
  free(h);
}

/* Intrinsic facts reported with ReportIntrinsic. */
static const char *const hvp_intrinsic_keys[] = {"FullyQualifiedDomainName",
                                                 "OSName",
                                                 "OSVersion",
                                                 "OSBuildNumber",
                                                 "ProcessorArchitecture",
                                                 "IntegrationServicesVersion"};
#define HVP_N_INTRINSIC (sizeof(hvp_intrinsic_keys) / sizeof(char *))

/* Printable ASCII only, trailing whitespace (Hyper-V appends newlines to
 * some values) dropped, at most dstsz - 1 bytes. */
static void hvp_clean_text(char *dst, size_t dstsz, const char *src) {
  size_t j = 0;
  for (const unsigned char *p = (const unsigned char *)src; *p && j + 1 < dstsz;
       p++)
    dst[j++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
  while (j > 0 && (dst[j - 1] == ' ' || dst[j - 1] == '?'))
    j--;
  dst[j] = '\0';
}

/* ReportIntrinsic: a notification (severity OKAY) whenever a VM's OS facts
 * are first seen or change, the facts as notification meta data. */
static void hvp_report_intrinsic(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st,
                                 const char *host, double now) {
  char vals[HVP_N_INTRINSIC][128];
  uint64_t hash = HVKVP_FNV1A64_INIT;
  int any = 0;
  for (size_t i = 0; i < HVP_N_INTRINSIC; i++) {
    const char *v =
        hvkvp_items_get(&vm->pool[HV_POOL_INTRINSIC], hvp_intrinsic_keys[i]);
    hvp_clean_text(vals[i], sizeof(vals[i]), v ? v : "");
    any |= vals[i][0] != '\0';
    hash = hvkvp_fnv1a64(hash, vals[i], strlen(vals[i]) + 1);
  }
  if (!any || hash == st->intrinsic_hash)
    return;
  st->intrinsic_hash = hash;
  notification_t n;
  memset(&n, 0, sizeof(n));
  n.severity = NOTIF_OKAY;
  n.time = DOUBLE_TO_CDTIME_T(now);
  sstrncpy(n.host, host, sizeof(n.host));
  sstrncpy(n.plugin, "hyperv_kvp", sizeof(n.plugin));
  sstrncpy(n.plugin_instance, h->conf->name, sizeof(n.plugin_instance));
  sstrncpy(n.type, "vm", sizeof(n.type));
  char name[128];
  hvp_clean_text(name, sizeof(name), vm->name);
  snprintf(n.message, sizeof(n.message), "VM \"%.40s\" (%.40s): %.80s %.60s",
           name, vm->guid, vals[1], vals[2]);
  for (size_t i = 0; i < HVP_N_INTRINSIC; i++)
    if (vals[i][0] != '\0')
      plugin_notification_meta_add_string(&n, hvp_intrinsic_keys[i], vals[i]);
  plugin_dispatch_notification(&n);
  if (n.meta != NULL)
    plugin_notification_meta_free(n.meta);
}

/* Brings the VM's host pool under prefix p to the desired items of ps.
 * Returns 1 when the poll's push budget was spent first (pending), else 0. */
static int hvp_vm_push(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st, size_t p,
                       const hvp_push_state_t *ps, double budget_end) {
  hvp_push_diff_t d;
  const char *block = h->conf->name, *prefix = h->conf->prefix[p];
  int n = hvp_push_diff(&ps->desired[p], &vm->pool[HV_POOL_HOST], prefix, &d);
  if (n < 0) {
    h->push_failed++;
    ERROR("hyperv_kvp plugin: Host \"%s\": VM %s: out of memory computing "
          "the configuration to push",
          block, st->who);
    return 0;
  }
  if (n == 0) {
    hvp_push_diff_free(&d);
    return 0;
  }
  double left = budget_end - wsman_now();
  if (left <= 0) {
    hvp_push_diff_free(&d);
    return 1;
  }
  ws_err_t err;
  memset(&err, 0, sizeof(err));
  unsigned ops = 0;
  /* The budget decides whether a push starts; once started, each call may
   * follow its job for the rest of the budget but at least Timeout, so a
   * push begun near the end is not failed for a job that needs a moment. */
  double deadline =
      left > h->conf->hv.ws.timeout ? left : h->conf->hv.ws.timeout;
  if (hvp_push_apply(h->hv, vm->guid, &d, prefix, deadline, &ops, &err) == 0) {
    h->push_ok++;
    c_release(LOG_INFO, &st->push_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s: pushing configuration "
              "works again",
              block, st->who);
    INFO("hyperv_kvp plugin: Host \"%s\": VM %s: pushed configuration %s "
         "(%zu added, %zu modified, %zu removed)",
         block, st->who, ps->id, d.add.n, d.modify.n, d.remove.n);
  } else {
    h->push_failed++;
    c_complain(LOG_ERR, &st->push_c,
               "hyperv_kvp plugin: Host \"%s\": VM %s: pushing configuration "
               "%s failed: %s",
               block, st->who, ps->id, err.msg);
  }
  hvp_push_diff_free(&d);
  return 0;
}

static void hvp_dispatch_self_all(hvp_host_t *h, const wsman_stats_t *st,
                                  double interval, int listed) {
  const char *b = h->conf->name;
  value_t v[2];
  v[0].gauge = h->last.duration;
  hvp_dispatch_self(b, "duration", "poll", v, 1, interval);
  v[0].gauge = (gauge_t)h->last.requests;
  hvp_dispatch_self(b, "requests", "poll", v, 1, interval);
  v[0].gauge = (gauge_t)h->last.isolation;
  hvp_dispatch_self(b, "requests", "isolation", v, 1, interval);
  v[0].derive = (derive_t)st->requests;
  hvp_dispatch_self(b, "http_requests", "wsman", v, 1, interval);
  v[0].derive = (derive_t)st->bytes_in;
  v[1].derive = (derive_t)st->bytes_out;
  hvp_dispatch_self(b, "io_octets", "wsman", v, 2, interval);
  if (!listed)
    return;
  static const char *const gnames[] = {
      "vms",           "vms_without_message", "vms_stale",
      "vms_in_sync",   "vms_push_target",     "vms_push_pending",
      "vms_unreadable"};
  size_t gvals[] = {h->last.vms,         h->last.no_message,
                    h->last.stale,       h->last.in_sync,
                    h->last.push_target, h->last.push_pending,
                    h->last.unreadable};
  for (size_t i = 0; i < sizeof(gvals) / sizeof(gvals[0]); i++) {
    v[0].gauge = (gauge_t)gvals[i];
    hvp_dispatch_self(b, "count", gnames[i], v, 1, interval);
  }
  static const char *const dnames[] = {
      "messages_ok",  "messages_torn",     "messages_invalid",
      "messages_old", "items_refused",     "push_ok",
      "push_failed",  "values_dispatched", "values_dropped"};
  uint64_t dvals[] = {h->msg_ok,      h->msg_torn,          h->msg_invalid,
                      h->msg_old,     h->items_refused,     h->push_ok,
                      h->push_failed, h->values_dispatched, h->values_dropped};
  for (size_t i = 0; i < sizeof(dvals) / sizeof(dvals[0]); i++) {
    v[0].derive = (derive_t)dvals[i];
    hvp_dispatch_self(b, "operations", dnames[i], v, 1, interval);
  }
}

/* What the model could not read of the VM: items the decoder refused (the
 * first reason), or the whole VM kept aside. Once per VM until it heals. */
static void hvp_vm_items(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st) {
  const char *b = h->conf->name;
  h->items_refused += vm->items_rejected;
  if (vm->items_rejected > 0)
    c_complain_once(LOG_WARNING, &st->items_c,
                    "hyperv_kvp plugin: Host \"%s\": VM \"%s\" (%s): %u KVP "
                    "item(s) refused; first: %s",
                    b, vm->name, vm->guid, vm->items_rejected,
                    vm->reject_reason);
  else
    c_release(LOG_INFO, &st->items_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s: its KVP items are "
              "all read again",
              b, vm->guid);
  if (vm->unreadable) {
    h->last.unreadable++;
    c_complain_once(LOG_ERR, &st->unreadable_c,
                    "hyperv_kvp plugin: Host \"%s\": VM \"%s\" (%s) cannot be "
                    "read: %s; it is left aside (every other VM is read) and "
                    "tried again later",
                    b, vm->name, vm->guid, vm->unreadable_reason);
  } else {
    c_release(LOG_NOTICE, &st->unreadable_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s can be read again", b,
              vm->guid);
  }
}

/* The per-VM complaints of one dispatched message. */
static void hvp_vm_dispatched(hvp_host_t *h, hvp_vm_t *st, const char *host,
                              const hvp_dispatch_res_t *r) {
  const char *b = h->conf->name;
  if (r->bad_types > 0 && r->bad_type_ds == 0)
    c_complain_once(LOG_ERR, &st->types_c,
                    "hyperv_kvp plugin: Host \"%s\": VM %s (host \"%s\"): %zu "
                    "value list(s) of types collectd does not know (first: "
                    "\"%s\", not in types.db): dropped",
                    b, st->who, host, r->bad_types, r->bad_type);
  else if (r->bad_types > 0)
    c_complain_once(
        LOG_ERR, &st->types_c,
        "hyperv_kvp plugin: Host \"%s\": VM %s (host \"%s\"): %zu "
        "value list(s) of the wrong size (first: type \"%s\" with %zu "
        "values, but types.db defines %zu): dropped",
        b, st->who, host, r->bad_types, r->bad_type, r->bad_type_n,
        r->bad_type_ds);
  else
    c_release(LOG_INFO, &st->types_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s: every type is known "
              "again",
              b, st->who);
  if (r->duplicates > 0)
    c_complain_once(LOG_WARNING, &st->dup_c,
                    "hyperv_kvp plugin: Host \"%s\": VM %s (host \"%s\"): %zu "
                    "value list(s) repeat an identifier of the same message: "
                    "dropped",
                    b, st->who, host, r->duplicates);
  else
    c_release(LOG_INFO, &st->dup_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s: no repeated "
              "identifiers any more",
              b, st->who);
}

/* Hands the value lists held in the batch to collectd. */
static void hvp_flush(hvp_host_t *h) {
  size_t refused = hvp_batch_flush(&h->batch);
  h->values_dispatched -= refused;
  h->values_dropped += refused;
}

/* A new generation seen on this host: the VM is alive. */
static void hvp_vm_fresh(hvp_host_t *h, hvp_vm_t *st, const hvkvp_msg_t *msg,
                         double now) {
  st->have_msg = 1;
  sstrncpy(st->guest_host, msg->host, sizeof(st->guest_host));
  st->last_new = now;
  st->msg_interval = msg->interval;
  st->last_seq = msg->seq;
  sstrncpy(st->config, msg->config, sizeof(st->config));
  if (st->stale) {
    st->stale = 0;
    c_release(LOG_INFO, &st->stale_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s: new messages "
              "arrive again",
              h->conf->name, st->who);
  }
}

/* A message that decoded: dispatched once per generation for all Host
 * blocks, and only if its time is after the last one dispatched for the
 * VM under this prefix. */
static void hvp_vm_new_message(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st,
                               const hvkvp_msg_t *msg, const hvkvp_head_t *head,
                               double now, double interval) {
  const hvp_host_conf_t *c = h->conf;
  if (!hvkvp_gen_accept(&st->gen, head->epoch, head->gen))
    return; /* nothing new on this host */
  hvp_vm_fresh(h, st, msg, now);
  double t = hvp_dispatch_time(msg, now), last = 0;
  int locked; /* st->key: one stream per VM and prefix, for every block */
  hvp_gen_verdict_t v = hvp_gens_accept(st->key, h, head->epoch, head->gen, t,
                                        now, &last, &locked);
  if (v == HVP_GEN_OLD_TIME) {
    h->msg_old++;
    c_complain_once(
        LOG_WARNING, &st->old_c,
        "hyperv_kvp plugin: Host \"%s\": VM %s: message generation "
        "%llu has time %.3f, not after the last dispatched %.3f: not "
        "dispatched",
        c->name, st->who, (unsigned long long)head->gen, t, last);
    return;
  }
  if (v != HVP_GEN_NEW)
    return; /* dispatched already, by another Host block */
  c_release(LOG_INFO, &st->old_c,
            "hyperv_kvp plugin: Host \"%s\": VM %s: message times go forward "
            "again",
            c->name, st->who);
  char host[DATA_MAX_NAME_LEN];
  hvp_format_host(host, sizeof(host), c->hn, c->n_hn, vm->name, vm->guid,
                  msg->host);
  hvp_dispatch_res_t res;
  memset(&res, 0, sizeof(res));
  hvp_dispatch_msg(msg, &h->batch, host, now, interval, &res);
  hvp_vm_dispatched(h, st, host, &res);
  h->values_dispatched += res.dispatched;
  h->values_dropped += res.dropped;
  h->msg_ok++;
  if (locked) { /* a VM on two polled hosts: dispatched before any later */
    hvp_flush(h);
    hvp_gens_unlock();
  } else if (hvp_batch_due(&h->batch)) {
    hvp_flush(h);
  }
}

/* The VM's message where its generation is new: decoded, its value lists
 * in h->batch (0, *fresh set); 0 with *fresh clear when that generation was
 * taken already (nothing else is read); else the decoder's error (NOHEAD:
 * no message in the pools read). */
static int hvp_vm_decode(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st,
                         const char *prefix, hvkvp_msg_t *msg,
                         hvkvp_head_t *head, int *fresh, hvkvp_err_t *err) {
  hv_pool_t which = HV_POOL_GUEST;
  memset(err, 0, sizeof(*err));
  *fresh = 0;
  const hvkvp_items_t *pool =
      vm->unreadable ? NULL : hv_vm_message_pool(vm, prefix, &which);
  if (pool == NULL) {
    st->msg_in_guest = 0;
    return err->code = HVKVP_E_NOHEAD;
  }
  st->msg_in_guest = which == HV_POOL_GUEST;
  int rc = hvkvp_head_of(pool, prefix, head, err);
  if (rc != 0 || !hvkvp_gen_is_new(&st->gen, head->epoch, head->gen))
    return rc;
  *fresh = 1;
  hvkvp_vl_sink_t sink = hvp_batch_sink(&h->batch);
  return hvkvp_decoder_run(h->dec, pool, prefix, msg, NULL, &sink, err);
}

/* The decoder's verdict on the VM's items. */
static void hvp_vm_message(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st,
                           int rc, int fresh, const hvkvp_msg_t *msg,
                           const hvkvp_head_t *head, const hvkvp_err_t *derr,
                           double now, double interval) {
  const char *b = h->conf->name;
  if (rc == HVKVP_OK && !fresh)
    return; /* this generation was taken already */
  if (rc == HVKVP_OK) {
    c_release(LOG_INFO, &st->torn_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s: messages are whole "
              "again",
              b, st->who);
    c_release(LOG_INFO, &st->invalid_c,
              "hyperv_kvp plugin: Host \"%s\": VM %s: messages are valid "
              "again",
              b, st->who);
    hvp_vm_new_message(h, vm, st, msg, head, now, interval);
  } else if (rc == HVKVP_E_NOHEAD) {
    /* no message under this prefix: counted per VM (hvp_poll_vm) */
  } else if (hvkvp_err_is_torn((hvkvp_rc_t)rc)) {
    h->msg_torn++;
    c_complain(LOG_WARNING, &st->torn_c,
               "hyperv_kvp plugin: Host \"%s\": VM %s: torn message skipped "
               "(%s: %s)",
               b, st->who, hvkvp_strerror((hvkvp_rc_t)rc), derr->detail);
  } else {
    h->msg_invalid++;
    c_complain(LOG_ERR, &st->invalid_c,
               "hyperv_kvp plugin: Host \"%s\": VM %s: invalid message "
               "dropped (%s: %s)",
               b, st->who, hvkvp_strerror((hvkvp_rc_t)rc), derr->detail);
  }
}

/* No new message for StaleAfter of the VM's intervals (a VM that cannot be
 * read is counted as such, not as stale): returns 1 when stale. */
static int hvp_vm_staleness(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st,
                            double now, double interval) {
  const hvp_host_conf_t *c = h->conf;
  if (!st->have_msg || vm->unreadable)
    return 0;
  /* A guest's interval is hostile: outside (0, 1 day] the poll's. */
  double iv = st->msg_interval > 0 && st->msg_interval <= 86400.0
                  ? st->msg_interval
                  : interval;
  double limit = (double)c->stale_after * iv;
  if (now - st->last_new <= limit)
    return 0;
  if (!st->stale) {
    st->stale = 1;
    c_complain(LOG_WARNING, &st->stale_c,
               "hyperv_kvp plugin: Host \"%s\": VM %s: no new message "
               "for %.0f s (StaleAfter %u x %.0f s)",
               c->name, st->who, now - st->last_new, c->stale_after, iv);
  }
  return 1;
}

/* The state of the VM's message stream under prefix p; created on first
 * sight if `create`. */
static hvp_vm_t *hvp_stream(hvp_host_t *h, const hv_vm_t *vm, size_t p,
                            int create) {
  char key[sizeof(((hvp_vm_t *)NULL)->key)];
  snprintf(key, sizeof(key), "%.40s/%.63s", vm->guid, h->conf->prefix[p]);
  hvp_vm_t *st = hvp_vmtab_get(&h->vms, key, create);
  if (st != NULL && st->who[0] == '\0' && h->conf->n_prefix == 1)
    snprintf(st->who, sizeof(st->who), "%.40s", vm->guid);
  else if (st != NULL && st->who[0] == '\0')
    snprintf(st->who, sizeof(st->who), "%s", key); /* GUID/prefix */
  return st;
}

/* What one poll found of one VM over its streams (one per prefix). */
typedef struct {
  int any_head, stale, pending, sync_any, sync_all;
  const char *guest_host; /* of the first stream with a message */
} hvp_vm_sum_t;

/* Reads, dispatches, watches and pushes the VM's stream under prefix p. */
static void hvp_poll_stream(hvp_host_t *h, const hv_vm_t *vm, hvp_vm_t *st,
                            size_t p, const hvp_push_state_t *ps, double now,
                            double interval, double budget_end,
                            hvp_vm_sum_t *sum) {
  hvkvp_msg_t msg;
  hvkvp_head_t head;
  hvkvp_err_t derr;
  int fresh;
  hvkvp_msg_init(&msg);
  memset(&head, 0, sizeof(head));
  int rc =
      hvp_vm_decode(h, vm, st, h->conf->prefix[p], &msg, &head, &fresh, &derr);
  sum->any_head |= rc != HVKVP_E_NOHEAD;
  hvp_vm_message(h, vm, st, rc, fresh, &msg, &head, &derr, now, interval);
  hvkvp_msg_free(&msg);
  sum->stale |= hvp_vm_staleness(h, vm, st, now, interval);
  if (sum->guest_host == NULL && st->guest_host[0] != '\0')
    sum->guest_host = st->guest_host;
  if (ps == NULL)
    return;
  if (hv_vm_running(vm) && !vm->unreadable)
    sum->pending |= hvp_vm_push(h, vm, st, p, ps, budget_end);
  if (st->have_msg) { /* a writer under this prefix: echoes the id? */
    sum->sync_any = 1;
    sum->sync_all &= strcmp(st->config, ps->id) == 0;
  }
}

static void hvp_poll_vm(hvp_host_t *h, const hv_vm_t *vm, double now,
                        double interval, double budget_end) {
  const hvp_host_conf_t *c = h->conf;
  hvp_vm_t *first = NULL;
  const hvp_push_conf_t *pc =
      c->n_push > 0 ? hvp_config_push_for(c, vm->name, vm->guid) : NULL;
  const hvp_push_state_t *ps = pc != NULL ? &h->push[pc - c->push] : NULL;
  hvp_vm_sum_t sum = {0, 0, 0, 0, 1, NULL};
  for (size_t p = 0; p < c->n_prefix; p++) {
    hvp_vm_t *st = hvp_stream(h, vm, p, 1);
    if (st == NULL) {
      ERROR("hyperv_kvp plugin: Host \"%s\": out of memory for VM %s", c->name,
            vm->guid);
      return;
    }
    st->mark = h->poll_no;
    if (first == NULL) { /* the VM's own complaints live in its first */
      first = st;
      h->last.vms++;
      hvp_vm_items(h, vm, st);
    }
    hvp_poll_stream(h, vm, st, p, ps, now, interval, budget_end, &sum);
  }
  h->last.no_message += !sum.any_head;
  h->last.stale += sum.stale;
  if (ps != NULL) {
    h->last.push_target++;
    h->last.push_pending += sum.pending;
    h->last.in_sync += sum.sync_any && sum.sync_all;
  }
  if (c->report_intrinsic && (vm->pools_read & HV_WANT_INTRINSIC)) {
    char host[DATA_MAX_NAME_LEN];
    hvp_format_host(host, sizeof(host), c->hn, c->n_hn, vm->name, vm->guid,
                    sum.guest_host != NULL ? sum.guest_host : "");
    hvp_report_intrinsic(h, vm, first, host, now);
  }
}

static int hvp_listed_now(const hvp_vm_t *e, const void *arg) {
  return e->mark == *(const unsigned *)arg;
}

/* Polls between two reads of every VM's intrinsic pool for ReportIntrinsic
 * (the OS facts change rarely; the first poll reads them all). */
#define HVP_INTRINSIC_EVERY 30

/* A VM whose intrinsic pool (GuestIntrinsicExchangeItems, 10 items of
 * Hyper-V's own, about 6.7 KB on the wire) this poll reads: one not seen
 * before, and one whose message was not in its guest pool last time (a
 * Windows reporter writing to "Auto", or no reporter yet). */
static int hvp_wants_intrinsic(void *ctx, const hv_vm_t *vm) {
  hvp_host_t *h = ctx;
  if (!hvp_filter_match(&h->conf->filter, vm->name, vm->guid))
    return 0;
  for (size_t p = 0; p < h->conf->n_prefix; p++) {
    const hvp_vm_t *st = hvp_stream(h, vm, p, 0);
    if (st == NULL || !st->msg_in_guest)
      return 1;
  }
  return 0;
}

/* The figures of the poll and its self metrics. */
static void hvp_poll_end(hvp_host_t *h, const wsman_stats_t *s0, double t0,
                         double interval, int listed) {
  wsman_stats_t s1;
  hv_isolation_t iso;
  hv_host_budget_end(h->hv);
  hv_host_stats(h->hv, &s1);
  hv_host_isolation(h->hv, &iso);
  h->last.requests = s1.requests - s0->requests;
  h->last.isolation = iso.requests;
  h->last.duration = wsman_now() - t0;
  hvp_dispatch_self_all(h, &s1, interval, listed);
}

int hvp_poll(hvp_host_t *h, double now, double interval) {
  double t0 = wsman_now();
  wsman_stats_t s0;
  hv_host_stats(h->hv, &s0);
  memset(&h->last, 0, sizeof(h->last));
  wsman_budget_t budget =
      hv_poll_budget(&h->conf->budget, interval, h->conf->hv.ws.timeout);
  hv_host_budget(h->hv, &budget);

  /* every VM's OS facts now and then (ReportIntrinsic); otherwise the
   * intrinsic pool only where a message may be (hvp_wants_intrinsic) */
  unsigned want = HV_WANT_GUEST;
  if (h->conf->report_intrinsic && h->poll_no % HVP_INTRINSIC_EVERY == 0)
    want |= HV_WANT_INTRINSIC;
  if (h->conf->n_push > 0)
    want |= HV_WANT_HOST;
  hv_pick_t extra = {HV_POOL_INTRINSIC, hvp_wants_intrinsic, h};
  hv_vms_t vms = {0, NULL};
  ws_err_t err;
  memset(&err, 0, sizeof(err));
  if (hv_list_vms_pick(h->hv, want, &extra, &vms, &err) != 0) {
    c_complain(LOG_ERR, &h->list_c,
               "hyperv_kvp plugin: Host \"%s\": listing the VMs of %s "
               "failed: %s",
               h->conf->name, h->conf->hv.ws.url, err.msg);
    hvp_poll_end(h, &s0, t0, interval, 0);
    return -1;
  }
  c_release(LOG_NOTICE, &h->list_c,
            "hyperv_kvp plugin: Host \"%s\": listing the VMs of %s works "
            "again",
            h->conf->name, h->conf->hv.ws.url);

  h->poll_no++;
  double budget_end = t0 + interval / 2;
  for (size_t i = 0; i < vms.n; i++) {
    const hv_vm_t *vm = &vms.v[i];
    if (vm->guid[0] != '\0' &&
        hvp_filter_match(&h->conf->filter, vm->name, vm->guid))
      hvp_poll_vm(h, vm, now, interval, budget_end);
  }
  hvp_flush(h);
  hvp_vmtab_sweep(&h->vms, hvp_listed_now, &h->poll_no);
  hvp_gens_sweep(now - (interval * 10 > 3600 ? interval * 10 : 3600));
  hv_vms_free(&vms);
  hvp_poll_end(h, &s0, t0, interval, 1);
  return 0;
}
