/* SPDX-License-Identifier: BSD-3-Clause */
/* Baselines for perf/bench_simd: plain loops over libm functions, compiled
 * by kernels/kernels.mk with -O3 -ffast-math -march=native so that gcc
 * calls glibc's libmvec vector variants. */
#ifndef OMPB_PERF_LIBMVEC_H
#define OMPB_PERF_LIBMVEC_H

#include <stddef.h>

void mvec_sin_f32(const float *in, float *out, size_t n);
void mvec_exp_f32(const float *in, float *out, size_t n);
void mvec_log_f32(const float *in, float *out, size_t n);
void mvec_sin_f64(const double *in, double *out, size_t n);
void mvec_exp_f64(const double *in, double *out, size_t n);
void mvec_log_f64(const double *in, double *out, size_t n);

#endif /* OMPB_PERF_LIBMVEC_H */
