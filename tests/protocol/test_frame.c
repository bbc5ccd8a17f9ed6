/*
 * test_frame.c - framing as KVP items: slot alternation over 1000
 * generations with the stale-key and superseded-slot lists checked against
 * the store (one slot at rest, a crash before the last step), readers
 * at every intermediate write step, trimming (rule, count, TOO_BIG), torn
 * snapshots (chunks of two generations), gen ordering and foreign keys.
 */
#include "tp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts store keys under "hvkvp." */
static size_t own_keys(const hvkvp_items_t *s) {
  size_t i, n = 0;
  for (i = 0; i < s->n; i++)
    if (strncmp(s->v[i].key, "hvkvp.", 6) == 0)
      n++;
  return n;
}

static void expect_decodes(const hvkvp_items_t *s, uint64_t gen, char slot,
                           size_t n_vls) {
  hvkvp_msg_t m;
  hvkvp_head_t h;
  hvkvp_err_t err;
  int rc = hvkvp_decode(s, NULL, &m, &h, &err);
  if (rc != 0)
    fail_msg("gen %llu: %s: %s", (unsigned long long)gen, hvkvp_strerror(rc),
             err.detail);
  assert_true(h.gen == gen);
  assert_int_equal(h.slot, slot);
  assert_int_equal(m.n_vls, n_vls);
  hvkvp_msg_free(&m);
}

static void t_slot_alternation_1000(void **state) {
  hvkvp_items_t store;
  hvkvp_msg_t m;
  hvkvp_head_t prev = {0};
  size_t prev_vls = 0;
  uint64_t gen;
  hvkvp_items_init(&store);
  /* keys that are not ours stay, junk under our prefix goes */
  hvkvp_items_set(&store, "cloud-init.report", "x");
  hvkvp_items_set(&store, "hvkvpx.A.0", "not ours either");
  hvkvp_items_set(&store, "hvkvp.junk", "stale");
  hvkvp_items_set(&store, "hvkvp.B.07", "non-canonical index");
  hvkvp_items_set(&store, "hvkvp.B.900", "old");
  for (gen = 1; gen <= 1000; gen++) {
    size_t n_vls = (size_t)((gen * 37) % 150);
    hvkvp_encode_opts_t o = {NULL, HVKVP_ENC_JSON, 4242, gen, 0};
    hvkvp_frame_t f;
    hvkvp_err_t err;
    size_t i;
    char want_slot = gen % 2 ? 'A' : 'B';
    tp_make_msg(&m, n_vls);
    m.seq = gen;
    assert_int_equal(hvkvp_encode(&m, &o, &store, &f, &err), 0);
    assert_int_equal(f.head.slot, want_slot);
    assert_int_equal(f.trimmed, 0);
    assert_int_equal(f.put.n, f.head.n + 1);
    /* del: never the live slot's chunks, never foreign keys; applying put
     * and del leaves exactly head + new chunks + live chunks */
    for (i = 0; i < f.n_del; i++) {
      char k[64];
      size_t j;
      assert_true(strncmp(f.del[i], "hvkvp.", 6) == 0);
      assert_non_null(hvkvp_items_get(&store, f.del[i]));
      for (j = 0; gen > 1 && j < prev.n; j++) {
        snprintf(k, sizeof(k), "hvkvp.%c.%zu", prev.slot, j);
        assert_string_not_equal(f.del[i], k);
      }
    }
    /* step 1: chunks of the new slot; the old head still decodes */
    for (i = 0; i + 1 < f.put.n; i++) {
      hvkvp_items_set(&store, f.put.v[i].key, f.put.v[i].value);
      if (gen > 1 && (i == 0 || i + 2 == f.put.n))
        expect_decodes(&store, gen - 1, prev.slot, prev_vls);
    }
    /* step 2: stale keys; the old head still decodes */
    for (i = 0; i < f.n_del; i++)
      assert_int_equal(hvkvp_items_del(&store, f.del[i]), 1);
    if (gen > 1)
      expect_decodes(&store, gen - 1, prev.slot, prev_vls);
    /* step 3: the head */
    hvkvp_items_set(&store, f.put.v[f.put.n - 1].key,
                    f.put.v[f.put.n - 1].value);
    expect_decodes(&store, gen, want_slot, n_vls);
    assert_int_equal(own_keys(&store), 1 + f.head.n + (gen > 1 ? prev.n : 0));
    /* after: exactly the chunks the old head named */
    assert_int_equal(f.n_after, gen > 1 ? prev.n : 0);
    for (i = 0; i < f.n_after; i++) {
      char k[64];
      snprintf(k, sizeof(k), "hvkvp.%c.%zu", prev.slot, i);
      assert_string_equal(f.after[i], k);
    }
    /* step 4: they go (except where a writer "crashes" before it: the
     * next write must then tidy up as usual); one slot is left */
    if (gen % 7 != 0) {
      for (i = 0; i < f.n_after; i++)
        assert_int_equal(hvkvp_items_del(&store, f.after[i]), 1);
      assert_int_equal(own_keys(&store), 1 + f.head.n);
    }
    expect_decodes(&store, gen, want_slot, n_vls);
    assert_non_null(hvkvp_items_get(&store, "cloud-init.report"));
    assert_non_null(hvkvp_items_get(&store, "hvkvpx.A.0"));
    assert_null(hvkvp_items_get(&store, "hvkvp.junk"));
    prev = f.head;
    prev_vls = n_vls;
    hvkvp_frame_free(&f);
    hvkvp_msg_free(&m);
  }
  hvkvp_items_free(&store);
}

static void t_restart_new_epoch(void **state) {
  hvkvp_items_t store;
  hvkvp_msg_t m;
  hvkvp_frame_t f;
  hvkvp_err_t err;
  hvkvp_encode_opts_t o = {NULL, HVKVP_ENC_Z64, 1, 10, 0};
  hvkvp_gen_t t = {0, 0, 0};
  hvkvp_head_t h;
  hvkvp_msg_t back;
  hvkvp_items_init(&store);
  tp_make_msg(&m, 5);
  tp_publish(&store, &m, 1, 10, HVKVP_ENC_Z64, NULL);
  assert_int_equal(hvkvp_decode(&store, NULL, &back, &h, &err), 0);
  hvkvp_msg_free(&back);
  assert_int_equal(hvkvp_gen_accept(&t, h.epoch, h.gen), 1);
  assert_int_equal(hvkvp_gen_accept(&t, h.epoch, h.gen), 0); /* re-read */
  /* same epoch, gen not above the published one: refused */
  assert_int_equal(hvkvp_encode(&m, &o, &store, &f, &err), HVKVP_E_ARG);
  assert_non_null(strstr(err.detail, "gen 10 does not exceed"));
  o.gen = 9;
  assert_int_equal(hvkvp_encode(&m, &o, &store, &f, &err), HVKVP_E_ARG);
  /* a restarted reporter: new epoch, gens from 1 again */
  tp_publish(&store, &m, 2, 1, HVKVP_ENC_Z64, NULL);
  assert_int_equal(hvkvp_decode(&store, NULL, &back, &h, &err), 0);
  hvkvp_msg_free(&back);
  assert_true(h.epoch == 2 && h.gen == 1 && h.slot == 'B');
  assert_int_equal(hvkvp_gen_accept(&t, h.epoch, h.gen), 1);
  hvkvp_items_free(&store);
  hvkvp_msg_free(&m);
}

static void t_garbage_head_restarts_at_a(void **state) {
  hvkvp_items_t store;
  hvkvp_msg_t m;
  hvkvp_frame_t f;
  hvkvp_err_t err;
  hvkvp_encode_opts_t o = {NULL, HVKVP_ENC_Z64, 1, 1, 0};
  size_t i;
  int saw_a5 = 0, saw_b0 = 0;
  hvkvp_items_init(&store);
  hvkvp_items_set(&store, "hvkvp.head", "v=1;garbage");
  hvkvp_items_set(&store, "hvkvp.A.5", "x");
  hvkvp_items_set(&store, "hvkvp.B.0", "x");
  tp_make_msg(&m, 3);
  assert_int_equal(hvkvp_encode(&m, &o, &store, &f, &err), 0);
  assert_int_equal(f.head.slot, 'A');
  for (i = 0; i < f.n_del; i++) {
    saw_a5 |= strcmp(f.del[i], "hvkvp.A.5") == 0;
    saw_b0 |= strcmp(f.del[i], "hvkvp.B.0") == 0;
  }
  assert_true(saw_a5 && saw_b0); /* nothing is live under a bad head */
  hvkvp_frame_free(&f);
  hvkvp_items_free(&store);
  hvkvp_msg_free(&m);
}

static void t_trimming(void **state) {
  hvkvp_items_t store;
  hvkvp_msg_t m, back, part;
  hvkvp_frame_t f, f2;
  hvkvp_err_t err;
  hvkvp_encode_opts_t o = {NULL, HVKVP_ENC_Z64, 1, 1, 2};
  size_t k;
  hvkvp_items_init(&store);
  tp_make_msg(&m, 1000);
  m.trimmed = 5; /* dropped earlier by the reporter itself */
  assert_int_equal(hvkvp_encode(&m, &o, NULL, &f, &err), 0);
  assert_true(f.head.n <= 2);
  assert_true(f.trimmed > 0 && f.trimmed < 1000);
  k = 1000 - f.trimmed;
  /* the rule: the first k lists fit, the first k + 1 do not */
  part = m;
  part.n_vls = k + 1;
  assert_int_equal(hvkvp_encode(&part, &o, NULL, &f2, &err), 0);
  assert_true(f2.trimmed > 0);
  hvkvp_frame_free(&f2);
  hvkvp_frame_free(&f);
  tp_publish(&store, &m, 1, 1, HVKVP_ENC_Z64, NULL); /* 64 chunks: fits */
  hvkvp_items_free(&store);
  /* decoded: first k lists, trimmed = earlier 5 + dropped */
  {
    size_t i;
    hvkvp_encode_opts_t o2 = {NULL, HVKVP_ENC_Z64, 1, 1, 2};
    assert_int_equal(hvkvp_encode(&m, &o2, NULL, &f, &err), 0);
    for (i = 0; i < f.put.n; i++)
      hvkvp_items_set(&store, f.put.v[i].key, f.put.v[i].value);
    assert_int_equal(hvkvp_decode(&store, NULL, &back, NULL, &err), 0);
    assert_int_equal(back.n_vls, k);
    assert_int_equal(back.trimmed, 5 + f.trimmed);
    part = m;
    part.n_vls = k;
    part.trimmed = 5 + f.trimmed;
    tp_assert_msg_equal(&part, &back);
    hvkvp_msg_free(&back);
    hvkvp_frame_free(&f);
  }
  hvkvp_items_free(&store);
  hvkvp_msg_free(&m);
}

static void t_too_big_even_empty(void **state) {
  hvkvp_msg_t m;
  hvkvp_frame_t f;
  hvkvp_err_t err;
  hvkvp_encode_opts_t o = {NULL, HVKVP_ENC_JSON, 1, 1, 1};
  size_t i;
  tp_make_msg(&m, 30);
  memset(m.host, 'h', HVKVP_HOST_LEN - 1);
  m.host[HVKVP_HOST_LEN - 1] = '\0';
  memset(m.config_error, 'e', HVKVP_TEXT_LEN - 1);
  m.config_error[HVKVP_TEXT_LEN - 1] = '\0';
  m.n_tags = HVKVP_MAX_TAGS;
  for (i = 0; i < m.n_tags; i++) {
    snprintf(m.tags[i].key, sizeof(m.tags[i].key), "k%zu", i);
    snprintf(m.tags[i].value, sizeof(m.tags[i].value), "%s",
             tp_repeat('v', 100));
  }
  assert_int_equal(hvkvp_encode(&m, &o, NULL, &f, &err), HVKVP_E_TOO_BIG);
  assert_non_null(strstr(err.detail, "even without value lists"));
  o.max_chunks = 3; /* fits once some value lists are dropped */
  assert_int_equal(hvkvp_encode(&m, &o, NULL, &f, &err), 0);
  assert_true(f.trimmed > 0 && f.trimmed < 30);
  assert_int_equal(f.head.n, 3);
  hvkvp_frame_free(&f);
  o.max_chunks = HVKVP_MAX_CHUNKS + 1;
  assert_int_equal(hvkvp_encode(&m, &o, NULL, &f, &err), HVKVP_E_ARG);
  o.max_chunks = 0;
  o.prefix = "bad/prefix";
  assert_int_equal(hvkvp_encode(&m, &o, NULL, &f, &err), HVKVP_E_ARG);
  hvkvp_msg_free(&m);
}

static void t_torn(void **state) {
  hvkvp_items_t store, snap;
  hvkvp_msg_t m, back;
  hvkvp_frame_t f1, f3;
  hvkvp_err_t err;
  size_t i;
  int rc;
  hvkvp_items_init(&store);
  /* gen 1 -> slot A, gen 2 -> slot B, gen 3 -> slot A again */
  tp_make_msg(&m, 200);
  tp_publish(&store, &m, 1, 1, HVKVP_ENC_JSON, &f1);
  hvkvp_msg_free(&m);
  tp_make_msg(&m, 150);
  tp_publish(&store, &m, 1, 2, HVKVP_ENC_JSON, NULL);
  hvkvp_msg_free(&m);
  tp_make_msg(&m, 200);
  m.seq = 3; /* same size as gen 1 but different text */
  m.time += 10;
  {
    hvkvp_encode_opts_t o = {NULL, HVKVP_ENC_JSON, 1, 3, 0};
    assert_int_equal(hvkvp_encode(&m, &o, &store, &f3, &err), 0);
  }
  assert_int_equal(f3.head.slot, 'A');
  assert_int_equal(f3.head.n, f1.head.n);
  /* snapshot: gen 3's head, but chunk 1 still from gen 1 -> CRC */
  hvkvp_items_init(&snap);
  for (i = 0; i < f3.put.n; i++)
    hvkvp_items_set(&snap, f3.put.v[i].key, f3.put.v[i].value);
  hvkvp_items_set(&snap, f1.put.v[1].key, f1.put.v[1].value);
  rc = hvkvp_decode(&snap, NULL, &back, NULL, &err);
  assert_true(rc == HVKVP_E_CRC || rc == HVKVP_E_LENGTH);
  assert_true(hvkvp_err_is_torn((hvkvp_rc_t)rc));
  /* snapshot: gen 3's head, last chunk not yet there -> MISSING_CHUNK */
  hvkvp_items_free(&snap);
  hvkvp_items_init(&snap);
  for (i = 0; i < f3.put.n; i++)
    if (i + 2 != f3.put.n)
      hvkvp_items_set(&snap, f3.put.v[i].key, f3.put.v[i].value);
  rc = hvkvp_decode(&snap, NULL, &back, NULL, &err);
  assert_int_equal(rc, HVKVP_E_MISSING_CHUNK);
  assert_true(hvkvp_err_is_torn((hvkvp_rc_t)rc));
  hvkvp_items_free(&snap);
  hvkvp_frame_free(&f1);
  hvkvp_frame_free(&f3);
  hvkvp_items_free(&store);
  hvkvp_msg_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_slot_alternation_1000),
      cmocka_unit_test(t_restart_new_epoch),
      cmocka_unit_test(t_garbage_head_restarts_at_a),
      cmocka_unit_test(t_trimming),
      cmocka_unit_test(t_too_big_even_empty),
      cmocka_unit_test(t_torn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
