/*
 * types_db.c - the data sources of collectd types (types_db.h): a built-in
 * table of common stock types (collectd 5.12 types.db) plus the types
 * loaded from TypesDB files. Portable C11.
 */
#include "types_db.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPES_MAX 2048
#define TYPES_DB_MAX 1048576 /* 1 MiB */

/* Common stock types (collectd 5.12 types.db), in types.db syntax. */
static const char *const types_builtin[] = {
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

static types_db_type_t *types_table;
static size_t types_n, types_cap, types_nbuiltin;

/* Parses "name ds:TYPE:min:max[, ...]" into t. */
static int types_parse(const char *line, types_db_type_t *t, char *err,
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
        (size_t)(c1 - spec) >= TYPES_DS_NAME) {
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
    snprintf(t->ds[t->n], TYPES_DS_NAME, "%.31s", spec);
    t->t[t->n++] = dt;
  }
  if (t->n == 0) {
    snprintf(err, errlen, "%.64s: no data sources", t->name);
    return -1;
  }
  return 0;
}

static int types_add(const types_db_type_t *t, char *err, size_t errlen) {
  if (types_n == types_cap) {
    if (types_cap >= TYPES_MAX) {
      snprintf(err, errlen, "more than %d types", TYPES_MAX);
      return -1;
    }
    size_t ncap = types_cap ? types_cap * 2 : 64;
    types_db_type_t *nt = realloc(types_table, ncap * sizeof(*nt));
    if (nt == NULL) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    types_table = nt;
    types_cap = ncap;
  }
  types_table[types_n++] = *t;
  return 0;
}

static void types_init(void) {
  if (types_nbuiltin > 0)
    return;
  size_t n = sizeof(types_builtin) / sizeof(types_builtin[0]);
  for (size_t i = 0; i < n; i++) {
    types_db_type_t t;
    char e[512];
    if (types_parse(types_builtin[i], &t, e, sizeof(e)) == 0)
      types_add(&t, e, sizeof(e));
  }
  types_nbuiltin = types_n;
}

void types_db_reset(void) {
  types_init();
  types_n = types_nbuiltin;
}

int types_db_load(const char *path, char *err, size_t errlen) {
  types_init();
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
    if (total > TYPES_DB_MAX) {
      snprintf(err, errlen, "%s: larger than %d bytes", path, TYPES_DB_MAX);
      rc = -1;
      break;
    }
    char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (*p == '#' || *p == '\0')
      continue;
    types_db_type_t t;
    char e[512];
    if (types_parse(p, &t, e, sizeof(e)) != 0 ||
        types_add(&t, e, sizeof(e)) != 0) {
      snprintf(err, errlen, "%s:%u: %s", path, lineno, e);
      rc = -1;
      break;
    }
  }
  fclose(f);
  return rc;
}

const types_db_type_t *types_db_find(const char *name) {
  types_init();
  for (size_t i = types_n; i > 0; i--) /* later definitions win */
    if (strcmp(types_table[i - 1].name, name) == 0)
      return &types_table[i - 1];
  return NULL;
}
