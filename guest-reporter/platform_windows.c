/*
 * platform_windows.c - platform.h on Windows (Win32): clocks, BCryptGenRandom,
 * host name, stop events from the console (Ctrl-C, close, shutdown) and the
 * service control handler posted to the wait between ticks (an event),
 * CreateProcessW in a kill-on-close job object for Exec entries, and the
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
  HANDLE errdup = NULL;
  if (errh != NULL && errh != INVALID_HANDLE_VALUE &&
      !DuplicateHandle(GetCurrentProcess(), errh, GetCurrentProcess(), &errdup,
                       0, TRUE, DUPLICATE_SAME_ACCESS))
    errdup = NULL;
  if (in != NULL && in != INVALID_HANDLE_VALUE)
    list[nlist++] = in;
  list[nlist++] = out;
  if (errdup != NULL)
    list[nlist++] = errdup;

  STARTUPINFOEXW six;
  memset(&six, 0, sizeof(six));
  six.StartupInfo.cb = sizeof(six);
  six.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  six.StartupInfo.hStdInput = in;
  six.StartupInfo.hStdOutput = out;
  six.StartupInfo.hStdError = errdup != NULL ? errdup : errh;
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
  DWORD e = GetLastError();
  if (errdup != NULL)
    CloseHandle(errdup);
  SetLastError(e);
  return ok;
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
  wchar_t *cmd = platw_cmdline(argv);
  if (cmd == NULL) {
    snprintf(err, errlen,
             "cannot build a command line for %s (too long or "
             "not valid UTF-8)",
             argv[0]);
    return -1;
  }
  char *buf = malloc(max_out + 1);
  if (buf == NULL) {
    free(cmd);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
  HANDLE rd = NULL, wr = NULL, nul = INVALID_HANDLE_VALUE, job = NULL;
  PROCESS_INFORMATION pi;
  memset(&pi, 0, sizeof(pi));
  int rc = -1;
  if (!CreatePipe(&rd, &wr, &sa, 0)) {
    snprintf(err, errlen, "CreatePipe failed (error %lu)",
             (unsigned long)GetLastError());
    goto done;
  }
  SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
  nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    &sa, OPEN_EXISTING, 0, NULL);
  job = CreateJobObjectW(NULL, NULL);
  if (job != NULL) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
    memset(&li, 0, sizeof(li));
    li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li,
                            sizeof(li));
  }
  if (!platw_spawn(cmd, nul, wr, GetStdHandle(STD_ERROR_HANDLE), &pi)) {
    DWORD e = GetLastError();
    snprintf(err, errlen, "cannot run %s: CreateProcessW failed (error %lu%s)",
             argv[0], (unsigned long)e,
             e == ERROR_FILE_NOT_FOUND ? ": not found in PATH" : "");
    goto done;
  }
  /* Without a job (or if the process cannot join one), a timeout still
   * kills the direct child. */
  if (job != NULL && !AssignProcessToJobObject(job, pi.hProcess)) {
    CloseHandle(job);
    job = NULL;
  }
  ResumeThread(pi.hThread);
  CloseHandle(wr);
  wr = NULL;

  uint64_t deadline = plat_mono_ms() + timeout_ms;
  size_t len = 0;
  int open_out = 1;
  while (open_out) {
    uint64_t now = plat_mono_ms();
    if (now >= deadline) {
      res->timed_out = 1;
      break;
    }
    DWORD avail = 0;
    if (!PeekNamedPipe(rd, NULL, 0, NULL, &avail, NULL)) {
      open_out = 0; /* broken pipe: the child closed its stdout */
      break;
    }
    if (avail == 0) {
      /* Nothing to read: wait a little on the process itself. */
      if (WaitForSingleObject(pi.hProcess, 10) == WAIT_OBJECT_0) {
        if (!PeekNamedPipe(rd, NULL, 0, NULL, &avail, NULL) || avail == 0)
          open_out = 0;
      }
      continue;
    }
    char tmp[4096];
    DWORD got = 0;
    if (!ReadFile(rd, tmp, avail < sizeof(tmp) ? avail : sizeof(tmp), &got,
                  NULL) ||
        got == 0) {
      open_out = 0;
      break;
    }
    size_t take = got;
    if (len + take > max_out) {
      take = max_out - len;
      res->truncated = 1;
    }
    memcpy(buf + len, tmp, take);
    len += take;
  }
  if (!res->timed_out) {
    uint64_t now = plat_mono_ms();
    DWORD left = now >= deadline ? 0 : (DWORD)(deadline - now);
    if (WaitForSingleObject(pi.hProcess, left) != WAIT_OBJECT_0)
      res->timed_out = 1;
  }
  if (res->timed_out) {
    if (job != NULL)
      TerminateJobObject(job, 1);
    TerminateProcess(pi.hProcess, 1);
    WaitForSingleObject(pi.hProcess, 5000);
  } else {
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    res->exited = 1;
    res->exit_code = (int)code;
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  buf = NULL;
  rc = 0;
done:
  if (pi.hProcess != NULL)
    CloseHandle(pi.hProcess);
  if (pi.hThread != NULL)
    CloseHandle(pi.hThread);
  if (job != NULL)
    CloseHandle(job); /* kills what is left of the job */
  if (rd != NULL)
    CloseHandle(rd);
  if (wr != NULL)
    CloseHandle(wr);
  if (nul != INVALID_HANDLE_VALUE)
    CloseHandle(nul);
  free(buf);
  free(cmd);
  return rc;
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
