/*
 * error.c - ws_err_t helpers (see error.h).
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ws_err_set(ws_err_t *err, ws_err_kind_t kind, const char *fmt, ...) {
  if (err == NULL)
    return -1;
  err->kind = kind;
  err->http_status = 0;
  err->code = 0;
  err->content = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return -1;
}

void ws_err_prefix(ws_err_t *err, const char *fmt, ...) {
  if (err == NULL)
    return;
  char head[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof(head), fmt, ap);
  va_end(ap);
  char joined[sizeof(head) + sizeof(err->msg) + 2];
  snprintf(joined, sizeof(joined), "%s: %s", head, err->msg);
  size_t n = strlen(joined);
  if (n >= sizeof(err->msg))
    n = sizeof(err->msg) - 1;
  memcpy(err->msg, joined, n);
  err->msg[n] = '\0';
}

void ws_err_clear(ws_err_t *err) {
  if (err == NULL)
    return;
  memset(err, 0, sizeof(*err));
}

const char *ws_err_kind_str(ws_err_kind_t kind) {
  switch (kind) {
  case WS_ERR_NONE:
    return "none";
  case WS_ERR_CONFIG:
    return "config";
  case WS_ERR_CONNECT:
    return "connection";
  case WS_ERR_TLS:
    return "tls";
  case WS_ERR_AUTH:
    return "auth";
  case WS_ERR_HTTP:
    return "http";
  case WS_ERR_FAULT:
    return "fault";
  case WS_ERR_PARSE:
    return "parse";
  case WS_ERR_NOTFOUND:
    return "not-found";
  case WS_ERR_METHOD:
    return "method";
  case WS_ERR_JOB:
    return "job";
  case WS_ERR_TIMEOUT:
    return "timeout";
  case WS_ERR_BUDGET:
    return "budget";
  case WS_ERR_NOMEM:
    return "memory";
  }
  return "unknown";
}
