/*
 * bench_reporter.c - the guest reporter's cost per cycle (goal: <= 4 MB
 * resident, <= 2 ms CPU per cycle). Runs the real hvkvp-reporter binary for
 * N back-to-back cycles (hidden flags --interval-ms 1 --cycles N) on this
 * machine's /proc, publishing to a pool file in a temp dir, and reads the
 * child's peak RSS and CPU time with wait4(); then times the phases of one
 * cycle in-process (collect, encode, publish). Prints figures, asserts
 * nothing. Usage: bench_reporter [path/to/hvkvp-reporter] [cycles]
 */
#include "collect.h"
#include "config.h"
#include "hvkvp.h"
#include "store.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_cpu(const struct rusage *ru) {
  return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
         (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

/* Runs the reporter binary for `cycles` cycles; prints its figures. */
static int bench_process(const char *exe, const char *dir, const char *enc,
                         unsigned cycles) {
  char conf[PATH_MAX], store[PATH_MAX], ncyc[32];
  snprintf(conf, sizeof(conf), "%s/bench-%s.conf", dir, enc);
  FILE *f = fopen(conf, "w");
  if (f == NULL)
    return -1;
  fprintf(f, "Encoding %s\nLogLevel error\n", enc);
  fclose(f);
  snprintf(store, sizeof(store), "pool:%s", dir);
  snprintf(ncyc, sizeof(ncyc), "%u", cycles);
  double t0 = bench_now();
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    execl(exe, exe, "--config", conf, "--foreground", "--store", store,
          "--interval-ms", "1", "--cycles", ncyc, (char *)NULL);
    perror(exe);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_reporter: %s failed (status %d)\n", exe, status);
    return -1;
  }
  double wall = bench_now() - t0;
  double cpu = bench_cpu(&ru);
  printf("hvkvp-reporter, enc=%-4s %u cycles: peak RSS %.2f MB, CPU %.3f ms "
         "per cycle (user+sys), wall %.2f s\n",
         enc, cycles, (double)ru.ru_maxrss / 1024.0, cpu * 1000.0 / cycles,
         wall);
  return 0;
}

/* In-process phases of one cycle, averaged. */
static void bench_phases(const char *dir, unsigned rounds) {
  char err[256];
  hvkvp_store_t *s = store_pool_open(dir, err, sizeof(err));
  if (s == NULL) {
    fprintf(stderr, "bench_reporter: %s\n", err);
    return;
  }
  size_t n;
  const collector_t *c = collectors_platform(&n);
  rcfg_t cfg;
  rcfg_defaults(&cfg); /* the cpu collector's default options */
  collect_ctx_t ctx = {.root = "", .interval = 10, .cpu = cfg.cpu};
  ctx.state = collect_state_new();
  double t_collect = 0, t_encode = 0, t_publish = 0;
  size_t vls = 0, chunks = 0;
  for (unsigned r = 0; r < rounds; r++) {
    hvkvp_msg_t m;
    hvkvp_msg_init(&m);
    snprintf(m.host, sizeof(m.host), "bench");
    m.interval = 10;
    m.seq = r + 1;
    double t0 = bench_now();
    for (size_t i = 0; i < n; i++)
      c[i].read(&ctx, &m, err, sizeof(err));
    double t1 = bench_now();
    hvkvp_items_t cur;
    s->read_own(s, "hvkvp", &cur, err, sizeof(err));
    hvkvp_encode_opts_t o = {.prefix = "hvkvp", .epoch = 7, .gen = r + 1};
    hvkvp_frame_t f;
    hvkvp_err_t he;
    if (hvkvp_encode(&m, &o, &cur, &f, &he) != 0) {
      fprintf(stderr, "bench_reporter: encode: %s\n", he.detail);
      hvkvp_items_free(&cur);
      hvkvp_msg_free(&m);
      break;
    }
    double t2 = bench_now();
    if (s->publish(s, &f, err, sizeof(err)) != 0)
      fprintf(stderr, "bench_reporter: publish: %s\n", err);
    double t3 = bench_now();
    t_collect += t1 - t0;
    t_encode += t2 - t1;
    t_publish += t3 - t2;
    vls = m.n_vls;
    chunks = f.head.n;
    hvkvp_frame_free(&f);
    hvkvp_items_free(&cur);
    hvkvp_msg_free(&m);
  }
  printf("in-process, %u rounds, %zu value lists in %zu z64 chunks: collect "
         "%.3f ms, read+encode %.3f ms, publish %.3f ms (wall, per cycle)\n",
         rounds, vls, chunks, t_collect * 1000 / rounds,
         t_encode * 1000 / rounds, t_publish * 1000 / rounds);
  collect_state_free(ctx.state);
  s->close(s);
}

int main(int argc, char **argv) {
  char exe[PATH_MAX];
  if (argc > 1) {
    snprintf(exe, sizeof(exe), "%s", argv[1]);
  } else {
    char self[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (l < 0)
      return 1;
    self[l] = '\0';
    snprintf(exe, sizeof(exe), "%s/../guest-reporter/hvkvp-reporter",
             dirname(self));
  }
  unsigned cycles = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 500;
  char dir[] = "/tmp/hvkvp-bench-rep-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  int rc = 0;
  if (bench_process(exe, dir, "z64", cycles) != 0 ||
      bench_process(exe, dir, "json", cycles) != 0)
    rc = 1;
  bench_phases(dir, 200);
  char p[PATH_MAX];
  const char *files[] = {".kvp_pool_1", "bench-z64.conf", "bench-json.conf"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
  printf("goal: <= 4 MB resident, <= 2 ms CPU per cycle\n");
  return rc;
}
