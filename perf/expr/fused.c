/* SPDX-License-Identifier: BSD-3-Clause */
/* The hand-fused loops and the memory limit of perf/bench_expr (see
 * fused.h), compiled once per ISA at -O3 -ffast-math with that ISA's flags
 * only (mk/bench_expr.mk). */
#include <math.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "fused.h"

#define LOOP(name, T, body)                                                    \
  static void name(const T *const *in, T *out, size_t n) {                     \
    const T *restrict x = in[0], *restrict y = in[1], *restrict z = in[2];    \
    (void)y, (void)z;                                                          \
    for (size_t i = 0; i < n; i++)                                             \
      out[i] = (body);                                                         \
  }
LOOP(e1_f32, float, 2 * sinf(x[i]) + expf(-x[i] * x[i]))
LOOP(e2_f32, float, x[i] * y[i] + z[i])
LOOP(e3_f32, float, sqrtf(x[i] * x[i] + y[i] * y[i]))
LOOP(e4_f32, float, x[i] > 0 ? logf(x[i]) : -x[i])
LOOP(e4g_f32, float, x[i] > 0 ? logf(fabsf(x[i])) : -x[i])
LOOP(e1_f64, double, 2 * sin(x[i]) + exp(-x[i] * x[i]))
LOOP(e2_f64, double, x[i] * y[i] + z[i])
LOOP(e3_f64, double, sqrt(x[i] * x[i] + y[i] * y[i]))
LOOP(e4_f64, double, x[i] > 0 ? log(x[i]) : -x[i])
LOOP(e4g_f64, double, x[i] > 0 ? log(fabs(x[i])) : -x[i])

/* The limit: k inputs read (and added, which costs nothing next to the
 * memory traffic), one output written without read for ownership. */
#if defined(__AVX512F__)
#define VF __m512
#define VD __m512d
#define NVF 16
#define NVD 8
#define LDF _mm512_loadu_ps
#define LDD _mm512_loadu_pd
#define ADDF _mm512_add_ps
#define ADDD _mm512_add_pd
#define NTF _mm512_stream_ps
#define NTD _mm512_stream_pd
#elif defined(__AVX__)
#define VF __m256
#define VD __m256d
#define NVF 8
#define NVD 4
#define LDF _mm256_loadu_ps
#define LDD _mm256_loadu_pd
#define ADDF _mm256_add_ps
#define ADDD _mm256_add_pd
#define NTF _mm256_stream_ps
#define NTD _mm256_stream_pd
#elif defined(__SSE2__)
#define VF __m128
#define VD __m128d
#define NVF 4
#define NVD 2
#define LDF _mm_loadu_ps
#define LDD _mm_loadu_pd
#define ADDF _mm_add_ps
#define ADDD _mm_add_pd
#define NTF _mm_stream_ps
#define NTD _mm_stream_pd
#endif

#if defined(__SSE2__)
#define LIMIT(name, T, V, NV, LD, ADD, NT)                                     \
  static void name(const T *const *in, unsigned k, T *out, size_t n) {         \
    size_t i = 0;                                                              \
    for (; i < n && ((size_t)(out + i) & 63); i++) { /* to 64 bytes */         \
      T s = in[0][i];                                                          \
      for (unsigned j = 1; j < k; j++) s += in[j][i];                          \
      out[i] = s;                                                              \
    }                                                                          \
    if (k == 1)                                                                \
      for (; i + NV <= n; i += NV) NT(out + i, LD(in[0] + i));                 \
    else if (k == 2)                                                           \
      for (; i + NV <= n; i += NV)                                             \
        NT(out + i, ADD(LD(in[0] + i), LD(in[1] + i)));                        \
    else                                                                       \
      for (; i + NV <= n; i += NV)                                             \
        NT(out + i, ADD(ADD(LD(in[0] + i), LD(in[1] + i)), LD(in[2] + i)));    \
    for (; i < n; i++) {                                                       \
      T s = in[0][i];                                                          \
      for (unsigned j = 1; j < k; j++) s += in[j][i];                          \
      out[i] = s;                                                              \
    }                                                                          \
    _mm_sfence();                                                              \
  }
LIMIT(limit_f32, float, VF, NVF, LDF, ADDF, NTF)
LIMIT(limit_f64, double, VD, NVD, LDD, ADDD, NTD)
#else
#define LIMIT(name, T)                                                         \
  static void name(const T *const *in, unsigned k, T *out, size_t n) {         \
    for (size_t i = 0; i < n; i++) {                                           \
      T s = in[0][i];                                                          \
      for (unsigned j = 1; j < k; j++) s += in[j][i];                          \
      out[i] = s;                                                              \
    }                                                                          \
  }
LIMIT(limit_f32, float)
LIMIT(limit_f64, double)
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
const fused_set FUSED_SET(FUSED_ISA) = {
    STR(FUSED_ISA),
    {e1_f32, e2_f32, e3_f32, e4_f32, e4g_f32},
    {e1_f64, e2_f64, e3_f64, e4_f64, e4g_f64},
    limit_f32,
    limit_f64,
};
