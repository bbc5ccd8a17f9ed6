/*
 * exec.c - Exec entries (exec.h): runs each command through platform.h
 * (two pipes, timeout, kill), adds the value lists of its PUTVAL lines
 * (putval.h) to the message, and keeps what a script can do to the log
 * bounded: one warning per run for its bad output lines (with a count),
 * and its stderr read up to REXEC_MAX_STDERR bytes and logged at most
 * REXEC_STDERR_RUN lines a run and REXEC_STDERR_WINDOW lines per window.
 * Portable C11.
 */
#include "exec.h"
#include "log.h"
#include "platform.h"
#include "putval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one run wrote: stdout up to REXEC_MAX_OUTPUT and stderr up to
 * REXEC_MAX_STDERR bytes; the rest is read and counted, not kept. */
typedef struct {
  char *out;
  size_t outlen, out_dropped;
  char errbuf[REXEC_MAX_STDERR + 1];
  size_t errlen, err_dropped;
} rexec_output_t;

static void rexec_keep(char *dst, size_t max, size_t *len, size_t *dropped,
                       const char *src, size_t n) {
  size_t take = n <= max - *len ? n : max - *len;
  memcpy(dst + *len, src, take);
  *len += take;
  *dropped += n - take;
}

/* Reads both pipes until they end or the deadline passes. */
static void rexec_read(plat_proc_t *p, uint64_t deadline, rexec_output_t *o) {
  char tmp[4096];
  for (;;) {
    uint64_t now = plat_mono_ms();
    if (now >= deadline)
      return;
    int stream = 0;
    long n = plat_proc_read(p, deadline - now, &stream, tmp, sizeof(tmp));
    if (n < 0)
      return;
    if (n > 0 && stream == 1)
      rexec_keep(o->out, REXEC_MAX_OUTPUT, &o->outlen, &o->out_dropped, tmp,
                 (size_t)n);
    else if (n > 0)
      rexec_keep(o->errbuf, REXEC_MAX_STDERR, &o->errlen, &o->err_dropped, tmp,
                 (size_t)n);
  }
}

/* Parses the PUTVAL lines of out into m; one warning for all bad lines. */
static int rexec_parse(const rcfg_exec_t *e, rexec_output_t *o,
                       hvkvp_msg_t *m) {
  unsigned lineno = 0, bad = 0, first_bad = 0;
  char first_why[200] = "";
  size_t before = m->n_vls;
  char *save = NULL;
  for (char *line = strtok_r(o->out, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    size_t l = strlen(line);
    if (l > 0 && line[l - 1] == '\r')
      line[l - 1] = '\0';
    char why[200];
    if (putval_parse_line(line, m, why, sizeof(why)) < 0 && bad++ == 0) {
      first_bad = lineno;
      snprintf(first_why, sizeof(first_why), "%s", why);
    }
  }
  char cut[80] = "";
  if (o->out_dropped > 0)
    snprintf(cut, sizeof(cut), "; output over %d bytes, %zu bytes ignored",
             REXEC_MAX_OUTPUT, o->out_dropped);
  if (bad > 0)
    rlog_warning("Exec %s: %u of %u output lines skipped (first: line %u: "
                 "%s)%s",
                 e->name, bad, lineno, first_bad, first_why, cut);
  else if (cut[0] != '\0')
    rlog_warning("Exec %s: %s", e->name, cut + 2);
  return (int)(m->n_vls - before);
}

/* Logs the stderr lines of one run within the budgets of st. */
static void rexec_log_stderr(const rcfg_exec_t *e, rexec_output_t *o,
                             rexec_state_t *st) {
  uint64_t now = plat_mono_ms();
  if (st->window_ms == 0 || now - st->window_ms >= REXEC_STDERR_WINDOW_MS) {
    st->window_ms = now;
    st->lines = 0;
  }
  o->errbuf[o->errlen] = '\0';
  unsigned logged = 0;
  char *save = NULL;
  for (char *line = strtok_r(o->errbuf, "\r\n", &save); line != NULL;
       line = strtok_r(NULL, "\r\n", &save)) {
    if (logged < REXEC_STDERR_RUN && st->lines < REXEC_STDERR_WINDOW) {
      rlog_warning("Exec %s stderr: %.200s", e->name, line);
      logged++;
      st->lines++;
    } else {
      st->held++;
    }
  }
  if (o->err_dropped > 0)
    st->held++; /* at least one more line in the bytes not kept */
  if (logged > 0 && st->held > 0) {
    rlog_warning("Exec %s: %lu%s more stderr lines not logged (at most %d a "
                 "run, %d in %d minutes)",
                 e->name, st->held, o->err_dropped > 0 ? "+" : "",
                 REXEC_STDERR_RUN, REXEC_STDERR_WINDOW,
                 REXEC_STDERR_WINDOW_MS / 60000);
    st->held = 0;
  }
}

/* The run's end as an error, or 0 when it exited with status 0. */
static int rexec_result(const rcfg_exec_t *e, const plat_exec_result_t *res,
                        double timeout, char *err, size_t errlen) {
  if (res->timed_out)
    snprintf(err, errlen, "Exec %s: still running after %.1f s: killed",
             e->name, timeout);
  else if (!res->exited)
    snprintf(err, errlen, "Exec %s: ended by signal %d", e->name,
             res->killed_by);
  else if (res->exit_code != 0)
    snprintf(err, errlen, "Exec %s: exit status %d", e->name, res->exit_code);
  else
    return 0;
  return -1;
}

int rexec_run(const rcfg_exec_t *e, double timeout, rexec_state_t *st,
              hvkvp_msg_t *m, char *err, size_t errlen) {
  char *argv[RCFG_MAX_ARGS + 1];
  for (size_t i = 0; i < e->argc; i++)
    argv[i] = (char *)rcfg_exec_arg(e, i);
  argv[e->argc] = NULL;
  rexec_output_t *o = calloc(1, sizeof(*o));
  char *out = malloc(REXEC_MAX_OUTPUT + 1);
  char e2[256];
  plat_proc_t *p = NULL;
  if (o == NULL || out == NULL)
    snprintf(e2, sizeof(e2), "out of memory");
  else
    p = plat_proc_start(argv, e2, sizeof(e2));
  if (p == NULL) {
    snprintf(err, errlen, "Exec %s: %s", e->name, e2);
    free(out);
    free(o);
    return -1;
  }
  o->out = out;
  uint64_t deadline = plat_mono_ms() + (uint64_t)(timeout * 1000);
  rexec_read(p, deadline, o);
  uint64_t now = plat_mono_ms();
  plat_exec_result_t res;
  plat_proc_finish(p, now < deadline ? deadline - now : 0, &res);
  out[o->outlen] = '\0';
  int added = rexec_parse(e, o, m);
  if (st != NULL)
    rexec_log_stderr(e, o, st);
  free(out);
  free(o);
  return rexec_result(e, &res, timeout, err, errlen) != 0 ? -1 : added;
}
