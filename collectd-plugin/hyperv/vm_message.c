/*
 * vm_message.c - a VM's hvkvp message and state as the layers above read
 * them (see hyperv.h): the message from GuestExchangeItems first (Linux
 * pool 1, Windows "Guest"), then GuestIntrinsicExchangeItems (a Windows
 * reporter writing to "Auto", its default). Shared by the collectd plugin
 * and hvkvpctl.
 */
#include "hyperv.h"

#include <string.h>

int hv_vm_decode(const hv_vm_t *vm, const char *prefix, hvkvp_msg_t *msg,
                 hvkvp_head_t *head, hvkvp_err_t *err) {
  memset(err, 0, sizeof(*err));
  int rc = hvkvp_decode(&vm->pool[HV_POOL_GUEST], prefix, msg, head, err);
  if (rc == HVKVP_E_NOHEAD) {
    memset(err, 0, sizeof(*err));
    rc = hvkvp_decode(&vm->pool[HV_POOL_INTRINSIC], prefix, msg, head, err);
  }
  return rc;
}

int hv_vm_running(const hv_vm_t *vm) {
  return vm->state == HV_STATE_RUNNING;
}
