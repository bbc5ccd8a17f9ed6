/*
 * cmdline.c - hvkvpctl's command line: the options (only whole names; the
 * numbers and poll budget flags checked whole), the command and its
 * argument count, and the password (--password-file or HVKVP_PASSWORD,
 * never an argument). usage() is the help text, exit codes included.
 */
#include "ctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
      return ctl_fail(&err);
  } else if (env != NULL && wsman_opts_set_password(&c->o.ws, env, &err) != 0) {
    return ctl_fail(&err);
  }
  return 0;
}

int ctl_parse(int argc, char **argv, ctl_t *c) {
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
  c->cmd = cmd;
  c->nargs = nargs;
  c->args = argv + optind + 1;
  return 0;
}
