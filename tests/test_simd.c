/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for the SIMD kernels: accuracy of every built-in kernel against
 * MPFR on every ISA compiled in and supported by this CPU, tails, in-place
 * and unaligned calls, argument checks, user kernels, lookup by name, and
 * ompb_pool_map_f32/_f64 through the batch engine.
 *
 * Accuracy: the MPFR reference (256 bits) is computed once per function and
 * precision, kept as a double (f32) or a double-double (f64), and every ISA
 * and accuracy variant is measured against it in ULPs of the correctly
 * rounded result. Set OMPB_TEST_ULP=1 to print the measured maxima. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpfr.h>

#include "../kernels/kernels.h"
#include "helpers.h"

#define N_RANDOM 16384
#define N_SPECIAL 40
#define N_ALL (N_RANDOM + N_SPECIAL)
#define MAX_TAIL 33
#define REF_PREC 128

/* ---- deterministic random numbers ---- */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng_next(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}
/* uniform in [0, 1) */
static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1p-53; }

/* ---- what each function is, where it is tested, its reference ---- */
typedef enum { UNI, LOGPOS, LOGSYM } dist;
typedef struct {
  const char *base; /* kernel name without "_fast" */
  dist d;
  double lo32, hi32, lo64, hi64; /* random range (magnitudes for LOG*) */
  double dom32, dom64;           /* |x| up to which the bound is claimed */
  double dom32_fast, dom64_fast; /* same, for the _fast variant */
  size_t n_random;               /* 0: N_RANDOM (MPFR's erf is slow) */
} fspec;

static const fspec specs[] = {
    {"sin", LOGSYM, 1e-6, 3e38, 1e-6, 1.7e308, INFINITY, 1e299, 1e28, 1e15, 0},
    {"cos", LOGSYM, 1e-6, 3e38, 1e-6, 1.7e308, INFINITY, 1e299, 1e28, 1e15, 0},
    {"tan", LOGSYM, 1e-6, 3e38, 1e-6, 1.7e308, INFINITY, 1e299, 1e28, 1e15, 0},
    {"asin", UNI, -1, 1, -1, 1, INFINITY, INFINITY, INFINITY, INFINITY, 0},
    {"acos", UNI, -1, 1, -1, 1, INFINITY, INFINITY, INFINITY, INFINITY, 0},
    {"atan", LOGSYM, 1e-30, 1e30, 1e-200, 1e200, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"sinh", UNI, -89.41, 89.41, -710.47, 710.47, INFINITY, INFINITY, INFINITY, INFINITY, 0},
    {"cosh", UNI, -89.41, 89.41, -710.47, 710.47, INFINITY, INFINITY, INFINITY, INFINITY, 0},
    {"tanh", UNI, -20, 20, -40, 40, INFINITY, INFINITY, INFINITY, INFINITY, 0},
    {"exp", UNI, -104, 88.7, -745, 709.7, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"exp2", UNI, -150, 128, -1075, 1024, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"expm1", UNI, -20, 88.7, -40, 709.7, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"log", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"log2", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"log10", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"log1p", UNI, -0.999, 10, -0.999, 10, 1e38, 1e307, 1e38, 1e307, 0},
    {"sqrt", LOGPOS, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"cbrt", LOGSYM, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"erf", UNI, -6, 6, -6, 6, INFINITY, INFINITY, INFINITY, INFINITY, 4096},
    {"erfc", UNI, -4, 10.1, -6, 27.3, INFINITY, 26.5, INFINITY, 26.5, 4096},
    {"pow", LOGPOS, 1e-3, 1e3, 1e-3, 1e3, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"sigmoid", UNI, -100, 100, -745, 700, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"scale", LOGSYM, 1e-30, 1e30, 1e-300, 1e300, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"add_scalar", UNI, -10, 10, -10, 10, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
    {"axpy", UNI, -10, 10, -10, 10, INFINITY, INFINITY, INFINITY, INFINITY, 0},
    {"affine", UNI, -10, 10, -10, 10, INFINITY, INFINITY, INFINITY, INFINITY,
     0},
    {"clamp", UNI, -4, 4, -4, 4, INFINITY, INFINITY, INFINITY, INFINITY, 0},
    {"abs", LOGSYM, 1e-45, 3e38, 1e-320, 1e308, INFINITY, INFINITY, INFINITY,
     INFINITY, 0},
};
#define N_SPECS (sizeof specs / sizeof specs[0])

/* Parameters the accuracy runs use (high-entropy values). */
static const float P32[2] = {-0.7125f, 2.385f};
static const double P64[2] = {-0.7125, 2.385};

static const fspec *spec_for(const char *name) {
  char base[32];
  snprintf(base, sizeof base, "%s", name);
  char *f = strstr(base, "_fast");
  if (f != NULL)
    *f = '\0';
  for (size_t i = 0; i < N_SPECS; i++)
    if (strcmp(specs[i].base, base) == 0)
      return &specs[i];
  return NULL;
}

/* y (the prior contents of out, for axpy) is taken from this fixed array. */
static double axpy_y(size_t i) { return (double)((int)(i % 17) - 8) * 0.375; }

/* The exact value of kernel `base` at x (params p, y for axpy) into r.
 * Returns false when there is no reference for `base`. */
static bool reference1(const char *base, mpfr_t r, double x, const double *p,
                       double y) {
  mpfr_t t;
  mpfr_init2(t, REF_PREC);
  mpfr_set_d(t, x, MPFR_RNDN);
  bool ok = true;
#define M1(nm) else if (strcmp(base, #nm) == 0) mpfr_##nm(r, t, MPFR_RNDN);
  if (0) {
  }
  M1(sin)
  M1(cos)
  M1(tan) M1(asin) M1(acos) M1(atan) M1(sinh) M1(cosh) M1(tanh) M1(exp) M1(exp2)
      M1(expm1) M1(log) M1(log2) M1(log10) M1(log1p) M1(sqrt) M1(cbrt) M1(erf)
          M1(erfc) M1(abs) else if (strcmp(base, "pow") == 0) {
    mpfr_t e;
    mpfr_init2(e, REF_PREC);
    mpfr_set_d(e, p[0], MPFR_RNDN);
    mpfr_pow(r, t, e, MPFR_RNDN);
    mpfr_clear(e);
  }
  else if (strcmp(base, "sigmoid") == 0) {
    mpfr_neg(r, t, MPFR_RNDN);
    mpfr_exp(r, r, MPFR_RNDN);
    mpfr_add_ui(r, r, 1, MPFR_RNDN);
    mpfr_ui_div(r, 1, r, MPFR_RNDN);
  }
  else if (strcmp(base, "scale") == 0) mpfr_mul_d(r, t, p[0], MPFR_RNDN);
  else if (strcmp(base, "add_scalar") == 0) mpfr_add_d(r, t, p[0], MPFR_RNDN);
  else if (strcmp(base, "axpy") == 0) {
    mpfr_mul_d(r, t, p[0], MPFR_RNDN);
    mpfr_add_d(r, r, y, MPFR_RNDN);
  }
  else if (strcmp(base, "affine") == 0) {
    mpfr_mul_d(r, t, p[0], MPFR_RNDN);
    mpfr_add_d(r, r, p[1], MPFR_RNDN);
  }
  else if (strcmp(base, "clamp") == 0) {
    double c = x < p[0] ? p[0] : x; /* min(max(x, lo), hi); NaN stays */
    c = c > p[1] ? p[1] : c;
    mpfr_set_d(r, c, MPFR_RNDN);
  }
  else ok = false;
#undef M1
  mpfr_clear(t);
  return ok;
}

static bool reference2(const char *base, mpfr_t r, double a, double b) {
  mpfr_t ta, tb;
  mpfr_inits2(REF_PREC, ta, tb, (mpfr_ptr)0);
  mpfr_set_d(ta, a, MPFR_RNDN);
  mpfr_set_d(tb, b, MPFR_RNDN);
  bool ok = true;
  if (strcmp(base, "add") == 0)
    mpfr_add(r, ta, tb, MPFR_RNDN);
  else if (strcmp(base, "mul") == 0)
    mpfr_mul(r, ta, tb, MPFR_RNDN);
  else if (strcmp(base, "pow") == 0)
    mpfr_pow(r, ta, tb, MPFR_RNDN);
  else if (strcmp(base, "atan2") == 0)
    mpfr_atan2(r, ta, tb, MPFR_RNDN);
  else if (strcmp(base, "hypot") == 0)
    mpfr_hypot(r, ta, tb, MPFR_RNDN);
  else if (strcmp(base, "fmod") == 0)
    mpfr_fmod(r, ta, tb, MPFR_RNDN);
  else
    ok = false;
  mpfr_clears(ta, tb, (mpfr_ptr)0);
  return ok;
}

/* A reference value: hi + lo, or NaN. When hi is tiny, lo is kept scaled by
 * 2^LO_SHIFT (`scaled`), so that the remainder of a subnormal hi is not
 * itself rounded to the subnormal spacing (that would misstate errors by up
 * to half of it). */
typedef struct {
  double hi, lo;
  bool scaled;
} ref;
#define LO_SHIFT 1100

static ref ref_from(mpfr_t r) {
  ref o;
  o.hi = mpfr_get_d(r, MPFR_RNDN);
  o.lo = 0.0;
  o.scaled = fabs(o.hi) < 0x1p-900;
  if (isfinite(o.hi) && o.hi != 0.0) {
    mpfr_t d;
    mpfr_init2(d, REF_PREC);
    mpfr_sub_d(d, r, o.hi, MPFR_RNDN);
    if (o.scaled)
      mpfr_mul_2si(d, d, LO_SHIFT, MPFR_RNDN);
    o.lo = mpfr_get_d(d, MPFR_RNDN);
    mpfr_clear(d);
  }
  return o;
}

/* Error of `got` in ULPs of the correctly rounded result in a format with
 * `prec` bits, normal exponents down to `emin` (C's FLT_MIN_EXP) and up to
 * `emax` (FLT_MAX_EXP). 0 when both are the same infinity, NaN or zero
 * (signs of zero are checked apart); INFINITY for a NaN or infinity where
 * there should be none. */
static double ulp_error(double got, ref want, int prec, int emin, int emax) {
  if (isnan(want.hi) || isnan(got))
    return isnan(want.hi) && isnan(got) ? 0.0 : INFINITY;
  double rounded = prec == 24 ? (double)(float)want.hi : want.hi;
  if (isinf(got) || isinf(want.hi))
    return got == want.hi                   ? 0.0
           : (isinf(got) && got == rounded) ? 0.0
                                            : INFINITY;
  int e;
  const int shift = want.scaled ? LO_SHIFT : 0;
  double w = want.hi + ldexp(want.lo, -shift);
  frexp(w == 0.0 ? 0x1p-1074 : w, &e); /* w = m * 2^e, 0.5 <= |m| < 1 */
  if (e < emin)
    e = emin;
  if (e > emax)
    e = emax;
  /* got - hi is exact (Sterbenz) wherever the error is small enough to
   * matter; for a tiny hi it is scaled up before lo is subtracted. */
  double diff = fabs(ldexp(got - want.hi, shift) - want.lo);
  return ldexp(diff, prec - e - shift);
}

/* ---- the accuracy harness ---- */
typedef struct {
  float in32[N_ALL], b32[N_ALL];
  double in64[N_ALL], b64[N_ALL];
  ref want32[N_ALL], want64[N_ALL];
  float out32[N_ALL + 64];
  double out64[N_ALL + 64];
  float aux32[N_ALL + 64];
  double aux64[N_ALL + 64];
} bench_data;

static bench_data *D; /* allocated by the suite's init */

static double draw(dist d, double lo, double hi) {
  switch (d) {
  case UNI:
    return lo + (hi - lo) * rng_unit();
  case LOGPOS:
    return exp(log(lo) + (log(hi) - log(lo)) * rng_unit());
  case LOGSYM:
  default: {
    double m = exp(log(lo) + (log(hi) - log(lo)) * rng_unit());
    return (rng_next() & 1) ? -m : m;
  }
  }
}

static const double specials[N_SPECIAL] = {
    0.0,       -0.0,       INFINITY, -INFINITY, NAN,       -NAN,
    1.0,       -1.0,       0.5,      -0.5,      2.0,       -2.0,
    0x1p-149,  -0x1p-149,  0x1p-130, -0x1p-130, 0x1p-1074, -0x1p-1074,
    0x1p-1030, -0x1p-1030, 3.4e38,   -3.4e38,   1.7e308,   -1.7e308,
    1e30,      -1e30,      1e10,     -1e10,     1e-10,     -1e-10,
    100.0,     -100.0,     1000.0,   -1000.0,   0.999,     -0.999,
    88.0,      -88.0,      700.0,    -700.0};

/* The number of prepared inputs (random, then N_SPECIAL specials). */
static size_t n_cur = N_ALL;

/* Inputs (random over the spec's range, then the specials) and references
 * for one unary function, both precisions. */
/* A float and a double nearest to k pi/2 for random k, up to 2^22 or 2^16
 * and 2^21 (the fast paths' limits: the f64 ones reach |x| ~1.64e6), and
 * beyond one time in eight. */
static void near_half_pi(double *x32, double *x64) {
  mpfr_t m;
  mpfr_init2(m, REF_PREC);
  for (int w = 0; w < 2; w++) {
    /* f32: half of them within 2^16, the f32 sin_fast fast path */
    double lim = w == 0 ? ((rng_next() & 1) ? 0x1p22 : 0x1p16) : 0x1p21;
    if (rng_next() % 8 == 0)
      lim *= 1024;
    unsigned long k =
        1 + (unsigned long)(rng_unit() * lim / 1.5707963267948966);
    mpfr_const_pi(m, MPFR_RNDN);
    mpfr_mul_ui(m, m, k, MPFR_RNDN);
    mpfr_div_2ui(m, m, 1, MPFR_RNDN);
    if (rng_next() & 1)
      mpfr_neg(m, m, MPFR_RNDN);
    if (w == 0)
      *x32 = mpfr_get_flt(m, MPFR_RNDN);
    else
      *x64 = mpfr_get_d(m, MPFR_RNDN);
  }
  mpfr_clear(m);
}

static void fill_unary(const fspec *s) {
  const size_t n_rand = s->n_random ? s->n_random : N_RANDOM;
  const bool trig = strcmp(s->base, "sin") == 0 ||
                    strcmp(s->base, "cos") == 0 || strcmp(s->base, "tan") == 0;
  n_cur = n_rand + N_SPECIAL;
  for (size_t i = 0; i < n_cur; i++) {
    double x32, x64;
    if (i < n_rand) {
      x32 = draw(s->d, s->lo32, s->hi32);
      x64 = draw(s->d, s->lo64, s->hi64);
      /* wide ranges also get blocks of moderate and small values (the own
       * trig kernels take a fast path within 2^16..2^22) */
      if (trig && (i / 1024) % 8 == 7) {
        /* the nearest float / double to a multiple of pi/2: the reduced
         * argument is tiny, where an argument reduction loses bits */
        near_half_pi(&x32, &x64);
      } else if (s->d == LOGSYM && (i / 1024) % 4 != 0) {
        size_t kind = (i / 1024) % 4;
        x32 = kind == 1   ? draw(UNI, -1e4, 1e4)
              : kind == 2 ? draw(UNI, -4, 4)
                          : draw(LOGSYM, s->lo32, fmin(s->hi32, 4194304.0));
        x64 = x32;
      } else if (s->d == UNI && (i / 1024) % 2 == 1) {
        /* every other block well inside the range, where kernels with a
         * guarded fast path (exp on AVX2) take it for whole vectors */
        x32 = draw(UNI, 0.8 * s->lo32, 0.8 * s->hi32);
        x64 = draw(UNI, 0.8 * s->lo64, 0.8 * s->hi64);
      }
    } else {
      x32 = x64 = specials[i - n_rand];
    }
    D->in32[i] = (float)x32;
    D->in64[i] = x64;
  }
  mpfr_t r;
  mpfr_init2(r, REF_PREC);
  for (size_t i = 0; i < n_cur; i++) {
    double p32[2] = {P32[0], P32[1]};
    reference1(s->base, r, D->in32[i], p32, (double)(float)axpy_y(i));
    D->want32[i] = ref_from(r);
    reference1(s->base, r, D->in64[i], P64, axpy_y(i));
    D->want64[i] = ref_from(r);
  }
  mpfr_clear(r);
}

static void fill_binary(const char *base) {
  n_cur = N_ALL;
  for (size_t i = 0; i < N_ALL; i++) {
    double a, b;
    if (strcmp(base, "pow") == 0) {
      a = draw(LOGPOS, 1e-3, 1e3);
      b = draw(UNI, -12, 12);
    } else if (strcmp(base, "hypot") == 0 || strcmp(base, "mul") == 0) {
      a = draw(LOGSYM, 1e-30, 1e30);
      b = draw(LOGSYM, 1e-30, 1e30);
    } else if (strcmp(base, "fmod") == 0) { /* quotients up to 2^200 */
      a = draw(LOGSYM, 1e-30, 1e30);
      b = draw(LOGSYM, 1e-30, 1e30) * (i % 2 ? 1e-30 : 1);
    } else {
      a = draw(LOGSYM, 1e-6, 1e6);
      b = draw(LOGSYM, 1e-6, 1e6);
    }
    if (i >= N_RANDOM) {
      a = specials[i - N_RANDOM];
      b = specials[(i * 7) % N_SPECIAL];
    }
    D->in32[i] = (float)a;
    D->b32[i] = (float)b;
    D->in64[i] = a;
    D->b64[i] = b;
  }
  mpfr_t r;
  mpfr_init2(r, REF_PREC);
  for (size_t i = 0; i < N_ALL; i++) {
    reference2(base, r, D->in32[i], D->b32[i]);
    D->want32[i] = ref_from(r);
    reference2(base, r, D->in64[i], D->b64[i]);
    D->want64[i] = ref_from(r);
  }
  mpfr_clear(r);
}

/* Measured maxima, printed with OMPB_TEST_ULP=1. */
static bool verbose(void) {
  const char *v = getenv("OMPB_TEST_ULP");
  return v != NULL && *v != '\0' && *v != '0';
}

/* The bound a test holds a kernel to. Without SLEEF the C library's own
 * (looser) bounds apply to the transcendental kernels. */
static double bound_for(double documented) {
#if defined(OMPB_WITH_SLEEF) && OMPB_WITH_SLEEF
  return documented + 1e-6;
#else
  return documented < 0.5 ? documented + 1e-6 : documented + 4.0;
#endif
}

/* Worst error of out[0..n) against want over inputs with |x| <= dom (NaN
 * inputs always count); sets *where to the worst index. Also checks signed
 * zeros: a zero result must carry the reference's sign. */
static double worst32(const float *out, const float *in, const ref *want,
                      size_t n, double dom, size_t *where) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!(fabs((double)in[i]) <= dom) && !isnan(in[i]))
      continue;
    double e = ulp_error(out[i], want[i], 24, FLT_MIN_EXP, FLT_MAX_EXP);
    if (out[i] == 0.0f && want[i].hi == 0.0 &&
        !signbit(out[i]) != !signbit(want[i].hi))
      e = INFINITY;
    if (!(e <= m)) {
      m = e;
      *where = i;
    }
  }
  return m;
}

static double worst64(const double *out, const double *in, const ref *want,
                      size_t n, double dom, size_t *where) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!(fabs(in[i]) <= dom) && !isnan(in[i]))
      continue;
    double e = ulp_error(out[i], want[i], 53, DBL_MIN_EXP, DBL_MAX_EXP);
    if (out[i] == 0.0 && want[i].hi == 0.0 &&
        !signbit(out[i]) != !signbit(want[i].hi))
      e = INFINITY;
    if (!(e <= m)) {
      m = e;
      *where = i;
    }
  }
  return m;
}

static void report(bool ok, const char *what, const char *isa, const char *name,
                   double err, double bound, double x) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s/%s: %.3g ULP > %.3g at x=%.9g", what, isa,
           name, err, bound, x);
  CU_assertImplementation(ok, __LINE__, ok ? "ulp within bound" : msg, __FILE__,
                          "", CU_FALSE);
  if (!ok)
    fprintf(stderr, "\n  FAIL %s\n", msg);
}

static bool params_for_axpy_prefill(const char *name) {
  return strcmp(name, "axpy") == 0;
}

/* Run the kernel (index k) of table t on the prepared inputs, full length,
 * into out32/out64. axpy reads out, so it is pre-filled with its y. */
static void run_unary(const ompb__simd_table *t, size_t k, const char *name,
                      size_t n) {
  if (params_for_axpy_prefill(name))
    for (size_t i = 0; i < n; i++) {
      D->out32[i] = (float)axpy_y(i);
      D->out64[i] = axpy_y(i);
    }
  t->f32[k](D->in32, D->out32, n, P32);
  t->f64[k](D->in64, D->out64, n, P64);
}

/* For n = 0..MAX_TAIL: writes exactly out[0..n), each within the bound.
 * Returns false on the first violation. */
static bool tails_ok(const ompb__simd_table *t, size_t k, const char *name,
                     double b32, double b64, double dom32, double dom64) {
  const float g32 = -1234.5f;
  const double g64 = -1234.5;
  for (size_t n = 0; n <= MAX_TAIL; n++) {
    for (size_t i = 0; i < n + 8; i++) {
      D->aux32[i] =
          i < n && params_for_axpy_prefill(name) ? (float)axpy_y(i) : g32;
      D->aux64[i] = i < n && params_for_axpy_prefill(name) ? axpy_y(i) : g64;
    }
    t->f32[k](D->in32, D->aux32, n, P32);
    t->f64[k](D->in64, D->aux64, n, P64);
    for (size_t i = n; i < n + 8; i++)
      if (D->aux32[i] != g32 || D->aux64[i] != g64)
        return false;
    size_t w = 0;
    if (worst32(D->aux32, D->in32, D->want32, n, dom32, &w) > b32 ||
        worst64(D->aux64, D->in64, D->want64, n, dom64, &w) > b64)
      return false;
  }
  return true;
}

/* In place and at unaligned addresses the results are bit-identical to the
 * plain call on the same elements (the vector/tail split is relative to the
 * start pointer, so it is the same). */
#define PLACE_N 1000
static bool placement_ok(const ompb__simd_table *t, size_t k,
                         const char *name) {
  static _Alignas(64) float u32[PLACE_N + 8], v32[PLACE_N + 8];
  static _Alignas(64) double u64[PLACE_N + 8], v64[PLACE_N + 8];
  const bool axpy = params_for_axpy_prefill(name);
  run_unary(t, k, name, PLACE_N); /* the plain call: out32/out64 */
  bool ok = true;
  if (!axpy) { /* in place (axpy's out is an input: not meaningful) */
    memcpy(D->aux32, D->in32, PLACE_N * sizeof(float));
    memcpy(D->aux64, D->in64, PLACE_N * sizeof(double));
    t->f32[k](D->aux32, D->aux32, PLACE_N, P32);
    t->f64[k](D->aux64, D->aux64, PLACE_N, P64);
    ok = memcmp(D->aux32, D->out32, PLACE_N * sizeof(float)) == 0 &&
         memcmp(D->aux64, D->out64, PLACE_N * sizeof(double)) == 0;
  }
  /* unaligned: input one element and output three elements past a 64-byte
   * boundary (each element stays naturally aligned, as C requires) */
  memcpy(u32 + 1, D->in32, PLACE_N * sizeof(float));
  memcpy(u64 + 1, D->in64, PLACE_N * sizeof(double));
  for (size_t i = 0; i < PLACE_N; i++) {
    v32[i + 3] = axpy ? (float)axpy_y(i) : 0.0f;
    v64[i + 3] = axpy ? axpy_y(i) : 0.0;
  }
  t->f32[k](u32 + 1, v32 + 3, PLACE_N, P32);
  t->f64[k](u64 + 1, v64 + 3, PLACE_N, P64);
  ok = ok && memcmp(v32 + 3, D->out32, PLACE_N * sizeof(float)) == 0 &&
       memcmp(v64 + 3, D->out64, PLACE_N * sizeof(double)) == 0;
  /* shifted: a call starting SHIFT elements later gives the same value for
   * every element (no result may depend on its neighbours, e.g. through a
   * per-block or per-vector fallback) */
  enum { SHIFT = 5 };
  for (size_t i = SHIFT; i < PLACE_N; i++) {
    v32[i] = axpy ? (float)axpy_y(i) : 0.0f;
    v64[i] = axpy ? axpy_y(i) : 0.0;
  }
  t->f32[k](D->in32 + SHIFT, v32 + SHIFT, PLACE_N - SHIFT, P32);
  t->f64[k](D->in64 + SHIFT, v64 + SHIFT, PLACE_N - SHIFT, P64);
  return ok &&
         memcmp(v32 + SHIFT, D->out32 + SHIFT,
                (PLACE_N - SHIFT) * sizeof(float)) == 0 &&
         memcmp(v64 + SHIFT, D->out64 + SHIFT,
                (PLACE_N - SHIFT) * sizeof(double)) == 0;
}

static void accuracy_unary(void) {
  const size_t nk = ompb_kernel_count();
  for (size_t ki = 0; ki < nk; ki++) {
    const ompb_kernel_info *info = ompb_kernel_at(ki);
    if (info->arity != 1 || strstr(info->name, "_fast") != NULL)
      continue;
    const fspec *s = spec_for(info->name);
    CU_ASSERT_PTR_NOT_NULL(s);
    if (s == NULL) {
      fprintf(stderr, "\n  no reference spec for kernel %s\n", info->name);
      continue;
    }
    fill_unary(s);
    /* this kernel and its _fast variant, if any */
    char fast[40];
    snprintf(fast, sizeof fast, "%s_fast", info->name);
    const ompb_kernel_info *variants[2] = {info, ompb_kernel_find(fast, 1)};
    for (int v = 0; v < 2 && variants[v] != NULL; v++) {
      const ompb_kernel_info *vi = variants[v];
      size_t k = (size_t)(vi - ompb_kernel_at(0));
      double dom32 = v ? s->dom32_fast : s->dom32;
      double dom64 = v ? s->dom64_fast : s->dom64;
      double b32 = bound_for(vi->ulp_f32), b64 = bound_for(vi->ulp_f64);
      for (size_t ii = 0; ompb__simd_isas[ii] != NULL; ii++) {
        const ompb__simd_table *t = ompb__simd_table_get(ompb__simd_isas[ii]);
        if (t == NULL)
          continue;
        run_unary(t, k, vi->name, n_cur);
        size_t w32 = 0, w64 = 0;
        double e32 = worst32(D->out32, D->in32, D->want32, n_cur, dom32, &w32);
        double e64 = worst64(D->out64, D->in64, D->want64, n_cur, dom64, &w64);
        if (verbose())
          printf("\n  ulp %-8s %-12s f32 %8.3f (x=%-14.8g) f64 %8.3f "
                 "(x=%.17g)",
                 t->isa, vi->name, e32, D->in32[w32], e64, D->in64[w64]);
        report(e32 <= b32, "f32", t->isa, vi->name, e32, b32, D->in32[w32]);
        report(e64 <= b64, "f64", t->isa, vi->name, e64, b64, D->in64[w64]);
        bool tails = tails_ok(t, k, vi->name, b32, b64, dom32, dom64);
        CU_ASSERT(tails);
        if (!tails)
          fprintf(stderr, "\n  FAIL tails %s/%s\n", t->isa, vi->name);
        bool placed = placement_ok(t, k, vi->name);
        CU_ASSERT(placed);
        if (!placed)
          fprintf(stderr, "\n  FAIL in-place/unaligned %s/%s\n", t->isa,
                  vi->name);
      }
    }
  }
}

/* Kernel `base` and its _fast form on the first n inputs of D (want32/64
 * filled), at every ISA, each within its documented bound; `where` names
 * the inputs in the messages. */
static void check_near(const char *base, size_t n, const char *where) {
  char fast[40], w32s[64], w64s[64];
  snprintf(fast, sizeof fast, "%s_fast", base);
  snprintf(w32s, sizeof w32s, "f32 %s", where);
  snprintf(w64s, sizeof w64s, "f64 %s", where);
  const char *const names[] = {base, fast};
  for (int v = 0; v < 2; v++) {
    const ompb_kernel_info *vi = ompb_kernel_find(names[v], 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(vi);
    const size_t k = (size_t)(vi - ompb_kernel_at(0));
    for (size_t ii = 0; ompb__simd_isas[ii] != NULL; ii++) {
      const ompb__simd_table *t = ompb__simd_table_get(ompb__simd_isas[ii]);
      if (t == NULL)
        continue;
      run_unary(t, k, vi->name, n);
      size_t w32 = 0, w64 = 0;
      const double e32 =
          worst32(D->out32, D->in32, D->want32, n, INFINITY, &w32);
      const double e64 =
          worst64(D->out64, D->in64, D->want64, n, INFINITY, &w64);
      if (verbose())
        printf("\n  ulp %s %-8s %-9s f32 %6.3f (x=%.9g) f64 %6.3f "
               "(x=%.17g)",
               where, t->isa, vi->name, e32, D->in32[w32], e64, D->in64[w64]);
      report(e32 <= bound_for(vi->ulp_f32), w32s, t->isa, vi->name, e32,
             bound_for(vi->ulp_f32), D->in32[w32]);
      report(e64 <= bound_for(vi->ulp_f64), w64s, t->isa, vi->name, e64,
             bound_for(vi->ulp_f64), D->in64[w64]);
    }
  }
}

/* log and log_fast next to 1, where the own kernels' reductions leave the
 * largest r and no table term to hide the polynomial's error behind (log x
 * ~ r): 1 + u 2^-k for every k down to the precision, both signs, and
 * [0.5, 2) uniform; every ISA within the documented bound. */
static void log_near_one_within_documented_ulp(void) {
  const size_t n = 4096;
  mpfr_t r;
  mpfr_init2(r, REF_PREC);
  for (size_t i = 0; i < n; i++) {
    const double u = rng_unit(), sg = i % 2 ? -1.0 : 1.0;
    const double x64 = i % 4 == 3 ? 0.5 + 1.5 * u
                                  : 1.0 + sg * ldexp(u, -(int)(i / 4 % 53));
    const double x32 = i % 4 == 3 ? x64
                                  : 1.0 + sg * ldexp(u, -(int)(i / 4 % 24));
    D->in32[i] = (float)x32;
    D->in64[i] = x64;
    reference1("log", r, D->in32[i], P64, 0.0);
    D->want32[i] = ref_from(r);
    reference1("log", r, D->in64[i], P64, 0.0);
    D->want64[i] = ref_from(r);
  }
  mpfr_clear(r);
  check_near("log", n, "near 1");
}

/* exp and exp_fast next to overflow, where e^x is finite up to ln(MAX):
 * the last 4096 ulps below 709.782712893384 (f64; SLEEF's exp, which some
 * ISAs fall back to there, overflows early from 709.7827111) and below
 * 88.72283 (f32), and uniform over the last 1e-4; every ISA within the
 * documented bound. */
static void exp_near_overflow_within_documented_ulp(void) {
  const size_t n = 4096;
  mpfr_t r;
  mpfr_init2(r, REF_PREC);
  double x64 = 0x1.62e42fefa39efp+9; /* the largest x with e^x finite */
  float x32 = 0x1.62e42ep+6f;
  for (size_t i = 0; i < n; i++) {
    if (i % 2) {
      D->in64[i] = 709.782712893384 - 1e-4 * rng_unit();
      D->in32[i] = 88.72283f - 1e-4f * (float)rng_unit();
    } else {
      D->in64[i] = x64;
      D->in32[i] = x32;
      x64 = nextafter(x64, 0.0);
      x32 = nextafterf(x32, 0.0f);
    }
    reference1("exp", r, D->in32[i], P64, 0.0);
    D->want32[i] = ref_from(r);
    reference1("exp", r, D->in64[i], P64, 0.0);
    D->want64[i] = ref_from(r);
  }
  mpfr_clear(r);
  check_near("exp", n, "near overflow");
}

/* Under valgrind (~50x slower) the near-overflow tests take fewer inputs. */
static bool under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* sinh and cosh next to overflow, where they are finite up to ln(2 MAX)
 * (f64 710.4758600739439, f32 89.41599) while e^|x| is not (SLEEF's f64
 * functions gave inf from 709.78, the 3.5-ULP ones from 709): the last 2048
 * ulps below (from the first x that overflows; 256 under valgrind), uniform
 * over [700, 710.48] (f32 [85, 89.42]), both signs, and +-inf, NaN, +-711,
 * +-1000 first; every ISA within the documented bound, in place the same
 * bits. */
static void hyp_near_overflow_within_documented_ulp(void) {
  const size_t n = under_valgrind() ? 512 : 4096;
  static const double sp[] = {INFINITY, -INFINITY, NAN, 711.0, -711.0,
                              1000.0,   -1000.0,   709.0};
  const size_t nsp = sizeof sp / sizeof sp[0];
  for (int h = 0; h < 2; h++) {
    const char *base = h ? "cosh" : "sinh";
    mpfr_t r;
    mpfr_init2(r, REF_PREC);
    double x64 = 0x1.633ce8fb9f87ep+9; /* the first x with sinh(x) = inf */
    float x32 = 0x1.65a9fap+6f;
    for (size_t i = 0; i < n; i++) {
      const double sg = i % 4 >= 2 ? -1.0 : 1.0;
      if (i < nsp) {
        D->in64[i] = sp[i];
        D->in32[i] = (float)sp[i];
      } else if (i % 2) {
        D->in64[i] = sg * (700.0 + 10.48 * rng_unit());
        D->in32[i] = (float)(sg * (85.0 + 4.42 * rng_unit()));
      } else {
        D->in64[i] = sg * x64;
        D->in32[i] = (float)sg * x32;
        x64 = nextafter(x64, 0.0);
        x32 = nextafterf(x32, 0.0f);
      }
      reference1(base, r, D->in32[i], P64, 0.0);
      D->want32[i] = ref_from(r);
      reference1(base, r, D->in64[i], P64, 0.0);
      D->want64[i] = ref_from(r);
    }
    mpfr_clear(r);
    check_near(base, n, "near overflow");
    /* in place: the same bits as out of place */
    for (int v = 0; v < 2; v++) {
      char nm[40];
      snprintf(nm, sizeof nm, v ? "%s_fast" : "%s", base);
      const ompb_kernel_info *vi = ompb_kernel_find(nm, 1);
      CU_ASSERT_PTR_NOT_NULL_FATAL(vi);
      const size_t k = (size_t)(vi - ompb_kernel_at(0));
      for (size_t ii = 0; ompb__simd_isas[ii] != NULL; ii++) {
        const ompb__simd_table *t = ompb__simd_table_get(ompb__simd_isas[ii]);
        if (t == NULL)
          continue;
        run_unary(t, k, nm, n);
        memcpy(D->aux32, D->in32, n * sizeof(float));
        memcpy(D->aux64, D->in64, n * sizeof(double));
        t->f32[k](D->aux32, D->aux32, n, NULL);
        t->f64[k](D->aux64, D->aux64, n, NULL);
        CU_ASSERT(memcmp(D->aux32, D->out32, n * sizeof(float)) == 0);
        CU_ASSERT(memcmp(D->aux64, D->out64, n * sizeof(double)) == 0);
      }
    }
  }
}

/* f64 pow next to overflow (SLEEF's returned inf where x^y is within
 * ~1.7e-6 below MAX): a^b for a = 2 with b the last 1024 ulps below 1024
 * (128 under valgrind), a = 10 with b within 1e-8 of log10(MAX), a log-uniform on [1.001, 1e300]
 * with b within 1e-8 of ln(MAX)/ln(a) (both sides), a near -MAX^(1/1023)
 * with b = 1023; x^p for p = 200.5 and x within 2e-9 of MAX^(1/p); the
 * first 8 a^b past overflow or special. Every ISA within the documented
 * bound, in place the same bits. */
static void pow_near_overflow_within_documented_ulp(void) {
  const size_t n = under_valgrind() ? 512 : 4096;
  const double p = 200.5, lnmax = log(DBL_MAX);
  static const double sa[] = {2.0, 2.0, 10.0, -2.0, INFINITY, NAN, 0.0, 2.0};
  static const double sb[] = {1024.0, 2000.0, 309.0, 1025.0,
                              2.0,    2.0,    -1.0,  NAN};
  const ompb_kernel_info *k1 = ompb_kernel_find("pow", 1);
  const ompb_kernel_info *k2 = ompb_kernel_find("pow", 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(k1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(k2);
  size_t first2 = 0;
  while (ompb_kernel_at(first2)->arity != 2)
    first2++;
  const size_t i1 = (size_t)(k1 - ompb_kernel_at(0));
  const size_t i2 = (size_t)(k2 - ompb_kernel_at(first2));
  mpfr_t r;
  mpfr_init2(r, REF_PREC);
  double b2 = nextafter(1024.0, 0.0);
  for (size_t i = 0; i < n; i++) {
    const double u = rng_unit();
    double a, b;
    if (i < sizeof sa / sizeof sa[0]) {
      a = sa[i];
      b = sb[i];
    } else if (i % 4 == 0) {
      a = 2.0;
      b = b2;
      b2 = nextafter(b2, 0.0);
    } else if (i % 4 == 1) {
      a = 10.0;
      b = 308.25471555991675 - 1e-8 * u;
    } else if (i % 8 == 2) {
      a = -exp(lnmax / 1023.0) * (1.0 - 1e-9 * u);
      b = 1023.0;
    } else {
      a = exp(log(1.001) + (log(1e300) - log(1.001)) * rng_unit());
      b = lnmax / log(a) * (1.0 + 1e-8 * (u - 0.75));
    }
    D->in64[i] = a;
    D->b64[i] = b;
    reference2("pow", r, a, b);
    D->want64[i] = ref_from(r);
  }
  for (int form = 0; form < 2; form++) {
    const ompb_kernel_info *ki = form ? k1 : k2;
    const double bound = bound_for(ki->ulp_f64);
    if (form == 1) { /* x^p: the inputs and references replaced */
      const double x0 = exp(lnmax / p);
      for (size_t i = 0; i < n; i++) {
        D->in64[i] = x0 * (1.0 + 2e-9 * (rng_unit() - 0.75));
        reference2("pow", r, D->in64[i], p);
        D->want64[i] = ref_from(r);
      }
    }
    for (size_t ii = 0; ompb__simd_isas[ii] != NULL; ii++) {
      const ompb__simd_table *t = ompb__simd_table_get(ompb__simd_isas[ii]);
      if (t == NULL)
        continue;
      size_t w = 0;
      const double *x = form ? D->in64 : D->b64;
      if (form)
        t->f64[i1](D->in64, D->out64, n, &p);
      else
        t->f64_2[i2](D->in64, D->b64, D->out64, n, NULL);
      const double e = worst64(D->out64, x, D->want64, n, INFINITY, &w);
      if (verbose())
        printf("\n  ulp near overflow %-8s pow %s f64 %6.3f (x=%.17g)", t->isa,
               form ? "x^p" : "a^b", e, x[w]);
      report(e <= bound, form ? "f64 x^p near overflow" : "f64 a^b near overflow",
             t->isa, "pow", e, bound, x[w]);
      /* in place (out = the exponents, or out = x): the same bits */
      memcpy(D->aux64, x, n * sizeof(double));
      if (form)
        t->f64[i1](D->aux64, D->aux64, n, &p);
      else
        t->f64_2[i2](D->in64, D->aux64, D->aux64, n, NULL);
      CU_ASSERT(memcmp(D->aux64, D->out64, n * sizeof(double)) == 0);
    }
  }
  mpfr_clear(r);
}

static void accuracy_binary(void) {
  const size_t nk = ompb_kernel_count();
  size_t first2 = 0;
  while (ompb_kernel_at(first2)->arity != 2)
    first2++;
  for (size_t ki = first2; ki < nk; ki++) {
    const ompb_kernel_info *info = ompb_kernel_at(ki);
    if (strstr(info->name, "_fast") != NULL)
      continue;
    fill_binary(info->name);
    char fast[40];
    snprintf(fast, sizeof fast, "%s_fast", info->name);
    const ompb_kernel_info *variants[2] = {info, ompb_kernel_find(fast, 2)};
    for (int v = 0; v < 2 && variants[v] != NULL; v++) {
      const ompb_kernel_info *vi = variants[v];
      size_t k = (size_t)(vi - ompb_kernel_at(first2));
      double b32 = bound_for(vi->ulp_f32), b64 = bound_for(vi->ulp_f64);
      for (size_t ii = 0; ompb__simd_isas[ii] != NULL; ii++) {
        const ompb__simd_table *t = ompb__simd_table_get(ompb__simd_isas[ii]);
        if (t == NULL)
          continue;
        t->f32_2[k](D->in32, D->b32, D->out32, N_ALL, NULL);
        t->f64_2[k](D->in64, D->b64, D->out64, N_ALL, NULL);
        size_t w32 = 0, w64 = 0;
        double e32 =
            worst32(D->out32, D->in32, D->want32, N_ALL, INFINITY, &w32);
        double e64 =
            worst64(D->out64, D->in64, D->want64, N_ALL, INFINITY, &w64);
        if (verbose())
          printf("\n  ulp %-8s %-12s f32 %8.3f f64 %8.3f (2-input)", t->isa,
                 vi->name, e32, e64);
        report(e32 <= b32, "f32", t->isa, vi->name, e32, b32, D->in32[w32]);
        report(e64 <= b64, "f64", t->isa, vi->name, e64, b64, D->in64[w64]);
        /* tails, with out == a (in place): exactly n written, each within
         * the bound (the scalar tail need not match the vector bits) */
        bool ok = true;
        for (size_t n = 0; n <= MAX_TAIL && ok; n++) {
          for (size_t i = 0; i < n + 4; i++) {
            D->aux32[i] = i < n ? D->in32[i] : -7.0f;
            D->aux64[i] = i < n ? D->in64[i] : -7.0;
          }
          t->f32_2[k](D->aux32, D->b32, D->aux32, n, NULL);
          t->f64_2[k](D->aux64, D->b64, D->aux64, n, NULL);
          for (size_t i = n; i < n + 4; i++)
            ok = ok && D->aux32[i] == -7.0f && D->aux64[i] == -7.0;
          ok =
              ok &&
              worst32(D->aux32, D->in32, D->want32, n, INFINITY, &w32) <= b32 &&
              worst64(D->aux64, D->in64, D->want64, n, INFINITY, &w64) <= b64;
        }
        CU_ASSERT(ok);
        if (!ok)
          fprintf(stderr, "\n  FAIL tails %s/%s\n", t->isa, vi->name);
      }
    }
  }
}

static void accuracy_every_kernel_every_isa_within_documented_ulp(void) {
  accuracy_unary();
  accuracy_binary();
  if (verbose())
    printf("\n");
}

/* ---- ISA selection ---- */
static void isa_is_a_known_name_and_available_matches_it(void) {
  const char *isa = ompb_simd_isa();
  CU_ASSERT_PTR_NOT_NULL_FATAL(isa);
  bool known = false;
  for (size_t i = 0; ompb__simd_isas[i] != NULL; i++)
    known = known || strcmp(isa, ompb__simd_isas[i]) == 0;
  CU_ASSERT(known);
  CU_ASSERT_EQUAL(ompb_simd_available(), strcmp(isa, "scalar") != 0);
  CU_ASSERT_PTR_NOT_NULL(ompb__simd_table_get("scalar"));
  CU_ASSERT_PTR_NULL(ompb__simd_table_get("neon-or-nothing"));
  CU_ASSERT_PTR_NULL(ompb__simd_table_get(NULL));
  /* the chosen one is runnable; OMPB_SIMD, when usable, wins; otherwise the
   * best runnable one is chosen */
  CU_ASSERT_PTR_EQUAL(ompb__simd_table_get(isa), ompb__simd_active());
  const char *forced = getenv("OMPB_SIMD");
  if (forced != NULL && ompb__simd_table_get(forced) != NULL) {
    CU_ASSERT_STRING_EQUAL(isa, forced);
  } else {
    const char *best = NULL;
    for (size_t i = 0; best == NULL && ompb__simd_isas[i] != NULL; i++)
      if (ompb__simd_table_get(ompb__simd_isas[i]) != NULL)
        best = ompb__simd_isas[i];
    CU_ASSERT_STRING_EQUAL(isa, best);
  }
}

/* ---- argument checks ---- */
static void simd_map_rejects_bad_arguments_and_writes_nothing(void) {
  float buf[64];
  double dbuf[64];
  for (int i = 0; i < 64; i++) {
    buf[i] = (float)i * 0.37f;
    dbuf[i] = i * 0.37;
  }
  float keep[64];
  memcpy(keep, buf, sizeof buf);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(buf, buf, 8, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(NULL, buf, 8, ompb_k_sin_f32, NULL),
                  OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(buf, NULL, 8, ompb_k_sin_f32, NULL),
                  OMPB_EINVAL);
  /* partial overlaps, both directions */
  CU_ASSERT_EQUAL(ompb_simd_map_f32(buf, buf + 1, 8, ompb_k_sin_f32, NULL),
                  OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(buf + 7, buf, 8, ompb_k_sin_f32, NULL),
                  OMPB_EINVAL);
  CU_ASSERT(memcmp(keep, buf, sizeof buf) == 0);
  /* adjacent is fine, n == 0 is fine even with NULLs */
  CU_ASSERT_EQUAL(ompb_simd_map_f32(buf, buf + 8, 8, ompb_k_abs_f32, NULL),
                  OMPB_OK);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(NULL, NULL, 0, ompb_k_sin_f32, NULL),
                  OMPB_OK);
  CU_ASSERT_EQUAL(ompb_simd_map_f64(dbuf, dbuf + 3, 8, ompb_k_sin_f64, NULL),
                  OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f64(dbuf, dbuf, 8, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f64(NULL, dbuf, 1, ompb_k_abs_f64, NULL),
                  OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f64(NULL, NULL, 0, ompb_k_abs_f64, NULL),
                  OMPB_OK);
  /* two inputs: out may equal a or b, not partially overlap either */
  CU_ASSERT_EQUAL(
      ompb_simd_map2_f32(buf, buf + 16, buf, 8, ompb_k2_add_f32, NULL),
      OMPB_OK);
  CU_ASSERT_EQUAL(
      ompb_simd_map2_f32(buf, buf + 16, buf + 17, 8, ompb_k2_add_f32, NULL),
      OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map2_f32(buf, buf, buf + 32, 8, NULL, NULL),
                  OMPB_EINVAL);
  CU_ASSERT_EQUAL(
      ompb_simd_map2_f64(dbuf, NULL, dbuf + 32, 8, ompb_k2_mul_f64, NULL),
      OMPB_EINVAL);
  CU_ASSERT_EQUAL(
      ompb_simd_map2_f64(dbuf, dbuf + 8, dbuf + 32, 8, ompb_k2_mul_f64, NULL),
      OMPB_OK);
  CU_ASSERT_DOUBLE_EQUAL(dbuf[32], dbuf[0] * dbuf[8], 0.0);
}

static void simd_map_runs_kernel_in_place_and_out_of_place(void) {
  float a[37], b[37];
  for (int i = 0; i < 37; i++)
    a[i] = (float)i * 0.113f - 2.0f;
  CU_ASSERT_EQUAL(ompb_simd_map_f32(a, b, 37, ompb_k_exp_f32, NULL), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(a, a, 37, ompb_k_exp_f32, NULL), OMPB_OK);
  CU_ASSERT(memcmp(a, b, sizeof a) == 0);
  CU_ASSERT_DOUBLE_EQUAL(b[0], exp(-2.0), 1e-6);
}

/* ---- params ---- */
static void null_params_mean_identity_for_parameterised_kernels(void) {
  float in[19], out[19];
  double din[19], dout[19];
  for (int i = 0; i < 19; i++) {
    in[i] = (float)(i - 9) * 1.37f;
    din[i] = (i - 9) * 1.37;
  }
  ompb_kernel_f32 *k32[] = {ompb_k_scale_f32, ompb_k_add_scalar_f32,
                            ompb_k_affine_f32, ompb_k_clamp_f32,
                            ompb_k_pow_f32};
  ompb_kernel_f64 *k64[] = {ompb_k_scale_f64, ompb_k_add_scalar_f64,
                            ompb_k_affine_f64, ompb_k_clamp_f64,
                            ompb_k_pow_f64};
  for (size_t k = 0; k < 5; k++) {
    k32[k](in, out, 19, NULL);
    k64[k](din, dout, 19, NULL);
    for (int i = 0; i < 19; i++) {
      if (k32[k] == ompb_k_pow_f32 && in[i] < 0)
        continue; /* x^1 for x < 0 is x too, but keep to the real domain */
      CU_ASSERT_EQUAL(out[i], in[i]);
      CU_ASSERT_EQUAL(dout[i], din[i]);
    }
  }
  /* axpy with NULL: a = 1, so out = x + out */
  for (int i = 0; i < 19; i++)
    out[i] = 0.5f;
  ompb_k_axpy_f32(in, out, 19, NULL);
  CU_ASSERT_EQUAL(out[3], in[3] + 0.5f);
}

static void axpy_adds_scaled_input_to_output(void) {
  double x[21], y[21];
  const double a = 2.385;
  for (int i = 0; i < 21; i++) {
    x[i] = i * 0.25 - 1.0;
    y[i] = 10.0 - i;
  }
  ompb_k_axpy_f64(x, y, 21, &a);
  for (int i = 0; i < 21; i++)
    CU_ASSERT_EQUAL(y[i], fma(a, i * 0.25 - 1.0, 10.0 - i));
}

static void clamp_keeps_nan_and_bounds_values(void) {
  const float lohi[2] = {-1.5f, 2.25f};
  float in[6] = {-3.0f, -1.5f, 0.0f, 2.25f, 9.0f, NAN}, out[6];
  ompb_k_clamp_f32(in, out, 6, lohi);
  CU_ASSERT_EQUAL(out[0], -1.5f);
  CU_ASSERT_EQUAL(out[2], 0.0f);
  CU_ASSERT_EQUAL(out[4], 2.25f);
  CU_ASSERT(isnan(out[5]));
}

/* ---- user kernels ---- */
static OMPB_DEFINE_KERNEL_F32(
    twice_plus_p0, v,
    2.0f * v + P[0]) static OMPB_DEFINE_KERNEL_F64(square_minus_p1, x,
                                                   x *x - P[1])

    static void define_kernel_macros_build_working_kernels(void) {
  float in[45], out[45];
  const float p = 0.625f;
  for (int i = 0; i < 45; i++)
    in[i] = (float)i * 0.5f;
  CU_ASSERT_EQUAL(ompb_simd_map_f32(in, out, 45, twice_plus_p0, &p), OMPB_OK);
  for (int i = 0; i < 45; i++)
    CU_ASSERT_EQUAL(out[i], 2.0f * in[i] + p);
  double din[45], dp[2] = {0.0, 3.25};
  for (int i = 0; i < 45; i++)
    din[i] = i - 20.0;
  /* in place */
  CU_ASSERT_EQUAL(ompb_simd_map_f64(din, din, 45, square_minus_p1, dp),
                  OMPB_OK);
  for (int i = 0; i < 45; i++)
    CU_ASSERT_EQUAL(din[i], (i - 20.0) * (i - 20.0) - 3.25);
}

/* ---- lookup ---- */
static void kernel_lookup_finds_every_builtin_by_name_and_arity(void) {
  const ompb_kernel_info *s = ompb_kernel_find("sin", 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_PTR_EQUAL(s->f32, ompb_k_sin_f32);
  CU_ASSERT_PTR_EQUAL(s->f64, ompb_k_sin_f64);
  CU_ASSERT_EQUAL(s->nparams, 0);
  const ompb_kernel_info *pw = ompb_kernel_find("pow", 1);
  const ompb_kernel_info *pw2 = ompb_kernel_find("pow", 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
  CU_ASSERT_PTR_NOT_NULL_FATAL(pw2);
  CU_ASSERT_EQUAL(pw->nparams, 1);
  CU_ASSERT_PTR_EQUAL(pw2->f32_2, ompb_k2_pow_f32);
  CU_ASSERT_PTR_NULL(pw2->f32);
  CU_ASSERT_PTR_EQUAL(ompb_kernel_find("affine", 1)->f64, ompb_k_affine_f64);
  CU_ASSERT_EQUAL(ompb_kernel_find("affine", 1)->nparams, 2);
  CU_ASSERT_PTR_NULL(ompb_kernel_find("sinus", 1));
  CU_ASSERT_PTR_NULL(ompb_kernel_find("sin", 2));
  CU_ASSERT_PTR_NULL(ompb_kernel_find(NULL, 1));
  size_t n = ompb_kernel_count();
  CU_ASSERT(n >= 50);
  CU_ASSERT_PTR_NULL(ompb_kernel_at(n));
  for (size_t i = 0; i < n; i++) {
    const ompb_kernel_info *k = ompb_kernel_at(i);
    CU_ASSERT_PTR_EQUAL(ompb_kernel_find(k->name, k->arity), k);
    CU_ASSERT(k->arity == 1 ? (k->f32 && k->f64 && !k->f32_2)
                            : (k->f32_2 && k->f64_2 && !k->f32));
    bool fast = strstr(k->name, "_fast") != NULL;
    CU_ASSERT(k->ulp_f32 <= (fast ? 3.5 : 1.0) &&
              k->ulp_f64 <= (fast ? 3.5 : 2.5));
    CU_ASSERT(k->what != NULL && k->what[0] != '\0');
  }
}

/* ---- pool map (needs the batch engine) ---- */
#define PM_N 1000003
#define PM_CHUNK 4096

static void pool_map_f32_matches_calling_thread_kernel(void) {
  ompb_pool *pool = NULL;
  CU_ASSERT_EQUAL_FATAL(
      ompb_pool_create(&pool, &(ompb_pool_opts){.workers = 2}), OMPB_OK);
  float *in = malloc(PM_N * sizeof *in), *out = malloc(PM_N * sizeof *out),
        *ref32 = malloc(PM_N * sizeof *ref32);
  CU_ASSERT_FATAL(in && out && ref32);
  for (size_t i = 0; i < PM_N; i++)
    in[i] = (float)((double)i * 0.0173 - 5000.0);
  ompb_k_sin_f32(in, ref32, PM_N, NULL);
  ompb_batch *b = NULL;
  int rc =
      ompb_pool_map_f32(pool, in, out, PM_N, ompb_k_sin_f32, NULL, NULL, &b);
  CU_ASSERT_EQUAL(rc, OMPB_OK);
  ompb_result *r = NULL;
  if (rc == OMPB_OK) {
    CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r != NULL) {
      CU_ASSERT(r->all_succeeded);
      CU_ASSERT(r->count >= 2); /* automatic chunks: several per worker */
    }
    CU_ASSERT(memcmp(out, ref32, PM_N * sizeof *out) == 0);
    ompb_result_free(r);
    ompb_batch_free(b);
  }
  /* in place, explicit chunk size: one result per chunk */
  memcpy(out, in, PM_N * sizeof *out);
  const float a = 2.385f;
  b = NULL;
  rc = ompb_pool_map_f32(pool, out, out, PM_N, ompb_k_scale_f32, &a,
                         &(ompb_map_opts){.chunk_size = 100000}, &b);
  CU_ASSERT_EQUAL(rc, OMPB_OK);
  if (rc == OMPB_OK) {
    r = NULL;
    CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
    if (r != NULL)
      CU_ASSERT_EQUAL(r->count, (PM_N + 99999) / 100000);
    bool same = true;
    for (size_t i = 0; i < PM_N; i++)
      same = same && out[i] == a * in[i];
    CU_ASSERT(same);
    ompb_result_free(r);
    ompb_batch_free(b);
  }
  free(in);
  free(out);
  free(ref32);
  ompb_pool_destroy(pool);
}

static void pool_map_f64_rejects_bad_arguments(void) {
  ompb_pool *pool = NULL;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&pool, NULL), OMPB_OK);
  double buf[64] = {0};
  ompb_batch *b = (ompb_batch *)buf; /* must be reset to NULL */
  CU_ASSERT_EQUAL(ompb_pool_map_f64(pool, buf, buf, 8, NULL, NULL, NULL, &b),
                  OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(b);
  b = (ompb_batch *)buf;
  CU_ASSERT_EQUAL(
      ompb_pool_map_f64(pool, buf, buf + 1, 8, ompb_k_sin_f64, NULL, NULL, &b),
      OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(b);
  CU_ASSERT_EQUAL(
      ompb_pool_map_f64(NULL, buf, buf, 8, ompb_k_sin_f64, NULL, NULL, &b),
      OMPB_EINVAL);
  CU_ASSERT_EQUAL(
      ompb_pool_map_f64(pool, NULL, buf, 8, ompb_k_sin_f64, NULL, NULL, &b),
      OMPB_EINVAL);
  /* n == 0 is an empty, successful batch */
  b = NULL;
  CU_ASSERT_EQUAL(
      ompb_pool_map_f64(pool, NULL, NULL, 0, ompb_k_sin_f64, NULL, NULL, &b),
      OMPB_OK);
  if (b != NULL) {
    ompb_result *r = NULL;
    CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
    if (r != NULL)
      CU_ASSERT(r->all_succeeded);
    ompb_result_free(r);
    ompb_batch_free(b);
  }
  ompb_pool_destroy(pool);
}

static void pool_map_cancel_leaves_finished_chunks_correct(void) {
  ompb_pool *pool = NULL;
  CU_ASSERT_EQUAL_FATAL(
      ompb_pool_create(&pool, &(ompb_pool_opts){.workers = 2}), OMPB_OK);
  const size_t n = 8u << 20, chunk = PM_CHUNK;
  double *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  CU_ASSERT_FATAL(in && out);
  for (size_t i = 0; i < n; i++) {
    in[i] = (double)i * 1e-3;
    out[i] = -1.0;
  }
  ompb_batch *b = NULL;
  int rc = ompb_pool_map_f64(pool, in, out, n, ompb_k_erf_f64, NULL,
                             &(ompb_map_opts){.chunk_size = chunk}, &b);
  CU_ASSERT_EQUAL(rc, OMPB_OK);
  if (rc == OMPB_OK) {
    CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
    ompb_result *r = NULL;
    CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r != NULL && r->results != NULL) {
      CU_ASSERT_EQUAL(r->success_count + r->failure_count + r->cancelled_count,
                      r->count);
      /* every chunk that ran wrote its outputs; every skipped one none */
      bool ok = true;
      static double want[PM_CHUNK];
      for (size_t c = 0; c < r->count && ok; c++) {
        size_t lo = c * chunk, m = n - lo < chunk ? n - lo : chunk;
        if (r->results[c].status == OMPB_OK) {
          ompb_k_erf_f64(in + lo, want, m, NULL);
          ok = memcmp(want, out + lo, m * sizeof *out) == 0;
        } else if (r->results[c].status == OMPB_ECANCELED) {
          ok = out[lo] == -1.0 && out[lo + m - 1] == -1.0;
        }
      }
      CU_ASSERT(ok);
    }
    ompb_result_free(r);
    ompb_batch_free(b);
  }
  free(in);
  free(out);
  ompb_pool_destroy(pool);
}

/* ---- streaming stores: large calls match the cached path bit for bit ---- */

/* 64-byte aligned memory (aligned_alloc wants a multiple of 64 bytes). */
static void *alloc64(size_t bytes) {
  return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

/* f32: scale, add, exp and (AVX2, AVX-512F) sin, which stream, at the
 * streaming size (+37, an odd tail), out 64-byte aligned, one element off,
 * three elements into a malloc block, and in place; each against the active
 * table's kernel called directly (never streams) on the same inputs. Every
 * 997th input is above the float-lane sin's range, so that the streamed
 * form's per-element fallback runs too. */
static void large_calls_stream_and_match_the_cached_path(void) {
  const size_t n = ompb__stream_min() / sizeof(float) + 37;
  const ompb__simd_table *t = ompb__simd_active();
  float *in = alloc64((n + 64) * sizeof *in);
  float *b = alloc64((n + 64) * sizeof *b);
  float *want = alloc64((n + 64) * sizeof *want);
  float *raw = malloc((n + 64) * sizeof(float));
  CU_ASSERT_FATAL(in && b && want && raw);
  for (size_t i = 0; i < n; i++) {
    in[i] = (float)(200.0 * rng_unit() - 100.0);
    if (i % 997 == 0)
      in[i] = (float)(3e5 * rng_unit() + 2e4);
    b[i] = (float)(4.0 * rng_unit() - 2.0);
  }
  static const float a = 2.385f;
  struct {
    ompb_kernel_f32 *pub;
    size_t idx;
    const void *params;
  } ks[] = {{ompb_k_scale_f32, OMPB__K1_scale, &a},
            {ompb_k_sin_f32, OMPB__K1_sin, NULL},
            {ompb_k_cos_f32, OMPB__K1_cos, NULL},
            {ompb_k_exp_f32, OMPB__K1_exp, NULL}};
  for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++) {
    t->f32[ks[k].idx](in, want, n, ks[k].params);
    float *outs[3] = {b + 16, b + 17, raw + 3};
    for (int o = 0; o < 3; o++) {
      memset(outs[o], 0, n * sizeof(float));
      ks[k].pub(in, outs[o], n, ks[k].params);
      CU_ASSERT(memcmp(outs[o], want, n * sizeof(float)) == 0);
    }
    /* in place: a copy of the inputs is the output */
    float *io = b + 16;
    memcpy(io, in, n * sizeof *io);
    ks[k].pub(io, io, n, ks[k].params);
    CU_ASSERT(memcmp(io, want, n * sizeof(float)) == 0);
  }
  /* two inputs: a + b */
  for (size_t i = 0; i < n; i++)
    b[i] = (float)(4.0 * rng_unit() - 2.0);
  t->f32_2[OMPB__K2_add](in, b, want, n, NULL);
  float *out = raw + 3;
  ompb_k2_add_f32(in, b, out, n, NULL);
  CU_ASSERT(memcmp(out, want, n * sizeof(float)) == 0);
  ompb_k2_add_f32(in, b, b, n, NULL); /* in place on the second input */
  CU_ASSERT(memcmp(b, want, n * sizeof(float)) == 0);
  free(in);
  free(b);
  free(want);
  free(raw);
}

/* axpy reads its output: a large call must still add to it; f64 sin_fast
 * and a pool map of affine at the streaming size match the direct kernel. */
static void large_axpy_and_pool_map_stay_correct(void) {
  const size_t n = ompb__stream_min() / sizeof(double) + 29;
  const ompb__simd_table *t = ompb__simd_active();
  double *in = alloc64(n * sizeof *in);
  double *out = alloc64(n * sizeof *out);
  double *want = alloc64(n * sizeof *want);
  CU_ASSERT_FATAL(in && out && want);
  for (size_t i = 0; i < n; i++) {
    in[i] = 2e4 * rng_unit() - 1e4;
    out[i] = want[i] = (double)(i % 7) - 3.0;
  }
  static const double a = -0.7125;
  t->f64[OMPB__K1_axpy](in, want, n, &a);
  ompb_k_axpy_f64(in, out, n, &a);
  CU_ASSERT(memcmp(out, want, n * sizeof *out) == 0);

  t->f64[OMPB__K1_sin_fast](in, want, n, NULL);
  ompb_k_sin_fast_f64(in, out, n, NULL);
  CU_ASSERT(memcmp(out, want, n * sizeof *out) == 0);

  /* a pool map of a streaming kernel: every chunk streams */
  static const double ab[2] = {2.385, -0.7125};
  t->f64[OMPB__K1_affine](in, want, n, ab);
  ompb_pool *pool = NULL;
  CU_ASSERT_EQUAL_FATAL(
      ompb_pool_create(&pool, &(ompb_pool_opts){.workers = 2}), OMPB_OK);
  memset(out, 0, n * sizeof *out);
  ompb_batch *bt = NULL;
  ompb_result *r = NULL;
  CU_ASSERT_EQUAL(
      ompb_pool_map_f64(pool, in, out, n, ompb_k_affine_f64, ab, NULL, &bt),
      OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_wait(bt, &r), OMPB_OK);
  CU_ASSERT(memcmp(out, want, n * sizeof *out) == 0);
  ompb_result_free(r);
  ompb_batch_free(bt);
  ompb_pool_destroy(pool);
  free(in);
  free(out);
  free(want);
}

/* Every nt_ slot of every ISA this CPU runs gives its table kernel's bits:
 * n = 3 guard blocks + an odd tail, out 64-byte aligned (the slots'
 * contract), inputs mostly on [-100, 100] with every 7th element large
 * (above the float-lane and guarded kernels' ranges) and the special
 * values, so that the per-element fallbacks run inside the streamed form. */
static void every_nt_slot_matches_its_table_kernel(void) {
  const size_t n = 3 * 256 + 45;
  float *xf = alloc64(n * sizeof *xf), *wf = alloc64(n * sizeof *wf),
        *of = alloc64(n * sizeof *of);
  double *xd = alloc64(n * sizeof *xd), *wd = alloc64(n * sizeof *wd),
         *od = alloc64(n * sizeof *od);
  CU_ASSERT_FATAL(xf && wf && of && xd && wd && od);
  static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN,
                                   1e30, -3e5, 0x1p-140, 1e-310};
  for (size_t i = 0; i < n; i++) {
    double v = 200.0 * rng_unit() - 100.0;
    if (i % 7 == 3)
      v = (rng_unit() < 0.5 ? -1 : 1) * (2e4 + 3e6 * rng_unit());
    if (i % 61 == 5)
      v = special[(i / 61) % (sizeof special / sizeof special[0])];
    xd[i] = v;
    xf[i] = (float)v;
  }
  static const float pf[] = {-1.5f, 2.5f, 0.75f, 0.0f};
  static const double pd[] = {-1.5, 2.5, 0.75, 0.0};
  int checked = 0;
  for (size_t ii = 0; ompb__simd_isas[ii] != NULL; ii++) {
    const ompb__simd_table *t = ompb__simd_table_get(ompb__simd_isas[ii]);
    if (t == NULL || t->stream_fence == NULL)
      continue;
    /* slot k of precision sfx: the nt_ form into o against the table
     * kernel into w, on inputs x with parameters p */
#define CHECK_NT(sfx, x, w, o, p)                                              \
  if (t->nt_##sfx[k] != NULL) {                                                \
    t->sfx[k](x, w, n, p);                                                     \
    memset(o, 0, n * sizeof *o);                                               \
    t->nt_##sfx[k](x, o, n, p);                                                \
    t->stream_fence();                                                         \
    bool same = memcmp(o, w, n * sizeof *o) == 0;                              \
    CU_ASSERT(same);                                                           \
    if (!same)                                                                 \
      fprintf(stderr, "nt_" #sfx " slot %zu on %s differs\n", k, t->isa);      \
    checked++;                                                                 \
  }
    for (size_t k = 0; k < OMPB__K1_COUNT; k++) {
      CHECK_NT(f32, xf, wf, of, pf)
      CHECK_NT(f64, xd, wd, od, pd)
    }
#undef CHECK_NT
  }
  /* every vector ISA has streamed arithmetic kernels */
  if (ompb__simd_table_get("sse2") != NULL)
    CU_ASSERT(checked > 0);
  free(xf);
  free(wf);
  free(of);
  free(xd);
  free(wd);
  free(od);
}

/* ---- the suite ---- */
static int suite_init(void) {
  D = aligned_alloc(64, (sizeof *D + 63) & ~(size_t)63);
  return D == NULL ? -1 : 0;
}
static int suite_clean(void) {
  free(D);
  D = NULL;
  mpfr_free_cache();
  return 0;
}

int ompb_suite_simd(void) {
  CU_pSuite s = CU_add_suite("simd", suite_init, suite_clean);
  if (s == NULL)
    return -1;
  struct {
    const char *name;
    CU_TestFunc fn;
  } tests[] = {
#define T(f) {#f, f}
      T(isa_is_a_known_name_and_available_matches_it),
      T(accuracy_every_kernel_every_isa_within_documented_ulp),
      T(log_near_one_within_documented_ulp),
      T(exp_near_overflow_within_documented_ulp),
      T(hyp_near_overflow_within_documented_ulp),
      T(pow_near_overflow_within_documented_ulp),
      T(simd_map_rejects_bad_arguments_and_writes_nothing),
      T(simd_map_runs_kernel_in_place_and_out_of_place),
      T(null_params_mean_identity_for_parameterised_kernels),
      T(axpy_adds_scaled_input_to_output),
      T(clamp_keeps_nan_and_bounds_values),
      T(define_kernel_macros_build_working_kernels),
      T(kernel_lookup_finds_every_builtin_by_name_and_arity),
      T(pool_map_f32_matches_calling_thread_kernel),
      T(pool_map_f64_rejects_bad_arguments),
      T(pool_map_cancel_leaves_finished_chunks_correct),
      T(large_calls_stream_and_match_the_cached_path),
      T(large_axpy_and_pool_map_stay_correct),
      T(every_nt_slot_matches_its_table_kernel),
#undef T
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
      return -1;
  return 0;
}
