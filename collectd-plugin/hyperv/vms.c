/*
 * hyperv.c - the Hyper-V WMI model (hyperv.h) over the WS-Man transport:
 * VMs with their KVP items in a constant number of enumerations joined on
 * the VM GUID through a hash map, and host item changes through
 * Msvm_VirtualSystemManagementService methods, following Msvm_ConcreteJob.
 */
#include "hyperv.h"
#include "cimxml.h"
#include "hv_errors.h"
#include "hyperv_int.h"
#include "kvp_stream.h"
#include "wmi.h"
#include "wsman.h"
#include "xmldoc.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bound on what one host may make us hold (items per pool: kvp_sax.h). */
#define HV_MAX_VMS 65536

struct hv_host {
  wsman_t *w;
  char ns[128];
  unsigned max_elements;
  int have_vsms;
  char vsms_sel[4][256]; /* CreationClassName, Name, SCCN, SystemName */
};

static int hv_ns_ok(const char *ns) {
  if (ns[0] == '\0' || strlen(ns) >= 128)
    return 0;
  for (const char *p = ns; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '/' && *p != '_')
      return 0;
  return 1;
}

hv_host_t *hv_host_new(const hv_opts_t *o, ws_err_t *err) {
  ws_err_clear(err);
  if (o == NULL) {
    ws_err_set(err, WS_ERR_CONFIG, "no options");
    return NULL;
  }
  const char *ns = o->ns != NULL ? o->ns : HV_WMI_DEFAULT_NS;
  if (!hv_ns_ok(ns)) {
    ws_err_set(err, WS_ERR_CONFIG,
               "invalid WMI namespace '%.100s' (e.g. root/virtualization/v2)",
               ns);
    return NULL;
  }
  hv_host_t *h = calloc(1, sizeof(*h));
  if (h == NULL) {
    ws_err_set(err, WS_ERR_CONFIG, "out of memory");
    return NULL;
  }
  snprintf(h->ns, sizeof(h->ns), "%s", ns);
  h->max_elements = o->max_elements ? o->max_elements : 512;
  wsman_opts_t wo = {
      .url = o->url,
      .user = o->user,
      .password = o->password,
      .auth = o->auth,
      .cacert = o->cacert,
      .verify_peer = !o->insecure_peer,
      .verify_host = !o->insecure_host,
      .timeout = o->timeout > 0 ? o->timeout : 10,
      .max_envelope_kb = o->max_envelope_kb ? o->max_envelope_kb : 500,
      .encryption = o->encryption,
      .keytab = o->keytab,
      .principal = o->principal,
  };
  /* the server gives up (with a fault) before our transfer deadline does */
  double t = wo.timeout - 1;
  wo.operation_timeout_s = t >= 60 ? 60 : t >= 1 ? (unsigned)t : 1;
  h->w = wsman_new(&wo, err);
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
  free(h);
}

void hv_host_stats(const hv_host_t *h, wsman_stats_t *st) {
  wsman_get_stats(h->w, st);
}

void hv_vms_free(hv_vms_t *vms) {
  if (vms == NULL)
    return;
  for (size_t i = 0; i < vms->n; i++) {
    hvkvp_items_free(&vms->v[i].intrinsic);
    hvkvp_items_free(&vms->v[i].guest);
    hvkvp_items_free(&vms->v[i].host);
  }
  free(vms->v);
  vms->v = NULL;
  vms->n = 0;
}

/* ---- GUIDs ---- */

/* ---- the join map: VM GUID -> index in the result ---- */
typedef struct {
  size_t cap;    /* power of two */
  int32_t *slot; /* -1 empty */
  hv_vms_t *vms;
} hv_map_t;

static uint32_t hv_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static int hv_map_build(hv_map_t *m, hv_vms_t *vms) {
  m->cap = 16;
  while (m->cap < vms->n * 2)
    m->cap *= 2;
  m->slot = malloc(m->cap * sizeof(*m->slot));
  if (m->slot == NULL)
    return -1;
  for (size_t i = 0; i < m->cap; i++)
    m->slot[i] = -1;
  m->vms = vms;
  for (size_t i = 0; i < vms->n; i++) {
    size_t k = hv_hash(vms->v[i].guid) & (m->cap - 1);
    while (m->slot[k] >= 0)
      k = (k + 1) & (m->cap - 1);
    m->slot[k] = (int32_t)i;
  }
  return 0;
}

static hv_vm_t *hv_map_get(const hv_map_t *m, const char *guid) {
  size_t k = hv_hash(guid) & (m->cap - 1);
  while (m->slot[k] >= 0) {
    hv_vm_t *vm = &m->vms->v[m->slot[k]];
    if (strcmp(vm->guid, guid) == 0)
      return vm;
    k = (k + 1) & (m->cap - 1);
  }
  return NULL;
}

/* ---- enumeration callbacks ---- */

typedef struct {
  hv_vms_t *vms;
  size_t cap;
  hv_map_t map;
  unsigned want;
} hv_list_t;

/* The text of a CIM integer property (uint16 EnabledState and JobState,
 * uint32 ReturnValue and ErrorCode): decimal digits, surrounding XML
 * whitespace allowed, at most 2^32 - 1. 0 on success, -1 for anything else
 * (atoi would read "abc" as 0, which is "Completed with no error" for a
 * ReturnValue). */
static int hv_parse_u32(const char *s, uint32_t *out) {
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
    s++;
  if (!isdigit((unsigned char)*s))
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
    end++;
  if (errno != 0 || *end != '\0' || v > UINT32_MAX)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* Finds which props entry an element names (local name, any namespace). */
static int hv_prop_of(const hv_wmi_class_t *c, const xmlNode *n) {
  const char *name = (const char *)n->name;
  for (int i = 0; c->props[i] != NULL; i++)
    if (strcmp(c->props[i], name) == 0)
      return i;
  return -1;
}

static int hv_cs_cb(xmlNodePtr inst, void *ctx, ws_err_t *err) {
  hv_list_t *l = ctx;
  char name[64] = "", ename[256] = "", state[16] = "";
  int have_name = 0;
  for (xmlNodePtr p = hvx_first_elem(inst); p != NULL; p = hvx_next_elem(p)) {
    switch (hv_prop_of(&hv_class_computer_system, p)) {
    case HV_CS_NAME:
      have_name = hvx_text_copy(p, name, sizeof(name)) < sizeof(name);
      break;
    case HV_CS_ELEMENTNAME:
      hvx_text_copy(p, ename, sizeof(ename));
      break;
    case HV_CS_ENABLEDSTATE:
      hvx_text_copy(p, state, sizeof(state));
      break;
    default:
      break;
    }
  }
  char guid[37];
  /* VMs are named by their GUID; the host is named by its computer name. */
  if (!have_name || !kvps_guid_norm(name, strlen(name), guid))
    return 0;
  if (l->vms->n >= HV_MAX_VMS)
    return ws_err_set(err, WS_ERR_PARSE, "more than %d VMs listed", HV_MAX_VMS);
  if (l->vms->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 64;
    hv_vm_t *v = realloc(l->vms->v, nc * sizeof(*v));
    if (v == NULL)
      return ws_err_set(err, WS_ERR_PARSE, "out of memory listing VMs");
    l->vms->v = v;
    l->cap = nc;
  }
  hv_vm_t *vm = &l->vms->v[l->vms->n++];
  memset(vm, 0, sizeof(*vm));
  memcpy(vm->guid, guid, sizeof(guid));
  snprintf(vm->name, sizeof(vm->name), "%s", ename);
  uint32_t es;
  /* missing or not a number: 0, "Unknown" */
  vm->enabled_state =
      hv_parse_u32(state, &es) == 0 && es <= 0xffff ? (int)es : 0;
  hvkvp_items_init(&vm->intrinsic);
  hvkvp_items_init(&vm->guest);
  hvkvp_items_init(&vm->host);
  return 0;
}

/* The two KVP enumerations, read by kvp_sax.c. */
static const kvps_class_t hv_kvps_component = {
    "SystemName",
    0,
    {"GuestIntrinsicExchangeItems", "GuestExchangeItems", NULL},
    1};
static const kvps_class_t hv_kvps_setting_data = {
    "InstanceID", 1, {NULL, NULL, "HostExchangeItems"}, 0};

typedef struct {
  const kvps_class_t *cls;
  hv_map_t *map;
} hv_stream_t;

static hv_vm_t *hv_find(void *ctx, const char *guid) {
  return hv_map_get(ctx, guid);
}

static int hv_stream_page(const char *buf, size_t len, size_t max_len,
                          int is_pull, wsman_page_t *pg, size_t *items,
                          void *ctx, ws_err_t *err) {
  hv_stream_t *st = ctx;
  return kvps_page(st->cls, hv_find, st->map, buf, len, max_len, is_pull, pg,
                   items, err);
}

/* A kvp_sax class reading only the pools in want. */
static kvps_class_t hv_kvps_want(const kvps_class_t *c, unsigned want) {
  kvps_class_t k = *c;
  if (!(want & HV_WANT_INTRINSIC))
    k.pool_prop[KVPS_INTRINSIC] = NULL;
  if (!(want & HV_WANT_GUEST))
    k.pool_prop[KVPS_GUEST] = NULL;
  if (!(want & HV_WANT_HOST))
    k.pool_prop[KVPS_HOST] = NULL;
  return k;
}

static int hv_enum_stream(hv_host_t *h, const hv_wmi_class_t *c, unsigned mask,
                          const kvps_class_t *kc, hv_map_t *map,
                          ws_err_t *err) {
  char uri[256];
  if (hv_wmi_uri(uri, sizeof(uri), h->ns, "*") != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  hvsb_t wql;
  hvsb_init(&wql);
  hv_wmi_wql(&wql, c, mask);
  hv_stream_t st = {kc, map};
  int rc = hvsb_failed(&wql) ? ws_err_set(err, WS_ERR_CONFIG, "out of memory")
                             : wsman_enumerate_stream(h->w, uri, hvsb_str(&wql),
                                                      h->max_elements,
                                                      hv_stream_page, &st, err);
  if (rc != 0)
    ws_err_prefix(err, "enumerating %s", c->name);
  hvsb_free(&wql);
  return rc;
}

static int hv_enum_wql(hv_host_t *h, const hv_wmi_class_t *c, unsigned mask,
                       wsman_item_cb cb, void *ctx, ws_err_t *err) {
  char uri[256];
  if (hv_wmi_uri(uri, sizeof(uri), h->ns, "*") != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  hvsb_t wql;
  hvsb_init(&wql);
  hv_wmi_wql(&wql, c, mask);
  int rc = hvsb_failed(&wql) ? ws_err_set(err, WS_ERR_CONFIG, "out of memory")
                             : wsman_enumerate(h->w, uri, hvsb_str(&wql),
                                               h->max_elements, cb, ctx, err);
  if (rc != 0)
    ws_err_prefix(err, "enumerating %s", c->name);
  hvsb_free(&wql);
  return rc;
}

int hv_list_vms(hv_host_t *h, unsigned want, hv_vms_t *out, ws_err_t *err) {
  ws_err_clear(err);
  out->n = 0;
  out->v = NULL;
  hv_list_t l = {.vms = out, .want = want};
  if (hv_enum_wql(h, &hv_class_computer_system,
                  1u << HV_CS_NAME | 1u << HV_CS_ELEMENTNAME |
                      1u << HV_CS_ENABLEDSTATE,
                  hv_cs_cb, &l, err) != 0)
    goto fail;
  if (hv_map_build(&l.map, out) != 0) {
    ws_err_set(err, WS_ERR_PARSE, "out of memory");
    goto fail;
  }
  unsigned mask = 1u << HV_KVP_SYSTEMNAME;
  if (want & HV_WANT_INTRINSIC)
    mask |= 1u << HV_KVP_INTRINSIC;
  if (want & HV_WANT_GUEST)
    mask |= 1u << HV_KVP_GUEST;
  kvps_class_t kc = hv_kvps_want(&hv_kvps_component, want);
  if (out->n > 0 &&
      hv_enum_stream(h, &hv_class_kvp_component, mask, &kc, &l.map, err) != 0)
    goto fail_map;
  kc = hv_kvps_want(&hv_kvps_setting_data, want);
  if (out->n > 0 && (want & HV_WANT_HOST) &&
      hv_enum_stream(h, &hv_class_kvp_setting_data,
                     1u << HV_KVPSD_INSTANCEID | 1u << HV_KVPSD_HOST, &kc,
                     &l.map, err) != 0)
    goto fail_map;
  free(l.map.slot);
  return 0;
fail_map:
  free(l.map.slot);
fail:
  hv_vms_free(out);
  return -1;
}

/* ---- host item changes ---- */

static int hv_vsms(hv_host_t *h, ws_err_t *err);

static int hv_vsms_cb(xmlNodePtr inst, void *ctx, ws_err_t *err) {
  hv_host_t *h = ctx;
  int got = 0;
  for (xmlNodePtr p = hvx_first_elem(inst); p != NULL; p = hvx_next_elem(p)) {
    int i = hv_prop_of(&hv_class_vsms, p);
    if (i >= 0 && i < 4 &&
        hvx_text_copy(p, h->vsms_sel[i], sizeof(h->vsms_sel[i])) <
            sizeof(h->vsms_sel[i]) &&
        h->vsms_sel[i][0] != '\0')
      got |= 1 << i;
  }
  if ((got & 0xf) != 0xf)
    return ws_err_set(err, WS_ERR_PARSE,
                      "Msvm_VirtualSystemManagementService instance lacks "
                      "one of CreationClassName, Name, "
                      "SystemCreationClassName, SystemName");
  h->have_vsms = 1;
  return 1; /* the first instance is the one */
}

static int hv_vsms(hv_host_t *h, ws_err_t *err) {
  if (h->have_vsms)
    return 0;
  char uri[256];
  if (hv_wmi_uri(uri, sizeof(uri), h->ns, hv_class_vsms.name) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  if (wsman_enumerate(h->w, uri, NULL, 1, hv_vsms_cb, h, err) != 0) {
    ws_err_prefix(err, "finding Msvm_VirtualSystemManagementService");
    return -1;
  }
  if (!h->have_vsms)
    return ws_err_set(err, WS_ERR_NOTFOUND,
                      "the host has no Msvm_VirtualSystemManagementService in "
                      "%s (is Hyper-V installed, is the namespace right?)",
                      h->ns);
  return 0;
}

static double hv_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hv_sleep(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

/* Follows a Msvm_ConcreteJob until it ends or the deadline passes. */
static int hv_job_wait(hv_host_t *h, const char *method, const char *job_id,
                       double deadline, ws_err_t *err) {
  char uri[256];
  if (hv_wmi_uri(uri, sizeof(uri), h->ns, hv_class_concrete_job.name) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  wsman_selector_t sel = {"InstanceID", job_id};
  double pause = 0.05;
  for (;;) {
    wsman_resp_t r;
    xmlNodePtr inst;
    if (wsman_get(h->w, uri, &sel, 1, &r, &inst, err) != 0) {
      ws_err_prefix(err, "%s job %s", method, job_id);
      return -1;
    }
    char state_s[16] = "", code_s[16] = "", desc[256] = "";
    for (xmlNodePtr p = hvx_first_elem(inst); p != NULL; p = hvx_next_elem(p)) {
      switch (hv_prop_of(&hv_class_concrete_job, p)) {
      case HV_JOB_JOBSTATE:
        hvx_text_copy(p, state_s, sizeof(state_s));
        break;
      case HV_JOB_ERRORCODE:
        hvx_text_copy(p, code_s, sizeof(code_s));
        break;
      case HV_JOB_ERRORDESCRIPTION:
        hvx_text_copy(p, desc, sizeof(desc));
        break;
      default:
        break;
      }
    }
    wsman_resp_free(&r);
    if (state_s[0] == '\0')
      return ws_err_set(err, WS_ERR_PARSE,
                        "%s job %s: Msvm_ConcreteJob without JobState", method,
                        job_id);
    uint32_t state_u, code = 0;
    if (hv_parse_u32(state_s, &state_u) != 0 || state_u > 0xffff)
      return ws_err_set(err, WS_ERR_PARSE,
                        "%s job %s: JobState \"%s\" is not a number", method,
                        job_id, state_s);
    int state = (int)state_u;
    if (hv_parse_u32(code_s, &code) != 0)
      code = 0; /* missing or not a number: reported as 0 */
    if (state == 7)
      return 0;
    if (state >= 8 && state <= 10) {
      ws_err_set(err, WS_ERR_JOB,
                 "%s job %s ended %s (JobState %d): ErrorCode %u (%s)%s%s",
                 method, job_id, hv_job_state_str(state), state, code,
                 hv_return_code_str(code), desc[0] ? ": " : "", desc);
      if (err)
        err->code = code;
      return -1;
    }
    double now = hv_now();
    if (now >= deadline)
      return ws_err_set(err, WS_ERR_TIMEOUT,
                        "%s job %s still %s (JobState %d) at the deadline",
                        method, job_id, hv_job_state_str(state), state);
    double left = deadline - now;
    hv_sleep(pause < left ? pause : left);
    pause = pause * 2 < 1.0 ? pause * 2 : 1.0;
  }
}

/* The InstanceID selector of the Job EPR in a method output. */
static int hv_job_id(const xmlNode *output, char *buf, size_t sz) {
  xmlNodePtr job = hvx_child(output, NULL, "Job");
  if (job == NULL)
    return -1;
  xmlNodePtr ss = hvx_path(hvx_child(job, WSMAN_NS_WSA, "ReferenceParameters"),
                           WSMAN_NS_WSMAN, "SelectorSet", (const char *)NULL);
  for (xmlNodePtr s = hvx_child(ss, WSMAN_NS_WSMAN, "Selector"); s != NULL;
       s = hvx_next(s, WSMAN_NS_WSMAN, "Selector")) {
    xmlChar *n = hvx_attr(s, "Name");
    int is_id = n != NULL && strcmp((const char *)n, "InstanceID") == 0;
    xmlFree(n);
    if (is_id)
      return hvx_text_copy(s, buf, sz) < sz && buf[0] ? 0 : -1;
  }
  return -1;
}

static int hv_kvp_batch(hv_host_t *h, const char *guid, hv_kvp_op_t op,
                        const hvkvp_items_t *items, size_t from, size_t n,
                        double deadline, ws_err_t *err) {
  const char *method = hv_method_kvp[op];
  char vsms_uri[256], cs_uri[256];
  if (hv_wmi_uri(vsms_uri, sizeof(vsms_uri), h->ns, hv_class_vsms.name) != 0 ||
      hv_wmi_uri(cs_uri, sizeof(cs_uri), h->ns,
                 hv_class_computer_system.name) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  hvsb_t body, inst;
  hvsb_init(&body);
  hvsb_init(&inst);
  hvsb_addf(&body, "<p:%s_INPUT xmlns:p=\"%s\"><p:TargetSystem>", method,
            vsms_uri);
  wsman_selector_t target[2] = {{"CreationClassName", "Msvm_ComputerSystem"},
                                {"Name", guid}};
  wsman_build_epr(&body, cs_uri, target, 2);
  hvsb_adds(&body, "</p:TargetSystem>");
  for (size_t i = from; i < from + n; i++) {
    const hvkvp_item_t *it = &items->v[i];
    hvsb_reset(&inst);
    if (cimx_encode(&inst, it->key,
                    op == HV_KVP_REMOVE ? "" : (it->value ? it->value : ""),
                    0) != 0) {
      hvsb_free(&body);
      hvsb_free(&inst);
      return ws_err_set(err, WS_ERR_CONFIG,
                        "item '%.64s' cannot be sent: empty or too long key, "
                        "value over %d bytes, invalid UTF-8 or a control "
                        "character",
                        it->key ? it->key : "", HVKVP_VALUE_LEN - 1);
    }
    hvsb_adds(&body, "<p:DataItems>");
    hvsb_add_xml(&body, hvsb_str(&inst));
    hvsb_adds(&body, "</p:DataItems>");
  }
  hvsb_addf(&body, "</p:%s_INPUT>", method);
  hvsb_free(&inst);
  if (hvsb_failed(&body)) {
    hvsb_free(&body);
    return ws_err_set(err, WS_ERR_CONFIG, "out of memory building %s", method);
  }
  wsman_selector_t sel[4] = {{"CreationClassName", h->vsms_sel[0]},
                             {"Name", h->vsms_sel[1]},
                             {"SystemCreationClassName", h->vsms_sel[2]},
                             {"SystemName", h->vsms_sel[3]}};
  wsman_resp_t r;
  xmlNodePtr output;
  int rc = wsman_invoke(h->w, vsms_uri, method, sel, 4, hvsb_str(&body), &r,
                        &output, err);
  hvsb_free(&body);
  if (rc != 0) {
    if (err != NULL && err->kind == WS_ERR_FAULT)
      h->have_vsms = 0; /* look the service up again next time */
    ws_err_prefix(err, "VM %s", guid);
    return -1;
  }
  char rv_s[16];
  xmlNodePtr rvn = hvx_child(output, NULL, "ReturnValue");
  if (rvn == NULL || hvx_text_copy(rvn, rv_s, sizeof(rv_s)) >= sizeof(rv_s) ||
      rv_s[0] == '\0') {
    wsman_resp_free(&r);
    return ws_err_set(err, WS_ERR_PARSE, "%s output has no ReturnValue",
                      method);
  }
  uint32_t rv;
  if (hv_parse_u32(rv_s, &rv) != 0) {
    wsman_resp_free(&r);
    return ws_err_set(err, WS_ERR_PARSE,
                      "%s ReturnValue \"%s\" is not a number", method, rv_s);
  }
  char job[256] = "";
  int have_job = rv == 4096 && hv_job_id(output, job, sizeof(job)) == 0;
  wsman_resp_free(&r);
  if (rv == 0)
    return 0;
  if (rv == 4096) {
    if (!have_job)
      return ws_err_set(err, WS_ERR_PARSE,
                        "%s returned 4096 (job started) without a Job "
                        "reference with an InstanceID",
                        method);
    return hv_job_wait(h, method, job, deadline, err);
  }
  ws_err_set(err, WS_ERR_METHOD, "%s on VM %s returned %u (%s)", method, guid,
             rv, hv_return_code_str(rv));
  if (err)
    err->code = rv;
  return -1;
}

int hv_kvp_items(hv_host_t *h, const char *vm_guid, hv_kvp_op_t op,
                 const hvkvp_items_t *items, double deadline_s, ws_err_t *err) {
  ws_err_clear(err);
  char guid[37];
  if (vm_guid == NULL || !kvps_guid_norm(vm_guid, strlen(vm_guid), guid))
    return ws_err_set(err, WS_ERR_CONFIG, "'%.64s' is not a VM GUID",
                      vm_guid ? vm_guid : "(null)");
  if (op != HV_KVP_ADD && op != HV_KVP_MODIFY && op != HV_KVP_REMOVE)
    return ws_err_set(err, WS_ERR_CONFIG, "unknown KVP operation %d", (int)op);
  if (items == NULL || items->n == 0)
    return 0;
  double deadline = hv_now() + (deadline_s > 0 ? deadline_s : 60);
  if (hv_vsms(h, err) != 0)
    return -1;
  for (size_t from = 0; from < items->n; from += HV_KVP_MAX_BATCH) {
    size_t n = items->n - from;
    if (n > HV_KVP_MAX_BATCH)
      n = HV_KVP_MAX_BATCH;
    if (hv_kvp_batch(h, guid, op, items, from, n, deadline, err) != 0)
      return -1;
  }
  return 0;
}

int hv_decode_kvp_page(hv_vms_t *vms, unsigned want, const char *buf,
                       size_t len, size_t max_len, int is_pull, ws_err_t *err) {
  ws_err_clear(err);
  hv_map_t map;
  if (hv_map_build(&map, vms) != 0)
    return ws_err_set(err, WS_ERR_PARSE, "out of memory");
  kvps_class_t kc = hv_kvps_want(&hv_kvps_component, want);
  wsman_page_t pg;
  size_t items;
  int rc = kvps_page(&kc, hv_find, &map, buf, len, max_len, is_pull, &pg,
                     &items, err);
  if (rc == WSMAN_PAGE_FAULT) {
    wsman_resp_t r;
    if (wsman_parse_response(buf, len, max_len, 200, &r, err) == 0)
      wsman_resp_free(&r);
    rc = -1;
  }
  free(map.slot);
  return rc;
}
