/* SPDX-License-Identifier: BSD-3-Clause */
/* Soak test: thousands of random batches with random sizes, durations,
 * failures and options, and random cancel/pause/resume from another thread,
 * from inside tasks and from callbacks. After every batch it checks the
 * library's promises (docs/guarantees.md):
 *   - every task's result is final, and its function ran at most once;
 *   - arg_free and on_result ran exactly once per task;
 *   - the counts add up, and agree with the per-task statuses;
 *   - progress never goes backwards, reports never overlap, the last one
 *     carries the final counts and none comes after wait returned;
 *   - no task started while the batch was paused: after ompb_batch_pause
 *     returned, at most one task per team member (those past the start
 *     check) starts before the matching resume, and none after a settle.
 * A standalone program (not in the CUnit runner) so a crash cannot hide a
 * summary. Reproducible: SOAK_SEED (printed), SOAK_BATCHES (default
 * 10000), SOAK_SETTLE_MS (default 20; larger under valgrind), SOAK_WORKERS
 * (pools of W, 1 and W + 1 workers; default 2). Exits 1 when
 * any check failed. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ompbatch.h"

#define MAXN 2048    /* largest batch */
#define MAXREP 4096  /* progress reports kept per batch */
#define MAXPAUSE 256 /* pause intervals kept per batch */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms) {
  if (ms <= 0) return;
  struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* xorshift64*: one stream for the main thread, one per task (seeded from
 * the batch seed and the index), so a run is reproducible as far as thread
 * timing allows. */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}
static unsigned below(uint64_t *s, unsigned n) { return n ? (unsigned)(rnd(s) % n) : 0; }
static bool chance(uint64_t *s, unsigned percent) { return below(s, 100) < percent; }

/* ---- what a task does ---- */
enum { T_FAST, T_SPIN, T_SLEEP, T_FAIL, T_SELF_CANCEL, T_CANCEL, T_PAUSE, T_NESTED };

struct batch_state;
struct arg {
  struct batch_state *st;
  size_t index;
  int kind;
  double ms;
};

/* Everything one batch records; checked after wait. */
struct batch_state {
  size_t n;
  unsigned members; /* the most tasks that can run at once */
  bool discard, fail_fast;
  atomic_int ran[MAXN], freed[MAXN], streamed[MAXN], stream_status[MAXN];
  atomic_int values_freed[MAXN], returned[MAXN];
  double started_at[MAXN]; /* task entry time; written once by its task */
  atomic_int self_cancelled;
  ompb_batch *_Atomic handle;

  /* pause bookkeeping, serialised by mu: [pause returned, resume called) */
  pthread_mutex_t mu;
  bool paused;
  int npause;
  double pause_from[MAXPAUSE], pause_to[MAXPAUSE];

  /* progress reports (reporter thread only, never concurrently) */
  atomic_int in_report, overlapped, after_wait;
  atomic_bool waited;
  int nrep;
  ompb_progress rep[MAXREP];
  unsigned progress_actions; /* percent chance of cancel/pause/resume per report */
  uint64_t cb_seed;          /* reporter's own stream */
};

static void do_pause(struct batch_state *st) {
  ompb_batch *b = atomic_load(&st->handle);
  if (!b) return;
  pthread_mutex_lock(&st->mu);
  ompb_batch_pause(b);
  if (!st->paused && st->npause < MAXPAUSE) {
    st->paused = true;
    st->pause_from[st->npause] = now_ms();
    st->pause_to[st->npause] = 1e300;
  }
  pthread_mutex_unlock(&st->mu);
}

static void do_resume(struct batch_state *st) {
  ompb_batch *b = atomic_load(&st->handle);
  if (!b) return;
  pthread_mutex_lock(&st->mu);
  if (st->paused) {
    st->pause_to[st->npause++] = now_ms();
    st->paused = false;
  }
  ompb_batch_resume(b);
  pthread_mutex_unlock(&st->mu);
}

static void do_cancel(struct batch_state *st) {
  ompb_batch *b = atomic_load(&st->handle);
  if (b) ompb_batch_cancel(b);
}

/* The oldest pause still in force, in ms since it began (0: none). */
static double paused_for(struct batch_state *st) {
  pthread_mutex_lock(&st->mu);
  double d = st->paused ? now_ms() - st->pause_from[st->npause] : 0;
  pthread_mutex_unlock(&st->mu);
  return d;
}

static int leaf_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  out->i64 = (int64_t)ompb_ctx_index(ctx);
  return 0;
}

static int soak_task(ompb_ctx *ctx, void *p, ompb_value *out) {
  struct arg *a = p;
  struct batch_state *st = a->st;
  st->started_at[a->index] = now_ms();
  atomic_fetch_add(&st->ran[a->index], 1);
  int rc = 0;
  switch (a->kind) {
  case T_FAST:
    break;
  case T_SPIN: {
    double end = now_ms() + a->ms;
    while (now_ms() < end) {
    }
    break;
  }
  case T_SLEEP: {
    double end = now_ms() + a->ms;
    while (now_ms() < end) {
      if (ompb_ctx_should_stop(ctx)) break; /* cooperative, but finishes normally */
      sleep_ms(0.05);
    }
    break;
  }
  case T_FAIL:
    rc = (a->index % 3 == 0) ? ompb_ctx_fail(ctx, 40 + (int)(a->index % 7), "task %zu failed", a->index)
         : (a->index % 3 == 1) ? 17
                               : OMPB_ENOMETHOD;
    break;
  case T_SELF_CANCEL:
    atomic_fetch_add(&st->self_cancelled, 1);
    rc = OMPB_ECANCELED;
    break;
  case T_CANCEL:
    do_cancel(st);
    break;
  case T_PAUSE: /* pause from inside; the reporter or the controller resumes */
    do_pause(st);
    break;
  case T_NESTED: { /* a nested batch from inside a task: runs in this team */
    ompb_task t[5];
    for (int i = 0; i < 5; i++) t[i] = (ompb_task){.fn = leaf_task};
    ompb_result *r = NULL;
    int nrc = ompb_exec_batch(NULL, t, 5, NULL, &r); /* NULL pool: EINVAL */
    if (nrc != OMPB_EINVAL || r) rc = 91;
    break;
  }
  }
  if (rc == 0) out->i64 = (int64_t)a->index * 3 + 1;
  atomic_store(&st->returned[a->index], rc == 0 ? 1 : 2);
  return rc;
}

static ompb_pool *g_pools[3];

/* Nested batch on a real pool: checked inside, reported through rc. */
static int nested_task(ompb_ctx *ctx, void *p, ompb_value *out) {
  int rc = soak_task(ctx, p, out);
  if (rc) return rc;
  ompb_task t[7];
  for (int i = 0; i < 7; i++) t[i] = (ompb_task){.fn = leaf_task};
  ompb_result *r = NULL;
  int nrc = ompb_exec_batch(g_pools[0], t, 7, NULL, &r);
  bool ok = r && r->count == 7 &&
            (nrc == OMPB_OK ? r->success_count == 7
                            : r->success_count + r->cancelled_count == 7);
  ompb_result_free(r);
  return ok ? 0 : 92;
}

static void arg_free_fn(void *p) {
  struct arg *a = p;
  atomic_fetch_add(&a->st->freed[a->index], 1);
  free(a);
}

static void on_result(const ompb_task_result *r, void *user) {
  struct batch_state *st = user;
  if (r->index >= st->n) return;
  atomic_fetch_add(&st->streamed[r->index], 1);
  atomic_store(&st->stream_status[r->index], r->status);
}

static void result_free(ompb_value v, void *user) {
  struct batch_state *st = user;
  int64_t k = v.i64 - 1;
  if (k >= 0 && k % 3 == 0 && (size_t)(k / 3) < st->n)
    atomic_fetch_add(&st->values_freed[k / 3], 1);
}

static void on_progress(const ompb_progress *p, void *user) {
  struct batch_state *st = user;
  if (atomic_fetch_add(&st->in_report, 1) != 0) atomic_fetch_add(&st->overlapped, 1);
  if (atomic_load(&st->waited)) atomic_fetch_add(&st->after_wait, 1);
  if (st->nrep < MAXREP) st->rep[st->nrep] = *p;
  st->nrep++;
  /* Random control from the reporter thread; and the reporter ends any
   * pause older than 2 ms, so a pause from inside a task never hangs. */
  if (chance(&st->cb_seed, st->progress_actions)) {
    unsigned what = below(&st->cb_seed, 3);
    if (what == 0) do_cancel(st);
    else if (what == 1) do_pause(st);
    else do_resume(st);
  }
  if (paused_for(st) > 2.0) do_resume(st);
  atomic_fetch_sub(&st->in_report, 1);
}

/* ---- the controller: another thread driving cancel/pause/resume ---- */
struct control {
  struct batch_state *st;
  uint64_t seed;
  int steps;
};

static void *control_main(void *p) {
  struct control *c = p;
  for (int i = 0; i < c->steps; i++) {
    sleep_ms(below(&c->seed, 1500) / 1000.0);
    unsigned what = below(&c->seed, 10);
    if (what == 0) do_cancel(c->st);
    else if (what < 6) do_pause(c->st);
    else do_resume(c->st);
  }
  do_resume(c->st);
  return NULL;
}

/* ---- checks ---- */
static uint64_t g_checks, g_failed_checks;
static bool g_batch_ok;
static uint64_t g_seed;
static size_t g_batch_no;

static void check(bool ok, const char *fmt, ...) {
  g_checks++;
  if (ok) return;
  g_failed_checks++;
  g_batch_ok = false;
  if (g_failed_checks > 50) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "soak: seed %" PRIu64 " batch %zu: ", g_seed, g_batch_no);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void check_batch(struct batch_state *st, const ompb_batch_opts *o, int rc,
                        const ompb_result *r, double settle_ms, bool stoppers) {
  size_t n = st->n;
  check(r != NULL, "wait returned %d without a result", rc);
  if (!r) return;
  check(rc == OMPB_OK || rc == OMPB_ETIMEDOUT || (o->fail_fast && rc != OMPB_ECANCELED),
        "unexpected wait code %d", rc);
  if (rc == OMPB_ETIMEDOUT && !o->fail_fast) check(r->timed_out, "ETIMEDOUT but not timed_out");
  if (r->timed_out) check(o->batch_timeout_ms > 0 && r->cancelled, "timed_out without a batch deadline");
  check(r->count == n, "count %zu != n %zu", r->count, n);
  check(r->success_count + r->failure_count + r->cancelled_count == n, "counts do not add up");
  check(r->all_succeeded == (r->failure_count == 0 && !r->cancelled), "all_succeeded inconsistent");
  size_t selfc = (size_t)atomic_load(&st->self_cancelled);
  if (r->cancelled_count > selfc) check(r->cancelled, "tasks skipped but not cancelled");
  if (!stoppers) check(r->cancelled_count == selfc, "tasks skipped with no stop");
  check(st->discard ? r->results == NULL : (r->results != NULL || n == 0), "results array presence");

  size_t ok = 0, failed = 0, skipped = 0;
  for (size_t i = 0; i < n; i++) {
    int ran = atomic_load(&st->ran[i]);
    int status = atomic_load(&st->stream_status[i]);
    check(ran <= 1, "task %zu ran %d times", i, ran);
    check(atomic_load(&st->freed[i]) == 1, "task %zu: arg_free ran %d times", i,
          atomic_load(&st->freed[i]));
    check(atomic_load(&st->streamed[i]) == 1, "task %zu: on_result ran %d times", i,
          atomic_load(&st->streamed[i]));
    if (r->results) {
      const ompb_task_result *t = &r->results[i];
      check(t->index == i, "results[%zu].index == %zu", i, t->index);
      check(t->status == status, "task %zu: result status %d, streamed %d", i, t->status, status);
      if (t->status == 0)
        check(t->value.i64 == (int64_t)i * 3 + 1, "task %zu: wrong value", i);
      if (t->status != 0 && t->status != OMPB_ECANCELED)
        check(t->error && t->error->code == t->status && t->error->index == i &&
                  t->error->message,
              "task %zu: bad error record", i);
      else
        check(t->error == NULL, "task %zu: error record on a non-failure", i);
    }
    if (status == 0) ok++;
    else if (status == OMPB_ECANCELED) skipped++;
    else failed++;
    if (status == 0) check(ran == 1, "task %zu succeeded without running", i);
    if (status == OMPB_ECANCELED && ran == 0) check(atomic_load(&st->returned[i]) == 0, "?");
    /* result_free: every value the batch dropped, exactly once; none else */
    int vf = atomic_load(&st->values_freed[i]);
    bool late_value = status == OMPB_ETIMEDOUT && atomic_load(&st->returned[i]) == 1;
    bool dropped = late_value || (st->discard && status == 0);
    check(vf == (dropped ? 1 : 0), "task %zu: result_free ran %d times (status %d)", i, vf, status);
  }
  check(ok == r->success_count && failed == r->failure_count && skipped == r->cancelled_count,
        "statuses (%zu/%zu/%zu) disagree with counts (%zu/%zu/%zu)", ok, failed, skipped,
        r->success_count, r->failure_count, r->cancelled_count);

  /* progress */
  int nrep = st->nrep < MAXREP ? st->nrep : MAXREP;
  check(st->nrep >= 1, "no final progress report");
  check(atomic_load(&st->overlapped) == 0, "progress reports overlapped");
  for (int k = 0; k < nrep; k++) {
    const ompb_progress *p = &st->rep[k];
    check(p->total == n && p->completed == p->successes + p->failures &&
              p->percentage >= 0 && p->percentage <= 100,
          "report %d inconsistent", k);
    if (k > 0) {
      const ompb_progress *q = &st->rep[k - 1];
      check(p->completed >= q->completed && p->successes >= q->successes &&
                p->failures >= q->failures,
            "progress went backwards at report %d", k);
    }
  }
  if (nrep >= 1 && st->nrep <= MAXREP) {
    const ompb_progress *last = &st->rep[nrep - 1];
    check(last->successes == r->success_count && last->failures == r->failure_count &&
              last->estimated_remaining_ms == 0.0,
          "last report (%zu ok, %zu failed) is not final (%zu ok, %zu failed)",
          last->successes, last->failures, r->success_count, r->failure_count);
  }

  /* pause: starts within [pause returned, resume called) */
  for (int k = 0; k < st->npause; k++) {
    double from = st->pause_from[k], to = st->pause_to[k];
    unsigned inside = 0, late = 0;
    for (size_t i = 0; i < n; i++) {
      if (!atomic_load(&st->ran[i])) continue;
      double t = st->started_at[i];
      if (t > from && t < to) {
        inside++;
        if (t > from + settle_ms) late++;
      }
    }
    check(inside <= st->members, "pause %d: %u tasks started while paused (members %u)", k,
          inside, st->members);
    check(late == 0, "pause %d: %u tasks started %.0f ms after pause returned", k, late, settle_ms);
  }
}

/* ---- one random batch ---- */
static struct batch_state *g_prev; /* checked for reports after its wait */

static size_t run_batch(uint64_t *s, double settle_ms, size_t *tasks_out) {
  struct batch_state *st = calloc(1, sizeof *st);
  if (!st) {
    fprintf(stderr, "soak: out of memory\n");
    exit(2);
  }
  pthread_mutex_init(&st->mu, NULL);
  unsigned pick = below(s, 3);
  ompb_pool *pool = g_pools[pick];
  unsigned workers = ompb_pool_workers(pool);

  /* size: mostly small, sometimes empty, sometimes large */
  unsigned sz = below(s, 100);
  size_t n = sz < 5 ? 0 : sz < 60 ? 1 + below(s, 16) : sz < 95 ? 16 + below(s, 200) : 200 + below(s, MAXN - 200);
  st->n = n;

  ompb_batch_opts o = {.on_progress = on_progress, .on_result = on_result,
                       .result_free = result_free, .user = st};
  o.concurrency = below(s, 4); /* 0: all workers */
  o.fail_fast = chance(s, 15);
  o.progress_throttle_ms = chance(s, 30) ? 0 : 0.5 + below(s, 100) / 10.0;
  o.discard_results = chance(s, 25);
  if (chance(s, 15)) o.task_timeout_ms = 0.3 + below(s, 30) / 10.0;
  if (chance(s, 10)) o.batch_timeout_ms = 0.5 + below(s, 50) / 10.0;
  st->discard = o.discard_results;
  st->fail_fast = o.fail_fast;
  st->members = o.concurrency && o.concurrency < workers ? o.concurrency : workers;
  st->progress_actions = chance(s, 20) ? 30 : 0;
  st->cb_seed = rnd(s) | 1;

  unsigned p_fail = chance(s, 30) ? below(s, 20) : 0;
  unsigned p_slow = below(s, 30);
  unsigned p_ctl = chance(s, 20) ? 3 : 0;
  bool stoppers = o.fail_fast || o.task_timeout_ms > 0 || o.batch_timeout_ms > 0 ||
                  st->progress_actions > 0 || p_ctl > 0;

  ompb_task *t = calloc(n ? n : 1, sizeof *t);
  if (!t) exit(2);
  for (size_t i = 0; i < n; i++) {
    struct arg *a = malloc(sizeof *a);
    if (!a) exit(2);
    a->st = st;
    a->index = i;
    a->ms = 0;
    unsigned k = below(s, 100);
    if (k < p_fail) a->kind = T_FAIL;
    else if (k < p_fail + p_slow) {
      a->kind = chance(s, 50) ? T_SPIN : T_SLEEP;
      a->ms = below(s, 400) / 1000.0;
    } else if (k < p_fail + p_slow + p_ctl) {
      unsigned c = below(s, 4);
      a->kind = c == 0 ? T_CANCEL : c == 1 ? T_PAUSE : T_SELF_CANCEL;
      if (c == 3) a->kind = T_NESTED;
      stoppers = true;
    } else a->kind = T_FAST;
    if (chance(s, 1)) a->kind = T_SELF_CANCEL;
    t[i].fn = a->kind == T_NESTED && chance(s, 50) ? nested_task : soak_task;
    if (chance(s, 20) && t[i].fn == soak_task) { /* by name */
      t[i].fn = NULL;
      t[i].method = "soak";
    }
    t[i].arg = a;
    t[i].arg_free = arg_free_fn;
    if (chance(s, 3)) t[i].timeout_ms = 0.2 + below(s, 20) / 10.0, stoppers = true;
  }
  /* random task failures need fail_fast/timeouts to count as stoppers only
   * when they stop; a T_SELF_CANCEL is counted in self_cancelled */

  ompb_batch *b = NULL;
  int src = ompb_batch_start(pool, t, n, &o, &b);
  free(t); /* the task list is copied */
  check(src == OMPB_OK && b, "start failed: %d", src);
  if (src != OMPB_OK) {
    free(st);
    return 0;
  }
  atomic_store(&st->handle, b);

  /* control from another thread (or this one) while the batch runs */
  unsigned mode = below(s, 4);
  struct control c = {st, rnd(s) | 1, 1 + (int)below(s, 4)};
  pthread_t th;
  bool threaded = false;
  if (mode == 1) {
    threaded = pthread_create(&th, NULL, control_main, &c) == 0;
    stoppers = true;
  } else if (mode == 2) {
    control_main(&c);
    stoppers = true;
  }
  ompb_result *r = NULL;
  int rc = ompb_batch_wait(b, &r);
  atomic_store(&st->waited, true);
  if (threaded) pthread_join(th, NULL);
  check(!ompb_batch_is_paused(b), "paused after wait");
  check(ompb_batch_wait(b, &(ompb_result *){NULL}) == OMPB_ESTATE, "second wait not ESTATE");
  check(ompb_batch_cancel(b) == OMPB_OK && ompb_batch_pause(b) == OMPB_OK &&
            !ompb_batch_is_paused(b) && ompb_batch_resume(b) == OMPB_OK,
        "control after finish");
  check_batch(st, &o, rc, r, settle_ms, stoppers);
  ompb_result_free(r);
  ompb_batch_free(b);

  /* no report may come after wait: look at the previous batch now */
  if (g_prev) {
    check(atomic_load(&g_prev->after_wait) == 0, "progress reported after wait returned");
    pthread_mutex_destroy(&g_prev->mu);
    free(g_prev);
  }
  g_prev = st;
  *tasks_out += n;
  return n;
}

int main(void) {
  const char *e = getenv("SOAK_SEED");
  uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)now_ms() << 20);
  if (!seed) seed = 1;
  e = getenv("SOAK_BATCHES");
  size_t batches = e ? strtoull(e, NULL, 0) : 10000;
  e = getenv("SOAK_SETTLE_MS");
  double settle = e ? atof(e) : 20.0;
  g_seed = seed;
  printf("soak: seed %" PRIu64 " (SOAK_SEED=%" PRIu64 " reproduces), %zu batches\n", seed, seed,
         batches);
  fflush(stdout);

  /* Pools of W, 1 and W + 1 workers; W = SOAK_WORKERS (default 2): 16 on
   * a 2-core machine oversubscribes it, where preemption mid-task hides
   * lost wake-ups. */
  e = getenv("SOAK_WORKERS");
  unsigned w = e ? (unsigned)strtoul(e, NULL, 0) : 2;
  if (w < 1 || w > 4095) w = 2;
  ompb_pool_opts po[3] = {{.workers = w}, {.workers = 1}, {.workers = w + 1}};
  for (int i = 0; i < 3; i++) {
    if (ompb_pool_create(&g_pools[i], &po[i]) != OMPB_OK ||
        ompb_pool_register(g_pools[i], "soak", soak_task) != OMPB_OK) {
      fprintf(stderr, "soak: cannot create pools\n");
      return 2;
    }
  }
  uint64_t s = seed;
  size_t tasks = 0, passed = 0, failed = 0;
  double t0 = now_ms();
  for (g_batch_no = 0; g_batch_no < batches; g_batch_no++) {
    g_batch_ok = true;
    run_batch(&s, settle, &tasks);
    if (g_batch_ok) passed++;
    else failed++;
  }
  for (int i = 0; i < 3; i++) ompb_pool_destroy(g_pools[i]);
  if (g_prev) {
    check(atomic_load(&g_prev->after_wait) == 0, "progress reported after wait returned");
    pthread_mutex_destroy(&g_prev->mu);
    free(g_prev);
  }
  printf("soak: seed %" PRIu64 ": %zu batches, %zu tasks, %" PRIu64 " checks (%" PRIu64
         " failed) in %.1f s\n",
         seed, batches, tasks, g_checks, g_failed_checks, (now_ms() - t0) / 1e3);
  printf("soak: %zu passed, %zu failed\n", passed, failed);
  return failed || g_failed_checks ? 1 : 0;
}
