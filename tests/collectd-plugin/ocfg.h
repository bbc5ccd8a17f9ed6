/*
 * ocfg.h - builds collectd oconfig_item_t trees in unit tests, the shape
 * collectd's parser hands to a complex config callback.
 */
#ifndef HVKVP_TEST_OCFG_H
#define HVKVP_TEST_OCFG_H

#include "collectd/liboconfig/oconfig.h"

oconfig_item_t *oc_new(const char *key);
/* Appends a child (children have room for 64; pointers stay valid). */
oconfig_item_t *oc_add(oconfig_item_t *parent, const char *key);
oconfig_item_t *oc_str(oconfig_item_t *ci, const char *s);
oconfig_item_t *oc_num(oconfig_item_t *ci, double d);
oconfig_item_t *oc_bool(oconfig_item_t *ci, int b);
/* Shorthands: a child option with one value. */
oconfig_item_t *oc_opt_s(oconfig_item_t *p, const char *key, const char *s);
oconfig_item_t *oc_opt_n(oconfig_item_t *p, const char *key, double d);
oconfig_item_t *oc_opt_b(oconfig_item_t *p, const char *key, int b);
void oc_free(oconfig_item_t *ci);

#endif
