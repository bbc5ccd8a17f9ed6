/*
 * command_line.h - the reporter's command line entry point, shared by main.c
 * and the Windows service (service_windows.c runs it on the service thread
 * and stops it by posting PLAT_EV_STOP).
 */
#ifndef HVKVP_COMMAND_LINE_H
#define HVKVP_COMMAND_LINE_H

/* Parses flags and the config file, then runs once or the loop. Returns the
 * process exit code: 0 ok, 1 runtime failure, 2 bad usage or config. */
int command_line_run(int argc, char **argv);

#endif
