/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: SIMD map kernels (SLEEF vector math inside `omp simd` loops,
 * ISA picked once at run time), f32 and f64. */
#ifndef OMPB_SIMD_H
#define OMPB_SIMD_H

#include <stdbool.h>
#include <stddef.h>

#include "ompbatch/error.h"
#include "ompbatch/map.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A kernel: out[i] = f(in[i]) for i < n. `params` is kernel-specific (NULL
 * when the kernel takes none). in == out (in place) is allowed. */
typedef void ompb_kernel_f32(const float *in, float *out, size_t n,
                             const void *params);
typedef void ompb_kernel_f64(const double *in, double *out, size_t n,
                             const void *params);

/* A two-input kernel: out[i] = f(a[i], b[i]) for i < n. out may equal a
 * and/or b (in place); partial overlaps are not allowed. */
typedef void ompb_kernel2_f32(const float *a, const float *b, float *out,
                              size_t n, const void *params);
typedef void ompb_kernel2_f64(const double *a, const double *b, double *out,
                              size_t n, const void *params);

/* Run `k` over all workers of `pool` in chunks of opts->chunk_size elements
 * (0: automatic: cache-sized, or, for a map that streams its stores (see
 * "Streaming stores" below), up to 8 MiB of output, at least 4 chunks per
 * worker) through the batch engine, with the batch's
 * progress (counting chunks), cancel, pause and deadlines per chunk. One
 * result entry per chunk; a failed chunk's error->index is its first
 * element's index. `in`/`out` are borrowed until the batch finished.
 * Returns like ompb_map_start; also OMPB_EINVAL for a NULL k, or in and
 * out overlapping without being equal (in == out runs in place).
 * Thread-safety: any. */
OMPB_EXTERN int ompb_pool_map_f32(ompb_pool *pool, const float *in, float *out,
                                  size_t n, ompb_kernel_f32 *k,
                                  const void *params, const ompb_map_opts *opts,
                                  ompb_batch **out_batch);
OMPB_EXTERN int ompb_pool_map_f64(ompb_pool *pool, const double *in,
                                  double *out, size_t n, ompb_kernel_f64 *k,
                                  const void *params, const ompb_map_opts *opts,
                                  ompb_batch **out_batch);

/* ---- ISA ---------------------------------------------------------------- */

/* The instruction set the built-in kernels use in this process: "avx512f",
 * "avx2" (with FMA), "sse2" or "scalar" (plain C, also every non-x86 build
 * and builds without SLEEF). Chosen once, on the first call of any kernel
 * function or of this one: the best ISA that was compiled in and that the
 * CPU supports. The environment variable OMPB_SIMD=scalar|sse2|avx2|avx512f,
 * read at that moment, forces one (for tests and comparisons); a forced ISA
 * that was not compiled in or that the CPU lacks falls back to the best one
 * available, an unknown value is ignored. Returns a static string.
 * Thread-safety: any. */
OMPB_EXTERN const char *ompb_simd_isa(void);

/* true when the kernels use vector instructions, i.e.
 * strcmp(ompb_simd_isa(), "scalar") != 0 (the spec's canUseSIMD()).
 * Thread-safety: any. */
OMPB_EXTERN bool ompb_simd_available(void);

/* ---- running a kernel on the calling thread ----------------------------- */

/* Run k(in, out, n, params) on the calling thread, after checking the
 * arguments. The arrays are borrowed for the call; any alignment works.
 * Returns OMPB_OK; OMPB_EINVAL for a NULL k, NULL in or out with n > 0, or
 * in and out overlapping without being equal (in == out is in place). n == 0
 * is valid and touches nothing. Nothing is written on failure.
 * Thread-safety: any (kernels keep no state). */
OMPB_EXTERN int ompb_simd_map_f32(const float *in, float *out, size_t n,
                                  ompb_kernel_f32 *k, const void *params);
OMPB_EXTERN int ompb_simd_map_f64(const double *in, double *out, size_t n,
                                  ompb_kernel_f64 *k, const void *params);

/* Two-input form: k(a, b, out, n, params). Codes as above; out may equal a
 * and/or b, any other overlap of out with an input is OMPB_EINVAL (a and b
 * may overlap each other freely: they are only read).
 * Thread-safety: any. */
OMPB_EXTERN int ompb_simd_map2_f32(const float *a, const float *b, float *out,
                                   size_t n, ompb_kernel2_f32 *k,
                                   const void *params);
OMPB_EXTERN int ompb_simd_map2_f64(const double *a, const double *b,
                                   double *out, size_t n, ompb_kernel2_f64 *k,
                                   const void *params);

/* ---- built-in kernels --------------------------------------------------- */

/* The tables below declare every built-in kernel and are its documentation:
 *
 *   XX(name, nparams, ulp_f32, ulp_f64, what)
 *
 * declares ompb_k_<name>_f32 (an ompb_kernel_f32) and ompb_k_<name>_f64
 * (unary), or ompb_k2_<name>_f32 / _f64 (two-input). `ulp_f32`/`ulp_f64` is
 * the maximum error in units in the last place of the correctly rounded
 * result, over the domain stated in `what` (everywhere when none is stated),
 * for every ISA; 0 means exact. The tests check each bound against MPFR.
 * Subnormal results are measured in ULPs of the subnormal spacing.
 *
 * params: nparams scalars of the kernel's element type (const float * for
 * _f32, const double * for _f64), read on every call and not kept. NULL
 * params mean the identity: a = 1, b = 0, p = 1, lo = -inf, hi = +inf.
 * Kernels without params ignore `params`.
 *
 * Special values follow C99 Annex F (NaN in, NaN out; sin(+-inf) = NaN;
 * exp(-inf) = +0; log(0) = -inf; ...); ±0 keep their sign where C99 says so.
 * Where they come from: most kernels are SLEEF's vector functions (the
 * default ones SLEEF's 1-ULP, the `_fast` ones its 3.5-ULP functions); some
 * are ompbatch's own, written for speed on the common ranges and falling
 * back to SLEEF (per block of 256 inputs) elsewhere:
 *   - sin, cos f32: reduced and evaluated in double, rounded once (~0.5 ULP),
 *     for |x| <= 2^22; on AVX2 and AVX-512F in float lanes for |x| <= 2^14
 *     (exact reduction, max 0.772 ULP over every float there);
 *   - sin, cos f64 (AVX2 and AVX-512F, which have FMA): double-double
 *     reduction by pi/2 and a rounding-error-compensated finish (measured
 *     max 0.794 and 0.796 ULP in 33M samples), for |x| up to ~1.64e6;
 *   - sin_fast, cos_fast f64: one reduction by pi and one polynomial (max
 *     measured 2.04 and 2.56 ULP with FMA in 33M samples), for |x| <= 2^20
 *     (SSE2, scalar) or up to ~1.64e6 (AVX2, AVX-512F);
 *   - sin_fast, cos_fast f32 (AVX2 and AVX-512F): the same in float lanes
 *     (max 2.74 ULP over every float of [2^-20, 2^16]), for |x| <= 2^16;
 *   - log f32 (AVX2 and AVX-512F): an exact reduction by 8 (AVX2) or 16
 *     (AVX-512F, vgetmant/vgetexp) table entries (max 0.610 / 0.745 ULP
 *     over every positive float); log f64 by a short s ~ 1/m from 16
 *     entries by permutes (AVX-512F, max 0.721 ULP in 20M samples) or 128
 *     read one 16-byte load a lane (AVX2, max 0.524 ULP), r = m s - 1
 *     exact; on AVX2 zeros, subnormals and specials through SLEEF's;
 *   - log_fast f64: the log's reduction without its compensated sum (max
 *     0.808 ULP on AVX-512F, 0.754 on AVX2 over normal x, 20M samples;
 *     subnormal x on AVX2 through SLEEF's 3.5-ULP log);
 *   - log_fast f32 on AVX-512F: the same tables (max 1.19 ULP over every
 *     positive float), whole range; on AVX2: integer split and 8-entry
 *     tables (max 1.38 ULP; zeros, subnormals and specials through
 *     SLEEF's);
 *   - exp and exp_fast on AVX-512F: a 2^(j/16) table held in registers and
 *     vscalef (max measured 0.73 and 1.13 ULP, whole range; f32 0.75 and
 *     0.98 over every float of [-104, 104]);
 *   - exp and exp_fast f32 on AVX2: 2^(j/8) in a register (max 0.60 and
 *     0.88 ULP over every float of [-87, 87]), SLEEF's expf beyond;
 *   - exp and exp_fast f64 on AVX2: 2^(j/8) and its low part held in
 *     registers, picked by vpermps (max 0.584 ULP on [-708, 708]; exp_fast
 *     without the low part, degree 5: max 1.04 ULP), SLEEF's exp beyond
 *     708 and, above 709.78 (where SLEEF's overflows early, also on SSE2
 *     and scalar), the C library's.
 *   Elsewhere exp_fast equals exp (SLEEF has no faster exp).
 * docs/kernels.md has the table of which body fills each kernel per ISA.
 * Default f32 tan, erfc and sigmoid are evaluated in double precision and
 * rounded once, hence ~0.5 ULP. kernels/gen_consts.py regenerates the
 * constants of the own kernels. Builds without SLEEF (WITH_SLEEF=0) call the
 * C library for the transcendental kernels instead; its own bounds apply
 * (the tests then allow 4 more ULP).
 *
 * Every kernel: writes out[0..n-1] only, allocates nothing, keeps no state,
 * never fails (it has no return value: validate with ompb_simd_map_*), and
 * is safe to call from any number of threads at once (Thread-safety: any).
 * in == out (in place) works; any other overlap of out with an input is
 * undefined (ompb_simd_map_* rejects it). For a given ISA, an element's
 * result depends on that element only: the same whatever its position in
 * the array, its neighbours, or how a pool map or a streaming call splits
 * the array (tests check calls shifted by a few elements bit for bit).
 *
 * Streaming stores: a call of a kernel whose arithmetic is light next to
 * its memory traffic (scale, add_scalar, affine, clamp, abs, exp, exp_fast,
 * log_fast, sin_fast and cos_fast (f64 on AVX2 and AVX-512F), sin and cos
 * on AVX2 and AVX-512F, log on AVX2 and AVX-512F; add, mul) writing
 * at least OMPB_STREAM_BYTES bytes (environment, read once with the ISA;
 * default 16 MiB, 0 = never) stores with non-temporal instructions, as
 * memcpy does for large copies: the output does not pass through the
 * caches, which saves the read for ownership of every output line (scale
 * 1.2-1.4x memcpy instead of 0.9x on 64 MiB, exp 1.05-1.3x instead of
 * 0.9x; perf/bench_simd). ompb_pool_map_* decide by the whole map's output. The
 * heavier kernels keep ordinary stores: streaming measured slower for them.
 * axpy never streams (it reads out). A kernel returns after its streaming
 * stores are ordered (sfence), so its output is visible like any other.
 */

/* Unary transcendental kernels. */
#define OMPB_KERNELS_MATH(XX)                                                  \
  XX(sin, 0, 1.0, 1.0, "sin(x)")                                               \
  XX(sin_fast, 0, 3.5, 3.5, "sin(x); |x| <= 1e28 (f32), 1e15 (f64)")          \
  XX(cos, 0, 1.0, 1.0, "cos(x)")                                               \
  XX(cos_fast, 0, 3.5, 3.5, "cos(x); |x| <= 1e28 (f32), 1e15 (f64)")          \
  XX(tan, 0, 1.0, 1.0, "tan(x)")                                               \
  XX(tan_fast, 0, 3.5, 3.5, "tan(x); |x| <= 1e28 (f32), 1e15 (f64)")          \
  XX(asin, 0, 1.0, 1.0, "asin(x)")                                             \
  XX(asin_fast, 0, 3.5, 3.5, "asin(x)")                                        \
  XX(acos, 0, 1.0, 1.0, "acos(x)")                                             \
  XX(acos_fast, 0, 3.5, 3.5, "acos(x)")                                        \
  XX(atan, 0, 1.0, 1.0, "atan(x)")                                             \
  XX(atan_fast, 0, 3.5, 3.5, "atan(x)")                                        \
  XX(sinh, 0, 1.0, 1.0, "sinh(x)")                                             \
  XX(sinh_fast, 0, 3.5, 3.5, "sinh(x)")                                        \
  XX(cosh, 0, 1.0, 1.0, "cosh(x)")                                             \
  XX(cosh_fast, 0, 3.5, 3.5, "cosh(x)")                                        \
  XX(tanh, 0, 1.0, 1.0, "tanh(x)")                                             \
  XX(tanh_fast, 0, 3.5, 3.5, "tanh(x)")                                        \
  XX(exp, 0, 1.0, 1.0, "e^x")                                                  \
  XX(exp_fast, 0, 3.5, 3.5, "e^x")                                             \
  XX(exp2, 0, 1.0, 1.0, "2^x")                                                 \
  XX(exp2_fast, 0, 3.5, 3.5, "2^x")                                            \
  XX(expm1, 0, 1.0, 1.0, "e^x - 1")                                            \
  XX(log, 0, 1.0, 1.0, "natural logarithm")                                    \
  XX(log_fast, 0, 3.5, 3.5, "natural logarithm")                               \
  XX(log2, 0, 1.0, 1.0, "base-2 logarithm")                                    \
  XX(log2_fast, 0, 3.5, 3.5, "base-2 logarithm")                               \
  XX(log10, 0, 1.0, 1.0, "base-10 logarithm")                                  \
  XX(log1p, 0, 1.0, 1.0, "log(1 + x); x <= 1e38 (f32), 1e307 (f64)")          \
  XX(sqrt, 0, 0.5, 0.5, "square root, correctly rounded")                      \
  XX(sqrt_fast, 0, 3.5, 3.5, "square root")                                    \
  XX(cbrt, 0, 1.0, 1.0, "cube root")                                           \
  XX(cbrt_fast, 0, 3.5, 3.5, "cube root")                                      \
  XX(erf, 0, 1.0, 1.0, "error function")                                       \
  XX(erfc, 0, 1.0, 1.5, "1 - erf(x); f64: x <= 26.5 (normal results)")        \
  XX(pow, 1, 1.0, 1.0, "x^p, params {p}")                                      \
  XX(sigmoid, 0, 1.0, 2.5, "1 / (1 + e^-x)")

/* Unary arithmetic kernels (exact, or one rounding). */
#define OMPB_KERNELS_ARITH(XX)                                                 \
  XX(scale, 1, 0.5, 0.5, "a * x, params {a}")                                  \
  XX(add_scalar, 1, 0.5, 0.5, "x + b, params {b}")                             \
  XX(axpy, 1, 0.5, 0.5, "a * x + out (reads out: y), params {a}")             \
  XX(affine, 2, 0.5, 0.5, "a * x + b, one rounding, params {a, b}")           \
  XX(clamp, 2, 0, 0, "min(max(x, lo), hi) (NaN stays NaN), params {lo, hi}")  \
  XX(abs, 0, 0, 0, "|x|")

/* Two-input kernels: out[i] = f(a[i], b[i]). */
#define OMPB_KERNELS_BINARY(XX)                                                \
  XX(add, 0, 0.5, 0.5, "a + b")                                                \
  XX(mul, 0, 0.5, 0.5, "a * b")                                                \
  XX(pow, 0, 1.0, 1.0, "a^b")                                                  \
  XX(atan2, 0, 1.0, 1.0, "atan2(a, b)")                                        \
  XX(atan2_fast, 0, 3.5, 3.5, "atan2(a, b)")                                   \
  XX(hypot, 0, 0.5, 0.5, "sqrt(a^2 + b^2) without overflow")                  \
  XX(hypot_fast, 0, 3.5, 3.5, "sqrt(a^2 + b^2) without overflow")        \
  XX(fmod, 0, 0, 0, "fmod(a, b) = a - trunc(a / b) * b, exact (C's fmod)")

#define OMPB__DECLARE_K1(name, np, uf, ud, what)                               \
  OMPB_EXTERN ompb_kernel_f32 ompb_k_##name##_f32;                             \
  OMPB_EXTERN ompb_kernel_f64 ompb_k_##name##_f64;
#define OMPB__DECLARE_K2(name, np, uf, ud, what)                               \
  OMPB_EXTERN ompb_kernel2_f32 ompb_k2_##name##_f32;                           \
  OMPB_EXTERN ompb_kernel2_f64 ompb_k2_##name##_f64;
OMPB_KERNELS_MATH(OMPB__DECLARE_K1)
OMPB_KERNELS_ARITH(OMPB__DECLARE_K1)
OMPB_KERNELS_BINARY(OMPB__DECLARE_K2)
#undef OMPB__DECLARE_K1
#undef OMPB__DECLARE_K2

/* ---- looking kernels up by name ----------------------------------------- */

/* One built-in kernel, as listed in the tables above. Static data. */
typedef struct ompb_kernel_info {
  const char *name;  /* "sin", "sin_fast", "affine", "atan2" */
  unsigned arity;    /* 1: f32/f64 are set; 2: f32_2/f64_2 are set */
  unsigned nparams;  /* scalars read from params (element type) */
  double ulp_f32;    /* documented maximum error in ULP (0: exact) */
  double ulp_f64;
  const char *what;  /* one line: formula, params, domain of the bound */
  ompb_kernel_f32 *f32;
  ompb_kernel_f64 *f64;
  ompb_kernel2_f32 *f32_2;
  ompb_kernel2_f64 *f64_2;
} ompb_kernel_info;

/* The built-in kernel called `name` ("sin", "log_fast", "pow") with `arity`
 * inputs (1 or 2; "pow" exists as both: x^p with a scalar p, and a^b), or
 * NULL when there is none (also for a NULL name). Returns static data.
 * Thread-safety: any. */
OMPB_EXTERN const ompb_kernel_info *ompb_kernel_find(const char *name,
                                                     unsigned arity);

/* The number of built-in kernels, and the i-th (i < count: unary kernels in
 * table order, then two-input ones; NULL past the end), to list them.
 * Thread-safety: any. */
OMPB_EXTERN size_t ompb_kernel_count(void);
OMPB_EXTERN const ompb_kernel_info *ompb_kernel_at(size_t i);

/* ---- user kernels from an expression ------------------------------------ */

/* OMPB_DEFINE_KERNEL_F32(name, x, expr) defines
 *   void name(const float *in, float *out, size_t n, const void *params)
 * (an ompb_kernel_f32) computing out[i] = expr with x = in[i], in an
 * `omp simd` loop; expr may use P, params as `const float *`. Compile with
 * -fopenmp or -fopenmp-simd for the pragma to vectorise. Prefix with
 * `static` for a file-local kernel. Example:
 *   OMPB_DEFINE_KERNEL_F32(twice_plus, v, 2.0f * v + P[0])
 * _F64 likewise with double. */
#define OMPB_DEFINE_KERNEL_F32(name, x, expr)                                  \
  OMPB__DEFINE_KERNEL(name, float, x, expr)
#define OMPB_DEFINE_KERNEL_F64(name, x, expr)                                  \
  OMPB__DEFINE_KERNEL(name, double, x, expr)

#define OMPB__DEFINE_KERNEL(name, T, x, expr)                                  \
  void name(const T *ompb__in, T *ompb__out, size_t ompb__n,                   \
            const void *ompb__params);                                         \
  void name(const T *ompb__in, T *ompb__out, size_t ompb__n,                   \
            const void *ompb__params) {                                        \
    const T *P = (const T *)ompb__params;                                      \
    (void)P;                                                                   \
    _Pragma("omp simd") for (size_t ompb__i = 0; ompb__i < ompb__n;            \
                             ompb__i++) {                                      \
      const T x = ompb__in[ompb__i];                                           \
      ompb__out[ompb__i] = (expr);                                             \
    }                                                                          \
  }

#ifdef __cplusplus
}
#endif
#endif /* OMPB_SIMD_H */
