/* SPDX-License-Identifier: BSD-3-Clause */
/* The block operations of the expression evaluator that are not built-in
 * kernels: elementwise arithmetic, comparisons, selects and block
 * reductions, compiled once per ISA like the kernels (kernels/expr_ops.c)
 * and picked with the kernels' ISA (kernels/expr_dispatch.c). They run on
 * cache-resident blocks of a few thousand elements; every one writes
 * out[0..n-1] only, works in place (out equal to any input), keeps no state
 * and is safe from any number of threads. Never installed. */
#ifndef OMPB_EXPR_OPS_H
#define OMPB_EXPR_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Two-input operations, out[i] = a[i] op b[i]. Comparisons give 1 or 0;
 * MIN/MAX give NaN when either input is NaN (numpy's minimum/maximum);
 * NMUL is -(a*b), exact like MUL; COPYSIGN is |a| with b's sign bit and
 * NEXTAFTER the C library's nextafter (nextafterf in f32: one float ULP),
 * both exact bit operations. */
#define OMPB_EXPR_BINOPS(XX)                                                   \
  XX(ADD) XX(SUB) XX(MUL) XX(DIV) XX(NMUL) XX(MIN) XX(MAX) XX(LT) XX(LE)       \
  XX(GT) XX(GE) XX(EQ) XX(NE) XX(COPYSIGN) XX(NEXTAFTER)
enum {
#define OMPB__EXPR_ENUM(name) OMPB__EB_##name,
  OMPB_EXPR_BINOPS(OMPB__EXPR_ENUM)
#undef OMPB__EXPR_ENUM
  OMPB__EB_COUNT
};

/* Three-input operations: FMA a*b+c, FMS a*b-c, FNMA c-a*b (one rounding
 * where the ISA has FMA, two elsewhere), WHERE c != 0 ? a : b (operands in
 * the order a, b, c of the call: where(cond=a, then=b, else=c)), and
 * FLOORDIV, numpy's floor_divide a // b given c = fmod(a, b) (exact, the
 * fmod kernel's): the rest of numpy's npy_divmod, bit for bit. */
enum { OMPB__ET_FMA, OMPB__ET_FMS, OMPB__ET_FNMA, OMPB__ET_WHERE, OMPB__ET_FLOORDIV,
       OMPB__ET_COUNT };

/* Four-input selects, where(a CMP b, c, d) in one pass: out = (a CMP b) ?
 * c : d, or ? c : -d for the N forms (numpy's comparison, then where:
 * NaN compares false except for NE). Index: the comparison's
 * OMPB__EB_* - OMPB__EB_LT, plus OMPB__ES_NEG for the negated else. */
#define OMPB__ES_NEG 6
#define OMPB__ES_COUNT 12

/* One-input operations the kernel table lacks: NEG (exact), FLOOR, CEIL
 * (exact), the inverse hyperbolic functions (SLEEF's 1-ULP ones; the C
 * library's in builds without SLEEF), SQRT, the ISA's own square root
 * instruction (correctly rounded, as the sqrt kernel: ~10x faster than
 * SLEEF's function call on a cache-resident block), and the exact ROUND
 * (to nearest, halves to even, as rint and numpy's round: -0.4 gives -0),
 * TRUNC and SIGN (numpy's: -1, 0 or 1, +0 for either zero, NaN for NaN). */
enum { OMPB__EU_NEG, OMPB__EU_FLOOR, OMPB__EU_CEIL, OMPB__EU_ASINH,
       OMPB__EU_ACOSH, OMPB__EU_ATANH, OMPB__EU_SQRT, OMPB__EU_ROUND,
       OMPB__EU_TRUNC, OMPB__EU_SIGN, OMPB__EU_COUNT };

/* Block reductions, returned in double: SUM and PROD accumulate in double
 * (f32 too), in a fixed order for a given ISA and n; MIN/MAX are NaN when
 * any element is NaN. n >= 1. */
enum { OMPB__ER_SUM, OMPB__ER_PROD, OMPB__ER_MIN, OMPB__ER_MAX, OMPB__ER_COUNT };

/* Fused runs: a run of cheap elementwise operations of a program
 * (src/expr_prog.h, OMPB__XI_FUSED) evaluated strip by strip, every
 * operation on a strip of a few hundred bytes before the next strip, so
 * that intermediate values stay in L1 and the loads of the inputs and the
 * stores of the results interleave with the arithmetic (docs/design.md,
 * "Expressions: blocks and programs"). Each operation computes exactly
 * what the block operation of the same name does (the same expression of
 * the same ISA), so the bits are those of the unfused program. Codes: */
enum {
  OMPB__XR_BIN = 0,                              /* + OMPB__EB_* */
  OMPB__XR_TRI = OMPB__XR_BIN + OMPB__EB_COUNT,  /* + OMPB__ET_* */
  OMPB__XR_SEL = OMPB__XR_TRI + OMPB__ET_COUNT,  /* + the select index */
  OMPB__XR_NEG = OMPB__XR_SEL + OMPB__ES_COUNT,
  OMPB__XR_FLOOR,
  OMPB__XR_CEIL,
  OMPB__XR_SQRT,
  OMPB__XR_SCALE,  /* the scale kernel: p0 * x */
  OMPB__XR_ADDS,   /* add_scalar: x + p0 */
  OMPB__XR_AFFINE, /* affine: p0 * x + p1, one rounding */
  OMPB__XR_ABS,
  OMPB__XR_ROUND,
  OMPB__XR_TRUNC,
  OMPB__XR_SIGN,
  /* + the select index: the select with its comparison's right operand
   * the constant p0 (where(x > 0, ..)), b unused */
  OMPB__XR_SELK,
  /* + OMPB__ET_FMA, _FMS, _FNMA: the fused multiply-add with its second
   * factor the constant p0 (2*x + y), b unused */
  OMPB__XR_TRIK = OMPB__XR_SELK + OMPB__ES_COUNT,
  OMPB__XR_COUNT = OMPB__XR_TRIK + OMPB__ET_WHERE
};
/* Operands of a run: [0, next) external arrays, read and written at the
 * strip's offset, the first npf of them the program's inputs (read from
 * memory: prefetched ahead); [next, next + nint) strips on the stack. A
 * run of one operation (nint 0) runs as one loop over its arrays. */
#define OMPB__XR_MAX_STRIPS 16
#define OMPB__XR_MAX_OPERANDS 255
struct ompb__xrop {
  uint8_t code;
  uint8_t dst, a, b, c, d; /* unused operands are 0 */
  float pf[2];
  double pd[2];
};
struct ompb__xrun {
  const struct ompb__xrop *ops;
  size_t nops;
  unsigned next, nint, npf;
};

typedef struct ompb__expr_ops {
  const char *isa;
  void (*un_f32[OMPB__EU_COUNT])(const float *a, float *out, size_t n);
  void (*un_f64[OMPB__EU_COUNT])(const double *a, double *out, size_t n);
  void (*bin_f32[OMPB__EB_COUNT])(const float *a, const float *b, float *out, size_t n);
  void (*bin_f64[OMPB__EB_COUNT])(const double *a, const double *b, double *out, size_t n);
  void (*tri_f32[OMPB__ET_COUNT])(const float *a, const float *b, const float *c,
                                  float *out, size_t n);
  void (*tri_f64[OMPB__ET_COUNT])(const double *a, const double *b, const double *c,
                                  double *out, size_t n);
  void (*sel_f32[OMPB__ES_COUNT])(const float *a, const float *b, const float *c,
                                  const float *d, float *out, size_t n);
  void (*sel_f64[OMPB__ES_COUNT])(const double *a, const double *b, const double *c,
                                  const double *d, double *out, size_t n);
  double (*red_f32[OMPB__ER_COUNT])(const float *a, size_t n);
  double (*red_f64[OMPB__ER_COUNT])(const double *a, size_t n);
  /* A fused run over n elements of its external arrays ext[0..next).
   * nt >= 0: external operand nt is only written, 64-byte aligned, and
   * is stored with non-temporal stores (no fence: the caller fences);
   * never on the scalar ISA. Inputs are only read through ext. */
  void (*run_f32)(const struct ompb__xrun *r, float *const *ext, size_t n, int nt);
  void (*run_f64)(const struct ompb__xrun *r, double *const *ext, size_t n, int nt);
} ompb__expr_ops;

/* The operations for the ISA the kernels use (ompb__simd_active()->isa),
 * or for a named one when it was compiled in (NULL otherwise). Never NULL
 * for the active ISA. Thread-safety: any. */
const ompb__expr_ops *ompb__expr_ops_active(void);
const ompb__expr_ops *ompb__expr_ops_get(const char *isa);

#endif /* OMPB_EXPR_OPS_H */
