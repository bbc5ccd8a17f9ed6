/*
 * os_random_windows.c - os_random.h on Windows: BCryptGenRandom with the
 * system-preferred generator.
 */
#include "os_random.h"

#include <windows.h>
#include <bcrypt.h>

#include <stdio.h>

int os_random_u64(uint64_t *out, char *err, size_t errlen) {
  NTSTATUS st = BCryptGenRandom(NULL, (PUCHAR)out, (ULONG)sizeof(*out),
                                BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  if (st != 0) {
    snprintf(err, errlen, "BCryptGenRandom failed (status 0x%08lx)",
             (unsigned long)st);
    return -1;
  }
  return 0;
}
