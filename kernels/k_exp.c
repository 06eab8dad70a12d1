/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: exp, exp_fast and sigmoid, f32 and f64, for the ISA
 * this object is compiled for (kernels/isa.h). Where each comes from, per
 * ISA: docs/kernels.md. */
#include "consts.h"
#include "isa.h"

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
 * degree lower (~1.1 ULP, ~20% faster). AVX2 has its own f32 exp and
 * exp_fast and f64 exp and exp_fast (below); elsewhere exp is SLEEF's 1-ULP
 * function and exp_fast is exp (SLEEF has no faster one). */
#if defined(OMPB_ISA_AVX512F)

/* `precise` is a constant: 1 for exp, 0 for exp_fast (no Tl, E one degree
 * lower: ~1.3 ULP, 20% faster). */
static inline __attribute__((always_inline)) __m512d
exp8(__m512d x, __m512d t0, __m512d t1, __m512d l0, __m512d l1, int precise) {
  x = _mm512_min_pd(_mm512_set1_pd(1000.0),
                    _mm512_max_pd(_mm512_set1_pd(-1000.0), x));
  const __m512d t =
      _mm512_fmadd_pd(x, _mm512_set1_pd(EXP16[0]), _mm512_set1_pd(0x1.8p52));
  const __m512d k = _mm512_sub_pd(t, _mm512_set1_pd(0x1.8p52));
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(EXP16[1]), x);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(EXP16[2]), r);
  __m512d e;
  if (precise) { /* Taylor, degree 5 */
    e = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 5040), r,
                        _mm512_set1_pd(1.0 / 720));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(1.0 / 120));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(1.0 / 24));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(1.0 / 6));
  } else { /* near-minimax, degree 4 (error 2.8e-17) */
    e = _mm512_fmadd_pd(_mm512_set1_pd(EXP_E4[0]), r,
                        _mm512_set1_pd(EXP_E4[1]));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(EXP_E4[2]));
    e = _mm512_fmadd_pd(e, r, _mm512_set1_pd(EXP_E4[3]));
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

/* ST: _mm512_storeu_pd, or _mm512_stream_pd for the nt_ form (out 64-byte
 * aligned, kernels/dispatch.c's streamed calls) */
#define EXP_F64(name, precise, ST)                                             \
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
    (void)params;                                                              \
    const __m512d t0 = _mm512_loadu_pd(EXP_T),                                 \
                  t1 = _mm512_loadu_pd(EXP_T + 8);                             \
    const __m512d l0 = _mm512_loadu_pd(EXP_TL),                                \
                  l1 = _mm512_loadu_pd(EXP_TL + 8);                            \
    size_t i = 0;                                                              \
    for (; i + 8 <= n; i += 8) {                                               \
      PREFETCH(in + i);                                                        \
      ST(out + i, exp8(_mm512_loadu_pd(in + i), t0, t1, l0, l1, precise));    \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask8 m = (__mmask8)((1u << (n - i)) - 1);                      \
      _mm512_mask_storeu_pd(                                                   \
          out + i, m,                                                          \
          exp8(_mm512_maskz_loadu_pd(m, in + i), t0, t1, l0, l1, precise));    \
    }                                                                          \
  }
EXP_F64(exp_f64, 1, _mm512_storeu_pd)
EXP_F64(exp_fast_f64, 0, _mm512_storeu_pd)
EXP_F64(nt_exp_f64, 1, _mm512_stream_pd)
EXP_F64(nt_exp_fast_f64, 0, _mm512_stream_pd)

static inline __attribute__((always_inline)) __m512
exp16(__m512 x, __m512 tt0, __m512 tl0, int precise) {
  x = _mm512_min_ps(_mm512_set1_ps(200.0f),
                    _mm512_max_ps(_mm512_set1_ps(-200.0f), x));
  const __m512 t =
      _mm512_fmadd_ps(x, _mm512_set1_ps(EXP16F[0]), _mm512_set1_ps(0x1.8p23f));
  const __m512 k = _mm512_sub_ps(t, _mm512_set1_ps(0x1.8p23f));
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(EXP16F[1]), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(EXP16F[2]), r);
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

#define EXP_F32(name, precise, ST)                                             \
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
    (void)params;                                                              \
    const __m512 tt0 = _mm512_loadu_ps(EXP_TF),                                \
                 tl0 = _mm512_loadu_ps(EXP_TLF);                               \
    size_t i = 0;                                                              \
    for (; i + 16 <= n; i += 16) {                                             \
      PREFETCH(in + i);                                                        \
      ST(out + i, exp16(_mm512_loadu_ps(in + i), tt0, tl0, precise));          \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                    \
      _mm512_mask_storeu_ps(                                                   \
          out + i, m,                                                          \
          exp16(_mm512_maskz_loadu_ps(m, in + i), tt0, tl0, precise));         \
    }                                                                          \
  }
EXP_F32(exp_f32, 1, _mm512_storeu_ps)
EXP_F32(exp_fast_f32, 0, _mm512_storeu_ps)
EXP_F32(nt_exp_f32, 1, _mm512_stream_ps)
EXP_F32(nt_exp_fast_f32, 0, _mm512_stream_ps)
#elif defined(OMPB_ISA_AVX2)
/* ---- f32 exp on AVX2: the same scheme with 2^(j/8) in one register ----
 * vpermps picks from 8 entries, |r| <= ln2/16, E Taylor of degree 2
 * (truncation 1.3e-9 relative), and 2^e is added to the exponent bits, so
 * results must be normal: a vector holding any |x| > 87, or a NaN, is
 * computed again by SLEEF's 1-ULP expf. exp_fast leaves out the low table
 * part. */

static inline __attribute__((always_inline)) __m256
exp8f(__m256 x, __m256 tt0, __m256 tl0, int precise) {
  const __m256 magic = _mm256_set1_ps(0x1.8p23f);
  const __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(EXP8F[0]), magic);
  const __m256 k = _mm256_sub_ps(t, magic);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(EXP8F[1]), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(EXP8F[2]), r);
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

#define EXP_F32_AVX2(name, precise, ST)                                        \
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
    (void)params;                                                              \
    const __m256 tt0 = _mm256_loadu_ps(EXP8_TF),                               \
                 tl0 = _mm256_loadu_ps(EXP8_TLF);                              \
    size_t i = 0;                                                              \
    for (; i + 8 <= n; i += 8) {                                               \
      PREFETCH(in + i);                                                        \
      ST(out + i, exp8f_checked(_mm256_loadu_ps(in + i), tt0, tl0, precise));  \
    }                                                                          \
    VTAIL_PAD(8, _mm256_loadu_ps, _mm256_storeu_ps,                            \
              exp8f_checked(v_, tt0, tl0, precise))                            \
  }
EXP_F32_AVX2(exp_f32, 1, _mm256_storeu_ps)
EXP_F32_AVX2(exp_fast_f32, 0, _mm256_storeu_ps)
EXP_F32_AVX2(nt_exp_f32, 1, _mm256_stream_ps)
EXP_F32_AVX2(nt_exp_fast_f32, 0, _mm256_stream_ps)

/* ---- f64 exp and exp_fast on AVX2: the AVX-512F scheme, tables by gathers
 * x = (16e + j) ln2/16 + r, |r| <= ln2/32, e^x = 2^e 2^(j/16) e^r with
 * 2^(j/16) = T + Tl gathered from EXP_T and EXP_TL (a 4-lane permute cannot
 * hold 16 entries) and exp8's E (Taylor degree 5; exp_fast: the
 * near-minimax EXP_E4 and no Tl). Max 0.558 ULP (exp) and 1.22 (exp_fast)
 * in 20M samples on [-708, 708], as on AVX-512F; 1.25x (exp, was a
 * degree-10 polynomial without table) and 1.5x (exp_fast, was exp) faster
 * in cache. 2^e is added to the exponent bits, so results must be normal:
 * lanes with |x| > 708 (or NaN) take SLEEF's 1-ULP exp, lane by lane. */
static inline __attribute__((always_inline)) __m256d exp4d(__m256d x,
                                                            int precise) {
  const __m256d magic = _mm256_set1_pd(0x1.8p52);
  const __m256d t = _mm256_fmadd_pd(x, _mm256_set1_pd(EXP16[0]), magic);
  const __m256d k = _mm256_sub_pd(t, magic);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(EXP16[1]), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(EXP16[2]), r);
  __m256d e;
  if (precise) { /* Taylor, degree 5, as exp8 */
    e = _mm256_fmadd_pd(_mm256_set1_pd(1.0 / 5040), r,
                        _mm256_set1_pd(1.0 / 720));
    e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 120));
    e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 24));
    e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 6));
  } else {
    e = _mm256_fmadd_pd(_mm256_set1_pd(EXP_E4[0]), r,
                        _mm256_set1_pd(EXP_E4[1]));
    e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(EXP_E4[2]));
    e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(EXP_E4[3]));
  }
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(0.5));
  const __m256d q = _mm256_fmadd_pd(_mm256_mul_pd(r, r), e, r);
  /* k in t's low bits (two's complement): j = k mod 16, e = k >> 4 */
  const __m256i kb =
      _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(magic));
  const __m256i j = _mm256_and_si256(kb, _mm256_set1_epi64x(15));
  const __m256d tt = _mm256_i64gather_pd(EXP_T, j, 8);
  const __m256d y =
      precise ? _mm256_add_pd(tt, _mm256_fmadd_pd(
                                      tt, q, _mm256_i64gather_pd(EXP_TL, j, 8)))
              : _mm256_fmadd_pd(tt, q, tt);
  /* (k >> 4) << 52 without a 64-bit arithmetic shift: k << 48, low 52 bits
   * cleared */
  const __m256i sc = _mm256_andnot_si256(_mm256_set1_epi64x((1LL << 52) - 1),
                                         _mm256_slli_epi64(kb, 48));
  const __m256d y2 =
      _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(y), sc));
  const __m256d ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
  const __m256d bad = _mm256_cmp_pd(ax, _mm256_set1_pd(708.0), _CMP_NLE_UQ);
  return _mm256_movemask_pd(bad)
             ? _mm256_blendv_pd(y2, Sleef_expd4_u10avx2(x), bad)
             : y2;
}

/* ST: _mm256_storeu_pd, or _mm256_stream_pd for the nt_ form */
#define EXP_F64_AVX2(name, precise, ST)                                        \
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    for (; i + 4 <= n; i += 4) {                                               \
      PREFETCH(in + i);                                                        \
      ST(out + i, exp4d(_mm256_loadu_pd(in + i), precise));                    \
    }                                                                          \
    VTAIL_PAD(4, _mm256_loadu_pd, _mm256_storeu_pd, exp4d(v_, precise))        \
  }
EXP_F64_AVX2(exp_f64, 1, _mm256_storeu_pd)
EXP_F64_AVX2(exp_fast_f64, 0, _mm256_storeu_pd)
EXP_F64_AVX2(nt_exp_f64, 1, _mm256_stream_pd)
EXP_F64_AVX2(nt_exp_fast_f64, 0, _mm256_stream_pd)

#else
SLEEF1(exp, exp, u10, u10)

/* SLEEF has no faster exp than its 1-ULP one: exp_fast is exp. */
KDEF(exp_fast_f32)(const float *in, float *out, size_t n, const void *params) {
  K(exp_f32)(in, out, n, params);
}
KDEF(exp_fast_f64)
(const double *in, double *out, size_t n, const void *params) {
  K(exp_f64)(in, out, n, params);
}
#endif

/* SLEEF's 1-ULP double exp, for the f32 sigmoid evaluated in double. */
SLEEF1_F64_LOCAL(exp_wide, exp, u10)

/* sigmoid: 1 / (1 + e^-x). f32 in double; f64 with one exp and a division
 * (the exp's 1 ULP and two roundings: <= 2.5 ULP). */
KDEF(sigmoid_f32)(const float *in, float *out, size_t n, const void *params) {
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

KDEF(sigmoid_f64)(const double *in, double *out, size_t n, const void *params) {
  (void)params;
  double w[WIDE_BLOCK];
  for (size_t lo = 0; lo < n; lo += WIDE_BLOCK) {
    size_t m = n - lo < WIDE_BLOCK ? n - lo : WIDE_BLOCK;
    PREFETCH_BLOCK(in + lo, m * sizeof *in);
#pragma omp simd
    for (size_t j = 0; j < m; j++)
      w[j] = -in[lo + j];
    K(exp_f64)(w, w, m, NULL);
#pragma omp simd
    for (size_t j = 0; j < m; j++)
      out[lo + j] = 1.0 / (1.0 + w[j]);
  }
}
