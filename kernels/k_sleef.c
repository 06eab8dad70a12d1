/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: those that are SLEEF's functions on every ISA, f32 and
 * f64 (the shape: SLEEF1 and SLEEF2 in kernels/isa.h), for the ISA this
 * object is compiled for. SLEEF's accuracy suffixes: u05, u10, u15, u35
 * (0.5, 1.0, 1.5, 3.5 ULP), as documented per kernel in
 * include/ompbatch/simd.h. */
#include "isa.h"

/* ---- unary ---- */
SLEEF1(asin, asin, u10, u10)
SLEEF1(asin_fast, asin, u35, u35)
SLEEF1(acos, acos, u10, u10)
SLEEF1(acos_fast, acos, u35, u35)
SLEEF1(atan, atan, u10, u10)
SLEEF1(atan_fast, atan, u35, u35)
SLEEF1(sinh, sinh, u10, u10)
SLEEF1(sinh_fast, sinh, u35, u35)
SLEEF1(cosh, cosh, u10, u10)
SLEEF1(cosh_fast, cosh, u35, u35)
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
