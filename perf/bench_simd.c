/* SPDX-License-Identifier: BSD-3-Clause */
/* perf/bench_simd: SIMD map kernels against memcpy, a scalar libm loop and
 * gcc's libmvec loop (-O3 -ffast-math), on 16M float32 and 8M float64
 * elements, with 1 and 2 threads, in one run.
 *
 * Every row runs `#pragma omp parallel`, each thread calling the row's
 * function once on its contiguous share of the array (memcpy included), as
 * ompb_simd_map_* would be called; the ompb_pool_map row goes through the
 * batch engine instead. Shares of 32-64 MiB are above the kernels'
 * streaming size (OMPB_STREAM_BYTES, 16 MiB by default): the ompb rows
 * write with non-temporal stores, memcpy does what glibc does at that size,
 * libmvec and libm loops use ordinary stores.
 *
 * The machines this runs on are shared and drift by 1.5x within a minute, so
 * rows are interleaved: each round times every row once, in the same order,
 * and a row's ratio is the median over rounds of (memcpy time / row time)
 * within the round (higher is better, 1.0 = memcpy speed). The time column
 * is the row's median. Scalar libm rows take part in the first 3 rounds
 * only (they are 20x slower).
 *
 * Inputs: sin on [-1e4, 1e4], exp on [-80, 80] (f32) / [-700, 700] (f64),
 * log on [1e-3, 1e4]. Usage: bench_simd [rounds] (default 7). One untimed
 * warm-up round comes first. On small VMs libgomp's wake-up stalls
 * (docs/design.md, "The libgomp idle stall") add noise: OMP_PROC_BIND=true
 * steadies the figures. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ompbatch.h"
#include "simd/libmvec.h"

#define N32 (16u << 20)
#define N64 (8u << 20)
#define MAX_REPEATS 31

static int repeats = 7;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* A row's work on one block, type-erased: f32 rows and f64 rows. */
typedef void block_fn(const void *in, void *out, size_t n, const void *ctx);

typedef struct {
  block_fn *fn;
  const void *ctx; /* the kernel, or a loop function */
} row;

/* Wrappers: each ctx is the function to call. */
static void do_memcpy32(const void *in, void *out, size_t n, const void *c) {
  (void)c;
  memcpy(out, in, n * sizeof(float));
}
static void do_memcpy64(const void *in, void *out, size_t n, const void *c) {
  (void)c;
  memcpy(out, in, n * sizeof(double));
}
typedef struct {
  ompb_kernel_f32 *k;
  const void *params;
} k32;
typedef struct {
  ompb_kernel_f64 *k;
  const void *params;
} k64;
static void do_k32(const void *in, void *out, size_t n, const void *c) {
  const k32 *k = c;
  k->k(in, out, n, k->params);
}
static void do_k64(const void *in, void *out, size_t n, const void *c) {
  const k64 *k = c;
  k->k(in, out, n, k->params);
}
typedef struct {
  void (*f)(const float *, float *, size_t);
} loop32;
typedef struct {
  void (*f)(const double *, double *, size_t);
} loop64;
static void do_loop32(const void *in, void *out, size_t n, const void *c) {
  ((const loop32 *)c)->f(in, out, n);
}
static void do_loop64(const void *in, void *out, size_t n, const void *c) {
  ((const loop64 *)c)->f(in, out, n);
}

/* Scalar libm loops, compiled with this file's flags (-O2, no fast-math):
 * one libm call per element. */
#define LIBM_LOOP(name, T, fn)                                                 \
  static void name(const T *in, T *out, size_t n) {                            \
    for (size_t i = 0; i < n; i++)                                             \
      out[i] = fn(in[i]);                                                      \
  }
LIBM_LOOP(libm_sin_f32, float, sinf)
LIBM_LOOP(libm_exp_f32, float, expf)
LIBM_LOOP(libm_log_f32, float, logf)
LIBM_LOOP(libm_sin_f64, double, sin)
LIBM_LOOP(libm_exp_f64, double, exp)
LIBM_LOOP(libm_log_f64, double, log)

/* Milliseconds of one run of a row: each of `threads` threads calls the
 * row's function once on its contiguous share of the n elements. */
static double run_row(const row *r, const void *in, void *out, size_t n,
                      size_t elem, int threads) {
  const char *cin = in;
  char *cout = out;
  double t0 = now_ms();
#pragma omp parallel num_threads(threads)
  {
    const size_t id = (size_t)omp_get_thread_num(),
                 nt = (size_t)omp_get_num_threads();
    const size_t lo = n * id / nt, hi = n * (id + 1) / nt;
    r->fn(cin + lo * elem, cout + lo * elem, hi - lo, r->ctx);
  }
  return now_ms() - t0;
}

/* Milliseconds of one ompb_pool_map_f32/_f64 of `k` over all n elements. */
static double run_pool_map(ompb_pool *pool, bool f32, const void *k,
                           const void *in, void *out, size_t n) {
  ompb_batch *b = NULL;
  ompb_result *res = NULL;
  double t0 = now_ms();
  int rc = f32 ? ompb_pool_map_f32(pool, in, out, n, ((const k32 *)k)->k,
                                   ((const k32 *)k)->params, NULL, &b)
               : ompb_pool_map_f64(pool, in, out, n, ((const k64 *)k)->k,
                                   ((const k64 *)k)->params, NULL, &b);
  if (rc == OMPB_OK)
    rc = ompb_batch_wait(b, &res);
  double t = now_ms() - t0;
  if (rc != OMPB_OK)
    fprintf(stderr, "pool_map: %s\n", ompb_strerror(rc));
  ompb_result_free(res);
  ompb_batch_free(b);
  return t;
}

static void print_row(const char *type, int threads, const char *name,
                      double ms, size_t bytes, double ratio) {
  printf("%-4s %2d  %-22s %9.2f ms %7.1f GB/s %7.2fx\n", type, threads, name,
         ms, bytes / ms / 1e6, ratio);
  fflush(stdout);
}

/* A row of the table: what it runs, on which input, and its timings. */
#define MAX_ROWS 20
typedef struct {
  char name[40];
  row r;
  int input;     /* index into the inputs */
  bool pool_map; /* run through ompb_pool_map instead of blocks */
  int reps;      /* rounds it takes part in */
  double t[MAX_REPEATS];
} table_row;

/* One precision: fill inputs, then every row for 1 and 2 threads. */
static void run_type(bool f32) {
  const size_t n = f32 ? N32 : N64, elem = f32 ? sizeof(float) : sizeof(double);
  const char *type = f32 ? "f32" : "f64";
  void *in[3], *out = aligned_alloc(64, n * elem);
  for (int i = 0; i < 3; i++)
    in[i] = aligned_alloc(64, n * elem);
  if (out == NULL || !in[0] || !in[1] || !in[2]) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  /* inputs for sin, exp, log (deterministic); touching out faults it in */
  unsigned long long s = 88172645463325252ull;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    double u = (double)(s >> 11) * 0x1p-53;
    double v[3] = {-1e4 + 2e4 * u, f32 ? -80 + 160 * u : -700 + 1400 * u,
                   1e-3 + 1e4 * u};
    for (int j = 0; j < 3; j++) {
      if (f32)
        ((float *)in[j])[i] = (float)v[j];
      else
        ((double *)in[j])[i] = v[j];
    }
    if (f32)
      ((float *)out)[i] = 0.0f;
    else
      ((double *)out)[i] = 0.0;
  }
  static const float a32 = 2.385f;
  static const double a64 = 2.385;
  const k32 scale32 = {ompb_k_scale_f32, &a32};
  const k64 scale64 = {ompb_k_scale_f64, &a64};
  k32 ks32[] = {{ompb_k_sin_f32, NULL}, {ompb_k_sin_fast_f32, NULL},
                {ompb_k_exp_f32, NULL}, {ompb_k_exp_fast_f32, NULL},
                {ompb_k_log_f32, NULL}, {ompb_k_log_fast_f32, NULL}};
  k64 ks64[] = {{ompb_k_sin_f64, NULL}, {ompb_k_sin_fast_f64, NULL},
                {ompb_k_exp_f64, NULL}, {ompb_k_exp_fast_f64, NULL},
                {ompb_k_log_f64, NULL}, {ompb_k_log_fast_f64, NULL}};
  loop32 libm32[] = {{libm_sin_f32}, {libm_exp_f32}, {libm_log_f32}};
  loop64 libm64[] = {{libm_sin_f64}, {libm_exp_f64}, {libm_log_f64}};
  loop32 mvec32[] = {{mvec_sin_f32}, {mvec_exp_f32}, {mvec_log_f32}};
  loop64 mvec64[] = {{mvec_sin_f64}, {mvec_exp_f64}, {mvec_log_f64}};
  block_fn *dok = f32 ? do_k32 : do_k64;
  block_fn *dol = f32 ? do_loop32 : do_loop64;
  const char *fn_names[3] = {"sin", "exp", "log"};

  for (int threads = 1; threads <= 2; threads++) {
    ompb_pool *pool = NULL;
    if (ompb_pool_create(
            &pool, &(ompb_pool_opts){.workers = (unsigned)threads}) != OMPB_OK)
      pool = NULL;
    const size_t bytes = 2 * n * elem;
    table_row rows[MAX_ROWS];
    int nr = 0;
#define ADD_ROW(label, fn_, ctx_, input_, reps_, pm_)                          \
  do {                                                                         \
    table_row *tr = &rows[nr++];                                               \
    snprintf(tr->name, sizeof tr->name, "%s", label);                          \
    tr->r = (row){fn_, ctx_};                                                  \
    tr->input = input_;                                                        \
    tr->reps = reps_;                                                          \
    tr->pool_map = pm_;                                                        \
  } while (0)
    ADD_ROW("memcpy", f32 ? do_memcpy32 : do_memcpy64, NULL, 0, repeats, false);
    ADD_ROW("ompb scale", dok,
            f32 ? (const void *)&scale32 : (const void *)&scale64, 0, repeats,
            false);
    for (int f = 0; f < 3; f++) {
      char name[40];
      for (int v = 0; v < 2; v++) {
        snprintf(name, sizeof name, "ompb %s%s", fn_names[f], v ? "_fast" : "");
        ADD_ROW(name, dok,
                f32 ? (const void *)&ks32[2 * f + v]
                    : (const void *)&ks64[2 * f + v],
                f, repeats, false);
      }
      snprintf(name, sizeof name, "libm %s (scalar)", fn_names[f]);
      ADD_ROW(name, dol,
              f32 ? (const void *)&libm32[f] : (const void *)&libm64[f], f,
              repeats < 3 ? repeats : 3, false);
      snprintf(name, sizeof name, "libmvec %s", fn_names[f]);
      ADD_ROW(name, dol,
              f32 ? (const void *)&mvec32[f] : (const void *)&mvec64[f], f,
              repeats, false);
    }
    if (pool != NULL)
      ADD_ROW("ompb_pool_map sin", NULL,
              f32 ? (const void *)&ks32[0] : (const void *)&ks64[0], 0, repeats,
              true);
#undef ADD_ROW
    for (int rep = -1; rep < repeats; rep++) { /* round -1 warms up */
      for (int i = 0; i < nr; i++) {
        table_row *tr = &rows[i];
        if (rep >= tr->reps)
          continue;
        double t =
            tr->pool_map
                ? run_pool_map(pool, f32, tr->r.ctx, in[tr->input], out, n)
                : run_row(&tr->r, in[tr->input], out, n, elem, threads);
        if (rep >= 0)
          tr->t[rep] = t;
      }
    }
    for (int i = 0; i < nr; i++) {
      double ratio[MAX_REPEATS], t[MAX_REPEATS];
      for (int k = 0; k < rows[i].reps; k++) {
        ratio[k] = rows[0].t[k] / rows[i].t[k];
        t[k] = rows[i].t[k];
      }
      print_row(type, threads, rows[i].name, median(t, rows[i].reps), bytes,
                median(ratio, rows[i].reps));
    }
    if (pool != NULL)
      ompb_pool_destroy(pool);
  }
  for (int i = 0; i < 3; i++)
    free(in[i]);
  free(out);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    repeats = atoi(argv[1]);
    if (repeats < 1 || repeats > MAX_REPEATS)
      repeats = 7;
  }
  printf("bench_simd: isa %s, f32 n=%u, f64 n=%u, %d interleaved rounds "
         "(libm scalar: 3), medians\n",
         ompb_simd_isa(), N32, N64, repeats);
  printf("type thr  row                           time    traffic  x memcpy\n");
  run_type(true);
  run_type(false);
  return 0;
}
