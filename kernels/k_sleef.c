/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: those that are SLEEF's functions on every ISA, f32 and
 * f64 (the shape: SLEEF1 and SLEEF2 in kernels/isa.h), for the ISA this
 * object is compiled for. SLEEF's accuracy suffixes: u05, u10, u15, u35
 * (0.5, 1.0, 1.5, 3.5 ULP), as documented per kernel in
 * include/ompbatch/simd.h. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "isa.h"

/* ---- unary ---- */
SLEEF1(asin, asin, u10, u10)
SLEEF1(asin_fast, asin, u35, u35)
SLEEF1(acos, acos, u10, u10)
SLEEF1(acos_fast, acos, u35, u35)
SLEEF1(atan, atan, u10, u10)
SLEEF1(atan_fast, atan, u35, u35)
/* sinh, cosh: SLEEF's f32 functions return inf for |x| > 88.72, where
 * e^|x| overflows float but sinh and cosh do not yet (up to 89.42). Lanes
 * with |x| > HYP32_TOP (the 3.5-ULP ones: HYP32_TOP_FAST) take the C
 * library's double function, rounded once (< 0.5 ULP + 2^-28 in float);
 * the rest of their block keeps SLEEF's vector values, so an element's
 * result depends on that element only. The block's big inputs are kept
 * aside first: this works in place. Such inputs are rare (a scan per block
 * of HYP_BLOCK finds them). The f64 functions likewise (hyp64 below). */
#define HYP32_TOP 88.5f
#define HYP32_TOP_FAST 87.5f /* SLEEF's 3.5-ULP ones overflow from 88.03 */
#define HYP_BLOCK 256
SLEEF1_F32_LOCAL(sinh_sl, sinh, u10)
SLEEF1_F32_LOCAL(sinh_fast_sl, sinh, u35)
SLEEF1_F32_LOCAL(cosh_sl, cosh, u10)
SLEEF1_F32_LOCAL(cosh_fast_sl, cosh, u35)
static void hyp32(void (*body)(const float *, float *, size_t, const void *),
                  double (*wide)(double), float top, const float *in, float *out, size_t n) {
  for (size_t lo = 0; lo < n; lo += HYP_BLOCK) {
    const size_t m = n - lo < HYP_BLOCK ? n - lo : HYP_BLOCK;
    int big = 0;
#pragma omp simd reduction(| : big)
    for (size_t j = 0; j < m; j++) big |= fabsf(in[lo + j]) > top;
    if (!big) {
      body(in + lo, out + lo, m, NULL);
      continue;
    }
    float xs[HYP_BLOCK];
    unsigned short at[HYP_BLOCK];
    size_t k = 0;
    for (size_t j = 0; j < m; j++)
      if (fabsf(in[lo + j]) > top) xs[k] = in[lo + j], at[k++] = (unsigned short)j;
    body(in + lo, out + lo, m, NULL);
    for (size_t q = 0; q < k; q++) out[lo + at[q]] = (float)wide((double)xs[q]);
  }
}
#define HYP32(name, wide, top)                                                 \
  KDEF(name##_f32)(const float *in, float *out, size_t n, const void *params) {  \
    (void)params;                                                              \
    hyp32(name##_sl_f32, wide, top, in, out, n);                               \
  }
HYP32(sinh, sinh, HYP32_TOP)
HYP32(sinh_fast, sinh, HYP32_TOP_FAST)
HYP32(cosh, cosh, HYP32_TOP)
HYP32(cosh_fast, cosh, HYP32_TOP_FAST)

/* f64: SLEEF's sinh and cosh return inf from |x| = 709.78 (the 3.5-ULP ones
 * from 709), where sinh and cosh are finite up to 710.4758600739439 =
 * ln(2 DBL_MAX). Lanes with 709 < |x| < 711 take e^|x| / 2
 * (ehalf; e^-|x| < 2^-2000 of it there), with x's sign for sinh; beyond
 * 711 and for NaN SLEEF's +-inf and NaN stay. Both accuracies are
 * within their bound up to 709 (0.501 and 0.91 ULP on [700, 709]). */
/* 709 < |x| < 711 in one compare (|x| - 710 is exact there), false for NaN */
static inline int hyp64_big(double x) { return fabs(fabs(x) - 710.0) < 1.0; }
/* e^a / 2 for a in (709, 711), rounded once: a = k ln2 + rh + rl, k an
 * integer, with ln2 = L2H + L2L and L2H of 41 bits, so that k L2H and
 * rh = a - k L2H are exact; e^(rh + rl) = (1 + rh + rh^2/2 + rh^3 p(rh))
 * (1 + rl), p Taylor's to rh^14 (|rh| <= 0.347: 2^-63), summed as a
 * double-double; then 2^(k-1) in two exact steps, the last one overflowing
 * exactly when the rounded result does. Max 0.514 ULP against MPFR. */
static double ehalf(double a) {
  static const double L2H = 0x1.62e42fefa3p-1, L2L = 0x1.3de6af278ece6p-42;
  static const double c[] = {1.0 / 87178291200.0, 1.0 / 6227020800.0,
                             1.0 / 479001600.0,   1.0 / 39916800.0,
                             1.0 / 3628800.0,     1.0 / 362880.0,
                             1.0 / 40320.0,       1.0 / 5040.0,
                             1.0 / 720.0,         1.0 / 120.0,
                             1.0 / 24.0,          1.0 / 6.0};
  const double k = nearbyint(a * 0x1.71547652b82fep0);
  const double rh = a - k * L2H, rl = -k * L2L;
  double p = c[0];
  for (size_t i = 1; i < sizeof c / sizeof c[0]; i++) p = fma(p, rh, c[i]);
  const double h2 = 0.5 * rh * rh, l2 = fma(0.5 * rh, rh, -h2);
  const double s = 1.0 + rh, t = rh - (s - 1.0); /* 1 + rh = s + t */
  const double s2 = s + h2, d = s2 - s;          /* s + h2 = s2 + t2 */
  const double t2 = (s - (s2 - d)) + (h2 - d);
  double lo = t + t2 + l2 + rh * rh * rh * p;
  lo += rl * (s2 + lo);
  return (s2 + lo) * ldexp(1.0, (int)k - 2) * 2.0;
}
SLEEF1_F64_LOCAL(sinh_sl, sinh, u10)
SLEEF1_F64_LOCAL(sinh_fast_sl, sinh, u35)
SLEEF1_F64_LOCAL(cosh_sl, cosh, u10)
SLEEF1_F64_LOCAL(cosh_fast_sl, cosh, u35)
static void hyp64(void (*body)(const double *, double *, size_t, const void *),
                  bool odd, const double *in, double *out, size_t n) {
  for (size_t lo = 0; lo < n; lo += HYP_BLOCK) {
    const size_t m = n - lo < HYP_BLOCK ? n - lo : HYP_BLOCK;
    int big = 0;
#pragma omp simd reduction(| : big)
    for (size_t j = 0; j < m; j++) big |= hyp64_big(in[lo + j]);
    if (!big) {
      body(in + lo, out + lo, m, NULL);
      continue;
    }
    double xs[HYP_BLOCK];
    unsigned short at[HYP_BLOCK];
    size_t k = 0;
    for (size_t j = 0; j < m; j++)
      if (hyp64_big(in[lo + j])) xs[k] = in[lo + j], at[k++] = (unsigned short)j;
    body(in + lo, out + lo, m, NULL);
    for (size_t q = 0; q < k; q++) {
      const double e = ehalf(fabs(xs[q]));
      out[lo + at[q]] = odd ? copysign(e, xs[q]) : e;
    }
  }
}
#define HYP64(name, odd)                                                       \
  KDEF(name##_f64)(const double *in, double *out, size_t n,                    \
                   const void *params) {                                       \
    (void)params;                                                              \
    hyp64(name##_sl_f64, odd, in, out, n);                                     \
  }
HYP64(sinh, true)
HYP64(sinh_fast, true)
HYP64(cosh, false)
HYP64(cosh_fast, false)
SLEEF1(tanh, tanh, u10, u10)
SLEEF1(tanh_fast, tanh, u35, u35)
SLEEF1(exp2, exp2, u10, u10)
SLEEF1(exp2_fast, exp2, u35, u35)
SLEEF1(expm1, expm1, u10, u10)
SLEEF1(log2, log2, u10, u10)
SLEEF1(log2_fast, log2, u35, u35)
SLEEF1(log10, log10, u10, u10)
SLEEF1(log1p, log1p, u10, u10)
SLEEF1(sqrt, sqrt, u05, u05)
SLEEF1(sqrt_fast, sqrt, u35, u35)
SLEEF1(cbrt, cbrt, u10, u10)
SLEEF1(cbrt_fast, cbrt, u35, u35)
SLEEF1(erf, erf, u10, u10)
/* erfc: f64 SLEEF's 1.5-ULP function, f32 the same evaluated in double */
SLEEF1_F64(erfc, erfc, u15)
WIDE_F32(erfc, K(erfc_f64), y)

/* ---- pow ----
 * SLEEF's f64 pow returns inf where x^y lies within ~1.7e-6 (relative)
 * below DBL_MAX (its exp's overflow test comes early, at y ln|x| >
 * 709.7827111): lanes whose result is +-inf are computed again by the C
 * library's pow (glibc: < 1 ULP, overflowing exactly), which gives the
 * same +-inf for every true overflow and infinite input. The block's
 * results go through `tmp` first, so the inputs are still there (in
 * place works). */
#define POW_BLOCK 256
KDEF(pow_f32)(const float *in, float *out, size_t n, const void *params) {
  const float p = params ? ((const float *)params)[0] : 1.0f;
  size_t i = 0;
  VLOOP1P(NF, LDF, STF, SETF, VF(pow, u10), p)
  TAIL1(SF(pow, u10)(x, p))
}
static void pow_sl_f64(const double *in, double *out, size_t n, double p) {
  size_t i = 0;
  VLOOP1P(ND, LDD, STD, SETD, VD(pow, u10), p)
  TAIL1(SD(pow, u10)(x, p))
}
static void pow2_sl_f64(const double *a, const double *b, double *out, size_t n) {
  size_t i = 0;
  VLOOP2(ND, LDD, STD, VD(pow, u10))
  _Pragma("omp simd") for (size_t j = i; j < n; j++) out[j] = SD(pow, u10)(a[j], b[j]);
}
/* The block's results in tmp: 1 when one is +-inf. */
static int pow_any_inf(const double *tmp, size_t m) {
  int inf = 0;
#pragma omp simd reduction(| : inf)
  for (size_t j = 0; j < m; j++) inf |= fabs(tmp[j]) > DBL_MAX;
  return inf;
}
KDEF(pow_f64)(const double *in, double *out, size_t n, const void *params) {
  const double p = params ? ((const double *)params)[0] : 1.0;
  double tmp[POW_BLOCK];
  for (size_t lo = 0; lo < n; lo += POW_BLOCK) {
    const size_t m = n - lo < POW_BLOCK ? n - lo : POW_BLOCK;
    pow_sl_f64(in + lo, tmp, m, p);
    if (pow_any_inf(tmp, m))
      for (size_t j = 0; j < m; j++)
        if (fabs(tmp[j]) > DBL_MAX) tmp[j] = pow(in[lo + j], p);
    memcpy(out + lo, tmp, m * sizeof tmp[0]);
  }
}

/* ---- two-input ---- */
KDEF(k2_pow_f32)
(const float *a, const float *b, float *out, size_t n, const void *params) {
  (void)params;
  size_t i = 0;
  VLOOP2(NF, LDF, STF, VF(pow, u10))
  _Pragma("omp simd") for (size_t j = i; j < n; j++) out[j] = SF(pow, u10)(a[j], b[j]);
}
KDEF(k2_pow_f64)
(const double *a, const double *b, double *out, size_t n, const void *params) {
  (void)params;
  double tmp[POW_BLOCK];
  for (size_t lo = 0; lo < n; lo += POW_BLOCK) {
    const size_t m = n - lo < POW_BLOCK ? n - lo : POW_BLOCK;
    pow2_sl_f64(a + lo, b + lo, tmp, m);
    if (pow_any_inf(tmp, m))
      for (size_t j = 0; j < m; j++)
        if (fabs(tmp[j]) > DBL_MAX) tmp[j] = pow(a[lo + j], b[lo + j]);
    memcpy(out + lo, tmp, m * sizeof tmp[0]);
  }
}
SLEEF2(atan2, atan2, u10, u10)
SLEEF2(atan2_fast, atan2, u35, u35)
SLEEF2(hypot, hypot, u05, u05)
SLEEF2(hypot_fast, hypot, u35, u35)

/* fmod is exact (a - trunc(a/b)*b is representable): SLEEF's vector fmod
 * (no accuracy suffix) gives the C library's bits wherever it is finite,
 * but NaN where a/b overflows (fmod(1e300, 1e-300), fmod(1, 2^-1074):
 * ~12% of random bit patterns), while the true fmod is finite wherever a
 * is finite and b is a non-zero number. Those lanes take the C library's
 * fmod, as do the scalar table and a build without SLEEF. A block goes
 * through a buffer so that out may be a or b. */
#define FMOD_BLOCK 256
#define FMOD2(T, sfx, W, LD, ST, V, C)                                         \
  KDEF(k2_fmod_##sfx)                                                          \
  (const T *a0, const T *b0, T *out0, size_t n0, const void *params) {         \
    (void)params;                                                              \
    for (size_t lo = 0; lo < n0; lo += FMOD_BLOCK) {                           \
      const T *a = a0 + lo, *b = b0 + lo;                                      \
      const size_t n = n0 - lo < FMOD_BLOCK ? n0 - lo : FMOD_BLOCK;            \
      T buf[FMOD_BLOCK], *out = buf;                                           \
      size_t i = 0;                                                            \
      VLOOP2(W, LD, ST, V)                                                     \
      for (size_t j = i; j < n; j++)                                           \
        out[j] = C(a[j], b[j]);                                                \
      for (size_t j = 0; j < n; j++)                                           \
        if (isnan(out[j]) && isfinite(a[j]) && !isnan(b[j]) && b[j] != 0)      \
          out[j] = C(a[j], b[j]);                                              \
      memcpy(out0 + lo, buf, n * sizeof buf[0]);                               \
    }                                                                          \
  }
FMOD2(float, f32, NF, LDF, STF, VF(fmod, ), fmodf)
FMOD2(double, f64, ND, LDD, STD, VD(fmod, ), fmod)
