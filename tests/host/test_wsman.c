/*
 * test_wsman.c - unit tests of the WS-Man layer without a network:
 * envelopes are parsed back with libxml2 and checked by namespace and local
 * name (not string compares); responses are parsed from fixtures written
 * from Microsoft's documented formats (varying prefixes, XmlFragment items,
 * faults with WSManFault / ProviderFault / MSFT_WmiError, 401, DOCTYPE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cimxml.h"
#include "hv_errors.h"
#include "hyperv_int.h"
#include "wmi.h"
#include "wsman.h"
#include "xmldoc.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", HOST_FIXTURES, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("cannot open fixture %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static const char *text_of(xmlNodePtr n, char *buf, size_t sz) {
  assert_non_null(n);
  hvx_text_copy(n, buf, sz);
  return buf;
}

static char *attr(xmlNodePtr n, const char *ns, const char *name) {
  return (char *)xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns);
}

static xmlDocPtr parse_back(const hvsb_t *b, xmlNodePtr *header,
                            xmlNodePtr *body) {
  char why[256];
  xmlDocPtr doc = hvx_parse(b->p, b->len, 1 << 20, why, sizeof(why));
  if (doc == NULL)
    fail_msg("envelope does not parse: %s", why);
  xmlNodePtr root = xmlDocGetRootElement(doc);
  assert_true(hvx_is(root, WSMAN_NS_SOAP, "Envelope"));
  *header = hvx_child(root, WSMAN_NS_SOAP, "Header");
  *body = hvx_child(root, WSMAN_NS_SOAP, "Body");
  assert_non_null(*header);
  assert_non_null(*body);
  return doc;
}

static void check_header(xmlNodePtr h, const char *action, const char *uri) {
  char t[512];
  assert_string_equal(text_of(hvx_child(h, WSMAN_NS_WSA, "To"), t, sizeof(t)),
                      "http://hv01:5985/wsman");
  xmlNodePtr ru = hvx_child(h, WSMAN_NS_WSMAN, "ResourceURI");
  assert_string_equal(text_of(ru, t, sizeof(t)), uri);
  char *mu = attr(ru, WSMAN_NS_SOAP, "mustUnderstand");
  assert_string_equal(mu, "true");
  xmlFree(mu);
  assert_string_equal(text_of(hvx_path(h, WSMAN_NS_WSA, "ReplyTo", "Address",
                                       (const char *)NULL),
                              t, sizeof(t)),
                      WSMAN_ANONYMOUS);
  xmlNodePtr act = hvx_child(h, WSMAN_NS_WSA, "Action");
  assert_string_equal(text_of(act, t, sizeof(t)), action);
  xmlNodePtr mes = hvx_child(h, WSMAN_NS_WSMAN, "MaxEnvelopeSize");
  assert_string_equal(text_of(mes, t, sizeof(t)), "512000");
  mu = attr(mes, WSMAN_NS_SOAP, "mustUnderstand");
  assert_string_equal(mu, "true");
  xmlFree(mu);
  text_of(hvx_child(h, WSMAN_NS_WSA, "MessageID"), t, sizeof(t));
  assert_int_equal(strncmp(t, "uuid:", 5), 0);
  assert_int_equal(strlen(t), 5 + 36);
  assert_string_equal(
      text_of(hvx_child(h, WSMAN_NS_WSMAN, "OperationTimeout"), t, sizeof(t)),
      "PT60.000S");
  xmlNodePtr loc = hvx_child(h, WSMAN_NS_WSMAN, "Locale");
  assert_non_null(loc);
  char *lang = (char *)xmlNodeGetLang(loc);
  assert_string_equal(lang, "en-US");
  xmlFree(lang);
}

static wsman_hdr_t hdr(const char *action, const char *uri, char *mid) {
  wsman_new_message_id(mid);
  wsman_hdr_t h = {
      "http://hv01:5985/wsman", action, uri, mid, 512000, 60, NULL, 0};
  return h;
}

static void test_enumerate_envelope(void **state) {
  char mid[64], t[512];
  const char *uri = HV_WMI_URI_PREFIX "root/virtualization/v2/*";
  wsman_hdr_t h = hdr(WSMAN_ACTION_ENUMERATE, uri, mid);
  hvsb_t b;
  hvsb_init(&b);
  const char *wql = "SELECT Name FROM Msvm_ComputerSystem WHERE Caption = "
                    "\"Virtual Machine\" AND x < 3 & y";
  assert_int_equal(wsman_build_enumerate(&b, &h, wql, 77), 0);
  xmlNodePtr head, body;
  xmlDocPtr doc = parse_back(&b, &head, &body);
  check_header(head, WSMAN_ACTION_ENUMERATE, uri);
  xmlNodePtr en = hvx_child(body, WSMAN_NS_WSEN, "Enumerate");
  assert_non_null(en);
  assert_non_null(hvx_child(en, WSMAN_NS_WSMAN, "OptimizeEnumeration"));
  assert_string_equal(
      text_of(hvx_child(en, WSMAN_NS_WSMAN, "MaxElements"), t, sizeof(t)),
      "77");
  xmlNodePtr f = hvx_child(en, WSMAN_NS_WSMAN, "Filter");
  assert_string_equal(text_of(f, t, sizeof(t)), wql);
  char *d = attr(f, NULL, "Dialect");
  assert_string_equal(d, WSMAN_DIALECT_WQL);
  xmlFree(d);
  xmlFreeDoc(doc);
  /* without a filter: no Filter element */
  hvsb_reset(&b);
  assert_int_equal(wsman_build_enumerate(&b, &h, NULL, 5), 0);
  doc = parse_back(&b, &head, &body);
  assert_null(hvx_child(hvx_child(body, WSMAN_NS_WSEN, "Enumerate"),
                        WSMAN_NS_WSMAN, "Filter"));
  xmlFreeDoc(doc);
  hvsb_free(&b);
}

static void test_pull_release_get_envelopes(void **state) {
  char mid[64], t[512];
  const char *uri = HV_WMI_URI_PREFIX "root/virtualization/v2/*";
  hvsb_t b;
  hvsb_init(&b);
  wsman_hdr_t h = hdr(WSMAN_ACTION_PULL, uri, mid);
  assert_int_equal(wsman_build_pull(&b, &h, "uuid:ctx&1", 9), 0);
  xmlNodePtr head, body;
  xmlDocPtr doc = parse_back(&b, &head, &body);
  check_header(head, WSMAN_ACTION_PULL, uri);
  xmlNodePtr p = hvx_child(body, WSMAN_NS_WSEN, "Pull");
  assert_string_equal(
      text_of(hvx_child(p, WSMAN_NS_WSEN, "EnumerationContext"), t, sizeof(t)),
      "uuid:ctx&1");
  assert_string_equal(
      text_of(hvx_child(p, WSMAN_NS_WSEN, "MaxElements"), t, sizeof(t)), "9");
  xmlFreeDoc(doc);

  hvsb_reset(&b);
  h = hdr(WSMAN_ACTION_RELEASE, uri, mid);
  assert_int_equal(wsman_build_release(&b, &h, "uuid:ctx2"), 0);
  doc = parse_back(&b, &head, &body);
  assert_string_equal(
      text_of(hvx_path(body, WSMAN_NS_WSEN, "Release", "EnumerationContext",
                       (const char *)NULL),
              t, sizeof(t)),
      "uuid:ctx2");
  xmlFreeDoc(doc);

  hvsb_reset(&b);
  const char *juri =
      HV_WMI_URI_PREFIX "root/virtualization/v2/Msvm_ConcreteJob";
  wsman_selector_t sel[1] = {{"InstanceID", "ABC<&>\"1"}};
  h = hdr(WSMAN_ACTION_GET, juri, mid);
  h.sel = sel;
  h.nsel = 1;
  assert_int_equal(wsman_build_get(&b, &h), 0);
  doc = parse_back(&b, &head, &body);
  check_header(head, WSMAN_ACTION_GET, juri);
  xmlNodePtr s = hvx_path(head, WSMAN_NS_WSMAN, "SelectorSet", "Selector",
                          (const char *)NULL);
  char *n = attr(s, NULL, "Name");
  assert_string_equal(n, "InstanceID");
  xmlFree(n);
  assert_string_equal(text_of(s, t, sizeof(t)), "ABC<&>\"1");
  assert_null(hvx_first_elem(body));
  xmlFreeDoc(doc);
  hvsb_free(&b);
}

static void test_invoke_envelope_with_epr(void **state) {
  char mid[64], t[512];
  const char *uri = HV_WMI_URI_PREFIX
      "root/virtualization/v2/Msvm_VirtualSystemManagementService";
  hvsb_t body_xml;
  hvsb_init(&body_xml);
  hvsb_addf(&body_xml, "<p:AddKvpItems_INPUT xmlns:p=\"%s\"><p:TargetSystem>",
            uri);
  wsman_selector_t target[2] = {{"CreationClassName", "Msvm_ComputerSystem"},
                                {"Name", "GUID-1"}};
  wsman_build_epr(&body_xml, "urn:cs", target, 2);
  hvsb_adds(&body_xml, "</p:TargetSystem></p:AddKvpItems_INPUT>");
  hvsb_t b;
  hvsb_init(&b);
  wsman_hdr_t h = hdr("urn:x/AddKvpItems", uri, mid);
  assert_int_equal(wsman_build_invoke(&b, &h, hvsb_str(&body_xml)), 0);
  xmlNodePtr head, body;
  xmlDocPtr doc = parse_back(&b, &head, &body);
  xmlNodePtr ts = hvx_path(body, uri, "AddKvpItems_INPUT", "TargetSystem",
                           (const char *)NULL);
  assert_non_null(ts);
  assert_string_equal(
      text_of(hvx_child(ts, WSMAN_NS_WSA, "Address"), t, sizeof(t)),
      WSMAN_ANONYMOUS);
  xmlNodePtr rp = hvx_child(ts, WSMAN_NS_WSA, "ReferenceParameters");
  assert_string_equal(
      text_of(hvx_child(rp, WSMAN_NS_WSMAN, "ResourceURI"), t, sizeof(t)),
      "urn:cs");
  xmlNodePtr s = hvx_path(rp, WSMAN_NS_WSMAN, "SelectorSet", "Selector",
                          (const char *)NULL);
  s = hvx_next(s, WSMAN_NS_WSMAN, "Selector");
  assert_string_equal(text_of(s, t, sizeof(t)), "GUID-1");
  xmlFreeDoc(doc);
  hvsb_free(&b);
  hvsb_free(&body_xml);
}

static void test_parse_enumerate_and_pull(void **state) {
  size_t len;
  char *buf = slurp("enum_cs.xml", &len);
  wsman_resp_t r;
  ws_err_t err;
  ws_err_clear(&err);
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 200, &r, &err), 0);
  wsman_page_t pg;
  assert_int_equal(wsman_parse_page(&r, 0, &pg, &err), 0);
  assert_string_equal(pg.context, "uuid:CTX-CS-1");
  assert_false(pg.eos);
  int n = 0;
  for (xmlNodePtr i = hvx_first_elem(pg.items); i; i = hvx_next_elem(i))
    n++;
  assert_int_equal(n, 3);
  /* the Pull parser refuses an EnumerateResponse */
  assert_int_equal(wsman_parse_page(&r, 1, &pg, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  wsman_resp_free(&r);
  free(buf);

  buf = slurp("pull_cs.xml", &len); /* other prefixes, XmlFragment */
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 200, &r, &err), 0);
  assert_int_equal(wsman_parse_page(&r, 1, &pg, &err), 0);
  assert_true(pg.eos);
  xmlNodePtr inst = wsman_item_instance(hvx_first_elem(pg.items));
  assert_true(hvx_is(inst, WSMAN_NS_WSMAN, "XmlFragment"));
  char t[64];
  assert_string_equal(text_of(hvx_child(inst, NULL, "ElementName"), t, 64),
                      "empty");
  wsman_resp_free(&r);
  free(buf);
}

static void test_fault_filter(void **state) {
  size_t len;
  char *buf = slurp("fault_filter.xml", &len);
  wsman_resp_t r;
  ws_err_t err;
  ws_err_clear(&err);
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 400, &r, &err), -1);
  assert_null(r.doc);
  assert_int_equal(err.kind, WS_ERR_FAULT);
  assert_int_equal(err.http_status, 400);
  assert_int_equal(err.code, 2150858778u);
  assert_non_null(strstr(err.msg, "s:Sender/w:CannotProcessFilter"));
  assert_non_null(strstr(err.msg, "0x8033801A"));
  assert_non_null(strstr(err.msg, "WQL query is invalid"));
  assert_non_null(strstr(err.msg, "could not process the filter"));
  free(buf);
}

static void test_fault_provider_wmierror(void **state) {
  size_t len;
  char *buf = slurp("fault_provider.xml", &len);
  wsman_resp_t r;
  ws_err_t err;
  ws_err_clear(&err);
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 500, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_FAULT);
  assert_int_equal(err.code, 32775);
  assert_non_null(strstr(err.msg, "Generic failure"));
  assert_non_null(strstr(err.msg, "invalid state for this operation"));
  assert_non_null(strstr(err.msg, "MSFT_WmiError 32775"));
  free(buf);
}

static void test_http_errors(void **state) {
  size_t len;
  char *buf = slurp("http401.html", &len);
  wsman_resp_t r;
  ws_err_t err;
  ws_err_clear(&err);
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 401, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_AUTH);
  assert_int_equal(err.http_status, 401);
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 500, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_HTTP);
  assert_int_equal(err.http_status, 500);
  assert_non_null(strstr(err.msg, "500"));
  /* 200 but not XML */
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 200, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  free(buf);
  /* 200, XML, but not a SOAP envelope */
  assert_int_equal(wsman_parse_response("<a/>", 4, 1 << 20, 200, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  assert_int_equal(wsman_parse_response("", 0, 1 << 20, 200, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
}

static void test_doctype_and_size_refused(void **state) {
  size_t len;
  char *buf = slurp("doctype.xml", &len);
  wsman_resp_t r;
  ws_err_t err;
  ws_err_clear(&err);
  assert_int_equal(wsman_parse_response(buf, len, 1 << 20, 200, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  assert_non_null(strstr(err.msg, "DOCTYPE"));
  free(buf);
  buf = slurp("enum_cs.xml", &len);
  assert_int_equal(wsman_parse_response(buf, len, len - 1, 200, &r, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  assert_non_null(strstr(err.msg, "exceeds"));
  free(buf);
}

static void test_page_without_context_or_eos(void **state) {
  const char *x =
      "<e:Envelope xmlns:e=\"" WSMAN_NS_SOAP "\" xmlns:n=\"" WSMAN_NS_WSEN
      "\"><e:Body><n:PullResponse><n:Items/></n:PullResponse></e:Body>"
      "</e:Envelope>";
  wsman_resp_t r;
  ws_err_t err;
  assert_int_equal(wsman_parse_response(x, strlen(x), 1 << 20, 200, &r, &err),
                   0);
  wsman_page_t pg;
  assert_int_equal(wsman_parse_page(&r, 1, &pg, &err), -1);
  assert_non_null(strstr(err.msg, "EndOfSequence"));
  wsman_resp_free(&r);
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
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 20, 0, &err), 0);
  hvkvp_items_t *g = &vms.v[0].guest;
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
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 24, 0, &err), 0);
  assert_int_equal(vms.v[0].guest.n, 4096);
  assert_int_equal(vms.v[0].items_rejected, 4);
  assert_non_null(strstr(vms.v[0].reject_reason, "4096"));
  /* the same VM again in a later page: the cap holds for the sum */
  const char *more[] = {"other1", "x", "other2", "y"};
  hvsb_reset(&b);
  kvp_page(&b, guid, more, 2);
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 20, 0, &err), 0);
  assert_int_equal(vms.v[0].guest.n, 4096);
  assert_int_equal(vms.v[0].items_rejected, 6);
  assert_null(hvkvp_items_get(&vms.v[0].guest, "other1"));
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
  assert_int_equal(hv_decode_kvp_page(&vms, HV_WANT_INTRINSIC | HV_WANT_GUEST,
                                      buf, len, 1 << 20, 0, &err),
                   0);
  assert_int_equal(vms.v[0].guest.n, 3);
  assert_int_equal(vms.v[0].intrinsic.n, 2);
  assert_true(vms.v[0].has_kvp);
  assert_int_equal(vms.v[1].guest.n, 3);
  assert_int_equal(vms.v[1].items_rejected, 4);
  /* as a Pull page it is refused, naming what is missing */
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, buf, len, 1 << 20, 1, &err), -1);
  assert_non_null(strstr(err.msg, "PullResponse"));
  /* over the size cap */
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, buf, len, len - 1, 0, &err), -1);
  assert_non_null(strstr(err.msg, "exceeds"));
  /* cut short */
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, buf, len / 2, 1 << 20, 0, &err),
      -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  free(buf);
  /* a fault in a page is described by the fault parser */
  buf = slurp("fault_provider.xml", &len);
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, buf, len, 1 << 20, 0, &err), -1);
  assert_int_equal(err.kind, WS_ERR_FAULT);
  assert_int_equal(err.code, 32775);
  free(buf);
  buf = slurp("doctype.xml", &len);
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, buf, len, 1 << 20, 0, &err), -1);
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
  assert_int_equal(
      hv_decode_kvp_page(&vms, HV_WANT_GUEST, b.p, b.len, 1 << 20, 1, &err), 0);
  assert_int_equal(vms.v[0].guest.n, 1);
  assert_string_equal(hvkvp_items_get(&vms.v[0].guest, "wrapped"), "yes");
  assert_int_equal(vms.v[0].items_rejected, 1);
  assert_non_null(strstr(vms.v[0].reject_reason, "16 KiB"));
  hvsb_free(&b);
  hvsb_free(&inst);
  hv_vms_free(&vms);
}

int main(void) {
  xmlInitParser();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_enumerate_envelope),
      cmocka_unit_test(test_pull_release_get_envelopes),
      cmocka_unit_test(test_invoke_envelope_with_epr),
      cmocka_unit_test(test_parse_enumerate_and_pull),
      cmocka_unit_test(test_fault_filter),
      cmocka_unit_test(test_fault_provider_wmierror),
      cmocka_unit_test(test_http_errors),
      cmocka_unit_test(test_doctype_and_size_refused),
      cmocka_unit_test(test_page_without_context_or_eos),
      cmocka_unit_test(test_return_codes),
      cmocka_unit_test(test_kvp_page_dedupe_and_cap),
      cmocka_unit_test(test_kvp_page_forms_and_errors),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  xmlCleanupParser();
  return rc;
}
