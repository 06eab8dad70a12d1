/* SPDX-License-Identifier: BSD-3-Clause */
/* The functions an expression may call: every built-in kernel that takes
 * no parameters under its own name, numexpr's spellings of them, and the
 * operations the evaluator does itself (where, minimum, maximum, the
 * inverse hyperbolics, floor, ceil, trunc, round, sign, copysign,
 * nextafter, the reductions) or the parser writes with others (isnan,
 * isinf, isfinite, signbit, copy, ones_like). Built once from the
 * kernel table, immutable after. */
#include <pthread.h>
#include <string.h>

#include "expr_prog.h"
#include "kernels.h"

/* An alias or an own operation: kernel == NULL names an own one. */
struct extra {
  const char *name;
  unsigned nargs;
  enum ompb__xfkind kind;
  unsigned index;
  const char *kernel; /* the kernel it runs (aliases), or NULL */
  const char *what;
};

static const struct extra extras[] = {
    {"arcsin", 1, OMPB__XF_K1, OMPB__K1_asin, "asin", "asin(x), numexpr's name"},
    {"arccos", 1, OMPB__XF_K1, OMPB__K1_acos, "acos", "acos(x), numexpr's name"},
    {"arctan", 1, OMPB__XF_K1, OMPB__K1_atan, "atan", "atan(x), numexpr's name"},
    {"asinh", 1, OMPB__XF_UN, OMPB__EU_ASINH, NULL, "inverse hyperbolic sine (SLEEF, 1 ULP)"},
    {"arcsinh", 1, OMPB__XF_UN, OMPB__EU_ASINH, NULL, "asinh(x), numexpr's name"},
    {"acosh", 1, OMPB__XF_UN, OMPB__EU_ACOSH, NULL, "inverse hyperbolic cosine (SLEEF, 1 ULP)"},
    {"arccosh", 1, OMPB__XF_UN, OMPB__EU_ACOSH, NULL, "acosh(x), numexpr's name"},
    {"atanh", 1, OMPB__XF_UN, OMPB__EU_ATANH, NULL, "inverse hyperbolic tangent (SLEEF, 1 ULP)"},
    {"arctanh", 1, OMPB__XF_UN, OMPB__EU_ATANH, NULL, "atanh(x), numexpr's name"},
    {"floor", 1, OMPB__XF_UN, OMPB__EU_FLOOR, NULL, "largest integer <= x (exact)"},
    {"ceil", 1, OMPB__XF_UN, OMPB__EU_CEIL, NULL, "smallest integer >= x (exact)"},
    {"trunc", 1, OMPB__XF_UN, OMPB__EU_TRUNC, NULL, "integer part, towards zero (exact)"},
    {"round", 1, OMPB__XF_UN, OMPB__EU_ROUND, NULL, "nearest integer, halves to even (-0.4: -0)"},
    {"sign", 1, OMPB__XF_UN, OMPB__EU_SIGN, NULL, "-1, 0 or 1 (+0 for -0), NaN for NaN"},
    {"isnan", 1, OMPB__XF_LOWER, OMPB__XL_ISNAN, NULL, "1 where x is NaN, else 0"},
    {"isinf", 1, OMPB__XF_LOWER, OMPB__XL_ISINF, NULL, "1 where x is +-inf, else 0"},
    {"isfinite", 1, OMPB__XF_LOWER, OMPB__XL_ISFINITE, NULL, "1 where x is neither inf nor NaN, else 0"},
    {"signbit", 1, OMPB__XF_LOWER, OMPB__XL_SIGNBIT, NULL, "1 where the sign bit is set (-0, -NaN), else 0"},
    {"copysign", 2, OMPB__XF_BIN, OMPB__EB_COPYSIGN, NULL, "|a| with b's sign bit (exact)"},
    {"nextafter", 2, OMPB__XF_BIN, OMPB__EB_NEXTAFTER, NULL, "next value after a towards b in the dtype"},
    {"copy", 1, OMPB__XF_LOWER, OMPB__XL_COPY, NULL, "x itself (numexpr's copy)"},
    {"ones_like", 1, OMPB__XF_LOWER, OMPB__XL_ONES_LIKE, NULL, "1 for every element (numexpr's)"},
    {"arctan2", 2, OMPB__XF_K2, OMPB__K2_atan2, "atan2", "atan2(a, b), numexpr's name"},
    {"pow", 2, OMPB__XF_BIN, OMPB__X_POW, "pow", "a ** b"},
    {"minimum", 2, OMPB__XF_BIN, OMPB__EB_MIN, NULL, "elementwise min; NaN if either is NaN"},
    {"maximum", 2, OMPB__XF_BIN, OMPB__EB_MAX, NULL, "elementwise max; NaN if either is NaN"},
    {"where", 3, OMPB__XF_WHERE, 0, NULL, "where(c, a, b): a where c != 0, else b"},
    {"sum", 1, OMPB__XF_RED, OMPB__ER_SUM, NULL, "reduction: sum (0 when empty)"},
    {"prod", 1, OMPB__XF_RED, OMPB__ER_PROD, NULL, "reduction: product (1 when empty)"},
    {"min", 1, OMPB__XF_RED, OMPB__ER_MIN, NULL, "reduction: minimum, NaN if any is NaN"},
    {"max", 1, OMPB__XF_RED, OMPB__ER_MAX, NULL, "reduction: maximum, NaN if any is NaN"},
    {"mean", 1, OMPB__XF_RED, OMPB__X_MEAN, NULL, "reduction: mean (NaN when empty)"},
};
#define N_EXTRAS (sizeof extras / sizeof extras[0])
#define MAX_FUNCS (OMPB__K1_COUNT + OMPB__K2_COUNT + N_EXTRAS)

static struct ompb__xfunc funcs[MAX_FUNCS];
static size_t nfuncs;
static pthread_once_t funcs_once = PTHREAD_ONCE_INIT;

static void add(const char *name, unsigned nargs, enum ompb__xfkind kind, unsigned index,
                const ompb_kernel_info *k, const char *what) {
  struct ompb__xfunc *f = &funcs[nfuncs++];
  f->pub.name = name;
  f->pub.nargs = nargs;
  f->pub.reduction = kind == OMPB__XF_RED;
  f->pub.what = what;
  f->pub.kernel = k;
  f->kind = kind;
  f->index = index;
}

/* Kernels first, in table order; kernels with parameters are no functions
 * (pow's x^p form is reached through `x ** p`); add and mul are the
 * operators' own operations, pow the operator's. */
static void build(void) {
  for (size_t i = 0; i < ompb_kernel_count(); i++) {
    const ompb_kernel_info *k = ompb_kernel_at(i);
    if (k->arity == 1 && k->nparams == 0)
      add(k->name, 1, OMPB__XF_K1, (unsigned)i, k, k->what);
    else if (k->arity == 2 && strcmp(k->name, "pow") != 0) {
      unsigned j = (unsigned)(i - OMPB__K1_COUNT);
      if (strcmp(k->name, "add") == 0)
        add(k->name, 2, OMPB__XF_BIN, OMPB__EB_ADD, k, k->what);
      else if (strcmp(k->name, "mul") == 0)
        add(k->name, 2, OMPB__XF_BIN, OMPB__EB_MUL, k, k->what);
      else
        add(k->name, 2, OMPB__XF_K2, j, k, k->what);
    }
  }
  for (size_t i = 0; i < N_EXTRAS; i++) {
    const struct extra *x = &extras[i];
    add(x->name, x->nargs, x->kind, x->index,
        x->kernel ? ompb_kernel_find(x->kernel, x->nargs) : NULL, x->what);
  }
}

static void ensure(void) { pthread_once(&funcs_once, build); }

const struct ompb__xfunc *ompb__xfunc_find(const char *name, size_t len) {
  ensure();
  for (size_t i = 0; i < nfuncs; i++)
    if (strncmp(funcs[i].pub.name, name, len) == 0 && funcs[i].pub.name[len] == '\0')
      return &funcs[i];
  return NULL;
}

size_t ompb_expr_func_count(void) {
  ensure();
  return nfuncs;
}

const ompb_expr_func *ompb_expr_func_at(size_t i) {
  ensure();
  return i < nfuncs ? &funcs[i].pub : NULL;
}
