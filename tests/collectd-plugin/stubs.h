/*
 * stubs.h - what the hyperv_kvp plugin unit tests see of their stand-ins for
 * collectd's daemon (value-list capture, real types.db lookups, meta data,
 * complaints, log, notifications) and for the Hyper-V model (hyperv.h: VMs
 * served from a test-filled list, KVP operations recorded and applied with
 * Hyper-V's add/modify rules).
 */
#ifndef HVKVP_TEST_PLUGIN_STUBS_H
#define HVKVP_TEST_PLUGIN_STUBS_H

#include "hyperv.h"

#include "collectd/core/daemon/plugin.h"

#include <stddef.h>

#define CAP_MAX_VLS 4096
#define CAP_MAX_META 16

typedef struct {
  value_list_t vl; /* values points into `values`, meta NULL */
  value_t values[16];
  size_t n_meta;
  char meta_k[CAP_MAX_META][128];
  char meta_v[CAP_MAX_META][128];
} cap_vl_t;

extern cap_vl_t cap_vls[CAP_MAX_VLS];
extern size_t cap_n;
extern int cap_log_n[8];    /* log lines by level (LOG_ERR = 3 ...) */
extern char cap_log[65536]; /* all log lines, '\n'-separated */
extern int cap_complain_n, cap_release_n;
extern int cap_notif_n;
extern char cap_notif_msg[256];
extern char cap_notif_meta[1024]; /* "k=v;" of the last notification */
extern int cap_meta_live;         /* meta_data_t objects not destroyed */

void cap_reset(void);
/* The last captured value list with these names (NULL fields match any). */
const cap_vl_t *cap_find(const char *host, const char *plugin,
                         const char *pinst, const char *type,
                         const char *tinst);
size_t cap_count_host(const char *host);

/* ---- Hyper-V model stand-in ---- */
typedef struct {
  char guid[64];
  hv_kvp_op_t op;
  hvkvp_items_t items;
} stub_op_t;

extern hv_vms_t stub_vms; /* hv_list_vms_pick returns a deep copy */
extern int stub_list_fail;
extern unsigned stub_last_want;
extern size_t stub_picked; /* VMs the last list read the extra pool of */
extern stub_op_t stub_ops[256];
extern size_t stub_n_ops;
extern int stub_kvp_fail;
extern double stub_last_deadline;
/* deadline_s of the last hv_kvp_items */ /* hv_kvp_items fails from now on
                                           */
extern uint64_t stub_requests;
extern int stub_host_new_fail;
extern int stub_hosts_live;
extern wsman_budget_t stub_last_budget;  /* the last poll budget set */
extern uint64_t stub_isolation_requests; /* what hv_host_isolation says */

void stub_reset(void);
void stub_ops_clear(void); /* frees the recorded operations */
hv_vm_t *stub_add_vm(const char *guid, const char *name);
void stub_free_vms(void);

#endif
