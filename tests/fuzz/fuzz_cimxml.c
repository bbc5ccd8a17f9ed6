/*
 * fuzz_cimxml.c - libFuzzer target for the embedded
 * Msvm_KvpExchangeDataItem decoder: never crash or read out of bounds, and
 * whatever decodes must survive an encode/decode round trip unchanged.
 */
#include "cimxml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cimx_item_t a, b;
  ws_err_t why = {.kind = WS_ERR_NONE};
  if (cimx_decode((const char *)data, size, &a, &why) != CIMX_OK)
    return 0;
  if (strlen(a.name) != a.name_len || strlen(a.data) != a.data_len)
    return 0; /* a character reference to NUL cannot happen; NULs in raw
                 text are refused as control characters */
  hvsb_t sb;
  hvsb_init(&sb);
  if (cimx_encode(&sb, a.name, a.data, a.source < 0 ? 0 : a.source) == 0) {
    if (cimx_decode(sb.p, sb.len, &b, &why) != CIMX_OK ||
        strcmp(a.name, b.name) != 0 || strcmp(a.data, b.data) != 0)
      abort();
  } else {
    /* only control characters other than TAB/CR/LF make encoding fail, and
     * the decoder never produces them */
    abort();
  }
  hvsb_free(&sb);
  return 0;
}
