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

/* One ISA's implementation of every built-in kernel (kernels/math.c,
 * compiled once per ISA). Immutable after load. */
typedef struct ompb__simd_table {
  const char *isa; /* "avx512f", "avx2", "sse2", "scalar" */
  ompb_kernel_f32 *f32[OMPB__K1_COUNT];
  ompb_kernel_f64 *f64[OMPB__K1_COUNT];
  ompb_kernel2_f32 *f32_2[OMPB__K2_COUNT];
  ompb_kernel2_f64 *f64_2[OMPB__K2_COUNT];
} ompb__simd_table;

/* The table for `isa` when it was compiled into this build and the CPU runs
 * it, else NULL. Lets the tests run every ISA in one process.
 * Thread-safety: any. */
const ompb__simd_table *ompb__simd_table_get(const char *isa);

/* The table the public ompb_k_* functions use (chosen once). Never NULL.
 * Thread-safety: any. */
const ompb__simd_table *ompb__simd_active(void);

/* The ISA names, best first, NULL-terminated (compiled in or not). */
extern const char *const ompb__simd_isas[];

#endif /* OMPB_KERNELS_H */
