/* SPDX-License-Identifier: BSD-3-Clause */
/* Batch control: cancel, pause/resume, fail-fast, task and batch deadlines,
 * arg_free ownership, streaming results, handle rules. Every test counts
 * arg_free and on_result calls per task; deterministic outcomes come from
 * filling every worker with a blocked task first (libuv's way), and bounds
 * on what may still run after a cancel follow oneTBB's (ran <= started +
 * workers). Waits for events (a task started, nothing running) poll a
 * counter with a generous timeout that fails the test; time bounds follow
 * from the work the tasks do on the suite's W workers, never from this
 * machine's speed. Nothing is asserted inside a task or callback. */
#define _POSIX_C_SOURCE 200809L /* rand_r */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

enum { W = 2 }; /* workers of this suite's pool */
static ompb_pool *pool;
static int setup(void) {
  ompb_pool_opts o = {.workers = W};
  return ompb_pool_create(&pool, &o) == OMPB_OK ? 0 : -1;
}
static int teardown(void) {
  ompb_pool_destroy(pool);
  return 0;
}

/* ---- a per-test ledger of what happened to each task ---- */
#define MAXT 20000
struct ledger {
  atomic_int freed[MAXT];     /* arg_free calls per task */
  atomic_int streamed[MAXT];  /* on_result calls per task */
  atomic_int started[MAXT];   /* task bodies entered */
  atomic_int n_started, running, max_running;
  atomic_int gate;            /* blockers wait for it */
  atomic_int ran_on[MAXT];    /* the thread (thread_tag) that ran each task */
  atomic_int stream_elsewhere; /* on_result ran off the thread that ran the task */
  atomic_int values_freed;
  atomic_int stream_bad;      /* on_result saw an inconsistent record */
  atomic_int expired;         /* blockers that waited TH_WAIT_MS in vain */
  atomic_int release_at;      /* ms since ledger_reset: HOLD tasks return then */
  double t0_ms;               /* th_now_ms() at ledger_reset */
  ompb_batch *_Atomic handle; /* for tasks and callbacks that control the batch */
  int cancel_at;              /* task index (or progress count) that cancels */
  int release_on_free;        /* index whose arg_free releases HOLD tasks, -1: none */
  atomic_int released_by;     /* thread_tag of that arg_free call */
  atomic_int freed_by[MAXT];  /* thread_tag of each arg_free call */
};
static struct ledger *L;

static void ledger_reset(void) {
  memset(L, 0, sizeof *L);
  L->cancel_at = -1;
  L->release_on_free = -1;
  L->t0_ms = th_now_ms();
  atomic_store(&L->release_at, -1);
}

struct arg {
  int index;
  int kind;     /* what the task does, see task_body */
  double ms;    /* its duration */
  int code;     /* failure code */
};
enum { FAST, SLEEP, BLOCK, FAIL, STUBBORN, CANCELS, WAITS_SELF, HOLD };
/* The code a blocked task returns when its wait expired (a failed test). */
enum { EXPIRED = 77 };

/* A small number naming the calling thread (1, 2, ...), for the ledger. */
static atomic_int thread_tags;
static _Thread_local int my_tag;
static int thread_tag(void) {
  if (!my_tag) my_tag = atomic_fetch_add(&thread_tags, 1) + 1;
  return my_tag;
}

static void arg_free_fn(void *p) {
  struct arg *a = p;
  atomic_fetch_add(&L->freed[a->index], 1);
  atomic_store(&L->freed_by[a->index], thread_tag());
  if (a->index == L->release_on_free) {
    atomic_store(&L->released_by, thread_tag());
    atomic_store(&L->release_at, 0);
  }
  free(a);
}

/* on_result runs on the thread that ran the task (a worker: the caller's
 * own thread is one when a synchronous call runs on the caller's team),
 * or on any thread for a task that was skipped. */
static void on_result_fn(const ompb_task_result *r, void *user) {
  (void)user;
  if (r->index < MAXT) {
    atomic_fetch_add(&L->streamed[r->index], 1);
    int ran = atomic_load(&L->ran_on[r->index]);
    if (ran && ran != thread_tag()) atomic_store(&L->stream_elsewhere, 1);
  }
  bool failed = r->status != 0 && r->status != OMPB_ECANCELED;
  if (failed != (r->error != NULL) || (r->error && (r->error->code != r->status || !r->error->message)))
    atomic_store(&L->stream_bad, 1);
}

static void value_free_fn(ompb_value v, void *user) {
  (void)user;
  atomic_fetch_add(&L->values_freed, 1);
  free(v.ptr);
}

static int task_body(ompb_ctx *ctx, void *p, ompb_value *out) {
  struct arg *a = p;
  atomic_fetch_add(&L->started[a->index], 1);
  atomic_store(&L->ran_on[a->index], thread_tag());
  atomic_fetch_add(&L->n_started, 1);
  int now = atomic_fetch_add(&L->running, 1) + 1, seen = atomic_load(&L->max_running);
  while (now > seen && !atomic_compare_exchange_weak(&L->max_running, &seen, now)) {
  }
  int rc = 0;
  double end = th_now_ms() + a->ms;
  switch (a->kind) {
  case FAST:
    break;
  case SLEEP: /* cooperative */
    while (th_now_ms() < end && !ompb_ctx_should_stop(ctx)) th_sleep_ms(0.1);
    if (ompb_ctx_should_stop(ctx)) rc = OMPB_ECANCELED;
    break;
  case BLOCK: /* until the gate opens or a stop request */
    end = th_now_ms() + TH_WAIT_MS;
    while (!atomic_load(&L->gate) && !ompb_ctx_should_stop(ctx) && th_now_ms() < end) th_sleep_ms(0.05);
    if (ompb_ctx_should_stop(ctx)) rc = OMPB_ECANCELED;
    else if (!atomic_load(&L->gate)) rc = EXPIRED, atomic_fetch_add(&L->expired, 1);
    break;
  case HOLD: /* ignores stop requests; returns once the test's release time passed */
    end = th_now_ms() + TH_WAIT_MS;
    for (;;) {
      int at = atomic_load(&L->release_at);
      if (at >= 0 && th_now_ms() >= L->t0_ms + at) break;
      if (th_now_ms() >= end) {
        rc = EXPIRED, atomic_fetch_add(&L->expired, 1);
        break;
      }
      th_sleep_ms(0.05);
    }
    break;
  case FAIL:
    rc = ompb_ctx_fail(ctx, a->code, "task %d fails", a->index);
    break;
  case STUBBORN: /* ignores stop requests */
    th_sleep_ms(a->ms);
    break;
  case CANCELS:
    while (!atomic_load(&L->handle) && th_now_ms() < end + TH_WAIT_MS) th_sleep_ms(0.05);
    ompb_batch_cancel(atomic_load(&L->handle));
    ompb_batch_cancel(atomic_load(&L->handle)); /* idempotent */
    break;
  case WAITS_SELF: {
    while (!atomic_load(&L->handle) && th_now_ms() < end + TH_WAIT_MS) th_sleep_ms(0.05);
    ompb_result *r = (ompb_result *)1;
    int w = ompb_batch_wait(atomic_load(&L->handle), &r);
    rc = (w == OMPB_ESTATE && r == NULL) ? 0 : 1;
    break;
  }
  }
  if (rc == 0) {
    int *v = malloc(sizeof *v);
    if (v) *v = a->index;
    out->ptr = v;
  }
  atomic_fetch_sub(&L->running, 1);
  return rc;
}

/* Build n tasks of one kind, each owning a heap arg freed by arg_free. */
static ompb_task *make_tasks(int n, int kind, double ms) {
  ompb_task *t = calloc((size_t)n, sizeof *t);
  for (int i = 0; i < n; i++) {
    struct arg *a = malloc(sizeof *a);
    *a = (struct arg){i, kind, ms, 9};
    t[i] = (ompb_task){.fn = task_body, .arg = a, .arg_free = arg_free_fn};
  }
  return t;
}
static void set_kind(ompb_task *t, int i, int kind, double ms) {
  struct arg *a = t[i].arg;
  a->kind = kind;
  a->ms = ms;
}

/* Free the values a result holds (the caller owns them). */
static void free_values(ompb_result *r) {
  if (!r || !r->results) return;
  for (size_t i = 0; i < r->count; i++)
    if (r->results[i].status == 0) free(r->results[i].value.ptr);
}

static const ompb_batch_opts stream_opts = {.on_result = on_result_fn, .result_free = value_free_fn};

/* The invariants every finished batch keeps. */
static void check_invariants(const ompb_result *r, int n, bool streamed) {
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->count, (size_t)n);
  CU_ASSERT_EQUAL(r->success_count + r->failure_count + r->cancelled_count, (size_t)n);
  CU_ASSERT_EQUAL(r->all_succeeded, r->failure_count == 0 && !r->cancelled);
  if (r->timed_out) CU_ASSERT(r->cancelled);
  int bad_free = 0, bad_stream = 0, bad_rows = 0, twice = 0;
  size_t ok = 0, failed = 0, cancelled = 0;
  for (int i = 0; i < n; i++) {
    if (atomic_load(&L->freed[i]) != 1) bad_free++;
    if (streamed && atomic_load(&L->streamed[i]) != 1) bad_stream++;
    if (atomic_load(&L->started[i]) > 1) twice++;
    if (!r->results) continue;
    const ompb_task_result *x = &r->results[i];
    if (x->index != (size_t)i) bad_rows++;
    if (x->status == 0) ok++;
    else if (x->status == OMPB_ECANCELED) cancelled++;
    else {
      failed++;
      if (!x->error || x->error->code != x->status || x->error->index != (size_t)i || !x->error->message)
        bad_rows++;
    }
    /* a skipped task never started */
    if (x->status == OMPB_ECANCELED && x->duration_ms == 0 && atomic_load(&L->started[i])) bad_rows++;
  }
  CU_ASSERT_EQUAL(bad_free, 0);
  CU_ASSERT_EQUAL(bad_stream, 0);
  CU_ASSERT_EQUAL(twice, 0);
  CU_ASSERT_EQUAL(bad_rows, 0);
  if (streamed) {
    CU_ASSERT_EQUAL(atomic_load(&L->stream_elsewhere), 0);
    CU_ASSERT_EQUAL(atomic_load(&L->stream_bad), 0);
  }
  if (r->results) {
    CU_ASSERT_EQUAL(ok, r->success_count);
    CU_ASSERT_EQUAL(failed, r->failure_count);
    CU_ASSERT_EQUAL(cancelled, r->cancelled_count);
  }
  CU_ASSERT_EQUAL(atomic_load(&L->running), 0); /* nothing left running after wait */
  CU_ASSERT_EQUAL(atomic_load(&L->expired), 0); /* no blocker waited in vain */
}

/* Wait until k task bodies have been entered; fails the test (and goes on,
 * so that the batch is still cancelled and freed) when they were not. */
#define wait_started(k) CU_ASSERT(th_wait_at_least(&L->n_started, (k), TH_WAIT_MS))
/* Wait until no task body is running. */
#define wait_none_running() CU_ASSERT(th_wait_equal(&L->running, 0, TH_WAIT_MS))

/* The least time n tasks of d ms each take on w workers. */
static double work_ms(int n, int w, double d) { return (double)((n + w - 1) / w) * d; }

/* ---- cancel ---- */

static void cancel_skips_pending_tasks(void) {
  ledger_reset();
  enum { N = 500 };
  ompb_task *t = make_tasks(N, BLOCK, 0); /* the first W fill every worker */
  ompb_batch_opts o = stream_opts;
  o.concurrency = W;
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &o, &b), OMPB_OK);
  free(t);
  wait_started(W);
  int started_at_cancel = atomic_load(&L->n_started);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK); /* a cancel is not an error */
  check_invariants(r, N, true);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_FALSE(r->timed_out);
  CU_ASSERT_FALSE(r->all_succeeded);
  CU_ASSERT(atomic_load(&L->n_started) <= started_at_cancel + W);
  CU_ASSERT(r->cancelled_count >= (size_t)(N - started_at_cancel - W));
  CU_ASSERT_EQUAL(r->results[N - 1].status, OMPB_ECANCELED);
  CU_ASSERT_EQUAL(r->results[0].status, OMPB_ECANCELED); /* the blocker saw should_stop */
  ompb_progress p;
  ompb_batch_progress(b, &p);
  CU_ASSERT(p.completed < p.total);
  CU_ASSERT_EQUAL(p.completed, r->success_count + r->failure_count);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK); /* after the end: nothing */
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

/* The thread that waits for a cancelled batch skips what nobody claimed
 * while the team's members still run their tasks: here every running task
 * ignores the stop and returns only once the last index was skipped (its
 * arg_free releases them), so the waiting thread must have skipped it.
 * And it skipped every index that did not start: members claim tasks that
 * run this long one at a time, so none holds a claimed, unstarted index
 * that only it could skip after its own task. */
static void waiter_skips_while_the_team_runs(void) {
  ledger_reset();
  enum { N = MAXT };
  ompb_task *t = make_tasks(N, HOLD, 0);
  L->release_on_free = N - 1;
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, NULL, &b), OMPB_OK);
  free(t);
  wait_started(W);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  check_invariants(r, N, false); /* no HOLD task expired */
  CU_ASSERT(r->cancelled);
  CU_ASSERT_EQUAL(r->success_count, (size_t)atomic_load(&L->n_started));
  CU_ASSERT_EQUAL(r->results[N - 1].status, OMPB_ECANCELED);
  CU_ASSERT_EQUAL(atomic_load(&L->released_by), thread_tag());
  int elsewhere = 0;
  for (int i = 0; i < N; i++)
    if (!atomic_load(&L->started[i]) && atomic_load(&L->freed_by[i]) != thread_tag()) elsewhere++;
  CU_ASSERT_EQUAL(elsewhere, 0);
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void cancel_from_inside_a_task(void) {
  ledger_reset();
  enum { N = 300 };
  ompb_task *t = make_tasks(N, FAST, 0);
  set_kind(t, 50, CANCELS, 0);
  ompb_batch_opts o = stream_opts;
  o.concurrency = 1; /* deterministic: tasks run in order */
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &o, &b), OMPB_OK);
  free(t);
  atomic_store(&L->handle, b);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  check_invariants(r, N, true);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_EQUAL(r->success_count, 51u); /* 0..50 ran, the canceller included */
  CU_ASSERT_EQUAL(r->cancelled_count, (size_t)N - 51);
  CU_ASSERT_EQUAL(r->results[51].status, OMPB_ECANCELED);
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void cancel_on_progress(const ompb_progress *p, void *user) {
  (void)user;
  if (p->completed >= 20) ompb_batch_cancel(atomic_load(&L->handle));
}

static void cancel_from_on_progress(void) {
  ledger_reset();
  enum { N = 2000, RUN = 40 };
  /* The first RUN tasks finish; every later one blocks until the batch
   * stops, so only the cancel from on_progress can end the batch. */
  ompb_task *t = make_tasks(N, BLOCK, 0);
  for (int i = 0; i < RUN; i++) set_kind(t, i, SLEEP, 0.5);
  ompb_batch_opts o = stream_opts;
  o.on_progress = cancel_on_progress;
  o.progress_throttle_ms = 2;
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &o, &b), OMPB_OK);
  free(t);
  atomic_store(&L->handle, b);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  check_invariants(r, N, true);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_EQUAL(r->failure_count, 0u);
  CU_ASSERT(r->success_count >= 20); /* the callback cancels at 20 completed */
  CU_ASSERT(r->cancelled_count >= (size_t)(N - RUN));
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void cancel_after_completion_changes_nothing(void) {
  ledger_reset();
  enum { N = 64 };
  ompb_task *t = make_tasks(N, FAST, 0);
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &stream_opts, &b), OMPB_OK);
  free(t);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_pause(b), OMPB_OK);
  CU_ASSERT_FALSE(ompb_batch_is_paused(b));
  CU_ASSERT_EQUAL(ompb_batch_resume(b), OMPB_OK);
  check_invariants(r, N, true);
  CU_ASSERT_FALSE(r->cancelled);
  CU_ASSERT(r->all_succeeded);
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

/* ---- pause / resume ---- */

static atomic_int reports_seen;
static void count_reports(const ompb_progress *p, void *u) {
  (void)p;
  (void)u;
  atomic_fetch_add(&reports_seen, 1);
}

static void pause_stops_new_tasks_and_resume_continues(void) {
  ledger_reset();
  enum { N = 400 };
  /* Every worker is held in its first task while the pause is set, so no
   * task can be past its start check: exactly W tasks have started. */
  ompb_task *t = make_tasks(N, BLOCK, 0);
  ompb_batch_opts o = stream_opts;
  o.on_progress = count_reports;
  o.progress_throttle_ms = 5;
  atomic_store(&reports_seen, 0);
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &o, &b), OMPB_OK);
  free(t);
  wait_started(W);
  CU_ASSERT_EQUAL(ompb_batch_pause(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_pause(b), OMPB_OK); /* idempotent */
  CU_ASSERT(ompb_batch_is_paused(b));
  atomic_store(&L->gate, 1); /* the held tasks return; the rest would run at once */
  wait_none_running();
  /* While paused the reporter keeps reporting: 5 reports are at least 4
   * throttles (20 ms) in which a worker ignoring the pause would start a task. */
  int reports_before = atomic_load(&reports_seen);
  CU_ASSERT(th_wait_at_least(&reports_seen, reports_before + 5, TH_WAIT_MS));
  CU_ASSERT_EQUAL(atomic_load(&L->n_started), W); /* no task started while paused */
  CU_ASSERT_EQUAL(atomic_load(&L->running), 0);
  CU_ASSERT(ompb_batch_is_paused(b));
  CU_ASSERT_EQUAL(ompb_batch_resume(b), OMPB_OK);
  CU_ASSERT_FALSE(ompb_batch_is_paused(b));
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  check_invariants(r, N, true);
  CU_ASSERT(r->all_succeeded);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N);
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void cancel_while_paused_ends_promptly(void) {
  ledger_reset();
  enum { N = 300 };
  const double d = 20; /* each task's sleep; a pause does not cut it short */
  ompb_task *t = make_tasks(N, SLEEP, d);
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &stream_opts, &b), OMPB_OK);
  free(t);
  wait_started(W + 2);
  ompb_batch_pause(b);
  wait_none_running(); /* every worker is parked by the pause */
  int frozen = atomic_load(&L->n_started);
  double t0 = th_now_ms();
  ompb_batch_cancel(b);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  /* Promptly: in less than half the time the tasks not yet started would
   * take if the cancel let them run. */
  CU_ASSERT(th_now_ms() - t0 < work_ms(N - frozen, W, d) / 2);
  check_invariants(r, N, true);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_EQUAL(atomic_load(&L->n_started), frozen); /* nothing started after the cancel */
  CU_ASSERT_EQUAL(r->cancelled_count, (size_t)(N - frozen));
  CU_ASSERT_FALSE(ompb_batch_is_paused(b));
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void resume_without_pause_is_ok(void) {
  ledger_reset();
  ompb_task *t = make_tasks(8, FAST, 0);
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 8, &stream_opts, &b), OMPB_OK);
  free(t);
  CU_ASSERT_EQUAL(ompb_batch_resume(b), OMPB_OK);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  check_invariants(r, 8, true);
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

/* ---- fail-fast ---- */

static void fail_fast_stops_at_first_failure_with_partial_result(void) {
  ledger_reset();
  enum { N = 200 };
  ompb_task *t = make_tasks(N, FAST, 0);
  set_kind(t, 10, FAIL, 0);
  set_kind(t, 20, FAIL, 0);
  ompb_batch_opts o = stream_opts;
  o.fail_fast = true;
  o.concurrency = 1;
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, t, N, &o, &r), 9); /* the task's code */
  free(t);
  check_invariants(r, N, true);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_FALSE(r->timed_out);
  CU_ASSERT_EQUAL(r->success_count, 10u);
  CU_ASSERT_EQUAL(r->failure_count, 1u);
  CU_ASSERT_EQUAL(r->cancelled_count, (size_t)N - 11);
  CU_ASSERT_EQUAL(r->results[10].status, 9);
  CU_ASSERT_STRING_EQUAL(r->results[10].error->message, "task 10 fails");
  CU_ASSERT_EQUAL(r->results[20].status, OMPB_ECANCELED);
  free_values(r);
  ompb_result_free(r);
}

static void fail_fast_with_workers_in_parallel(void) {
  ledger_reset();
  enum { N = 5000 };
  ompb_task *t = make_tasks(N, SLEEP, 0.05);
  set_kind(t, 700, FAIL, 0);
  ompb_batch_opts o = stream_opts;
  o.fail_fast = true;
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, t, N, &o, &r), 9);
  free(t);
  check_invariants(r, N, true);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_EQUAL(r->failure_count, 1u);
  CU_ASSERT(r->cancelled_count > 0);
  free_values(r);
  ompb_result_free(r);
}

/* ---- deadlines ---- */

static atomic_int stubborn_returned;
static int stubborn_value_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  th_sleep_ms((double)(intptr_t)arg); /* ignores should_stop */
  int *v = malloc(sizeof *v);
  *v = 1;
  out->ptr = v;
  if ((intptr_t)arg > 100) atomic_store(&stubborn_returned, 1);
  return 0;
}

static void task_timeout_marks_task_and_frees_late_value(void) {
  ledger_reset();
  atomic_store(&stubborn_returned, 0);
  enum { N = 6 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = stubborn_value_task, .arg = (void *)(intptr_t)1};
  t[2].arg = (void *)(intptr_t)600; /* 15 times its 40 ms deadline */
  ompb_batch_opts o = {.task_timeout_ms = 40, .result_free = value_free_fn};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &o, &b), OMPB_OK);
  /* the timeout shows in progress at the deadline, before the task returns */
  bool seen_early = false;
  double end = th_now_ms() + TH_WAIT_MS;
  while (th_now_ms() < end && !atomic_load(&stubborn_returned)) {
    ompb_progress p;
    ompb_batch_progress(b, &p);
    if (p.failures == 1 && !atomic_load(&stubborn_returned)) {
      seen_early = true;
      break;
    }
    th_sleep_ms(1);
  }
  CU_ASSERT(seen_early);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK); /* without fail_fast: an ordinary failure */
  CU_ASSERT_EQUAL(r->failure_count, 1u);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N - 1);
  CU_ASSERT_FALSE(r->cancelled);
  CU_ASSERT_EQUAL(r->results[2].status, OMPB_ETIMEDOUT);
  CU_ASSERT_PTR_NOT_NULL(r->results[2].error);
  CU_ASSERT_PTR_NULL(r->results[2].value.ptr);
  CU_ASSERT_EQUAL(atomic_load(&L->values_freed), 1); /* the late value went to result_free */
  for (int i = 0; i < N; i++)
    if (i != 2) free(r->results[i].value.ptr);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void per_task_timeout_overrides_default_and_stops_cooperative_tasks(void) {
  ledger_reset();
  enum { N = 4 };
  const double long_ms = 3000; /* what tasks 1 and 3 would take without deadlines */
  ompb_task *t = make_tasks(N, SLEEP, 2);
  set_kind(t, 1, SLEEP, long_ms);
  t[1].timeout_ms = 30;   /* own deadline */
  set_kind(t, 3, SLEEP, long_ms); /* batch default applies: 60 ms */
  ompb_batch_opts o = stream_opts;
  o.task_timeout_ms = 60;
  double t0 = th_now_ms();
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, t, N, &o, &r), OMPB_OK);
  double took = th_now_ms() - t0;
  free(t);
  check_invariants(r, N, true);
  CU_ASSERT(took < long_ms / 2); /* the long tasks stopped at their deadlines */
  CU_ASSERT_EQUAL(r->results[1].status, OMPB_ETIMEDOUT);
  CU_ASSERT_EQUAL(r->results[3].status, OMPB_ETIMEDOUT);
  CU_ASSERT(r->results[1].duration_ms >= 25 && r->results[1].duration_ms < long_ms / 3);
  CU_ASSERT(r->results[3].duration_ms >= 55);
  CU_ASSERT_EQUAL(r->failure_count, 2u);
  free_values(r);
  ompb_result_free(r);
}

static void fail_fast_on_task_deadline_returns_etimedout(void) {
  ledger_reset();
  enum { N = 100 };
  ompb_task *t = make_tasks(N, SLEEP, 1);
  set_kind(t, 0, SLEEP, 3000);
  ompb_batch_opts o = stream_opts;
  o.task_timeout_ms = 30;
  o.fail_fast = true;
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, t, N, &o, &r), OMPB_ETIMEDOUT);
  free(t);
  check_invariants(r, N, true);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_FALSE(r->timed_out); /* a task deadline, not the batch's */
  CU_ASSERT_EQUAL(r->results[0].status, OMPB_ETIMEDOUT);
  free_values(r);
  ompb_result_free(r);
}

static void batch_timeout_cancels_and_returns_etimedout(void) {
  ledger_reset();
  enum { N = 400 };
  const double d = 25; /* N tasks of d ms on W workers: 5 s of work */
  ompb_task *t = make_tasks(N, SLEEP, d);
  ompb_batch_opts o = stream_opts;
  o.batch_timeout_ms = 40;
  double t0 = th_now_ms();
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, t, N, &o, &r), OMPB_ETIMEDOUT);
  double took = th_now_ms() - t0;
  free(t);
  check_invariants(r, N, true);
  CU_ASSERT(r->timed_out);
  CU_ASSERT(r->cancelled);
  CU_ASSERT(r->cancelled_count > 0);
  /* not before the deadline; well before the work could have finished */
  CU_ASSERT(took >= 35 && took < work_ms(N, W, d) / 2);
  free_values(r);
  ompb_result_free(r);
}

static void batch_deadline_counts_queue_time(void) {
  ledger_reset();
  /* The first batch holds the pool until well after the second one's
   * deadline, counted from the second start's return. */
  ompb_task *a = make_tasks(W, HOLD, 0);
  ompb_batch *ba, *bb;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, a, W, NULL, &ba), OMPB_OK);
  free(a);
  ompb_task second[10];
  for (int i = 0; i < 10; i++) second[i] = (ompb_task){.fn = th_index_task};
  const double deadline = 20;
  ompb_batch_opts o = {.batch_timeout_ms = deadline};
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, second, 10, &o, &bb), OMPB_OK);
  atomic_store(&L->release_at, (int)(th_now_ms() - L->t0_ms + deadline + 250));
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(bb, &r), OMPB_ETIMEDOUT);
  CU_ASSERT(r->timed_out);
  CU_ASSERT_EQUAL(r->cancelled_count, 10u); /* expired in the queue: nothing ran */
  ompb_result_free(r);
  ompb_batch_free(bb);
  CU_ASSERT_EQUAL(ompb_batch_wait(ba, &r), OMPB_OK);
  CU_ASSERT(r->all_succeeded);
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(ba);
}

/* ---- streaming and ownership ---- */

static void streaming_with_discard_results_keeps_counts_only(void) {
  ledger_reset();
  enum { N = 10000 };
  ompb_task *t = make_tasks(N, FAST, 0);
  for (int i = 0; i < N; i += 1000) set_kind(t, i + 7, FAIL, 0);
  ompb_batch_opts o = stream_opts;
  o.discard_results = true;
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, t, N, &o, &r), OMPB_OK);
  free(t);
  check_invariants(r, N, true);
  CU_ASSERT_PTR_NULL(r->results);
  CU_ASSERT_EQUAL(r->failure_count, 10u);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N - 10);
  CU_ASSERT_EQUAL(atomic_load(&L->values_freed), N - 10); /* every value after on_result */
  CU_ASSERT_EQUAL(ompb_result_successes(r, NULL, 0), 0u);
  ompb_result_free(r);
}

static void free_on_running_batch_cancels_and_waits(void) {
  ledger_reset();
  enum { N = 1000 };
  ompb_task *t = make_tasks(N, SLEEP, 1);
  ompb_batch_opts o = stream_opts;
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &o, &b), OMPB_OK);
  free(t);
  wait_started(3);
  ompb_batch_free(b); /* cancel + wait; the untaken result and its values are freed */
  CU_ASSERT_EQUAL(atomic_load(&L->running), 0);
  int bad = 0;
  for (int i = 0; i < N; i++) bad += atomic_load(&L->freed[i]) != 1 || atomic_load(&L->streamed[i]) != 1;
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT(atomic_load(&L->values_freed) >= 1);
}

struct waiter {
  ompb_batch *b;
  int rc;
  ompb_result *r;
};
static void *wait_thread(void *p) {
  struct waiter *w = p;
  w->rc = ompb_batch_wait(w->b, &w->r);
  return NULL;
}

static void wait_from_two_threads_hands_result_to_one(void) {
  ledger_reset();
  enum { N = 200 };
  ompb_task *t = make_tasks(N, SLEEP, 0.2);
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, &stream_opts, &b), OMPB_OK);
  free(t);
  struct waiter w[2] = {{b, -1, NULL}, {b, -1, NULL}};
  pthread_t th[2];
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, wait_thread, &w[i]);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  int winner = w[0].r ? 0 : 1;
  CU_ASSERT_EQUAL(w[winner].rc, OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL(w[winner].r);
  CU_ASSERT_EQUAL(w[1 - winner].rc, OMPB_ESTATE);
  CU_ASSERT_PTR_NULL(w[1 - winner].r);
  check_invariants(w[winner].r, N, true);
  free_values(w[winner].r);
  ompb_result_free(w[winner].r);
  ompb_batch_free(b);
}

static void wait_from_inside_own_task_is_estate(void) {
  ledger_reset();
  ompb_task *t = make_tasks(3, FAST, 0);
  set_kind(t, 1, WAITS_SELF, 0);
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 3, &stream_opts, &b), OMPB_OK);
  free(t);
  atomic_store(&L->handle, b);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->results[1].status, 0); /* the task saw OMPB_ESTATE */
  check_invariants(r, 3, true);
  free_values(r);
  ompb_result_free(r);
  ompb_batch_free(b);
}

/* ---- races: every interleaving must keep the invariants ---- */

struct racer {
  ompb_batch *b;
  int what;
  double delay_ms;
};
static void *race_thread(void *p) {
  struct racer *x = p;
  th_sleep_ms(x->delay_ms);
  if (x->what == 0) ompb_batch_cancel(x->b);
  else if (x->what == 1) ompb_batch_pause(x->b);
  else ompb_batch_resume(x->b);
  return NULL;
}

static void races_cancel_vs_completion_pause_and_deadline(void) {
  unsigned seed = 12345;
  for (int round = 0; round < 120; round++) {
    ledger_reset();
    int n = 1 + (int)(rand_r(&seed) % 300);
    ompb_task *t = make_tasks(n, (round % 3) ? FAST : SLEEP, 0.05);
    ompb_batch_opts o = stream_opts;
    if (round % 4 == 1) o.batch_timeout_ms = 1 + rand_r(&seed) % 3;
    if (round % 5 == 2) o.fail_fast = true, set_kind(t, n / 2, FAIL, 0);
    ompb_batch *b;
    CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, (size_t)n, &o, &b), OMPB_OK);
    free(t);
    struct racer x[3] = {{b, 0, (rand_r(&seed) % 100) / 100.0},
                         {b, (round % 2) ? 1 : 0, (rand_r(&seed) % 100) / 100.0},
                         {b, 2, 1.0 + (rand_r(&seed) % 100) / 100.0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, race_thread, &x[i]);
    ompb_result *r;
    int rc = ompb_batch_wait(b, &r);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    CU_ASSERT(rc == OMPB_OK || rc == OMPB_ETIMEDOUT || rc == 9);
    if (rc == OMPB_ETIMEDOUT) CU_ASSERT(r->timed_out);
    if (!r->cancelled) CU_ASSERT_EQUAL(r->cancelled_count, 0u);
    check_invariants(r, n, true);
    free_values(r);
    ompb_result_free(r);
    ompb_batch_free(b);
  }
}

int ompb_suite_control(void) {
  static struct ledger ledger;
  L = &ledger;
  CU_pSuite s = CU_add_suite("control", setup, teardown);
  if (!s) return -1;
  struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
      {"cancel_skips_pending_tasks", cancel_skips_pending_tasks},
      {"waiter_skips_while_the_team_runs", waiter_skips_while_the_team_runs},
      {"cancel_from_inside_a_task", cancel_from_inside_a_task},
      {"cancel_from_on_progress", cancel_from_on_progress},
      {"cancel_after_completion_changes_nothing", cancel_after_completion_changes_nothing},
      {"pause_stops_new_tasks_and_resume_continues", pause_stops_new_tasks_and_resume_continues},
      {"cancel_while_paused_ends_promptly", cancel_while_paused_ends_promptly},
      {"resume_without_pause_is_ok", resume_without_pause_is_ok},
      {"fail_fast_stops_at_first_failure_with_partial_result",
       fail_fast_stops_at_first_failure_with_partial_result},
      {"fail_fast_with_workers_in_parallel", fail_fast_with_workers_in_parallel},
      {"task_timeout_marks_task_and_frees_late_value", task_timeout_marks_task_and_frees_late_value},
      {"per_task_timeout_overrides_default_and_stops_cooperative_tasks",
       per_task_timeout_overrides_default_and_stops_cooperative_tasks},
      {"fail_fast_on_task_deadline_returns_etimedout", fail_fast_on_task_deadline_returns_etimedout},
      {"batch_timeout_cancels_and_returns_etimedout", batch_timeout_cancels_and_returns_etimedout},
      {"batch_deadline_counts_queue_time", batch_deadline_counts_queue_time},
      {"streaming_with_discard_results_keeps_counts_only", streaming_with_discard_results_keeps_counts_only},
      {"free_on_running_batch_cancels_and_waits", free_on_running_batch_cancels_and_waits},
      {"wait_from_two_threads_hands_result_to_one", wait_from_two_threads_hands_result_to_one},
      {"wait_from_inside_own_task_is_estate", wait_from_inside_own_task_is_estate},
      {"races_cancel_vs_completion_pause_and_deadline", races_cancel_vs_completion_pause_and_deadline},
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    if (!CU_add_test(s, tests[i].name, tests[i].fn)) return -1;
  return 0;
}
