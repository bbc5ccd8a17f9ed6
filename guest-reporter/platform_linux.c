/*
 * platform_linux.c - platform.h on Linux: clocks, getrandom, hostname,
 * signals posted as events and the wait between ticks (self-pipe + poll),
 * fork/exec with a timeout for Exec entries, syslog, daemonising.
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

/* ---- exec ---- */

static void plat_kill_group(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

int plat_exec(char *const argv[], uint64_t timeout_ms, size_t max_out,
              char **out, size_t *outlen, plat_exec_result_t *res, char *err,
              size_t errlen) {
  memset(res, 0, sizeof(*res));
  *out = NULL;
  *outlen = 0;
  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
    snprintf(err, errlen, "empty command");
    return -1;
  }
  char *buf = malloc(max_out + 1);
  if (buf == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int p[2];
  int ep[2]; /* exec error reporting: closed on successful exec */
  if (pipe2(p, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    free(buf);
    return -1;
  }
  if (pipe2(ep, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    free(buf);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    close(ep[0]);
    close(ep[1]);
    free(buf);
    return -1;
  }
  if (pid == 0) {
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
    dup2(p[1], 1);
    execvp(argv[0], argv);
    int e = errno;
    ssize_t w = write(ep[1], &e, sizeof(e));
    (void)w;
    _exit(127);
  }
  setpgid(pid, pid); /* both sides, to win the race */
  close(p[1]);
  close(ep[1]);
  int e = 0;
  ssize_t er;
  do {
    er = read(ep[0], &e, sizeof(e));
  } while (er < 0 && errno == EINTR);
  close(ep[0]);
  if (er == (ssize_t)sizeof(e)) {
    close(p[0]);
    waitpid(pid, NULL, 0);
    snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
    free(buf);
    return -1;
  }
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  uint64_t deadline = plat_mono_ms() + timeout_ms;
  size_t len = 0;
  int open_out = 1;
  int status = 0;
  int reaped = 0;
  while (open_out) {
    uint64_t now = plat_mono_ms();
    if (now >= deadline) {
      res->timed_out = 1;
      break;
    }
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    uint64_t left = deadline - now;
    int r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
    if (r < 0 && errno != EINTR)
      break;
    if (r <= 0)
      continue;
    char tmp[4096];
    ssize_t n = read(p[0], tmp, sizeof(tmp));
    if (n > 0) {
      size_t take = (size_t)n;
      if (len + take > max_out) {
        take = max_out - len;
        res->truncated = 1;
      }
      memcpy(buf + len, tmp, take);
      len += take;
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      open_out = 0; /* end of output, or a read error */
    }
  }
  close(p[0]);
  /* stdout closed (or timeout): wait for the exit until the deadline. */
  while (!res->timed_out) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      reaped = 1;
      break;
    }
    if (plat_mono_ms() >= deadline) {
      res->timed_out = 1;
      break;
    }
    struct timespec ts = {0, 10000000L}; /* 10 ms */
    nanosleep(&ts, NULL);
  }
  if (!reaped) {
    plat_kill_group(pid);
    waitpid(pid, &status, 0);
  } else {
    kill(-pid, SIGKILL); /* leftovers of the group (background children) */
  }
  if (WIFEXITED(status) && !res->timed_out) {
    res->exited = 1;
    res->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res->killed_by = WTERMSIG(status);
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  return 0;
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
