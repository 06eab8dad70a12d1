/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: those that are SLEEF's functions on every ISA, f32 and
 * f64 (the shape: SLEEF1 and SLEEF2 in kernels/isa.h), for the ISA this
 * object is compiled for. SLEEF's accuracy suffixes: u05, u10, u15, u35
 * (0.5, 1.0, 1.5, 3.5 ULP), as documented per kernel in
 * include/ompbatch/simd.h. */
#include <math.h>

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
 * of HYP32_BLOCK finds them). The f64 functions keep SLEEF's range, |x| <=
 * 709 (include/ompbatch/simd.h). */
#define HYP32_TOP 88.5f
#define HYP32_TOP_FAST 87.5f /* SLEEF's 3.5-ULP ones overflow from 88.03 */
#define HYP32_BLOCK 256
SLEEF1_F32_LOCAL(sinh_sl, sinh, u10)
SLEEF1_F32_LOCAL(sinh_fast_sl, sinh, u35)
SLEEF1_F32_LOCAL(cosh_sl, cosh, u10)
SLEEF1_F32_LOCAL(cosh_fast_sl, cosh, u35)
static void hyp32(void (*body)(const float *, float *, size_t, const void *),
                  double (*wide)(double), float top, const float *in, float *out, size_t n) {
  for (size_t lo = 0; lo < n; lo += HYP32_BLOCK) {
    const size_t m = n - lo < HYP32_BLOCK ? n - lo : HYP32_BLOCK;
    int big = 0;
#pragma omp simd reduction(| : big)
    for (size_t j = 0; j < m; j++) big |= fabsf(in[lo + j]) > top;
    if (!big) {
      body(in + lo, out + lo, m, NULL);
      continue;
    }
    float xs[HYP32_BLOCK];
    unsigned short at[HYP32_BLOCK];
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
SLEEF1_F64(sinh, sinh, u10)
SLEEF1_F64(sinh_fast, sinh, u35)
SLEEF1_F64(cosh, cosh, u10)
SLEEF1_F64(cosh_fast, cosh, u35)
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

/* ---- pow with a scalar exponent: params {p} ---- */
KDEF(pow_f32)(const float *in, float *out, size_t n, const void *params) {
  const float p = params ? ((const float *)params)[0] : 1.0f;
  size_t i = 0;
  VLOOP1P(NF, LDF, STF, SETF, VF(pow, u10), p)
  TAIL1(SF(pow, u10)(x, p))
}
KDEF(pow_f64)(const double *in, double *out, size_t n, const void *params) {
  const double p = params ? ((const double *)params)[0] : 1.0;
  size_t i = 0;
  VLOOP1P(ND, LDD, STD, SETD, VD(pow, u10), p)
  TAIL1(SD(pow, u10)(x, p))
}

/* ---- two-input ---- */
SLEEF2(pow, pow, u10, u10)
SLEEF2(atan2, atan2, u10, u10)
SLEEF2(atan2_fast, atan2, u35, u35)
SLEEF2(hypot, hypot, u05, u05)
SLEEF2(hypot_fast, hypot, u35, u35)
