/* A deliberate data race, to prove the ThreadSanitizer setup still sees
 * real ones: tasks on different workers of one batch add to a plain
 * counter with no synchronisation. `make sanitize` runs it under TSan and
 * fails unless TSan reports a data race in racy_task. Not part of any
 * other check. */
#include <stdint.h>
#include <stdio.h>

#include "ompbatch.h"

static long counter; /* the race: written by every task, unsynchronised */

static int racy_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)arg;
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
