/*
 * tp_util.h - helpers shared by the protocol unit tests: building typical
 * messages and comparing two messages field by field.
 */
#ifndef TP_UTIL_H
#define TP_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hvkvp.h"

/* A message like a Linux guest sends: n value lists of mixed types. */
void tp_make_msg(hvkvp_msg_t *m, size_t n);
/* Asserts a and b are equal (NaN gauges compare equal to NaN). */
void tp_assert_msg_equal(const hvkvp_msg_t *a, const hvkvp_msg_t *b);
/* Encodes m (gen, epoch) onto store: applies put/del like a writer. */
void tp_publish(hvkvp_items_t *store, const hvkvp_msg_t *m, uint64_t epoch,
                uint64_t gen, hvkvp_enc_t enc, hvkvp_frame_t *frame_out);
/* A string of n ASCII characters c (static buffer, n < 4096). */
const char *tp_repeat(char c, size_t n);

#endif /* TP_UTIL_H */
