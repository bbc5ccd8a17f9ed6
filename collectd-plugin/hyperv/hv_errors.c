/*
 * hv_errors.c - ws_err_t helpers and the documented mapping of
 * Msvm_VirtualSystemManagementService method return codes and
 * Msvm_ConcreteJob states to text (DESIGN.md section 4).
 */
#include "hv_errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
