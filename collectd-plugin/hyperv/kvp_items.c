/*
 * kvp_items.c - host items of one VM added, modified or removed (see
 * hv_kvp_items in hyperv.h) through the AddKvpItems / ModifyKvpItems /
 * RemoveKvpItems methods of Msvm_VirtualSystemManagementService, at most
 * 128 items a call, each item an embedded Msvm_KvpExchangeDataItem.
 */
#include "cimxml.h"
#include "host.h"

#include <stdio.h>
#include <string.h>

#define HV_KVP_MAX_BATCH 128

/* ---- the service instance, found once ---- */
static int hv_vsms_prop(void *ctx, const wsman_prop_t *p, ws_err_t *err) {
  hv_host_t *h = ctx;
  int id = hv_wmi_prop(HV_CLASS_VSMS, p->name);
  int i = id - HV_VSMS_CREATIONCLASSNAME;
  if (id >= 0 && i >= 0 && i < 4 && p->len < sizeof(h->vsms_sel[i]))
    memcpy(h->vsms_sel[i], p->text, p->len + 1);
  return 0;
}

static int hv_vsms_end(void *ctx, ws_err_t *err) {
  hv_host_t *h = ctx;
  for (int i = 0; i < 4; i++)
    if (h->vsms_sel[i][0] == '\0')
      return ws_err_set(err, WS_ERR_PARSE,
                        "Msvm_VirtualSystemManagementService instance lacks "
                        "one of CreationClassName, Name, "
                        "SystemCreationClassName, SystemName");
  h->have_vsms = 1;
  return WSMAN_STOP; /* the first instance is the one */
}

static const wsman_sink_t hv_vsms_sink = {NULL, hv_vsms_prop, hv_vsms_end, 255};

static int hv_vsms(hv_host_t *h, ws_err_t *err) {
  uint64_t mask = 0;
  if (h->have_vsms)
    return 0;
  memset(h->vsms_sel, 0, sizeof(h->vsms_sel));
  for (int i = 0; i < 4; i++)
    mask |= HV_PROP_BIT(HV_VSMS_CREATIONCLASSNAME + i);
  if (hv_wmi_enumerate(h->w, h->ns, HV_CLASS_VSMS, mask, NULL, 1, &hv_vsms_sink,
                       h, err) != 0) {
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

/* ---- one call ---- */

/* The method's input: TargetSystem (the VM's EPR) and the DataItems. */
static int hv_kvp_body(hv_host_t *h, hvsb_t *body, const char *guid,
                       hv_kvp_op_t op, const hvkvp_items_t *items, size_t from,
                       size_t n, ws_err_t *err) {
  const char *method = hv_wmi_methods[op];
  char vsms_uri[256], cs_uri[256];
  if (hv_wmi_uri(vsms_uri, sizeof(vsms_uri), h->ns,
                 hv_wmi_classes[HV_CLASS_VSMS].name) != 0 ||
      hv_wmi_uri(cs_uri, sizeof(cs_uri), h->ns,
                 hv_wmi_classes[HV_CLASS_CS].name) != 0)
    return ws_err_set(err, WS_ERR_CONFIG, "namespace too long");
  hvsb_addf(body, "<p:%s_INPUT xmlns:p=\"%s\"><p:%s>", method, vsms_uri,
            hv_wmi_params[HV_PARAM_TARGETSYSTEM]);
  wsman_selector_t target[2] = {{hv_wmi_props[HV_CS_CREATIONCLASSNAME].name,
                                 hv_wmi_classes[HV_CLASS_CS].name},
                                {hv_wmi_props[HV_CS_NAME].name, guid}};
  wsman_build_epr(body, cs_uri, target, 2);
  hvsb_addf(body, "</p:%s>", hv_wmi_params[HV_PARAM_TARGETSYSTEM]);
  hvsb_t inst;
  hvsb_init(&inst);
  for (size_t i = from; i < from + n; i++) {
    const hvkvp_item_t *it = &items->v[i];
    const char *v = op == HV_KVP_REMOVE ? "" : (it->value ? it->value : "");
    hvsb_reset(&inst);
    if (cimx_encode(&inst, it->key, v, 0) != 0) {
      hvsb_free(&inst);
      return ws_err_set(err, WS_ERR_CONFIG,
                        "item '%.64s' cannot be sent: empty or too long key, "
                        "value over %d bytes, invalid UTF-8 or a control "
                        "character",
                        it->key ? it->key : "", HVKVP_VALUE_LEN - 1);
    }
    hvsb_addf(body, "<p:%s>", hv_wmi_params[HV_PARAM_DATAITEMS]);
    hvsb_add_xml(body, hvsb_str(&inst));
    hvsb_addf(body, "</p:%s>", hv_wmi_params[HV_PARAM_DATAITEMS]);
  }
  hvsb_free(&inst);
  hvsb_addf(body, "</p:%s_INPUT>", method);
  return hvsb_failed(body) ? ws_err_set(err, WS_ERR_CONFIG,
                                        "out of memory building %s", method)
                           : 0;
}

static int hv_kvp_batch(hv_host_t *h, const char *guid, hv_kvp_op_t op,
                        const hvkvp_items_t *items, size_t from, size_t n,
                        double deadline, ws_err_t *err) {
  hvsb_t body;
  hvsb_init(&body);
  int rc = hv_kvp_body(h, &body, guid, op, items, from, n, err);
  if (rc == 0) {
    wsman_selector_t sel[4];
    for (int i = 0; i < 4; i++) {
      sel[i].name = hv_wmi_props[HV_VSMS_CREATIONCLASSNAME + i].name;
      sel[i].value = h->vsms_sel[i];
    }
    rc = hv_wmi_invoke(h->w, h->ns, HV_CLASS_VSMS, sel, 4, hv_wmi_methods[op],
                       hvsb_str(&body), deadline, err);
    if (rc != 0 && err != NULL && err->kind == WS_ERR_FAULT)
      h->have_vsms = 0; /* look the service up again next time */
    if (rc != 0)
      ws_err_prefix(err, "VM %s", guid);
  }
  hvsb_free(&body);
  return rc;
}

int hv_kvp_items(hv_host_t *h, const char *vm_guid, hv_kvp_op_t op,
                 const hvkvp_items_t *items, double deadline_s, ws_err_t *err) {
  ws_err_clear(err);
  char guid[37];
  if (vm_guid == NULL || !hv_wmi_guid(vm_guid, strlen(vm_guid), guid))
    return ws_err_set(err, WS_ERR_CONFIG, "'%.64s' is not a VM GUID",
                      vm_guid ? vm_guid : "(null)");
  if (op != HV_KVP_ADD && op != HV_KVP_MODIFY && op != HV_KVP_REMOVE)
    return ws_err_set(err, WS_ERR_CONFIG, "unknown KVP operation %d", (int)op);
  if (items == NULL || items->n == 0)
    return 0;
  double deadline = wsman_now() + (deadline_s > 0 ? deadline_s : 60);
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
