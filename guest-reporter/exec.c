/*
 * exec.c - Exec entries (exec.h): runs each command through platform.h
 * (timeout, kill) and adds the value lists of its PUTVAL lines (putval.h)
 * to the message. Portable C11.
 */
#include "exec.h"
#include "log.h"
#include "platform.h"
#include "putval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    int r = putval_parse_line(line, m, why, sizeof(why));
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
