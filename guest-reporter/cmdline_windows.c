/*
 * cmdline_windows.c - building a Windows command line (cmdline_windows.h)
 * for CreateProcessW (Exec entries) and the service's ImagePath.
 */
#include "cmdline_windows.h"

int cmdline_append(wchar_t *cmd, size_t cap, const wchar_t *arg) {
  size_t len = wcslen(cmd);
#define CMDLINE_PUT(c)                                                         \
  do {                                                                         \
    if (len + 1 >= cap)                                                        \
      return -1;                                                               \
    cmd[len++] = (c);                                                          \
  } while (0)
  if (len > 0)
    CMDLINE_PUT(L' ');
  int needs = arg[0] == L'\0' || wcspbrk(arg, L" \t\n\v\"") != NULL;
  if (!needs) {
    for (const wchar_t *p = arg; *p; p++)
      CMDLINE_PUT(*p);
    cmd[len] = L'\0';
    return 0;
  }
  CMDLINE_PUT(L'"');
  for (const wchar_t *p = arg;; p++) {
    size_t bs = 0;
    while (*p == L'\\') {
      bs++;
      p++;
    }
    if (*p == L'\0') {
      for (size_t i = 0; i < bs * 2; i++)
        CMDLINE_PUT(L'\\');
      break;
    }
    if (*p == L'"') {
      for (size_t i = 0; i < bs * 2 + 1; i++)
        CMDLINE_PUT(L'\\');
      CMDLINE_PUT(L'"');
    } else {
      for (size_t i = 0; i < bs; i++)
        CMDLINE_PUT(L'\\');
      CMDLINE_PUT(*p);
    }
  }
  CMDLINE_PUT(L'"');
  cmd[len] = L'\0';
  return 0;
#undef CMDLINE_PUT
}
