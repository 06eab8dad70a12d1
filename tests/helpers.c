/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared fixtures for the test suites. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <time.h>

#include "helpers.h"

double th_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void th_sleep_ms(double ms) {
  if (ms <= 0) return;
  struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

bool th_wait_at_least(atomic_int *v, int k, double timeout_ms) {
  double end = th_now_ms() + timeout_ms;
  while (atomic_load(v) < k) {
    if (th_now_ms() >= end) return atomic_load(v) >= k;
    th_sleep_ms(0.05);
  }
  return true;
}

bool th_wait_equal(atomic_int *v, int k, double timeout_ms) {
  double end = th_now_ms() + timeout_ms;
  while (atomic_load(v) != k) {
    if (th_now_ms() >= end) return atomic_load(v) == k;
    th_sleep_ms(0.05);
  }
  return true;
}

int th_square_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  int64_t k = (int64_t)(intptr_t)arg;
  out->i64 = k * k;
  return 0;
}

int th_index_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  out->i64 = (int64_t)ompb_ctx_index(ctx);
  return 0;
}

int th_sleep_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  double end = th_now_ms() + (double)(intptr_t)arg;
  while (th_now_ms() < end) {
    if (ompb_ctx_should_stop(ctx)) return OMPB_ECANCELED;
    th_sleep_ms(0.2);
  }
  out->i64 = (int64_t)ompb_ctx_index(ctx);
  return 0;
}

int th_fail_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)out;
  return ompb_ctx_fail(ctx, (int)(intptr_t)arg, "task %zu failed on purpose",
                       ompb_ctx_index(ctx));
}

ompb_pool *th_pool(unsigned workers) {
  ompb_pool_opts o = {.workers = workers};
  ompb_pool *p = NULL;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, &o), OMPB_OK);
  return p;
}
