/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: exp, exp_fast and sigmoid, f32 and f64, for the ISA
 * this object is compiled for (kernels/isa.h). Where each comes from, per
 * ISA: docs/kernels.md. */
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
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
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
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
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
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
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
SLEEF1_F64_LOCAL(exp_u10, exp, u10)
GUARDED_KERNEL(exp_f64, double, long long, fabs, 708.0, EXP64_AVX2, exp_u10_f64)
/* exp_fast is the same kernel */
KDEF(exp_fast_f64)
(const double *in, double *out, size_t n, const void *params) {
  K(exp_f64)(in, out, n, params);
}

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
