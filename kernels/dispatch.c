/* ompbatch: run-time ISA dispatch for the built-in kernels, the public
 * kernel entry points, argument checking, and lookup by name.
 *
 * The ISA is chosen once per process (pthread_once): the best table that
 * was compiled in (OMPB_KERNELS_HAVE_<ISA>, set by kernels/kernels.mk) and
 * that the CPU supports, unless OMPB_SIMD names another usable one. After
 * that the choice is immutable, so kernels read it without locks. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

extern const ompb__simd_table ompb__simd_table_scalar;
#if defined(OMPB_KERNELS_HAVE_SSE2)
extern const ompb__simd_table ompb__simd_table_sse2;
#endif
#if defined(OMPB_KERNELS_HAVE_AVX2)
extern const ompb__simd_table ompb__simd_table_avx2;
#endif
#if defined(OMPB_KERNELS_HAVE_AVX512F)
extern const ompb__simd_table ompb__simd_table_avx512f;
#endif

const char *const ompb__simd_isas[] = {"avx512f", "avx2", "sse2", "scalar",
                                       NULL};

/* The table for `isa` if compiled in and runnable on this CPU. */
static const ompb__simd_table *table_lookup(const char *isa) {
  if (isa == NULL)
    return NULL;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init(); /* idempotent; needed before main only */
#endif
#if defined(OMPB_KERNELS_HAVE_AVX512F)
  if (strcmp(isa, "avx512f") == 0)
    return __builtin_cpu_supports("avx512f") ? &ompb__simd_table_avx512f
                                             : NULL;
#endif
#if defined(OMPB_KERNELS_HAVE_AVX2)
  if (strcmp(isa, "avx2") == 0)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
               ? &ompb__simd_table_avx2
               : NULL;
#endif
#if defined(OMPB_KERNELS_HAVE_SSE2)
  if (strcmp(isa, "sse2") == 0)
    return __builtin_cpu_supports("sse2") ? &ompb__simd_table_sse2 : NULL;
#endif
  if (strcmp(isa, "scalar") == 0)
    return &ompb__simd_table_scalar;
  return NULL;
}

const ompb__simd_table *ompb__simd_table_get(const char *isa) {
  return table_lookup(isa);
}

/* Written once inside choose_isa, under pthread_once; read-only after. */
static const ompb__simd_table *active_table;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

static void choose_isa(void) {
  /* A forced ISA that is unknown, not compiled in or not supported by the
   * CPU falls through to the best available one. */
  const ompb__simd_table *t = table_lookup(getenv("OMPB_SIMD"));
  for (size_t i = 0; t == NULL && ompb__simd_isas[i] != NULL; i++)
    t = table_lookup(ompb__simd_isas[i]);
  active_table = t; /* "scalar" always exists */
}

const ompb__simd_table *ompb__simd_active(void) {
  pthread_once(&active_once, choose_isa);
  return active_table;
}

const char *ompb_simd_isa(void) { return ompb__simd_active()->isa; }

bool ompb_simd_available(void) {
  return strcmp(ompb_simd_isa(), "scalar") != 0;
}

/* ---- public kernels: forward to the active table ---- */
#define WRAP_K1(name, np, uf, ud, what)                                        \
  void ompb_k_##name##_f32(const float *in, float *out, size_t n,              \
                           const void *params) {                               \
    ompb__simd_active()->f32[OMPB__K1_##name](in, out, n, params);             \
  }                                                                            \
  void ompb_k_##name##_f64(const double *in, double *out, size_t n,            \
                           const void *params) {                               \
    ompb__simd_active()->f64[OMPB__K1_##name](in, out, n, params);             \
  }
#define WRAP_K2(name, np, uf, ud, what)                                        \
  void ompb_k2_##name##_f32(const float *a, const float *b, float *out,         \
                            size_t n, const void *params) {                    \
    ompb__simd_active()->f32_2[OMPB__K2_##name](a, b, out, n, params);         \
  }                                                                            \
  void ompb_k2_##name##_f64(const double *a, const double *b, double *out,     \
                            size_t n, const void *params) {                    \
    ompb__simd_active()->f64_2[OMPB__K2_##name](a, b, out, n, params);         \
  }
OMPB_KERNELS_MATH(WRAP_K1)
OMPB_KERNELS_ARITH(WRAP_K1)
OMPB_KERNELS_BINARY(WRAP_K2)

/* ---- argument checks ---- */

/* true when [a, a + na) and [b, b + nb) share a byte (sizes in bytes). */
static bool overlaps(const void *a, size_t na, const void *b, size_t nb) {
  const uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
  return pa < pb + nb && pb < pa + na;
}

/* in/out for n elements of `size` bytes: NULL only when n == 0; out either
 * equal to in or disjoint from it. */
static bool io_ok(const void *in, const void *out, size_t n, size_t size) {
  if (n == 0)
    return true;
  if (in == NULL || out == NULL || n > SIZE_MAX / size)
    return false;
  return in == out || !overlaps(in, n * size, out, n * size);
}

int ompb_simd_map_f32(const float *in, float *out, size_t n,
                      ompb_kernel_f32 *k, const void *params) {
  if (k == NULL || !io_ok(in, out, n, sizeof *in))
    return OMPB_EINVAL;
  if (n > 0)
    k(in, out, n, params);
  return OMPB_OK;
}

int ompb_simd_map_f64(const double *in, double *out, size_t n,
                      ompb_kernel_f64 *k, const void *params) {
  if (k == NULL || !io_ok(in, out, n, sizeof *in))
    return OMPB_EINVAL;
  if (n > 0)
    k(in, out, n, params);
  return OMPB_OK;
}

int ompb_simd_map2_f32(const float *a, const float *b, float *out, size_t n,
                       ompb_kernel2_f32 *k, const void *params) {
  if (k == NULL || !io_ok(a, out, n, sizeof *a) || !io_ok(b, out, n, sizeof *b))
    return OMPB_EINVAL;
  if (n > 0)
    k(a, b, out, n, params);
  return OMPB_OK;
}

int ompb_simd_map2_f64(const double *a, const double *b, double *out, size_t n,
                       ompb_kernel2_f64 *k, const void *params) {
  if (k == NULL || !io_ok(a, out, n, sizeof *a) || !io_ok(b, out, n, sizeof *b))
    return OMPB_EINVAL;
  if (n > 0)
    k(a, b, out, n, params);
  return OMPB_OK;
}

/* ---- lookup by name ---- */
static const ompb_kernel_info kernel_infos[] = {
#define INFO_K1(name, np, uf, ud, what)                                        \
  {#name, 1, np, uf, ud, what, ompb_k_##name##_f32, ompb_k_##name##_f64,      \
   NULL, NULL},
#define INFO_K2(name, np, uf, ud, what)                                        \
  {#name, 2, np, uf, ud, what, NULL, NULL, ompb_k2_##name##_f32,              \
   ompb_k2_##name##_f64},
    OMPB_KERNELS_MATH(INFO_K1) OMPB_KERNELS_ARITH(INFO_K1)
        OMPB_KERNELS_BINARY(INFO_K2)
#undef INFO_K1
#undef INFO_K2
};
#define N_KERNELS (sizeof kernel_infos / sizeof kernel_infos[0])

const ompb_kernel_info *ompb_kernel_find(const char *name, unsigned arity) {
  if (name == NULL)
    return NULL;
  for (size_t i = 0; i < N_KERNELS; i++)
    if (kernel_infos[i].arity == arity && strcmp(kernel_infos[i].name, name) == 0)
      return &kernel_infos[i];
  return NULL;
}

size_t ompb_kernel_count(void) { return N_KERNELS; }

const ompb_kernel_info *ompb_kernel_at(size_t i) {
  return i < N_KERNELS ? &kernel_infos[i] : NULL;
}
