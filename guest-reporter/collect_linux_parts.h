/*
 * collect_linux_parts.h - what the Linux collector files share: reading a
 * file under ctx->root, adding value lists to the message, splitting and
 * parsing /proc fields, and the collectors that collect_linux.c lists.
 * Internal to collect_linux*.c; every error is written to err.
 */
#ifndef HVKVP_COLLECT_LINUX_PARTS_H
#define HVKVP_COLLECT_LINUX_PARTS_H

#include "collect.h"

#include <stddef.h>
#include <stdint.h>

/* root+rel in a malloc'd NUL-terminated buffer (cut at 1 MiB); NULL with
 * err. */
char *cl_slurp(const collect_ctx_t *ctx, const char *rel, char *err,
               size_t errlen);

/* One value list of one data source; 0, or -1 (message full) with err. */
int cl_add(hvkvp_msg_t *m, const char *plugin, const char *pinst,
           const char *type, const char *tinst, hvkvp_ds_type_t t,
           hvkvp_value_t v, char *err, size_t errlen);
int cl_gauge(hvkvp_msg_t *m, const char *plugin, const char *pinst,
             const char *type, const char *tinst, double g, char *err,
             size_t errlen);
int cl_derive(hvkvp_msg_t *m, const char *plugin, const char *pinst,
              const char *type, const char *tinst, int64_t d, char *err,
              size_t errlen);
/* A value list with two derive data sources (rx/tx, read/write, ...). */
int cl_derive2(hvkvp_msg_t *m, const char *plugin, const char *pinst,
               const char *type, const char *ds0, int64_t v0, const char *ds1,
               int64_t v1, char *err, size_t errlen);

/* Splits s in place on whitespace into at most max fields. */
size_t cl_split(char *s, char **f, size_t max);
/* Unsigned decimal / non-negative finite decimal number fields; 0 on
 * success, -1 for anything else (trailing text, overflow, nan). */
int cl_u64(const char *s, uint64_t *out);
int cl_f64(const char *s, double *out);

/* The collectors (collector_fn of collect.h). */
int cl_cpu(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err, size_t errlen);
int cl_memory(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
              size_t errlen);
int cl_swap(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err, size_t errlen);
int cl_load(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err, size_t errlen);
int cl_uptime(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
              size_t errlen);
int cl_processes(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                 size_t errlen);
int cl_entropy(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
               size_t errlen);
int cl_df(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err, size_t errlen);
int cl_interface(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err,
                 size_t errlen);
int cl_disk(const collect_ctx_t *ctx, hvkvp_msg_t *m, char *err, size_t errlen);

#endif
