/*
 * test_store_pool.c - the pool-file store (store_pool.c) on a temp dir:
 * publish/read round trip through the real encoder and decoder, foreign
 * records kept byte-for-byte at their offsets, partial trailing record,
 * garbage after the NUL, records without a NUL, own-record bound, stale
 * deletion, pool 0 config reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC 2560

typedef struct {
  char dir[64];
  char pool1[96];
  char pool0[96];
  hvkvp_store_t *s;
} fx_t;

static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof(*fx));
  snprintf(fx->dir, sizeof(fx->dir), "/tmp/hvkvp-pool-XXXXXX");
  assert_non_null(mkdtemp(fx->dir));
  snprintf(fx->pool1, sizeof(fx->pool1), "%s/.kvp_pool_1", fx->dir);
  snprintf(fx->pool0, sizeof(fx->pool0), "%s/.kvp_pool_0", fx->dir);
  char err[256];
  fx->s = store_pool_open(fx->dir, err, sizeof(err));
  assert_non_null(fx->s);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fx_t *fx = *state;
  fx->s->close(fx->s);
  unlink(fx->pool1);
  unlink(fx->pool0);
  rmdir(fx->dir);
  free(fx);
  return 0;
}

static void make_record(unsigned char *r, const char *key, const char *value,
                        const char *garbage) {
  memset(r, 0, REC);
  memcpy(r, key, strlen(key));
  memcpy(r + 512, value, strlen(value));
  if (garbage != NULL) /* bytes after the value's NUL */
    memcpy(r + 512 + strlen(value) + 1, garbage, strlen(garbage));
}

static void write_file(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
}

static unsigned char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)len + 1);
  assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return b;
}

/* A message with nvl gauge value lists (values i * 1.5). */
static void make_msg(hvkvp_msg_t *m, size_t nvl, uint64_t seq) {
  hvkvp_msg_init(m);
  snprintf(m->host, sizeof(m->host), "testvm");
  m->time = 1700000000.25;
  m->interval = 10;
  m->seq = seq;
  for (size_t i = 0; i < nvl; i++) {
    char inst[32];
    snprintf(inst, sizeof(inst), "instance_%zu", i);
    hvkvp_value_t v = {.gauge = (double)i * 1.5};
    assert_int_equal(
        hvkvp_msg_add1(m, "testplugin", inst, "gauge", "x", HVKVP_DS_GAUGE, v),
        0);
  }
}

/* Encodes m against the store's current items and publishes it. */
static void publish(fx_t *fx, size_t nvl, uint64_t gen, size_t max_chunks) {
  hvkvp_msg_t m;
  make_msg(&m, nvl, gen);
  hvkvp_items_t cur;
  char err[256] = "";
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  hvkvp_encode_opts_t o = {.prefix = "hvkvp",
                           .enc = HVKVP_ENC_JSON,
                           .epoch = 42,
                           .gen = gen,
                           .max_chunks = max_chunks};
  hvkvp_frame_t f;
  hvkvp_err_t he;
  if (hvkvp_encode(&m, &o, &cur, &f, &he) != 0)
    fail_msg("encode: %s", he.detail);
  if (fx->s->publish(fx->s, &f, err, sizeof(err)) != 0)
    fail_msg("publish: %s", err);
  hvkvp_frame_free(&f);
  hvkvp_items_free(&cur);
  hvkvp_msg_free(&m);
}

/* Decodes what the store holds now; checks it is gen with nvl lists. */
static void expect_decoded(fx_t *fx, size_t nvl, uint64_t gen) {
  hvkvp_items_t cur;
  char err[256] = "";
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  hvkvp_msg_t m;
  hvkvp_head_t h;
  hvkvp_err_t he;
  if (hvkvp_decode(&cur, "hvkvp", &m, &h, &he) != 0)
    fail_msg("decode: %s", he.detail);
  assert_int_equal(h.gen, gen);
  assert_int_equal(h.epoch, 42);
  assert_int_equal(m.n_vls, nvl);
  for (size_t i = 0; i < nvl; i++)
    assert_true(m.vls[i].values[0].gauge == (double)i * 1.5);
  assert_string_equal(m.host, "testvm");
  hvkvp_msg_free(&m);
  hvkvp_items_free(&cur);
}

static size_t count_own(const unsigned char *b, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i + REC <= n; i += REC)
    c += strncmp((const char *)b + i, "hvkvp.", 6) == 0;
  return c;
}

static void test_roundtrip_empty_dir(void **state) {
  fx_t *fx = *state;
  publish(fx, 30, 1, 0);
  expect_decoded(fx, 30, 1);
  publish(fx, 3, 2, 0);
  expect_decoded(fx, 3, 2);
  publish(fx, 30, 3, 0);
  expect_decoded(fx, 30, 3);
  size_t n;
  unsigned char *b = read_file(fx->pool1, &n);
  assert_int_equal(n % REC, 0);
  hvkvp_items_t cur;
  char err[256];
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  /* head + one live slot (B or A) + the other slot's chunks */
  assert_true(count_own(b, n) <= 2 * (size_t)HVKVP_MAX_CHUNKS + 1);
  hvkvp_items_free(&cur);
  free(b);
}

static void test_foreign_records_byte_for_byte(void **state) {
  fx_t *fx = *state;
  unsigned char recs[3 * REC];
  make_record(recs, "cloud-init|ready", "{\"result\":\"ok\"}", "GARBAGE!!");
  make_record(recs + REC, "hvkvpx.notours", "prefix lookalike", NULL);
  memset(recs + 2 * REC, 'k', REC); /* key without any NUL: foreign */
  write_file(fx->pool1, recs, sizeof(recs));
  for (uint64_t g = 1; g <= 12; g++) {
    publish(fx, g % 3 == 0 ? 40 : 5, g, 0);
    expect_decoded(fx, g % 3 == 0 ? 40 : 5, g);
    if (g == 4) {
      /* another writer (cloud-init) appends after our records */
      size_t n;
      unsigned char *b = read_file(fx->pool1, &n);
      unsigned char *nb = realloc(b, n + REC);
      make_record(nb + n, "cloud-init|late", "appended", "tail-garbage");
      write_file(fx->pool1, nb, n + REC);
      free(nb);
    }
  }
  size_t n;
  unsigned char *b = read_file(fx->pool1, &n);
  assert_true(n >= 3 * REC);
  assert_memory_equal(b, recs, sizeof(recs)); /* same bytes, same offsets */
  int late = 0;
  for (size_t i = 3 * REC; i + REC <= n; i += REC) {
    if (strcmp((char *)b + i, "cloud-init|late") == 0) {
      unsigned char want[REC];
      make_record(want, "cloud-init|late", "appended", "tail-garbage");
      assert_memory_equal(b + i, want, REC);
      late++;
    }
  }
  assert_int_equal(late, 1);
  free(b);
}

static void test_partial_trailing_record(void **state) {
  fx_t *fx = *state;
  unsigned char buf[2 * REC + 1000];
  make_record(buf, "foreign", "one", NULL);
  make_record(buf + REC, "hvkvp.cfg.stray", "x", NULL);
  memset(buf + 2 * REC, 'p', 1000); /* a crashed appender's partial record */
  write_file(fx->pool1, buf, sizeof(buf));
  hvkvp_items_t cur;
  char err[256];
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  assert_int_equal(cur.n, 1); /* the partial record is not an item */
  assert_string_equal(hvkvp_items_get(&cur, "hvkvp.cfg.stray"), "x");
  hvkvp_items_free(&cur);
  publish(fx, 2, 7, 0);
  expect_decoded(fx, 2, 7);
  size_t n;
  unsigned char *b = read_file(fx->pool1, &n);
  assert_int_equal(n % REC, 0); /* the partial tail was cut */
  assert_memory_equal(b, buf, REC);
  free(b);
}

static void test_garbage_after_nul(void **state) {
  fx_t *fx = *state;
  unsigned char buf[2 * REC];
  make_record(buf, "hvkvp.x", "value", "junkjunkjunk");
  make_record(buf + REC, "hvkvp.y", "", "more junk");
  write_file(fx->pool1, buf, sizeof(buf));
  hvkvp_items_t cur;
  char err[256];
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  assert_int_equal(cur.n, 2);
  assert_string_equal(hvkvp_items_get(&cur, "hvkvp.x"), "value");
  assert_string_equal(hvkvp_items_get(&cur, "hvkvp.y"), "");
  hvkvp_items_free(&cur);
}

static void test_stale_deleted(void **state) {
  fx_t *fx = *state;
  unsigned char buf[4 * REC];
  make_record(buf, "hvkvp.old", "stale", NULL);
  make_record(buf + REC, "hvkvp.A.9", "stale chunk", NULL);
  make_record(buf + 2 * REC, "foreign.key", "keep me", NULL);
  make_record(buf + 3 * REC, "hvkvp.B.7", "stale tail", NULL);
  write_file(fx->pool1, buf, sizeof(buf));
  publish(fx, 2, 1, 0);
  expect_decoded(fx, 2, 1);
  hvkvp_items_t cur;
  char err[256];
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  assert_null(hvkvp_items_get(&cur, "hvkvp.old"));
  assert_null(hvkvp_items_get(&cur, "hvkvp.A.9"));
  assert_null(hvkvp_items_get(&cur, "hvkvp.B.7"));
  for (size_t i = 0; i < cur.n; i++) /* only head and chunks remain */
    assert_true(strcmp(cur.v[i].key, "hvkvp.head") == 0 ||
                strncmp(cur.v[i].key, "hvkvp.A.", 8) == 0 ||
                strncmp(cur.v[i].key, "hvkvp.B.", 8) == 0);
  hvkvp_items_free(&cur);
  size_t n;
  unsigned char *b = read_file(fx->pool1, &n);
  assert_memory_equal(b + 2 * REC, buf + 2 * REC, REC); /* foreign in place */
  free(b);
}

static void test_own_record_bound(void **state) {
  fx_t *fx = *state;
  const size_t max = 4;
  size_t most = 0;
  for (uint64_t g = 1; g <= 60; g++) {
    size_t nvl = (size_t)((g * 7) % 23) + 1; /* 1..23 lists: 1..4 chunks */
    publish(fx, nvl, g, max);
    if (g % 10 == 0) { /* foreign appends between our records */
      size_t n;
      unsigned char *b = read_file(fx->pool1, &n);
      unsigned char *nb = realloc(b, n + REC);
      char k[32];
      snprintf(k, sizeof(k), "foreign.%llu", (unsigned long long)g);
      make_record(nb + n, k, "v", NULL);
      write_file(fx->pool1, nb, n + REC);
      free(nb);
    }
    size_t n;
    unsigned char *b = read_file(fx->pool1, &n);
    size_t own = count_own(b, n);
    if (own > most)
      most = own;
    free(b);
    hvkvp_items_t cur;
    char err[256];
    assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)),
                     0);
    hvkvp_msg_t m;
    hvkvp_err_t he;
    if (hvkvp_decode(&cur, "hvkvp", &m, NULL, &he) != 0)
      fail_msg("gen %llu: %s", (unsigned long long)g, he.detail);
    assert_int_equal(m.n_vls + m.trimmed, nvl);
    hvkvp_msg_free(&m);
    hvkvp_items_free(&cur);
  }
  /* records under the prefix, tombstones included */
  if (most > 2 * max + 1)
    fail_msg("%zu own records, bound is %zu", most, 2 * max + 1);
}

static void test_read_config_pool0(void **state) {
  fx_t *fx = *state;
  unsigned char buf[4 * REC];
  make_record(buf, "hvkvp.cfg.id", "push-7", "zz");
  make_record(buf + REC, "hvkvp.cfg.interval", "30", NULL);
  make_record(buf + 2 * REC, "other.cfg.id", "nope", NULL);
  make_record(buf + 3 * REC, "hvkvp.head", "not config", NULL);
  write_file(fx->pool0, buf, sizeof(buf));
  hvkvp_items_t it;
  char err[256];
  assert_int_equal(fx->s->read_config(fx->s, "hvkvp", &it, err, sizeof(err)),
                   0);
  assert_int_equal(it.n, 2);
  assert_string_equal(hvkvp_items_get(&it, "hvkvp.cfg.id"), "push-7");
  assert_string_equal(hvkvp_items_get(&it, "hvkvp.cfg.interval"), "30");
  hvkvp_items_free(&it);
}

/* Pool 0 as a hostile host may fill it: thousands of records, the config
 * after them (read in batches, found), too many cfg items (refused with a
 * reason, not read into memory without end). */
static void test_read_config_large_pool0(void **state) {
  fx_t *fx = *state;
  size_t n = 5000;
  unsigned char *buf = calloc(n, REC);
  assert_non_null(buf);
  char k[64];
  for (size_t i = 0; i < n - 2; i++) {
    snprintf(k, sizeof(k), "host.filler.%zu", i);
    make_record(buf + i * REC, k, "x", NULL);
  }
  make_record(buf + (n - 2) * REC, "hvkvp.cfg.interval", "7", NULL);
  make_record(buf + (n - 1) * REC, "hvkvp.cfg.id", "late", NULL);
  write_file(fx->pool0, buf, n * REC);
  hvkvp_items_t it;
  char err[256] = "";
  assert_int_equal(fx->s->read_config(fx->s, "hvkvp", &it, err, sizeof(err)),
                   0);
  assert_int_equal(it.n, 2);
  assert_string_equal(hvkvp_items_get(&it, "hvkvp.cfg.id"), "late");
  hvkvp_items_free(&it);
  for (size_t i = 0; i < 300; i++) {
    snprintf(k, sizeof(k), "hvkvp.cfg.x%zu", i);
    make_record(buf + i * REC, k, "y", NULL);
  }
  write_file(fx->pool0, buf, n * REC);
  assert_int_equal(fx->s->read_config(fx->s, "hvkvp", &it, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, ".kvp_pool_0: more than 256 hvkvp.cfg.* "
                              "records"));
  assert_int_equal(it.n, 0);
  free(buf);
}

/* Publishing into a pool 1 with many foreign records keeps them all and
 * finds its own records among them. */
static void test_publish_among_many_foreign(void **state) {
  fx_t *fx = *state;
  size_t n = 3000;
  unsigned char *buf = calloc(n, REC);
  assert_non_null(buf);
  char k[64];
  for (size_t i = 0; i < n; i++) {
    snprintf(k, sizeof(k), "cloud-init.%zu", i);
    make_record(buf + i * REC, k, "report", NULL);
  }
  write_file(fx->pool1, buf, n * REC);
  publish(fx, 50, 1, 0);
  publish(fx, 20, 2, 0);
  expect_decoded(fx, 20, 2);
  size_t len;
  unsigned char *b = read_file(fx->pool1, &len);
  assert_true(len >= n * REC);
  assert_memory_equal(b, buf, n * REC);
  free(b);
  free(buf);
}

/* PROTOCOL.md section 5 step 4: once the new head is set the old slot's
 * chunks go, so at rest the pool holds the head and one slot. */
static void test_one_slot_at_rest(void **state) {
  fx_t *fx = *state;
  publish(fx, 60, 1, 0); /* slot A, several chunks */
  publish(fx, 60, 2, 0); /* slot B; A goes after the head */
  expect_decoded(fx, 60, 2);
  hvkvp_items_t cur;
  char err[256] = "";
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  hvkvp_head_t h;
  assert_int_equal(
      hvkvp_head_parse(hvkvp_items_get(&cur, "hvkvp.head"), &h, NULL), 0);
  assert_int_equal(h.slot, 'B');
  assert_int_equal(cur.n, h.n + 1);
  for (size_t i = 0; i < cur.n; i++)
    assert_true(strncmp(cur.v[i].key, "hvkvp.A.", 8) != 0);
  hvkvp_items_free(&cur);
}

static void test_open_errors(void **state) {
  char err[256] = "";
  assert_null(store_pool_open("/nonexistent/hvkvp-dir", err, sizeof(err)));
  assert_non_null(strstr(err, "/nonexistent/hvkvp-dir"));
  /* missing pool files read as empty */
  fx_t *fx = *state;
  hvkvp_items_t it;
  assert_int_equal(fx->s->read_config(fx->s, "hvkvp", &it, err, sizeof(err)),
                   0);
  assert_int_equal(it.n, 0);
  hvkvp_items_free(&it);
}

static void test_duplicate_own_keys(void **state) {
  fx_t *fx = *state;
  unsigned char buf[3 * REC];
  make_record(buf, "hvkvp.x", "first", NULL);
  make_record(buf + REC, "foreign", "f", NULL);
  make_record(buf + 2 * REC, "hvkvp.x", "second", NULL);
  write_file(fx->pool1, buf, sizeof(buf));
  hvkvp_items_t cur;
  char err[256];
  assert_int_equal(fx->s->read_own(fx->s, "hvkvp", &cur, err, sizeof(err)), 0);
  assert_int_equal(cur.n, 1);
  assert_string_equal(hvkvp_items_get(&cur, "hvkvp.x"), "first");
  hvkvp_items_free(&cur);
  publish(fx, 2, 1, 0); /* hvkvp.x is stale: both copies go */
  expect_decoded(fx, 2, 1);
  size_t n;
  unsigned char *b = read_file(fx->pool1, &n);
  for (size_t i = 0; i + REC <= n; i += REC)
    assert_string_not_equal((char *)b + i, "hvkvp.x");
  assert_memory_equal(b + REC, buf + REC, REC);
  free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_roundtrip_empty_dir, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_foreign_records_byte_for_byte, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_partial_trailing_record, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_garbage_after_nul, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stale_deleted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_own_record_bound, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_config_pool0, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_slot_at_rest, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_config_large_pool0, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_publish_among_many_foreign, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_own_keys, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
