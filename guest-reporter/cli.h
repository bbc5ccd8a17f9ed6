/*
 * cli.h - the reporter's command line entry point, shared by main.c and the
 * Windows service (service_windows.c runs it from the service thread and
 * stops it with plat_request_stop()).
 */
#ifndef HVKVP_CLI_H
#define HVKVP_CLI_H

/* Parses flags and the config file, then runs once or the loop. Returns the
 * process exit code: 0 ok, 1 runtime failure, 2 bad usage or config. */
int reporter_cli_main(int argc, char **argv);

#endif
