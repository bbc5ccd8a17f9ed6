/*
 * wmi.h - the generic WMI layer of the model (as libvirt's hyperv_wmi.c):
 * the classes, properties, methods, named values and KVP pools of
 * wmi_classes.def turned into enums and tables, resource URIs and WQL
 * projections built from them, and the three operations every use of WMI
 * is made of: enumerate a class, read a property's number, invoke a method
 * and follow its Msvm_ConcreteJob. No WMI name or number is written
 * anywhere but in wmi_classes.def.
 */
#ifndef HVKVP_HYPERV_WMI_H
#define HVKVP_HYPERV_WMI_H

#include "wsman.h"

#include <stddef.h>
#include <stdint.h>

#define HV_WMI_URI_PREFIX "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
#define HV_WMI_DEFAULT_NS "root/virtualization/v2"

/* ---- what wmi_classes.def lists ---- */
#define HV_CLASS(id, name, doc) HV_CLASS_##id,
#define HV_PROP(cls, id, name)
#define HV_METHOD(id, name)
#define HV_VALUE(set, id, num, text)
#define HV_POOL(id, cls, prop, key)
#define HV_PARAM(id, name)
typedef enum {
#include "wmi_classes.def"
  HV_CLASS__COUNT
} hv_class_t;
#undef HV_CLASS
#undef HV_PROP

/* Every property, e.g. HV_CS_ENABLEDSTATE; a mask of them is uint64_t. */
#define HV_CLASS(id, name, doc)
#define HV_PROP(cls, id, name) HV_##cls##_##id,
typedef enum {
#include "wmi_classes.def"
  HV_PROP__COUNT
} hv_prop_t;
#undef HV_PROP
#undef HV_METHOD

/* The host item methods, e.g. HV_KVP_ADD. */
#define HV_PROP(cls, id, name)
#define HV_METHOD(id, name) HV_KVP_##id,
typedef enum {
#include "wmi_classes.def"
  HV_KVP__COUNT
} hv_kvp_op_t;
#undef HV_METHOD
#undef HV_VALUE

/* Named values, e.g. HV_STATE_RUNNING, HV_JOB_COMPLETED, HV_RC_OK. */
#define HV_METHOD(id, name)
#define HV_VALUE(set, id, num, text) HV_##set##_##id = (num),
enum {
#include "wmi_classes.def"
};
#undef HV_VALUE
#undef HV_POOL

/* The KVP pools, e.g. HV_POOL_GUEST. */
#define HV_VALUE(set, id, num, text)
#define HV_POOL(id, cls, prop, key) HV_POOL_##id,
typedef enum {
#include "wmi_classes.def"
  HV_POOL__COUNT
} hv_pool_t;
#undef HV_POOL
#undef HV_PARAM

/* Method parameters, e.g. HV_PARAM_RETURNVALUE. */
#define HV_POOL(id, cls, prop, key)
#define HV_PARAM(id, name) HV_PARAM_##id,
typedef enum {
#include "wmi_classes.def"
  HV_PARAM__COUNT
} hv_param_t;
#undef HV_CLASS
#undef HV_PROP
#undef HV_METHOD
#undef HV_VALUE
#undef HV_POOL
#undef HV_PARAM

#define HV_PROP_BIT(p) (UINT64_C(1) << (p))

typedef struct {
  const char *name; /* WMI class name */
  const char *doc;
} hv_class_desc_t;

typedef struct {
  hv_class_t cls;
  const char *name; /* WMI property name */
} hv_prop_desc_t;

typedef struct {
  hv_class_t cls;  /* the class holding the pool */
  hv_prop_t prop;  /* its array property */
  hv_prop_t key;   /* the property naming the VM */
  int key_in_path; /* the key is "Microsoft:<GUID>\..." (InstanceID) */
} hv_pool_desc_t;

extern const hv_class_desc_t hv_wmi_classes[HV_CLASS__COUNT];
extern const hv_prop_desc_t hv_wmi_props[HV_PROP__COUNT];
extern const hv_pool_desc_t hv_wmi_pools[HV_POOL__COUNT];
extern const char *const hv_wmi_methods[HV_KVP__COUNT];
extern const char *const hv_wmi_params[HV_PARAM__COUNT];

/* ---- names ---- */
/* The property of class c named `name` (local name), or -1. */
int hv_wmi_prop(hv_class_t c, const char *name);
/* "Running", "Completed", "Access Denied", ...; "Other" / "Unknown" /
 * "Unknown return code" for values the class reference does not name. */
const char *hv_state_str(uint32_t enabled_state);
const char *hv_job_state_str(uint32_t job_state);
const char *hv_return_code_str(uint32_t rc);
/* 1 when a ReturnValue means "retry later" (in use, invalid state). */
int hv_return_code_retryable(uint32_t rc);

/* ---- text ---- */
/* "http://schemas.microsoft.com/wbem/wsman/1/wmi/<ns>/<class>"; cls NULL
 * gives the WQL enumeration URI (the namespace followed by "/" and "*").
 * -1 if it does not fit. */
int hv_wmi_uri(char *buf, size_t sz, const char *ns, const char *cls);
/* "SELECT p, q FROM Class [WHERE where]" with the properties of c in mask
 * (none: "*"). */
void hv_wmi_wql(hvsb_t *b, hv_class_t c, uint64_t mask, const char *where);
/* A CIM integer (uint16 / uint32): decimal digits, XML whitespace around,
 * at most 2^32 - 1. 0 or -1 (atoi would read "abc" as 0, "Completed with
 * no error" for a ReturnValue). */
int hv_wmi_parse_u32(const char *s, uint32_t *out);
/* Normalises a GUID (36 characters, optionally in braces) to upper case;
 * 1 if s[0..len) is one. */
int hv_wmi_guid(const char *s, size_t len, char out[37]);

/* ---- operations ---- */
/* Enumerates the mask properties of class c (WHERE clause optional) in
 * namespace ns, every instance to the sink. */
int hv_wmi_enumerate(wsman_t *w, const char *ns, hv_class_t c, uint64_t mask,
                     const char *where, unsigned max_elements,
                     const wsman_sink_t *sink, void *ctx, ws_err_t *err);

/* Invokes `method` of the instance of class c that `sel` names with the
 * input body_xml; a 4096 (job started) is followed by polling its
 * Msvm_ConcreteJob until it ends or `deadline` (wsman_now() seconds)
 * passes. 0, or -1: WS_ERR_METHOD / WS_ERR_JOB with err->code the WMI
 * code, WS_ERR_TIMEOUT, or the transport's error. */
int hv_wmi_invoke(wsman_t *w, const char *ns, hv_class_t c,
                  const wsman_selector_t *sel, size_t nsel, const char *method,
                  const char *body_xml, double deadline, ws_err_t *err);

#endif
