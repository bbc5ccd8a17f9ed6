/*
 * platform.h - the small operating-system interface the reporter core
 * (loop.c, reporter.c, exec.c, log.c, main.c) uses. platform_linux.c implements
 * it with POSIX calls, platform_windows.c with Win32. Everything else in the
 * core is portable C11 on top of this, store.h and collect.h.
 */
#ifndef HVKVP_PLATFORM_H
#define HVKVP_PLATFORM_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* ---- clocks ---- */
/* Monotonic milliseconds (never jumps; arbitrary origin). */
uint64_t plat_mono_ms(void);
/* Wall clock, unix seconds with sub-second precision. */
double plat_wall_time(void);

/* ---- identity ---- */
/* The machine's host name (not necessarily an FQDN). 0, or -1 with err. */
int plat_hostname(char *buf, size_t bufsz, char *err, size_t errlen);

/* ---- the wait between ticks (the loop around it is loop.c) ---- */
enum {
  PLAT_EV_STOP = 1u,   /* SIGTERM/SIGINT, console Ctrl-C, service stop */
  PLAT_EV_RELOAD = 2u, /* SIGHUP (Linux only) */
};

/* Installs the handlers that turn signals / console or service control
 * events into posted events. 0, or -1 with err set. */
int plat_events_init(char *err, size_t errlen);
/* Posts events (a PLAT_EV_* bit set). Asynchronous-signal-safe and
 * thread-safe: signal handlers, the Windows service control handler. */
void plat_post(unsigned events);
/* Blocks for at most timeout_ms, or until an event is posted. Returns the
 * events posted since the last call (and forgets them), 0 when none. It may
 * return 0 early: the caller checks its own deadline. */
unsigned plat_wait(uint64_t timeout_ms);

/* ---- child processes for Exec entries (the reading loop is exec.c's) --- */
typedef struct plat_proc plat_proc_t;

typedef struct {
  int exited; /* 1: exited normally, exit_code is valid */
  int exit_code;
  int timed_out; /* 1: still running at the deadline and killed */
  int killed_by; /* signal number (Linux) that ended it, 0 if none */
} plat_exec_result_t;

/* Starts argv[0] (searched in PATH) with argv, no shell, stdin from the
 * null device, stdout and stderr into two pipes, in a process group (Linux)
 * or a kill-on-close job (Windows) of its own. NULL with err when it could
 * not be started. */
plat_proc_t *plat_proc_start(char *const argv[], char *err, size_t errlen);
/* Waits at most timeout_ms for output and reads what is there (at most cap
 * bytes) from stdout (*stream = 1) or stderr (*stream = 2). Returns the
 * number of bytes, 0 when nothing came in time, -1 when both pipes are at
 * their end (or the child is gone and nothing is left to read). */
long plat_proc_read(plat_proc_t *p, uint64_t timeout_ms, int *stream, char *buf,
                    size_t cap);
/* Waits at most timeout_ms for the child to exit, kills it with its group
 * or job if it is still running (timed_out) and whatever it left behind,
 * fills res and frees p. */
void plat_proc_finish(plat_proc_t *p, uint64_t timeout_ms,
                      plat_exec_result_t *res);

/* ---- system log sink (used by log.c when running as a daemon/service) --
 * level: 0 error, 1 warning, 2 info, 3 debug. */
void plat_syslog_open(const char *ident);
void plat_syslog_write(int level, const char *msg);
void plat_syslog_close(void);

/* ---- process ---- */
/* Detaches from the terminal (Linux: fork, setsid, chdir /, stdio to
 * /dev/null). 0 in the daemon, -1 with err on failure. Windows: -1
 * ("use the service mode"). */
int plat_daemonize(char *err, size_t errlen);
/* The store used when the configuration names none: "pool" on Linux,
 * "registry" on Windows. */
const char *plat_default_store(void);
/* Opens this platform's store (the kind plat_default_store names) with
 * its argument: DIR or Auto|Guest, "" for the default. NULL with err. */
hvkvp_store_t *plat_store_open(const char *arg, char *err, size_t errlen);
/* The absolute form of path in out. 0, or -1 (out unchanged). */
int plat_absolute_path(const char *path, char *out, size_t outsz);
/* The default configuration file path. */
const char *plat_default_config_path(void);
/* Platform-specific command modes, tried by main() before the normal
 * command line: Windows handles "service install|uninstall|run"
 * (service_windows.c) and returns 1 with *rc set; Linux returns 0. */
int plat_service_dispatch(int argc, char **argv, int *rc);

#endif
