/*
 * commands.c - hvkvpctl's commands over one Hyper-V host: vms (every VM and
 * the state of its hvkvp message), items (a VM's KVP items), messages (a
 * VM's decoded message), set and rm (host items); and the exit code each
 * kind of error gives.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

static int exit_for(const ws_err_t *e) {
  switch (e->kind) {
  case WS_ERR_CONNECT:
  case WS_ERR_TLS:
  case WS_ERR_TIMEOUT:
  case WS_ERR_BUDGET:
    return EXIT_CONNECT;
  case WS_ERR_AUTH:
    return EXIT_AUTH;
  case WS_ERR_NOTFOUND:
    return EXIT_NOVM;
  case WS_ERR_CONFIG:
    return EXIT_USAGE;
  default:
    return EXIT_FAULT;
  }
}

int ctl_fail(const ws_err_t *e) {
  fprintf(stderr, "hvkvpctl: %s error: %s\n", ws_err_kind_str(e->kind), e->msg);
  return exit_for(e);
}

static double now_s(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The VM whose GUID (with or without braces) or else whose name is key. */
static hv_vm_t *find_vm(hv_vms_t *vms, const char *key, ws_err_t *err) {
  hv_vm_t *found = NULL;
  const char *k = key;
  size_t kl = strlen(k);
  if (kl == 38 && k[0] == '{' && k[37] == '}') {
    k++;
    kl = 36;
  }
  for (size_t i = 0; i < vms->n; i++)
    if (strlen(vms->v[i].guid) == kl && strncasecmp(vms->v[i].guid, k, kl) == 0)
      return &vms->v[i];
  int matches = 0;
  for (size_t i = 0; i < vms->n; i++)
    if (strcmp(vms->v[i].name, key) == 0) {
      found = &vms->v[i];
      matches++;
    }
  if (matches == 1)
    return found;
  if (matches > 1)
    ws_err_set(err, WS_ERR_NOTFOUND, "%d VMs are named '%.100s': give the GUID",
               matches, key);
  else
    ws_err_set(err, WS_ERR_NOTFOUND, "no VM named '%.100s' or with that GUID",
               key);
  return NULL;
}

/* Lists the VMs with the pools in want and finds key among them: 0 (*vms to
 * be freed), or the exit code (said). */
static int with_vm(ctl_t *c, hv_host_t *h, unsigned want, const char *key,
                   hv_vms_t *vms, hv_vm_t **vm) {
  ws_err_t err;
  if (hv_list_vms(h, want, vms, &err) != 0)
    return ctl_fail(&err);
  *vm = find_vm(vms, key, &err);
  if (*vm == NULL) {
    hv_vms_free(vms);
    return ctl_fail(&err);
  }
  return 0;
}

/* The VM's hvkvp message, from whichever pool holds its head. */
static void vm_decode(const ctl_t *c, const hv_vm_t *vm, ctl_msg_t *d) {
  const hvkvp_items_t *pool = hv_vm_message_pool(vm, c->prefix, NULL);
  d->rc = hvkvp_decode(pool != NULL ? pool : &vm->pool[HV_POOL_GUEST],
                       c->prefix, &d->m, &d->head, &d->e);
}

static int cmd_vms(ctl_t *c, hv_host_t *h) {
  hv_vms_t vms;
  ws_err_t err;
  if (hv_list_vms(h, HV_WANT_INTRINSIC | HV_WANT_GUEST, &vms, &err) != 0)
    return ctl_fail(&err);
  double now = now_s();
  if (c->json)
    json_vms_begin();
  else
    text_vms_header();
  for (size_t i = 0; i < vms.n; i++) {
    ctl_msg_t d;
    vm_decode(c, &vms.v[i], &d);
    if (c->json)
      json_vm(&vms.v[i], i, &d, now);
    else
      text_vm(&vms.v[i], &d, now);
    if (d.rc == HVKVP_OK)
      hvkvp_msg_free(&d.m);
  }
  hv_isolation_t iso;
  wsman_stats_t st;
  hv_host_isolation(h, &iso);
  hv_host_stats(h, &st);
  if (c->json)
    json_vms_end(&st, &iso);
  hv_vms_free(&vms);
  return 0;
}

static int cmd_items(ctl_t *c, hv_host_t *h, const char *key) {
  unsigned want =
      c->pools ? c->pools : HV_WANT_INTRINSIC | HV_WANT_GUEST | HV_WANT_HOST;
  hv_vms_t vms;
  hv_vm_t *vm;
  int rc = with_vm(c, h, want, key, &vms, &vm);
  if (rc != 0)
    return rc;
  if (c->json)
    json_items(vm, want);
  else
    text_items(vm, want);
  hv_vms_free(&vms);
  return 0;
}

static int cmd_messages(ctl_t *c, hv_host_t *h, const char *key) {
  hv_vms_t vms;
  hv_vm_t *vm;
  int rc = with_vm(c, h, HV_WANT_GUEST | HV_WANT_INTRINSIC, key, &vms, &vm);
  if (rc != 0)
    return rc;
  ctl_msg_t d;
  vm_decode(c, vm, &d);
  if (d.rc != HVKVP_OK) {
    fprintf(stderr, "hvkvpctl: decode error: VM %s (%s): %s: %s\n", vm->guid,
            vm->name, hvkvp_strerror((hvkvp_rc_t)d.rc), d.e.detail);
    hv_vms_free(&vms);
    return EXIT_DECODE;
  }
  double age = now_s() - d.m.time;
  if (c->json)
    json_message(vm, &d, age);
  else
    text_message(vm, &d, age);
  hvkvp_msg_free(&d.m);
  hv_vms_free(&vms);
  return 0;
}

/* Sorts set's KEY=VALUE arguments (rm's KEY arguments) into the items to add
 * and those to modify (remove). 0, or the exit code (said). */
static int set_items(const hv_vm_t *vm, int argc, char **argv, int remove,
                     hvkvp_items_t *add, hvkvp_items_t *mod) {
  for (int i = 0; i < argc; i++) {
    char *k = argv[i], *v = "";
    if (!remove) {
      char *eq = strchr(k, '=');
      if (eq == NULL || eq == k) {
        fprintf(stderr, "hvkvpctl: '%s' is not KEY=VALUE\n", k);
        return EXIT_USAGE;
      }
      *eq = '\0';
      v = eq + 1;
    }
    hvkvp_items_t *dst =
        !remove && hvkvp_items_get(&vm->pool[HV_POOL_HOST], k) == NULL ? add
                                                                       : mod;
    if (hvkvp_items_set(dst, k, v) != 0) {
      fprintf(stderr, "hvkvpctl: out of memory\n");
      return EXIT_FAULT;
    }
  }
  return 0;
}

/* Adds, then modifies or removes, the items on the VM. 0, or the exit code
 * (said). */
static int set_apply(hv_host_t *h, const hv_vm_t *vm, int remove,
                     const hvkvp_items_t *add, const hvkvp_items_t *mod) {
  ws_err_t err;
  if (add->n > 0 && hv_kvp_items(h, vm->guid, HV_KVP_ADD, add, 60, &err))
    return ctl_fail(&err);
  if (mod->n > 0 &&
      hv_kvp_items(h, vm->guid, remove ? HV_KVP_REMOVE : HV_KVP_MODIFY, mod, 60,
                   &err))
    return ctl_fail(&err);
  return 0;
}

static int cmd_set(ctl_t *c, hv_host_t *h, const char *key, int argc,
                   char **argv, int remove) {
  hvkvp_items_t add, mod;
  hvkvp_items_init(&add);
  hvkvp_items_init(&mod);
  hv_vms_t vms;
  hv_vm_t *vm;
  int rc = with_vm(c, h, HV_WANT_HOST, key, &vms, &vm);
  if (rc != 0)
    return rc;
  if ((rc = set_items(vm, argc, argv, remove, &add, &mod)) != 0 ||
      (rc = set_apply(h, vm, remove, &add, &mod)) != 0)
    goto out;
  if (c->json)
    printf("{\"guid\":\"%s\",\"added\":%zu,\"modified\":%zu,\"removed\":%zu}"
           "\n",
           vm->guid, add.n, remove ? 0 : mod.n, remove ? mod.n : 0);
  else if (remove)
    printf("removed %zu item(s) from %s\n", mod.n, vm->guid);
  else
    printf("added %zu, modified %zu item(s) on %s\n", add.n, mod.n, vm->guid);
out:
  hvkvp_items_free(&add);
  hvkvp_items_free(&mod);
  hv_vms_free(&vms);
  return rc;
}

int ctl_run(ctl_t *c) {
  ws_err_t err;
  hv_host_t *h = hv_host_new(&c->o, &err);
  if (h == NULL)
    return ctl_fail(&err);
  /* the bounds of a plugin poll of a 60 s interval, unless given */
  wsman_budget_t b = hv_poll_budget(&c->budget, 60, c->o.ws.timeout);
  hv_host_budget(h, &b);
  int rc;
  if (strcmp(c->cmd, "vms") == 0)
    rc = cmd_vms(c, h);
  else if (strcmp(c->cmd, "items") == 0)
    rc = cmd_items(c, h, c->args[0]);
  else if (strcmp(c->cmd, "messages") == 0)
    rc = cmd_messages(c, h, c->args[0]);
  else
    rc = cmd_set(c, h, c->args[0], c->nargs - 1, c->args + 1,
                 strcmp(c->cmd, "rm") == 0);
  hv_host_free(h);
  return rc;
}
