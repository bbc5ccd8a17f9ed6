/*
 * hyperv_int.h - internals of the Hyper-V model exposed for the benchmark
 * and the fuzz targets: decoding one Msvm_KvpExchangeComponent enumeration
 * page (SOAP + every embedded item instance) into already listed VMs.
 */
#ifndef HVKVP_HYPERV_INT_H
#define HVKVP_HYPERV_INT_H

#include "hyperv.h"

#include <stddef.h>

/* Parses an EnumerateResponse (is_pull 0) or PullResponse (is_pull 1) body
 * of at most max_len bytes and adds the items of every component whose
 * SystemName is one of vms (by GUID) to that VM, as hv_list_vms does. */
int hv_decode_kvp_page(hv_vms_t *vms, unsigned want, const char *buf,
                       size_t len, size_t max_len, int is_pull, ws_err_t *err);

#endif
