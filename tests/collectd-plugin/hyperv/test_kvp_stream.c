/*
 * test_kvp_stream.c - unit tests of the model's WMI tables and of the KVP
 * pools of streamed pages: the names wmi_classes.def gives (properties,
 * WQL, states, return codes), and pages decoded into VMs (dedupe, caps, the
 * forms Windows uses, refused items, faults).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "cimxml.h"
#include "envelope.h"
#include "hyperv_int.h"
#include "wmi.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *name, size_t *len) {
  char *b = fixture_read(name, len);
  if (b == NULL)
    fail_msg("cannot read fixture %s", name);
  return b;
}

/* One page into the VMs, with a decoder of its own. */
static int decode(hv_vms_t *vms, unsigned want, const char *buf, size_t len,
                  size_t max_len, int is_pull, ws_err_t *err) {
  hv_page_decoder_t *d = hv_page_decoder_new(want);
  assert_non_null(d);
  int rc = hv_page_decode(d, vms, buf, len, max_len, is_pull, err);
  hv_page_decoder_free(d);
  return rc;
}

static void test_wmi_tables(void **state) {
  assert_int_equal(hv_wmi_prop(HV_CLASS_CS, "EnabledState"),
                   HV_CS_ENABLEDSTATE);
  assert_int_equal(hv_wmi_prop(HV_CLASS_KVP, "GuestExchangeItems"),
                   HV_KVP_GUEST);
  assert_int_equal(hv_wmi_prop(HV_CLASS_KVP, "EnabledState"), -1);
  hvsb_t b;
  hvsb_init(&b);
  hv_wmi_wql(&b, HV_CLASS_KVP,
             HV_PROP_BIT(HV_KVP_SYSTEMNAME) | HV_PROP_BIT(HV_KVP_GUEST) |
                 HV_PROP_BIT(HV_CS_NAME),
             NULL);
  assert_string_equal(hvsb_str(&b), "SELECT SystemName, GuestExchangeItems "
                                    "FROM Msvm_KvpExchangeComponent");
  hvsb_reset(&b);
  hv_wmi_wql(&b, HV_CLASS_VSMS, 0, "Name = 'x'");
  assert_string_equal(hvsb_str(&b), "SELECT * FROM "
                                    "Msvm_VirtualSystemManagementService "
                                    "WHERE Name = 'x'");
  hvsb_free(&b);
  assert_string_equal(hv_wmi_methods[HV_KVP_MODIFY], "ModifyKvpItems");
  assert_int_equal(hv_wmi_pools[HV_POOL_HOST].cls, HV_CLASS_KVPSD);
  assert_true(hv_wmi_pools[HV_POOL_HOST].key_in_path);
  assert_false(hv_wmi_pools[HV_POOL_GUEST].key_in_path);
  assert_string_equal(hv_state_str(HV_STATE_RUNNING), "Running");
  assert_string_equal(hv_state_str(6), "Saved");
  assert_string_equal(hv_state_str(12345), "Other");
  char uri[256];
  assert_int_equal(hv_wmi_uri(uri, sizeof(uri), "root/virtualization/v2", NULL),
                   0);
  assert_string_equal(uri, HV_WMI_URI_PREFIX "root/virtualization/v2/*");
  uint32_t v;
  assert_int_equal(hv_wmi_parse_u32(" 4096\n", &v), 0);
  assert_int_equal(v, 4096);
  assert_int_equal(hv_wmi_parse_u32("abc", &v), -1);
  assert_int_equal(hv_wmi_parse_u32("4294967296", &v), -1);
}

static void test_return_codes(void **state) {
  assert_string_equal(hv_return_code_str(0), "Completed with No Error");
  assert_string_equal(hv_return_code_str(4096),
                      "Method Parameters Checked - Job Started");
  assert_string_equal(hv_return_code_str(32769), "Access Denied");
  assert_string_equal(hv_return_code_str(32775),
                      "Invalid state for this operation");
  assert_string_equal(hv_return_code_str(12345), "Unknown return code");
  assert_true(hv_return_code_retryable(32775));
  assert_false(hv_return_code_retryable(32773));
  assert_string_equal(hv_job_state_str(7), "Completed");
  assert_string_equal(hv_job_state_str(10), "Exception");
}

/* A KVP page with the given items for one VM (GuestExchangeItems). */
static void kvp_page(hvsb_t *b, const char *guid, const char *const *kv,
                     size_t n) {
  hvsb_adds(b,
            "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\" xmlns:n=\"" WSMAN_NS_WSEN
            "\" xmlns:w=\"" WSMAN_NS_WSMAN
            "\"><s:Body><n:EnumerateResponse><w:Items><p:C xmlns:p=\"urn:c\">");
  hvsb_t inst;
  hvsb_init(&inst);
  for (size_t i = 0; i < n; i++) {
    hvsb_reset(&inst);
    assert_int_equal(cimx_encode(&inst, kv[2 * i], kv[2 * i + 1], 1), 0);
    hvsb_adds(b, "<p:GuestExchangeItems>");
    hvsb_add_xml(b, hvsb_str(&inst));
    hvsb_adds(b, "</p:GuestExchangeItems>");
  }
  hvsb_free(&inst);
  hvsb_addf(b,
            "<p:SystemName>%s</p:SystemName></p:C></w:Items>"
            "<w:EndOfSequence/></n:EnumerateResponse></s:Body></s:Envelope>",
            guid);
}

static void test_kvp_page_dedupe_and_cap(void **state) {
  const char *guid = "11111111-2222-3333-4444-555555555555";
  hv_vms_t vms = {1, calloc(1, sizeof(hv_vm_t))};
  strcpy(vms.v[0].guid, guid);
  const char *kv[] = {"k", "1", "j", "2", "k", "3", "a", "4", "j", "5"};
  hvsb_t b;
  hvsb_init(&b);
  kvp_page(&b, "{11111111-2222-3333-4444-555555555555}", kv, 5);
  ws_err_t err;
  assert_int_equal(decode(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 20, 0, &err),
                   0);
  hvkvp_items_t *g = &vms.v[0].pool[HV_POOL_GUEST];
  /* keys are unique; the last value wins, at the first key's position */
  assert_int_equal(g->n, 3);
  assert_string_equal(g->v[0].key, "k");
  assert_string_equal(g->v[0].value, "3");
  assert_string_equal(g->v[1].key, "j");
  assert_string_equal(g->v[1].value, "5");
  assert_string_equal(g->v[2].key, "a");
  hv_vms_free(&vms);

  /* at most 4096 items per pool: the rest are refused and counted */
  vms.n = 1;
  vms.v = calloc(1, sizeof(hv_vm_t));
  strcpy(vms.v[0].guid, guid);
  size_t n = 4100;
  char **many = calloc(2 * n, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    many[2 * i] = malloc(16);
    snprintf(many[2 * i], 16, "key%zu", i);
    many[2 * i + 1] = "v";
  }
  hvsb_reset(&b);
  kvp_page(&b, guid, (const char *const *)many, n);
  assert_int_equal(decode(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 24, 0, &err),
                   0);
  assert_int_equal(vms.v[0].pool[HV_POOL_GUEST].n, 4096);
  assert_int_equal(vms.v[0].items_rejected, 4);
  assert_non_null(strstr(vms.v[0].reject_reason, "4096"));
  /* the same VM again in a later page: the cap holds for the sum */
  const char *more[] = {"other1", "x", "other2", "y"};
  hvsb_reset(&b);
  kvp_page(&b, guid, more, 2);
  assert_int_equal(decode(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 20, 0, &err),
                   0);
  assert_int_equal(vms.v[0].pool[HV_POOL_GUEST].n, 4096);
  assert_int_equal(vms.v[0].items_rejected, 6);
  assert_null(hvkvp_items_get(&vms.v[0].pool[HV_POOL_GUEST], "other1"));
  for (size_t i = 0; i < n; i++)
    free(many[2 * i]);
  free(many);
  hv_vms_free(&vms);
  hvsb_free(&b);
}

static void test_kvp_page_forms_and_errors(void **state) {
  hv_vms_t vms = {2, calloc(2, sizeof(hv_vm_t))};
  strcpy(vms.v[0].guid, "11111111-2222-3333-4444-555555555555");
  strcpy(vms.v[1].guid, "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE");
  ws_err_t err;
  size_t len;
  /* the fixture: full instances, CDATA, nil, refused items, other prefix */
  char *buf = slurp("enum_kvp.xml", &len);
  assert_int_equal(decode(&vms, HV_WANT_INTRINSIC | HV_WANT_GUEST, buf, len,
                          1 << 20, 0, &err),
                   0);
  assert_int_equal(vms.v[0].pool[HV_POOL_GUEST].n, 3);
  assert_int_equal(vms.v[0].pool[HV_POOL_INTRINSIC].n, 2);
  assert_true(vms.v[0].has_kvp);
  assert_int_equal(vms.v[1].pool[HV_POOL_GUEST].n, 3);
  assert_int_equal(vms.v[1].items_rejected, 4);
  /* as a Pull page it is refused, naming what is missing */
  assert_int_equal(decode(&vms, HV_WANT_GUEST, buf, len, 1 << 20, 1, &err), -1);
  assert_non_null(strstr(err.msg, "PullResponse"));
  /* over the size cap */
  assert_int_equal(decode(&vms, HV_WANT_GUEST, buf, len, len - 1, 0, &err), -1);
  assert_non_null(strstr(err.msg, "exceeds"));
  /* cut short */
  assert_int_equal(decode(&vms, HV_WANT_GUEST, buf, len / 2, 1 << 20, 0, &err),
                   -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  free(buf);
  /* a fault in a page is described by the fault parser */
  buf = slurp("fault_provider.xml", &len);
  assert_int_equal(decode(&vms, HV_WANT_GUEST, buf, len, 1 << 20, 0, &err), -1);
  assert_int_equal(err.kind, WS_ERR_FAULT);
  assert_int_equal(err.code, 32775);
  free(buf);
  buf = slurp("doctype.xml", &len);
  assert_int_equal(decode(&vms, HV_WANT_GUEST, buf, len, 1 << 20, 0, &err), -1);
  assert_non_null(strstr(err.msg, "DOCTYPE"));
  free(buf);
  hv_vms_free(&vms);

  /* wsman:Item wrappers with an EndpointReference, XmlFragment, an
   * embedded instance over 16 KiB */
  vms.n = 1;
  vms.v = calloc(1, sizeof(hv_vm_t));
  strcpy(vms.v[0].guid, "11111111-2222-3333-4444-555555555555");
  hvsb_t b, inst;
  hvsb_init(&b);
  hvsb_init(&inst);
  cimx_encode(&inst, "wrapped", "yes", 1);
  hvsb_adds(&b,
            "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\" xmlns:n=\"" WSMAN_NS_WSEN
            "\" xmlns:w=\"" WSMAN_NS_WSMAN "\" xmlns:a=\"" WSMAN_NS_WSA
            "\"><s:Body><n:PullResponse><n:EnumerationContext>uuid:X"
            "</n:EnumerationContext><n:Items><w:Item><a:EndpointReference>"
            "<a:Address>x</a:Address></a:EndpointReference><p:C "
            "xmlns:p=\"urn:c\"><p:GuestExchangeItems>");
  hvsb_add_xml(&b, hvsb_str(&inst));
  hvsb_adds(&b, "</p:GuestExchangeItems><p:GuestExchangeItems>");
  for (int i = 0; i < 6000; i++)
    hvsb_adds(&b, "&lt;x&gt;");
  hvsb_adds(&b, "</p:GuestExchangeItems><p:SystemName>"
                "11111111-2222-3333-4444-555555555555</p:SystemName></p:C>"
                "</w:Item></n:Items></n:PullResponse></s:Body></s:Envelope>");
  assert_int_equal(decode(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 20, 1, &err),
                   0);
  assert_int_equal(vms.v[0].pool[HV_POOL_GUEST].n, 1);
  assert_string_equal(hvkvp_items_get(&vms.v[0].pool[HV_POOL_GUEST], "wrapped"),
                      "yes");
  assert_int_equal(vms.v[0].items_rejected, 1);
  assert_non_null(strstr(vms.v[0].reject_reason, "16 KiB"));
  hvsb_free(&b);
  hvsb_free(&inst);
  hv_vms_free(&vms);
}

int main(void) {
  xmlInitParser();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wmi_tables),
      cmocka_unit_test(test_return_codes),
      cmocka_unit_test(test_kvp_page_dedupe_and_cap),
      cmocka_unit_test(test_kvp_page_forms_and_errors),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  xmlCleanupParser();
  return rc;
}
