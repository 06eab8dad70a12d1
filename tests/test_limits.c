/* SPDX-License-Identifier: BSD-3-Clause */
/* Extreme but valid arguments (issue: reliability, round two): chunk sizes
 * near SIZE_MAX, times too small to count in nanoseconds, a throttle of
 * 1e-300, and NULL items of size 0 on the per-item map path. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>

#include "helpers.h"

static atomic_int item_runs[64];

static int count_item(const void *item, void *out, size_t index, void *user) {
  (void)item;
  (void)out;
  (void)user;
  if (index < 64) atomic_fetch_add(&item_runs[index], 1);
  return 0;
}

/* Each item runs exactly once whatever the chunk size: the claim counter
 * never wraps (2^63 and SIZE_MAX wrapped it: every item ran twice). */
static void huge_chunk_size_runs_each_item_once(void) {
  static const size_t chunks[] = {SIZE_MAX, SIZE_MAX / 2 + 1, SIZE_MAX / 3 + 1, 64, 65};
  for (unsigned workers = 1; workers <= 16; workers *= 4) {
    ompb_pool *p = th_pool(workers);
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
      for (int i = 0; i < 64; i++) atomic_store(&item_runs[i], 0);
      ompb_map_opts o = {.chunk_size = chunks[c]};
      ompb_result *r = NULL;
      CU_ASSERT_EQUAL(ompb_map(p, NULL, 64, 0, NULL, 0, count_item, &o, &r), OMPB_OK);
      CU_ASSERT_PTR_NOT_NULL_FATAL(r);
      CU_ASSERT_EQUAL(r->success_count, 64);
      CU_ASSERT_EQUAL(r->cancelled_count, 0);
      CU_ASSERT(r->all_succeeded);
      int twice = 0;
      for (int i = 0; i < 64; i++) {
        twice += atomic_load(&item_runs[i]) != 1;
        CU_ASSERT_EQUAL(r->results[i].status, 0);
      }
      CU_ASSERT_EQUAL(twice, 0);
      ompb_result_free(r);
    }
    ompb_pool_destroy(p);
  }
}

/* A cooperative task that would run 10 s. */
#define SLOW_MS 10000.0
static int slow_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  double until = th_now_ms() + SLOW_MS;
  while (!ompb_ctx_should_stop(ctx) && th_now_ms() < until) th_sleep_ms(0.2);
  out->i64 = 1;
  return 0;
}

/* 1e-7 ms is 0.1 ns: still a deadline. Before, it became 0 ("none") and,
 * as the batch's smallest deadline, switched off every other one. */
static void tiny_positive_timeouts_are_deadlines(void) {
  ompb_pool *p = th_pool(2);
  ompb_task t[2] = {{.fn = slow_task, .timeout_ms = 20}, {.fn = slow_task, .timeout_ms = 1e-7}};
  ompb_result *r = NULL;
  double t0 = th_now_ms();
  CU_ASSERT_EQUAL(ompb_exec_batch(p, t, 2, NULL, &r), OMPB_OK);
  CU_ASSERT(th_now_ms() - t0 < SLOW_MS);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->results[0].status, OMPB_ETIMEDOUT);
  CU_ASSERT_EQUAL(r->results[1].status, OMPB_ETIMEDOUT);
  ompb_result_free(r);

  ompb_task one = {.fn = slow_task};
  ompb_batch_opts o = {.task_timeout_ms = 1e-7};
  CU_ASSERT_EQUAL(ompb_exec_batch(p, &one, 1, &o, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->results[0].status, OMPB_ETIMEDOUT);
  ompb_result_free(r);

  ompb_batch_opts ob = {.batch_timeout_ms = 1e-7};
  CU_ASSERT_EQUAL(ompb_exec_batch(p, &one, 1, &ob, &r), OMPB_ETIMEDOUT);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(r->timed_out);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

static atomic_int reports;

static void count_report(const ompb_progress *pr, void *user) {
  (void)pr;
  (void)user;
  atomic_fetch_add(&reports, 1);
}

/* A throttle below 1 ms is 1 ms: over a batch of D ms at most D + 1 reports
 * (plus the final one). 1e-300 made the reporter a busy loop. */
static void throttle_below_one_ms_is_one_ms(void) {
  ompb_pool *p = th_pool(2);
  enum { N = 8 };
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = th_sleep_task, .arg = (void *)(intptr_t)10};
  ompb_batch_opts o = {.on_progress = count_report, .progress_throttle_ms = 1e-300};
  atomic_store(&reports, 0);
  ompb_result *r = NULL;
  double t0 = th_now_ms();
  CU_ASSERT_EQUAL(ompb_exec_batch(p, t, N, &o, &r), OMPB_OK);
  double took = th_now_ms() - t0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->success_count, N);
  CU_ASSERT(atomic_load(&reports) >= 1);
  CU_ASSERT(atomic_load(&reports) <= (int)took + 2);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

static void on_result_noop(const ompb_task_result *r, void *user) {
  (void)r;
  (void)user;
}

/* The per-item path (on_result set) with NULL items and outputs of size 0:
 * valid, and no pointer arithmetic on NULL (clang's UBSan checks it). */
static void null_items_of_size_zero_on_the_per_item_path(void) {
  ompb_pool *p = th_pool(2);
  for (int i = 0; i < 64; i++) atomic_store(&item_runs[i], 0);
  ompb_map_opts o = {.batch = {.on_result = on_result_noop}};
  ompb_result *r = NULL;
  CU_ASSERT_EQUAL(ompb_map(p, NULL, 64, 0, NULL, 0, count_item, &o, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->success_count, 64);
  int once = 0;
  for (int i = 0; i < 64; i++) once += atomic_load(&item_runs[i]) == 1;
  CU_ASSERT_EQUAL(once, 64);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

static int nothing_item(const void *item, void *out, size_t index, void *user) {
  (void)item;
  (void)out;
  (void)index;
  (void)user;
  return 0;
}

/* n = SIZE_MAX / 2 items of size 0 with discard_results allocates nothing
 * per item: it is accepted and runs until cancelled, and the counts stay
 * exact (success + cancelled == n, nothing wraps). */
static void huge_n_without_results_runs_until_cancelled(void) {
  ompb_pool *p = th_pool(2);
  const size_t n = SIZE_MAX / 2;
  for (int c = 0; c < 2; c++) {
    ompb_map_opts o = {.batch = {.discard_results = true}, .chunk_size = c ? SIZE_MAX : 0};
    ompb_batch *b = NULL;
    CU_ASSERT_EQUAL_FATAL(ompb_map_start(p, NULL, n, 0, NULL, 0, nothing_item, &o, &b), OMPB_OK);
    ompb_progress pr = {0};
    double until = th_now_ms() + TH_WAIT_MS;
    do {
      th_sleep_ms(0.05);
      CU_ASSERT_EQUAL_FATAL(ompb_batch_progress(b, &pr), OMPB_OK);
    } while (pr.completed < 1000 && th_now_ms() < until);
    CU_ASSERT(pr.completed >= 1000);
    CU_ASSERT_EQUAL(pr.total, n);
    CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
    ompb_result *r = NULL;
    CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(r->cancelled);
    CU_ASSERT_PTR_NULL(r->results);
    CU_ASSERT_EQUAL(r->count, n);
    CU_ASSERT_EQUAL(r->failure_count, 0);
    CU_ASSERT(r->success_count >= 1000 && r->success_count < n);
    CU_ASSERT_EQUAL(r->success_count + r->cancelled_count, n);
    ompb_result_free(r);
    ompb_batch_free(b);
  }
  ompb_pool_destroy(p);
}

int ompb_suite_limits(void) {
  CU_pSuite s = CU_add_suite("limits", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "huge_chunk_size_runs_each_item_once", huge_chunk_size_runs_each_item_once) ||
      !CU_add_test(s, "tiny_positive_timeouts_are_deadlines", tiny_positive_timeouts_are_deadlines) ||
      !CU_add_test(s, "throttle_below_one_ms_is_one_ms", throttle_below_one_ms_is_one_ms) ||
      !CU_add_test(s, "null_items_of_size_zero_on_the_per_item_path",
                   null_items_of_size_zero_on_the_per_item_path) ||
      !CU_add_test(s, "huge_n_without_results_runs_until_cancelled",
                   huge_n_without_results_runs_until_cancelled))
    return -1;
  return 0;
}
