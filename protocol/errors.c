/*
 * errors.c - hvkvp error codes: stable short names, the "torn write"
 * classification and the internal helper that fills an hvkvp_err_t.
 */
#include "hvkvp_int.h"

#include <stdio.h>

const char *hvkvp_strerror(hvkvp_rc_t rc) {
  switch (rc) {
  case HVKVP_OK:
    return "OK";
  case HVKVP_E_NOHEAD:
    return "NOHEAD";
  case HVKVP_E_HEAD_SYNTAX:
    return "HEAD_SYNTAX";
  case HVKVP_E_VERSION:
    return "VERSION";
  case HVKVP_E_MISSING_CHUNK:
    return "MISSING_CHUNK";
  case HVKVP_E_LENGTH:
    return "LENGTH";
  case HVKVP_E_CRC:
    return "CRC";
  case HVKVP_E_BASE64:
    return "BASE64";
  case HVKVP_E_INFLATE:
    return "INFLATE";
  case HVKVP_E_TOO_BIG:
    return "TOO_BIG";
  case HVKVP_E_JSON:
    return "JSON";
  case HVKVP_E_SCHEMA:
    return "SCHEMA";
  case HVKVP_E_NOMEM:
    return "NOMEM";
  case HVKVP_E_ARG:
    return "ARG";
  }
  return "UNKNOWN";
}

int hvkvp_err_is_torn(hvkvp_rc_t rc) {
  return rc == HVKVP_E_MISSING_CHUNK || rc == HVKVP_E_CRC ||
         rc == HVKVP_E_LENGTH;
}

int hvkvp_err_set(hvkvp_err_t *err, hvkvp_rc_t code, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
  }
  return (int)code;
}
