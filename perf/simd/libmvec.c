/* SPDX-License-Identifier: BSD-3-Clause */
/* gcc's libmvec loops for perf/bench_simd (see libmvec.h). */
#include <math.h>

#include "libmvec.h"

#define LOOP(name, T, fn)                                                      \
  void name(const T *in, T *out, size_t n) {                                   \
    for (size_t i = 0; i < n; i++)                                             \
      out[i] = fn(in[i]);                                                      \
  }
LOOP(mvec_sin_f32, float, sinf)
LOOP(mvec_exp_f32, float, expf)
LOOP(mvec_log_f32, float, logf)
LOOP(mvec_sin_f64, double, sin)
LOOP(mvec_exp_f64, double, exp)
LOOP(mvec_log_f64, double, log)
