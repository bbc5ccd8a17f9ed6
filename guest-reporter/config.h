/*
 * config.h - the reporter's configuration: defaults, the config file
 * ("Key value" lines, '#' comments, a collector's own options in a
 * <Collector NAME> block) and command-line overrides. The host-pushed
 * settings applied on top of them are pushed.h's.
 */
#ifndef HVKVP_RCFG_H
#define HVKVP_RCFG_H

#include "collect.h"
#include "hvkvp.h"

#include <stddef.h>

#define RCFG_MAX_EXEC 16
#define RCFG_MAX_ARGS 32
#define RCFG_PATH_LEN 1024
#define RCFG_LIST_LEN 512
#define RCFG_INTERVAL_MIN 1
#define RCFG_INTERVAL_MAX 3600

typedef struct {
  char name[HVKVP_NAME_LEN];
  char cmd[RCFG_PATH_LEN]; /* as written, for messages */
  size_t argc;
  /* the words, each NUL-terminated, word i at argbuf + argoff[i] (offsets,
   * not pointers: rcfg_t is copied by value) */
  char argbuf[RCFG_PATH_LEN];
  unsigned short argoff[RCFG_MAX_ARGS];
} rcfg_exec_t;

typedef struct {
  double interval;                /* seconds (Interval) */
  unsigned interval_ms;           /* test flag --interval-ms: overrides */
  char prefix[HVKVP_PREFIX_LEN];  /* Prefix */
  char store[RCFG_PATH_LEN];      /* Store pool[:DIR] | registry[:SUB] */
  char collectors[RCFG_LIST_LEN]; /* Collectors: "" = all built-in */
  char hostname[HVKVP_HOST_LEN];  /* Hostname: "" = the system's */
  size_t n_exec;
  rcfg_exec_t exec[RCFG_MAX_EXEC]; /* Exec "name" "cmd args" */
  double exec_timeout;             /* ExecTimeout, seconds */
  char types_db[RCFG_PATH_LEN];    /* TypesDB: extra types.db file */
  hvkvp_enc_t enc;                 /* Encoding z64|json */
  size_t max_chunks;               /* MaxChunks 1..HVKVP_MAX_CHUNKS */
  int include_loopback;            /* IncludeLoopback true|false */
  collect_cpu_opts_t cpu;          /* <Collector cpu> ReportByCpu ... */
  int log_level;                   /* LogLevel error|warning|info|debug */
  char log_file[RCFG_PATH_LEN];    /* LogFile: "" = stderr / syslog */
} rcfg_t;

void rcfg_defaults(rcfg_t *c);
/* Parses a config file's text; name is used in messages. On error returns
 * -1 with err = "name:line: what is wrong" (c may be partly updated). */
int rcfg_parse_text(rcfg_t *c, const char *text, const char *name, char *err,
                    size_t errlen);
/* Reads and parses path. -1 with "path: reason" or "path:line: ..." */
int rcfg_load_file(rcfg_t *c, const char *path, char *err, size_t errlen);
/* Every Collectors word must be a collector of this platform or an Exec
 * name. -1 with err naming the unknown word. */
int rcfg_check_collectors(const rcfg_t *c, char *err, size_t errlen);
/* Applies one setting by its config-file key (also used for flags). */
int rcfg_set(rcfg_t *c, const char *key, const char *value, char *err,
             size_t errlen);
/* Splits a command line into words (whitespace; "..." groups, \ escapes
 * inside quotes). -1 with err on unbalanced quotes or too many words. */
int rcfg_split_command(const char *cmd, rcfg_exec_t *e, char *err,
                       size_t errlen);
/* Word i (< e->argc) of an Exec command. */
const char *rcfg_exec_arg(const rcfg_exec_t *e, size_t i);

#endif
