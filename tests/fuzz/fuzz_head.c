/*
 * fuzz_head.c - libFuzzer target for hvkvp_head_parse; a parsed head must
 * format and parse back to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hvkvp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hvkvp_head_t h, h2;
  hvkvp_err_t err;
  char out[160];
  char *s = malloc(size + 1);
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  if (hvkvp_head_parse(s, &h, &err) == 0) {
    if (hvkvp_head_format(&h, out, sizeof(out)) != 0)
      abort();
    if (hvkvp_head_parse(out, &h2, &err) != 0)
      abort();
    if (h.epoch != h2.epoch || h.gen != h2.gen || h.slot != h2.slot ||
        h.n != h2.n || h.len != h2.len || h.crc != h2.crc || h.enc != h2.enc)
      abort();
    if (h.n < 1 || h.n > HVKVP_MAX_CHUNKS || h.len > h.n * HVKVP_CHUNK_MAX)
      abort();
  } else if (err.detail[0] == '\0') {
    abort();
  }
  free(s);
  return 0;
}
