/* SPDX-License-Identifier: BSD-3-Clause */
/* Baselines for perf/bench_expr, one set per ISA (mk/bench_expr.mk compiles
 * perf/expr/fused.c once per vector ISA, -O3 -ffast-math with that ISA's
 * flags, as kernels/kernels.mk compiles perf/simd/libmvec.c):
 * - the hand-fused loops of the four expressions, the way a C user writes
 *   them (gcc calls glibc's libmvec vector functions: ~4 ULP);
 * - the memory limit: the expression's inputs read and its output written
 *   with non-temporal stores (a stream copy of the same bytes). */
#ifndef OMPB_PERF_EXPR_FUSED_H
#define OMPB_PERF_EXPR_FUSED_H

#include <stddef.h>

/* The expressions, by index. E4G is E4 with log's input guarded, log(|x|),
 * so that libmvec's logf sees no lane < 0 (it finishes a vector holding
 * one lane by lane, in scalar code); the guard `x > 0 ? x : 1` is folded
 * away by gcc under the select's own condition. */
enum { FUSED_E1, FUSED_E2, FUSED_E3, FUSED_E4, FUSED_E4G, FUSED_COUNT };

typedef void fused_f32(const float *const *in, float *out, size_t n);
typedef void fused_f64(const double *const *in, double *out, size_t n);

typedef struct {
  const char *isa;
  fused_f32 *f32[FUSED_COUNT];
  fused_f64 *f64[FUSED_COUNT];
  /* out = in[0] + ... + in[k-1] with non-temporal stores (out 64-byte
   * aligned; plain stores in the "base" set) and a fence: 1 <= k <= 3 */
  void (*limit_f32)(const float *const *in, unsigned k, float *out, size_t n);
  void (*limit_f64)(const double *const *in, unsigned k, double *out, size_t n);
} fused_set;

#define FUSED_CAT_(a, b) a##_##b
#define FUSED_SET(isa) FUSED_CAT_(fused, isa)
extern const fused_set fused_avx512f, fused_avx2, fused_sse2, fused_base;

#if defined(OMPB_ISA_AVX512F)
#define FUSED_ISA avx512f
#elif defined(OMPB_ISA_AVX2)
#define FUSED_ISA avx2
#elif defined(OMPB_ISA_SSE2)
#define FUSED_ISA sse2
#else
#define FUSED_ISA base
#endif

#endif /* OMPB_PERF_EXPR_FUSED_H */
