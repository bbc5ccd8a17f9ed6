/*
 * fuzz_soap.c - libFuzzer target for the WS-Man response parser: SOAP
 * envelope and fault parsing (the first byte picks the HTTP status), the
 * Enumerate/Pull page reader, and the whole KVP page decode into VMs
 * (hv_decode_kvp_page: SOAP + every embedded item instance).
 */
#include "hyperv_int.h"
#include "wsman.h"
#include "xmldoc.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const fuzz_guids[] = {
    "11111111-2222-3333-4444-555555555555",
    "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE",
    "0F0F0F0F-0000-0000-0000-000000000003",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const long statuses[] = {200, 200, 400, 401, 500, 413};
  if (size < 1)
    return 0;
  long status = statuses[data[0] % 6];
  const char *buf = (const char *)data + 1;
  size_t len = size - 1;
  ws_err_t err;
  wsman_resp_t r;
  if (wsman_parse_response(buf, len, 1 << 20, status, &r, &err) == 0) {
    for (int pull = 0; pull < 2; pull++) {
      wsman_page_t pg;
      if (wsman_parse_page(&r, pull, &pg, &err) != 0)
        continue;
      for (xmlNodePtr it = hvx_first_elem(pg.items); it != NULL;
           it = hvx_next_elem(it)) {
        xmlNodePtr inst = wsman_item_instance(it);
        for (xmlNodePtr p = hvx_first_elem(inst); p != NULL;
             p = hvx_next_elem(p)) {
          xmlChar *tf;
          (void)strlen(hvx_text(p, &tf));
          xmlFree(tf);
          (void)hvx_is_nil(p);
        }
      }
    }
    wsman_resp_free(&r);
  }
  if (status == 200) {
    hv_vms_t vms;
    vms.n = 3;
    vms.v = calloc(3, sizeof(*vms.v));
    for (size_t i = 0; i < 3; i++)
      strcpy(vms.v[i].guid, fuzz_guids[i]);
    (void)hv_decode_kvp_page(&vms, HV_WANT_INTRINSIC | HV_WANT_GUEST, buf, len,
                             1 << 20, data[0] & 1, &err);
    hv_vms_free(&vms);
  }
  return 0;
}
