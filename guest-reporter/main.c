/*
 * main.c - hvkvp-reporter's process entry: platform command modes (the
 * Windows service) first, then the normal command line (command_line.c).
 */
#include "command_line.h"
#include "platform.h"

int main(int argc, char **argv) {
  int rc = 0;
  if (plat_service_dispatch(argc, argv, &rc))
    return rc;
  return command_line_run(argc, argv);
}
