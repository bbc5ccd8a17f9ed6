/*
 * os_random.h - 64 random bits from the operating system's generator, for
 * the writer's epoch (PROTOCOL.md section 6): os_random_linux.c (getrandom)
 * and os_random_windows.c (BCryptGenRandom).
 */
#ifndef HVKVP_OS_RANDOM_H
#define HVKVP_OS_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* 0, or -1 with err set. */
int os_random_u64(uint64_t *out, char *err, size_t errlen);

#endif
