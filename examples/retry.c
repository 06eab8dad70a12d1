/* SPDX-License-Identifier: BSD-3-Clause */
/* Usage pattern 3, retrying failed tasks: run the batch, then run again
 * only the tasks that failed, up to 3 attempts, keeping each task's last
 * outcome by its original index. The spec's processWithRetry(), in C. */
#include <stdint.h>
#include <stdio.h>

#include "ompbatch.h"

#define N 1000
#define MAX_ATTEMPTS 3

/* A flaky job: item k fails its first k % 3 attempts (think: a busy
 * server), and item 13 always fails (bad input). */
typedef struct {
  int id;
  int attempts;
} job;

static int flaky(ompb_ctx *ctx, void *arg, ompb_value *out) {
  job *j = arg; /* only this task touches *j while it runs */
  int attempt = j->attempts++;
  if (j->id == 13)
    return ompb_ctx_fail(ctx, 7, "job %d: bad input", j->id);
  if (attempt < j->id % 3)
    return ompb_ctx_fail(ctx, 11, "job %d: busy, attempt %d", j->id, attempt + 1);
  out->i64 = (int64_t)j->id * j->id;
  return 0;
}

int main(void) {
  static job jobs[N];
  static int status[N];     /* each job's last outcome */
  static int64_t value[N];
  static size_t pending[N]; /* original indices still to run */
  static ompb_task tasks[N];
  ompb_pool *pool;
  if (ompb_pool_create(&pool, NULL) != OMPB_OK)
    return 1;
  size_t npending = N;
  for (size_t i = 0; i < N; i++) {
    jobs[i] = (job){(int)i, 0};
    pending[i] = i;
  }

  for (int attempt = 1; attempt <= MAX_ATTEMPTS && npending > 0; attempt++) {
    for (size_t t = 0; t < npending; t++)
      tasks[t] = (ompb_task){.fn = flaky, .arg = &jobs[pending[t]]};
    ompb_result *r;
    if (ompb_exec_batch(pool, tasks, npending, NULL, &r) != OMPB_OK)
      return 1;
    size_t still = 0;
    for (size_t t = 0; t < r->count; t++) {
      size_t i = pending[r->results[t].index]; /* batch index -> job index */
      status[i] = r->results[t].status;
      if (status[i] == 0)
        value[i] = r->results[t].value.i64;
      else
        pending[still++] = i;
    }
    printf("attempt %d: %zu ran, %zu succeeded, %zu failed\n", attempt, r->count,
           r->success_count, r->failure_count);
    ompb_result_free(r);
    npending = still;
  }

  size_t ok = 0;
  for (size_t i = 0; i < N; i++)
    ok += status[i] == 0 && value[i] == (int64_t)(i * i);
  printf("after retries: %zu of %d succeeded; still failing:", ok, N);
  for (size_t t = 0; t < npending; t++)
    printf(" job %zu (code %d, %d attempts)", pending[t], status[pending[t]],
           jobs[pending[t]].attempts);
  printf("\n");
  ompb_pool_destroy(pool);
  /* Everything but job 13 recovers within 3 attempts. */
  return ok == N - 1 && npending == 1 && pending[0] == 13 ? 0 : 1;
}
