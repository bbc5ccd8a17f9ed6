/*
 * fuzz_soap.c - libFuzzer target for the WS-Man response readers. The first
 * byte chooses the path: the whole-response parser (SOAP envelope, faults
 * under an HTTP status, every Body element delivered to a sink as an
 * instance), or the streamed page reader with the model's KVP decoder
 * behind it (SOAP + every embedded item instance joined to listed VMs).
 * Parser state is made once and reused, as a poll reuses it page after
 * page, so a run measures the decoders rather than their set-up.
 */
#include "envelope.h"
#include "hyperv_int.h"
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

static int fz_prop(void *ctx, const wsman_prop_t *p, ws_err_t *err) {
  size_t *n = ctx;
  *n += p->len + p->nsel;
  return 0;
}

static const wsman_sink_t fz_sink = {NULL, fz_prop, NULL, 16384};

static void fz_response(const char *buf, size_t len, long status) {
  ws_err_t err;
  wsman_resp_t r;
  size_t n = 0;
  if (wsman_parse_response(buf, len, 1 << 20, NULL, status, &r, &err) != 0)
    return;
  for (xmlNodePtr c = hvx_first_elem(r.body); c != NULL; c = hvx_next_elem(c))
    (void)wsman_deliver(c, &fz_sink, &n, &err);
  wsman_resp_free(&r);
}

static void fz_page(const char *buf, size_t len, int is_pull) {
  static hv_page_decoder_t *dec;
  static hv_vm_t vm[3];
  ws_err_t err;
  if (dec == NULL) {
    xmlInitParser();
    dec = hv_page_decoder_new(HV_WANT_INTRINSIC | HV_WANT_GUEST);
    for (size_t i = 0; i < 3; i++)
      strcpy(vm[i].guid, fuzz_guids[i]);
  }
  hv_vms_t vms = {3, vm};
  (void)hv_page_decode(dec, &vms, buf, len, 1 << 20, is_pull, &err);
  for (size_t i = 0; i < 3; i++)
    for (int p = 0; p < HV_POOL__COUNT; p++)
      hvkvp_items_free(&vm[i].pool[p]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const long statuses[] = {200, 400, 401, 500, 413};
  if (size < 1)
    return 0;
  const char *buf = (const char *)data + 1;
  size_t len = size - 1;
  if (data[0] & 0x80)
    fz_response(buf, len, statuses[(data[0] & 0x7f) % 5]);
  else
    fz_page(buf, len, data[0] & 1);
  return 0;
}
