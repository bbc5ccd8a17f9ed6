/*
 * cli.c - hvkvp-reporter's command line and main loop: flags over the config
 * file, opening the store, --once / --dry-run, and the interval loop
 * (aligned to the interval, SIGTERM/SIGINT stop, SIGHUP reloads the config
 * file). Portable C11 on top of platform.h.
 */
#include "cli.h"
#include "exec.h"
#include "log.h"
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
  const char *arg = colon ? colon + 1 : "";
  /* The one platform choice outside the platform files: which stores this
   * build has (store_pool.c on Linux, store_registry_windows.c on Windows). */
#ifdef _WIN32
  if (strcmp(kind, "registry") == 0)
    return store_registry_open(arg, err, errlen);
#else
  if (strcmp(kind, "pool") == 0)
    return store_pool_open(arg, err, errlen);
#endif
  snprintf(err, errlen, "store \"%s\" is not available on this platform", kind);
  return NULL;
}

static int cli_apply_logging(const rcfg_t *c, const cli_flags_t *f, char *err,
                             size_t errlen) {
  rlog_set_level(c->log_level + f->verbose);
  if (rlog_set_file(c->log_file, err, errlen) != 0)
    return -1;
  rexec_types_reset();
  if (c->types_db[0] != '\0' && rexec_types_load(c->types_db, err, errlen) != 0)
    return -1;
  return 0;
}

static uint64_t cli_next_deadline(uint64_t interval_ms) {
  /* Align to the interval on the wall clock; sleep on the monotonic one. */
  double now = plat_wall_time();
  uint64_t now_ms = (uint64_t)(now * 1000.0);
  uint64_t next = (now_ms / interval_ms + 1) * interval_ms;
  return plat_mono_ms() + (next - now_ms);
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

int reporter_cli_main(int argc, char **argv) {
  cli_flags_t f;
  if (cli_parse(argc, argv, &f) != 0)
    return 2;
  rcfg_t cfg;
  char err[512];
  if (cli_config(&f, &cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "hvkvp-reporter: %s\n", err);
    return 2;
  }
  if (cli_apply_logging(&cfg, &f, err, sizeof(err)) != 0) {
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
  if (reporter_init(&r, &cfg, store, err, sizeof(err)) != 0) {
    rlog_error("%s", err);
    if (store)
      store->close(store);
    return 1;
  }
  if (f.root != NULL)
    r.root = f.root;
  int rc = 0;
  if (f.once || f.dry_run) {
    if (reporter_cycle(&r, f.dry_run ? stdout : NULL, err, sizeof(err)) != 0) {
      rlog_error("%s", err);
      rc = 1;
    }
    goto out;
  }
  if (!f.foreground) {
#ifndef _WIN32 /* (Windows has no daemon mode: plat_daemonize fails) */
    /* reloads after the daemon's chdir("/") must find the same file */
    static char abs_config[4096];
    char *abs = realpath(f.config, NULL);
    if (abs != NULL) {
      snprintf(abs_config, sizeof(abs_config), "%s", abs);
      f.config = abs_config;
      free(abs);
    }
#endif
    if (plat_daemonize(err, sizeof(err)) != 0) {
      rlog_error("cannot run as a daemon: %s", err);
      rc = 1;
      goto out;
    }
    if (cfg.log_file[0] == '\0')
      rlog_use_syslog(1);
  }
  if (plat_events_init(err, sizeof(err)) != 0) {
    rlog_error("%s", err);
    rc = 1;
    goto out;
  }
  rlog_info("started: store %s, prefix %s, interval %.3f s, epoch %016llx, "
            "gen %llu",
            cfg.store, cfg.prefix, (double)reporter_interval_ms(&r) / 1000.0,
            (unsigned long long)r.epoch, (unsigned long long)r.gen);
  for (;;) {
    if (reporter_cycle(&r, NULL, err, sizeof(err)) != 0)
      rlog_error("cycle failed: %s", err);
    if (f.cycles > 0 && r.cycles >= f.cycles)
      break;
    plat_event_t ev;
    uint64_t deadline = cli_next_deadline(reporter_interval_ms(&r));
    while ((ev = plat_wait_until(deadline)) == PLAT_EV_RELOAD) {
      rcfg_t ncfg;
      if (cli_config(&f, &ncfg, err, sizeof(err)) != 0 ||
          cli_apply_logging(&ncfg, &f, err, sizeof(err)) != 0) {
        rlog_error("reload refused, keeping the running config: %s", err);
        continue;
      }
      if (strcmp(ncfg.store, cfg.store) != 0)
        rlog_warning("reload: Store changes need a restart (still %s)",
                     cfg.store);
      snprintf(ncfg.store, sizeof(ncfg.store), "%s", cfg.store);
      reporter_reconfigure(&r, &ncfg, err, sizeof(err));
      cfg = ncfg;
      rlog_info("config reloaded");
      deadline = cli_next_deadline(reporter_interval_ms(&r));
    }
    if (ev == PLAT_EV_STOP)
      break;
  }
  rlog_info("stopping after %u cycles", r.cycles);
out:
  reporter_free(&r);
  if (store != NULL)
    store->close(store);
  rlog_close();
  return rc;
}
