/*
 * fuzz_seal.c - libFuzzer target for the MS-WSMV multipart/encrypted parser
 * (wsman_seal.c). Input: the HTTP Content-Type value up to the first '\n',
 * then the body. The parts it returns must lie inside the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t ctlen = nl ? (size_t)(nl - data) : size;
  char *ct = malloc(ctlen + 1);
  size_t blen = nl ? size - ctlen - 1 : 0;
  uint8_t *body = malloc(blen ? blen : 1); /* exact size for ASan */
  wseal_parts_t p;
  char why[160];
  if (ct == NULL || body == NULL)
    abort();
  memcpy(ct, data, ctlen);
  ct[ctlen] = '\0';
  if (blen)
    memcpy(body, nl + 1, blen);
  if (wseal_parse(ct, body, blen, &p, why, sizeof(why)) == 0) {
    if (p.sig < body || p.sig + p.siglen > body + blen || p.data < body ||
        p.data + p.datalen > body + blen || p.siglen == 0 ||
        p.siglen > WSEAL_MAX_SIG)
      abort();
  }
  free(ct);
  free(body);
  return 0;
}
