/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: the expression operations of the ISA the kernels chose
 * (kernels/expr_ops.h). Built with the same OMPB_KERNELS_HAVE_<ISA>
 * defines as kernels/dispatch.c (mk/expr.mk), so both always agree on
 * which tables exist. */
#include <string.h>

#include "expr_ops.h"
#include "kernels.h"

extern const ompb__expr_ops ompb__expr_ops_scalar;
#if defined(OMPB_KERNELS_HAVE_SSE2)
extern const ompb__expr_ops ompb__expr_ops_sse2;
#endif
#if defined(OMPB_KERNELS_HAVE_AVX2)
extern const ompb__expr_ops ompb__expr_ops_avx2;
#endif
#if defined(OMPB_KERNELS_HAVE_AVX512F)
extern const ompb__expr_ops ompb__expr_ops_avx512f;
#endif

static const ompb__expr_ops *const all_ops[] = {
#if defined(OMPB_KERNELS_HAVE_AVX512F)
    &ompb__expr_ops_avx512f,
#endif
#if defined(OMPB_KERNELS_HAVE_AVX2)
    &ompb__expr_ops_avx2,
#endif
#if defined(OMPB_KERNELS_HAVE_SSE2)
    &ompb__expr_ops_sse2,
#endif
    &ompb__expr_ops_scalar,
};

const ompb__expr_ops *ompb__expr_ops_get(const char *isa) {
  if (isa == NULL || ompb__simd_table_get(isa) == NULL) return NULL;
  for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++)
    if (strcmp(all_ops[i]->isa, isa) == 0) return all_ops[i];
  return NULL;
}

const ompb__expr_ops *ompb__expr_ops_active(void) {
  const ompb__expr_ops *x = ompb__expr_ops_get(ompb__simd_active()->isa);
  return x != NULL ? x : &ompb__expr_ops_scalar;
}
