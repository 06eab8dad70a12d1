/* SPDX-License-Identifier: BSD-3-Clause */
/* A deliberate data race, to prove the ThreadSanitizer setup still sees
 * real ones: tasks on different workers of one batch add to a plain
 * counter with no synchronisation. `make sanitize` runs it under TSan and
 * fails unless TSan reports a data race in racy_task. Not part of any
 * other check. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ompbatch.h"

static long counter; /* the race: written by every task, unsynchronised */
static atomic_int started;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The first two tasks wait (at most 10 s) until both run, so that two
 * threads do touch the counter: one thread could otherwise drain a batch
 * this small before the other has started. The wait orders only what came
 * before it; the increments after it still race. */
static int racy_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)arg;
  if (atomic_fetch_add(&started, 1) < 2) {
    double until = now_ms() + 10000.0;
    while (atomic_load(&started) < 2 && now_ms() < until) {
    }
  }
  for (int i = 0; i < 1000; i++) counter++;
  out->i64 = counter;
  return 0;
}

int main(void) {
  enum { N = 64 };
  ompb_pool *pool;
  ompb_pool_opts po = {.workers = 2};
  if (ompb_pool_create(&pool, &po) != OMPB_OK) return 2;
  ompb_task t[N];
  for (int i = 0; i < N; i++) t[i] = (ompb_task){.fn = racy_task};
  ompb_batch_opts o = {.concurrency = 2};
  ompb_result *r;
  int rc = ompb_exec_batch(pool, t, N, &o, &r);
  ompb_result_free(r);
  ompb_pool_destroy(pool);
  printf("racy: counter %ld (rc %d)\n", counter, rc);
  return 0;
}
