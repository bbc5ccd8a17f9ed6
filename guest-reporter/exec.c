/*
 * exec.c - Exec entries: runs the command through platform.h (timeout, kill)
 * and parses collectd exec-plugin PUTVAL lines into value lists, with the
 * data sources of each type from a types table (built-in stock types plus
 * an optional types.db). Portable C11.
 */
#include "exec.h"
#include "log.h"
#include "words.h"
#include "platform.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REXEC_DS_NAME 32
#define REXEC_MAX_TYPES 2048
#define REXEC_TYPESDB_MAX 1048576 /* 1 MiB */

typedef struct {
  char name[HVKVP_NAME_LEN];
  size_t n;
  hvkvp_ds_type_t t[HVKVP_MAX_DS];
  char ds[HVKVP_MAX_DS][REXEC_DS_NAME];
} rexec_type_t;

/* Common stock types (collectd 5.12 types.db), in types.db syntax. */
static const char *const rexec_builtin[] = {
    "absolute value:ABSOLUTE:0:U",
    "bitrate value:GAUGE:0:4294967295",
    "bytes value:GAUGE:0:U",
    "cache_ratio value:GAUGE:0:100",
    "connections value:DERIVE:0:U",
    "count value:GAUGE:0:U",
    "counter value:COUNTER:U:U",
    "cpu value:DERIVE:0:U",
    "current value:GAUGE:U:U",
    "current_connections value:GAUGE:0:U",
    "delay value:GAUGE:-1000000:1000000",
    "derive value:DERIVE:0:U",
    "df_complex value:GAUGE:0:U",
    "disk_io_time io_time:DERIVE:0:U, weighted_io_time:DERIVE:0:U",
    "disk_merged read:DERIVE:0:U, write:DERIVE:0:U",
    "disk_octets read:DERIVE:0:U, write:DERIVE:0:U",
    "disk_ops read:DERIVE:0:U, write:DERIVE:0:U",
    "disk_time read:DERIVE:0:U, write:DERIVE:0:U",
    "duration seconds:GAUGE:0:U",
    "entropy value:GAUGE:0:4294967295",
    "fanspeed value:GAUGE:0:U",
    "file_size value:GAUGE:0:U",
    "files value:GAUGE:0:U",
    "fork_rate value:DERIVE:0:U",
    "frequency value:GAUGE:0:U",
    "gauge value:GAUGE:U:U",
    "http_requests value:DERIVE:0:U",
    "humidity value:GAUGE:0:100",
    "if_dropped rx:DERIVE:0:U, tx:DERIVE:0:U",
    "if_errors rx:DERIVE:0:U, tx:DERIVE:0:U",
    "if_octets rx:DERIVE:0:U, tx:DERIVE:0:U",
    "if_packets rx:DERIVE:0:U, tx:DERIVE:0:U",
    "latency value:GAUGE:0:U",
    ("load shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, "
     "longterm:GAUGE:0:5000"),
    "memory value:GAUGE:0:281474976710656",
    "objects value:GAUGE:0:U",
    "operations value:DERIVE:0:U",
    "pending_operations value:GAUGE:0:U",
    "percent value:GAUGE:0:100.1",
    "power value:GAUGE:U:U",
    "ps_state value:GAUGE:0:65535",
    "queue_length value:GAUGE:0:U",
    "records value:GAUGE:0:U",
    "requests value:GAUGE:0:U",
    "response_time value:GAUGE:0:U",
    "signal_quality value:GAUGE:0:U",
    "swap value:GAUGE:0:1099511627776",
    "swap_io value:DERIVE:0:U",
    "temperature value:GAUGE:U:U",
    "threads value:GAUGE:0:U",
    "timeleft value:GAUGE:0:U",
    "total_bytes value:DERIVE:0:U",
    "total_operations value:DERIVE:0:U",
    "total_requests value:DERIVE:0:U",
    "total_time_in_ms value:DERIVE:0:U",
    "uptime value:GAUGE:0:4294967295",
    "users value:GAUGE:0:65535",
    "vmpage_number value:GAUGE:0:4294967295",
    "voltage value:GAUGE:U:U",
};

static rexec_type_t *rexec_types;
static size_t rexec_ntypes, rexec_captypes, rexec_nbuiltin;

/* Parses "name ds:TYPE:min:max[, ...]" into t. */
static int rexec_type_parse(const char *line, rexec_type_t *t, char *err,
                            size_t errlen) {
  memset(t, 0, sizeof(*t));
  const char *p = line;
  size_t n = 0;
  while (*p && !isspace((unsigned char)*p)) {
    if (n + 1 >= sizeof(t->name)) {
      snprintf(err, errlen, "type name too long");
      return -1;
    }
    t->name[n++] = *p++;
  }
  if (n == 0) {
    snprintf(err, errlen, "missing type name");
    return -1;
  }
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '\0' || *p == '\n' || *p == '\r')
      break;
    if (t->n == HVKVP_MAX_DS) {
      snprintf(err, errlen, "%.64s: more than %d data sources", t->name,
               HVKVP_MAX_DS);
      return -1;
    }
    char spec[128];
    size_t sn = 0;
    while (*p && *p != ',' && !isspace((unsigned char)*p)) {
      if (sn + 1 >= sizeof(spec)) {
        snprintf(err, errlen, "%.64s: data source spec too long", t->name);
        return -1;
      }
      spec[sn++] = *p++;
    }
    spec[sn] = '\0';
    char *c1 = strchr(spec, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c1 == NULL || c2 == NULL || c1 == spec ||
        (size_t)(c1 - spec) >= REXEC_DS_NAME) {
      snprintf(err, errlen,
               "%.64s: bad data source \"%.40s\" (want ds:TYPE:min:max)",
               t->name, spec);
      return -1;
    }
    *c1 = '\0';
    *c2 = '\0';
    const char *ty = c1 + 1;
    hvkvp_ds_type_t dt;
    if (strcmp(ty, "GAUGE") == 0)
      dt = HVKVP_DS_GAUGE;
    else if (strcmp(ty, "DERIVE") == 0)
      dt = HVKVP_DS_DERIVE;
    else if (strcmp(ty, "COUNTER") == 0)
      dt = HVKVP_DS_COUNTER;
    else if (strcmp(ty, "ABSOLUTE") == 0)
      dt = HVKVP_DS_ABSOLUTE;
    else {
      snprintf(err, errlen, "%.64s: unknown data source type \"%.20s\"",
               t->name, ty);
      return -1;
    }
    snprintf(t->ds[t->n], REXEC_DS_NAME, "%.31s", spec);
    t->t[t->n++] = dt;
  }
  if (t->n == 0) {
    snprintf(err, errlen, "%.64s: no data sources", t->name);
    return -1;
  }
  return 0;
}

static rexec_type_t *rexec_type_find(const char *name) {
  for (size_t i = rexec_ntypes; i > 0; i--) /* later definitions win */
    if (strcmp(rexec_types[i - 1].name, name) == 0)
      return &rexec_types[i - 1];
  return NULL;
}

static int rexec_type_add(const rexec_type_t *t, char *err, size_t errlen) {
  if (rexec_ntypes == rexec_captypes) {
    if (rexec_captypes >= REXEC_MAX_TYPES) {
      snprintf(err, errlen, "more than %d types", REXEC_MAX_TYPES);
      return -1;
    }
    size_t ncap = rexec_captypes ? rexec_captypes * 2 : 64;
    rexec_type_t *nt = realloc(rexec_types, ncap * sizeof(*nt));
    if (nt == NULL) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    rexec_types = nt;
    rexec_captypes = ncap;
  }
  rexec_types[rexec_ntypes++] = *t;
  return 0;
}

static void rexec_types_init(void) {
  if (rexec_nbuiltin > 0)
    return;
  size_t n = sizeof(rexec_builtin) / sizeof(rexec_builtin[0]);
  for (size_t i = 0; i < n; i++) {
    rexec_type_t t;
    char e[512];
    if (rexec_type_parse(rexec_builtin[i], &t, e, sizeof(e)) == 0)
      rexec_type_add(&t, e, sizeof(e));
  }
  rexec_nbuiltin = rexec_ntypes;
}

void rexec_types_reset(void) {
  rexec_types_init();
  rexec_ntypes = rexec_nbuiltin;
}

int rexec_types_load(const char *path, char *err, size_t errlen) {
  rexec_types_init();
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, errlen, "TypesDB %s: %s", path, strerror(errno));
    return -1;
  }
  char line[2048];
  unsigned lineno = 0;
  size_t total = 0;
  int rc = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    lineno++;
    total += strlen(line);
    if (total > REXEC_TYPESDB_MAX) {
      snprintf(err, errlen, "%s: larger than %d bytes", path,
               REXEC_TYPESDB_MAX);
      rc = -1;
      break;
    }
    char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (*p == '#' || *p == '\0')
      continue;
    rexec_type_t t;
    char e[512];
    if (rexec_type_parse(p, &t, e, sizeof(e)) != 0 ||
        rexec_type_add(&t, e, sizeof(e)) != 0) {
      snprintf(err, errlen, "%s:%u: %s", path, lineno, e);
      rc = -1;
      break;
    }
  }
  fclose(f);
  return rc;
}

/* ---- PUTVAL ---- */

/* Splits "name[-instance]" at the first '-'. */
static int rexec_split_name(const char *s, char *name, char *inst,
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

static int rexec_value(const char *s, hvkvp_ds_type_t t, hvkvp_value_t *v) {
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
static int rexec_values(const char *w, const rexec_type_t *t, hvkvp_vl_t *vl,
                        char *err, size_t errlen) {
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
    if (rexec_value(v, t->t[n], &vl->values[n]) != 0) {
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

int rexec_parse_line(const char *line, hvkvp_msg_t *m, char *err,
                     size_t errlen) {
  rexec_types_init();
  const char *p = line;
  char w[1024];
  int r = rword_next(&p, w, sizeof(w), err, errlen);
  if (r <= 0)
    return r; /* blank or unparsable */
  if (strcasecmp(w, "PUTVAL") != 0) {
    snprintf(err, errlen, "unknown command \"%.32s\" (only PUTVAL)", w);
    return -1;
  }
  char ident[3 * HVKVP_NAME_LEN + HVKVP_HOST_LEN];
  r = rword_next(&p, ident, sizeof(ident), err, errlen);
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
  if (rexec_split_name(s1 + 1, proto.plugin, proto.plugin_instance, "plugin",
                       err, errlen) != 0 ||
      rexec_split_name(s2 + 1, proto.type, proto.type_instance, "type", err,
                       errlen) != 0)
    return -1;
  const rexec_type_t *t = rexec_type_find(proto.type);
  if (t == NULL) {
    snprintf(err, errlen, "unknown type \"%.64s\" (add it with TypesDB)",
             proto.type);
    return -1;
  }
  /* options, then one or more value lists; all-or-nothing per line */
  hvkvp_vl_t lists[8];
  size_t nl = 0;
  while ((r = rword_next(&p, w, sizeof(w), err, errlen)) > 0) {
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
    if (rexec_values(w, t, &lists[nl], err, errlen) != 0)
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

int rexec_run(const rcfg_exec_t *e, double timeout, hvkvp_msg_t *m, char *err,
              size_t errlen) {
  char *argv[RCFG_MAX_ARGS + 1];
  for (size_t i = 0; i < e->argc; i++)
    argv[i] = (char *)rcfg_exec_arg(e, i);
  argv[e->argc] = NULL;
  char *out = NULL;
  size_t outlen = 0;
  plat_exec_result_t res;
  char e2[256];
  if (plat_exec(argv, (uint64_t)(timeout * 1000), REXEC_MAX_OUTPUT, &out,
                &outlen, &res, e2, sizeof(e2)) != 0) {
    snprintf(err, errlen, "Exec %s: %s", e->name, e2);
    return -1;
  }
  int added = 0;
  unsigned lineno = 0;
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    size_t l = strlen(line);
    if (l > 0 && line[l - 1] == '\r')
      line[l - 1] = '\0';
    char why[256];
    size_t before = m->n_vls;
    int r = rexec_parse_line(line, m, why, sizeof(why));
    if (r < 0)
      rlog_warning("Exec %s: output line %u skipped: %s", e->name, lineno, why);
    else
      added += (int)(m->n_vls - before);
  }
  free(out);
  if (res.truncated)
    rlog_warning("Exec %s: output longer than %d bytes, the rest ignored",
                 e->name, REXEC_MAX_OUTPUT);
  if (res.timed_out) {
    snprintf(err, errlen, "Exec %s: still running after %.1f s: killed",
             e->name, timeout);
    return -1;
  }
  if (!res.exited) {
    snprintf(err, errlen, "Exec %s: ended by signal %d", e->name,
             res.killed_by);
    return -1;
  }
  if (res.exit_code != 0) {
    snprintf(err, errlen, "Exec %s: exit status %d", e->name, res.exit_code);
    return -1;
  }
  return added;
}
