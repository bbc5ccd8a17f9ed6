/*
 * config.c - parses the reporter's config file and flags into rcfg_t.
 * Portable C11. Every error names the place ("file:line: ...").
 */
#include "config.h"
#include "collect.h"
#include "log.h"
#include "collectd_syntax.h"
#include "platform.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RCFG_FILE_MAX 262144 /* 256 KiB */

void rcfg_defaults(rcfg_t *c) {
  memset(c, 0, sizeof(*c));
  c->interval = 60;
  snprintf(c->prefix, sizeof(c->prefix), "%s", HVKVP_DEFAULT_PREFIX);
  snprintf(c->store, sizeof(c->store), "%s", plat_default_store());
  c->exec_timeout = 10;
  c->enc = HVKVP_ENC_DEFAULT;
  c->max_chunks = HVKVP_MAX_CHUNKS;
  /* cpu: the sum over the CPUs, per state, in percent: 8 value lists
   * whatever the guest's size (collectd's default is per CPU, in jiffies;
   * hvkvp-reporter.conf.md says why) */
  c->cpu.report_by_cpu = 0;
  c->cpu.report_by_state = 1;
  c->cpu.values_percentage = 0;
  c->log_level = RLOG_INFO;
}

/* ---- value parsers ---- */

static int rcfg_number(const char *v, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < lo ||
      d > hi)
    return -1;
  *out = d;
  return 0;
}

static int rcfg_bool(const char *v, int *out) {
  if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
      strcmp(v, "1") == 0)
    *out = 1;
  else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
           strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
    *out = 0;
  else
    return -1;
  return 0;
}

/* 1..size-1 characters of [A-Za-z0-9_-]: a Prefix (size HVKVP_PREFIX_LEN,
 * it becomes part of every key) or a collector/Exec name (HVKVP_NAME_LEN). */
static int rcfg_word_ok(const char *p, size_t size) {
  size_t n = strlen(p);
  if (n == 0 || n >= size)
    return 0;
  for (const char *s = p; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
      return 0;
  return 1;
}

const char *rcfg_exec_arg(const rcfg_exec_t *e, size_t i) {
  return e->argbuf + e->argoff[i];
}

int rcfg_split_command(const char *cmd, rcfg_exec_t *e, char *err,
                       size_t errlen) {
  e->argc = 0;
  size_t used = 0; /* bytes of argbuf */
  const char *p = cmd;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      break;
    if (e->argc == RCFG_MAX_ARGS) {
      snprintf(err, errlen, "command has more than %d words", RCFG_MAX_ARGS);
      return -1;
    }
    e->argoff[e->argc] = (unsigned short)used;
    int quoted = 0;
    while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
      char ch = *p++;
      if (ch == '"') {
        quoted = !quoted;
        continue;
      }
      if (quoted && ch == '\\' && (*p == '"' || *p == '\\'))
        ch = *p++;
      if (used + 1 >= sizeof(e->argbuf)) {
        snprintf(err, errlen, "command longer than %zu bytes",
                 sizeof(e->argbuf) - 1);
        return -1;
      }
      e->argbuf[used++] = ch;
    }
    if (quoted) {
      snprintf(err, errlen, "unbalanced '\"' in command");
      return -1;
    }
    e->argbuf[used++] = '\0';
    e->argc++;
  }
  if (e->argc == 0) {
    snprintf(err, errlen, "empty command");
    return -1;
  }
  return 0;
}

/* Store: pool | pool:DIR | registry | registry:Auto | registry:Guest */
static int rcfg_store_ok(const char *v) {
  if (strcmp(v, "pool") == 0 || strcmp(v, "registry") == 0)
    return 1;
  if (strncmp(v, "pool:", 5) == 0)
    return strlen(v) > 5; /* a directory follows */
  return strcmp(v, "registry:Auto") == 0 || strcmp(v, "registry:Guest") == 0;
}

/* Collectors: a list of names, -1 with err naming the first bad one. */
static int rcfg_collectors_check(const char *v, char *err, size_t errlen) {
  char tmp[RCFG_LIST_LEN];
  if (strlen(v) >= sizeof(tmp)) {
    snprintf(err, errlen, "Collectors: list longer than %zu bytes",
             sizeof(tmp) - 1);
    return -1;
  }
  snprintf(tmp, sizeof(tmp), "%s", v);
  char *save = NULL;
  for (char *w = strtok_r(tmp, " ,\t", &save); w != NULL;
       w = strtok_r(NULL, " ,\t", &save)) {
    if (!rcfg_word_ok(w, HVKVP_NAME_LEN)) {
      snprintf(err, errlen, "Collectors: \"%.64s\" is not a valid name", w);
      return -1;
    }
  }
  return 0;
}

/* ---- <Collector cpu> ---- */

/* The options of <Collector cpu>: collectd's cpu plugin's, same names. */
static int *rcfg_cpu_option(rcfg_t *c, const char *key) {
  if (strcmp(key, "ReportByCpu") == 0)
    return &c->cpu.report_by_cpu;
  if (strcmp(key, "ReportByState") == 0)
    return &c->cpu.report_by_state;
  if (strcmp(key, "ValuesPercentage") == 0)
    return &c->cpu.values_percentage;
  return NULL;
}

/* One line inside <Collector cpu>. */
static int rcfg_set_cpu(rcfg_t *c, const char *key, const char *v, char *err,
                        size_t errlen) {
  int *opt = rcfg_cpu_option(c, key);
  if (opt == NULL) {
    snprintf(err, errlen,
             "unknown option \"%.64s\" in <Collector cpu>: want "
             "ReportByCpu, ReportByState or ValuesPercentage",
             key);
    return -1;
  }
  if (rcfg_bool(v, opt) != 0) {
    snprintf(err, errlen, "%s \"%.32s\": want true or false", key, v);
    return -1;
  }
  return 0;
}

/* The <Collector NAME> block being read (name "" outside one) and the line
 * it began on. */
typedef struct {
  char name[HVKVP_NAME_LEN];
  unsigned line;
} rcfg_block_t;

/* A line starting with '<' (p, without the blanks around it): opens
 * <Collector cpu> or closes it with </Collector>. */
static int rcfg_block_line(const char *p, rcfg_block_t *b, unsigned lineno,
                           char *err, size_t errlen) {
  size_t len = strlen(p);
  if (strcmp(p, "</Collector>") == 0) {
    if (b->name[0] == '\0') {
      snprintf(err, errlen, "</Collector> without <Collector ...>");
      return -1;
    }
    b->name[0] = '\0';
    return 0;
  }
  if (strncmp(p, "<Collector", 10) != 0 || (p[10] != ' ' && p[10] != '\t') ||
      p[len - 1] != '>') {
    snprintf(err, errlen, "\"%.64s\": want <Collector NAME> or </Collector>",
             p);
    return -1;
  }
  if (b->name[0] != '\0') {
    snprintf(err, errlen,
             "<Collector> inside <Collector %s> (line %u): blocks do not "
             "nest",
             b->name, b->line);
    return -1;
  }
  char inner[HVKVP_NAME_LEN + 8], name[HVKVP_NAME_LEN];
  size_t n = len - 11; /* between "<Collector" and ">" */
  if (n >= sizeof(inner)) {
    snprintf(err, errlen, "<Collector>: name too long");
    return -1;
  }
  memcpy(inner, p + 10, n);
  inner[n] = '\0';
  const char *q = inner;
  if (collectd_word_next(&q, name, sizeof(name), err, errlen) < 0)
    return -1;
  while (*q == ' ' || *q == '\t')
    q++;
  if (name[0] == '\0' || *q != '\0') {
    snprintf(err, errlen, "<Collector%s>: want one collector name", inner);
    return -1;
  }
  if (strcmp(name, "cpu") != 0) {
    snprintf(err, errlen,
             "<Collector \"%.64s\">: no options for this collector (only cpu "
             "has a block)",
             name);
    return -1;
  }
  snprintf(b->name, sizeof(b->name), "%s", name);
  b->line = lineno;
  return 0;
}

int rcfg_set(rcfg_t *c, const char *key, const char *v, char *err,
             size_t errlen) {
  double d;
  if (strcmp(key, "Interval") == 0) {
    if (rcfg_number(v, RCFG_INTERVAL_MIN, RCFG_INTERVAL_MAX, &d) != 0)
      goto range;
    c->interval = d;
  } else if (strcmp(key, "Prefix") == 0) {
    if (!rcfg_word_ok(v, HVKVP_PREFIX_LEN)) {
      snprintf(err, errlen,
               "Prefix \"%.64s\": want 1-%d characters of [A-Za-z0-9_-]", v,
               HVKVP_PREFIX_LEN - 1);
      return -1;
    }
    snprintf(c->prefix, sizeof(c->prefix), "%s", v);
  } else if (strcmp(key, "Store") == 0) {
    if (strlen(v) >= sizeof(c->store) || !rcfg_store_ok(v)) {
      snprintf(err, errlen,
               "Store \"%.64s\": want pool, pool:DIR, registry, "
               "registry:Auto or registry:Guest",
               v);
      return -1;
    }
    snprintf(c->store, sizeof(c->store), "%s", v);
  } else if (strcmp(key, "Collectors") == 0) {
    if (rcfg_collectors_check(v, err, errlen) != 0)
      return -1;
    snprintf(c->collectors, sizeof(c->collectors), "%s", v);
  } else if (strcmp(key, "Hostname") == 0) {
    if (strlen(v) >= sizeof(c->hostname)) {
      snprintf(err, errlen, "Hostname: longer than %zu bytes",
               sizeof(c->hostname) - 1);
      return -1;
    }
    snprintf(c->hostname, sizeof(c->hostname), "%s", v);
  } else if (strcmp(key, "ExecTimeout") == 0) {
    if (rcfg_number(v, 0.1, 3600, &d) != 0)
      goto range;
    c->exec_timeout = d;
  } else if (strcmp(key, "TypesDB") == 0) {
    if (strlen(v) >= sizeof(c->types_db)) {
      snprintf(err, errlen, "TypesDB: path too long");
      return -1;
    }
    snprintf(c->types_db, sizeof(c->types_db), "%s", v);
  } else if (strcmp(key, "Encoding") == 0) {
    if (hvkvp_enc_parse(v, strlen(v), &c->enc) != 0) {
      snprintf(err, errlen, "Encoding \"%.32s\": want zd1, z64 or json", v);
      return -1;
    }
  } else if (strcmp(key, "MaxChunks") == 0) {
    if (rcfg_number(v, 1, HVKVP_MAX_CHUNKS, &d) != 0 || d != floor(d))
      goto range;
    c->max_chunks = (size_t)d;
  } else if (strcmp(key, "IncludeLoopback") == 0) {
    if (rcfg_bool(v, &c->include_loopback) != 0) {
      snprintf(err, errlen, "IncludeLoopback \"%.32s\": want true or false", v);
      return -1;
    }
  } else if (strcmp(key, "LogLevel") == 0) {
    int l = rlog_level_parse(v);
    if (l < 0) {
      snprintf(err, errlen,
               "LogLevel \"%.32s\": want error, warning, info or debug", v);
      return -1;
    }
    c->log_level = l;
  } else if (strcmp(key, "LogFile") == 0) {
    if (strlen(v) >= sizeof(c->log_file)) {
      snprintf(err, errlen, "LogFile: path too long");
      return -1;
    }
    snprintf(c->log_file, sizeof(c->log_file), "%s", v);
  } else if (rcfg_cpu_option(c, key) != NULL) {
    snprintf(err, errlen,
             "%s is an option of the cpu collector: write it inside "
             "<Collector cpu> ... </Collector>",
             key);
    return -1;
  } else {
    snprintf(err, errlen, "unknown option \"%.64s\"", key);
    return -1;
  }
  return 0;
range:
  if (strcmp(key, "Interval") == 0)
    snprintf(err, errlen, "Interval \"%.32s\": want seconds, %d to %d", v,
             RCFG_INTERVAL_MIN, RCFG_INTERVAL_MAX);
  else if (strcmp(key, "MaxChunks") == 0)
    snprintf(err, errlen, "MaxChunks \"%.32s\": want an integer 1 to %d", v,
             HVKVP_MAX_CHUNKS);
  else
    snprintf(err, errlen, "%s \"%.32s\": want seconds, 0.1 to 3600", key, v);
  return -1;
}

static int rcfg_line(rcfg_t *c, char *line, rcfg_block_t *b, unsigned lineno,
                     char *err, size_t errlen) {
  /* strip comments outside quotes, and trailing blanks */
  int q = 0;
  for (char *p = line; *p; p++) {
    if (*p == '"' && (p == line || p[-1] != '\\'))
      q = !q;
    else if (*p == '#' && !q) {
      *p = '\0';
      break;
    }
  }
  size_t len = strlen(line);
  while (len > 0 && isspace((unsigned char)line[len - 1]))
    line[--len] = '\0';
  const char *p = line;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return 0;
  if (*p == '<')
    return rcfg_block_line(p, b, lineno, err, errlen);
  char key[64], v1[RCFG_PATH_LEN], v2[RCFG_PATH_LEN];
  const char *ks = p;
  while (*p && !isspace((unsigned char)*p))
    p++;
  if ((size_t)(p - ks) >= sizeof(key)) {
    snprintf(err, errlen, "option name too long");
    return -1;
  }
  memcpy(key, ks, (size_t)(p - ks));
  key[p - ks] = '\0';
  if (collectd_word_next(&p, v1, sizeof(v1), err, errlen) < 0)
    return -1;
  if (v1[0] == '\0' && strcmp(key, "Hostname") != 0 &&
      strcmp(key, "Collectors") != 0 && strcmp(key, "LogFile") != 0) {
    snprintf(err, errlen, "%s: missing value", key);
    return -1;
  }
  if (b->name[0] != '\0') {
    if (rcfg_set_cpu(c, key, v1, err, errlen) != 0)
      return -1;
  } else if (strcmp(key, "Exec") == 0) {
    if (collectd_word_next(&p, v2, sizeof(v2), err, errlen) < 0)
      return -1;
    if (v2[0] == '\0') {
      snprintf(err, errlen, "Exec: want Exec \"name\" \"command args\"");
      return -1;
    }
    if (!rcfg_word_ok(v1, HVKVP_NAME_LEN)) {
      snprintf(err, errlen,
               "Exec name \"%.64s\": want characters of [A-Za-z0-9_-]", v1);
      return -1;
    }
    if (c->n_exec == RCFG_MAX_EXEC) {
      snprintf(err, errlen, "Exec: more than %d entries", RCFG_MAX_EXEC);
      return -1;
    }
    for (size_t i = 0; i < c->n_exec; i++) {
      if (strcmp(c->exec[i].name, v1) == 0) {
        snprintf(err, errlen, "Exec \"%.127s\" defined twice", v1);
        return -1;
      }
    }
    rcfg_exec_t *e = &c->exec[c->n_exec];
    char e2[200];
    if (rcfg_split_command(v2, e, e2, sizeof(e2)) != 0) {
      snprintf(err, errlen, "Exec \"%.127s\": %s", v1, e2);
      return -1;
    }
    snprintf(e->name, sizeof(e->name), "%.127s", v1);
    snprintf(e->cmd, sizeof(e->cmd), "%s", v2);
    c->n_exec++;
  } else {
    if (rcfg_set(c, key, v1, err, errlen) != 0)
      return -1;
  }
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p != '\0') {
    snprintf(err, errlen, "%s: unexpected text \"%.32s\" after the value", key,
             p);
    return -1;
  }
  return 0;
}

int rcfg_parse_text(rcfg_t *c, const char *text, const char *name, char *err,
                    size_t errlen) {
  unsigned lineno = 0;
  rcfg_block_t b = {"", 0};
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    lineno++;
    char line[2048];
    char e[400];
    if (n >= sizeof(line)) {
      snprintf(err, errlen, "%s:%u: line longer than %zu bytes", name, lineno,
               sizeof(line) - 1);
      return -1;
    }
    memcpy(line, p, n);
    line[n] = '\0';
    if (rcfg_line(c, line, &b, lineno, e, sizeof(e)) != 0) {
      snprintf(err, errlen, "%s:%u: %s", name, lineno, e);
      return -1;
    }
    p += n;
    if (*p == '\n')
      p++;
  }
  if (b.name[0] != '\0') {
    snprintf(err, errlen, "%s:%u: <Collector %s> is not closed (</Collector>)",
             name, b.line, b.name);
    return -1;
  }
  return 0;
}

int rcfg_check_collectors(const rcfg_t *c, char *err, size_t errlen) {
  char tmp[RCFG_LIST_LEN];
  snprintf(tmp, sizeof(tmp), "%s", c->collectors);
  size_t n;
  const collector_t *t = collectors_platform(&n);
  char *save = NULL;
  for (char *w = strtok_r(tmp, " ,\t", &save); w != NULL;
       w = strtok_r(NULL, " ,\t", &save)) {
    int found = 0;
    for (size_t i = 0; i < n && !found; i++)
      found = strcmp(t[i].name, w) == 0;
    for (size_t i = 0; i < c->n_exec && !found; i++)
      found = strcmp(c->exec[i].name, w) == 0;
    if (!found) {
      snprintf(err, errlen,
               "Collectors: \"%.64s\" is neither a collector of this "
               "platform nor an Exec name",
               w);
      return -1;
    }
  }
  return 0;
}

int rcfg_load_file(rcfg_t *c, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *buf = malloc(RCFG_FILE_MAX + 1);
  if (buf == NULL) {
    fclose(f);
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  size_t n = fread(buf, 1, RCFG_FILE_MAX + 1, f);
  int rd_err = ferror(f);
  fclose(f);
  if (rd_err) {
    free(buf);
    snprintf(err, errlen, "%s: read error", path);
    return -1;
  }
  if (n > RCFG_FILE_MAX) {
    free(buf);
    snprintf(err, errlen, "%s: larger than %d bytes", path, RCFG_FILE_MAX);
    return -1;
  }
  buf[n] = '\0';
  if (strlen(buf) != n) {
    free(buf);
    snprintf(err, errlen, "%s: contains a NUL byte", path);
    return -1;
  }
  int rc = rcfg_parse_text(c, buf, path, err, errlen);
  free(buf);
  return rc;
}
