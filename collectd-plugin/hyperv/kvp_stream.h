/*
 * kvp_sax.h - streaming (SAX2) decode of the two KVP enumerations, the hot
 * path of every poll: Msvm_KvpExchangeComponent pages (guest and intrinsic
 * items, keyed by SystemName) and Msvm_KvpExchangeComponentSettingData
 * pages (host items, keyed by InstanceID "Microsoft:<GUID>\..."). The SOAP
 * envelope is read without building a tree, each embedded item instance is
 * decoded by cimxml.c as soon as its text ends, and the items join their VM
 * when the instance ends (properties may come in any order).
 */
#ifndef HVKVP_KVP_SAX_H
#define HVKVP_KVP_SAX_H

#include "hyperv.h"
#include "wsman.h"

#include <stddef.h>

#define KVPS_MAX_ITEMS_PER_POOL 4096

enum { KVPS_INTRINSIC = 0, KVPS_GUEST = 1, KVPS_HOST = 2, KVPS_POOLS = 3 };

typedef struct {
  const char *key_prop;              /* "SystemName" or "InstanceID" */
  int key_is_instanceid;             /* GUID inside "Microsoft:<GUID>\..." */
  const char *pool_prop[KVPS_POOLS]; /* array property per pool, or NULL */
  int mark_kvp;                      /* set has_kvp on the joined VM */
} kvps_class_t;

typedef hv_vm_t *(*kvps_find_fn)(void *ctx, const char *guid);

/* Decodes one EnumerateResponse (is_pull 0) or PullResponse (is_pull 1)
 * body. Fills pg->context and pg->eos and *items (instances seen). Returns
 * 0, WSMAN_PAGE_FAULT if the body is a SOAP fault, or -1 with err. */
int kvps_page(const kvps_class_t *c, kvps_find_fn find, void *fctx,
              const char *buf, size_t len, size_t max_len, int is_pull,
              wsman_page_t *pg, size_t *items, ws_err_t *err);

/* Normalises a GUID (36 characters, optionally in braces) to upper case;
 * 1 if s[0..len) is one. */
int kvps_guid_norm(const char *s, size_t len, char out[37]);

#endif
