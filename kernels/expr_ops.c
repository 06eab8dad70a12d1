/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: the expression evaluator's own block operations (see
 * kernels/expr_ops.h), compiled once per ISA by mk/expr.mk with the
 * kernels' ISA flags, so that each `omp simd` loop is vectorised for it.
 * They are plain loops: the data is in L1/L2 (a block of the evaluator),
 * so the loop body is all that costs. */
#include <float.h>
#include <stdint.h>
#include <string.h>

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

/* The exact operations that are bit work, one element, written so that
 * the `omp simd` loops vectorise them at every ISA: both sides of each
 * choice are computed in every lane and chosen by integer masks (a
 * floating-point operation under a condition is control flow that gcc
 * does not if-convert at AVX2 and SSE2, since it may trap; even a plain
 * ?: of two computed values gets one sunk into a branch).
 * round: to nearest, halves to even (rint in the default rounding mode):
 * below 2^23 (2^52), |x| + 2^23 rounds |x| to an integer in the addition
 * (an ULP of 1 there, ties to even), the subtraction is exact, and the
 * sign goes back on (-0.4 gives -0); larger values, infinities and NaN are
 * integers or NaN already. The compilers keep (s + c) - c: no
 * -ffast-math here. */
/* kernels/isa.h's bit casts, by the type suffix the macros below paste */
#define op_bits_f32 bits_of_f
#define op_bits_f64 bits_of
#define op_from_f32 float_of
#define op_from_f64 double_of
#define OP_MASK(U, c) ((U)0 - (U)((c) != 0))
/* 1 where c holds, else +0 (a conversion of c is control flow to gcc) */
#define OP_ONE(U, sfx, c) op_from_##sfx(OP_MASK(U, c) & op_bits_##sfx(1))
#define OP_PICK(m, a, b) (((a) & (m)) | ((b) & ~(m)))
static inline float op_round_f32(float x) {
  const float ax = fabsf(x), r = copysignf((ax + 0x1p23f) - 0x1p23f, x);
  const uint32_t m = OP_MASK(uint32_t, ax < 0x1p23f);
  const uint32_t u = OP_PICK(m, op_bits_f32(r), op_bits_f32(x));
  float o;
  memcpy(&o, &u, sizeof o);
  return o;
}
/* f64 at SSE2 and in the scalar build stays scalar (no 64-bit integer
 * compares to vectorise with): there plain branches are the faster form. */
#if defined(OMPB_ISA_AVX2) || defined(OMPB_ISA_AVX512F)
#define OP_VEC_F64 1
#else
#define OP_VEC_F64 0
#endif
static inline double op_round_f64(double x) {
  const double ax = fabs(x), r = copysign((ax + 0x1p52) - 0x1p52, x);
#if OP_VEC_F64
  const uint64_t m = OP_MASK(uint64_t, ax < 0x1p52);
  const uint64_t u = OP_PICK(m, op_bits_f64(r), op_bits_f64(x));
  double o;
  memcpy(&o, &u, sizeof o);
  return o;
#else
  return ax < 0x1p52 ? r : x;
#endif
}
/* numpy's sign: 1, -1, +0 for either zero, x itself (NaN) otherwise. */
static inline float op_sign_f32(float x) {
  return x > 0 ? 1.0f : x < 0 ? -1.0f : x == 0 ? 0.0f : x;
}
static inline double op_sign_f64(double x) {
  return x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x;
}
/* nextafter(x, y) as C99's (numpy's): x + y if either is NaN, y if x ==
 * y (nextafter(0, -0) is -0), the smallest subnormal with y's sign from a
 * zero, else x's bits one up (away from zero: x < y and x > 0 agree) or
 * down (towards it): the magnitude is the bits below the sign, so +-1 on
 * them steps one ULP, from the largest finite value to infinity and
 * back. */
#define OP_NEXTAFTER(T, U, sfx, tiny, COPYSIGN)                                \
  static inline T op_nextafter_##sfx(T x, T y) {                               \
    const T nan = x + y, z = COPYSIGN(tiny, y);                                \
    const U lt = OP_MASK(U, x < y), pos = OP_MASK(U, x > 0);                   \
    const U zero = OP_MASK(U, x == 0), eq = OP_MASK(U, x == y);                \
    const U isnan_ = OP_MASK(U, (x != x) | (y != y));                          \
    U u = op_bits_##sfx(x) + ((lt ^ pos) | 1u); /* +1, or all ones: -1 */        \
    u = OP_PICK(zero, op_bits_##sfx(z), u);                                       \
    u = OP_PICK(eq, op_bits_##sfx(y), u);                                         \
    u = OP_PICK(isnan_, op_bits_##sfx(nan), u);                                   \
    T r;                                                                       \
    memcpy(&r, &u, sizeof r);                                                  \
    return r;                                                                  \
  }
OP_NEXTAFTER(float, uint32_t, f32, 0x1p-149f, copysignf)
#if OP_VEC_F64
OP_NEXTAFTER(double, uint64_t, f64, 0x1p-1074, copysign)
#else
static inline double op_nextafter_f64(double x, double y) {
  if (x != x || y != y) return x + y;
  if (x == y) return y;
  if (x == 0) return copysign(0x1p-1074, y);
  uint64_t u = op_bits_f64(x);
  u += (x < y) == (x > 0) ? 1u : ~(uint64_t)0;
  return op_from_f64(u);
}
#endif
/* numpy's floor_divide given m = fmod(a, b) (npy_divmod after its fmod):
 * a / b where b == 0; else div = (a - m) / b, less 1 where m is non-zero
 * (NaN too) and m and b differ in sign (isless: NaN is not < 0), then
 * floor(div) plus 1 where div - floor(div) > 0.5 (the quotient's
 * rounding), or a zero signed as a / b where div is zero. floor(div) is
 * r - (r > div) with r = op_round(div): exact, -0 kept, NaN and the
 * integers beyond 2^52 unchanged (the C library's floor does not
 * vectorise). Choices by masks, as above. */
#define OP_FLOORDIV(T, U, sfx, COPYSIGN)                                       \
  static inline T op_floordiv_##sfx(T a, T b, T m) {                           \
    const T q = a / b;                                                         \
    const T div = (a - m) / b - OP_ONE(U, sfx, (m != 0) & ((b < 0) != (m < 0))); \
    const T r = op_round_##sfx(div);                                           \
    const T fl = r - OP_ONE(U, sfx, r > div);                                  \
    const T snap = fl + OP_ONE(U, sfx, div - fl > (T)0.5);                     \
    const T zq = COPYSIGN((T)0, q);                                            \
    const U nz = OP_MASK(U, div != 0), b0 = OP_MASK(U, b == 0);                \
    U u = OP_PICK(nz, op_bits_##sfx(snap), op_bits_##sfx(zq));                 \
    u = OP_PICK(b0, op_bits_##sfx(q), u);                                      \
    T o;                                                                       \
    memcpy(&o, &u, sizeof o);                                                  \
    return o;                                                                  \
  }
OP_FLOORDIV(float, uint32_t, f32, copysignf)
#if OP_VEC_F64
OP_FLOORDIV(double, uint64_t, f64, copysign)
#else
static inline double op_floordiv_f64(double a, double b, double m) {
  if (b == 0) return a / b;
  double div = (a - m) / b;
  if (m != 0 && (b < 0) != (m < 0)) div -= 1;
  if (div == 0) return copysign(0, a / b);
  double fl = floor(div);
  return div - fl > 0.5 ? fl + 1 : fl;
}
#endif
#define op_copysign_f32 copysignf
#define op_copysign_f64 copysign
#define op_trunc_f32 truncf
#define op_trunc_f64 trunc

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
  BIN(NE, T, sfx, x != y ? (T)1 : (T)0)                                        \
  BIN(COPYSIGN, T, sfx, op_copysign_##sfx(x, y))                               \
  BIN(NEXTAFTER, T, sfx, op_nextafter_##sfx(x, y))
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
TRI(FLOORDIV, float, f32, op_floordiv_f32(x, y, z))
TRI(FMA, double, f64, FMA_D(x, y, z))
TRI(FMS, double, f64, FMA_D(x, y, -z))
TRI(FNMA, double, f64, FMA_D(-x, y, z))
TRI(WHERE, double, f64, x != 0 ? y : z)
TRI(FLOORDIV, double, f64, op_floordiv_f64(x, y, z))

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
UN(ROUND, float, f32, op_round_f32(x))
UN(TRUNC, float, f32, truncf(x))
UN(SIGN, float, f32, op_sign_f32(x))
UN(ROUND, double, f64, op_round_f64(x))
UN(TRUNC, double, f64, trunc(x))
UN(SIGN, double, f64, op_sign_f64(x))

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
 * operation (one switch) is paid once per several vectors. Within a strip,
 * or along a run of one operation, an operation goes by chunks of
 * XR_CHUNK_BYTES (four cache lines): the inputs are prefetched a chunk at
 * a time, and an operation that writes the streamed operand computes a
 * chunk in registers and stores it with non-temporal stores. */
#ifndef XR_STRIP_BYTES
#define XR_STRIP_BYTES 512
#endif
#define XR_CHUNK_BYTES 256
#if defined(OMPB_ISA_AVX512F)
#define NT_F(p, v) _mm512_stream_ps(p, v)
#define NT_D(p, v) _mm512_stream_pd(p, v)
#define LDAF _mm512_load_ps
#define LDAD _mm512_load_pd
#elif defined(OMPB_ISA_AVX2)
#define NT_F(p, v) _mm256_stream_ps(p, v)
#define NT_D(p, v) _mm256_stream_pd(p, v)
#define LDAF _mm256_load_ps
#define LDAD _mm256_load_pd
#elif defined(OMPB_ISA_SSE2)
#define NT_F(p, v) _mm_stream_ps(p, v)
#define NT_D(p, v) _mm_stream_pd(p, v)
#define LDAF _mm_load_ps
#define LDAD _mm_load_pd
#endif
/* affine as kernels/k_arith.c computes it on this ISA (the same bits) */
#if defined(__FMA__)
#define AFFINE_F(a, x, b) fmaf(a, x, b)
#else
#define AFFINE_F(a, x, b) ((float)((double)(a) * (double)(x) + (double)(b)))
#endif
#define AFFINE_D(a, x, b) fma(a, x, b)

/* The operands of element i: x = a[i], y = b[i] (or the constant p0 for
 * the K forms), z = c[i]; a select's then t = c[i] and else f = e[i]. */
#define XR_LD1() const xr_t x = a[i];
#define XR_LD2() const xr_t x = a[i], y = b[i];
#define XR_LD3() const xr_t x = a[i], y = b[i], z = c[i];
#define XR_LD3K() const xr_t x = a[i], y = p0, z = c[i];
#define XR_LD4() const xr_t x = a[i], y = b[i], t = c[i], f = e[i];
#define XR_LD4K() const xr_t x = a[i], y = p0, t = c[i], f = e[i];
#define XR_LD4KX() const xr_t x = a[i], y = p0, t = c[i], f = x;

/* Sanitizer builds (make sanitize, make fuzz: ASan, TSan) keep one copy
 * of xr_op per type and one plain loop per operation (no chunks, no
 * non-temporal stores: the same values): inlined into the run of one
 * operation and twice into the strip loop, each of its ~50 operations'
 * three loops instrumented, one object took clang 14 eight minutes at -O3
 * and 3 GB (90 s with one copy); these builds check behaviour, not speed,
 * and the streamed path's bits are checked by the plain builds' tests. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define XR_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define XR_SANITIZED 1
#endif
#endif
#if defined(XR_SANITIZED)
#define XR_OP_INLINE __attribute__((noinline))
#else
#define XR_OP_INLINE inline __attribute__((always_inline))
#endif

/* An operation over [0, m): whole chunks (the inputs P[0, npf)
 * prefetched; with nt, computed into a register-sized buffer and stored
 * with non-temporal stores, d being 64-byte aligned), then the rest with
 * plain stores. The expression is the block operation's own. */
#if defined(NT_F) && !defined(XR_SANITIZED)
#define XR_NT_CHUNKS(LD, expr)                                                 \
  if (nt)                                                                      \
    for (; i0 + C <= m; i0 += C) {                                             \
      XR_PF(i0);                                                               \
      _Alignas(64) xr_t w_[C];                                                 \
      _Pragma("omp simd") for (size_t j = 0; j < C; j++) {                     \
        const size_t i = i0 + j;                                               \
        LD() w_[j] = (expr);                                                     \
      }                                                                        \
      for (size_t j = 0; j < C; j += NV) NTST(d + i0 + j, LDA(w_ + j));         \
    }
#else
#define XR_NT_CHUNKS(LD, expr)
#endif
#if defined(XR_SANITIZED)
#define XR_BODY(LD, expr)                                                      \
  {                                                                            \
    (void)nt;                                                                  \
    (void)npf;                                                                 \
    for (size_t i = 0; i < m; i++) {                                           \
      LD() d[i] = (expr);                                                      \
    }                                                                          \
  }
#else
#define XR_BODY(LD, expr)                                                      \
  {                                                                            \
    size_t i0 = 0;                                                             \
    XR_NT_CHUNKS(LD, expr)                                                     \
    for (; i0 + C <= m; i0 += C) {                                             \
      XR_PF(i0);                                                               \
      _Pragma("omp simd") for (size_t i = i0; i < i0 + C; i++) {               \
        LD() d[i] = (expr);                                                    \
      }                                                                        \
    }                                                                          \
    _Pragma("omp simd") for (size_t i = i0; i < m; i++) {                      \
      LD() d[i] = (expr);                                                      \
    }                                                                          \
  }
#endif
#define XR_CASE(code, LD, expr)                                                \
  case code:                                                                   \
    XR_BODY(LD, expr)                                                          \
    break;
/* A select against a constant whose else is the compared operand
 * (where(x > 0, log(x), -x)) reads it once. */
#define XR_CASE_KX(code, LD, expr)                                             \
  case code:                                                                   \
    if (e == a) XR_BODY(XR_LD4KX, expr)                                        \
    else XR_BODY(LD, expr)                                                     \
    break;
#define XR_PF(i0)                                                              \
  for (unsigned k_ = 0; k_ < npf; k_++) PREFETCH_BLOCK(P[k_] + (i0), XR_CHUNK_BYTES)
#define XR_SELS(CASE, base, LD, y_)                                            \
  CASE(base + 0, LD, x < y_ ? t : f)                                           \
  CASE(base + 1, LD, x <= y_ ? t : f)                                          \
  CASE(base + 2, LD, x > y_ ? t : f)                                           \
  CASE(base + 3, LD, x >= y_ ? t : f)                                          \
  CASE(base + 4, LD, x == y_ ? t : f)                                          \
  CASE(base + 5, LD, x != y_ ? t : f)                                          \
  CASE(base + OMPB__ES_NEG + 0, LD, x < y_ ? t : -f)                           \
  CASE(base + OMPB__ES_NEG + 1, LD, x <= y_ ? t : -f)                          \
  CASE(base + OMPB__ES_NEG + 2, LD, x > y_ ? t : -f)                           \
  CASE(base + OMPB__ES_NEG + 3, LD, x >= y_ ? t : -f)                          \
  CASE(base + OMPB__ES_NEG + 4, LD, x == y_ ? t : -f)                          \
  CASE(base + OMPB__ES_NEG + 5, LD, x != y_ ? t : -f)

/* One operation o over m elements of its operands P[o->a], ...; nt: its
 * destination is streamed. Inlined into the run of one operation (P the
 * external arrays, npf inputs prefetched) and into the strip loop (npf 0:
 * the strip loop prefetches). */
#define XR_OP(T, sfx, FMA, pp, ABS, VSQRT, LD, ST, NV_, SQRTS, NTST_, LDA_)    \
  static XR_OP_INLINE void xr_op_##sfx(                                        \
      const struct ompb__xrop *o, T *const *P, size_t m, bool nt,              \
      unsigned npf) {                                                          \
    typedef T xr_t;                                                            \
    enum { C = XR_CHUNK_BYTES / sizeof(T) };                                   \
    T *d = P[o->dst];                                                          \
    const T *a = P[o->a], *b = P[o->b], *c = P[o->c], *e = P[o->d];           \
    const T p0 = o->pp[0], p1 = o->pp[1];                                      \
    (void)p1, (void)nt;                                                        \
    switch (o->code) {                                                         \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_ADD, XR_LD2, x + y)                      \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_SUB, XR_LD2, x - y)                      \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_MUL, XR_LD2, x * y)                      \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_DIV, XR_LD2, x / y)                      \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_NMUL, XR_LD2, -(x * y))                  \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_MIN, XR_LD2, (x < y || x != x) ? x : y)  \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_MAX, XR_LD2, (x > y || x != x) ? x : y)  \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_LT, XR_LD2, x < y ? (xr_t)1 : (xr_t)0)   \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_LE, XR_LD2, x <= y ? (xr_t)1 : (xr_t)0)  \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_GT, XR_LD2, x > y ? (xr_t)1 : (xr_t)0)   \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_GE, XR_LD2, x >= y ? (xr_t)1 : (xr_t)0)  \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_EQ, XR_LD2, x == y ? (xr_t)1 : (xr_t)0)  \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_NE, XR_LD2, x != y ? (xr_t)1 : (xr_t)0)  \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_COPYSIGN, XR_LD2, op_copysign_##sfx(x, y)) \
      XR_CASE(OMPB__XR_BIN + OMPB__EB_NEXTAFTER, XR_LD2, op_nextafter_##sfx(x, y)) \
      XR_CASE(OMPB__XR_TRI + OMPB__ET_FMA, XR_LD3, FMA(x, y, z))               \
      XR_CASE(OMPB__XR_TRI + OMPB__ET_FMS, XR_LD3, FMA(x, y, -z))              \
      XR_CASE(OMPB__XR_TRI + OMPB__ET_FNMA, XR_LD3, FMA(-x, y, z))             \
      XR_CASE(OMPB__XR_TRI + OMPB__ET_WHERE, XR_LD3, x != 0 ? y : z)           \
      XR_CASE(OMPB__XR_TRI + OMPB__ET_FLOORDIV, XR_LD3, op_floordiv_##sfx(x, y, z)) \
      XR_CASE(OMPB__XR_TRIK + OMPB__ET_FMA, XR_LD3K, FMA(x, y, z))             \
      XR_CASE(OMPB__XR_TRIK + OMPB__ET_FMS, XR_LD3K, FMA(x, y, -z))            \
      XR_CASE(OMPB__XR_TRIK + OMPB__ET_FNMA, XR_LD3K, FMA(-x, y, z))           \
      XR_SELS(XR_CASE, OMPB__XR_SEL, XR_LD4, y)                                \
      XR_SELS(XR_CASE_KX, OMPB__XR_SELK, XR_LD4K, y)                           \
      XR_CASE(OMPB__XR_NEG, XR_LD1, -x)                                        \
      XR_CASE(OMPB__XR_FLOOR, XR_LD1, FLOORS(x))                               \
      XR_CASE(OMPB__XR_CEIL, XR_LD1, CEILS(x))                                 \
      XR_CASE(OMPB__XR_SCALE, XR_LD1, p0 * x)                                  \
      XR_CASE(OMPB__XR_ADDS, XR_LD1, x + p0)                                   \
      XR_CASE(OMPB__XR_AFFINE, XR_LD1, AFFINE(p0, x, p1))                      \
      XR_CASE(OMPB__XR_ABS, XR_LD1, ABS(x))                                    \
      XR_CASE(OMPB__XR_ROUND, XR_LD1, op_round_##sfx(x))                       \
      XR_CASE(OMPB__XR_TRUNC, XR_LD1, op_trunc_##sfx(x))                       \
      XR_CASE(OMPB__XR_SIGN, XR_LD1, op_sign_##sfx(x))                         \
    case OMPB__XR_SQRT: {                                                      \
      size_t i0 = 0;                                                           \
      XR_SQRT_VEC(VSQRT, LD, ST, NV_, NTST_)                                   \
      for (size_t i = i0; i < m; i++) d[i] = SQRTS(a[i]);                      \
      break;                                                                   \
    }                                                                          \
    default: break;                                                            \
    }                                                                          \
  }
/* the square root by its vector instruction (see un_SQRT_f32) */
#if defined(VSQRT_F) && defined(NT_F)
#define XR_SQRT_NT(VSQRT, LD, NV, NTST)                                        \
  if (nt)                                                                      \
    for (; i0 + C <= m; i0 += C) {                                             \
      XR_PF(i0);                                                               \
      for (size_t j = i0; j < i0 + C; j += NV) NTST(d + j, VSQRT(LD(a + j)));  \
    }
#else
#define XR_SQRT_NT(VSQRT, LD, NV, NTST)
#endif
#if defined(VSQRT_F)
#define XR_SQRT_VEC(VSQRT, LD, ST, NV, NTST)                                   \
  XR_SQRT_NT(VSQRT, LD, NV, NTST)                                              \
  for (; i0 + C <= m; i0 += C) {                                               \
    XR_PF(i0);                                                                 \
    for (size_t j = i0; j < i0 + C; j += NV) ST(d + j, VSQRT(LD(a + j)));      \
  }                                                                            \
  for (; i0 + NV <= m; i0 += NV) ST(d + i0, VSQRT(LD(a + i0)));
#else
#define XR_SQRT_VEC(VSQRT, LD, ST, NV, NTST)
#endif
#if !defined(NT_F)
#define NT_F(p, v)
#define NT_D(p, v)
#define LDAF(p) 0
#define LDAD(p) 0
#define NF 1
#define ND 1
#endif
#define FLOORS floorf
#define CEILS ceilf
#define AFFINE AFFINE_F
#define NTST NT_F
#define LDA LDAF
#define NV NF
XR_OP(float, f32, FMA_F, pf, fabsf, VSQRT_F, LDF, STF, NF, sqrtf, NT_F, LDAF)
#undef FLOORS
#undef CEILS
#undef AFFINE
#undef NTST
#undef LDA
#undef NV
#define FLOORS floor
#define CEILS ceil
#define AFFINE AFFINE_D
#define NTST NT_D
#define LDA LDAD
#define NV ND
XR_OP(double, f64, FMA_D, pd, fabs, VSQRT_D, LDD, STD, ND, sqrt, NT_D, LDAD)
#undef FLOORS
#undef CEILS
#undef AFFINE
#undef NTST
#undef LDA
#undef NV

/* The run: one operation goes over the whole range at once (a function of
 * its own: the strips' stack frame and saved registers are not its fixed
 * cost); longer runs strip by strip, every operation over a strip before the next strip. The
 * streamed operand nt is only written, by its operation's non-temporal
 * stores straight from the registers (64-byte aligned, as the caller
 * promises; a last partial chunk with plain stores). */
#define XR_RUN(T, sfx)                                                         \
  __attribute__((noinline)) static void run1_##sfx(                            \
      const struct ompb__xrop *o, T *const *ext, size_t n, bool nt,            \
      unsigned npf) {                                                          \
    xr_op_##sfx(o, ext, n, nt, npf);                                           \
  }                                                                            \
  __attribute__((noinline)) static void runs_##sfx(                            \
      const struct ompb__xrun *r, T *const *ext, size_t n, int nt) {           \
    enum { S = XR_STRIP_BYTES / sizeof(T) };                                   \
    _Alignas(64) T strips[OMPB__XR_MAX_STRIPS][S];                             \
    T *P[OMPB__XR_MAX_OPERANDS + 1];                                           \
    const unsigned next = r->next, npf = r->npf;                               \
    const struct ompb__xrop *ops = r->ops;                                     \
    const size_t nops = r->nops;                                               \
    for (unsigned k = 0; k < r->nint; k++) P[next + k] = strips[k];           \
    for (size_t i0 = 0; i0 < n; i0 += S) {                                     \
      const size_t m = n - i0 < S ? n - i0 : S;                                \
      for (unsigned k = 0; k < next; k++) P[k] = ext[k] + i0;                 \
      for (unsigned k = 0; k < npf; k++) PREFETCH_BLOCK(P[k], S * sizeof(T)); \
      if (m == S)                                                              \
        for (size_t k = 0; k < nops; k++)                                      \
          xr_op_##sfx(&ops[k], P, S, ops[k].dst == nt, 0);                     \
      else                                                                     \
        for (size_t k = 0; k < nops; k++)                                      \
          xr_op_##sfx(&ops[k], P, m, ops[k].dst == nt, 0);                     \
    }                                                                          \
  }                                                                            \
  static void run_##sfx(const struct ompb__xrun *r, T *const *ext, size_t n,   \
                        int nt) {                                              \
    if (r->nops == 1 && r->nint == 0)                                          \
      run1_##sfx(r->ops, ext, n, nt >= 0 && r->ops[0].dst == nt, r->npf);     \
    else                                                                       \
      runs_##sfx(r, ext, n, nt);                                               \
  }
XR_RUN(float, f32)
XR_RUN(double, f64)

extern const ompb__expr_ops OPS;
const ompb__expr_ops OPS = {
    .isa = ISA_NAME,
#define E_UN(T) {un_NEG_##T, un_FLOOR_##T, un_CEIL_##T, un_ASINH_##T,        \
                 un_ACOSH_##T, un_ATANH_##T, un_SQRT_##T, un_ROUND_##T,        \
                 un_TRUNC_##T, un_SIGN_##T}
    .un_f32 = E_UN(f32),
    .un_f64 = E_UN(f64),
#define E_BIN_F32(name) [OMPB__EB_##name] = bin_##name##_f32,
#define E_BIN_F64(name) [OMPB__EB_##name] = bin_##name##_f64,
    .bin_f32 = {OMPB_EXPR_BINOPS(E_BIN_F32)},
    .bin_f64 = {OMPB_EXPR_BINOPS(E_BIN_F64)},
    .tri_f32 = {tri_FMA_f32, tri_FMS_f32, tri_FNMA_f32, tri_WHERE_f32, tri_FLOORDIV_f32},
    .tri_f64 = {tri_FMA_f64, tri_FMS_f64, tri_FNMA_f64, tri_WHERE_f64, tri_FLOORDIV_f64},
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
