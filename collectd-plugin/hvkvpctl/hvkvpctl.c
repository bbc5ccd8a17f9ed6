/*
 * hvkvpctl.c - operator command-line tool over the host library: list VMs
 * with their hvkvp message state, show KVP items, decode a VM's hvkvp
 * message, and add/modify/remove host items. Exit codes are documented in
 * usage() and hvkvpctl.md. The files of the tool are listed in ctl.h.
 */
#include "ctl.h"

#include <string.h>

int main(int argc, char **argv) {
  ctl_t c;
  memset(&c, 0, sizeof(c));
  c.o.ws.timeout = 30;
  c.prefix = HVKVP_DEFAULT_PREFIX;
  int rc = ctl_parse(argc, argv, &c);
  if (rc == 0 && c.cmd != NULL)
    rc = ctl_run(&c);
  hv_opts_free(&c.o);
  return rc;
}
