/*
 * hyperv_int.h - the model's page decoding exposed for the tests, the fuzz
 * target and the benchmark: one Msvm_KvpExchangeComponent enumeration page
 * (SOAP + every embedded item instance) decoded into already listed VMs, as
 * hv_list_vms does, with the parser kept between pages.
 */
#ifndef HVKVP_HYPERV_INT_H
#define HVKVP_HYPERV_INT_H

#include "hyperv.h"

#include <stddef.h>

typedef struct hv_page_decoder hv_page_decoder_t;

/* A decoder for the pools in `want` (HV_WANT_INTRINSIC | HV_WANT_GUEST). */
hv_page_decoder_t *hv_page_decoder_new(unsigned want);
void hv_page_decoder_free(hv_page_decoder_t *d);
/* Parses an EnumerateResponse (is_pull 0) or PullResponse (is_pull 1) body
 * of at most max_len bytes and adds the items of every component whose
 * SystemName is one of vms (by GUID) to that VM. 0 or -1 with err. */
int hv_page_decode(hv_page_decoder_t *d, hv_vms_t *vms, const char *buf,
                   size_t len, size_t max_len, int is_pull, ws_err_t *err);

#endif
