/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: log and log_fast, f32 and f64, for the ISA this object
 * is compiled for (kernels/isa.h). Where each comes from, per ISA:
 * docs/kernels.md. */
#include "consts.h"
#include "isa.h"

/* ---- log and log_fast: SLEEF's 1-ULP and 3.5-ULP functions except on
 * AVX2 and AVX-512F (below) ---- */
#if !defined(OMPB_ISA_AVX512F) && !defined(OMPB_ISA_AVX2)
SLEEF1(log, log, u10, u10)
SLEEF1_F64(log_fast, log, u35)
#else
/* ---- f64 log (<= 1 ULP) on AVX2 and AVX-512F (logd4, logd8_fast) ----
 * x = m 2^k, m in [1, 2); the top fraction bits of m (j) pick s, a short
 * number near 1/m (a 2^-M; s = 1 for the first subinterval, 1/2 for the
 * last), so that r = m s - 1 is exact in one fma: m s is a multiple of
 * 2^-(52+M) and |r| < 2^(1-M). -ln s = hi + lo with hi a multiple of
 * 2^-42, as LN2D[0] is, so that h = k ln2_hi + hi is exact; for x just
 * below 1, k = -1 and s = 1/2, and h and k ln2_lo + lo cancel to 0.
 * log(1+r) = r + r^2 E(r), and
 *   log x = h + (r + (r^2 E + (k ln2_lo + lo))):
 * besides E's error, the last addition's rounding (0.5 ULP) and that of
 * the inner sum, at most 0.5 ulp(r + ...), about a quarter of an ULP of
 * the result where h != 0 (|r + ...| is at most about half |log x| in
 * those subintervals), and where h = 0 no last rounding: max 0.811 ULP
 * (AVX-512F), 0.754 (AVX2)
 * measured against logl (docs/kernels.md), and the tests check it against
 * MPFR. The compensated sum (t + err = h + r by Fast2Sum, log x = t +
 * (r^2 E + (lo + err))) gave 0.721 / 0.524 ULP for three operations more:
 * 0.89x (AVX-512F) and 0.97x (AVX2) the cycles without it, so log and
 * log_fast are the same f64 kernel now. (The former reduction took 1/c
 * rounded, m/c = ph + rl by an fma, r = ph - 1, and carried rl (1 - r):
 * four operations more, and a third table on AVX2.) Constants:
 * kernels/gen_consts.py. */
#endif

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
 * kernels/gen_consts.py. (The log took the same reduction with the
 * product's rounding error carried and a compensated sum, 0.745 ULP:
 * logf16s below replaced it.) */
#if defined(OMPB_ISA_AVX512F)

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
  const __m512 lo =
      _mm512_fmadd_ps(k, _mm512_set1_ps(LN2F[1]), _mm512_permutexvar_ps(j, tl));
  const __m512 hi =
      _mm512_fmadd_ps(k, _mm512_set1_ps(LN2F[0]), _mm512_permutexvar_ps(j, th));
  const __m512 y = _mm512_add_ps(
      hi, _mm512_fmadd_ps(_mm512_mul_ps(r, r), e, _mm512_add_ps(r, lo)));
  return _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ), y,
      _mm512_set1_ps(-INFINITY));
}

/* f32 log (<= 1 ULP) on AVX-512F: the AVX2 log's exact short-s reduction
 * (below: 8 subintervals of [0.75, 1.5), LOG8_S with 3 fraction bits, so
 * that r = m s - 1 is exact in one fma; LOG8_E5 by pairs; Fast2Sum of
 * hi and r) on vgetmant/vgetexp's m and k (subnormals too), the 8 entries
 * twice in a register for vpermps; one vfixupimm sets +-0 (-inf), +inf,
 * -inf and negatives (NaN) and passes NaNs through, as logd8's. Max 0.610
 * ULP over every positive float against double log (the 1/c reduction
 * with the product's rounding error carried: 0.745), 25 vector operations
 * per 16 floats instead of 32. */
static inline __attribute__((always_inline)) __m512 logf16s(__m512 x,
                                                            __m512 ts,
                                                            __m512 th,
                                                            __m512 tl) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 m =
      _mm512_getmant_ps(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_nan);
  __m512 k = _mm512_getexp_ps(x);
  k = _mm512_mask_add_ps(k, _mm512_cmp_ps_mask(m, one, _CMP_LT_OQ), k, one);
  const __m512i j = _mm512_srli_epi32(_mm512_castps_si512(m), 20);
  const __m512 r = _mm512_fmsub_ps(m, _mm512_permutexvar_ps(j, ts), one);
  const __m512 r2 = _mm512_mul_ps(r, r);
#define C_(i) _mm512_set1_ps(LOG8_E5[i]) /* a5 ... a0 */
  const __m512 p01 = _mm512_fmadd_ps(C_(4), r, C_(5)),
               p23 = _mm512_fmadd_ps(C_(2), r, C_(3)),
               p45 = _mm512_fmadd_ps(C_(0), r, C_(1));
#undef C_
  const __m512 e = _mm512_fmadd_ps(_mm512_fmadd_ps(p45, r2, p23), r2, p01);
  const __m512 lo =
      _mm512_fmadd_ps(k, _mm512_set1_ps(LN2F[1]), _mm512_permutexvar_ps(j, tl));
  const __m512 hi =
      _mm512_fmadd_ps(k, _mm512_set1_ps(LN2F[0]), _mm512_permutexvar_ps(j, th));
  /* Fast2Sum(hi, r): |hi| >= |r| or hi = 0 */
  const __m512 s = _mm512_add_ps(hi, r);
  const __m512 err = _mm512_sub_ps(r, _mm512_sub_ps(s, hi));
  const __m512 y =
      _mm512_add_ps(s, _mm512_fmadd_ps(r2, e, _mm512_add_ps(lo, err)));
  return _mm512_fixupimm_ps(y, x, _mm512_set1_epi32(0x03530421), 0);
}
static inline __attribute__((always_inline)) __m512
logf16_any(__m512 x, __m512 ti, __m512 th, __m512 tl, int precise) {
  return precise ? logf16s(x, ti, th, tl) : logf16(x, ti, th, tl);
}
/* 8 floats twice (vpermps reads 4 index bits) */
static inline __attribute__((always_inline)) __m512 ld8x2(const float *t) {
  return _mm512_castpd_ps(
      _mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(t))));
}

/* ST: _mm512_storeu_ps, or _mm512_stream_ps for the nt_ form (out 64-byte
 * aligned, kernels/dispatch.c's streamed calls). precise: 0 log_fast
 * (logf16, 16-entry tables), 1 the log (logf16s, 8-entry tables by LD =
 * ld8x2). */
#define LOG_FAST_F32(name, ST, precise, LD, TI, TH, TL, PRE)                   \
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
    PRE                                                                        \
    const __m512 ti = LD(TI), th = LD(TH), tl = LD(TL);                        \
    size_t i = 0;                                                              \
    for (; i + 32 <= n; i += 32) { /* two vectors a step */                 \
      PREFETCH(in + i);                                                        \
      PREFETCH(in + i + 16);                                                   \
      const __m512 y0_ =                                                       \
          logf16_any(_mm512_loadu_ps(in + i), ti, th, tl, precise);            \
      const __m512 y1_ =                                                       \
          logf16_any(_mm512_loadu_ps(in + i + 16), ti, th, tl, precise);       \
      ST(out + i, y0_);                                                        \
      ST(out + i + 16, y1_);                                                   \
    }                                                                          \
    if (i + 16 <= n) {                                                         \
      ST(out + i,                                                              \
         logf16_any(_mm512_loadu_ps(in + i), ti, th, tl, precise));            \
      i += 16;                                                                 \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                    \
      _mm512_mask_storeu_ps(                                                   \
          out + i, m,                                                          \
          logf16_any(_mm512_maskz_loadu_ps(m, in + i), ti, th, tl, precise));  \
    }                                                                          \
  }
LOG_FAST_F32(log_fast_f32, _mm512_storeu_ps, 0, _mm512_loadu_ps, LOGF_INVC,
             LOGF_C_HI, LOGF_C_LO, KPLAIN_PRE)
LOG_FAST_F32(nt_log_fast_f32, _mm512_stream_ps, 0, _mm512_loadu_ps,
             LOGF_INVC, LOGF_C_HI, LOGF_C_LO, KPLAIN_PRE)
LOG_FAST_F32(nt_sel_log_fast_f32, KSEL_ST_PS, 0, _mm512_loadu_ps, LOGF_INVC,
             LOGF_C_HI, LOGF_C_LO, KSEL_PRE_F32)
LOG_FAST_F32(log_f32, _mm512_storeu_ps, 1, ld8x2, LOG8_S, LOG8_S_HI,
             LOG8_S_LO, KPLAIN_PRE)
LOG_FAST_F32(nt_log_f32, _mm512_stream_ps, 1, ld8x2, LOG8_S, LOG8_S_HI,
             LOG8_S_LO, KPLAIN_PRE)
LOG_FAST_F32(nt_sel_log_f32, KSEL_ST_PS, 1, ld8x2, LOG8_S, LOG8_S_HI,
             LOG8_S_LO, KSEL_PRE_F32)

/* LOGD_E8 (a8 ... a0, highest degree first) by pairs: Estrin's shorter
 * path with Horner's 8 fmas, r2 = r^2 being needed anyway */
static inline __attribute__((always_inline)) __m512d logd8_e8(__m512d r,
                                                              __m512d r2) {
#define C_(i) _mm512_set1_pd(LOGD_E8[i])
  const __m512d p01 = _mm512_fmadd_pd(C_(7), r, C_(8)),
                p23 = _mm512_fmadd_pd(C_(5), r, C_(6)),
                p45 = _mm512_fmadd_pd(C_(3), r, C_(4)),
                p67 = _mm512_fmadd_pd(C_(1), r, C_(2));
  __m512d e = _mm512_fmadd_pd(C_(0), r2, p67);
#undef C_
  e = _mm512_fmadd_pd(e, r2, p45);
  e = _mm512_fmadd_pd(e, r2, p23);
  return _mm512_fmadd_pd(e, r2, p01);
}


/* f64 log (<= 1 ULP) on AVX-512F: the short-s scheme above (top of the
 * file) with vgetmant/vgetexp (m in [1, 2), subnormals too) and 16
 * subintervals whose s (LOGD_S: a 2^-M, M <= 6), hi and lo are held in
 * registers and picked by permutes; -1/32 <= r < 1/16, E near-minimax of
 * degree 8 (LOGD_E8, error 2e-17 relative to r: up to ~0.2 ULP where
 * h = 0 and r ~ 1/16): max 0.811 ULP measured (docs/kernels.md; 0.721
 * with the compensated sum, 1.12x the cycles). One
 * vfixupimm sets +-0 (-inf), +inf, -inf and negatives (NaN) and passes
 * NaNs through. 23 vector operations per 8 elements (26 with the
 * compensated sum) where the 1/c
 * reduction (16 entries, rl carried, a degree-12 Taylor E, blends for +inf
 * and +-0) took 41: 2.03-2.11 -> 1.38-1.49 TSC ticks per element in
 * cache; two vectors a step and E by pairs (Estrin, the same fmas) took
 * another 2-5% (the loop is throughput-bound: ~25 operations on the two
 * vector ports, and no cheaper exact reduction was found). */
static inline __attribute__((always_inline)) __m512d
logd8_fast(__m512d x, __m512d s0, __m512d s1, __m512d h0, __m512d h1,
           __m512d l0, __m512d l1) {
  const __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_nan);
  const __m512d k = _mm512_getexp_pd(x);
  const __m512i j = _mm512_srli_epi64(_mm512_castpd_si512(m), 48);
  const __m512d r = _mm512_fmsub_pd(m, _mm512_permutex2var_pd(s0, j, s1),
                                    _mm512_set1_pd(1.0));
  const __m512d r2 = _mm512_mul_pd(r, r);
  const __m512d e = logd8_e8(r, r2);
  const __m512d h = _mm512_fmadd_pd(k, _mm512_set1_pd(LN2D[0]),
                                    _mm512_permutex2var_pd(h0, j, h1));
  const __m512d lo = _mm512_fmadd_pd(k, _mm512_set1_pd(LN2D[1]),
                                     _mm512_permutex2var_pd(l0, j, l1));
  /* h + (r + (r^2 E + lo)), two roundings (the compensated sum, t + err
   * = h + r by Fast2Sum, t + (r^2 E + (lo + err)), was 3 operations more) */
  const __m512d y =
      _mm512_add_pd(h, _mm512_add_pd(r, _mm512_fmadd_pd(r2, e, lo)));
  /* by x's class: QNaN x, SNaN quieted, zero -inf, +1 y (+0), -inf and
   * negatives the default NaN, +inf +inf, positive y */
  return _mm512_fixupimm_pd(y, x, _mm512_set1_epi64(0x03530421), 0);
}

/* The AVX-512F f64 log loop around FN (logd8_fast), which
 * takes 16-entry tables TI, TH, TL held in registers. ST: _mm512_storeu_pd,
 * or _mm512_stream_pd for the nt_ form (streamed calls: kernels/table.c) */
#define LOGD8_LOOP(name, FN, ST, TI, TH, TL, PRE)                              \
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
    PRE                                                                        \
    const __m512d i0 = _mm512_loadu_pd(TI), i1 = _mm512_loadu_pd(TI + 8);     \
    const __m512d h0 = _mm512_loadu_pd(TH), h1 = _mm512_loadu_pd(TH + 8);     \
    const __m512d l0 = _mm512_loadu_pd(TL), l1 = _mm512_loadu_pd(TL + 8);     \
    size_t i = 0;                                                              \
    for (; i + 16 <= n; i += 16) { /* two vectors a step */                 \
      PREFETCH(in + i);                                                        \
      PREFETCH(in + i + 8);                                                    \
      const __m512d y0_ = FN(_mm512_loadu_pd(in + i), i0, i1, h0, h1, l0, l1); \
      const __m512d y1_ =                                                      \
          FN(_mm512_loadu_pd(in + i + 8), i0, i1, h0, h1, l0, l1);             \
      ST(out + i, y0_);                                                        \
      ST(out + i + 8, y1_);                                                    \
    }                                                                          \
    if (i + 8 <= n) {                                                          \
      ST(out + i, FN(_mm512_loadu_pd(in + i), i0, i1, h0, h1, l0, l1));        \
      i += 8;                                                                  \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask8 m = (__mmask8)((1u << (n - i)) - 1);                      \
      _mm512_mask_storeu_pd(                                                   \
          out + i, m,                                                          \
          FN(_mm512_maskz_loadu_pd(m, in + i), i0, i1, h0, h1, l0, l1));       \
    }                                                                          \
  }
/* the log: logd8_fast (without the compensated sum) is within 1 ULP */
LOGD8_LOOP(log_f64, logd8_fast, _mm512_storeu_pd, LOGD_S, LOGD_S_HI,
           LOGD_S_LO, KPLAIN_PRE)
LOGD8_LOOP(nt_log_f64, logd8_fast, _mm512_stream_pd, LOGD_S, LOGD_S_HI,
           LOGD_S_LO, KPLAIN_PRE)
LOGD8_LOOP(nt_sel_log_f64, logd8_fast, KSEL_ST_PD, LOGD_S, LOGD_S_HI,
           LOGD_S_LO, KSEL_PRE_F64)

/* log_fast f64 on AVX-512F: the log's kernel (logd8_fast; it was 0.808
 * ULP over 20M samples against MPFR where the 1/c reduction on [0.75,
 * 1.5) it replaced, its own 16 entries and a blend for +-0, gave 1.030). */
LOGD8_LOOP(log_fast_f64, logd8_fast, _mm512_storeu_pd, LOGD_S, LOGD_S_HI,
           LOGD_S_LO, KPLAIN_PRE)
LOGD8_LOOP(nt_log_fast_f64, logd8_fast, _mm512_stream_pd, LOGD_S,
           LOGD_S_HI, LOGD_S_LO, KPLAIN_PRE)
LOGD8_LOOP(nt_sel_log_fast_f64, logd8_fast, KSEL_ST_PD, LOGD_S, LOGD_S_HI,
           LOGD_S_LO, KSEL_PRE_F64)

/* ---- log_fast f32 on AVX2 ----
 * The AVX-512F scheme without vgetmant/vgetexp: x's bits minus those of
 * 0.75 give k (arithmetic shift) and m = x / 2^k in [0.75, 1.5); 8 entries
 * (vpermps) pick 1/c and -ln(1/c), -1/16 <= r < 1/8, log(1+r) = r + r^2
 * E(r) with E near-minimax of degree 4 (LOG8_E4, error 6.1e-9 relative;
 * was Taylor of degree 6, 6.6e-9). The log (<= 1 ULP) takes instead s_j,
 * a short number near 1/m (LOG8_S: 3 fraction bits, so that r = m s - 1
 * is exact in one fma, in the same [-1/16, 1/8)), -ln s = hi + lo (hi a
 * multiple of 2^-16: k ln2_hi + hi is exact), E of degree 5 (LOG8_E5,
 * 3.4e-10), and with t + err = (k ln2_hi + hi) + r (Fast2Sum)
 *   log x = t + (r^2 E + ((k ln2_lo + lo) + err))
 * (the former 1/c reduction carried the product's rounding error: three
 * operations more). Lanes whose x is not a positive normal finite float (0,
 * subnormal, negative, inf, NaN) take SLEEF's logf, lane by lane (one
 * compare finds them; two vectors a step share one test). E is evaluated
 * by pairs (Estrin: a shorter path than Horner's, the same fmas). Max
 * 0.610 ULP (log; 0.763 before) and 1.071 (log_fast) over every positive
 * float: docs/kernels.md. */
#elif defined(OMPB_ISA_AVX2)

static inline __attribute__((always_inline)) __m256
logf8(__m256 x, __m256 ti, __m256 th, __m256 tl, int precise) {
  const __m256i ix = _mm256_castps_si256(x);
  const __m256i k = _mm256_srai_epi32(
      _mm256_sub_epi32(ix, _mm256_set1_epi32(0x3f400000)), 23);
  const __m256 m =
      _mm256_castsi256_ps(_mm256_sub_epi32(ix, _mm256_slli_epi32(k, 23)));
  const __m256 kf = _mm256_cvtepi32_ps(k);
  const __m256i j = _mm256_srli_epi32(_mm256_castps_si256(m), 20);
  const __m256 one = _mm256_set1_ps(1.0f);
  /* precise: ti holds s (LOG8_S), r = m s - 1 exact; else 1/c */
  const __m256 r = _mm256_fmsub_ps(m, _mm256_permutevar8x32_ps(ti, j), one);
  /* E by pairs (Estrin; coefficients highest degree first): a shorter
   * path than Horner's for the same number of fmas */
  const __m256 r2 = _mm256_mul_ps(r, r);
  __m256 e;
  if (precise) {
#define C_(i) _mm256_set1_ps(LOG8_E5[i]) /* a5 ... a0 */
    const __m256 p01 = _mm256_fmadd_ps(C_(4), r, C_(5)),
                 p23 = _mm256_fmadd_ps(C_(2), r, C_(3)),
                 p45 = _mm256_fmadd_ps(C_(0), r, C_(1));
#undef C_
    e = _mm256_fmadd_ps(_mm256_fmadd_ps(p45, r2, p23), r2, p01);
  } else {
#define C_(i) _mm256_set1_ps(LOG8_E4[i]) /* a4 ... a0 */
    const __m256 p01 = _mm256_fmadd_ps(C_(3), r, C_(4)),
                 p23 = _mm256_fmadd_ps(C_(1), r, C_(2));
#undef C_
    e = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(LOG8_E4[0]), r2, p23),
                        r2, p01);
  }
  const __m256 lo = _mm256_fmadd_ps(kf, _mm256_set1_ps(LN2F[1]),
                                    _mm256_permutevar8x32_ps(tl, j));
  const __m256 hi = _mm256_fmadd_ps(kf, _mm256_set1_ps(LN2F[0]),
                                    _mm256_permutevar8x32_ps(th, j));
  if (precise) { /* Fast2Sum(hi, r): |hi| >= |r| or hi = 0 */
    const __m256 s = _mm256_add_ps(hi, r);
    const __m256 err = _mm256_sub_ps(r, _mm256_sub_ps(s, hi));
    return _mm256_add_ps(s, _mm256_fmadd_ps(r2, e, _mm256_add_ps(lo, err)));
  }
  return _mm256_add_ps(hi, _mm256_fmadd_ps(r2, e, _mm256_add_ps(r, lo)));
}

/* x not a positive normal finite float: bits outside [0x00800000,
 * 0x7f800000), that is bits - 0x00800000 > 0x7effffff unsigned, a signed
 * compare once the sign bit is flipped (- 0x00800000 + 0x80000000 = +
 * 0x7f800000) */
static inline __attribute__((always_inline)) __m256 logf8_bad(__m256 x) {
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(
      _mm256_add_epi32(_mm256_castps_si256(x), _mm256_set1_epi32(0x7f800000)),
      _mm256_set1_epi32(-0x01000001))); /* 0x7effffff ^ 0x80000000 */
}

/* those lanes of y: log(+-0) = -inf, log(x < 0) = NaN, log(+inf) = +inf,
 * a NaN stays a NaN, by blends; from SLEEF's logf when a lane is a
 * positive subnormal. (SLEEF for every such vector made a log over
 * mixed-sign data, E4's where(x > 0, log(x), -x), ~5x slower than over
 * positive data: perf/bench_expr at OMPB_SIMD=avx2, docs/design.md
 * "Expressions: a kernel and its select".) */
static inline __attribute__((always_inline)) __m256
logf8_fix(__m256 x, __m256 y, __m256 bad, int precise) {
  if (!_mm256_movemask_ps(bad))
    return y;
  const __m256 z = _mm256_setzero_ps();
  const __m256 sub = _mm256_and_ps(_mm256_cmp_ps(x, z, _CMP_GT_OQ),
                                   _mm256_cmp_ps(x, _mm256_set1_ps(0x1p-126f), _CMP_LT_OQ));
  if (_mm256_movemask_ps(sub))
    return _mm256_blendv_ps(y, precise ? Sleef_logf8_u10avx2(x) : Sleef_logf8_u35avx2(x), bad);
  __m256 s = _mm256_blendv_ps(_mm256_add_ps(x, z), _mm256_set1_ps(NAN),
                              _mm256_cmp_ps(x, z, _CMP_LT_OQ));
  s = _mm256_blendv_ps(s, _mm256_set1_ps(-INFINITY), _mm256_cmp_ps(x, z, _CMP_EQ_OQ));
  return _mm256_blendv_ps(y, s, bad);
}

/* TI, TH, TL: LOG8_S and -ln s (log), LOG8_INVC and -ln(1/c) (log_fast) */
#define LOG_FAST_F32_AVX2(name, ST, precise, TI, TH, TL, PRE)                  \
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
    PRE                                                                        \
    const __m256 ti = _mm256_loadu_ps(TI), th = _mm256_loadu_ps(TH),           \
                 tl = _mm256_loadu_ps(TL);                                     \
    size_t i = 0;                                                              \
    for (; i + 16 <= n; i += 16) { /* two vectors, one test for SLEEF */       \
      PREFETCH(in + i);                                                        \
      const __m256 x0 = _mm256_loadu_ps(in + i),                               \
                   x1 = _mm256_loadu_ps(in + i + 8);                           \
      __m256 y0 = logf8(x0, ti, th, tl, precise),                              \
             y1 = logf8(x1, ti, th, tl, precise);                              \
      const __m256 b0 = logf8_bad(x0), b1 = logf8_bad(x1);                     \
      if (_mm256_movemask_ps(_mm256_or_ps(b0, b1))) {                          \
        y0 = logf8_fix(x0, y0, b0, precise);                                   \
        y1 = logf8_fix(x1, y1, b1, precise);                                   \
      }                                                                        \
      ST(out + i, y0);                                                         \
      ST(out + i + 8, y1);                                                     \
    }                                                                          \
    for (; i + 8 <= n; i += 8) {                                               \
      const __m256 x0 = _mm256_loadu_ps(in + i);                               \
      ST(out + i, logf8_fix(x0, logf8(x0, ti, th, tl, precise), logf8_bad(x0), \
                            precise));                                         \
    }                                                                          \
    VTAIL_PAD(8, _mm256_loadu_ps, _mm256_storeu_ps,                            \
              logf8_fix(v_, logf8(v_, ti, th, tl, precise), logf8_bad(v_),     \
                        precise))                                              \
  }
LOG_FAST_F32_AVX2(log_fast_f32, _mm256_storeu_ps, 0, LOG8_INVC, LOG8_C_HI,
                  LOG8_C_LO, KPLAIN_PRE)
LOG_FAST_F32_AVX2(nt_log_fast_f32, _mm256_stream_ps, 0, LOG8_INVC, LOG8_C_HI,
                  LOG8_C_LO, KPLAIN_PRE)
LOG_FAST_F32_AVX2(nt_sel_log_fast_f32, KSEL_ST_PS, 0, LOG8_INVC, LOG8_C_HI,
                  LOG8_C_LO, KSEL_PRE_F32)
LOG_FAST_F32_AVX2(log_f32, _mm256_storeu_ps, 1, LOG8_S, LOG8_S_HI, LOG8_S_LO,
                  KPLAIN_PRE)
LOG_FAST_F32_AVX2(nt_log_f32, _mm256_stream_ps, 1, LOG8_S, LOG8_S_HI,
                  LOG8_S_LO, KPLAIN_PRE)
LOG_FAST_F32_AVX2(nt_sel_log_f32, KSEL_ST_PS, 1, LOG8_S, LOG8_S_HI,
                  LOG8_S_LO, KSEL_PRE_F32)

/* ---- f64 log and log_fast on AVX2 ----
 * The short-s scheme above on 128 subintervals (j = m's top 7 fraction
 * bits) with s = a/256 (|r| < 2^-7, so r is exact), E near-minimax of
 * degree 5 (LOGD_E5S, error 3e-18 relative to r), without the compensated
 * sum: max 0.754 ULP measured (docs/kernels.md; 0.524 with it, 1.03x the
 * cycles). k and m from x's bits by integer steps; each lane's
 * entry is one 16-byte pair (LOGD128_S: hi carrying a - 128 in its low 8
 * bits, which are 0 in hi, and lo) loaded from an offset taken from x's
 * bits read again by scalar loads. Lanes whose x is not a positive
 * normal finite double take SLEEF's 1-ULP log, lane by lane (one compare
 * finds them). 3.96-4.11 -> 2.84-3.02 TSC ticks per element in cache
 * against the 1/c reduction with three gathers (1/c, hi, lo); two gathers
 * of the packed table, or the offsets moved from vector to scalar
 * registers, gave ~3.9 (docs/kernels.md). log_fast is the same but for
 * SLEEF's 3.5-ULP log in the other lanes (the 1/c reduction with two
 * gathers it replaced: 1.69 ULP, and 1.2x slower). */
/* The lanes whose x is a positive normal finite double (bits in [2^52,
 * 0x7ff0...)), as a double mask: bits - 2^52 < 0x7fe0... unsigned, as a
 * signed compare (both sides' top bit flipped: bits - 2^52 + 2^63). */
static inline __attribute__((always_inline)) __m256d logd4_good(__m256d x) {
  return _mm256_castsi256_pd(_mm256_cmpgt_epi64(
      _mm256_set1_epi64x(-0x0020000000000000LL),
      _mm256_add_epi64(_mm256_castpd_si256(x),
                       _mm256_set1_epi64x(0x7ff0000000000000LL))));
}

static inline __attribute__((always_inline)) uint64_t
logd4_bits(const double *p) {
  uint64_t b;
  memcpy(&b, p, sizeof b);
  return b;
}

/* log of the 4 doubles at p (their bits read again as integers: the table
 * offsets come from scalar registers) where they are positive normal finite
 * doubles; *good: those lanes */
static inline __attribute__((always_inline)) __m256d
logd4_core(const double *p, __m256d *good, int precise) {
  const __m256d x = _mm256_loadu_pd(p);
  const __m256i ix = _mm256_castpd_si256(x);
  /* m8 = m 2^-8 (m in [1, 2)): x's fraction under 2^-8's exponent; k =
   * x's exponent field minus 1023, as a double (added to the bits of
   * 2^52) */
  const __m256d m8 = _mm256_castsi256_pd(_mm256_or_si256(
      _mm256_and_si256(ix, _mm256_set1_epi64x(0x000fffffffffffffLL)),
      _mm256_set1_epi64x(0x3f70000000000000LL)));
  const __m256d k = _mm256_sub_pd(
      _mm256_castsi256_pd(_mm256_or_si256(
          _mm256_srli_epi64(ix, 52), _mm256_set1_epi64x(0x4330000000000000LL))),
      _mm256_set1_pd(0x1p52 + 1023));
  /* j = m's top 7 fraction bits (normal lanes: the others are replaced
   * below); each lane's pair (16 bytes) by one load from a scalar offset
   * (two gathers and vector-to-scalar moves were no faster) */
#define LOGD4_PAIR(l)                                                          \
  _mm_loadu_pd((const double *)((const char *)LOGD128_S +                      \
                                ((logd4_bits(p + l) >> 41) & 0x7f0)))
  const __m256d p02 = _mm256_insertf128_pd(
      _mm256_castpd128_pd256(LOGD4_PAIR(0)), LOGD4_PAIR(2), 1);
  const __m256d p13 = _mm256_insertf128_pd(
      _mm256_castpd128_pd256(LOGD4_PAIR(1)), LOGD4_PAIR(3), 1);
#undef LOGD4_PAIR
  const __m256i sh = _mm256_castpd_si256(_mm256_unpacklo_pd(p02, p13));
  /* a = 256 s = 128 + (a - 128), from 2^52 + (a - 128): the same bits
   * as k's (one constant fewer than s from 2^44 + (a - 128) 2^-8, and
   * 0.95-0.96x the ticks in cache against 0.97-0.98x) */
  const __m256d a = _mm256_sub_pd(
      _mm256_castsi256_pd(_mm256_or_si256(
          _mm256_and_si256(sh, _mm256_set1_epi64x(0xff)),
          _mm256_set1_epi64x(0x4330000000000000LL))),
      _mm256_set1_pd(0x1p52 - 128));
  const __m256d th = _mm256_castsi256_pd(
      _mm256_andnot_si256(_mm256_set1_epi64x(0xff), sh));
  /* r = m s - 1 = m8 a - 1, exact */
  const __m256d r = _mm256_fmsub_pd(m8, a, _mm256_set1_pd(1.0));
  const __m256d r2 = _mm256_mul_pd(r, r);
  /* E by pairs (Estrin: a shorter path than Horner's, the same fmas) */
#define C_(i) _mm256_set1_pd(LOGD_E5S[i]) /* a5 ... a0 */
  const __m256d p01 = _mm256_fmadd_pd(C_(4), r, C_(5)),
                p23 = _mm256_fmadd_pd(C_(2), r, C_(3)),
                p45 = _mm256_fmadd_pd(C_(0), r, C_(1));
#undef C_
  const __m256d e = _mm256_fmadd_pd(_mm256_fmadd_pd(p45, r2, p23), r2, p01);
  const __m256d h = _mm256_fmadd_pd(k, _mm256_set1_pd(LN2D[0]), th);
  const __m256d lo = _mm256_fmadd_pd(k, _mm256_set1_pd(LN2D[1]),
                                     _mm256_unpackhi_pd(p02, p13));
  *good = logd4_good(x);
  (void)precise; /* log and log_fast alike: h + (r + (r^2 E + lo)) */
  return _mm256_add_pd(h, _mm256_add_pd(r, _mm256_fmadd_pd(r2, e, lo)));
}

/* log of the 4 doubles at p: logd4_core's, SLEEF's (1-ULP log, or 3.5-ULP
 * for log_fast) in the other lanes */
static inline __attribute__((always_inline)) __m256d
logd4(const double *p, int precise) {
  __m256d good;
  const __m256d y = logd4_core(p, &good, precise);
  if (_mm256_movemask_pd(good) == 15)
    return y;
  const __m256d x = _mm256_loadu_pd(p);
  return _mm256_blendv_pd(
      precise ? Sleef_logd4_u10avx2(x) : Sleef_logd4_u35avx2(x), y, good);
}

/* The lanes of *y at p that logd4_core cannot take (good clear), when
 * none is a positive subnormal (else false: SLEEF's, logd4): log(+-0) =
 * -inf, log(x < 0) = NaN, log(+inf) = +inf, a NaN stays a NaN, by blends
 * (as logf8_fix). */
static inline __attribute__((always_inline)) int
logd4_specials(const double *p, __m256d *y, __m256d good) {
  const __m256d x = _mm256_loadu_pd(p), z = _mm256_setzero_pd();
  const __m256d sub = _mm256_and_pd(_mm256_cmp_pd(x, z, _CMP_GT_OQ),
                                    _mm256_cmp_pd(x, _mm256_set1_pd(0x1p-1022), _CMP_LT_OQ));
  if (_mm256_movemask_pd(sub))
    return 0;
  __m256d s = _mm256_blendv_pd(_mm256_add_pd(x, z), _mm256_set1_pd(NAN),
                               _mm256_cmp_pd(x, z, _CMP_LT_OQ));
  s = _mm256_blendv_pd(s, _mm256_set1_pd(-INFINITY), _mm256_cmp_pd(x, z, _CMP_EQ_OQ));
  *y = _mm256_blendv_pd(s, *y, good);
  return 1;
}

/* The AVX2 f64 log and log_fast loop. The inner loop has no call: a vector
 * with a lane for SLEEF (a positive subnormal) leaves it (the call made the
 * compiler reload every constant each step); zeros, negatives, inf and NaN
 * are blended in (logd4_specials). ST: _mm256_storeu_pd, or
 * _mm256_stream_pd for the nt_ form (out 64-byte aligned). */
#define LOGD4_LOOP(name, ST, precise, PRE)                                     \
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
    PRE                                                                        \
    size_t i = 0;                                                              \
    while (i + 4 <= n) {                                                       \
      for (; i + 8 <= n; i += 8) { /* two vectors a step, one test */       \
        PREFETCH(in + i);                                                      \
        __m256d g0, g1;                                                        \
        __m256d y0 = logd4_core(in + i, &g0, precise);                         \
        __m256d y1 = logd4_core(in + i + 4, &g1, precise);                     \
        if (_mm256_movemask_pd(_mm256_and_pd(g0, g1)) != 15 &&                 \
            !(logd4_specials(in + i, &y0, g0) &&                               \
              logd4_specials(in + i + 4, &y1, g1)))                            \
          break;                                                               \
        ST(out + i, y0);                                                       \
        ST(out + i + 4, y1);                                                   \
      }                                                                        \
      for (; i + 4 <= n; i += 4) {                                             \
        __m256d good;                                                          \
        __m256d y = logd4_core(in + i, &good, precise);                        \
        if (_mm256_movemask_pd(good) != 15 && !logd4_specials(in + i, &y, good)) \
          break;                                                               \
        ST(out + i, y);                                                        \
      }                                                                        \
      if (i + 4 <= n) {                                                        \
        ST(out + i, logd4(in + i, precise));                                   \
        i += 4;                                                                \
      }                                                                        \
    }                                                                          \
    if (i < n) {                                                               \
      double pi[4] = {0}, po[4];                                               \
      memcpy(pi, in + i, (n - i) * sizeof pi[0]);                              \
      _mm256_storeu_pd(po, logd4(pi, precise));                                \
      memcpy(out + i, po, (n - i) * sizeof po[0]);                             \
    }                                                                          \
  }
LOGD4_LOOP(log_f64, _mm256_storeu_pd, 1, KPLAIN_PRE)
LOGD4_LOOP(nt_log_f64, _mm256_stream_pd, 1, KPLAIN_PRE)
LOGD4_LOOP(nt_sel_log_f64, KSEL_ST_PD, 1, KSEL_PRE_F64)
LOGD4_LOOP(log_fast_f64, _mm256_storeu_pd, 0, KPLAIN_PRE)
LOGD4_LOOP(nt_log_fast_f64, _mm256_stream_pd, 0, KPLAIN_PRE)
LOGD4_LOOP(nt_sel_log_fast_f64, KSEL_ST_PD, 0, KSEL_PRE_F64)
#else
SLEEF1_F32(log_fast, log, u35)
#endif
