/* SPDX-License-Identifier: BSD-3-Clause */
/* The work interface: what the engine needs from a kind of work (tasks, map
 * items, kernel chunks, ...), and the per-index helpers every kind's range
 * runner shares. A new kind is one new file: a `struct ompb__work_ops`, its
 * state (allocated with the batch at b->work) and its entry points.
 *
 * The engine (src/run.c) claims ranges of indices and hands each to the
 * kind's run_range; it never looks at what an index means. The helpers
 * below are inline: they run once per index, and a call per index is what
 * the hot loops were measured without (perf/bench_batch, perf/bench_map). */
#ifndef OMPB_WORK_H
#define OMPB_WORK_H

#include "internal.h"

struct ompb__work_ops {
  /* Run indices [lo, hi) as member `s`, checking the gate before each
   * one; on a stop, skip the rest of the range (ompb__skip) and return
   * true. Runs on a team thread. */
  bool (*run_range)(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi);
  /* The index a failed index reports as error->index (kernel chunks: their
   * first element); NULL: the index itself. */
  size_t (*error_index)(const ompb_batch *b, size_t i);
  /* Release what the kind holds for indices [lo, hi) that will never run
   * (argument ownership); NULL: nothing. */
  void (*skip)(ompb_batch *b, size_t lo, size_t hi);
  /* Free what is only needed while the team runs (the task list), once it
   * has ended; NULL: nothing. */
  void (*team_done)(ompb_batch *b);
  /* Free the rest of the kind's state when the handle goes; NULL: nothing. */
  void (*destroy)(ompb_batch *b);
  /* Results carry values owned by the batch until a waiter takes them
   * (result_free drops them); map items and kernel chunks have none. */
  bool values;
};

/* The kind's state of batch b. */
#define OMPB__WORK(b, type) ((type *)(b)->work)

#define OMPB__LOAD(p) atomic_load_explicit((p), memory_order_relaxed)
#define OMPB__STORE(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
/* Bump a counter that only this thread writes: no read-modify-write needed. */
#define OMPB__BUMP(p) OMPB__STORE((p), OMPB__LOAD(p) + 1)

/* src/work.c */
/* Park while b is paused; true when it was stopped meanwhile. */
bool ompb__wait_paused(ompb_batch *b);
/* Mark [lo, hi) skipped: status ECANCELED, the kind's skip, on_result. */
void ompb__skip(ompb_batch *b, size_t lo, size_t hi);
/* A kept result's error record for index i (message from s, or the code's
 * own), or NULL when out of memory (counted in lost_errors for the seal). */
ompb_error *ompb__make_error(ompb_batch *b, struct ompb__slot *s, int rc, size_t i);

static inline size_t ompb__error_index(const ompb_batch *b, size_t i) {
  return b->ops->error_index ? b->ops->error_index(b, i) : i;
}

/* Before each index: true when the batch was stopped. Restarts *t after a
 * pause so the wait is not billed to the next index: with ompb__now_ns,
 * or with ompb__ticks when `ticks`. */
static inline bool ompb__gate_clock(ompb_batch *b, int64_t *t, bool ticks) {
  /* the hot path: two loads, one test */
  if (__builtin_expect((OMPB__LOAD(&b->stop) | (int64_t)OMPB__LOAD(&b->paused)) == 0, 1))
    return false;
  if (OMPB__LOAD(&b->stop)) return true;
  if (OMPB__LOAD(&b->paused)) {
    if (ompb__wait_paused(b)) return true;
    *t = ticks ? ompb__ticks() : ompb__now_ns();
  }
  return false;
}
static inline bool ompb__gate(ompb_batch *b, int64_t *t) { return ompb__gate_clock(b, t, false); }

/* Record index i's outcome: counters, fail-fast, the result entry,
 * on_result, and dropping the value when results are discarded. `late`:
 * the reporter already timed the index out and counted it. Always inlined:
 * gcc kept it out of line, and the call cost a 16-task batch 13% of its
 * instructions (callgrind, one-worker pool). */
static inline __attribute__((always_inline)) void
ompb__finish(ompb_batch *b, struct ompb__slot *s, size_t i, int rc, ompb_value v,
             int64_t dur_ns, bool late) {
  const ompb_batch_opts *o = &b->opts;
  if (late) {
    if (rc == 0 && o->result_free) o->result_free(v, o->user);
    rc = OMPB_ETIMEDOUT;
    s->has_msg = false;
  } else if (rc == 0) {
    OMPB__BUMP(&s->ok);
  } else if (rc != OMPB_ECANCELED) {
    OMPB__BUMP(&s->failed);
    if (o->fail_fast) ompb__trip(b, OMPB__STOP_FAILFAST, rc);
  }
  if (rc != 0) v.i64 = 0;
  bool failed = rc != 0 && rc != OMPB_ECANCELED;
  if (b->results) {
    ompb_task_result *r = &b->results[i];
    r->index = i;
    r->status = rc;
    r->value = v;
    r->error = failed ? ompb__make_error(b, s, rc, i) : NULL;
    r->duration_ms = (double)dur_ns / 1e6;
    if (o->on_result) o->on_result(r, o->user);
    return;
  }
  if (o->on_result) {
    ompb_error e = {rc, ompb__error_index(b, i), s->has_msg ? s->msg : ompb_strerror(rc)};
    ompb_task_result r = {i, rc, v, failed ? &e : NULL, (double)dur_ns / 1e6};
    o->on_result(&r, o->user);
  }
  if (rc == 0 && o->result_free) o->result_free(v, o->user);
}

/* How a kind runs one index, for ompb__run_each: `call` runs it and returns
 * its code (value in *v); `limit` is its deadline (NULL: the batch's
 * task_timeout_ns); `after` releases what it held, after the clock stops
 * (NULL: nothing). Passed as a pointer to a static const object, so that
 * the inlined loop calls each directly. */
typedef struct {
  int (*call)(ompb_batch *b, struct ompb__slot *s, size_t i, ompb_value *v);
  int64_t (*limit)(const ompb_batch *b, size_t i);
  void (*after)(ompb_batch *b, size_t i);
} ompb__each;

/* Run [lo, hi) one index at a time with deadlines, durations and on_result:
 * the general range runner of every kind. Durations come from the task
 * clock, or from the monotonic clock when deadlines are published (the
 * reporter compares them with it). */
static inline __attribute__((always_inline)) bool
ompb__run_each(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi,
               const ompb__each *e) {
  const bool deadlines = b->min_timeout_ns != 0;
  const double tick_ns = ompb__tick_scale();
  int64_t t0 = deadlines ? ompb__now_ns() : ompb__ticks();
  for (size_t i = lo; i < hi; i++) {
    if (ompb__gate_clock(b, &t0, !deadlines)) {
      ompb__skip(b, i, hi);
      return true;
    }
    ompb_value v = {0};
    s->ctx.index = i;
    s->has_msg = false;
    if (deadlines) {
      /* Publish the running index for the reporter's deadline check. */
      int64_t limit = e->limit ? e->limit(b, i) : b->task_timeout_ns;
      OMPB__STORE(&s->deadline_ns, limit ? ompb__after(t0, limit) : INT64_MAX);
      atomic_store_explicit(&s->cur, (uint64_t)(i + 1) << 1, memory_order_release);
    }
    int rc = e->call(b, s, i, &v);
    bool late = deadlines && (atomic_exchange(&s->cur, 0) & 1);
    int64_t t1 = deadlines ? ompb__now_ns() : ompb__ticks();
    if (e->after) e->after(b, i);
    ompb__finish(b, s, i, rc, v, deadlines ? t1 - t0 : ompb__ticks_to_ns(t1 - t0, tick_ns), late);
    t0 = t1;
  }
  return false;
}

#endif /* OMPB_WORK_H */
