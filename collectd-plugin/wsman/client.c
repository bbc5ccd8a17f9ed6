/*
 * client.c - the WS-Management operations (see wsman.h) over one connection
 * (http.c): requests built by envelope.c, enumeration pages streamed to the
 * caller's sink by page.c, Get and Invoke answers parsed whole and handed
 * over the same way, faults turned into ws_err_t, enumerations released
 * whenever they end early.
 */
#include "envelope.h"
#include "http.h"
#include "page.h"
#include "wsman.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WSMAN_MAX_EMPTY_PULLS 64

struct wsman {
  wsman_http_t *http;
  /* the budget of the current poll (none when !budget_on) */
  int budget_on;
  wsman_budget_t budget;
  double budget_start;
  wsman_stats_t budget_base;
  wsman_pager_t *pager;
  size_t max_envelope; /* bytes */
  size_t max_response; /* bytes: 2 x max_envelope */
  unsigned op_timeout_s;
  hvsb_t req;
};

double wsman_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

wsman_t *wsman_new(const wsman_opts_t *o, ws_err_t *err) {
  xmlInitParser();
  wsman_t *w = calloc(1, sizeof(*w));
  if (w == NULL) {
    ws_err_set(err, WS_ERR_CONFIG, "out of memory");
    return NULL;
  }
  unsigned kb = o != NULL && o->max_envelope_kb ? o->max_envelope_kb : 500;
  w->max_envelope = (size_t)(kb < 64 * 1024 ? kb : 64 * 1024) * 1024;
  w->max_response = w->max_envelope * 2;
  /* the server gives up (with a fault) before our transfer deadline does */
  double t = (o != NULL && o->timeout > 0 ? o->timeout : 10) - 1;
  w->op_timeout_s = t >= 60 ? 60 : t >= 1 ? (unsigned)t : 1;
  hvsb_init(&w->req);
  w->http = wsman_http_new(o, w->max_response, err);
  if (w->http == NULL) {
    wsman_free(w);
    return NULL;
  }
  w->pager = wsman_pager_new();
  if (w->pager == NULL) {
    wsman_free(w);
    ws_err_set(err, WS_ERR_CONFIG, "out of memory creating the XML parser");
    return NULL;
  }
  return w;
}

void wsman_free(wsman_t *w) {
  if (w == NULL)
    return;
  wsman_http_free(w->http);
  wsman_pager_free(w->pager);
  hvsb_free(&w->req);
  free(w);
}

void wsman_get_stats(const wsman_t *w, wsman_stats_t *st) {
  wsman_http_stats(w->http, st);
}

void wsman_budget_start(wsman_t *w, const wsman_budget_t *b) {
  w->budget_on = 1;
  w->budget = *b;
  w->budget_start = wsman_now();
  wsman_http_stats(w->http, &w->budget_base);
}

void wsman_budget_end(wsman_t *w) {
  w->budget_on = 0;
}

/* The seconds the next request may take (0: no budget), or -1 with err
 * when the budget is spent. A Release is let through with a second of
 * grace: it ends what the budget cut short. */
static double wsman_budget_left(wsman_t *w, int release, ws_err_t *err) {
  if (!w->budget_on)
    return 0;
  wsman_stats_t st;
  wsman_http_stats(w->http, &st);
  uint64_t req = st.requests - w->budget_base.requests;
  uint64_t bytes = st.bytes_in + st.bytes_out - w->budget_base.bytes_in -
                   w->budget_base.bytes_out;
  double used = wsman_now() - w->budget_start;
  double left = w->budget.seconds > 0 ? w->budget.seconds - used : 0;
  if (release)
    return w->budget.seconds > 0 && left < 1 ? 1 : left;
  if ((w->budget.requests && req >= w->budget.requests) ||
      (w->budget.bytes && bytes >= w->budget.bytes) ||
      (w->budget.seconds > 0 && left <= 0)) {
    ws_err_set(err, WS_ERR_BUDGET,
               "the poll's budget is spent: %llu requests, %.1f MB, %.1f s "
               "(at most %llu requests, %.1f MB, %.1f s)",
               (unsigned long long)req, (double)bytes / 1e6, used,
               (unsigned long long)w->budget.requests,
               (double)w->budget.bytes / 1e6, w->budget.seconds);
    return -1;
  }
  return left;
}

/* Starts w->req as a request with these header fields. */
static void wsman_begin(wsman_t *w, wsman_hdr_t *h, char *mid,
                        const char *action, const char *uri,
                        const wsman_selector_t *sel, size_t nsel) {
  wsman_new_message_id(mid);
  h->to = wsman_http_url(w->http);
  h->action = action;
  h->resource_uri = uri;
  h->message_id = mid;
  h->max_envelope = (unsigned)w->max_envelope;
  h->timeout_s = w->op_timeout_s;
  h->sel = sel;
  h->nsel = nsel;
  hvsb_reset(&w->req);
}

static int wsman_send(wsman_t *w, const char *what, wsman_reply_t *rep,
                      ws_err_t *err) {
  memset(rep, 0, sizeof(*rep));
  if (hvsb_failed(&w->req))
    return ws_err_set(err, WS_ERR_CONFIG,
                      "%s: request could not be built (out of memory or a "
                      "parameter that XML cannot carry)",
                      what);
  double left = wsman_budget_left(w, strcmp(what, "Release") == 0, err);
  if (left < 0) {
    ws_err_prefix(err, "%s not sent", what);
    return -1;
  }
  return wsman_http_post(w->http, what, hvsb_str(&w->req), w->req.len, left,
                         rep, err);
}

/* The reply parsed whole; its error (fault, HTTP status, ...) in err. */
static int wsman_parse_reply(wsman_t *w, const char *what,
                             const wsman_reply_t *rep, wsman_resp_t *r,
                             ws_err_t *err) {
  const char *enc = rep->charset[0] ? rep->charset : NULL;
  ws_err_clear(err);
  if (wsman_parse_response(rep->body, rep->len, w->max_response, enc,
                           rep->status, r, err) == 0)
    return 0;
  if (err != NULL && err->kind == WS_ERR_AUTH) {
    ws_err_set(err, WS_ERR_AUTH,
               "%s: HTTP 401 from %s: authentication as '%s' with %s refused",
               what, wsman_http_url(w->http), wsman_http_who(w->http),
               wsman_http_auth(w->http));
    err->http_status = rep->status;
  } else {
    ws_err_prefix(err, "%s", what);
  }
  return -1;
}

/* Sends w->req and parses the whole reply. */
static int wsman_call(wsman_t *w, const char *what, wsman_resp_t *r,
                      ws_err_t *err) {
  wsman_reply_t rep;
  r->doc = NULL;
  r->body = NULL;
  if (wsman_send(w, what, &rep, err) != 0)
    return -1;
  return wsman_parse_reply(w, what, &rep, r, err);
}

static void wsman_release(wsman_t *w, const char *uri, const char *context) {
  wsman_hdr_t h;
  char mid[64];
  wsman_begin(w, &h, mid, WSMAN_ACTION_RELEASE, uri, NULL, 0);
  wsman_build_release(&w->req, &h, context);
  wsman_resp_t r;
  ws_err_t ignored;
  if (wsman_call(w, "Release", &r, &ignored) == 0)
    wsman_resp_free(&r);
}

/* Reads one page of an enumeration into the sink: 0, WSMAN_STOP or -1. */
static int wsman_page(wsman_t *w, const char *what, int is_pull,
                      const wsman_sink_t *sink, void *ctx, wsman_page_t *pg,
                      ws_err_t *err) {
  wsman_reply_t rep;
  memset(pg, 0, sizeof(*pg));
  if (wsman_send(w, what, &rep, err) != 0)
    return -1;
  int rc = WSMAN_PAGE_FAULT;
  if (rep.status == 200)
    rc = wsman_pager_parse(w->pager, rep.body, rep.len, w->max_response,
                           rep.charset[0] ? rep.charset : NULL, is_pull, sink,
                           ctx, pg, err);
  if (rc == WSMAN_PAGE_FAULT) {
    /* an error reply: the tree parser describes it */
    wsman_resp_t r;
    if (wsman_parse_reply(w, what, &rep, &r, err) == 0) {
      wsman_resp_free(&r);
      ws_err_set(err, WS_ERR_PARSE, "%s: unexpected reply", what);
    }
    return -1;
  }
  if (rc < 0 && err != NULL) {
    /* a page that cannot be read for what it holds: say so, a narrower
     * enumeration may read what this one could not */
    if (err->kind == WS_ERR_PARSE)
      err->content = 1;
    ws_err_prefix(err, "%s", what);
  }
  return rc;
}

int wsman_enumerate(wsman_t *w, const char *resource_uri, const char *wql,
                    unsigned max_elements, const wsman_sink_t *sink, void *ctx,
                    ws_err_t *err) {
  wsman_hdr_t h;
  char mid[64], context[256] = "";
  wsman_page_t pg;
  int is_pull = 0, empty = 0;
  if (max_elements == 0)
    max_elements = 512;
  wsman_begin(w, &h, mid, WSMAN_ACTION_ENUMERATE, resource_uri, NULL, 0);
  wsman_build_enumerate(&w->req, &h, wql, max_elements);
  for (;;) {
    int rc = wsman_page(w, is_pull ? "Pull" : "Enumerate", is_pull, sink, ctx,
                        &pg, err);
    if (pg.context[0])
      memcpy(context, pg.context, sizeof(context));
    if (rc != 0 || pg.eos) {
      if (rc != 0 && !pg.eos && context[0])
        wsman_release(w, resource_uri, context);
      return rc < 0 ? -1 : 0;
    }
    empty = pg.items == 0 ? empty + 1 : 0;
    if (empty > WSMAN_MAX_EMPTY_PULLS) {
      wsman_release(w, resource_uri, context);
      return ws_err_set(err, WS_ERR_PARSE,
                        "enumeration of %s made no progress in %d pulls",
                        resource_uri, WSMAN_MAX_EMPTY_PULLS);
    }
    wsman_begin(w, &h, mid, WSMAN_ACTION_PULL, resource_uri, NULL, 0);
    wsman_build_pull(&w->req, &h, context, max_elements);
    is_pull = 1;
  }
}

int wsman_get(wsman_t *w, const char *resource_uri, const wsman_selector_t *sel,
              size_t nsel, const wsman_sink_t *sink, void *ctx, ws_err_t *err) {
  wsman_hdr_t h;
  char mid[64];
  wsman_resp_t r;
  wsman_begin(w, &h, mid, WSMAN_ACTION_GET, resource_uri, sel, nsel);
  wsman_build_get(&w->req, &h);
  if (wsman_call(w, "Get", &r, err) != 0)
    return -1;
  xmlNodePtr inst = r.body->children;
  while (inst != NULL && inst->type != XML_ELEMENT_NODE)
    inst = inst->next;
  int rc = inst != NULL ? wsman_deliver(inst, sink, ctx, err)
                        : ws_err_set(err, WS_ERR_PARSE,
                                     "Get response has an empty Body");
  wsman_resp_free(&r);
  return rc < 0 ? -1 : 0;
}

int wsman_invoke(wsman_t *w, const char *resource_uri, const char *method,
                 const wsman_selector_t *sel, size_t nsel, const char *body_xml,
                 const wsman_sink_t *sink, void *ctx, ws_err_t *err) {
  char action[512], outname[128], mid[64];
  snprintf(action, sizeof(action), "%s/%s", resource_uri, method);
  snprintf(outname, sizeof(outname), "%s_OUTPUT", method);
  wsman_hdr_t h;
  wsman_resp_t r;
  wsman_begin(w, &h, mid, action, resource_uri, sel, nsel);
  wsman_build_invoke(&w->req, &h, body_xml);
  if (wsman_call(w, method, &r, err) != 0)
    return -1;
  xmlNodePtr out = r.body->children;
  while (out != NULL && (out->type != XML_ELEMENT_NODE ||
                         strcmp((const char *)out->name, outname) != 0))
    out = out->next;
  int rc = out != NULL
               ? wsman_deliver(out, sink, ctx, err)
               : ws_err_set(err, WS_ERR_PARSE, "%s response has no %s element",
                            method, outname);
  wsman_resp_free(&r);
  return rc < 0 ? -1 : 0;
}
