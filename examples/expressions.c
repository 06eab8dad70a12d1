/* SPDX-License-Identifier: BSD-3-Clause */
/* The README's three expressions: a physics formula over arrays, a masked
 * transform in place, and a reduction; each checked against a plain loop.
 * Exit status 0 when all agree. */
#include <math.h>
#include <ompbatch.h>
#include <stdio.h>
#include <stdlib.h>

#define N 100000

static int check(const char *what, double got, double want, double tol) {
  if (fabs(got - want) <= tol * fmax(1, fabs(want))) return 0;
  fprintf(stderr, "%s: got %.17g, want %.17g\n", what, got, want);
  return 1;
}

int main(void) {
  ompb_pool *pool;
  if (ompb_pool_create(&pool, NULL) != OMPB_OK) return 1;
  double *m = malloc(N * sizeof *m), *v = malloc(N * sizeof *v), *h = malloc(N * sizeof *h);
  double *energy = malloc(N * sizeof *energy);
  float *x = malloc(N * sizeof *x);
  int bad = !m || !v || !h || !energy || !x;
  for (size_t i = 0; !bad && i < N; i++) {
    m[i] = 1 + (double)(i % 7);
    v[i] = (double)(i % 100) / 10 - 5;
    h[i] = (double)(i % 13);
    x[i] = (float)(i % 201) / 25 - 4;
  }

  /* energy = kinetic + potential */
  const char *src = "0.5*m*v**2 + 9.81*m*h", *vars[] = {"m", "v", "h"};
  ompb_expr *e = NULL;
  ompb_expr_diag d;
  if (!bad && ompb_expr_compile(src, vars, 3, &e, &d) != OMPB_OK) {
    fprintf(stderr, "%s\n%*s^ %s\n", src, (int)d.pos, "", d.message);
    bad = 1;
  }
  const double *in[] = {m, v, h};
  if (!bad) bad = ompb_expr_eval_f64(pool, e, in, N, energy, NULL) != OMPB_OK;
  for (size_t i = 0; !bad && i < N; i++)
    bad = check("energy", energy[i], 0.5 * m[i] * v[i] * v[i] + 9.81 * m[i] * h[i], 1e-15);
  ompb_expr_free(e);
  e = NULL;

  /* a masked transform, in place */
  float *x0 = malloc(N * sizeof *x0);
  bad |= !x0;
  for (size_t i = 0; !bad && i < N; i++) x0[i] = x[i];
  if (!bad) bad = ompb_expr_compile("where(x > 0, log(x), -x)", (const char *[]){"x"}, 1, &e,
                                    NULL) != OMPB_OK;
  if (!bad) bad = ompb_expr_eval_f32(pool, e, (const float *[]){x}, N, x, NULL) != OMPB_OK;
  for (size_t i = 0; !bad && i < N; i++)
    bad = check("where", x[i], x0[i] > 0 ? log(x0[i]) : -x0[i], 1e-6);
  ompb_expr_free(e);
  e = NULL;

  /* a reduction */
  double total = 0, want = 0;
  if (!bad) bad = ompb_expr_compile("sum(sqrt(x*x + y*y))", (const char *[]){"x", "y"}, 2, &e,
                                    NULL) != OMPB_OK;
  if (!bad) bad = ompb_expr_eval_f64(pool, e, (const double *[]){v, h}, N, &total, NULL) != OMPB_OK;
  for (size_t i = 0; !bad && i < N; i++) want += sqrt(v[i] * v[i] + h[i] * h[i]);
  if (!bad) bad = check("sum", total, want, 1e-12);
  if (!bad) printf("energy[1] = %g, where -> x[1] = %g, sum = %.6f\n", energy[1], x[1], total);
  ompb_expr_free(e);
  free(m);
  free(v);
  free(h);
  free(energy);
  free(x);
  free(x0);
  ompb_pool_destroy(pool);
  return bad;
}
