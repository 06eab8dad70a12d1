/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the expression compiler and evaluator (ompb_expr_*).
 *
 * The input is a small header and an expression's source:
 *
 *   byte 0   bits 0-2: the number of variables (0-7); bit 3: their names
 *            come from the input; bits 4-7: the length class (NLENS)
 *   byte 1   seed of the input values
 *   names    only with bit 3: names separated by ',' and ended by ';'
 *            (missing ones are the default names; an empty or bad name is
 *            an error ompb_expr_compile must report)
 *   source   the rest, up to the first NUL byte
 *
 * Default names are x y z a b c t, so that seeds and dictionary words are
 * plain expressions. Whatever the input, ompb_expr_compile either succeeds
 * or fails with OMPB_EINVAL or OMPB_ERANGE, *out NULL and a diag inside the
 * source with a non-empty one-line message. A compiled expression is
 * evaluated over the values in f32 and in f64 on a one-worker pool made
 * once, and checked against invariants that need no reference:
 *   - the same call twice gives the same bits and the same code (out at
 *     the same alignment: it decides where the streaming stores' blocks
 *     start, and so which elements a vector body or its tail computes);
 *   - nothing is written past out's length (exact-size buffers, ASan), a
 *     reduction writes out[0] only, and an empty evaluation nothing;
 *   - in place (out is one used input, same alignment) gives the bits of
 *     out-of-place;
 *   - a non-reduction over [0, n) gives the bits of [0, k) and [k, n)
 *     evaluated apart (blocks and vector tails do not leak into each
 *     other; the second part starts at another alignment), each from
 *     inputs that end where its length ends (k follows a hash of the
 *     whole input, so the fuzzer reaches every length below n quickly);
 *   - the asynchronous form (ompb_expr_eval_start_*) gives the same bits;
 *   - nvars, uses and is_reduction agree with the source: an unused
 *     variable's input is NULL and never read, a used one that is NULL or
 *     an out that overlaps it partly is OMPB_EINVAL with nothing written;
 *   - an empty reduction is OMPB_EINVAL (min, max) or 0, 1 or NaN.
 * OMPB_STREAM_BYTES is set to 256 (unless already set) so that the longer
 * evaluations take the streaming-store path too. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ompbatch/batch.h"
#include "ompbatch/expr.h"
#include "ompbatch/pool.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, then abort so libFuzzer keeps the input. */
#define EXPECT(cond)                                                    \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "fuzz_expr: %s:%d: expected %s\n", __FILE__,      \
              __LINE__, #cond);                                         \
      abort();                                                          \
    }                                                                   \
  } while (0)

#define MAXV 7
#define NLENS 16
/* Lengths around the vector widths (4, 8, 16 lanes) and one past a block
 * (1024 elements), the costly one. */
static const size_t lens[NLENS] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 70, 1030};
static const char *const default_names[MAXV] = {"x", "y", "z", "a", "b", "c", "t"};

static ompb_pool *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setenv("OMPB_STREAM_BYTES", "256", 0);
  ompb_pool_opts po = {.workers = 1, .no_pin = true};
  int rc = ompb_pool_create(&pool, &po);
  if (rc != OMPB_OK) {
    fprintf(stderr, "fuzz_expr: ompb_pool_create: %s\n", ompb_strerror(rc));
    exit(1);
  }
  return 0;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  EXPECT(p != NULL);
  return p;
}

/* ---- input values ---- */
static uint32_t next(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static const double specials[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -1.0, 0.5, 2.0, -2.0, 3.0,
    1e-310, -4.9e-324, 1.2e-38, 1e-45, 3.4e38, 1e300, -1e300, 88.8, -104.0,
    710.0, 1e-8, 0.999999, 3.14159265358979};

/* n values for variable k: mostly on [-4, 4), some integers, some special. */
static void fill_values(double *v, size_t n, unsigned seed, unsigned k) {
  uint32_t s = 0x9e3779b9u ^ (seed * 0x85ebca6bu) ^ ((k + 1) * 0xc2b2ae35u);
  if (!s) s = 1;
  for (size_t i = 0; i < n; i++) {
    uint32_t r = next(&s);
    switch (r & 15) {
    case 0:
    case 1:
      v[i] = specials[(r >> 4) % (sizeof specials / sizeof specials[0])];
      break;
    case 2:
      v[i] = (double)((int)((r >> 4) % 9) - 4);
      break;
    default:
      v[i] = ((double)(r >> 8) / 16777216.0) * 8.0 - 4.0;
      break;
    }
  }
}

/* ---- evaluation, generic over the element type ---- */
struct run {
  const ompb_expr *e;
  size_t nvars, n, len; /* len: out's elements (1 for a reduction) */
  bool red;
  unsigned seed;
  uint32_t mix; /* a hash of the whole input: split point, in-place
                 * variable, out's alignment, which calls are async */
  const bool *used;
  const double *vals[MAXV]; /* n values each */
};

static size_t bytes_of(size_t n, size_t es) { return n * es; }

#define DEFINE_CHECKS(T, SFX)                                                  \
  /* the same bits, or NaN in both: a vector body and its scalar tail may   \
   * make NaNs of another sign (x86's default NaN is negative), which no    \
   * operation of an expression can tell apart */                             \
  static bool same_##SFX(const T *a, const T *b, size_t n) {                   \
    for (size_t i = 0; i < n; i++)                                             \
      if (memcmp(&a[i], &b[i], sizeof(T)) != 0 && !(isnan(a[i]) && isnan(b[i]))) { \
        fprintf(stderr, "fuzz_expr: element %zu: %a against %a\n", i,          \
                (double)a[i], (double)b[i]);                                   \
        return false;                                                          \
      }                                                                        \
    return true;                                                               \
  }                                                                            \
                                                                               \
  static int eval_##SFX(const ompb_expr *e, const T *const *in, size_t n,      \
                        T *out, bool async) {                                  \
    if (!async) return ompb_expr_eval_##SFX(pool, e, in, n, out, NULL);        \
    ompb_batch *b = NULL;                                                      \
    int rc = ompb_expr_eval_start_##SFX(pool, e, in, n, out, NULL, &b);        \
    if (rc != OMPB_OK) {                                                       \
      EXPECT(b == NULL);                                                       \
      return rc;                                                               \
    }                                                                          \
    ompb_result *res = NULL;                                                   \
    rc = ompb_batch_wait(b, &res);                                             \
    EXPECT(rc == OMPB_OK && res != NULL);                                      \
    EXPECT(res->count == n && res->success_count == n && !res->cancelled);    \
    ompb_result_free(res);                                                     \
    ompb_batch_free(b);                                                        \
    return rc;                                                                 \
  }                                                                            \
                                                                               \
  static void check_##SFX(const struct run *r) {                               \
    const size_t es = sizeof(T), n = r->n, len = r->len;                       \
    T *data[MAXV] = {0};                                                       \
    const T *in[MAXV] = {0};                                                   \
    for (size_t k = 0; k < r->nvars; k++) {                                    \
      data[k] = xmalloc(bytes_of(n, es));                                      \
      for (size_t i = 0; i < n; i++) data[k][i] = (T)r->vals[k][i];            \
      in[k] = r->used[k] ? data[k] : NULL;                                     \
    }                                                                          \
    /* out at an offset of 0-3 elements from malloc's alignment, exact end */ \
    size_t off = (r->mix >> 2) & 3;                                            \
    size_t alen = len ? len : 1;                                               \
    T *base1 = xmalloc(bytes_of(off + alen, es)), *out1 = base1 + off;         \
    memset(out1, 0xa5, bytes_of(alen, es));                                    \
    int rc = eval_##SFX(r->e, r->nvars ? in : NULL, n, out1, false);           \
    if (r->red && n == 0) {                                                    \
      EXPECT(rc == OMPB_OK || rc == OMPB_EINVAL);                              \
      if (rc == OMPB_OK)                                                       \
        EXPECT(out1[0] == 0 || out1[0] == 1 || isnan(out1[0]));                \
    } else {                                                                   \
      EXPECT(rc == OMPB_OK);                                                   \
    }                                                                          \
    unsigned char canary[sizeof(T)];                                           \
    memset(canary, 0xa5, sizeof canary);                                       \
    if (rc != OMPB_OK || len == 0) EXPECT(memcmp(out1, canary, es) == 0);      \
                                                                               \
    /* the same again into another pattern; a reduction over an n-element  \
     * out writes out[0] only */                                               \
    size_t len2 = r->red ? (n > 1 ? n : 1) : alen;                             \
    T *base2 = xmalloc(bytes_of(off + len2, es)), *out2 = base2 + off;         \
    memset(out2, 0x5a, bytes_of(len2, es));                                    \
    int rc2 = eval_##SFX(r->e, r->nvars ? in : NULL, n, out2, false);          \
    EXPECT(rc2 == rc);                                                         \
    if (rc == OMPB_OK) EXPECT(memcmp(out1, out2, bytes_of(len, es)) == 0);     \
    for (size_t i = len; i < len2; i++) {                                      \
      unsigned char c[sizeof(T)];                                              \
      memcpy(c, &out2[i], es);                                                 \
      for (size_t j = 0; j < es; j++) EXPECT(c[j] == 0x5a);                    \
    }                                                                          \
                                                                               \
    /* in place: out is one of the used inputs */                              \
    size_t nused = 0, pick = 0;                                                \
    for (size_t k = 0; k < r->nvars; k++) nused += r->used[k];                 \
    if (nused > 0 && n > 0 && rc == OMPB_OK) {                                 \
      size_t want = (r->mix >> 4) % nused;                                     \
      for (size_t k = 0; k < r->nvars; k++)                                    \
        if (r->used[k] && want-- == 0) {                                       \
          pick = k;                                                            \
          break;                                                               \
        }                                                                      \
      T *bbase = xmalloc(bytes_of(off + n, es)), *buf = bbase + off;           \
      memcpy(buf, data[pick], bytes_of(n, es));                                \
      const T *in2[MAXV];                                                      \
      memcpy(in2, in, sizeof in2);                                             \
      in2[pick] = buf;                                                         \
      EXPECT(eval_##SFX(r->e, in2, n, buf, (r->mix & 3) == 1) == OMPB_OK);    \
      EXPECT(memcmp(buf, out1, bytes_of(len, es)) == 0);                       \
      if (r->red)                                                              \
        EXPECT(memcmp(buf + 1, data[pick] + 1, bytes_of(n - 1, es)) == 0);     \
      free(bbase);                                                             \
                                                                               \
      /* a used input NULL, or out overlapping it partly: refused, and      \
       * nothing written */                                                    \
      memset(out2, 0x5a, bytes_of(len2, es));                                  \
      in2[pick] = NULL;                                                        \
      EXPECT(eval_##SFX(r->e, in2, n, out2, false) == OMPB_EINVAL);            \
      if (n >= 2) {                                                            \
        T *ov = xmalloc(bytes_of(n + 1, es));                                  \
        memcpy(ov, data[pick], bytes_of(n, es));                               \
        ov[n] = 0;                                                             \
        in2[pick] = ov;                                                        \
        EXPECT(eval_##SFX(r->e, in2, n, ov + 1, false) == OMPB_EINVAL);        \
        EXPECT(memcmp(ov, data[pick], bytes_of(n, es)) == 0 && ov[n] == 0);    \
        free(ov);                                                              \
      }                                                                        \
      for (size_t i = 0; i < len2; i++) {                                      \
        unsigned char c[sizeof(T)];                                            \
        memcpy(c, &out2[i], es);                                               \
        for (size_t j = 0; j < es; j++) EXPECT(c[j] == 0x5a);                  \
      }                                                                        \
    }                                                                          \
                                                                               \
    /* [0, k) and [k, n) apart give the bits of [0, n); the first part's   \
     * inputs are copies of exactly k elements and the second part ends   \
     * where the arrays end, so that ASan sees a read or write past either \
     * length (a reduction: the first part only, its value unchecked) */   \
    if (n >= 2 && rc == OMPB_OK) {                                             \
      size_t k = 1 + (r->mix >> (es == 8 ? 20 : 8)) % (n - 1);                 \
      T *cp[MAXV] = {0};                                                       \
      const T *inlo[MAXV] = {0}, *inhi[MAXV] = {0};                            \
      for (size_t v = 0; v < r->nvars; v++)                                    \
        if (in[v]) {                                                           \
          cp[v] = xmalloc(bytes_of(k, es));                                    \
          memcpy(cp[v], in[v], bytes_of(k, es));                               \
          inlo[v] = cp[v];                                                     \
          inhi[v] = in[v] + k;                                                 \
        }                                                                      \
      T *lo = xmalloc(bytes_of(r->red ? 1 : k, es));                           \
      bool async = (r->mix & 3) == 2;                                          \
      EXPECT(eval_##SFX(r->e, r->nvars ? inlo : NULL, k, lo, async) == OMPB_OK); \
      if (!r->red) {                                                           \
        T *hi = xmalloc(bytes_of(n - k, es));                                  \
        EXPECT(eval_##SFX(r->e, r->nvars ? inhi : NULL, n - k, hi, false) ==   \
               OMPB_OK);                                                       \
        EXPECT(same_##SFX(lo, out1, k));                                       \
        EXPECT(same_##SFX(hi, out1 + k, n - k));                               \
        free(hi);                                                              \
      }                                                                        \
      free(lo);                                                                \
      for (size_t v = 0; v < r->nvars; v++) free(cp[v]);                       \
    }                                                                          \
    free(base2);                                                               \
    free(base1);                                                               \
    for (size_t k = 0; k < r->nvars; k++) free(data[k]);                       \
  }

DEFINE_CHECKS(float, f32)
DEFINE_CHECKS(double, f64)

/* ---- the input ---- */
static bool contains(const char *src, const char *name) {
  return name[0] != '\0' && strstr(src, name) != NULL;
}

static void check_compiled(const ompb_expr *e, const char *src, const char *const *names,
                           size_t nvars, size_t n, unsigned seed, uint32_t mix) {
  EXPECT(ompb_expr_nvars(e) == nvars);
  EXPECT(!ompb_expr_uses(e, nvars) && !ompb_expr_uses(e, SIZE_MAX));
  bool red = ompb_expr_is_reduction(e);
  if (red)
    EXPECT(contains(src, "sum") || contains(src, "prod") || contains(src, "min") ||
           contains(src, "max") || contains(src, "mean"));
  bool used[MAXV] = {0};
  for (size_t k = 0; k < nvars; k++) {
    used[k] = ompb_expr_uses(e, k);
    /* a variable is only read when the source names it */
    if (used[k]) EXPECT(contains(src, names[k]));
  }
  struct run r = {.e = e, .nvars = nvars, .n = n, .len = red ? 1 : n, .red = red,
                  .seed = seed, .mix = mix, .used = used};
  double *vals[MAXV] = {0};
  for (size_t k = 0; k < nvars; k++) {
    vals[k] = xmalloc(n * sizeof(double));
    fill_values(vals[k], n, seed, (unsigned)k);
    r.vals[k] = vals[k];
  }
  check_f32(&r);
  check_f64(&r);
  for (size_t k = 0; k < nvars; k++) free(vals[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t nvars = data[0] & 7;
  bool own_names = (data[0] & 8) != 0;
  size_t n = lens[data[0] >> 4];
  unsigned seed = data[1];
  /* one NUL-terminated copy: names first, then the source */
  char *text = xmalloc(size - 1);
  memcpy(text, data + 2, size - 2);
  text[size - 2] = '\0';
  const char *names[MAXV];
  for (size_t k = 0; k < MAXV; k++) names[k] = default_names[k];
  char *src = text;
  if (own_names) {
    char *semi = strchr(text, ';');
    if (semi) {
      *semi = '\0';
      src = semi + 1;
    } else {
      src = text + strlen(text); /* all names, empty source */
    }
    char *p = text;
    for (size_t k = 0; k < nvars && p; k++) {
      names[k] = p;
      p = strchr(p, ',');
      if (p) *p++ = '\0';
    }
  }
  size_t slen = strlen(src);

  ompb_expr *e = (ompb_expr *)&pool; /* not NULL: a failure must clear it */
  ompb_expr_diag d;
  memset(&d, 0x7f, sizeof d);
  int rc = ompb_expr_compile(src, names, nvars, &e, &d);
  if (rc != OMPB_OK) {
    EXPECT(rc == OMPB_EINVAL || rc == OMPB_ERANGE);
    EXPECT(e == NULL);
    EXPECT(d.pos <= slen);
    EXPECT(memchr(d.message, '\0', sizeof d.message) != NULL);
    EXPECT(d.message[0] != '\0' && strchr(d.message, '\n') == NULL);
    /* the same without a diag */
    ompb_expr *e2 = (ompb_expr *)&pool;
    EXPECT(ompb_expr_compile(src, names, nvars, &e2, NULL) == rc && e2 == NULL);
    free(text);
    return 0;
  }
  EXPECT(e != NULL && e != (ompb_expr *)&pool);
  /* FNV-1a over the whole input: any mutation moves the split point and
   * the rest, so every length below n is reached quickly */
  uint32_t mix = 2166136261u;
  for (size_t i = 0; i < size; i++) mix = (mix ^ data[i]) * 16777619u;
  check_compiled(e, src, names, nvars, n, seed, mix);
  ompb_expr_free(e);
  free(text);
  return 0;
}
