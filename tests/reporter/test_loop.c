/*
 * test_loop.c - the run loop (loop.c) with a real reporter publishing to a
 * pool store in a temp dir: tick alignment, max_cycles, a stop posted
 * before or between cycles, a reload event calling the hook between ticks
 * (and a refused reload keeping the loop going), events posted from
 * another thread waking the wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "loop.h"
#include "platform.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char dir[64];
  hvkvp_store_t *store;
  reporter_t r;
  int reloads;
  int refuse_reload;
} fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof(*fx));
  snprintf(fx->dir, sizeof(fx->dir), "/tmp/hvkvp-loop-XXXXXX");
  assert_non_null(mkdtemp(fx->dir));
  char err[256];
  fx->store = store_pool_open(fx->dir, err, sizeof(err));
  assert_non_null(fx->store);
  rcfg_t c;
  rcfg_defaults(&c);
  c.interval_ms = 40;
  snprintf(c.collectors, sizeof(c.collectors), "uptime");
  snprintf(c.hostname, sizeof(c.hostname), "loop-test");
  assert_int_equal(reporter_init(&fx->r, &c, fx->store, err, sizeof(err)), 0);
  plat_wait(0); /* forget events a previous test left */
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  reporter_free(&fx->r);
  fx->store->close(fx->store);
  char path[128];
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof(path), "%s/.kvp_pool_%d", fx->dir, i);
    unlink(path);
  }
  rmdir(fx->dir);
  free(fx);
  return 0;
}

static void test_ms_to_tick(void **state) {
  (void)state;
  assert_int_equal(loop_ms_to_tick(0, 1000), 1000);
  assert_int_equal(loop_ms_to_tick(1, 1000), 999);
  assert_int_equal(loop_ms_to_tick(999, 1000), 1);
  assert_int_equal(loop_ms_to_tick(1000, 1000), 1000);
  assert_int_equal(loop_ms_to_tick(1763900012345ULL, 60000), 27655);
  assert_int_equal(loop_ms_to_tick(5, 0), 1); /* never divides by 0 */
}

static void test_max_cycles(void **state) {
  fx_t *fx = *state;
  loop_opts_t o = {.max_cycles = 3};
  char err[256];
  uint64_t t0 = plat_mono_ms();
  assert_int_equal(loop_run(&fx->r, &o, err, sizeof(err)), 0);
  assert_int_equal(fx->r.cycles, 3);
  /* two waits for the next 40 ms tick in between */
  assert_true(plat_mono_ms() - t0 >= 40);
  hvkvp_items_t own;
  assert_int_equal(
      fx->store->read_own(fx->store, "hvkvp", &own, err, sizeof(err)), 0);
  hvkvp_msg_t m;
  hvkvp_head_t h;
  hvkvp_err_t he;
  assert_int_equal(hvkvp_decode(&own, "hvkvp", &m, &h, &he), 0);
  assert_string_equal(m.host, "loop-test");
  assert_int_equal(h.gen, 3);
  hvkvp_msg_free(&m);
  hvkvp_items_free(&own);
}

static void test_stop_posted_before(void **state) {
  fx_t *fx = *state;
  plat_post(PLAT_EV_STOP);
  loop_opts_t o = {0};
  char err[256];
  assert_int_equal(loop_run(&fx->r, &o, err, sizeof(err)), 0);
  assert_int_equal(fx->r.cycles, 1); /* the cycle runs, then it stops */
}

static int count_reload(reporter_t *r, void *arg, char *err, size_t errlen) {
  fx_t *fx = arg;
  (void)r;
  fx->reloads++;
  if (fx->refuse_reload) {
    snprintf(err, errlen, "refused by the test");
    return -1;
  }
  return 0;
}

static void test_reload_between_ticks(void **state) {
  fx_t *fx = *state;
  plat_post(PLAT_EV_RELOAD);
  fx->refuse_reload = 1;
  loop_opts_t o = {.reload = count_reload, .arg = fx, .max_cycles = 2};
  char err[256];
  assert_int_equal(loop_run(&fx->r, &o, err, sizeof(err)), 0);
  assert_int_equal(fx->reloads, 1);
  assert_int_equal(fx->r.cycles, 2); /* a refused reload does not stop it */
}

static void *post_stop_later(void *arg) {
  (void)arg;
  usleep(100 * 1000);
  plat_post(PLAT_EV_STOP);
  return NULL;
}

static void test_stop_from_another_thread(void **state) {
  fx_t *fx = *state;
  fx->r.cfg.interval_ms = 3600000; /* the tick is an hour away */
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, post_stop_later, NULL), 0);
  loop_opts_t o = {0};
  char err[256];
  uint64_t t0 = plat_mono_ms();
  assert_int_equal(loop_run(&fx->r, &o, err, sizeof(err)), 0);
  pthread_join(t, NULL);
  assert_int_equal(fx->r.cycles, 1);
  assert_true(plat_mono_ms() - t0 < 60000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ms_to_tick),
      cmocka_unit_test_setup_teardown(test_max_cycles, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stop_posted_before, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reload_between_ticks, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stop_from_another_thread, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
