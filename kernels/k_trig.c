/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: sin, cos, tan and their _fast forms, f32 and f64, for
 * the ISA this object is compiled for (kernels/isa.h). Where each comes
 * from, per ISA: docs/kernels.md. */
#include "consts.h"
#include "isa.h"

/* SLEEF's vector sin/cos/tan choose their argument reduction once for the
 * whole vector (the fast one only when every lane is below a bound, NaN
 * failing the test), so a lane's last bit could depend on its neighbours:
 * f32 tan_fast of 2.49 beside -1e6 differed from 2.49 alone (found by
 * tests/fuzz/fuzz_expr.c). Below `lim` every lane gets the bits it gets
 * alone (bounds measured on Debian's SLEEF 3.5, random vectors: tanf u35
 * 62.5, sinf/cosf u35 125, tan u35 1e6, sin/cos/tan u10 and sin/cos u35
 * 1e14); a vector holding a lane at or above it (or NaN) is computed lane
 * by lane, each broadcast to a whole vector, so that every result depends
 * on its own element only. The zero-padded tail goes the same way. */
#if defined(ISA_SCALAR)
#define TRIG1_F32(decl, fn, u, lim) SLEEF_F32_BODY(decl, fn, u)
#define TRIG1_F64(decl, fn, u, lim) SLEEF_F64_BODY(decl, fn, u)
#else
#define TRIG_LANEWISE(T, W, LD, ST, SET, vfn, ABS, lim, src, dst)              \
  {                                                                            \
    int big_ = 0;                                                              \
    for (int j_ = 0; j_ < W; j_++) big_ |= !(ABS((src)[j_]) < (lim));          \
    if (!big_) {                                                               \
      ST(dst, vfn(LD(src)));                                                   \
    } else {                                                                   \
      for (int j_ = 0; j_ < W; j_++) {                                         \
        T b_[W];                                                               \
        ST(b_, vfn(SET((src)[j_])));                                           \
        (dst)[j_] = b_[0];                                                     \
      }                                                                        \
    }                                                                          \
  }
#define TRIG_BODY(decl, T, W, LD, ST, SET, vfn, ABS, lim)                      \
  decl(const T *in, T *out, size_t n, const void *params) {                    \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    for (; i + W <= n; i += W) {                                               \
      PREFETCH(in + i);                                                        \
      TRIG_LANEWISE(T, W, LD, ST, SET, vfn, ABS, lim, in + i, out + i)         \
    }                                                                          \
    if (i < n) {                                                               \
      T pi_[W] = {0}, po_[W];                                                  \
      memcpy(pi_, in + i, (n - i) * sizeof pi_[0]);                            \
      TRIG_LANEWISE(T, W, LD, ST, SET, vfn, ABS, lim, pi_, po_)                \
      memcpy(out + i, po_, (n - i) * sizeof po_[0]);                           \
    }                                                                          \
  }
#define TRIG1_F32(decl, fn, u, lim)                                            \
  TRIG_BODY(decl, float, NF, LDF, STF, SETF, VF(fn, u), fabsf, lim)
#define TRIG1_F64(decl, fn, u, lim)                                            \
  TRIG_BODY(decl, double, ND, LDD, STD, SETD, VD(fn, u), fabs, lim)
#endif

/* SLEEF's 3.5-ULP double sin/cos/tan: the fallback of the blocks the own
 * kernels below do not cover, and the f32 tan evaluated in double. */
TRIG1_F64(static void sin_wide_f64, sin, u35, 1e14)
TRIG1_F64(static void cos_wide_f64, cos, u35, 1e14)
TRIG1_F64(static void tan_wide_f64, tan, u35, 1e6)

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
 * PI30[0] + PI30[1] + PI30[2] with PI30[0] and PI30[1] of 30 bits, so h*PI30[0]
 * and h*PI30[1] are exact (|2h| < 2^23) and x - h*PI30[0] is exact: r carries
 * ~53 good bits (with FMA: PI53[0] + PI53[1], two steps, see trig32_core).
 * P has degree 4 (error 7e-11 relative), the one rounding to float gives
 * ~0.5 ULP (max 0.5016 in 96M floats of [0, 2^22]). For |x| <= TRIG32_MAX;
 * on AVX2 and AVX-512F only above TRIG32F_MAX (float lanes below it, see
 * trig32f_core).
 *
 * f64 _fast (<= 3.5 ULP): with FMA hardware pi is three 53-bit parts (each
 * h*part is exact inside the fma, x - h*PI53[0] is exact, pi to 160 bits);
 * without, four parts of 33 bits (exact products for |h| < 2^20). P has
 * degree 7 (error 2.4e-17). For |x| <= TRIG64_MAX: max 2.02 ULP (sin_fast)
 * and 2.56 (cos_fast) in 16M samples of [-2^20, 2^20] and of 2^-30..2^20,
 * against sinl/cosl. On AVX2 and AVX-512F the same operations in
 * intrinsics (trig64_fast, the same bits on 4.2M inputs), for |h| < 2^19
 * (|x| up to ~1.64e6, max 1.11 ULP in 9.8M samples next to the k pi/4 of
 * [7.8e5, 1.75e6]), with the range test on t (see td_out).
 *
 * A block of GUARD_BLOCK inputs holding any larger, infinite or NaN value is
 * computed instead by SLEEF's 3.5-ULP double sin/cos (valid to 1e15; for f32
 * that is ~0.5 float ULP over the whole float range); only those elements
 * take its value. */
#define TRIG32_MAX 4194304.0f /* 2^22 */
#define TRIG64_MAX 1048576.0  /* 2^20 */
#if defined(__FMA__)
#define MADD(a, b, c) fma(a, b, c)
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

/* sin r for |r| <= pi/2 from P(z), z = r^2, with the signs of k and r. */
#if defined(__FMA__)
INLINE double sin_finish(double r, double z, double p, double t, uint64_t flip,
                         double x) {
  (void)x;
  /* r is 0 only for x = +-0 (x is never another exact multiple of pi);
   * with the parts of pi all positive the reduction keeps that zero's
   * sign (h = +0, each -h*part is -0), z p + 0 is +0 and r + r (z p) is r
   * again: sin(+-0) = +-0 with no select (3 fewer vector instructions) */
  const double b = fma(z, p, 0.0);
  return double_of(bits_of(fma(r, b, r)) ^ ((bits_of(t) ^ flip) << 63));
}
#else
INLINE double sin_finish(double r, double z, double p, double t, uint64_t flip,
                         double x) {
  /* r is 0 only for x = +-0, where PI30's reduction may lose the sign of
   * zero: sin(+-0) = +-0 by a select. A mask select: gcc 12 leaves the
   * loop scalar at AVX2 for a ?: here (f32 sin 20 ns/element instead of 1) */
  const uint64_t zm = 0 - (uint64_t)(r == 0);
  const uint64_t s = (bits_of(x) & zm) | (bits_of(MADD(r * z, p, r)) & ~zm);
  return double_of(s ^ ((bits_of(t) ^ flip) << 63));
}
#endif

/* half is a constant 0 or 0.5: for sin h is t - M itself (never -0, so
 * the + 0 that gcc cannot drop changed nothing) */
INLINE double trig32_core(double x, double half, uint64_t flip) {
#if defined(__FMA__)
  /* sin: k = x/pi rounded by one fma. pi in two 53-bit parts: x is a
   * float, h*PI53[0] a multiple of 2^-52 exact inside the fma, so
   * x - h*PI53[0] (|.| < 2) is exact; the part left out, h*PI53[2], is
   * below 2^-84, far under r's own rounding for any float |x| <= 2^22 */
  const double t = half != 0 ? fma(x, INV_PI, -half) + ROUND_MAGIC
                             : fma(x, INV_PI, ROUND_MAGIC);
  const double h = half != 0 ? (t - ROUND_MAGIC) + half : t - ROUND_MAGIC;
  double r = fma(-h, PI53[0], x);
  r = fma(-h, PI53[1], r);
#else
  const double t = MADD(x, INV_PI, -half) + ROUND_MAGIC;
  const double h = half != 0 ? (t - ROUND_MAGIC) + half : t - ROUND_MAGIC;
  double r = MADD(-h, PI30[0], x); /* both steps exact: see above */
  r = MADD(-h, PI30[1], r);
  r = MADD(-h, PI30[2], r);
#endif
  const double z = r * r;
  double p = SIN_P4[0];
  p = MADD(p, z, SIN_P4[1]);
  p = MADD(p, z, SIN_P4[2]);
  p = MADD(p, z, SIN_P4[3]);
  p = MADD(p, z, SIN_P4[4]);
  return sin_finish(r, z, p, t, flip, x);
}

/* the f64 _fast core (AVX2 and AVX-512F: trig64_fast, the same operations) */
#if !defined(__FMA__) || !(defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2))
INLINE double trig64_core(double x, double half, uint64_t flip) {
#if defined(__FMA__) /* sin: k = x/pi rounded by one fma */
  const double t = half != 0 ? fma(x, INV_PI, -half) + ROUND_MAGIC
                             : fma(x, INV_PI, ROUND_MAGIC);
#else
  const double t = MADD(x, INV_PI, -half) + ROUND_MAGIC;
#endif
  const double h = half != 0 ? (t - ROUND_MAGIC) + half : t - ROUND_MAGIC;
#if defined(__FMA__)
  double r = fma(-h, PI53[0], x);
  r = fma(-h, PI53[1], r);
  r = fma(-h, PI53[2], r);
#else
  double r = x - h * PI33[0];
  r = r - h * PI33[1];
  r = r - h * PI33[2];
  r = r - h * PI33[3];
#endif
  const double z = r * r;
  double p = SIN_P7[0];
  p = MADD(p, z, SIN_P7[1]);
  p = MADD(p, z, SIN_P7[2]);
  p = MADD(p, z, SIN_P7[3]);
  p = MADD(p, z, SIN_P7[4]);
  p = MADD(p, z, SIN_P7[5]);
  p = MADD(p, z, SIN_P7[6]);
  p = MADD(p, z, SIN_P7[7]);
  return sin_finish(r, z, p, t, flip, x);
}
#endif

/* f32 blocks through SLEEF's double sin/cos (m <= GUARD_BLOCK). */
#define TRIG32_WIDE(name)                                                      \
  static void name##_f32_wide(const float *in, float *out, size_t m,           \
                              const void *params) {                            \
    (void)params;                                                              \
    double w[GUARD_BLOCK];                                                     \
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
#if defined(__FMA__) && (defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2))
/* the blocks holding an |x| above TRIG32F_MAX (below) */
static GUARDED_KERNEL(sin_f32_dbl, float, int32_t, fabsf, TRIG32_MAX, SIN32,
                      sin_f32_wide)
static GUARDED_KERNEL(cos_f32_dbl, float, int32_t, fabsf, TRIG32_MAX, COS32,
                      cos_f32_wide)
#else
GUARDED_KERNEL(sin_f32, float, int32_t, fabsf, TRIG32_MAX, SIN32, sin_f32_wide)
GUARDED_KERNEL(cos_f32, float, int32_t, fabsf, TRIG32_MAX, COS32, cos_f32_wide)
#endif
#if !defined(__FMA__) || !(defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2))
GUARDED_KERNEL(sin_fast_f64, double, int64_t, fabs, TRIG64_MAX, SIN64,
               sin_wide_f64)
GUARDED_KERNEL(cos_fast_f64, double, int64_t, fabs, TRIG64_MAX, COS64,
               cos_wide_f64)
#endif

/* ---- f32 sin_fast and cos_fast with FMA hardware: all in float ----
 * The same scheme as trig64_core in float lanes (twice the elements per
 * vector): pi in three floats (x - h*PIF_A is exact inside the fma for
 * |x| >= 2, and rounds by 2^-24 relative below that, where r is not small),
 * P of degree 3 with float coefficients (error 2.2e-8 relative). For
 * |x| <= TRIGF_MAX (reduction good to ~2^-46 absolute there): max 2.75 ULP
 * (sin_fast and cos_fast) over every float of [2^-20, 2^16], against double
 * sin/cos (where r is just above 1 and sin r just below, r's own rounding
 * is already 1 ULP of the result). Other blocks use SLEEF's 3.5-ULP
 * sinf/cosf. */
#if defined(__FMA__)
TRIG1_F32(static void sin_fast_sleef_f32, sin, u35, 125.0f)
TRIG1_F32(static void cos_fast_sleef_f32, cos, u35, 125.0f)
#define TRIGF_MAX 65536.0f
#if !defined(OMPB_ISA_AVX2) /* AVX2: trigf8 and trigf_block, below */
INLINE float trigf_core(float x, float half, uint32_t flip) {
  const float t = half != 0 ? fmaf(x, INV_PIF, -half) + 0x1.8p23f
                            : fmaf(x, INV_PIF, 0x1.8p23f); /* sin: one fma */
  /* cos (half = 1/2): h = (t - M) + 1/2 = t - (M - 1/2) in one fma, the
   * 25-bit M - 1/2 = 12582911.5 as the exact product 9.5 * 1324517; and
   * r negated, each step with the same rounding, so that the result's
   * sign needs no flip (cos x = -(-1)^k sin r): 2 fewer operations */
  _Static_assert(19 * 1324517 == 2 * (3 << 22) - 1, "cos_fast's M - 1/2");
  const float h = half != 0 ? fmaf(-9.5f, 1324517.0f, t) : t - 0x1.8p23f;
  float r = half != 0 ? fmaf(h, PIF3[0], -x) : fmaf(-h, PIF3[0], x);
  r = half != 0 ? fmaf(h, PIF3[1], r) : fmaf(-h, PIF3[1], r);
  r = half != 0 ? fmaf(h, PIF3[2], r) : fmaf(-h, PIF3[2], r);
  flip = half != 0 ? 0 : flip;
  const float z = r * r;
  float p = SINF_P3[0];
  p = fmaf(p, z, SINF_P3[1]);
  p = fmaf(p, z, SINF_P3[2]);
  p = fmaf(p, z, SINF_P3[3]);
  /* r + r (z p): a zero x keeps its sign, as in sin_finish (PIF3's parts
   * are all positive) */
  const float b = fmaf(z, p, 0.0f);
  return float_of(bits_of_f(fmaf(r, b, r)) ^ ((bits_of_f(t) ^ flip) << 31));
}
#define SINF_FAST(x) trigf_core(x, 0.0f, 0)
#define COSF_FAST(x) trigf_core(x, 0.5f, 1)
GUARDED_KERNEL(sin_fast_f32, float, int32_t, fabsf, TRIGF_MAX, SINF_FAST,
               sin_fast_sleef_f32)
GUARDED_KERNEL(cos_fast_f32, float, int32_t, fabsf, TRIGF_MAX, COSF_FAST,
               cos_fast_sleef_f32)
#endif
#if defined(OMPB_ISA_AVX512F)
GUARDED_KERNEL_NT(nt_sin_fast_f32, float, int32_t, fabsf, TRIGF_MAX,
                  SINF_FAST, sin_fast_sleef_f32)
GUARDED_KERNEL_NT(nt_cos_fast_f32, float, int32_t, fabsf, TRIGF_MAX,
                  COSF_FAST, cos_fast_sleef_f32)
GUARDED_KERNEL_NT_EPI(nt_sel_sin_fast_f32, float, int32_t, fabsf, TRIGF_MAX,
                      SINF_FAST, sin_fast_sleef_f32, 1, struct ompb__ksel_f32,
                      KSEL_NT_F32)
GUARDED_KERNEL_NT_EPI(nt_sel_cos_fast_f32, float, int32_t, fabsf, TRIGF_MAX,
                      COSF_FAST, cos_fast_sleef_f32, 1, struct ompb__ksel_f32,
                      KSEL_NT_F32)
#endif

/* ---- f32 sin and cos (default, <= 1 ULP) in float lanes, AVX2/AVX-512F ----
 * For |x| <= TRIG32F_MAX, 16 (8) floats a vector instead of twice 8 (4)
 * doubles and the conversions. x = k pi/2 + r, |r| <= pi/4 (+ 2/pi's
 * rounding), pi/2 = PIO2F3[0] + [1] + [2] (24 bits each, all positive):
 * - r1 = x - k P0 is exact in the fma (x and k P0 are multiples of 2^-24,
 *   |r1| < 1);
 * - q = k P1 rounded, |q| < 2^-10;
 * - rh = r1 - q by Fast2Sum (r1 a multiple of 2^-24 below 1, q one of
 *   2^-34 at most: rh - r1 is exact, even when rh is tiny), and
 *   -rl = (rh - r1) + k P1 + k P2 by two fmas, the sum's error and q's,
 *   below rh's ulp (+ 2^-35), rounded far below rh's ulp;
 * so r = rh + rl to ~2^-48 relative even next to a multiple of pi/2, and
 *   sin r = rh - (w z S(z) - rl),
 *   cos r = 1 - rh (rh/2 - w z C(z) + rl),  w = rh + 3 rl,
 * z = rh^2, S and C float near-minimax (kernels/gen_consts.py): sin's
 * correction is below 0.081 and cos's u = rh/2 - ... is rounded once, so
 * that the last operation's rounding is the main error. With S ~ 1/6,
 * 3 rl z S stands for the - rl z/2 of rl cos rh (one fma instead of a
 * product and an fma; left out entirely, 0.155 ULP more error, max 0.873
 * ULP); in cos it adds rl rh z/8 where the truth has rl rh z/6. Quadrant
 * k mod 4 picks sin or cos and the sign (bit 1 of t's bits, shifted into
 * the sign bit); at AVX-512F the even lanes' rh - corr is a subtraction
 * masked into cc, with no blend. sin(+-0) = +-0 (rh = x, -rl = +0,
 * rh - (w z S - rl) keeps -0's sign). The core is in intrinsics, the same
 * operations at both widths (so the same bits): from a scalar core gcc 12
 * built the select and the sign from 8 vector operations (5-6 at best,
 * against 3 here) and left a float ?: scalar at AVX2. 26 vector operations
 * per vector at AVX-512F (32 before). Lanes above TRIG32F_MAX, inf and NaN
 * take trig32_core's value (GUARDED_KERNEL's per-element fixup, in
 * TRIG32F_KERNEL below), so an element's bits depend on it alone. Max
 * error over every float of [-TRIG32F_MAX, TRIG32F_MAX]: sin 0.777 ULP,
 * cos 0.787 (docs/kernels.md). */
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
/* |k| < 2^14 below it: k P0 fits the fma, |q| < 2^-10 */
#define TRIG32F_MAX 16384.0f
#if defined(OMPB_ISA_AVX512F)
#define TF_W 16
typedef __m512 tf_v;
typedef __m512i tf_i;
#define TF_(op) _mm512_##op
#define TF_MAXI _mm512_max_epi32
#define TF_ANDI _mm512_and_si512
#define TF_CASTI _mm512_castps_si512
#define TF_ZEROI _mm512_setzero_si512
#else
#define TF_W 8
typedef __m256 tf_v;
typedef __m256i tf_i;
#define TF_(op) _mm256_##op
#define TF_MAXI _mm256_max_epi32
#define TF_ANDI _mm256_and_si256
#define TF_CASTI _mm256_castps_si256
#define TF_ZEROI _mm256_setzero_si256
#endif
#define TF_C(c) TF_(set1_ps)(c)

/* sin or cos of one vector; m = M + qoff (qoff 0 or 1) is a float, so that
 * t's bits hold k + qoff, mod 4 in the low bits, with no integer add */
static inline __attribute__((always_inline)) tf_v trig32f_core(tf_v x,
                                                              tf_v m) {
  const tf_v t = TF_(fmadd_ps)(x, TF_C(TWO_OVER_PIF), m);
  const tf_v k = TF_(sub_ps)(t, m);
  const tf_v r1 = TF_(fnmadd_ps)(k, TF_C(PIO2F3[0]), x);
  const tf_v rh = TF_(sub_ps)(r1, TF_(mul_ps)(k, TF_C(PIO2F3[1])));
  /* rh - r1 is exact (Fast2Sum); with k P1 exact inside the fma it leaves
   * the sum's error plus qh's, a value below rh's ulp rounded once */
  const tf_v nrl = TF_(fmadd_ps)( /* -rl */
      k, TF_C(PIO2F3[2]),
      TF_(fmadd_ps)(k, TF_C(PIO2F3[1]), TF_(sub_ps)(rh, r1)));
  /* z (rh + 3 rl) for rh z: see the comment above */
  const tf_v z = TF_(mul_ps)(rh, rh);
  const tf_v rz = TF_(mul_ps)(TF_(fnmadd_ps)(TF_C(3.0f), nrl, rh), z);
  tf_v s = TF_(fmadd_ps)(TF_C(SINF_S3[0]), z, TF_C(SINF_S3[1]));
  s = TF_(fmadd_ps)(s, z, TF_C(SINF_S3[2]));
  s = TF_(fmadd_ps)(s, z, TF_C(SINF_S3[3]));
  tf_v c = TF_(fmadd_ps)(TF_C(COSF_C2[0]), z, TF_C(COSF_C2[1]));
  c = TF_(fmadd_ps)(c, z, TF_C(COSF_C2[2]));
  const tf_v cc = TF_(fnmadd_ps)(
      rh, TF_(fmsub_ps)(TF_C(0.5f), rh, TF_(fmadd_ps)(rz, c, nrl)),
      TF_C(1.0f));
  const tf_v corr = TF_(fmadd_ps)(rz, s, nrl);
  /* odd quadrants take cc, quadrants 2 and 3 flip the sign */
  const tf_i q = TF_CASTI(t);
#if defined(OMPB_ISA_AVX512F)
  /* even lanes: rh - corr, merged into cc (no blend); the sign: bit 1 of
   * t's bits shifted into the sign bit */
  const __m512 v = _mm512_mask_sub_ps(
      cc, _mm512_testn_epi32_mask(q, _mm512_set1_epi32(1)), rh, corr);
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
      _mm512_castps_si512(v), _mm512_slli_epi32(q, 30),
      _mm512_set1_epi32(INT32_MIN), 0x78)); /* v ^ (q30 & sign) */
#else
  /* AVX2: the blend's selector and the sign come from t's low 3 bits
   * (k + qoff mod 8) by vpermd/vpermps, which run on the vector port that
   * the float operations cannot use, instead of two shifts on the two
   * they need (the same bits; 0.97-0.98x the ticks in cache) */
  const __m256 v = _mm256_blendv_ps(
      _mm256_sub_ps(rh, corr), cc,
      _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(
          _mm256_setr_epi32(0, -1, 0, -1, 0, -1, 0, -1), q)));
  return _mm256_xor_ps(
      v, _mm256_permutevar8x32_ps(_mm256_setr_ps(0.0f, 0.0f, -0.0f, -0.0f,
                                                 0.0f, 0.0f, -0.0f, -0.0f),
                                  q));
#endif
}

/* dst[j] = trig32f_core(in[j]) for j < m; whether an |in[j]| is above
 * TRIG32F_MAX or NaN (the max of the inputs' bits without the sign).
 * stream: the whole vectors by streaming stores (dst 64-byte aligned), the
 * tail by ordinary ones. ks: the nt_sel_ epilogue (kernels/isa.h, KSEL_*;
 * its c and f at in's index 0) applied to what is streamed and to the
 * tail, or NULL. */
static inline __attribute__((always_inline)) int
trig32f_block(const float *in, float *dst, size_t m, float qoff, int stream,
              const struct ompb__ksel_f32 *ks) {
  const tf_v mv = TF_C(0x1.8p23f + qoff);
  KSEL_BLOCK_F32(ks);
  const tf_i absm = TF_(set1_epi32)(INT32_MAX);
  tf_i top = TF_ZEROI();
  size_t j = 0;
  /* two vectors a step, as trig64_block (0.975x the ticks in cache at
   * AVX-512F, 0.98-0.99x at AVX2), a prefetch per 64-byte line */
  for (; j + 2 * TF_W <= m; j += 2 * TF_W) {
    PREFETCH(in + j);
    if (TF_W == 16)
      PREFETCH(in + j + TF_W);
    const tf_v xa = TF_(loadu_ps)(in + j), xb = TF_(loadu_ps)(in + j + TF_W);
    top = TF_MAXI(top, TF_ANDI(TF_CASTI(xa), absm));
    top = TF_MAXI(top, TF_ANDI(TF_CASTI(xb), absm));
    if (stream) {
      KSEL_STORE_F32(TF_(stream_ps), dst, j, trig32f_core(xa, mv));
      KSEL_STORE_F32(TF_(stream_ps), dst, j + TF_W, trig32f_core(xb, mv));
    } else {
      TF_(storeu_ps)(dst + j, trig32f_core(xa, mv));
      TF_(storeu_ps)(dst + j + TF_W, trig32f_core(xb, mv));
    }
  }
  for (; j + TF_W <= m; j += TF_W) {
    PREFETCH(in + j);
    const tf_v x = TF_(loadu_ps)(in + j);
    top = TF_MAXI(top, TF_ANDI(TF_CASTI(x), absm));
    if (stream)
      KSEL_STORE_F32(TF_(stream_ps), dst, j, trig32f_core(x, mv));
    else
      TF_(storeu_ps)(dst + j, trig32f_core(x, mv));
  }
  if (j < m) { /* the zero-padded tail */
    float xi[TF_W] = {0}, xo[TF_W];
    memcpy(xi, in + j, (m - j) * sizeof xi[0]);
    const tf_v x = TF_(loadu_ps)(xi);
    top = TF_MAXI(top, TF_ANDI(TF_CASTI(x), absm));
    TF_(storeu_ps)(xo, trig32f_core(x, mv));
    KSEL_TAIL(ks, xo, j, m - j);
    memcpy(dst + j, xo, (m - j) * sizeof xo[0]);
  }
  const tf_i limb = TF_(set1_epi32)(0x46800000); /* TRIG32F_MAX's bits */
#if defined(OMPB_ISA_AVX512F)
  return _mm512_cmpgt_epi32_mask(top, limb) != 0;
#else
  return !_mm256_testz_si256(_mm256_cmpgt_epi32(top, limb),
                             _mm256_cmpgt_epi32(top, limb));
#endif
}

/* GUARDED_KERNEL's shape with BLOCK (trig32f_block, trig64_any) as the
 * scan, W elements a vector: the lanes for which OUT(x, qoff) holds (out
 * of the block's range, inf and NaN; the same test as BLOCK's) take the
 * fallback's value, element by element. nt: the block goes out by
 * BLOCK's streaming stores from the registers (its last argument 1; out
 * 64-byte aligned: kernels/dispatch.c peels the head), the fallback's
 * lanes written over them after a fence (docs/kernels.md, "Streamed
 * calls"); in place, through an aligned stack buffer, as
 * GUARDED_KERNEL_NT. */
/* epi 1: the nt_sel_ form (kernels.h, nt 1): params the KS (the
 * ompb__ksel_* of T), the epilogue applied by BLOCK's streaming stores, to
 * the fallback's lanes, and in place to the buffer as it goes out (KNT:
 * KSEL_NT_F32/_F64; GUARD_NT_NONE_ when epi is 0). */
#define TRIG_BLOCK_KERNEL(fname, T, BLOCK, OUT, W, qoff, fallback, nt, epi,    \
                          KS, KNT)                                             \
  KDEF(fname)(const T *in, T *out, size_t n, const void *params) {             \
    const KS *ks_ = (epi) ? (const KS *)params : NULL;                         \
    (void)params;                                                              \
    _Alignas(64) T w[GUARD_BLOCK];                                             \
    T f[GUARD_BLOCK];                                                          \
    for (size_t lo = 0; lo < n; lo += GUARD_BLOCK) {                           \
      const size_t m = n - lo < GUARD_BLOCK ? n - lo : GUARD_BLOCK;            \
      KSEL_AT(KS, b_, epi, ks_, lo);                                           \
      const KS *const bp_ = (epi) ? &b_ : NULL;                                \
      if ((nt) && in != out) {                                                 \
        if (BLOCK(in + lo, out + lo, m, qoff, 1, bp_)) {                       \
          _mm_sfence(); /* the streamed block before the lanes over it */     \
          fallback(in + lo, f, m, NULL);                                       \
          for (size_t j = 0; j < m; j++)                                       \
            if (OUT(in[lo + j], qoff))                                         \
              out[lo + j] = bp_ ? KSEL_ONE(bp_, f[j], j) : f[j];               \
        }                                                                      \
        continue;                                                              \
      }                                                                        \
      T *dst = (nt) || in == out ? w : out + lo;                               \
      if (BLOCK(in + lo, dst, m, qoff, 0, NULL)) {                             \
        fallback(in + lo, f, m, NULL);                                         \
        for (size_t j = 0; j < m; j++)                                         \
          if (OUT(in[lo + j], qoff))                                           \
            dst[j] = f[j];                                                     \
      }                                                                        \
      if (nt) {                                                                \
        GUARD_NT_FLUSH(T, W, bp_, KNT, out + lo, w, m);                        \
      } else if (dst == w) {                                                   \
        memcpy(out + lo, w, m * sizeof(T));                                    \
      }                                                                        \
    }                                                                          \
  }
/* lanes above TRIG32F_MAX, inf and NaN take the double path's value */
#define TRIG32F_OUT(x, qoff) (!(fabsf(x) <= TRIG32F_MAX))
#define TRIG32F_KERNEL(fname, qoff, fallback, nt, epi, KNT)                    \
  TRIG_BLOCK_KERNEL(fname, float, trig32f_block, TRIG32F_OUT, TF_W, qoff,      \
                    fallback, nt, epi, struct ompb__ksel_f32, KNT)
TRIG32F_KERNEL(sin_f32, 0.0f, K(sin_f32_dbl), 0, 0, GUARD_NT_NONE_)
TRIG32F_KERNEL(cos_f32, 1.0f, K(cos_f32_dbl), 0, 0, GUARD_NT_NONE_)
TRIG32F_KERNEL(nt_sin_f32, 0.0f, K(sin_f32_dbl), 1, 0, GUARD_NT_NONE_)
TRIG32F_KERNEL(nt_cos_f32, 1.0f, K(cos_f32_dbl), 1, 0, GUARD_NT_NONE_)
TRIG32F_KERNEL(nt_sel_sin_f32, 0.0f, K(sin_f32_dbl), 1, 1, KSEL_NT_F32)
TRIG32F_KERNEL(nt_sel_cos_f32, 1.0f, K(cos_f32_dbl), 1, 1, KSEL_NT_F32)

#if defined(OMPB_ISA_AVX2)
/* f32 sin_fast and cos_fast at AVX2: trigf_core's operations in
 * intrinsics (the same bits), with the sign from t's parity by vpermps and
 * the range scan by an add and an OR (as in trig32f_block), on the vector
 * port that the float operations cannot use, instead of a shift and a
 * vpmaxsd on the two they need: 11 (sin) or 12 (cos) operations on those
 * two ports instead of 13 or 14 */
static inline __attribute__((always_inline)) __m256 trigf8(__m256 x,
                                                            float half) {
  const __m256 mg = _mm256_set1_ps(0x1.8p23f);
  const __m256 t =
      half != 0 ? _mm256_add_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(INV_PIF),
                                                _mm256_set1_ps(-half)),
                                mg)
                : _mm256_fmadd_ps(x, _mm256_set1_ps(INV_PIF), mg);
  const __m256 h = half != 0 ? _mm256_fmadd_ps(_mm256_set1_ps(-9.5f),
                                               _mm256_set1_ps(1324517.0f), t)
                             : _mm256_sub_ps(t, mg);
  __m256 r = half != 0 ? _mm256_fmsub_ps(h, _mm256_set1_ps(PIF3[0]), x)
                       : _mm256_fnmadd_ps(h, _mm256_set1_ps(PIF3[0]), x);
  r = half != 0 ? _mm256_fmadd_ps(h, _mm256_set1_ps(PIF3[1]), r)
                : _mm256_fnmadd_ps(h, _mm256_set1_ps(PIF3[1]), r);
  r = half != 0 ? _mm256_fmadd_ps(h, _mm256_set1_ps(PIF3[2]), r)
                : _mm256_fnmadd_ps(h, _mm256_set1_ps(PIF3[2]), r);
  const __m256 z = _mm256_mul_ps(r, r);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(SINF_P3[0]), z,
                             _mm256_set1_ps(SINF_P3[1]));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(SINF_P3[2]));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(SINF_P3[3]));
  const __m256 b = _mm256_fmadd_ps(z, p, _mm256_setzero_ps());
  return _mm256_xor_ps(
      _mm256_fmadd_ps(r, b, r),
      _mm256_permutevar8x32_ps(_mm256_setr_ps(0.0f, -0.0f, 0.0f, -0.0f, 0.0f,
                                              -0.0f, 0.0f, -0.0f),
                               _mm256_castps_si256(t)));
}
/* dst[j] = sin_fast/cos_fast(in[j]) (half 0 or 1/2) for j < m; whether an
 * |in[j]| is above TRIGF_MAX or NaN. stream, ks: as trig32f_block's. */
static inline __attribute__((always_inline)) int
trigf_block(const float *in, float *dst, size_t m, float half, int stream,
            const struct ompb__ksel_f32 *ks) {
  const __m256i absm = _mm256_set1_epi32(INT32_MAX);
  KSEL_BLOCK_F32(ks);
  /* |x|'s bits + this reach the sign bit exactly above TRIGF_MAX's */
  const __m256i bias = _mm256_set1_epi32(0x7FFFFFFF - 0x47800000);
  __m256i top = _mm256_setzero_si256();
  size_t j = 0;
  for (; j + 8 <= m; j += 8) {
    PREFETCH(in + j);
    const __m256 x = _mm256_loadu_ps(in + j);
    top = _mm256_or_si256(
        top, _mm256_add_epi32(_mm256_and_si256(_mm256_castps_si256(x), absm),
                              bias));
    if (stream)
      KSEL_STORE_F32(_mm256_stream_ps, dst, j, trigf8(x, half));
    else
      _mm256_storeu_ps(dst + j, trigf8(x, half));
  }
  if (j < m) { /* the zero-padded tail */
    float xi[8] = {0}, xo[8];
    memcpy(xi, in + j, (m - j) * sizeof xi[0]);
    const __m256 x = _mm256_loadu_ps(xi);
    top = _mm256_or_si256(
        top, _mm256_add_epi32(_mm256_and_si256(_mm256_castps_si256(x), absm),
                              bias));
    _mm256_storeu_ps(xo, trigf8(x, half));
    KSEL_TAIL(ks, xo, j, m - j);
    memcpy(dst + j, xo, (m - j) * sizeof xo[0]);
  }
  return !_mm256_testz_si256(top, _mm256_set1_epi32(INT32_MIN));
}
_Static_assert((int)TRIGF_MAX == 65536, "trigf_block's bias");
#define TRIGF_OUT(x, half) (!(fabsf(x) <= TRIGF_MAX))
#define TRIGF_KERNEL(fname, half, fallback, nt, epi, KNT)                      \
  TRIG_BLOCK_KERNEL(fname, float, trigf_block, TRIGF_OUT, 8, half, fallback, \
                    nt, epi, struct ompb__ksel_f32, KNT)
TRIGF_KERNEL(sin_fast_f32, 0.0f, sin_fast_sleef_f32, 0, 0, GUARD_NT_NONE_)
TRIGF_KERNEL(cos_fast_f32, 0.5f, cos_fast_sleef_f32, 0, 0, GUARD_NT_NONE_)
TRIGF_KERNEL(nt_sin_fast_f32, 0.0f, sin_fast_sleef_f32, 1, 0, GUARD_NT_NONE_)
TRIGF_KERNEL(nt_cos_fast_f32, 0.5f, cos_fast_sleef_f32, 1, 0, GUARD_NT_NONE_)
TRIGF_KERNEL(nt_sel_sin_fast_f32, 0.0f, sin_fast_sleef_f32, 1, 1, KSEL_NT_F32)
TRIGF_KERNEL(nt_sel_cos_fast_f32, 0.5f, cos_fast_sleef_f32, 1, 1, KSEL_NT_F32)
#endif
#endif
#else
TRIG1_F32(KDEF(sin_fast_f32), sin, u35, 125.0f)
TRIG1_F32(KDEF(cos_fast_f32), cos, u35, 125.0f)
#endif

/* ---- f64 sin and cos, default accuracy (<= 1 ULP), AVX2/AVX-512F ----
 * x = k pi/2 + r, |r| <= pi/4 (+ 2/pi's rounding), pi/2 = PIO2[0] + [1] +
 * [2] (53-bit parts), r = rh + rl as a double-double, the f32 float-lane
 * scheme (trig32f_core) in double lanes:
 * - r1 = x - k P0 is exact in the fma (|k| <= 2^20 + 1, x and k P0
 *   multiples of 2^-53 once k != 0, |r1| < 1);
 * - q = k P1 rounded, |q| < 2^-33;
 * - rh = r1 - q by Fast2Sum (r1 a multiple of 2^-53 below 1, q one of
 *   2^-87 at most: rh - r1 is exact, even when rh is tiny), and
 *   -rl = (rh - r1) + k P1 + k P2 by two fmas, the sum's error and q's,
 *   below rh's ulp (+ 2^-87), rounded far below rh's ulp;
 * so r = rh + rl to ~2^-100 relative even next to a multiple of pi/2 (the
 * former full TwoSum and the split of k P1 took 5 more operations), and
 *   sin r = rh - (-w z S(z) - rl),
 *   cos r = 1 - rh (rh/2 - w z C(z) + rl),  w = rh + 3 rl,
 * z = rh^2, S (degree 6) and C (degree 5) near-minimax
 * (kernels/gen_consts.py): sin's correction is below 0.081 and cos's
 * u = rh/2 - ... is rounded once (rh times its rounding: at most 0.2 ULP;
 * carrying 1 - rh^2/2's rounding error instead took 4 more operations and
 * left the measured max as it was: the correction's own roundings near
 * |r| = pi/4, ~0.25 ULP, dominate, as before). With S ~ -1/6,
 * -3 rl z S stands for the - rl z/2 of rl cos rh; in cos it adds
 * rl rh z/8 where the truth has rl rh z/6 (2^-59 at most). Quadrant
 * k mod 4 picks sin or cos and the sign (bit 1 of t's bits, shifted into
 * the sign bit); at AVX-512F the even lanes' rh - corr is a subtraction
 * masked into cc, with no blend. sin(+-0) = +-0 (rh = x, -rl = +0,
 * rh - corr keeps -0's sign). In intrinsics, the same operations at both
 * widths (the same bits): 31 vector instructions per 8 doubles at
 * AVX-512F besides the load and store, the range scan on t one vpternlog
 * (td_out; gcc's vectorised scalar core with the TwoSum and the zl terms
 * took 60, plus 28 copies and broadcasts); max 0.796 ULP in 58M samples.
 * Its range is |k| <= 2^20 + 1 (|x| up to ~1.64e6); the lanes out of it,
 * inf and NaN take SLEEF's 1-ULP value element by element (TRIG64_KERNEL),
 * so an element's bits depend on it alone. Max error: docs/kernels.md. */
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
TRIG1_F64(static void sin_u10_f64, sin, u10, 1e14)
TRIG1_F64(static void cos_u10_f64, cos, u10, 1e14)

#if defined(OMPB_ISA_AVX512F)
#define TD_W 8
typedef __m512d td_v;
typedef __m512i td_i;
#define TD_(op) _mm512_##op
#define TD_CASTI _mm512_castpd_si512
#define TD_CASTD _mm512_castsi512_pd
#define TD_XORI _mm512_xor_si512
#define TD_ZEROI _mm512_setzero_si512
#define TD_SET1I _mm512_set1_epi64
/* top |= t ^ c: one vpternlog */
#define TD_SCAN(top, t, c)                                                     \
  top = _mm512_ternarylogic_epi64(top, _mm512_castpd_si512(t), c, 0xF6)
#define TD_ANY(top, lim) (_mm512_test_epi64_mask(top, TD_SET1I(-(lim))) != 0)
#else
#define TD_W 4
typedef __m256d td_v;
typedef __m256i td_i;
#define TD_(op) _mm256_##op
#define TD_CASTI _mm256_castpd_si256
#define TD_CASTD _mm256_castsi256_pd
#define TD_XORI _mm256_xor_si256
#define TD_ZEROI _mm256_setzero_si256
#define TD_SET1I _mm256_set1_epi64x
#define TD_SCAN(top, t, c)                                                     \
  top = _mm256_or_si256(top, _mm256_xor_si256(_mm256_castpd_si256(t), c))
#define TD_ANY(top, lim) (!_mm256_testz_si256(top, TD_SET1I(-(lim))))
#endif
#define TD_C(c) TD_(set1_pd)(c)

/* The range test of the f64 kernels below, on t = x c + M (the rounding
 * trick that gives k, with the magic M = 1.5 2^52 + TD_KOFF + qoff) rather
 * than on |x|: t's bits are those of 1.5 2^52 (TD_TBITS) plus TD_KOFF + k
 * + qoff as long as that is in [0, 2^51), so that t ^ TD_TBITS is below
 * 2 TD_KOFF exactly when k + qoff is in [-TD_KOFF, TD_KOFF); any other t
 * (a larger |x|, inf, NaN: other high bits) sets a bit at or above
 * 2 TD_KOFF, and an OR of the blocks' t ^ TD_TBITS keeps it: one vpternlog
 * a vector at AVX-512F instead of an AND and a max (two XOR/OR at AVX2
 * instead of AND, compare, OR). The per-element fixup applies the same
 * test to the same t (td_out). */
#define TD_TBITS 0x4338000000000000
static inline __attribute__((always_inline)) int td_out(double t,
                                                        int64_t koff) {
  return (bits_of(t) ^ (uint64_t)TD_TBITS) >= (uint64_t)(2 * koff);
}

/* ---- precise: sin or cos of one vector ----
 * t = x 2/pi + m, m = M + qoff (qoff 0 or 1), so that t's bits hold
 * k + qoff, mod 4 in the low bits, with no integer add */
#define TD_KOFF_P 0x100000 /* 2^20: |k| <= 2^20 + 1, |x| < 1.64e6 */
static inline __attribute__((always_inline)) td_v trig64_precise(td_v x, td_v t,
                                                                 td_v m) {
  const td_v k = TD_(sub_pd)(t, m);
  const td_v r1 = TD_(fnmadd_pd)(k, TD_C(PIO2[0]), x); /* exact */
  const td_v rh = TD_(sub_pd)(r1, TD_(mul_pd)(k, TD_C(PIO2[1])));
  const td_v nrl = TD_(fmadd_pd)( /* -rl */
      k, TD_C(PIO2[2]),
      TD_(fmadd_pd)(k, TD_C(PIO2[1]), TD_(sub_pd)(rh, r1)));
  const td_v z = TD_(mul_pd)(rh, rh);
  const td_v rz = TD_(mul_pd)(TD_(fnmadd_pd)(TD_C(3.0), nrl, rh), z);
  td_v s = TD_(fmadd_pd)(TD_C(SIN_S6[0]), z, TD_C(SIN_S6[1]));
  s = TD_(fmadd_pd)(s, z, TD_C(SIN_S6[2]));
  s = TD_(fmadd_pd)(s, z, TD_C(SIN_S6[3]));
  s = TD_(fmadd_pd)(s, z, TD_C(SIN_S6[4]));
  s = TD_(fmadd_pd)(s, z, TD_C(SIN_S6[5]));
  s = TD_(fmadd_pd)(s, z, TD_C(SIN_S6[6]));
  td_v c = TD_(fmadd_pd)(TD_C(COS_C5[0]), z, TD_C(COS_C5[1]));
  c = TD_(fmadd_pd)(c, z, TD_C(COS_C5[2]));
  c = TD_(fmadd_pd)(c, z, TD_C(COS_C5[3]));
  c = TD_(fmadd_pd)(c, z, TD_C(COS_C5[4]));
  c = TD_(fmadd_pd)(c, z, TD_C(COS_C5[5]));
  const td_v cc = TD_(fnmadd_pd)(
      rh, TD_(fmsub_pd)(TD_C(0.5), rh, TD_(fmadd_pd)(rz, c, nrl)),
      TD_C(1.0));
  /* -(rz S) + (-rl): +0 for x = +-0 */
  const td_v corr = TD_(fnmadd_pd)(rz, s, nrl);
  const td_i q = TD_CASTI(t);
#if defined(OMPB_ISA_AVX512F)
  /* even lanes: rh - corr, merged into cc (no blend) */
  const __m512d v = _mm512_mask_sub_pd(
      cc, _mm512_testn_epi64_mask(q, _mm512_set1_epi64(1)), rh, corr);
  return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(
      _mm512_castpd_si512(v), _mm512_slli_epi64(q, 62),
      _mm512_set1_epi64(INT64_MIN), 0x78)); /* v ^ (q62 & sign) */
#else
  const __m256d v =
      _mm256_blendv_pd(_mm256_sub_pd(rh, corr), cc,
                       _mm256_castsi256_pd(_mm256_slli_epi64(q, 63)));
  return _mm256_xor_pd(
      v, _mm256_and_pd(_mm256_castsi256_pd(_mm256_slli_epi64(q, 62)),
                       _mm256_set1_pd(-0.0)));
#endif
}

/* ---- _fast: trig64_core's operations, a vector ----
 * t = x/pi + M (sin) or floor(x/pi) + M (cos, TD_COS_T), h = t - M
 * (+ 1/2): trig64_core's bits but where cos's k differs (TD_COS_T) */
#define TD_KOFF_F 0x80000 /* 2^19: |h| <= 2^19, |x| < 1.64e6 */
static inline __attribute__((always_inline)) td_v
trig64_fast(td_v x, td_v t, td_v m, double half) {
  /* cos: h = (t - M) + 1/2 = t - (M - 1/2) in one fma, with M - 1/2 the
   * exact product 1.5 * 4503599627720021 (M = 1.5 2^52 + TD_KOFF_F) */
  _Static_assert(3 * 4503599627720021LL == 2 * ((3LL << 51) + TD_KOFF_F) - 1,
                 "cos_fast's M - 1/2");
  const td_v h =
      half != 0
          ? TD_(fnmadd_pd)(TD_C(1.5), TD_C(4503599627720021.0), t)
          : TD_(sub_pd)(t, m);
  /* cos: -r, each step negated (fmsub, fmadd: the same roundings), so
   * that v is -sin r, cos's flip, with no operation for it */
  td_v r = half != 0 ? TD_(fmsub_pd)(h, TD_C(PI53[0]), x)
                     : TD_(fnmadd_pd)(h, TD_C(PI53[0]), x);
  r = half != 0 ? TD_(fmadd_pd)(h, TD_C(PI53[1]), r)
                : TD_(fnmadd_pd)(h, TD_C(PI53[1]), r);
  r = half != 0 ? TD_(fmadd_pd)(h, TD_C(PI53[2]), r)
                : TD_(fnmadd_pd)(h, TD_C(PI53[2]), r);
  const td_v z = TD_(mul_pd)(r, r);
  td_v p = TD_(fmadd_pd)(TD_C(SIN_P7[0]), z, TD_C(SIN_P7[1]));
  p = TD_(fmadd_pd)(p, z, TD_C(SIN_P7[2]));
  p = TD_(fmadd_pd)(p, z, TD_C(SIN_P7[3]));
  p = TD_(fmadd_pd)(p, z, TD_C(SIN_P7[4]));
  p = TD_(fmadd_pd)(p, z, TD_C(SIN_P7[5]));
  p = TD_(fmadd_pd)(p, z, TD_C(SIN_P7[6]));
  p = TD_(fmadd_pd)(p, z, TD_C(SIN_P7[7]));
  /* z p + 0, r + r (z p): sin(+-0) = +-0, as in sin_finish */
  const td_v v = TD_(fmadd_pd)(r, TD_(fmadd_pd)(z, p, TD_(setzero_pd)()), r);
  /* the sign: k's parity (t's low bit) */
  return TD_CASTD(TD_XORI(TD_CASTI(v), TD_(slli_epi64)(TD_CASTI(t), 63)));
}

/* cos_fast's t: k = floor(x/pi) (h = k + 1/2, r in [-pi/2, pi/2]), by one
 * fma rounded down at AVX-512F (x/pi - 1/2 rounded to the nearest by the
 * trick, two operations, at AVX2; the two differ only where x/pi is within
 * a rounding of a half-integer, both k giving |r| <= pi/2 + 2^-30) */
#if defined(OMPB_ISA_AVX512F)
#define TD_RD (_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define TD_COS_T(x, scale, sub, mv)                                            \
  ((void)(sub), _mm512_fmadd_round_pd(x, scale, mv, TD_RD))
INLINE double td_cos_t(double x, double m) {
  return _mm_cvtsd_f64(_mm_fmadd_round_sd(_mm_set_sd(x), _mm_set_sd(INV_PI),
                                          _mm_set_sd(m), TD_RD));
}
#else
#define TD_COS_T(x, scale, sub, mv)                                            \
  TD_(add_pd)(TD_(fmadd_pd)(x, scale, sub), mv)
INLINE double td_cos_t(double x, double m) { return fma(x, INV_PI, -0.5) + m; }
#endif

/* dst[j] = sin/cos(in[j]) for j < m (precise: half < 0; _fast: half 0 for
 * sin, 0.5 for cos); whether any in[j] fails the range test. stream, ks:
 * as trig32f_block's. */
static inline __attribute__((always_inline)) int
trig64_block(const double *in, double *dst, size_t m, double qoff,
             double half, int stream, const struct ompb__ksel_f64 *ks) {
  const int precise = half < 0;
  KSEL_BLOCK_F64(ks);
  const td_v mv =
      precise ? TD_C(0x1.8p52 + TD_KOFF_P + qoff) : TD_C(0x1.8p52 + TD_KOFF_F);
  const td_v scale = TD_C(precise ? TWO_OVER_PI : INV_PI);
  const td_v sub = TD_C(precise ? 0.0 : -half);
  const td_i tb = TD_SET1I(TD_TBITS);
  td_i top = TD_ZEROI();
  size_t j = 0;
#define TD_ONE(xv, out, st)                                                    \
  do {                                                                         \
    const td_v x_ = (xv);                                                      \
    const td_v t_ = half > 0 ? TD_COS_T(x_, scale, sub, mv)                    \
                             : TD_(fmadd_pd)(x_, scale, mv);                   \
    TD_SCAN(top, t_, tb);                                                      \
    const td_v y_ = precise ? trig64_precise(x_, t_, mv)                       \
                            : trig64_fast(x_, t_, mv, half);                   \
    if (st) /* aligned out; never the tail's stack buffer */                 \
      KSEL_STORE_F64(TD_(stream_pd), dst, (size_t)((out) - dst), y_);          \
    else                                                                       \
      TD_(storeu_pd)(out, y_);                                                 \
  } while (0)
  /* two vectors a step (1-4% fewer ticks in cache), a prefetch per
   * 64-byte line */
  for (; j + 2 * TD_W <= m; j += 2 * TD_W) {
    PREFETCH(in + j);
    if (TD_W == 8)
      PREFETCH(in + j + TD_W);
    const td_v xa = TD_(loadu_pd)(in + j), xb = TD_(loadu_pd)(in + j + TD_W);
    TD_ONE(xa, dst + j, stream);
    TD_ONE(xb, dst + j + TD_W, stream);
  }
  for (; j + TD_W <= m; j += TD_W) {
    PREFETCH(in + j);
    TD_ONE(TD_(loadu_pd)(in + j), dst + j, stream);
  }
  if (j < m) { /* the zero-padded tail */
    double xi[TD_W] = {0}, xo[TD_W];
    memcpy(xi, in + j, (m - j) * sizeof xi[0]);
    TD_ONE(TD_(loadu_pd)(xi), xo, 0);
    KSEL_TAIL(ks, xo, j, m - j);
    memcpy(dst + j, xo, (m - j) * sizeof xo[0]);
  }
#undef TD_ONE
  return precise ? TD_ANY(top, 2 * TD_KOFF_P) : TD_ANY(top, 2 * TD_KOFF_F);
}

/* the blocks and their per-element test, qoff: precise 0 (sin) or 1 (cos);
 * _fast -1 (sin) or -2 (cos) */
static inline __attribute__((always_inline)) int
trig64_any(const double *in, double *dst, size_t m, double qoff,
           int stream, const struct ompb__ksel_f64 *ks) {
  return qoff >= 0
             ? trig64_block(in, dst, m, qoff, -1.0, stream, ks)
             : trig64_block(in, dst, m, 0.0, qoff == -1 ? 0.0 : 0.5, stream, ks);
}
static inline __attribute__((always_inline)) int trig64_out(double x,
                                                            double qoff) {
  if (qoff >= 0)
    return td_out(fma(x, TWO_OVER_PI, 0x1.8p52 + TD_KOFF_P + qoff), TD_KOFF_P);
  return td_out(qoff == -1 ? fma(x, INV_PI, 0x1.8p52 + TD_KOFF_F)
                           : td_cos_t(x, 0x1.8p52 + TD_KOFF_F),
                TD_KOFF_F);
}

/* TRIG_BLOCK_KERNEL with trig64_any: the lanes out of the range (see
 * td_out), inf and NaN take SLEEF's value, element by element. */
#define TRIG64_KERNEL(fname, qoff, fallback, nt, epi, KNT)                     \
  TRIG_BLOCK_KERNEL(fname, double, trig64_any, trig64_out, TD_W, qoff,         \
                    fallback, nt, epi, struct ompb__ksel_f64, KNT)
TRIG64_KERNEL(sin_f64, 0.0, sin_u10_f64, 0, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(cos_f64, 1.0, cos_u10_f64, 0, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(nt_sin_f64, 0.0, sin_u10_f64, 1, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(nt_cos_f64, 1.0, cos_u10_f64, 1, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(nt_sel_sin_f64, 0.0, sin_u10_f64, 1, 1, KSEL_NT_F64)
TRIG64_KERNEL(nt_sel_cos_f64, 1.0, cos_u10_f64, 1, 1, KSEL_NT_F64)
TRIG64_KERNEL(sin_fast_f64, -1.0, sin_wide_f64, 0, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(cos_fast_f64, -2.0, cos_wide_f64, 0, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(nt_sin_fast_f64, -1.0, sin_wide_f64, 1, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(nt_cos_fast_f64, -2.0, cos_wide_f64, 1, 0, GUARD_NT_NONE_)
TRIG64_KERNEL(nt_sel_sin_fast_f64, -1.0, sin_wide_f64, 1, 1, KSEL_NT_F64)
TRIG64_KERNEL(nt_sel_cos_fast_f64, -2.0, cos_wide_f64, 1, 1, KSEL_NT_F64)
#else
TRIG1_F64(KDEF(sin_f64), sin, u10, 1e14)
TRIG1_F64(KDEF(cos_f64), cos, u10, 1e14)
#endif

/* ---- tan: SLEEF (f32 evaluated in double, see WIDE_F32) ---- */
WIDE_F32(tan, tan_wide_f64, y)
TRIG1_F64(KDEF(tan_f64), tan, u10, 1e14)
TRIG1_F32(KDEF(tan_fast_f32), tan, u35, 62.5f)
TRIG1_F64(KDEF(tan_fast_f64), tan, u35, 1e6)
