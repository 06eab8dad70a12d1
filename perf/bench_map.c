/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_map: ompb_map of a trivial function over 10M doubles beside a raw
 * `parallel for schedule(static)` loop calling the same function, in the same
 * run; medians over interleaved rounds, and each ratio the median of the
 * ratios within a round (the shared machines drift between rounds). Each
 * run starts after QUIET_MS idle: libgomp's idle threads spin for a while
 * after a parallel region, and on 2 cores the other side's spinning team
 * (the raw loop's, or the pool's) would otherwise share the cores with the
 * run being timed. BENCH_MAP_WORKERS sets the pool's workers.
 *
 *   make bench      (or: build/perf/bench_map [rounds])
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ompbatch.h"

enum { N = 10000000 };

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

enum { QUIET_MS = 20 };
static void quiet(void) {
  struct timespec ts = {0, QUIET_MS * 1000000L};
  nanosleep(&ts, NULL);
}

/* The per-item function both sides call through a pointer. */
__attribute__((noinline)) static int affine(const void *item, void *out, size_t i, void *user) {
  (void)i;
  (void)user;
  *(double *)out = 2.385 * *(const double *)item + 1.0;
  return 0;
}
static ompb_map_fn *volatile fnp = affine;

static double raw_static(const double *in, double *out) {
  double t0 = now_ms();
  ompb_map_fn *f = fnp;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < N; i++) f(&in[i], &out[i], i, NULL);
  return now_ms() - t0;
}

static double ours(ompb_pool *pool, const double *in, double *out, bool discard) {
  ompb_map_opts o = {.batch = {.discard_results = discard}};
  double t0 = now_ms();
  ompb_result *r;
  if (ompb_map(pool, in, N, sizeof *in, out, sizeof *out, fnp, &o, &r) != OMPB_OK) exit(1);
  double t = now_ms() - t0;
  ompb_result_free(r);
  return t;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 25;
  if (rounds < 1) rounds = 25;
  double *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
  for (size_t i = 0; i < N; i++) in[i] = (double)i * 1e-3;
  ompb_pool *pool;
  const char *w = getenv("BENCH_MAP_WORKERS");
  if (ompb_pool_create(&pool, &(ompb_pool_opts){.workers = w ? (unsigned)atoi(w) : 0}) != OMPB_OK)
    return 1;
  double *a = calloc((size_t)rounds, sizeof *a), *b = calloc((size_t)rounds, sizeof *b),
         *c = calloc((size_t)rounds, sizeof *c);
  raw_static(in, out);
  ours(pool, in, out, true);
  for (int r = 0; r < rounds; r++) {
    quiet();
    a[r] = raw_static(in, out);
    quiet();
    b[r] = ours(pool, in, out, true);
    quiet();
    c[r] = ours(pool, in, out, false);
  }
  double *rd = calloc((size_t)rounds, sizeof *rd), *rk = calloc((size_t)rounds, sizeof *rk);
  if (!rd || !rk) return 1;
  for (int r = 0; r < rounds; r++) {
    rd[r] = b[r] / a[r];
    rk[r] = c[r] / a[r];
  }
  double base = median(a, rounds), d = median(b, rounds), k = median(c, rounds);
  double dr = median(rd, rounds), kr = median(rk, rounds);
  free(rd);
  free(rk);
  printf("bench_map: 10M doubles, out = 2.385 x + 1 through a function pointer, %u workers, %d rounds\n",
         ompb_pool_workers(pool), rounds);
  printf("| %-44s | %9s | %15s |\n", "measure", "ms", "ratio to raw");
  printf("| %-44s | %9.2f | %15.2f |\n", "raw parallel for schedule(static)", base, 1.0);
  printf("| %-44s | %9.2f | %15.2f |\n", "ompb_map, discard_results (goal <= 1.5x)", d, dr);
  printf("| %-44s | %9.2f | %15.2f |\n", "ompb_map, per-item results (40 B/item)", k, kr);
  ompb_pool_destroy(pool);
  free(a);
  free(b);
  free(c);
  free(in);
  free(out);
  return 0;
}
