/* SPDX-License-Identifier: BSD-3-Clause */
/* perf/bench_simd: SIMD map kernels against the memory ceiling and against
 * their peers, on 16M float32 and 8M float64 elements, in one run.
 *
 * The ceiling is the stream copy: load, non-temporal store, fence, with the
 * active ISA's vectors (the kernel table's stream_f32/_f64). A map reads n
 * and writes n elements; a copy that stores without reading the output
 * lines first (no read-for-ownership) moves those bytes faster than memcpy
 * does, so it, not memcpy, is what a kernel can reach. Every row is given
 * as a fraction of it (x stream) and of memcpy (x memcpy).
 *
 * Peers, each compiled for the ISA being measured (perf/simd/peers.h):
 * gcc's libmvec loops (-O3 -ffast-math), SLEEF's u10 and u35 vector loops,
 * and scalar libm loops. OMPB_SIMD=avx2 measures the AVX2 kernels against
 * the AVX2 peers. Each ompb kernel is also given against the best peer of
 * its accuracy class (<= 1 ULP: SLEEF u10; _fast, <= 3.5 ULP: libmvec and
 * SLEEF u35): the median over rounds of (fastest such peer's time / the
 * kernel's time) in the same round.
 *
 * Every row runs `#pragma omp parallel`, each thread calling the row's
 * function once on its contiguous share of the array (a multiple of 64
 * bytes), as ompb_simd_map_* would be called; the ompb_pool_map rows go
 * through the batch engine instead. Shares of 32 MiB are above the
 * kernels' streaming size (OMPB_STREAM_BYTES, 16 MiB by default).
 *
 * In cache: each thread runs the row's function IN_CACHE_REPS times on its
 * own 16 KiB block of input into its own 16 KiB block of output (the
 * expression evaluator's situation: kernels on cache-resident blocks);
 * reported as elements per ns per thread (slowest thread).
 *
 * Before each row its input and out are flushed from the caches
 * (perf/cache_flush.h, outside the timing): every row starts from DRAM.
 *
 * The machines this runs on are shared and drift by 1.5x within a minute, so
 * rows are interleaved: each round times every row once, in the same order,
 * and a ratio is the median over rounds of the ratio within the round.
 * The time column is the row's median. Scalar libm rows take part in the
 * first 3 rounds only (they are 20x slower).
 *
 * Two OpenMP teams take turns here, the rows' and the pool's: with
 * libgomp's default wait policy the idle one spins on the same 2 cores for
 * milliseconds after its work (memcpy measured 2-3x slower right after the
 * pool rows). So the program runs itself again with OMP_WAIT_POLICY=passive
 * and OMP_PROC_BIND=true unless they are set (the wake-up of a passive
 * team costs ~34 us, docs/design.md "The libgomp idle stall", next to rows
 * of milliseconds).
 *
 * The overlap ceiling: a kernel's compute (its in-cache time per element,
 * all threads running, times its share) and the stream copy's time over
 * memory overlap only in part on these machines. Rows "synth K" are
 * kernels of known arithmetic (perf/simd/synth.c: K multiply-adds per
 * element between the load and the non-temporal store) at increasing K;
 * for every row with an in-cache figure the tail of its line gives
 *   rho     its compute / the stream copy's time (same round);
 *   hidden  (stream + compute - its time) / min(stream, compute): the part
 *           of the smaller one it hides, 1 for a perfect overlap, 0 for
 *           none;
 *   ceil    the x stream that the synth rows reach at its rho
 *           (interpolated between their medians), and x ceil: its own x
 *           stream against that, the fraction of what a kernel of its
 *           arithmetic reaches here (docs/design.md, "The overlap
 *           ceiling").
 *
 * Inputs: sin and cos on [-1e4, 1e4], exp on [-80, 80] (f32) / [-700, 700]
 * (f64), log on [1e-3, 1e4]. Usage: bench_simd [rounds [threads]] (default
 * 9 rounds, 2 threads). One untimed warm-up round comes first. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdbool.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache_flush.h"
#include "kernels.h"
#include "ompbatch.h"
#include "simd/peers.h"

#define N32 (16u << 20)
#define N64 (8u << 20)
#define MAX_REPEATS 31
#define MAX_THREADS 64
#define IN_CACHE_BYTES 16384
#define IN_CACHE_REPS 256

static int repeats = 9;
static int nthreads = 2;

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

/* The stream copy: the best table that has one (the active one unless it
 * is "scalar"). */
static const ompb__simd_table *stream_table;

static void do_stream32(const void *in, void *out, size_t n, const void *c) {
  (void)c;
  stream_table->stream_f32(in, out, n);
  stream_table->stream_fence();
}
static void do_stream64(const void *in, void *out, size_t n, const void *c) {
  (void)c;
  stream_table->stream_f64(in, out, n);
  stream_table->stream_fence();
}
static void do_memcpy32(const void *in, void *out, size_t n, const void *c) {
  (void)c;
  memcpy(out, in, n * sizeof(float));
}
static void do_memcpy64(const void *in, void *out, size_t n, const void *c) {
  (void)c;
  memcpy(out, in, n * sizeof(double));
}
typedef struct {
  ompb_kernel_f32 *k32;
  ompb_kernel_f64 *k64;
  const void *p32, *p64;
} kern;
static void do_k32(const void *in, void *out, size_t n, const void *c) {
  const kern *k = c;
  k->k32(in, out, n, k->p32);
}
static void do_k64(const void *in, void *out, size_t n, const void *c) {
  const kern *k = c;
  k->k64(in, out, n, k->p64);
}
static void do_loop32(const void *in, void *out, size_t n, const void *c) {
  (*(peer_f32 *const *)c)(in, out, n);
}
static void do_loop64(const void *in, void *out, size_t n, const void *c) {
  (*(peer_f64 *const *)c)(in, out, n);
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
static peer_f32 *const libm32[] = {libm_sin_f32, libm_exp_f32, libm_log_f32};
static peer_f64 *const libm64[] = {libm_sin_f64, libm_exp_f64, libm_log_f64};

/* A share of n elements for thread id of nt, in multiples of 16 elements
 * (64 bytes for f32), so that every share starts 64-byte aligned. */
static size_t share_lo(size_t n, size_t id, size_t nt) {
  return id == nt ? n : (n / 16 * id / nt) * 16;
}

/* Every row starts with its input and out out of the caches
 * (perf/cache_flush.h). */
static bool can_flush;
static void flush(const void *in, const void *out, size_t n, size_t elem) {
  if (!can_flush)
    return;
#pragma omp parallel num_threads(nthreads)
  {
    const size_t id = (size_t)omp_get_thread_num(),
                 nt = (size_t)omp_get_num_threads();
    const size_t lo = share_lo(n, id, nt), hi = share_lo(n, id + 1, nt);
    cache_flush((const char *)in + lo * elem, (hi - lo) * elem);
    cache_flush((const char *)out + lo * elem, (hi - lo) * elem);
  }
}

/* Milliseconds of one run of a row over the n elements. */
static double run_big(block_fn *fn, const void *ctx, const void *in, void *out,
                      size_t n, size_t elem) {
  const char *cin = in;
  char *cout = out;
  double t0 = now_ms();
#pragma omp parallel num_threads(nthreads)
  {
    const size_t id = (size_t)omp_get_thread_num(),
                 nt = (size_t)omp_get_num_threads();
    const size_t lo = share_lo(n, id, nt), hi = share_lo(n, id + 1, nt);
    fn(cin + lo * elem, cout + lo * elem, hi - lo, ctx);
  }
  return now_ms() - t0;
}

/* Per-thread 16 KiB blocks for the in-cache rows. */
static void *cache_in[MAX_THREADS], *cache_out[MAX_THREADS];

/* Nanoseconds per element per thread on cache-resident blocks: each thread
 * copies 16 KiB of its share of `in` into its block, then times
 * IN_CACHE_REPS calls; the slowest thread counts. */
static double run_in_cache(block_fn *fn, const void *ctx, const void *in,
                           size_t n, size_t elem) {
  const size_t m = IN_CACHE_BYTES / elem;
  double worst = 0;
#pragma omp parallel num_threads(nthreads) reduction(max : worst)
  {
    const size_t id = (size_t)omp_get_thread_num(),
                 nt = (size_t)omp_get_num_threads();
    memcpy(cache_in[id], (const char *)in + share_lo(n, id, nt) * elem,
           m * elem);
    fn(cache_in[id], cache_out[id], m, ctx); /* warm */
#pragma omp barrier
    const double t0 = now_ms();
    for (int r = 0; r < IN_CACHE_REPS; r++)
      fn(cache_in[id], cache_out[id], m, ctx);
    worst = now_ms() - t0;
  }
  return worst * 1e6 / ((double)m * IN_CACHE_REPS);
}

/* Milliseconds of one ompb_pool_map_f32/_f64 of `k` over all n elements. */
static double run_pool_map(ompb_pool *pool, bool f32, const kern *k,
                           const void *in, void *out, size_t n) {
  ompb_batch *b = NULL;
  ompb_result *res = NULL;
  double t0 = now_ms();
  int rc = f32 ? ompb_pool_map_f32(pool, in, out, n, k->k32, k->p32, NULL, &b)
               : ompb_pool_map_f64(pool, in, out, n, k->k64, k->p64, NULL, &b);
  if (rc == OMPB_OK)
    rc = ompb_batch_wait(b, &res);
  double t = now_ms() - t0;
  if (rc != OMPB_OK) {
    fprintf(stderr, "pool_map: %s\n", ompb_strerror(rc));
    exit(1);
  }
  ompb_result_free(res);
  ompb_batch_free(b);
  return t;
}

/* A row of the table: what it runs, on which input, and its timings. */
#define MAX_ROWS 40
#define MAX_PEERS 4
typedef struct {
  char name[40];
  block_fn *fn;
  const void *ctx;
  int input;                /* index into the inputs */
  const kern *pool;         /* run through ompb_pool_map instead */
  int direct;               /* pool rows: the row of the direct call, else -1 */
  int reps;                 /* rounds it takes part in */
  bool in_cache;            /* has an in-cache figure */
  int peers[MAX_PEERS + 1]; /* rows of its accuracy class's peers, -1 ends */
  double t[MAX_REPEATS], c[MAX_REPEATS];
} table_row;

static table_row rows[MAX_ROWS];
static int nrows;

/* Per round of row r: rho (its compute / the stream copy's time), hidden
 * (the part of the smaller of the two it hides) and its x stream. Its
 * compute: its in-cache ns per element per thread times the elements of
 * one thread's share. */
static void overlap(const table_row *r, const table_row *stream, size_t n,
                    double *rho, double *hidden, double *xs) {
  for (int k = 0; k < r->reps; k++) {
    const double c = r->c[k] * ((double)n / nthreads) / 1e6, s = stream->t[k];
    rho[k] = c / s;
    hidden[k] = (s + c - r->t[k]) / fmin(s, c);
    xs[k] = s / r->t[k];
  }
}

/* y at x on the polyline through (xs[i], ys[i]) sorted by x (n >= 2),
 * held at its end values outside [xs[0], xs[n - 1]]. */
static double interpolate(const double *xs, const double *ys, int n, double x) {
  if (x <= xs[0])
    return ys[0];
  for (int i = 1; i < n; i++)
    if (x <= xs[i])
      return xs[i] > xs[i - 1] ? ys[i - 1] + (ys[i] - ys[i - 1]) *
                                                 (x - xs[i - 1]) /
                                                 (xs[i] - xs[i - 1])
                               : ys[i];
  return ys[n - 1];
}

static int add_row(const char *name, block_fn *fn, const void *ctx, int input,
                   int reps) {
  if (nrows == MAX_ROWS) {
    fprintf(stderr, "bench_simd: too many rows\n");
    exit(1);
  }
  table_row *r = &rows[nrows];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->fn = fn;
  r->ctx = ctx;
  r->input = input;
  r->reps = reps;
  r->in_cache = true;
  r->direct = -1;
  r->peers[0] = -1;
  return nrows++;
}

/* The peer sets of the ISA being measured (NULL: none, scalar). */
static const peer_set *peer_sets(const char *isa, int which) {
  (void)which;
#if defined(OMPB_PEERS_HAVE_AVX512F)
  static const peer_set *const s512[3] = {&libmvec_avx512f, &sleef_u10_avx512f,
                                          &sleef_u35_avx512f};
  if (strcmp(isa, "avx512f") == 0)
    return s512[which];
#endif
#if defined(OMPB_PEERS_HAVE_AVX2)
  static const peer_set *const s256[3] = {&libmvec_avx2, &sleef_u10_avx2,
                                          &sleef_u35_avx2};
  if (strcmp(isa, "avx2") == 0)
    return s256[which];
#endif
#if defined(OMPB_PEERS_HAVE_SSE2)
  static const peer_set *const s128[3] = {&libmvec_sse2, &sleef_u10_sse2,
                                          &sleef_u35_sse2};
  if (strcmp(isa, "sse2") == 0)
    return s128[which];
#endif
  (void)isa;
  return NULL;
}

/* The synthetic kernels of the ISA being measured (NULL: none). */
static const synth_set *synth_set_of(const char *isa) {
#if defined(OMPB_PEERS_HAVE_AVX512F)
  if (strcmp(isa, "avx512f") == 0)
    return &synth_avx512f;
#endif
#if defined(OMPB_PEERS_HAVE_AVX2)
  if (strcmp(isa, "avx2") == 0)
    return &synth_avx2;
#endif
#if defined(OMPB_PEERS_HAVE_SSE2)
  if (strcmp(isa, "sse2") == 0)
    return &synth_sse2;
#endif
  (void)isa;
  return NULL;
}

/* The functions measured, with their input and their peers. */
static const struct {
  const char *name;
  int input, peer; /* peer: PEER_* index, -1: none */
  bool fast;
  ompb_kernel_f32 *k32;
  ompb_kernel_f64 *k64;
} kernels[] = {
    {"scale", 0, -1, false, ompb_k_scale_f32, ompb_k_scale_f64},
    {"affine", 0, -1, false, ompb_k_affine_f32, ompb_k_affine_f64},
    {"clamp", 0, -1, false, ompb_k_clamp_f32, ompb_k_clamp_f64},
    {"sin", 0, PEER_SIN, false, ompb_k_sin_f32, ompb_k_sin_f64},
    {"sin_fast", 0, PEER_SIN, true, ompb_k_sin_fast_f32, ompb_k_sin_fast_f64},
    {"cos", 0, PEER_COS, false, ompb_k_cos_f32, ompb_k_cos_f64},
    {"cos_fast", 0, PEER_COS, true, ompb_k_cos_fast_f32, ompb_k_cos_fast_f64},
    {"exp", 1, PEER_EXP, false, ompb_k_exp_f32, ompb_k_exp_f64},
    {"exp_fast", 1, PEER_EXP, true, ompb_k_exp_fast_f32, ompb_k_exp_fast_f64},
    {"log", 2, PEER_LOG, false, ompb_k_log_f32, ompb_k_log_f64},
    {"log_fast", 2, PEER_LOG, true, ompb_k_log_fast_f32, ompb_k_log_fast_f64},
};
#define N_KERNELS (sizeof kernels / sizeof kernels[0])

static const float params32[2] = {2.385f, -0.75f};
static const double params64[2] = {2.385, -0.75};

/* One precision: fill inputs, run every row, print. */
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
  block_fn *dok = f32 ? do_k32 : do_k64;
  block_fn *dol = f32 ? do_loop32 : do_loop64;
  const char *isa = ompb_simd_isa();
  kern ks[N_KERNELS];
  int krow[N_KERNELS];
  char name[64];

  nrows = 0;
  /* without streaming stores (a scalar-only build) memcpy is the ceiling */
  const bool nt = stream_table->stream_f32 != NULL;
  const int stream_row = add_row(nt ? "stream copy" : "memcpy (no stream copy)",
                                 nt ? (f32 ? do_stream32 : do_stream64)
                                    : (f32 ? do_memcpy32 : do_memcpy64),
                                 NULL, 0, repeats);
  rows[stream_row].in_cache = false; /* non-temporal stores: not in cache */
  const int memcpy_row =
      add_row("memcpy", f32 ? do_memcpy32 : do_memcpy64, NULL, 0, repeats);
  for (size_t k = 0; k < N_KERNELS; k++) {
    ks[k] = (kern){kernels[k].k32, kernels[k].k64, params32, params64};
    snprintf(name, sizeof name, "ompb %s", kernels[k].name);
    krow[k] = add_row(name, dok, &ks[k], kernels[k].input, repeats);
  }
  /* peers of this ISA, and each kernel's peers of its accuracy class */
  for (int set = 0; set < 3; set++) {
    const peer_set *ps = peer_sets(isa, set);
    if (ps == NULL)
      continue;
    static const char *const fn_names[PEER_COUNT] = {"sin", "cos", "exp",
                                                     "log"};
    static const int fn_input[PEER_COUNT] = {0, 0, 1, 2};
    for (int f = 0; f < PEER_COUNT; f++) {
      const void *ctx = f32 ? (const void *)&ps->f32[f] : &ps->f64[f];
      if (f32 ? ps->f32[f] == NULL : ps->f64[f] == NULL)
        continue;
      snprintf(name, sizeof name, "%s %s", ps->name, fn_names[f]);
      const int r = add_row(name, dol, ctx, fn_input[f], repeats);
      /* set 0 libmvec (~4 ULP) and 2 (u35) are the _fast class, 1 (u10)
       * the <= 1 ULP class */
      for (size_t k = 0; k < N_KERNELS; k++) {
        /* SLEEF has no u35 exp: its u10 one is its fastest */
        const bool no_u35 =
            set == 1 && (f32 ? peer_sets(isa, 2)->f32[f] == NULL
                             : peer_sets(isa, 2)->f64[f] == NULL);
        if (kernels[k].peer != f ||
            (kernels[k].fast != (set != 1) && !(kernels[k].fast && no_u35)))
          continue;
        int *p = rows[krow[k]].peers;
        while (*p >= 0)
          p++;
        p[0] = r, p[1] = -1;
      }
    }
  }
  static const char *const libm_names[3] = {"sin", "exp", "log"};
  for (int f = 0; f < 3; f++) {
    snprintf(name, sizeof name, "libm %s (scalar)", libm_names[f]);
    add_row(name, dol, f32 ? (const void *)&libm32[f] : &libm64[f], f,
            repeats < 3 ? repeats : 3);
  }
  ompb_pool *pool = NULL;
  if (ompb_pool_create(
          &pool, &(ompb_pool_opts){.workers = (unsigned)nthreads}) != OMPB_OK) {
    fprintf(stderr, "pool_create failed\n");
    exit(1);
  }
  const synth_set *syn = synth_set_of(isa);
  int synth_row[SYNTH_COUNT];
  for (int k = 0; k < SYNTH_COUNT; k++) {
    synth_row[k] = -1;
    if (syn == NULL)
      continue;
    snprintf(name, sizeof name, "synth %d", syn->k[k]);
    synth_row[k] = add_row(name, dol,
                           f32 ? (const void *)&syn->f32[k] : &syn->f64[k], 0,
                           repeats);
  }
  static const size_t pooled[] = {0, 3, 7}; /* scale, sin, exp */
  for (size_t i = 0; i < sizeof pooled / sizeof pooled[0]; i++) {
    const size_t k = pooled[i];
    snprintf(name, sizeof name, "ompb_pool_map %s", kernels[k].name);
    const int r = add_row(name, NULL, NULL, kernels[k].input, repeats);
    rows[r].pool = &ks[k];
    rows[r].direct = krow[k];
    rows[r].in_cache = false;
  }

  for (int rep = -1; rep < repeats; rep++) { /* round -1 warms up */
    for (int i = 0; i < nrows; i++) {
      table_row *tr = &rows[i];
      if (rep >= tr->reps)
        continue;
      flush(in[tr->input], out, n, elem);
      double t = tr->pool != NULL
                     ? run_pool_map(pool, f32, tr->pool, in[tr->input], out, n)
                     : run_big(tr->fn, tr->ctx, in[tr->input], out, n, elem);
      double c = tr->in_cache
                     ? run_in_cache(tr->fn, tr->ctx, in[tr->input], n, elem)
                     : 0;
      if (rep >= 0)
        tr->t[rep] = t, tr->c[rep] = c;
    }
  }

  const double bytes = 2.0 * (double)n * (double)elem;
  /* the synth rows' medians of rho and x stream, for the ceiling */
  double syn_rho[SYNTH_COUNT], syn_xs[SYNTH_COUNT];
  int nsyn = 0;
  for (int k = 0; k < SYNTH_COUNT; k++) {
    if (synth_row[k] < 0)
      continue;
    double rh[MAX_REPEATS], hd[MAX_REPEATS], xs[MAX_REPEATS];
    overlap(&rows[synth_row[k]], &rows[stream_row], n, rh, hd, xs);
    syn_rho[nsyn] = median(rh, repeats);
    syn_xs[nsyn++] = median(xs, repeats);
  }
  for (int a = 1; a < nsyn; a++) /* by rho (noise may swap neighbours) */
    for (int b = a; b > 0 && syn_rho[b] < syn_rho[b - 1]; b--) {
      const double r = syn_rho[b], x = syn_xs[b];
      syn_rho[b] = syn_rho[b - 1], syn_xs[b] = syn_xs[b - 1];
      syn_rho[b - 1] = r, syn_xs[b - 1] = x;
    }
  for (int i = 0; i < nrows; i++) {
    table_row *tr = &rows[i];
    double xs[MAX_REPEATS], xm[MAX_REPEATS], t[MAX_REPEATS], c[MAX_REPEATS];
    for (int k = 0; k < tr->reps; k++) {
      xs[k] = rows[stream_row].t[k] / tr->t[k];
      xm[k] = rows[memcpy_row].t[k] / tr->t[k];
      t[k] = tr->t[k];
      c[k] = tr->c[k];
    }
    const double tm = median(t, tr->reps);
    printf("%-4s %2d  %-24s %8.2f ms %6.1f GB/s %6.2f %6.2f", type, nthreads,
           tr->name, tm, bytes / tm / 1e6, median(xs, tr->reps),
           median(xm, tr->reps));
    if (tr->in_cache)
      printf(" %8.3f", 1.0 / median(c, tr->reps));
    else
      printf(" %8s", "-");
    if (tr->direct >= 0) { /* pool rows: time of the direct call / this */
      for (int k = 0; k < tr->reps; k++)
        xs[k] = rows[tr->direct].t[k] / tr->t[k];
      printf("   %.2fx the direct call", median(xs, tr->reps));
    }
    if (tr->peers[0] >= 0) { /* the fastest peer of the class, per round */
      for (int k = 0; k < tr->reps; k++) {
        double best = INFINITY;
        for (const int *p = tr->peers; *p >= 0; p++)
          best = fmin(best, rows[*p].t[k]);
        xs[k] = best / tr->t[k];
      }
      printf("   %.2fx best peer", median(xs, tr->reps));
    }
    if (tr->in_cache && i != memcpy_row) {
      double rh[MAX_REPEATS], hd[MAX_REPEATS], xv[MAX_REPEATS];
      overlap(tr, &rows[stream_row], n, rh, hd, xv);
      const double rho = median(rh, tr->reps), xst = median(xv, tr->reps);
      printf("   rho %.2f hidden %.2f", rho, median(hd, tr->reps));
      if (nsyn > 1) {
        const double ceil = interpolate(syn_rho, syn_xs, nsyn, rho);
        printf(" ceil %.2f x ceil %.2f", ceil, xst / ceil);
      }
    }
    printf("\n");
    fflush(stdout);
  }
  ompb_pool_destroy(pool);
  for (int i = 0; i < 3; i++)
    free(in[i]);
  free(out);
}

int main(int argc, char **argv) {
  if (getenv("OMP_WAIT_POLICY") == NULL) { /* see the top of this file */
    if (setenv("OMP_WAIT_POLICY", "passive", 1) == 0 &&
        (getenv("OMP_PROC_BIND") != NULL ||
         setenv("OMP_PROC_BIND", "true", 1) == 0))
      execv("/proc/self/exe", argv);
    fprintf(stderr, "bench_simd: could not rerun with OMP_WAIT_POLICY set; "
                    "figures may be noisy\n");
  }
  if (argc > 1) {
    repeats = atoi(argv[1]);
    if (repeats < 1 || repeats > MAX_REPEATS)
      repeats = 9;
  }
  if (argc > 2) {
    nthreads = atoi(argv[2]);
    if (nthreads < 1 || nthreads > MAX_THREADS)
      nthreads = 2;
  }
  can_flush = cache_flush_supported();
  stream_table = ompb__simd_active();
  for (size_t i = 0; stream_table->stream_f32 == NULL && ompb__simd_isas[i];
       i++) {
    const ompb__simd_table *t = ompb__simd_table_get(ompb__simd_isas[i]);
    if (t != NULL)
      stream_table = t;
  }
  for (int t = 0; t < nthreads; t++) {
    cache_in[t] = aligned_alloc(64, IN_CACHE_BYTES);
    cache_out[t] = aligned_alloc(64, IN_CACHE_BYTES);
    if (cache_in[t] == NULL || cache_out[t] == NULL) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
  }
  printf("bench_simd: isa %s (stream copy: %s), f32 n=%u, f64 n=%u, %d "
         "threads, %d interleaved rounds (libm scalar: 3), medians, "
         "caches %s before each row, OMP_WAIT_POLICY=%s OMP_PROC_BIND=%s\n",
         ompb_simd_isa(), stream_table->stream_f32 ? stream_table->isa : "none",
         N32, N64, nthreads, repeats,
         can_flush ? "flushed (clflushopt)" : "NOT flushed (no clflushopt)",
         getenv("OMP_WAIT_POLICY"),
         getenv("OMP_PROC_BIND") ? getenv("OMP_PROC_BIND") : "(unset)");
  printf("x stream, x memcpy: fraction of the stream copy's and memcpy's "
         "speed; in cache: elements/ns/thread on 16 KiB blocks\n");
  printf("type thr  row                          time    traffic x strm "
         "x mcpy in-cache\n");
  run_type(true);
  run_type(false);
  for (int t = 0; t < nthreads; t++) {
    free(cache_in[t]);
    free(cache_out[t]);
  }
  return 0;
}
