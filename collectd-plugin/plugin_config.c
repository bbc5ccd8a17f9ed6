/*
 * plugin_config.c - parses and checks <Plugin hyperv_kvp> <Host> blocks (see
 * plugin_config.h and hyperv_kvp.md). Values are read straight from the
 * oconfig tree; every error names the block, the option and the value (never
 * a password).
 */
#include "plugin_config.h"

#include "collectd/core/daemon/plugin.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HVP_CF_ERR(c, ...)                                                     \
  do {                                                                         \
    char hvp_msg_[768];                                                        \
    snprintf(hvp_msg_, sizeof(hvp_msg_), __VA_ARGS__);                         \
    ERROR("hyperv_kvp plugin: Host \"%s\": %s", hvp_cf_host_name(c),           \
          hvp_msg_);                                                           \
  } while (0)

static const char *hvp_cf_host_name(const hvp_host_conf_t *c) {
  return c->name ? c->name : "?";
}

/* Renders the option's values for an error message (passwords hidden). */
static void hvp_cf_render(const oconfig_item_t *ci, char *buf, size_t sz) {
  size_t off = 0;
  buf[0] = '\0';
  if (strcasecmp(ci->key, "Password") == 0) {
    snprintf(buf, sz, "(value hidden)");
    return;
  }
  for (int i = 0; i < ci->values_num && off + 1 < sz; i++) {
    const oconfig_value_t *v = &ci->values[i];
    int n;
    if (v->type == OCONFIG_TYPE_STRING)
      n = snprintf(buf + off, sz - off, "%s\"%.100s\"", i ? " " : "",
                   v->value.string);
    else if (v->type == OCONFIG_TYPE_NUMBER)
      n = snprintf(buf + off, sz - off, "%s%g", i ? " " : "", v->value.number);
    else
      n = snprintf(buf + off, sz - off, "%s%s", i ? " " : "",
                   v->value.boolean ? "true" : "false");
    if (n < 0)
      break;
    off += (size_t)n;
  }
  if (ci->values_num == 0)
    snprintf(buf, sz, "(no value)");
}

static void hvp_cf_bad(const hvp_host_conf_t *c, const oconfig_item_t *ci,
                       const char *why) {
  char vals[256];
  hvp_cf_render(ci, vals, sizeof(vals));
  HVP_CF_ERR(c, "option \"%s\" %s: %s", ci->key, vals, why);
}

static int hvp_cf_string(const hvp_host_conf_t *c, const oconfig_item_t *ci,
                         char **out, size_t maxlen) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING) {
    hvp_cf_bad(c, ci, "expects exactly one string argument");
    return -1;
  }
  const char *s = ci->values[0].value.string;
  if (s[0] == '\0') {
    hvp_cf_bad(c, ci, "must not be empty");
    return -1;
  }
  if (strlen(s) > maxlen) {
    hvp_cf_bad(c, ci, "is too long");
    return -1;
  }
  char *d = strdup(s);
  if (d == NULL) {
    hvp_cf_bad(c, ci, "out of memory");
    return -1;
  }
  free(*out);
  *out = d;
  return 0;
}

static int hvp_cf_bool(const hvp_host_conf_t *c, const oconfig_item_t *ci,
                       int *out) {
  if (ci->values_num == 1 && ci->values[0].type == OCONFIG_TYPE_BOOLEAN) {
    *out = ci->values[0].value.boolean ? 1 : 0;
    return 0;
  }
  if (ci->values_num == 1 && ci->values[0].type == OCONFIG_TYPE_STRING) {
    const char *s = ci->values[0].value.string;
    if (strcasecmp(s, "true") == 0) {
      *out = 1;
      return 0;
    }
    if (strcasecmp(s, "false") == 0) {
      *out = 0;
      return 0;
    }
  }
  hvp_cf_bad(c, ci, "expects one boolean argument (true or false)");
  return -1;
}

static int hvp_cf_number(const hvp_host_conf_t *c, const oconfig_item_t *ci,
                         double min, double max, int integer, double *out) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_NUMBER) {
    hvp_cf_bad(c, ci, "expects exactly one numeric argument");
    return -1;
  }
  double v = ci->values[0].value.number;
  if (!isfinite(v) || v < min || v > max || (integer && v != floor(v))) {
    char why[128];
    snprintf(why, sizeof(why), "must be %s between %g and %g",
             integer ? "an integer" : "a number", min, max);
    hvp_cf_bad(c, ci, why);
    return -1;
  }
  *out = v;
  return 0;
}

static int hvp_cf_filter(const hvp_host_conf_t *c, const oconfig_item_t *ci,
                         hvp_filter_t *f, int exclude) {
  if (ci->values_num < 1) {
    hvp_cf_bad(c, ci, "expects one or more string arguments");
    return -1;
  }
  for (int i = 0; i < ci->values_num; i++) {
    if (ci->values[i].type != OCONFIG_TYPE_STRING) {
      hvp_cf_bad(c, ci, "expects string arguments");
      return -1;
    }
    ws_err_t err;
    if (hvp_filter_add(f, exclude, ci->values[i].value.string, &err) != 0) {
      HVP_CF_ERR(c, "%s", err.msg);
      return -1;
    }
  }
  return 0;
}

static int hvp_cf_password_file(hvp_host_conf_t *c, const oconfig_item_t *ci) {
  char *path = NULL;
  ws_err_t e;
  if (hvp_cf_string(c, ci, &path, 4096) != 0)
    return -1;
  int rc = wsman_opts_password_file(&c->hv.ws, path, &e);
  if (rc != 0)
    HVP_CF_ERR(c, "option \"PasswordFile\": %s", e.msg);
  free(path);
  return rc;
}

static int hvp_cf_password(hvp_host_conf_t *c, const oconfig_item_t *ci) {
  ws_err_t e;
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING ||
      ci->values[0].value.string[0] == '\0') {
    hvp_cf_bad(c, ci, "expects exactly one non-empty string argument");
    return -1;
  }
  if (wsman_opts_set_password(&c->hv.ws, ci->values[0].value.string, &e) != 0) {
    hvp_cf_bad(c, ci, e.msg);
    return -1;
  }
  return 0;
}

/* A name from a fixed list (Auth, Encryption), stored in lower case; the
 * transport checks that the names fit together. */
static int hvp_cf_word(hvp_host_conf_t *c, const oconfig_item_t *ci, char **out,
                       const char *const *words, const char *list) {
  if (hvp_cf_string(c, ci, out, 32) != 0)
    return -1;
  for (char *p = *out; *p != '\0'; p++)
    *p = (char)tolower((unsigned char)*p);
  for (size_t i = 0; words[i] != NULL; i++)
    if (strcmp(*out, words[i]) == 0)
      return 0;
  hvp_cf_bad(c, ci, list);
  return -1;
}

static int hvp_cf_hostname_format(hvp_host_conf_t *c,
                                  const oconfig_item_t *ci) {
  c->n_hn = 0;
  if (ci->values_num < 1) {
    hvp_cf_bad(c, ci, "expects one or more of name, uuid, guest_hostname");
    return -1;
  }
  for (int i = 0; i < ci->values_num; i++) {
    if (ci->values[i].type != OCONFIG_TYPE_STRING) {
      hvp_cf_bad(c, ci, "expects string arguments");
      return -1;
    }
    char *copy = strdup(ci->values[i].value.string);
    if (copy == NULL)
      return -1;
    char *save = NULL;
    for (char *w = strtok_r(copy, " \t", &save); w != NULL;
         w = strtok_r(NULL, " \t", &save)) {
      hvp_hn_field_t f;
      if (strcasecmp(w, "name") == 0)
        f = HVP_HN_NAME;
      else if (strcasecmp(w, "uuid") == 0)
        f = HVP_HN_UUID;
      else if (strcasecmp(w, "guest_hostname") == 0)
        f = HVP_HN_GUEST;
      else {
        char why[160];
        snprintf(why, sizeof(why),
                 "unknown field \"%.64s\" (expected name, uuid or "
                 "guest_hostname)",
                 w);
        hvp_cf_bad(c, ci, why);
        free(copy);
        return -1;
      }
      for (size_t j = 0; j < c->n_hn; j++) {
        if (c->hn[j] == f) {
          hvp_cf_bad(c, ci, "names a field twice");
          free(copy);
          return -1;
        }
      }
      c->hn[c->n_hn++] = f; /* at most 3 distinct fields */
    }
    free(copy);
  }
  if (c->n_hn == 0) {
    hvp_cf_bad(c, ci, "expects one or more of name, uuid, guest_hostname");
    return -1;
  }
  return 0;
}

/* Prefix "a" ["b" ...]: the KVP key prefixes of the writers this block
 * reads (the reporter, write_hvkvp), each read from the same listing; any
 * prefix the protocol allows (hvkvp_prefix_check), each once. */
static int hvp_cf_prefix(hvp_host_conf_t *c, const oconfig_item_t *ci) {
  if (ci->values_num < 1 || ci->values_num > HVP_PREFIX_MAX) {
    hvp_cf_bad(c, ci, "expects one to " HVP_STR(HVP_PREFIX_MAX) " strings");
    return -1;
  }
  for (int i = 0; i < ci->values_num; i++) {
    const oconfig_value_t *v = &ci->values[i];
    if (v->type != OCONFIG_TYPE_STRING) {
      hvp_cf_bad(c, ci, "expects strings");
      return -1;
    }
    const char *p = v->value.string;
    hvkvp_err_t e;
    if (hvkvp_prefix_check(p, &e) != 0) {
      hvp_cf_bad(c, ci, e.detail);
      return -1;
    }
    for (int j = 0; j < i; j++) {
      const char *q = ci->values[j].value.string;
      size_t pn = strlen(p), qn = strlen(q);
      if (strcmp(p, q) == 0) {
        hvp_cf_bad(c, ci, "names a prefix twice");
        return -1;
      }
      /* a writer owns every key under "PREFIX." (PROTOCOL.md section 1) */
      if ((pn > qn && strncmp(p, q, qn) == 0 && p[qn] == '.') ||
          (qn > pn && strncmp(q, p, pn) == 0 && q[pn] == '.')) {
        hvp_cf_bad(c, ci,
                   "names a prefix inside another one's keys (the "
                   "writer of \"a\" owns every key \"a.*\", so "
                   "\"a\" and \"a.b\" cannot both write)");
        return -1;
      }
    }
    snprintf(c->prefix[i], sizeof(c->prefix[i]), "%s", p);
  }
  c->n_prefix = (size_t)ci->values_num;
  return 0;
}

/* A Push setting checked by the protocol's own contract (hvkvp_cfg_*), the
 * same functions every guest validates it with. */
static int
hvp_cf_cfg(const hvp_host_conf_t *c, const oconfig_item_t *ci, hvkvp_cfg_t *cfg,
           int (*parse)(const char *, hvkvp_cfg_t *, hvkvp_err_t *)) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING) {
    hvp_cf_bad(c, ci, "expects exactly one string argument");
    return -1;
  }
  hvkvp_err_t e;
  if (parse(ci->values[0].value.string, cfg, &e) != 0) {
    hvp_cf_bad(c, ci, e.detail);
    return -1;
  }
  return 0;
}

static int hvp_cf_push(hvp_host_conf_t *c, const oconfig_item_t *ci) {
  if (ci->values_num != 0) {
    hvp_cf_bad(c, ci, "block takes no argument");
    return -1;
  }
  if (c->n_push >= HVP_PUSH_MAX) {
    HVP_CF_ERR(c, "more than %d <Push> blocks", HVP_PUSH_MAX);
    return -1;
  }
  hvp_push_conf_t *p = &c->push[c->n_push++];
  memset(p, 0, sizeof(*p));
  hvp_filter_init(&p->filter);
  hvkvp_cfg_init(&p->cfg);
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *o = &ci->children[i];
    double d;
    if (strcasecmp(o->key, "IncludeVM") == 0) {
      if (hvp_cf_filter(c, o, &p->filter, 0) != 0)
        return -1;
    } else if (strcasecmp(o->key, "ExcludeVM") == 0) {
      if (hvp_cf_filter(c, o, &p->filter, 1) != 0)
        return -1;
    } else if (strcasecmp(o->key, "Interval") == 0) {
      if (hvp_cf_number(c, o, HVKVP_CFG_INTERVAL_MIN, HVKVP_CFG_INTERVAL_MAX, 1,
                        &d) != 0)
        return -1;
      p->cfg.interval = d;
    } else if (strcasecmp(o->key, "Collectors") == 0) {
      if (hvp_cf_cfg(c, o, &p->cfg, hvkvp_cfg_parse_collectors) != 0)
        return -1;
    } else if (strcasecmp(o->key, "Tags") == 0) {
      if (hvp_cf_cfg(c, o, &p->cfg, hvkvp_cfg_parse_tags) != 0)
        return -1;
    } else {
      HVP_CF_ERR(c, "unknown option \"%s\" in <Push>", o->key);
      return -1;
    }
  }
  if (p->cfg.interval == 0 && !p->cfg.has_collectors && !p->cfg.has_tags) {
    HVP_CF_ERR(c, "<Push> block sets none of Interval, Collectors, Tags");
    return -1;
  }
  return 0;
}

/* The connection options, stored in the model's options struct as they
 * are. 1 if `o` was one of them (0 or -1 in *rc), 0 if not. */
static int hvp_cf_connection(hvp_host_conf_t *c, const oconfig_item_t *o,
                             int *rc) {
  static const char *const auths[] = {"basic", "ntlm", "negotiate", "kerberos",
                                      NULL};
  static const char *const encs[] = {"auto", "required", "off", NULL};
  wsman_opts_t *ws = &c->hv.ws;
  const char *k = o->key;
  int b = 1;
  double d;
  if (strcasecmp(k, "URL") == 0)
    *rc = hvp_cf_string(c, o, &ws->url, 2048);
  else if (strcasecmp(k, "User") == 0)
    *rc = hvp_cf_string(c, o, &ws->user, 512);
  else if (strcasecmp(k, "Password") == 0)
    *rc = hvp_cf_password(c, o);
  else if (strcasecmp(k, "PasswordFile") == 0)
    *rc = hvp_cf_password_file(c, o);
  else if (strcasecmp(k, "Auth") == 0)
    *rc = hvp_cf_word(c, o, &ws->auth, auths,
                      "must be basic, ntlm, negotiate or kerberos");
  else if (strcasecmp(k, "Encryption") == 0)
    *rc = hvp_cf_word(c, o, &ws->encryption, encs,
                      "must be auto, required or off");
  else if (strcasecmp(k, "CACert") == 0)
    *rc = hvp_cf_string(c, o, &ws->cacert, 4096);
  else if (strcasecmp(k, "KerberosKeytab") == 0)
    *rc = hvp_cf_string(c, o, &ws->keytab, 4096);
  else if (strcasecmp(k, "KerberosPrincipal") == 0)
    *rc = hvp_cf_string(c, o, &ws->principal, 512);
  else if (strcasecmp(k, "VerifyPeer") == 0) {
    if ((*rc = hvp_cf_bool(c, o, &b)) == 0)
      ws->insecure_peer = !b;
  } else if (strcasecmp(k, "VerifyHost") == 0) {
    if ((*rc = hvp_cf_bool(c, o, &b)) == 0)
      ws->insecure_host = !b;
  } else if (strcasecmp(k, "Timeout") == 0)
    *rc = hvp_cf_number(c, o, 0.001, 600, 0, &ws->timeout);
  else if (strcasecmp(k, "Namespace") == 0)
    *rc = hvp_cf_string(c, o, &c->hv.ns, 128);
  else if (strcasecmp(k, "MaxEnvelopeSize") == 0) {
    if ((*rc = hvp_cf_number(c, o, 32, 65536, 1, &d)) == 0)
      ws->max_envelope_kb = (unsigned)d;
  } else
    return 0;
  return 1;
}

static int hvp_cf_option(hvp_host_conf_t *c, const oconfig_item_t *o) {
  double d;
  int rc;
  const char *k = o->key;
  if (hvp_cf_connection(c, o, &rc))
    return rc;
  if (strcasecmp(k, "Interval") == 0)
    return hvp_cf_number(c, o, 0.001, 86400, 0, &c->interval);
  if (strcasecmp(k, "MaxPollTime") == 0)
    return hvp_cf_number(c, o, 0.1, 86400, 0, &c->budget.seconds);
  if (strcasecmp(k, "MaxPollRequests") == 0 ||
      strcasecmp(k, "MaxPollBytes") == 0) {
    if (hvp_cf_number(c, o, 1, 1e15, 1, &d) != 0)
      return -1;
    *(strcasecmp(k, "MaxPollBytes") == 0 ? &c->budget.bytes
                                         : &c->budget.requests) = (uint64_t)d;
    return 0;
  }
  if (strcasecmp(k, "IncludeVM") == 0)
    return hvp_cf_filter(c, o, &c->filter, 0);
  if (strcasecmp(k, "ExcludeVM") == 0)
    return hvp_cf_filter(c, o, &c->filter, 1);
  if (strcasecmp(k, "HostnameFormat") == 0)
    return hvp_cf_hostname_format(c, o);
  if (strcasecmp(k, "Prefix") == 0)
    return hvp_cf_prefix(c, o);
  if (strcasecmp(k, "StaleAfter") == 0) {
    if (hvp_cf_number(c, o, 1, 1000, 1, &d) != 0)
      return -1;
    c->stale_after = (unsigned)d;
    return 0;
  }
  if (strcasecmp(k, "ReportIntrinsic") == 0)
    return hvp_cf_bool(c, o, &c->report_intrinsic);
  if (strcasecmp(k, "Push") == 0)
    return hvp_cf_push(c, o);
  HVP_CF_ERR(c, "unknown option \"%s\"", k);
  return -1;
}

/* The <Host "name"> argument: it becomes a plugin instance. */
static int hvp_cf_name(const oconfig_item_t *ci, hvp_host_conf_t *c) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING ||
      ci->values[0].value.string[0] == '\0') {
    ERROR("hyperv_kvp plugin: <Host> expects exactly one non-empty string "
          "argument (the name of the Hyper-V host)");
    return -1;
  }
  const char *name = ci->values[0].value.string;
  for (const char *s = name; *s; s++) {
    if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL) {
      ERROR("hyperv_kvp plugin: <Host \"%.100s\">: the name may hold only "
            "letters, digits, '_', '.' and '-' (it becomes a plugin "
            "instance)",
            name);
      return -1;
    }
  }
  if (strlen(name) > 63) {
    ERROR("hyperv_kvp plugin: <Host \"%.100s\">: the name is longer than 63 "
          "bytes",
          name);
    return -1;
  }
  c->name = strdup(name);
  return c->name != NULL ? 0 : -1;
}

/* What the options say together: the model checks the connection. */
static int hvp_cf_check(hvp_host_conf_t *c, int have_pw, int have_pwfile) {
  ws_err_t e;
  if (have_pw && have_pwfile) {
    HVP_CF_ERR(c, "options \"Password\" and \"PasswordFile\" exclude each "
                  "other");
    return -1;
  }
  if (c->hv.ws.url == NULL) {
    HVP_CF_ERR(c, "option \"URL\" is required");
    return -1;
  }
  if (c->hv.ws.auth == NULL) {
    c->hv.ws.auth = strdup(c->hv.ws.user != NULL ? "basic" : "negotiate");
    if (c->hv.ws.auth == NULL)
      return -1;
  }
  if (hv_opts_check(&c->hv, &e) != 0) {
    HVP_CF_ERR(c, "%s", e.msg);
    return -1;
  }
  return 0;
}

int hvp_config_host(const oconfig_item_t *ci, hvp_host_conf_t *c) {
  memset(c, 0, sizeof(*c));
  hvp_filter_init(&c->filter);
  c->hv.ws.timeout = 10;
  c->hn[0] = HVP_HN_NAME;
  c->n_hn = 1;
  snprintf(c->prefix[0], sizeof(c->prefix[0]), "%s", HVKVP_DEFAULT_PREFIX);
  c->n_prefix = 1;
  c->stale_after = 3;
  c->report_intrinsic = 0;
  if (hvp_cf_name(ci, c) != 0)
    return -1;
  int have_pw = 0, have_pwfile = 0;
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *o = &ci->children[i];
    have_pw |= strcasecmp(o->key, "Password") == 0;
    have_pwfile |= strcasecmp(o->key, "PasswordFile") == 0;
    if (hvp_cf_option(c, o) != 0) {
      hvp_host_conf_free(c);
      return -1;
    }
  }
  if (hvp_cf_check(c, have_pw, have_pwfile) != 0) {
    hvp_host_conf_free(c);
    return -1;
  }
  return 0;
}

void hvp_host_conf_free(hvp_host_conf_t *c) {
  if (c == NULL)
    return;
  free(c->name);
  hv_opts_free(&c->hv);
  hvp_filter_free(&c->filter);
  for (size_t i = 0; i < c->n_push; i++)
    hvp_filter_free(&c->push[i].filter);
  memset(c, 0, sizeof(*c));
}

const hvp_push_conf_t *hvp_config_push_for(const hvp_host_conf_t *c,
                                           const char *name, const char *guid) {
  for (size_t i = 0; i < c->n_push; i++)
    if (hvp_filter_match(&c->push[i].filter, name, guid))
      return &c->push[i];
  return NULL;
}
