/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: the arithmetic ones (scale, add_scalar, axpy, affine,
 * clamp, abs; two-input add and mul), f32 and f64, for the ISA this object
 * is compiled for (kernels/isa.h): plain `omp simd` loops that gcc
 * vectorises with the ISA's flags. */
#include "isa.h"

/* ---- arithmetic: plain omp simd loops ----
 * Fused a*x + y: one rounding. With FMA hardware that is fma(); without it,
 * f32 goes through double (a*x is exact in double, so the only error is a
 * double rounding, within 0.5 + 2^-29 ULP) and f64 calls the C library's
 * fma (exact; glibc picks the hardware instruction when present). */
#if defined(__FMA__)
#define FMA_F32(a, x, y) fmaf(a, x, y)
#else
#define FMA_F32(a, x, y) ((float)((double)(a) * (double)(x) + (double)(y)))
#endif

#define PARAM(T, i, dflt) (params ? ((const T *)params)[i] : (T)(dflt))

/* In blocks of ARITH_BLOCK, each prefetched ahead; `i` is the element. */
#define ARITH_BLOCK 1024
#define ARITH1(name, T, sfx, setup, expr)                                      \
  KDEF(name##_##sfx)(const T *in, T *out, size_t n, const void *params) {      \
    setup;                                                                     \
    for (size_t b0 = 0; b0 < n; b0 += ARITH_BLOCK) {                           \
      const size_t b1 = n - b0 < ARITH_BLOCK ? n : b0 + ARITH_BLOCK;           \
      PREFETCH_BLOCK(in + b0, (b1 - b0) * sizeof(T));                          \
      _Pragma("omp simd") for (size_t i = b0; i < b1; i++) {                   \
        const T x = in[i];                                                     \
        out[i] = (expr);                                                       \
      }                                                                        \
    }                                                                          \
  }

ARITH1(scale, float, f32, const float a = PARAM(float, 0, 1), a *x)
ARITH1(scale, double, f64, const double a = PARAM(double, 0, 1), a *x)
ARITH1(add_scalar, float, f32, const float b = PARAM(float, 0, 0), x + b)
ARITH1(add_scalar, double, f64, const double b = PARAM(double, 0, 0), x + b)
ARITH1(axpy, float, f32, const float a = PARAM(float, 0, 1),
       FMA_F32(a, x, out[i]))
ARITH1(axpy, double, f64, const double a = PARAM(double, 0, 1),
       fma(a, x, out[i]))
ARITH1(affine, float, f32, const float a = PARAM(float, 0, 1);
       const float b = PARAM(float, 1, 0), FMA_F32(a, x, b))
ARITH1(affine, double, f64, const double a = PARAM(double, 0, 1);
       const double b = PARAM(double, 1, 0), fma(a, x, b))
/* Two selects: NaN compares false and passes through; lo > hi gives hi. */
ARITH1(clamp, float, f32, const float lo = PARAM(float, 0, -INFINITY);
       const float hi = PARAM(float, 1, INFINITY),
       (x < lo ? lo : x) > hi ? hi : (x < lo ? lo : x))
ARITH1(clamp, double, f64, const double lo = PARAM(double, 0, -INFINITY);
       const double hi = PARAM(double, 1, INFINITY),
       (x < lo ? lo : x) > hi ? hi : (x < lo ? lo : x))
ARITH1(abs, float, f32, (void)params, fabsf(x))
ARITH1(abs, double, f64, (void)params, fabs(x))

/* ---- two-input kernels ---- */
#define ARITH2(name, T, sfx, expr)                                             \
  KDEF(k2_##name##_##sfx)                                                      \
  (const T *a, const T *b, T *out, size_t n, const void *params) {             \
    (void)params;                                                              \
    for (size_t b0 = 0; b0 < n; b0 += ARITH_BLOCK) {                           \
      const size_t b1 = n - b0 < ARITH_BLOCK ? n : b0 + ARITH_BLOCK;           \
      PREFETCH_BLOCK(a + b0, (b1 - b0) * sizeof(T));                           \
      PREFETCH_BLOCK(b + b0, (b1 - b0) * sizeof(T));                           \
      _Pragma("omp simd") for (size_t i = b0; i < b1; i++) out[i] = (expr);    \
    }                                                                          \
  }
ARITH2(add, float, f32, a[i] + b[i])
ARITH2(add, double, f64, a[i] + b[i])
ARITH2(mul, float, f32, a[i] * b[i])
ARITH2(mul, double, f64, a[i] * b[i])
