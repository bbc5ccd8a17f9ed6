/*
 * hv_errors.h - internal helpers of the host library for filling hv_err_t
 * and naming WMI return codes, job states and error kinds.
 */
#ifndef HVKVP_HV_ERRORS_H
#define HVKVP_HV_ERRORS_H

#include "hyperv.h"

/* Sets err (if not NULL) to kind with a printf-style message; returns -1 so
 * callers can `return hv_err_set(...)`. */
int hv_err_set(hv_err_t *err, hv_err_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "what: " to err->msg (keeps kind and codes). */
void hv_err_prefix(hv_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hv_err_clear(hv_err_t *err);

/* "connection", "tls", "auth", ... */
const char *hv_err_kind_str(hv_err_kind_t kind);
/* Msvm_ConcreteJob.JobState: "New", "Completed", ... */
const char *hv_job_state_str(int state);
/* 1 when a method ReturnValue means "retry later" (32775 invalid state,
 * 32774 in use). */
int hv_return_code_retryable(uint32_t rc);

#endif
