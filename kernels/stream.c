/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: the streaming copy of a vector ISA (compiled for sse2,
 * avx2 and avx512f only; kernels/dispatch.c decides when a call streams):
 * copy m elements from buf to out with non-temporal stores, both 64-byte
 * aligned, and the fence that orders them before later stores. */
#include "isa.h"

#if defined(ISA_SCALAR)
#error "stream.c is built for the vector ISAs only (kernels/kernels.mk)"
#endif

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
void K(stream_f32)(const float *buf, float *out, size_t m) {
  size_t i = 0;
  for (; i + NF <= m; i += NF)
    STREAM_PS(out + i, LOADA_PS(buf + i));
  for (; i < m; i++)
    out[i] = buf[i];
}
void K(stream_f64)(const double *buf, double *out, size_t m) {
  size_t i = 0;
  for (; i + ND <= m; i += ND)
    STREAM_PD(out + i, LOADA_PD(buf + i));
  for (; i < m; i++)
    out[i] = buf[i];
}
void K(stream_fence)(void) { _mm_sfence(); }
