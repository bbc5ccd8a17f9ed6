/*
 * tp_util.c - helpers shared by the protocol unit tests (see tp_util.h).
 */
#include "tp_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void tp_make_msg(hvkvp_msg_t *m, size_t n) {
  size_t i;
  hvkvp_msg_init(m);
  snprintf(m->host, sizeof(m->host), "web-01.example.org");
  m->time = 1763900000.125;
  m->interval = 10;
  m->seq = 42;
  snprintf(m->config, sizeof(m->config), "cfg-7");
  for (i = 0; i < n; i++) {
    hvkvp_vl_t *vl = hvkvp_msg_add(m);
    assert_non_null(vl);
    switch (i % 4) {
    case 0:
      snprintf(vl->plugin, sizeof(vl->plugin), "cpu");
      snprintf(vl->plugin_instance, sizeof(vl->plugin_instance), "%zu", i / 4);
      snprintf(vl->type, sizeof(vl->type), "percent");
      snprintf(vl->type_instance, sizeof(vl->type_instance), "user");
      vl->n = 1;
      vl->dstypes[0] = HVKVP_DS_GAUGE;
      snprintf(vl->dsnames[0], sizeof(vl->dsnames[0]), "value");
      vl->values[0].gauge = 12.5 + (double)i / 3.0;
      break;
    case 1:
      snprintf(vl->plugin, sizeof(vl->plugin), "interface");
      snprintf(vl->plugin_instance, sizeof(vl->plugin_instance), "eth%zu",
               i / 4);
      snprintf(vl->type, sizeof(vl->type), "if_octets");
      vl->n = 2;
      vl->dstypes[0] = vl->dstypes[1] = HVKVP_DS_DERIVE;
      snprintf(vl->dsnames[0], sizeof(vl->dsnames[0]), "rx");
      snprintf(vl->dsnames[1], sizeof(vl->dsnames[1]), "tx");
      vl->values[0].derive = (int64_t)(123456789 * i);
      vl->values[1].derive = -(int64_t)i;
      break;
    case 2:
      snprintf(vl->plugin, sizeof(vl->plugin), "disk");
      snprintf(vl->plugin_instance, sizeof(vl->plugin_instance), "sda%zu",
               i / 4);
      snprintf(vl->type, sizeof(vl->type), "disk_ops");
      vl->n = 2;
      vl->dstypes[0] = vl->dstypes[1] = HVKVP_DS_COUNTER;
      snprintf(vl->dsnames[0], sizeof(vl->dsnames[0]), "read");
      snprintf(vl->dsnames[1], sizeof(vl->dsnames[1]), "write");
      vl->values[0].counter = UINT64_MAX - i;
      vl->values[1].counter = i;
      break;
    default:
      snprintf(vl->plugin, sizeof(vl->plugin), "memory");
      snprintf(vl->type, sizeof(vl->type), "memory");
      snprintf(vl->type_instance, sizeof(vl->type_instance), "used");
      vl->n = 1;
      vl->dstypes[0] = HVKVP_DS_ABSOLUTE;
      snprintf(vl->dsnames[0], sizeof(vl->dsnames[0]), "value");
      vl->values[0].absolute = (uint64_t)i * 4096u;
      break;
    }
  }
}

void tp_assert_msg_equal(const hvkvp_msg_t *a, const hvkvp_msg_t *b) {
  size_t i, d;
  assert_string_equal(a->host, b->host);
  assert_true(fabs(a->time - b->time) < 0.0005);
  assert_true(a->interval == b->interval);
  assert_true(a->seq == b->seq);
  assert_string_equal(a->config, b->config);
  assert_string_equal(a->config_error, b->config_error);
  assert_int_equal(a->trimmed, b->trimmed);
  assert_int_equal(a->n_tags, b->n_tags);
  for (i = 0; i < a->n_tags; i++) {
    assert_string_equal(a->tags[i].key, b->tags[i].key);
    assert_string_equal(a->tags[i].value, b->tags[i].value);
  }
  assert_int_equal(a->n_vls, b->n_vls);
  for (i = 0; i < a->n_vls; i++) {
    const hvkvp_vl_t *x = &a->vls[i], *y = &b->vls[i];
    assert_string_equal(x->plugin, y->plugin);
    assert_string_equal(x->plugin_instance, y->plugin_instance);
    assert_string_equal(x->type, y->type);
    assert_string_equal(x->type_instance, y->type_instance);
    assert_int_equal(x->n, y->n);
    for (d = 0; d < x->n; d++) {
      assert_int_equal(x->dstypes[d], y->dstypes[d]);
      assert_string_equal(x->dsnames[d], y->dsnames[d]);
      if (x->dstypes[d] == HVKVP_DS_GAUGE) {
        if (isnan(x->values[d].gauge))
          assert_true(isnan(y->values[d].gauge));
        else
          assert_true(x->values[d].gauge == y->values[d].gauge);
      } else {
        assert_true(x->values[d].counter == y->values[d].counter);
      }
    }
  }
}

void tp_publish(hvkvp_items_t *store, const hvkvp_msg_t *m, uint64_t epoch,
                uint64_t gen, hvkvp_enc_t enc, hvkvp_frame_t *frame_out) {
  hvkvp_encode_opts_t o = {NULL, enc, epoch, gen, 0};
  hvkvp_frame_t f;
  hvkvp_err_t err;
  size_t i;
  int rc = hvkvp_encode(m, &o, store, &f, &err);
  if (rc != 0)
    fail_msg("encode failed: %s: %s", hvkvp_strerror(rc), err.detail);
  for (i = 0; i + 1 < f.put.n; i++)
    assert_int_equal(hvkvp_items_set(store, f.put.v[i].key, f.put.v[i].value),
                     0);
  for (i = 0; i < f.n_del; i++)
    assert_int_equal(hvkvp_items_del(store, f.del[i]), 1);
  assert_non_null(strstr(f.put.v[f.put.n - 1].key, ".head"));
  assert_int_equal(hvkvp_items_set(store, f.put.v[f.put.n - 1].key,
                                   f.put.v[f.put.n - 1].value),
                   0);
  for (i = 0; i < f.n_after; i++)
    assert_int_equal(hvkvp_items_del(store, f.after[i]), 1);
  if (frame_out != NULL)
    *frame_out = f;
  else
    hvkvp_frame_free(&f);
}

const char *tp_repeat(char c, size_t n) {
  static char buf[4096];
  assert_true(n < sizeof(buf));
  memset(buf, c, n);
  buf[n] = '\0';
  return buf;
}
