/*
 * options.c - the connection options of a WS-Management client (wsman.h):
 * checked once, here, for everyone who fills them (the plugin's config,
 * hvkvpctl's command line); the password read from a file only if nobody
 * else may read it, and kept in one locked, never-dumped buffer that is
 * wiped when freed.
 */
#include "gss.h"
#include "wsman.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the password: one buffer of its own pages, kept out of core dumps
 * (MADV_DONTDUMP), locked in memory where allowed, wiped when freed ---- */

typedef struct {
  size_t size; /* of the whole mapping */
} secret_hdr_t;

static char *secret_alloc(size_t n) {
  long page = sysconf(_SC_PAGESIZE);
  size_t ps = page > 0 ? (size_t)page : 4096;
  size_t size = (sizeof(secret_hdr_t) + n + 1 + ps - 1) / ps * ps;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  (void)madvise(p, size, MADV_DONTDUMP);
  (void)mlock(p, size); /* best effort: RLIMIT_MEMLOCK may forbid it */
  ((secret_hdr_t *)p)->size = size;
  return (char *)p + sizeof(secret_hdr_t);
}

static void secret_free(char *s) {
  if (s == NULL)
    return;
  void *base = s - sizeof(secret_hdr_t);
  size_t size = ((secret_hdr_t *)base)->size;
  explicit_bzero(base, size);
  munlock(base, size);
  munmap(base, size);
}

int wsman_opts_set_password(wsman_opts_t *o, const char *pw, ws_err_t *err) {
  size_t n = strlen(pw);
  if (n > WSMAN_PASSWORD_MAX)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "the password is longer than %d bytes",
                      WSMAN_PASSWORD_MAX);
  char *s = secret_alloc(n);
  if (s == NULL)
    return ws_err_set(err, WS_ERR_CONFIG, "out of memory for the password");
  memcpy(s, pw, n + 1);
  secret_free(o->password);
  o->password = s;
  return 0;
}

/* Reads at most WSMAN_PASSWORD_MAX + 2 bytes of fd into a secret buffer. */
static int opts_read_secret(int fd, const char *path, char **out, size_t *len,
                            ws_err_t *err) {
  char *s = secret_alloc(WSMAN_PASSWORD_MAX + 2);
  size_t n = 0;
  if (s == NULL)
    return ws_err_set(err, WS_ERR_CONFIG, "out of memory for the password");
  while (n < WSMAN_PASSWORD_MAX + 2) {
    ssize_t r = read(fd, s + n, WSMAN_PASSWORD_MAX + 2 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      secret_free(s);
      return ws_err_set(err, WS_ERR_CONFIG, "%s: read error: %s", path,
                        strerror(errno));
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  s[n] = '\0';
  *out = s;
  *len = n;
  return 0;
}

/* The password is the first line; one line ending is allowed after it. */
static int opts_check_secret(const char *path, char *s, size_t n,
                             ws_err_t *err) {
  if (n > 0 && s[n - 1] == '\n')
    s[--n] = '\0';
  if (n > 0 && s[n - 1] == '\r')
    s[--n] = '\0';
  if (n > WSMAN_PASSWORD_MAX)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "%s: the password is longer than %d bytes (refused, "
                      "not cut)",
                      path, WSMAN_PASSWORD_MAX);
  if (n == 0)
    return ws_err_set(err, WS_ERR_CONFIG, "%s: the file is empty", path);
  if (strlen(s) != n || strpbrk(s, "\r\n") != NULL)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "%s: the file holds more than one line or a NUL byte",
                      path);
  return 0;
}

int wsman_opts_password_file(wsman_opts_t *o, const char *path, ws_err_t *err) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ws_err_set(err, WS_ERR_CONFIG, "%s: cannot open: %s", path,
                      strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return ws_err_set(err, WS_ERR_CONFIG, "%s: not a regular file", path);
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    close(fd);
    return ws_err_set(err, WS_ERR_CONFIG,
                      "%s: group or others may read or write it (mode %04o): "
                      "a password file must be mode 0600 or 0400",
                      path, (unsigned)(st.st_mode & 07777));
  }
  char *s = NULL;
  size_t n = 0;
  int rc = opts_read_secret(fd, path, &s, &n, err);
  close(fd);
  if (rc != 0)
    return -1;
  if (opts_check_secret(path, s, n, err) != 0) {
    secret_free(s);
    return -1;
  }
  secret_free(o->password);
  o->password = s;
  return 0;
}

void wsman_opts_free(wsman_opts_t *o) {
  if (o == NULL)
    return;
  free(o->url);
  free(o->user);
  secret_free(o->password);
  free(o->auth);
  free(o->cacert);
  free(o->encryption);
  free(o->keytab);
  free(o->principal);
  memset(o, 0, sizeof(*o));
}

static int opts_check_url(const char *url, ws_err_t *err) {
  if (url == NULL || url[0] == '\0')
    return ws_err_set(err, WS_ERR_CONFIG, "no WS-Management URL given");
  if (strchr(url, '@') != NULL) /* checked first: never echo credentials */
    return ws_err_set(err, WS_ERR_CONFIG,
                      "URL must not carry credentials: use the user and "
                      "password options");
  if (strncasecmp(url, "http://", 7) != 0 &&
      strncasecmp(url, "https://", 8) != 0)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "URL \"%.100s\" must start with http:// or https://",
                      url);
  return 0;
}

static int opts_check_files(const wsman_opts_t *o, ws_err_t *err) {
  if (o->cacert != NULL && access(o->cacert, R_OK) != 0)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "CA certificate file \"%.200s\" cannot be read: %s",
                      o->cacert, strerror(errno));
  if (o->keytab != NULL && access(o->keytab, R_OK) != 0)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "Kerberos keytab \"%.200s\" cannot be read: %s",
                      o->keytab, strerror(errno));
  return 0;
}

int wsman_opts_check(const wsman_opts_t *o, ws_err_t *err) {
  hva_mech_t mech = HVA_NEGOTIATE;
  hva_enc_t enc = HVA_ENC_AUTO;
  if (o == NULL)
    return ws_err_set(err, WS_ERR_CONFIG, "no options");
  if (opts_check_url(o->url, err) != 0)
    return -1;
  int basic = o->auth == NULL || strcasecmp(o->auth, "basic") == 0;
  if (!basic && hva_mech_parse(o->auth, &mech) != 0)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "unknown auth \"%.32s\" (basic, ntlm, negotiate, "
                      "kerberos)",
                      o->auth);
  if (o->encryption != NULL && hva_enc_parse(o->encryption, &enc) != 0)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "unknown encryption \"%.32s\" (auto, required, off)",
                      o->encryption);
  if (basic && enc == HVA_ENC_REQUIRED)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "Encryption \"required\" needs Auth kerberos, ntlm or "
                      "negotiate (Basic cannot seal messages)");
  if ((o->keytab != NULL || o->principal != NULL) &&
      (basic || mech == HVA_NTLM))
    return ws_err_set(err, WS_ERR_CONFIG,
                      "KerberosKeytab and KerberosPrincipal need Auth "
                      "kerberos or negotiate");
  if ((basic || mech == HVA_NTLM) && o->user != NULL && o->password == NULL)
    return ws_err_set(err, WS_ERR_CONFIG,
                      "Auth %s with User \"%.64s\" needs a password",
                      basic ? "basic" : "ntlm", o->user);
  if (mech == HVA_NTLM && !basic && o->user == NULL)
    return ws_err_set(err, WS_ERR_CONFIG, "Auth ntlm needs a User");
  return opts_check_files(o, err);
}
