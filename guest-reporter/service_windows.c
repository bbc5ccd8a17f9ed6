/*
 * service_windows.c - hvkvp-reporter as a Windows service:
 *   hvkvp-reporter service install [reporter options...]
 *   hvkvp-reporter service uninstall
 *   hvkvp-reporter service run [reporter options...]   (started by the SCM)
 * install registers an auto-start service (LocalSystem, which may write
 * HKLM\SOFTWARE\Microsoft\Virtual Machine) whose command line is
 * "<this exe>" service run <options>; run connects to the Service Control
 * Manager and runs the normal reporter (command_line.h) on the service thread;
 * the SCM's stop and shutdown controls post PLAT_EV_STOP (platform.h), so the
 * reporter finishes its cycle and exits cleanly. Without "service" the
 * reporter runs in the console as usual (platform_windows.c handles Ctrl-C).
 */
#include "cmdline_windows.h"
#include "command_line.h"
#include "log.h"
#include "platform.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define SVC_NAME L"hvkvp-reporter"
#define SVC_DISPLAY L"hvkvp KVP telemetry reporter"
#define SVC_DESCRIPTION                                                        \
  L"Publishes metrics to the Hyper-V host through the KVP data exchange "      \
  L"and applies configuration pushed by the host (hvkvp)."
#define SVC_CMDLINE_MAX 32768

static SERVICE_STATUS_HANDLE svc_handle;
static SERVICE_STATUS svc_status;
static int svc_argc;
static char **svc_argv;
static int svc_rc;

static void svc_print_error(const char *what, DWORD code) {
  wchar_t wsys[256];
  char sys[512] = "";
  DWORD n =
      FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                     NULL, code, 0, wsys, 256, NULL);
  while (n > 0 && (wsys[n - 1] == L'\r' || wsys[n - 1] == L'\n' ||
                   wsys[n - 1] == L'.' || wsys[n - 1] == L' '))
    n--;
  if (n > 0) {
    int k = WideCharToMultiByte(CP_UTF8, 0, wsys, (int)n, sys,
                                (int)sizeof(sys) - 1, NULL, NULL);
    sys[k > 0 ? k : 0] = '\0';
  }
  const char *hint = "";
  if (code == ERROR_ACCESS_DENIED)
    hint = " (run from an elevated prompt, as Administrator)";
  else if (code == ERROR_SERVICE_EXISTS)
    hint = " (run 'hvkvp-reporter service uninstall' first)";
  else if (code == ERROR_SERVICE_DOES_NOT_EXIST)
    hint = " (it is not installed)";
  fprintf(stderr, "hvkvp-reporter: %s: %s (error %lu)%s\n", what,
          sys[0] != '\0' ? sys : "unknown error", (unsigned long)code, hint);
}

/* Arguments reach main() in the ANSI code page. */
static int svc_append_ansi(wchar_t *cmd, size_t cap, const char *arg) {
  int n = MultiByteToWideChar(CP_ACP, 0, arg, -1, NULL, 0);
  if (n <= 0)
    return -1;
  wchar_t *w = malloc((size_t)n * sizeof(wchar_t));
  if (w == NULL)
    return -1;
  MultiByteToWideChar(CP_ACP, 0, arg, -1, w, n);
  int r = cmdline_append(cmd, cap, w);
  free(w);
  return r;
}

static int svc_install(int argc, char **argv) {
  wchar_t exe[MAX_PATH];
  DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) {
    svc_print_error("cannot find the path of this program", GetLastError());
    return 1;
  }
  wchar_t *cmd = calloc(SVC_CMDLINE_MAX, sizeof(wchar_t));
  if (cmd == NULL) {
    fprintf(stderr, "hvkvp-reporter: out of memory\n");
    return 1;
  }
  int bad = cmdline_append(cmd, SVC_CMDLINE_MAX, exe) != 0 ||
            cmdline_append(cmd, SVC_CMDLINE_MAX, L"service") != 0 ||
            cmdline_append(cmd, SVC_CMDLINE_MAX, L"run") != 0;
  for (int i = 3; i < argc && !bad; i++)
    bad = svc_append_ansi(cmd, SVC_CMDLINE_MAX, argv[i]) != 0;
  if (bad) {
    fprintf(stderr, "hvkvp-reporter: service command line too long\n");
    free(cmd);
    return 2;
  }
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
  if (scm == NULL) {
    svc_print_error("cannot open the Service Control Manager", GetLastError());
    free(cmd);
    return 1;
  }
  SC_HANDLE svc = CreateServiceW(scm, SVC_NAME, SVC_DISPLAY, SERVICE_ALL_ACCESS,
                                 SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                 SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL,
                                 NULL /* LocalSystem */, NULL);
  if (svc == NULL) {
    svc_print_error("cannot create the service hvkvp-reporter", GetLastError());
    CloseServiceHandle(scm);
    free(cmd);
    return 1;
  }
  SERVICE_DESCRIPTIONW desc = {(LPWSTR)SVC_DESCRIPTION};
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc);
  /* Restart after a crash: 10 s, then 60 s; reset the count after a day. */
  SC_ACTION acts[2] = {{SC_ACTION_RESTART, 10000}, {SC_ACTION_RESTART, 60000}};
  SERVICE_FAILURE_ACTIONSW fa;
  memset(&fa, 0, sizeof(fa));
  fa.dwResetPeriod = 86400;
  fa.cActions = 2;
  fa.lpsaActions = acts;
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa);
  printf("hvkvp-reporter: service installed: %ls\n"
         "start it with: sc start hvkvp-reporter\n",
         cmd);
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  free(cmd);
  return 0;
}

static int svc_uninstall(void) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  if (scm == NULL) {
    svc_print_error("cannot open the Service Control Manager", GetLastError());
    return 1;
  }
  SC_HANDLE svc =
      OpenServiceW(scm, SVC_NAME, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
  if (svc == NULL) {
    svc_print_error("cannot open the service hvkvp-reporter", GetLastError());
    CloseServiceHandle(scm);
    return 1;
  }
  SERVICE_STATUS st;
  if (ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
    /* Wait up to 30 s for the reporter to finish its cycle. */
    for (int i = 0; i < 300 && st.dwCurrentState != SERVICE_STOPPED; i++) {
      Sleep(100);
      if (!QueryServiceStatus(svc, &st))
        break;
    }
  }
  int rc = 0;
  if (!DeleteService(svc)) {
    svc_print_error("cannot delete the service hvkvp-reporter", GetLastError());
    rc = 1;
  } else {
    printf("hvkvp-reporter: service removed\n");
  }
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

static void svc_set_state(DWORD state, DWORD wait_hint) {
  svc_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  svc_status.dwCurrentState = state;
  svc_status.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN
                               : 0;
  svc_status.dwWaitHint = wait_hint;
  if (state == SERVICE_RUNNING || state == SERVICE_STOPPED)
    svc_status.dwCheckPoint = 0;
  else
    svc_status.dwCheckPoint++;
  SetServiceStatus(svc_handle, &svc_status);
}

static DWORD WINAPI svc_control(DWORD control, DWORD type, LPVOID data,
                                LPVOID ctx) {
  (void)type;
  (void)data;
  (void)ctx;
  switch (control) {
  case SERVICE_CONTROL_STOP:
  case SERVICE_CONTROL_SHUTDOWN:
    svc_set_state(SERVICE_STOP_PENDING, 30000);
    plat_post(PLAT_EV_STOP);
    return NO_ERROR;
  case SERVICE_CONTROL_INTERROGATE:
    return NO_ERROR;
  default:
    return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

static void WINAPI svc_main(DWORD argc, LPWSTR *argv) {
  (void)argc;
  (void)argv;
  svc_handle = RegisterServiceCtrlHandlerExW(SVC_NAME, svc_control, NULL);
  if (svc_handle == NULL) {
    svc_rc = 1;
    return;
  }
  svc_set_state(SERVICE_START_PENDING, 10000);
  svc_set_state(SERVICE_RUNNING, 0);
  /* command_line.c "daemonizes" (plat_daemonize below: nothing to do for a
   * service) and then logs to the event log unless the configuration names a
   * LogFile. */
  svc_rc = command_line_run(svc_argc, svc_argv);
  if (svc_rc != 0) {
    /* Errors before the log was set up went to a stderr nobody sees. */
    char msg[200];
    snprintf(msg, sizeof(msg),
             "hvkvp-reporter service exited with code %d: run "
             "hvkvp-reporter --foreground with the same options in a "
             "console to see why",
             svc_rc);
    plat_syslog_open("hvkvp-reporter");
    plat_syslog_write(RLOG_ERROR, msg);
    plat_syslog_close();
    svc_status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
    svc_status.dwServiceSpecificExitCode = (DWORD)svc_rc;
  }
  svc_set_state(SERVICE_STOPPED, 0);
}

static int svc_run(int argc, char **argv) {
  /* The reporter sees "<exe> <options...>", as in console mode. */
  svc_argc = argc - 2;
  svc_argv = calloc((size_t)svc_argc + 1, sizeof(char *));
  if (svc_argv == NULL) {
    fprintf(stderr, "hvkvp-reporter: out of memory\n");
    return 1;
  }
  svc_argv[0] = argv[0];
  for (int i = 3; i < argc; i++)
    svc_argv[i - 2] = argv[i];
  SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)SVC_NAME, svc_main}, {NULL, NULL}};
  if (!StartServiceCtrlDispatcherW(table)) {
    DWORD e = GetLastError();
    if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
      fprintf(stderr,
              "hvkvp-reporter: 'service run' is for the Service Control "
              "Manager: start the installed service with 'sc start "
              "hvkvp-reporter', or run hvkvp-reporter without 'service' "
              "in a console\n");
    else
      svc_print_error("StartServiceCtrlDispatcherW", e);
    free(svc_argv);
    return 2;
  }
  free(svc_argv);
  return svc_rc;
}

/* platform.h: nothing to detach from when the Service Control Manager
 * started us; in a console the loop needs --foreground. */
int plat_daemonize(char *err, size_t errlen) {
  if (svc_handle != NULL)
    return 0;
  snprintf(err, errlen,
           "Windows has no daemons: run in the console with --foreground, "
           "or install the service (hvkvp-reporter service install)");
  return -1;
}

int plat_service_dispatch(int argc, char **argv, int *rc) {
  if (argc < 2 || strcmp(argv[1], "service") != 0)
    return 0;
  const char *cmd = argc >= 3 ? argv[2] : "";
  if (strcmp(cmd, "install") == 0)
    *rc = svc_install(argc, argv);
  else if (strcmp(cmd, "uninstall") == 0 && argc == 3)
    *rc = svc_uninstall();
  else if (strcmp(cmd, "run") == 0)
    *rc = svc_run(argc, argv);
  else {
    fprintf(stderr, "usage: hvkvp-reporter service install [options...]\n"
                    "       hvkvp-reporter service uninstall\n"
                    "       hvkvp-reporter service run [options...]  (for the "
                    "Service Control Manager)\n");
    *rc = 2;
  }
  return 1;
}
