/*
 * fixture.c - reading the host tests' fixture files (see fixture.h).
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>

char *fixture_read_path(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  char *buf = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0)
    buf = malloc((size_t)n + 1);
  size_t got = buf != NULL ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  if (buf == NULL)
    return NULL;
  buf[got] = '\0';
  if (len != NULL)
    *len = got;
  return buf;
}

char *fixture_read(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", HOST_FIXTURES, name);
  char *b = fixture_read_path(path, len);
  if (b == NULL)
    fprintf(stderr, "cannot read fixture %s\n", path);
  return b;
}
