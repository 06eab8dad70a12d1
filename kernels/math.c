/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: every built-in kernel, written once and compiled once per ISA
 * (kernels/kernels.mk): -DOMPB_ISA_AVX512F, -DOMPB_ISA_AVX2, -DOMPB_ISA_SSE2,
 * or none for the plain C "scalar" table. Each ISA's object defines one
 * table, ompb__simd_table_<isa>, that kernels/dispatch.c chooses from.
 *
 * Shape of a SLEEF kernel: the ISA's SLEEF vector entry point on full
 * vectors (unaligned loads and stores, so any pointer works and in == out is
 * fine: each vector is loaded before it is stored), then the same vector
 * function once more on a zero-padded copy of the tail (the scalar table
 * uses SLEEF's scalar functions throughout). Arithmetic kernels are plain
 * `omp simd` loops that gcc vectorises with the ISA's flags. ompbatch's own
 * kernels (sin/cos, exp, log_fast: see include/ompbatch/simd.h) follow.
 * Every loop prefetches PREFETCH_AHEAD bytes ahead of its reads.
 *
 * Without SLEEF (WITH_SLEEF=0) only the scalar table is built and the
 * transcendental kernels call the C library. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#if defined(OMPB_WITH_SLEEF) && OMPB_WITH_SLEEF
#define HAVE_SLEEF 1
#include <sleef.h>
#else
#define HAVE_SLEEF 0
#undef OMPB_ISA_AVX512F
#undef OMPB_ISA_AVX2
#undef OMPB_ISA_SSE2
#endif

/* ---- the ISA: vector types, loads/stores, SLEEF names ---- */
#if defined(OMPB_ISA_AVX512F)
#include <immintrin.h>
#define ISA_NAME "avx512f"
#define TABLE ompb__simd_table_avx512f
#define NF 16
#define ND 8
#define LDF _mm512_loadu_ps
#define STF _mm512_storeu_ps
#define LDD _mm512_loadu_pd
#define STD _mm512_storeu_pd
#define SETF _mm512_set1_ps
#define SETD _mm512_set1_pd
#define VF(fn, u) Sleef_##fn##f16_##u##avx512f
#define VD(fn, u) Sleef_##fn##d8_##u##avx512f
#elif defined(OMPB_ISA_AVX2)
#include <immintrin.h>
#define ISA_NAME "avx2"
#define TABLE ompb__simd_table_avx2
#define NF 8
#define ND 4
#define LDF _mm256_loadu_ps
#define STF _mm256_storeu_ps
#define LDD _mm256_loadu_pd
#define STD _mm256_storeu_pd
#define SETF _mm256_set1_ps
#define SETD _mm256_set1_pd
#define VF(fn, u) Sleef_##fn##f8_##u##avx2
#define VD(fn, u) Sleef_##fn##d4_##u##avx2
#elif defined(OMPB_ISA_SSE2)
#include <emmintrin.h>
#define ISA_NAME "sse2"
#define TABLE ompb__simd_table_sse2
#define NF 4
#define ND 2
#define LDF _mm_loadu_ps
#define STF _mm_storeu_ps
#define LDD _mm_loadu_pd
#define STD _mm_storeu_pd
#define SETF _mm_set1_ps
#define SETD _mm_set1_pd
#define VF(fn, u) Sleef_##fn##f4_##u##sse2
#define VD(fn, u) Sleef_##fn##d2_##u##sse2
#else
#define ISA_SCALAR 1
#define ISA_NAME "scalar"
#define TABLE ompb__simd_table_scalar
#endif

/* Scalar functions of the same accuracy, for tails and the scalar table. */
#if HAVE_SLEEF
#define SF(fn, u) Sleef_##fn##f_##u
#define SD(fn, u) Sleef_##fn##_##u
#else
#define SF(fn, u) fn##f
#define SD(fn, u) fn
#endif

/* Software prefetch, PREFETCH_AHEAD bytes ahead of the reads: on the
 * machines we measure on, the hardware prefetchers alone leave the
 * transcendental kernels at ~0.75x memcpy on large arrays; with this they
 * reach 0.9-1.0x (perf/bench_simd, README). A prefetch never faults, so
 * running past the end of an array is harmless. */
#define PREFETCH_AHEAD 4096
#define PREFETCH(p) __builtin_prefetch((const char *)(p) + PREFETCH_AHEAD)
#define PREFETCH_BLOCK(p, bytes)                                               \
  for (size_t pf_ = 0; pf_ < (bytes); pf_ += 64)                               \
  __builtin_prefetch((const char *)(p) + PREFETCH_AHEAD + pf_)

/* The loops. `i` is left at the first element the vector loop did not do. */
#if defined(ISA_SCALAR)
#define VLOOP1(W, LD, ST, vfn)
#define VLOOP1P(W, LD, ST, SET, vfn, p)
#define VLOOP2(W, LD, ST, vfn)
#else
/* After the full vectors, the last n - i elements also go through the
 * vector function, from a zero-padded copy: every element is computed by
 * the same code whatever its position, so a call on a shifted or split
 * array gives the same values (SLEEF's scalar functions may differ from
 * its vector ones in the last bit). */
#define VTAIL_PAD(W, LD, ST, expr_of_v)                                        \
  if (i < n) {                                                                 \
    __typeof__(out[0]) pi_[W] = {0}, po_[W];                                   \
    memcpy(pi_, in + i, (n - i) * sizeof pi_[0]);                              \
    const __typeof__(LD(pi_)) v_ = LD(pi_);                                    \
    ST(po_, (expr_of_v));                                                      \
    memcpy(out + i, po_, (n - i) * sizeof po_[0]);                             \
    i = n;                                                                     \
  }
#define VLOOP1(W, LD, ST, vfn)                                                 \
  for (; i + W <= n; i += W) {                                                 \
    PREFETCH(in + i);                                                          \
    ST(out + i, vfn(LD(in + i)));                                              \
  }                                                                            \
  VTAIL_PAD(W, LD, ST, vfn(v_))
#define VLOOP1P(W, LD, ST, SET, vfn, p)                                        \
  for (; i + W <= n; i += W) {                                                 \
    PREFETCH(in + i);                                                          \
    ST(out + i, vfn(LD(in + i), SET(p)));                                      \
  }                                                                            \
  VTAIL_PAD(W, LD, ST, vfn(v_, SET(p)))
#define VLOOP2(W, LD, ST, vfn)                                                 \
  for (; i + W <= n; i += W) {                                                 \
    PREFETCH(a + i);                                                           \
    PREFETCH(b + i);                                                           \
    ST(out + i, vfn(LD(a + i), LD(b + i)));                                    \
  }                                                                            \
  if (i < n) {                                                                 \
    __typeof__(out[0]) pa_[W] = {0}, pb_[W] = {0}, po_[W];                     \
    memcpy(pa_, a + i, (n - i) * sizeof pa_[0]);                               \
    memcpy(pb_, b + i, (n - i) * sizeof pb_[0]);                               \
    ST(po_, vfn(LD(pa_), LD(pb_)));                                            \
    memcpy(out + i, po_, (n - i) * sizeof po_[0]);                             \
    i = n;                                                                     \
  }
#endif
#define TAIL1(expr_of_x)                                                       \
  _Pragma("omp simd") for (size_t j = i; j < n; j++) {                         \
    const __typeof__(in[0]) x = in[j];                                         \
    out[j] = (expr_of_x);                                                      \
  }

/* A unary SLEEF kernel in both precisions: uf/ud are SLEEF's accuracy
 * suffixes (u10, u35, u05, u15). */
#define SLEEF1(name, fn, uf, ud)                                               \
  SLEEF1_F32(name, fn, uf)                                                     \
  SLEEF1_F64(name, fn, ud)
#define SLEEF1_F32(name, fn, uf)                                               \
  static void name##_f32(const float *in, float *out, size_t n,                \
                         const void *params) {                                 \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP1(NF, LDF, STF, VF(fn, uf))                                           \
    TAIL1(SF(fn, uf)(x))                                                       \
  }
#define SLEEF1_F64(name, fn, ud)                                               \
  static void name##_f64(const double *in, double *out, size_t n,              \
                         const void *params) {                                 \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP1(ND, LDD, STD, VD(fn, ud))                                           \
    TAIL1(SD(fn, ud)(x))                                                       \
  }

/* A two-input SLEEF kernel in both precisions. */
#define SLEEF2(name, fn, uf, ud)                                               \
  static void k2_##name##_f32(const float *a, const float *b, float *out,      \
                              size_t n, const void *params) {                  \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP2(NF, LDF, STF, VF(fn, uf))                                           \
    _Pragma("omp simd") for (size_t j = i; j < n; j++) out[j] =                \
        SF(fn, uf)(a[j], b[j]);                                                \
  }                                                                            \
  static void k2_##name##_f64(const double *a, const double *b, double *out,   \
                              size_t n, const void *params) {                  \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP2(ND, LDD, STD, VD(fn, ud))                                           \
    _Pragma("omp simd") for (size_t j = i; j < n; j++) out[j] =                \
        SD(fn, ud)(a[j], b[j]);                                                \
  }

/* ---- SLEEF-backed unary kernels ---- */
#if defined(__FMA__) /* own f32 sin_fast, cos_fast below; these for the rest   \
                      */
SLEEF1_F32(sin_fast_sleef, sin, u35)
SLEEF1_F32(cos_fast_sleef, cos, u35)
#else
SLEEF1_F32(sin_fast, sin, u35) /* f64 sin_fast, cos_fast: below */
SLEEF1_F32(cos_fast, cos, u35)
#endif
SLEEF1(tan_fast, tan, u35, u35)
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
#if defined(OMPB_ISA_AVX2) /* AVX2 has its own exp, below */
SLEEF1_F64(exp_u10, exp, u10)
static void exp_f64(const double *in, double *out, size_t n,
                    const void *params);
#elif !defined(OMPB_ISA_AVX512F) /* AVX-512F has its own, below */
SLEEF1(exp, exp, u10, u10)
#endif
SLEEF1(exp2, exp2, u10, u10)
SLEEF1(exp2_fast, exp2, u35, u35)
SLEEF1(expm1, expm1, u10, u10)
SLEEF1(log, log, u10, u10)
#if !defined(OMPB_ISA_AVX2) && !defined(OMPB_ISA_AVX512F)
SLEEF1_F32(log_fast, log, u35) /* AVX2 and AVX-512F have their own, below */
#endif
SLEEF1_F64(log_fast, log, u35)
SLEEF1(log2, log2, u10, u10)
SLEEF1(log2_fast, log2, u35, u35)
SLEEF1(log10, log10, u10, u10)
SLEEF1(log1p, log1p, u10, u10)
SLEEF1(sqrt, sqrt, u05, u05)
SLEEF1(sqrt_fast, sqrt, u35, u35)
SLEEF1(cbrt, cbrt, u10, u10)
SLEEF1(cbrt_fast, cbrt, u35, u35)
SLEEF1(erf, erf, u10, u10)
/* f64-only bodies; their f32 kernels are evaluated in double (below). */
#if defined(__FMA__) /* sin_f64 and cos_f64 are below, these their fallback */
SLEEF1_F64(sin_u10, sin, u10)
SLEEF1_F64(cos_u10, cos, u10)
#else
SLEEF1_F64(sin, sin, u10)
SLEEF1_F64(cos, cos, u10)
#endif
SLEEF1_F64(tan, tan, u10)
SLEEF1_F64(erfc, erfc, u15)
SLEEF1_F64(sin_wide, sin, u35)
SLEEF1_F64(cos_wide, cos, u35)
SLEEF1_F64(tan_wide, tan, u35)
SLEEF1_F64(exp_wide, exp, u10)

/* ---- exp on AVX-512F ----
 * x = (16e + j) ln2/16 + r with |r| <= ln2/32, e^x = 2^e * 2^(j/16) * e^r.
 * 2^(j/16) comes from a 16-entry table held in registers (one permute, no
 * memory gather), as a two-part value T + Tl; e^r = 1 + q with q = r +
 * r^2 E(r), E the Taylor polynomial (degree 5 for f64, 2 for f32: truncation
 * below 1e-18 / 4e-11 relative). The result T + (T q + Tl), scaled by 2^e
 * with vscalefpd/ps, has one rounding that matters (the last add): ~0.5 ULP,
 * checked against MPFR by the tests. vscalef rounds subnormal results
 * correctly and overflows to inf; inputs are first clamped to +-1000
 * (+-200 for f32), constants first so that NaN passes through. Masked loads
 * and stores do the tail with the same code. Constants: kernels/gen_consts.py.
 * exp_fast is the same without Tl and, for f64, with a near-minimax E one
 * degree lower (~1.1 ULP, ~20% faster). AVX2 has its own f32 exp (below);
 * elsewhere exp is SLEEF's 1-ULP function and exp_fast is exp (SLEEF has no
 * faster one). */
#if defined(OMPB_ISA_AVX512F)
static const double EXP_T[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0,
    0x1.2387a6e756238p+0, 0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0,
    0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0, 0x1.6a09e667f3bcdp+0,
    0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0,
    0x1.ea4afa2a490dap+0};
static const double EXP_TL[16] = {0x0.0p+0,
                                  0x1.8a62e4adc610bp-54,
                                  -0x1.19041b9d78a76p-55,
                                  0x1.9b07eb6c70573p-54,
                                  0x1.6f46ad23182e4p-55,
                                  0x1.ada0911f09ebcp-55,
                                  0x1.d4397afec42e2p-56,
                                  0x1.6324c054647adp-54,
                                  -0x1.bdd3413b26456p-54,
                                  -0x1.41577ee04992fp-55,
                                  0x1.6e9f156864b27p-54,
                                  0x1.c7c46b071f2bep-56,
                                  0x1.7a1cd345dcc81p-54,
                                  0x1.11065895048ddp-55,
                                  0x1.2ed02d75b3707p-55,
                                  -0x1.e9c23179c2893p-54};
static const float EXP_TF[16] = {
    0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
    0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
    0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
    0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};
static const float EXP_TLF[16] = {
    0x0.0p+0f,        0x1.9f3122p-25f,  -0x1.c15742p-27f, 0x1.ceac48p-25f,
    0x1.4636e2p-25f,  0x1.824684p-25f,  -0x1.593abcp-25f, -0x1.5bd5ecp-27f,
    0x1.9fcef4p-26f,  -0x1.829fd0p-25f, 0x1.15506ep-27f,  0x1.51f848p-27f,
    -0x1.a94b14p-26f, -0x1.3d56b2p-27f, -0x1.822dbcp-27f, 0x1.52486cp-27f};

/* `precise` is a constant: 1 for exp, 0 for exp_fast (no Tl, E one degree
 * lower: ~1.3 ULP, 20% faster). */
static inline __attribute__((always_inline)) __m512d
exp8(__m512d x, __m512d t0, __m512d t1, __m512d l0, __m512d l1, int precise) {
  x = _mm512_min_pd(_mm512_set1_pd(1000.0),
                    _mm512_max_pd(_mm512_set1_pd(-1000.0), x));
  const __m512d t = _mm512_fmadd_pd(x, _mm512_set1_pd(0x1.71547652b82fep+4),
                                    _mm512_set1_pd(0x1.8p52));
  const __m512d k = _mm512_sub_pd(t, _mm512_set1_pd(0x1.8p52));
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(0x1.62e42fefa39efp-5), x);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(0x1.abc9e3b39803fp-60), r);
  __m512d e;
  if (precise) { /* Taylor, degree 5 */
    e = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 5040), r,
                        _mm512_set1_pd(1.0 / 720));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(1.0 / 120));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(1.0 / 24));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(1.0 / 6));
  } else { /* near-minimax, degree 4 (error 2.8e-17) */
    e = _mm512_fmadd_pd(_mm512_set1_pd(0x1.6c17bbd1f560ap-10), r,
                        _mm512_set1_pd(0x1.11120b77051e7p-7));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(0x1.55555555190f9p-5));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(0x1.55555554dcc9bp-3));
  }
  e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(0.5));
  const __m512d q = _mm512_fmadd_pd(_mm512_mul_pd(r, r), e, r);
  const __m512i j = _mm512_castpd_si512(t); /* low 4 bits: k mod 16 */
  const __m512d tt = _mm512_permutex2var_pd(t0, j, t1);
  const __m512d y =
      precise ? _mm512_add_pd(tt, _mm512_fmadd_pd(
                                      tt, q, _mm512_permutex2var_pd(l0, j, l1)))
              : _mm512_fmadd_pd(tt, q, tt);
  return _mm512_scalef_pd(y, _mm512_mul_pd(k, _mm512_set1_pd(0.0625)));
}

#define EXP_F64(name, precise)                                                 \
  static void name(const double *in, double *out, size_t n,                    \
                   const void *params) {                                       \
    (void)params;                                                              \
    const __m512d t0 = _mm512_loadu_pd(EXP_T),                                 \
                  t1 = _mm512_loadu_pd(EXP_T + 8);                             \
    const __m512d l0 = _mm512_loadu_pd(EXP_TL),                                \
                  l1 = _mm512_loadu_pd(EXP_TL + 8);                            \
    size_t i = 0;                                                              \
    for (; i + 8 <= n; i += 8) {                                               \
      PREFETCH(in + i);                                                        \
      _mm512_storeu_pd(                                                        \
          out + i, exp8(_mm512_loadu_pd(in + i), t0, t1, l0, l1, precise));    \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask8 m = (__mmask8)((1u << (n - i)) - 1);                      \
      _mm512_mask_storeu_pd(                                                   \
          out + i, m,                                                          \
          exp8(_mm512_maskz_loadu_pd(m, in + i), t0, t1, l0, l1, precise));    \
    }                                                                          \
  }
EXP_F64(exp_f64, 1)
EXP_F64(exp_fast_f64, 0)

static inline __attribute__((always_inline)) __m512
exp16(__m512 x, __m512 tt0, __m512 tl0, int precise) {
  x = _mm512_min_ps(_mm512_set1_ps(200.0f),
                    _mm512_max_ps(_mm512_set1_ps(-200.0f), x));
  const __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+4f),
                                   _mm512_set1_ps(0x1.8p23f));
  const __m512 k = _mm512_sub_ps(t, _mm512_set1_ps(0x1.8p23f));
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0x1.62e430p-5f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-0x1.05c610p-33f), r);
  __m512 e = _mm512_set1_ps(1.0f / 24);
  e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(1.0f / 6));
  e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(0.5f));
  const __m512 q = _mm512_fmadd_ps(_mm512_mul_ps(r, r), e, r);
  const __m512i j = _mm512_castps_si512(t); /* low 4 bits: k mod 16 */
  const __m512 tt = _mm512_permutexvar_ps(j, tt0);
  const __m512 y =
      precise ? _mm512_add_ps(
                    tt, _mm512_fmadd_ps(tt, q, _mm512_permutexvar_ps(j, tl0)))
              : _mm512_fmadd_ps(tt, q, tt);
  return _mm512_scalef_ps(y, _mm512_mul_ps(k, _mm512_set1_ps(0.0625f)));
}

#define EXP_F32(name, precise)                                                 \
  static void name(const float *in, float *out, size_t n,                      \
                   const void *params) {                                       \
    (void)params;                                                              \
    const __m512 tt0 = _mm512_loadu_ps(EXP_TF),                                \
                 tl0 = _mm512_loadu_ps(EXP_TLF);                               \
    size_t i = 0;                                                              \
    for (; i + 16 <= n; i += 16) {                                             \
      PREFETCH(in + i);                                                        \
      _mm512_storeu_ps(out + i,                                                \
                       exp16(_mm512_loadu_ps(in + i), tt0, tl0, precise));     \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                    \
      _mm512_mask_storeu_ps(                                                   \
          out + i, m,                                                          \
          exp16(_mm512_maskz_loadu_ps(m, in + i), tt0, tl0, precise));         \
    }                                                                          \
  }
EXP_F32(exp_f32, 1)
EXP_F32(exp_fast_f32, 0)
#elif defined(OMPB_ISA_AVX2)
/* ---- f32 exp on AVX2: the same scheme with 2^(j/8) in one register ----
 * vpermps picks from 8 entries, |r| <= ln2/16, E Taylor of degree 2
 * (truncation 1.3e-9 relative), and 2^e is added to the exponent bits, so
 * results must be normal: a vector holding any |x| > 87, or a NaN, is
 * computed again by SLEEF's 1-ULP expf. exp_fast leaves out the low table
 * part. */
static const float EXP8_TF[8] = {0x1p+0f,        0x1.172b84p+0f, 0x1.306fep+0f,
                                 0x1.4bfdaep+0f, 0x1.6a09e6p+0f, 0x1.8ace54p+0f,
                                 0x1.ae89fap+0f, 0x1.d5818ep+0f};
static const float EXP8_TLF[8] = {
    0x0p+0f,         -0x1.c15742p-27f, 0x1.4636e2p-25f,  -0x1.593abcp-25f,
    0x1.9fcef4p-26f, 0x1.15506ep-27f,  -0x1.a94b14p-26f, -0x1.822dbcp-27f};

static inline __attribute__((always_inline)) __m256
exp8f(__m256 x, __m256 tt0, __m256 tl0, int precise) {
  const __m256 magic = _mm256_set1_ps(0x1.8p23f);
  const __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+3f), magic);
  const __m256 k = _mm256_sub_ps(t, magic);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0x1.62e430p-4f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-0x1.05c610p-32f), r);
  __m256 e =
      _mm256_fmadd_ps(_mm256_set1_ps(1.0f / 24), r, _mm256_set1_ps(1.0f / 6));
  e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(0.5f));
  const __m256 q = _mm256_fmadd_ps(_mm256_mul_ps(r, r), e, r);
  const __m256i ti = _mm256_castps_si256(t); /* low bits: k, two's complement */
  const __m256 tt = _mm256_permutevar8x32_ps(tt0, ti);
  const __m256 y =
      precise ? _mm256_add_ps(tt, _mm256_fmadd_ps(
                                      tt, q, _mm256_permutevar8x32_ps(tl0, ti)))
              : _mm256_fmadd_ps(tt, q, tt);
  /* k >> 3 into the exponent: t's low mantissa bits hold k */
  const __m256i kk = _mm256_sub_epi32(ti, _mm256_castps_si256(magic));
  return _mm256_castsi256_ps(_mm256_add_epi32(
      _mm256_castps_si256(y), _mm256_slli_epi32(_mm256_srai_epi32(kk, 3), 23)));
}

static inline __attribute__((always_inline)) __m256
exp8f_checked(__m256 x, __m256 tt0, __m256 tl0, int precise) {
  const __m256 y = exp8f(x, tt0, tl0, precise);
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 bad = _mm256_cmp_ps(ax, _mm256_set1_ps(87.0f), _CMP_NLE_UQ);
  /* lane by lane, so that no result depends on its neighbours */
  return _mm256_movemask_ps(bad)
             ? _mm256_blendv_ps(y, Sleef_expf8_u10avx2(x), bad)
             : y;
}

#define EXP_F32_AVX2(name, precise)                                            \
  static void name(const float *in, float *out, size_t n,                      \
                   const void *params) {                                       \
    (void)params;                                                              \
    const __m256 tt0 = _mm256_loadu_ps(EXP8_TF),                               \
                 tl0 = _mm256_loadu_ps(EXP8_TLF);                              \
    size_t i = 0;                                                              \
    for (; i + 8 <= n; i += 8) {                                               \
      PREFETCH(in + i);                                                        \
      _mm256_storeu_ps(                                                        \
          out + i, exp8f_checked(_mm256_loadu_ps(in + i), tt0, tl0, precise)); \
    }                                                                          \
    VTAIL_PAD(8, _mm256_loadu_ps, _mm256_storeu_ps,                            \
              exp8f_checked(v_, tt0, tl0, precise))                            \
  }
EXP_F32_AVX2(exp_f32, 1)
EXP_F32_AVX2(exp_fast_f32, 0)

#define exp_fast_f64 exp_f64
#else
#define exp_fast_f32 exp_f32
#define exp_fast_f64 exp_f64
#endif

/* ---- f32 kernels evaluated in double ----
 * A double result within 3.5 double ULPs (or 1.5 for erfc) rounds to float
 * within 0.5 + 2^-28 float ULPs: the documented 1.0 holds with room, over
 * the whole float range, at the cost of the double-width vectors. Blocks of
 * WIDE_BLOCK elements go through a stack buffer (no allocation). */
#define WIDE_BLOCK 256

#define WIDE_F32(name, body64, post)                                           \
  static void name##_f32(const float *in, float *out, size_t n,                \
                         const void *params) {                                 \
    (void)params;                                                              \
    double w[WIDE_BLOCK];                                                      \
    for (size_t lo = 0; lo < n; lo += WIDE_BLOCK) {                            \
      size_t m = n - lo < WIDE_BLOCK ? n - lo : WIDE_BLOCK;                    \
      PREFETCH_BLOCK(in + lo, m * sizeof *in);                                 \
      _Pragma("omp simd") for (size_t j = 0; j < m; j++) w[j] = in[lo + j];    \
      body64(w, w, m, NULL);                                                   \
      _Pragma("omp simd") for (size_t j = 0; j < m; j++) {                     \
        const double y = w[j];                                                 \
        out[lo + j] = (float)(post);                                           \
      }                                                                        \
    }                                                                          \
  }
WIDE_F32(tan, tan_wide_f64, y)
WIDE_F32(erfc, erfc_f64, y)

/* sigmoid: 1 / (1 + e^-x). f32 in double; f64 with one exp and a division
 * (the exp's 1 ULP and two roundings: <= 2.5 ULP). */
static void sigmoid_f32(const float *in, float *out, size_t n,
                        const void *params) {
  (void)params;
  double w[WIDE_BLOCK];
  for (size_t lo = 0; lo < n; lo += WIDE_BLOCK) {
    size_t m = n - lo < WIDE_BLOCK ? n - lo : WIDE_BLOCK;
    PREFETCH_BLOCK(in + lo, m * sizeof *in);
#pragma omp simd
    for (size_t j = 0; j < m; j++)
      w[j] = -(double)in[lo + j];
    exp_wide_f64(w, w, m, NULL);
#pragma omp simd
    for (size_t j = 0; j < m; j++)
      out[lo + j] = (float)(1.0 / (1.0 + w[j]));
  }
}

static void sigmoid_f64(const double *in, double *out, size_t n,
                        const void *params) {
  (void)params;
  double w[WIDE_BLOCK];
  for (size_t lo = 0; lo < n; lo += WIDE_BLOCK) {
    size_t m = n - lo < WIDE_BLOCK ? n - lo : WIDE_BLOCK;
    PREFETCH_BLOCK(in + lo, m * sizeof *in);
#pragma omp simd
    for (size_t j = 0; j < m; j++)
      w[j] = -in[lo + j];
    exp_f64(w, w, m, NULL);
#pragma omp simd
    for (size_t j = 0; j < m; j++)
      out[lo + j] = 1.0 / (1.0 + w[j]);
  }
}

/* ---- sin and cos: f32 (default accuracy) and f64 _fast ----
 * SLEEF's 1-ULP sinf takes a slow argument reduction above |x| = 125 (0.13x
 * memcpy on [-1e4, 1e4]) and its 3.5-ULP sin (f64) a two-step one above
 * |x| = 15 (docs/design.md, "SLEEF reduction thresholds"). Here x is
 * reduced by h*pi, h = k or k + 1/2 (k an integer), r = x - h*pi in
 * [-pi/2, pi/2], and
 *   sin x = (-1)^k sin r,  cos x = -(-1)^k sin(x - (k + 1/2) pi),
 * sin r = r + r^3 P(r^2) with P a near-minimax polynomial
 * (kernels/gen_consts.py). k's parity is the low bit of t = x/pi + 1.5*2^52
 * (the rounding trick that gives k), flipped into the sign bit; sin(+-0)
 * returns x itself (the reduction may lose the sign of a zero).
 *
 * f32 (default, <= 1 ULP): the float is widened to double, pi is split into
 * PI_A + PI_B + PI_C with PI_A and PI_B of 30 bits, so h*PI_A and h*PI_B
 * are exact (|2h| < 2^23) and x - h*PI_A is exact: r carries ~53 good bits.
 * P has degree 4 (error 7e-11 relative), the one rounding to float gives
 * ~0.5 ULP. For |x| <= TRIG32_MAX.
 *
 * f64 _fast (<= 3.5 ULP): with FMA hardware pi is three 53-bit parts (each
 * h*part is exact inside the fma, x - h*PI53_A is exact, pi to 160 bits);
 * without, four parts of 33 bits (exact products for |h| < 2^20). P has
 * degree 7 (error 2.4e-17). For |x| <= TRIG64_MAX.
 *
 * A block of TRIG_BLOCK inputs holding any larger, infinite or NaN value is
 * computed instead by SLEEF's 3.5-ULP double sin/cos (valid to 1e15; for f32
 * that is ~0.5 float ULP over the whole float range). */
#define TRIG_BLOCK 256
#define TRIG32_MAX 4194304.0f /* 2^22 */
#define TRIG64_MAX 1048576.0  /* 2^20 */
static const double INV_PI = 0x1.45f306dc9c883p-2;
static const double PI_A = 0x1.921fb548p+1; /* 30-bit parts: f32 */
static const double PI_B = -0x1.de973ddp-30;
static const double PI_C = 0x1.313198a2e037p-60;
#if defined(__FMA__)
static const double PI53_A = 0x1.921fb54442d18p+1;
static const double PI53_B = 0x1.1a62633145c07p-53;
static const double PI53_C = -0x1.f1976b7ed8fbcp-109;
#define MADD(a, b, c) fma(a, b, c)
#else
static const double PI33_A = 0x1.921fb544p+1;
static const double PI33_B = 0x1.0b4611a6p-33;
static const double PI33_C = 0x1.3198a2ep-68;
static const double PI33_D = 0x1.b839a252049c1p-103;
#define MADD(a, b, c) ((a) * (b) + (c))
#endif
static const double ROUND_MAGIC =
    0x1.8p52; /* t + M - M rounds t to an integer */

#define INLINE static inline __attribute__((always_inline))
INLINE uint64_t bits_of(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}
INLINE double double_of(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

/* sin r for |r| <= pi/2 from P(z), z = r^2, with the signs of k and r. */
INLINE double sin_finish(double r, double z, double p, double t, uint64_t flip,
                         double x) {
  /* r is 0 only for x = +-0 (x is never another exact multiple of pi),
   * where the reduction may have lost the sign of zero: sin(+-0) = +-0 */
  const double s = r == 0 ? x : MADD(r * z, p, r);
  return double_of(bits_of(s) ^ ((bits_of(t) ^ flip) << 63));
}

INLINE double trig32_core(double x, double half, uint64_t flip) {
  const double t = MADD(x, INV_PI, -half) + ROUND_MAGIC;
  const double h = (t - ROUND_MAGIC) + half;
  double r = MADD(-h, PI_A, x); /* both steps exact: see above */
  r = MADD(-h, PI_B, r);
  r = MADD(-h, PI_C, r);
  const double z = r * r;
  double p = -0x1.9dad9aaf55915p-26;
  p = MADD(p, z, 0x1.71966d40f5096p-19);
  p = MADD(p, z, -0x1.a01904fa690dap-13);
  p = MADD(p, z, 0x1.11110fd9738c0p-7);
  p = MADD(p, z, -0x1.555555545f1aap-3);
  return sin_finish(r, z, p, t, flip, x);
}

INLINE double trig64_core(double x, double half, uint64_t flip) {
  const double t = MADD(x, INV_PI, -half) + ROUND_MAGIC;
  const double h = (t - ROUND_MAGIC) + half;
#if defined(__FMA__)
  double r = fma(-h, PI53_A, x);
  r = fma(-h, PI53_B, r);
  r = fma(-h, PI53_C, r);
#else
  double r = x - h * PI33_A;
  r = r - h * PI33_B;
  r = r - h * PI33_C;
  r = r - h * PI33_D;
#endif
  const double z = r * r;
  double p = 0x1.89a19d400e252p-49;
  p = MADD(p, z, -0x1.ae512165ca336p-41);
  p = MADD(p, z, 0x1.612401122d89fp-33);
  p = MADD(p, z, -0x1.ae6455a0f523dp-26);
  p = MADD(p, z, 0x1.71de3a54550e7p-19);
  p = MADD(p, z, -0x1.a01a01a018a8cp-13);
  p = MADD(p, z, 0x1.1111111111107p-7);
  p = MADD(p, z, -0x1.5555555555555p-3);
  return sin_finish(r, z, p, t, flip, x);
}

/* A kernel computing core(x) for every x of a block of TRIG_BLOCK inputs
 * where |x| <= lim (NaN fails the test) and fallback()'s value elsewhere
 * (the fallback runs on a block only when it holds such an element). One
 * pass: results go straight to out and the out-of-range inputs are counted
 * on the way (cnt: an integer type as wide as the lanes). In place
 * (in == out) they go to a stack buffer first, since the fallback needs the
 * inputs. */
#define GUARDED_KERNEL(fname, T, cnt, ABS, lim, core, fallback)                \
  static void fname(const T *in, T *out, size_t n, const void *params) {       \
    (void)params;                                                              \
    T w[TRIG_BLOCK], f[TRIG_BLOCK];                                            \
    for (size_t lo = 0; lo < n; lo += TRIG_BLOCK) {                            \
      const size_t m = n - lo < TRIG_BLOCK ? n - lo : TRIG_BLOCK;              \
      T *dst = in == out ? w : out + lo;                                       \
      PREFETCH_BLOCK(in + lo, m * sizeof(T));                                  \
      cnt bad = 0;                                                             \
      _Pragma("omp simd reduction(+ : bad)") for (size_t j = 0; j < m; j++) {  \
        const T x = in[lo + j];                                                \
        bad += !(ABS(x) <= lim);                                               \
        dst[j] = core(x);                                                      \
      }                                                                        \
      if (bad != 0) {                                                          \
        /* only the out-of-range elements take the fallback's value: no        \
         * result depends on its neighbours */                                 \
        fallback(in + lo, f, m, NULL);                                         \
        for (size_t j = 0; j < m; j++)                                         \
          if (!(ABS(in[lo + j]) <= lim))                                       \
            dst[j] = f[j];                                                     \
      }                                                                        \
      if (dst == w)                                                            \
        memcpy(out + lo, w, m * sizeof(T));                                    \
    }                                                                          \
  }

/* f32 blocks through SLEEF's double sin/cos (m <= TRIG_BLOCK). */
#define TRIG32_WIDE(name)                                                      \
  static void name##_f32_wide(const float *in, float *out, size_t m,           \
                              const void *params) {                            \
    (void)params;                                                              \
    double w[TRIG_BLOCK];                                                      \
    _Pragma("omp simd") for (size_t j = 0; j < m; j++) w[j] = in[j];           \
    name##_wide_f64(w, w, m, NULL);                                            \
    _Pragma("omp simd") for (size_t j = 0; j < m; j++) out[j] = (float)w[j];   \
  }
TRIG32_WIDE(sin)
TRIG32_WIDE(cos)

#define SIN32(x) ((float)trig32_core((double)(x), 0.0, 0))
#define COS32(x) ((float)trig32_core((double)(x), 0.5, 1))
#define SIN64(x) trig64_core(x, 0.0, 0)
#define COS64(x) trig64_core(x, 0.5, 1)
GUARDED_KERNEL(sin_f32, float, int, fabsf, TRIG32_MAX, SIN32, sin_f32_wide)
GUARDED_KERNEL(cos_f32, float, int, fabsf, TRIG32_MAX, COS32, cos_f32_wide)
GUARDED_KERNEL(sin_fast_f64, double, long long, fabs, TRIG64_MAX, SIN64,
               sin_wide_f64)
GUARDED_KERNEL(cos_fast_f64, double, long long, fabs, TRIG64_MAX, COS64,
               cos_wide_f64)

/* ---- log_fast f32 on AVX-512F ----
 * vgetmant/vgetexp split x = m 2^k with m in [0.75, 1.5) (subnormals too;
 * a negative x gives a NaN m). The top 4 fraction bits of m pick one of 16
 * subintervals with centre c (c = 1 for the two next to 1, so that log x
 * near 1 is computed from r alone, without cancellation), held in registers
 * as 1/c (rounded) and -ln(1/c) (hi + lo); r = m/c - 1 (|r| < 1/16, one
 * fma), log(1+r) = r + r^2 E(r), E Taylor of degree 5 (truncation 7.5e-9
 * relative). log x = (k ln2_hi - ln(1/c)_hi) + (r + r^2 E + k ln2_lo -
 * ln(1/c)_lo): max 1.28 ULP over every positive float (against double
 * log). +-0 give -inf (a blend); +inf, NaN
 * and negatives come out right by themselves. Constants:
 * kernels/gen_consts.py. */
#if defined(OMPB_ISA_AVX512F)
static const float LOGF_INVC[16] = {
    0x1p+0f,        0x1.d41d42p-1f, 0x1.bacf92p-1f, 0x1.a41a42p-1f,
    0x1.8f9c18p-1f, 0x1.7d05f4p-1f, 0x1.6c16c2p-1f, 0x1.5c9882p-1f,
    0x1.4e5e0ap+0f, 0x1.414142p+0f, 0x1.3521dp+0f,  0x1.29e412p+0f,
    0x1.1f7048p+0f, 0x1.15b1e6p+0f, 0x1.0c9714p+0f, 0x1p+0f};
static const float LOGF_C_HI[16] = {
    0x0p+0f,         0x1.6f0d28p-4f,  0x1.29552cp-3f,  0x1.9525a8p-3f,
    0x1.fb918cp-3f,  0x1.2e8e2cp-2f,  0x1.5d1bdap-2f,  0x1.89a33ap-2f,
    -0x1.1178e6p-2f, -0x1.d10384p-3f, -0x1.823c18p-3f, -0x1.365fc6p-3f,
    -0x1.da7278p-4f, -0x1.4d3116p-4f, -0x1.894a84p-5f, 0x0p+0f};
static const float LOGF_C_LO[16] = {
    0x0p+0f,          -0x1.a35296p-29f, 0x1.07fd4cp-29f, 0x1.e8ad7p-32f,
    -0x1.50e0dep-30f, -0x1.1ee2dp-30f,  0x1.560274p-28f, 0x1.18284cp-27f,
    -0x1.84fc9p-27f,  0x1.9aa19cp-31f,  -0x1.5468fp-29f, -0x1.82b2p-28f,
    -0x1.c2235p-31f,  -0x1.481facp-30f, 0x1.6c09b4p-30f, 0x0p+0f};

static inline __attribute__((always_inline)) __m512
logf16(__m512 x, __m512 ti, __m512 th, __m512 tl) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 m =
      _mm512_getmant_ps(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_nan);
  __m512 k = _mm512_getexp_ps(x);
  k = _mm512_mask_add_ps(k, _mm512_cmp_ps_mask(m, one, _CMP_LT_OQ), k, one);
  const __m512i j = _mm512_srli_epi32(_mm512_castps_si512(m), 19);
  const __m512 r = _mm512_fmsub_ps(m, _mm512_permutexvar_ps(j, ti), one);
  __m512 e =
      _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 7), r, _mm512_set1_ps(-1.0f / 6));
  e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(1.0f / 5));
  e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(-0.25f));
  e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(1.0f / 3));
  e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(-0.5f));
  const __m512 lo = _mm512_fmadd_ps(k, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                    _mm512_permutexvar_ps(j, tl));
  const __m512 p =
      _mm512_fmadd_ps(_mm512_mul_ps(r, r), e, _mm512_add_ps(r, lo));
  const __m512 hi = _mm512_fmadd_ps(k, _mm512_set1_ps(0x1.62e4p-1f),
                                    _mm512_permutexvar_ps(j, th));
  const __m512 y = _mm512_add_ps(hi, p);
  return _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ), y,
      _mm512_set1_ps(-INFINITY));
}

static void log_fast_f32(const float *in, float *out, size_t n,
                         const void *params) {
  (void)params;
  const __m512 ti = _mm512_loadu_ps(LOGF_INVC), th = _mm512_loadu_ps(LOGF_C_HI),
               tl = _mm512_loadu_ps(LOGF_C_LO);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    PREFETCH(in + i);
    _mm512_storeu_ps(out + i, logf16(_mm512_loadu_ps(in + i), ti, th, tl));
  }
  if (i < n) {
    const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, m,
                          logf16(_mm512_maskz_loadu_ps(m, in + i), ti, th, tl));
  }
}
#endif

/* ---- log_fast f32 on AVX2 ----
 * The AVX-512F scheme without vgetmant/vgetexp: x's bits minus those of
 * 0.75 give k (arithmetic shift) and m = x / 2^k in [0.75, 1.5); 8 entries
 * (vpermps) pick 1/c and -ln(1/c), |r| < 1/8, log(1+r) = r + r^2 E(r) with
 * E Taylor of degree 6 (truncation 6.6e-9 relative). Lanes whose x is not a
 * positive normal finite float (0, subnormal, negative, inf, NaN) take
 * SLEEF's logf, lane by lane. */
#if defined(OMPB_ISA_AVX2)
static const float LOG8_INVC[8] = {
    0x1p+0f,        0x1.af286cp-1f, 0x1.861862p-1f, 0x1.642c86p-1f,
    0x1.47ae14p+0f, 0x1.2f684cp+0f, 0x1.1a7b96p+0f, 0x1p+0f};
static const float LOG8_C_HI[8] = {
    0x0p+0f,         0x1.5ff306p-3f,  0x1.1675cap-2f,  0x1.739d7ep-2f,
    -0x1.f991c4p-3f, -0x1.5bf408p-3f, -0x1.9335e4p-4f, 0x0p+0f};
static const float LOG8_C_LO[8] = {
    0x0p+0f,         0x1.4f27aap-32f, -0x1.0a8b3ep-27f, 0x1.5de804p-29f,
    0x1.a62648p-30f, 0x1.2af094p-29f, -0x1.ab2932p-29f, 0x0p+0f};

static inline __attribute__((always_inline)) __m256
logf8(__m256 x, __m256 ti, __m256 th, __m256 tl) {
  const __m256i ix = _mm256_castps_si256(x);
  const __m256i k = _mm256_srai_epi32(
      _mm256_sub_epi32(ix, _mm256_set1_epi32(0x3f400000)), 23);
  const __m256 m =
      _mm256_castsi256_ps(_mm256_sub_epi32(ix, _mm256_slli_epi32(k, 23)));
  const __m256 kf = _mm256_cvtepi32_ps(k);
  const __m256i j = _mm256_srli_epi32(_mm256_castps_si256(m), 20);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 r = _mm256_fmsub_ps(m, _mm256_permutevar8x32_ps(ti, j), one);
  __m256 e =
      _mm256_fmadd_ps(_mm256_set1_ps(-1.0f / 8), r, _mm256_set1_ps(1.0f / 7));
  e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(-1.0f / 6));
  e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(1.0f / 5));
  e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(-0.25f));
  e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(1.0f / 3));
  e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(-0.5f));
  const __m256 lo = _mm256_fmadd_ps(kf, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_permutevar8x32_ps(tl, j));
  const __m256 p =
      _mm256_fmadd_ps(_mm256_mul_ps(r, r), e, _mm256_add_ps(r, lo));
  const __m256 hi = _mm256_fmadd_ps(kf, _mm256_set1_ps(0x1.62e4p-1f),
                                    _mm256_permutevar8x32_ps(th, j));
  const __m256 y = _mm256_add_ps(hi, p);
  /* positive normal finite: bits in [0x00800000, 0x7f800000) */
  const __m256i off = _mm256_sub_epi32(ix, _mm256_set1_epi32(0x00800000));
  const __m256i bad =
      _mm256_cmpgt_epi32(off, _mm256_set1_epi32(0x7f800000 - 0x00800000 - 1));
  const __m256i badneg = _mm256_or_si256(bad, _mm256_srai_epi32(off, 31));
  return _mm256_movemask_ps(_mm256_castsi256_ps(badneg))
             ? _mm256_blendv_ps(y, Sleef_logf8_u35avx2(x),
                                _mm256_castsi256_ps(badneg))
             : y;
}

static void log_fast_f32(const float *in, float *out, size_t n,
                         const void *params) {
  (void)params;
  const __m256 ti = _mm256_loadu_ps(LOG8_INVC), th = _mm256_loadu_ps(LOG8_C_HI),
               tl = _mm256_loadu_ps(LOG8_C_LO);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    PREFETCH(in + i);
    _mm256_storeu_ps(out + i, logf8(_mm256_loadu_ps(in + i), ti, th, tl));
  }
  VTAIL_PAD(8, _mm256_loadu_ps, _mm256_storeu_ps, logf8(v_, ti, th, tl))
}
#endif

/* ---- f32 sin_fast and cos_fast with FMA hardware: all in float ----
 * The same scheme as trig64_core in float lanes (twice the elements per
 * vector): pi in three floats (x - h*PIF_A is exact inside the fma for
 * |x| >= 2, and rounds by 2^-24 relative below that, where r is not small),
 * P of degree 3 with float coefficients (error 2.2e-8 relative). For
 * |x| <= TRIGF_MAX (reduction good to ~2^-46 absolute there): max 2.65 ULP
 * over every float of [0, 2^16], against double sin/cos (where r is just
 * above 1 and sin r just below, r's own rounding is already 1 ULP of the
 * result). Other blocks use SLEEF's 3.5-ULP sinf/cosf. */
#if defined(__FMA__)
#define TRIGF_MAX 65536.0f
INLINE uint32_t bits_of_f(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}
INLINE float float_of(uint32_t b) {
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}
INLINE float trigf_core(float x, float half, uint32_t flip) {
  const float t = fmaf(x, 0x1.45f306p-2f, -half) + 0x1.8p23f;
  const float h = (t - 0x1.8p23f) + half;
  float r = fmaf(-h, 0x1.921fb6p+1f, x);
  r = fmaf(-h, -0x1.777a5cp-24f, r);
  r = fmaf(-h, -0x1.ee59dap-49f, r);
  const float z = r * r;
  float p = 0x1.619d7ap-19f;
  p = fmaf(p, z, -0x1.9fb654p-13f);
  p = fmaf(p, z, 0x1.11104cp-7f);
  p = fmaf(p, z, -0x1.555554p-3f);
  const float s = r == 0 ? x : fmaf(r * z, p, r); /* as in sin_finish */
  return float_of(bits_of_f(s) ^ ((bits_of_f(t) ^ flip) << 31));
}
#define SINF_FAST(x) trigf_core(x, 0.0f, 0)
#define COSF_FAST(x) trigf_core(x, 0.5f, 1)
GUARDED_KERNEL(sin_fast_f32, float, int, fabsf, TRIGF_MAX, SINF_FAST,
               sin_fast_sleef_f32)
GUARDED_KERNEL(cos_fast_f32, float, int, fabsf, TRIGF_MAX, COSF_FAST,
               cos_fast_sleef_f32)
#endif

/* ---- f64 sin and cos, default accuracy (<= 1 ULP), with FMA hardware ----
 * x = k pi/2 + r, |r| <= pi/4, r = rh + rl as a double-double: pi/2 is three
 * 53-bit parts, x - k*PIO2_A is exact in the fma, k*PIO2_B is split exactly
 * (fma) and subtracted with TwoSum, so r carries ~100 good bits even next
 * to a multiple of pi/2. Then, z = rh^2 (its rounding error zl kept):
 *   sin r = rh + (rh z S(z) + rl (1 - z/2))
 *   cos r = w + ((1 - w - z/2) + z^2 C(z) - zl/2 - rh rl),  w = 1 - z/2,
 * S and C near-minimax of degrees 6 and 5 (kernels/gen_consts.py), so that
 * the last addition is the only rounding that matters: ~0.5 ULP, checked
 * against MPFR by the tests. Quadrant k mod 4 picks sin or cos and the
 * sign; copysign keeps sin(-0) = -0. For |x| <= TRIG64_MAX; other blocks
 * (and ISAs without FMA) use SLEEF's 1-ULP sin/cos. */
#if defined(__FMA__)
static const double TWO_OVER_PI = 0x1.45f306dc9c883p-1;
static const double PIO2_A = 0x1.921fb54442d18p+0;
static const double PIO2_B = 0x1.1a62633145c07p-54;
static const double PIO2_C = -0x1.f1976b7ed8fbcp-110;

INLINE double trig64_precise(double x, uint64_t qoff) {
  const double t = fma(x, TWO_OVER_PI, ROUND_MAGIC);
  const double k = t - ROUND_MAGIC;
  const uint64_t q = bits_of(t) + qoff; /* k + qoff, mod 4 in the low bits */
  const double a = fma(-k, PIO2_A, x);  /* exact */
  const double bh = k * PIO2_B, bl = fma(k, PIO2_B, -bh);
  const double rh = a - bh, bb = rh - a; /* TwoSum(a, -bh) */
  const double e = (a - (rh - bb)) + (-bh - bb);
  const double rl = fma(-k, PIO2_C, e - bl);
  const double z = rh * rh, zl = fma(rh, rh, -z);
  double p = -0x1.ab16f5caa198ap-41; /* S */
  p = fma(p, z, 0x1.61217d9252c03p-33);
  p = fma(p, z, -0x1.ae645410e937bp-26);
  p = fma(p, z, 0x1.71de3a545f836p-19);
  p = fma(p, z, -0x1.a01a01a01992fp-13);
  p = fma(p, z, 0x1.1111111111110p-7);
  p = fma(p, z, -0x1.5555555555555p-3);
  const double ss = copysign(rh + fma(rh * z, p, fma(rl, -0.5 * z, rl)), rh);
  double c = -0x1.907cd8ff5ede7p-37; /* C */
  c = fma(c, z, 0x1.1eeb67d026ec6p-29);
  c = fma(c, z, -0x1.27e4fa16cc2d1p-22);
  c = fma(c, z, 0x1.a01a019f4ddfdp-16);
  c = fma(c, z, -0x1.6c16c16c16963p-10);
  c = fma(c, z, 0x1.5555555555555p-5);
  const double hz = 0.5 * z, w = 1.0 - hz;
  const double cc =
      w + (((1.0 - w) - hz) + fma(z * z, c, -fma(rh, rl, 0.5 * zl)));
  /* odd quadrants take cc: a mask select, which gcc vectorises for AVX2
   * too (a ?: on the 64-bit q is left scalar there) */
  const uint64_t odd = 0 - (q & 1);
  const uint64_t v = (bits_of(ss) & ~odd) | (bits_of(cc) & odd);
  return double_of(v ^ ((q >> 1) << 63));
}

#define SIN64P(x) trig64_precise(x, 0)
#define COS64P(x) trig64_precise(x, 1)
GUARDED_KERNEL(sin_f64, double, long long, fabs, TRIG64_MAX, SIN64P,
               sin_u10_f64)
GUARDED_KERNEL(cos_f64, double, long long, fabs, TRIG64_MAX, COS64P,
               cos_u10_f64)
#endif

#if defined(OMPB_ISA_AVX2)
/* ---- f64 exp on AVX2: no table (a 4-lane permute cannot hold one) ----
 * x = k ln2 + r, |r| <= ln2/2, e^r = 1 + r + r^2 E(r) with E near-minimax of
 * degree 10 (error 2.8e-19 relative, kernels/gen_consts.py). The rounding
 * error of r and of 1 + r (Fast2Sum) join the low-order sum, so the last
 * addition is the only rounding that matters (max 0.65 ULP measured in 3M
 * samples), and 2^k is added to the exponent bits: results must be
 * normal, so elements with |x| > 708 (or NaN) take SLEEF's 1-ULP exp.
 * exp_fast is the same kernel. */
INLINE double exp_avx2_core(double x) {
  const double t = fma(x, 0x1.71547652b82fep0, ROUND_MAGIC);
  const double k = t - ROUND_MAGIC;
  const double r1 = fma(-k, 0x1.62e42fefa39efp-1, x); /* exact */
  const double r = fma(-k, 0x1.abc9e3b39803fp-56, r1);
  /* what that rounding lost, added to the low part below */
  const double dr = fma(-k, 0x1.abc9e3b39803fp-56, r1 - r);
  double e = 0x1.1f7340dbc337ep-29;
  e = fma(e, r, 0x1.af4e554377204p-26);
  e = fma(e, r, 0x1.27e4db46cddd1p-22);
  e = fma(e, r, 0x1.71de01fdbf9cap-19);
  e = fma(e, r, 0x1.a01a01a6e1e2ap-16);
  e = fma(e, r, 0x1.a01a01abf85abp-13);
  e = fma(e, r, 0x1.6c16c16c162c3p-10);
  e = fma(e, r, 0x1.11111111100bep-7);
  e = fma(e, r, 0x1.5555555555556p-5);
  e = fma(e, r, 0x1.5555555555557p-3);
  e = fma(e, r, 0x1.0000000000000p-1);
  const double s = 1.0 + r, lo = (1.0 - s) + r; /* s + lo = 1 + r exactly */
  const double y = s + fma(r * r, e, lo + dr);
  /* k + 1023 into the exponent field: t's low bits hold k */
  const uint64_t k_bits = bits_of(t) - bits_of(ROUND_MAGIC);
  return double_of(bits_of(y) + (k_bits << 52));
}
#define EXP64_AVX2(x) exp_avx2_core(x)
GUARDED_KERNEL(exp_f64, double, long long, fabs, 708.0, EXP64_AVX2, exp_u10_f64)
#endif

/* ---- pow with a scalar exponent: params {p} ---- */
static void pow_f32(const float *in, float *out, size_t n, const void *params) {
  const float p = params ? ((const float *)params)[0] : 1.0f;
  size_t i = 0;
  VLOOP1P(NF, LDF, STF, SETF, VF(pow, u10), p)
  TAIL1(SF(pow, u10)(x, p))
}
static void pow_f64(const double *in, double *out, size_t n,
                    const void *params) {
  const double p = params ? ((const double *)params)[0] : 1.0;
  size_t i = 0;
  VLOOP1P(ND, LDD, STD, SETD, VD(pow, u10), p)
  TAIL1(SD(pow, u10)(x, p))
}

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
  static void name##_##sfx(const T *in, T *out, size_t n,                      \
                           const void *params) {                               \
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
  static void k2_##name##_##sfx(const T *a, const T *b, T *out, size_t n,      \
                                const void *params) {                          \
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
SLEEF2(pow, pow, u10, u10)
SLEEF2(atan2, atan2, u10, u10)
SLEEF2(atan2_fast, atan2, u35, u35)
SLEEF2(hypot, hypot, u05, u05)
SLEEF2(hypot_fast, hypot, u35, u35)

/* ---- streaming stores (kernels/dispatch.c decides when) ---- */
#if !defined(ISA_SCALAR)
#if defined(OMPB_ISA_AVX512F)
#define STREAM_PS(p, v) _mm512_stream_ps(p, v)
#define STREAM_PD(p, v) _mm512_stream_pd(p, v)
#define LOADA_PS _mm512_load_ps
#define LOADA_PD _mm512_load_pd
#elif defined(OMPB_ISA_AVX2)
#define STREAM_PS(p, v) _mm256_stream_ps(p, v)
#define STREAM_PD(p, v) _mm256_stream_pd(p, v)
#define LOADA_PS _mm256_load_ps
#define LOADA_PD _mm256_load_pd
#else
#define STREAM_PS(p, v) _mm_stream_ps(p, v)
#define STREAM_PD(p, v) _mm_stream_pd(p, v)
#define LOADA_PS _mm_load_ps
#define LOADA_PD _mm_load_pd
#endif
static void stream_f32(const float *buf, float *out, size_t m) {
  size_t i = 0;
  for (; i + NF <= m; i += NF)
    STREAM_PS(out + i, LOADA_PS(buf + i));
  for (; i < m; i++)
    out[i] = buf[i];
}
static void stream_f64(const double *buf, double *out, size_t m) {
  size_t i = 0;
  for (; i + ND <= m; i += ND)
    STREAM_PD(out + i, LOADA_PD(buf + i));
  for (; i < m; i++)
    out[i] = buf[i];
}
static void stream_fence(void) { _mm_sfence(); }
#define STREAM_ENTRIES                                                         \
  .stream_f32 = stream_f32, .stream_f64 = stream_f64,                          \
  .stream_fence = stream_fence,
#else
#define STREAM_ENTRIES
#endif

/* ---- the table ---- */
extern const ompb__simd_table TABLE;
const ompb__simd_table TABLE = {
    .isa = ISA_NAME,
#define ENTRY_F32(name, np, uf, ud, what) [OMPB__K1_##name] = name##_f32,
#define ENTRY_F64(name, np, uf, ud, what) [OMPB__K1_##name] = name##_f64,
    .f32 = {OMPB_KERNELS_MATH(ENTRY_F32) OMPB_KERNELS_ARITH(ENTRY_F32)},
    .f64 = {OMPB_KERNELS_MATH(ENTRY_F64) OMPB_KERNELS_ARITH(ENTRY_F64)},
#undef ENTRY_F32
#undef ENTRY_F64
#define ENTRY2_F32(name, np, uf, ud, what) [OMPB__K2_##name] = k2_##name##_f32,
#define ENTRY2_F64(name, np, uf, ud, what) [OMPB__K2_##name] = k2_##name##_f64,
    .f32_2 = {OMPB_KERNELS_BINARY(ENTRY2_F32)},
    .f64_2 = {OMPB_KERNELS_BINARY(ENTRY2_F64)},
    STREAM_ENTRIES
#undef ENTRY2_F32
#undef ENTRY2_F64
};
