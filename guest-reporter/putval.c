/*
 * putval.c - parses collectd exec-plugin PUTVAL lines (putval.h) into value
 * lists, with the data sources of each type from types_db.h. Portable C11.
 */
#include "putval.h"
#include "collectd_syntax.h"
#include "types_db.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Splits "name[-instance]" at the first '-'. */
static int putval_split_name(const char *s, char *name, char *inst,
                             const char *what, char *err, size_t errlen) {
  const char *dash = strchr(s, '-');
  size_t n = dash ? (size_t)(dash - s) : strlen(s);
  const char *i = dash ? dash + 1 : "";
  if (n == 0) {
    snprintf(err, errlen, "empty %s name", what);
    return -1;
  }
  if (n >= HVKVP_NAME_LEN || strlen(i) >= HVKVP_NAME_LEN) {
    snprintf(err, errlen, "%s name or instance longer than %d bytes", what,
             HVKVP_NAME_LEN - 1);
    return -1;
  }
  memcpy(name, s, n);
  name[n] = '\0';
  snprintf(inst, HVKVP_NAME_LEN, "%s", i);
  return 0;
}

static int putval_value(const char *s, hvkvp_ds_type_t t, hvkvp_value_t *v) {
  char *end;
  errno = 0;
  if (t == HVKVP_DS_GAUGE) {
    if (strcmp(s, "U") == 0) {
      v->gauge = NAN;
      return 0;
    }
    v->gauge = strtod(s, &end);
  } else if (t == HVKVP_DS_DERIVE) {
    v->derive = strtoll(s, &end, 10);
  } else {
    if (s[0] == '-')
      return -1;
    unsigned long long u = strtoull(s, &end, 10);
    if (t == HVKVP_DS_COUNTER)
      v->counter = u;
    else
      v->absolute = u;
  }
  return (errno != 0 || end == s || *end != '\0') ? -1 : 0;
}

/* One "time:v[:v...]" value list. */
static int putval_values(const char *w, const types_db_type_t *t,
                         hvkvp_vl_t *vl, char *err, size_t errlen) {
  char buf[1024];
  snprintf(buf, sizeof(buf), "%s", w);
  char *save = NULL;
  char *tm = strtok_r(buf, ":", &save);
  if (tm == NULL ||
      (strcmp(tm, "N") != 0 && strspn(tm, "0123456789.") != strlen(tm))) {
    snprintf(err, errlen, "value list \"%.40s\": want N:value or TIME:value",
             w);
    return -1;
  }
  size_t n = 0;
  for (char *v = strtok_r(NULL, ":", &save); v != NULL;
       v = strtok_r(NULL, ":", &save)) {
    if (n == t->n) {
      snprintf(err, errlen, "type %s has %zu data sources, got more values",
               t->name, t->n);
      return -1;
    }
    if (putval_value(v, t->t[n], &vl->values[n]) != 0) {
      snprintf(err, errlen, "value %zu \"%.32s\" is not a valid %s", n + 1, v,
               t->t[n] == HVKVP_DS_GAUGE    ? "gauge"
               : t->t[n] == HVKVP_DS_DERIVE ? "derive"
                                            : "counter");
      return -1;
    }
    n++;
  }
  if (n != t->n) {
    snprintf(err, errlen, "type %s has %zu data sources, got %zu values",
             t->name, t->n, n);
    return -1;
  }
  vl->n = n;
  for (size_t i = 0; i < n; i++) {
    vl->dstypes[i] = t->t[i];
    snprintf(vl->dsnames[i], sizeof(vl->dsnames[i]), "%s", t->ds[i]);
  }
  return 0;
}

int putval_parse_line(const char *line, hvkvp_msg_t *m, char *err,
                      size_t errlen) {
  const char *p = line;
  char w[1024];
  int r = collectd_word_next(&p, w, sizeof(w), err, errlen);
  if (r <= 0)
    return r; /* blank or unparsable */
  if (strcasecmp(w, "PUTVAL") != 0) {
    snprintf(err, errlen, "unknown command \"%.32s\" (only PUTVAL)", w);
    return -1;
  }
  char ident[3 * HVKVP_NAME_LEN + HVKVP_HOST_LEN];
  r = collectd_word_next(&p, ident, sizeof(ident), err, errlen);
  if (r < 0)
    return -1;
  if (r == 0) {
    snprintf(err, errlen, "PUTVAL without an identifier");
    return -1;
  }
  char *s1 = strchr(ident, '/');
  char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
  if (s1 == NULL || s2 == NULL || strchr(s2 + 1, '/') != NULL) {
    snprintf(err, errlen,
             "identifier \"%.60s\": want host/plugin[-inst]/type[-inst]",
             ident);
    return -1;
  }
  *s1 = '\0';
  *s2 = '\0';
  hvkvp_vl_t proto;
  memset(&proto, 0, sizeof(proto));
  if (putval_split_name(s1 + 1, proto.plugin, proto.plugin_instance, "plugin",
                        err, errlen) != 0 ||
      putval_split_name(s2 + 1, proto.type, proto.type_instance, "type", err,
                        errlen) != 0)
    return -1;
  const types_db_type_t *t = types_db_find(proto.type);
  if (t == NULL) {
    snprintf(err, errlen, "unknown type \"%.64s\" (add it with TypesDB)",
             proto.type);
    return -1;
  }
  /* options, then one or more value lists; all-or-nothing per line */
  hvkvp_vl_t lists[8];
  size_t nl = 0;
  while ((r = collectd_word_next(&p, w, sizeof(w), err, errlen)) > 0) {
    if (strchr(w, '=') != NULL) {
      if (nl > 0) {
        snprintf(err, errlen, "option \"%.32s\" after the values", w);
        return -1;
      }
      if (strncmp(w, "interval=", 9) == 0) {
        char *end;
        double d = strtod(w + 9, &end);
        if (end == w + 9 || *end != '\0' || !(d > 0)) {
          snprintf(err, errlen, "option \"%.32s\": want interval=SECONDS", w);
          return -1;
        }
        continue; /* the reporter's interval is the message's */
      }
      snprintf(err, errlen, "unknown option \"%.32s\"", w);
      return -1;
    }
    if (nl == sizeof(lists) / sizeof(lists[0])) {
      snprintf(err, errlen, "more than %zu value lists on one line", nl);
      return -1;
    }
    lists[nl] = proto;
    if (putval_values(w, t, &lists[nl], err, errlen) != 0)
      return -1;
    nl++;
  }
  if (r < 0)
    return -1;
  if (nl == 0) {
    snprintf(err, errlen, "PUTVAL without values");
    return -1;
  }
  for (size_t i = 0; i < nl; i++) {
    hvkvp_vl_t *vl = hvkvp_msg_add(m);
    if (vl == NULL) {
      snprintf(err, errlen, "message full");
      return -1;
    }
    *vl = lists[i];
  }
  return 1;
}
