/* SPDX-License-Identifier: BSD-3-Clause */
/* An outside program, built against an installed ompbatch with nothing but
 * `pkg-config --cflags --libs ompbatch`: a batch, a map and a SIMD kernel. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <ompbatch.h>

static int square(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  double x = *(const double *)arg;
  out->f64 = x * x;
  return 0;
}

int main(void) {
  if (strcmp(ompb_version(), OMPB_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s, library %s\n", OMPB_VERSION_STRING, ompb_version());
    return 1;
  }
  ompb_pool *pool;
  if (ompb_pool_create(&pool, &(ompb_pool_opts){.workers = 2}) != OMPB_OK)
    return 1;
  double xs[4] = {1.5, 2.25, -3.125, 4.0};
  ompb_task tasks[4];
  for (int i = 0; i < 4; i++)
    tasks[i] = (ompb_task){.fn = square, .arg = &xs[i]};
  ompb_result *r;
  int rc = ompb_exec_batch(pool, tasks, 4, NULL, &r);
  if (rc != OMPB_OK || !r->all_succeeded || r->results[2].value.f64 != 9.765625)
    return 1;
  ompb_result_free(r);

  float in[1000], out[1000];
  for (int i = 0; i < 1000; i++)
    in[i] = (float)i * 0.01f;
  ompb_batch *b;
  rc = ompb_pool_map_f32(pool, in, out, 1000, ompb_k_sin_f32, NULL, NULL, &b);
  if (rc != OMPB_OK || ompb_batch_wait(b, &r) != OMPB_OK)
    return 1;
  ompb_result_free(r);
  ompb_batch_free(b);
  ompb_pool_destroy(pool);
  if (fabsf(out[500] - sinf(5.0f)) > 1e-6f)
    return 1;
  printf("outside program: ompbatch %s, isa %s, openmp %s, ok\n", ompb_version(), ompb_simd_isa(),
         ompb_openmp_runtime());
  return 0;
}
