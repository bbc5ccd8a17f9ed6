/*
 * hv_errors.h - internal helpers of the host library for filling ws_err_t
 * and naming WMI return codes, job states and error kinds.
 */
#ifndef HVKVP_HV_ERRORS_H
#define HVKVP_HV_ERRORS_H

#include "hyperv.h"

/* Msvm_ConcreteJob.JobState: "New", "Completed", ... */
const char *hv_job_state_str(int state);
/* 1 when a method ReturnValue means "retry later" (32775 invalid state,
 * 32774 in use). */
int hv_return_code_retryable(uint32_t rc);

#endif
