/*
 * instance.h - how the transport hands WMI instances to the layer above:
 * not as XML but as events, one instance at a time and one property at a
 * time (an array property: one event per element). The same sink serves
 * streamed enumeration pages (page.c, SAX), Get responses and a method's
 * output (envelope.c, DOM), so the model above never touches XML, SOAP or
 * WS-Addressing.
 */
#ifndef HVKVP_WSMAN_INSTANCE_H
#define HVKVP_WSMAN_INSTANCE_H

#include "error.h"

#include <stddef.h>

typedef struct {
  const char *name;
  const char *value;
} wsman_selector_t;

#define WSMAN_PROP_NIL 1u /* xsi:nil="true": no value */
#define WSMAN_PROP_CUT 2u /* the text was longer than the sink's max_text */
#define WSMAN_MAX_SELECTORS 8

typedef struct {
  const char *name; /* local name, e.g. "GuestExchangeItems" */
  const char *text; /* NUL-terminated text ("" when NIL or CUT) */
  size_t len;
  unsigned flags;
  /* An endpoint-reference property (a method's Job output): its
   * wsman:SelectorSet, else nsel 0. */
  const wsman_selector_t *sel;
  size_t nsel;
} wsman_prop_t;

/* Each callback returns 0 to go on, WSMAN_STOP to end the enumeration early
 * (it is released), or -1 with err filled (the enumeration is released and
 * the call fails with that error). */
#define WSMAN_STOP 1

typedef struct {
  int (*begin)(void *ctx, ws_err_t *err);
  int (*prop)(void *ctx, const wsman_prop_t *p, ws_err_t *err);
  int (*end)(void *ctx, ws_err_t *err);
  size_t max_text; /* longest property text delivered (bytes) */
} wsman_sink_t;

#endif
