/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: fused array expressions. An expression over several arrays is
 * compiled once into a small register program and evaluated in one pass over
 * memory, block by block on the pool's workers: every operation of a block is
 * done while the block is in cache, each input is read once and `out` written
 * once, and no n-sized temporary is allocated.
 *
 *   const char *vars[] = {"x", "y"};
 *   ompb_expr *e;
 *   ompb_expr_diag d;
 *   if (ompb_expr_compile("2*sin(x) + exp(-x*y)", vars, 2, &e, &d) != OMPB_OK)
 *     fprintf(stderr, "at %zu: %s\n", d.pos, d.message);
 *   const float *in[] = {x, y};
 *   int rc = ompb_expr_eval_f32(pool, e, in, n, out, NULL);
 *   ompb_expr_free(e);
 *
 * Syntax (numexpr's): decimal numbers with an optional fraction and exponent
 * (`2`, `2.5`, `.5`, `1e-3`, `1.5E+8`); names (`[A-Za-z_][A-Za-z_0-9]*`);
 * parentheses; unary `-` and `+`; `+ - * /`; `**` (right-associative and
 * binding tighter than unary minus: `-x**2` is `-(x**2)`, `2**-1` is 0.5);
 * comparisons `< <= > >= == !=` (1 or 0; they bind loosest and do not chain:
 * `a < b < c` is a syntax error, since Python would chain it and C would
 * compare the 0 or 1 of `a < b`); numexpr's logical `&` (and), `|` (or),
 * `^` (xor) and unary `~` (not) on truth values (non-zero, NaN included,
 * is true), giving 1 or 0, with Python's precedence: above the
 * comparisons and below `+ -`, `&` before `^` before `|`, `~` with unary
 * minus (`where((x > 0) & (y < 1), a, b)`); `where(c, a, b)` (a where c is non-zero, else b; NaN is
 * non-zero); every built-in unary kernel by its name with one argument
 * (`sin`, `exp`, `log1p`, `erf`, `sigmoid`, the `_fast` ones, ...; see
 * `ompb_kernel_at`; kernels with parameters are left out: `pow` takes two
 * arguments, `scale`, `affine`, `clamp`, `axpy`, `add_scalar` are not
 * functions here); numexpr's spellings `arcsin arccos arctan arcsinh arccosh
 * arctanh`, and `asinh acosh atanh`, `abs`, `sqrt`, `minimum(a, b)`,
 * `maximum(a, b)` (NaN when either is NaN, as numpy), `atan2(a, b)` /
 * `arctan2`, `hypot(a, b)`, `pow(a, b)`, `fmod(a, b)` (C's, exact), and
 * the two-input kernels' other names (`atan2_fast`, `hypot_fast`); `a % b`
 * (binding as `*` and `/`) is numpy's and numexpr's remainder, with the
 * divisor's sign (`-5.5 % 2` is 0.5; a zero result signed as b; exact
 * where fmod(a, b) and b agree in sign, else the rounded fmod(a, b) + b);
 * `a // b` (binding as `*` and `/`) is numpy's floor_divide, bit for bit
 * (numpy's npy_divmod: `-7 // 2` is -4, `5 // -inf` is -1, `1 // 0` inf,
 * `0 // 0` and `inf // 2` NaN); numpy's exact `trunc`, `round` (halves
 * to even, `round(-0.4)` is -0), `sign` (-1, 0 or 1; +0 for -0, NaN for
 * NaN), `copysign(a, b)`, `nextafter(a, b)` (one ULP of the evaluation
 * dtype: not folded in double), `isnan isinf isfinite signbit` (1 or 0,
 * like the comparisons) and numexpr's `copy(x)` and `ones_like(x)` (1);
 * the literals `True` (1) and `False` (0), which are never variable names;
 * reductions `sum prod min max mean`
 * with one argument, only as the outermost call. Names are case-sensitive;
 * spaces and tabs between tokens are ignored.
 *
 * Semantics are numpy's on the evaluation dtype (float or double): IEEE
 * results for division by zero, NaN and inf propagate (`log(-1)` is NaN,
 * `1/0` is inf); literals are rounded to the dtype; each function is the
 * default (<= 1 ULP) kernel unless its `_fast` name is used; `+ - * /` and
 * `sqrt` are correctly rounded. The compiler may turn `a*b + c` into one
 * fused multiply-add (one rounding instead of two: never less accurate) and
 * small integer powers into multiplications (`x**2` is `x*x`, `x**3` is
 * `x*x*x`, `x**-1` is `1/x`, `x**-2` is `1/(x*x)`: within 2 ULP; other
 * powers use the `pow` kernel). Constant
 * subexpressions are folded at compile time in double, with the f64
 * kernels (as Python folds `0.1 + 0.2` before numpy sees it), and the
 * result is rounded to the dtype once; repeated subexpressions are computed
 * once. `x**0.5` is sqrt(x), as numpy computes it.
 *
 * Reductions (`sum(e)`, `prod(e)`, `min(e)`, `max(e)`, `mean(e)`) write one
 * value to out[0]. `min`/`max` return NaN when any element is NaN and are
 * independent of the number of workers and of the block size. `sum`,
 * `prod` and `mean` are computed per block, in the block's order, and the
 * block partials are combined in index order: the result depends neither on
 * the worker count nor on which worker ran which block (it is the same for
 * one pool and another), but it differs from a sequential left-to-right loop
 * by rounding (blocked summation: usually more accurate). f32 `sum`/`mean`
 * accumulate in double, f32 `prod` too, and round once at the end. Empty
 * `sum` is 0, `prod` 1, `mean` NaN; empty `min`/`max` are OMPB_EINVAL.
 *
 * Limits: OMPB_EXPR_MAX_VARS variables, OMPB_EXPR_MAX_LEN bytes of source,
 * OMPB_EXPR_MAX_DEPTH levels of nesting, OMPB_EXPR_MAX_OPS operations after
 * folding; beyond them ompb_expr_compile returns OMPB_ERANGE with a diag. */
#ifndef OMPB_EXPR_H
#define OMPB_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "ompbatch/error.h"
#include "ompbatch/map.h"
#include "ompbatch/pool.h"
#include "ompbatch/simd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Documented limits (numexpr stops at 31 inputs). */
#define OMPB_EXPR_MAX_VARS 4096
#define OMPB_EXPR_MAX_LEN ((size_t)1 << 20)
#define OMPB_EXPR_MAX_DEPTH 2000
#define OMPB_EXPR_MAX_OPS 100000

/* A compiled expression: immutable after ompb_expr_compile, shareable. */
typedef struct ompb_expr ompb_expr;

/* Where and why compilation failed. */
typedef struct {
  size_t pos;       /* byte offset of the error in src (0-based) */
  char message[160];/* one line, no position in it */
} ompb_expr_diag;

/* Compile `src` over the variables vars[0..nvars-1] (inputs[k] of the
 * evaluation is vars[k]; names must be identifiers, `[A-Za-z_][A-Za-z_0-9]*`,
 * and distinct; a name followed by `(` is always a function call, so a
 * variable may even be called `sin`). Returns OMPB_OK and *out (free with ompb_expr_free);
 * OMPB_EINVAL with *diag filled for a syntax error, an unknown name or
 * function, a wrong number of arguments, a reduction that is not outermost,
 * an empty expression, a bad variable name (pos is then 0 and the message
 * names vars[k]), or NULL src / out / vars with nvars > 0; OMPB_ERANGE with
 * *diag beyond the limits above; OMPB_ENOMEM. On failure nothing is
 * allocated and *out is NULL. diag may be NULL. A variable that the
 * expression does not use is allowed (its input is never read).
 * Thread-safety: any. */
OMPB_EXTERN int ompb_expr_compile(const char *src, const char *const *vars,
                                  size_t nvars, ompb_expr **out,
                                  ompb_expr_diag *diag);

/* Free a compiled expression; NULL is a no-op. It must not be in use by an
 * evaluation (one started with ompb_expr_eval_start_* is in use until its
 * batch was waited for). Thread-safety: owner. */
OMPB_EXTERN void ompb_expr_free(ompb_expr *e);

/* true when the outermost call is a reduction (out then takes 1 element);
 * false for NULL. Thread-safety: any. */
OMPB_EXTERN bool ompb_expr_is_reduction(const ompb_expr *e);

/* The number of variables the expression was compiled with (nvars), and
 * whether variable k is read by it; 0 / false for NULL.
 * Thread-safety: any. */
OMPB_EXTERN size_t ompb_expr_nvars(const ompb_expr *e);
OMPB_EXTERN bool ompb_expr_uses(const ompb_expr *e, size_t k);

/* Evaluate e over n elements: out[i] = e(inputs[0][i], inputs[1][i], ...),
 * or out[0] = the reduction. inputs[k] is vars[k]'s array of n elements (it
 * may be NULL when n is 0 or when the expression does not use vars[k]);
 * `inputs` may be NULL when nvars is 0. out may be one of the inputs (in
 * place); any other overlap of out with a used input is OMPB_EINVAL (inputs
 * may overlap each other: they are only read). Any alignment works.
 *
 * Runs as a batch on `pool` (opts: NULL for defaults): each worker claims
 * blocks of elements; progress counts elements (total == n); cancel, pause
 * and the batch deadline are checked before each block; concurrency caps
 * the workers; task_timeout_ms, fail_fast, on_result, discard_results and
 * result_free do not apply (a block never fails); chunk_size, when set, is
 * the claim size in elements (rounded up to whole blocks). Called from
 * inside a parallel region or a task, it runs in the caller's team.
 *
 * Returns OMPB_OK; OMPB_ETIMEDOUT when the batch deadline passed before it
 * completed; OMPB_EINVAL for NULL pool, e or out, a NULL used input with
 * n > 0, a bad overlap, an empty min/max (n == 0), a bad time in opts;
 * OMPB_ENOMEM. After a deadline the elements of blocks that did not run are
 * unwritten, and a reduction's out[0] is unwritten. Nothing is written on
 * an argument error. Thread-safety: any; one compiled expression may be
 * evaluated by any number of threads at once. */
OMPB_EXTERN int ompb_expr_eval_f32(ompb_pool *pool, const ompb_expr *e,
                                   const float *const *inputs, size_t n,
                                   float *out, const ompb_map_opts *opts);
OMPB_EXTERN int ompb_expr_eval_f64(ompb_pool *pool, const ompb_expr *e,
                                   const double *const *inputs, size_t n,
                                   double *out, const ompb_map_opts *opts);

/* The same, started asynchronously: returns OMPB_OK and a batch handle at
 * once (*out_batch; wait for it and free it as any batch), so that another
 * thread can cancel, pause or resume the evaluation (a Ctrl-C handler, a
 * GUI). inputs' arrays, out and e are borrowed until the batch finished.
 * ompb_batch_wait then returns OMPB_OK (see result->cancelled: a cancel
 * leaves the blocks that did not run unwritten, and a reduction's out[0]
 * unwritten) or OMPB_ETIMEDOUT; the result has counts only (results NULL,
 * count == n, success_count = elements evaluated). The array `inputs`
 * itself is copied. Argument errors as above (*out_batch NULL then).
 * Thread-safety: any. */
OMPB_EXTERN int ompb_expr_eval_start_f32(ompb_pool *pool, const ompb_expr *e,
                                         const float *const *inputs, size_t n,
                                         float *out, const ompb_map_opts *opts,
                                         ompb_batch **out_batch);
OMPB_EXTERN int ompb_expr_eval_start_f64(ompb_pool *pool, const ompb_expr *e,
                                         const double *const *inputs, size_t n,
                                         double *out, const ompb_map_opts *opts,
                                         ompb_batch **out_batch);

/* The functions an expression may call, one at a time (i < count; NULL past the
 * end), with their argument count and what they compute: for `ompbatch eval
 * --help` and bindings. `kernel` is the built-in kernel the function runs
 * (NULL for operators implemented by the evaluator itself, such as where,
 * minimum, the reductions), from which its ULP bounds can be read.
 * Static data. Thread-safety: any. */
typedef struct ompb_expr_func {
  const char *name;
  unsigned nargs;
  bool reduction;
  const char *what;
  const ompb_kernel_info *kernel;
} ompb_expr_func;
OMPB_EXTERN size_t ompb_expr_func_count(void);
OMPB_EXTERN const ompb_expr_func *ompb_expr_func_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif /* OMPB_EXPR_H */
