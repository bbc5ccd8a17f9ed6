/*
 * os_random_linux.c - os_random.h on Linux: getrandom(2).
 */
#include "os_random.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

int os_random_u64(uint64_t *out, char *err, size_t errlen) {
  size_t got = 0;
  unsigned char *p = (unsigned char *)out;
  while (got < sizeof(*out)) {
    ssize_t r = getrandom(p + got, sizeof(*out) - got, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      snprintf(err, errlen, "getrandom: %s", strerror(errno));
      return -1;
    }
    got += (size_t)r;
  }
  return 0;
}
