/* SPDX-License-Identifier: BSD-3-Clause */
/* SIMD maps: a built-in kernel over all workers of a pool (with progress),
 * a kernel looked up by name with its error bound, a user kernel from an
 * expression, and a kernel on the calling thread. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ompbatch.h"

#define N (1 << 21)

/* A user kernel: out = P[0] * x * x + 1, vectorised by `omp simd`. */
static OMPB_DEFINE_KERNEL_F32(quad_plus_one, x, P[0] * x * x + 1.0f)

/* On the pool's reporter thread. Kernel maps count chunks, not elements:
 * scale by N / p->total for elements (the ompbatch CLI's bar does). */
static void on_progress(const ompb_progress *p, void *user) {
  ompb_progress *last = user;
  *last = *p; /* read after wait returns: the final report comes before */
}

int main(void) {
  float *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
  if (!in || !out)
    return 1;
  for (size_t i = 0; i < N; i++)
    in[i] = (float)((double)i / N * 20.0 - 10.0);
  printf("SIMD ISA: %s (vector: %s)\n", ompb_simd_isa(),
         ompb_simd_available() ? "yes" : "no");

  ompb_pool *pool;
  if (ompb_pool_create(&pool, NULL) != OMPB_OK)
    return 1;

  /* 1. sin over the pool, in automatic cache-sized chunks. */
  ompb_progress last = {0};
  ompb_map_opts opts = {.batch = {.on_progress = on_progress, .user = &last}};
  ompb_batch *b;
  ompb_result *r;
  if (ompb_pool_map_f32(pool, in, out, N, ompb_k_sin_f32, NULL, &opts, &b) != OMPB_OK)
    return 1;
  int rc = ompb_batch_wait(b, &r);
  ompb_batch_free(b);
  if (rc != OMPB_OK || !r->all_succeeded)
    return 1;
  printf("sin: %d floats in %.2f ms on %u workers; final report %zu/%zu chunks, "
         "%.0f%%\n", N, r->duration_ms, ompb_pool_workers(pool), last.completed,
         last.total, last.percentage);
  if (last.completed != last.total || last.total != r->count)
    return 1;
  ompb_result_free(r);
  double worst = 0;
  for (size_t i = 0; i < N; i++) {
    double d = fabs((double)out[i] - sin((double)in[i]));
    worst = d > worst ? d : worst;
  }

  /* 2. A kernel by name, with a parameter and its documented bound. */
  const ompb_kernel_info *k = ompb_kernel_find("pow", 1);
  float p = 1.5f;
  if (!k || ompb_pool_map_f32(pool, out, out, N, k->f32, &p, NULL, &b) != OMPB_OK)
    return 1;
  ompb_batch_wait(b, &r);
  ompb_batch_free(b);
  printf("%s (%s): in place, %g ULP at most in f32\n", k->name, k->what, k->ulp_f32);
  ompb_result_free(r);

  /* 3. A user kernel on the calling thread (no pool). */
  float a = 0.5f;
  if (ompb_simd_map_f32(in, out, N, quad_plus_one, &a) != OMPB_OK)
    return 1;
  printf("user kernel: f(3) = %.3f (0.5 * 9 + 1)\n", out[(size_t)(13.0 / 20.0 * N)]);

  ompb_pool_destroy(pool);
  free(in), free(out);
  printf("max |sin error| = %.3g\n", worst);
  return worst < 1e-6 ? 0 : 1;
}
