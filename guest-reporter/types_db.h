/*
 * types_db.h - collectd types and their data sources (name and GAUGE /
 * DERIVE / COUNTER / ABSOLUTE), as types.db describes them: a built-in
 * table of common stock types, extended by TypesDB files. Used by the
 * PUTVAL parser (putval.c).
 */
#ifndef HVKVP_TYPES_DB_H
#define HVKVP_TYPES_DB_H

#include "hvkvp.h"

#include <stddef.h>

#define TYPES_DS_NAME 32

typedef struct {
  char name[HVKVP_NAME_LEN];
  size_t n;
  hvkvp_ds_type_t t[HVKVP_MAX_DS];
  char ds[HVKVP_MAX_DS][TYPES_DS_NAME];
} types_db_type_t;

/* Loads a collectd types.db file ("name ds:TYPE:min:max, ..." lines) on top
 * of the built-in table. -1 with "path:line: ..." on error. */
int types_db_load(const char *path, char *err, size_t errlen);
/* Forgets the types loaded from files (back to the built-in table). */
void types_db_reset(void);
/* The type called name (a later definition wins), or NULL. */
const types_db_type_t *types_db_find(const char *name);

#endif
