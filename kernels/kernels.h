/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels internals: the per-ISA kernel tables. Shared by
 * the kernel sources and the tests; never installed. */
#ifndef OMPB_KERNELS_H
#define OMPB_KERNELS_H

#include <stdbool.h>

#include "ompbatch/simd.h"

/* Kernel indices, in the order of the public tables. */
enum {
#define OMPB__K_ENUM(name, np, uf, ud, what) OMPB__K1_##name,
  OMPB_KERNELS_MATH(OMPB__K_ENUM) OMPB_KERNELS_ARITH(OMPB__K_ENUM)
#undef OMPB__K_ENUM
      OMPB__K1_COUNT
};
enum {
#define OMPB__K_ENUM(name, np, uf, ud, what) OMPB__K2_##name,
  OMPB_KERNELS_BINARY(OMPB__K_ENUM)
#undef OMPB__K_ENUM
      OMPB__K2_COUNT
};

/* One ISA's implementation of every built-in kernel (kernels/table.c,
 * compiled once per ISA). Immutable after load. */
typedef struct ompb__simd_table {
  const char *isa; /* "avx512f", "avx2", "sse2", "scalar" */
  ompb_kernel_f32 *f32[OMPB__K1_COUNT];
  ompb_kernel_f64 *f64[OMPB__K1_COUNT];
  ompb_kernel2_f32 *f32_2[OMPB__K2_COUNT];
  ompb_kernel2_f64 *f64_2[OMPB__K2_COUNT];
  /* Copy m elements from buf (64-byte aligned) to out (64-byte aligned)
   * with non-temporal stores, and the fence that orders them before later
   * stores; NULL where the ISA has none (scalar). */
  void (*stream_f32)(const float *buf, float *out, size_t m);
  void (*stream_f64)(const double *buf, double *out, size_t m);
  void (*stream_fence)(void);
  /* The kernel of the same slot storing with non-temporal stores, for out
   * 64-byte aligned, without the fence (the arithmetic kernels of the
   * vector ISAs: no buffer round trip); NULL where there is none. */
  ompb_kernel_f32 *nt_f32[OMPB__K1_COUNT];
  ompb_kernel_f64 *nt_f64[OMPB__K1_COUNT];
  ompb_kernel2_f32 *nt2_f32[OMPB__K2_COUNT];
  ompb_kernel2_f64 *nt2_f64[OMPB__K2_COUNT];
  /* The kernel of the same slot followed, in its registers, by a select
   * or a multiply-add of its result y, its stores non-temporal (out
   * 64-byte aligned, no fence): out[i] = c[i] CMP k ? y : f[i] (or
   * -f[i]), fma(y, k, f[i]) (or -f[i], or -y), or fma(f[i], k, y) (or
   * -y, or -f[i]), params an
   * ompb__ksel_* (below), n a multiple of 64 bytes' worth of elements.
   * The expression evaluator's `where(x > 0, log(x), -x)` and `2*sin(x)
   * + t` in one pass (src/work_expr.c, docs/design.md "Expressions: a
   * kernel and its select"). Set for log, log_fast, sin, cos, sin_fast,
   * cos_fast, exp and exp_fast at AVX-512F and AVX2; NULL elsewhere. */
  ompb_kernel_f32 *nt_sel_f32[OMPB__K1_COUNT];
  ompb_kernel_f64 *nt_sel_f64[OMPB__K1_COUNT];
} ompb__simd_table;

/* The epilogue of an nt_sel_ kernel: the comparison operand c, the other
 * operand f (both read at the kernel's index; c not read by the
 * multiply-adds, but a valid array), the constant k, and sel: a select's
 * index (kernels/expr_ops.h, OMPB__ES_*: LT LE GT GE EQ NE, + OMPB__ES_NEG
 * for -f; NaN compares false except for NE), or OMPB__KSEL_FMA +
 * OMPB__ET_FMA, _FMS or _FNMA (kernels/expr_ops.h) with the kernel's
 * result y the first factor, or OMPB__KSEL_FMAC + the same with y the
 * addend, computed as the expression evaluator's fused runs compute that
 * operation. */
#define OMPB__KSEL_FMA 12
#define OMPB__KSEL_FMAC 15
struct ompb__ksel_f32 {
  const float *c, *f;
  float k;
  unsigned sel;
};
struct ompb__ksel_f64 {
  const double *c, *f;
  double k;
  unsigned sel;
};

/* The table for `isa` when it was compiled into this build and the CPU runs
 * it, else NULL. Lets the tests run every ISA in one process.
 * Thread-safety: any. */
const ompb__simd_table *ompb__simd_table_get(const char *isa);

/* The table the public ompb_k_* functions use (chosen once). Never NULL.
 * Thread-safety: any. */
const ompb__simd_table *ompb__simd_active(void);

/* Output size in bytes from which a built-in kernel call streams its
 * stores (OMPB_STREAM_BYTES; 0: never). Thread-safety: any. */
size_t ompb__stream_min(void);

/* The streaming form of a built-in kernel (stores bypass the caches
 * whatever n is), or NULL when `k` is not a built-in public kernel or
 * cannot stream (axpy reads its output). Used by ompb_pool_map_* for maps
 * whose whole output reaches ompb__stream_min(). Thread-safety: any. */
ompb_kernel_f32 *ompb__stream_form_f32(ompb_kernel_f32 *k);
ompb_kernel_f64 *ompb__stream_form_f64(ompb_kernel_f64 *k);

/* The ISA names, best first, NULL-terminated (compiled in or not). */
extern const char *const ompb__simd_isas[];

#endif /* OMPB_KERNELS_H */
