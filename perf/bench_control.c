/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_control: the spec's "Cancellation" row and pause latency, each beside
 * a raw OpenMP baseline measured in the same run, with OMP_CANCELLATION unset
 * and true (the program re-runs itself with the variable set, since libgomp
 * reads it only at start-up). Medians and p90 over repeated runs.
 *
 *   make bench      (or: build/perf/bench_control [rounds])
 */
#define _GNU_SOURCE
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ompbatch.h"

enum { N = 10000 };
#define TASK_US 100.0
#define CANCEL_AFTER_MS 10.0

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void spin_us(double us) {
  double end = now_us() + us;
  while (now_us() < end) {
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double quantile(double *v, int n, double q) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[(int)(q * (n - 1) + 0.5)];
}

static _Atomic double last_start; /* latest task start, µs */
static _Atomic double last_end;   /* latest task end, µs */

static void note_end(void) {
  double t = now_us(), seen = atomic_load(&last_end);
  while (t > seen && !atomic_compare_exchange_weak(&last_end, &seen, t)) {
  }
}

static int work_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)arg;
  (void)out;
  atomic_store(&last_start, now_us());
  spin_us(TASK_US);
  note_end();
  return 0;
}

/* The tail of the last cancel measured: µs from the last task's end to
 * wait (or the raw region) returning. */
static double tail_us;

/* ompbatch: cancel CANCEL_AFTER_MS after the start; µs from the request to
 * wait returning. */
static double cancel_ompb(ompb_pool *pool, const ompb_task *tasks) {
  ompb_batch *b;
  double t0 = now_us();
  ompb_batch_start(pool, tasks, N, NULL, &b);
  while (now_us() - t0 < CANCEL_AFTER_MS * 1e3) {
  }
  double tc = now_us();
  ompb_batch_cancel(b);
  ompb_result *r;
  ompb_batch_wait(b, &r);
  double end = now_us(), took = end - tc;
  tail_us = end - atomic_load(&last_end);
  if (!r->cancelled) took = -1;
  ompb_result_free(r);
  ompb_batch_free(b);
  return took;
}

/* Raw OpenMP: one producer creates a task per item; the stop flag is checked
 * by the producer and at each task's start; a second thread raises it. */
static atomic_int raw_stop;
static double raw_cancel_at;
static void *raw_canceller(void *arg) {
  double t0 = *(double *)arg;
  while (now_us() - t0 < CANCEL_AFTER_MS * 1e3) {
  }
  raw_cancel_at = now_us();
  atomic_store(&raw_stop, 1);
  return NULL;
}

static double cancel_raw(void) {
  atomic_store(&raw_stop, 0);
  pthread_t th;
  double t0 = now_us();
  pthread_create(&th, NULL, raw_canceller, &t0);
#pragma omp parallel
#pragma omp single
  {
#pragma omp taskgroup
    for (int i = 0; i < N && !atomic_load_explicit(&raw_stop, memory_order_relaxed); i++) {
#pragma omp task
      {
        if (!atomic_load_explicit(&raw_stop, memory_order_relaxed)) {
          spin_us(TASK_US);
          note_end();
        }
      }
    }
  }
  double end = now_us();
  tail_us = end - atomic_load(&last_end);
  pthread_join(th, NULL);
  return end - raw_cancel_at;
}

/* Pause latency: µs from ompb_batch_pause returning to the last task start
 * seen afterwards (0 when none started). */
static double pause_ompb(ompb_pool *pool, const ompb_task *tasks) {
  ompb_batch *b;
  ompb_batch_start(pool, tasks, N, NULL, &b);
  double t0 = now_us();
  while (now_us() - t0 < CANCEL_AFTER_MS * 1e3) {
  }
  ompb_batch_pause(b);
  double tp = now_us();
  spin_us(5000);
  double late = atomic_load(&last_start) - tp;
  ompb_batch_cancel(b);
  ompb_batch_resume(b);
  ompb_result *r;
  ompb_batch_wait(b, &r);
  ompb_result_free(r);
  ompb_batch_free(b);
  return late > 0 ? late : 0;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 15;
  if (rounds < 3) rounds = 3;
  ompb_pool *pool;
  if (ompb_pool_create(&pool, NULL) != OMPB_OK) return 1;
  static ompb_task tasks[N];
  for (int i = 0; i < N; i++) tasks[i] = (ompb_task){.fn = work_task};
  double *ours = calloc((size_t)rounds, sizeof(double)), *raw = calloc((size_t)rounds, sizeof(double));
  double *paus = calloc((size_t)rounds, sizeof(double));
  double *tail = calloc((size_t)rounds, sizeof(double)), *raw_tail = calloc((size_t)rounds, sizeof(double));
  cancel_ompb(pool, tasks); /* warm up */
  cancel_raw();
  for (int r = 0; r < rounds; r++) {
    ours[r] = cancel_ompb(pool, tasks);
    tail[r] = tail_us;
    raw[r] = cancel_raw();
    raw_tail[r] = tail_us;
    paus[r] = pause_ompb(pool, tasks);
  }
  const char *mode = omp_get_cancellation() ? "OMP_CANCELLATION=true" : "OMP_CANCELLATION unset";
  printf("bench_control (%s): %d x %.0f us tasks, %u workers, request %.0f ms in, %d rounds\n", mode, N,
         TASK_US, ompb_pool_workers(pool), CANCEL_AFTER_MS, rounds);
  printf("| %-40s | %12s | %12s | %-32s | %12s | %6s | %-14s |\n", "measure", "median (us)", "p90 (us)",
         "raw OpenMP baseline", "median (us)", "ratio", "goal");
  double m = quantile(ours, rounds, 0.5), p90 = quantile(ours, rounds, 0.9), rm = quantile(raw, rounds, 0.5);
  printf("| %-40s | %12.1f | %12.1f | %-32s | %12.1f | %6.2f | %-14s |\n", "cancel: request -> wait returned", m,
         p90, "task per item, flag at task start", rm, m / rm, "<= 100 us");
  double tm = quantile(tail, rounds, 0.5), tp90 = quantile(tail, rounds, 0.9);
  double rtm = quantile(raw_tail, rounds, 0.5);
  printf("| %-40s | %12.1f | %12.1f | %-32s | %12.1f | %6.2f | %-14s |\n", "cancel: last task end -> wait returned",
         tm, tp90, "last task end -> region end", rtm, tm / rtm, "-");
  printf("| %-40s | %12.1f | %12.1f | %-32s | %12s | %6s | %-14s |\n", "pause: request -> last task start",
         quantile(paus, rounds, 0.5), quantile(paus, rounds, 0.9), "-", "-", "-", "-");
  ompb_pool_destroy(pool);
  free(ours);
  free(raw);
  free(paus);
  free(tail);
  free(raw_tail);
  fflush(stdout);
  /* Once more with cancellation enabled in the runtime. */
  if (!getenv("OMP_CANCELLATION")) {
    setenv("OMP_CANCELLATION", "true", 1);
    execv("/proc/self/exe", argv);
    perror("bench_control: re-exec");
    return 1;
  }
  return 0;
}
