/*
 * cmdline_windows.h - Windows command lines: arguments quoted the way
 * CommandLineToArgvW and the C runtime split them again (backslashes
 * doubled before a quote, embedded quotes escaped).
 */
#ifndef HVKVP_CMDLINE_WINDOWS_H
#define HVKVP_CMDLINE_WINDOWS_H

#include <stddef.h>
#include <wchar.h>

/* Appends arg (after a space unless cmd is empty) to the NUL-terminated
 * cmd of cap wide characters. 0, or -1 if it does not fit. */
int cmdline_append(wchar_t *cmd, size_t cap, const wchar_t *arg);

#endif
