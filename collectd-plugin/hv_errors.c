/*
 * hv_errors.c - hv_err_t helpers and the documented mapping of
 * Msvm_VirtualSystemManagementService method return codes and
 * Msvm_ConcreteJob states to text (DESIGN.md section 4).
 */
#include "hv_errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int hv_err_set(hv_err_t *err, hv_err_kind_t kind, const char *fmt, ...) {
  if (err == NULL)
    return -1;
  err->kind = kind;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return -1;
}

void hv_err_prefix(hv_err_t *err, const char *fmt, ...) {
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

void hv_err_clear(hv_err_t *err) {
  if (err == NULL)
    return;
  memset(err, 0, sizeof(*err));
}

const char *hv_err_kind_str(hv_err_kind_t kind) {
  switch (kind) {
  case HV_ERR_NONE:
    return "none";
  case HV_ERR_CONFIG:
    return "config";
  case HV_ERR_CONNECT:
    return "connection";
  case HV_ERR_TLS:
    return "tls";
  case HV_ERR_AUTH:
    return "auth";
  case HV_ERR_HTTP:
    return "http";
  case HV_ERR_FAULT:
    return "fault";
  case HV_ERR_PARSE:
    return "parse";
  case HV_ERR_NOTFOUND:
    return "not-found";
  case HV_ERR_METHOD:
    return "method";
  case HV_ERR_JOB:
    return "job";
  case HV_ERR_TIMEOUT:
    return "timeout";
  }
  return "unknown";
}

/* Msvm_VirtualSystemManagementService return codes (Hyper-V WMI v2). */
static const struct {
  uint32_t rc;
  const char *text;
} hv_return_codes[] = {
    {0, "Completed with No Error"},
    {4096, "Method Parameters Checked - Job Started"},
    {32768, "Failed"},
    {32769, "Access Denied"},
    {32770, "Not Supported"},
    {32771, "Status is unknown"},
    {32772, "Timeout"},
    {32773, "Invalid parameter"},
    {32774, "System is in use"},
    {32775, "Invalid state for this operation"},
    {32776, "Incorrect data type"},
    {32777, "System is not available"},
    {32778, "Out of memory"},
    {32779, "KVP item not found"},
};

const char *hv_return_code_str(uint32_t rc) {
  for (size_t i = 0; i < sizeof(hv_return_codes) / sizeof(hv_return_codes[0]);
       i++)
    if (hv_return_codes[i].rc == rc)
      return hv_return_codes[i].text;
  return "Unknown return code";
}

int hv_return_code_retryable(uint32_t rc) {
  return rc == 32774 || rc == 32775;
}

const char *hv_job_state_str(int state) {
  static const char *const names[] = {
      [2] = "New",        [3] = "Starting",      [4] = "Running",
      [5] = "Suspended",  [6] = "Shutting Down", [7] = "Completed",
      [8] = "Terminated", [9] = "Killed",        [10] = "Exception",
      [11] = "Service"};
  if (state >= 2 && state <= 11)
    return names[state];
  return "Unknown";
}
