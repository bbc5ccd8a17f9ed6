/*
 * plugin_config.h - the configuration of the hyperv_kvp collectd plugin: one
 * hvp_host_conf_t per <Host> block, parsed from collectd's oconfig tree with
 * every option checked (unknown options and bad values are errors that name
 * the option and the value). Option reference: hyperv_kvp.md.
 */
#ifndef HVKVP_PLUGIN_CONFIG_H
#define HVKVP_PLUGIN_CONFIG_H

#include "hvkvp.h"
#include "hyperv.h"
#include "plugin_filter.h"

#include "collectd/liboconfig/oconfig.h"

#define HVP_PUSH_MAX 16  /* <Push> blocks per host */
#define HVP_PREFIX_MAX 4 /* prefixes (writers) read per host */
#define HVP_STR_(x) #x
#define HVP_STR(x) HVP_STR_(x)

typedef enum {
  HVP_HN_NAME = 1,  /* VM ElementName */
  HVP_HN_UUID = 2,  /* VM GUID */
  HVP_HN_GUEST = 3, /* host field of the guest's message */
} hvp_hn_field_t;

typedef struct {
  hvp_filter_t filter;
  hvkvp_cfg_t cfg; /* Interval, Collectors, Tags as PROTOCOL.md 11 has them */
} hvp_push_conf_t;

typedef struct {
  char *name; /* the <Host "name"> */
  /* URL, User, Password(File), Auth, CACert, Encryption, KerberosKeytab,
   * KerberosPrincipal, VerifyPeer, VerifyHost, Timeout, Namespace: the
   * model's options as they are, handed to hv_host_new */
  hv_opts_t hv;
  double interval;       /* seconds; 0: collectd's global Interval */
  wsman_budget_t budget; /* MaxPollTime/Requests/Bytes; 0: derived */
  hvp_filter_t filter;
  hvp_hn_field_t hn[3];
  size_t n_hn;
  /* the writers' KVP prefixes, all read from one listing; each is its own
   * message stream per VM, and each gets the pushed configuration */
  char prefix[HVP_PREFIX_MAX][HVKVP_PREFIX_LEN];
  size_t n_prefix;
  unsigned stale_after; /* message intervals */
  int report_intrinsic;
  size_t n_push;
  hvp_push_conf_t push[HVP_PUSH_MAX];
} hvp_host_conf_t;

/* Parses one <Host "name"> block into *c (initialised by the callee). On any
 * error logs it (plugin_log LOG_ERR, naming the option and value), frees what
 * was parsed and returns -1. */
int hvp_config_host(const oconfig_item_t *ci, hvp_host_conf_t *c);
void hvp_host_conf_free(hvp_host_conf_t *c);

/* The first <Push> block whose filter selects the VM, or NULL. */
const hvp_push_conf_t *hvp_config_push_for(const hvp_host_conf_t *c,
                                           const char *name, const char *guid);

#endif
