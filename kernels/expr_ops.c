/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: the expression evaluator's own block operations (see
 * kernels/expr_ops.h), compiled once per ISA by mk/expr.mk with the
 * kernels' ISA flags, so that each `omp simd` loop is vectorised for it.
 * They are plain loops: the data is in L1/L2 (a block of the evaluator),
 * so the loop body is all that costs. */
#include <float.h>

#include "expr_ops.h"
#include "isa.h" /* the ISA macros: NF, ND, loads, stores, SLEEF names */

#define OPS ISA_CAT_(ompb__expr_ops, ISA_TAG)

/* One rounding where the ISA has FMA (AVX2 and AVX-512F builds enable it),
 * two elsewhere: a software fma is far slower than the two roundings, and
 * the contract only promises "never less accurate than a*b + c". */
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
#define FMA_F(a, b, c) fmaf(a, b, c)
#define FMA_D(a, b, c) fma(a, b, c)
#else
#define FMA_F(a, b, c) ((a) * (b) + (c))
#define FMA_D(a, b, c) ((a) * (b) + (c))
#endif

#define BIN(name, T, sfx, expr)                                                \
  static void bin_##name##_##sfx(const T *a, const T *b, T *out, size_t n) {   \
    _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                      \
      const T x = a[i], y = b[i];                                              \
      out[i] = (expr);                                                         \
    }                                                                          \
  }
#define BINS(T, sfx)                                                           \
  BIN(ADD, T, sfx, x + y)                                                      \
  BIN(SUB, T, sfx, x - y)                                                      \
  BIN(MUL, T, sfx, x * y)                                                      \
  BIN(DIV, T, sfx, x / y)                                                      \
  BIN(NMUL, T, sfx, -(x * y))                                                  \
  BIN(MIN, T, sfx, (x < y || x != x) ? x : y)                                  \
  BIN(MAX, T, sfx, (x > y || x != x) ? x : y)                                  \
  BIN(LT, T, sfx, x < y ? (T)1 : (T)0)                                         \
  BIN(LE, T, sfx, x <= y ? (T)1 : (T)0)                                        \
  BIN(GT, T, sfx, x > y ? (T)1 : (T)0)                                         \
  BIN(GE, T, sfx, x >= y ? (T)1 : (T)0)                                        \
  BIN(EQ, T, sfx, x == y ? (T)1 : (T)0)                                        \
  BIN(NE, T, sfx, x != y ? (T)1 : (T)0)
BINS(float, f32)
BINS(double, f64)

#define TRI(name, T, sfx, expr)                                                \
  static void tri_##name##_##sfx(const T *a, const T *b, const T *c, T *out,   \
                                 size_t n) {                                   \
    _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                      \
      const T x = a[i], y = b[i], z = c[i];                                    \
      out[i] = (expr);                                                         \
    }                                                                          \
  }
TRI(FMA, float, f32, FMA_F(x, y, z))
TRI(FMS, float, f32, FMA_F(x, y, -z))
TRI(FNMA, float, f32, FMA_F(-x, y, z))
TRI(WHERE, float, f32, x != 0 ? y : z)
TRI(FMA, double, f64, FMA_D(x, y, z))
TRI(FMS, double, f64, FMA_D(x, y, -z))
TRI(FNMA, double, f64, FMA_D(-x, y, z))
TRI(WHERE, double, f64, x != 0 ? y : z)

#define SEL(name, T, sfx, cmp)                                                 \
  static void sel_##name##_##sfx(const T *a, const T *b, const T *c,           \
                                 const T *d, T *out, size_t n) {               \
    _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                      \
      const T x = a[i], y = b[i], t = c[i], f = d[i];                          \
      out[i] = x cmp y ? t : f;                                                \
    }                                                                          \
  }                                                                            \
  static void seln_##name##_##sfx(const T *a, const T *b, const T *c,          \
                                  const T *d, T *out, size_t n) {              \
    _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                      \
      const T x = a[i], y = b[i], t = c[i], f = d[i];                          \
      out[i] = x cmp y ? t : -f;                                               \
    }                                                                          \
  }
#define SELS(T, sfx)                                                           \
  SEL(LT, T, sfx, <) SEL(LE, T, sfx, <=) SEL(GT, T, sfx, >) SEL(GE, T, sfx, >=) \
  SEL(EQ, T, sfx, ==) SEL(NE, T, sfx, !=)
SELS(float, f32)
SELS(double, f64)

#define UN(name, T, sfx, expr)                                                 \
  static void un_##name##_##sfx(const T *a, T *out, size_t n) {                \
    _Pragma("omp simd") for (size_t i = 0; i < n; i++) {                      \
      const T x = a[i];                                                        \
      out[i] = (expr);                                                         \
    }                                                                          \
  }
UN(NEG, float, f32, -x)
UN(FLOOR, float, f32, floorf(x))
UN(CEIL, float, f32, ceilf(x))
UN(NEG, double, f64, -x)
UN(FLOOR, double, f64, floor(x))
UN(CEIL, double, f64, ceil(x))

/* The inverse hyperbolic functions: SLEEF's 1-ULP vector functions over
 * the full vectors, its scalar ones for the tail. */
#if defined(ISA_SCALAR)
#define VEC_F(fn)
#define VEC_D(fn)
#else
#define VEC_F(fn)                                                              \
  for (; i + NF <= n; i += NF) STF(out + i, VF(fn, u10)(LDF(a + i)));
#define VEC_D(fn)                                                              \
  for (; i + ND <= n; i += ND) STD(out + i, VD(fn, u10)(LDD(a + i)));
#endif
#define HYP(NAME, fn)                                                          \
  static void NAME##_f32(const float *a, float *out, size_t n) {               \
    size_t i = 0;                                                              \
    VEC_F(fn)                                                                  \
    for (; i < n; i++) out[i] = SF(fn, u10)(a[i]);                              \
  }                                                                            \
  static void NAME##_f64(const double *a, double *out, size_t n) {             \
    size_t i = 0;                                                              \
    VEC_D(fn)                                                                  \
    for (; i < n; i++) out[i] = SD(fn, u10)(a[i]);                              \
  }
HYP(sleef_ASINH, asinh)
HYP(sleef_ACOSH, acosh)
HYP(un_ATANH, atanh)

/* SLEEF's asinh and acosh return inf for finite |x| beyond its range
 * (1.34e154 in f64, 1.84e19 in f32), where numpy gives about 355 and 44:
 * there both are sign(x) log(2|x|) to far below an ULP (the next term is
 * 1/(4x^2)), computed so in double (log(|x|) + ln 2 where 2|x| would
 * overflow). The block goes through a copy of its inputs, 64 elements at a
 * time, so that this works in place; 64 is a multiple of every vector
 * width, so each element takes the same path as in one call. */
static double log_2x(double ax) {
  return ax <= DBL_MAX / 2 ? log(2 * ax) : log(ax) + 0x1.62e42fefa39efp-1;
}
#define HYP_BIG(NAME)                                                          \
  static void un_##NAME##_f32(const float *a, float *out, size_t n) {          \
    for (size_t j = 0; j < n; j += 64) {                                       \
      const size_t m = n - j < 64 ? n - j : 64;                                \
      float t[64];                                                             \
      memcpy(t, a + j, m * sizeof t[0]);                                       \
      sleef_##NAME##_f32(t, out + j, m);                                       \
      for (size_t k = 0; k < m; k++)                                           \
        if (isinf(out[j + k]) && isfinite(t[k]))                               \
          out[j + k] = copysignf((float)log_2x(fabs((double)t[k])), t[k]);     \
    }                                                                          \
  }                                                                            \
  static void un_##NAME##_f64(const double *a, double *out, size_t n) {        \
    for (size_t j = 0; j < n; j += 64) {                                       \
      const size_t m = n - j < 64 ? n - j : 64;                                \
      double t[64];                                                            \
      memcpy(t, a + j, m * sizeof t[0]);                                       \
      sleef_##NAME##_f64(t, out + j, m);                                       \
      for (size_t k = 0; k < m; k++)                                           \
        if (isinf(out[j + k]) && isfinite(t[k]))                               \
          out[j + k] = copysign(log_2x(fabs(t[k])), t[k]);                     \
    }                                                                          \
  }
HYP_BIG(ASINH)
HYP_BIG(ACOSH)

/* Square root: the vector instruction (IEEE, correctly rounded) on full
 * vectors; the C library's sqrt for the tail and the scalar build (gcc
 * leaves sqrtf scalar inside `omp simd` unless errno is off). */
#if defined(OMPB_ISA_AVX512F)
#define VSQRT_F _mm512_sqrt_ps
#define VSQRT_D _mm512_sqrt_pd
#elif defined(OMPB_ISA_AVX2)
#define VSQRT_F _mm256_sqrt_ps
#define VSQRT_D _mm256_sqrt_pd
#elif defined(OMPB_ISA_SSE2)
#define VSQRT_F _mm_sqrt_ps
#define VSQRT_D _mm_sqrt_pd
#endif
static void un_SQRT_f32(const float *a, float *out, size_t n) {
  size_t i = 0;
#if defined(VSQRT_F)
  for (; i + NF <= n; i += NF) STF(out + i, VSQRT_F(LDF(a + i)));
#endif
  for (; i < n; i++) out[i] = sqrtf(a[i]);
}
static void un_SQRT_f64(const double *a, double *out, size_t n) {
  size_t i = 0;
#if defined(VSQRT_D)
  for (; i + ND <= n; i += ND) STD(out + i, VSQRT_D(LDD(a + i)));
#endif
  for (; i < n; i++) out[i] = sqrt(a[i]);
}

/* Block reductions. The simd reductions reassociate within the block in a
 * way fixed by the ISA's vector width and n: the same block gives the same
 * partial every time, whichever thread runs it. */
#define REDS(T, sfx)                                                           \
  static double red_SUM_##sfx(const T *a, size_t n) {                          \
    double s = 0;                                                              \
    _Pragma("omp simd reduction(+ : s)") for (size_t i = 0; i < n; i++) s +=   \
        (double)a[i];                                                          \
    return s;                                                                  \
  }                                                                            \
  static double red_PROD_##sfx(const T *a, size_t n) {                         \
    double p = 1;                                                              \
    _Pragma("omp simd reduction(* : p)") for (size_t i = 0; i < n; i++) p *=   \
        (double)a[i];                                                          \
    return p;                                                                  \
  }                                                                            \
  static double red_MIN_##sfx(const T *a, size_t n) {                          \
    T m = a[0];                                                                \
    int nan = 0;                                                               \
    _Pragma("omp simd reduction(min : m) reduction(| : nan)") for (            \
        size_t i = 0; i < n; i++) {                                            \
      m = a[i] < m ? a[i] : m;                                                 \
      nan |= a[i] != a[i];                                                     \
    }                                                                          \
    return nan ? (double)NAN : (double)m;                                      \
  }                                                                            \
  static double red_MAX_##sfx(const T *a, size_t n) {                          \
    T m = a[0];                                                                \
    int nan = 0;                                                               \
    _Pragma("omp simd reduction(max : m) reduction(| : nan)") for (            \
        size_t i = 0; i < n; i++) {                                            \
      m = a[i] > m ? a[i] : m;                                                 \
      nan |= a[i] != a[i];                                                     \
    }                                                                          \
    return nan ? (double)NAN : (double)m;                                      \
  }
REDS(float, f32)
REDS(double, f64)

/* ---- fused runs (kernels/expr_ops.h) ----
 * Strips of XR_STRIP_BYTES: small enough that a run's strips stay in L1
 * with its input lines in flight, large enough that the dispatch of an
 * operation (one switch) is paid once per several vectors. */
#ifndef XR_STRIP_BYTES
#define XR_STRIP_BYTES 512
#endif
#if defined(OMPB_ISA_AVX512F)
#define NT_F(p, v) _mm512_stream_ps(p, v)
#define NT_D(p, v) _mm512_stream_pd(p, v)
#elif defined(OMPB_ISA_AVX2)
#define NT_F(p, v) _mm256_stream_ps(p, v)
#define NT_D(p, v) _mm256_stream_pd(p, v)
#elif defined(OMPB_ISA_SSE2)
#define NT_F(p, v) _mm_stream_ps(p, v)
#define NT_D(p, v) _mm_stream_pd(p, v)
#endif
/* affine as kernels/k_arith.c computes it on this ISA (the same bits) */
#if defined(__FMA__)
#define AFFINE_F(a, x, b) fmaf(a, x, b)
#else
#define AFFINE_F(a, x, b) ((float)((double)(a) * (double)(x) + (double)(b)))
#endif
#define AFFINE_D(a, x, b) fma(a, x, b)

#define XR_L1(code, expr)                                                      \
  case code:                                                                   \
    _Pragma("omp simd") for (size_t i = 0; i < m; i++) {                      \
      const xr_t x = a[i];                                                        \
      d[i] = (expr);                                                           \
    }                                                                          \
    break;
#define XR_L2(code, expr)                                                      \
  case code:                                                                   \
    _Pragma("omp simd") for (size_t i = 0; i < m; i++) {                      \
      const xr_t x = a[i], y = b[i];                                              \
      d[i] = (expr);                                                           \
    }                                                                          \
    break;
#define XR_L3(code, expr)                                                      \
  case code:                                                                   \
    _Pragma("omp simd") for (size_t i = 0; i < m; i++) {                      \
      const xr_t x = a[i], y = b[i], z = c[i];                                    \
      d[i] = (expr);                                                           \
    }                                                                          \
    break;
#define XR_SEL(k, cmp)                                                         \
  case OMPB__XR_SEL + k:                                                       \
    _Pragma("omp simd") for (size_t i = 0; i < m; i++) {                      \
      const xr_t x = a[i], y = b[i], t = c[i], f = e[i];                          \
      d[i] = x cmp y ? t : f;                                                  \
    }                                                                          \
    break;                                                                     \
  case OMPB__XR_SEL + OMPB__ES_NEG + k:                                        \
    _Pragma("omp simd") for (size_t i = 0; i < m; i++) {                      \
      const xr_t x = a[i], y = b[i], t = c[i], f = e[i];                          \
      d[i] = x cmp y ? t : -f;                                                 \
    }                                                                          \
    break;

/* One strip of m elements through every operation of the run; P: the
 * operands' addresses for this strip. Inlined twice per type: for full
 * strips (m a constant) and for the last, partial one. */
#define XR_STEP(T, sfx, FMA, pp, ABS, VSQRT, LD, ST, NV, SQRTS)                \
  static inline __attribute__((always_inline)) void xr_step_##sfx(             \
      const struct ompb__xrop *ops, size_t nops, T *const *P, size_t m) {      \
    typedef T xr_t;                                                            \
    for (size_t k = 0; k < nops; k++) {                                        \
      const struct ompb__xrop *o = &ops[k];                                    \
      T *d = P[o->dst];                                                        \
      const T *a = P[o->a], *b = P[o->b], *c = P[o->c], *e = P[o->d];         \
      const T p0 = o->pp[0], p1 = o->pp[1];                                    \
      (void)p1;                                                                \
      switch (o->code) {                                                       \
        XR_L2(OMPB__XR_BIN + OMPB__EB_ADD, x + y)                              \
        XR_L2(OMPB__XR_BIN + OMPB__EB_SUB, x - y)                              \
        XR_L2(OMPB__XR_BIN + OMPB__EB_MUL, x * y)                              \
        XR_L2(OMPB__XR_BIN + OMPB__EB_DIV, x / y)                              \
        XR_L2(OMPB__XR_BIN + OMPB__EB_NMUL, -(x * y))                          \
        XR_L2(OMPB__XR_BIN + OMPB__EB_MIN, (x < y || x != x) ? x : y)          \
        XR_L2(OMPB__XR_BIN + OMPB__EB_MAX, (x > y || x != x) ? x : y)          \
        XR_L2(OMPB__XR_BIN + OMPB__EB_LT, x < y ? (xr_t)1 : (xr_t)0)           \
        XR_L2(OMPB__XR_BIN + OMPB__EB_LE, x <= y ? (xr_t)1 : (xr_t)0)                \
        XR_L2(OMPB__XR_BIN + OMPB__EB_GT, x > y ? (xr_t)1 : (xr_t)0)                 \
        XR_L2(OMPB__XR_BIN + OMPB__EB_GE, x >= y ? (xr_t)1 : (xr_t)0)                \
        XR_L2(OMPB__XR_BIN + OMPB__EB_EQ, x == y ? (xr_t)1 : (xr_t)0)                \
        XR_L2(OMPB__XR_BIN + OMPB__EB_NE, x != y ? (xr_t)1 : (xr_t)0)                \
        XR_L3(OMPB__XR_TRI + OMPB__ET_FMA, FMA(x, y, z))                       \
        XR_L3(OMPB__XR_TRI + OMPB__ET_FMS, FMA(x, y, -z))                      \
        XR_L3(OMPB__XR_TRI + OMPB__ET_FNMA, FMA(-x, y, z))                     \
        XR_L3(OMPB__XR_TRI + OMPB__ET_WHERE, x != 0 ? y : z)                   \
        XR_SEL(0, <) XR_SEL(1, <=) XR_SEL(2, >) XR_SEL(3, >=) XR_SEL(4, ==)    \
        XR_SEL(5, !=)                                                          \
        XR_L1(OMPB__XR_NEG, -x)                                                \
        XR_L1(OMPB__XR_FLOOR, FLOORS(x))                                       \
        XR_L1(OMPB__XR_CEIL, CEILS(x))                                         \
        XR_L1(OMPB__XR_SCALE, p0 * x)                                          \
        XR_L1(OMPB__XR_ADDS, x + p0)                                           \
        XR_L1(OMPB__XR_AFFINE, AFFINE(p0, x, p1))                              \
        XR_L1(OMPB__XR_ABS, ABS(x))                                            \
      case OMPB__XR_SQRT: {                                                    \
        size_t i = 0;                                                          \
        VSQRT_LOOP(VSQRT, LD, ST, NV)                                          \
        for (; i < m; i++) d[i] = SQRTS(a[i]);                                 \
        break;                                                                 \
      }                                                                        \
      default: break;                                                          \
      }                                                                        \
    }                                                                          \
  }
#if defined(VSQRT_F)
#define VSQRT_LOOP(VSQRT, LD, ST, NV)                                          \
  for (; i + NV <= m; i += NV) ST(d + i, VSQRT(LD(a + i)));
#else
#define VSQRT_LOOP(VSQRT, LD, ST, NV)
#endif
#define FLOORS floorf
#define CEILS ceilf
#define AFFINE AFFINE_F
XR_STEP(float, f32, FMA_F, pf, fabsf, VSQRT_F, LDF, STF, NF, sqrtf)
#undef FLOORS
#undef CEILS
#undef AFFINE
#define FLOORS floor
#define CEILS ceil
#define AFFINE AFFINE_D
XR_STEP(double, f64, FMA_D, pd, fabs, VSQRT_D, LDD, STD, ND, sqrt)
#undef FLOORS
#undef CEILS
#undef AFFINE

/* The run strip by strip. The external operand nt (if any) is written
 * into a stack strip and streamed from there: full strips with
 * non-temporal stores (64-byte aligned, as the caller promises), the
 * last partial one with plain stores. */
#define XR_RUN(T, sfx, NTV, NV)                                                \
  static void run_##sfx(const struct ompb__xrun *r, T *const *ext, size_t n,   \
                        int nt) {                                              \
    enum { S = XR_STRIP_BYTES / sizeof(T) };                                   \
    _Alignas(64) T strips[OMPB__XR_MAX_STRIPS + 1][S];                         \
    T *P[OMPB__XR_MAX_OPERANDS + 1];                                           \
    const unsigned next = r->next;                                             \
    for (unsigned k = 0; k < r->nint; k++) P[next + k] = strips[k];           \
    for (size_t i0 = 0; i0 < n; i0 += S) {                                     \
      const size_t m = n - i0 < S ? n - i0 : S;                                \
      for (unsigned k = 0; k < next; k++) P[k] = ext[k] + i0;                 \
      for (unsigned k = 0; k < r->npf; k++) PREFETCH_BLOCK(P[k], S * sizeof(T)); \
      if (nt >= 0) P[nt] = strips[OMPB__XR_MAX_STRIPS];                        \
      if (m == S) xr_step_##sfx(r->ops, r->nops, P, S);                        \
      else xr_step_##sfx(r->ops, r->nops, P, m);                               \
      if (nt >= 0) {                                                           \
        const T *src = strips[OMPB__XR_MAX_STRIPS];                            \
        T *dst = ext[nt] + i0;                                                 \
        size_t i = 0;                                                          \
        NT_LOOP(NTV, NV)                                                       \
        for (; i < m; i++) dst[i] = src[i];                                    \
      }                                                                        \
    }                                                                          \
  }
#if defined(NT_F)
#define NT_LOOP(NTV, NV)                                                       \
  if (m == S)                                                                  \
    for (; i < S; i += NV) NTV(dst + i, src + i);
#define NTV_F(q, s) NT_F(q, LDF(s))
#define NTV_D(q, s) NT_D(q, LDD(s))
#else
#define NT_LOOP(NTV, NV)
#endif
XR_RUN(float, f32, NTV_F, NF)
XR_RUN(double, f64, NTV_D, ND)

extern const ompb__expr_ops OPS;
const ompb__expr_ops OPS = {
    .isa = ISA_NAME,
#define E_UN(T) {un_NEG_##T, un_FLOOR_##T, un_CEIL_##T, un_ASINH_##T,        \
                 un_ACOSH_##T, un_ATANH_##T, un_SQRT_##T}
    .un_f32 = E_UN(f32),
    .un_f64 = E_UN(f64),
#define E_BIN_F32(name) [OMPB__EB_##name] = bin_##name##_f32,
#define E_BIN_F64(name) [OMPB__EB_##name] = bin_##name##_f64,
    .bin_f32 = {OMPB_EXPR_BINOPS(E_BIN_F32)},
    .bin_f64 = {OMPB_EXPR_BINOPS(E_BIN_F64)},
    .tri_f32 = {tri_FMA_f32, tri_FMS_f32, tri_FNMA_f32, tri_WHERE_f32},
    .tri_f64 = {tri_FMA_f64, tri_FMS_f64, tri_FNMA_f64, tri_WHERE_f64},
#define E_SEL(T) {sel_LT_##T, sel_LE_##T, sel_GT_##T, sel_GE_##T, sel_EQ_##T,  \
                  sel_NE_##T, seln_LT_##T, seln_LE_##T, seln_GT_##T,           \
                  seln_GE_##T, seln_EQ_##T, seln_NE_##T}
    .sel_f32 = E_SEL(f32),
    .sel_f64 = E_SEL(f64),
    .red_f32 = {red_SUM_f32, red_PROD_f32, red_MIN_f32, red_MAX_f32},
    .red_f64 = {red_SUM_f64, red_PROD_f64, red_MIN_f64, red_MAX_f64},
    .run_f32 = run_f32,
    .run_f64 = run_f64,
};
