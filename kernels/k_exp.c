/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: exp, exp_fast and sigmoid, f32 and f64, for the ISA
 * this object is compiled for (kernels/isa.h). Where each comes from, per
 * ISA: docs/kernels.md. */
#include <math.h>

#include "consts.h"
#include "isa.h"

/* SLEEF's double exp returns +inf for x in (709.782711, ln(DBL_MAX) =
 * 709.782712893384], where e^x is still finite (its scaling overflows
 * first). Where SLEEF computes f64 exp (AVX2 for |x| > 708, SSE2, scalar),
 * lanes above EXP_TOP take the C library's exp instead (glibc's: < 1 ULP),
 * lane by lane: such inputs are rare and near overflow. */
#define EXP_TOP 709.78
#if !defined(OMPB_ISA_AVX512F) /* AVX-512F's own f64 exp needs none */
static inline double exp_top(double x, double y) { return x > EXP_TOP ? exp(x) : y; }
#endif

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
 * degree lower (~1.1 ULP, ~20% faster). Two vectors a step and E by pairs
 * (Estrin: the same fmas on a shorter path) hide the chain's latency: f64
 * 5-10% faster in cache. AVX2 has its own f32 exp and
 * exp_fast and f64 exp and exp_fast (below); elsewhere exp is SLEEF's 1-ULP
 * function and exp_fast is exp (SLEEF has no faster one). */
#if defined(OMPB_ISA_AVX512F)

/* `precise` is a constant: 1 for exp, 0 for exp_fast (no Tl, E one degree
 * lower: ~1.3 ULP, 20% faster). */
static inline __attribute__((always_inline)) __m512d
exp8(__m512d x, __m512d t0, __m512d t1, __m512d l0, __m512d l1, int precise) {
  x = _mm512_min_pd(_mm512_set1_pd(1000.0),
                    _mm512_max_pd(_mm512_set1_pd(-1000.0), x));
  /* t = 1.5 2^48 + k/16, k = x 16/ln2 rounded: t's spacing is 1/16, so
   * its low 4 bits are k mod 16, and kd = k/16 is what vscalef takes (it
   * uses floor(kd)); kd (16 ln2/16) = k ln2/16 exactly: the same r, j and
   * result as k and a multiplication by 1/16, one operation less */
  const __m512d t = _mm512_fmadd_pd(x, _mm512_set1_pd(EXP16[0] * 0.0625),
                                    _mm512_set1_pd(0x1.8p48));
  const __m512d kd = _mm512_sub_pd(t, _mm512_set1_pd(0x1.8p48));
  __m512d r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(EXP16[1] * 16), x);
  r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(EXP16[2] * 16), r);
  /* E by pairs (Estrin: a shorter path than Horner's, the same fmas) */
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d e;
  if (precise) { /* Taylor, degree 5 */
    const __m512d p45 = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 5040), r,
                                        _mm512_set1_pd(1.0 / 720)),
                  p23 = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 120), r,
                                        _mm512_set1_pd(1.0 / 24)),
                  p01 = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 6), r,
                                        _mm512_set1_pd(0.5));
    e = _mm512_fmadd_pd(_mm512_fmadd_pd(p45, r2, p23), r2, p01);
  } else { /* near-minimax, degree 4 (error 2.8e-17) */
    const __m512d p23 = _mm512_fmadd_pd(_mm512_set1_pd(EXP_E4[0]), r,
                                        _mm512_set1_pd(EXP_E4[1])),
                  p01 = _mm512_fmadd_pd(_mm512_set1_pd(EXP_E4[3]), r,
                                        _mm512_set1_pd(EXP_E4[4]));
    e = _mm512_fmadd_pd(_mm512_fmadd_pd(p23, r, _mm512_set1_pd(EXP_E4[2])),
                        r2, p01);
  }
  const __m512d q = _mm512_fmadd_pd(r2, e, r);
  const __m512i j = _mm512_castpd_si512(t); /* low 4 bits: k mod 16 */
  const __m512d tt = _mm512_permutex2var_pd(t0, j, t1);
  const __m512d y =
      precise ? _mm512_add_pd(tt, _mm512_fmadd_pd(
                                      tt, q, _mm512_permutex2var_pd(l0, j, l1)))
              : _mm512_fmadd_pd(tt, q, tt);
  return _mm512_scalef_pd(y, kd);
}

/* ST: _mm512_storeu_pd, or _mm512_stream_pd for the nt_ form (out 64-byte
 * aligned, kernels/dispatch.c's streamed calls) */
#define EXP_F64(name, precise, ST, PRE)                                        \
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
    PRE                                                                        \
    const __m512d t0 = _mm512_loadu_pd(EXP_T),                                 \
                  t1 = _mm512_loadu_pd(EXP_T + 8);                             \
    const __m512d l0 = _mm512_loadu_pd(EXP_TL),                                \
                  l1 = _mm512_loadu_pd(EXP_TL + 8);                            \
    size_t i = 0;                                                              \
    for (; i + 16 <= n; i += 16) { /* two vectors a step */                 \
      PREFETCH(in + i);                                                        \
      PREFETCH(in + i + 8);                                                    \
      const __m512d y0_ =                                                      \
          exp8(_mm512_loadu_pd(in + i), t0, t1, l0, l1, precise);              \
      const __m512d y1_ =                                                      \
          exp8(_mm512_loadu_pd(in + i + 8), t0, t1, l0, l1, precise);          \
      ST(out + i, y0_);                                                        \
      ST(out + i + 8, y1_);                                                    \
    }                                                                          \
    if (i + 8 <= n) {                                                          \
      ST(out + i, exp8(_mm512_loadu_pd(in + i), t0, t1, l0, l1, precise));    \
      i += 8;                                                                  \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask8 m = (__mmask8)((1u << (n - i)) - 1);                      \
      _mm512_mask_storeu_pd(                                                   \
          out + i, m,                                                          \
          exp8(_mm512_maskz_loadu_pd(m, in + i), t0, t1, l0, l1, precise));    \
    }                                                                          \
  }
EXP_F64(exp_f64, 1, _mm512_storeu_pd, KPLAIN_PRE)
EXP_F64(exp_fast_f64, 0, _mm512_storeu_pd, KPLAIN_PRE)
EXP_F64(nt_exp_f64, 1, _mm512_stream_pd, KPLAIN_PRE)
EXP_F64(nt_exp_fast_f64, 0, _mm512_stream_pd, KPLAIN_PRE)
EXP_F64(nt_sel_exp_f64, 1, KSEL_ST_PD, KSEL_PRE_F64)
EXP_F64(nt_sel_exp_fast_f64, 0, KSEL_ST_PD, KSEL_PRE_F64)

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

#define EXP_F32(name, precise, ST, PRE)                                        \
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
    PRE                                                                        \
    const __m512 tt0 = _mm512_loadu_ps(EXP_TF),                                \
                 tl0 = _mm512_loadu_ps(EXP_TLF);                               \
    size_t i = 0;                                                              \
    for (; i + 32 <= n; i += 32) { /* two vectors a step */                 \
      PREFETCH(in + i);                                                        \
      PREFETCH(in + i + 16);                                                   \
      const __m512 y0_ = exp16(_mm512_loadu_ps(in + i), tt0, tl0, precise);    \
      const __m512 y1_ =                                                       \
          exp16(_mm512_loadu_ps(in + i + 16), tt0, tl0, precise);              \
      ST(out + i, y0_);                                                        \
      ST(out + i + 16, y1_);                                                   \
    }                                                                          \
    if (i + 16 <= n) {                                                         \
      ST(out + i, exp16(_mm512_loadu_ps(in + i), tt0, tl0, precise));          \
      i += 16;                                                                 \
    }                                                                          \
    if (i < n) {                                                               \
      const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                    \
      _mm512_mask_storeu_ps(                                                   \
          out + i, m,                                                          \
          exp16(_mm512_maskz_loadu_ps(m, in + i), tt0, tl0, precise));         \
    }                                                                          \
  }
EXP_F32(exp_f32, 1, _mm512_storeu_ps, KPLAIN_PRE)
EXP_F32(exp_fast_f32, 0, _mm512_storeu_ps, KPLAIN_PRE)
EXP_F32(nt_exp_f32, 1, _mm512_stream_ps, KPLAIN_PRE)
EXP_F32(nt_exp_fast_f32, 0, _mm512_stream_ps, KPLAIN_PRE)
EXP_F32(nt_sel_exp_f32, 1, KSEL_ST_PS, KSEL_PRE_F32)
EXP_F32(nt_sel_exp_fast_f32, 0, KSEL_ST_PS, KSEL_PRE_F32)
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

#define EXP_F32_AVX2(name, precise, ST, PRE)                                   \
  KDEF(name)(const float *in, float *out, size_t n, const void *params) {      \
    PRE                                                                        \
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
EXP_F32_AVX2(exp_f32, 1, _mm256_storeu_ps, KPLAIN_PRE)
EXP_F32_AVX2(exp_fast_f32, 0, _mm256_storeu_ps, KPLAIN_PRE)
EXP_F32_AVX2(nt_exp_f32, 1, _mm256_stream_ps, KPLAIN_PRE)
EXP_F32_AVX2(nt_exp_fast_f32, 0, _mm256_stream_ps, KPLAIN_PRE)
EXP_F32_AVX2(nt_sel_exp_f32, 1, KSEL_ST_PS, KSEL_PRE_F32)
EXP_F32_AVX2(nt_sel_exp_fast_f32, 0, KSEL_ST_PS, KSEL_PRE_F32)

/* ---- f64 exp and exp_fast on AVX2: the table in registers, no gather ----
 * x = (8e + j) ln2/8 + r, |r| <= ln2/16, e^x = 2^e 2^(j/8) e^r. The table
 * 2^(j/8) = T_j (1 + c_j) (EXP8_T, EXP8_TC) is held as T's low and high
 * 32-bit halves, one register each: t's low half holds k, so one vpermps
 * by t picks each lane's low half, one by t with k copied into both
 * halves (vpshufd) its high half, and a blend joins them (gathers are
 * slow here; these picks take no FMA port). T's bits are held as T_j - j
 * 2^49, so that adding k 2^49 gives s = 2^e T_j in one integer add. c_j
 * needs only ~8 bits: the double whose both halves are c_j's high half
 * stands for it (relative error < 2^-19), one vpermps by t's copy. The
 * reduction r1 = x - k ln2/8_hi is exact (a 39-bit hi part). e^r = 1 + q,
 * q = r + r^2 E(r), E near-minimax evaluated by pairs (Estrin: a shorter
 * path than Horner's, the same fmas), of degree 6 (EXP8_E6, error 2e-20)
 * and q + c_j for exp, of degree 5 (EXP8_E5, 1e-17) and no c_j for
 * exp_fast; y = s + s q (one fma). exp takes two vectors a step with one
 * test for SLEEF's lanes. Max 0.58 ULP (exp) and 1.04 (exp_fast); speed:
 * docs/kernels.md. s is normal for |x| <= 708; lanes with |x| > 708 (or
 * NaN) take SLEEF's 1-ULP exp, lane by lane (an integer compare finds
 * them). */
/* |x| > 708 or NaN: |x|'s bits, as integers, above 708's */
static inline __attribute__((always_inline)) __m256d exp_bad(__m256d x) {
  const __m256i ax = _mm256_andnot_si256(_mm256_set1_epi64x(INT64_MIN),
                                         _mm256_castpd_si256(x));
  return _mm256_castsi256_pd(
      _mm256_cmpgt_epi64(ax, _mm256_set1_epi64x(0x4086200000000000)));
}

/* those lanes of y from SLEEF's exp, and those above EXP_TOP from the C
 * library's, lane by lane */
static inline __attribute__((always_inline)) __m256d
exp_fix(__m256d x, __m256d y, __m256d bad) {
  if (!_mm256_movemask_pd(bad)) return y;
  y = _mm256_blendv_pd(y, Sleef_expd4_u10avx2(x), bad);
  if (_mm256_movemask_pd(_mm256_cmp_pd(x, _mm256_set1_pd(EXP_TOP), _CMP_GT_OQ))) {
    double a[4], b[4];
    _mm256_storeu_pd(a, x);
    _mm256_storeu_pd(b, y);
    for (int k = 0; k < 4; k++) b[k] = exp_top(a[k], b[k]);
    y = _mm256_loadu_pd(b);
  }
  return y;
}

static inline __attribute__((always_inline)) __m256d
pick8d(__m256i t, __m256i th, __m256 lo, __m256 hi) {
  return _mm256_castps_pd(_mm256_blend_ps(_mm256_permutevar8x32_ps(lo, t),
                                          _mm256_permutevar8x32_ps(hi, th),
                                          0xaa));
}

/* exp: tlo, thi the halves of T_j - j 2^49 (bits); chi the high halves of
 * c_j, which stand for c_j (as a double whose both halves are c_j's high
 * one: relative error < 2^-19, where c_j needs 8 bits) */
/* x = k ln2/8 + r: t holds k in its low bits (rounding by the magic
 * constant), r exact but for the last part's rounding, r2 = r^2. */
static inline __attribute__((always_inline)) void
exp4d_reduce(__m256d x, __m256d *t, __m256d *r, __m256d *r2) {
  const __m256d magic = _mm256_set1_pd(0x1.8p52);
  *t = _mm256_fmadd_pd(x, _mm256_set1_pd(EXP8_LN2[0]), magic);
  const __m256d k = _mm256_sub_pd(*t, magic);
  /* exact: k ln2/8_hi is (39 bits, |k| < 2^14), and so is the difference */
  const __m256d r1 = _mm256_fnmadd_pd(k, _mm256_set1_pd(EXP8_LN2[1]), x);
  *r = _mm256_fnmadd_pd(k, _mm256_set1_pd(EXP8_LN2[2]), r1);
  *r2 = _mm256_mul_pd(*r, *r);
}

/* s = 2^e T_j from t's bits (ti; th: k in both halves), then s + s q */
static inline __attribute__((always_inline)) __m256d
exp4d_scale(__m256i ti, __m256i th, __m256d q, __m256 tlo, __m256 thi) {
  /* t's bits << 49 are k 2^49 (magic's bits shift out) */
  const __m256d s = _mm256_castsi256_pd(_mm256_add_epi64(
      _mm256_castpd_si256(pick8d(ti, th, tlo, thi)),
      _mm256_slli_epi64(ti, 49)));
  return _mm256_fmadd_pd(s, q, s);
}

static inline __attribute__((always_inline)) __m256d
exp4d(__m256d x, __m256 tlo, __m256 thi, __m256 chi) {
  __m256d t, r, r2;
  exp4d_reduce(x, &t, &r, &r2);
#define C_(i) _mm256_set1_pd(EXP8_E6[i]) /* a6 ... a0 */
  const __m256d p01 = _mm256_fmadd_pd(C_(5), r, C_(6)),
                p23 = _mm256_fmadd_pd(C_(3), r, C_(4)),
                p45 = _mm256_fmadd_pd(C_(1), r, C_(2));
  __m256d e = _mm256_fmadd_pd(_mm256_fmadd_pd(C_(0), r2, p45), r2, p23);
#undef C_
  e = _mm256_fmadd_pd(e, r2, p01);
  /* t's low halves hold k (magic's are 0); th: k in both halves */
  const __m256i ti = _mm256_castpd_si256(t);
  const __m256i th = _mm256_shuffle_epi32(ti, 0xa0);
  const __m256d q = _mm256_add_pd(
      _mm256_fmadd_pd(r2, e, r),
      _mm256_castps_pd(_mm256_permutevar8x32_ps(chi, th)));
  return exp4d_scale(ti, th, q, tlo, thi);
}

/* exp_fast: tlo, thi the halves of T_j - j 2^49 (bits) */
static inline __attribute__((always_inline)) __m256d
exp4d_fast(__m256d x, __m256 tlo, __m256 thi) {
  __m256d t, r, r2;
  exp4d_reduce(x, &t, &r, &r2);
#define C_(i) _mm256_set1_pd(EXP8_E5[i]) /* a5 ... a0 */
  const __m256d p01 = _mm256_fmadd_pd(C_(4), r, C_(5)),
                p23 = _mm256_fmadd_pd(C_(2), r, C_(3)),
                p45 = _mm256_fmadd_pd(C_(0), r, C_(1));
#undef C_
  const __m256d e =
      _mm256_fmadd_pd(_mm256_fmadd_pd(p45, r2, p23), r2, p01);
  const __m256d q = _mm256_fmadd_pd(r2, e, r);
  /* t's low halves hold k (magic's are 0); th: k in both halves */
  const __m256i ti = _mm256_castpd_si256(t);
  const __m256i th = _mm256_shuffle_epi32(ti, 0xa0);
  return exp4d_scale(ti, th, q, tlo, thi);
}

/* The low and the high 32-bit halves of 8 doubles' bits, minus j sub
 * (j = 0..7) from the j-th, as two registers of 8 */
static inline void halves8(const double *v, long long sub, __m256 *lo,
                           __m256 *hi) {
  const __m256i step = _mm256_setr_epi64x(0, sub, 2 * sub, 3 * sub);
  const __m256i a = _mm256_sub_epi64(_mm256_loadu_si256((const void *)v),
                                     step);
  const __m256i b = _mm256_sub_epi64(
      _mm256_loadu_si256((const void *)(v + 4)),
      _mm256_add_epi64(step, _mm256_set1_epi64x(4 * sub)));
  const __m256i sep = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const __m256i a2 = _mm256_permutevar8x32_epi32(a, sep),
                b2 = _mm256_permutevar8x32_epi32(b, sep);
  *lo = _mm256_castsi256_ps(_mm256_permute2x128_si256(a2, b2, 0x20));
  *hi = _mm256_castsi256_ps(_mm256_permute2x128_si256(a2, b2, 0x31));
}

/* The AVX2 f64 exp loop around CORE(x) (exp4d or exp4d_fast with their
 * tables): two vectors a step, one test for lanes that need SLEEF. ST:
 * _mm256_storeu_pd, or _mm256_stream_pd for the nt_ form (out 64-byte
 * aligned) */
#define EXP_F64_LOOP(ST, CORE)                                                 \
  size_t i = 0;                                                                \
  for (; i + 8 <= n; i += 8) {                                                 \
    PREFETCH(in + i);                                                          \
    const __m256d x0 = _mm256_loadu_pd(in + i),                                \
                  x1 = _mm256_loadu_pd(in + i + 4);                            \
    __m256d y0 = CORE(x0), y1 = CORE(x1);                                      \
    const __m256d b0 = exp_bad(x0), b1 = exp_bad(x1);                          \
    if (_mm256_movemask_pd(_mm256_or_pd(b0, b1))) {                            \
      y0 = exp_fix(x0, y0, b0);                                                \
      y1 = exp_fix(x1, y1, b1);                                                \
    }                                                                          \
    ST(out + i, y0);                                                           \
    ST(out + i + 4, y1);                                                       \
  }                                                                            \
  for (; i + 4 <= n; i += 4) {                                                 \
    const __m256d x0 = _mm256_loadu_pd(in + i);                                \
    ST(out + i, exp_fix(x0, CORE(x0), exp_bad(x0)));                           \
  }                                                                            \
  VTAIL_PAD(4, _mm256_loadu_pd, _mm256_storeu_pd,                              \
            exp_fix(v_, CORE(v_), exp_bad(v_)))

#define EXP4D_(v) exp4d(v, tlo, thi, chi)
#define EXP_F64_AVX2(name, ST, PRE)                                            \
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
    PRE                                                                        \
    __m256 tlo, thi, clo, chi;                                                 \
    halves8(EXP8_T, 1LL << 49, &tlo, &thi);                                    \
    halves8(EXP8_TC, 0, &clo, &chi);                                           \
    (void)clo;                                                                 \
    EXP_F64_LOOP(ST, EXP4D_)                                                   \
  }
EXP_F64_AVX2(exp_f64, _mm256_storeu_pd, KPLAIN_PRE)
EXP_F64_AVX2(nt_exp_f64, _mm256_stream_pd, KPLAIN_PRE)
EXP_F64_AVX2(nt_sel_exp_f64, KSEL_ST_PD, KSEL_PRE_F64)

#define EXP4D_FAST_(v) exp4d_fast(v, tlo, thi)
#define EXP_FAST_F64_AVX2(name, ST, PRE)                                       \
  KDEF(name)(const double *in, double *out, size_t n, const void *params) {    \
    PRE                                                                        \
    __m256 tlo, thi;                                                           \
    halves8(EXP8_T, 1LL << 49, &tlo, &thi);                                    \
    size_t i = 0;                                                              \
    for (; i + 4 <= n; i += 4) {                                               \
      PREFETCH(in + i);                                                        \
      const __m256d x0 = _mm256_loadu_pd(in + i);                              \
      ST(out + i, exp_fix(x0, EXP4D_FAST_(x0), exp_bad(x0)));                  \
    }                                                                          \
    VTAIL_PAD(4, _mm256_loadu_pd, _mm256_storeu_pd,                            \
              exp_fix(v_, EXP4D_FAST_(v_), exp_bad(v_)))                       \
  }
EXP_FAST_F64_AVX2(exp_fast_f64, _mm256_storeu_pd, KPLAIN_PRE)
EXP_FAST_F64_AVX2(nt_exp_fast_f64, _mm256_stream_pd, KPLAIN_PRE)
EXP_FAST_F64_AVX2(nt_sel_exp_fast_f64, KSEL_ST_PD, KSEL_PRE_F64)

#else
SLEEF1_F32(exp, exp, u10)

#if !defined(ISA_SCALAR)
static inline __m128d expd2_top(__m128d x) {
  __m128d y = VD(exp, u10)(x);
  if (_mm_movemask_pd(_mm_cmpgt_pd(x, _mm_set1_pd(EXP_TOP)))) {
    double a[2], b[2];
    _mm_storeu_pd(a, x);
    _mm_storeu_pd(b, y);
    for (int k = 0; k < 2; k++) b[k] = exp_top(a[k], b[k]);
    y = _mm_loadu_pd(b);
  }
  return y;
}
#endif
KDEF(exp_f64)(const double *in, double *out, size_t n, const void *params) {
  (void)params;
  size_t i = 0;
  VLOOP1(ND, LDD, STD, expd2_top)
  TAIL1(exp_top(x, SD(exp, u10)(x)))
}

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
 * (the exp's 1 ULP and two roundings: <= 2.5 ULP), of e^-|x| so that it never
 * overflows. */
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
      w[j] = -fabs(in[lo + j]);
    K(exp_f64)(w, w, m, NULL);
    /* t = e^-|x|: 1 / (1 + t) for x >= 0, t / (1 + t) below, so that e^-x
     * never overflows: for x < -709.78 the result is e^x, subnormal, not 0 */
#pragma omp simd
    for (size_t j = 0; j < m; j++)
      out[lo + j] = (in[lo + j] < 0 ? w[j] : 1.0) / (1.0 + w[j]);
  }
}
