/* SPDX-License-Identifier: BSD-3-Clause */
/* SLEEF's vector loops for perf/bench_simd (see peers.h), compiled once per
 * ISA: the entry points of that ISA on full vectors, unaligned loads and
 * stores, the tail by the scalar function (benchmark arrays are whole
 * vectors). SLEEF 3.5 has exp in u10 only: the u35 set has none. */
#include <immintrin.h>
#include <sleef.h>

#include "peers.h"

#if defined(OMPB_ISA_AVX512F)
#define NF 16
#define ND 8
#define VF(fn, u) Sleef_##fn##f16_##u##avx512f
#define VD(fn, u) Sleef_##fn##d8_##u##avx512f
#define LDF _mm512_loadu_ps
#define STF _mm512_storeu_ps
#define LDD _mm512_loadu_pd
#define STD _mm512_storeu_pd
#elif defined(OMPB_ISA_AVX2)
#define NF 8
#define ND 4
#define VF(fn, u) Sleef_##fn##f8_##u##avx2
#define VD(fn, u) Sleef_##fn##d4_##u##avx2
#define LDF _mm256_loadu_ps
#define STF _mm256_storeu_ps
#define LDD _mm256_loadu_pd
#define STD _mm256_storeu_pd
#else
#define NF 4
#define ND 2
#define VF(fn, u) Sleef_##fn##f4_##u##sse2
#define VD(fn, u) Sleef_##fn##d2_##u##sse2
#define LDF _mm_loadu_ps
#define STF _mm_storeu_ps
#define LDD _mm_loadu_pd
#define STD _mm_storeu_pd
#endif

#define LOOPS(fn, u)                                                           \
  static void fn##_##u##_f32(const float *in, float *out, size_t n) {          \
    size_t i = 0;                                                              \
    for (; i + NF <= n; i += NF)                                               \
      STF(out + i, VF(fn, u)(LDF(in + i)));                                    \
    for (; i < n; i++)                                                         \
      out[i] = Sleef_##fn##f_##u(in[i]);                                       \
  }                                                                            \
  static void fn##_##u##_f64(const double *in, double *out, size_t n) {        \
    size_t i = 0;                                                              \
    for (; i + ND <= n; i += ND)                                               \
      STD(out + i, VD(fn, u)(LDD(in + i)));                                    \
    for (; i < n; i++)                                                         \
      out[i] = Sleef_##fn##_##u(in[i]);                                        \
  }
LOOPS(sin, u10)
LOOPS(cos, u10)
LOOPS(exp, u10)
LOOPS(log, u10)
LOOPS(sin, u35)
LOOPS(cos, u35)
LOOPS(log, u35)

const peer_set PEER_SET(sleef_u10, PEER_ISA) = {
    "sleef u10",
    {sin_u10_f32, cos_u10_f32, exp_u10_f32, log_u10_f32},
    {sin_u10_f64, cos_u10_f64, exp_u10_f64, log_u10_f64},
};
const peer_set PEER_SET(sleef_u35, PEER_ISA) = {
    "sleef u35",
    {sin_u35_f32, cos_u35_f32, NULL, log_u35_f32},
    {sin_u35_f64, cos_u35_f64, NULL, log_u35_f64},
};
