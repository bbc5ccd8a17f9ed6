/*
 * test_hyperv_http.c - unit tests of the Hyper-V model over the real
 * libcurl path: each test forks a loopback HTTP responder that answers
 * WS-Man requests with the fixtures (by action, class and WQL) and logs
 * every request, so the tests check both what hyperv.c understood and what
 * it sent (counts of round trips, WQL property lists, Invoke bodies parsed
 * back, credentials only in the Authorization header).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "cimxml.h"
#include "hyperv.h"
#include "envelope.h"
#include "wsman.h"
#include "xmldoc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libxml/parser.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define VM1 "11111111-2222-3333-4444-555555555555"
#define VM2 "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"
#define VM3 "0F0F0F0F-0000-0000-0000-000000000003"
#define SECRET "s3cr3t-Pa55"

enum {
  M_NORMAL,
  M_401,
  M_FAULT,
  M_HUGE,
  M_JOBFAIL,
  M_MORE,
  M_BADNUM,
  M_STALL,
  M_ENDLESS,
  M_SLOW
};

typedef struct {
  pid_t pid;
  int port;
  char log[256];
} srv_t;

static char *fixture(const char *name, size_t *len) {
  char *b = fixture_read(name, len);
  if (b == NULL)
    _exit(3); /* in the forked responder */
  return b;
}

static void send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

static void respond(int fd, int status, const char *body, size_t len) {
  char head[512];
  const char *reason = status == 200   ? "OK"
                       : status == 401 ? "Unauthorized"
                                       : "Internal Server Error";
  int n = snprintf(
      head, sizeof(head),
      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sContent-Length: "
      "%zu\r\n\r\n",
      status, reason,
      status == 401 ? "text/html" : "application/soap+xml;charset=UTF-8",
      status == 401 ? "WWW-Authenticate: Basic realm=\"WSMAN\"\r\n" : "", len);
  send_all(fd, head, (size_t)n);
  send_all(fd, body, len);
}

static int jobs_polled;

static void serve_one(int fd, int mode, const char *body, FILE *log,
                      const char *authz) {
  fprintf(log, "AUTH: %s\n%s\n\x1e\n", authz, body);
  fflush(log);
  if (mode == M_401) {
    size_t len;
    char *b = fixture("http401.html", &len);
    respond(fd, 401, b, len);
    free(b);
    return;
  }
  if (mode == M_FAULT) {
    size_t len;
    char *b = fixture("fault_filter.xml", &len);
    respond(fd, 400, b, len);
    free(b);
    return;
  }
  if (mode == M_HUGE) {
    size_t len = 5u << 20;
    char *b = malloc(len);
    memset(b, ' ', len);
    memcpy(b, "<a>", 3);
    respond(fd, 200, b, len);
    free(b);
    return;
  }
  if (mode == M_STALL && strstr(body, "enumeration/Pull<")) {
    /* a server that keeps the enumeration open and never sends an item */
    static const char stall[] =
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
        "xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
        "<s:Header/><s:Body><n:PullResponse>"
        "<n:EnumerationContext>uuid:CTX-STALL</n:EnumerationContext>"
        "<n:Items/></n:PullResponse></s:Body></s:Envelope>";
    respond(fd, 200, stall, sizeof(stall) - 1);
    return;
  }
  if (mode == M_ENDLESS && strstr(body, "enumeration/Pull<")) {
    /* a server whose enumeration never ends: an item and a context, always */
    static const char endless[] =
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
        "xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
        "<s:Header/><s:Body><n:PullResponse>"
        "<n:EnumerationContext>uuid:CTX-ENDLESS</n:EnumerationContext>"
        "<n:Items><p:C xmlns:p=\"urn:c\"><p:Name>host</p:Name></p:C>"
        "</n:Items></n:PullResponse></s:Body></s:Envelope>";
    respond(fd, 200, endless, sizeof(endless) - 1);
    return;
  }
  if (mode == M_SLOW && strstr(body, "enumeration/Enumerate<"))
    sleep(5); /* longer than any budget the test sets */
  const char *name = NULL;
  if (strstr(body, "enumeration/Release<"))
    name = "release_ok.xml";
  else if (strstr(body, "enumeration/Pull<") && strstr(body, "CTX-KVP-2")) {
    respond(fd, 200, "<x/>", 4); /* a broken page */
    return;
  } else if (strstr(body, "enumeration/Pull<"))
    name = "pull_cs.xml";
  else if (strstr(body, "FROM Msvm_ComputerSystem"))
    name = "enum_cs.xml";
  else if (strstr(body, "FROM Msvm_KvpExchangeComponentSettingData"))
    name = "enum_kvpsd.xml";
  else if (strstr(body, "FROM Msvm_KvpExchangeComponent"))
    name = mode == M_MORE ? "enum_kvp_more.xml" : "enum_kvp.xml";
  else if (strstr(body, "FROM Msvm_VirtualSystemManagementService"))
    name = mode == M_MORE ? "enum_vsms_more.xml" : "enum_vsms.xml";
  else if (strstr(body, "/AddKvpItems<"))
    name = "invoke_add_job.xml";
  else if (strstr(body, "/ModifyKvpItems<"))
    name = "invoke_modify_32773.xml";
  else if (strstr(body, "/RemoveKvpItems<"))
    name =
        mode == M_BADNUM ? "invoke_remove_badrv.xml" : "invoke_remove_ok.xml";
  else if (strstr(body, "transfer/Get<"))
    name = mode == M_JOBFAIL          ? "job_exception.xml"
           : mode == M_BADNUM         ? "job_badstate.xml"
           : (jobs_polled++ % 2 == 0) ? "job_running.xml"
                                      : "job_completed.xml";
  if (name == NULL) {
    respond(fd, 500, "no route", 8);
    return;
  }
  size_t len;
  char *b = fixture(name, &len);
  respond(fd, 200, b, len);
  free(b);
}

/* Reads requests on one connection until the client closes it. */
static void serve_conn(int fd, int mode, FILE *log) {
  char *buf = malloc(8u << 20);
  size_t have = 0;
  for (;;) {
    char *end;
    while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
      ssize_t r = read(fd, buf + have, (8u << 20) - have - 1);
      if (r <= 0) {
        free(buf);
        return;
      }
      have += (size_t)r;
      if ((unsigned char)buf[0] == 0x16) { /* a TLS ClientHello */
        send_all(fd, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
        free(buf);
        return;
      }
    }
    size_t hlen = (size_t)(end - buf) + 4;
    buf[hlen - 2] = '\0';
    size_t clen = 0;
    char authz[512] = "";
    for (char *line = strstr(buf, "\r\n"); line != NULL;
         line = strstr(line + 2, "\r\n")) {
      if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
        clen = strtoul(line + 17, NULL, 10);
      if (strncasecmp(line + 2, "Authorization:", 14) == 0)
        sscanf(line + 16, " %511[^\r]", authz);
    }
    while (have < hlen + clen) {
      ssize_t r = read(fd, buf + have, (8u << 20) - have - 1);
      if (r <= 0) {
        free(buf);
        return;
      }
      have += (size_t)r;
    }
    char *body = malloc(clen + 1);
    memcpy(body, buf + hlen, clen);
    body[clen] = '\0';
    serve_one(fd, mode, body, log, authz);
    free(body);
    memmove(buf, buf + hlen + clen, have - hlen - clen);
    have -= hlen + clen;
  }
}

static void srv_start(srv_t *s, int mode) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(lfd, 8), 0);
  socklen_t al = sizeof(a);
  getsockname(lfd, (struct sockaddr *)&a, &al);
  s->port = ntohs(a.sin_port);
  snprintf(s->log, sizeof(s->log), "/tmp/hvkvp_test_http_%d_%d.log",
           (int)getpid(), s->port);
  unlink(s->log);
  s->pid = fork();
  assert_true(s->pid >= 0);
  if (s->pid == 0) {
    signal(SIGPIPE, SIG_IGN);
    alarm(60); /* never outlive a stuck test */
    FILE *log = fopen(s->log, "w");
    for (;;) {
      int fd = accept(lfd, NULL, NULL);
      if (fd < 0)
        _exit(0);
      serve_conn(fd, mode, log);
      close(fd);
    }
  }
  close(lfd);
}

static void srv_stop(srv_t *s) {
  kill(s->pid, SIGTERM);
  waitpid(s->pid, NULL, 0);
  unlink(s->log);
}

/* Requests logged so far (split on the record separator). */
static int srv_requests(srv_t *s, char ***out) {
  char *all = fixture_read_path(s->log, NULL);
  int n = 0;
  char **v = NULL;
  if (all == NULL) {
    *out = NULL;
    return 0;
  }
  char *save, *rec = strtok_r(all, "\x1e", &save);
  while (rec != NULL) {
    if (strstr(rec, "AUTH:") != NULL) {
      char **nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
      assert_non_null(nv);
      v = nv;
      v[n++] = strdup(rec);
    }
    rec = strtok_r(NULL, "\x1e", &save);
  }
  free(all);
  *out = v;
  return n;
}

static void free_requests(char **v, int n) {
  for (int i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static hv_host_t *host_for(srv_t *s, const char *user) {
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/wsman", s->port);
  static hv_opts_t o; /* outlives the host, as hv_host_new asks */
  static char url_kept[128];
  snprintf(url_kept, sizeof(url_kept), "%s", url);
  o = (hv_opts_t){.ws = {.url = url_kept,
                         .user = (char *)user,
                         .password = SECRET,
                         .auth = "basic",
                         .timeout = 20,
                         .max_envelope_kb = 500},
                  .max_elements = 100};
  ws_err_t err;
  hv_host_t *h = hv_host_new(&o, &err);
  if (h == NULL)
    fail_msg("hv_host_new: %s", err.msg);
  return h;
}

static void test_list_vms_full(void **state) {
  srv_t s;
  srv_start(&s, M_NORMAL);
  hv_host_t *h = host_for(&s, "HV\\monitor");
  hv_vms_t vms;
  ws_err_t err;
  int rc = hv_list_vms(h, HV_WANT_INTRINSIC | HV_WANT_GUEST | HV_WANT_HOST,
                       &vms, &err);
  if (rc != 0)
    fail_msg("hv_list_vms: %s", err.msg);
  assert_int_equal(vms.n, 3); /* the host itself is not a VM */
  hv_vm_t *v1 = &vms.v[0], *v2 = &vms.v[1], *v3 = &vms.v[2];
  assert_string_equal(v1->guid, VM1);
  assert_string_equal(v1->name, "web01");
  assert_int_equal(v1->state, 2);
  assert_true(v1->has_kvp);
  assert_string_equal(hvkvp_items_get(&v1->pool[HV_POOL_INTRINSIC], "OSName"),
                      "Debian GNU/Linux 12");
  assert_int_equal(v1->pool[HV_POOL_GUEST].n, 3);
  assert_string_equal(hvkvp_items_get(&v1->pool[HV_POOL_GUEST], "hvkvp.test"),
                      "hello world");
  assert_string_equal(hvkvp_items_get(&v1->pool[HV_POOL_GUEST], "lt"),
                      "a<b & c>d \"q\" 'a'");
  assert_string_equal(hvkvp_items_get(&v1->pool[HV_POOL_GUEST], "nl"),
                      "line1\nline2\n");
  assert_string_equal(hvkvp_items_get(&v1->pool[HV_POOL_HOST], "hvkvp.cfg.id"),
                      "c1");
  assert_string_equal(
      hvkvp_items_get(&v1->pool[HV_POOL_HOST], "hvkvp.cfg.interval"), "10");
  assert_int_equal(v1->items_rejected, 0);

  assert_string_equal(v2->guid, VM2); /* lower-case Name normalised */
  assert_string_equal(v2->name, "db 02 \xc3\xbcn\xc3\xaf & co");
  assert_int_equal(v2->state, 3);
  assert_string_equal(hvkvp_items_get(&v2->pool[HV_POOL_GUEST], "cdata.key"),
                      "x < y && z");
  assert_string_equal(hvkvp_items_get(&v2->pool[HV_POOL_GUEST], "utf8"),
                      "gr\xc3\xbc\xc3\x9f"
                      "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
  assert_string_equal(hvkvp_items_get(&v2->pool[HV_POOL_GUEST], "ok.after"),
                      "still decoded");
  assert_int_equal(v2->pool[HV_POOL_GUEST].n, 3);
  /* wrong class, no Name, duplicate Name, Data over the cap */
  assert_int_equal(v2->items_rejected, 4);
  assert_non_null(strstr(v2->reject_reason, "wrong class"));
  assert_int_equal(v2->pool[HV_POOL_HOST].n, 0);

  assert_string_equal(v3->guid, VM3);
  assert_true(v3->has_kvp);
  assert_int_equal(v3->pool[HV_POOL_GUEST].n + v3->pool[HV_POOL_INTRINSIC].n,
                   0);

  wsman_stats_t st;
  hv_host_stats(h, &st);
  /* Enumerate CS + one Pull, Enumerate KVP, Enumerate setting data */
  assert_int_equal(st.requests, 4);
  assert_true(st.bytes_in > 10000);
  char **req;
  int n = srv_requests(&s, &req);
  assert_int_equal(n, 4);
  assert_non_null(strstr(req[1], "uuid:CTX-CS-1"));
  assert_non_null(strstr(req[1], "<n:MaxElements>100</n:MaxElements>"));
  for (int i = 0; i < n; i++) {
    /* Basic credentials in the header only */
    assert_non_null(strstr(req[i], "AUTH: Basic "));
    assert_null(strstr(req[i], SECRET));
    /* timeout 20 s: the server is asked to answer within 19 s */
    assert_non_null(strstr(req[i], "PT19.000S"));
  }
  free_requests(req, n);
  hv_vms_free(&vms);

  /* guest items only: the WQL selects only that array, no setting data */
  rc = hv_list_vms(h, HV_WANT_GUEST, &vms, &err);
  assert_int_equal(rc, 0);
  hv_host_stats(h, &st);
  assert_int_equal(st.requests, 7);
  assert_int_equal(vms.v[0].pool[HV_POOL_INTRINSIC].n, 0);
  assert_int_equal(vms.v[0].pool[HV_POOL_GUEST].n, 3);
  n = srv_requests(&s, &req);
  assert_int_equal(n, 7);
  assert_non_null(strstr(req[6], "SELECT SystemName, GuestExchangeItems FROM "
                                 "Msvm_KvpExchangeComponent"));
  free_requests(req, n);
  hv_vms_free(&vms);
  hv_host_free(h);
  srv_stop(&s);
}

/* Parses one logged Invoke request; returns the DataItems decoded. */
static int invoke_items(const char *rec, const char *method, cimx_item_t *items,
                        int max, char *target) {
  const char *x = strstr(rec, "<?xml");
  assert_non_null(x);
  char why[256];
  xmlDocPtr doc = hvx_parse(x, strlen(x), 1 << 24, NULL, why, sizeof(why));
  if (doc == NULL)
    fail_msg("invoke request does not parse: %s", why);
  xmlNodePtr env = xmlDocGetRootElement(doc);
  xmlNodePtr head = hvx_child(env, WSMAN_NS_SOAP, "Header");
  int sels = 0;
  for (xmlNodePtr s = hvx_path(head, WSMAN_NS_WSMAN, "SelectorSet", "Selector",
                               (const char *)NULL);
       s != NULL; s = hvx_next(s, WSMAN_NS_WSMAN, "Selector")) {
    char t[64];
    hvx_text_copy(s, t, sizeof(t));
    sels += strcmp(t, "vmms") == 0 || strcmp(t, "HYPERV01") == 0;
  }
  assert_int_equal(sels, 2);
  char in_name[64];
  snprintf(in_name, sizeof(in_name), "%s_INPUT", method);
  xmlNodePtr input =
      hvx_child(hvx_child(env, WSMAN_NS_SOAP, "Body"), NULL, in_name);
  assert_non_null(input);
  xmlNodePtr ts = hvx_child(input, NULL, "TargetSystem");
  xmlNodePtr sel =
      hvx_path(hvx_child(ts, WSMAN_NS_WSA, "ReferenceParameters"),
               WSMAN_NS_WSMAN, "SelectorSet", "Selector", (const char *)NULL);
  sel = hvx_next(sel, WSMAN_NS_WSMAN, "Selector");
  hvx_text_copy(sel, target, 64);
  int n = 0;
  for (xmlNodePtr d = hvx_child(input, NULL, "DataItems"); d != NULL;
       d = hvx_next(d, NULL, "DataItems")) {
    xmlChar *tf;
    const char *t = hvx_text(d, &tf);
    if (n < max)
      assert_int_equal(cimx_decode(t, strlen(t), &items[n], NULL), CIMX_OK);
    n++;
    xmlFree(tf);
  }
  xmlFreeDoc(doc);
  return n;
}

static void test_add_follows_job(void **state) {
  srv_t s;
  srv_start(&s, M_NORMAL);
  hv_host_t *h = host_for(&s, "monitor");
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  hvkvp_items_set(&it, "hvkvp.cfg.id", "c2");
  hvkvp_items_set(&it, "hvkvp.cfg.note", "a<b&c \"d\"");
  ws_err_t err;
  int rc = hv_kvp_items(h, "{11111111-2222-3333-4444-555555555555}", HV_KVP_ADD,
                        &it, 20, &err);
  if (rc != 0)
    fail_msg("hv_kvp_items: %s", err.msg);
  wsman_stats_t st;
  hv_host_stats(h, &st);
  /* service enumeration, Invoke, Get (running), Get (completed) */
  assert_int_equal(st.requests, 4);
  char **req;
  int n = srv_requests(&s, &req);
  assert_int_equal(n, 4);
  cimx_item_t items[2];
  char target[64];
  assert_int_equal(invoke_items(req[1], "AddKvpItems", items, 2, target), 2);
  assert_string_equal(target, VM1);
  assert_string_equal(items[0].name, "hvkvp.cfg.id");
  assert_string_equal(items[0].data, "c2");
  assert_int_equal(items[0].source, 0);
  assert_string_equal(items[1].data, "a<b&c \"d\"");
  assert_non_null(strstr(req[2], "00000000JOB1"));
  free_requests(req, n);
  hvkvp_items_free(&it);
  hv_host_free(h);
  srv_stop(&s);
}

static void test_add_batches_of_128(void **state) {
  srv_t s;
  srv_start(&s, M_NORMAL);
  hv_host_t *h = host_for(&s, "monitor");
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  for (int i = 0; i < 300; i++) {
    char k[32];
    snprintf(k, sizeof(k), "k%03d", i);
    hvkvp_items_set(&it, k, "v");
  }
  ws_err_t err;
  int rc = hv_kvp_items(h, VM1, HV_KVP_ADD, &it, 30, &err);
  if (rc != 0)
    fail_msg("hv_kvp_items: %s", err.msg);
  char **req;
  int n = srv_requests(&s, &req);
  /* 1 service enumeration (cached), then 3 x (Invoke + 2 Gets) */
  assert_int_equal(n, 1 + 3 * 3);
  cimx_item_t *items = calloc(128, sizeof(*items));
  char target[64];
  assert_int_equal(invoke_items(req[1], "AddKvpItems", items, 128, target),
                   128);
  assert_string_equal(items[0].name, "k000");
  assert_int_equal(invoke_items(req[4], "AddKvpItems", items, 128, target),
                   128);
  assert_string_equal(items[0].name, "k128");
  assert_int_equal(invoke_items(req[7], "AddKvpItems", items, 128, target), 44);
  assert_string_equal(items[43].name, "k299");
  free(items);
  free_requests(req, n);
  hvkvp_items_free(&it);
  hv_host_free(h);
  srv_stop(&s);
}

static void test_method_and_job_errors(void **state) {
  srv_t s;
  srv_start(&s, M_NORMAL);
  hv_host_t *h = host_for(&s, "monitor");
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  hvkvp_items_set(&it, "missing", "x");
  ws_err_t err;
  assert_int_equal(hv_kvp_items(h, VM1, HV_KVP_MODIFY, &it, 10, &err), -1);
  assert_int_equal(err.kind, WS_ERR_METHOD);
  assert_int_equal(err.code, 32773);
  assert_non_null(strstr(err.msg, "32773 (Invalid parameter)"));
  /* the next call works: Remove returns 0 without a job */
  assert_int_equal(hv_kvp_items(h, VM1, HV_KVP_REMOVE, &it, 10, &err), 0);
  char **req;
  int n = srv_requests(&s, &req);
  cimx_item_t items[1];
  char target[64];
  assert_int_equal(invoke_items(req[n - 1], "RemoveKvpItems", items, 1, target),
                   1);
  assert_string_equal(items[0].name, "missing");
  assert_string_equal(items[0].data, "");
  free_requests(req, n);
  /* not a GUID */
  assert_int_equal(hv_kvp_items(h, "web01", HV_KVP_ADD, &it, 10, &err), -1);
  assert_int_equal(err.kind, WS_ERR_CONFIG);
  hv_host_free(h);
  srv_stop(&s);

  srv_start(&s, M_JOBFAIL);
  h = host_for(&s, "monitor");
  assert_int_equal(hv_kvp_items(h, VM1, HV_KVP_ADD, &it, 10, &err), -1);
  assert_int_equal(err.kind, WS_ERR_JOB);
  assert_int_equal(err.code, 32779);
  assert_non_null(strstr(err.msg, "Exception"));
  assert_non_null(strstr(err.msg, "not found"));
  hvkvp_items_free(&it);
  hv_host_free(h);
  srv_stop(&s);
}

/* ReturnValue and JobState that are not numbers are parse errors: a
 * ReturnValue of "zero" is not success (atoi made it 0), and a JobState of
 * "Running" does not keep the job polled until the deadline. */
static void test_method_non_numeric_codes(void **state) {
  srv_t s;
  srv_start(&s, M_BADNUM);
  hv_host_t *h = host_for(&s, "monitor");
  hvkvp_items_t it;
  hvkvp_items_init(&it);
  hvkvp_items_set(&it, "k", "v");
  ws_err_t err;
  assert_int_equal(hv_kvp_items(h, VM1, HV_KVP_REMOVE, &it, 10, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  assert_non_null(strstr(err.msg, "ReturnValue \"zero\" is not a number"));
  assert_int_equal(hv_kvp_items(h, VM1, HV_KVP_ADD, &it, 10, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  assert_non_null(strstr(err.msg, "JobState \"Running\" is not a number"));
  wsman_stats_t st;
  hv_host_stats(h, &st);
  /* enumeration, Remove; Add and one Get: no polling until the deadline */
  assert_int_equal(st.requests, 4);
  hvkvp_items_free(&it);
  hv_host_free(h);
  srv_stop(&s);
}

static void test_http_level_errors(void **state) {
  srv_t s;
  hv_vms_t vms;
  ws_err_t err;
  srv_start(&s, M_401);
  hv_host_t *h = host_for(&s, "HV\\monitor");
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  assert_int_equal(err.kind, WS_ERR_AUTH);
  assert_int_equal(err.http_status, 401);
  assert_non_null(strstr(err.msg, "HV\\monitor"));
  assert_null(strstr(err.msg, SECRET));
  hv_host_free(h);
  srv_stop(&s);

  srv_start(&s, M_FAULT);
  h = host_for(&s, "monitor");
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  assert_int_equal(err.kind, WS_ERR_FAULT);
  assert_int_equal(err.code, 2150858778u);
  assert_non_null(strstr(err.msg, "Msvm_ComputerSystem"));
  hv_host_free(h);
  srv_stop(&s);

  srv_start(&s, M_HUGE);
  h = host_for(&s, "monitor");
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  assert_non_null(strstr(err.msg, "exceeds 1024000 bytes"));
  hv_host_free(h);
  int port = s.port;
  srv_stop(&s);

  /* nothing listens any more on that port */
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/wsman", port);
  hv_opts_t o = {.ws = {.url = url}};
  h = hv_host_new(&o, &err);
  assert_non_null(h);
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  assert_int_equal(err.kind, WS_ERR_CONNECT);
  hv_host_free(h);

  /* HTTPS to a plain HTTP server is a TLS error */
  srv_start(&s, M_NORMAL);
  snprintf(url, sizeof(url), "https://127.0.0.1:%d/wsman", s.port);
  h = hv_host_new(&o, &err);
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  assert_int_equal(err.kind, WS_ERR_TLS);
  hv_host_free(h);
  srv_stop(&s);
}

static void test_bad_options(void **state) {
  ws_err_t err;
  hv_opts_t o = {.ws = {.url = "ftp://x/wsman"}};
  assert_null(hv_host_new(&o, &err));
  assert_int_equal(err.kind, WS_ERR_CONFIG);
  o.ws.url = "http://user:" SECRET "@h:5985/wsman";
  assert_null(hv_host_new(&o, &err));
  assert_int_equal(err.kind, WS_ERR_CONFIG);
  assert_null(strstr(err.msg, SECRET));
  o.ws.url = "http://h:5985/wsman";
  o.ws.auth = "digest";
  assert_null(hv_host_new(&o, &err));
  assert_non_null(strstr(err.msg, "digest"));
  o.ws.auth = NULL;
  o.ns = "root/virt\"ualization";
  assert_null(hv_host_new(&o, &err));
  assert_int_equal(err.kind, WS_ERR_CONFIG);
}

/* Enumerations left open are released: after an unreadable later page, and
 * after stopping early (the service lookup reads one instance). The page
 * that cannot be read costs nothing else here: every listed VM came in the
 * first page, so there is nothing to read around. */
static void test_release_on_error_and_early_stop(void **state) {
  srv_t s;
  srv_start(&s, M_MORE);
  hv_host_t *h = host_for(&s, "monitor");
  hv_vms_t vms;
  ws_err_t err;
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), 0);
  assert_int_equal(vms.n, 3);
  for (size_t i = 0; i < vms.n; i++)
    assert_false(vms.v[i].unreadable);
  hv_vms_free(&vms);
  char **req;
  int n = srv_requests(&s, &req);
  /* CS Enumerate + Pull, KVP Enumerate + broken Pull, Release */
  assert_int_equal(n, 5);
  assert_non_null(strstr(req[4], "enumeration/Release<"));
  assert_non_null(strstr(req[4], "uuid:CTX-KVP-2"));
  free_requests(req, n);

  hvkvp_items_t it;
  hvkvp_items_init(&it);
  hvkvp_items_set(&it, "k", "v");
  assert_int_equal(hv_kvp_items(h, VM1, HV_KVP_REMOVE, &it, 10, &err), 0);
  n = srv_requests(&s, &req);
  /* service Enumerate (first instance taken), Release, Invoke */
  assert_int_equal(n, 8);
  assert_non_null(strstr(req[5], "Msvm_VirtualSystemManagementService"));
  assert_non_null(strstr(req[6], "enumeration/Release<"));
  assert_non_null(strstr(req[6], "uuid:CTX-VSMS"));
  assert_non_null(strstr(req[7], "/RemoveKvpItems<"));
  free_requests(req, n);
  hvkvp_items_free(&it);
  hv_host_free(h);
  srv_stop(&s);
}

/* An enumeration whose pages never bring an item is given up after a bounded
 * number of empty Pulls, with a clear error, and its context released. */
static void test_enumeration_without_progress(void **state) {
  srv_t s;
  srv_start(&s, M_STALL);
  hv_host_t *h = host_for(&s, "monitor");
  hv_vms_t vms;
  ws_err_t err;
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  assert_int_equal(err.kind, WS_ERR_PARSE);
  assert_non_null(strstr(err.msg, "made no progress in 64 pulls"));
  char **req;
  int n = srv_requests(&s, &req);
  assert_true(n >= 66 && n <= 70);
  assert_non_null(strstr(req[n - 1], "enumeration/Release<"));
  assert_non_null(strstr(req[n - 1], "uuid:CTX-STALL"));
  free_requests(req, n);
  hv_host_free(h);
  srv_stop(&s);
}

/* A poll has a budget: an enumeration that never ends is given up when its
 * requests are spent, and released; a server that does not answer holds
 * the poll no longer than its time. */
static void test_budget(void **state) {
  srv_t s;
  srv_start(&s, M_ENDLESS);
  hv_host_t *h = host_for(&s, "monitor");
  hv_vms_t vms;
  ws_err_t err;
  wsman_budget_t b = {0, 40, 0};
  hv_host_budget(h, &b);
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  assert_int_equal(err.kind, WS_ERR_BUDGET);
  assert_non_null(strstr(err.msg, "40 requests"));
  char **req;
  int n = srv_requests(&s, &req);
  assert_int_equal(n, 41); /* 40, then the Release */
  assert_non_null(strstr(req[n - 1], "enumeration/Release<"));
  assert_non_null(strstr(req[n - 1], "uuid:CTX-ENDLESS"));
  free_requests(req, n);
  /* without a budget the same host is bounded by the progress check only */
  hv_host_budget_end(h);
  hv_host_free(h);
  srv_stop(&s);

  srv_start(&s, M_SLOW);
  h = host_for(&s, "monitor");
  b = (wsman_budget_t){0.5, 0, 0};
  hv_host_budget(h, &b);
  double t0 = wsman_now();
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), -1);
  double took = wsman_now() - t0;
  assert_int_equal(err.kind, WS_ERR_TIMEOUT);
  assert_true(took < 3.0); /* Timeout is 20 s: the budget cut it */
  hv_host_free(h);
  srv_stop(&s);
}

/* The v1 namespace changes every resource URI. */
static void test_namespace_v1(void **state) {
  srv_t s;
  srv_start(&s, M_NORMAL);
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/wsman", s.port);
  hv_opts_t o = {.ws = {.url = url, .timeout = 20},
                 .ns = "root/virtualization"};
  ws_err_t err;
  hv_host_t *h = hv_host_new(&o, &err);
  assert_non_null(h);
  hv_vms_t vms;
  assert_int_equal(hv_list_vms(h, HV_WANT_GUEST, &vms, &err), 0);
  hv_vms_free(&vms);
  char **req;
  int n = srv_requests(&s, &req);
  assert_true(n >= 3);
  for (int i = 0; i < n; i++) {
    assert_non_null(strstr(req[i], "/wmi/root/virtualization/*<"));
    assert_null(strstr(req[i], "/v2/"));
  }
  free_requests(req, n);
  hv_host_free(h);
  srv_stop(&s);
}

int main(void) {
  xmlInitParser();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list_vms_full),
      cmocka_unit_test(test_add_follows_job),
      cmocka_unit_test(test_add_batches_of_128),
      cmocka_unit_test(test_method_and_job_errors),
      cmocka_unit_test(test_method_non_numeric_codes),
      cmocka_unit_test(test_http_level_errors),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_release_on_error_and_early_stop),
      cmocka_unit_test(test_enumeration_without_progress),
      cmocka_unit_test(test_namespace_v1),
      cmocka_unit_test(test_budget),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
