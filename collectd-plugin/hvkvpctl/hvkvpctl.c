/*
 * hvkvpctl.c - operator command-line tool over the host library: list VMs
 * with their hvkvp message state, show KVP items, decode a VM's hvkvp
 * message, and add/modify/remove host items. Exit codes are documented in
 * usage() and hvkvpctl.md.
 */
#include "hvkvp.h"
#include "hyperv.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

enum {
  EXIT_USAGE = 1,
  EXIT_CONNECT = 2,
  EXIT_AUTH = 3,
  EXIT_FAULT = 4,
  EXIT_NOVM = 5,
  EXIT_DECODE = 6,
};

static void usage(FILE *f) {
  fputs(
      "usage: hvkvpctl --url URL [options] COMMAND [ARGS]\n"
      "\n"
      "Reads and writes Hyper-V KVP items over WS-Management (WinRM).\n"
      "\n"
      "commands:\n"
      "  vms                      VMs: GUID, state, name, OS, hvkvp message\n"
      "  items VM [--intrinsic|--guest|--host]\n"
      "                           KVP items of one VM (default: all pools)\n"
      "  messages VM              the VM's decoded hvkvp message\n"
      "  set VM KEY=VALUE...      add host items (modify keys that exist)\n"
      "  rm VM KEY...             remove host items\n"
      "  VM is a VM name or its GUID.\n"
      "\n"
      "options:\n"
      "  --url URL                http(s)://host:5985/wsman (required)\n"
      "  --user USER              DOMAIN\\user or user@REALM\n"
      "  --password-file FILE     first line is the password; else the\n"
      "                           environment variable HVKVP_PASSWORD\n"
      "  --auth SCHEME            basic (default), ntlm, negotiate, kerberos\n"
      "                           (the last three through GSSAPI: with a\n"
      "                           password, a keytab, or the Kerberos\n"
      "                           credential cache when neither is given)\n"
      "  --encryption MODE        ntlm/negotiate/kerberos message encryption:\n"
      "                           auto (default: over http://), required, off\n"
      "  --keytab FILE            Kerberos client keytab\n"
      "  --principal NAME         Kerberos client principal\n"
      "  --cacert FILE            CA certificate(s) for HTTPS\n"
      "  --insecure               do not verify the server certificate\n"
      "  --timeout SECONDS        per request (default 30)\n"
      "  --ns NAMESPACE           WMI namespace (root/virtualization/v2)\n"
      "  --max-envelope-kb N      the server's MaxEnvelopeSizekb (500; 150 on\n"
      "                           Server 2008 R2)\n"
      "  --max-elements N         instances per Enumerate/Pull at most\n"
      "                           (32000: pages filled up to the envelope)\n"
      "  --max-time SECONDS       stop (and release what is open) after this\n"
      "                           long (default: 60, or the timeout if "
      "longer)\n"
      "  --max-requests N         ... after N requests (default 100 per "
      "second\n"
      "                           of --max-time)\n"
      "  --max-bytes N            ... after N bytes sent and received "
      "(default\n"
      "                           10 MB per second of --max-time)\n"
      "  --prefix PREFIX          hvkvp item prefix (default hvkvp)\n"
      "  --json                   machine-readable output\n"
      "  -h, --help               this text\n"
      "\n"
      "exit codes:\n"
      "  0 ok, 1 usage, 2 connection or TLS error, 3 authentication error,\n"
      "  4 WS-Management fault, HTTP error, method or job error (the message\n"
      "  holds the WMI code), 5 no such VM, 6 hvkvp message decode error\n",
      f);
}

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

static int fail(const ws_err_t *e) {
  fprintf(stderr, "hvkvpctl: %s error: %s\n", ws_err_kind_str(e->kind), e->msg);
  return exit_for(e);
}

/* ---- JSON output ---- */
static void jstr(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", stdout);
    else if (*p == '\r')
      fputs("\\r", stdout);
    else if (*p == '\t')
      fputs("\\t", stdout);
    else if (*p < 0x20 || *p == 0x7f)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

static void jitems(const hvkvp_items_t *it) {
  putchar('{');
  for (size_t i = 0; i < it->n; i++) {
    if (i)
      putchar(',');
    jstr(it->v[i].key);
    putchar(':');
    jstr(it->v[i].value ? it->v[i].value : "");
  }
  putchar('}');
}

/* Text output: trailing line breaks dropped, other control characters shown
 * as '?', so a guest cannot move the operator's cursor. */
static void tstr(const char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    n--; /* some intrinsic values end in a newline */
  for (const unsigned char *p = (const unsigned char *)s; n > 0; p++, n--)
    putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

/* Copies src cut to dstsz - 1 bytes, never inside a UTF-8 sequence. */
static void cut(char *dst, size_t dstsz, const char *src) {
  size_t n = strlen(src);
  if (n >= dstsz) {
    n = dstsz - 1;
    while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
      n--;
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static double now_s(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ---- options ---- */
typedef struct {
  hv_opts_t o;
  const char *prefix;
  int json;
  unsigned pools;        /* items: HV_WANT_* */
  wsman_budget_t budget; /* --max-time, --max-requests, --max-bytes */
} ctl_t;

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

/* ---- commands ---- */

/* The VM's hvkvp message, from whichever pool holds its head. */
static int vm_decode(const ctl_t *c, const hv_vm_t *vm, hvkvp_msg_t *m,
                     hvkvp_head_t *head, hvkvp_err_t *e) {
  const hvkvp_items_t *pool = hv_vm_message_pool(vm, c->prefix, NULL);
  return hvkvp_decode(pool != NULL ? pool : &vm->pool[HV_POOL_GUEST], c->prefix,
                      m, head, e);
}

static int cmd_vms(ctl_t *c, hv_host_t *h) {
  hv_vms_t vms;
  ws_err_t err;
  if (hv_list_vms(h, HV_WANT_INTRINSIC | HV_WANT_GUEST, &vms, &err) != 0)
    return fail(&err);
  double now = now_s();
  if (c->json)
    printf("{\"vms\":[");
  else
    printf("%-36s  %-8s  %-24s  %-28s  %s\n", "GUID", "STATE", "NAME", "OS",
           "HVKVP");
  for (size_t i = 0; i < vms.n; i++) {
    hv_vm_t *vm = &vms.v[i];
    const char *os = hvkvp_items_get(&vm->pool[HV_POOL_INTRINSIC], "OSName");
    hvkvp_msg_t msg;
    hvkvp_head_t head;
    hvkvp_err_t e;
    int rc = vm_decode(c, vm, &msg, &head, &e);
    if (c->json) {
      printf("%s{\"guid\":", i ? "," : "");
      jstr(vm->guid);
      printf(",\"name\":");
      jstr(vm->name);
      printf(",\"state\":%u,\"state_name\":", vm->state);
      jstr(hv_state_str(vm->state));
      printf(",\"os\":");
      if (os)
        jstr(os);
      else
        printf("null");
      printf(",\"kvp\":%s,\"items_rejected\":%u,\"unreadable\":",
             vm->has_kvp ? "true" : "false", vm->items_rejected);
      if (vm->unreadable)
        jstr(vm->unreadable_reason);
      else
        printf("null");
      printf(",\"message\":");
      if (rc == HVKVP_OK)
        printf("{\"present\":true,\"gen\":%llu,\"seq\":%llu,\"time\":%.3f,"
               "\"age\":%.1f}",
               (unsigned long long)head.gen, (unsigned long long)msg.seq,
               msg.time, now - msg.time);
      else if (rc == HVKVP_E_NOHEAD)
        printf("{\"present\":false}");
      else {
        printf("{\"present\":true,\"error\":");
        jstr(hvkvp_strerror((hvkvp_rc_t)rc));
        printf(",\"detail\":");
        jstr(e.detail);
        printf("}");
      }
      printf("}");
    } else {
      char msgs[128];
      if (vm->unreadable)
        snprintf(msgs, sizeof(msgs), "unreadable: %.100s",
                 vm->unreadable_reason);
      else if (rc == HVKVP_OK)
        snprintf(msgs, sizeof(msgs), "gen %llu, %.0fs old",
                 (unsigned long long)head.gen, now - msg.time);
      else if (rc == HVKVP_E_NOHEAD)
        snprintf(msgs, sizeof(msgs), "-");
      else
        snprintf(msgs, sizeof(msgs), "error: %s",
                 hvkvp_strerror((hvkvp_rc_t)rc));
      printf("%-36s  %-8s  ", vm->guid, hv_state_str(vm->state));
      char name[25], oss[29];
      cut(name, sizeof(name), vm->name);
      cut(oss, sizeof(oss), os ? os : "-");
      oss[strcspn(oss, "\r\n")] = '\0';
      tstr(name);
      printf("%*s  ",
             (int)(24 - strlen(name)) > 0 ? (int)(24 - strlen(name)) : 0, "");
      tstr(oss);
      printf("%*s  %s\n",
             (int)(28 - strlen(oss)) > 0 ? (int)(28 - strlen(oss)) : 0, "",
             msgs);
    }
    if (rc == HVKVP_OK)
      hvkvp_msg_free(&msg);
  }
  hv_isolation_t iso;
  wsman_stats_t st;
  hv_host_isolation(h, &iso);
  hv_host_stats(h, &st);
  if (c->json)
    printf("],\"requests\":%llu,\"isolation\":{\"unreadable\":%u,"
           "\"requests\":%llu}}\n",
           (unsigned long long)st.requests, iso.quarantined,
           (unsigned long long)iso.requests);
  hv_vms_free(&vms);
  return 0;
}

static int with_vm(ctl_t *c, hv_host_t *h, unsigned want, const char *key,
                   hv_vms_t *vms, hv_vm_t **vm) {
  ws_err_t err;
  if (hv_list_vms(h, want, vms, &err) != 0)
    return fail(&err);
  *vm = find_vm(vms, key, &err);
  if (*vm == NULL) {
    hv_vms_free(vms);
    return fail(&err);
  }
  return 0;
}

static void print_pool(const char *pool, const hvkvp_items_t *it) {
  for (size_t i = 0; i < it->n; i++) {
    printf("%-9s  ", pool);
    tstr(it->v[i].key);
    printf("  ");
    tstr(it->v[i].value ? it->v[i].value : "");
    putchar('\n');
  }
}

static int cmd_items(ctl_t *c, hv_host_t *h, const char *key) {
  unsigned want =
      c->pools ? c->pools : HV_WANT_INTRINSIC | HV_WANT_GUEST | HV_WANT_HOST;
  hv_vms_t vms;
  hv_vm_t *vm;
  int rc = with_vm(c, h, want, key, &vms, &vm);
  if (rc != 0)
    return rc;
  if (c->json) {
    printf("{\"guid\":");
    jstr(vm->guid);
    printf(",\"name\":");
    jstr(vm->name);
    if (want & HV_WANT_INTRINSIC) {
      printf(",\"intrinsic\":");
      jitems(&vm->pool[HV_POOL_INTRINSIC]);
    }
    if (want & HV_WANT_GUEST) {
      printf(",\"guest\":");
      jitems(&vm->pool[HV_POOL_GUEST]);
    }
    if (want & HV_WANT_HOST) {
      printf(",\"host\":");
      jitems(&vm->pool[HV_POOL_HOST]);
    }
    printf(",\"items_rejected\":%u,\"reject_reason\":", vm->items_rejected);
    jstr(vm->reject_reason);
    printf("}\n");
  } else {
    if (want & HV_WANT_INTRINSIC)
      print_pool("intrinsic", &vm->pool[HV_POOL_INTRINSIC]);
    if (want & HV_WANT_GUEST)
      print_pool("guest", &vm->pool[HV_POOL_GUEST]);
    if (want & HV_WANT_HOST)
      print_pool("host", &vm->pool[HV_POOL_HOST]);
    if (vm->items_rejected)
      fprintf(stderr, "hvkvpctl: %u item(s) refused; first: %s\n",
              vm->items_rejected, vm->reject_reason);
  }
  hv_vms_free(&vms);
  return 0;
}

static const char *ds_str(hvkvp_ds_type_t t) {
  switch (t) {
  case HVKVP_DS_GAUGE:
    return "gauge";
  case HVKVP_DS_DERIVE:
    return "derive";
  case HVKVP_DS_COUNTER:
    return "counter";
  case HVKVP_DS_ABSOLUTE:
    return "absolute";
  }
  return "?";
}

static void print_value(const hvkvp_vl_t *vl, size_t j) {
  switch (vl->dstypes[j]) {
  case HVKVP_DS_GAUGE:
    printf("%.17g", vl->values[j].gauge);
    break;
  case HVKVP_DS_DERIVE:
    printf("%lld", (long long)vl->values[j].derive);
    break;
  case HVKVP_DS_COUNTER:
    printf("%llu", (unsigned long long)vl->values[j].counter);
    break;
  case HVKVP_DS_ABSOLUTE:
    printf("%llu", (unsigned long long)vl->values[j].absolute);
    break;
  }
}

static int cmd_messages(ctl_t *c, hv_host_t *h, const char *key) {
  hv_vms_t vms;
  hv_vm_t *vm;
  int rc = with_vm(c, h, HV_WANT_GUEST | HV_WANT_INTRINSIC, key, &vms, &vm);
  if (rc != 0)
    return rc;
  hvkvp_msg_t m;
  hvkvp_head_t head;
  hvkvp_err_t e;
  int drc = vm_decode(c, vm, &m, &head, &e);
  if (drc != HVKVP_OK) {
    fprintf(stderr, "hvkvpctl: decode error: VM %s (%s): %s: %s\n", vm->guid,
            vm->name, hvkvp_strerror((hvkvp_rc_t)drc), e.detail);
    hv_vms_free(&vms);
    return EXIT_DECODE;
  }
  double age = now_s() - m.time;
  if (c->json) {
    printf("{\"guid\":");
    jstr(vm->guid);
    printf(",\"host\":");
    jstr(m.host);
    printf(",\"epoch\":%llu,\"gen\":%llu,\"seq\":%llu,\"time\":%.3f,"
           "\"age\":%.1f,\"interval\":%g,\"config\":",
           (unsigned long long)head.epoch, (unsigned long long)head.gen,
           (unsigned long long)m.seq, m.time, age, m.interval);
    jstr(m.config);
    printf(",\"config_error\":");
    jstr(m.config_error);
    printf(",\"tags\":{");
    for (size_t i = 0; i < m.n_tags; i++) {
      if (i)
        putchar(',');
      jstr(m.tags[i].key);
      putchar(':');
      jstr(m.tags[i].value);
    }
    printf("},\"trimmed\":%u,\"values\":[", m.trimmed);
    for (size_t i = 0; i < m.n_vls; i++) {
      const hvkvp_vl_t *vl = &m.vls[i];
      printf("%s{\"plugin\":", i ? "," : "");
      jstr(vl->plugin);
      printf(",\"plugin_instance\":");
      jstr(vl->plugin_instance);
      printf(",\"type\":");
      jstr(vl->type);
      printf(",\"type_instance\":");
      jstr(vl->type_instance);
      printf(",\"dsnames\":[");
      for (size_t j = 0; j < vl->n; j++) {
        if (j)
          putchar(',');
        jstr(vl->dsnames[j]);
      }
      printf("],\"dstypes\":[");
      for (size_t j = 0; j < vl->n; j++)
        printf("%s\"%s\"", j ? "," : "", ds_str(vl->dstypes[j]));
      printf("],\"values\":[");
      for (size_t j = 0; j < vl->n; j++) {
        if (j)
          putchar(',');
        print_value(vl, j);
      }
      printf("]}");
    }
    printf("]}\n");
  } else {
    printf("vm       %s (", vm->guid);
    tstr(vm->name);
    printf(")\nhost     ");
    tstr(m.host);
    printf("\nepoch    %llu\ngen      %llu\nseq      %llu\ntime     %.3f "
           "(%.0fs old)\ninterval %g\nconfig   ",
           (unsigned long long)head.epoch, (unsigned long long)head.gen,
           (unsigned long long)m.seq, m.time, age, m.interval);
    tstr(m.config[0] ? m.config : "-");
    if (m.config_error[0]) {
      printf("\nconfig_error ");
      tstr(m.config_error);
    }
    printf("\ntrimmed  %u\nvalues   %zu\n", m.trimmed, m.n_vls);
    for (size_t i = 0; i < m.n_vls; i++) {
      const hvkvp_vl_t *vl = &m.vls[i];
      printf("  ");
      tstr(vl->plugin);
      if (vl->plugin_instance[0]) {
        putchar('-');
        tstr(vl->plugin_instance);
      }
      putchar('/');
      tstr(vl->type);
      if (vl->type_instance[0]) {
        putchar('-');
        tstr(vl->type_instance);
      }
      for (size_t j = 0; j < vl->n; j++) {
        putchar(' ');
        tstr(vl->dsnames[j]);
        putchar('=');
        print_value(vl, j);
      }
      putchar('\n');
    }
  }
  hvkvp_msg_free(&m);
  hv_vms_free(&vms);
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
  for (int i = 0; i < argc; i++) {
    char *k = argv[i], *v = "";
    if (!remove) {
      char *eq = strchr(k, '=');
      if (eq == NULL || eq == k) {
        fprintf(stderr, "hvkvpctl: '%s' is not KEY=VALUE\n", k);
        rc = EXIT_USAGE;
        goto out;
      }
      *eq = '\0';
      v = eq + 1;
    }
    hvkvp_items_t *dst =
        !remove && hvkvp_items_get(&vm->pool[HV_POOL_HOST], k) == NULL ? &add
                                                                       : &mod;
    if (hvkvp_items_set(dst, k, v) != 0) {
      fprintf(stderr, "hvkvpctl: out of memory\n");
      rc = EXIT_FAULT;
      goto out;
    }
  }
  ws_err_t err;
  if (add.n > 0 && hv_kvp_items(h, vm->guid, HV_KVP_ADD, &add, 60, &err)) {
    rc = fail(&err);
    goto out;
  }
  if (mod.n > 0 &&
      hv_kvp_items(h, vm->guid, remove ? HV_KVP_REMOVE : HV_KVP_MODIFY, &mod,
                   60, &err)) {
    rc = fail(&err);
    goto out;
  }
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

/* ---- command line ---- */

enum {
  O_URL = 256,
  O_USER,
  O_PWFILE,
  O_AUTH,
  O_CACERT,
  O_INSECURE,
  O_TIMEOUT,
  O_NS,
  O_PREFIX,
  O_JSON,
  O_INTRINSIC,
  O_GUEST,
  O_HOST,
  O_ENC,
  O_MAXENV,
  O_MAXEL,
  O_KEYTAB,
  O_PRINCIPAL,
  O_MAXTIME,
  O_MAXREQ,
  O_MAXBYTES,
};

static const struct option ctl_longopts[] = {
    {"url", required_argument, NULL, O_URL},
    {"user", required_argument, NULL, O_USER},
    {"password-file", required_argument, NULL, O_PWFILE},
    {"auth", required_argument, NULL, O_AUTH},
    {"cacert", required_argument, NULL, O_CACERT},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"ns", required_argument, NULL, O_NS},
    {"prefix", required_argument, NULL, O_PREFIX},
    {"json", no_argument, NULL, O_JSON},
    {"intrinsic", no_argument, NULL, O_INTRINSIC},
    {"guest", no_argument, NULL, O_GUEST},
    {"host", no_argument, NULL, O_HOST},
    {"encryption", required_argument, NULL, O_ENC},
    {"max-envelope-kb", required_argument, NULL, O_MAXENV},
    {"max-elements", required_argument, NULL, O_MAXEL},
    {"keytab", required_argument, NULL, O_KEYTAB},
    {"principal", required_argument, NULL, O_PRINCIPAL},
    {"max-time", required_argument, NULL, O_MAXTIME},
    {"max-requests", required_argument, NULL, O_MAXREQ},
    {"max-bytes", required_argument, NULL, O_MAXBYTES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* getopt_long takes any unambiguous prefix ("--password" for
 * "--password-file"): only whole option names are accepted here, and a
 * refused option is named without its value (which may be a secret). */
static int ctl_exact_options(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      return 0;
    if (strncmp(a, "--", 2) != 0)
      continue;
    size_t n = strcspn(a + 2, "=");
    int known = 0;
    for (const struct option *o = ctl_longopts; o->name != NULL; o++)
      known |= strlen(o->name) == n && strncmp(o->name, a + 2, n) == 0;
    if (!known) {
      fprintf(stderr, "hvkvpctl: unknown option --%.*s%s\n",
              (int)(n < 40 ? n : 40), a + 2,
              strncmp(a + 2, "password", n < 8 ? n : 8) == 0
                  ? " (a password is read from --password-file FILE or "
                    "HVKVP_PASSWORD, never from the command line)"
                  : "");
      return -1;
    }
  }
  return 0;
}

/* Copies optarg into an owned option string. */
static int ctl_set(char **dst, const char *v) {
  free(*dst);
  *dst = strdup(v);
  return *dst != NULL ? 0 : -1;
}

/* --max-time SECONDS, --max-requests N, --max-bytes N: the whole argument
 * a positive number. */
static int ctl_budget(int opt, const char *arg, ctl_t *c) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (end == arg || *end != '\0' || errno != 0 || !(v > 0) || v > 1e15 ||
      (opt != O_MAXTIME && v != (double)(uint64_t)v)) {
    fprintf(stderr, "hvkvpctl: --%s must be a positive %s\n",
            opt == O_MAXTIME  ? "max-time"
            : opt == O_MAXREQ ? "max-requests"
                              : "max-bytes",
            opt == O_MAXTIME ? "number of seconds" : "whole number");
    return -1;
  }
  if (opt == O_MAXTIME)
    c->budget.seconds = v;
  else if (opt == O_MAXREQ)
    c->budget.requests = (uint64_t)v;
  else
    c->budget.bytes = (uint64_t)v;
  return 0;
}

static int ctl_number(int opt, const char *arg, ctl_t *c) {
  if (opt == O_MAXTIME || opt == O_MAXREQ || opt == O_MAXBYTES)
    return ctl_budget(opt, arg, c);
  if (opt == O_TIMEOUT) {
    /* the whole argument is the number: "5x", "nan" or "1e300" would
     * otherwise become 5 s, a NaN or an overflowing curl timeout */
    char *end;
    errno = 0;
    double t = strtod(arg, &end);
    if (end == arg || *end != '\0' || errno != 0 || !(t > 0) || t > 86400) {
      fprintf(stderr, "hvkvpctl: --timeout must be a number of seconds, "
                      "more than 0 and at most 86400\n");
      return -1;
    }
    c->o.ws.timeout = t;
    return 0;
  }
  char *end;
  unsigned long v = strtoul(arg, &end, 10);
  if (*end != '\0' || v < 1 || v > 65536 || arg[0] == '-') {
    fprintf(stderr, "hvkvpctl: --%s must be 1..65536\n",
            opt == O_MAXENV ? "max-envelope-kb" : "max-elements");
    return -1;
  }
  if (opt == O_MAXENV)
    c->o.ws.max_envelope_kb = (unsigned)v;
  else
    c->o.max_elements = (unsigned)v;
  return 0;
}

/* One option: 0, 1 (-h: done), or -1 (usage error, said). */
static int ctl_option(int opt, ctl_t *c, const char **pwfile) {
  wsman_opts_t *ws = &c->o.ws;
  switch (opt) {
  case O_URL:
    return ctl_set(&ws->url, optarg);
  case O_USER:
    return ctl_set(&ws->user, optarg);
  case O_PWFILE:
    *pwfile = optarg;
    return 0;
  case O_AUTH:
    return ctl_set(&ws->auth, optarg);
  case O_CACERT:
    return ctl_set(&ws->cacert, optarg);
  case O_INSECURE:
    ws->insecure_peer = ws->insecure_host = 1;
    return 0;
  case O_TIMEOUT:
  case O_MAXENV:
  case O_MAXEL:
  case O_MAXTIME:
  case O_MAXREQ:
  case O_MAXBYTES:
    return ctl_number(opt, optarg, c);
  case O_NS:
    return ctl_set(&c->o.ns, optarg);
  case O_PREFIX:
    c->prefix = optarg;
    return 0;
  case O_JSON:
    c->json = 1;
    return 0;
  case O_INTRINSIC:
  case O_GUEST:
  case O_HOST:
    c->pools |= opt == O_INTRINSIC ? HV_WANT_INTRINSIC
                : opt == O_GUEST   ? HV_WANT_GUEST
                                   : HV_WANT_HOST;
    return 0;
  case O_ENC:
    return ctl_set(&ws->encryption, optarg);
  case O_KEYTAB:
    return ctl_set(&ws->keytab, optarg);
  case O_PRINCIPAL:
    return ctl_set(&ws->principal, optarg);
  case 'h':
    usage(stdout);
    return 1;
  default:
    usage(stderr);
    return -1;
  }
}

/* The command and its argument count. 0, or -1 (said). */
static int ctl_check_command(const char *cmd, int nargs) {
  int needs_vm = strcmp(cmd, "vms") != 0;
  if (strcmp(cmd, "vms") != 0 && strcmp(cmd, "items") != 0 &&
      strcmp(cmd, "messages") != 0 && strcmp(cmd, "set") != 0 &&
      strcmp(cmd, "rm") != 0) {
    fprintf(stderr, "hvkvpctl: unknown command '%s'\n", cmd);
    usage(stderr);
    return -1;
  }
  if ((needs_vm && nargs < 1) || (!needs_vm && nargs != 0) ||
      ((strcmp(cmd, "items") == 0 || strcmp(cmd, "messages") == 0) &&
       nargs != 1) ||
      ((strcmp(cmd, "set") == 0 || strcmp(cmd, "rm") == 0) && nargs < 2)) {
    fprintf(stderr, "hvkvpctl: wrong arguments for '%s'\n", cmd);
    usage(stderr);
    return -1;
  }
  return 0;
}

/* The password: --password-file, else HVKVP_PASSWORD. */
static int ctl_password(ctl_t *c, const char *pwfile) {
  ws_err_t err;
  const char *env = getenv("HVKVP_PASSWORD");
  if (pwfile != NULL) {
    if (wsman_opts_password_file(&c->o.ws, pwfile, &err) != 0)
      return fail(&err);
  } else if (env != NULL && wsman_opts_set_password(&c->o.ws, env, &err) != 0) {
    return fail(&err);
  }
  return 0;
}

static int ctl_run(ctl_t *c, const char *cmd, int nargs, char **args) {
  ws_err_t err;
  hv_host_t *h = hv_host_new(&c->o, &err);
  if (h == NULL)
    return fail(&err);
  /* the bounds of a plugin poll of a 60 s interval, unless given */
  wsman_budget_t b = hv_poll_budget(&c->budget, 60, c->o.ws.timeout);
  hv_host_budget(h, &b);
  int rc;
  if (strcmp(cmd, "vms") == 0)
    rc = cmd_vms(c, h);
  else if (strcmp(cmd, "items") == 0)
    rc = cmd_items(c, h, args[0]);
  else if (strcmp(cmd, "messages") == 0)
    rc = cmd_messages(c, h, args[0]);
  else
    rc = cmd_set(c, h, args[0], nargs - 1, args + 1, strcmp(cmd, "rm") == 0);
  hv_host_free(h);
  return rc;
}

static int ctl_main(int argc, char **argv, ctl_t *c) {
  const char *pwfile = NULL;
  int opt, rc;
  if (ctl_exact_options(argc, argv) != 0)
    return EXIT_USAGE;
  while ((opt = getopt_long(argc, argv, "h", ctl_longopts, NULL)) != -1)
    if ((rc = ctl_option(opt, c, &pwfile)) != 0)
      return rc > 0 ? 0 : EXIT_USAGE;
  if (optind >= argc || c->o.ws.url == NULL) {
    usage(stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[optind];
  int nargs = argc - optind - 1;
  if (ctl_check_command(cmd, nargs) != 0)
    return EXIT_USAGE;
  if ((rc = ctl_password(c, pwfile)) != 0)
    return rc;
  if (c->o.ws.auth == NULL && ctl_set(&c->o.ws.auth, "basic") != 0)
    return EXIT_USAGE;
  return ctl_run(c, cmd, nargs, argv + optind + 1);
}

int main(int argc, char **argv) {
  ctl_t c;
  memset(&c, 0, sizeof(c));
  c.o.ws.timeout = 30;
  c.prefix = HVKVP_DEFAULT_PREFIX;
  int rc = ctl_main(argc, argv, &c);
  hv_opts_free(&c.o);
  return rc;
}
