/*
 * hva_client.c - test driver for auth_gss.c over real HTTP: POSTs SOAP
 * bodies to a URL with Kerberos / NTLM / Negotiate (our GSSAPI client,
 * sealed per --encryption) or Basic (libcurl), one line per request:
 *   ok status=<n> sealed=<0|1> body=<response text>
 *   error <message>
 * and exits 0 if every request succeeded, 1 otherwise.
 *
 * usage: hva_client URL AUTH [--encryption auto|required|off] [--user U]
 *        [--password-env VAR] [--keytab K] [--principal P] [--cacert F]
 *        [--count N] [--size BYTES]
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gss.h"

typedef struct {
  char *buf;
  size_t len;
} sink_t;

static size_t sink_write(char *p, size_t sz, size_t n, void *ud) {
  sink_t *s = ud;
  char *b = realloc(s->buf, s->len + sz * n + 1);
  if (b == NULL)
    return 0;
  memcpy(b + s->len, p, sz * n);
  s->buf = b;
  s->len += sz * n;
  b[s->len] = '\0';
  return sz * n;
}

/* The host part of an http(s) URL. */
static int url_host(const char *url, char *out, size_t outsz) {
  CURLU *u = curl_url();
  char *h = NULL;
  int rc = -1;
  if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
    snprintf(out, outsz, "%s", h);
    rc = 0;
  }
  curl_free(h);
  curl_url_cleanup(u);
  return rc;
}

int main(int argc, char **argv) {
  const char *url, *auth, *enc = "auto", *user = NULL, *pwenv = NULL;
  const char *keytab = NULL, *principal = NULL, *cacert = NULL;
  int count = 1, failures = 0, i;
  size_t size = 0;
  char host[256];
  CURL *curl;

  if (argc < 3) {
    fprintf(stderr, "usage: %s URL AUTH [options]\n", argv[0]);
    return 2;
  }
  url = argv[1];
  auth = argv[2];
  for (i = 3; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--encryption") == 0)
      enc = argv[i + 1];
    else if (strcmp(argv[i], "--user") == 0)
      user = argv[i + 1];
    else if (strcmp(argv[i], "--password-env") == 0)
      pwenv = argv[i + 1];
    else if (strcmp(argv[i], "--keytab") == 0)
      keytab = argv[i + 1];
    else if (strcmp(argv[i], "--principal") == 0)
      principal = argv[i + 1];
    else if (strcmp(argv[i], "--cacert") == 0)
      cacert = argv[i + 1];
    else if (strcmp(argv[i], "--count") == 0)
      count = (int)strtol(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--size") == 0)
      size = (size_t)strtoul(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (i != argc) {
    fprintf(stderr, "option %s needs a value\n", argv[i]);
    return 2;
  }
  if (url_host(url, host, sizeof(host)) != 0) {
    fprintf(stderr, "bad URL %s\n", url);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (cacert)
    curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);

  for (int n = 0; n < count; n++) {
    char *soap;
    size_t len;
    char head[128];
    snprintf(head, sizeof(head), "<s:Envelope>request %d</s:Envelope>", n);
    len = strlen(head) > size ? strlen(head) : size;
    soap = malloc(len + 1);
    memset(soap, 'x', len);
    memcpy(soap, head, strlen(head));
    soap[len] = '\0';
    if (strcasecmp(auth, "basic") == 0) {
      sink_t s = {0};
      long status = 0;
      struct curl_slist *h = curl_slist_append(
          NULL, "Content-Type: application/soap+xml;charset=UTF-8");
      curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
      curl_easy_setopt(curl, CURLOPT_USERNAME, user ? user : "");
      curl_easy_setopt(curl, CURLOPT_PASSWORD,
                       pwenv && getenv(pwenv) ? getenv(pwenv) : "");
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, soap);
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
      if (curl_easy_perform(curl) != CURLE_OK) {
        printf("error curl failed\n");
        failures++;
      } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        printf("%s status=%ld sealed=0 body=%s\n",
               status == 200 ? "ok" : "error", status, s.buf ? s.buf : "");
        failures += status != 200;
      }
      curl_slist_free_all(h);
      free(s.buf);
    } else {
      static hva_ctx_t *ctx;
      hva_opts_t o;
      hva_mech_t mech;
      hva_enc_t e;
      ws_err_t err;
      hva_resp_t r;
      int seal;
      if (hva_mech_parse(auth, &mech) != 0 || hva_enc_parse(enc, &e) != 0) {
        fprintf(stderr, "bad auth %s or encryption %s\n", auth, enc);
        free(soap);
        return 2;
      }
      if (ctx == NULL) {
        memset(&o, 0, sizeof(o));
        o.mech = mech;
        o.host = host;
        o.user = user;
        o.password = pwenv ? getenv(pwenv) : NULL;
        o.keytab = keytab;
        o.principal = principal;
        ctx = hva_new(&o, &err);
        if (ctx == NULL) {
          printf("error %s\n", err.msg);
          free(soap);
          return 1;
        }
      }
      seal = e == HVA_ENC_REQUIRED ||
             (e == HVA_ENC_AUTO && strncasecmp(url, "http:", 5) == 0);
      if (hva_post(ctx, curl, soap, len, seal, 1 << 20, &r, &err) != 0) {
        printf("error %s\n", err.msg);
        failures++;
      } else {
        printf("%s status=%ld sealed=%d body=%s\n",
               r.status == 200 ? "ok" : "error", r.status, r.sealed, r.body);
        failures += r.status != 200;
        hva_resp_free(&r);
      }
      if (n == count - 1)
        hva_free(ctx);
    }
    fflush(stdout);
    free(soap);
  }
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return failures ? 1 : 0;
}
