/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels: this ISA's table, ompb__simd_table_<isa>, that
 * kernels/dispatch.c chooses from. Every slot is filled by name: K(x) is
 * the kernel x defined in one kernels/k_<family>.c (docs/kernels.md). */
#include "isa.h"

#define TABLE ISA_CAT_(ompb__simd_table, ISA_TAG)

#if !defined(ISA_SCALAR)
#if defined(__FMA__)
#define NT_AFFINE(t) [OMPB__K1_affine] = K(nt_affine_##t),
#else
#define NT_AFFINE(t)
#endif
/* A kernel with an nt_ slot streams from kernels/dispatch.c's threshold
 * even when it is not in dispatch.c's STREAMS: the log (<= 1 ULP) on
 * AVX-512F and AVX2, where its nt_ form (stores from the registers)
 * measured faster (AVX2, 2 threads, 16M floats / 8M doubles: f32 1.10-1.16x,
 * f64 1.00-1.08x; the buffered streaming once tried was slower), and the
 * sin and cos (<= 1 ULP; faster at
 * AVX-512F, f32 level at AVX2; docs/kernels.md) and the f64 sin_fast and
 * cos_fast (k_trig.c). */
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
#define NT_MATH_f32                                                            \
  [OMPB__K1_exp] = K(nt_exp_f32), [OMPB__K1_exp_fast] = K(nt_exp_fast_f32),    \
  [OMPB__K1_log_fast] = K(nt_log_fast_f32),                                   \
  [OMPB__K1_sin_fast] = K(nt_sin_fast_f32),                                   \
  [OMPB__K1_cos_fast] = K(nt_cos_fast_f32), [OMPB__K1_sin] = K(nt_sin_f32),  \
  [OMPB__K1_cos] = K(nt_cos_f32), [OMPB__K1_log] = K(nt_log_f32),
#else
#define NT_MATH_f32
#endif
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
#define NT_MATH_f64                                                            \
  [OMPB__K1_exp] = K(nt_exp_f64), [OMPB__K1_exp_fast] = K(nt_exp_fast_f64),    \
  [OMPB__K1_log_fast] = K(nt_log_fast_f64), [OMPB__K1_sin] = K(nt_sin_f64),  \
  [OMPB__K1_cos] = K(nt_cos_f64), [OMPB__K1_sin_fast] = K(nt_sin_fast_f64),   \
  [OMPB__K1_cos_fast] = K(nt_cos_fast_f64), [OMPB__K1_log] = K(nt_log_f64),
#else
#define NT_MATH_f64
#endif
#define NT_ENTRIES(t)                                                          \
  {[OMPB__K1_scale] = K(nt_scale_##t), [OMPB__K1_add_scalar] =                 \
       K(nt_add_scalar_##t),                                                   \
   [OMPB__K1_clamp] = K(nt_clamp_##t), [OMPB__K1_abs] = K(nt_abs_##t),         \
   NT_AFFINE(t) NT_MATH_##t}
#if defined(OMPB_ISA_AVX512F) || defined(OMPB_ISA_AVX2)
#define SEL_ENTRIES                                                            \
  .nt_sel_f32 = {[OMPB__K1_log] = K(nt_sel_log_f32),                          \
                 [OMPB__K1_log_fast] = K(nt_sel_log_fast_f32),                \
                 [OMPB__K1_sin] = K(nt_sel_sin_f32),                          \
                 [OMPB__K1_cos] = K(nt_sel_cos_f32),                          \
                 [OMPB__K1_sin_fast] = K(nt_sel_sin_fast_f32),                \
                 [OMPB__K1_cos_fast] = K(nt_sel_cos_fast_f32),                \
                 [OMPB__K1_exp] = K(nt_sel_exp_f32),                          \
                 [OMPB__K1_exp_fast] = K(nt_sel_exp_fast_f32)},               \
  .nt_sel_f64 = {[OMPB__K1_log] = K(nt_sel_log_f64),                          \
                 [OMPB__K1_log_fast] = K(nt_sel_log_fast_f64),                \
                 [OMPB__K1_sin] = K(nt_sel_sin_f64),                          \
                 [OMPB__K1_cos] = K(nt_sel_cos_f64),                          \
                 [OMPB__K1_sin_fast] = K(nt_sel_sin_fast_f64),                \
                 [OMPB__K1_cos_fast] = K(nt_sel_cos_fast_f64),                \
                 [OMPB__K1_exp] = K(nt_sel_exp_f64),                          \
                 [OMPB__K1_exp_fast] = K(nt_sel_exp_fast_f64)},
#else
#define SEL_ENTRIES
#endif
#define STREAM_ENTRIES                                                         \
  SEL_ENTRIES                                                                  \
  .stream_f32 = K(stream_f32), .stream_f64 = K(stream_f64),                    \
  .stream_fence = K(stream_fence), .nt_f32 = NT_ENTRIES(f32),                  \
  .nt_f64 = NT_ENTRIES(f64),                                                   \
  .nt2_f32 = {[OMPB__K2_add] = K(nt2_add_f32), [OMPB__K2_mul] =                \
                  K(nt2_mul_f32)},                                             \
  .nt2_f64 = {[OMPB__K2_add] = K(nt2_add_f64), [OMPB__K2_mul] = K(nt2_mul_f64)},
#else
#define STREAM_ENTRIES
#endif

/* ---- the table ---- */
extern const ompb__simd_table TABLE;
const ompb__simd_table TABLE = {
    .isa = ISA_NAME,
#define ENTRY_F32(name, np, uf, ud, what) [OMPB__K1_##name] = K(name##_f32),
#define ENTRY_F64(name, np, uf, ud, what) [OMPB__K1_##name] = K(name##_f64),
    .f32 = {OMPB_KERNELS_MATH(ENTRY_F32) OMPB_KERNELS_ARITH(ENTRY_F32)},
    .f64 = {OMPB_KERNELS_MATH(ENTRY_F64) OMPB_KERNELS_ARITH(ENTRY_F64)},
#undef ENTRY_F32
#undef ENTRY_F64
#define ENTRY2_F32(name, np, uf, ud, what)                                     \
  [OMPB__K2_##name] = K(k2_##name##_f32),
#define ENTRY2_F64(name, np, uf, ud, what)                                     \
  [OMPB__K2_##name] = K(k2_##name##_f64),
    .f32_2 = {OMPB_KERNELS_BINARY(ENTRY2_F32)},
    .f64_2 = {OMPB_KERNELS_BINARY(ENTRY2_F64)},
    STREAM_ENTRIES
#undef ENTRY2_F32
#undef ENTRY2_F64
};
