/* SPDX-License-Identifier: BSD-3-Clause */
/* The ompbatch demo: a 100,000-task batch on a pool, with a live progress
 * line, then the result summary and timings. Run it with `make demo`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ompbatch.h"

#define TASKS 100000

/* Integrate sin(x) * exp(-x / 8) over [0, 1 + k % 13] by the midpoint rule;
 * one task in every 25,000 rejects its input to show failure reporting. */
static int integrate(ompb_ctx *ctx, void *arg, ompb_value *out) {
  size_t k = (size_t)(uintptr_t)arg;
  if (k % 25000 == 24999)
    return ompb_ctx_fail(ctx, 22, "input %zu rejected: demo failure", k);
  double hi = 1.0 + (double)(k % 13), h = hi / 1000.0, sum = 0.0;
  for (int j = 0; j < 1000; j++) {
    double x = (j + 0.5) * h;
    sum += sin(x) * exp(-x / 8.0);
  }
  out->f64 = sum * h;
  return 0;
}

static void on_progress(const ompb_progress *p, void *user) {
  (void)user;
  fprintf(stderr, "\r  %6.2f%%  %zu/%zu done, %zu failed, %.0f tasks/s, ETA %s%.0f ms   ",
          p->percentage, p->completed, p->total, p->failures, p->throughput,
          p->estimated_remaining_ms < 0 ? "~" : "",
          p->estimated_remaining_ms < 0 ? 0.0 : p->estimated_remaining_ms);
  if (p->completed + 0 == p->total || p->percentage >= 100.0) fputc('\n', stderr);
}

int main(void) {
  ompb_pool *pool;
  int rc = ompb_pool_create(&pool, NULL);
  if (rc != OMPB_OK) {
    fprintf(stderr, "pool: %s\n", ompb_strerror(rc));
    return 1;
  }
  ompb_pool_register(pool, "integrate", integrate);

  ompb_task *tasks = calloc(TASKS, sizeof *tasks);
  if (!tasks) return 1;
  for (size_t k = 0; k < TASKS; k++)
    tasks[k] = (ompb_task){.method = "integrate", .arg = (void *)(uintptr_t)k};

  printf("ompbatch demo: %d tasks on %u workers (SIMD ISA: %s)\n", TASKS,
         ompb_pool_workers(pool), ompb_simd_isa());
  fflush(stdout);
  ompb_batch_opts opts = {.on_progress = on_progress, .progress_throttle_ms = 100};
  ompb_result *r;
  rc = ompb_exec_batch(pool, tasks, TASKS, &opts, &r);
  free(tasks);
  if (!r) {
    fprintf(stderr, "batch: %s\n", ompb_strerror(rc));
    ompb_pool_destroy(pool);
    return 1;
  }

  double sum = 0, busy = 0;
  for (size_t i = 0; i < r->count; i++) {
    busy += r->results[i].duration_ms;
    if (r->results[i].status == 0) sum += r->results[i].value.f64;
  }
  const ompb_error *errs[8];
  size_t nerr = ompb_result_failures(r, errs, 8);
  printf("result: %zu succeeded, %zu failed, %zu cancelled; all_succeeded=%s\n",
         r->success_count, r->failure_count, r->cancelled_count,
         r->all_succeeded ? "true" : "false");
  for (size_t i = 0; i < nerr && i < 8; i++)
    printf("  task %zu failed (%d): %s\n", errs[i]->index, errs[i]->code, errs[i]->message);
  printf("checksum of the integrals: %.6f\n", sum);
  printf("wall %.1f ms; task time %.1f ms summed (%.2f us mean); speed-up %.2fx on %u workers\n",
         r->duration_ms, busy, busy * 1e3 / (double)r->count, busy / r->duration_ms,
         ompb_pool_workers(pool));
  int failures = (int)r->failure_count;
  ompb_result_free(r);
  ompb_pool_destroy(pool);
  return failures == TASKS / 25000 ? 0 : 1;
}
