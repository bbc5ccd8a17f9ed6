/*
 * wmi.c - the generic WMI layer (see wmi.h): tables made from
 * wmi_classes.def, URIs and WQL, enumeration of a class, and method
 * invocation with Msvm_ConcreteJob polling.
 */
#include "wmi.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- tables ---- */
#define HV_CLASS(id, name, doc) [HV_CLASS_##id] = {#name, doc},
#define HV_PROP(cls, id, name)
#define HV_METHOD(id, name)
#define HV_VALUE(set, id, num, text)
#define HV_POOL(id, cls, prop, key)
#define HV_PARAM(id, name)
const hv_class_desc_t hv_wmi_classes[HV_CLASS__COUNT] = {
#include "wmi_classes.def"
};
#undef HV_CLASS
#undef HV_PROP

#define HV_CLASS(id, name, doc)
#define HV_PROP(cls, id, name) [HV_##cls##_##id] = {HV_CLASS_##cls, #name},
const hv_prop_desc_t hv_wmi_props[HV_PROP__COUNT] = {
#include "wmi_classes.def"
};
#undef HV_PROP
#undef HV_METHOD

#define HV_PROP(cls, id, name)
#define HV_METHOD(id, name) [HV_KVP_##id] = #name,
const char *const hv_wmi_methods[HV_KVP__COUNT] = {
#include "wmi_classes.def"
};
#undef HV_METHOD
#undef HV_POOL

#define HV_METHOD(id, name)
#define HV_POOL(id, cls, prop, key)                                            \
  [HV_POOL_##id] = {HV_CLASS_##cls, HV_##cls##_##prop, HV_##cls##_##key,       \
                    HV_##cls##_##key == HV_KVPSD_INSTANCEID},
const hv_pool_desc_t hv_wmi_pools[HV_POOL__COUNT] = {
#include "wmi_classes.def"
};
#undef HV_POOL
#undef HV_VALUE

typedef struct {
  const char *set;
  uint32_t num;
  const char *text;
} hv_value_desc_t;

#define HV_POOL(id, cls, prop, key)
#define HV_VALUE(set, id, num, text) {#set, num, text},
static const hv_value_desc_t hv_wmi_values[] = {
#include "wmi_classes.def"
};
#undef HV_VALUE
#undef HV_PARAM

#define HV_VALUE(set, id, num, text)
#define HV_PARAM(id, name) [HV_PARAM_##id] = #name,
const char *const hv_wmi_params[HV_PARAM__COUNT] = {
#include "wmi_classes.def"
};
#undef HV_CLASS
#undef HV_PROP
#undef HV_METHOD
#undef HV_VALUE
#undef HV_POOL
#undef HV_PARAM

/* ---- names ---- */

int hv_wmi_prop(hv_class_t c, const char *name) {
  for (int i = 0; i < HV_PROP__COUNT; i++)
    if (hv_wmi_props[i].cls == c && strcmp(hv_wmi_props[i].name, name) == 0)
      return i;
  return -1;
}

static const char *hv_value_name(const char *set, uint32_t v,
                                 const char *other) {
  for (size_t i = 0; i < sizeof(hv_wmi_values) / sizeof(hv_wmi_values[0]); i++)
    if (hv_wmi_values[i].num == v && strcmp(hv_wmi_values[i].set, set) == 0)
      return hv_wmi_values[i].text;
  return other;
}

const char *hv_state_str(uint32_t s) {
  return hv_value_name("STATE", s, "Other");
}

const char *hv_job_state_str(uint32_t s) {
  return hv_value_name("JOB", s, "Unknown");
}

const char *hv_return_code_str(uint32_t rc) {
  return hv_value_name("RC", rc, "Unknown return code");
}

int hv_return_code_retryable(uint32_t rc) {
  return rc == HV_RC_IN_USE || rc == HV_RC_INVALID_STATE;
}

/* ---- text ---- */

int hv_wmi_uri(char *buf, size_t sz, const char *ns, const char *cls) {
  int n = snprintf(buf, sz, HV_WMI_URI_PREFIX "%s/%s", ns, cls ? cls : "*");
  return n < 0 || (size_t)n >= sz ? -1 : 0;
}

void hv_wmi_wql(hvsb_t *b, hv_class_t c, uint64_t mask, const char *where) {
  int first = 1;
  hvsb_adds(b, "SELECT ");
  for (int i = 0; i < HV_PROP__COUNT; i++) {
    if (hv_wmi_props[i].cls != c || !(mask & HV_PROP_BIT(i)))
      continue;
    hvsb_adds(b, first ? "" : ", ");
    hvsb_adds(b, hv_wmi_props[i].name);
    first = 0;
  }
  hvsb_adds(b, first ? "* FROM " : " FROM ");
  hvsb_adds(b, hv_wmi_classes[c].name);
  if (where != NULL && where[0] != '\0') {
    hvsb_adds(b, " WHERE ");
    hvsb_adds(b, where);
  }
}

int hv_wmi_parse_u32(const char *s, uint32_t *out) {
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

int hv_wmi_guid(const char *s, size_t len, char out[37]) {
  if (len == 38 && s[0] == '{' && s[37] == '}') {
    s++;
    len = 36;
  }
  if (len != 36)
    return 0;
  for (size_t i = 0; i < 36; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return 0;
    } else if (!isxdigit((unsigned char)c)) {
      return 0;
    }
    out[i] = (char)toupper((unsigned char)c);
  }
  out[36] = '\0';
  return 1;
}

/* ---- operations ---- */

int hv_wmi_enumerate(wsman_t *w, const char *ns, hv_class_t c, uint64_t mask,
                     const char *where, unsigned max_elements,
                     const wsman_sink_t *sink, void *ctx, ws_err_t *err) {
  char uri[256];
  if (hv_wmi_uri(uri, sizeof(uri), ns, NULL) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  hvsb_t wql;
  hvsb_init(&wql);
  hv_wmi_wql(&wql, c, mask, where);
  int rc = hvsb_failed(&wql) ? ws_err_set(err, WS_ERR_CONFIG, "out of memory")
                             : wsman_enumerate(w, uri, hvsb_str(&wql),
                                               max_elements, sink, ctx, err);
  if (rc != 0)
    ws_err_prefix(err, "enumerating %s", hv_wmi_classes[c].name);
  hvsb_free(&wql);
  return rc;
}

/* What a method's output and a job say. */
typedef struct {
  hv_class_t cls;
  char rv[16], state[16], code[16], desc[256];
  char job[256]; /* the Job reference's InstanceID */
} hv_result_t;

static void hv_copy(char *dst, size_t sz, const wsman_prop_t *p) {
  snprintf(dst, sz, "%s", p->len < sz ? p->text : "");
}

static int hv_result_prop(void *ctx, const wsman_prop_t *p, ws_err_t *err) {
  hv_result_t *r = ctx;
  if (strcmp(p->name, hv_wmi_params[HV_PARAM_RETURNVALUE]) == 0)
    hv_copy(r->rv, sizeof(r->rv), p);
  else if (strcmp(p->name, hv_wmi_params[HV_PARAM_JOB]) == 0)
    for (size_t i = 0; i < p->nsel; i++)
      if (strcmp(p->sel[i].name, hv_wmi_props[HV_JOB_INSTANCEID].name) == 0)
        snprintf(r->job, sizeof(r->job), "%s", p->sel[i].value);
  switch (hv_wmi_prop(r->cls, p->name)) {
  case HV_JOB_JOBSTATE:
    hv_copy(r->state, sizeof(r->state), p);
    break;
  case HV_JOB_ERRORCODE:
    hv_copy(r->code, sizeof(r->code), p);
    break;
  case HV_JOB_ERRORDESCRIPTION:
    hv_copy(r->desc, sizeof(r->desc), p);
    break;
  default:
    break;
  }
  return 0;
}

static const wsman_sink_t hv_result_sink = {NULL, hv_result_prop, NULL, 4096};

static void hv_sleep(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

/* One look at the job: 1 still running, 0 completed, -1 failed (err). */
static int hv_job_poll(wsman_t *w, const char *uri, const char *method,
                       const char *job, double deadline, ws_err_t *err) {
  wsman_selector_t sel = {hv_wmi_props[HV_JOB_INSTANCEID].name, job};
  hv_result_t r = {.cls = HV_CLASS_JOB};
  uint32_t state, code = 0;
  if (wsman_get(w, uri, &sel, 1, &hv_result_sink, &r, err) != 0) {
    ws_err_prefix(err, "%s job %s", method, job);
    return -1;
  }
  if (r.state[0] == '\0')
    return ws_err_set(err, WS_ERR_PARSE,
                      "%s job %s: Msvm_ConcreteJob without JobState", method,
                      job);
  if (hv_wmi_parse_u32(r.state, &state) != 0 || state > 0xffff)
    return ws_err_set(err, WS_ERR_PARSE,
                      "%s job %s: JobState \"%s\" is not a number", method, job,
                      r.state);
  if (hv_wmi_parse_u32(r.code, &code) != 0)
    code = 0; /* missing or not a number: reported as 0 */
  if (state == HV_JOB_COMPLETED)
    return 0;
  if (state == HV_JOB_TERMINATED || state == HV_JOB_KILLED ||
      state == HV_JOB_EXCEPTION) {
    ws_err_set(err, WS_ERR_JOB,
               "%s job %s ended %s (JobState %u): ErrorCode %u (%s)%s%s",
               method, job, hv_job_state_str(state), state, code,
               hv_return_code_str(code), r.desc[0] ? ": " : "", r.desc);
    if (err != NULL)
      err->code = code;
    return -1;
  }
  if (wsman_now() >= deadline)
    return ws_err_set(err, WS_ERR_TIMEOUT,
                      "%s job %s still %s (JobState %u) at the deadline",
                      method, job, hv_job_state_str(state), state);
  return 1;
}

/* Follows a Msvm_ConcreteJob until it ends or the deadline passes. */
static int hv_job_wait(wsman_t *w, const char *ns, const char *method,
                       const char *job, double deadline, ws_err_t *err) {
  char uri[256];
  double pause = 0.05;
  if (hv_wmi_uri(uri, sizeof(uri), ns, hv_wmi_classes[HV_CLASS_JOB].name) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  for (;;) {
    int rc = hv_job_poll(w, uri, method, job, deadline, err);
    if (rc <= 0)
      return rc;
    double left = deadline - wsman_now();
    hv_sleep(pause < left ? pause : left);
    pause = pause * 2 < 1.0 ? pause * 2 : 1.0;
  }
}

int hv_wmi_invoke(wsman_t *w, const char *ns, hv_class_t c,
                  const wsman_selector_t *sel, size_t nsel, const char *method,
                  const char *body_xml, double deadline, ws_err_t *err) {
  char uri[256];
  hv_result_t r = {.cls = c};
  uint32_t rv;
  if (hv_wmi_uri(uri, sizeof(uri), ns, hv_wmi_classes[c].name) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  if (wsman_invoke(w, uri, method, sel, nsel, body_xml, &hv_result_sink, &r,
                   err) != 0)
    return -1;
  if (r.rv[0] == '\0')
    return ws_err_set(err, WS_ERR_PARSE, "%s output has no ReturnValue",
                      method);
  if (hv_wmi_parse_u32(r.rv, &rv) != 0)
    return ws_err_set(err, WS_ERR_PARSE,
                      "%s ReturnValue \"%s\" is not a number", method, r.rv);
  if (rv == HV_RC_OK)
    return 0;
  if (rv == HV_RC_JOB_STARTED) {
    if (r.job[0] == '\0')
      return ws_err_set(err, WS_ERR_PARSE,
                        "%s returned 4096 (job started) without a Job "
                        "reference with an InstanceID",
                        method);
    return hv_job_wait(w, ns, method, r.job, deadline, err);
  }
  ws_err_set(err, WS_ERR_METHOD, "%s returned %u (%s)", method, rv,
             hv_return_code_str(rv));
  if (err != NULL)
    err->code = rv;
  return -1;
}
