/*
 * command_line.c - hvkvp-reporter's command line: flags over the config
 * file, logging and types set up from the config, the store opened, then
 * one cycle (--once / --dry-run) or the run loop (loop.c), detached first
 * unless --foreground. A reload re-reads the file with the same flags.
 * Portable C11 on top of platform.h.
 */
#include "command_line.h"
#include "exec.h"
#include "types_db.h"
#include "log.h"
#include "loop.h"
#include "platform.h"
#include "reporter.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *config;
  int config_given;
  int once, dry_run, foreground, verbose, unpublish;
  const char *interval, *prefix, *store, *root;
  unsigned interval_ms; /* hidden test flag */
  unsigned long cycles; /* hidden test flag: stop after N cycles */
} cli_flags_t;

static void cli_usage(FILE *o) {
  fprintf(o,
          "usage: hvkvp-reporter [options]\n"
          "  --config FILE       config file (default %s)\n"
          "  --once              collect and publish one message, then exit\n"
          "  --dry-run           print one message as JSON, write nothing\n"
          "  --unpublish         remove every item this reporter published\n"
          "  --interval SECONDS  override Interval\n"
          "  --prefix PREFIX     override Prefix\n"
          "  --store SPEC        pool[:DIR] | registry[:Auto|Guest]\n"
          "  --foreground        do not detach; log to stderr or LogFile\n"
          "  -v                  more log output (repeatable)\n"
          "  -h, --help          this text\n",
          plat_default_config_path());
}

static int cli_parse(int argc, char **argv, cli_flags_t *f) {
  memset(f, 0, sizeof(*f));
  f->config = plat_default_config_path();
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **valp = NULL;
    if (strcmp(a, "--config") == 0) {
      valp = &f->config;
      f->config_given = 1;
    } else if (strcmp(a, "--interval") == 0)
      valp = &f->interval;
    else if (strcmp(a, "--prefix") == 0)
      valp = &f->prefix;
    else if (strcmp(a, "--store") == 0)
      valp = &f->store;
    else if (strcmp(a, "--root") == 0)
      valp = &f->root;
    else if (strcmp(a, "--once") == 0)
      f->once = 1;
    else if (strcmp(a, "--dry-run") == 0)
      f->dry_run = 1;
    else if (strcmp(a, "--unpublish") == 0)
      f->unpublish = 1;
    else if (strcmp(a, "--foreground") == 0)
      f->foreground = 1;
    else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
      f->verbose++;
    else if (strcmp(a, "-vv") == 0)
      f->verbose += 2;
    else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      cli_usage(stdout);
      exit(0);
    } else if (strcmp(a, "--interval-ms") == 0 || strcmp(a, "--cycles") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "hvkvp-reporter: %s needs a value\n", a);
        return -1;
      }
      char *end;
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end != '\0' || v == 0 || v > 3600000) {
        fprintf(stderr, "hvkvp-reporter: %s: want a positive integer\n", a);
        return -1;
      }
      if (a[2] == 'i')
        f->interval_ms = (unsigned)v;
      else
        f->cycles = v;
    } else {
      fprintf(stderr, "hvkvp-reporter: unknown argument \"%s\"\n", a);
      cli_usage(stderr);
      return -1;
    }
    if (valp != NULL) {
      if (i + 1 >= argc) {
        fprintf(stderr, "hvkvp-reporter: %s needs a value\n", a);
        return -1;
      }
      *valp = argv[++i];
    }
  }
  return 0;
}

/* File (if any) then flags. -1 with err; "file:line: ..." for the file. */
static int cli_config(const cli_flags_t *f, rcfg_t *c, char *err,
                      size_t errlen) {
  rcfg_defaults(c);
  FILE *probe = fopen(f->config, "r");
  if (probe != NULL || f->config_given) {
    if (probe != NULL)
      fclose(probe);
    if (rcfg_load_file(c, f->config, err, errlen) != 0)
      return -1;
  }
  char e[300];
  if ((f->interval && rcfg_set(c, "Interval", f->interval, e, sizeof(e))) ||
      (f->prefix && rcfg_set(c, "Prefix", f->prefix, e, sizeof(e))) ||
      (f->store && rcfg_set(c, "Store", f->store, e, sizeof(e)))) {
    snprintf(err, errlen, "command line: %s", e);
    return -1;
  }
  c->interval_ms = f->interval_ms;
  if (rcfg_check_collectors(c, e, sizeof(e)) != 0) {
    snprintf(err, errlen, "%s: %s", f->config, e);
    return -1;
  }
  return 0;
}

static hvkvp_store_t *cli_store(const rcfg_t *c, char *err, size_t errlen) {
  char kind[32];
  const char *colon = strchr(c->store, ':');
  size_t kl = colon ? (size_t)(colon - c->store) : strlen(c->store);
  if (kl >= sizeof(kind))
    kl = sizeof(kind) - 1;
  memcpy(kind, c->store, kl);
  kind[kl] = '\0';
  if (strcmp(kind, plat_default_store()) == 0)
    return plat_store_open(colon ? colon + 1 : "", err, errlen);
  snprintf(err, errlen, "store \"%s\" is not available on this platform", kind);
  return NULL;
}

static int cli_apply_logging(const rcfg_t *c, const cli_flags_t *f, char *err,
                             size_t errlen) {
  rlog_set_level(c->log_level + f->verbose);
  if (rlog_set_file(c->log_file, err, errlen) != 0)
    return -1;
  types_db_reset();
  if (c->types_db[0] != '\0' && types_db_load(c->types_db, err, errlen) != 0)
    return -1;
  return 0;
}

/* loop.h reload hook: the file again, with the same flags. */
static int cli_reload(reporter_t *r, void *arg, char *err, size_t errlen) {
  const cli_flags_t *f = arg;
  rcfg_t ncfg;
  if (cli_config(f, &ncfg, err, errlen) != 0 ||
      cli_apply_logging(&ncfg, f, err, errlen) != 0)
    return -1;
  if (strcmp(ncfg.store, r->cfg.store) != 0)
    rlog_warning("reload: Store changes need a restart (still %s)",
                 r->cfg.store);
  snprintf(ncfg.store, sizeof(ncfg.store), "%s", r->cfg.store);
  return reporter_reconfigure(r, &ncfg, err, errlen);
}

/* --unpublish: removes what the reporter published (PREFIX.* in the store)
 * and exits: 0 done (also when there was nothing), 1 failed. */
static int cli_unpublish(hvkvp_store_t *store, const rcfg_t *cfg,
                         const char *open_err) {
  if (store == NULL) {
    rlog_error("%s", open_err);
    return 1;
  }
  char err[512];
  int rc = 0;
  if (store->unpublish == NULL) {
    rlog_error("--unpublish: the %s store cannot remove its items",
               store->kind);
    rc = 1;
  } else if (store->unpublish(store, cfg->prefix, err, sizeof(err)) != 0) {
    rlog_error("--unpublish: %s", err);
    rc = 1;
  } else {
    rlog_info("removed the %s.* items from store %s", cfg->prefix, cfg->store);
  }
  store->close(store);
  return rc;
}

/* Detaches (unless --foreground); the config path is made absolute first so
 * that reloads after the daemon's chdir("/") find the same file. */
static int cli_detach(cli_flags_t *f, const rcfg_t *cfg, char *err,
                      size_t errlen) {
  static char abs_config[4096];
  if (f->foreground)
    return 0;
  if (plat_absolute_path(f->config, abs_config, sizeof(abs_config)) == 0)
    f->config = abs_config;
  if (plat_daemonize(err, errlen) != 0)
    return -1;
  if (cfg->log_file[0] == '\0') {
    plat_syslog_open("hvkvp-reporter");
    rlog_set_sink(plat_syslog_write);
  }
  return 0;
}

/* One cycle or the loop; the exit code. */
static int cli_run(reporter_t *r, cli_flags_t *f, char *err, size_t errlen) {
  if (f->once || f->dry_run) {
    if (reporter_cycle(r, f->dry_run ? stdout : NULL, err, errlen) != 0) {
      rlog_error("%s", err);
      return 1;
    }
    return 0;
  }
  if (cli_detach(f, &r->cfg, err, errlen) != 0) {
    rlog_error("cannot run as a daemon: %s", err);
    return 1;
  }
  loop_opts_t lo = {.reload = cli_reload, .arg = f, .max_cycles = f->cycles};
  if (loop_run(r, &lo, err, errlen) != 0) {
    rlog_error("%s", err);
    return 1;
  }
  return 0;
}

int command_line_run(int argc, char **argv) {
  cli_flags_t f;
  if (cli_parse(argc, argv, &f) != 0)
    return 2;
  rcfg_t cfg;
  char err[512];
  if (cli_config(&f, &cfg, err, sizeof(err)) != 0 ||
      cli_apply_logging(&cfg, &f, err, sizeof(err)) != 0) {
    fprintf(stderr, "hvkvp-reporter: %s\n", err);
    return 2;
  }
  hvkvp_store_t *store = cli_store(&cfg, err, sizeof(err));
  if (f.unpublish)
    return cli_unpublish(store, &cfg, err);
  if (store == NULL) {
    if (!f.dry_run) {
      rlog_error("%s", err);
      return 1;
    }
    rlog_debug("dry run without a store: %s", err);
  }
  reporter_t r;
  int rc = 1;
  if (reporter_init(&r, &cfg, store, err, sizeof(err)) != 0) {
    rlog_error("%s", err);
  } else {
    if (f.root != NULL)
      r.root = f.root;
    rc = cli_run(&r, &f, err, sizeof(err));
    reporter_free(&r);
  }
  if (store != NULL)
    store->close(store);
  rlog_close();
  plat_syslog_close();
  return rc;
}
