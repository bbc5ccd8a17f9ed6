/*
 * kvp_stream.h - the KVP item pools of a streamed enumeration, the hot path
 * of every poll: a sink (wsman/instance.h) for Msvm_KvpExchangeComponent
 * (guest and intrinsic items, instance keyed by SystemName) or
 * Msvm_KvpExchangeComponentSettingData (host items, keyed by InstanceID
 * "Microsoft:<GUID>\..."). Each embedded item instance is decoded
 * (cimxml.h) as soon as its text ends; when the WMI instance ends (its
 * properties may come in any order) its items are handed to the caller as
 * (VM GUID, pool, key, value). It touches no VM structure.
 */
#ifndef HVKVP_HYPERV_KVP_STREAM_H
#define HVKVP_HYPERV_KVP_STREAM_H

#include "wmi.h"
#include "wsman.h"

#include <stddef.h>

#define KVPS_MAX_ITEMS_PER_POOL 4096

typedef struct {
  hv_pool_t pool;
  const char *key, *value; /* NUL-terminated; NULL when refused */
  size_t key_len, value_len;
  const char *refused; /* why the item was refused, else NULL */
} kvps_item_t;

/* What one WMI instance held, given after the instance ended: `instance`
 * once (the VM the instance names), then `item` for each item and each
 * refusal. A GUID that does not parse reaches neither. Return 0, or -1 with
 * err to fail the enumeration. */
typedef struct {
  int (*instance)(void *ctx, const char *guid, ws_err_t *err);
  int (*item)(void *ctx, const char *guid, const kvps_item_t *it,
              ws_err_t *err);
} kvps_out_t;

typedef struct kvps kvps_t;

/* A decoder for the pools in `want` (bit 1 << hv_pool_t) of class c. */
kvps_t *kvps_new(hv_class_t c, unsigned want, const kvps_out_t *out,
                 void *out_ctx);
void kvps_free(kvps_t *s);
/* The sink to hand to wsman with the decoder as its context. */
extern const wsman_sink_t kvps_sink;
/* The properties of the class to select: its key and the wanted pools. */
uint64_t kvps_mask(const kvps_t *s);

#endif
