/*
 * wmi_classes.h - the Hyper-V WMI classes, properties and methods hvkvp
 * uses, described as data (as libvirt's Hyper-V driver does): resource URIs,
 * the WQL that selects only the properties we read, and method names.
 */
#ifndef HVKVP_WMI_CLASSES_H
#define HVKVP_WMI_CLASSES_H

#include "sbuf.h"

#include <stddef.h>

#define HV_WMI_URI_PREFIX "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
#define HV_WMI_DEFAULT_NS "root/virtualization/v2"

typedef struct {
  const char *name;
  const char *const *props; /* the properties we read, NULL-terminated */
  const char *doc;
} hv_wmi_class_t;

/* Property indexes, in the order of each class's props table. */
enum { HV_CS_NAME, HV_CS_ELEMENTNAME, HV_CS_ENABLEDSTATE, HV_CS_CAPTION };
enum {
  HV_KVP_SYSTEMNAME,
  HV_KVP_INTRINSIC, /* GuestIntrinsicExchangeItems */
  HV_KVP_GUEST,     /* GuestExchangeItems */
};
enum { HV_KVPSD_INSTANCEID, HV_KVPSD_HOST /* HostExchangeItems */ };
enum {
  HV_VSMS_CREATIONCLASSNAME,
  HV_VSMS_NAME,
  HV_VSMS_SYSTEMCREATIONCLASSNAME,
  HV_VSMS_SYSTEMNAME
};
enum {
  HV_JOB_INSTANCEID,
  HV_JOB_JOBSTATE,
  HV_JOB_ERRORCODE,
  HV_JOB_ERRORDESCRIPTION
};

extern const hv_wmi_class_t hv_class_computer_system;
extern const hv_wmi_class_t hv_class_kvp_component;
extern const hv_wmi_class_t hv_class_kvp_setting_data;
extern const hv_wmi_class_t hv_class_vsms;
extern const hv_wmi_class_t hv_class_concrete_job;

/* Methods of Msvm_VirtualSystemManagementService we invoke; each takes
 * TargetSystem (EPR of the Msvm_ComputerSystem) and DataItems (string[] of
 * embedded Msvm_KvpExchangeDataItem instances). */
extern const char *const hv_method_kvp[3]; /* by hv_kvp_op_t */
#define HV_KVP_MAX_BATCH 128

/* "http://schemas.microsoft.com/wbem/wsman/1/wmi/<ns>/<class>"; class "*"
 * gives the WQL enumeration URI. -1 if it does not fit. */
int hv_wmi_uri(char *buf, size_t sz, const char *ns, const char *cls);
/* "SELECT p, q FROM Class" with the props whose bit is set in mask (bit i
 * = props[i]). */
void hv_wmi_wql(hvsb_t *b, const hv_wmi_class_t *c, unsigned mask);
/* Index of a property by name in c->props, or -1. */
int hv_wmi_prop_index(const hv_wmi_class_t *c, const char *name);

#endif
