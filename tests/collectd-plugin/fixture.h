/*
 * fixture.h - reading the host tests' fixture files
 * (tests/collectd-plugin/fixtures, HOST_FIXTURES) and other files whole.
 */
#ifndef HVKVP_TEST_FIXTURE_H
#define HVKVP_TEST_FIXTURE_H

#include <stddef.h>

/* The file at path, whole, in a malloc'd NUL-terminated buffer (*len bytes
 * if len is not NULL); NULL if it cannot be read. */
char *fixture_read_path(const char *path, size_t *len);
/* The fixture `name` of HOST_FIXTURES; on failure says which to stderr and
 * returns NULL. */
char *fixture_read(const char *name, size_t *len);

#endif
