/*
 * bench_seal.c - cost of WinRM message sealing (wsman_seal.c + auth_gss.c):
 * multipart/encrypted parse alone, and seal + server unwrap with a real
 * NTLM context (gss-ntlmssp, established in-process from a throwaway
 * NTLM_USER_FILE; Kerberos needs a KDC, see tests/auth). Prints figures; no
 * assertions.
 */
#include <gssapi/gssapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gss.h"
#include "seal.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char b64c[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64dec(const char *in, unsigned char *out) {
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  for (; *in && *in != '='; in++) {
    acc = acc << 6 | (unsigned)(strchr(b64c, *in) - b64c);
    if ((bits += 6) >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  return n;
}

static char *b64enc(const unsigned char *in, size_t n) {
  char *o = malloc(n * 4 / 3 + 8), *p = o;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    *p++ = b64c[v >> 18];
    *p++ = b64c[(v >> 12) & 63];
    *p++ = i + 1 < n ? b64c[(v >> 6) & 63] : '=';
    *p++ = i + 2 < n ? b64c[v & 63] : '=';
  }
  *p = '\0';
  return o;
}

int main(void) {
  char dir[] = "/tmp/hvkvp-bench-seal-XXXXXX", path[64];
  static unsigned char tok[65536];
  hva_opts_t o = {.mech = HVA_NTLM,
                  .host = "localhost",
                  .user = "BENCH\\user",
                  .password = "Bench-Pass-1"};
  gss_ctx_id_t srv = GSS_C_NO_CONTEXT;
  OM_uint32 major = 0, minor;
  ws_err_t err;
  char *authz = NULL, www[70000];
  hva_ctx_t *c;
  FILE *f;
  static const size_t sizes[] = {4096, 102400, 512000};

  if (mkdtemp(dir) == NULL)
    return 1;
  snprintf(path, sizeof(path), "%s/users", dir);
  f = fopen(path, "w");
  fputs("BENCH:user:Bench-Pass-1\n", f);
  fclose(f);
  setenv("NTLM_USER_FILE", path, 1);

  c = hva_new(&o, &err);
  if (c == NULL || hva_step(c, "Negotiate", &authz, &err) != 0) {
    fprintf(stderr, "bench_seal: %s\n", err.msg);
    return 1;
  }
  while (authz != NULL) {
    gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
    in.length = b64dec(strchr(authz, ' ') + 1, tok);
    in.value = tok;
    free(authz);
    authz = NULL;
    major = gss_accept_sec_context(&minor, &srv, GSS_C_NO_CREDENTIAL, &in,
                                   GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL, &out,
                                   NULL, NULL, NULL);
    if (GSS_ERROR(major)) {
      fprintf(stderr, "bench_seal: NTLM acceptor failed (gss-ntlmssp?)\n");
      return 1;
    }
    if (out.length) {
      char *b = b64enc(out.value, out.length);
      snprintf(www, sizeof(www), "Negotiate %s", b);
      free(b);
      gss_release_buffer(&minor, &out);
      if (hva_step(c, www, &authz, &err) != 0) {
        fprintf(stderr, "bench_seal: %s\n", err.msg);
        return 1;
      }
    }
  }
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    size_t n = sizes[s], blen = 0;
    int iters = (int)(200000000 / n / 10) + 10;
    char *soap = malloc(n), ct[256], why[160];
    unsigned char *body = NULL;
    wseal_parts_t p;
    double t0, tseal = 0, tparse = 0;
    memset(soap, 'x', n);
    for (int i = 0; i < iters; i++) {
      gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
      unsigned char *joined;
      t0 = now();
      hva_seal(c, soap, n, &body, &blen, ct, sizeof(ct), &err);
      tseal += now() - t0;
      t0 = now();
      if (wseal_parse(ct, body, blen, &p, why, sizeof(why)) != 0)
        return 1;
      tparse += now() - t0;
      joined = malloc(p.siglen + p.datalen);
      memcpy(joined, p.sig, p.siglen);
      memcpy(joined + p.siglen, p.data, p.datalen);
      in.value = joined;
      in.length = p.siglen + p.datalen;
      if (GSS_ERROR(gss_unwrap(&minor, srv, &in, &out, NULL, NULL)))
        return 1;
      gss_release_buffer(&minor, &out);
      free(joined);
      free(body);
    }
    printf("bench_seal: %7zu-byte envelope: seal (NTLM) %8.1f us = %6.1f "
           "MB/s; multipart parse %6.2f us (%d iterations)\n",
           n, tseal / iters * 1e6, (double)n * iters / tseal / 1e6,
           tparse / iters * 1e6, iters);
    free(soap);
  }
  hva_free(c);
  gss_delete_sec_context(&minor, &srv, GSS_C_NO_BUFFER);
  unlink(path);
  rmdir(dir);
  return 0;
}
