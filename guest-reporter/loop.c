/*
 * loop.c - the reporter's run loop (loop.h), portable C11 over platform.h.
 * Ticks are aligned to multiples of the interval on the wall clock and
 * waited for on the monotonic clock, so a clock step moves at most one
 * tick. Between ticks the loop sleeps in plat_wait, the one platform piece:
 * a stop event ends the loop, a reload event re-reads the configuration and
 * re-aligns the next tick. The interval in effect (the file's, or the one
 * the host pushed) is read after every cycle, so a pushed change applies
 * from the next tick and is logged once.
 */
#include "loop.h"
#include "log.h"
#include "platform.h"

uint64_t loop_ms_to_tick(uint64_t now_ms, uint64_t interval_ms) {
  if (interval_ms == 0)
    interval_ms = 1;
  return (now_ms / interval_ms + 1) * interval_ms - now_ms;
}

static uint64_t loop_next_deadline(uint64_t interval_ms) {
  uint64_t wall = (uint64_t)(plat_wall_time() * 1000.0);
  return plat_mono_ms() + loop_ms_to_tick(wall, interval_ms);
}

static void loop_reload(reporter_t *r, const loop_opts_t *o) {
  char err[512];
  if (o->reload == NULL)
    return;
  if (o->reload(r, o->arg, err, sizeof(err)) != 0)
    rlog_error("reload refused, keeping the running config: %s", err);
  else
    rlog_info("config reloaded");
}

/* Sleeps until the next tick. Returns 1 at the tick, 0 on a stop event. */
static int loop_wait_tick(reporter_t *r, const loop_opts_t *o) {
  uint64_t deadline = loop_next_deadline(reporter_interval_ms(r));
  for (;;) {
    uint64_t now = plat_mono_ms();
    unsigned ev = plat_wait(now >= deadline ? 0 : deadline - now);
    if (ev & PLAT_EV_STOP)
      return 0;
    if (ev & PLAT_EV_RELOAD) {
      loop_reload(r, o);
      deadline = loop_next_deadline(reporter_interval_ms(r));
    }
    if (ev == 0 && plat_mono_ms() >= deadline)
      return 1;
  }
}

static void loop_note_interval(const reporter_t *r, uint64_t *last_ms) {
  uint64_t ms = reporter_interval_ms(r);
  if (ms != *last_ms)
    rlog_info("interval now %.3f s%s%s", (double)ms / 1000.0,
              r->pushed.cfg.present ? ", pushed config " : "",
              r->pushed.cfg.present ? r->pushed.cfg.id : "");
  *last_ms = ms;
}

int loop_run(reporter_t *r, const loop_opts_t *o, char *err, size_t errlen) {
  if (plat_events_init(err, errlen) != 0)
    return -1;
  uint64_t interval_ms = reporter_interval_ms(r);
  rlog_info("started: store %s, prefix %s, interval %.3f s, epoch %016llx, "
            "gen %llu",
            r->cfg.store, r->cfg.prefix, (double)interval_ms / 1000.0,
            (unsigned long long)r->pub.epoch, (unsigned long long)r->pub.gen);
  for (;;) {
    char cerr[512];
    if (reporter_cycle(r, NULL, cerr, sizeof(cerr)) != 0)
      rlog_error("cycle failed: %s", cerr);
    if (o->max_cycles > 0 && r->cycles >= o->max_cycles)
      break;
    loop_note_interval(r, &interval_ms);
    if (!loop_wait_tick(r, o))
      break;
  }
  rlog_info("stopping after %u cycles", r->cycles);
  return 0;
}
