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
 * Write order for crash safety (kill -9 at any point): the new slot's
 * chunks, then the deletions, then the head, each a separate record write.
 * Until the head write the old head still names the old, untouched slot; a
 * torn head write mixes new and old head text, which fails the head grammar
 * or the CRC of the chunks it names, so a reader never decodes wrong values.
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
/* Pool files larger than this are refused (64 MiB, ~26000 records). */
#define POOL_MAX_BYTES (64L * 1024 * 1024)
#define POOL_FREE_TAG "free."

typedef struct {
  hvkvp_store_t base;
  char dir[PATH_MAX - 32];
} pool_store_t;

typedef struct {
  int fd;
  unsigned char *buf; /* whole records only */
  size_t nrec;
  size_t cap; /* records buf can hold */
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

static int pool_read_all(pool_file_t *pf, const char *path, char *err,
                         size_t errlen) {
  struct stat st;
  if (fstat(pf->fd, &st) != 0) {
    snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
    return -1;
  }
  if (st.st_size > POOL_MAX_BYTES) {
    snprintf(err, errlen, "%s: %lld bytes, more than the %ld byte limit", path,
             (long long)st.st_size, POOL_MAX_BYTES);
    return -1;
  }
  size_t nrec = (size_t)st.st_size / POOL_REC; /* partial tail ignored */
  pf->cap = nrec + 8;
  pf->buf = calloc(pf->cap, POOL_REC);
  if (pf->buf == NULL) {
    snprintf(err, errlen, "%s: out of memory for %zu records", path, nrec);
    return -1;
  }
  size_t want = nrec * POOL_REC, got = 0;
  while (got < want) {
    ssize_t r = pread(pf->fd, pf->buf + got, want - got, (off_t)got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
      return -1;
    }
    if (r == 0)
      break; /* shrank under us: cannot happen while locked */
    got += (size_t)r;
  }
  pf->nrec = got / POOL_REC;
  return 0;
}

static void pool_file_close(pool_file_t *pf) {
  free(pf->buf);
  pf->buf = NULL;
  if (pf->fd >= 0)
    close(pf->fd); /* releases the fcntl lock and the flock */
  pf->fd = -1;
}

/* Key of record i, or NULL when it has no NUL within 512 bytes (such a record
 * is foreign by definition and never touched). */
static const char *pool_key(const pool_file_t *pf, size_t i) {
  const char *k = (const char *)pf->buf + i * POOL_REC;
  return memchr(k, '\0', POOL_KEY) != NULL ? k : NULL;
}

/* Copies record i's value (cut at 2047 bytes if it has no NUL). */
static void pool_value(const pool_file_t *pf, size_t i, char *out) {
  const char *v = (const char *)pf->buf + i * POOL_REC + POOL_KEY;
  size_t n = strnlen(v, POOL_VALUE - 1);
  memcpy(out, v, n);
  out[n] = '\0';
}

static int pool_has_prefix(const char *key, const char *pfx, size_t pfxlen) {
  return key != NULL && strncmp(key, pfx, pfxlen) == 0;
}

static int pool_is_tombstone(const char *key, const char *pfx, size_t pfxlen) {
  return pool_has_prefix(key, pfx, pfxlen) &&
         strncmp(key + pfxlen, POOL_FREE_TAG, strlen(POOL_FREE_TAG)) == 0;
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

/* Writes key (may be NULL: keep) and value into record i, in memory and in
 * the file, as one write. */
static int pool_put_record(pool_file_t *pf, size_t i, const char *key,
                           const char *value, const char *path, char *err,
                           size_t errlen) {
  unsigned char *r = pf->buf + i * POOL_REC;
  size_t off = 0, len = POOL_REC;
  /* Each field is its text, its NUL, then zeros; the lengths were checked
   * against POOL_KEY and POOL_VALUE by pool_check_item. */
  if (key != NULL) {
    memset(r, 0, POOL_KEY);
    memcpy(r, key, strlen(key) + 1);
  } else {
    off = POOL_KEY;
    len = POOL_VALUE;
  }
  memset(r + POOL_KEY, 0, POOL_VALUE);
  memcpy(r + POOL_KEY, value, strlen(value) + 1);
  return pool_write(pf->fd, i * POOL_REC + off, r + off, len, path, err,
                    errlen);
}

/* ---- store.h ---- */

static int pool_read_items(pool_store_t *ps, int pool, const char *pfx,
                           int skip_tombstones, hvkvp_items_t *out, char *err,
                           size_t errlen) {
  char path[PATH_MAX];
  pool_path(ps, pool, path, sizeof(path));
  pool_file_t pf = {.fd = -1};
  hvkvp_items_init(out);
  pf.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (pf.fd < 0) {
    if (errno == ENOENT)
      return 0; /* no pool yet: no items */
    snprintf(err, errlen, "%s: open: %s", path, strerror(errno));
    return -1;
  }
  if (pool_lock(pf.fd, F_RDLCK, path, err, errlen) != 0 ||
      pool_read_all(&pf, path, err, errlen) != 0) {
    pool_file_close(&pf);
    return -1;
  }
  /* The file is in memory: release the daemon's lock at once. */
  close(pf.fd);
  pf.fd = -1;
  size_t pfxlen = strlen(pfx);
  char value[POOL_VALUE];
  for (size_t i = 0; i < pf.nrec; i++) {
    const char *k = pool_key(&pf, i);
    if (!pool_has_prefix(k, pfx, pfxlen))
      continue;
    if (skip_tombstones && pool_is_tombstone(k, pfx, pfxlen))
      continue;
    if (hvkvp_items_get(out, k) != NULL)
      continue; /* a duplicate key: the first record is the one kept */
    pool_value(&pf, i, value);
    if (hvkvp_items_set(out, k, value) != 0) {
      snprintf(err, errlen, "%s: out of memory", path);
      pool_file_close(&pf);
      hvkvp_items_free(out);
      return -1;
    }
  }
  pool_file_close(&pf);
  return 0;
}

static int pool_read_own(hvkvp_store_t *s, const char *prefix,
                         hvkvp_items_t *out, char *err, size_t errlen) {
  char pfx[HVKVP_PREFIX_LEN + 2];
  snprintf(pfx, sizeof(pfx), "%s.", prefix);
  return pool_read_items((pool_store_t *)s, 1, pfx, 1, out, err, errlen);
}

static int pool_read_config(hvkvp_store_t *s, const char *prefix,
                            hvkvp_items_t *out, char *err, size_t errlen) {
  char pfx[HVKVP_PREFIX_LEN + 8];
  snprintf(pfx, sizeof(pfx), "%s.cfg.", prefix);
  return pool_read_items((pool_store_t *)s, 0, pfx, 0, out, err, errlen);
}

static ssize_t pool_find(const pool_file_t *pf, const char *key) {
  for (size_t i = 0; i < pf->nrec; i++) {
    const char *k = pool_key(pf, i);
    if (k != NULL && strcmp(k, key) == 0)
      return (ssize_t)i;
  }
  return -1;
}

/* A record a new own key may take: a tombstone, or an own record deleted in
 * this publish (dead[i]). */
static ssize_t pool_find_free(const pool_file_t *pf, const char *pfx,
                              size_t pfxlen, const unsigned char *dead) {
  for (size_t i = 0; i < pf->nrec; i++) {
    if (dead[i] || pool_is_tombstone(pool_key(pf, i), pfx, pfxlen))
      return (ssize_t)i;
  }
  return -1;
}

/* Sets key=value: in place, in a free own record, or appended. */
static int pool_set(pool_file_t *pf, const char *key, const char *value,
                    const char *pfx, size_t pfxlen, unsigned char **dead,
                    const char *path, char *err, size_t errlen) {
  ssize_t i = pool_find(pf, key);
  if (i >= 0) {
    (*dead)[i] = 0;
    const char *cur = (const char *)pf->buf + (size_t)i * POOL_REC + POOL_KEY;
    if (strncmp(cur, value, POOL_VALUE) == 0)
      return 0; /* unchanged: no write */
    return pool_put_record(pf, (size_t)i, NULL, value, path, err, errlen);
  }
  i = pool_find_free(pf, pfx, pfxlen, *dead);
  if (i < 0) {
    if (pf->nrec == pf->cap) {
      size_t ncap = pf->cap * 2 + 8;
      unsigned char *nb = realloc(pf->buf, ncap * POOL_REC);
      unsigned char *nd = realloc(*dead, ncap);
      if (nb != NULL)
        pf->buf = nb;
      if (nd != NULL) {
        memset(nd + pf->cap, 0, ncap - pf->cap);
        *dead = nd;
      }
      if (nb == NULL || nd == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
      }
      pf->cap = ncap;
    }
    i = (ssize_t)pf->nrec++;
  }
  (*dead)[i] = 0;
  return pool_put_record(pf, (size_t)i, key, value, path, err, errlen);
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

static int pool_publish(hvkvp_store_t *s, const hvkvp_frame_t *f, char *err,
                        size_t errlen) {
  pool_store_t *ps = (pool_store_t *)s;
  char path[PATH_MAX];
  pool_path(ps, 1, path, sizeof(path));
  if (f->put.n == 0) {
    snprintf(err, errlen, "%s: empty frame", path);
    return -1;
  }
  /* The head is put's last item; its key is PREFIX.head. */
  const hvkvp_item_t *head = &f->put.v[f->put.n - 1];
  size_t hlen = strlen(head->key);
  if (hlen < 6 || strcmp(head->key + hlen - 5, ".head") != 0 ||
      hlen - 4 >= HVKVP_PREFIX_LEN + 1) {
    snprintf(err, errlen, "%s: frame's last item %.64s is not a head", path,
             head->key);
    return -1;
  }
  char pfx[HVKVP_PREFIX_LEN + 1];
  size_t pfxlen = hlen - 4; /* "PREFIX." */
  memcpy(pfx, head->key, pfxlen);
  pfx[pfxlen] = '\0';
  for (size_t i = 0; i < f->put.n; i++)
    if (pool_check_item(&f->put.v[i], pfx, pfxlen, path, err, errlen) != 0)
      return -1;

  pool_file_t pf = {.fd = -1};
  pf.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (pf.fd < 0) {
    snprintf(err, errlen, "%s: open for writing: %s", path, strerror(errno));
    return -1;
  }
  /* flock first (cloud-init), then the daemon's fcntl lock. */
  while (flock(pf.fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      snprintf(err, errlen, "%s: flock: %s", path, strerror(errno));
      pool_file_close(&pf);
      return -1;
    }
  }
  if (pool_lock(pf.fd, F_WRLCK, path, err, errlen) != 0 ||
      pool_read_all(&pf, path, err, errlen) != 0) {
    pool_file_close(&pf);
    return -1;
  }
  unsigned char *dead = calloc(pf.cap, 1);
  if (dead == NULL) {
    snprintf(err, errlen, "%s: out of memory", path);
    pool_file_close(&pf);
    return -1;
  }
  int rc = -1;
  /* Records to delete are marked first: none of them is named by the
   * current head, so the new chunks may take their place at once. */
  for (size_t d = 0; d < f->n_del; d++) {
    if (strncmp(f->del[d], pfx, pfxlen) != 0)
      continue; /* never delete a foreign key */
    for (size_t i = 0; i < pf.nrec; i++) {
      const char *k = pool_key(&pf, i);
      if (k != NULL && strcmp(k, f->del[d]) == 0)
        dead[i] = 1;
    }
  }
  /* A second record with the same own key (left by an older writer) is
   * dead too: only the first is kept up to date. */
  for (size_t i = 0; i < pf.nrec; i++) {
    const char *k = pool_key(&pf, i);
    if (!pool_has_prefix(k, pfx, pfxlen) || dead[i])
      continue;
    for (size_t j = i + 1; j < pf.nrec; j++) {
      const char *kj = pool_key(&pf, j);
      if (kj != NULL && strcmp(k, kj) == 0)
        dead[j] = 1;
    }
  }
  /* 1. the new slot's chunks */
  for (size_t i = 0; i + 1 < f->put.n; i++) {
    if (pool_set(&pf, f->put.v[i].key, f->put.v[i].value, pfx, pfxlen, &dead,
                 path, err, errlen) != 0)
      goto out;
  }
  /* 2. deletions left over: tombstones where a live record follows, then
   * the dead tail is cut. */
  size_t keep = pf.nrec;
  while (keep > 0 && (dead[keep - 1] ||
                      pool_is_tombstone(pool_key(&pf, keep - 1), pfx, pfxlen)))
    keep--;
  for (size_t i = 0; i < keep; i++) {
    if (!dead[i])
      continue;
    char tomb[HVKVP_PREFIX_LEN + 32];
    for (unsigned k = 0;; k++) {
      snprintf(tomb, sizeof(tomb), "%s" POOL_FREE_TAG "%u", pfx, k);
      if (pool_find(&pf, tomb) < 0)
        break;
    }
    if (pool_put_record(&pf, i, tomb, "", path, err, errlen) != 0)
      goto out;
    dead[i] = 0;
  }
  /* Also drops a partial trailing record left by a crashed appender. */
  if (ftruncate(pf.fd, (off_t)(keep * POOL_REC)) != 0) {
    snprintf(err, errlen, "%s: ftruncate: %s", path, strerror(errno));
    goto out;
  }
  pf.nrec = keep;
  /* 3. the head, last */
  if (pool_set(&pf, head->key, head->value, pfx, pfxlen, &dead, path, err,
               errlen) != 0)
    goto out;
  rc = 0;
out:
  free(dead);
  pool_file_close(&pf);
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
