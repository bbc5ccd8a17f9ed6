/*
 * vm_message.c - where a VM's hvkvp message is and its state, as the layers
 * above read them (see hyperv.h): GuestExchangeItems first (Linux pool 1,
 * Windows "Guest"), then GuestIntrinsicExchangeItems (a Windows reporter
 * writing to "Auto", its default). Shared by the collectd plugin and
 * hvkvpctl.
 */
#include "hyperv.h"

#include <stdio.h>
#include <string.h>

const hvkvp_items_t *hv_vm_message_pool(const hv_vm_t *vm, const char *prefix,
                                        hv_pool_t *which) {
  static const hv_pool_t order[] = {HV_POOL_GUEST, HV_POOL_INTRINSIC};
  char key[HVKVP_KEY_LEN];
  snprintf(key, sizeof(key), "%s.head",
           prefix != NULL ? prefix : HVKVP_DEFAULT_PREFIX);
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
    if (hvkvp_items_get(&vm->pool[order[i]], key) != NULL) {
      if (which != NULL)
        *which = order[i];
      return &vm->pool[order[i]];
    }
  return NULL;
}

int hv_vm_running(const hv_vm_t *vm) {
  return vm->state == HV_STATE_RUNNING;
}
