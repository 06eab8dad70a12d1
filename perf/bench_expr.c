/* SPDX-License-Identifier: BSD-3-Clause */
/* perf/bench_expr: the expression evaluator (ompb_expr_eval_*) against the
 * memory limit and against what users write instead, in one run.
 *
 *   make bench-expr      (or: build/perf/bench_expr [rounds [threads]] [--json FILE])
 *
 * Expressions E1 `2*sin(x)+exp(-x*x)`, E2 `x*y+z`, E3 `sqrt(x*x+y*y)`, E4
 * `where(x>0, log(x), -x)` (and E1 with the _fast names, E1f), over 16M
 * float32 and 8M float64 elements, inputs uniform on [-4, 4) (fixed seed).
 * Rows, each timed over the whole arrays on `threads` threads (default 2):
 *   limit  the expression's inputs read and out written with non-temporal
 *          stores and a fence (perf/expr/fused.c: a stream copy of the same
 *          bytes; for one input the stream copy of perf/bench_simd): what
 *          no evaluator can beat;
 *   hand   the hand-fused C loop, -O3 -ffast-math, gcc's libmvec calls
 *          (perf/expr/fused.c, compiled for the active ISA: ~4 ULP); for E4
 *          also "hand guarded", log's input replaced by 1 where x <= 0;
 *   chain  our own kernels over full-size temporaries, what a user of the
 *          kernel API writes: ompb_pool_map_* for the one-input kernels,
 *          ompb_simd_map2_* on each thread's share for mul and add, a plain
 *          loop for E4's select;
 *   expr   ompb_expr_eval_* (compiled once, outside the timing).
 * Rounds are interleaved: each round runs every row once, starting at a
 * rotating row, each row after the arrays were flushed from the caches
 * (perf/cache_flush.h); a figure is the median over rounds, a ratio the median
 * over rounds of the ratio within the round (the machines this runs on are
 * shared and drift).
 *
 * The evaluator's overhead: its time / max(the limit row, the sum of its
 * program's operations timed one by one on cache-resident blocks of the
 * evaluator's block size, per thread, scaled to n / threads elements);
 * goal <= 1.15. "rho" is ops / limit and "hidden" (limit + ops - its
 * time) / min(limit, ops), the part of the smaller of the two that the
 * evaluation hides behind the other (1: all, 0: none; perf/bench_simd's
 * "synth" rows give what a single-pass kernel of the same arithmetic hides
 * here, docs/design.md "The overlap ceiling"). "prog" is the whole program on the same cache-resident
 * block as the evaluator runs a block (src/work_expr.c's own block code
 * through ompb__xbench_block: its passes of f64 programs and its kernel
 * calls split on inputs, the ops plus their dispatch; out with plain
 * stores). Until 2026-12-07 "prog" ran the instructions over whole
 * blocks, which is not what f64 programs run. Also the compile time of a 100-op
 * expression (goal <= 50 us).
 *
 * Every row is also timed in process CPU time divided by the threads
 * ("cpu ms", "cpu x l", "cpu ovh"): on a machine shared with other work a
 * row of tens of milliseconds is preempted in proportion to its length;
 * CPU time leaves the preemption out (passive waiting threads use none).
 * The in-cache loops ("ops", "prog") are the fastest of 20 batches of 10
 * repetitions, times 20 (until 2026-12-07 one timing of 200: under load
 * 4-10 that counted the loops' preemption and the caches other processes
 * left them, and ops and prog moved by up to 1.5x between runs of the
 * same binary; in thread CPU time as much, the vCPUs' steal being
 * counted). On a quiet machine all agree.
 *
 * The program runs itself again with OMP_WAIT_POLICY=passive and
 * OMP_PROC_BIND=true unless they are set, as perf/bench_simd does: the
 * rows' OpenMP team and the pool's take turns on the same cores. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, setenv */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache_flush.h"
#include "expr/fused.h"
#include "expr_prog.h"
#include "kernels.h"
#include "ompbatch.h"

#define N32 (16u << 20)
#define N64 (8u << 20)
#define MAX_ROUNDS 31
#define MAX_THREADS 64
#define CACHE_REPS 200
#define CACHE_BATCHES 20 /* the in-cache loops: the fastest of 20 batches of 10 */
#define XB ((size_t)OMPB_EXPR_BLOCK)

static int rounds = 9;
static int nthreads = 2;
static ompb_pool *pool;
static const fused_set *fset;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU milliseconds of the whole process (all threads). */
static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(const double *v, int n) {
  double t[MAX_ROUNDS];
  memcpy(t, v, (size_t)n * sizeof *t);
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_expr: %s: %s\n", what, rc ? ompb_strerror(rc) : "failed");
  exit(1);
}

/* The expressions. */
enum { E1, E2, E3, E4, E1F, NEXPR };
static const struct {
  const char *name, *src;
  unsigned nin;
  int fused; /* FUSED_*, -1: none */
} exprs[NEXPR] = {
    {"E1", "2*sin(x)+exp(-x*x)", 1, FUSED_E1},
    {"E2", "x*y+z", 3, FUSED_E2},
    {"E3", "sqrt(x*x+y*y)", 2, FUSED_E3},
    {"E4", "where(x>0, log(x), -x)", 1, FUSED_E4},
    {"E1f", "2*sin_fast(x)+exp_fast(-x*x)", 1, -1},
};
static const char *const vars[3] = {"x", "y", "z"};

/* The arrays of one precision. */
static struct {
  bool f32;
  size_t n, es;
  void *in[3], *out, *t, *u;
  ompb_expr *e[NEXPR];
} A;

/* A share of n elements for thread id of nt, in multiples of 16 elements
 * (64 bytes or more), so that every share starts 64-byte aligned. */
static size_t share_lo(size_t n, size_t id, size_t nt) {
  return id == nt ? n : (n / 16 * id / nt) * 16;
}
#define AT(p, i) ((void *)((char *)(p) + (i) * A.es))

/* ---- rows ---- */
enum { R_LIMIT, R_HAND, R_CHAIN, R_EXPR };
static const char *const kind_names[] = {"limit", "hand", "chain", "expr"};

static void limit_row(int x) {
#pragma omp parallel num_threads(nthreads)
  {
    const size_t id = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    const size_t lo = share_lo(A.n, id, nt), hi = share_lo(A.n, id + 1, nt);
    const void *in[3] = {AT(A.in[0], lo), AT(A.in[1], lo), AT(A.in[2], lo)};
    if (A.f32)
      fset->limit_f32((const float *const *)in, exprs[x].nin, AT(A.out, lo), hi - lo);
    else
      fset->limit_f64((const double *const *)in, exprs[x].nin, AT(A.out, lo), hi - lo);
  }
}

static void hand_row(int f, void *out) {
#pragma omp parallel num_threads(nthreads)
  {
    const size_t id = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    const size_t lo = share_lo(A.n, id, nt), hi = share_lo(A.n, id + 1, nt);
    const void *in[3] = {AT(A.in[0], lo), AT(A.in[1], lo), AT(A.in[2], lo)};
    if (A.f32)
      fset->f32[f]((const float *const *)in, AT(out, lo), hi - lo);
    else
      fset->f64[f]((const double *const *)in, AT(out, lo), hi - lo);
  }
}

/* ompb_pool_map_* of a one-input kernel over all n elements. */
static void pmap(ompb_kernel_f32 *k32, ompb_kernel_f64 *k64, double param, bool has_param,
                 const void *in, void *out) {
  ompb_batch *b = NULL;
  ompb_result *res = NULL;
  const float p32 = (float)param;
  const double p64 = param;
  int rc = A.f32 ? ompb_pool_map_f32(pool, in, out, A.n, k32, has_param ? &p32 : NULL, NULL, &b)
                 : ompb_pool_map_f64(pool, in, out, A.n, k64, has_param ? &p64 : NULL, NULL, &b);
  if (rc == OMPB_OK) rc = ompb_batch_wait(b, &res);
  if (rc != OMPB_OK) die("ompb_pool_map", rc);
  ompb_result_free(res);
  ompb_batch_free(b);
}
#define PMAP(name, in, out) pmap(ompb_k_##name##_f32, ompb_k_##name##_f64, 0, false, in, out)
#define PMAPP(name, p, in, out) pmap(ompb_k_##name##_f32, ompb_k_##name##_f64, p, true, in, out)

/* A two-input kernel on each thread's share. */
static void pmap2(ompb_kernel2_f32 *k32, ompb_kernel2_f64 *k64, const void *a, const void *b,
                  void *out) {
  int bad = 0;
#pragma omp parallel num_threads(nthreads) reduction(| : bad)
  {
    const size_t id = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    const size_t lo = share_lo(A.n, id, nt), hi = share_lo(A.n, id + 1, nt);
    bad = A.f32 ? ompb_simd_map2_f32(AT(a, lo), AT(b, lo), AT(out, lo), hi - lo, k32, NULL)
                : ompb_simd_map2_f64(AT(a, lo), AT(b, lo), AT(out, lo), hi - lo, k64, NULL);
  }
  if (bad) die("ompb_simd_map2", 0);
}
#define PMAP2(name, a, b, out) pmap2(ompb_k2_##name##_f32, ompb_k2_##name##_f64, a, b, out)

static void chain_row(int x) {
  void *const X = A.in[0], *const Y = A.in[1], *const Z = A.in[2];
  switch (x) {
  case E1: /* u = -(x*x); out = exp(u); t = sin(x); out += 2*t */
    PMAP2(mul, X, X, A.u);
    PMAPP(scale, -1, A.u, A.u);
    PMAP(exp, A.u, A.out);
    PMAP(sin, X, A.t);
    PMAPP(axpy, 2, A.t, A.out);
    break;
  case E2:
    PMAP2(mul, X, Y, A.t);
    PMAP2(add, A.t, Z, A.out);
    break;
  case E3:
    PMAP2(mul, X, X, A.t);
    PMAP2(mul, Y, Y, A.u);
    PMAP2(add, A.t, A.u, A.t);
    PMAP(sqrt, A.t, A.out);
    break;
  case E4: { /* t = log(x); out = x > 0 ? t : -x (omp simd: a branch per
               element mispredicts half the time, ~14 ns each on the VMs
               this was measured on) */
    PMAP(log, X, A.t);
    const long n = (long)A.n;
    if (A.f32) {
      const float *x4 = X, *t4 = A.t;
      float *o4 = A.out;
#pragma omp parallel for simd num_threads(nthreads) schedule(static)
      for (long i = 0; i < n; i++) o4[i] = x4[i] > 0 ? t4[i] : -x4[i];
    } else {
      const double *x8 = X, *t8 = A.t;
      double *o8 = A.out;
#pragma omp parallel for simd num_threads(nthreads) schedule(static)
      for (long i = 0; i < n; i++) o8[i] = x8[i] > 0 ? t8[i] : -x8[i];
    }
    break;
  }
  default: break;
  }
}

static void expr_row(int x, void *out) {
  int rc = A.f32 ? ompb_expr_eval_f32(pool, A.e[x], (const float *const *)A.in, A.n, out, NULL)
                 : ompb_expr_eval_f64(pool, A.e[x], (const double *const *)A.in, A.n, out, NULL);
  if (rc != OMPB_OK) die("ompb_expr_eval", rc);
}

/* ---- the program's operations on cache-resident blocks ---- */
/* One instruction of expression e on blocks p (slot pointers), into dst
 * (a fused run writes its own slots: the output's, and its operands'
 * when they outlive it). */
static void run_ins(const ompb_expr *e, const struct ompb__xins *in, void **p, void *dst,
                    size_t m) {
  const ompb__simd_table *t = ompb__simd_active();
  const ompb__expr_ops *x = ompb__expr_ops_active();
  switch (in->kind) {
  case OMPB__XI_FUSED: {
    const struct ompb__xprun *r = &e->runs[in->a];
    float *e32[OMPB__XR_MAX_OPERANDS];
    double *e64[OMPB__XR_MAX_OPERANDS];
    for (unsigned k = 0; k < r->run.next; k++) e32[k] = p[r->ext[k]], e64[k] = p[r->ext[k]];
    if (A.f32) x->run_f32(&r->run, e32, m, -1);
    else x->run_f64(&r->run, e64, m, -1);
    break;
  }
  case OMPB__XI_K1:
    if (A.f32) t->f32[in->op](p[in->a], dst, m, in->has_params ? (const void *)in->pf : NULL);
    else t->f64[in->op](p[in->a], dst, m, in->has_params ? (const void *)in->pd : NULL);
    break;
  case OMPB__XI_K2:
    if (A.f32) t->f32_2[in->op](p[in->a], p[in->b], dst, m, NULL);
    else t->f64_2[in->op](p[in->a], p[in->b], dst, m, NULL);
    break;
  case OMPB__XI_UN:
    if (A.f32) x->un_f32[in->op](p[in->a], dst, m);
    else x->un_f64[in->op](p[in->a], dst, m);
    break;
  case OMPB__XI_BIN:
    if (A.f32) x->bin_f32[in->op](p[in->a], p[in->b], dst, m);
    else x->bin_f64[in->op](p[in->a], p[in->b], dst, m);
    break;
  case OMPB__XI_TRI:
    if (A.f32) x->tri_f32[in->op](p[in->a], p[in->b], p[in->c], dst, m);
    else x->tri_f64[in->op](p[in->a], p[in->b], p[in->c], dst, m);
    break;
  case OMPB__XI_SEL:
    if (A.f32) x->sel_f32[in->op](p[in->a], p[in->b], p[in->c], p[in->d], dst, m);
    else x->sel_f64[in->op](p[in->a], p[in->b], p[in->c], p[in->d], dst, m);
    break;
  default: memcpy(dst, p[in->a], m * A.es); break;
  }
}

/* Nanoseconds per element per thread (slowest thread) of expression x's
 * operations one by one (sum) and of the whole program, each thread on
 * one block of its share. */
static void in_cache(int x, double *ops_ns, double *prog_ns) {
  const ompb_expr *e = A.e[x];
  double worst_ops = 0, worst_prog = 0;
#pragma omp parallel num_threads(nthreads) reduction(max : worst_ops, worst_prog)
  {
    const size_t id = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    const size_t lo = share_lo(A.n, id, nt);
    char *mem = aligned_alloc(64, (e->nslots + 1) * XB * A.es);
    void **p = malloc(e->nslots * sizeof *p);
    if (!mem || !p) die("out of memory", 0);
    for (size_t k = 0; k < e->nslots; k++) p[k] = mem + k * XB * A.es;
    void *sink = mem + e->nslots * XB * A.es;
    for (size_t k = 0; k < e->nvars; k++) memcpy(p[k], AT(A.in[k], lo), XB * A.es);
    for (size_t k = 0; k < e->nconst; k++)
      for (size_t i = 0; i < XB; i++) {
        if (A.f32) ((float *)p[e->nvars + k])[i] = (float)e->consts[k];
        else ((double *)p[e->nvars + k])[i] = e->consts[k];
      }
    for (size_t i = 0; i < e->nins; i++) run_ins(e, &e->ins[i], p, p[e->ins[i].dst], XB);
#pragma omp barrier
    double sum = 0;
    for (size_t i = 0; i < e->nins; i++) {
      double best = INFINITY;
      for (int k = 0; k < CACHE_BATCHES; k++) {
        double t0 = now_ms();
        for (int r = 0; r < CACHE_REPS / CACHE_BATCHES; r++) run_ins(e, &e->ins[i], p, sink, XB);
        best = fmin(best, now_ms() - t0);
      }
      sum += best * CACHE_BATCHES;
    }
#pragma omp barrier
    /* the program as the evaluator runs a block (its own code: f64 passes
     * and kernel-call splits included), its scratch blocks in place of
     * these slots, out into sink with plain stores */
    for (size_t k = 0; k < e->nvars; k++) memcpy(p[k], AT(A.in[k], lo), XB * A.es);
    ompb__xbench *h = ompb__xbench_new(e, !A.f32);
    const void *bin[3] = {NULL, NULL, NULL};
    if (!h || e->nused > 3) die("ompb__xbench_new", 0);
    for (size_t j = 0; j < e->nused; j++) bin[j] = p[e->used[j]];
    ompb__xbench_block(h, bin, sink, XB);
    double best = INFINITY;
    for (int k = 0; k < CACHE_BATCHES; k++) {
      double t0 = now_ms();
      for (int r = 0; r < CACHE_REPS / CACHE_BATCHES; r++) ompb__xbench_block(h, bin, sink, XB);
      best = fmin(best, now_ms() - t0);
    }
    worst_prog = best * CACHE_BATCHES * 1e6 / ((double)XB * CACHE_REPS);
    ompb__xbench_free(h);
    worst_ops = sum * 1e6 / ((double)XB * CACHE_REPS);
    free(mem);
    free(p);
  }
  *ops_ns = worst_ops;
  *prog_ns = worst_prog;
}

/* ---- the table ---- */
#define MAX_ROWS 24
typedef struct {
  char name[48];
  int kind, x, fused;
  int limit; /* the row of its limit */
  double t[MAX_ROUNDS], c[MAX_ROUNDS]; /* wall ms, CPU ms / threads */
  double ops[MAX_ROUNDS], prog[MAX_ROUNDS]; /* expr rows: in cache, ns */
} row;
static row rows[MAX_ROWS];
static int nrows;

static int add_row(int kind, int x, int fused, const char *name) {
  row *r = &rows[nrows];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->x = x;
  r->fused = fused;
  r->limit = -1;
  snprintf(r->name, sizeof r->name, "%s %s", exprs[x].name, name);
  return nrows++;
}

static void run_row(row *r) {
  switch (r->kind) {
  case R_LIMIT: limit_row(r->x); break;
  case R_HAND: hand_row(r->fused, A.out); break;
  case R_CHAIN: chain_row(r->x); break;
  case R_EXPR: expr_row(r->x, A.out); break;
  }
}

/* The median over rounds of rows[a].t / rows[b].t (how many times faster
 * b is than a, per round). */
static double ratio(int a, int b) {
  double q[MAX_ROUNDS];
  for (int k = 0; k < rounds; k++) q[k] = rows[a].t[k] / rows[b].t[k];
  return median(q, rounds);
}
/* The same with CPU times. */
static double cpu_ratio(int a, int b) {
  double q[MAX_ROUNDS];
  for (int k = 0; k < rounds; k++) q[k] = rows[a].c[k] / rows[b].c[k];
  return median(q, rounds);
}

static int find_row(int x, int kind) {
  for (int i = 0; i < nrows; i++)
    if (rows[i].x == x && rows[i].kind == kind && (kind != R_HAND || rows[i].fused == exprs[x].fused))
      return i;
  return -1;
}

static FILE *json;
static bool json_first = true;

static void json_row(const char *type, const row *r, double ms, double xlim, double cms,
                     double cxlim) {
  if (!json) return;
  fprintf(json, "%s\n    {\"type\": \"%s\", \"expr\": \"%s\", \"src\": \"%s\", \"row\": \"%s\", "
                "\"name\": \"%s\", \"ms\": %.4f, \"x_limit\": %.4f, \"cpu_ms\": %.4f, "
                "\"cpu_x_limit\": %.4f}",
          json_first ? "" : ",", type, exprs[r->x].name, exprs[r->x].src, kind_names[r->kind],
          r->name, ms, xlim, cms, cxlim);
  json_first = false;
}

/* max |a - b| / max(1, |b|) over the arrays */
static double max_rel(const void *a, const void *b) {
  double m = 0;
  for (size_t i = 0; i < A.n; i++) {
    double x = A.f32 ? ((const float *)a)[i] : ((const double *)a)[i];
    double y = A.f32 ? ((const float *)b)[i] : ((const double *)b)[i];
    double d = fabs(x - y) / fmax(1, fabs(y));
    if (!(d <= m)) m = d;
  }
  return m;
}

/* Every row starts with all the arrays out of the caches
 * (perf/cache_flush.h), each thread flushing its share. */
static bool can_flush;
static void flush_arrays(void) {
  if (!can_flush) return;
  const void *arrays[6] = {A.in[0], A.in[1], A.in[2], A.out, A.t, A.u};
  const size_t bytes = A.n * A.es;
#pragma omp parallel num_threads(nthreads)
  {
    const size_t id = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    const size_t lo = bytes / 64 * id / nt * 64, hi = bytes / 64 * (id + 1) / nt * 64;
    for (int i = 0; i < 6; i++) cache_flush((const char *)arrays[i] + lo, hi - lo);
  }
}

static void run_type(bool f32) {
  const char *type = f32 ? "f32" : "f64";
  A.f32 = f32;
  A.n = f32 ? N32 : N64;
  A.es = f32 ? sizeof(float) : sizeof(double);
  void **bufs[6] = {&A.in[0], &A.in[1], &A.in[2], &A.out, &A.t, &A.u};
  for (int i = 0; i < 6; i++) {
    *bufs[i] = aligned_alloc(64, A.n * A.es);
    if (!*bufs[i]) die("out of memory", 0);
  }
  unsigned long long s = 88172645463325252ull;
  for (int j = 0; j < 3; j++)
    for (size_t i = 0; i < A.n; i++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      double v = -4 + 8 * ((double)(s >> 11) * 0x1p-53);
      if (f32) ((float *)A.in[j])[i] = (float)v;
      else ((double *)A.in[j])[i] = v;
    }
  for (int i = 3; i < 6; i++) memset(*bufs[i], 0, A.n * A.es);
  for (int x = 0; x < NEXPR; x++) {
    ompb_expr_diag d;
    int rc = ompb_expr_compile(exprs[x].src, vars, 3, &A.e[x], &d);
    if (rc != OMPB_OK) die(d.message, rc);
  }

  nrows = 0;
  for (int x = 0; x < NEXPR; x++) {
    int lim = -1;
    if (x != E1F) lim = add_row(R_LIMIT, x, -1, "limit");
    else lim = find_row(E1, R_LIMIT);
    if (exprs[x].fused >= 0) rows[add_row(R_HAND, x, exprs[x].fused, "hand")].limit = lim;
    if (x == E4) rows[add_row(R_HAND, x, FUSED_E4G, "hand guarded")].limit = lim;
    if (x != E1F) rows[add_row(R_CHAIN, x, -1, "chain")].limit = lim;
    rows[add_row(R_EXPR, x, -1, "expr")].limit = lim;
    rows[lim].limit = lim;
  }
  for (int k = -1; k < rounds; k++) { /* round -1 warms up */
    for (int j = 0; j < nrows; j++) {
      row *r = &rows[(j + (k < 0 ? 0 : k)) % nrows];
      flush_arrays();
      double c0 = cpu_ms(), t0 = now_ms();
      run_row(r);
      double t = now_ms() - t0, c = (cpu_ms() - c0) / nthreads;
      if (k < 0) continue;
      r->t[k] = t;
      r->c[k] = c;
      if (r->kind == R_EXPR) in_cache(r->x, &r->ops[k], &r->prog[k]);
    }
  }

  printf("\n%-4s %-18s %9s %8s %8s %8s %8s %8s %8s %8s\n", type, "row", "ms", "cpu ms",
         "x limit", "cpu x l", "x hand", "cpu", "x chain", "cpu");
  for (int i = 0; i < nrows; i++) {
    row *r = &rows[i];
    const double ms = median(r->t, rounds), xl = ratio(r->limit, i);
    const double cms = median(r->c, rounds), cxl = cpu_ratio(r->limit, i);
    printf("%-4s %-18s %9.2f %8.2f %8.3f %8.3f", type, r->name, ms, cms, xl, cxl);
    json_row(type, r, ms, xl, cms, cxl);
    if (r->kind == R_EXPR || r->kind == R_CHAIN) {
      int h = find_row(r->x == E1F ? E1 : r->x, R_HAND);
      int c = find_row(r->x == E1F ? E1 : r->x, R_CHAIN);
      printf(" %8.2f %8.2f", ratio(h, i), cpu_ratio(h, i));
      if (r->kind == R_EXPR) printf(" %8.2f %8.2f", ratio(c, i), cpu_ratio(c, i));
    }
    printf("\n");
  }
  printf("%-4s %-4s %9s %9s %9s %9s %9s %9s %10s %6s %6s\n", type, "expr", "expr ms", "limit ms",
         "ops ms", "prog ms", "overhead", "cpu ovh", "max rel d", "rho", "hidden");
  for (int i = 0; i < nrows; i++) {
    row *r = &rows[i];
    if (r->kind != R_EXPR) continue;
    double q[MAX_ROUNDS], qc[MAX_ROUNDS], ops[MAX_ROUNDS], prog[MAX_ROUNDS];
    double rho[MAX_ROUNDS], hid[MAX_ROUNDS];
    const double scale = (double)A.n / nthreads / 1e6; /* ns/elem -> ms */
    for (int k = 0; k < rounds; k++) {
      ops[k] = r->ops[k] * scale;
      prog[k] = r->prog[k] * scale;
      q[k] = r->t[k] / fmax(rows[r->limit].t[k], ops[k]);
      qc[k] = r->c[k] / fmax(rows[r->limit].c[k], ops[k]);
      const double lim = rows[r->limit].t[k];
      rho[k] = ops[k] / lim;
      hid[k] = (lim + ops[k] - r->t[k]) / fmin(lim, ops[k]);
    }
    /* accuracy check against the hand-fused loop (E1f: against E1's) */
    expr_row(r->x, A.out);
    hand_row(exprs[r->x == E1F ? E1 : r->x].fused, A.t);
    printf("%-4s %-4s %9.2f %9.2f %9.2f %9.2f %9.3f %9.3f %10.2g %6.2f %6.2f\n", type,
           exprs[r->x].name, median(r->t, rounds), median(rows[r->limit].t, rounds),
           median(ops, rounds), median(prog, rounds), median(q, rounds), median(qc, rounds),
           max_rel(A.out, A.t), median(rho, rounds), median(hid, rounds));
    if (json)
      fprintf(json, ",\n    {\"type\": \"%s\", \"expr\": \"%s\", \"row\": \"overhead\", "
                    "\"ops_ms\": %.4f, \"prog_ms\": %.4f, \"overhead\": %.4f, "
                    "\"cpu_overhead\": %.4f, \"rho\": %.4f, \"hidden\": %.4f}",
              type, exprs[r->x].name, median(ops, rounds), median(prog, rounds),
              median(q, rounds), median(qc, rounds), median(rho, rounds), median(hid, rounds));
  }
  fflush(stdout);
  for (int x = 0; x < NEXPR; x++) ompb_expr_free(A.e[x]);
  for (int i = 0; i < 6; i++) free(*bufs[i]);
}

/* Microseconds per compile of a 100-operation expression: 20 terms of
 * sin(x*a + y*b) (4 operations each), 19 additions and a final scale; the
 * median and the fastest of 21 batches of 100 (compiling is CPU work only:
 * on a loaded machine the fastest batch is the one least interrupted). */
static double compile_us(size_t *nins, double *min_us) {
  char src[2048];
  size_t len = 0;
  len += (size_t)snprintf(src + len, sizeof src - len, "2.5*(");
  for (int k = 0; k < 20; k++)
    len += (size_t)snprintf(src + len, sizeof src - len, "%ssin(x*%.3f + y*%.3f)",
                            k ? " + " : "", 1 + k / 8.0, 0.5 + k / 4.0);
  snprintf(src + len, sizeof src - len, ")");
  double t[MAX_ROUNDS];
  for (int r = 0; r < 21 && r < MAX_ROUNDS; r++) {
    double t0 = now_ms();
    for (int i = 0; i < 100; i++) {
      ompb_expr *e;
      int rc = ompb_expr_compile(src, vars, 3, &e, NULL);
      if (rc != OMPB_OK) die("compile", rc);
      *nins = e->nins;
      ompb_expr_free(e);
    }
    t[r] = (now_ms() - t0) * 10; /* ms per 100 -> us per compile */
  }
  *min_us = t[0];
  for (int r = 1; r < 21; r++) *min_us = fmin(*min_us, t[r]);
  return median(t, 21);
}

int main(int argc, char **argv) {
  if (getenv("OMP_WAIT_POLICY") == NULL) { /* see the top of this file */
    if (setenv("OMP_WAIT_POLICY", "passive", 1) == 0 &&
        (getenv("OMP_PROC_BIND") != NULL || setenv("OMP_PROC_BIND", "true", 1) == 0))
      execv("/proc/self/exe", argv);
    fprintf(stderr, "bench_expr: could not rerun with OMP_WAIT_POLICY set\n");
  }
  const char *json_path = NULL;
  int pos = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json_path = argv[++i];
    } else if (argv[i][0] != '-' && pos == 0) {
      rounds = atoi(argv[i]), pos++;
      if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 9;
    } else if (argv[i][0] != '-' && pos == 1) {
      nthreads = atoi(argv[i]), pos++;
      if (nthreads < 1 || nthreads > MAX_THREADS) nthreads = 2;
    } else {
      fprintf(stderr, "usage: bench_expr [rounds [threads]] [--json FILE]\n");
      return 2;
    }
  }
  can_flush = cache_flush_supported();
  const char *isa = ompb_simd_isa();
  fset = &fused_base;
#if defined(OMPB_FUSED_HAVE_AVX512F)
  if (strcmp(isa, "avx512f") == 0) fset = &fused_avx512f;
#endif
#if defined(OMPB_FUSED_HAVE_AVX2)
  if (strcmp(isa, "avx2") == 0) fset = &fused_avx2;
#endif
#if defined(OMPB_FUSED_HAVE_SSE2)
  if (strcmp(isa, "sse2") == 0 || strcmp(isa, "scalar") == 0) fset = &fused_sse2;
#endif
  int rc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = (unsigned)nthreads});
  if (rc != OMPB_OK) die("ompb_pool_create", rc);
  if (json_path) {
    json = fopen(json_path, "w");
    if (!json) {
      perror(json_path);
      return 1;
    }
    fprintf(json, "{\"bench\": \"bench_expr\", \"isa\": \"%s\", \"threads\": %d, \"rounds\": %d, "
                  "\"block\": %zu, \"rows\": [",
            isa, nthreads, rounds, XB);
  }
  printf("bench_expr: isa %s (hand-fused and limit: %s set), f32 n=%u, f64 n=%u, %d threads, "
         "%d interleaved rounds, medians, block %zu, caches %s before each row, "
         "OMP_WAIT_POLICY=%s OMP_PROC_BIND=%s\n",
         isa, fset->isa, N32, N64, nthreads, rounds, XB,
         can_flush ? "flushed (clflushopt)" : "NOT flushed (no clflushopt)", getenv("OMP_WAIT_POLICY"),
         getenv("OMP_PROC_BIND") ? getenv("OMP_PROC_BIND") : "(unset)");
  printf("x limit: fraction of the limit's speed (stream copy of the same bytes); x hand, "
         "x chain: times faster than those rows; cpu: the same in process CPU time\n");
  size_t nins = 0;
  double cmin = 0;
  const double cus = compile_us(&nins, &cmin);
  printf("compile: %.1f us (median; fastest batch %.1f us) for a 100-op expression (%zu "
         "instructions)\n", cus, cmin, nins);
  run_type(true);
  run_type(false);
  if (json) {
    fprintf(json, "\n  ], \"compile_us\": %.3f, \"compile_us_min\": %.3f}\n", cus, cmin);
    if (fclose(json) != 0) {
      perror(json_path);
      return 1;
    }
    printf("bench_expr: figures written to %s\n", json_path);
  }
  ompb_pool_destroy(pool);
  return 0;
}
