/*
 * plugin_vmstate.h - per-VM state the hyperv_kvp plugin keeps between polls
 * of one Hyper-V host: a hash table keyed by VM GUID and prefix (one entry
 * per message stream: a VM with two writers has two) holding the generation
 * tracker, the time of the last new message, the last seq and config id, and
 * the complaint states. Entries of VMs that vanished are freed by a sweep.
 */
#ifndef HVKVP_PLUGIN_VMSTATE_H
#define HVKVP_PLUGIN_VMSTATE_H

#include "hvkvp.h"

#include "collectd/core/daemon/utils_complain.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hvp_vm_s {
  char key[128]; /* the table key: "GUID/prefix", one stream of one VM */
  char who[128]; /* the stream in log lines: the VM's GUID, "GUID/prefix"
                   when its Host block reads several prefixes */
  hvkvp_gen_t gen;
  double gen_time;     /* time of the generation gen names (dispatched) */
  double seen;         /* local time the entry was last used */
  int have_msg;        /* a message was accepted at least once */
  double last_new;     /* local time a new gen was last accepted */
  double msg_interval; /* interval of that message (seconds) */
  uint64_t last_seq;
  char config[HVKVP_NAME_LEN];     /* config id the guest last echoed */
  char guest_host[HVKVP_HOST_LEN]; /* host name in its last message */
  int msg_in_guest; /* its message was in GuestExchangeItems last time */
  int stale;
  uint64_t intrinsic_hash; /* ReportIntrinsic change detection */
  /* plugin_generations: the Host block that asked last, and when another
   * one asked too (the stream is then shared) */
  const void *asker;
  double shared_at;
  /* One complaint per VM and kind, released when the VM is healthy again:
   * torn or invalid messages, staleness, pushes, items the decoder refused,
   * a VM that cannot be read, value lists of bad types, identifiers
   * repeated in a message, messages whose time goes back. */
  c_complain_t torn_c, invalid_c, stale_c, push_c, items_c, unreadable_c,
      types_c, dup_c, old_c;
  unsigned mark; /* poll number in which the VM was last listed */
  struct hvp_vm_s *next;
} hvp_vm_t;

typedef struct {
  size_t nb, n;
  hvp_vm_t **b;
} hvp_vmtab_t;

void hvp_vmtab_init(hvp_vmtab_t *t);
void hvp_vmtab_free(hvp_vmtab_t *t);
/* The entry for key (case-insensitive); created if `create`. NULL if absent
 * (or no memory). */
hvp_vm_t *hvp_vmtab_get(hvp_vmtab_t *t, const char *key, int create);
/* Frees every entry keep() refuses; returns how many. */
size_t hvp_vmtab_sweep(hvp_vmtab_t *t,
                       int (*keep)(const hvp_vm_t *e, const void *arg),
                       const void *arg);

#endif
