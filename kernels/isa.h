/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: what every kernel source shares, for the ISA it is
 * compiled for (kernels/kernels.mk compiles each kernels/k_*.c once per ISA:
 * -DOMPB_ISA_AVX512F, -DOMPB_ISA_AVX2, -DOMPB_ISA_SSE2, or none for the
 * plain C "scalar" table). Included by the kernel sources only.
 *
 * - the ISA's vector width, loads and stores, and SLEEF's names for it;
 * - K(name): the kernel `name` of this ISA's table (ompb__k_sin_f32_avx2),
 *   KDEF(name) its definition's head; every table slot is declared here
 *   and defined in exactly one kernels/k_<family>.c (docs/kernels.md);
 * - the loop shapes (SLEEF1, SLEEF2, VTAIL_PAD, GUARDED_KERNEL, WIDE_F32)
 *   and the bit helpers.
 *
 * Without SLEEF (WITH_SLEEF=0) only the scalar table is built and the
 * transcendental kernels call the C library. */
#ifndef OMPB_KERNELS_ISA_H
#define OMPB_KERNELS_ISA_H

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
#define ISA_TAG avx512f
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
#define ISA_TAG avx2
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
#define ISA_TAG sse2
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
#define ISA_TAG scalar
#endif

/* Scalar functions of the same accuracy, for tails and the scalar table. */
#if HAVE_SLEEF
#define SF(fn, u) Sleef_##fn##f_##u
#define SD(fn, u) Sleef_##fn##_##u
#else
#define SF(fn, u) fn##f
#define SD(fn, u) fn
#endif

/* ---- this ISA's kernels ---- */
#define ISA_CAT2_(a, b) a##_##b
#define ISA_CAT_(a, b) ISA_CAT2_(a, b)
#define K(fname) ISA_CAT_(ompb__k_##fname, ISA_TAG)
#define KDEF(fname) void K(fname)

/* Every slot of the table, declared once (kernels/table.c fills it). */
#define ISA_DECL_K1(name, np, uf, ud, what)                                    \
  ompb_kernel_f32 K(name##_f32);                                               \
  ompb_kernel_f64 K(name##_f64);
#define ISA_DECL_K2(name, np, uf, ud, what)                                    \
  ompb_kernel2_f32 K(k2_##name##_f32);                                         \
  ompb_kernel2_f64 K(k2_##name##_f64);
OMPB_KERNELS_MATH(ISA_DECL_K1)
OMPB_KERNELS_ARITH(ISA_DECL_K1)
OMPB_KERNELS_BINARY(ISA_DECL_K2)
#undef ISA_DECL_K1
#undef ISA_DECL_K2
#if !defined(ISA_SCALAR)
void K(stream_f32)(const float *buf, float *out, size_t m);
void K(stream_f64)(const double *buf, double *out, size_t m);
void K(stream_fence)(void);
/* kernels/stream.c: arithmetic kernels with non-temporal stores */
#define ISA_DECL_NT(name)                                                      \
  ompb_kernel_f32 K(nt_##name##_f32);                                          \
  ompb_kernel_f64 K(nt_##name##_f64);
ISA_DECL_NT(scale)
ISA_DECL_NT(add_scalar)
ISA_DECL_NT(clamp)
ISA_DECL_NT(abs)
#if defined(__FMA__)
ISA_DECL_NT(affine)
#endif
#undef ISA_DECL_NT
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
/* kernels/k_exp.c, k_log.c: the intrinsic kernels' nt_ forms */
ompb_kernel_f32 K(nt_exp_f32), K(nt_exp_fast_f32), K(nt_log_fast_f32);
ompb_kernel_f32 K(nt_log_f32);
ompb_kernel_f64 K(nt_log_f64);
/* kernels/k_trig.c: the guarded trig kernels, streamed */
ompb_kernel_f32 K(nt_sin_fast_f32), K(nt_cos_fast_f32);
ompb_kernel_f32 K(nt_sin_f32), K(nt_cos_f32);
ompb_kernel_f64 K(nt_sin_f64), K(nt_cos_f64);
ompb_kernel_f64 K(nt_sin_fast_f64), K(nt_cos_fast_f64);
ompb_kernel_f64 K(nt_exp_f64), K(nt_exp_fast_f64), K(nt_log_fast_f64);
#endif
ompb_kernel2_f32 K(nt2_add_f32), K(nt2_mul_f32);
ompb_kernel2_f64 K(nt2_add_f64), K(nt2_mul_f64);
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
#define SLEEF1_F32(name, fn, uf) SLEEF_F32_BODY(KDEF(name##_f32), fn, uf)
#define SLEEF1_F64(name, fn, ud) SLEEF_F64_BODY(KDEF(name##_f64), fn, ud)
/* The same as file-local helpers (fallbacks of ompbatch's own kernels). */
#define SLEEF1_F32_LOCAL(name, fn, uf)                                         \
  SLEEF_F32_BODY(static void name##_f32, fn, uf)
#define SLEEF1_F64_LOCAL(name, fn, ud)                                         \
  SLEEF_F64_BODY(static void name##_f64, fn, ud)
#define SLEEF_F32_BODY(decl, fn, uf)                                           \
  decl(const float *in, float *out, size_t n, const void *params) {            \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP1(NF, LDF, STF, VF(fn, uf))                                           \
    TAIL1(SF(fn, uf)(x))                                                       \
  }
#define SLEEF_F64_BODY(decl, fn, ud)                                           \
  decl(const double *in, double *out, size_t n, const void *params) {          \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP1(ND, LDD, STD, VD(fn, ud))                                           \
    TAIL1(SD(fn, ud)(x))                                                       \
  }

/* A two-input SLEEF kernel in both precisions. */
#define SLEEF2(name, fn, uf, ud)                                               \
  KDEF(k2_##name##_f32)                                                        \
  (const float *a, const float *b, float *out, size_t n, const void *params) { \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP2(NF, LDF, STF, VF(fn, uf))                                           \
    _Pragma("omp simd") for (size_t j = i; j < n; j++) out[j] =                \
        SF(fn, uf)(a[j], b[j]);                                                \
  }                                                                            \
  KDEF(k2_##name##_f64)                                                        \
  (const double *a, const double *b, double *out, size_t n,                    \
   const void *params) {                                                       \
    (void)params;                                                              \
    size_t i = 0;                                                              \
    VLOOP2(ND, LDD, STD, VD(fn, ud))                                           \
    _Pragma("omp simd") for (size_t j = i; j < n; j++) out[j] =                \
        SD(fn, ud)(a[j], b[j]);                                                \
  }

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

/* Blocks of GUARDED_KERNEL (a stack buffer of this many elements). */
#define GUARD_BLOCK 256

/* A kernel computing core(x) for every x of a block of GUARD_BLOCK inputs
 * where |x| <= lim (NaN fails the test) and fallback()'s value elsewhere
 * (the fallback runs on a block only when it holds such an element). One
 * pass: results go straight to out, and whether the block holds such an
 * element is found on the way, from x's bits without the sign (S: the
 * signed integer type as wide as T; a NaN's bits are above every number's):
 * - as their maximum where the ISA has a one-cycle vector max of S
 *   (AVX-512F; AVX2 for 32 bits): two vector instructions;
 * - as an OR of the comparisons with lim's bits on AVX2 for 64 bits (its
 *   max would be a compare and a blend on the loop-carried chain);
 * - by counting the elements failing |x| <= lim elsewhere (SSE2: these
 *   loops are not vectorised there anyway).
 * Four instructions per vector had counted the failures before. In place
 * (in == out) results go to a stack buffer first, since the fallback needs
 * the inputs. */
#define GUARD_BITS_(S, x)                                                      \
  S b_;                                                                        \
  memcpy(&b_, &x, sizeof b_);                                                  \
  b_ &= (S)(~(uint64_t)0 >> (65 - 8 * sizeof(S)));
#define GUARD_MAX_SCAN(S)                                                      \
  S top = 0;                                                                   \
  _Pragma("omp simd reduction(max : top)") for (size_t j = 0; j < m; j++)
#define GUARD_MAX_STEP(S, ABS, lim, x)                                         \
  GUARD_BITS_(S, x) top = top > b_ ? top : b_;
#define GUARD_MAX_FAILED (top > limb_)
#define GUARD_OR_SCAN(S)                                                       \
  S top = 0;                                                                   \
  _Pragma("omp simd reduction(| : top)") for (size_t j = 0; j < m; j++)
#define GUARD_OR_STEP(S, ABS, lim, x)                                          \
  GUARD_BITS_(S, x) top |= -(S)(b_ > limb_);
#define GUARD_OR_FAILED (top != 0)
#define GUARD_CNT_SCAN(S)                                                      \
  S top = 0;                                                                   \
  _Pragma("omp simd reduction(+ : top)") for (size_t j = 0; j < m; j++)
#define GUARD_CNT_STEP(S, ABS, lim, x) top += !(ABS(x) <= lim);
#define GUARD_CNT_FAILED (top != 0)
#if defined(OMPB_ISA_AVX512F)
#define GUARD_int32_t MAX
#define GUARD_int64_t MAX
#elif defined(OMPB_ISA_AVX2)
#define GUARD_int32_t MAX
#define GUARD_int64_t OR
#else
#define GUARD_int32_t CNT
#define GUARD_int64_t CNT
#endif
#define GUARD_CAT2_(a, b, c) a##b##c
#define GUARD_CAT_(a, b, c) GUARD_CAT2_(a, b, c)
#define GUARD_(S, what) GUARD_CAT_(GUARD_, GUARD_##S, what)
#define GUARDED_KERNEL(fname, T, S, ABS, lim, core, fallback)                  \
  KDEF(fname)(const T *in, T *out, size_t n, const void *params) {             \
    (void)params;                                                              \
    T w[GUARD_BLOCK], f[GUARD_BLOCK];                                          \
    const T lim_ = (lim);                                                      \
    S limb_;                                                                   \
    memcpy(&limb_, &lim_, sizeof limb_);                                       \
    (void)limb_;                                                               \
    for (size_t lo = 0; lo < n; lo += GUARD_BLOCK) {                           \
      const size_t m = n - lo < GUARD_BLOCK ? n - lo : GUARD_BLOCK;            \
      T *dst = in == out ? w : out + lo;                                       \
      PREFETCH_BLOCK(in + lo, m * sizeof(T));                                  \
      GUARD_(S, _SCAN)(S) {                                                    \
        const T x = in[lo + j];                                                \
        GUARD_(S, _STEP)(S, ABS, lim, x)                                       \
        dst[j] = core(x);                                                      \
      }                                                                        \
      if (GUARD_(S, _FAILED)) {                                                \
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

#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
/* The nt_ form of a GUARDED_KERNEL (out 64-byte aligned, the caller fences,
 * kernels/dispatch.c's streamed calls): each vector is written with a
 * non-temporal store as soon as it is computed, and a block holding an
 * out-of-range element has the fallback's values written over those lanes
 * after a fence (the inputs are still there: out is not in). In place,
 * each block is computed into an aligned stack buffer, fixed up, and
 * written out at once, while it is in L1. Either way the stores go out
 * between the arithmetic rather than in bursts of a whole 2048-element
 * buffer, as dispatch.c's buffered streaming does; the same bits as the
 * table kernel. */
#if defined(OMPB_ISA_AVX512F)
#define GUARD_NT_VEC(T, p, q)                                                  \
  _Generic((T)0, float: _mm512_stream_ps((float *)(p), _mm512_load_ps(         \
                            (const float *)(q))),                              \
           double: _mm512_stream_pd((double *)(p),                            \
                                    _mm512_load_pd((const double *)(q))))
#else
#define GUARD_NT_VEC(T, p, q)                                                  \
  _Generic((T)0, float: _mm256_stream_ps((float *)(p), _mm256_load_ps(         \
                            (const float *)(q))),                              \
           double: _mm256_stream_pd((double *)(p),                            \
                                    _mm256_load_pd((const double *)(q))))
#endif
#define GUARDED_KERNEL_NT(fname, T, S, ABS, lim, core, fallback)               \
  GUARDED_KERNEL_NT_EPI(fname, T, S, ABS, lim, core, fallback, 0,              \
                        struct ompb__ksel_f32, GUARD_NT_NONE_)
#define GUARD_NT_NONE_(p, q, b, j) ((void)(b))
/* b: the epilogue *ks with its c and f at element lo (zeroed when epi is
 * 0: never read) */
#define KSEL_AT(KS, b, epi, ks, lo)                                            \
  KS b = {0};                                                                  \
  if (epi) {                                                                   \
    b = *(ks);                                                                 \
    b.c += (lo);                                                               \
    b.f += (lo);                                                               \
  }
/* The m results at w (aligned) streamed to o, with the epilogue bp (an
 * ompb__ksel_* at o's index 0, or NULL): whole vectors of W through KNT
 * (KSEL_NT_F32/_F64) or GUARD_NT_VEC, the rest by ordinary stores. */
#define GUARD_NT_FLUSH(T, W, bp, KNT, o, w, m)                                 \
  do {                                                                         \
    size_t j_ = 0;                                                             \
    for (; j_ + (W) <= (m); j_ += (W)) {                                       \
      if (bp)                                                                  \
        KNT((o) + j_, (w) + j_, (bp), j_);                                     \
      else                                                                     \
        GUARD_NT_VEC(T, (o) + j_, (w) + j_);                                   \
    }                                                                          \
    KSEL_TAIL((bp), (w) + j_, j_, (m) - j_);                                   \
    for (; j_ < (m); j_++)                                                     \
      (o)[j_] = (w)[j_];                                                       \
  } while (0)
/* epi 1: the nt_sel_ form (kernels.h): params the KS (an ompb__ksel_*),
 * each vector stored through KNT (KSEL_NT_F32/_F64), the scalar tail and
 * the fallback's lanes through KSEL_ONE, the in-place block through
 * GUARD_NT_FLUSH. */
#define GUARDED_KERNEL_NT_EPI(fname, T, S, ABS, lim, core, fallback, epi, KS,  \
                              KNT)                                             \
  KDEF(fname)(const T *in, T *out, size_t n, const void *params) {             \
    const KS *ks_ = (epi) ? (const KS *)params : NULL;                         \
    (void)params;                                                              \
    _Alignas(64) T w[GUARD_BLOCK];                                             \
    T f[GUARD_BLOCK];                                                          \
    const T lim_ = (lim);                                                      \
    S limb_;                                                                   \
    memcpy(&limb_, &lim_, sizeof limb_);                                       \
    (void)limb_;                                                               \
    enum { VW_ = sizeof(ISA_VEC_BYTES_) / sizeof(T) };                         \
    for (size_t lo = 0; lo < n; lo += GUARD_BLOCK) {                           \
      const size_t m = n - lo < GUARD_BLOCK ? n - lo : GUARD_BLOCK;            \
      PREFETCH_BLOCK(in + lo, m * sizeof(T));                                  \
      KSEL_AT(KS, kb_, epi, ks_, lo);                                          \
      const KS *const kbp_ = (epi) ? &kb_ : NULL;                              \
      if (in != out) { /* each vector streamed as soon as it is computed */    \
        size_t c_ = 0;                                                         \
        for (; c_ + VW_ <= m; c_ += VW_) {                                     \
          _Alignas(64) T v_[VW_];                                              \
          _Pragma("omp simd") for (size_t k = 0; k < VW_; k++)                 \
              v_[k] = core(in[lo + c_ + k]);                                   \
          if (kbp_)                                                            \
            KNT(out + lo + c_, v_, kbp_, c_);                                  \
          else                                                                 \
            GUARD_NT_VEC(T, out + lo + c_, v_);                                \
        }                                                                      \
        for (; c_ < m; c_++)                                                   \
          out[lo + c_] = kbp_ ? KSEL_ONE(kbp_, core(in[lo + c_]), c_)          \
                              : core(in[lo + c_]);                             \
        /* the range scan after, over the block in L1: a reduction inside      \
         * the vector loop would end every vector with a horizontal one */     \
        GUARD_(S, _SCAN)(S) {                                                  \
          const T x = in[lo + j];                                              \
          GUARD_(S, _STEP)(S, ABS, lim, x)                                     \
        }                                                                      \
        if (GUARD_(S, _FAILED)) { /* the streamed block, then the lanes */     \
          _mm_sfence();                                                        \
          fallback(in + lo, f, m, NULL);                                       \
          for (size_t j = 0; j < m; j++)                                       \
            if (!(ABS(in[lo + j]) <= lim))                                     \
              out[lo + j] = kbp_ ? KSEL_ONE(kbp_, f[j], j) : f[j];             \
        }                                                                      \
        continue;                                                              \
      }                                                                        \
      GUARD_(S, _SCAN)(S) {                                                    \
        const T x = in[lo + j];                                                \
        GUARD_(S, _STEP)(S, ABS, lim, x)                                       \
        w[j] = core(x);                                                        \
      }                                                                        \
      if (GUARD_(S, _FAILED)) {                                                \
        fallback(in + lo, f, m, NULL);                                         \
        for (size_t j = 0; j < m; j++)                                         \
          if (!(ABS(in[lo + j]) <= lim))                                       \
            w[j] = f[j];                                                       \
      }                                                                        \
      GUARD_NT_FLUSH(T, VW_, kbp_, KNT, out + lo, w, m);                       \
    }                                                                          \
  }
#if defined(OMPB_ISA_AVX512F)
typedef char ISA_VEC_BYTES_[64];
#else
typedef char ISA_VEC_BYTES_[32];
#endif
#endif

/* ---- the epilogue of the nt_sel_ kernels (kernels.h, ompb__ksel_*) ----
 * A kernel's loop stores each vector y of results through KSEL_ST_PS or
 * KSEL_ST_PD (or ksel_ps/ksel_pd) instead of its store: sel < KSEL_FMA, a
 * select: the comparison operand c and the else f are loaded at the same
 * index, c CMP k picks y or the else (its sign flipped for the negated
 * select); sel = KSEL_FMA + OMPB__ET_FMA, _FMS, _FNMA, a
 * multiply-add with y the first factor: fma(y, k, f), fma(y, k, -f),
 * fma(-y, k, f); sel = KSEL_FMAC + the same, y the addend: fma(f, k, y),
 * fma(f, k, -y), fma(-f, k, y) (c not read by either, but a valid
 * array). The result is streamed from the registers.
 * The operation, the same on every vector of a call, is one predicted
 * indirect branch (KSEL_BODY_); sel % 6 and sel >= 6 are
 * kernels/expr_ops.h's select index (OMPB__ES_*, OMPB__ES_NEG = 6;
 * src/work_expr.c asserts both codes). No operation is spent on a sign:
 * a negated else is AVX-512F's masked xor under the complementary
 * comparison, and the multiply-adds' signs are fmsub and fnmadd. In
 * cache (1024 elements, rdtsc, the minimum of 6 runs of the fastest of
 * 3000) the f64 log with E4's select took 1370 ticks, 1288 now (the
 * streaming log alone 1140), with an addend multiply-add 1266 -> 1220,
 * the f64 exp_fast with the select 966 -> 906: the epilogue was an xor
 * of the else with a sign mask on every vector, and sel % 6 and range
 * tests before its branch.
 * ksel_f32/_f64 are the same on one element (the fallback's lanes).
 * KSEL_PRE_F32 / _F64 open the kernel (params the ompb__ksel_*),
 * KPLAIN_PRE the kernels without it. */
#define KPLAIN_PRE (void)params;
#define KSEL_FMA OMPB__KSEL_FMA
#define KSEL_FMAC OMPB__KSEL_FMAC
/* whether the epilogue negates f: the negated selects and FMS */
#define KSEL_NEGF(sel) (((sel) >= 6 && (sel) < KSEL_FMA) || (sel) == KSEL_FMA + 1)
#define KSEL_SCALAR(T, sfx, FMA)                                               \
  static inline __attribute__((always_inline)) T ksel_##sfx(                   \
      T y, const T *c, const T *f, T k, unsigned sel) {                        \
    const T fv = KSEL_NEGF(sel) ? -*f : *f;                                    \
    if (sel >= KSEL_FMAC)                                                      \
      return FMA(sel == KSEL_FMAC + 2 ? -fv : fv, k,                           \
                 sel == KSEL_FMAC + 1 ? -y : y);                               \
    if (sel >= KSEL_FMA)                                                       \
      return FMA(sel == KSEL_FMA + 2 ? -y : y, k, fv);                         \
    const T cv = *c;                                                           \
    int p;                                                                     \
    switch (sel % 6) {                                                         \
    case 0: p = cv < k; break;                                                 \
    case 1: p = cv <= k; break;                                                \
    case 2: p = cv > k; break;                                                 \
    case 3: p = cv >= k; break;                                                \
    case 4: p = cv == k; break;                                                \
    default: p = cv != k; break;                                               \
    }                                                                          \
    return p ? y : fv;                                                         \
  }
KSEL_SCALAR(float, f32, fmaf)
KSEL_SCALAR(double, f64, fma)
#undef KSEL_SCALAR
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
/* The body of ksel_ps/_pd: one dense switch on sel (the same on every
 * vector of a call: one predicted indirect branch, which gcc takes once
 * for a loop's two vectors). KSEL_(p): y where c compares to k under
 * predicate p, else f (KLDF_, f's load); KNSEL_(p, np): y or -f (np: not
 * p, NaN true: AVX-512F's masked xor writes -f where np holds); FMADD,
 * FMSUB, FNMADD the ISA's fused multiply-adds (fma(a, k, -b) is FMSUB(a,
 * k, b): no xor for a sign). C's comparisons: ordered, but != true on
 * NaN. */
#define KSEL_BODY_(KSEL_, KNSEL_, FMADD, FMSUB, FNMADD)                        \
  switch (sel) {                                                               \
  case 0: return KSEL_(_CMP_LT_OQ);                                            \
  case 1: return KSEL_(_CMP_LE_OQ);                                            \
  case 2: return KSEL_(_CMP_GT_OQ);                                            \
  case 3: return KSEL_(_CMP_GE_OQ);                                            \
  case 4: return KSEL_(_CMP_EQ_OQ);                                            \
  case 5: return KSEL_(_CMP_NEQ_UQ);                                           \
  case 6: return KNSEL_(_CMP_LT_OQ, _CMP_NLT_UQ);                              \
  case 7: return KNSEL_(_CMP_LE_OQ, _CMP_NLE_UQ);                              \
  case 8: return KNSEL_(_CMP_GT_OQ, _CMP_NGT_UQ);                              \
  case 9: return KNSEL_(_CMP_GE_OQ, _CMP_NGE_UQ);                              \
  case 10: return KNSEL_(_CMP_EQ_OQ, _CMP_NEQ_UQ);                             \
  case 11: return KNSEL_(_CMP_NEQ_UQ, _CMP_EQ_OQ);                             \
  case KSEL_FMA: return FMADD(y, k, KLDF_);                                    \
  case KSEL_FMA + 1: return FMSUB(y, k, KLDF_);                                \
  case KSEL_FMA + 2: return FNMADD(y, k, KLDF_);                               \
  case KSEL_FMAC: return FMADD(KLDF_, k, y);                                   \
  case KSEL_FMAC + 1: return FMSUB(KLDF_, k, y);                               \
  default: return FNMADD(KLDF_, k, y);                                         \
  }
#if defined(OMPB_ISA_AVX512F)
typedef __m512 ksel_vf;
typedef __m512d ksel_vd;
#define KLDF_ _mm512_loadu_ps(f)
#define KSEL_(p) _mm512_mask_blend_ps(_mm512_cmp_ps_mask(_mm512_loadu_ps(c), k, p), KLDF_, y)
#define KNSEL_(p, np)                                                          \
  _mm512_castsi512_ps(_mm512_mask_xor_epi32(                                   \
      _mm512_castps_si512(y), _mm512_cmp_ps_mask(_mm512_loadu_ps(c), k, np),   \
      _mm512_castps_si512(KLDF_), _mm512_set1_epi32(INT32_MIN)))
static inline __attribute__((always_inline)) __m512
ksel_ps(__m512 y, const float *c, const float *f, __m512 k, unsigned sel) {
  KSEL_BODY_(KSEL_, KNSEL_, _mm512_fmadd_ps, _mm512_fmsub_ps, _mm512_fnmadd_ps)
}
#undef KLDF_
#undef KSEL_
#undef KNSEL_
#define KLDF_ _mm512_loadu_pd(f)
#define KSEL_(p) _mm512_mask_blend_pd(_mm512_cmp_pd_mask(_mm512_loadu_pd(c), k, p), KLDF_, y)
#define KNSEL_(p, np)                                                          \
  _mm512_castsi512_pd(_mm512_mask_xor_epi64(                                   \
      _mm512_castpd_si512(y), _mm512_cmp_pd_mask(_mm512_loadu_pd(c), k, np),   \
      _mm512_castpd_si512(KLDF_), _mm512_set1_epi64(INT64_MIN)))
static inline __attribute__((always_inline)) __m512d
ksel_pd(__m512d y, const double *c, const double *f, __m512d k, unsigned sel) {
  KSEL_BODY_(KSEL_, KNSEL_, _mm512_fmadd_pd, _mm512_fmsub_pd, _mm512_fnmadd_pd)
}
#undef KLDF_
#undef KSEL_
#undef KNSEL_
#define KSEL_K_F32(k) _mm512_set1_ps(k)
#define KSEL_K_F64(k) _mm512_set1_pd(k)
#define KSEL_STREAM_PS _mm512_stream_ps
#define KSEL_STREAM_PD _mm512_stream_pd
#define KSEL_LOAD_PS _mm512_load_ps
#define KSEL_LOAD_PD _mm512_load_pd
#else
typedef __m256 ksel_vf;
typedef __m256d ksel_vd;
#define KLDF_ _mm256_loadu_ps(f)
#define KSEL_(p) _mm256_blendv_ps(KLDF_, y, _mm256_cmp_ps(_mm256_loadu_ps(c), k, p))
#define KNSEL_(p, np)                                                          \
  _mm256_blendv_ps(_mm256_xor_ps(KLDF_, _mm256_set1_ps(-0.0f)), y,             \
                   _mm256_cmp_ps(_mm256_loadu_ps(c), k, p))
static inline __attribute__((always_inline)) __m256
ksel_ps(__m256 y, const float *c, const float *f, __m256 k, unsigned sel) {
  KSEL_BODY_(KSEL_, KNSEL_, _mm256_fmadd_ps, _mm256_fmsub_ps, _mm256_fnmadd_ps)
}
#undef KLDF_
#undef KSEL_
#undef KNSEL_
#define KLDF_ _mm256_loadu_pd(f)
#define KSEL_(p) _mm256_blendv_pd(KLDF_, y, _mm256_cmp_pd(_mm256_loadu_pd(c), k, p))
#define KNSEL_(p, np)                                                          \
  _mm256_blendv_pd(_mm256_xor_pd(KLDF_, _mm256_set1_pd(-0.0)), y,              \
                   _mm256_cmp_pd(_mm256_loadu_pd(c), k, p))
static inline __attribute__((always_inline)) __m256d
ksel_pd(__m256d y, const double *c, const double *f, __m256d k, unsigned sel) {
  KSEL_BODY_(KSEL_, KNSEL_, _mm256_fmadd_pd, _mm256_fmsub_pd, _mm256_fnmadd_pd)
}
#undef KLDF_
#undef KSEL_
#undef KNSEL_
#define KSEL_K_F32(k) _mm256_set1_ps(k)
#define KSEL_K_F64(k) _mm256_set1_pd(k)
#define KSEL_STREAM_PS _mm256_stream_ps
#define KSEL_STREAM_PD _mm256_stream_pd
#define KSEL_LOAD_PS _mm256_load_ps
#define KSEL_LOAD_PD _mm256_load_pd
#endif
#define KSEL_PRE_F32                                                           \
  const struct ompb__ksel_f32 *ks_ = params;                                   \
  const float *const kc_ = ks_->c, *const kf_ = ks_->f;                        \
  const unsigned ksl_ = ks_->sel;                                              \
  const ksel_vf kk_ = KSEL_K_F32(ks_->k);
#define KSEL_PRE_F64                                                           \
  const struct ompb__ksel_f64 *ks_ = params;                                   \
  const double *const kc_ = ks_->c, *const kf_ = ks_->f;                       \
  const unsigned ksl_ = ks_->sel;                                              \
  const ksel_vd kk_ = KSEL_K_F64(ks_->k);
/* The vector at q (aligned) with the epilogue b (an ompb__ksel_* whose c
 * and f are at the vector's index j) streamed to p: the guarded and trig
 * kernels' stores from a buffer. */
#define KSEL_NT_F32(p, q, b, j)                                                \
  KSEL_STREAM_PS((p), ksel_ps(KSEL_LOAD_PS(q), (b)->c + (j), (b)->f + (j),     \
                              KSEL_K_F32((b)->k), (b)->sel))
#define KSEL_NT_F64(p, q, b, j)                                                \
  KSEL_STREAM_PD((p), ksel_pd(KSEL_LOAD_PD(q), (b)->c + (j), (b)->f + (j),     \
                              KSEL_K_F64((b)->k), (b)->sel))
/* In a block function with a parameter `ks` (an ompb__ksel_* whose c and
 * f are at the block's start, or NULL): KSEL_BLOCK_F32/_F64 opens it,
 * KSEL_STORE_F32/_F64 stores y at dst + j through ST (a streaming store)
 * with the epilogue when ks is set, KSEL_TAIL applies it to the n
 * elements of a tail's buffer buf that belong at j, KSEL_ONE to one. */
#define KSEL_BLOCK_F32(ks)                                                     \
  const ksel_vf kbk_ = KSEL_K_F32((ks) ? (ks)->k : 0.0f);                      \
  const unsigned kbf_ = (ks) ? (ks)->sel : 0u;                                 \
  (void)kbk_;                                                                  \
  (void)kbf_
#define KSEL_BLOCK_F64(ks)                                                     \
  const ksel_vd kbk_ = KSEL_K_F64((ks) ? (ks)->k : 0.0);                       \
  const unsigned kbf_ = (ks) ? (ks)->sel : 0u;                                 \
  (void)kbk_;                                                                  \
  (void)kbf_
#define KSEL_STORE_F32(ST, dst, j, y)                                          \
  do {                                                                         \
    if (ks)                                                                    \
      ST((dst) + (j),                                                          \
         ksel_ps((y), ks->c + (j), ks->f + (j), kbk_, kbf_));                  \
    else                                                                       \
      ST((dst) + (j), (y));                                                    \
  } while (0)
#define KSEL_STORE_F64(ST, dst, j, y)                                          \
  do {                                                                         \
    if (ks)                                                                    \
      ST((dst) + (j),                                                          \
         ksel_pd((y), ks->c + (j), ks->f + (j), kbk_, kbf_));                  \
    else                                                                       \
      ST((dst) + (j), (y));                                                    \
  } while (0)
#define KSEL_TAIL(ks, buf, j, n)                                               \
  do {                                                                         \
    if (ks)                                                                    \
      for (size_t t_ = 0; t_ < (n); t_++)                                      \
        (buf)[t_] = KSEL_ONE((ks), (buf)[t_], (j) + t_);                       \
  } while (0)
/* the epilogue *ks on one value y of the element at index j */
#define KSEL_ONE(ks, y, j)                                                     \
  _Generic((y), float: ksel_f32, double: ksel_f64)(                            \
      (y), (ks)->c + (j), (ks)->f + (j), (ks)->k, (ks)->sel)
#define KSEL_ST_PS(p, y)                                                       \
  KSEL_STREAM_PS((p), ksel_ps((y), kc_ + ((p) - out), kf_ + ((p) - out), kk_,  \
                              ksl_))
#define KSEL_ST_PD(p, y)                                                       \
  KSEL_STREAM_PD((p), ksel_pd((y), kc_ + ((p) - out), kf_ + ((p) - out), kk_,  \
                              ksl_))
/* kernels/k_log.c, k_trig.c, k_exp.c */
ompb_kernel_f32 K(nt_sel_log_f32), K(nt_sel_log_fast_f32);
ompb_kernel_f64 K(nt_sel_log_f64), K(nt_sel_log_fast_f64);
ompb_kernel_f32 K(nt_sel_exp_f32), K(nt_sel_exp_fast_f32);
ompb_kernel_f64 K(nt_sel_exp_f64), K(nt_sel_exp_fast_f64);
ompb_kernel_f32 K(nt_sel_sin_f32), K(nt_sel_cos_f32);
ompb_kernel_f32 K(nt_sel_sin_fast_f32), K(nt_sel_cos_fast_f32);
ompb_kernel_f64 K(nt_sel_sin_f64), K(nt_sel_cos_f64);
ompb_kernel_f64 K(nt_sel_sin_fast_f64), K(nt_sel_cos_fast_f64);
#endif

/* ---- f32 kernels evaluated in double ----
 * A double result within 3.5 double ULPs (or 1.5 for erfc) rounds to float
 * within 0.5 + 2^-28 float ULPs: the documented 1.0 holds with room, over
 * the whole float range, at the cost of the double-width vectors. Blocks of
 * WIDE_BLOCK elements go through a stack buffer (no allocation). */
#define WIDE_BLOCK 256

#define WIDE_F32(name, body64, post)                                           \
  KDEF(name##_f32)                                                             \
  (const float *in, float *out, size_t n, const void *params) {                \
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

#endif /* OMPB_KERNELS_ISA_H */
