/*
 * bench_protocol.c - protocol codec throughput and density: encode
 * (JSON + deflate + base64 + chunking) and decode (CRC + base64 + capped
 * inflate + capped JSON parse, one decoder reused as a host does) for each
 * encoding (zd1, z64, json) of a typical Linux message of ~150 value
 * lists (schemas/examples/linux_typical.json), in messages/s and MB/s of
 * JSON, and metrics per KVP item (value lists / chunks; goal >= 20).
 * Times are process CPU time (robust on a loaded machine). Prints
 * figures; asserts nothing.
 *
 * usage: bench_protocol [MESSAGE.json [SECONDS]]
 */
#include "hvkvp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef HVKVP_SOURCE_DIR
#define HVKVP_SOURCE_DIR "."
#endif

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  buf = malloc((size_t)n + 1);
  if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf != NULL) {
    buf[n] = '\0';
    *len = (size_t)n;
  }
  return buf;
}

/* A sink as a host's: names, types and values into one reused slot, no
 * dsnames kept (types.db names the data sources). */
static struct {
  char names[4][HVKVP_NAME_LEN];
  hvkvp_ds_type_t types[HVKVP_MAX_DS];
  hvkvp_value_t values[HVKVP_MAX_DS];
  size_t n;
} slot;

static int slot_begin(void *ctx, hvkvp_vl_dst_t *d) {
  d->plugin = slot.names[0];
  d->plugin_instance = slot.names[1];
  d->type = slot.names[2];
  d->type_instance = slot.names[3];
  d->dstypes = slot.types;
  d->values = slot.values;
  d->dsnames = NULL;
  return 0;
}

static void slot_end(void *ctx, size_t n) {
  slot.n += n;
}

static void run(const hvkvp_msg_t *m, hvkvp_enc_t enc, double seconds) {
  hvkvp_encode_opts_t o = {NULL, enc, 1, 1, 0};
  hvkvp_frame_t f;
  hvkvp_items_t items;
  hvkvp_err_t err;
  hvkvp_msg_t back;
  char *json;
  size_t jlen, i, n_ds = 0;
  long iters = 0;
  double t0, te, td;
  const char *name = hvkvp_enc_name(enc);
  hvkvp_decoder_t *dec = hvkvp_decoder_new();

  hvkvp_msg_to_json(m, &json, &jlen);
  free(json);
  for (i = 0; i < m->n_vls; i++)
    n_ds += m->vls[i].n;

  t0 = cpu_now();
  do {
    o.gen++;
    if (hvkvp_encode(m, &o, NULL, &f, &err) != 0) {
      fprintf(stderr, "bench_protocol: encode: %s\n", err.detail);
      exit(1);
    }
    iters++;
    if (cpu_now() - t0 < seconds)
      hvkvp_frame_free(&f);
    else
      break;
  } while (1);
  te = (cpu_now() - t0) / (double)iters;

  hvkvp_items_init(&items);
  for (i = 0; i < f.put.n; i++)
    hvkvp_items_set(&items, f.put.v[i].key, f.put.v[i].value);
  iters = 0;
  t0 = cpu_now();
  do {
    if (hvkvp_decoder_run(dec, &items, NULL, &back, NULL, NULL, &err) != 0) {
      fprintf(stderr, "bench_protocol: decode: %s\n", err.detail);
      exit(1);
    }
    hvkvp_msg_free(&back);
    iters++;
  } while (cpu_now() - t0 < seconds);
  td = (cpu_now() - t0) / (double)iters;
  hvkvp_vl_sink_t sink = {slot_begin, slot_end, NULL};
  double ts;
  iters = 0;
  t0 = cpu_now();
  do {
    if (hvkvp_decoder_run(dec, &items, NULL, &back, NULL, &sink, &err) != 0) {
      fprintf(stderr, "bench_protocol: decode: %s\n", err.detail);
      exit(1);
    }
    iters++;
  } while (cpu_now() - t0 < seconds);
  ts = (cpu_now() - t0) / (double)iters;

  printf("enc=%-4s  value lists %zu (%zu data sources)  JSON %zu bytes  "
         "chunk text %zu chars  chunks %zu  trimmed %u\n",
         name, m->n_vls, n_ds, jlen, f.head.len, f.head.n, f.trimmed);
  printf("enc=%-4s  metrics per KVP item: %.1f value lists, %.1f data "
         "sources (goal >= 20 value lists)\n",
         name, (double)(m->n_vls - f.trimmed) / (double)f.head.n,
         (double)n_ds / (double)f.head.n);
  printf("enc=%-4s  encode: %8.0f msg/s  %7.1f MB/s JSON  (%.1f us/msg)\n",
         name, 1.0 / te, (double)jlen / te / 1e6, te * 1e6);
  printf("enc=%-4s  decode: %8.0f msg/s  %7.1f MB/s JSON  (%.1f us/msg)\n",
         name, 1.0 / td, (double)jlen / td / 1e6, td * 1e6);
  printf("enc=%-4s  decode into a host's sink (no dsnames): %.1f us/msg\n",
         name, ts * 1e6);
  hvkvp_items_free(&items);
  hvkvp_frame_free(&f);
  hvkvp_decoder_free(dec);
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1]
                              : HVKVP_SOURCE_DIR
                         "/schemas/examples/linux_typical.json";
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  size_t len;
  char *text = read_file(path, &len);
  hvkvp_msg_t m;
  hvkvp_err_t err;
  if (text == NULL) {
    fprintf(stderr, "bench_protocol: cannot read %s\n", path);
    return 1;
  }
  if (hvkvp_msg_from_json(text, len, &m, &err) != 0) {
    fprintf(stderr, "bench_protocol: %s: %s\n", path, err.detail);
    return 1;
  }
  free(text);
  printf("bench_protocol: %s\n", path);
  run(&m, HVKVP_ENC_ZD1, seconds);
  run(&m, HVKVP_ENC_Z64, seconds);
  run(&m, HVKVP_ENC_JSON, seconds);
  hvkvp_msg_free(&m);
  return 0;
}
