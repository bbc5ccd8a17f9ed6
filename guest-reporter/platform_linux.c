/*
 * platform_linux.c - platform.h on Linux: clocks, getrandom, hostname,
 * signals posted as events and the wait between ticks (self-pipe + poll),
 * child processes for Exec entries (fork/exec, two pipes, process groups),
 * syslog, daemonising.
 */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static atomic_uint plat_posted; /* PLAT_EV_* bits not yet returned */
static int plat_pipe[2] = {-1, -1};

uint64_t plat_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double plat_wall_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int plat_hostname(char *buf, size_t bufsz, char *err, size_t errlen) {
  if (gethostname(buf, bufsz) != 0) {
    snprintf(err, errlen, "gethostname: %s", strerror(errno));
    return -1;
  }
  buf[bufsz - 1] = '\0';
  return 0;
}

static void plat_on_signal(int sig) {
  plat_post(sig == SIGHUP ? PLAT_EV_RELOAD : PLAT_EV_STOP);
}

void plat_post(unsigned events) {
  int saved = errno;
  atomic_fetch_or(&plat_posted, events);
  if (plat_pipe[1] >= 0) {
    char c = 1;
    ssize_t r = write(plat_pipe[1], &c, 1);
    (void)r;
  }
  errno = saved;
}

int plat_events_init(char *err, size_t errlen) {
  if (plat_pipe[0] < 0 && pipe2(plat_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    snprintf(err, errlen, "pipe2: %s", strerror(errno));
    return -1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = plat_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  int sigs[] = {SIGTERM, SIGINT, SIGHUP};
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
    if (sigaction(sigs[i], &sa, NULL) != 0) {
      snprintf(err, errlen, "sigaction(%d): %s", sigs[i], strerror(errno));
      return -1;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/* A post between the exchange and poll() left a byte in the pipe, so poll()
 * returns at once: no event is slept through. */
unsigned plat_wait(uint64_t timeout_ms) {
  unsigned ev = atomic_exchange(&plat_posted, 0u);
  if (ev != 0)
    return ev;
  struct pollfd pfd = {.fd = plat_pipe[0], .events = POLLIN};
  int ms = timeout_ms > 60000 ? 60000 : (int)timeout_ms;
  if (poll(plat_pipe[0] >= 0 ? &pfd : NULL, plat_pipe[0] >= 0 ? 1 : 0, ms) >
      0) {
    char buf[64];
    while (read(plat_pipe[0], buf, sizeof(buf)) > 0) {
    }
  }
  return atomic_exchange(&plat_posted, 0u);
}

/* ---- child processes ---- */

struct plat_proc {
  pid_t pid;
  int fd[2]; /* read ends of stdout and stderr; -1 once at their end */
};

static void plat_close_pair(int p[2]) {
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      close(p[i]);
  p[0] = p[1] = -1;
}

/* In the child: stdin from /dev/null, stdout and stderr to the pipes, then
 * exec; an exec error goes back through ep as errno. */
static void plat_child(char *const argv[], int out, int errfd, int ep) {
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) {
    dup2(devnull, 0);
    close(devnull);
  }
  dup2(out, 1);
  dup2(errfd, 2);
  execvp(argv[0], argv);
  int e = errno;
  ssize_t w = write(ep, &e, sizeof(e));
  (void)w;
  _exit(127);
}

/* errno of a failed exec, read from ep (closed by a successful exec). */
static int plat_exec_errno(int ep) {
  int e = 0;
  ssize_t r;
  do {
    r = read(ep, &e, sizeof(e));
  } while (r < 0 && errno == EINTR);
  return r == (ssize_t)sizeof(e) ? e : 0;
}

plat_proc_t *plat_proc_start(char *const argv[], char *err, size_t errlen) {
  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
    snprintf(err, errlen, "empty command");
    return NULL;
  }
  int out[2] = {-1, -1}, ef[2] = {-1, -1}, ep[2] = {-1, -1};
  plat_proc_t *p = calloc(1, sizeof(*p));
  if (p == NULL || pipe2(out, O_CLOEXEC) != 0 || pipe2(ef, O_CLOEXEC) != 0 ||
      pipe2(ep, O_CLOEXEC) != 0 || (p->pid = fork()) < 0) {
    snprintf(err, errlen, "cannot start %s: %s", argv[0],
             p == NULL ? "out of memory" : strerror(errno));
    plat_close_pair(out);
    plat_close_pair(ef);
    plat_close_pair(ep);
    free(p);
    return NULL;
  }
  if (p->pid == 0)
    plat_child(argv, out[1], ef[1], ep[1]);
  setpgid(p->pid, p->pid); /* both sides, to win the race */
  close(out[1]);
  close(ef[1]);
  close(ep[1]);
  int e = plat_exec_errno(ep[0]);
  close(ep[0]);
  p->fd[0] = out[0];
  p->fd[1] = ef[0];
  if (e != 0) {
    plat_exec_result_t res;
    plat_proc_finish(p, 0, &res);
    snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
    return NULL;
  }
  fcntl(p->fd[0], F_SETFL, O_NONBLOCK);
  fcntl(p->fd[1], F_SETFL, O_NONBLOCK);
  return p;
}

long plat_proc_read(plat_proc_t *p, uint64_t timeout_ms, int *stream, char *buf,
                    size_t cap) {
  if (p->fd[0] < 0 && p->fd[1] < 0)
    return -1;
  struct pollfd pfd[2] = {{.fd = p->fd[0], .events = POLLIN},
                          {.fd = p->fd[1], .events = POLLIN}};
  int ms = timeout_ms > 1000 ? 1000 : (int)timeout_ms;
  if (poll(pfd, 2, ms) <= 0)
    return 0;
  for (int i = 0; i < 2; i++) {
    if (p->fd[i] < 0 || pfd[i].revents == 0)
      continue;
    ssize_t n = read(p->fd[i], buf, cap);
    if (n > 0) {
      *stream = i + 1;
      return (long)n;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      close(p->fd[i]); /* end of output, or a read error */
      p->fd[i] = -1;
    }
  }
  return 0;
}

void plat_proc_finish(plat_proc_t *p, uint64_t timeout_ms,
                      plat_exec_result_t *res) {
  memset(res, 0, sizeof(*res));
  plat_close_pair(p->fd);
  uint64_t deadline = plat_mono_ms() + timeout_ms;
  int status = 0, reaped = 0;
  for (;;) {
    if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
      reaped = 1;
      break;
    }
    if (plat_mono_ms() >= deadline)
      break;
    struct timespec ts = {0, 10000000L}; /* 10 ms */
    nanosleep(&ts, NULL);
  }
  kill(-p->pid, SIGKILL); /* the group: leftovers, or the child itself */
  if (!reaped) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    res->timed_out = 1;
  }
  if (WIFEXITED(status) && reaped) {
    res->exited = 1;
    res->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res->killed_by = WTERMSIG(status);
  }
  free(p);
}

/* ---- syslog ---- */

void plat_syslog_open(const char *ident) {
  openlog(ident, LOG_PID, LOG_DAEMON);
}

void plat_syslog_write(int level, const char *msg) {
  static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
  syslog(prio[level < 0 ? 0 : level > 3 ? 3 : level], "%s", msg);
}

void plat_syslog_close(void) {
  closelog();
}

/* ---- process ---- */

int plat_daemonize(char *err, size_t errlen) {
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return -1;
  }
  if (pid > 0)
    _exit(0);
  if (setsid() < 0) {
    snprintf(err, errlen, "setsid: %s", strerror(errno));
    return -1;
  }
  pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return -1;
  }
  if (pid > 0)
    _exit(0);
  if (chdir("/") != 0) {
    snprintf(err, errlen, "chdir /: %s", strerror(errno));
    return -1;
  }
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
      close(fd);
  }
  return 0;
}

const char *plat_default_store(void) {
  return "pool";
}

hvkvp_store_t *plat_store_open(const char *arg, char *err, size_t errlen) {
  return store_pool_open(arg, err, errlen);
}

int plat_absolute_path(const char *path, char *out, size_t outsz) {
  char *abs = realpath(path, NULL);
  if (abs == NULL)
    return -1;
  int fits = strlen(abs) < outsz;
  if (fits)
    snprintf(out, outsz, "%s", abs);
  free(abs);
  return fits ? 0 : -1;
}

const char *plat_default_config_path(void) {
  return "/etc/hvkvp/hvkvp-reporter.conf";
}

int plat_service_dispatch(int argc, char **argv, int *rc) {
  (void)argc;
  (void)argv;
  (void)rc;
  return 0;
}
