/*
 * main.c - hvkvp-reporter's process entry: platform command modes (the
 * Windows service) first, then the normal command line (cli.c).
 */
#include "cli.h"
#include "platform.h"

int main(int argc, char **argv) {
  int rc = 0;
  if (plat_service_dispatch(argc, argv, &rc))
    return rc;
  return reporter_cli_main(argc, argv);
}
