/*
 * store.h - the KVP stores the guest reporter publishes to and reads pushed
 * configuration from: the hv_kvp_daemon pool files on Linux (store_pool.c)
 * and the Hyper-V registry keys on Windows (store_registry_windows.c). Both
 * only ever touch keys under "PREFIX.".
 */
#ifndef HVKVP_STORE_H
#define HVKVP_STORE_H

#include "hvkvp.h"

typedef struct hvkvp_store hvkvp_store_t;

struct hvkvp_store {
  const char *kind; /* "pool" or "registry" */
  /* Items under "PREFIX." in the publish location (pool 1 / Auto|Guest). */
  int (*read_own)(hvkvp_store_t *s, const char *prefix, hvkvp_items_t *out,
                  char *err, size_t errlen);
  /* Publishes a frame: f->put except the head, then deletes f->del, then the
   * head, then deletes f->after (the old slot); foreign keys are never
   * touched. */
  int (*publish)(hvkvp_store_t *s, const hvkvp_frame_t *f, char *err,
                 size_t errlen);
  /* Host-pushed items under "PREFIX.cfg." (pool 0 / External). */
  int (*read_config)(hvkvp_store_t *s, const char *prefix, hvkvp_items_t *out,
                     char *err, size_t errlen);
  /* Removes every item under "PREFIX." from the publish location, the head
   * first, so the host sees no message rather than a torn one (the Windows
   * MSI runs it at uninstall). NULL for a store that cannot: the pool store
   * keeps the records of other writers at their offsets, so its own records
   * would stay as tombstones. */
  int (*unpublish)(hvkvp_store_t *s, const char *prefix, char *err,
                   size_t errlen);
  void (*close)(hvkvp_store_t *s);
};

/* Linux: dir holds .kvp_pool_<n> (default /var/lib/hyperv). */
hvkvp_store_t *store_pool_open(const char *dir, char *err, size_t errlen);
/* Windows: subkey "Auto" (default) or "Guest" under
 * HKLM\SOFTWARE\Microsoft\Virtual Machine. */
hvkvp_store_t *store_registry_open(const char *subkey, char *err,
                                   size_t errlen);

#endif
