/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: non-temporal stores of a vector ISA (compiled for sse2,
 * avx2 and avx512f only; kernels/dispatch.c decides when a call streams):
 * - the streaming copy: m elements from buf to out with non-temporal
 *   stores, both 64-byte aligned, and the fence that orders them before
 *   later stores (a kernel's output goes through an L1 buffer, then here);
 * - the arithmetic kernels with non-temporal stores straight from the
 *   registers (the table's nt_* slots), for out 64-byte aligned: no buffer
 *   round trip, two vectors per iteration, the input prefetched. The same
 *   operations as kernels/k_arith.c's, so the same bits. */
#include "isa.h"

#if defined(ISA_SCALAR)
#error "stream.c is built for the vector ISAs only (kernels/kernels.mk)"
#endif

#if defined(OMPB_ISA_AVX512F)
#define STREAM_PS(p, v) _mm512_stream_ps(p, v)
#define STREAM_PD(p, v) _mm512_stream_pd(p, v)
#define LOADA_PS _mm512_load_ps
#define LOADA_PD _mm512_load_pd
#define VOPS(sfx, T, V, p)                                                     \
  typedef V vec_##sfx;                                                         \
  enum { W_##sfx = 64 / sizeof(T) };                                           \
  INLINE vec_##sfx ld_##sfx(const T *q) { return _mm512_loadu_##p(q); }        \
  INLINE vec_##sfx set_##sfx(T x) { return _mm512_set1_##p(x); }              \
  INLINE vec_##sfx mul_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm512_mul_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx add_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm512_add_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx fma_##sfx(vec_##sfx a, vec_##sfx b, vec_##sfx c) {          \
    return _mm512_fmadd_##p(a, b, c);                                          \
  }                                                                            \
  INLINE vec_##sfx max_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm512_max_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx min_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm512_min_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx abs_##sfx(vec_##sfx a) {                                    \
    return _mm512_abs_##p(a);                                                  \
  }                                                                            \
  INLINE void nt_##sfx(T *q, vec_##sfx v) { _mm512_stream_##p(q, v); }
VOPS(f32, float, __m512, ps)
VOPS(f64, double, __m512d, pd)
#elif defined(OMPB_ISA_AVX2)
#define STREAM_PS(p, v) _mm256_stream_ps(p, v)
#define STREAM_PD(p, v) _mm256_stream_pd(p, v)
#define LOADA_PS _mm256_load_ps
#define LOADA_PD _mm256_load_pd
#define VOPS(sfx, T, V, p)                                                     \
  typedef V vec_##sfx;                                                         \
  enum { W_##sfx = 32 / sizeof(T) };                                           \
  INLINE vec_##sfx ld_##sfx(const T *q) { return _mm256_loadu_##p(q); }        \
  INLINE vec_##sfx set_##sfx(T x) { return _mm256_set1_##p(x); }              \
  INLINE vec_##sfx mul_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm256_mul_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx add_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm256_add_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx fma_##sfx(vec_##sfx a, vec_##sfx b, vec_##sfx c) {          \
    return _mm256_fmadd_##p(a, b, c);                                          \
  }                                                                            \
  INLINE vec_##sfx max_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm256_max_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx min_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm256_min_##p(a, b);                                               \
  }                                                                            \
  INLINE vec_##sfx abs_##sfx(vec_##sfx a) {                                    \
    return _mm256_andnot_##p(_mm256_set1_##p(-0.0), a);                        \
  }                                                                            \
  INLINE void nt_##sfx(T *q, vec_##sfx v) { _mm256_stream_##p(q, v); }
VOPS(f32, float, __m256, ps)
VOPS(f64, double, __m256d, pd)
#else
#define STREAM_PS(p, v) _mm_stream_ps(p, v)
#define STREAM_PD(p, v) _mm_stream_pd(p, v)
#define LOADA_PS _mm_load_ps
#define LOADA_PD _mm_load_pd
#define VOPS(sfx, T, V, p)                                                     \
  typedef V vec_##sfx;                                                         \
  enum { W_##sfx = 16 / sizeof(T) };                                           \
  INLINE vec_##sfx ld_##sfx(const T *q) { return _mm_loadu_##p(q); }           \
  INLINE vec_##sfx set_##sfx(T x) { return _mm_set1_##p(x); }                 \
  INLINE vec_##sfx mul_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm_mul_##p(a, b);                                                  \
  }                                                                            \
  INLINE vec_##sfx add_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm_add_##p(a, b);                                                  \
  }                                                                            \
  INLINE vec_##sfx max_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm_max_##p(a, b);                                                  \
  }                                                                            \
  INLINE vec_##sfx min_##sfx(vec_##sfx a, vec_##sfx b) {                       \
    return _mm_min_##p(a, b);                                                  \
  }                                                                            \
  INLINE vec_##sfx abs_##sfx(vec_##sfx a) {                                    \
    return _mm_andnot_##p(_mm_set1_##p(-0.0), a);                              \
  }                                                                            \
  INLINE void nt_##sfx(T *q, vec_##sfx v) { _mm_stream_##p(q, v); }
VOPS(f32, float, __m128, ps)
VOPS(f64, double, __m128d, pd)
#endif

/* Two vectors per iteration and buf prefetched as the kernels' inputs are:
 * as perf/bench_simd's ceiling (buf in memory) this is 1.05-1.15x faster
 * than one vector per iteration without prefetch; from an L1 buffer the
 * prefetches hit the cache. */
void K(stream_f32)(const float *buf, float *out, size_t m) {
  size_t i = 0;
  for (; i + 2 * NF <= m; i += 2 * NF) {
    PREFETCH_BLOCK(buf + i, 2 * NF * sizeof(float));
    const __typeof__(LOADA_PS(buf)) v0 = LOADA_PS(buf + i),
                                    v1 = LOADA_PS(buf + i + NF);
    STREAM_PS(out + i, v0);
    STREAM_PS(out + i + NF, v1);
  }
  for (; i + NF <= m; i += NF)
    STREAM_PS(out + i, LOADA_PS(buf + i));
  for (; i < m; i++)
    out[i] = buf[i];
}
void K(stream_f64)(const double *buf, double *out, size_t m) {
  size_t i = 0;
  for (; i + 2 * ND <= m; i += 2 * ND) {
    PREFETCH_BLOCK(buf + i, 2 * ND * sizeof(double));
    const __typeof__(LOADA_PD(buf)) v0 = LOADA_PD(buf + i),
                                    v1 = LOADA_PD(buf + i + ND);
    STREAM_PD(out + i, v0);
    STREAM_PD(out + i + ND, v1);
  }
  for (; i + ND <= m; i += ND)
    STREAM_PD(out + i, LOADA_PD(buf + i));
  for (; i < m; i++)
    out[i] = buf[i];
}
void K(stream_fence)(void) { _mm_sfence(); }

/* ---- arithmetic kernels with non-temporal stores ----
 * For out 64-byte aligned (the caller peels the head and fences after).
 * Two vectors per iteration, every input line of them prefetched
 * PREFETCH_AHEAD bytes ahead; the last < 2 vectors with the same vector
 * code, the last < 1 vector with ordinary stores. vexpr/sexpr: the vector
 * and the scalar form of the element's value; both are the operation of
 * kernels/k_arith.c (max(lo, x) is x < lo ? lo : x, NaN x included;
 * min(hi, y) is y > hi ? hi : y; fmaf is the vfmadd). */
#define NT1(name, T, sfx, setup, vexpr, sexpr)                                 \
  void K(nt_##name##_##sfx)(const T *in, T *out, size_t n,                     \
                            const void *params) {                              \
    setup;                                                                     \
    enum { W = W_##sfx };                                                      \
    size_t i = 0;                                                              \
    for (; i + 2 * W <= n; i += 2 * W) {                                       \
      PREFETCH_BLOCK(in + i, 2 * W * sizeof(T));                               \
      const vec_##sfx v0 = ld_##sfx(in + i), v1 = ld_##sfx(in + i + W);        \
      nt_##sfx(out + i, vexpr(v0));                                            \
      nt_##sfx(out + i + W, vexpr(v1));                                        \
    }                                                                          \
    for (; i + W <= n; i += W)                                                 \
      nt_##sfx(out + i, vexpr(ld_##sfx(in + i)));                              \
    for (; i < n; i++) {                                                       \
      const T x = in[i];                                                       \
      out[i] = (sexpr);                                                        \
    }                                                                          \
  }
#define NT2(name, T, sfx, vop, sop)                                            \
  void K(nt2_##name##_##sfx)(const T *a, const T *b, T *out, size_t n,         \
                             const void *params) {                             \
    (void)params;                                                              \
    enum { W = W_##sfx };                                                      \
    size_t i = 0;                                                              \
    for (; i + 2 * W <= n; i += 2 * W) {                                       \
      PREFETCH_BLOCK(a + i, 2 * W * sizeof(T));                                \
      PREFETCH_BLOCK(b + i, 2 * W * sizeof(T));                                \
      const vec_##sfx a0 = ld_##sfx(a + i), a1 = ld_##sfx(a + i + W);          \
      const vec_##sfx b0 = ld_##sfx(b + i), b1 = ld_##sfx(b + i + W);          \
      nt_##sfx(out + i, vop##_##sfx(a0, b0));                                  \
      nt_##sfx(out + i + W, vop##_##sfx(a1, b1));                              \
    }                                                                          \
    for (; i + W <= n; i += W)                                                 \
      nt_##sfx(out + i, vop##_##sfx(ld_##sfx(a + i), ld_##sfx(b + i)));        \
    for (; i < n; i++)                                                         \
      out[i] = a[i] sop b[i];                                                  \
  }

#define PARAM(T, i, dflt) (params ? ((const T *)params)[i] : (T)(dflt))
#define NT_ARITH(sfx, T, ABS)                                                  \
  NT1(scale, T, sfx, const T a = PARAM(T, 0, 1);                               \
      const vec_##sfx va = set_##sfx(a), VSCALE_##sfx, a * x)                  \
  NT1(add_scalar, T, sfx, const T b = PARAM(T, 0, 0);                          \
      const vec_##sfx vb = set_##sfx(b), VADDS_##sfx, x + b)                   \
  NT1(clamp, T, sfx, const T lo = PARAM(T, 0, -INFINITY);                      \
      const T hi = PARAM(T, 1, INFINITY); const vec_##sfx vlo = set_##sfx(lo); \
      const vec_##sfx vhi = set_##sfx(hi), VCLAMP_##sfx,                       \
      (x < lo ? lo : x) > hi ? hi : (x < lo ? lo : x))                         \
  NT1(abs, T, sfx, (void)params, abs_##sfx, ABS(x))                            \
  NT2(add, T, sfx, add, +)                                                     \
  NT2(mul, T, sfx, mul, *)
#define VSCALE_f32(v) mul_f32(va, v)
#define VSCALE_f64(v) mul_f64(va, v)
#define VADDS_f32(v) add_f32(v, vb)
#define VADDS_f64(v) add_f64(v, vb)
#define VCLAMP_f32(v) min_f32(vhi, max_f32(vlo, v))
#define VCLAMP_f64(v) min_f64(vhi, max_f64(vlo, v))
NT_ARITH(f32, float, fabsf)
NT_ARITH(f64, double, fabs)
#if defined(__FMA__) /* else affine keeps the buffered path (k_arith.c) */
#define VAFFINE_f32(v) fma_f32(va, v, vb)
#define VAFFINE_f64(v) fma_f64(va, v, vb)
NT1(affine, float, f32, const float a = PARAM(float, 0, 1);
    const float b = PARAM(float, 1, 0); const vec_f32 va = set_f32(a);
    const vec_f32 vb = set_f32(b), VAFFINE_f32, fmaf(a, x, b))
NT1(affine, double, f64, const double a = PARAM(double, 0, 1);
    const double b = PARAM(double, 1, 0); const vec_f64 va = set_f64(a);
    const vec_f64 vb = set_f64(b), VAFFINE_f64, fma(a, x, b))
#endif
