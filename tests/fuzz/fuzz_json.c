/*
 * fuzz_json.c - libFuzzer target for hvkvp_msg_from_json; an accepted
 * message must be writable, and writing is idempotent after one parse
 * (write(parse(write(m))) == write(m)).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hvkvp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hvkvp_msg_t m, m2;
  hvkvp_err_t err;
  char *j1, *j2;
  size_t l1, l2, i;
  if (hvkvp_msg_from_json((const char *)data, size, &m, &err) != 0) {
    if (err.detail[0] == '\0' || m.n_vls != 0)
      abort();
    return 0;
  }
  if (hvkvp_msg_to_json(&m, &j1, &l1) != 0)
    abort();
  for (i = 0; i < l1; i++)
    if ((unsigned char)j1[i] < 0x20 || (unsigned char)j1[i] > 0x7e)
      abort(); /* output is printable ASCII */
  if (hvkvp_msg_from_json(j1, l1, &m2, &err) != 0)
    abort();
  if (hvkvp_msg_to_json(&m2, &j2, &l2) != 0 || l1 != l2 ||
      memcmp(j1, j2, l1) != 0)
    abort();
  free(j1);
  free(j2);
  hvkvp_msg_free(&m);
  hvkvp_msg_free(&m2);
  return 0;
}
