/*
 * page.h - streaming (SAX2) read of one enumeration page, the hot path of
 * every poll: an EnumerateResponse or PullResponse body is read without
 * building a tree, and each instance in its Items is handed to a sink
 * (instance.h) property by property. Bounded: the input is capped before
 * parsing, a DOCTYPE is refused, property text is collected into one buffer
 * of the sink's max_text. A pager keeps the parser and buffer between pages.
 */
#ifndef HVKVP_WSMAN_PAGE_H
#define HVKVP_WSMAN_PAGE_H

#include "error.h"
#include "instance.h"

#include <stddef.h>

typedef struct {
  char context[256]; /* EnumerationContext ("" when absent) */
  int eos;           /* EndOfSequence seen */
  size_t items;      /* instances in the page */
} wsman_page_t;

typedef struct wsman_pager wsman_pager_t;

wsman_pager_t *wsman_pager_new(void);
void wsman_pager_free(wsman_pager_t *p);

/* The body was a SOAP fault (the caller describes it with the tree parser). */
#define WSMAN_PAGE_FAULT 2

/* Reads one EnumerateResponse (is_pull 0) or PullResponse (is_pull 1) body
 * of len bytes (more than max_len is refused) in `encoding` (the charset of
 * the response's Content-Type; NULL: UTF-8 or what the document declares).
 * Returns 0, WSMAN_STOP when the sink stopped, WSMAN_PAGE_FAULT, or -1 with
 * err (WS_ERR_PARSE for a malformed or unexpected page, or the sink's). */
int wsman_pager_parse(wsman_pager_t *p, const char *buf, size_t len,
                      size_t max_len, const char *encoding, int is_pull,
                      const wsman_sink_t *sink, void *ctx, wsman_page_t *pg,
                      ws_err_t *err);

#endif
