/* SPDX-License-Identifier: BSD-3-Clause */
/* Batches: ordered results, methods, failures, concurrency, progress, the
 * nested path, bad input. Assertions run on the main thread only: tasks and
 * callbacks record, the test asserts after the join. The suite's pool has
 * the default worker count (OMP_NUM_THREADS); tests that time anything make
 * their own pool with an explicit worker count, and their bounds follow from
 * the work (n tasks of d ms on w workers last at least ceil(n/w) * d). */
#include "ompbatch/batch.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static ompb_pool *pool; /* default workers */

/* The least time n tasks of d ms each take on w workers. */
static double work_ms(int n, int w, double d) { return (double)((n + w - 1) / w) * d; }

/* The reporter reads its clock and then calls on_progress, which reads
 * ours: a gap the callback sees differs from the reporter's by that call's
 * latency, microseconds (CALL_SLACK_MS), unless the reporter thread was
 * preempted in between (milliseconds on a busy machine). */
#define CALL_SLACK_MS 1.0

static int setup(void) { return ompb_pool_create(&pool, NULL) == OMPB_OK ? 0 : -1; }
static int teardown(void) {
  ompb_pool_destroy(pool);
  return 0;
}

static void ten_thousand_tasks_ordered_and_correct(void) {
  enum { N = 10000 };
  ompb_task *t = calloc(N, sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = th_square_task, .arg = (void *)(intptr_t)(i * 3 + 1)};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, N, NULL, &r), OMPB_OK);
  free(t);
  CU_ASSERT_EQUAL(r->count, (size_t)N);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N);
  CU_ASSERT_EQUAL(r->failure_count, 0u);
  CU_ASSERT_EQUAL(r->cancelled_count, 0u);
  CU_ASSERT(r->all_succeeded && !r->cancelled && !r->timed_out);
  CU_ASSERT(r->duration_ms >= 0);
  size_t bad = 0;
  for (int i = 0; i < N; i++) {
    const ompb_task_result *x = &r->results[i];
    int64_t k = i * 3 + 1;
    if (x->index != (size_t)i || x->status != 0 || x->value.i64 != k * k || x->error ||
        !(x->duration_ms >= 0))
      bad++;
  }
  CU_ASSERT_EQUAL(bad, 0u);
  ompb_value vals[N];
  CU_ASSERT_EQUAL(ompb_result_successes(r, vals, N), (size_t)N);
  CU_ASSERT_EQUAL(vals[N - 1].i64, (int64_t)(3 * (N - 1) + 1) * (3 * (N - 1) + 1));
  CU_ASSERT_EQUAL(ompb_result_failures(r, NULL, 0), 0u);
  ompb_result_free(r);
}

static int twice_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  out->f64 = 2.385 * *(double *)arg;
  return 0;
}

static void named_and_direct_functions_mix(void) {
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, NULL), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_pool_register(p, "twice", twice_task), OMPB_OK);
  double in[6] = {1.5, -2.25, 3.0, 1e-3, 1e9, 0.0};
  ompb_task t[6];
  char names[6][8];
  for (int i = 0; i < 6; i++) {
    /* distinct name pointers too: resolution is by content */
    strcpy(names[i], "twice");
    t[i] = i % 2 ? (ompb_task){.method = names[i], .arg = &in[i]}
                 : (ompb_task){.fn = twice_task, .arg = &in[i]};
  }
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(p, t, 6, NULL, &r), OMPB_OK);
  for (int i = 0; i < 6; i++) {
    CU_ASSERT_EQUAL(r->results[i].status, 0);
    CU_ASSERT_DOUBLE_EQUAL(r->results[i].value.f64, 2.385 * in[i], 1e-9 * fabs(in[i]));
  }
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

static void unknown_method_fails_only_its_task(void) {
  ompb_task t[5];
  for (int i = 0; i < 5; i++) t[i] = (ompb_task){.fn = th_index_task};
  t[2] = (ompb_task){.method = "no-such-method"};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, 5, NULL, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->success_count, 4u);
  CU_ASSERT_EQUAL(r->failure_count, 1u);
  CU_ASSERT_FALSE(r->all_succeeded);
  CU_ASSERT_FALSE(r->cancelled);
  CU_ASSERT_EQUAL(r->results[2].status, OMPB_ENOMETHOD);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r->results[2].error);
  CU_ASSERT_EQUAL(r->results[2].error->code, OMPB_ENOMETHOD);
  CU_ASSERT_EQUAL(r->results[2].error->index, 2u);
  CU_ASSERT_PTR_NOT_NULL(strstr(r->results[2].error->message, "no-such-method"));
  CU_ASSERT_EQUAL(r->results[3].value.i64, 3);
  ompb_result_free(r);
}

static int long_message_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  (void)out;
  char big[600];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  return ompb_ctx_fail(ctx, 99, "%s", big);
}

static int plain_fail_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  out->i64 = 12345; /* must not leak into the result */
  return (int)(intptr_t)arg;
}

static void failures_carry_codes_and_messages(void) {
  enum { N = 40 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = th_index_task};
  t[3] = (ompb_task){.fn = th_fail_task, .arg = (void *)(intptr_t)7};
  t[17] = (ompb_task){.fn = long_message_task};
  t[25] = (ompb_task){.fn = plain_fail_task, .arg = (void *)(intptr_t)OMPB_EIO};
  t[30] = (ompb_task){.fn = plain_fail_task, .arg = (void *)(intptr_t)123456};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, N, NULL, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->failure_count, 4u);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N - 4);
  CU_ASSERT_EQUAL(r->success_count + r->failure_count + r->cancelled_count, r->count);
  const ompb_error *e[8];
  CU_ASSERT_EQUAL_FATAL(ompb_result_failures(r, e, 2), 4u); /* snprintf-like */
  CU_ASSERT_EQUAL(e[0]->index, 3u);
  CU_ASSERT_EQUAL(e[0]->code, 7);
  CU_ASSERT_STRING_EQUAL(e[0]->message, "task 3 failed on purpose");
  CU_ASSERT_EQUAL(e[1]->index, 17u);
  CU_ASSERT_EQUAL(strlen(e[1]->message), 255u);
  CU_ASSERT_EQUAL(ompb_result_failures(r, e, 8), 4u);
  CU_ASSERT_EQUAL(e[2]->code, OMPB_EIO);
  CU_ASSERT_STRING_EQUAL(e[2]->message, ompb_strerror(OMPB_EIO));
  CU_ASSERT_EQUAL(e[3]->code, 123456);
  CU_ASSERT_STRING_EQUAL(e[3]->message, ompb_strerror(123456));
  for (int i = 0; i < N; i++) {
    const ompb_task_result *x = &r->results[i];
    if (x->status) {
      CU_ASSERT_PTR_NOT_NULL(x->error);
      CU_ASSERT_EQUAL(x->value.i64, 0);
      if (x->error) CU_ASSERT(x->error->code == x->status && x->error->index == (size_t)i);
    }
  }
  ompb_value v[3];
  CU_ASSERT_EQUAL(ompb_result_successes(r, v, 3), (size_t)N - 4);
  CU_ASSERT_EQUAL(v[2].i64, 2);
  CU_ASSERT_EQUAL(ompb_result_successes(r, NULL, 0), (size_t)N - 4);
  ompb_result_free(r);
}

static atomic_int running, max_running;

static int overlap_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)out;
  int now = atomic_fetch_add(&running, 1) + 1;
  int seen = atomic_load(&max_running);
  while (now > seen && !atomic_compare_exchange_weak(&max_running, &seen, now)) {
  }
  th_sleep_ms((double)(intptr_t)arg);
  atomic_fetch_sub(&running, 1);
  return 0;
}

/* Like overlap_task, but each task waits (up to TH_WAIT_MS) until a second
 * one has started, so that workers that can overlap do, whatever the
 * machine's speed. */
static int meet_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)out;
  int now = atomic_fetch_add(&running, 1) + 1;
  int seen = atomic_load(&max_running);
  while (now > seen && !atomic_compare_exchange_weak(&max_running, &seen, now)) {
  }
  (void)th_wait_at_least(&max_running, 2, TH_WAIT_MS);
  th_sleep_ms((double)(intptr_t)arg);
  atomic_fetch_sub(&running, 1);
  return 0;
}

static void concurrency_one_runs_tasks_one_at_a_time(void) {
  ompb_pool *p;
  ompb_pool_opts po = {.workers = 4}; /* more workers than the limit */
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, &po), OMPB_OK);
  enum { N = 60 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = overlap_task, .arg = (void *)(intptr_t)1};
  atomic_store(&max_running, 0);
  ompb_batch_opts o = {.concurrency = 1};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(p, t, N, &o, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N);
  CU_ASSERT_EQUAL(atomic_load(&max_running), 1);
  ompb_result_free(r);
  /* and without the limit, the 4 workers do overlap */
  atomic_store(&max_running, 0);
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = meet_task, .arg = (void *)(intptr_t)1};
  double t0 = th_now_ms();
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(p, t, N, NULL, &r), OMPB_OK);
  CU_ASSERT(th_now_ms() - t0 < TH_WAIT_MS); /* no task waited in vain for a second one */
  CU_ASSERT(atomic_load(&max_running) > 1);
  CU_ASSERT(atomic_load(&max_running) <= 4);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

/* ---- progress ---- */

#define MAX_REPORTS 4096
struct reports {
  ompb_progress p[MAX_REPORTS];
  double at_ms[MAX_REPORTS];
  pthread_t thread[MAX_REPORTS];
  atomic_int count;
  atomic_int inside, overlapped;
  atomic_int after_wait; /* reports seen after wait returned */
  atomic_int waited;
};

static void record_progress(const ompb_progress *p, void *user) {
  struct reports *rep = user;
  if (atomic_fetch_add(&rep->inside, 1) != 0) atomic_store(&rep->overlapped, 1);
  if (atomic_load(&rep->waited)) atomic_fetch_add(&rep->after_wait, 1);
  int k = atomic_load(&rep->count);
  if (k < MAX_REPORTS) {
    rep->p[k] = *p;
    rep->at_ms[k] = th_now_ms();
    rep->thread[k] = pthread_self();
    atomic_store(&rep->count, k + 1);
  }
  th_sleep_ms(0.3); /* widen the window in which an overlap would show */
  atomic_fetch_sub(&rep->inside, 1);
}

/* Written by tasks on several workers while others scan it: atomic slots. */
static _Atomic(pthread_t) task_threads[64];
static atomic_int n_task_threads;

static int spin_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)out;
  pthread_t self = pthread_self();
  int n = atomic_load(&n_task_threads);
  bool known = false;
  for (int i = 0; i < n && i < 64; i++) known |= pthread_equal(task_threads[i], self);
  if (!known && n < 64) {
    int slot = atomic_fetch_add(&n_task_threads, 1);
    if (slot < 64) task_threads[slot] = self;
  }
  double end = th_now_ms() + (double)(intptr_t)arg / 1000.0;
  while (th_now_ms() < end) {
  }
  return ompb_ctx_index(ctx) % 97 == 5 ? 3 : 0;
}

/* No report earlier than the throttle after the previous one: report k
 * comes at least `throttle` after report k-1. A callback k-1 that started
 * late (its reporter preempted after reading the clock) shortens the next
 * gap as much as it lengthened its own, so a short gap is accepted when it
 * is made up by the gaps before it: k - j throttles after report j, for one
 * of the three reports j before k. */
static bool gap_respects_throttle(const struct reports *rep, int k, double throttle) {
  for (int j = k - 1; j >= 0 && j >= k - 3; j--)
    if (rep->at_ms[k] - rep->at_ms[j] >= (k - j) * throttle - CALL_SLACK_MS) return true;
  return false;
}

static void progress_is_monotonic_throttled_and_final_once(void) {
  enum { N = 4000, W = 2, SPIN_US = 100 };
  static ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = spin_task, .arg = (void *)(intptr_t)SPIN_US};
  ompb_pool *wp;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&wp, &(ompb_pool_opts){.workers = W}), OMPB_OK);
  struct reports *rep = calloc(1, sizeof *rep);
  CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
  atomic_store(&n_task_threads, 0);
  const double throttle = 20;
  ompb_batch_opts o = {.on_progress = record_progress, .progress_throttle_ms = throttle, .user = rep};
  ompb_result *r;
  double t0 = th_now_ms();
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(wp, t, N, &o, &r), OMPB_OK);
  double took = th_now_ms() - t0;
  atomic_store(&rep->waited, 1);
  int n = atomic_load(&rep->count);
  /* The work lasts at least min_ms (tasks spin on the clock): reports come
   * about every throttle, so besides the final one expect at least one for
   * every four throttles of it (a reporter may wake late on a busy machine). */
  const double min_ms = work_ms(N, W, SPIN_US / 1000.0);
  CU_ASSERT(took >= min_ms);
  CU_ASSERT(n >= 1 + (int)(min_ms / (4 * throttle)));
  /* and at most one periodic report per throttle the batch lasted */
  CU_ASSERT(n <= 2 + (int)(took / throttle));
  CU_ASSERT_EQUAL(atomic_load(&rep->overlapped), 0);
  size_t failures = r->failure_count;
  CU_ASSERT_EQUAL(failures, (size_t)((N - 5 + 96) / 97));
  int finals = 0;
  for (int k = 0; k < n; k++) {
    const ompb_progress *p = &rep->p[k];
    CU_ASSERT_EQUAL(p->total, (size_t)N);
    CU_ASSERT_EQUAL(p->completed, p->successes + p->failures);
    CU_ASSERT(p->percentage >= 0 && p->percentage <= 100);
    CU_ASSERT(pthread_equal(rep->thread[k], rep->thread[0]));
    for (int j = 0; j < atomic_load(&n_task_threads) && j < 64; j++)
      CU_ASSERT_FALSE(pthread_equal(rep->thread[k], task_threads[j]));
    if (k > 0) {
      CU_ASSERT(p->completed >= rep->p[k - 1].completed);
      CU_ASSERT(p->successes >= rep->p[k - 1].successes);
      CU_ASSERT(p->failures >= rep->p[k - 1].failures);
      CU_ASSERT(p->percentage >= rep->p[k - 1].percentage);
      /* no report comes earlier than the throttle after the previous one,
       * except the final one */
      if (k < n - 1) CU_ASSERT(gap_respects_throttle(rep, k, throttle));
    }
    if (p->completed == (size_t)N) finals++;
    if (k < n - 1 && p->completed > 0 && p->completed < (size_t)N)
      CU_ASSERT(p->throughput > 0 && p->estimated_remaining_ms >= 0);
  }
  /* The last report is the final one (checked below); a periodic report
   * may also see every task done before the team ends (slow machines,
   * valgrind), so reports with completed == N are not all finals. */
  CU_ASSERT(finals >= 1);
  const ompb_progress *last = &rep->p[n - 1];
  CU_ASSERT_EQUAL(last->completed, (size_t)N);
  CU_ASSERT_EQUAL(last->failures, failures);
  CU_ASSERT_DOUBLE_EQUAL(last->percentage, 100.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(last->estimated_remaining_ms, 0.0, 1e-9);
  CU_ASSERT(last->throughput > 0);
  /* Nothing is reported after wait returned: no event to wait for, so
   * watch for three throttles, in which a stray report would come. */
  th_sleep_ms(3 * throttle);
  CU_ASSERT_EQUAL(atomic_load(&rep->after_wait), 0);
  CU_ASSERT_EQUAL(atomic_load(&rep->count), n);
  ompb_result_free(r);
  free(rep);
  ompb_pool_destroy(wp);
}

static void progress_default_throttle_and_short_batch_final_report(void) {
  const double default_throttle = 50;
  struct reports *rep = calloc(1, sizeof *rep);
  CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
  ompb_task t[3] = {{.fn = th_index_task}, {.fn = th_index_task}, {.fn = th_fail_task, .arg = (void *)(intptr_t)4}};
  ompb_batch_opts o = {.on_progress = record_progress, .user = rep};
  ompb_result *r;
  double t0 = th_now_ms();
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, 3, &o, &r), OMPB_OK);
  double took = th_now_ms() - t0;
  int n = atomic_load(&rep->count);
  /* A batch shorter than the 50 ms default throttle gets exactly the final
   * report; one that took longer (a stalled machine) at most one more per
   * throttle it lasted. The last report is the final one either way. */
  if (took < default_throttle) CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT(n >= 1 && n <= 1 + (int)(took / default_throttle));
  CU_ASSERT_EQUAL(rep->p[n - 1].completed, 3u);
  CU_ASSERT_EQUAL(rep->p[n - 1].failures, 1u);
  ompb_result_free(r);

  /* A batch lasting four default throttles gets periodic reports, never
   * two closer than 50 ms, and the final one. */
  enum { N = 20, W = 2 };
  const int d = (int)(4 * default_throttle) / (N / W); /* work_ms(N, W, d): 4 throttles */
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, &(ompb_pool_opts){.workers = W}), OMPB_OK);
  ompb_task sl[N];
  for (int i = 0; i < N; i++) sl[i] = (ompb_task){.fn = th_sleep_task, .arg = (void *)(intptr_t)d};
  memset(rep, 0, sizeof *rep);
  t0 = th_now_ms();
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(p, sl, N, &o, &r), OMPB_OK);
  took = th_now_ms() - t0;
  CU_ASSERT(took >= work_ms(N, W, d));
  n = atomic_load(&rep->count);
  CU_ASSERT(n >= 2);
  CU_ASSERT(n <= 2 + (int)(took / default_throttle));
  for (int k = 1; k < n - 1; k++) CU_ASSERT(gap_respects_throttle(rep, k, default_throttle));
  if (n >= 1) CU_ASSERT_EQUAL(rep->p[n - 1].completed, (size_t)N);
  CU_ASSERT(r->all_succeeded);
  ompb_result_free(r);
  ompb_pool_destroy(p);
  /* the empty batch reports once too, at 100 % */
  atomic_store(&rep->count, 0);
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, NULL, 0, &o, &r), OMPB_OK);
  CU_ASSERT_EQUAL(atomic_load(&rep->count), 1);
  CU_ASSERT_EQUAL(rep->p[0].total, 0u);
  CU_ASSERT_DOUBLE_EQUAL(rep->p[0].percentage, 100.0, 1e-9);
  ompb_result_free(r);
  free(rep);
}

static void progress_snapshot_any_time(void) {
  enum { N = 400 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = spin_task, .arg = (void *)(intptr_t)200};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, N, NULL, &b), OMPB_OK);
  ompb_progress p, prev = {0};
  int backwards = 0;
  for (int k = 0; k < 50; k++) {
    CU_ASSERT_EQUAL(ompb_batch_progress(b, &p), OMPB_OK);
    if (p.completed < prev.completed) backwards++;
    prev = p;
    th_sleep_ms(0.5);
  }
  CU_ASSERT_EQUAL(backwards, 0);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_progress(b, &p), OMPB_OK);
  CU_ASSERT_EQUAL(p.completed, (size_t)N);
  CU_ASSERT_EQUAL(p.failures, r->failure_count);
  CU_ASSERT_EQUAL(ompb_batch_progress(NULL, &p), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_batch_progress(b, NULL), OMPB_EINVAL);
  ompb_result_free(r);
  ompb_batch_free(b);
}

/* ---- the nested path ---- */

static void nested_call_from_single_uses_the_callers_team(void) {
  enum { N = 200, TEAM = 2 };
  /* More workers than the caller's team: the batch runs in the team, so at
   * most TEAM tasks at once, and both team threads take part. */
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, &(ompb_pool_opts){.workers = 2 * TEAM}), OMPB_OK);
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = overlap_task, .arg = (void *)(intptr_t)1};
  atomic_store(&max_running, 0);
  ompb_result *r = NULL;
  int rc = -1, team = 0;
#pragma omp parallel num_threads(TEAM)
  {
#pragma omp single
    {
      team = omp_get_num_threads();
      rc = ompb_exec_batch(p, t, N, NULL, &r);
    }
  }
  if (!omp_get_dynamic()) CU_ASSERT_EQUAL(team, TEAM); /* whatever OMP_NUM_THREADS says */
  CU_ASSERT_EQUAL_FATAL(rc, OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N);
  CU_ASSERT_EQUAL(atomic_load(&max_running), team); /* every team thread ran tasks, no more */
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

static void nested_call_from_every_thread(void) {
  enum { T = 2, N = 500 };
  int ok[T] = {0};
#pragma omp parallel num_threads(T)
  {
    int me = omp_get_thread_num();
    ompb_task t[N];
    for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = th_square_task, .arg = (void *)(intptr_t)(i + me)};
    ompb_result *r;
    if (ompb_exec_batch(pool, t, N, NULL, &r) == OMPB_OK && r) {
      ok[me] = r->success_count == N;
      for (int i = 0; i < N; i++)
        if (r->results[i].value.i64 != (int64_t)(i + me) * (i + me)) ok[me] = 0;
      ompb_result_free(r);
    }
  }
  for (int i = 0; i < T; i++) CU_ASSERT_EQUAL(ok[i], 1);
}

static int inner_batch_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  ompb_pool *p = arg;
  enum { N = 50 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = th_square_task, .arg = (void *)(intptr_t)i};
  ompb_result *r;
  int rc = ompb_exec_batch(p, t, N, NULL, &r);
  if (rc != OMPB_OK) return ompb_ctx_fail(ctx, 1, "inner batch: %s", ompb_strerror(rc));
  int64_t sum = 0;
  for (int i = 0; i < N; i++) sum += r->results[i].value.i64;
  ompb_result_free(r);
  out->i64 = sum;
  return 0;
}

static void batch_inside_a_task_never_deadlocks(void) {
  for (unsigned w = 1; w <= 3; w++) {
    ompb_pool *p;
    ompb_pool_opts po = {.workers = w};
    CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, &po), OMPB_OK);
    enum { N = 8 };
    ompb_task t[N];
    for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = inner_batch_task, .arg = p};
    ompb_result *r;
    CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(p, t, N, NULL, &r), OMPB_OK);
    CU_ASSERT_EQUAL(r->success_count, (size_t)N);
    for (int i = 0; i < N; i++) CU_ASSERT_EQUAL(r->results[i].value.i64, 40425); /* sum of i^2, i<50 */
    ompb_result_free(r);
    ompb_pool_destroy(p);
  }
}

/* ---- bad input ---- */

static atomic_int cb_calls;
static void count_free(void *arg) {
  (void)arg;
  atomic_fetch_add(&cb_calls, 1);
}
static void count_progress(const ompb_progress *p, void *u) {
  (void)p;
  (void)u;
  atomic_fetch_add(&cb_calls, 1);
}

static void bad_input_is_rejected_without_side_effects(void) {
  ompb_task good[2] = {{.fn = th_index_task, .arg_free = count_free},
                       {.fn = th_index_task, .arg_free = count_free}};
  ompb_batch *b = (ompb_batch *)&b;
  ompb_result *r = (ompb_result *)&r;
  atomic_store(&cb_calls, 0);
  CU_ASSERT_EQUAL(ompb_batch_start(NULL, good, 2, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(b);
  CU_ASSERT_EQUAL(ompb_batch_start(pool, NULL, 2, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_batch_start(pool, good, 2, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, good, 2, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_exec_batch(NULL, good, 2, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(r);

  ompb_task neither[2] = {good[0], {.arg_free = count_free}};
  ompb_task both[2] = {good[0], {.method = "x", .fn = th_index_task, .arg_free = count_free}};
  ompb_task neg[2] = {good[0], {.fn = th_index_task, .timeout_ms = -1, .arg_free = count_free}};
  ompb_task nan_t[2] = {good[0], {.fn = th_index_task, .timeout_ms = NAN, .arg_free = count_free}};
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, neither, 2, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, both, 2, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, neg, 2, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, nan_t, 2, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(r);

  ompb_batch_opts bad_opts[] = {
      {.progress_throttle_ms = -1, .on_progress = count_progress},
      {.progress_throttle_ms = NAN, .on_progress = count_progress},
      {.task_timeout_ms = -0.5, .on_progress = count_progress},
      {.batch_timeout_ms = NAN, .on_progress = count_progress},
      {.batch_timeout_ms = -INFINITY, .on_progress = count_progress},
  };
  for (size_t i = 0; i < sizeof bad_opts / sizeof bad_opts[0]; i++) {
    CU_ASSERT_EQUAL(ompb_exec_batch(pool, good, 2, &bad_opts[i], &r), OMPB_EINVAL);
    CU_ASSERT_EQUAL(ompb_batch_start(pool, good, 2, &bad_opts[i], &b), OMPB_EINVAL);
  }
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_PTR_NULL(b);
  /* nothing ran: no arg_free, no progress callback */
  CU_ASSERT_EQUAL(atomic_load(&cb_calls), 0);

  /* a huge n cannot be allocated: ENOMEM, nothing read or run */
  CU_ASSERT_EQUAL(ompb_batch_start(pool, good, SIZE_MAX, NULL, &b), OMPB_ENOMEM);
  CU_ASSERT_EQUAL(ompb_batch_start(pool, good, SIZE_MAX / 8, NULL, &b), OMPB_ENOMEM);
  CU_ASSERT_PTR_NULL(b);
  CU_ASSERT_EQUAL(atomic_load(&cb_calls), 0);

  /* handle functions on NULL */
  CU_ASSERT_EQUAL(ompb_batch_wait(NULL, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_batch_cancel(NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_batch_pause(NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_batch_resume(NULL), OMPB_EINVAL);
  CU_ASSERT_FALSE(ompb_batch_is_paused(NULL));
  ompb_batch_free(NULL);
  ompb_result_free(NULL);
  CU_ASSERT_EQUAL(ompb_result_successes(NULL, NULL, 0), 0u);
  CU_ASSERT_EQUAL(ompb_result_failures(NULL, NULL, 0), 0u);
  CU_ASSERT_FALSE(ompb_ctx_should_stop(NULL));
}

static void empty_batch_succeeds(void) {
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, NULL, 0, NULL, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->count, 0u);
  CU_ASSERT(r->all_succeeded);
  CU_ASSERT_FALSE(r->cancelled);
  CU_ASSERT_EQUAL(r->success_count + r->failure_count + r->cancelled_count, 0u);
  ompb_result_free(r);
  ompb_task one = {.fn = th_index_task};
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, &one, 0, NULL, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->count, 0u);
  ompb_result_free(r);
}

static void wait_hands_the_result_out_once(void) {
  ompb_task t[4] = {{.fn = th_index_task}, {.fn = th_index_task}, {.fn = th_index_task}, {.fn = th_index_task}};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 4, NULL, &b), OMPB_OK);
  ompb_result *r, *r2 = (ompb_result *)&r2;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL(r);
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r2), OMPB_ESTATE);
  CU_ASSERT_PTR_NULL(r2);
  CU_ASSERT_EQUAL(ompb_batch_wait(b, NULL), OMPB_EINVAL);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static int user_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  out->ptr = ompb_ctx_user(ctx);
  return ompb_ctx_should_stop(ctx) ? 1 : 0;
}

static void ctx_exposes_index_and_user(void) {
  enum { N = 64 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (i % 2) ? (ompb_task){.fn = user_task} : (ompb_task){.fn = th_index_task};
  int token;
  ompb_batch_opts o = {.user = &token};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, N, &o, &r), OMPB_OK);
  for (int i = 0; i < N; i++) {
    CU_ASSERT_EQUAL(r->results[i].status, 0);
    if (i % 2) {
      CU_ASSERT_PTR_EQUAL(r->results[i].value.ptr, &token);
    } else {
      CU_ASSERT_EQUAL(r->results[i].value.i64, i);
    }
  }
  ompb_result_free(r);
}

/* A task that spins for `arg` microseconds of the monotonic clock. */
static int spin_us_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)out;
  double end = th_now_ms() + (double)(intptr_t)arg / 1000.0;
  while (th_now_ms() < end) {
  }
  return 0;
}

/* Durations come from the task clock (the TSC where it is invariant,
 * calibrated against the monotonic clock): each covers the time its task
 * spun, and none is longer than the whole call. The margins are the
 * calibration's error bound (0.05%) twice over. */
static void durations_cover_each_tasks_time(void) {
  enum { N = 6 };
  const intptr_t us = 3000;
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = spin_us_task, .arg = (void *)us};
  double t0 = th_now_ms();
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, N, NULL, &r), OMPB_OK);
  double took = th_now_ms() - t0;
  for (int i = 0; i < N; i++) {
    CU_ASSERT(r->results[i].duration_ms >= (double)us / 1000.0 * 0.999);
    CU_ASSERT(r->results[i].duration_ms <= took * 1.001);
  }
  CU_ASSERT(r->duration_ms <= took * 1.001);
  ompb_result_free(r);
}

int ompb_suite_batch(void) {
  CU_pSuite s = CU_add_suite("batch", setup, teardown);
  if (!s) return -1;
  struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
      {"ten_thousand_tasks_ordered_and_correct", ten_thousand_tasks_ordered_and_correct},
      {"named_and_direct_functions_mix", named_and_direct_functions_mix},
      {"unknown_method_fails_only_its_task", unknown_method_fails_only_its_task},
      {"failures_carry_codes_and_messages", failures_carry_codes_and_messages},
      {"concurrency_one_runs_tasks_one_at_a_time", concurrency_one_runs_tasks_one_at_a_time},
      {"progress_is_monotonic_throttled_and_final_once", progress_is_monotonic_throttled_and_final_once},
      {"progress_default_throttle_and_short_batch_final_report",
       progress_default_throttle_and_short_batch_final_report},
      {"progress_snapshot_any_time", progress_snapshot_any_time},
      {"nested_call_from_single_uses_the_callers_team", nested_call_from_single_uses_the_callers_team},
      {"nested_call_from_every_thread", nested_call_from_every_thread},
      {"batch_inside_a_task_never_deadlocks", batch_inside_a_task_never_deadlocks},
      {"bad_input_is_rejected_without_side_effects", bad_input_is_rejected_without_side_effects},
      {"empty_batch_succeeds", empty_batch_succeeds},
      {"wait_hands_the_result_out_once", wait_hands_the_result_out_once},
      {"ctx_exposes_index_and_user", ctx_exposes_index_and_user},
      {"durations_cover_each_tasks_time", durations_cover_each_tasks_time},
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    if (!CU_add_test(s, tests[i].name, tests[i].fn)) return -1;
  return 0;
}
