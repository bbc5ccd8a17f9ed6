/*
 * test_nomem.c - allocation failure injection: every malloc/realloc the
 * protocol library makes (linked with -Wl,--wrap=malloc,--wrap=realloc)
 * is failed in turn during encode, decode and JSON parsing; each failure
 * must surface as HVKVP_E_NOMEM (or -1 where documented), leave outputs
 * empty and leak nothing (checked when run under ASan).
 */
#include "tp_util.h"

#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);

static long countdown = -1; /* fail when it reaches 0; -1 = never */
static long calls;

static int should_fail(void) {
  calls++;
  if (countdown < 0)
    return 0;
  return countdown-- == 0;
}

void *__wrap_malloc(size_t n) {
  return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n) {
  return should_fail() ? NULL : __real_realloc(p, n);
}

static void arm(long k) {
  countdown = k;
  calls = 0;
}

static void disarm(void) {
  countdown = -1;
}

static void t_decode_nomem(void **state) {
  hvkvp_items_t store;
  hvkvp_msg_t m, back;
  hvkvp_err_t err;
  long k;
  int rc, failures = 0;
  tp_make_msg(&m, 150);
  hvkvp_items_init(&store);
  tp_publish(&store, &m, 1, 1, HVKVP_ENC_Z64, NULL);
  for (k = 0;; k++) {
    arm(k);
    rc = hvkvp_decode(&store, NULL, &back, NULL, &err);
    disarm();
    if (rc == 0)
      break;
    assert_int_equal(rc, HVKVP_E_NOMEM);
    assert_int_equal(back.n_vls, 0);
    assert_null(back.vls);
    assert_true(strlen(err.detail) > 0);
    failures++;
  }
  assert_true(failures >= 3); /* text, base64, inflate, value lists */
  tp_assert_msg_equal(&m, &back);
  hvkvp_msg_free(&back);
  hvkvp_items_free(&store);
  hvkvp_msg_free(&m);
}

static void t_encode_nomem(void **state) {
  hvkvp_items_t store;
  hvkvp_msg_t m;
  hvkvp_frame_t f;
  hvkvp_err_t err;
  hvkvp_encode_opts_t o = {NULL, HVKVP_ENC_Z64, 1, 2, 0};
  long k;
  int rc, failures = 0;
  tp_make_msg(&m, 150);
  hvkvp_items_init(&store);
  tp_publish(&store, &m, 1, 1, HVKVP_ENC_Z64, NULL);
  hvkvp_items_set(&store, "hvkvp.junk", "x"); /* gives a del entry */
  for (k = 0;; k++) {
    arm(k);
    rc = hvkvp_encode(&m, &o, &store, &f, &err);
    disarm();
    if (rc == 0)
      break;
    assert_int_equal(rc, HVKVP_E_NOMEM);
    assert_int_equal(f.put.n, 0);
    assert_int_equal(f.n_del, 0);
    failures++;
  }
  assert_true(failures >= 4);
  assert_int_equal(f.n_del, 1);
  hvkvp_frame_free(&f);
  /* the trimming path (bisection) too */
  o.max_chunks = 1;
  o.gen = 3;
  failures = 0;
  for (k = 0;; k++) {
    arm(k);
    rc = hvkvp_encode(&m, &o, &store, &f, &err);
    disarm();
    if (rc == 0)
      break;
    assert_int_equal(rc, HVKVP_E_NOMEM);
    failures++;
  }
  assert_true(f.trimmed > 0);
  assert_true(failures >= 4);
  hvkvp_frame_free(&f);
  hvkvp_items_free(&store);
  hvkvp_msg_free(&m);
}

static void t_json_and_items_nomem(void **state) {
  hvkvp_msg_t m, back;
  hvkvp_items_t it;
  hvkvp_err_t err;
  char *json = NULL;
  size_t len;
  long k;
  int rc, failures = 0;
  tp_make_msg(&m, 40);
  for (k = 0;; k++) {
    arm(k);
    rc = hvkvp_msg_to_json(&m, &json, &len);
    disarm();
    if (rc == 0)
      break;
    assert_int_equal(rc, HVKVP_E_NOMEM);
    failures++;
  }
  assert_true(failures >= 1);
  failures = 0;
  for (k = 0;; k++) {
    arm(k);
    rc = hvkvp_msg_from_json(json, len, &back, &err);
    disarm();
    if (rc == 0)
      break;
    assert_int_equal(rc, HVKVP_E_NOMEM);
    assert_null(back.vls);
    failures++;
  }
  assert_true(failures >= 2);
  hvkvp_msg_free(&back);
  free(json);
  hvkvp_items_init(&it);
  for (k = 0; k < 3; k++) {
    arm(k);
    rc = hvkvp_items_set(&it, "key", "value");
    disarm();
    assert_int_equal(rc, -1);
    assert_int_equal(it.n, 0);
  }
  arm(3);
  assert_int_equal(hvkvp_items_set(&it, "key", "value"), 0);
  disarm();
  hvkvp_items_free(&it);
  hvkvp_msg_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_decode_nomem),
      cmocka_unit_test(t_encode_nomem),
      cmocka_unit_test(t_json_and_items_nomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
