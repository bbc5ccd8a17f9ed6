/*
 * wsman.h - the WS-Management client for WinRM (MS-WSMV), the one header
 * the layer above (hyperv/) includes: connection options, Enumerate (with
 * Pull and Release, pages streamed), Get and Invoke, each delivering
 * instances to a sink (instance.h). It knows no WMI class and no collectd.
 */
#ifndef HVKVP_WSMAN_H
#define HVKVP_WSMAN_H

#include "error.h"
#include "instance.h"
#include "sbuf.h"

#include <stdint.h>

/* Connection options. The strings are owned by the struct (malloc'ed;
 * wsman_opts_free frees them and wipes the password); a client keeps a
 * pointer to the struct, which must outlive it. Zero-initialised means:
 * Basic auth, certificate and host name checks on, timeout 10 s,
 * MaxEnvelopeSize 500 KB. */
typedef struct {
  char *url;         /* http(s)://host:port/wsman */
  char *user;        /* DOMAIN\user or user@REALM; NULL: none */
  char *password;    /* never logged */
  char *auth;        /* basic | ntlm | negotiate | kerberos; NULL: basic */
  char *cacert;      /* CA file for HTTPS; NULL: the system store */
  char *encryption;  /* GSSAPI sealing: auto (over http://) | required | off */
  char *keytab;      /* Kerberos client keytab; NULL: the credential cache */
  char *principal;   /* Kerberos client principal */
  int insecure_peer; /* 1: skip the certificate check */
  int insecure_host; /* 1: skip the host name check */
  double timeout;    /* seconds for one request */
  unsigned max_envelope_kb; /* the server's MaxEnvelopeSizekb */
} wsman_opts_t;

#define WSMAN_PASSWORD_MAX 1024 /* bytes */

void wsman_opts_free(wsman_opts_t *o);
/* Sets the password (a copy into a locked buffer kept out of core dumps,
 * wiped when replaced or freed). -1 (WS_ERR_CONFIG) over the limit. */
int wsman_opts_set_password(wsman_opts_t *o, const char *pw, ws_err_t *err);
/* Sets the password from the first line of a file that group and others
 * can neither read nor write; a longer password than the limit, more than
 * one line, an empty file are refused naming the file (and its mode). */
int wsman_opts_password_file(wsman_opts_t *o, const char *path, ws_err_t *err);
/* Checks the options without connecting: URL scheme and no credentials in
 * it, auth and encryption names, and that they fit together. 0 or -1 with
 * WS_ERR_CONFIG naming the option. */
int wsman_opts_check(const wsman_opts_t *o, ws_err_t *err);

typedef struct wsman wsman_t;

/* What one client has sent and received so far. */
typedef struct {
  uint64_t requests; /* HTTP requests made */
  uint64_t bytes_in, bytes_out;
} wsman_stats_t;

/* The most one poll may spend: a request that would go past it is not
 * sent and fails with WS_ERR_BUDGET (an open enumeration is released
 * first); every request's transfer timeout is cut to the time left. A
 * zero field sets no bound. */
typedef struct {
  double seconds;
  uint64_t requests;
  uint64_t bytes; /* sent and received */
} wsman_budget_t;

wsman_t *wsman_new(const wsman_opts_t *o, ws_err_t *err);
void wsman_free(wsman_t *w);
void wsman_get_stats(const wsman_t *w, wsman_stats_t *st);
/* Starts counting a budget from now; wsman_budget_end lifts it. */
void wsman_budget_start(wsman_t *w, const wsman_budget_t *b);
void wsman_budget_end(wsman_t *w);

/* Enumerates resource_uri (with a WQL filter when wql is not NULL: then
 * resource_uri is the namespace URI ending in "*"), max_elements instances per
 * page (0: 512), every instance of every page handed to the sink. Returns 0
 * (also when the sink stopped it: the enumeration is released), or -1 with err.
 */
int wsman_enumerate(wsman_t *w, const char *resource_uri, const char *wql,
                    unsigned max_elements, const wsman_sink_t *sink, void *ctx,
                    ws_err_t *err);
/* Get: the instance the selectors name, to the sink. */
int wsman_get(wsman_t *w, const char *resource_uri, const wsman_selector_t *sel,
              size_t nsel, const wsman_sink_t *sink, void *ctx, ws_err_t *err);
/* Invoke: body_xml is the method's input element; the <Method>_OUTPUT
 * element goes to the sink as one instance (its ReturnValue, a Job
 * reference with its selectors, ...). */
int wsman_invoke(wsman_t *w, const char *resource_uri, const char *method,
                 const wsman_selector_t *sel, size_t nsel, const char *body_xml,
                 const wsman_sink_t *sink, void *ctx, ws_err_t *err);

/* Appends an endpoint reference (a method parameter such as TargetSystem). */
void wsman_build_epr(hvsb_t *b, const char *resource_uri,
                     const wsman_selector_t *sel, size_t nsel);

/* Monotonic seconds (deadlines, durations). */
double wsman_now(void);

#endif
