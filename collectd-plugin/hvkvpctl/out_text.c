/*
 * out_text.c - hvkvpctl's text output: the table of VMs, a VM's KVP items
 * one per line, a VM's decoded hvkvp message. What a guest wrote is printed
 * through text_str, so a guest cannot move the operator's cursor.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

/* Trailing line breaks dropped, other control characters shown as '?'. */
static void text_str(const char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    n--; /* some intrinsic values end in a newline */
  for (const unsigned char *p = (const unsigned char *)s; n > 0; p++, n--)
    putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

/* Copies src cut to dstsz - 1 bytes, never inside a UTF-8 sequence. */
static void cut(char *dst, size_t dstsz, const char *src) {
  size_t n = strlen(src);
  if (n >= dstsz) {
    n = dstsz - 1;
    while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
      n--;
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* s (already cut) followed by spaces up to width and two more. */
static void text_column(const char *s, int width) {
  text_str(s);
  printf("%*s  ", (int)(width - strlen(s)) > 0 ? (int)(width - strlen(s)) : 0,
         "");
}

void ctl_value(const hvkvp_vl_t *vl, size_t j) {
  switch (vl->dstypes[j]) {
  case HVKVP_DS_GAUGE:
    printf("%.17g", vl->values[j].gauge);
    break;
  case HVKVP_DS_DERIVE:
    printf("%lld", (long long)vl->values[j].derive);
    break;
  case HVKVP_DS_COUNTER:
    printf("%llu", (unsigned long long)vl->values[j].counter);
    break;
  case HVKVP_DS_ABSOLUTE:
    printf("%llu", (unsigned long long)vl->values[j].absolute);
    break;
  }
}

/* ---- vms ---- */

void text_vms_header(void) {
  printf("%-36s  %-8s  %-24s  %-28s  %s\n", "GUID", "STATE", "NAME", "OS",
         "HVKVP");
}

/* The HVKVP column: the state of the VM's message. */
static void text_vm_message(char *buf, size_t bufsz, const hv_vm_t *vm,
                            const ctl_msg_t *d, double now) {
  if (vm->unreadable)
    snprintf(buf, bufsz, "unreadable: %.100s", vm->unreadable_reason);
  else if (d->rc == HVKVP_OK)
    snprintf(buf, bufsz, "gen %llu, %.0fs old", (unsigned long long)d->head.gen,
             now - d->m.time);
  else if (d->rc == HVKVP_E_NOHEAD)
    snprintf(buf, bufsz, "-");
  else
    snprintf(buf, bufsz, "error: %s", hvkvp_strerror((hvkvp_rc_t)d->rc));
}

/* One row of the table. */
void text_vm(const hv_vm_t *vm, const ctl_msg_t *d, double now) {
  const char *os = hvkvp_items_get(&vm->pool[HV_POOL_INTRINSIC], "OSName");
  char msgs[128], name[25], oss[29];
  text_vm_message(msgs, sizeof(msgs), vm, d, now);
  printf("%-36s  %-8s  ", vm->guid, hv_state_str(vm->state));
  cut(name, sizeof(name), vm->name);
  cut(oss, sizeof(oss), os ? os : "-");
  oss[strcspn(oss, "\r\n")] = '\0';
  text_column(name, 24);
  text_column(oss, 28);
  printf("%s\n", msgs);
}

/* ---- items ---- */

static void text_pool(const char *pool, const hvkvp_items_t *it) {
  for (size_t i = 0; i < it->n; i++) {
    printf("%-9s  ", pool);
    text_str(it->v[i].key);
    printf("  ");
    text_str(it->v[i].value ? it->v[i].value : "");
    putchar('\n');
  }
}

/* A VM's items of the pools in want (HV_WANT_*), the refused ones said on
 * stderr. */
void text_items(const hv_vm_t *vm, unsigned want) {
  if (want & HV_WANT_INTRINSIC)
    text_pool("intrinsic", &vm->pool[HV_POOL_INTRINSIC]);
  if (want & HV_WANT_GUEST)
    text_pool("guest", &vm->pool[HV_POOL_GUEST]);
  if (want & HV_WANT_HOST)
    text_pool("host", &vm->pool[HV_POOL_HOST]);
  if (vm->items_rejected)
    fprintf(stderr, "hvkvpctl: %u item(s) refused; first: %s\n",
            vm->items_rejected, vm->reject_reason);
}

/* ---- messages ---- */

/* One value list: plugin[-instance]/type[-instance] dsname=value... */
static void text_vl(const hvkvp_vl_t *vl) {
  printf("  ");
  text_str(vl->plugin);
  if (vl->plugin_instance[0]) {
    putchar('-');
    text_str(vl->plugin_instance);
  }
  putchar('/');
  text_str(vl->type);
  if (vl->type_instance[0]) {
    putchar('-');
    text_str(vl->type_instance);
  }
  for (size_t j = 0; j < vl->n; j++) {
    putchar(' ');
    text_str(vl->dsnames[j]);
    putchar('=');
    ctl_value(vl, j);
  }
  putchar('\n');
}

/* A VM's decoded message (d->rc is HVKVP_OK), age seconds old. */
void text_message(const hv_vm_t *vm, const ctl_msg_t *d, double age) {
  const hvkvp_msg_t *m = &d->m;
  printf("vm       %s (", vm->guid);
  text_str(vm->name);
  printf(")\nhost     ");
  text_str(m->host);
  printf("\nepoch    %llu\ngen      %llu\nseq      %llu\ntime     %.3f "
         "(%.0fs old)\ninterval %g\nconfig   ",
         (unsigned long long)d->head.epoch, (unsigned long long)d->head.gen,
         (unsigned long long)m->seq, m->time, age, m->interval);
  text_str(m->config[0] ? m->config : "-");
  if (m->config_error[0]) {
    printf("\nconfig_error ");
    text_str(m->config_error);
  }
  printf("\ntrimmed  %u\nvalues   %zu\n", m->trimmed, m->n_vls);
  for (size_t i = 0; i < m->n_vls; i++)
    text_vl(&m->vls[i]);
}
