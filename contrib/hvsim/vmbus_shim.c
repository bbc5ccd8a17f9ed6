/*
 * vmbus_shim.c: LD_PRELOAD shim that lets the real hv_kvp_daemon run
 * without a Hyper-V VMBus, for the Hyper-V simulator (contrib/hvsim).
 *
 * The daemon talks to the kernel through the character device
 * /dev/vmbus/hv_kvp: it open()s it, write()s one struct hv_kvp_msg
 * (7432 bytes) to register, then loops poll(POLLIN) / read() one message /
 * write() one reply. When a read or write fails or returns a short count it
 * closes the fd and opens the device again.
 *
 * This shim redirects every open of exactly "/dev/vmbus/hv_kvp" (open,
 * open64, openat, openat64 and the _FORTIFY_SOURCE variants) to a connected
 * AF_UNIX SOCK_SEQPACKET socket. The socket address is taken from the
 * environment variable HVSIM_VMBUS_SOCK: a filesystem path, or "@name" for
 * a Linux abstract socket. A SEQPACKET socket keeps message boundaries, so
 * one packet carries one struct hv_kvp_msg and poll/read/write/close on the
 * fd behave like the device: nothing else needs to be intercepted. End of
 * file (peer closed) makes read() return 0, which the daemon treats as a
 * failed read and answers by reopening, i.e. reconnecting. If nobody
 * listens, the open fails and the daemon exits.
 *
 * Optional: HVSIM_VMBUS_LOG_STDERR=1 makes openlog() add LOG_PERROR so the
 * daemon's syslog messages also go to its stderr (test diagnostics).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define SHIM_DEVICE "/dev/vmbus/hv_kvp"

/* The symbols below replace libc's; they need prototypes for -Werror. */
int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
void openlog(const char *ident, int option, int facility);

typedef int (*shim_openat_fn)(int, const char *, int, ...);
typedef void (*shim_openlog_fn)(const char *, int, int);

static int shim_is_device(const char *path) {
  return path != NULL && strcmp(path, SHIM_DEVICE) == 0;
}

/* Connects a SEQPACKET socket to $HVSIM_VMBUS_SOCK; returns the fd or -1
 * with errno set (ENXIO when the variable is missing or too long). */
static int shim_connect(int flags) {
  const char *addr = getenv("HVSIM_VMBUS_SOCK");
  struct sockaddr_un sun;
  socklen_t len;
  size_t n;
  int fd, saved;

  if (addr == NULL || addr[0] == '\0') {
    errno = ENXIO;
    return -1;
  }
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  n = strlen(addr);
  if (n >= sizeof(sun.sun_path)) {
    errno = ENXIO;
    return -1;
  }
  memcpy(sun.sun_path, addr, n);
  if (addr[0] == '@') {
    sun.sun_path[0] = '\0'; /* abstract namespace, not NUL-terminated */
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    len = (socklen_t)sizeof(sun);
  }
  fd = socket(AF_UNIX,
              SOCK_SEQPACKET | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *)&sun, len) != 0) {
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

static int shim_real_openat(int dirfd, const char *path, int flags,
                            mode_t mode) {
  static shim_openat_fn real;
  if (real == NULL)
    real = (shim_openat_fn)dlsym(RTLD_NEXT, "openat");
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real(dirfd, path, flags, mode);
}

static int shim_openat(int dirfd, const char *path, int flags, mode_t mode) {
  if (shim_is_device(path))
    return shim_connect(flags);
  return shim_real_openat(dirfd, path, flags, mode);
}

/* O_CREAT and O_TMPFILE are the only flags that carry a mode argument. */
#define SHIM_MODE(flags, last)                                                 \
  mode_t mode = 0;                                                             \
  if (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE) {                 \
    va_list ap;                                                                \
    va_start(ap, last);                                                        \
    mode = (mode_t)va_arg(ap, int);                                            \
    va_end(ap);                                                                \
  }

int open(const char *path, int flags, ...) {
  SHIM_MODE(flags, flags);
  return shim_openat(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  SHIM_MODE(flags, flags);
  return shim_openat(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
  SHIM_MODE(flags, flags);
  return shim_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
  SHIM_MODE(flags, flags);
  return shim_openat(dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags) {
  return shim_openat(AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags) {
  return shim_openat(AT_FDCWD, path, flags, 0);
}

int __openat_2(int dirfd, const char *path, int flags) {
  return shim_openat(dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags) {
  return shim_openat(dirfd, path, flags, 0);
}

void openlog(const char *ident, int option, int facility) {
  static shim_openlog_fn real;
  const char *e = getenv("HVSIM_VMBUS_LOG_STDERR");
  if (real == NULL)
    real = (shim_openlog_fn)dlsym(RTLD_NEXT, "openlog");
  if (e != NULL && strcmp(e, "1") == 0)
    option |= LOG_PERROR;
  if (real != NULL)
    real(ident, option, facility);
}
