/* SPDX-License-Identifier: BSD-3-Clause */
/* ompb_expr: every function and operator against MPFR references (f32 and
 * f64, at the ISA the kernels chose: `make check` runs this suite under
 * every OMPB_SIMD the CPU supports), special values, lengths around the
 * block size, alignment, in place, overlap, many variables, deep
 * expressions, limits, every compile error with its position, folding,
 * CSE, precedence, reductions and their worker-count independence,
 * evaluation as a batch (progress, cancel, deadline, nested, concurrent),
 * and a differential test of random expression trees against a tree-walking
 * long double evaluator (OMPB_TEST_SEED replays a seed).
 *
 * Accuracy: each result is compared with the MPFR value (128 bits) in ULPs
 * of the correctly rounded result; the bound is the function's documented
 * one (its kernel's ompb_kernel_info), 0.5 for the correctly rounded
 * operators, 0 for exact ones. */
#define _POSIX_C_SOURCE 200809L
#include "ompbatch/expr.h"

#include <ctype.h>
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpfr.h>

#include "expr_prog.h"
#include "helpers.h"
#include "kernels.h"

#define REF_PREC 128

/* Valgrind runs everything ~50x slower: fewer random inputs there. */
static bool slow_run(void) {
  const char *p = getenv("LD_PRELOAD");
  return p && strstr(p, "vgpreload") != NULL;
}

/* ---- deterministic random numbers ---- */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1p-53; }
static double rng_range(double lo, double hi) { return lo + (hi - lo) * rng_unit(); }

/* ---- compile and evaluate ---- */
static ompb_pool *pool1, *pool2, *pool16;

static ompb_expr *compile(const char *src, const char *const *vars, size_t nvars) {
  ompb_expr *e = NULL;
  ompb_expr_diag d;
  int rc = ompb_expr_compile(src, vars, nvars, &e, &d);
  if (rc != OMPB_OK) fprintf(stderr, "\n  compile '%.80s': rc %d at %zu: %s\n", src, rc, d.pos, d.message);
  CU_ASSERT_EQUAL(rc, OMPB_OK);
  return e;
}

static const char *const XYZ[] = {"x", "y", "z"};

/* ---- MPFR references and ULP errors ---- */

/* Error of `got` in ULPs of the correctly rounded value of r in the format
 * of `prec` bits (24 or 53); 0 when both are the same NaN/inf/zero,
 * INFINITY for a NaN or infinity where there should be none and for a
 * zero of the wrong sign. */
static double ulp_err(double got, mpfr_t r, int prec) {
  if (mpfr_nan_p(r) || isnan(got)) return mpfr_nan_p(r) && isnan(got) ? 0 : INFINITY;
  double rounded = prec == 24 ? (double)mpfr_get_flt(r, MPFR_RNDN) : mpfr_get_d(r, MPFR_RNDN);
  if (isinf(got) || mpfr_inf_p(r)) return got == rounded ? 0 : INFINITY;
  /* Signs of zero are checked, except under valgrind: its emulation of the
   * FMA instructions gives -0 for some exact zeros (3.19: the avx2 f64
   * sin(+0) is -0 there, +0 on the CPU). */
  if (got == 0 && rounded == 0)
    return signbit(got) == signbit(rounded) || slow_run() ? 0 : INFINITY;
  const int emin = prec == 24 ? FLT_MIN_EXP : DBL_MIN_EXP;
  long e = mpfr_zero_p(r) ? emin : mpfr_get_exp(r);
  if (e < emin) e = emin;
  mpfr_t t;
  mpfr_init2(t, REF_PREC);
  mpfr_sub_d(t, r, got, MPFR_RNDN);
  mpfr_mul_2si(t, t, prec - e, MPFR_RNDN);
  double u = fabs(mpfr_get_d(t, MPFR_RNDN));
  mpfr_clear(t);
  return u;
}

static const char *base_of(const char *name, char *buf, size_t size);

/* The precision the reference is for (24 or 53): nextafter's step and
 * floor division depend on it. */
static int ref_prec = 53;

/* numpy's floor_divide on floats (npy_floor_divide and npy_divmod), in the
 * dtype T: the reference for a // b, written as numpy writes it. */
#define NP_FLOORDIV(T, sfx, FMOD, FLOOR, COPYSIGN)                             \
  static T np_floordiv_##sfx(T a, T b) {                                       \
    if (!b) return a / b;                                                      \
    T mod = FMOD(a, b), div = (a - mod) / b, fl;                               \
    if (mod && isless(b, 0) != isless(mod, 0)) div -= 1;                       \
    if (div) {                                                                 \
      fl = FLOOR(div);                                                         \
      if (isgreater(div - fl, (T)0.5)) fl += 1;                                \
    } else {                                                                   \
      fl = COPYSIGN((T)0, a / b);                                              \
    }                                                                          \
    return fl;                                                                 \
  }
NP_FLOORDIV(float, f32, fmodf, floorf, copysignf)
NP_FLOORDIV(double, f64, fmod, floor, copysign)
/* numpy's sign: +0 for either zero, NaN stays */
static double np_sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x; }

/* What the function or operator `name` computes, at the (exact) inputs. */
static bool mpfr_ref(const char *name, mpfr_t r, double a, double b, double c) {
  mpfr_t x, y;
  mpfr_inits2(REF_PREC, x, y, (mpfr_ptr)0);
  mpfr_set_d(x, a, MPFR_RNDN);
  mpfr_set_d(y, b, MPFR_RNDN);
  char base[32];
  const char *n = base_of(name, base, sizeof base);
  bool ok = true;
#define M1(nm) else if (strcmp(n, #nm) == 0) mpfr_##nm(r, x, MPFR_RNDN);
  if (0) {
  }
  M1(sin) M1(cos) M1(tan) M1(asin) M1(acos) M1(atan) M1(sinh) M1(cosh) M1(tanh) M1(exp)
  M1(exp2) M1(expm1) M1(log) M1(log2) M1(log10) M1(log1p) M1(sqrt) M1(cbrt) M1(erf)
  M1(erfc) M1(abs) M1(asinh) M1(acosh) M1(atanh)
  else if (strcmp(n, "floor") == 0) mpfr_floor(r, x);
  else if (strcmp(n, "ceil") == 0) mpfr_ceil(r, x);
  else if (strcmp(n, "sigmoid") == 0) {
    mpfr_neg(r, x, MPFR_RNDN);
    mpfr_exp(r, r, MPFR_RNDN);
    mpfr_add_ui(r, r, 1, MPFR_RNDN);
    mpfr_ui_div(r, 1, r, MPFR_RNDN);
  }
  else if (strcmp(n, "add") == 0) mpfr_add(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "sub") == 0) mpfr_sub(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "mul") == 0) mpfr_mul(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "div") == 0) mpfr_div(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "neg") == 0) mpfr_neg(r, x, MPFR_RNDN);
  else if (strcmp(n, "pow") == 0) mpfr_pow(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "atan2") == 0) mpfr_atan2(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "hypot") == 0) mpfr_hypot(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "fmod") == 0) mpfr_fmod(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "mod") == 0) { /* numpy's remainder: the divisor's sign */
    mpfr_fmod(r, x, y, MPFR_RNDN);
    if (mpfr_zero_p(r)) mpfr_set_zero(r, signbit(b) ? -1 : 1);
    else if (!mpfr_nan_p(r) && (mpfr_sgn(r) < 0) != (b < 0)) mpfr_add(r, r, y, MPFR_RNDN);
  }
  else if (strcmp(n, "minimum") == 0 || strcmp(n, "maximum") == 0) {
    if (isnan(a) || isnan(b)) mpfr_set_nan(r);
    /* equal: the second (so -0 or +0 for a pair of zeros: the header does
     * not say which; numpy returns the first) */
    else mpfr_set_d(r, a != b && (n[1] == 'i') == (a < b) ? a : b, MPFR_RNDN);
  }
  else if (strcmp(n, "where") == 0) mpfr_set_d(r, a != 0 ? b : c, MPFR_RNDN);
  else if (strcmp(n, "trunc") == 0) mpfr_trunc(r, x);
  else if (strcmp(n, "round") == 0) mpfr_rint(r, x, MPFR_RNDN); /* halves to even */
  else if (strcmp(n, "sign") == 0) mpfr_set_d(r, np_sign(a), MPFR_RNDN);
  else if (strcmp(n, "isnan") == 0) mpfr_set_d(r, isnan(a) ? 1 : 0, MPFR_RNDN);
  else if (strcmp(n, "isinf") == 0) mpfr_set_d(r, isinf(a) ? 1 : 0, MPFR_RNDN);
  else if (strcmp(n, "isfinite") == 0) mpfr_set_d(r, isfinite(a) ? 1 : 0, MPFR_RNDN);
  else if (strcmp(n, "signbit") == 0) mpfr_set_d(r, signbit(a) ? 1 : 0, MPFR_RNDN);
  else if (strcmp(n, "copysign") == 0) mpfr_copysign(r, x, y, MPFR_RNDN);
  else if (strcmp(n, "nextafter") == 0)
    mpfr_set_d(r, ref_prec == 24 ? (double)nextafterf((float)a, (float)b) : nextafter(a, b), MPFR_RNDN);
  else if (strcmp(n, "floordiv") == 0)
    mpfr_set_d(r, ref_prec == 24 ? (double)np_floordiv_f32((float)a, (float)b) : np_floordiv_f64(a, b),
               MPFR_RNDN);
  else if (strcmp(n, "copy") == 0) mpfr_set(r, x, MPFR_RNDN);
  else if (strcmp(n, "ones_like") == 0) mpfr_set_ui(r, 1, MPFR_RNDN);
  else ok = false;
#undef M1
  mpfr_clears(x, y, (mpfr_ptr)0);
  return ok;
}

/* The bound a test holds a documented bound to (the C library's looser
 * bounds apply to a build without SLEEF, as in the simd suite). */
static double bound_for(double documented) {
#if defined(OMPB_WITH_SLEEF) && OMPB_WITH_SLEEF
  return documented + 1e-6;
#else
  return documented < 0.5 ? documented + 1e-6 : documented + 4.0;
#endif
}

/* Where each function is tested: random inputs of x (and y for two
 * arguments) and the |x| up to which the documented bound is claimed
 * (from the kernels' domains in include/ompbatch/simd.h). */
typedef enum { UNI, LOGPOS, LOGSYM } dist;
typedef struct {
  const char *base;
  dist d;
  double lo32, hi32, lo64, hi64;
  double dom32, dom64, dom32_fast, dom64_fast;
} fdom;
static const fdom doms[] = {
    {"sin", LOGSYM, 1e-6, 1e6, 1e-6, 1e12, INFINITY, INFINITY, 1e28, 1e15},
    {"cos", LOGSYM, 1e-6, 1e6, 1e-6, 1e12, INFINITY, INFINITY, 1e28, 1e15},
    {"tan", LOGSYM, 1e-6, 1e6, 1e-6, 1e12, INFINITY, INFINITY, 1e28, 1e15},
    {"asin", UNI, -1, 1, -1, 1, INFINITY, INFINITY, INFINITY, INFINITY},
    {"acos", UNI, -1, 1, -1, 1, INFINITY, INFINITY, INFINITY, INFINITY},
    {"atan", LOGSYM, 1e-30, 1e30, 1e-200, 1e200, INFINITY, INFINITY, INFINITY, INFINITY},
    {"sinh", UNI, -88, 88, -709, 709, 88.5, 709, 88, 709},
    {"cosh", UNI, -88, 88, -709, 709, 88.5, 709, 88, 709},
    {"tanh", UNI, -20, 20, -40, 40, INFINITY, INFINITY, INFINITY, INFINITY},
    {"exp", UNI, -104, 88.7, -745, 709.7, INFINITY, INFINITY, INFINITY, INFINITY},
    {"exp2", UNI, -150, 128, -1075, 1024, INFINITY, INFINITY, INFINITY, INFINITY},
    {"expm1", UNI, -20, 88.7, -40, 709.7, INFINITY, INFINITY, INFINITY, INFINITY},
    {"log", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY, INFINITY},
    {"log2", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY, INFINITY},
    {"log10", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY, INFINITY},
    {"log1p", UNI, -0.999, 10, -0.999, 10, 1e38, 1e307, 1e38, 1e307},
    {"sqrt", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY, INFINITY},
    {"cbrt", LOGSYM, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY, INFINITY},
    {"erf", UNI, -6, 6, -6, 6, INFINITY, INFINITY, INFINITY, INFINITY},
    {"erfc", UNI, -4, 10.1, -6, 26.5, INFINITY, 26.5, INFINITY, 26.5},
    {"sigmoid", UNI, -100, 100, -700, 700, INFINITY, INFINITY, INFINITY, INFINITY},
    {"abs", LOGSYM, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY, INFINITY},
    {"asinh", LOGSYM, 1e-6, 1e30, 1e-6, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"acosh", LOGPOS, 1, 1e30, 1, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"atanh", UNI, -0.999, 0.999, -0.999, 0.999, INFINITY, INFINITY, INFINITY, INFINITY},
    {"floor", LOGSYM, 1e-3, 1e10, 1e-3, 1e20, INFINITY, INFINITY, INFINITY, INFINITY},
    {"ceil", LOGSYM, 1e-3, 1e10, 1e-3, 1e20, INFINITY, INFINITY, INFINITY, INFINITY},
    /* two-input: x's range; y's below */
    {"pow", LOGPOS, 1e-3, 1e3, 1e-3, 1e3, INFINITY, INFINITY, INFINITY, INFINITY},
    {"atan2", LOGSYM, 1e-6, 1e6, 1e-6, 1e6, INFINITY, INFINITY, INFINITY, INFINITY},
    {"hypot", LOGSYM, 1e-30, 1e30, 1e-30, 1e30, INFINITY, INFINITY, INFINITY, INFINITY},
    {"fmod", LOGSYM, 1e-30, 1e30, 1e-30, 1e30, INFINITY, INFINITY, INFINITY, INFINITY},
    {"add", LOGSYM, 1e-6, 1e6, 1e-6, 1e6, INFINITY, INFINITY, INFINITY, INFINITY},
    {"mul", LOGSYM, 1e-30, 1e30, 1e-30, 1e30, INFINITY, INFINITY, INFINITY, INFINITY},
    {"minimum", LOGSYM, 1e-6, 1e6, 1e-6, 1e6, INFINITY, INFINITY, INFINITY, INFINITY},
    {"maximum", LOGSYM, 1e-6, 1e6, 1e-6, 1e6, INFINITY, INFINITY, INFINITY, INFINITY},
    {"trunc", LOGSYM, 1e-3, 1e10, 1e-3, 1e20, INFINITY, INFINITY, INFINITY, INFINITY},
    {"round", LOGSYM, 1e-3, 1e10, 1e-3, 1e20, INFINITY, INFINITY, INFINITY, INFINITY},
    {"sign", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"isnan", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"isinf", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"isfinite", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"signbit", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"copysign", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"nextafter", LOGSYM, 1e-44, 3e38, 1e-322, 1e308, INFINITY, INFINITY, INFINITY, INFINITY},
    {"copy", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
    {"ones_like", LOGSYM, 1e-40, 1e30, 1e-310, 1e300, INFINITY, INFINITY, INFINITY, INFINITY},
};

static const char *base_of(const char *name, char *buf, size_t size) {
  snprintf(buf, size, "%s", name);
  char *f = strstr(buf, "_fast");
  if (f) *f = '\0';
  if (strncmp(buf, "arc", 3) == 0) memmove(buf + 1, buf + 3, strlen(buf + 3) + 1);
  return buf;
}

static const fdom *dom_for(const char *name) {
  char b[32];
  base_of(name, b, sizeof b);
  for (size_t i = 0; i < sizeof doms / sizeof doms[0]; i++)
    if (strcmp(doms[i].base, b) == 0) return &doms[i];
  return NULL;
}

static double draw(dist d, double lo, double hi) {
  switch (d) {
  case UNI: return rng_range(lo, hi);
  case LOGPOS: return exp(rng_range(log(lo), log(hi)));
  default: {
    double m = exp(rng_range(log(lo), log(hi)));
    return (rng_next() & 1) ? -m : m;
  }
  }
}

static const double specials[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 0x1p-149, -0x1p-149,
    0x1p-130, -0x1p-130, 0x1p-1074, -0x1p-1074, 0x1p-1030, 3.4e38, -3.4e38, 1.7e308, -1.7e308,
    1e30, -1e30, 1e-10, 100.0, -100.0, 0.999, -0.999, 88.0, -88.0, 700.0, -700.0, 3.0, 0.25};
#define N_SPECIAL (sizeof specials / sizeof specials[0])

/* Evaluate `src` over x, y, z (n each) on `pool` in both dtypes and measure
 * every element against the MPFR value of `name` at (x, y, z) (the f32
 * inputs are the doubles rounded to float first), where |x| <= dom32/64
 * (NaN always). Returns the worst errors; *bad names a worst input. */
static void measure(const char *src, const char *name, const double *x, const double *y,
                    const double *z, size_t n, double dom32, double dom64, double worst[2],
                    double bad_x[2], double bad_y[2]) {
  float *x32 = malloc(n * sizeof *x32), *y32 = malloc(n * sizeof *y32),
        *z32 = malloc(n * sizeof *z32), *o32 = malloc(n * sizeof *o32);
  double *o64 = malloc(n * sizeof *o64);
  CU_ASSERT_FATAL(x32 && y32 && z32 && o32 && o64);
  for (size_t i = 0; i < n; i++) x32[i] = (float)x[i], y32[i] = (float)y[i], z32[i] = (float)z[i];
  ompb_expr *e = compile(src, XYZ, 3);
  worst[0] = worst[1] = 0;
  if (e) {
    const float *in32[] = {x32, y32, z32};
    const double *in64[] = {x, y, z};
    CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, e, in32, n, o32, NULL), OMPB_OK);
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in64, n, o64, NULL), OMPB_OK);
    mpfr_t r;
    mpfr_init2(r, REF_PREC);
    for (size_t i = 0; i < n; i++) {
      for (int p = 0; p < 2; p++) {
        double xi = p ? x[i] : x32[i], dom = p ? dom64 : dom32;
        if (!(fabs(xi) <= dom) && !isnan(xi)) continue;
        ref_prec = p ? 53 : 24;
        CU_ASSERT_FATAL(mpfr_ref(name, r, xi, p ? y[i] : y32[i], p ? z[i] : z32[i]));
        double err = ulp_err(p ? o64[i] : o32[i], r, p ? 53 : 24);
        if (!(err <= worst[p])) {
          worst[p] = err;
          bad_x[p] = xi;
          bad_y[p] = p ? y[i] : y32[i];
        }
      }
    }
    mpfr_clear(r);
    ompb_expr_free(e);
  }
  free(x32), free(y32), free(z32), free(o32), free(o64);
}

static bool ulp_verbose(void) {
  const char *v = getenv("OMPB_TEST_ULP");
  return v && *v && *v != '0';
}

static void check_bound(const char *src, const double worst[2], double b32, double b64,
                        const double bx[2], const double by[2]) {
  if (ulp_verbose()) printf("\n  %-22s %s f32 %.3f f64 %.3f ULP", src, ompb_simd_isa(), worst[0], worst[1]);
  for (int p = 0; p < 2; p++) {
    double b = p ? b64 : b32;
    bool ok = worst[p] <= b;
    if (!ok)
      fprintf(stderr, "\n  FAIL %s %s %s: %.3g ULP > %.3g at x=%.17g y=%.17g\n", src,
              p ? "f64" : "f32", ompb_simd_isa(), worst[p], b, bx[p], by[p]);
    CU_ASSERT(ok);
  }
}

/* Every function in ompb_expr_func_at: random inputs over its domain and
 * the special values, within its documented bound in f32 and f64. */
static void functions_within_documented_ulp(void) {
  const size_t nrand = slow_run() ? 48 : 320;
  const size_t n = nrand + N_SPECIAL * N_SPECIAL / 5;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
  CU_ASSERT_FATAL(x && y && z);
  size_t tested = 0;
  for (size_t fi = 0; fi < ompb_expr_func_count(); fi++) {
    const ompb_expr_func *f = ompb_expr_func_at(fi);
    if (f->reduction) continue;
    const fdom *d = dom_for(f->name);
    bool where = strcmp(f->name, "where") == 0;
    if (!d && !where) {
      fprintf(stderr, "\n  no test domain for function '%s'\n", f->name);
      CU_FAIL("a function has no test domain");
      continue;
    }
    rng_state = 0x9e3779b97f4a7c15u + fi;
    bool fast = strstr(f->name, "_fast") != NULL;
    for (size_t i = 0; i < n; i++) {
      if (i < nrand) {
        x[i] = where ? (double)(rng_next() % 3) - 1 : draw(d->d, d->lo32, d->hi32);
        if (i % 2 && !where) x[i] = draw(d->d, d->lo64, d->hi64);
        y[i] = strcmp(d ? d->base : "", "pow") == 0 ? rng_range(-12, 12)
               : d ? draw(d->d, d->lo32, d->hi32) : rng_range(-5, 5);
        z[i] = rng_range(-5, 5);
      } else {
        size_t k = i - nrand;
        x[i] = specials[k % N_SPECIAL];
        y[i] = specials[(k * 5 / N_SPECIAL + k) % N_SPECIAL];
        z[i] = specials[(k * 7) % N_SPECIAL];
      }
    }
    char src[64];
    if (f->nargs == 1) snprintf(src, sizeof src, "%s(x)", f->name);
    else if (f->nargs == 2) snprintf(src, sizeof src, "%s(x, y)", f->name);
    else snprintf(src, sizeof src, "%s(x, y, z)", f->name);
    double b32 = 0, b64 = 0;
    if (f->kernel) b32 = bound_for(f->kernel->ulp_f32), b64 = bound_for(f->kernel->ulp_f64);
    else if (strstr(f->name, "sinh") || strstr(f->name, "cosh") || strstr(f->name, "tanh"))
      b32 = b64 = bound_for(1.0); /* the inverse hyperbolics: "SLEEF, 1 ULP" */
    double dom32 = d ? (fast ? d->dom32_fast : d->dom32) : INFINITY;
    double dom64 = d ? (fast ? d->dom64_fast : d->dom64) : INFINITY;
    double worst[2], bx[2] = {0, 0}, by[2] = {0, 0};
    measure(src, f->name, x, y, z, n, dom32, dom64, worst, bx, by);
    check_bound(src, worst, b32, b64, bx, by);
    tested++;
  }
  CU_ASSERT(tested >= 50);
  free(x), free(y), free(z);
}

/* The operators: + - * / and unary - correctly rounded (0.5 ULP), ** with
 * a variable exponent the pow kernel's bound, comparisons and where exact. */
static void operators_correctly_rounded(void) {
  static const struct { const char *src, *name; double ulp; } ops[] = {
      {"x + y", "add", 0.5}, {"x - y", "sub", 0.5}, {"x * y", "mul", 0.5},
      {"x / y", "div", 0.5}, {"-x", "neg", 0},
      {"x ** y", "pow", 1.0}, {"sqrt(x)", "sqrt", 0.5}, {"x ** 0.5", "sqrt", 0.5},
      {"x % y", "mod", 0.5}, {"x // y", "floordiv", 0},
  };
  const size_t nrand = slow_run() ? 64 : 1000;
  const size_t n = nrand + N_SPECIAL * N_SPECIAL;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = calloc(n, sizeof *z);
  CU_ASSERT_FATAL(x && y && z);
  rng_state = 12345;
  for (size_t i = 0; i < n; i++) {
    if (i < nrand) {
      x[i] = draw(LOGSYM, 1e-30, 1e30);
      y[i] = draw(LOGSYM, 1e-30, 1e30);
      if (i % 3 == 0) y[i] = x[i] * (1 + rng_range(-1e-6, 1e-6)); /* cancellation */
      if (i % 5 == 0) x[i] = fabs(x[i]), y[i] = rng_range(-40, 40);
    } else {
      x[i] = specials[(i - nrand) / N_SPECIAL];
      y[i] = specials[(i - nrand) % N_SPECIAL];
    }
  }
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    double worst[2], bx[2] = {0, 0}, by[2] = {0, 0};
    const char *ref = ops[k].name;
    measure(ops[k].src, ref, x, y, z, n, INFINITY, INFINITY, worst, bx, by);
    double b = ops[k].ulp == 1.0 ? bound_for(1.0) : ops[k].ulp;
    check_bound(ops[k].src, worst, b, b, bx, by);
  }
  /* comparisons, unary plus and where: exact, 1 or 0, NaN compares false
   * (!= true), where's NaN condition is non-zero */
  static const char *cmp[] = {"x < y", "x <= y", "x > y", "x >= y", "x == y", "x != y",
                              "+x", "where(x, y, x)", "where(x - x, x, y)"};
  double *o = malloc(n * sizeof *o);
  CU_ASSERT_FATAL(o != NULL);
  for (size_t k = 0; k < sizeof cmp / sizeof cmp[0]; k++) {
    ompb_expr *e = compile(cmp[k], XYZ, 3);
    if (!e) continue;
    const double *in[] = {x, y, z};
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, n, o, NULL), OMPB_OK);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
      double a = x[i], b = y[i], want;
      switch (k) {
      case 0: want = a < b; break;
      case 1: want = a <= b; break;
      case 2: want = a > b; break;
      case 3: want = a >= b; break;
      case 4: want = a == b; break;
      case 5: want = a != b; break;
      case 6: want = a; break;
      case 7: want = a != 0 ? b : a; break; /* NaN is non-zero */
      default: want = a - a != 0 ? a : b; break;
      }
      if (memcmp(&want, &o[i], sizeof want) != 0 && !(isnan(want) && isnan(o[i]))) bad++;
    }
    if (bad) fprintf(stderr, "\n  %s: %zu wrong\n", cmp[k], bad);
    CU_ASSERT_EQUAL(bad, 0u);
    ompb_expr_free(e);
  }
  free(x), free(y), free(z), free(o);
}

/* a*b + c (and a*b - c, c - a*b, -(a*b), -a*b) may be one fused operation
 * or two roundings, never anything else. */
static void fused_multiply_add_is_one_or_two_roundings(void) {
  static const char *srcs[] = {"x*y + z", "z + x*y", "x*y - z", "z - x*y", "-(x*y)", "-x*y",
                               "x*y*z + z"};
  enum { N = 3000 };
  static double x[N], y[N], z[N], o[N];
  static float xf[N], yf[N], zf[N], of[N];
  rng_state = 777;
  for (size_t i = 0; i < N; i++) {
    x[i] = rng_range(-4, 4), y[i] = rng_range(-4, 4);
    z[i] = i % 2 ? -x[i] * y[i] * (1 + rng_range(-1e-7, 1e-7)) : rng_range(-4, 4);
    xf[i] = (float)x[i], yf[i] = (float)y[i], zf[i] = (float)z[i];
  }
  const double *in[] = {x, y, z};
  const float *inf[] = {xf, yf, zf};
  for (size_t k = 0; k < sizeof srcs / sizeof srcs[0]; k++) {
    ompb_expr *e = compile(srcs[k], XYZ, 3);
    if (!e) continue;
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, N, o, NULL), OMPB_OK);
    CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, e, inf, N, of, NULL), OMPB_OK);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
      double a = x[i], b = y[i], c = z[i];
      float af = xf[i], bf = yf[i], cf = zf[i];
      volatile double p = a * b;
      volatile float pf = af * bf;
      double one, two;
      float onef, twof;
      switch (k) {
      case 0: case 1: one = fma(a, b, c), two = p + c, onef = fmaf(af, bf, cf), twof = pf + cf; break;
      case 2: one = fma(a, b, -c), two = p - c, onef = fmaf(af, bf, -cf), twof = pf - cf; break;
      case 3: one = fma(-a, b, c), two = c - p, onef = fmaf(-af, bf, cf), twof = cf - pf; break;
      case 4: case 5: one = two = -p, onef = twof = -pf; break;
      default: {
        volatile double p3 = p * c;
        volatile float p3f = pf * cf;
        one = fma(p, c, c), two = p3 + c, onef = fmaf(pf, cf, cf), twof = p3f + cf;
        break;
      }
      }
      if (o[i] != one && o[i] != two) bad++;
      if (of[i] != onef && of[i] != twof) bad++;
    }
    if (bad) fprintf(stderr, "\n  %s: %zu neither fused nor two roundings\n", srcs[k], bad);
    CU_ASSERT_EQUAL(bad, 0u);
    ompb_expr_free(e);
  }
}

/* Small integer powers are multiplications within 2 ULP; other powers are
 * the pow kernel (its bound), x**0.5 is sqrt (correctly rounded), x**0 is
 * 1 and x**1 is x even for NaN and inf (numpy's float_power agrees; IEEE
 * pow(NaN, 0) is 1). */
static void powers(void) {
  static const struct { const char *src; double p; double ulp; } pw[] = {
      {"x**2", 2, 2}, {"x**3", 3, 2}, {"x**-1", -1, 2}, {"x**-2", -2, 2},
      {"x**0.5", 0.5, 0.5}, {"x**2.5", 2.5, 1}, {"x**-0.5", -0.5, 1}, {"x**1.5", 1.5, 1},
      {"x**4", 4, 1}, {"x**-3", -3, 1}, {"x**0.25", 0.25, 1}, {"x**7", 7, 1},
      {"x**(1/3)", 1.0 / 3.0, 1}, {"pow(x, 2.5)", 2.5, 1}, {"x**1e-3", 1e-3, 1},
  };
  const size_t nrand = slow_run() ? 64 : 1000;
  const size_t n = nrand + N_SPECIAL;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = calloc(n, sizeof *z);
  CU_ASSERT_FATAL(x && y && z);
  for (size_t k = 0; k < sizeof pw / sizeof pw[0]; k++) {
    rng_state = 99 + k;
    for (size_t i = 0; i < n; i++) {
      x[i] = i < nrand ? draw(LOGSYM, 1e-5, 1e5) : specials[i - nrand];
      y[i] = pw[k].p;
    }
    /* the reference: pow at the exponent (in f32 rounded to float, as the
     * literal is), or
     * sqrt for x**0.5 (numpy's x**0.5 is sqrt(x): sqrt(-0) is -0 and
     * sqrt(-inf) NaN, where IEEE pow gives +0 and +inf) */
    double worst[2], bx[2] = {0, 0}, by[2] = {0, 0};
    measure(pw[k].src, pw[k].p == 0.5 ? "sqrt" : "pow", x, y, z, n, INFINITY, INFINITY, worst, bx, by);
    double b = pw[k].ulp == 1 ? bound_for(1.0) : pw[k].ulp + 1e-6;
    check_bound(pw[k].src, worst, b, b, bx, by);
  }
  /* x**0 and x**1 */
  double o[N_SPECIAL];
  const double *in[] = {specials, specials, specials};
  ompb_expr *e0 = compile("x**0", XYZ, 3), *e1 = compile("x**1", XYZ, 3);
  if (e0 && e1) {
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e0, in, N_SPECIAL, o, NULL), OMPB_OK);
    for (size_t i = 0; i < N_SPECIAL; i++) CU_ASSERT_EQUAL(o[i], 1.0);
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e1, in, N_SPECIAL, o, NULL), OMPB_OK);
    CU_ASSERT_EQUAL(memcmp(o, specials, sizeof o), 0);
  }
  ompb_expr_free(e0);
  ompb_expr_free(e1);
  free(x), free(y), free(z);
}

/* Lengths 0..70 and around the block size (1024), unaligned pointers, in
 * place: every element is what the same expression gives at the same
 * element in any other call (bit for bit: the kernels compute an element
 * the same wherever it lies), and close to the long double value; nothing
 * past out[n) is written. */
static void lengths_blocks_alignment_in_place(void) {
  static const char *src = "2*sin(x) + exp(-x*y) - where(x > y, x, y**2) / (1 + z*z)";
  enum { MAXN = 4100, GUARD = 8 };
  size_t lens[100], nl = 0;
  for (size_t k = 0; k <= 70; k += slow_run() ? 7 : 1) lens[nl++] = k;
  static const size_t more[] = {127, 128, 129, 1023, 1024, 1025, 2047, 2048, 2049, 3071, 3073, 4096};
  for (size_t k = 0; k < sizeof more / sizeof more[0]; k++) lens[nl++] = more[k];
  double *x = malloc((MAXN + GUARD) * 3 * sizeof *x), *full = malloc(MAXN * sizeof *full);
  double *buf = malloc((MAXN + 2 * GUARD) * sizeof *buf), *xin = malloc((MAXN + GUARD) * sizeof *xin);
  float *xf = malloc((MAXN + GUARD) * 3 * sizeof *xf), *fullf = malloc(MAXN * sizeof *fullf);
  float *buff = malloc((MAXN + 2 * GUARD) * sizeof *buff), *xinf = malloc((MAXN + GUARD) * sizeof *xinf);
  CU_ASSERT_FATAL(x && full && buf && xin && xf && fullf && buff && xinf);
  double *y = x + MAXN + GUARD, *z = y + MAXN + GUARD;
  float *yf = xf + MAXN + GUARD, *zf = yf + MAXN + GUARD;
  rng_state = 4242;
  for (size_t i = 0; i < MAXN + GUARD; i++) {
    x[i] = rng_range(-3, 3), y[i] = rng_range(-3, 3), z[i] = rng_range(-3, 3);
    xf[i] = (float)x[i], yf[i] = (float)y[i], zf[i] = (float)z[i];
  }
  ompb_expr *e = compile(src, XYZ, 3);
  CU_ASSERT_FATAL(e != NULL);
  /* the whole array once, checked against long double */
  const double *in[] = {x, y, z};
  const float *inf[] = {xf, yf, zf};
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_f64(pool2, e, in, MAXN, full, NULL), OMPB_OK);
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_f32(pool2, e, inf, MAXN, fullf, NULL), OMPB_OK);
  size_t far = 0;
  for (size_t i = 0; i < MAXN; i++) {
    long double a = x[i], b = y[i], c = z[i];
    long double r = 2 * sinl(a) + expl(-a * b) - (a > b ? a : b * b) / (1 + c * c);
    long double af = xf[i], bf = yf[i], cf = zf[i];
    long double rf = 2 * sinl(af) + expl(-af * bf) - (af > bf ? af : bf * bf) / (1 + cf * cf);
    /* absolute error against the terms' size: a few ULP of each term */
    long double scale = 2 + expl(-a * b) + 9;
    if (fabsl(full[i] - r) > 16 * DBL_EPSILON * scale) far++;
    if (fabsl(fullf[i] - rf) > 16 * FLT_EPSILON * (2 + expl(-af * bf) + 9)) far++;
  }
  CU_ASSERT_EQUAL(far, 0u);
  size_t bad = 0;
  for (size_t li = 0; li < nl; li++) {
    size_t n = lens[li];
    for (size_t off = 0; off < 3; off++) {
      /* shifted inputs (x at element off of its array) and output */
      for (size_t i = 0; i < n + 2 * GUARD; i++) buf[i] = -777.0, buff[i] = -777.0f;
      const double *sin_[] = {x + off, y + off, z + off};
      const float *sinf_[] = {xf + off, yf + off, zf + off};
      /* pools of 1, 2 and 16 workers (16 only where there are blocks to share) */
      ompb_pool *pa = n > 1024 && li % 2 ? pool16 : pool1, *pb = n > 1024 && li % 2 == 0 ? pool16 : pool2;
      if (ompb_expr_eval_f64(pa, e, sin_, n, buf + GUARD + off, NULL) != OMPB_OK ||
          ompb_expr_eval_f32(pb, e, sinf_, n, buff + GUARD + off, NULL) != OMPB_OK) {
        bad++;
        continue;
      }
      for (size_t i = 0; i < n + 2 * GUARD; i++) {
        bool inside = i >= GUARD + off && i < GUARD + off + n;
        if (inside) {
          if (memcmp(&buf[i], &full[i - GUARD], sizeof(double)) != 0) bad++;
          if (memcmp(&buff[i], &fullf[i - GUARD], sizeof(float)) != 0) bad++;
        } else if (buf[i] != -777.0 || buff[i] != -777.0f) {
          bad++;
        }
      }
      /* in place: out is x */
      memcpy(xin, x + off, n * sizeof *xin);
      memcpy(xinf, xf + off, n * sizeof *xinf);
      xin[n] = -777.0, xinf[n] = -777.0f;
      const double *ip[] = {xin, y + off, z + off};
      const float *ipf[] = {xinf, yf + off, zf + off};
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, ip, n, xin, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, e, ipf, n, xinf, NULL), OMPB_OK);
      if (memcmp(xin, full + off, n * sizeof *xin) != 0 || xin[n] != -777.0) bad++;
      if (memcmp(xinf, fullf + off, n * sizeof *xinf) != 0 || xinf[n] != -777.0f) bad++;
    }
  }
  /* the shifted runs compare against `full` at the same element: that
   * needs full at element i of x + off to be full[i + off]: it is, since
   * inputs were shifted by off and out by off too */
  CU_ASSERT_EQUAL(bad, 0u);
  ompb_expr_free(e);
  free(x), free(full), free(buf), free(xin), free(xf), free(fullf), free(buff), free(xinf);
}

/* out overlapping an input other than exactly: OMPB_EINVAL, nothing
 * written; inputs may overlap each other; unused inputs may be NULL. */
static void overlap_and_argument_errors(void) {
  double a[64], b[64], o[64];
  for (int i = 0; i < 64; i++) a[i] = i, b[i] = 2 * i, o[i] = -1;
  ompb_expr *e = compile("x + y", XYZ, 3);
  CU_ASSERT_FATAL(e != NULL);
  const double *in[] = {a, b, NULL};
  double snap[64];
  memcpy(snap, a, sizeof a);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, 32, a + 1, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, 32, a + 31, NULL), OMPB_EINVAL);
  const double *in2[] = {a + 1, b, NULL};
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in2, 32, a, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(memcmp(snap, a, sizeof a), 0);
  /* just past the end: no overlap */
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, 32, a + 32, NULL), OMPB_OK);
  for (int i = 0; i < 32; i++) CU_ASSERT_EQUAL(a[32 + i], 3.0 * i);
  memcpy(a, snap, sizeof a);
  /* inputs overlapping each other, z unused and NULL */
  const double *in3[] = {a, a + 1, NULL};
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in3, 32, o, NULL), OMPB_OK);
  for (int i = 0; i < 32; i++) CU_ASSERT_EQUAL(o[i], 2.0 * i + 1);
  CU_ASSERT_EQUAL(o[32], -1);
  /* argument errors write nothing */
  for (int i = 0; i < 64; i++) o[i] = -1;
  const double *nul[] = {a, NULL, NULL};
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, nul, 4, o, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, NULL, 4, o, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(NULL, e, in, 4, o, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, NULL, in, 4, o, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, 4, NULL, NULL), OMPB_EINVAL);
  ompb_map_opts bad_time = {.batch = {.batch_timeout_ms = -1}};
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, 4, o, &bad_time), OMPB_EINVAL);
  for (int i = 0; i < 64; i++) CU_ASSERT_EQUAL(o[i], -1);
  ompb_batch *bt = (ompb_batch *)&bt;
  CU_ASSERT_EQUAL(ompb_expr_eval_start_f64(pool2, e, in, 32, a + 1, NULL, &bt), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(bt);
  CU_ASSERT_EQUAL(ompb_expr_eval_start_f64(pool2, e, in, 32, o, NULL, NULL), OMPB_EINVAL);
  /* n == 0: inputs may be NULL, nothing is written */
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, NULL, 0, o, NULL), OMPB_OK);
  CU_ASSERT_EQUAL(o[0], -1);
  ompb_expr_free(e);
  /* no variables: inputs may be NULL */
  ompb_expr *c = compile("1 + 2", NULL, 0);
  CU_ASSERT_FATAL(c != NULL);
  CU_ASSERT_EQUAL(ompb_expr_nvars(c), 0u);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, c, NULL, 5, o, NULL), OMPB_OK);
  for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(o[i], 3.0);
  CU_ASSERT_EQUAL(o[5], -1);
  ompb_expr_free(c);
  ompb_expr_free(NULL);
  CU_ASSERT_FALSE(ompb_expr_is_reduction(NULL));
  CU_ASSERT_EQUAL(ompb_expr_nvars(NULL), 0u);
  CU_ASSERT_FALSE(ompb_expr_uses(NULL, 0));
}

/* ---- compile errors ---- */
static void expect_error(const char *src, const char *const *vars, size_t nvars, int rc,
                         size_t pos, const char *needle) {
  ompb_expr *e = (ompb_expr *)&e; /* not NULL before the call */
  ompb_expr_diag d = {.pos = 12345};
  int got = ompb_expr_compile(src, vars, nvars, &e, &d);
  bool ok = got == rc && d.pos == pos && e == NULL && d.message[0] != '\0' &&
            (!needle || strstr(d.message, needle)) && strchr(d.message, '\n') == NULL;
  if (!ok)
    fprintf(stderr, "\n  '%.60s': rc %d (want %d) pos %zu (want %zu) out %p: %s\n", src, got,
            rc, d.pos, pos, (void *)e, d.message);
  CU_ASSERT(ok);
  if (got == OMPB_OK) ompb_expr_free(e);
  /* diag may be NULL */
  e = (ompb_expr *)&e;
  CU_ASSERT_EQUAL(ompb_expr_compile(src, vars, nvars, &e, NULL), rc);
  CU_ASSERT_PTR_NULL(e);
}

static void compile_errors_with_positions(void) {
  const char *const *v = XYZ;
  expect_error("", v, 3, OMPB_EINVAL, 0, "empty");
  expect_error("   \t ", v, 3, OMPB_EINVAL, 5, "empty");
  expect_error("x +", v, 3, OMPB_EINVAL, 3, NULL);
  expect_error("x + * y", v, 3, OMPB_EINVAL, 4, "*");
  expect_error("(x + y", v, 3, OMPB_EINVAL, 6, ")");
  expect_error("x + y)", v, 3, OMPB_EINVAL, 5, ")");
  expect_error("x y", v, 3, OMPB_EINVAL, 2, "y");
  expect_error("x $ y", v, 3, OMPB_EINVAL, 2, "$");
  expect_error("x = y", v, 3, OMPB_EINVAL, 2, "=");
  expect_error("1e+ + x", v, 3, OMPB_EINVAL, 1, "exponent");
  expect_error("1.2.3", v, 3, OMPB_EINVAL, 3, NULL);
  expect_error("2x", v, 3, OMPB_EINVAL, 1, NULL);
  expect_error("x + w", v, 3, OMPB_EINVAL, 4, "'w'");
  expect_error("X", v, 3, OMPB_EINVAL, 0, "'X'"); /* case-sensitive */
  expect_error("1 + sin", v, 3, OMPB_EINVAL, 4, "function");
  expect_error("1 + sine(x)", v, 3, OMPB_EINVAL, 4, "'sine'");
  expect_error("x + sin(x, y)", v, 3, OMPB_EINVAL, 4, "sin");
  expect_error("atan2(x)", v, 3, OMPB_EINVAL, 0, "atan2");
  expect_error("where(x, y)", v, 3, OMPB_EINVAL, 0, "where");
  expect_error("x * hypot()", v, 3, OMPB_EINVAL, 4, "hypot");
  expect_error("sin(x,)", v, 3, OMPB_EINVAL, 6, NULL);
  expect_error("sin(x y)", v, 3, OMPB_EINVAL, 6, NULL);
  expect_error("min(x, y)", v, 3, OMPB_EINVAL, 0, "minimum");
  expect_error("1 + sum(x)", v, 3, OMPB_EINVAL, 4, "outermost");
  expect_error("sum(sum(x))", v, 3, OMPB_EINVAL, 4, "outermost"); /* the inner one */
  expect_error("sin(mean(x))", v, 3, OMPB_EINVAL, 4, "outermost");
  expect_error("x < y < z", v, 3, OMPB_EINVAL, 6, "chain");
  expect_error("x == y != z", v, 3, OMPB_EINVAL, 7, "chain");
  expect_error("x ** ", v, 3, OMPB_EINVAL, 5, NULL);
  expect_error("x // ", v, 3, OMPB_EINVAL, 5, NULL);
  expect_error("x /// y", v, 3, OMPB_EINVAL, 4, "'/'");
  expect_error("round(x, y)", v, 3, OMPB_EINVAL, 0, "'round' takes 1 argument, not 2");
  expect_error("x + copysign(x)", v, 3, OMPB_EINVAL, 4, "'copysign' takes 2 arguments, not 1");
  expect_error("nextafter(x, y, z)", v, 3, OMPB_EINVAL, 0, "nextafter");
  expect_error("1 - isnan()", v, 3, OMPB_EINVAL, 4, "isnan");
  expect_error("ones_like", v, 3, OMPB_EINVAL, 0, "function");
  expect_error("True(x)", v, 3, OMPB_EINVAL, 0, "'True'");
  expect_error("x\x01", v, 3, OMPB_EINVAL, 1, "0x01");
  /* bad and duplicate variable names: pos 0, the message names the var */
  const char *bad1[] = {"x", "1y"}, *bad2[] = {"x", ""}, *bad3[] = {"a-b"}, *bad4[] = {"x", NULL};
  const char *dup[] = {"x", "y", "x"};
  expect_error("x", bad1, 2, OMPB_EINVAL, 0, "1y");
  expect_error("x", bad2, 2, OMPB_EINVAL, 0, "variable 1");
  expect_error("1", bad3, 1, OMPB_EINVAL, 0, "a-b");
  expect_error("x", bad4, 2, OMPB_EINVAL, 0, "variable 1");
  expect_error("x", dup, 3, OMPB_EINVAL, 0, "twice");
  /* NULL arguments */
  ompb_expr *e = (ompb_expr *)&e;
  CU_ASSERT_EQUAL(ompb_expr_compile(NULL, v, 3, &e, NULL), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(e);
  e = (ompb_expr *)&e;
  CU_ASSERT_EQUAL(ompb_expr_compile("x", NULL, 3, &e, NULL), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(e);
  CU_ASSERT_EQUAL(ompb_expr_compile("x", v, 3, NULL, NULL), OMPB_EINVAL);
  /* a variable may be called like a function; followed by ( it is a call */
  const char *fn[] = {"sin", "where"};
  ompb_expr *s = compile("sin(sin) + where", fn, 2);
  if (s) {
    double a[3] = {0.5, 1, 2}, w[3] = {10, 20, 30}, o[3];
    const double *in[] = {a, w};
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, s, in, 3, o, NULL), OMPB_OK);
    for (int i = 0; i < 3; i++) CU_ASSERT_DOUBLE_EQUAL(o[i], sin(a[i]) + w[i], 1e-15 * 30);
    ompb_expr_free(s);
  }
}

/* Limits: 256 variables each used (and OMPB_EXPR_MAX_VARS); 1,000
 * operations; 1,000 nested parentheses; beyond the limits OMPB_ERANGE with
 * a diag. */
static void many_variables_deep_expressions_and_limits(void) {
  enum { NV = 256, N = 1100 };
  char (*names)[8] = malloc(OMPB_EXPR_MAX_VARS * 2 * sizeof *names);
  const char **vars = malloc(OMPB_EXPR_MAX_VARS * 2 * sizeof *vars);
  char *src = malloc(OMPB_EXPR_MAX_LEN + 16);
  double *data = malloc(NV * N * sizeof *data), *o = malloc(N * sizeof *o);
  CU_ASSERT_FATAL(names && vars && src && data && o);
  for (size_t k = 0; k < OMPB_EXPR_MAX_VARS * 2; k++) {
    snprintf(names[k], sizeof names[k], "v%zu", k);
    vars[k] = names[k];
  }
  /* v0*1 + v1*2 + ... v255*256: exact in double for small integer data */
  size_t len = 0;
  for (size_t k = 0; k < NV; k++)
    len += (size_t)snprintf(src + len, 64, "%sv%zu*%zu", k ? " + " : "", k, k + 1);
  const double **in = malloc(NV * sizeof *in);
  CU_ASSERT_FATAL(in != NULL);
  for (size_t k = 0; k < NV; k++) {
    in[k] = data + k * N;
    for (size_t i = 0; i < N; i++) data[k * N + i] = (double)((i + 3 * k) % 17);
  }
  ompb_expr *e = compile(src, vars, NV);
  if (e) {
    CU_ASSERT_EQUAL(ompb_expr_nvars(e), (size_t)NV);
    for (size_t k = 0; k < NV; k++) CU_ASSERT(ompb_expr_uses(e, k));
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, N, o, NULL), OMPB_OK);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
      double s = 0;
      for (size_t k = 0; k < NV; k++) s += data[k * N + i] * (double)(k + 1);
      if (o[i] != s) bad++;
    }
    CU_ASSERT_EQUAL(bad, 0u);
    ompb_expr_free(e);
  }
  /* unused variables are allowed and never read (NULL inputs) */
  e = compile("v3 - v7", vars, NV);
  if (e) {
    CU_ASSERT(ompb_expr_uses(e, 3) && ompb_expr_uses(e, 7) && !ompb_expr_uses(e, 0));
    const double **in2 = calloc(NV, sizeof *in2);
    CU_ASSERT_FATAL(in2 != NULL);
    in2[3] = in[3], in2[7] = in[7];
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in2, N, o, NULL), OMPB_OK);
    for (size_t i = 0; i < N; i += 97) CU_ASSERT_EQUAL(o[i], in[3][i] - in[7][i]);
    free(in2);
    ompb_expr_free(e);
  }
  /* the most variables; one more is OMPB_ERANGE */
  e = compile("v4095 + v0", vars, OMPB_EXPR_MAX_VARS);
  CU_ASSERT_PTR_NOT_NULL(e);
  ompb_expr_free(e);
  expect_error("v0", vars, OMPB_EXPR_MAX_VARS + 1, OMPB_ERANGE, 0, NULL);
  /* 1,000 operations, no two the same: x, then (((x*1.001+1)*1.002+2)... */
  len = (size_t)sprintf(src, "x");
  for (int k = 1; k <= 500; k++) {
    memmove(src + 1, src, len + 1);
    src[0] = '(';
    len++;
    len += (size_t)sprintf(src + len, "*y+%d)", k);
  }
  e = compile(src, XYZ, 3);
  if (e) {
    double xs[5] = {0.5, -1, 2, 0, 3}, ys[5] = {0.5, 0.25, -0.5, 1, 0}, os[5];
    const double *in3[] = {xs, ys, NULL};
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool16, e, in3, 5, os, NULL), OMPB_OK);
    for (int i = 0; i < 5; i++) {
      long double r = xs[i];
      for (int k = 1; k <= 500; k++) r = r * ys[i] + k;
      CU_ASSERT(fabsl(os[i] - r) <= 1e-12L * (fabsl(r) + 1000));
    }
    ompb_expr_free(e);
  }
  /* nested 1,000 levels of parentheses, and of unary minus */
  len = 0;
  for (int k = 0; k < 1000; k++) src[len++] = '(';
  src[len++] = 'x';
  for (int k = 0; k < 1000; k++) src[len++] = ')';
  src[len] = '\0';
  e = compile(src, XYZ, 3);
  CU_ASSERT_PTR_NOT_NULL(e);
  ompb_expr_free(e);
  len = 0;
  for (int k = 0; k < 1001; k++) src[len++] = '-';
  src[len++] = 'x';
  src[len] = '\0';
  e = compile(src, XYZ, 3);
  if (e) {
    double xs[2] = {1.5, -2}, os[2];
    const double *in3[] = {xs, NULL, NULL};
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in3, 2, os, NULL), OMPB_OK);
    CU_ASSERT_EQUAL(os[0], -1.5);
    CU_ASSERT_EQUAL(os[1], 2);
    ompb_expr_free(e);
  }
  /* beyond the nesting limit: OMPB_ERANGE where the level is exceeded */
  len = 0;
  for (int k = 0; k < OMPB_EXPR_MAX_DEPTH + 5; k++) src[len++] = '(';
  src[len++] = 'x';
  for (int k = 0; k < OMPB_EXPR_MAX_DEPTH + 5; k++) src[len++] = ')';
  src[len] = '\0';
  {
    ompb_expr_diag d;
    ompb_expr *f = (ompb_expr *)&f;
    CU_ASSERT_EQUAL(ompb_expr_compile(src, XYZ, 3, &f, &d), OMPB_ERANGE);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT(d.pos >= OMPB_EXPR_MAX_DEPTH - 2 && d.pos <= OMPB_EXPR_MAX_DEPTH + 1);
    CU_ASSERT(d.message[0] != '\0');
  }
  /* longer than OMPB_EXPR_MAX_LEN: OMPB_ERANGE at the limit */
  memset(src, ' ', OMPB_EXPR_MAX_LEN + 8);
  src[0] = 'x';
  src[OMPB_EXPR_MAX_LEN + 8] = '\0';
  expect_error(src, XYZ, 3, OMPB_ERANGE, OMPB_EXPR_MAX_LEN, NULL);
  src[OMPB_EXPR_MAX_LEN] = '\0'; /* exactly the limit: fine */
  e = compile(src, XYZ, 3);
  CU_ASSERT_PTR_NOT_NULL(e);
  ompb_expr_free(e);
  /* more than OMPB_EXPR_MAX_OPS operations: x+1+2+3+... (none folds) */
  if (!slow_run()) {
    len = (size_t)sprintf(src, "x");
    for (int k = 1; k <= OMPB_EXPR_MAX_OPS + 10 && len < OMPB_EXPR_MAX_LEN - 16; k++)
      len += (size_t)sprintf(src + len, "+%d", k);
    ompb_expr_diag d;
    ompb_expr *f = (ompb_expr *)&f;
    CU_ASSERT_EQUAL(ompb_expr_compile(src, XYZ, 3, &f, &d), OMPB_ERANGE);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT(d.pos > 0 && d.pos < len);
  }
  free(names), free(vars), free(src), free(data), free(o), free(in);
}

/* One operand shared by many operations, each meeting it before it is
 * computed: the scheduler's stack must hold every such visit (three
 * `where(..., x, x)` per level, 300 products of x, powers of x, which a
 * first version of this suite saw end in "free(): corrupted unsorted
 * chunks"). Checked against the values computed here. */
static void shared_operands(void) {
  enum { N = 37 };
  char *src = malloc(16384);
  CU_ASSERT_FATAL(src != NULL);
  double x[N], o[N];
  for (int i = 0; i < N; i++) x[i] = (i - 18) * 0.125;
  const double *in[] = {x, NULL, NULL};
  for (int form = 0; form < 4; form++) {
    size_t len = 0;
    if (form == 0) { /* where(where(...(x > 0, x, x)..., x, -x) 40 deep */
      for (int k = 0; k < 40; k++) len += (size_t)sprintf(src + len, "where(");
      len += (size_t)sprintf(src + len, "x");
      for (int k = 0; k < 40; k++) len += (size_t)sprintf(src + len, ", x, -x)");
    } else if (form == 1) { /* x*0 + x*1 + ... + x*299 */
      for (int k = 0; k < 300; k++) len += (size_t)sprintf(src + len, "%sx*%d", k ? " + " : "", k);
    } else if (form == 2) {
      len += (size_t)sprintf(src + len, "x**2 + x**3 + x**4 + x**2.5 + x**-1 + x**-2 + x**0.5 + x*x*x");
    } else {
      len += (size_t)sprintf(src + len, "where(x, x, x) * where(x, x, x*x) + hypot(x, x) - atan2(x, x)");
    }
    ompb_expr *e = compile(src, XYZ, 3);
    if (!e) continue;
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, N, o, NULL), OMPB_OK);
    size_t bad = 0;
    for (int i = 0; i < N; i++) {
      double a = x[i], want = 0; /* double: valgrind's long double 1/0 is not inf */
      if (form == 0) {
        /* the innermost where picks x where x != 0 (else -x = -0 or 0);
         * each outer level picks x when its condition is non-zero */
        double c = a;
        for (int k = 0; k < 40; k++) c = c != 0 ? a : -a;
        want = c;
      } else if (form == 1) {
        want = a * 44850; /* 0 + 1 + ... + 299 */
      } else if (form == 2) {
        want = a * a + a * a * a + pow(a, 4) + pow(a, 2.5) + 1 / a + 1 / (a * a) + sqrt(a) + a * a * a;
      } else {
        want = a * (a != 0 ? a : a * a) + hypot(a, a) - atan2(a, a);
      }
      bool ok = isnan(want) ? isnan(o[i]) : isinf(want) ? o[i] == want
                : fabs(o[i] - want) <= 1e-13 * (fabs(want) + 1);
      if (!ok && bad++ == 0)
        fprintf(stderr, "\n  shared operands form %d x=%g: %.17g, want %.17g\n", form, x[i], o[i], want);
    }
    if (bad) fprintf(stderr, "\n  shared operands form %d: %zu wrong\n", form, bad);
    CU_ASSERT_EQUAL(bad, 0u);
    ompb_expr_free(e);
  }
  free(src);
}

/* Precedence, folding (in double, rounded once to the dtype), CSE. */
static double eval1_f64(const char *src, double x) {
  ompb_expr *e = compile(src, XYZ, 3);
  double o = NAN, xs[1] = {x}, ys[1] = {0}, zs[1] = {0};
  const double *in[] = {xs, ys, zs};
  if (e) CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool1, e, in, 1, &o, NULL), OMPB_OK);
  ompb_expr_free(e);
  return o;
}
static float eval1_f32(const char *src, float x) {
  ompb_expr *e = compile(src, XYZ, 3);
  float o = NAN, xs[1] = {x}, ys[1] = {0}, zs[1] = {0};
  const float *in[] = {xs, ys, zs};
  if (e) CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool1, e, in, 1, &o, NULL), OMPB_OK);
  ompb_expr_free(e);
  return o;
}

static void precedence_folding_and_cse(void) {
  CU_ASSERT_EQUAL(eval1_f64("-x**2", 3), -9);
  CU_ASSERT_EQUAL(eval1_f64("-2**2", 0), -4);
  CU_ASSERT_EQUAL(eval1_f64("2**-1", 0), 0.5);
  CU_ASSERT_EQUAL(eval1_f64("2**3**2", 0), 512);
  CU_ASSERT_EQUAL(eval1_f64("(2**3)**2", 0), 64);
  CU_ASSERT_EQUAL(eval1_f64("x**-1", 4), 0.25);
  CU_ASSERT_EQUAL(eval1_f64("1 - 2 - 3", 0), -4);
  CU_ASSERT_EQUAL(eval1_f64("2 * 3 + 4 * 5", 0), 26);
  CU_ASSERT_EQUAL(eval1_f64("12 / 3 / 2", 0), 2);
  CU_ASSERT_EQUAL(eval1_f64("1 + 2 < 4", 0), 1);
  CU_ASSERT_EQUAL(eval1_f64("1 < 2 + 4 * 0", 0), 1);
  CU_ASSERT_EQUAL(eval1_f64("(x < 2) * (2 < 3)", 1), 1);
  CU_ASSERT_EQUAL(eval1_f64("- - x", 5), 5);
  CU_ASSERT_EQUAL(eval1_f64("+-+x", 5), -5);
  CU_ASSERT_EQUAL(eval1_f64(".5 + 1e-3 + 1.5E+2 + 2.", 0), 0.5 + 1e-3 + 1.5e2 + 2.0);
  CU_ASSERT_EQUAL(eval1_f64("\tx\t*\t2 ", 4), 8);
  /* IEEE results */
  CU_ASSERT(isinf(eval1_f64("1/x", 0)) && eval1_f64("1/x", 0) > 0);
  CU_ASSERT(isinf(eval1_f64("1/x", -0.0)) && eval1_f64("1/x", -0.0) < 0);
  CU_ASSERT(isnan(eval1_f64("log(x)", -1)));
  CU_ASSERT(isnan(eval1_f64("x - x", INFINITY)));
  CU_ASSERT(isnan(eval1_f32("0/0 + x", 1)));
  /* folding is in double with the f64 kernels, rounded once to float:
   * 0.1 + 0.2 is (float)(0.1 + 0.2), not 0.1f + 0.2f */
  volatile double a = 0.1, b = 0.2;
  CU_ASSERT_EQUAL(eval1_f32("0.1 + 0.2", 0), (float)(a + b));
  CU_ASSERT_EQUAL(eval1_f32("x + (0.1 + 0.2)", 0), (float)(a + b));
  CU_ASSERT_EQUAL(eval1_f64("0.1 + 0.2", 0), a + b);
  volatile double third = 1.0 / 3.0;
  CU_ASSERT_EQUAL(eval1_f32("1/3", 0), (float)third);
  CU_ASSERT_EQUAL(eval1_f32("(1/3) * 3", 0), (float)(third * 3));
  /* a literal is rounded to the dtype: 16777217 is not a float */
  CU_ASSERT_EQUAL(eval1_f32("16777217 + x", 0), 16777216.0f);
  CU_ASSERT_EQUAL(eval1_f64("16777217 + x", 0), 16777217.0);
  /* a folded kernel call is the f64 kernel's value: within 1 ULP of MPFR */
  double s1 = eval1_f64("sin(1) + x", 0);
  CU_ASSERT(fabs(s1 - 0.8414709848078965) <= 0x1p-53);
  CU_ASSERT(eval1_f32("exp(100) + x", 0) == INFINITY);        /* folded in double, then rounded */
  CU_ASSERT(eval1_f32("exp(100) / exp(99)", 0) == (float)eval1_f64("exp(100) / exp(99)", 0));
  /* CSE and commutative spellings give the same results as the long form */
  enum { N = 1000 };
  static double x[N], y[N], o1[N], o2[N];
  rng_state = 5;
  for (size_t i = 0; i < N; i++) x[i] = rng_range(-3, 3), y[i] = rng_range(-3, 3);
  const double *in[] = {x, y, NULL};
  static const char *pairs[][2] = {
      {"sin(x)*y + sin(x)*y", "2*(sin(x)*y)"},
      {"exp(x*y) - exp(y*x)", "0*x"},
      {"(x+y)*(x+y)", "(x+y)**2"},
      {"where(x>y, x, y)", "maximum(x, y)"},
      {"x*y == y*x", "1 + 0*x"},
  };
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
    ompb_expr *e1 = compile(pairs[k][0], XYZ, 3), *e2 = compile(pairs[k][1], XYZ, 3);
    if (e1 && e2) {
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e1, in, N, o1, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e2, in, N, o2, NULL), OMPB_OK);
      size_t bad = 0;
      for (size_t i = 0; i < N; i++) bad += o1[i] != o2[i];
      if (bad) fprintf(stderr, "\n  %s vs %s: %zu differ\n", pairs[k][0], pairs[k][1], bad);
      CU_ASSERT_EQUAL(bad, 0u);
    }
    ompb_expr_free(e1);
    ompb_expr_free(e2);
  }
}

/* minimum/maximum: NaN when either is NaN, as numpy; where with a NaN
 * condition takes the first branch. */
static void minimum_maximum_where_nan(void) {
  double a[6] = {NAN, 1, NAN, -0.0, 2, INFINITY}, b[6] = {1, NAN, NAN, 0.0, -INFINITY, 3};
  double o[6];
  const double *in[] = {a, b, NULL};
  ompb_expr *mn = compile("minimum(x, y)", XYZ, 3), *mx = compile("maximum(x, y)", XYZ, 3);
  ompb_expr *w = compile("where(x, 1, 2)", XYZ, 3);
  CU_ASSERT_FATAL(mn && mx && w);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, mn, in, 6, o, NULL), OMPB_OK);
  CU_ASSERT(isnan(o[0]) && isnan(o[1]) && isnan(o[2]));
  CU_ASSERT(o[4] == -INFINITY && o[5] == 3);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, mx, in, 6, o, NULL), OMPB_OK);
  CU_ASSERT(isnan(o[0]) && isnan(o[1]) && isnan(o[2]));
  CU_ASSERT(o[4] == 2 && o[5] == INFINITY);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, w, in, 6, o, NULL), OMPB_OK);
  CU_ASSERT(o[0] == 1 && o[1] == 1 && o[2] == 1 && o[3] == 2 && o[4] == 1 && o[5] == 1);
  float af[6], bf[6], of[6];
  for (int i = 0; i < 6; i++) af[i] = (float)a[i], bf[i] = (float)b[i];
  const float *inf[] = {af, bf, NULL};
  CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, mn, inf, 6, of, NULL), OMPB_OK);
  CU_ASSERT(isnan(of[0]) && isnan(of[1]) && isnan(of[2]) && of[4] == -INFINITY);
  ompb_expr_free(mn);
  ompb_expr_free(mx);
  ompb_expr_free(w);
}

/* & | ^ ~: numexpr's operators on truth values (non-zero and NaN are
 * true), 1 or 0, with Python's precedence: below + and -, above the
 * comparisons, & before ^ before |. References from C's && || ! on every
 * pair of special values, both dtypes. */
static bool truthy(double v) { return v != 0 || isnan(v); }

static double logical_ref(int form, double a, double b, double c) {
  bool x = truthy(a), y = truthy(b), z = truthy(c);
  switch (form) {
  case 0: return x && y;
  case 1: return x || y;
  case 2: return x != y;
  case 3: return !x;
  case 4: return x || (y && z);
  case 5: return (x != y) || z;
  case 6: return a > 0 && b < 1;
  case 7: return (double)(x && y) == c;
  case 8: return truthy(a + 1) && y;
  case 9: return x;
  default: return a > 0 || isnan(b) ? a : c;
  }
}

static bool same_value(double got, double want) {
  return got == want || (isnan(got) && isnan(want));
}

static void logical_operators(void) {
  static const double vals[] = {0.0, -0.0, 1.0, -2.5, NAN, INFINITY, -INFINITY, 0x1p-1074};
  enum { V = sizeof vals / sizeof vals[0], N = V * V * V };
  static double a[N], b[N], c[N], o[N];
  static float af[N], bf[N], cf[N], of[N];
  for (size_t i = 0; i < N; i++) {
    a[i] = vals[i / (V * V)], b[i] = vals[i / V % V], c[i] = vals[i % V];
    af[i] = (float)a[i], bf[i] = (float)b[i], cf[i] = (float)c[i]; /* 2^-1074: 0 */
  }
  const double *in[] = {a, b, c};
  const float *inf[] = {af, bf, cf};
  static const char *const cases[] = {
      "x & y", "x | y", "x ^ y", "~x",
      "x | y & z",                       /* x | (y & z) */
      "x ^ y | z",                       /* (x ^ y) | z */
      "(x > 0) & (y < 1)",               /* comparisons inside parentheses */
      "x & y == z",                      /* (x & y) == z: comparisons bind last */
      "x + 1 & y",                       /* (x + 1) & y */
      "~~x",
      "where((x > 0) | (y != y), x, z)",
  };
  for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
    ompb_expr *e = compile(cases[k], XYZ, 3);
    if (!e) continue;
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, N, o, NULL), OMPB_OK);
    CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, e, inf, N, of, NULL), OMPB_OK);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++)
      bad += !same_value(o[i], logical_ref(k, a[i], b[i], c[i])) ||
             !same_value(of[i], (float)logical_ref(k, af[i], bf[i], cf[i]));
    if (bad) fprintf(stderr, "\n  %s: %zu of %d wrong\n", cases[k], bad, N);
    CU_ASSERT_EQUAL(bad, 0u);
    ompb_expr_free(e);
  }
  /* the spellings numexpr users write compile to what the long forms do */
  CU_ASSERT_EQUAL(eval1_f64("(x > 1) & (x < 3)", 2), 1);
  CU_ASSERT_EQUAL(eval1_f64("(x > 1) & (x < 3)", 3), 0);
  CU_ASSERT_EQUAL(eval1_f64("~(x > 1) | (x == 5)", 5), 1);
  CU_ASSERT_EQUAL(eval1_f64("2 & 0.5", 0), 1); /* folded */
  CU_ASSERT_EQUAL(eval1_f64("-~x", 0), -1);
}

/* % is numpy's remainder (numexpr's): the divisor's sign, zeros signed
 * as the divisor, NaN for b == 0 or infinite a. */
static void remainder_has_the_divisors_sign(void) {
  static const struct { double a, b, want; } cases[] = {
      {5.5, 2, 1.5}, {-5.5, 2, 0.5}, {5.5, -2, -0.5}, {-5.5, -2, -1.5},
      {4, 2, 0.0}, {-4, 2, 0.0}, {4, -2, -0.0}, {-0.0, 2, 0.0},
      {-1e-20, 2, 2.0}, {-5, INFINITY, INFINITY}, {5, INFINITY, 5},
      {1e300, 1e-300, 0x1.4f722a6f79f9cp-998}, {5, 0, NAN}, {INFINITY, 2, NAN}, {NAN, 2, NAN},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    double x[1] = {cases[k].a}, y[1] = {cases[k].b}, o = 0;
    float xf[1] = {(float)cases[k].a}, yf[1] = {(float)cases[k].b}, of = 0;
    const double *in[] = {x, y, NULL};
    const float *inf[] = {xf, yf, NULL};
    ompb_expr *e = compile("x % y", XYZ, 3);
    if (!e) continue;
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool1, e, in, 1, &o, NULL), OMPB_OK);
    CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool1, e, inf, 1, &of, NULL), OMPB_OK);
    double w = cases[k].want;
    bool ok = isnan(w) ? isnan(o) : o == w && signbit(o) == signbit(w);
    /* f32: the same (1e300 and 1e-300 become inf and 0: NaN) */
    float wf = k == 11 ? NAN : (float)w;
    bool okf = isnan(wf) ? isnan(of) : of == wf && signbit(of) == signbit(wf);
    if (!ok || !okf)
      fprintf(stderr, "\n  %g %% %g: %a / %a, want %a\n", cases[k].a, cases[k].b, o, (double)of, w);
    CU_ASSERT(ok && okf);
    ompb_expr_free(e);
  }
  CU_ASSERT_EQUAL(eval1_f64("-5.5 % 2 + x", 0), 0.5); /* folded */
  CU_ASSERT_EQUAL(eval1_f64("-x % 2", 5.5), 0.5);     /* (-x) % 2 */
  CU_ASSERT_EQUAL(eval1_f64("2 * x % 3", 2), 1);      /* (2 * x) % 3 */
  CU_ASSERT_EQUAL(eval1_f64("fmod(x, -2)", -5.5), -1.5);
}

/* ---- numpy's functions and // (numexpr's syntax), bit for bit ----
 * Every new function and the // operator against references computed here
 * in the dtype with the C library (nearbyint in FE_TONEAREST for round,
 * nextafterf for f32's nextafter, numpy's npy_divmod for //) over special
 * values (all pairs: zeros, infinities, NaN of both signs, halves,
 * subnormals, FLT_MAX, DBL_MAX, 2^23 and 2^52 neighbours, huge quotients)
 * and random ones, at lengths around the block size: through the
 * evaluator at the active ISA, and the block and fused operations of every
 * ISA compiled in and supported here. */
static const double np_specials[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5,
    0.4, -0.4, 0.49999999999999994, 0.4999999701976776, -0.4999999701976776, 1.0, -1.0, 2.0,
    3.0, -3.0, 7.0, -7.0, 5.5, -5.5, 0.1, 1e-300, -1e-300, 1e300, -1e300, 0x1p-1074, -0x1p-1074,
    0x1p-149, -0x1p-149, 0x1p-126, -0x1p-1022, FLT_MAX, -FLT_MAX, DBL_MAX, -DBL_MAX,
    0x1p22 + 0.5, -0x1p22 - 1.5, 0x1p23 - 0.5, 0x1p23, 0x1p23 + 1, 0x1p52 - 0.5, -0x1p52 + 1.5,
    0x1p52, 0x1p52 + 1, 0x1p53, 1e20, -1e20, 1e-20};
#define NP_NSPEC (sizeof np_specials / sizeof np_specials[0])
enum { NP_ISNAN, NP_ISINF, NP_ISFINITE, NP_SIGNBIT, NP_ROUND, NP_TRUNC, NP_SIGN, NP_COPYSIGN,
       NP_NEXTAFTER, NP_FLOORDIV, NP_COPY, NP_ONES, NP_TRUE, NP_COUNT };
static const char *const np_src[NP_COUNT] = {
    "isnan(x)", "isinf(x)", "isfinite(x)", "signbit(x)", "round(x)", "trunc(x)", "sign(x)",
    "copysign(x, y)", "nextafter(x, y)", "x // y", "copy(x)", "ones_like(x)", "x * True + False"};

#define NP_REF(T, sfx, NEARBYINT, TRUNC, COPYSIGN, NEXTAFTER)                  \
  static T np_ref_##sfx(int k, T a, T b) {                                     \
    switch (k) {                                                               \
    case NP_ISNAN: return isnan(a) ? 1 : 0;                                    \
    case NP_ISINF: return isinf(a) ? 1 : 0;                                    \
    case NP_ISFINITE: return isfinite(a) ? 1 : 0;                              \
    case NP_SIGNBIT: return signbit(a) ? 1 : 0;                                \
    case NP_ROUND: return NEARBYINT(a);                                        \
    case NP_TRUNC: return TRUNC(a);                                            \
    case NP_SIGN: return (T)np_sign(a);                                        \
    case NP_COPYSIGN: return COPYSIGN(a, b);                                   \
    case NP_NEXTAFTER: return NEXTAFTER(a, b);                                 \
    case NP_FLOORDIV: return np_floordiv_##sfx(a, b);                          \
    case NP_COPY: return a;                                                    \
    case NP_ONES: return 1;                                                    \
    default: return a * (T)1 + (T)0;                                           \
    }                                                                          \
  }
NP_REF(float, f32, nearbyintf, truncf, copysignf, nextafterf)
NP_REF(double, f64, nearbyint, trunc, copysign, nextafter)

/* got against the reference: the same bits, or both NaN (numpy leaves a
 * NaN's sign to the hardware) */
static size_t np_mismatches(int k, bool f64, const void *x, const void *y, const void *got,
                            size_t n, const char *where) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    double a = f64 ? ((const double *)x)[i] : ((const float *)x)[i];
    double b = f64 ? ((const double *)y)[i] : ((const float *)y)[i];
    double g = f64 ? ((const double *)got)[i] : ((const float *)got)[i];
    double w = f64 ? np_ref_f64(k, a, b) : np_ref_f32(k, (float)a, (float)b);
    bool same = f64 ? memcmp(&g, &w, sizeof g) == 0
                    : memcmp(&((const float *)got)[i], &(float){(float)w}, sizeof(float)) == 0;
    if (!same && !(isnan(g) && isnan(w))) {
      if (bad++ < 3)
        fprintf(stderr, "\n  %s %s %s: x=%.17g y=%.17g got %a want %a\n", where, np_src[k],
                f64 ? "f64" : "f32", a, b, g, w);
    }
  }
  return bad;
}

static void numpy_functions_bit_exact(void) {
  CU_ASSERT_EQUAL_FATAL(fegetround(), FE_TONEAREST);
  const size_t nrand = slow_run() ? 300 : 1600, n = NP_NSPEC * NP_NSPEC + nrand;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *o = malloc(n * sizeof *o);
  float *xf = malloc(n * sizeof *xf), *yf = malloc(n * sizeof *yf), *of = malloc(n * sizeof *of);
  CU_ASSERT_FATAL(x && y && o && xf && yf && of);
  rng_state = 4242;
  for (size_t i = 0; i < n; i++) {
    if (i < NP_NSPEC * NP_NSPEC) {
      x[i] = np_specials[i / NP_NSPEC];
      y[i] = np_specials[i % NP_NSPEC];
    } else {
      for (int j = 0; j < 2; j++) {
        double v;
        switch (rng_next() % 4) {
        case 0: v = rng_range(-10, 10); break;
        case 1: v = (double)((int)(rng_next() % 81) - 40) * 0.5; break; /* halves, integers */
        case 2: v = ldexp(rng_range(-1, 1), (int)(rng_next() % 121) - 60); break;
        default: { /* any bits: NaNs, subnormals, huge */
          uint64_t u = rng_next();
          memcpy(&v, &u, sizeof v);
        }
        }
        (j ? y : x)[i] = v;
      }
      if (i % 7 == 0) y[i] = x[i] * 0.25; /* exact quotients */
    }
    xf[i] = (float)x[i], yf[i] = (float)y[i];
  }
  /* the random halves also as f32's large halves */
  for (size_t i = NP_NSPEC * NP_NSPEC; i + 1 < n; i += 9) xf[i] = (float)(0x1p22 + (double)(i % 64) + 0.5);
  const double *in64[] = {x, y, NULL};
  const float *in32[] = {xf, yf, NULL};
  const size_t lens[] = {1, 17, OMPB_EXPR_BLOCK - 1, OMPB_EXPR_BLOCK, OMPB_EXPR_BLOCK + 1, n};
  for (int k = 0; k < NP_COUNT; k++) {
    ompb_expr *e = compile(np_src[k], XYZ, 3);
    if (!e) continue;
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
      ompb_pool *p = l + 1 < sizeof lens / sizeof lens[0] ? pool1 : slow_run() ? pool2 : pool16;
      memset(o, 0, n * sizeof *o), memset(of, 0, n * sizeof *of);
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(p, e, in64, lens[l], o, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f32(p, e, in32, lens[l], of, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(np_mismatches(k, true, x, y, o, lens[l], ompb_simd_isa()), 0u);
      CU_ASSERT_EQUAL(np_mismatches(k, false, xf, yf, of, lens[l], ompb_simd_isa()), 0u);
    }
    ompb_expr_free(e);
  }
  /* the block operations and fused runs of every ISA here: the operation,
   * then two negations (exact), in one run of three through stack strips;
   * FLOORDIV takes fmod(x, y) (the C library's: exact, as the kernel) */
  double *m = malloc(n * sizeof *m);
  float *mf = malloc(n * sizeof *mf);
  CU_ASSERT_FATAL(m && mf);
  for (size_t i = 0; i < n; i++) m[i] = fmod(x[i], y[i]), mf[i] = fmodf(xf[i], yf[i]);
  static const char *const isas[] = {"scalar", "sse2", "avx2", "avx512f"};
  static const struct { int k, un, bin, tri; } ops[] = {
      {NP_ROUND, OMPB__EU_ROUND, -1, -1}, {NP_TRUNC, OMPB__EU_TRUNC, -1, -1},
      {NP_SIGN, OMPB__EU_SIGN, -1, -1}, {NP_COPYSIGN, -1, OMPB__EB_COPYSIGN, -1},
      {NP_NEXTAFTER, -1, OMPB__EB_NEXTAFTER, -1}, {NP_FLOORDIV, -1, -1, OMPB__ET_FLOORDIV}};
  size_t nisas = 0;
  for (size_t s = 0; s < sizeof isas / sizeof isas[0]; s++) {
    const ompb__expr_ops *xo = ompb__expr_ops_get(isas[s]);
    if (!xo) continue;
    nisas++;
    for (size_t q = 0; q < sizeof ops / sizeof ops[0]; q++) {
      const int k = ops[q].k;
      if (ops[q].un >= 0) xo->un_f64[ops[q].un](x, o, n), xo->un_f32[ops[q].un](xf, of, n);
      else if (ops[q].bin >= 0) xo->bin_f64[ops[q].bin](x, y, o, n), xo->bin_f32[ops[q].bin](xf, yf, of, n);
      else xo->tri_f64[ops[q].tri](x, y, m, o, n), xo->tri_f32[ops[q].tri](xf, yf, mf, of, n);
      CU_ASSERT_EQUAL(np_mismatches(k, true, x, y, o, n, isas[s]), 0u);
      CU_ASSERT_EQUAL(np_mismatches(k, false, xf, yf, of, n, isas[s]), 0u);
      const uint8_t code = (uint8_t)(ops[q].un == OMPB__EU_ROUND ? OMPB__XR_ROUND
                                     : ops[q].un == OMPB__EU_TRUNC ? OMPB__XR_TRUNC
                                     : ops[q].un == OMPB__EU_SIGN ? OMPB__XR_SIGN
                                     : ops[q].bin >= 0 ? OMPB__XR_BIN + ops[q].bin
                                                       : OMPB__XR_TRI + ops[q].tri);
      const struct ompb__xrop rops[3] = {{.code = code, .a = 0, .b = 1, .c = 3, .dst = 4},
                                         {.code = OMPB__XR_NEG, .a = 4, .dst = 5},
                                         {.code = OMPB__XR_NEG, .a = 5, .dst = 2}};
      const struct ompb__xrun run = {.ops = rops, .nops = 3, .next = 4, .nint = 2, .npf = 2};
      double *ext64[] = {x, y, o, m};
      float *ext32[] = {xf, yf, of, mf};
      xo->run_f64(&run, ext64, n, -1);
      xo->run_f32(&run, ext32, n, -1);
      CU_ASSERT_EQUAL(np_mismatches(k, true, x, y, o, n, isas[s]), 0u);
      CU_ASSERT_EQUAL(np_mismatches(k, false, xf, yf, of, n, isas[s]), 0u);
    }
  }
  CU_ASSERT(nisas >= 1);
  free(x), free(y), free(o), free(xf), free(yf), free(of), free(m), free(mf);
}

/* Constants fold to what the evaluation gives (f64), except nextafter,
 * whose step is the evaluation dtype's: it is evaluated, not folded. */
static void numpy_functions_fold_like_evaluation(void) {
  static const double vals[] = {7, -7, 5.5, -0.0, 0.0, 2.5, -2.5, 0.3, 0.1, 1e300, 1e-300,
                                INFINITY, -INFINITY, NAN};
  const size_t nv = sizeof vals / sizeof vals[0];
  char sa[64], sb[64], src[200];
  for (size_t i = 0; i < nv; i++)
    for (size_t j = 0; j < nv; j++) {
      const double a = vals[i], b = vals[j];
      double xs[1] = {a}, ys[1] = {b}, o = 0;
      const double *in[] = {xs, ys, NULL};
#define NUM(buf, v)                                                            \
  (isnan(v) ? snprintf(buf, sizeof buf, "(0*1e999)")                            \
   : isinf(v) ? snprintf(buf, sizeof buf, "(%s1e999)", (v) < 0 ? "-" : "")      \
              : snprintf(buf, sizeof buf, "(%s%.17g)", signbit(v) ? "-" : "", fabs(v)))
      NUM(sa, a);
      NUM(sb, b);
#undef NUM
      static const int ks[] = {NP_FLOORDIV, NP_COPYSIGN, NP_ROUND, NP_SIGN, NP_SIGNBIT, NP_ISINF};
      for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++) {
        /* (0*1e999's NaN has the hardware's sign, not NAN's) */
        if ((isnan(a) || isnan(b)) && (ks[q] == NP_COPYSIGN || ks[q] == NP_SIGNBIT)) continue;
        /* the same source with x and y replaced by the literals */
        const char *t = np_src[ks[q]];
        size_t m = 0;
        for (; *t && m + 64 < sizeof src; t++) {
          const bool alone = (t == np_src[ks[q]] || !isalpha((unsigned char)t[-1])) &&
                             !isalpha((unsigned char)t[1]);
          const char *lit = !alone ? NULL : *t == 'x' ? sa : *t == 'y' ? sb : NULL;
          if (lit) m += (size_t)snprintf(src + m, sizeof src - m, "%s", lit);
          else src[m++] = *t;
        }
        src[m] = '\0';
        ompb_expr *e = compile(src, XYZ, 3);
        if (!e) continue;
        CU_ASSERT(e->nins == 1 && e->ins[0].kind == OMPB__XI_COPY); /* folded */
        CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool1, e, in, 1, &o, NULL), OMPB_OK);
        CU_ASSERT_EQUAL(np_mismatches(ks[q], true, xs, ys, &o, 1, src), 0u);
        ompb_expr_free(e);
      }
    }
  /* nextafter: the dtype's step */
  CU_ASSERT_EQUAL(eval1_f64("nextafter(1, 2) + 0*x", 0), 1 + 0x1p-52);
  CU_ASSERT_EQUAL(eval1_f32("nextafter(1, 2) + 0*x", 0), 1 + 0x1p-23f);
  CU_ASSERT_EQUAL(eval1_f32("nextafter(-0.0, -1) + x", 0), -0x1p-149f);
  CU_ASSERT_EQUAL(eval1_f64("nextafter(x, 1e999)", DBL_MAX), INFINITY);
  CU_ASSERT_EQUAL(eval1_f32("nextafter(x, 1e999)", FLT_MAX), INFINITY);
  /* precedence: // binds like * / %, left to right */
  CU_ASSERT_EQUAL(eval1_f64("7 // 2 * 3 + x", 0), 9);
  CU_ASSERT_EQUAL(eval1_f64("2 * 7 // 4 + x", 0), 3);
  CU_ASSERT_EQUAL(eval1_f64("-7 // 2 + x", 0), -4);
  CU_ASSERT_EQUAL(eval1_f64("x // 2 ** 2", 9), 2);
  CU_ASSERT_EQUAL(eval1_f64("x // 3 % 2", 7), 0);
  /* True and False are literals; a & b and where take them */
  CU_ASSERT_EQUAL(eval1_f64("where(True, x, 0) + False", 3), 3);
  CU_ASSERT_EQUAL(eval1_f64("(x > 0) & True", 2), 1);
  /* the documented cases: numpy's values */
  CU_ASSERT(signbit(eval1_f64("round(x)", -0.4)) && eval1_f64("round(x)", -0.4) == 0);
  CU_ASSERT_EQUAL(eval1_f64("round(x)", 2.5), 2);
  CU_ASSERT(!signbit(eval1_f64("sign(x)", -0.0)) && eval1_f64("sign(x)", -0.0) == 0);
  CU_ASSERT(isnan(eval1_f64("sign(x)", NAN)));
}

/* ---- reductions ---- */
static void reductions(void) {
  enum { N = 5000 };
  static double x[N];
  static float xf[N];
  rng_state = 31;
  for (size_t i = 0; i < N; i++) x[i] = rng_range(0.5, 1.5), xf[i] = (float)x[i];
  const double *in[] = {x, NULL, NULL};
  const float *inf[] = {xf, NULL, NULL};
  static const char *srcs[] = {"sum(x)", "prod(x)", "min(x)", "max(x)", "mean(x)",
                               "sum(x*x - 1)", "max(-x)", "sum(2)", "mean(x + 1)"};
  size_t lens[] = {1, 7, 1023, 1024, 1025, 3000, N};
  /* under valgrind (threads run one at a time there): fewer lengths, and
   * the 16-worker pool only in the checks after this loop */
  const size_t nlens = slow_run() ? 3 : sizeof lens / sizeof lens[0];
  if (slow_run()) lens[0] = 1, lens[1] = 1025, lens[2] = 3000;
  ompb_pool *big = slow_run() ? pool1 : pool16;
  for (size_t k = 0; k < sizeof srcs / sizeof srcs[0]; k++) {
    ompb_expr *e = compile(srcs[k], XYZ, 3);
    if (!e) continue;
    CU_ASSERT(ompb_expr_is_reduction(e));
    for (size_t li = 0; li < nlens; li++) {
      size_t n = lens[li];
      long double s = 0, p = 1, mn = INFINITY, mx = -INFINITY, s2 = 0, sf = 0, pf = 1;
      for (size_t i = 0; i < n; i++) {
        s += x[i], p *= x[i], s2 += (long double)x[i] * x[i] - 1;
        sf += xf[i], pf *= xf[i];
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
      }
      long double want, wantf;
      switch (k) {
      case 0: want = s, wantf = sf; break;
      case 1: want = p, wantf = pf; break;
      case 2: want = mn, wantf = (float)mn; break;
      case 3: want = mx, wantf = (float)mx; break;
      case 4: want = s / n, wantf = sf / n; break;
      case 5: want = wantf = s2; break;
      case 6: want = -mn, wantf = -(float)mn; break;
      case 7: want = wantf = 2.0L * n; break;
      default: want = s / n + 1, wantf = sf / n + 1; break;
      }
      double o = NAN, o1 = NAN, o16 = NAN;
      float of = NAN, of16 = NAN;
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, e, in, n, &o, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool1, e, in, n, &o1, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(big, e, in, n, &o16, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, e, inf, n, &of, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f32(big, e, inf, n, &of16, NULL), OMPB_OK);
      /* f64: blocked summation, error ~ n eps; f32 accumulates in double
       * and rounds once: within 1 ULP of float */
      bool ok = fabsl(o - want) <= 1e-13L * fabsl(want) + 1e-13L * (k == 5 ? n : 0) &&
                fabsl(of - (float)wantf) <= (long double)FLT_EPSILON * fabsl(wantf) + (k == 5 ? 1e-3L : 0);
      /* identical across pools of 1, 2 and 16 workers */
      ok = ok && memcmp(&o, &o1, sizeof o) == 0 && memcmp(&o, &o16, sizeof o) == 0 &&
           memcmp(&of, &of16, sizeof of) == 0;
      if (!ok)
        fprintf(stderr, "\n  %s n=%zu: %.17g (1: %.17g, 16: %.17g) want %.17Lg; f32 %.9g/%.9g want %.9Lg\n",
                srcs[k], n, o, o1, o16, want, of, of16, wantf);
      CU_ASSERT(ok);
    }
    ompb_expr_free(e);
  }
  /* chunk sizes and claims change nothing */
  ompb_expr *e = compile("sum(x)", XYZ, 3);
  CU_ASSERT_FATAL(e != NULL);
  double base = 0, o = 0;
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool1, e, in, N, &base, NULL), OMPB_OK);
  size_t chunks[] = {1, 1024, 2048, 3000, 100000};
  for (size_t c = 0; c < 5; c++) {
    ompb_map_opts mo = {.chunk_size = chunks[c], .batch = {.concurrency = 16}};
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool16, e, in, N, &o, &mo), OMPB_OK);
    CU_ASSERT_EQUAL(memcmp(&o, &base, sizeof o), 0);
  }
  ompb_expr_free(e);
  /* empty: sum 0, prod 1, mean NaN, min/max OMPB_EINVAL (out unwritten) */
  static const char *empty[] = {"sum(x)", "prod(x)", "mean(x)", "min(x)", "max(x)"};
  for (size_t k = 0; k < 5; k++) {
    e = compile(empty[k], XYZ, 3);
    if (!e) continue;
    double r = -5;
    float rf = -5;
    int rc = ompb_expr_eval_f64(pool2, e, NULL, 0, &r, NULL);
    int rcf = ompb_expr_eval_f32(pool2, e, NULL, 0, &rf, NULL);
    if (k < 3) {
      CU_ASSERT(rc == OMPB_OK && rcf == OMPB_OK);
      if (k == 0) CU_ASSERT(r == 0 && rf == 0);
      if (k == 1) CU_ASSERT(r == 1 && rf == 1);
      if (k == 2) CU_ASSERT(isnan(r) && isnan(rf));
    } else {
      CU_ASSERT(rc == OMPB_EINVAL && rcf == OMPB_EINVAL && r == -5 && rf == -5);
    }
    ompb_expr_free(e);
  }
  /* min/max: NaN anywhere (any block) gives NaN; at any worker count */
  static double nx[3000];
  for (size_t i = 0; i < 3000; i++) nx[i] = (double)i;
  const double *nin[] = {nx, NULL, NULL};
  ompb_expr *mn = compile("min(x)", XYZ, 3), *mx = compile("max(x)", XYZ, 3);
  CU_ASSERT_FATAL(mn && mx);
  size_t where_nan[] = {0, 1023, 1024, 2999};
  ompb_pool *pools[] = {pool1, pool2, pool16};
  for (size_t w = 0; w < (slow_run() ? 2u : 4u); w++) {
    nx[where_nan[w]] = NAN;
    for (int p = 0; p < 3; p++) {
      double r1 = 0, r2 = 0;
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(pools[p], mn, nin, 3000, &r1, NULL), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(pools[p], mx, nin, 3000, &r2, NULL), OMPB_OK);
      CU_ASSERT(isnan(r1) && isnan(r2));
    }
    nx[where_nan[w]] = (double)where_nan[w];
  }
  double r1 = 0, r2 = 0;
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool16, mn, nin, 3000, &r1, NULL), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool16, mx, nin, 3000, &r2, NULL), OMPB_OK);
  CU_ASSERT(r1 == 0 && r2 == 2999);
  ompb_expr_free(mn);
  ompb_expr_free(mx);
}

/* ---- evaluation as a batch ---- */
struct prog {
  size_t last_completed, last_total, reports;
  bool backwards;
};
static void on_prog(const ompb_progress *p, void *user) {
  struct prog *g = user;
  if (p->completed < g->last_completed) g->backwards = true;
  g->last_completed = p->completed;
  g->last_total = p->total;
  g->reports++;
}

static ompb_batch *hold_pool(ompb_pool *p);
static void release_pool(ompb_batch *b);

static void progress_counts_elements(void) {
  enum { N = 10000 };
  static float x[N], o[N];
  for (size_t i = 0; i < N; i++) x[i] = (float)i;
  ompb_expr *e = compile("x * 2 + 1", XYZ, 3);
  CU_ASSERT_FATAL(e != NULL);
  const float *in[] = {x, NULL, NULL};
  struct prog g = {0};
  ompb_map_opts mo = {.batch = {.on_progress = on_prog, .user = &g, .progress_throttle_ms = 1}};
  CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, e, in, N, o, &mo), OMPB_OK);
  CU_ASSERT(g.reports >= 1);
  CU_ASSERT_EQUAL(g.last_total, (size_t)N);
  CU_ASSERT_EQUAL(g.last_completed, (size_t)N);
  CU_ASSERT_FALSE(g.backwards);
  {
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) bad += o[i] != 2.0f * i + 1;
    CU_ASSERT_EQUAL(bad, 0u);
  }
  /* the started form: the result counts elements; the array of inputs is
   * copied (scribbled over and freed before the evaluation runs) */
  memset(o, 0, sizeof o);
  ompb_batch *h = hold_pool(pool1), *b = NULL;
  const float **tmp = malloc(3 * sizeof *tmp);
  CU_ASSERT_FATAL(tmp != NULL);
  tmp[0] = x, tmp[1] = tmp[2] = NULL;
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_start_f32(pool1, e, tmp, N, o, NULL, &b), OMPB_OK);
  tmp[0] = NULL;
  free(tmp);
  release_pool(h);
  ompb_result *r = NULL;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->count, (size_t)N);
  CU_ASSERT_EQUAL(r->success_count, (size_t)N);
  CU_ASSERT_PTR_NULL(r->results);
  CU_ASSERT_FALSE(r->cancelled);
  {
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) bad += o[i] != 2.0f * i + 1;
    CU_ASSERT_EQUAL(bad, 0u);
  }
  ompb_result_free(r);
  ompb_batch_free(b);
  ompb_expr_free(e);
}

/* A task holding the one worker of a pool until released (it fails when
 * nobody released it within TH_WAIT_MS: release_pool checks). */
static atomic_int hold_started, hold_release;
static int hold_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx, (void)arg, (void)out;
  atomic_store(&hold_started, 1);
  return th_wait_equal(&hold_release, 1, TH_WAIT_MS) ? 0 : 1;
}
static ompb_batch *hold_pool(ompb_pool *p) {
  atomic_store(&hold_started, 0);
  atomic_store(&hold_release, 0);
  ompb_task t = {.fn = hold_task};
  ompb_batch *b = NULL;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(p, &t, 1, NULL, &b), OMPB_OK);
  CU_ASSERT_FATAL(th_wait_equal(&hold_started, 1, TH_WAIT_MS));
  return b;
}
static void release_pool(ompb_batch *b) {
  atomic_store(&hold_release, 1);
  ompb_result *r = NULL;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT(r && r->all_succeeded);
  ompb_result_free(r);
  ompb_batch_free(b);
}

/* Cancel: an evaluation cancelled before it ran writes nothing and is
 * reported cancelled; one cancelled while it runs leaves whole blocks
 * unwritten, every written element right, success_count the elements
 * written. A reduction cancelled leaves out[0] unwritten. */
static void cancel_leaves_blocks_unwritten(void) {
  enum { N = 64 * 1024 };
  float *x = malloc(N * sizeof *x), *o = malloc(N * sizeof *o);
  CU_ASSERT_FATAL(x && o);
  for (size_t i = 0; i < N; i++) x[i] = (float)(i % 1000), o[i] = -1;
  ompb_expr *e = compile("x + 1", XYZ, 3), *s = compile("sum(x)", XYZ, 3);
  CU_ASSERT_FATAL(e && s);
  const float *in[] = {x, NULL, NULL};
  /* queued behind a running batch, cancelled before it starts */
  ompb_batch *h = hold_pool(pool1), *b = NULL, *bs = NULL;
  float so = -1;
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_start_f32(pool1, e, in, N, o, NULL, &b), OMPB_OK);
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_start_f32(pool1, s, in, N, &so, NULL, &bs), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_cancel(bs), OMPB_OK);
  release_pool(h);
  ompb_result *r = NULL;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_EQUAL(r->success_count, 0u);
  CU_ASSERT_EQUAL(r->count, (size_t)N);
  ompb_result_free(r);
  ompb_batch_free(b);
  CU_ASSERT_EQUAL(ompb_batch_wait(bs, &r), OMPB_OK);
  CU_ASSERT(r && r->cancelled);
  ompb_result_free(r);
  ompb_batch_free(bs);
  CU_ASSERT_EQUAL(so, -1.0f);
  /* an empty reduction cancelled in the queue: a stop that cut nothing
   * leaves the batch completed, and then out[0] is written (0) */
  h = hold_pool(pool1);
  so = -1;
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_start_f32(pool1, s, in, 0, &so, NULL, &bs), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_cancel(bs), OMPB_OK);
  release_pool(h);
  r = NULL;
  CU_ASSERT_EQUAL(ompb_batch_wait(bs, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(r->cancelled ? so == -1 : so == 0);
  ompb_result_free(r);
  ompb_batch_free(bs);
  size_t written = 0;
  for (size_t i = 0; i < N; i++) written += o[i] != -1;
  CU_ASSERT_EQUAL(written, 0u);
  /* cancelled while it may be running: whatever ran is whole blocks, right */
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < N; i++) o[i] = -1;
    ompb_map_opts mo = {.chunk_size = 1024};
    CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_start_f32(round ? pool2 : pool1, e, in, N, o, &mo, &b), OMPB_OK);
    CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
    CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    size_t wrong = 0;
    written = 0;
    for (size_t blk = 0; blk < N / 1024; blk++) {
      size_t w = 0;
      for (size_t i = blk * 1024; i < (blk + 1) * 1024; i++) {
        if (o[i] != -1) {
          w++;
          if (o[i] != x[i] + 1) wrong++;
        }
      }
      if (w != 0 && w != 1024) wrong++;
      written += w;
    }
    CU_ASSERT_EQUAL(wrong, 0u);
    CU_ASSERT_EQUAL(written, r->success_count);
    CU_ASSERT(r->cancelled || written == (size_t)N);
    ompb_result_free(r);
    ompb_batch_free(b);
  }
  ompb_expr_free(e);
  ompb_expr_free(s);
  free(x), free(o);
}

/* A task that runs until its batch's deadline stops it. */
static int until_stopped_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg, (void)out;
  double end = th_now_ms() + TH_WAIT_MS;
  while (!ompb_ctx_should_stop(ctx) && th_now_ms() < end) th_sleep_ms(0.1);
  return 0;
}

/* Any alignment works, also arrays at odd byte addresses (a float at
 * address 4k + 1, as numpy's views of a byte buffer can be): the same bytes
 * as the aligned evaluation, maps and reductions, at a size large enough
 * to stream when aligned (16 MiB of output by default; an aligned
 * non-temporal store at an odd address faulted, and a float load there is
 * undefined in C: the evaluator copies such arrays block by block). Under
 * valgrind a small size. */
static void byte_misaligned_arrays(void) {
  const size_t n = slow_run() ? 5000 : ((size_t)17 << 20) / sizeof(float);
  ompb_expr *e = compile("x*2.5 + 1", XYZ, 3), *red = compile("sum(x*2.5 + 1)", XYZ, 3);
  CU_ASSERT_FATAL(e && red);
  unsigned char *raw = malloc(n * sizeof(double) + 8), *rout = malloc(n * sizeof(double) + 8);
  double *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
  CU_ASSERT_FATAL(raw && rout && x && want);
  rng_state = 77;
  for (size_t i = 0; i < n; i++) x[i] = rng_range(-4, 4);
  for (int f64 = 0; f64 < 2; f64++) {
    size_t es = f64 ? sizeof(double) : sizeof(float), m = f64 ? n / 2 : n;
    /* the aligned evaluation, and the input's bytes in the dtype */
    float *xf = (float *)x;
    if (!f64)
      for (size_t i = 0; i < m; i++) xf[i] = (float)x[i];
    const void *in[] = {x, NULL, NULL};
    int rc = f64 ? ompb_expr_eval_f64(pool2, e, (const double *const *)in, m, want, NULL)
                 : ompb_expr_eval_f32(pool2, e, (const float *const *)in, m, (float *)want, NULL);
    CU_ASSERT_EQUAL_FATAL(rc, OMPB_OK);
    for (size_t off = 1; off < 4; off += 2) {
      void *xin = raw + off, *out = rout + off;
      memcpy(xin, x, m * es);
      const void *min[] = {xin, NULL, NULL};
      rc = f64 ? ompb_expr_eval_f64(pool2, e, (const double *const *)min, m, out, NULL)
               : ompb_expr_eval_f32(pool2, e, (const float *const *)min, m, out, NULL);
      CU_ASSERT_EQUAL(rc, OMPB_OK);
      CU_ASSERT(memcmp(out, want, m * es) == 0);
      /* in place at the odd address */
      rc = f64 ? ompb_expr_eval_f64(pool2, e, (const double *const *)min, m, xin, NULL)
               : ompb_expr_eval_f32(pool2, e, (const float *const *)min, m, xin, NULL);
      CU_ASSERT_EQUAL(rc, OMPB_OK);
      CU_ASSERT(memcmp(xin, want, m * es) == 0);
      /* a reduction over an odd-address input: the aligned one's value */
      memcpy(xin, x, m * es);
      double r1[1] = {0}, r2[1] = {0};
      float f1[1] = {0}, f2[1] = {0};
      if (f64) {
        CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, red, (const double *const *)in, m, r1, NULL), OMPB_OK);
        CU_ASSERT_EQUAL(ompb_expr_eval_f64(pool2, red, (const double *const *)min, m, r2, NULL), OMPB_OK);
      } else {
        CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, red, (const float *const *)in, m, f1, NULL), OMPB_OK);
        CU_ASSERT_EQUAL(ompb_expr_eval_f32(pool2, red, (const float *const *)min, m, f2, NULL), OMPB_OK);
      }
      CU_ASSERT(memcmp(r1, r2, sizeof r1) == 0 && memcmp(f1, f2, sizeof f1) == 0);
    }
    if (!f64) /* x back to doubles for the f64 pass */
      for (size_t i = 0; i < n; i++) x[i] = rng_range(-4, 4);
  }
  free(raw);
  free(rout);
  free(x);
  free(want);
  ompb_expr_free(e);
  ompb_expr_free(red);
}

/* The batch deadline: a deadline (1 ns) that passed while the evaluation
 * waited in the pool's queue is OMPB_ETIMEDOUT with nothing written. The
 * pool is held by a batch with a 50 ms deadline; the evaluation behind it
 * starts stopped (its deadline is checked as it starts, src/run.c), if the
 * reporter has not stopped it already. */
static void deadline_times_out(void) {
  enum { N = 8192 };
  static double x[N], o[N];
  for (size_t i = 0; i < N; i++) x[i] = (double)i, o[i] = -1;
  ompb_expr *e = compile("x * x", XYZ, 3), *s = compile("sum(x)", XYZ, 3);
  CU_ASSERT_FATAL(e && s);
  const double *in[] = {x, NULL, NULL};
  ompb_map_opts mo = {.batch = {.batch_timeout_ms = 1e-6}};
  ompb_batch_opts ho = {.batch_timeout_ms = 50};
  ompb_task ht = {.fn = until_stopped_task};
  for (int form = 0; form < 2; form++) {
    ompb_pool *p = form ? pool2 : pool1;
    ompb_batch *h = NULL, *b = NULL, *bs = NULL;
    CU_ASSERT_EQUAL_FATAL(ompb_batch_start(p, &ht, 1, &ho, &h), OMPB_OK);
    double so = -1;
    ompb_result *r = NULL;
    if (form == 0) {
      CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_start_f64(p, e, in, N, o, &mo, &b), OMPB_OK);
      CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_start_f64(p, s, in, N, &so, &mo, &bs), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_ETIMEDOUT);
      CU_ASSERT(r && r->cancelled && r->timed_out && r->success_count == 0);
      ompb_result_free(r);
      ompb_batch_free(b);
      r = NULL;
      CU_ASSERT_EQUAL(ompb_batch_wait(bs, &r), OMPB_ETIMEDOUT);
      ompb_result_free(r);
      ompb_batch_free(bs);
    } else { /* the synchronous forms return the code (each queued
              * behind its own holder: the first returns after the holder) */
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(p, e, in, N, o, &mo), OMPB_ETIMEDOUT);
      CU_ASSERT_EQUAL(ompb_batch_wait(h, &r), OMPB_ETIMEDOUT);
      ompb_result_free(r);
      ompb_batch_free(h);
      CU_ASSERT_EQUAL_FATAL(ompb_batch_start(p, &ht, 1, &ho, &h), OMPB_OK);
      CU_ASSERT_EQUAL(ompb_expr_eval_f64(p, s, in, N, &so, &mo), OMPB_ETIMEDOUT);
    }
    r = NULL;
    CU_ASSERT_EQUAL(ompb_batch_wait(h, &r), OMPB_ETIMEDOUT);
    ompb_result_free(r);
    ompb_batch_free(h);
    CU_ASSERT_EQUAL(so, -1);
    size_t written = 0;
    for (size_t i = 0; i < N; i++) written += o[i] != -1;
    CU_ASSERT_EQUAL(written, 0u);
  }
  ompb_expr_free(e);
  ompb_expr_free(s);
}

/* Called from inside a parallel region, each thread's evaluation runs in
 * its team, not on the pool's workers: it completes while the pool's only
 * worker is held by another batch, and gives the same values (and the same
 * sums) as outside. */
static void nested_in_parallel_region(void) {
  enum { N = 3000, T = 4 };
  static double x[N], want[N], o[T][N];
  for (size_t i = 0; i < N; i++) x[i] = 0.001 * (double)i;
  ompb_expr *e = compile("exp(-x) * cos(x) + 1", XYZ, 3);
  ompb_expr *s = compile("sum(x * 2)", XYZ, 3);
  CU_ASSERT_FATAL(e && s);
  const double *in[] = {x, NULL, NULL};
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_f64(pool2, e, in, N, want, NULL), OMPB_OK);
  double swant = 0;
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_f64(pool2, s, in, N, &swant, NULL), OMPB_OK);
  int rcs[T], rcs2[T], team = 0;
  double sums[T];
  ompb_batch *h = hold_pool(pool1);
#pragma omp parallel num_threads(T)
  {
    int t = omp_get_thread_num();
#pragma omp single
    team = omp_get_num_threads();
    if (t < T) {
      rcs[t] = ompb_expr_eval_f64(pool1, e, in, N, o[t], NULL);
      rcs2[t] = ompb_expr_eval_f64(pool1, s, in, N, &sums[t], NULL);
    }
  }
  /* every call returned with the holder still running (it fails if it
   * was not released in time) */
  release_pool(h);
  CU_ASSERT(team >= 1 && team <= T);
  for (int t = 0; t < team; t++) {
    CU_ASSERT_EQUAL(rcs[t], OMPB_OK);
    CU_ASSERT_EQUAL(rcs2[t], OMPB_OK);
    CU_ASSERT_EQUAL(memcmp(o[t], want, sizeof want), 0);
    CU_ASSERT_EQUAL(memcmp(&sums[t], &swant, sizeof swant), 0);
  }
  ompb_expr_free(e);
  ompb_expr_free(s);
}

/* One compiled expression evaluated by several threads at once, on one
 * pool and on several: every result is the single-threaded one. */
struct conc {
  const ompb_expr *e;
  ompb_pool *pool;
  const float *x, *y;
  float *o;
  size_t n;
  int rc;
};
static void *conc_thread(void *arg) {
  struct conc *c = arg;
  const float *in[] = {c->x, c->y, NULL};
  c->rc = OMPB_OK;
  for (int k = 0; k < (slow_run() ? 2 : 5) && c->rc == OMPB_OK; k++) c->rc = ompb_expr_eval_f32(c->pool, c->e, in, c->n, c->o, NULL);
  return NULL;
}
static void concurrent_evaluations(void) {
  enum { N = 5000, T = 6 };
  static float x[N], y[N], want[N], o[T][N];
  rng_state = 3;
  for (size_t i = 0; i < N; i++) x[i] = (float)rng_range(-2, 2), y[i] = (float)rng_range(-2, 2);
  ompb_expr *e = compile("hypot(x, y) * tanh(x - y) + where(x < y, 1, -1)", XYZ, 3);
  CU_ASSERT_FATAL(e != NULL);
  const float *in[] = {x, y, NULL};
  CU_ASSERT_EQUAL_FATAL(ompb_expr_eval_f32(pool1, e, in, N, want, NULL), OMPB_OK);
  pthread_t th[T];
  struct conc c[T];
  ompb_pool *pools[] = {pool1, pool2, pool16};
  for (int t = 0; t < T; t++) {
    c[t] = (struct conc){e, pools[t % 3], x, y, o[t], N, -1};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, conc_thread, &c[t]), 0);
  }
  for (int t = 0; t < T; t++) {
    pthread_join(th[t], NULL);
    CU_ASSERT_EQUAL(c[t].rc, OMPB_OK);
    CU_ASSERT_EQUAL(memcmp(o[t], want, sizeof want), 0);
  }
  ompb_expr_free(e);
}

/* ---- differential test: random trees against a tree-walking evaluator ----
 *
 * Each tree is rendered to source text (fully parenthesised, so that the
 * tree is what the parser must build; exponents as `(a)**-0.5`), compiled,
 * evaluated in f32 and f64 and compared element by element with a
 * straightforward long double evaluation of the tree (libm's long double
 * functions). The evaluator also carries a first-order bound E of the
 * absolute error the library may make at each node, in units of the dtype
 * (u = 2^-24 or 2^-53): rounding of every operation and literal, the
 * functions' 1-ULP bounds (2u|v| here), propagated through each operation
 * by its derivative. A result must be within 4E + the smallest subnormal;
 * NaN and inf must be where the reference has them, exactly. Where the
 * result is not determined by the bound (a comparison, where or floor whose
 * operands are within their error of the switch point, a log/sqrt/pow/
 * division whose operand is within its error of 0, a value near the
 * dtype's overflow threshold), the element is not compared, and neither is
 * anything computed from it; the test asserts that most elements are.
 * Under valgrind, whose x87 emulation computes long double in double
 * precision (and 1/0.0L as LDBL_MAX), the trees are compiled and evaluated
 * but not compared. */
enum dop { D_VAR, D_CONST, D_NEG, D_ADD, D_SUB, D_MUL, D_DIV, D_POW, D_FN, D_MIN, D_MAX, D_CMP,
           D_WHERE, D_HYPOT, D_FDIV, D_COUNT };
static const char *const dfn[] = {"sin", "cos", "tanh", "atan", "exp", "log", "sqrt", "abs",
                                  "floor", "arctan", "expm1", "log1p", "cbrt", "sigmoid", "erf",
                                  "log2", "log10", "arcsinh", "sinh", "exp_fast", "sin_fast",
                                  "cos_fast", "trunc", "round", "sign", "isnan", "isfinite"};
#define N_DFN (sizeof dfn / sizeof dfn[0])
static const double dpow[] = {2, 3, -1, -2, 0.5, 1.5, -0.5, 2.5, 0, 1, 4};
static const double dconst[] = {2, 0.5, 3.25, 1e-3, 1.7, 10, 0.1, 7, 1e5, 0.3333};
static const char *const dcmp[] = {"<", "<=", ">", ">=", "==", "!="};
#define DVARS 4
/* Trees stop growing at DSOFTNODES nodes; nodes already started may add up
 * to 3 siblings per level (a where has 4 operands) of at most 7 levels. */
#define DSOFTNODES 60
#define DMAXNODES (DSOFTNODES + 32)

struct dnode {
  int op, sub; /* D_FN: dfn index; D_CMP: dcmp index; D_VAR: variable */
  int a, b, c, d;
  double v; /* D_CONST value, D_POW exponent */
};
struct dtree {
  struct dnode n[DMAXNODES];
  int count;
};

static int dgen(struct dtree *t, int depth) {
  if (t->count >= DSOFTNODES) depth = 0;
  int id = t->count++;
  struct dnode *n = &t->n[id];
  memset(n, 0, sizeof *n);
  n->a = n->b = n->c = n->d = -1;
  unsigned r = (unsigned)(rng_next() % 100);
  if (depth == 0 || r < 12) {
    if (rng_next() % 5 == 0) {
      n->op = D_CONST;
      n->v = dconst[rng_next() % (sizeof dconst / sizeof dconst[0])];
    } else {
      n->op = D_VAR;
      n->sub = (int)(rng_next() % DVARS);
    }
    return id;
  }
  static const int ops[] = {D_NEG, D_ADD, D_ADD, D_SUB, D_SUB, D_MUL, D_MUL, D_DIV, D_POW,
                            D_FN,  D_FN,  D_FN,  D_MIN, D_MAX, D_CMP, D_WHERE, D_HYPOT,
                            D_FDIV};
  int op = ops[rng_next() % (sizeof ops / sizeof ops[0])];
  n->op = op;
  switch (op) {
  case D_NEG: n->a = dgen(t, depth - 1); break;
  case D_POW:
    n->v = dpow[rng_next() % (sizeof dpow / sizeof dpow[0])];
    n->a = dgen(t, depth - 1);
    break;
  case D_FN:
    n->sub = (int)(rng_next() % N_DFN);
    n->a = dgen(t, depth - 1);
    break;
  case D_WHERE:
    n->sub = (int)(rng_next() % 6);
    n->a = dgen(t, depth - 1);
    n->b = dgen(t, depth - 1);
    n->c = dgen(t, depth - 1);
    n->d = dgen(t, depth - 1);
    break;
  case D_CMP: n->sub = (int)(rng_next() % 6); /* fall through */
  default:
    n->a = dgen(t, depth - 1);
    n->b = dgen(t, depth - 1);
    break;
  }
  t->n[id] = *n;
  return id;
}

/* Render node id into buf at *len (bounded by cap). */
static void drender(const struct dtree *t, int id, char *buf, size_t *len, size_t cap) {
  const struct dnode *n = &t->n[id];
#define OUT(...) (*len += (size_t)snprintf(buf + *len, *len < cap ? cap - *len : 0, __VA_ARGS__))
#define SUB(k) drender(t, k, buf, len, cap)
  static const char *binop[] = {[D_ADD] = " + ", [D_SUB] = " - ", [D_MUL] = " * ", [D_DIV] = " / ",
                                [D_FDIV] = " // "};
  switch (n->op) {
  case D_VAR: OUT("%c", 'a' + n->sub); break;
  case D_CONST: OUT("%.17g", n->v); break;
  case D_NEG: OUT("-("), SUB(n->a), OUT(")"); break;
  case D_ADD: case D_SUB: case D_MUL: case D_DIV: case D_FDIV:
    OUT("("), SUB(n->a), OUT("%s", binop[n->op]), SUB(n->b), OUT(")");
    break;
  case D_POW: OUT("("), SUB(n->a), OUT(")**%s%.17g%s", n->v < 0 && (id & 1) ? "(" : "", n->v, n->v < 0 && (id & 1) ? ")" : ""); break;
  case D_FN: OUT("%s(", dfn[n->sub]), SUB(n->a), OUT(")"); break;
  case D_MIN: case D_MAX: OUT(n->op == D_MIN ? "minimum(" : "maximum("), SUB(n->a), OUT(", "), SUB(n->b), OUT(")"); break;
  case D_CMP: OUT("(("), SUB(n->a), OUT(") %s (", dcmp[n->sub]), SUB(n->b), OUT("))"); break;
  case D_WHERE:
    OUT("where("), SUB(n->a), OUT(" %s ", dcmp[n->sub]), SUB(n->b), OUT(", "), SUB(n->c), OUT(", "), SUB(n->d), OUT(")");
    break;
  case D_HYPOT: OUT("hypot("), SUB(n->a), OUT(", "), SUB(n->b), OUT(")"); break;
  }
#undef OUT
#undef SUB
}

/* A reference value: v, its error bound e, and whether it is determined. */
struct dval {
  long double v, e;
  bool ok;
};

static bool dcompare(int sub, long double a, long double b) {
  switch (sub) {
  case 0: return a < b;
  case 1: return a <= b;
  case 2: return a > b;
  case 3: return a >= b;
  case 4: return a == b;
  default: return a != b;
  }
}

/* The comparison a op b, undetermined when a and b are within their errors
 * of each other (and not both exact). */
static bool dcmp_ok(struct dval a, struct dval b) {
  if (!a.ok || !b.ok) return false;
  if (isnan(a.v) || isnan(b.v) || isinf(a.v) || isinf(b.v)) return true;
  long double s = a.e + b.e;
  return s == 0 || fabsl(a.v - b.v) > s;
}

static struct dval deval(const struct dtree *t, int id, const long double *x, long double u,
                         long double big, long double tiny) {
  const struct dnode *n = &t->n[id];
  struct dval r = {0, 0, true}, a = {0, 0, true}, b = a, c = a, d = a;
  if (n->a >= 0) a = deval(t, n->a, x, u, big, tiny);
  if (n->b >= 0) b = deval(t, n->b, x, u, big, tiny);
  if (n->c >= 0) c = deval(t, n->c, x, u, big, tiny);
  if (n->d >= 0) d = deval(t, n->d, x, u, big, tiny);
  r.ok = a.ok && b.ok;
  bool fa = isfinite(a.v), fb = isfinite(b.v);
  /* an operand near 0 whose sign or zeroness is unsure */
#define NEAR0(q) ((q).e > 0 && fabsl((q).v) <= (q).e)
  switch (n->op) {
  case D_VAR: r.v = x[n->sub]; break;
  case D_CONST: r.v = n->v, r.e = u * fabsl(n->v); break;
  case D_NEG: r.v = -a.v, r.e = a.e; break;
  case D_ADD: case D_SUB:
    r.v = n->op == D_ADD ? a.v + b.v : a.v - b.v;
    r.e = a.e + b.e + u * fabsl(r.v);
    break;
  case D_MUL:
    r.v = a.v * b.v;
    r.e = fabsl(a.v) * b.e + fabsl(b.v) * a.e + a.e * b.e + u * fabsl(r.v);
    if ((!fa && NEAR0(b)) || (!fb && NEAR0(a))) r.ok = false;
    break;
  case D_DIV:
    r.v = a.v / b.v;
    if (NEAR0(b) || (!fa && NEAR0(b)) || (!fb && NEAR0(a)) || (b.v == 0 && NEAR0(a))) r.ok = false;
    else r.e = (a.e + fabsl(r.v) * b.e) / (fabsl(b.v) - b.e) + u * fabsl(r.v);
    break;
  case D_POW: {
    long double p = n->v;
    r.v = p == 0.5 ? sqrtl(a.v) : powl(a.v, p);
    if (p == 0) r.v = 1, r.e = 0; /* x**0 is 1, even for NaN */
    else if (p == 1) r.v = a.v, r.e = a.e;
    else if (NEAR0(a)) r.ok = false;
    else r.e = (a.v == 0 ? 0 : fabsl(p) * fabsl(r.v) * a.e / fabsl(a.v)) + 3 * u * fabsl(r.v);
    break;
  }
  case D_FN: {
    long double v = a.v, ea = a.e, y = 0, dy = 1; /* dy: |f'| bound near v */
    long double fu = 2; /* the function's own error, in u|y|: 1 ULP, 2.5 ULP, 3.5 ULP */
    char fbase[32];
    const char *f = dfn[n->sub];
    if (strstr(f, "_fast")) {
      fu = 4;
      if (fabsl(v) > 1e6) r.ok = false; /* the _fast trig kernels' domain */
      f = base_of(f, fbase, sizeof fbase);
    }
    if (!strcmp(f, "sin")) y = sinl(v);
    else if (!strcmp(f, "cos")) y = cosl(v);
    else if (!strcmp(f, "sigmoid")) y = 1 / (1 + expl(-v)), dy = 0.25, fu = 3;
    else if (!strcmp(f, "erf")) y = erfl(v), dy = 1.13L;
    else if (!strcmp(f, "arcsinh")) y = asinhl(v);
    else if (!strcmp(f, "sinh")) y = sinhl(v), dy = coshl(fabsl(v) + ea);
    else if (!strcmp(f, "log2") || !strcmp(f, "log10")) {
      y = !strcmp(f, "log2") ? log2l(v) : log10l(v);
      if (ea > 0 && v <= ea * 2) r.ok = false;
      dy = ea > 0 ? 1 / (v - ea) : 0;
    }
    else if (!strcmp(f, "tanh")) y = tanhl(v);
    else if (!strcmp(f, "atan") || !strcmp(f, "arctan")) y = atanl(v);
    else if (!strcmp(f, "exp")) y = expl(v), dy = expl(v + ea);
    else if (!strcmp(f, "expm1")) y = expm1l(v), dy = expl(v + ea);
    else if (!strcmp(f, "log") || !strcmp(f, "log1p")) {
      long double w = !strcmp(f, "log") ? v : 1 + v; /* the pole's distance */
      y = !strcmp(f, "log") ? logl(v) : log1pl(v);
      if (ea > 0 && w <= ea * 2) r.ok = false;
      dy = ea > 0 ? 1 / (w - ea) : 0;
    } else if (!strcmp(f, "sqrt")) {
      y = sqrtl(v);
      if (NEAR0(a)) r.ok = false;
      dy = v > ea ? 0.5L / sqrtl(v - ea) : 0;
    } else if (!strcmp(f, "cbrt")) {
      y = cbrtl(v);
      if (NEAR0(a)) r.ok = false;
      dy = fabsl(v) > ea ? 1 / (3 * cbrtl((fabsl(v) - ea) * (fabsl(v) - ea))) : 0;
    } else if (!strcmp(f, "abs")) y = fabsl(v);
    else if (!strcmp(f, "floor")) {
      y = floorl(v);
      if (ea > 0 && (v - y <= ea || y + 1 - v <= ea)) r.ok = false;
      dy = 0;
    } else if (!strcmp(f, "trunc") || !strcmp(f, "round")) {
      /* exact; undetermined within the error of a switch point (the
       * integers, the halves) */
      const bool tr = !strcmp(f, "trunc");
      y = tr ? truncl(v) : nearbyintl(v);
      const long double sw = tr ? roundl(v) : floorl(v) + 0.5L;
      if (ea > 0 && fabsl(v - sw) <= ea) r.ok = false;
      dy = 0, fu = 0;
    } else if (!strcmp(f, "sign")) {
      y = v > 0 ? 1 : v < 0 ? -1 : v == 0 ? 0 : v;
      if (NEAR0(a)) r.ok = false;
      dy = 0, fu = 0;
    } else if (!strcmp(f, "isnan") || !strcmp(f, "isfinite")) {
      y = !strcmp(f, "isnan") ? isnan(v) != 0 : isfinite(v) != 0;
      dy = 0, fu = 0;
    }
    r.v = y;
    r.e = (isfinite(v) ? dy * ea : 0) + fu * u * fabsl(y);
    break;
  }
  case D_MIN: case D_MAX:
    r.v = isnan(a.v) || isnan(b.v) ? NAN : (n->op == D_MIN) == (a.v < b.v) ? a.v : b.v;
    r.e = a.e > b.e ? a.e : b.e;
    break;
  case D_CMP:
    r.v = dcompare(n->sub, a.v, b.v), r.e = 0;
    r.ok = dcmp_ok(a, b);
    break;
  case D_WHERE: {
    bool cond = dcompare(n->sub, a.v, b.v);
    r.ok = dcmp_ok(a, b) && (cond ? c.ok : d.ok);
    r.v = cond ? c.v : d.v;
    r.e = cond ? c.e : d.e;
    break;
  }
  case D_HYPOT:
    r.v = hypotl(a.v, b.v);
    r.e = a.e + b.e + u * fabsl(r.v);
    break;
  case D_FDIV: /* numpy's floor_divide: floor(a / b) but for the specials */
    if (NEAR0(b) || (b.v == 0 && NEAR0(a))) {
      r.ok = false;
    } else if (b.v == 0) {
      r.v = a.v / b.v; /* +-inf, NaN for 0 // 0 */
    } else if (isnan(a.v) || isnan(b.v) || isinf(a.v)) {
      r.v = NAN; /* fmod's NaN */
    } else if (isinf(b.v)) { /* 0, or -1 where a and b differ in sign */
      r.v = a.v == 0 || (a.v < 0) == (b.v < 0) ? 0 : -1;
      if (NEAR0(a)) r.ok = false;
    } else {
      long double q = a.v / b.v, fl = floorl(q);
      long double qe = (a.e + fabsl(q) * b.e) / (fabsl(b.v) - b.e) + u * fabsl(q);
      if (qe < fabsl(q) * 0x1p-60L) qe = fabsl(q) * 0x1p-60L; /* q's own rounding */
      r.v = fl;
      if (fabsl(q) >= 0x1p20L || q - fl <= qe || fl + 1 - q <= qe) r.ok = false;
    }
    break;
  }
#undef NEAR0
  r.e += tiny;
  if (!isfinite(r.v)) r.e = 0;
  if (isnan(r.e) || (isfinite(r.v) && fabsl(r.v) + 4 * r.e > big)) r.ok = false;
  return r;
}

static uint64_t diff_seed(void) {
  const char *s = getenv("OMPB_TEST_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 20261207u;
}

static void random_trees_match_reference(void) {
  const uint64_t seed = diff_seed();
  const int ntrees = slow_run() ? 40 : 400;
  enum { N = 67, NV = DVARS };
  static double in64[NV][N], o64[N];
  static float in32[NV][N], o32[N];
  char src[8192];
  const char *vars[NV] = {"a", "b", "c", "d"};
  size_t compared = 0, total = 0, failures = 0;
  rng_state = seed * 0x9e3779b97f4a7c15u + 1;
  for (int ti = 0; ti < ntrees && failures < 5; ti++) {
    /* inputs: mostly [-3, 3], some specials */
    for (int k = 0; k < NV; k++)
      for (int i = 0; i < N; i++) {
        unsigned r = (unsigned)(rng_next() % 40);
        double v = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY : r == 3 ? 0.0
                 : r == 4 ? -0.0 : rng_range(-3, 3);
        in32[k][i] = (float)v;
        in64[k][i] = (double)in32[k][i]; /* the same values in both dtypes */
      }
    struct dtree t = {.count = 0};
    int root = dgen(&t, 2 + (int)(rng_next() % 5));
    size_t len = 0;
    drender(&t, root, src, &len, sizeof src);
    CU_ASSERT_FATAL(len < sizeof src);
    ompb_expr *e = NULL;
    ompb_expr_diag dg;
    int rc = ompb_expr_compile(src, vars, NV, &e, &dg);
    if (rc != OMPB_OK) {
      fprintf(stderr, "\n  seed %llu tree %d: compile failed at %zu (%s): %s\n",
              (unsigned long long)seed, ti, dg.pos, dg.message, src);
      CU_FAIL("random tree did not compile");
      failures++;
      continue;
    }
    const double *i64[NV] = {in64[0], in64[1], in64[2], in64[3]};
    const float *i32[NV] = {in32[0], in32[1], in32[2], in32[3]};
    ompb_pool *p = ti % 3 == 0 ? pool1 : ti % 3 == 1 || (slow_run() && ti % 10) ? pool2 : pool16;
    CU_ASSERT_EQUAL(ompb_expr_eval_f64(p, e, i64, N, o64, NULL), OMPB_OK);
    CU_ASSERT_EQUAL(ompb_expr_eval_f32(p, e, i32, N, o32, NULL), OMPB_OK);
    ompb_expr_free(e);
    for (int dt = 0; dt < 2; dt++) {
      long double u = dt ? 0x1p-53L : 0x1p-24L;
      long double big = dt ? DBL_MAX / 4 : FLT_MAX / 4;
      long double tiny = dt ? 0x1p-1074L : 0x1p-149L;
      for (int i = 0; i < N; i++) {
        long double xv[NV];
        for (int k = 0; k < NV; k++) xv[k] = dt ? in64[k][i] : in32[k][i];
        struct dval r = deval(&t, root, xv, u, big, tiny);
        double got = dt ? o64[i] : (double)o32[i];
        total++;
        if (!r.ok || slow_run()) continue;
        compared++;
        bool ok;
        if (isnan(r.v) || isinf(r.v)) ok = isnan(r.v) ? isnan(got) : got == (double)r.v;
        else ok = isfinite(got) && fabsl(got - r.v) <= 4 * r.e;
        if (!ok && failures < 5) {
          failures++;
          fprintf(stderr, "\n  seed %llu tree %d %s element %d: got %.17g want %.17Lg (err bound %.3Lg)\n"
                  "  a=%.17g b=%.17g c=%.17g d=%.17g\n  %s\n  (replay: OMPB_TEST_SEED=%llu)\n",
                  (unsigned long long)seed, ti, dt ? "f64" : "f32", i, got, r.v, 4 * r.e,
                  (double)xv[0], (double)xv[1], (double)xv[2], (double)xv[3], src,
                  (unsigned long long)seed);
        }
      }
    }
  }
  CU_ASSERT_EQUAL(failures, 0u);
  /* most elements are determined by the bound and compared */
  if (ulp_verbose()) printf("\n  seed %llu: %zu of %zu elements compared", (unsigned long long)seed, compared, total);
  if (compared * 10 < total * 6 && !slow_run())
    fprintf(stderr, "\n  only %zu of %zu elements compared\n", compared, total);
  CU_ASSERT(compared * 10 >= total * 6 || slow_run());
}

/* ---- the ISA ---- */
/* The suite holds at whichever ISA the kernels chose (OMPB_SIMD forces
 * one; `make check` runs the suite under each the CPU supports): check
 * that the forced one is the one in use, so that those runs test what
 * they claim to. */
static void runs_at_the_forced_isa(void) {
  const char *want = getenv("OMPB_SIMD");
  const char *isa = ompb_simd_isa();
  CU_ASSERT_PTR_NOT_NULL_FATAL(isa);
  if (want && *want && strcmp(want, isa) != 0)
    fprintf(stderr, "\n  OMPB_SIMD=%s not usable here: running at %s\n", want, isa);
  if (want && *want && (!strcmp(want, "scalar") || !strcmp(want, "sse2")))
    CU_ASSERT_STRING_EQUAL(isa, want); /* every x86-64 CPU runs these */
}

/* The function table: names unique, each compiles with its argument
 * count, each kernel's bound is documented. */
static void function_table(void) {
  size_t n = ompb_expr_func_count();
  CU_ASSERT(n >= 60);
  CU_ASSERT_PTR_NULL(ompb_expr_func_at(n));
  for (size_t i = 0; i < n; i++) {
    const ompb_expr_func *f = ompb_expr_func_at(i);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT(f->name && f->what && f->nargs >= 1 && f->nargs <= 3);
    for (size_t j = 0; j < i; j++) CU_ASSERT(strcmp(ompb_expr_func_at(j)->name, f->name) != 0);
    if (f->kernel) CU_ASSERT(f->kernel->ulp_f32 >= 0 && f->kernel->ulp_f64 >= 0 && f->kernel->ulp_f64 <= 4);
    char src[64];
    snprintf(src, sizeof src, "%s(x%s%s)", f->name, f->nargs > 1 ? ", y" : "", f->nargs > 2 ? ", z" : "");
    ompb_expr *e = compile(src, XYZ, 3);
    CU_ASSERT_EQUAL(ompb_expr_is_reduction(e), f->reduction);
    ompb_expr_free(e);
  }
  static const char *must[] = {"sin", "exp", "log1p", "erf", "sigmoid", "sin_fast", "arcsin", "arccos",
                               "arctan", "arcsinh", "arccosh", "arctanh", "asinh", "acosh", "atanh",
                               "abs", "sqrt", "minimum", "maximum", "atan2", "arctan2", "hypot", "pow",
                               "atan2_fast", "hypot_fast", "fmod", "where", "sum", "prod", "min", "max", "mean"};
  for (size_t k = 0; k < sizeof must / sizeof must[0]; k++) {
    bool found = false;
    for (size_t i = 0; i < n; i++) found |= strcmp(ompb_expr_func_at(i)->name, must[k]) == 0;
    if (!found) fprintf(stderr, "\n  missing function %s\n", must[k]);
    CU_ASSERT(found);
  }
  /* kernels with parameters are not functions */
  static const char *no[] = {"scale", "affine", "clamp", "axpy", "add_scalar"};
  for (size_t k = 0; k < 5; k++) {
    char src[32];
    snprintf(src, sizeof src, "%s(x)", no[k]);
    expect_error(src, XYZ, 3, OMPB_EINVAL, 0, no[k]);
  }
}

/* ---- fused runs against the unfused program ----
 * The compiled program run again one operation at a time over whole
 * arrays, a fused run (OMPB__XI_FUSED) expanded into the block operations
 * and kernels its operations stand for (kernels/expr_ops.h): the
 * evaluator, which runs the runs strip by strip, must give the same bits,
 * at every length, in place, and when its stores stream. */
typedef struct {
  bool f64;
  size_t n;
} uref;

static void uref_op(const uref *u, unsigned code, void *const *v, const float *pf,
                    const double *pd) {
  const ompb__expr_ops *x = ompb__expr_ops_active();
  const ompb__simd_table *t = ompb__simd_active();
  void *d = v[4];
  const void *a = v[0], *b = v[1], *c = v[2], *e = v[3];
  const size_t n = u->n;
  if (code >= OMPB__XR_SELK) {
    /* the K forms: operand b is the constant p0, as a block */
    void *k = malloc((n ? n : 1) * (u->f64 ? sizeof(double) : sizeof(float)));
    CU_ASSERT_FATAL(k != NULL);
    for (size_t i = 0; i < n; i++) {
      if (u->f64) ((double *)k)[i] = pd[0];
      else ((float *)k)[i] = pf[0];
    }
    const unsigned plain = code >= OMPB__XR_TRIK ? OMPB__XR_TRI + (code - OMPB__XR_TRIK)
                                                 : OMPB__XR_SEL + (code - OMPB__XR_SELK);
    uref_op(u, plain, (void *[]){(void *)a, k, (void *)c, (void *)e, d}, pf, pd);
    free(k);
    return;
  }
  if (code < OMPB__XR_TRI) {
    if (u->f64) x->bin_f64[code](a, b, d, n);
    else x->bin_f32[code](a, b, d, n);
  } else if (code < OMPB__XR_SEL) {
    if (u->f64) x->tri_f64[code - OMPB__XR_TRI](a, b, c, d, n);
    else x->tri_f32[code - OMPB__XR_TRI](a, b, c, d, n);
  } else if (code < OMPB__XR_NEG) {
    if (u->f64) x->sel_f64[code - OMPB__XR_SEL](a, b, c, e, d, n);
    else x->sel_f32[code - OMPB__XR_SEL](a, b, c, e, d, n);
  } else if (code <= OMPB__XR_SQRT) {
    static const int un[] = {OMPB__EU_NEG, OMPB__EU_FLOOR, OMPB__EU_CEIL, OMPB__EU_SQRT};
    if (u->f64) x->un_f64[un[code - OMPB__XR_NEG]](a, d, n);
    else x->un_f32[un[code - OMPB__XR_NEG]](a, d, n);
  } else if (code >= OMPB__XR_ROUND && code <= OMPB__XR_SIGN) {
    static const int un[] = {OMPB__EU_ROUND, OMPB__EU_TRUNC, OMPB__EU_SIGN};
    if (u->f64) x->un_f64[un[code - OMPB__XR_ROUND]](a, d, n);
    else x->un_f32[un[code - OMPB__XR_ROUND]](a, d, n);
  } else {
    const int k = code == OMPB__XR_SCALE ? OMPB__K1_scale : code == OMPB__XR_ADDS ? OMPB__K1_add_scalar
                  : code == OMPB__XR_AFFINE ? OMPB__K1_affine : OMPB__K1_abs;
    if (u->f64) t->f64[k](a, d, n, code == OMPB__XR_ABS ? NULL : pd);
    else t->f32[k](a, d, n, code == OMPB__XR_ABS ? NULL : pf);
  }
}

/* e's program (not a reduction) over n elements of in (e->nvars arrays)
 * into out. */
static void unfused_eval(const ompb_expr *e, bool f64, const void *const *in, size_t n, void *out) {
  const ompb__expr_ops *x = ompb__expr_ops_active();
  const ompb__simd_table *t = ompb__simd_active();
  const size_t es = f64 ? sizeof(double) : sizeof(float), nn = n ? n : 1;
  uref u = {f64, n};
  void **slot = calloc(e->nslots, sizeof *slot);
  char *mem = malloc((e->nconst + e->ntemp + 1) * nn * es);
  void *strips[OMPB__XR_MAX_STRIPS];
  char *smem = malloc(OMPB__XR_MAX_STRIPS * nn * es);
  CU_ASSERT_FATAL(slot && mem && smem);
  for (size_t k = 0; k < e->nvars; k++) slot[k] = (void *)in[k];
  for (size_t k = 0; k < e->nconst + e->ntemp + 1; k++) slot[e->nvars + k] = mem + k * nn * es;
  for (size_t k = 0; k < e->nconst; k++)
    for (size_t i = 0; i < n; i++) {
      if (f64) ((double *)slot[e->nvars + k])[i] = e->consts[k];
      else ((float *)slot[e->nvars + k])[i] = (float)e->consts[k];
    }
  for (size_t k = 0; k < OMPB__XR_MAX_STRIPS; k++) strips[k] = smem + k * nn * es;
  for (size_t i = 0; i < e->nins; i++) {
    const struct ompb__xins *q = &e->ins[i];
    void *d = slot[q->dst];
    const void *a = q->a < e->nslots ? slot[q->a] : NULL, *b = q->b < e->nslots ? slot[q->b] : NULL;
    const void *c = q->c < e->nslots ? slot[q->c] : NULL, *dd = q->d < e->nslots ? slot[q->d] : NULL;
    switch (q->kind) {
    case OMPB__XI_K1:
      if (f64) t->f64[q->op](a, d, n, q->has_params ? (const void *)q->pd : NULL);
      else t->f32[q->op](a, d, n, q->has_params ? (const void *)q->pf : NULL);
      break;
    case OMPB__XI_K2:
      if (f64) t->f64_2[q->op](a, b, d, n, NULL);
      else t->f32_2[q->op](a, b, d, n, NULL);
      break;
    case OMPB__XI_UN:
      if (f64) x->un_f64[q->op](a, d, n);
      else x->un_f32[q->op](a, d, n);
      break;
    case OMPB__XI_BIN: uref_op(&u, OMPB__XR_BIN + q->op, (void *[]){(void *)a, (void *)b, NULL, NULL, d}, NULL, NULL); break;
    case OMPB__XI_TRI: uref_op(&u, OMPB__XR_TRI + q->op, (void *[]){(void *)a, (void *)b, (void *)c, NULL, d}, NULL, NULL); break;
    case OMPB__XI_SEL:
      uref_op(&u, OMPB__XR_SEL + q->op, (void *[]){(void *)a, (void *)b, (void *)c, (void *)dd, d}, NULL, NULL);
      break;
    case OMPB__XI_COPY: memmove(d, a, n * es); break;
    case OMPB__XI_FUSED: {
      const struct ompb__xprun *r = &e->runs[q->a];
      for (size_t k = 0; k < r->run.nops; k++) {
        const struct ompb__xrop *o = &r->run.ops[k];
        const uint8_t ix[5] = {o->a, o->b, o->c, o->d, o->dst};
        void *v[5];
        for (int j = 0; j < 5; j++)
          v[j] = ix[j] < r->run.next ? slot[r->ext[ix[j]]] : strips[ix[j] - r->run.next];
        uref_op(&u, o->code, v, o->pf, o->pd);
      }
      break;
    }
    }
  }
  memcpy(out, slot[e->nslots - 1], n * es);
  free(slot), free(mem), free(smem);
}

/* The same bits, except that a NaN matches any NaN: the sign of a NaN
 * that an operation passes on depends on the instruction the compiler
 * picked for it (vfmsub keeps c's sign where fma(a, b, -c) flips it), in
 * the block operations' own vector and scalar loops alike. */
static bool same_bits(const void *a, const void *b, size_t n, bool f64) {
  for (size_t i = 0; i < n; i++) {
    const double x = f64 ? ((const double *)a)[i] : ((const float *)a)[i];
    const double y = f64 ? ((const double *)b)[i] : ((const float *)b)[i];
    const size_t es = f64 ? sizeof(double) : sizeof(float);
    if (isnan(x) && isnan(y)) continue;
    if (memcmp((const char *)a + i * es, (const char *)b + i * es, es) != 0) return false;
  }
  return true;
}

static void fused_runs_give_the_unfused_bits(void) {
  static const char *srcs[] = {
      "sqrt(x*x + y*y)",
      "where(x > 0, log(x), -x)",
      "x*y - z", "z - x*y", "-(x*y)", "-x*y", "x*y + z",
      "(x + y) * (x - z) / (y + 1.5)",
      "minimum(x, y) + maximum(y, z)",
      "(x < y) + (x <= z) + (x > y)*2 + (x >= z) - (x == y) + (y != z)",
      "where(x < y, x, z) + where(x <= y, y, -z) + where(x >= z, 1, 2) + where(x == y, z, y)",
      "where(x != z, x, -y) * where(x > y, z, -x) - where(x < z, y, -z)",
      "where(x, y, z)*3 + 1",
      "floor(x*4) + ceil(y*2) + abs(z - 1)",
      "2*x + 1 - 3*(y - 0.5)",
      "sin(x*y + z) * cos(x - y) + exp(-x*x)",
      "sqrt(abs(x)) * 0.25 + y**2 - z**3",
      "2*sin_fast(x) + exp_fast(-x*x)",
      "x + y*z",
      /* constant sides: the K forms (where(x > 0, ..) holds its 0 in a register) */
      "where(0.5 <= x, y*2 + z, 1.5 - z*3) + where(x != 1, -x, y)",
      "where(2 > y, z, -x) * where(x == 0, y, z) + where(-1 >= z, x, -y)",
      "where(y < -0.25, x, -z) - where(x > 0, log(abs(x) + 1), -x) * 3 + 2.5*y",
      "where(y >= 0.5, z*2, y)", "where(1 > x, sin(x), -x)",
      /* numpy's functions and // (fmod, then a run of cheap operations) */
      "round(x*3) + trunc(y*3) - sign(z) + copysign(x, y) * nextafter(y, z)",
      "where(isnan(x), 0, x // y) + isinf(y) - isfinite(z) + signbit(y)",
  };
  static const size_t lens[] = {0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 1025, 5003};
  enum { NMAX = 5003 + 8 };
  const size_t nlens = sizeof lens / sizeof lens[0];
  const size_t nbig = ((size_t)16 << 20) / sizeof(float) + 1000; /* streams at the default size */
  const bool big = !slow_run();
  /* every other length on 16 workers, but under valgrind (one thread at
   * a time: the 16 workers' hand-offs took 98 of the test's 100 s there) */
  ompb_pool *const pool_b = big ? pool16 : pool2;
  const size_t cap = big ? nbig : NMAX;
  double *v64 = malloc(3 * cap * sizeof *v64), *o64 = malloc(cap * sizeof *o64),
         *r64 = malloc(cap * sizeof *r64);
  float *v32 = malloc(3 * cap * sizeof *v32), *o32 = malloc(cap * sizeof *o32),
        *r32 = malloc(cap * sizeof *r32);
  double *i64 = malloc(cap * sizeof *i64);
  float *i32 = malloc(cap * sizeof *i32);
  CU_ASSERT_FATAL(v64 && o64 && r64 && v32 && o32 && r32 && i64 && i32);
  static const double special[] = {0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, NAN, 0.5, 2.0};
  rng_state = 1357911;
  for (size_t i = 0; i < 3 * cap; i++) {
    double r = rng_unit() < 0.1 ? special[rng_next() % 9] : rng_range(-4, 4);
    v64[i] = r, v32[i] = (float)r;
  }
  /* a long chain of cheap operations: several runs of at most RUN_MAX */
  char chain[1024];
  size_t len = (size_t)snprintf(chain, sizeof chain, "x");
  for (int k = 0; k < 40; k++)
    len += (size_t)snprintf(chain + len, sizeof chain - len, k % 4 == 0 ? "*y" : k % 4 == 1 ? "+z"
                                                             : k % 4 == 2 ? "-x*0.75" : "/(1.25+y*y)");
  size_t bad = 0, runs = 0;
  for (size_t si = 0; si <= sizeof srcs / sizeof srcs[0]; si++) {
    const char *src = si < sizeof srcs / sizeof srcs[0] ? srcs[si] : chain;
    ompb_expr *e = compile(src, XYZ, 3);
    if (!e) continue;
    CU_ASSERT(e->red < 0);
    for (size_t i = 0; i < e->nins; i++) runs += e->ins[i].kind == OMPB__XI_FUSED;
    for (size_t li = 0; li <= nlens; li++) {
      const bool last = li == nlens;
      if (last && (!big || si > 1)) continue;
      const size_t n = last ? nbig : lens[li];
      for (int f64 = 0; f64 < 2; f64++) {
        if (last && f64) continue;
        const void *in[3];
        for (int k = 0; k < 3; k++) in[k] = f64 ? (void *)(v64 + k * cap) : (void *)(v32 + k * cap);
        void *o = f64 ? (void *)o64 : (void *)o32, *r = f64 ? (void *)r64 : (void *)r32;
        const size_t es = f64 ? sizeof(double) : sizeof(float);
        unfused_eval(e, f64, in, n, r);
        int rc = f64 ? ompb_expr_eval_f64(li % 2 ? pool2 : pool_b, e, (const double *const *)in, n, o, NULL)
                     : ompb_expr_eval_f32(li % 2 ? pool2 : pool_b, e, (const float *const *)in, n, o, NULL);
        CU_ASSERT_EQUAL(rc, OMPB_OK);
        if (!same_bits(o, r, n, f64)) {
          fprintf(stderr, "\n  %s: '%s' n=%zu differs from the unfused program\n",
                  f64 ? "f64" : "f32", src, n);
          bad++;
        }
        /* in place: out is x */
        void *xin = f64 ? (void *)i64 : (void *)i32;
        memcpy(xin, in[0], n * es);
        const void *ip[3] = {xin, in[1], in[2]};
        rc = f64 ? ompb_expr_eval_f64(pool2, e, (const double *const *)ip, n, xin, NULL)
                 : ompb_expr_eval_f32(pool2, e, (const float *const *)ip, n, xin, NULL);
        CU_ASSERT_EQUAL(rc, OMPB_OK);
        if (!same_bits(xin, r, n, f64)) {
          fprintf(stderr, "\n  %s: '%s' n=%zu in place differs from the unfused program\n",
                  f64 ? "f64" : "f32", src, n);
          bad++;
        }
      }
    }
    ompb_expr_free(e);
  }
  CU_ASSERT(runs >= 20); /* the expressions above do compile to fused runs */
  CU_ASSERT_EQUAL(bad, 0u);
  free(v64), free(o64), free(r64), free(v32), free(o32), free(r32), free(i64), free(i32);
}

/* Evaluates e over n elements of in[0..3) (x, y, z; NULL for unused) three
 * ways: out at elements 0 and 3 of out (n + 8 elements), then in place of
 * x (tmp: n elements, overwritten with x); returns how many elements of
 * the three results differ from ref in their bits (a NaN matches any NaN)
 * or belong to an evaluation that failed. */
static size_t mismatches_in_three_forms(const ompb_expr *e, bool f64, const char *const *in, size_t n,
                                        const char *ref, char *out, char *tmp) {
  const size_t es = f64 ? sizeof(double) : sizeof(float);
  size_t bad = 0;
  for (int form = 0; form < 3; form++) {
    char *o = form == 2 ? tmp : out + (form ? 3 * es : 0);
    if (form == 2) memcpy(tmp, in[0], n * es);
    const void *args[] = {form == 2 ? (const void *)tmp : (const void *)in[0], in[1], in[2]};
    int rc = f64 ? ompb_expr_eval_f64(pool2, e, (const double *const *)args, n, (double *)(void *)o, NULL)
                 : ompb_expr_eval_f32(pool2, e, (const float *const *)args, n, (float *)(void *)o, NULL);
    if (rc != OMPB_OK) {
      bad += n;
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      double g = f64 ? ((double *)(void *)o)[i] : ((float *)(void *)o)[i];
      double w = f64 ? ((const double *)(const void *)ref)[i] : ((const float *)(const void *)ref)[i];
      if (memcmp(o + i * es, ref + i * es, es) != 0 && !(isnan(g) && isnan(w))) bad++;
    }
  }
  return bad;
}

/* A program whose last instruction is a kernel with an nt_ form stores
 * out with it when the output streams (src/work_expr.c, nt_run): the
 * kernel's own bits, also in place and at an output off its 64-byte
 * boundary (the head goes through plain stores). */
static void streamed_last_kernel_gives_the_kernel_bits(void) {
  static const struct { const char *src; int k; bool negsq; } cases[] = {
      {"exp(-x*x)", OMPB__K1_exp, true}, {"sin(x)", OMPB__K1_sin, false},
      {"log(x)", OMPB__K1_log, false}};
  const ompb__simd_table *t = ompb__simd_active();
  const size_t smin = ompb__stream_min();
  const bool big = !slow_run() && smin <= ((size_t)64 << 20);
  for (int f64 = 0; f64 < 2; f64++) {
    const size_t es = f64 ? sizeof(double) : sizeof(float);
    const size_t n = big ? smin / es + 37 : 5003;
    char *x = malloc((n + 8) * es), *tmp = malloc(n * es), *ref = malloc(n * es),
         *out = malloc((n + 8) * es);
    CU_ASSERT_FATAL(x && tmp && ref && out);
    rng_state = 2468 + (uint64_t)f64;
    for (size_t i = 0; i < n + 8; i++) {
      double v = rng_range(-4, 4);
      if (f64) ((double *)(void *)x)[i] = v;
      else ((float *)(void *)x)[i] = (float)v;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      ompb_expr *e = compile(cases[c].src, XYZ, 3);
      CU_ASSERT_FATAL(e != NULL);
      for (size_t i = 0; i < n; i++) {
        if (f64) {
          double v = ((double *)(void *)x)[i];
          ((double *)(void *)tmp)[i] = cases[c].negsq ? -(v * v) : v;
        } else {
          float v = ((float *)(void *)x)[i];
          ((float *)(void *)tmp)[i] = cases[c].negsq ? -(v * v) : v;
        }
      }
      if (f64) t->f64[cases[c].k]((const double *)(void *)tmp, (double *)(void *)ref, n, NULL);
      else t->f32[cases[c].k]((const float *)(void *)tmp, (float *)(void *)ref, n, NULL);
      const char *in[] = {x, NULL, NULL};
      CU_ASSERT_EQUAL(mismatches_in_three_forms(e, f64, in, n, ref, out, tmp), 0u);
      ompb_expr_free(e);
    }
    free(x), free(tmp), free(ref), free(out);
  }
}

/* A program that ends in a kernel and a select of its result against a
 * constant (where(x > 0, log(x), -x)) or a multiply-add with it as the
 * factor of a constant or as the addend (2*sin(x) + y, 3*y + exp(x)) runs,
 * when the output streams, as the kernel's nt_sel_ form (src/work_expr.c,
 * run_ksel): every comparison, negated else or not, else a variable or a
 * constant, the six multiply-adds, log, sin, cos, exp and their _fast
 * forms, E1 itself (exp(-x*x) last, the addend),
 * out at its 64-byte boundary and off it and in place, lengths with a
 * partial line at the end, must give what the operation on the kernel's
 * own result gives, bit for bit, at every ISA (the suite runs again under
 * each). Inputs with NaN, +-inf, +-0, 1, subnormals and arguments beyond
 * the trig kernels' own range (their fallback's lanes). */
static void streamed_kernel_select_gives_the_select_bits(void) {
  /* k: the last kernel, of x (of -(x*x) with sq); op: 0-5 the select's
   * comparison (LT LE GT GE EQ NE, with neg: -f), 6 fma(y, k, f), 7
   * fma(y, k, -f), 8 fma(-y, k, f), 9-11 the same with y the addend:
   * fma(f, k, y), fma(f, k, -y), fma(-f, k, y); c, f: the variable
   * compared and the other operand ('k': the constant 2.5, 's': sin(x),
   * 'S': sin_fast(x)) */
  static const struct { const char *src; int k, op; bool neg, sq; char c, f; double kv; } cases[] = {
      /* at sizes of millions (the default streaming size) only the first
       * two run: make check runs every case again at a 4 KiB one */
      {"where(x > 0, log(x), -x)", OMPB__K1_log, 2, true, false, 'x', 'x', 0},
      {"2*sin(x)+exp(-x*x)", OMPB__K1_exp, 9, false, true, 'x', 's', 2},
      {"y*3 + exp(x)", OMPB__K1_exp, 9, false, false, 'x', 'y', 3},
      {"y*3 - exp_fast(x)", OMPB__K1_exp_fast, 10, false, false, 'x', 'y', 3},
      {"exp(x) - 0.5*z", OMPB__K1_exp, 11, false, false, 'x', 'z', 0.5},
      {"2*exp_fast(x) + y", OMPB__K1_exp_fast, 6, false, false, 'x', 'y', 2},
      {"where(y < 1, exp(x), -z)", OMPB__K1_exp, 0, true, false, 'y', 'z', 1},
      {"2*sin_fast(x)+exp_fast(-x*x)", OMPB__K1_exp_fast, 9, false, true, 'x', 'S', 2},
      {"where(x <= 0.5, log_fast(x), y)", OMPB__K1_log_fast, 1, false, false, 'x', 'y', 0.5},
      {"where(y != 1, log(x), -y)", OMPB__K1_log, 5, true, false, 'y', 'y', 1},
      {"where(0 < y, log(x), 2.5)", OMPB__K1_log, 2, false, false, 'y', 'k', 0},
      {"where(x == 1, log(x), z)", OMPB__K1_log, 4, false, false, 'x', 'z', 1},
      {"where(x >= 2, log_fast(x), -z)", OMPB__K1_log_fast, 3, true, false, 'x', 'z', 2},
      {"where(y < 0, sin(x), x)", OMPB__K1_sin, 0, false, false, 'y', 'x', 0},
      {"2*sin(x) + y", OMPB__K1_sin, 6, false, false, 'x', 'y', 2},
      {"sin_fast(x)*3 - z", OMPB__K1_sin_fast, 7, false, false, 'x', 'z', 3},
      {"y - 0.5*cos(x)", OMPB__K1_cos, 8, false, false, 'x', 'y', 0.5},
      {"2*cos_fast(x) + y", OMPB__K1_cos_fast, 6, false, false, 'x', 'y', 2},
      {"1.5*log(x) + z", OMPB__K1_log, 6, false, false, 'x', 'z', 1.5}};
  enum { NC = sizeof cases / sizeof cases[0] };
  const ompb__simd_table *t = ompb__simd_active();
  const size_t smin = ompb__stream_min();
  const bool big = !slow_run() && smin <= ((size_t)64 << 20);
  /* the multiply-adds: the block operation of the active ISA (the
   * unfused program's; it rounds once where the ISA has an fma, twice on
   * SSE2 and the scalar one, and valgrind's fma is not libm's) */
  const ompb__expr_ops *xo = ompb__expr_ops_active();
  size_t shaped = 0, expected = 0;
  for (int f64 = 0; f64 < 2; f64++) {
    const size_t es = f64 ? sizeof(double) : sizeof(float);
    size_t n = big ? smin / es : 5000;
    if (n < 3 * OMPB_EXPR_BLOCK) n = 3 * OMPB_EXPR_BLOCK;
    n += 37;
    char *v[3], *ky = malloc(n * es), *nx = malloc(n * es), *sn = malloc(n * es),
                *sf = malloc(n * es), *ref = malloc(n * es), *out = malloc((n + 8) * es),
                *tmp = malloc(n * es), *kb = malloc(n * es);
    for (int j = 0; j < 3; j++) v[j] = malloc(n * es);
    CU_ASSERT_FATAL(ky && nx && sn && sf && ref && out && tmp && kb && v[0] && v[1] && v[2]);
    static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1.0, 0x1p-1040, 0x1p-140,
                                0.5, 2.0, -1.0, 1e30, 2e5, -7e6};
    enum { NSP = sizeof sp / sizeof sp[0] };
    rng_state = 8642 + (uint64_t)f64;
    for (int j = 0; j < 3; j++)
      for (size_t i = 0; i < n; i++) {
        double a = rng_unit() < 0.05 ? sp[(size_t)(rng_unit() * NSP) % NSP] : rng_range(-4, 4);
        if (f64) ((double *)(void *)v[j])[i] = a;
        else ((float *)(void *)v[j])[i] = (float)a;
      }
    /* E1's exp input as its program computes it, -(x*x), and its sin(x) */
    for (size_t i = 0; i < n; i++) {
      if (f64) {
        double a = ((double *)(void *)v[0])[i];
        ((double *)(void *)nx)[i] = -(a * a);
      } else {
        float a = ((float *)(void *)v[0])[i];
        ((float *)(void *)nx)[i] = -(a * a);
      }
    }
    if (f64) {
      t->f64[OMPB__K1_sin]((const double *)(void *)v[0], (double *)(void *)sn, n, NULL);
      t->f64[OMPB__K1_sin_fast]((const double *)(void *)v[0], (double *)(void *)sf, n, NULL);
    } else {
      t->f32[OMPB__K1_sin]((const float *)(void *)v[0], (float *)(void *)sn, n, NULL);
      t->f32[OMPB__K1_sin_fast]((const float *)(void *)v[0], (float *)(void *)sf, n, NULL);
    }
    const size_t nc = n > 100000 ? 2 : NC;
    for (size_t c = 0; c < nc; c++) {
      ompb_expr *e = compile(cases[c].src, XYZ, 3);
      CU_ASSERT_FATAL(e != NULL);
      expected++;
      /* the program's shape the evaluator looks for */
      if (e->nins >= 2 && e->ins[e->nins - 2].kind == OMPB__XI_K1 &&
          e->ins[e->nins - 2].op == cases[c].k && e->ins[e->nins - 1].kind == OMPB__XI_FUSED &&
          e->runs[e->ins[e->nins - 1].a].run.nops == 1)
        shaped++;
      const char *kin = cases[c].sq ? nx : v[0];
      if (f64) t->f64[cases[c].k]((const double *)(void *)kin, (double *)(void *)ky, n, NULL);
      else t->f32[cases[c].k]((const float *)(void *)kin, (float *)(void *)ky, n, NULL);
      const char *cv = v[cases[c].c - 'x'];
      const char f = cases[c].f;
      const char *fv = f == 'k' ? NULL : f == 's' ? sn : f == 'S' ? sf : v[f - 'x'];
      const int op = cases[c].op;
      if (op >= 6) { /* OMPB__ET_FMA + (op - 6) % 3 of y and f, or of f and y */
        for (size_t i = 0; i < n; i++) {
          if (f64) ((double *)(void *)kb)[i] = cases[c].kv;
          else ((float *)(void *)kb)[i] = (float)cases[c].kv;
        }
        const char *a = op < 9 ? ky : fv, *z = op < 9 ? fv : ky;
        if (f64)
          xo->tri_f64[OMPB__ET_FMA + (op - 6) % 3]((const double *)(void *)a, (const double *)(void *)kb,
                                                    (const double *)(void *)z, (double *)(void *)ref, n);
        else
          xo->tri_f32[OMPB__ET_FMA + (op - 6) % 3]((const float *)(void *)a, (const float *)(void *)kb,
                                                    (const float *)(void *)z, (float *)(void *)ref, n);
      }
      for (size_t i = 0; op < 6 && i < n; i++) {
        double x = f64 ? ((double *)(void *)cv)[i] : ((float *)(void *)cv)[i];
        double kv = f64 ? cases[c].kv : (double)(float)cases[c].kv;
        bool pick = op == 0 ? x < kv : op == 1 ? x <= kv : op == 2 ? x > kv
                  : op == 3 ? x >= kv : op == 4 ? x == kv : x != kv;
        if (f64) {
          double y = ((double *)(void *)ky)[i], g = fv ? ((double *)(void *)fv)[i] : 2.5;
          ((double *)(void *)ref)[i] = pick ? y : cases[c].neg ? -g : g;
        } else {
          float y = ((float *)(void *)ky)[i], g = fv ? ((float *)(void *)fv)[i] : 2.5f;
          ((float *)(void *)ref)[i] = pick ? y : cases[c].neg ? -g : g;
        }
      }
      CU_ASSERT_EQUAL(mismatches_in_three_forms(e, f64, (const char *const *)v, n, ref, out, tmp), 0u);
      ompb_expr_free(e);
    }
    for (int j = 0; j < 3; j++) free(v[j]);
    free(ky), free(nx), free(sn), free(sf), free(ref), free(out), free(tmp), free(kb);
  }
  CU_ASSERT_EQUAL(shaped, expected);
}

/* perf/bench_expr's "prog" column runs one block through the evaluator's
 * own block code (ompb__xbench_block, src/expr_prog.h): it must compute
 * what ompb_expr_eval_* computes over the same elements (the same passes
 * and kernel calls: the same bits), for a whole block and a short one;
 * a reduction has no such block. */
static void bench_block_gives_the_evaluator_bits(void) {
  static const char *const srcs[] = {"2*sin(x)+exp(-x*x)", "where(x>0, log(x), -x)",
                                     "x*y+z", "sqrt(x*x+y*y)", "2*sin_fast(x)+exp_fast(-x*x)",
                                     "sin(x) + 1.5", "y*3 - exp(z)"};
  enum { B = OMPB_EXPR_BLOCK };
  static double v64[3][B], o64[B], r64[B];
  static float v32[3][B], o32[B], r32[B];
  rng_state = 97531;
  for (int j = 0; j < 3; j++)
    for (size_t i = 0; i < B; i++) v64[j][i] = rng_range(-4, 4), v32[j][i] = (float)v64[j][i];
  ompb_expr *red = compile("sum(x)", XYZ, 3);
  CU_ASSERT_FATAL(red != NULL);
  CU_ASSERT_PTR_NULL(ompb__xbench_new(red, false));
  ompb_expr_free(red);
  static const size_t lens[] = {B, B - 24, 1};
  for (size_t c = 0; c < sizeof srcs / sizeof srcs[0]; c++) {
    ompb_expr *e = compile(srcs[c], XYZ, 3);
    CU_ASSERT_FATAL(e != NULL);
    for (int f64 = 0; f64 < 2; f64++) {
      ompb__xbench *h = ompb__xbench_new(e, f64);
      CU_ASSERT_FATAL(h != NULL);
      const void *used[3];
      for (size_t j = 0; j < e->nused; j++)
        used[j] = f64 ? (const void *)v64[e->used[j]] : (const void *)v32[e->used[j]];
      const void *all[3] = {f64 ? (const void *)v64[0] : (const void *)v32[0],
                            f64 ? (const void *)v64[1] : (const void *)v32[1],
                            f64 ? (const void *)v64[2] : (const void *)v32[2]};
      for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        const size_t m = lens[l];
        int rc = f64 ? ompb_expr_eval_f64(pool1, e, (const double *const *)all, m, r64, NULL)
                     : ompb_expr_eval_f32(pool1, e, (const float *const *)all, m, r32, NULL);
        CU_ASSERT_EQUAL(rc, OMPB_OK);
        ompb__xbench_block(h, used, f64 ? (void *)o64 : (void *)o32, m);
        CU_ASSERT(f64 ? memcmp(o64, r64, m * sizeof *o64) == 0
                      : memcmp(o32, r32, m * sizeof *o32) == 0);
      }
      ompb__xbench_free(h);
    }
    ompb_expr_free(e);
  }
}

static int setup(void) {
  pool1 = pool2 = pool16 = NULL;
  ompb_pool_opts o1 = {.workers = 1}, o2 = {.workers = 2}, o16 = {.workers = 16, .no_pin = true};
  if (ompb_pool_create(&pool1, &o1) != OMPB_OK || ompb_pool_create(&pool2, &o2) != OMPB_OK ||
      ompb_pool_create(&pool16, &o16) != OMPB_OK)
    return -1;
  return 0;
}
static int teardown(void) {
  ompb_pool_destroy(pool1);
  ompb_pool_destroy(pool2);
  ompb_pool_destroy(pool16);
  return 0;
}

int ompb_suite_expr(void) {
  CU_pSuite s = CU_add_suite("expr", setup, teardown);
  if (!s) return -1;
  static const struct { const char *name; CU_TestFunc fn; } tests[] = {
      {"function_table", function_table},
      {"runs_at_the_forced_isa", runs_at_the_forced_isa},
      {"functions_within_documented_ulp", functions_within_documented_ulp},
      {"operators_correctly_rounded", operators_correctly_rounded},
      {"fused_multiply_add_is_one_or_two_roundings", fused_multiply_add_is_one_or_two_roundings},
      {"powers", powers},
      {"lengths_blocks_alignment_in_place", lengths_blocks_alignment_in_place},
      {"overlap_and_argument_errors", overlap_and_argument_errors},
      {"compile_errors_with_positions", compile_errors_with_positions},
      {"many_variables_deep_expressions_and_limits", many_variables_deep_expressions_and_limits},
      {"shared_operands", shared_operands},
      {"precedence_folding_and_cse", precedence_folding_and_cse},
      {"minimum_maximum_where_nan", minimum_maximum_where_nan},
      {"logical_operators", logical_operators},
      {"remainder_has_the_divisors_sign", remainder_has_the_divisors_sign},
      {"numpy_functions_bit_exact", numpy_functions_bit_exact},
      {"numpy_functions_fold_like_evaluation", numpy_functions_fold_like_evaluation},
      {"reductions", reductions},
      {"progress_counts_elements", progress_counts_elements},
      {"cancel_leaves_blocks_unwritten", cancel_leaves_blocks_unwritten},
      {"deadline_times_out", deadline_times_out},
      {"byte_misaligned_arrays", byte_misaligned_arrays},
      {"nested_in_parallel_region", nested_in_parallel_region},
      {"concurrent_evaluations", concurrent_evaluations},
      {"random_trees_match_reference", random_trees_match_reference},
      {"fused_runs_give_the_unfused_bits", fused_runs_give_the_unfused_bits},
      {"streamed_last_kernel_gives_the_kernel_bits", streamed_last_kernel_gives_the_kernel_bits},
      {"streamed_kernel_select_gives_the_select_bits", streamed_kernel_select_gives_the_select_bits},
      {"bench_block_gives_the_evaluator_bits", bench_block_gives_the_evaluator_bits},
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    if (!CU_add_test(s, tests[i].name, tests[i].fn)) return -1;
  return 0;
}
