/*
 * fuzz_decode.c - libFuzzer target for hvkvp_decode: the input is a list of
 * "key=value" lines (split at the first '='), the items a hostile guest
 * could write; a decoded message must re-encode and decode to the same
 * JSON. One decoder serves every input, as a host's serves every VM, so
 * state one message leaves in it is fuzzed too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hvkvp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hvkvp_items_t items;
  hvkvp_msg_t m;
  hvkvp_head_t h;
  hvkvp_err_t err;
  char *buf = malloc(size + 1);
  char *line, *next;
  if (buf == NULL)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  hvkvp_items_init(&items);
  for (line = buf; line != NULL; line = next) {
    char *eq;
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    eq = strchr(line, '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    hvkvp_items_set(&items, line, eq + 1);
  }
  static hvkvp_decoder_t *dec;
  if (dec == NULL && (dec = hvkvp_decoder_new()) == NULL)
    abort();
  if (hvkvp_decoder_run(dec, &items, NULL, &m, &h, NULL, &err) == 0) {
    char *j1, *j2;
    size_t l1, l2;
    hvkvp_msg_t m2;
    if (hvkvp_msg_to_json(&m, &j1, &l1) != 0)
      abort(); /* whatever decodes must be writable */
    if (hvkvp_msg_from_json(j1, l1, &m2, &err) != 0)
      abort();
    if (hvkvp_msg_to_json(&m2, &j2, &l2) != 0 || l1 != l2 ||
        memcmp(j1, j2, l1) != 0)
      abort();
    free(j1);
    free(j2);
    hvkvp_msg_free(&m2);
  } else if (err.code == HVKVP_OK || err.detail[0] == '\0') {
    abort(); /* every failure names its reason */
  }
  hvkvp_msg_free(&m);
  hvkvp_items_free(&items);
  free(buf);
  return 0;
}
