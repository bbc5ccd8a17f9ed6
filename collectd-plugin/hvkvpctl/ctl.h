/*
 * ctl.h - what the files of hvkvpctl share, private to the tool: the parsed
 * command line (ctl_t), the exit codes, a VM's decoded message (ctl_msg_t)
 * and the few functions each file offers the others.
 *
 *   hvkvpctl.c  main
 *   cmdline.c   options, the command and its arguments, the password
 *   commands.c  the commands (vms, items, messages, set, rm), exit codes
 *   out_json.c  --json output
 *   out_text.c  text output (what a guest wrote cannot move the cursor)
 */
#ifndef HVKVPCTL_CTL_H
#define HVKVPCTL_CTL_H

#include "hvkvp.h"
#include "hyperv.h"

#include <stddef.h>

/* Exit codes, documented in usage() and hvkvpctl.md. */
enum {
  EXIT_USAGE = 1,
  EXIT_CONNECT = 2,
  EXIT_AUTH = 3,
  EXIT_FAULT = 4,
  EXIT_NOVM = 5,
  EXIT_DECODE = 6,
};

typedef struct {
  hv_opts_t o;
  const char *prefix;
  int json;
  unsigned pools;        /* items: HV_WANT_* */
  wsman_budget_t budget; /* --max-time, --max-requests, --max-bytes */
  const char *cmd;       /* NULL: nothing to run (--help) */
  int nargs;             /* the command's arguments */
  char **args;
} ctl_t;

/* A VM's hvkvp message as decoded: m and head hold it when rc is HVKVP_OK
 * (m is then freed by the caller), e says why not otherwise. */
typedef struct {
  int rc;
  hvkvp_msg_t m;
  hvkvp_head_t head;
  hvkvp_err_t e;
} ctl_msg_t;

/* cmdline.c: fills c from the command line and reads the password. 0 (c->cmd
 * NULL when there is nothing to run), or the exit code (the reason said). */
int ctl_parse(int argc, char **argv, ctl_t *c);

/* commands.c */
int ctl_fail(const ws_err_t *e); /* says e, returns its exit code */
int ctl_run(ctl_t *c);           /* runs c->cmd, returns the exit code */

/* out_json.c */
void json_str(const char *s);
void json_vms_begin(void);
void json_vm(const hv_vm_t *vm, size_t i, const ctl_msg_t *d, double now);
void json_vms_end(const wsman_stats_t *st, const hv_isolation_t *iso);
void json_items(const hv_vm_t *vm, unsigned want);
void json_message(const hv_vm_t *vm, const ctl_msg_t *d, double age);

/* out_text.c */
void ctl_value(const hvkvp_vl_t *vl, size_t j); /* as both outputs print it */
void text_vms_header(void);
void text_vm(const hv_vm_t *vm, const ctl_msg_t *d, double now);
void text_items(const hv_vm_t *vm, unsigned want);
void text_message(const hv_vm_t *vm, const ctl_msg_t *d, double age);

#endif
