/* SPDX-License-Identifier: BSD-3-Clause */
/* The caller's team: synchronous calls from outside any parallel region run
 * on the calling thread when the pool is idle, and every batch semantic
 * holds there (FIFO behind running batches, several callers at once,
 * progress from the reporter, deadlines, no second team); and a stop that
 * came before the batch completed is reported even when every task had
 * already started. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

/* ---- a stop after every task started ---- */

/* Tasks that run up to 3 s unless asked to stop, then return success: a
 * stop reaches them only through ompb_ctx_should_stop. */
static atomic_int coop_started;

static int coop_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  atomic_fetch_add(&coop_started, 1);
  double until = th_now_ms() + 3000.0;
  while (!ompb_ctx_should_stop(ctx) && th_now_ms() < until) th_sleep_ms(0.2);
  out->i64 = (int64_t)ompb_ctx_index(ctx);
  return 0;
}

/* Task 0 fails (code 7) once both tasks run; task 1 is cooperative. */
static int fail_when_both_run(ompb_ctx *ctx, void *arg, ompb_value *out) {
  if (ompb_ctx_index(ctx) != 0) return coop_task(ctx, arg, out);
  atomic_fetch_add(&coop_started, 1);
  return th_wait_at_least(&coop_started, 2, TH_WAIT_MS) ? 7 : 8;
}

static void two_tasks(ompb_task t[2], ompb_task_fn *fn) {
  memset(t, 0, 2 * sizeof *t);
  t[0].fn = fn;
  t[1].fn = fn;
  atomic_store(&coop_started, 0);
}

static void deadline_after_every_task_started_is_reported(void) {
  ompb_pool *p = th_pool(2);
  ompb_task t[2];
  two_tasks(t, coop_task);
  ompb_batch_opts o = {.batch_timeout_ms = 100};
  ompb_result *r = NULL;
  double t0 = th_now_ms();
  CU_ASSERT_EQUAL(ompb_exec_batch(p, t, 2, &o, &r), OMPB_ETIMEDOUT);
  /* The tasks would run 3 s; the deadline asked them to stop. */
  CU_ASSERT(th_now_ms() - t0 < 3000.0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(r->timed_out);
  CU_ASSERT(r->cancelled);
  CU_ASSERT(!r->all_succeeded);
  CU_ASSERT_EQUAL(r->success_count + r->cancelled_count, 2);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

static void cancel_after_every_task_started_is_reported(void) {
  ompb_pool *p = th_pool(2);
  ompb_task t[2];
  two_tasks(t, coop_task);
  ompb_batch *b = NULL;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(p, t, 2, NULL, &b), OMPB_OK);
  CU_ASSERT(th_wait_at_least(&coop_started, 2, TH_WAIT_MS));
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  ompb_result *r = NULL;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(r->cancelled);
  CU_ASSERT(!r->timed_out);
  CU_ASSERT(!r->all_succeeded);
  CU_ASSERT_EQUAL(r->success_count, 2);
  CU_ASSERT_EQUAL(r->cancelled_count, 0);
  ompb_result_free(r);
  ompb_batch_free(b);
  ompb_pool_destroy(p);
}

static void fail_fast_after_every_task_started_is_reported(void) {
  ompb_pool *p = th_pool(2);
  ompb_task t[2];
  two_tasks(t, fail_when_both_run);
  ompb_batch_opts o = {.fail_fast = true};
  ompb_result *r = NULL;
  CU_ASSERT_EQUAL(ompb_exec_batch(p, t, 2, &o, &r), 7);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(r->cancelled);
  CU_ASSERT(!r->timed_out);
  CU_ASSERT_EQUAL(r->failure_count, 1);
  CU_ASSERT_EQUAL(r->success_count, 1);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

/* ---- caller-runs and the queue ---- */

/* Tasks that log when they run, and how many of them run at once. */
static struct {
  atomic_int running, max_running, started;
  _Atomic double last_end_a, first_start_b;
  pthread_t caller;
  atomic_int on_caller_progress, reports, last_completed;
} L;

static void note_running(int delta) {
  int now = atomic_fetch_add(&L.running, delta) + delta;
  int max = atomic_load(&L.max_running);
  while (now > max && !atomic_compare_exchange_weak(&L.max_running, &max, now)) {
  }
}

static void reset_log(void) {
  atomic_store(&L.running, 0);
  atomic_store(&L.max_running, 0);
  atomic_store(&L.started, 0);
  atomic_store(&L.last_end_a, 0.0);
  atomic_store(&L.first_start_b, 1e300);
  atomic_store(&L.on_caller_progress, 0);
  atomic_store(&L.reports, 0);
  atomic_store(&L.last_completed, -1);
}

/* arg: (intptr_t)ms of work. Batch A's tasks record their end. */
static int task_a(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  note_running(1);
  atomic_fetch_add(&L.started, 1);
  th_sleep_ms((double)(intptr_t)arg);
  double end = th_now_ms(), seen = atomic_load(&L.last_end_a);
  while (end > seen && !atomic_compare_exchange_weak(&L.last_end_a, &seen, end)) {
  }
  note_running(-1);
  out->i64 = 1;
  return 0;
}

/* Batch B's tasks record their start. */
static int task_b(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  note_running(1);
  double start = th_now_ms(), seen = atomic_load(&L.first_start_b);
  while (start < seen && !atomic_compare_exchange_weak(&L.first_start_b, &seen, start)) {
  }
  out->i64 = (int64_t)ompb_ctx_index(ctx) * 3;
  note_running(-1);
  return 0;
}

static void sync_call_queues_behind_a_running_batch(unsigned workers) {
  ompb_pool *p = th_pool(workers);
  reset_log();
  enum { NA = 4, NB = 8 };
  ompb_task a[NA], b[NB];
  for (int i = 0; i < NA; i++) a[i] = (ompb_task){.fn = task_a, .arg = (void *)(intptr_t)30};
  for (int i = 0; i < NB; i++) b[i] = (ompb_task){.fn = task_b};
  ompb_batch *ba = NULL;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(p, a, NA, NULL, &ba), OMPB_OK);
  CU_ASSERT(th_wait_at_least(&L.started, 1, TH_WAIT_MS));
  ompb_result *rb = NULL;
  CU_ASSERT_EQUAL(ompb_exec_batch(p, b, NB, NULL, &rb), OMPB_OK);
  ompb_result *ra = NULL;
  CU_ASSERT_EQUAL(ompb_batch_wait(ba, &ra), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ra);
  CU_ASSERT_PTR_NOT_NULL_FATAL(rb);
  CU_ASSERT_EQUAL(ra->success_count, NA);
  CU_ASSERT_EQUAL(rb->success_count, NB);
  for (size_t i = 0; i < NB; i++) CU_ASSERT_EQUAL(rb->results[i].value.i64, (int64_t)i * 3);
  /* FIFO: B started after every task of A had ended, one team at a time. */
  CU_ASSERT(atomic_load(&L.first_start_b) >= atomic_load(&L.last_end_a));
  CU_ASSERT(atomic_load(&L.max_running) <= (int)workers);
  ompb_result_free(ra);
  ompb_result_free(rb);
  ompb_batch_free(ba);
  ompb_pool_destroy(p);
}

static void sync_call_queues_behind_a_running_batch_1_worker(void) {
  sync_call_queues_behind_a_running_batch(1);
}

static void sync_call_queues_behind_a_running_batch_16_workers(void) {
  sync_call_queues_behind_a_running_batch(16);
}

struct caller_arg {
  ompb_pool *pool;
  int bad; /* calls that did not return every value */
};

/* out = 3 * item, as task_b's value. */
static int triple_item(const void *item, void *out, size_t index, void *user) {
  (void)index;
  (void)user;
  *(int64_t *)out = 3 * *(const int64_t *)item;
  return 0;
}

/* Alternate exec_batch and ompb_map calls, checking every value. */
static void *caller_main(void *p) {
  struct caller_arg *c = p;
  enum { CALLS = 40, N = 8 };
  ompb_task t[N];
  int64_t items[N], outs[N];
  for (int i = 0; i < N; i++) {
    t[i] = (ompb_task){.fn = task_b};
    items[i] = i;
  }
  for (int k = 0; k < CALLS; k++) {
    ompb_result *r = NULL;
    memset(outs, 0, sizeof outs);
    int rc = k % 2 ? ompb_exec_batch(c->pool, t, N, NULL, &r)
                   : ompb_map(c->pool, items, N, sizeof *items, outs, sizeof *outs,
                              triple_item, NULL, &r);
    if (rc != OMPB_OK || !r || r->success_count != N) {
      c->bad++;
    } else {
      for (size_t i = 0; i < N; i++) {
        int64_t got = k % 2 ? r->results[i].value.i64 : outs[i];
        if (got != (int64_t)i * 3) c->bad++;
      }
    }
    ompb_result_free(r);
  }
  return NULL;
}

static void sync_calls_from_several_threads(unsigned workers) {
  ompb_pool *p = th_pool(workers);
  reset_log();
  enum { THREADS = 4 };
  pthread_t th[THREADS];
  struct caller_arg args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (struct caller_arg){p, 0};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, caller_main, &args[i]), 0);
  }
  int bad = 0;
  for (int i = 0; i < THREADS; i++) {
    CU_ASSERT_EQUAL(pthread_join(th[i], NULL), 0);
    bad += args[i].bad;
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT(atomic_load(&L.max_running) <= (int)workers);
  ompb_pool_destroy(p);
}

static void sync_calls_from_several_threads_1_worker(void) { sync_calls_from_several_threads(1); }

static void sync_calls_from_several_threads_16_workers(void) {
  sync_calls_from_several_threads(16);
}

/* ---- progress and deadlines on the caller's team ---- */

static void on_progress(const ompb_progress *pr, void *user) {
  (void)user;
  if (pthread_equal(pthread_self(), L.caller)) atomic_fetch_add(&L.on_caller_progress, 1);
  atomic_fetch_add(&L.reports, 1);
  atomic_store(&L.last_completed, (int)pr->completed);
}

static void sync_call_keeps_progress_on_the_reporter_and_deadlines(void) {
  ompb_pool *p = th_pool(2);
  reset_log();
  L.caller = pthread_self();
  enum { N = 6 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = th_sleep_task, .arg = (void *)(intptr_t)5};
  /* Task 5 would sleep 3 s; its own deadline of 50 ms stops it. */
  t[5].arg = (void *)(intptr_t)3000;
  t[5].timeout_ms = 50;
  ompb_batch_opts o = {.on_progress = on_progress, .progress_throttle_ms = 1};
  ompb_result *r = NULL;
  double t0 = th_now_ms();
  CU_ASSERT_EQUAL(ompb_exec_batch(p, t, N, &o, &r), OMPB_OK);
  CU_ASSERT(th_now_ms() - t0 < 3000.0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->success_count, N - 1);
  CU_ASSERT_EQUAL(r->results[5].status, OMPB_ETIMEDOUT);
  /* Reports come from the reporter thread only, the final one (all
   * done) before the call returned. */
  CU_ASSERT_EQUAL(atomic_load(&L.on_caller_progress), 0);
  CU_ASSERT(atomic_load(&L.reports) >= 1);
  CU_ASSERT_EQUAL(atomic_load(&L.last_completed), N);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

/* ---- threads ---- */

/* Threads of this process (/proc/self/status), or -1. */
static int threads_now(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  int n = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  fclose(f);
  return n;
}

static int sum_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  out->i64 = (int64_t)ompb_ctx_index(ctx);
  return 0;
}

/* A program with its own team of N threads and a pool of N workers that
 * calls synchronously from its main thread runs N + 2 threads: its team,
 * the reporter and the dispatcher (which never opens a team here). */
static void sync_calls_add_no_second_team(void) {
  enum { N = 4, ITERS = 50, TASKS = 16 };
  static double v[4096];
  double acc = 0.0;
#pragma omp parallel for num_threads(N) reduction(+ : acc)
  for (int i = 0; i < 4096; i++) acc += v[i] = (double)i * 0.5;
  int t0 = threads_now();
  CU_ASSERT_FATAL(t0 > 0);
  ompb_pool *p = th_pool(N);
  ompb_task t[TASKS];
  for (int i = 0; i < TASKS; i++) t[i] = (ompb_task){.fn = sum_task};
  int bad = 0, most = t0;
  for (int k = 0; k < ITERS; k++) {
#pragma omp parallel for num_threads(N) reduction(+ : acc)
    for (int i = 0; i < 4096; i++) acc += v[i];
    ompb_result *r = NULL;
    if (ompb_exec_batch(p, t, TASKS, NULL, &r) != OMPB_OK || !r || r->success_count != TASKS)
      bad++;
    ompb_result_free(r);
    int now = threads_now();
    if (now > most) most = now;
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT(acc > 0.0);
  CU_ASSERT(most <= t0 + 2);
  ompb_pool_destroy(p);
}

int ompb_suite_caller(void) {
  CU_pSuite s = CU_add_suite("caller", NULL, NULL);
  if (!s) return -1;
  static const struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
      {"deadline_after_every_task_started_is_reported", deadline_after_every_task_started_is_reported},
      {"cancel_after_every_task_started_is_reported", cancel_after_every_task_started_is_reported},
      {"fail_fast_after_every_task_started_is_reported", fail_fast_after_every_task_started_is_reported},
      {"sync_call_queues_behind_a_running_batch_1_worker", sync_call_queues_behind_a_running_batch_1_worker},
      {"sync_call_queues_behind_a_running_batch_16_workers", sync_call_queues_behind_a_running_batch_16_workers},
      {"sync_calls_from_several_threads_1_worker", sync_calls_from_several_threads_1_worker},
      {"sync_calls_from_several_threads_16_workers", sync_calls_from_several_threads_16_workers},
      {"sync_call_keeps_progress_on_the_reporter_and_deadlines", sync_call_keeps_progress_on_the_reporter_and_deadlines},
      {"sync_calls_add_no_second_team", sync_calls_add_no_second_team},
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    if (!CU_add_test(s, tests[i].name, tests[i].fn)) return -1;
  return 0;
}
