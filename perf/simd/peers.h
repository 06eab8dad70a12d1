/* SPDX-License-Identifier: BSD-3-Clause */
/* Baselines for perf/bench_simd, one set per ISA (kernels/kernels.mk
 * compiles each file of perf/simd/ once per ISA with that ISA's flags):
 * - libmvec.c: plain loops over libm functions at -O3 -ffast-math, so that
 *   gcc calls glibc's libmvec vector variants of that width;
 * - sleef.c: SLEEF's vector entry points of that ISA on full vectors, in
 *   both accuracy classes (u10: 1 ULP, u35: 3.5 ULP);
 * - synth.c: synthetic kernels of known arithmetic (K multiply-adds per
 *   element) for the overlap ceiling.
 * bench_simd compares the kernels of the active ISA with the set of the
 * same ISA. */
#ifndef OMPB_PERF_PEERS_H
#define OMPB_PERF_PEERS_H

#include <stddef.h>

typedef void peer_f32(const float *in, float *out, size_t n);
typedef void peer_f64(const double *in, double *out, size_t n);

/* The functions of a set, by index; NULL where the set has none. */
enum { PEER_SIN, PEER_COS, PEER_EXP, PEER_LOG, PEER_COUNT };

typedef struct {
  const char *name; /* "libmvec", "sleef u10", "sleef u35" */
  peer_f32 *f32[PEER_COUNT];
  peer_f64 *f64[PEER_COUNT];
} peer_set;

/* PEER_SET(libmvec, avx2) is libmvec_avx2. */
#define PEER_CAT_(a, b) a##_##b
#define PEER_SET(kind, isa) PEER_CAT_(kind, isa)

#define PEER_DECLARE(isa)                                                      \
  extern const peer_set PEER_SET(libmvec, isa), PEER_SET(sleef_u10, isa),      \
      PEER_SET(sleef_u35, isa);
PEER_DECLARE(avx512f)
PEER_DECLARE(avx2)
PEER_DECLARE(sse2)
#undef PEER_DECLARE

/* synth.c: the overlap ceiling's synthetic kernels, K multiply-adds per
 * element between a load and a non-temporal store, for SYNTH_COUNT values
 * of K (increasing). */
#define SYNTH_COUNT 7
typedef struct {
  int k[SYNTH_COUNT];
  peer_f32 *f32[SYNTH_COUNT];
  peer_f64 *f64[SYNTH_COUNT];
} synth_set;
extern const synth_set synth_avx512f, synth_avx2, synth_sse2;

/* The ISA name of the set a file compiles (from kernels/kernels.mk's
 * -DOMPB_ISA_<ISA>). */
#if defined(OMPB_ISA_AVX512F)
#define PEER_ISA avx512f
#elif defined(OMPB_ISA_AVX2)
#define PEER_ISA avx2
#else
#define PEER_ISA sse2
#endif

#endif /* OMPB_PERF_PEERS_H */
