/* SPDX-License-Identifier: BSD-3-Clause */
/* An outside program built by CMake through ompbatch::ompbatch (shared) or
 * ompbatch::ompbatch_static: a batch run from inside the program's own
 * OpenMP region (the targets give it the library's OpenMP runtime), and a
 * SIMD kernel, each checked against values computed here. */
#include <stdio.h>
#include <string.h>

#include <ompbatch.h>

#ifndef _OPENMP
#error "ompbatch's CMake targets bring OpenMP::OpenMP_C: _OPENMP should be defined"
#endif

static int cube(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  double i = (double)ompb_ctx_index(ctx);
  out->f64 = i * i * i;
  return 0;
}

enum { TASKS = 1000, N = 4099 };

int main(void) {
  if (strcmp(ompb_version(), OMPB_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s, library %s\n", OMPB_VERSION_STRING, ompb_version());
    return 1;
  }
  ompb_pool *pool;
  if (ompb_pool_create(&pool, NULL) != OMPB_OK) return 1;
  static ompb_task tasks[TASKS];
  for (int i = 0; i < TASKS; i++) tasks[i] = (ompb_task){.fn = cube};

  /* The batch from inside the program's own parallel region (the
   * caller's-team path), then checked outside it. */
  int rc = -1;
  double sum = 0;
  size_t ok = 0;
#pragma omp parallel
#pragma omp single
  {
    ompb_result *r;
    rc = ompb_exec_batch(pool, tasks, TASKS, NULL, &r);
    if (rc == OMPB_OK) {
      ok = r->success_count;
      for (size_t i = 0; i < r->count; i++) sum += r->results[i].value.f64;
      ompb_result_free(r);
    }
  }
  /* sum of i^3 for i < n is (n(n-1)/2)^2, exact in a double here */
  double want = (double)TASKS * (TASKS - 1) / 2;
  if (rc != OMPB_OK || ok != TASKS || sum != want * want) {
    fprintf(stderr, "batch: rc %d, %zu ok, sum %.17g (want %.17g)\n", rc, ok, sum, want * want);
    return 1;
  }

  /* sqrt of perfect squares is exact (a correctly rounded kernel) */
  static double in[N], out[N];
  for (int i = 0; i < N; i++) in[i] = (double)i * (double)i;
  ompb_batch *b;
  ompb_result *r;
  rc = ompb_pool_map_f64(pool, in, out, N, ompb_k_sqrt_f64, NULL, NULL, &b);
  if (rc != OMPB_OK || ompb_batch_wait(b, &r) != OMPB_OK) return 1;
  ompb_result_free(r);
  ompb_batch_free(b);
  for (int i = 0; i < N; i++)
    if (out[i] != (double)i) {
      fprintf(stderr, "sqrt(%g) = %.17g\n", in[i], out[i]);
      return 1;
    }
  ompb_pool_destroy(pool);
  printf("cmake consumer: ompbatch %s, isa %s, openmp %s, ok\n", ompb_version(), ompb_simd_isa(),
         ompb_openmp_runtime());
  return 0;
}
