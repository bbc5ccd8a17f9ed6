/*
 * hv_message.c - finds and decodes a VM's hvkvp message in the KVP items the
 * Hyper-V model returns: GuestExchangeItems first (Linux pool 1, Windows
 * "Guest"), then GuestIntrinsicExchangeItems (a Windows reporter writing to
 * "Auto", its default). Shared by the collectd plugin and hvkvpctl.
 */
#include "hyperv.h"

#include <string.h>

int hv_vm_decode(const hv_vm_t *vm, const char *prefix, hvkvp_msg_t *msg,
                 hvkvp_head_t *head, hvkvp_err_t *err) {
  memset(err, 0, sizeof(*err));
  int rc = hvkvp_decode(&vm->guest, prefix, msg, head, err);
  if (rc == HVKVP_E_NOHEAD) {
    memset(err, 0, sizeof(*err));
    rc = hvkvp_decode(&vm->intrinsic, prefix, msg, head, err);
  }
  return rc;
}
