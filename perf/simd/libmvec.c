/* SPDX-License-Identifier: BSD-3-Clause */
/* gcc's libmvec loops for perf/bench_simd (see peers.h), compiled once per
 * ISA at -O3 -ffast-math with that ISA's flags only (not -march=native: the
 * AVX2 set must call the AVX2 variants, _ZGVdN8v_sinf, even on an AVX-512
 * machine). */
#include <math.h>

#include "peers.h"

#define LOOP(name, T, fn)                                                      \
  static void name(const T *in, T *out, size_t n) {                            \
    for (size_t i = 0; i < n; i++)                                             \
      out[i] = fn(in[i]);                                                      \
  }
LOOP(sin_f32, float, sinf)
LOOP(cos_f32, float, cosf)
LOOP(exp_f32, float, expf)
LOOP(log_f32, float, logf)
LOOP(sin_f64, double, sin)
LOOP(cos_f64, double, cos)
LOOP(exp_f64, double, exp)
LOOP(log_f64, double, log)

const peer_set PEER_SET(libmvec, PEER_ISA) = {
    "libmvec",
    {sin_f32, cos_f32, exp_f32, log_f32},
    {sin_f64, cos_f64, exp_f64, log_f64},
};
