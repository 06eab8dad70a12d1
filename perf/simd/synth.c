/* SPDX-License-Identifier: BSD-3-Clause */
/* Synthetic kernels for perf/bench_simd's overlap ceiling (see peers.h),
 * compiled once per ISA: each reads its input, applies K multiply-adds to
 * every vector (four independent vectors a step, so the arithmetic runs at
 * the FMA ports' rate, not at one chain's latency), and writes with
 * non-temporal stores, prefetching 4 KiB ahead as the kernels do. Nothing
 * but K distinguishes them: their time over memory against their time in
 * cache tells how much of the smaller of the two a kernel of that much
 * arithmetic can hide on this machine (docs/design.md, "The overlap
 * ceiling"). The results are meaningless numbers (x -> x a + b, K times,
 * with a close to 1): only their timing counts. */
#include <immintrin.h>
#include <stddef.h>

#include "peers.h"

#if defined(OMPB_ISA_AVX512F)
#define NF 16
#define ND 8
typedef __m512 vf;
typedef __m512d vd;
#define LDF _mm512_loadu_ps
#define LDD _mm512_loadu_pd
#define SETF _mm512_set1_ps
#define SETD _mm512_set1_pd
#define FMAF _mm512_fmadd_ps
#define FMAD _mm512_fmadd_pd
#define STF _mm512_storeu_ps
#define STD _mm512_storeu_pd
#define NTF _mm512_stream_ps
#define NTD _mm512_stream_pd
#elif defined(OMPB_ISA_AVX2)
#define NF 8
#define ND 4
typedef __m256 vf;
typedef __m256d vd;
#define LDF _mm256_loadu_ps
#define LDD _mm256_loadu_pd
#define SETF _mm256_set1_ps
#define SETD _mm256_set1_pd
#define FMAF _mm256_fmadd_ps
#define FMAD _mm256_fmadd_pd
#define STF _mm256_storeu_ps
#define STD _mm256_storeu_pd
#define NTF _mm256_stream_ps
#define NTD _mm256_stream_pd
#else
#define NF 4
#define ND 2
typedef __m128 vf;
typedef __m128d vd;
#define LDF _mm_loadu_ps
#define LDD _mm_loadu_pd
#define SETF _mm_set1_ps
#define SETD _mm_set1_pd
#define FMAF(x, a, b) _mm_add_ps(_mm_mul_ps(x, a), b)
#define FMAD(x, a, b) _mm_add_pd(_mm_mul_pd(x, a), b)
#define STF _mm_storeu_ps
#define STD _mm_storeu_pd
#define NTF _mm_stream_ps
#define NTD _mm_stream_pd
#endif

/* n: a multiple of 4 vectors with out 64-byte aligned (the benchmark's
 * shares are); the rest is left unwritten. */
#define SYNTH_LOOP(T, V, W, LD, SET, FMA, ST)                                  \
  do {                                                                         \
    const V a = SET((T)0.999), b = SET((T)1e-3);                               \
    for (size_t i = 0; i + 2 * (W) <= n; i += 2 * (W)) {                       \
      for (size_t l = 0; l < 2 * (W) * sizeof(T); l += 64)                     \
        __builtin_prefetch((const char *)(in + i) + 4096 + l);                 \
      V x0 = LD(in + i), x1 = LD(in + i + (W));                                \
      for (int j = 0; j < k; j++) {                                            \
        x0 = FMA(x0, a, b);                                                    \
        x1 = FMA(x1, a, b);                                                    \
      }                                                                        \
      ST(out + i, x0);                                                         \
      ST(out + i + (W), x1);                                                   \
    }                                                                          \
  } while (0)
/* Like the kernels, plain stores on small arrays (the in-cache figure) and
 * non-temporal ones above 1 MiB. */
#define SYNTH(T, V, W, LD, ST, SET, FMA, NT, suffix)                           \
  static inline __attribute__((always_inline)) void synth_##suffix(            \
      const T *in, T *out, size_t n, int k) {                                  \
    if (n * sizeof(T) < (1u << 20)) {                                          \
      SYNTH_LOOP(T, V, W, LD, SET, FMA, ST);                                   \
    } else {                                                                   \
      SYNTH_LOOP(T, V, W, LD, SET, FMA, NT);                                   \
      _mm_sfence();                                                            \
    }                                                                          \
  }
SYNTH(float, vf, NF, LDF, STF, SETF, FMAF, NTF, f32)
SYNTH(double, vd, ND, LDD, STD, SETD, FMAD, NTD, f64)

/* One function per K, the loop unrolled by the compiler for each. */
#define SYNTH_K(K)                                                             \
  static void synth##K##_f32(const float *in, float *out, size_t n) {          \
    synth_f32(in, out, n, K);                                                  \
  }                                                                            \
  static void synth##K##_f64(const double *in, double *out, size_t n) {        \
    synth_f64(in, out, n, K);                                                  \
  }
SYNTH_K(4)
SYNTH_K(8)
SYNTH_K(16)
SYNTH_K(24)
SYNTH_K(32)
SYNTH_K(48)
SYNTH_K(64)

const synth_set PEER_SET(synth, PEER_ISA) = {
    {4, 8, 16, 24, 32, 48, 64},
    {synth4_f32, synth8_f32, synth16_f32, synth24_f32, synth32_f32,
     synth48_f32, synth64_f32},
    {synth4_f64, synth8_f64, synth16_f64, synth24_f64, synth32_f64,
     synth48_f64, synth64_f64}};
