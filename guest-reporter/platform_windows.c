/*
 * platform_windows.c - platform.h on Windows (Win32): clocks, BCryptGenRandom,
 * host name, stop events from the console (Ctrl-C, close, shutdown) and the
 * service control handler posted to the wait between ticks (an event),
 * child processes for Exec entries (CreateProcessW in a kill-on-close job
 * object, stdout and stderr through two pipes), and the
 * Windows event log as the system log. The service command modes and
 * plat_daemonize live in service_windows.c.
 */
#include "platform.h"
#include "cmdline_windows.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* 100 ns ticks between 1601-01-01 (FILETIME) and 1970-01-01 (unix). */
#define PLATW_EPOCH_DIFF 116444736000000000ULL

static volatile LONG platw_posted; /* PLAT_EV_* bits not yet returned */
static HANDLE platw_wake; /* auto-reset event; NULL before plat_events_init */
static HANDLE platw_evlog;

uint64_t plat_mono_ms(void) {
  return (uint64_t)GetTickCount64();
}

double plat_wall_time(void) {
  FILETIME ft;
  GetSystemTimeAsFileTime(&ft);
  uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
  if (t < PLATW_EPOCH_DIFF)
    return 0.0;
  t -= PLATW_EPOCH_DIFF;
  return (double)(t / 10000000ULL) + (double)(t % 10000000ULL) / 1e7;
}

int plat_hostname(char *buf, size_t bufsz, char *err, size_t errlen) {
  wchar_t w[256];
  DWORD n = (DWORD)(sizeof(w) / sizeof(w[0]));
  if (!GetComputerNameExW(ComputerNameDnsHostname, w, &n) || n == 0) {
    n = (DWORD)(sizeof(w) / sizeof(w[0]));
    if (!GetComputerNameW(w, &n)) {
      snprintf(err, errlen, "GetComputerNameExW failed (error %lu)",
               (unsigned long)GetLastError());
      return -1;
    }
  }
  int k = WideCharToMultiByte(CP_UTF8, 0, w, (int)n, buf, (int)bufsz - 1, NULL,
                              NULL);
  if (k <= 0) {
    snprintf(err, errlen, "host name does not fit in %zu bytes", bufsz);
    return -1;
  }
  buf[k] = '\0';
  return 0;
}

/* ---- events and the wait between ticks ---- */

void plat_post(unsigned events) {
  InterlockedOr(&platw_posted, (LONG)events);
  if (platw_wake != NULL)
    SetEvent(platw_wake);
}

static BOOL WINAPI platw_console_handler(DWORD type) {
  switch (type) {
  case CTRL_C_EVENT:
  case CTRL_BREAK_EVENT:
  case CTRL_CLOSE_EVENT:
  case CTRL_LOGOFF_EVENT:
  case CTRL_SHUTDOWN_EVENT:
    plat_post(PLAT_EV_STOP);
    return TRUE;
  default:
    return FALSE;
  }
}

int plat_events_init(char *err, size_t errlen) {
  if (platw_wake == NULL) {
    HANDLE h = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (h == NULL) {
      snprintf(err, errlen, "CreateEventW failed (error %lu)",
               (unsigned long)GetLastError());
      return -1;
    }
    if (InterlockedCompareExchangePointer((PVOID volatile *)&platw_wake, h,
                                          NULL) != NULL)
      CloseHandle(h);
  }
  /* A service has no console: the call fails there and that is fine. */
  SetConsoleCtrlHandler(platw_console_handler, TRUE);
  return 0;
}

/* Events posted before the wake event existed are in platw_posted and are
 * returned by the first exchange. */
unsigned plat_wait(uint64_t timeout_ms) {
  unsigned ev = (unsigned)InterlockedExchange(&platw_posted, 0);
  if (ev != 0)
    return ev;
  DWORD ms = timeout_ms > 60000 ? 60000 : (DWORD)timeout_ms;
  if (platw_wake != NULL)
    WaitForSingleObject(platw_wake, ms);
  else
    Sleep(ms > 100 ? 100 : ms);
  return (unsigned)InterlockedExchange(&platw_posted, 0);
}

/* ---- exec ---- */

/* Builds the command line from UTF-8 argv (malloc'd) or NULL. */
static wchar_t *platw_cmdline(char *const argv[]) {
  size_t cap = 32768; /* CreateProcessW's limit */
  wchar_t *cmd = malloc(cap * sizeof(wchar_t));
  if (cmd == NULL)
    return NULL;
  cmd[0] = L'\0';
  for (size_t i = 0; argv[i] != NULL; i++) {
    int n = MultiByteToWideChar(CP_UTF8, 0, argv[i], -1, NULL, 0);
    if (n <= 0) {
      free(cmd);
      return NULL;
    }
    wchar_t *w = malloc((size_t)n * sizeof(wchar_t));
    if (w == NULL) {
      free(cmd);
      return NULL;
    }
    MultiByteToWideChar(CP_UTF8, 0, argv[i], -1, w, n);
    int r = cmdline_append(cmd, cap, w);
    free(w);
    if (r < 0) {
      free(cmd);
      return NULL;
    }
  }
  return cmd;
}

/* Starts cmd suspended with the given standard handles. The child inherits
 * only those handles (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), not the log file or
 * anything else the reporter has open; if the system refuses the list
 * (old console pseudo-handles), plain inheritance is the fallback. */
static BOOL platw_spawn(wchar_t *cmd, HANDLE in, HANDLE out, HANDLE errh,
                        PROCESS_INFORMATION *pi) {
  const DWORD flags = CREATE_SUSPENDED | CREATE_NO_WINDOW;
  HANDLE list[3];
  DWORD nlist = 0;
  if (in != NULL && in != INVALID_HANDLE_VALUE)
    list[nlist++] = in;
  list[nlist++] = out;
  list[nlist++] = errh;

  STARTUPINFOEXW six;
  memset(&six, 0, sizeof(six));
  six.StartupInfo.cb = sizeof(six);
  six.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  six.StartupInfo.hStdInput = in;
  six.StartupInfo.hStdOutput = out;
  six.StartupInfo.hStdError = errh;
  BOOL ok = FALSE;
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = size > 0 ? malloc(size) : NULL;
  if (attrs != NULL && InitializeProcThreadAttributeList(attrs, 1, 0, &size)) {
    six.lpAttributeList = attrs;
    if (UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                  list, nlist * sizeof(HANDLE), NULL, NULL))
      ok = CreateProcessW(NULL, cmd, NULL, NULL, TRUE,
                          flags | EXTENDED_STARTUPINFO_PRESENT, NULL, NULL,
                          &six.StartupInfo, pi);
    DeleteProcThreadAttributeList(attrs);
  }
  free(attrs);
  if (!ok && (six.lpAttributeList == NULL ||
              GetLastError() == ERROR_INVALID_PARAMETER)) {
    six.StartupInfo.cb = sizeof(STARTUPINFOW);
    ok = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, flags, NULL, NULL,
                        &six.StartupInfo, pi);
  }
  return ok;
}

struct plat_proc {
  HANDLE proc;
  HANDLE job;   /* NULL when the child could not join one */
  HANDLE rd[2]; /* read ends of stdout and stderr; NULL once at their end */
};

/* An anonymous pipe whose write end the child inherits. */
static int platw_pipe(HANDLE *rd, HANDLE *wr) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
  if (!CreatePipe(rd, wr, &sa, 0))
    return -1;
  SetHandleInformation(*rd, HANDLE_FLAG_INHERIT, 0);
  return 0;
}

/* A job that kills what is left of the child when it is closed. */
static HANDLE platw_job(void) {
  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (job != NULL) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
    memset(&li, 0, sizeof(li));
    li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li,
                            sizeof(li));
  }
  return job;
}

static void platw_close(HANDLE *h) {
  if (*h != NULL && *h != INVALID_HANDLE_VALUE)
    CloseHandle(*h);
  *h = NULL;
}

/* Spawns cmd into p with the write ends wr[0] (stdout) and wr[1] (stderr). */
static int platw_start(plat_proc_t *p, wchar_t *cmd, HANDLE wr[2],
                       const char *name, char *err, size_t errlen) {
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
  HANDLE nul =
      CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                  OPEN_EXISTING, 0, NULL);
  PROCESS_INFORMATION pi;
  memset(&pi, 0, sizeof(pi));
  p->job = platw_job();
  BOOL ok = platw_spawn(cmd, nul, wr[0], wr[1], &pi);
  DWORD e = GetLastError();
  platw_close(&nul);
  if (!ok) {
    snprintf(err, errlen, "cannot run %s: CreateProcessW failed (error %lu%s)",
             name, (unsigned long)e,
             e == ERROR_FILE_NOT_FOUND ? ": not found in PATH" : "");
    return -1;
  }
  /* Without a job (or if the process cannot join one), a timeout still
   * kills the direct child. */
  if (p->job != NULL && !AssignProcessToJobObject(p->job, pi.hProcess))
    platw_close(&p->job);
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  p->proc = pi.hProcess;
  return 0;
}

plat_proc_t *plat_proc_start(char *const argv[], char *err, size_t errlen) {
  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
    snprintf(err, errlen, "empty command");
    return NULL;
  }
  wchar_t *cmd = platw_cmdline(argv);
  plat_proc_t *p = calloc(1, sizeof(*p));
  HANDLE wr[2] = {NULL, NULL};
  int rc = -1;
  if (cmd == NULL)
    snprintf(err, errlen,
             "cannot build a command line for %s (too long or not valid "
             "UTF-8)",
             argv[0]);
  else if (p == NULL)
    snprintf(err, errlen, "out of memory");
  else if (platw_pipe(&p->rd[0], &wr[0]) != 0 ||
           platw_pipe(&p->rd[1], &wr[1]) != 0)
    snprintf(err, errlen, "CreatePipe failed (error %lu)",
             (unsigned long)GetLastError());
  else
    rc = platw_start(p, cmd, wr, argv[0], err, errlen);
  platw_close(&wr[0]); /* the child has its own copies */
  platw_close(&wr[1]);
  free(cmd);
  if (rc != 0 && p != NULL) {
    platw_close(&p->rd[0]);
    platw_close(&p->rd[1]);
    platw_close(&p->job);
    free(p);
    p = NULL;
  }
  return p;
}

/* Bytes waiting in pipe i, or -1 at its end (the pipe is closed then). */
static long platw_avail(plat_proc_t *p, int i) {
  DWORD avail = 0;
  if (p->rd[i] == NULL)
    return -1;
  if (!PeekNamedPipe(p->rd[i], NULL, 0, NULL, &avail, NULL)) {
    platw_close(&p->rd[i]); /* broken: every writer closed it */
    return -1;
  }
  return (long)avail;
}

/* Reads from pipe i if it holds data: bytes read, 0 if empty, -1 at its end
 * (the pipe is closed then). */
static long platw_try_read(plat_proc_t *p, int i, char *buf, size_t cap) {
  long avail = platw_avail(p, i);
  DWORD got = 0;
  if (avail <= 0)
    return avail;
  DWORD want = (size_t)avail < cap ? (DWORD)avail : (DWORD)cap;
  if (!ReadFile(p->rd[i], buf, want, &got, NULL) || got == 0) {
    platw_close(&p->rd[i]);
    return -1;
  }
  return (long)got;
}

long plat_proc_read(plat_proc_t *p, uint64_t timeout_ms, int *stream, char *buf,
                    size_t cap) {
  uint64_t deadline = plat_mono_ms() + (timeout_ms > 1000 ? 1000 : timeout_ms);
  for (;;) {
    int open = 0;
    for (int i = 0; i < 2; i++) {
      long n = platw_try_read(p, i, buf, cap);
      if (n > 0) {
        *stream = i + 1;
        return n;
      }
      open += n == 0;
    }
    if (open == 0)
      return -1;
    uint64_t now = plat_mono_ms();
    if (now >= deadline)
      return 0;
    /* Nothing to read: wait a little on the process itself. A child that
     * is gone with empty pipes is done (a background child of its own may
     * still hold them open). */
    DWORD ms = deadline - now < 10 ? (DWORD)(deadline - now) : 10;
    if (WaitForSingleObject(p->proc, ms) == WAIT_OBJECT_0 &&
        platw_avail(p, 0) <= 0 && platw_avail(p, 1) <= 0)
      return -1;
  }
}

void plat_proc_finish(plat_proc_t *p, uint64_t timeout_ms,
                      plat_exec_result_t *res) {
  memset(res, 0, sizeof(*res));
  platw_close(&p->rd[0]);
  platw_close(&p->rd[1]);
  DWORD ms = timeout_ms > 0xFFFFFFF0u ? 0xFFFFFFF0u : (DWORD)timeout_ms;
  if (WaitForSingleObject(p->proc, ms) != WAIT_OBJECT_0) {
    res->timed_out = 1;
    if (p->job != NULL)
      TerminateJobObject(p->job, 1);
    TerminateProcess(p->proc, 1);
    WaitForSingleObject(p->proc, 5000);
  } else {
    DWORD code = 0;
    GetExitCodeProcess(p->proc, &code);
    res->exited = 1;
    res->exit_code = (int)code;
  }
  platw_close(&p->proc);
  platw_close(&p->job); /* kills what is left of the job */
  free(p);
}

/* ---- system log: the Windows event log (Application) ---- */

void plat_syslog_open(const char *ident) {
  if (platw_evlog != NULL)
    return;
  wchar_t w[128];
  if (MultiByteToWideChar(CP_UTF8, 0, ident, -1, w, 128) <= 0)
    wcscpy(w, L"hvkvp-reporter");
  platw_evlog = RegisterEventSourceW(NULL, w);
}

void plat_syslog_write(int level, const char *msg) {
  static const WORD types[] = {EVENTLOG_ERROR_TYPE, EVENTLOG_WARNING_TYPE,
                               EVENTLOG_INFORMATION_TYPE,
                               EVENTLOG_INFORMATION_TYPE};
  wchar_t w[1024];
  if (MultiByteToWideChar(CP_UTF8, 0, msg, -1, w, 1024) <= 0)
    wcscpy(w, L"(message not valid UTF-8)");
  w[1023] = L'\0';
  if (platw_evlog == NULL) {
    OutputDebugStringW(w);
    return;
  }
  const wchar_t *strs[1] = {w};
  ReportEventW(platw_evlog,
               types[level < 0   ? 0
                     : level > 3 ? 3
                                 : level],
               0, 0, NULL, 1, 0, strs, NULL);
}

void plat_syslog_close(void) {
  if (platw_evlog != NULL)
    DeregisterEventSource(platw_evlog);
  platw_evlog = NULL;
}

/* ---- process ---- */

/* plat_daemonize is in service_windows.c: it depends on whether the Service
 * Control Manager started us. */

const char *plat_default_store(void) {
  return "registry";
}

hvkvp_store_t *plat_store_open(const char *arg, char *err, size_t errlen) {
  return store_registry_open(arg, err, errlen);
}

int plat_absolute_path(const char *path, char *out, size_t outsz) {
  char buf[MAX_PATH * 3];
  if (_fullpath(buf, path, sizeof(buf)) == NULL || strlen(buf) >= outsz)
    return -1;
  snprintf(out, outsz, "%s", buf);
  return 0;
}

const char *plat_default_config_path(void) {
  static char path[MAX_PATH * 3];
  if (path[0] == '\0') {
    wchar_t w[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"ProgramData", w, MAX_PATH);
    char base[MAX_PATH * 3] = "C:\\ProgramData";
    if (n > 0 && n < MAX_PATH) {
      int k = WideCharToMultiByte(CP_UTF8, 0, w, -1, base, (int)sizeof(base),
                                  NULL, NULL);
      if (k <= 0)
        snprintf(base, sizeof(base), "C:\\ProgramData");
    }
    snprintf(path, sizeof(path), "%s\\hvkvp\\hvkvp-reporter.conf", base);
  }
  return path;
}
