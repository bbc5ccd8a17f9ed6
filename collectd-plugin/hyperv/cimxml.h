/*
 * cimxml.h - CIM-XML embedded instances of Msvm_KvpExchangeDataItem: the
 * strings inside GuestIntrinsicExchangeItems / GuestExchangeItems /
 * HostExchangeItems and the DataItems parameter of Add/Modify/RemoveKvpItems.
 *
 * The decoder is a strict, allocation-free parser for the small XML subset
 * these instances use (INSTANCE > PROPERTY > VALUE, attributes, the five
 * predefined entities, character references, CDATA, comments, an optional
 * XML declaration). Everything it reads is hostile guest data:
 *  - the input is capped (CIMX_MAX_INPUT) before parsing, nesting is capped
 *    (CIMX_MAX_DEPTH), a DOCTYPE or any undefined entity is refused;
 *  - CLASSNAME must be Msvm_KvpExchangeDataItem;
 *  - a missing or empty Name rejects the item (CIMX_E_NONAME);
 *  - a missing Data gives "" ; a missing Source gives -1;
 *  - a property given twice (or a VALUE given twice) rejects the item
 *    (CIMX_E_DUP): we do not guess which copy Windows would use;
 *  - Name longer than HVKVP_KEY_LEN - 1 bytes or Data longer than
 *    HVKVP_VALUE_LEN - 1 bytes rejects the item (CIMX_E_TOOBIG);
 *  - text must be valid UTF-8 without characters XML 1.0 forbids.
 */
#ifndef HVKVP_CIMXML_H
#define HVKVP_CIMXML_H

#include "error.h"
#include "hvkvp.h"
#include "sbuf.h"

#include <stddef.h>

#define CIMX_MAX_INPUT 16384 /* bytes (16 KiB) of one embedded instance */
#define CIMX_MAX_DEPTH 8
#define CIMX_CLASS "Msvm_KvpExchangeDataItem"

typedef enum {
  CIMX_OK = 0,
  CIMX_E_SYNTAX,   /* not well-formed, or not the expected structure */
  CIMX_E_CLASS,    /* CLASSNAME is not Msvm_KvpExchangeDataItem */
  CIMX_E_NONAME,   /* no (or empty) Name property */
  CIMX_E_DUP,      /* a property or its VALUE appears twice */
  CIMX_E_TOOBIG,   /* input, Name or Data over its cap */
  CIMX_E_ENCODING, /* invalid UTF-8, forbidden character, bad entity */
} cimx_rc_t;

typedef struct {
  char name[HVKVP_KEY_LEN];
  size_t name_len;
  char data[HVKVP_VALUE_LEN];
  size_t data_len;
  int source; /* 0 host, 1 guest, 2 intrinsic, 4 host-only; -1 absent */
} cimx_item_t;

/* Decodes one instance. On error err (may be NULL) says why (kind
 * WS_ERR_PARSE, code the cimx_rc_t). */
cimx_rc_t cimx_decode(const char *s, size_t len, cimx_item_t *out,
                      ws_err_t *err);
const char *cimx_strerror(cimx_rc_t rc);

/* Appends one INSTANCE with Name, Data and Source properties (already XML
 * escaped once: the result is CIM-XML text, to be escaped again when placed
 * in a SOAP element). Returns -1 if name or data cannot be carried (invalid
 * UTF-8, control characters) or are over the caps. */
int cimx_encode(hvsb_t *b, const char *name, const char *data, int source);

#endif
