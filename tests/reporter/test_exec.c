/*
 * test_exec.c - Exec entries: the PUTVAL parser (a table of good and bad
 * lines with the reason), TypesDB loading, and real commands run through
 * plat_exec: good lines kept and bad ones skipped, a hung command (and its
 * background child) killed at the timeout, a missing program reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exec.h"
#include "putval.h"
#include "types_db.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_putval_good(void **state) {
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  char err[256] = "";
  assert_int_equal(
      putval_parse_line("PUTVAL \"vm1/app-web01/gauge-queue\" N:12.5", &m, err,
                        sizeof(err)),
      1);
  assert_int_equal(
      putval_parse_line("PUTVAL vm1/nginx/if_octets interval=10 1700000000:100:"
                        "200",
                        &m, err, sizeof(err)),
      1);
  assert_int_equal(putval_parse_line("putval \"h/p-i-with-dash/derive\" N:-5",
                                     &m, err, sizeof(err)),
                   1);
  assert_int_equal(
      putval_parse_line("PUTVAL h/p/temperature-cpu N:U", &m, err, sizeof(err)),
      1);
  assert_int_equal(putval_parse_line("PUTVAL h/p/load N:1:2:3 N:4:5:6", &m, err,
                                     sizeof(err)),
                   1);
  assert_int_equal(putval_parse_line("   ", &m, err, sizeof(err)), 0);
  assert_int_equal(m.n_vls, 6);
  const hvkvp_vl_t *v = &m.vls[0];
  assert_string_equal(v->plugin, "app");
  assert_string_equal(v->plugin_instance, "web01");
  assert_string_equal(v->type, "gauge");
  assert_string_equal(v->type_instance, "queue");
  assert_int_equal(v->n, 1);
  assert_string_equal(v->dsnames[0], "value");
  assert_int_equal(v->dstypes[0], HVKVP_DS_GAUGE);
  assert_true(v->values[0].gauge == 12.5);
  v = &m.vls[1];
  assert_string_equal(v->plugin, "nginx");
  assert_string_equal(v->plugin_instance, "");
  assert_string_equal(v->type, "if_octets");
  assert_int_equal(v->n, 2);
  assert_string_equal(v->dsnames[0], "rx");
  assert_string_equal(v->dsnames[1], "tx");
  assert_int_equal(v->dstypes[1], HVKVP_DS_DERIVE);
  assert_int_equal(v->values[0].derive, 100);
  assert_int_equal(v->values[1].derive, 200);
  v = &m.vls[2];
  assert_string_equal(v->plugin_instance, "i-with-dash");
  assert_int_equal(v->values[0].derive, -5);
  assert_true(isnan(m.vls[3].values[0].gauge));
  assert_string_equal(m.vls[3].type_instance, "cpu");
  assert_true(m.vls[5].values[2].gauge == 6);
  hvkvp_msg_free(&m);
}

static void test_putval_bad(void **state) {
  static const struct {
    const char *line, *why;
  } cases[] = {
      {"PUTNOTIF severity=okay message=x", "unknown command \"PUTNOTIF\""},
      {"PUTVAL", "PUTVAL without an identifier"},
      {"PUTVAL h/p/gauge", "PUTVAL without values"},
      {"PUTVAL h/p N:1", "identifier \"h/p\": want host/plugin"},
      {"PUTVAL h/p/gauge/x N:1", "identifier \"h/p/gauge/x\""},
      {"PUTVAL h//gauge N:1", "empty plugin name"},
      {"PUTVAL h/p/nosuchtype N:1",
       "unknown type \"nosuchtype\" (add it with TypesDB)"},
      {"PUTVAL h/p/gauge N:abc", "value 1 \"abc\" is not a valid gauge"},
      {"PUTVAL h/p/derive N:1.5", "value 1 \"1.5\" is not a valid derive"},
      {"PUTVAL h/p/counter N:-1", "value 1 \"-1\" is not a valid counter"},
      {"PUTVAL h/p/if_octets N:1", "type if_octets has 2 data sources, got 1"},
      {"PUTVAL h/p/gauge N:1:2", "type gauge has 1 data sources, got more"},
      {"PUTVAL h/p/gauge x:1", "value list \"x:1\": want N:value"},
      {"PUTVAL h/p/gauge foo=1 N:1", "unknown option \"foo=1\""},
      {"PUTVAL h/p/gauge interval=abc N:1", "option \"interval=abc\""},
      {"PUTVAL h/p/gauge N:1 interval=5", "option \"interval=5\" after"},
      {"PUTVAL \"h/p/gauge N:1", "missing closing '\"'"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    hvkvp_msg_t m;
    hvkvp_msg_init(&m);
    char err[256] = "";
    if (putval_parse_line(cases[i].line, &m, err, sizeof(err)) != -1)
      fail_msg("accepted: %s", cases[i].line);
    if (strncmp(err, cases[i].why, strlen(cases[i].why)) != 0)
      fail_msg("%s: got \"%s\", want \"%s\"", cases[i].line, err, cases[i].why);
    assert_int_equal(m.n_vls, 0); /* a bad line adds nothing */
    hvkvp_msg_free(&m);
  }
  /* over-long plugin name */
  char line[400];
  char big[200];
  memset(big, 'p', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  snprintf(line, sizeof(line), "PUTVAL h/%s/gauge N:1", big);
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  char err[256];
  assert_int_equal(putval_parse_line(line, &m, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "longer than 127 bytes"));
  hvkvp_msg_free(&m);
}

static char *write_temp(const char *text, const char *mode_exec) {
  char *path = strdup("/tmp/hvkvp-exec-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  if (mode_exec)
    fchmod(fd, 0755);
  close(fd);
  return path;
}

static void test_typesdb(void **state) {
  char *p = write_temp("# my types\n"
                       "mytype  a:GAUGE:0:U, b:COUNTER:0:U\n"
                       "\n"
                       "gauge   over:DERIVE:U:U\n",
                       NULL);
  char err[256] = "";
  if (types_db_load(p, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  assert_int_equal(
      putval_parse_line("PUTVAL h/p/mytype N:1.5:7", &m, err, sizeof(err)), 1);
  assert_string_equal(m.vls[0].dsnames[1], "b");
  assert_int_equal(m.vls[0].dstypes[1], HVKVP_DS_COUNTER);
  assert_int_equal(m.vls[0].values[1].counter, 7);
  /* a later definition wins over the built-in one */
  assert_int_equal(
      putval_parse_line("PUTVAL h/p/gauge N:3", &m, err, sizeof(err)), 1);
  assert_string_equal(m.vls[1].dsnames[0], "over");
  hvkvp_msg_free(&m);
  types_db_reset();
  hvkvp_msg_init(&m);
  assert_int_equal(
      putval_parse_line("PUTVAL h/p/mytype N:1.5:7", &m, err, sizeof(err)), -1);
  hvkvp_msg_free(&m);
  unlink(p);
  free(p);

  p = write_temp("good value:GAUGE:0:U\nbad value:FLOAT:0:U\n", NULL);
  assert_int_equal(types_db_load(p, err, sizeof(err)), -1);
  char want[128];
  snprintf(want, sizeof(want), "%s:2: bad: unknown data source type \"FLOAT\"",
           p);
  assert_string_equal(err, want);
  types_db_reset();
  unlink(p);
  free(p);
  assert_int_equal(types_db_load("/nonexistent/types.db", err, sizeof(err)),
                   -1);
  assert_string_equal(err, "TypesDB /nonexistent/types.db: No such file or "
                           "directory");
}

static void exec_entry(rcfg_exec_t *e, const char *name, const char *cmd) {
  memset(e, 0, sizeof(*e));
  snprintf(e->name, sizeof(e->name), "%s", name);
  char err[128];
  assert_int_equal(rcfg_split_command(cmd, e, err, sizeof(err)), 0);
}

static void test_run_good_and_bad_lines(void **state) {
  char *script = write_temp("#!/bin/sh\n"
                            "echo 'PUTVAL \"me/app-x/gauge-depth\" N:42'\n"
                            "echo 'this is not putval'\n"
                            "echo 'PUTVAL me/app/if_octets N:1'\n"
                            "echo 'PUTVAL me/app/derive-total N:99'\n",
                            "x");
  rcfg_exec_t e;
  exec_entry(&e, "s1", script);
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  char err[256] = "";
  assert_int_equal(rexec_run(&e, 5, NULL, &m, err, sizeof(err)), 2);
  assert_int_equal(m.n_vls, 2);
  assert_string_equal(m.vls[0].type_instance, "depth");
  assert_true(m.vls[0].values[0].gauge == 42);
  assert_int_equal(m.vls[1].values[0].derive, 99);
  hvkvp_msg_free(&m);
  unlink(script);
  free(script);
}

static void test_run_failures(void **state) {
  rcfg_exec_t e;
  hvkvp_msg_t m;
  char err[256] = "";
  /* a command that prints a value, then hangs with a background child
   * holding stdout: killed at the timeout, the value kept */
  exec_entry(&e, "hang",
             "/bin/sh -c \"echo 'PUTVAL h/p/gauge N:1'; sleep 30 & sleep 30\"");
  hvkvp_msg_init(&m);
  assert_int_equal(rexec_run(&e, 0.3, NULL, &m, err, sizeof(err)), -1);
  assert_string_equal(err, "Exec hang: still running after 0.3 s: killed");
  assert_int_equal(m.n_vls, 1);
  hvkvp_msg_free(&m);

  exec_entry(&e, "missing", "/nonexistent/program arg");
  hvkvp_msg_init(&m);
  assert_int_equal(rexec_run(&e, 5, NULL, &m, err, sizeof(err)), -1);
  assert_string_equal(err, "Exec missing: cannot run /nonexistent/program: "
                           "No such file or directory");
  hvkvp_msg_free(&m);

  exec_entry(&e, "fails", "/bin/sh -c \"exit 3\"");
  hvkvp_msg_init(&m);
  assert_int_equal(rexec_run(&e, 5, NULL, &m, err, sizeof(err)), -1);
  assert_string_equal(err, "Exec fails: exit status 3");
  hvkvp_msg_free(&m);
}

/* ---- what a script can do to the log ---- */

static char log_lines[64][1100];
static size_t n_log;

static void capture(int level, const char *msg) {
  (void)level;
  if (n_log < sizeof(log_lines) / sizeof(log_lines[0]))
    snprintf(log_lines[n_log], sizeof(log_lines[0]), "%s", msg);
  n_log++;
}

static size_t logged_with(const char *text) {
  size_t n = 0;
  for (size_t i = 0; i < n_log && i < 64; i++)
    n += strstr(log_lines[i], text) != NULL;
  return n;
}

static void test_bad_output_one_warning(void **state) {
  char *script = write_temp("#!/bin/sh\n"
                            "i=0\n"
                            "while [ $i -lt 500 ]; do\n"
                            "  echo \"garbage line $i\"; i=$((i+1))\n"
                            "done\n"
                            "echo 'PUTVAL me/app/gauge-a N:1'\n"
                            "echo 'PUTVAL me/app/nosuchtype N:1'\n"
                            "echo 'PUTVAL me/app/gauge-b N:2'\n",
                            "x");
  rcfg_exec_t e;
  exec_entry(&e, "noisy", script);
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  char err[256] = "";
  rexec_state_t st;
  memset(&st, 0, sizeof(st));
  n_log = 0;
  rlog_set_level(RLOG_DEBUG);
  rlog_set_sink(capture);
  assert_int_equal(rexec_run(&e, 5, &st, &m, err, sizeof(err)), 2);
  rlog_set_sink(NULL);
  rlog_set_level(RLOG_ERROR);
  assert_int_equal(n_log, 1);
  assert_string_equal(log_lines[0],
                      "Exec noisy: 501 of 503 output lines skipped (first: "
                      "line 1: unknown command \"garbage\" (only PUTVAL))");
  hvkvp_msg_free(&m);
  unlink(script);
  free(script);
}

static void test_stderr_bounded_and_rate_limited(void **state) {
  /* 2000 lines (~60 KB) on stderr: more than a pipe holds, so a reporter
   * that did not read stderr would block the script until the timeout */
  char *script = write_temp("#!/bin/sh\n"
                            "i=0\n"
                            "while [ $i -lt 2000 ]; do\n"
                            "  echo \"complaint number $i of many\" >&2\n"
                            "  i=$((i+1))\n"
                            "done\n"
                            "echo 'PUTVAL me/app/gauge-ok N:7'\n",
                            "x");
  rcfg_exec_t e;
  exec_entry(&e, "loud", script);
  char err[256] = "";
  rexec_state_t st;
  memset(&st, 0, sizeof(st));
  size_t per_run[5];
  rlog_set_level(RLOG_DEBUG);
  for (int run = 0; run < 5; run++) {
    hvkvp_msg_t m;
    hvkvp_msg_init(&m);
    n_log = 0;
    rlog_set_sink(capture);
    assert_int_equal(rexec_run(&e, 20, &st, &m, err, sizeof(err)), 1);
    rlog_set_sink(NULL);
    assert_true(m.vls[0].values[0].gauge == 7);
    hvkvp_msg_free(&m);
    per_run[run] = logged_with("Exec loud stderr: ");
    assert_true(n_log <= REXEC_STDERR_RUN + 1);
    if (run == 0) {
      assert_string_equal(log_lines[0],
                          "Exec loud stderr: complaint number 0 of many");
      assert_int_equal(logged_with("more stderr lines not logged"), 1);
    }
  }
  rlog_set_level(RLOG_ERROR);
  /* 3 + 3 + 3 + 1 + 0: the window's budget of 10 lines */
  assert_int_equal(per_run[0] + per_run[1] + per_run[2] + per_run[3] +
                       per_run[4],
                   REXEC_STDERR_WINDOW);
  assert_int_equal(per_run[4], 0);
  /* a new window: logged again */
  st.window_ms -= REXEC_STDERR_WINDOW_MS;
  hvkvp_msg_t m;
  hvkvp_msg_init(&m);
  n_log = 0;
  rlog_set_sink(capture);
  rlog_set_level(RLOG_DEBUG);
  assert_int_equal(rexec_run(&e, 20, &st, &m, err, sizeof(err)), 1);
  rlog_set_sink(NULL);
  rlog_set_level(RLOG_ERROR);
  assert_int_equal(logged_with("Exec loud stderr: "), REXEC_STDERR_RUN);
  hvkvp_msg_free(&m);
  unlink(script);
  free(script);
}

int main(void) {
  rlog_set_level(RLOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_putval_good),
      cmocka_unit_test(test_putval_bad),
      cmocka_unit_test(test_typesdb),
      cmocka_unit_test(test_run_good_and_bad_lines),
      cmocka_unit_test(test_run_failures),
      cmocka_unit_test(test_bad_output_one_warning),
      cmocka_unit_test(test_stderr_bounded_and_rate_limited),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
