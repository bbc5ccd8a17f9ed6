/*
 * store_pool.c - store.h on Linux: the hv_kvp_daemon pool files
 * <dir>/.kvp_pool_1 (publish, GuestExchangeItems) and <dir>/.kvp_pool_0
 * (host-pushed items). Format and locking follow DESIGN.md section 4:
 * 2560-byte records (key[512] value[2048], NUL-terminated, garbage after the
 * NUL tolerated, a partial trailing record ignored); writers hold the
 * daemon's fcntl write lock AND flock(LOCK_EX) (cloud-init appends under
 * flock only) and rewrite in place, never rename.
 *
 * Foreign records (keys not under "PREFIX.") are never written: they keep
 * their bytes and their offsets. Own records are updated in place; a new own
 * key reuses a free own record (a deleted one) before the file grows; a
 * deleted own record at the end of the file is truncated away, one in the
 * middle becomes a tombstone "PREFIX.free.<k>" with an empty value (reused
 * by the next new key), so the number of own records stays bounded by the
 * most ever live at once (2 x max chunks + 1).
 *
 * Records are read in batches (POOL_BATCH at a time), and only the records
 * under the prefix are kept in memory, so a large pool (foreign records, a
 * host filling pool 0) costs time, not memory.
 *
 * Write order for crash safety (kill -9 at any point): the new slot's
 * chunks, then the deletions, then the head, then the old slot's chunks
 * (PROTOCOL.md section 5), each a separate record write. Until the head
 * write the old head still names the old, untouched slot; a torn head write
 * mixes new and old head text, which fails the head grammar or the CRC of
 * the chunks it names, so a reader never decodes wrong values.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define POOL_KEY 512
#define POOL_VALUE 2048
#define POOL_REC (POOL_KEY + POOL_VALUE)
/* Pool files larger than this are refused (64 MiB, ~26000 records): reading
 * one costs time on every cycle. */
#define POOL_MAX_BYTES (64L * 1024 * 1024)
/* Records read per read(2) call. */
#define POOL_BATCH 32
/* PREFIX.cfg.* records read from pool 0 at most. */
#define POOL_MAX_CONFIG_ITEMS 256
#define POOL_FREE_TAG "free."

typedef struct {
  hvkvp_store_t base;
  char dir[PATH_MAX - 32];
} pool_store_t;

/* A record under the prefix, as a publish sees it. */
typedef struct {
  size_t rec;  /* its index in the file */
  char *key;   /* malloc'd */
  char *value; /* malloc'd, cut at the first NUL */
  int dead;    /* to be deleted by this publish */
} pool_own_t;

/* The pool file being published: its size and its own records only. */
typedef struct {
  int fd;
  const char *path;
  const char *pfx; /* "PREFIX." */
  size_t pfxlen;
  size_t nrec; /* whole records in the file */
  pool_own_t *own;
  size_t n_own, cap_own;
} pool_file_t;

/* ---- file access ---- */

static void pool_path(const pool_store_t *ps, int pool, char *out,
                      size_t outsz) {
  snprintf(out, outsz, "%s/.kvp_pool_%d", ps->dir, pool);
}

static int pool_lock(int fd, short type, const char *path, char *err,
                     size_t errlen) {
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0; /* whole file, like hv_kvp_daemon */
  while (fcntl(fd, F_SETLKW, &fl) != 0) {
    if (errno == EINTR)
      continue;
    snprintf(err, errlen, "%s: fcntl lock: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

static int pool_has_prefix(const char *key, const char *pfx, size_t pfxlen) {
  return key != NULL && strncmp(key, pfx, pfxlen) == 0;
}

static int pool_is_tombstone(const char *key, const char *pfx, size_t pfxlen) {
  return pool_has_prefix(key, pfx, pfxlen) &&
         strncmp(key + pfxlen, POOL_FREE_TAG, strlen(POOL_FREE_TAG)) == 0;
}

/* Called by pool_scan for each record under the prefix: 0 goes on, -1 stops
 * the scan (err set). */
typedef int (*pool_record_fn)(size_t rec, const char *key, const char *value,
                              void *arg, char *err, size_t errlen);

/* The whole records of a batch: fn for each one under pfx. A key without a
 * NUL within 512 bytes is foreign by definition; a value without a NUL is
 * cut at 2047 bytes. */
static int pool_scan_batch(unsigned char *b, size_t first, size_t n,
                           const char *pfx, pool_record_fn fn, void *arg,
                           char *err, size_t errlen) {
  size_t pfxlen = strlen(pfx);
  for (size_t i = 0; i < n; i++) {
    char *k = (char *)b + i * POOL_REC;
    if (memchr(k, '\0', POOL_KEY) == NULL || !pool_has_prefix(k, pfx, pfxlen))
      continue;
    char *v = k + POOL_KEY;
    v[POOL_VALUE - 1] = '\0';
    if (fn(first + i, k, v, arg, err, errlen) != 0)
      return -1;
  }
  return 0;
}

/* Reads the locked file front to back, POOL_BATCH records at a time, and
 * calls fn for the records under pfx. *nrec gets the number of whole
 * records (a partial trailing record is ignored). */
static int pool_scan(int fd, const char *path, const char *pfx,
                     pool_record_fn fn, void *arg, size_t *nrec, char *err,
                     size_t errlen) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
    return -1;
  }
  if (st.st_size > POOL_MAX_BYTES) {
    snprintf(err, errlen, "%s: %lld bytes, more than the %ld byte limit", path,
             (long long)st.st_size, POOL_MAX_BYTES);
    return -1;
  }
  unsigned char *b = malloc((size_t)POOL_BATCH * POOL_REC);
  if (b == NULL) {
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  size_t total = (size_t)st.st_size / POOL_REC, done = 0;
  int rc = 0;
  while (rc == 0 && done < total) {
    size_t n = total - done < POOL_BATCH ? total - done : POOL_BATCH;
    ssize_t r = pread(fd, b, n * POOL_REC, (off_t)(done * POOL_REC));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
      rc = -1;
    } else if ((size_t)r < POOL_REC) {
      break; /* shrank under us: cannot happen while locked */
    } else {
      n = (size_t)r / POOL_REC;
      rc = pool_scan_batch(b, done, n, pfx, fn, arg, err, errlen);
      if (rc != 0) {
        char e[256];
        snprintf(e, sizeof(e), "%s", err);
        snprintf(err, errlen, "%s: %s", path, e);
      }
      done += n;
    }
  }
  free(b);
  *nrec = done;
  return rc;
}

/* Crash-test hook (tests/reporter/test_reporter_crash.py): with
 * HVKVP_TEST_KILL_AFTER_WRITES=N in the environment, the Nth record write of
 * the process stores only its first HVKVP_TEST_KILL_PARTIAL bytes (default:
 * half) and the process kills itself with SIGKILL, i.e. a kill -9 in the
 * middle of a write. Unset: no effect. */
static long pool_kill_after = -2; /* -2: not read yet, -1: off */
static long pool_kill_partial = -1;

static void pool_maybe_die(int fd, size_t off, const void *p, size_t n) {
  if (pool_kill_after == -2) {
    const char *e = getenv("HVKVP_TEST_KILL_AFTER_WRITES");
    pool_kill_after = e != NULL ? strtol(e, NULL, 10) : -1;
    if (pool_kill_after <= 0)
      pool_kill_after = -1;
    e = getenv("HVKVP_TEST_KILL_PARTIAL");
    pool_kill_partial = e != NULL ? strtol(e, NULL, 10) : -1;
  }
  if (pool_kill_after < 0 || --pool_kill_after > 0)
    return;
  size_t part = pool_kill_partial >= 0 ? (size_t)pool_kill_partial : n / 2;
  ssize_t w = pwrite(fd, p, part < n ? part : n, (off_t)off);
  (void)w;
  raise(SIGKILL);
}

static int pool_write(int fd, size_t off, const void *p, size_t n,
                      const char *path, char *err, size_t errlen) {
  pool_maybe_die(fd, off, p, n);
  size_t done = 0;
  while (done < n) {
    ssize_t w =
        pwrite(fd, (const char *)p + done, n - done, (off_t)(off + done));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      snprintf(err, errlen, "%s: write: %s", path,
               w < 0 ? strerror(errno) : "no progress");
      return -1;
    }
    done += (size_t)w;
  }
  return 0;
}

/* Writes key (NULL: keep the record's key) and value into record rec as
 * one write: the fields are their text, a NUL, then zeros. The lengths were
 * checked by pool_check_item. */
static int pool_put_record(const pool_file_t *pf, size_t rec, const char *key,
                           const char *value, char *err, size_t errlen) {
  unsigned char r[POOL_REC];
  memset(r, 0, sizeof(r));
  if (key != NULL)
    memcpy(r, key, strlen(key) + 1);
  memcpy(r + POOL_KEY, value, strlen(value) + 1);
  size_t off = key != NULL ? 0 : POOL_KEY;
  return pool_write(pf->fd, rec * POOL_REC + off, r + off, POOL_REC - off,
                    pf->path, err, errlen);
}

/* ---- reading ---- */

typedef struct {
  hvkvp_items_t *out;
  const char *pfx;
  int skip_tombstones;
  size_t max_items; /* 0: no limit */
} pool_reader_t;

static int pool_read_record(size_t rec, const char *key, const char *value,
                            void *arg, char *err, size_t errlen) {
  pool_reader_t *rd = arg;
  (void)rec;
  if (rd->skip_tombstones && pool_is_tombstone(key, rd->pfx, strlen(rd->pfx)))
    return 0;
  if (hvkvp_items_get(rd->out, key) != NULL)
    return 0; /* a duplicate key: the first record is the one kept */
  if (rd->max_items > 0 && rd->out->n == rd->max_items) {
    snprintf(err, errlen, "more than %zu %s* records", rd->max_items, rd->pfx);
    return -1;
  }
  if (hvkvp_items_set(rd->out, key, value) != 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

static int pool_read_items(pool_store_t *ps, int pool, pool_reader_t *rd,
                           char *err, size_t errlen) {
  char path[PATH_MAX];
  pool_path(ps, pool, path, sizeof(path));
  hvkvp_items_init(rd->out);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0; /* no pool yet: no items */
    snprintf(err, errlen, "%s: open: %s", path, strerror(errno));
    return -1;
  }
  size_t nrec = 0;
  int rc = pool_lock(fd, F_RDLCK, path, err, errlen);
  if (rc == 0)
    rc = pool_scan(fd, path, rd->pfx, pool_read_record, rd, &nrec, err, errlen);
  close(fd); /* releases the daemon's lock */
  if (rc != 0)
    hvkvp_items_free(rd->out);
  return rc;
}

static int pool_read_own(hvkvp_store_t *s, const char *prefix,
                         hvkvp_items_t *out, char *err, size_t errlen) {
  char pfx[HVKVP_PREFIX_LEN + 2];
  snprintf(pfx, sizeof(pfx), "%s.", prefix);
  pool_reader_t rd = {.out = out, .pfx = pfx, .skip_tombstones = 1};
  return pool_read_items((pool_store_t *)s, 1, &rd, err, errlen);
}

static int pool_read_config(hvkvp_store_t *s, const char *prefix,
                            hvkvp_items_t *out, char *err, size_t errlen) {
  char pfx[HVKVP_PREFIX_LEN + 8];
  snprintf(pfx, sizeof(pfx), "%s.cfg.", prefix);
  pool_reader_t rd = {
      .out = out, .pfx = pfx, .max_items = POOL_MAX_CONFIG_ITEMS};
  return pool_read_items((pool_store_t *)s, 0, &rd, err, errlen);
}

/* ---- publishing: the own records of pool 1 ---- */

static void pool_file_free(pool_file_t *pf) {
  for (size_t i = 0; i < pf->n_own; i++) {
    free(pf->own[i].key);
    free(pf->own[i].value);
  }
  free(pf->own);
  pf->own = NULL;
  pf->n_own = pf->cap_own = 0;
  if (pf->fd >= 0)
    close(pf->fd); /* releases the fcntl lock and the flock */
  pf->fd = -1;
}

/* Appends an own record entry (rec must be past every entry's). */
static pool_own_t *pool_own_add(pool_file_t *pf, size_t rec, const char *key,
                                const char *value) {
  if (pf->n_own == pf->cap_own) {
    size_t ncap = pf->cap_own ? pf->cap_own * 2 : 64;
    pool_own_t *n = realloc(pf->own, ncap * sizeof(*n));
    if (n == NULL)
      return NULL;
    pf->own = n;
    pf->cap_own = ncap;
  }
  pool_own_t *o = &pf->own[pf->n_own];
  o->rec = rec;
  o->key = strdup(key);
  o->value = strdup(value);
  o->dead = 0;
  if (o->key == NULL || o->value == NULL) {
    free(o->key);
    free(o->value);
    return NULL;
  }
  pf->n_own++;
  return o;
}

static int pool_collect_own(size_t rec, const char *key, const char *value,
                            void *arg, char *err, size_t errlen) {
  if (pool_own_add(arg, rec, key, value) == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

static pool_own_t *pool_find(const pool_file_t *pf, const char *key) {
  for (size_t i = 0; i < pf->n_own; i++)
    if (strcmp(pf->own[i].key, key) == 0)
      return &pf->own[i];
  return NULL;
}

/* An own record a new key may take: a tombstone, or one deleted by this
 * publish. */
static pool_own_t *pool_find_free(const pool_file_t *pf) {
  for (size_t i = 0; i < pf->n_own; i++)
    if (pf->own[i].dead ||
        pool_is_tombstone(pf->own[i].key, pf->pfx, pf->pfxlen))
      return &pf->own[i];
  return NULL;
}

static int pool_replace(char **field, const char *text, char *err,
                        size_t errlen) {
  char *c = strdup(text);
  if (c == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  free(*field);
  *field = c;
  return 0;
}

/* Sets key=value: in place, in a free own record, or appended. */
static int pool_set(pool_file_t *pf, const char *key, const char *value,
                    char *err, size_t errlen) {
  pool_own_t *o = pool_find(pf, key);
  if (o != NULL) {
    o->dead = 0;
    if (strcmp(o->value, value) == 0)
      return 0; /* unchanged: no write */
    if (pool_put_record(pf, o->rec, NULL, value, err, errlen) != 0)
      return -1;
    return pool_replace(&o->value, value, err, errlen);
  }
  o = pool_find_free(pf);
  if (o == NULL) {
    o = pool_own_add(pf, pf->nrec, key, value);
    if (o == NULL) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    pf->nrec++;
  } else if (pool_replace(&o->key, key, err, errlen) != 0 ||
             pool_replace(&o->value, value, err, errlen) != 0) {
    return -1;
  }
  o->dead = 0;
  return pool_put_record(pf, o->rec, key, value, err, errlen);
}

/* Marks the own records of keys[0..n) dead. */
static void pool_mark_keys(pool_file_t *pf, char *const *keys, size_t n) {
  for (size_t d = 0; d < n; d++)
    for (size_t i = 0; i < pf->n_own; i++)
      if (strcmp(pf->own[i].key, keys[d]) == 0)
        pf->own[i].dead = 1;
}

/* Marks the records of f's deletions dead, and every later copy of an own
 * key (left by an older writer): only the first one is kept up to date.
 * None of them is named by the current head, so the new chunks may take
 * their place at once. */
static void pool_mark_dead(pool_file_t *pf, const hvkvp_frame_t *f) {
  pool_mark_keys(pf, f->del, f->n_del);
  for (size_t i = 0; i < pf->n_own; i++)
    for (size_t j = i + 1; j < pf->n_own && !pf->own[i].dead; j++)
      if (strcmp(pf->own[i].key, pf->own[j].key) == 0)
        pf->own[j].dead = 1;
}

/* Dead own records and tombstones at the end of the file are cut away;
 * dead ones before a live record become tombstones "PREFIX.free.<k>". */
static int pool_drop_dead(pool_file_t *pf, char *err, size_t errlen) {
  size_t keep = pf->nrec, n = pf->n_own;
  while (n > 0 && pf->own[n - 1].rec == keep - 1 &&
         (pf->own[n - 1].dead ||
          pool_is_tombstone(pf->own[n - 1].key, pf->pfx, pf->pfxlen))) {
    keep--;
    n--;
  }
  for (size_t i = 0; i < n; i++) {
    if (!pf->own[i].dead)
      continue;
    char tomb[HVKVP_PREFIX_LEN + 32];
    for (unsigned k = 0;; k++) {
      snprintf(tomb, sizeof(tomb), "%s" POOL_FREE_TAG "%u", pf->pfx, k);
      if (pool_find(pf, tomb) == NULL)
        break;
    }
    if (pool_put_record(pf, pf->own[i].rec, tomb, "", err, errlen) != 0 ||
        pool_replace(&pf->own[i].key, tomb, err, errlen) != 0 ||
        pool_replace(&pf->own[i].value, "", err, errlen) != 0)
      return -1;
    pf->own[i].dead = 0;
  }
  /* Also drops a partial trailing record left by a crashed appender. */
  if (ftruncate(pf->fd, (off_t)(keep * POOL_REC)) != 0) {
    snprintf(err, errlen, "%s: ftruncate: %s", pf->path, strerror(errno));
    return -1;
  }
  for (size_t i = n; i < pf->n_own; i++) {
    free(pf->own[i].key);
    free(pf->own[i].value);
  }
  pf->n_own = n;
  pf->nrec = keep;
  return 0;
}

static int pool_check_item(const hvkvp_item_t *it, const char *pfx,
                           size_t pfxlen, const char *path, char *err,
                           size_t errlen) {
  if (strlen(it->key) >= POOL_KEY || strlen(it->value) >= POOL_VALUE) {
    snprintf(err, errlen, "%s: item %.64s too long for a pool record", path,
             it->key);
    return -1;
  }
  if (strncmp(it->key, pfx, pfxlen) != 0) {
    snprintf(err, errlen, "%s: refusing to write %.64s: not under %s", path,
             it->key, pfx);
    return -1;
  }
  return 0;
}

/* "PREFIX." of the frame's head (put's last item), after checking every
 * item fits a record and is under it. */
static int pool_frame_prefix(const hvkvp_frame_t *f, const char *path,
                             char *pfx, char *err, size_t errlen) {
  if (f->put.n == 0) {
    snprintf(err, errlen, "%s: empty frame", path);
    return -1;
  }
  const hvkvp_item_t *head = &f->put.v[f->put.n - 1];
  size_t hlen = strlen(head->key);
  if (hlen < 6 || strcmp(head->key + hlen - 5, ".head") != 0 ||
      hlen - 4 >= HVKVP_PREFIX_LEN + 1) {
    snprintf(err, errlen, "%s: frame's last item %.64s is not a head", path,
             head->key);
    return -1;
  }
  memcpy(pfx, head->key, hlen - 4);
  pfx[hlen - 4] = '\0';
  for (size_t i = 0; i < f->put.n; i++)
    if (pool_check_item(&f->put.v[i], pfx, hlen - 4, path, err, errlen) != 0)
      return -1;
  return 0;
}

/* Opens pool 1 for writing with both locks: flock first (cloud-init), then
 * the daemon's fcntl lock; then reads its own records. */
static int pool_open_locked(pool_file_t *pf, char *err, size_t errlen) {
  pf->fd = open(pf->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (pf->fd < 0) {
    snprintf(err, errlen, "%s: open for writing: %s", pf->path,
             strerror(errno));
    return -1;
  }
  while (flock(pf->fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      snprintf(err, errlen, "%s: flock: %s", pf->path, strerror(errno));
      return -1;
    }
  }
  if (pool_lock(pf->fd, F_WRLCK, pf->path, err, errlen) != 0)
    return -1;
  return pool_scan(pf->fd, pf->path, pf->pfx, pool_collect_own, pf, &pf->nrec,
                   err, errlen);
}

static int pool_publish(hvkvp_store_t *s, const hvkvp_frame_t *f, char *err,
                        size_t errlen) {
  char path[PATH_MAX];
  pool_path((pool_store_t *)s, 1, path, sizeof(path));
  char pfx[HVKVP_PREFIX_LEN + 1];
  if (pool_frame_prefix(f, path, pfx, err, errlen) != 0)
    return -1;
  pool_file_t pf = {.fd = -1, .path = path, .pfx = pfx, .pfxlen = strlen(pfx)};
  int rc = pool_open_locked(&pf, err, errlen);
  if (rc == 0)
    pool_mark_dead(&pf, f);
  /* 1. the new slot's chunks */
  for (size_t i = 0; rc == 0 && i + 1 < f->put.n; i++)
    rc = pool_set(&pf, f->put.v[i].key, f->put.v[i].value, err, errlen);
  /* 2. the deletions */
  if (rc == 0)
    rc = pool_drop_dead(&pf, err, errlen);
  /* 3. the head */
  const hvkvp_item_t *head = &f->put.v[f->put.n - 1];
  if (rc == 0)
    rc = pool_set(&pf, head->key, head->value, err, errlen);
  /* 4. the old slot, which no head names any more */
  if (rc == 0 && f->n_after > 0) {
    pool_mark_keys(&pf, f->after, f->n_after);
    rc = pool_drop_dead(&pf, err, errlen);
  }
  pool_file_free(&pf);
  return rc;
}

static void pool_close(hvkvp_store_t *s) {
  free(s);
}

hvkvp_store_t *store_pool_open(const char *dir, char *err, size_t errlen) {
  if (dir == NULL || dir[0] == '\0')
    dir = "/var/lib/hyperv";
  pool_store_t *ps = calloc(1, sizeof(*ps));
  if (ps == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (strlen(dir) >= sizeof(ps->dir)) {
    snprintf(err, errlen, "pool directory path too long: %.64s...", dir);
    free(ps);
    return NULL;
  }
  struct stat st;
  if (stat(dir, &st) != 0) {
    snprintf(err, errlen, "pool directory %s: %s", dir, strerror(errno));
    free(ps);
    return NULL;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "pool directory %s: not a directory", dir);
    free(ps);
    return NULL;
  }
  /* absolute, so a daemon's chdir("/") does not change which files */
  char *abs = realpath(dir, NULL);
  snprintf(ps->dir, sizeof(ps->dir), "%s", abs != NULL ? abs : dir);
  free(abs);
  ps->base.kind = "pool";
  ps->base.read_own = pool_read_own;
  ps->base.publish = pool_publish;
  ps->base.read_config = pool_read_config;
  ps->base.close = pool_close;
  return &ps->base;
}
