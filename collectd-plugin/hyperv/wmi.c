/*
 * wmi_classes.c - the WMI classes and properties hvkvp reads, as data
 * (Hyper-V WMI v2 class reference; DESIGN.md section 4).
 */
#include "wmi.h"

#include <stdio.h>
#include <string.h>

static const char *const cs_props[] = {"Name", "ElementName", "EnabledState",
                                       "Caption", NULL};
const hv_wmi_class_t hv_class_computer_system = {
    "Msvm_ComputerSystem", cs_props,
    "VMs (Name = VM GUID) and the host itself (Name = computer name)"};

static const char *const kvp_props[] = {
    "SystemName", "GuestIntrinsicExchangeItems", "GuestExchangeItems", NULL};
const hv_wmi_class_t hv_class_kvp_component = {
    "Msvm_KvpExchangeComponent", kvp_props,
    "guest items of one VM; SystemName = VM GUID"};

static const char *const kvpsd_props[] = {"InstanceID", "HostExchangeItems",
                                          NULL};
const hv_wmi_class_t hv_class_kvp_setting_data = {
    "Msvm_KvpExchangeComponentSettingData", kvpsd_props,
    "host items of one VM; InstanceID = Microsoft:<VM GUID>\\..."};

static const char *const vsms_props[] = {
    "CreationClassName", "Name", "SystemCreationClassName", "SystemName", NULL};
const hv_wmi_class_t hv_class_vsms = {
    "Msvm_VirtualSystemManagementService", vsms_props,
    "the service whose methods add/modify/remove host KVP items"};

static const char *const job_props[] = {"InstanceID", "JobState", "ErrorCode",
                                        "ErrorDescription", NULL};
const hv_wmi_class_t hv_class_concrete_job = {
    "Msvm_ConcreteJob", job_props,
    "asynchronous method job; JobState 7 completed, 8/9/10 failed"};

const char *const hv_method_kvp[3] = {"AddKvpItems", "ModifyKvpItems",
                                      "RemoveKvpItems"};

int hv_wmi_uri(char *buf, size_t sz, const char *ns, const char *cls) {
  int n = snprintf(buf, sz, HV_WMI_URI_PREFIX "%s/%s", ns, cls);
  return n < 0 || (size_t)n >= sz ? -1 : 0;
}

void hv_wmi_wql(hvsb_t *b, const hv_wmi_class_t *c, unsigned mask) {
  hvsb_adds(b, "SELECT ");
  int first = 1;
  for (unsigned i = 0; c->props[i] != NULL; i++) {
    if (!(mask & (1u << i)))
      continue;
    if (!first)
      hvsb_adds(b, ", ");
    hvsb_adds(b, c->props[i]);
    first = 0;
  }
  if (first)
    hvsb_adds(b, "*");
  hvsb_adds(b, " FROM ");
  hvsb_adds(b, c->name);
}

int hv_wmi_prop_index(const hv_wmi_class_t *c, const char *name) {
  for (int i = 0; c->props[i] != NULL; i++)
    if (strcmp(c->props[i], name) == 0)
      return i;
  return -1;
}
