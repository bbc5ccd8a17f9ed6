/*
 * bench_message_fit.c - how many value lists one message holds within
 * PROTOCOL.md's limits (64 chunks of 1000 characters, 256 KiB of JSON),
 * for write_hvkvp's MaxValueLists. The mix is the typical Linux message
 * (schemas/examples/linux_typical.json: collectd's cpu, memory, load, df,
 * interface, disk, ... value lists) repeated with other plugin instances
 * and values varied by a few percent (so that deflate does not profit from
 * exact repeats), in the identifier order write_hvkvp sends. For each
 * encoding it bisects the largest count that encodes without trimming.
 * Prints figures; asserts nothing.
 *
 * usage: bench_message_fit [MESSAGE.json]
 */
#include "hvkvp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HVKVP_SOURCE_DIR
#define HVKVP_SOURCE_DIR "."
#endif

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  char *buf = malloc(1 << 20);
  size_t n = buf != NULL ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (buf != NULL)
    buf[n] = '\0';
  *len = n;
  return buf;
}

/* Value list i of a message of n: the mix's (i % k), instance "r<i/k>". */
static void fill(hvkvp_msg_t *dst, const hvkvp_msg_t *mix, size_t n) {
  unsigned seed = 12345;
  dst->n_vls = 0;
  for (size_t i = 0; i < n; i++) {
    hvkvp_vl_t *vl = hvkvp_msg_add(dst);
    if (vl == NULL)
      return;
    *vl = mix->vls[i % mix->n_vls];
    if (i >= mix->n_vls) {
      char inst[HVKVP_NAME_LEN];
      snprintf(inst, sizeof(inst), "%.100s_r%zu", vl->plugin_instance,
               i / mix->n_vls);
      memcpy(vl->plugin_instance, inst, sizeof(inst));
    }
    for (size_t d = 0; d < vl->n; d++) {
      seed = seed * 1103515245u + 12345u;
      double f = 1.0 + ((double)(seed >> 16 & 0x7fff) / 32768.0 - 0.5) / 20;
      if (vl->dstypes[d] == HVKVP_DS_GAUGE)
        vl->values[d].gauge *= f;
      else if (vl->dstypes[d] == HVKVP_DS_DERIVE)
        vl->values[d].derive = (int64_t)((double)vl->values[d].derive * f);
      else
        vl->values[d].counter = (uint64_t)((double)vl->values[d].counter * f);
    }
  }
}

/* 1 if n value lists encode without trimming; *chunks gets their count. */
static int fits(hvkvp_msg_t *m, const hvkvp_msg_t *mix, size_t n,
                hvkvp_enc_t enc, size_t *chunks, size_t *json_len) {
  fill(m, mix, n);
  hvkvp_encode_opts_t o = {NULL, enc, 1, 1, HVKVP_MAX_CHUNKS};
  hvkvp_frame_t f;
  hvkvp_err_t err;
  if (hvkvp_encode(m, &o, NULL, &f, &err) != 0)
    return 0;
  int ok = f.trimmed == 0;
  *chunks = f.head.n;
  hvkvp_frame_free(&f);
  char *json = NULL;
  if (hvkvp_msg_to_json(m, &json, json_len) != 0)
    *json_len = 0;
  free(json);
  return ok;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1]
                              : HVKVP_SOURCE_DIR
                         "/schemas/examples/linux_typical.json";
  size_t len;
  char *text = read_file(path, &len);
  hvkvp_msg_t mix, m;
  hvkvp_err_t err;
  hvkvp_msg_init(&mix);
  if (text == NULL || hvkvp_msg_from_json(text, len, &mix, &err) != 0) {
    fprintf(stderr, "bench_message_fit: cannot read %s\n", path);
    return 1;
  }
  free(text);
  hvkvp_msg_init(&m);
  m = mix;
  m.vls = NULL;
  m.n_vls = m.cap_vls = 0;
  printf("mix: %s, %zu value lists\n", path, mix.n_vls);
  static const hvkvp_enc_t encs[] = {HVKVP_ENC_ZD1, HVKVP_ENC_Z64,
                                     HVKVP_ENC_JSON};
  for (size_t e = 0; e < sizeof(encs) / sizeof(encs[0]); e++) {
    hvkvp_enc_t enc = encs[e];
    size_t lo = 1, hi = HVKVP_MAX_VALUE_LISTS, chunks = 0, jl = 0;
    while (lo < hi) { /* largest n that fits */
      size_t mid = lo + (hi - lo + 1) / 2;
      if (fits(&m, &mix, mid, enc, &chunks, &jl))
        lo = mid;
      else
        hi = mid - 1;
    }
    fits(&m, &mix, lo, enc, &chunks, &jl);
    printf("enc=%-4s: %zu value lists fit (%zu chunks, %zu bytes of JSON, "
           "%.1f value lists per chunk)\n",
           hvkvp_enc_name(enc), lo, chunks, jl, (double)lo / chunks);
  }
  hvkvp_msg_free(&m);
  hvkvp_msg_free(&mix);
  return 0;
}
