/* SPDX-License-Identifier: BSD-3-Clause */
/* Calling ompbatch from inside your own `#pragma omp parallel`: the batch
 * runs in your team (the library's own taskgroup), so it neither collapses
 * to one thread nor oversubscribes the machine. */
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ompbatch.h"

#define N 20000

static atomic_int seen[256]; /* which threads of the user's team ran items */

static int work(const void *item, void *out, size_t i, void *user) {
  (void)user;
  double x = *(const double *)item, s = 0;
  for (int j = 1; j <= 200; j++) /* ~1 us of work per item */
    s += sin(x * j) / j;
  *(double *)out = s;
  int t = omp_get_thread_num();
  if (t >= 0 && t < 256)
    atomic_store_explicit(&seen[t], 1, memory_order_relaxed);
  (void)i;
  return 0;
}

int main(void) {
  double *xs = malloc(N * sizeof *xs), *ys = malloc(N * sizeof *ys);
  if (!xs || !ys)
    return 1;
  for (size_t i = 0; i < N; i++)
    xs[i] = (double)i * 1e-3;
  ompb_pool *pool;
  if (ompb_pool_create(&pool, NULL) != OMPB_OK)
    return 1;

  int rc = -1, team = 0;
  double check = 0;
#pragma omp parallel
  {
    /* ... your own parallel code ... */
#pragma omp single
    {
      team = omp_get_num_threads();
      ompb_result *r;
      /* One thread calls the map; the others of the team, waiting at the
       * end of `single`, pick up its tasks. */
      rc = ompb_map(pool, xs, N, sizeof *xs, ys, sizeof *ys, work, NULL, &r);
      if (rc == OMPB_OK && !r->all_succeeded)
        rc = -1;
      ompb_result_free(r);
    }
    /* Back in your region: every thread sees the outputs after `single`. */
#pragma omp for reduction(+ : check)
    for (int i = 0; i < N; i++)
      check += ys[i];
  }

  int used = 0;
  for (int t = 0; t < 256; t++)
    used += atomic_load(&seen[t]);
  printf("map from inside a parallel region of %d threads: %s, items ran on %d "
         "of them; checksum %.6f\n",
         team, rc == OMPB_OK ? "ok" : ompb_strerror(rc), used, check);
  double want = 0;
  for (int j = 1; j <= 200; j++)
    want += sin(xs[N - 1] * j) / j;
  ompb_pool_destroy(pool);
  int ok = rc == OMPB_OK && fabs(ys[N - 1] - want) < 1e-12;
  free(xs), free(ys);
  return ok ? 0 : 1;
}
