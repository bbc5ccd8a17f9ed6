/*
 * bench_host.c - cost of decoding a Msvm_KvpExchangeComponent Pull response
 * (SOAP parse + every embedded Msvm_KvpExchangeDataItem + joining into VMs)
 * against libxml2 reading the same bytes: its streaming xmlTextReader
 * (every node and value visited; goal: ratio <= 1.2) and a DOM
 * xmlReadMemory. Timings include freeing what was built; the decoded
 * items are freed outside the timing. Prints figures; asserts nothing.
 *
 * usage: bench_host [VMS [ITEMS [REPS]]]   (default 1000 200 3)
 */
#include "cimxml.h"
#include "hyperv.h"
#include "hyperv_int.h"
#include "sbuf.h"
#include "envelope.h"
#include "wsman.h"
#include "xmldoc.h"

#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLS                                                                    \
  "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/"      \
  "Msvm_KvpExchangeComponent"

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void guid_of(int i, char out[37]) {
  snprintf(out, 37, "%08X-1111-4222-8333-%012X", (unsigned)i, (unsigned)i * 7);
}

/* A realistic mix: 10 intrinsic items, then hvkvp.head, chunks of 1000
 * base64 characters (one tenth of the guest items) and short items. */
static void build(hvsb_t *b, int vms, int items) {
  static const char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char chunk[1001], key[64], val[128];
  hvsb_t inst;
  hvsb_init(&inst);
  hvsb_adds(b,
            "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\" xmlns:a=\"" WSMAN_NS_WSA
            "\" xmlns:n=\"" WSMAN_NS_WSEN "\" xmlns:w=\"" WSMAN_NS_WSMAN
            "\"><s:Header><a:Action>" WSMAN_NS_WSEN
            "/PullResponse</a:Action></s:Header><s:Body><n:PullResponse>"
            "<n:Items>");
  unsigned seed = 1;
  for (int v = 0; v < vms; v++) {
    char guid[37];
    guid_of(v, guid);
    hvsb_adds(b, "<p:Msvm_KvpExchangeComponent xmlns:p=\"" CLS "\">");
    for (int i = 0; i < items; i++) {
      int intrinsic = i < 10;
      hvsb_reset(&inst);
      if (intrinsic) {
        snprintf(key, sizeof(key), "Intrinsic%02d", i);
        snprintf(val, sizeof(val), "value of intrinsic %d\n", i);
        cimx_encode(&inst, key, val, 2);
      } else if (i == 10) {
        cimx_encode(&inst, "hvkvp.head",
                    "v=1;epoch=1234567890;slot=A;gen=42;n=19;len=19000;"
                    "crc=deadbeef;enc=z64",
                    1);
      } else if (i % 10 == 1) {
        for (int c = 0; c < 1000; c++) {
          seed = seed * 1103515245u + 12345u;
          chunk[c] = b64[(seed >> 16) & 63];
        }
        chunk[1000] = '\0';
        snprintf(key, sizeof(key), "hvkvp.A.%d", i / 10);
        cimx_encode(&inst, key, chunk, 1);
      } else {
        snprintf(key, sizeof(key), "app.setting.%d", i);
        snprintf(val, sizeof(val), "some <value> & more %d", i);
        cimx_encode(&inst, key, val, 1);
      }
      const char *tag =
          intrinsic ? "GuestIntrinsicExchangeItems" : "GuestExchangeItems";
      hvsb_addf(b, "<p:%s>", tag);
      hvsb_add_xml(b, hvsb_str(&inst));
      hvsb_addf(b, "</p:%s>", tag);
    }
    hvsb_addf(b,
              "<p:SystemName>%s</p:SystemName>"
              "</p:Msvm_KvpExchangeComponent>",
              guid);
  }
  hvsb_adds(b, "</n:Items><n:EndOfSequence/></n:PullResponse></s:Body>"
               "</s:Envelope>");
  hvsb_free(&inst);
}

static void vms_init(hv_vms_t *vms, int n) {
  vms->n = (size_t)n;
  vms->v = calloc((size_t)n, sizeof(*vms->v));
  for (int i = 0; i < n; i++) {
    guid_of(i, vms->v[i].guid);
    for (int p = 0; p < HV_POOL__COUNT; p++)
      hvkvp_items_init(&vms->v[i].pool[p]);
  }
}

/* libxml2's streaming reader over the whole document, every node's value
 * looked at: the least a streaming decode of these bytes can cost. */
static size_t reader_pass(const hvsb_t *b) {
  xmlTextReaderPtr r =
      xmlReaderForMemory(b->p, (int)b->len, NULL, NULL, XML_PARSE_NONET);
  size_t chars = 0;
  while (r != NULL && xmlTextReaderRead(r) == 1) {
    const xmlChar *v = xmlTextReaderConstValue(r);
    if (v != NULL)
      chars += (size_t)xmlStrlen(v);
  }
  xmlFreeTextReader(r);
  return chars;
}

int main(int argc, char **argv) {
  int vms_n = argc > 1 ? atoi(argv[1]) : 1000;
  int items = argc > 2 ? atoi(argv[2]) : 200;
  int reps = argc > 3 ? atoi(argv[3]) : 3;
  if (vms_n <= 0 || items < 12 || reps <= 0) {
    fprintf(stderr, "usage: bench_host [VMS [ITEMS>=12 [REPS]]]\n");
    return 1;
  }
  xmlInitParser();
  hvsb_t b;
  hvsb_init(&b);
  build(&b, vms_n, items);
  if (hvsb_failed(&b)) {
    fprintf(stderr, "bench_host: out of memory building the response\n");
    return 1;
  }
  double best_bare = 1e9, best_full = 1e9, best_safe = 1e9, best_reader = 1e9;
  hv_page_decoder_t *dec =
      hv_page_decoder_new(HV_WANT_INTRINSIC | HV_WANT_GUEST);
  for (int r = 0; r < reps; r++) {
    double t0 = cpu_now();
    if (reader_pass(&b) == 0) {
      fprintf(stderr, "bench_host: xmlTextReader read nothing\n");
      return 1;
    }
    double tr = cpu_now() - t0;
    if (tr < best_reader)
      best_reader = tr;
    t0 = cpu_now();
    xmlDocPtr doc = xmlReadMemory(b.p, (int)b.len, NULL, NULL, XML_PARSE_NONET);
    if (doc == NULL) {
      fprintf(stderr, "bench_host: libxml2 refused the generated response\n");
      return 1;
    }
    xmlFreeDoc(doc); /* the full decode frees its tree too */
    double t1 = cpu_now();
    if (t1 - t0 < best_bare)
      best_bare = t1 - t0;

    char why[128];
    t0 = cpu_now();
    doc = hvx_parse(b.p, b.len, b.len, NULL, why, sizeof(why));
    if (doc != NULL)
      xmlFreeDoc(doc);
    t1 = cpu_now();
    if (t1 - t0 < best_safe)
      best_safe = t1 - t0;

    hv_vms_t vms;
    vms_init(&vms, vms_n);
    ws_err_t err;
    t0 = cpu_now();
    int rc = hv_page_decode(dec, &vms, b.p, b.len, b.len, 1, &err);
    t1 = cpu_now();
    if (rc != 0) {
      fprintf(stderr, "bench_host: decode failed: %s\n", err.msg);
      return 1;
    }
    size_t got = 0;
    for (size_t i = 0; i < vms.n; i++)
      got +=
          vms.v[i].pool[HV_POOL_INTRINSIC].n + vms.v[i].pool[HV_POOL_GUEST].n;
    if (got != (size_t)vms_n * (size_t)items) {
      fprintf(stderr, "bench_host: decoded %zu items, expected %zu\n", got,
              (size_t)vms_n * (size_t)items);
      return 1;
    }
    hv_vms_free(&vms);
    if (t1 - t0 < best_full)
      best_full = t1 - t0;
  }
  double ratio = best_full / best_reader;
  printf("bench_host: Pull response of %d VMs x %d items: %.1f MB\n", vms_n,
         items, (double)b.len / 1e6);
  printf("  libxml2 xmlTextReader      : %8.1f ms  (%.0f MB/s)\n",
         best_reader * 1e3, (double)b.len / 1e6 / best_reader);
  printf("  libxml2 xmlReadMemory (DOM): %8.1f ms  (%.0f MB/s)\n",
         best_bare * 1e3, (double)b.len / 1e6 / best_bare);
  printf("  safe parse (hvx_parse)     : %8.1f ms\n", best_safe * 1e3);
  printf("  full decode (SOAP + items) : %8.1f ms  (%.0f MB/s)\n",
         best_full * 1e3, (double)b.len / 1e6 / best_full);
  printf("  ratio full / xmlTextReader : %8.2f  (goal <= 1.20: %s)\n", ratio,
         ratio <= 1.2 ? "met" : "MISSED");
  printf("  CPU per VM                 : %8.1f us  (%.2f us per item)\n",
         best_full * 1e6 / vms_n, best_full * 1e6 / vms_n / items);
  hv_page_decoder_free(dec);
  hvsb_free(&b);
  xmlCleanupParser();
  return 0;
}
