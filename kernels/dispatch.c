/* SPDX-License-Identifier: BSD-3-Clause */
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
    return __builtin_cpu_supports("avx512f") ? &ompb__simd_table_avx512f : NULL;
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
static size_t stream_min;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

/* Streaming stores from 16 MiB of output per call: measured on a 2-core
 * Xeon VM (perf/bench_simd, README), streaming scale is 1.2x faster than
 * cached stores at 16 MiB even when the output is read back at once, and
 * slower below 4 MiB. */
#define STREAM_MIN_DEFAULT ((size_t)16 << 20)

static size_t read_stream_min(void) {
  const char *v = getenv("OMPB_STREAM_BYTES");
  if (v == NULL || *v == '\0')
    return STREAM_MIN_DEFAULT;
  char *end = NULL;
  unsigned long long b = strtoull(v, &end, 10);
  if (end == v || *end != '\0')
    return STREAM_MIN_DEFAULT; /* not a number: ignored */
  return b == 0 || b > SIZE_MAX ? SIZE_MAX : (size_t)b;
}

static void choose_isa(void) {
  stream_min = read_stream_min();
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

size_t ompb__stream_min(void) {
  pthread_once(&active_once, choose_isa);
  return stream_min;
}

/* ---- streaming: the kernel into an L1 buffer, then non-temporal stores ----
 * Above ompb__stream_min() bytes of output a call keeps its output out of
 * the caches, as memcpy does for large copies: no read-for-ownership of
 * the output lines and no write-back of them later. Blocks of STREAM_BLOCK
 * elements go through a 64-byte aligned stack buffer; the head up to the
 * first 64-byte boundary of out uses the kernel's own stores (out is
 * aligned to its element size, as C requires of a float or double pointer).
 * In place works: each block is read before it is written. */
#define STREAM_BLOCK 2048

/* One kernel call, unary (k1, b unused) or two-input (k2), on n elements. */
#define STREAM_FN(T, sfx)                                                      \
  static void call_##sfx(ompb_kernel_##sfx *k1, ompb_kernel2_##sfx *k2,        \
                         const T *a, const T *b, T *out, size_t n,             \
                         const void *params) {                                 \
    if (k2 != NULL)                                                            \
      k2(a, b, out, n, params);                                                \
    else                                                                       \
      k1(a, out, n, params);                                                   \
  }                                                                            \
  static void streamed_##sfx(const ompb__simd_table *t, ompb_kernel_##sfx *k1, \
                             ompb_kernel2_##sfx *k2, ompb_kernel_##sfx *nt1,   \
                             ompb_kernel2_##sfx *nt2, const T *a, const T *b,  \
                             T *out, size_t n, const void *params) {           \
    _Alignas(64) T buf[STREAM_BLOCK];                                          \
    size_t head = (size_t)((64 - ((uintptr_t)out & 63)) & 63) / sizeof(T);     \
    if (head > n || t->stream_##sfx == NULL)                                   \
      head = n;                                                                \
    if (head > 0)                                                              \
      call_##sfx(k1, k2, a, b, out, head, params);                             \
    if (head < n && (nt1 != NULL || nt2 != NULL)) {                            \
      call_##sfx(nt1, nt2, a + head, k2 ? b + head : NULL, out + head,         \
                 n - head, params);                                            \
      t->stream_fence();                                                       \
      return;                                                                  \
    }                                                                          \
    for (size_t lo = head; lo < n; lo += STREAM_BLOCK) {                       \
      size_t m = n - lo < STREAM_BLOCK ? n - lo : STREAM_BLOCK;                \
      call_##sfx(k1, k2, a + lo, k2 ? b + lo : NULL, buf, m, params);          \
      t->stream_##sfx(buf, out + lo, m);                                       \
    }                                                                          \
    if (head < n)                                                              \
      t->stream_fence();                                                       \
  }
STREAM_FN(float, f32)
STREAM_FN(double, f64)

/* Which kernels stream: those whose arithmetic is light next to their
 * traffic. Measured (perf/bench_simd, 64 MiB, 1 and 2 threads, ratio to
 * memcpy, ordinary -> streaming stores): scale 0.9 -> 1.2-1.4; exp and
 * exp_fast 0.90-0.96 -> 1.05-1.30; log_fast 0.84-1.00 -> 0.87-1.26; f32
 * sin_fast 0.93-1.03 -> 1.05-1.16. The heavier kernels lose (f64 sin_fast
 * 0.85-0.93 -> 0.73-0.91, sin 0.60-0.79 -> 0.48-0.78, log 0.62-0.91 ->
 * 0.50-0.88): they keep ordinary stores, except where an nt_ form storing
 * from the registers measured faster (STREAMS_ON below). axpy reads out
 * (y), which the buffer would lose. */
#define STREAMS(name, T)                                                       \
  (OMPB__K1_##name == OMPB__K1_scale ||                                        \
   OMPB__K1_##name == OMPB__K1_add_scalar ||                                   \
   OMPB__K1_##name == OMPB__K1_affine || OMPB__K1_##name == OMPB__K1_clamp ||  \
   OMPB__K1_##name == OMPB__K1_abs || OMPB__K1_##name == OMPB__K1_exp ||       \
   OMPB__K1_##name == OMPB__K1_exp_fast ||                                     \
   OMPB__K1_##name == OMPB__K1_log_fast ||                                     \
   (sizeof(T) == sizeof(float) && (OMPB__K1_##name == OMPB__K1_sin_fast ||     \
                                   OMPB__K1_##name == OMPB__K1_cos_fast)))
/* Or the active ISA's kernel has an nt_ slot (kernels/table.c: the log,
 * sin and cos and the f64 sin_fast and cos_fast on AVX2 and AVX-512F,
 * where storing from the registers measured faster). */
#define STREAMS_ON(t, name, T, sfx)                                            \
  (STREAMS(name, T) || (t)->nt_##sfx[OMPB__K1_##name] != NULL)
#define STREAMS2(name)                                                         \
  (OMPB__K2_##name == OMPB__K2_add || OMPB__K2_##name == OMPB__K2_mul)

/* ---- public kernels: forward to the active table ----
 * ompb_k_<name>_<t> streams from ompb__stream_min() bytes of output;
 * stream_<name>_<t> always streams (ompb_pool_map_* chunks). */
#define WRAP_K1_T(name, T, sfx)                                                \
  void ompb_k_##name##_##sfx(const T *in, T *out, size_t n,                    \
                             const void *params) {                             \
    const ompb__simd_table *t = ompb__simd_active();                           \
    if (STREAMS_ON(t, name, T, sfx) && n >= stream_min / sizeof(T))            \
      streamed_##sfx(t, t->sfx[OMPB__K1_##name], NULL,                         \
                     t->nt_##sfx[OMPB__K1_##name], NULL, in, NULL, out, n,     \
                     params);                                                  \
    else                                                                       \
      t->sfx[OMPB__K1_##name](in, out, n, params);                             \
  }                                                                            \
  static void stream_##name##_##sfx(const T *in, T *out, size_t n,             \
                                    const void *params) {                      \
    const ompb__simd_table *t = ompb__simd_active();                           \
    streamed_##sfx(t, t->sfx[OMPB__K1_##name], NULL,                           \
                   t->nt_##sfx[OMPB__K1_##name], NULL, in, NULL, out, n,       \
                   params);                                                    \
  }
#define WRAP_K1(name, np, uf, ud, what)                                        \
  WRAP_K1_T(name, float, f32)                                                  \
  WRAP_K1_T(name, double, f64)
#define WRAP_K2_T(name, T, sfx)                                                \
  void ompb_k2_##name##_##sfx(const T *a, const T *b, T *out, size_t n,        \
                              const void *params) {                            \
    const ompb__simd_table *t = ompb__simd_active();                           \
    if (STREAMS2(name) && n >= stream_min / sizeof(T))                         \
      streamed_##sfx(t, NULL, t->sfx##_2[OMPB__K2_##name], NULL,               \
                     t->nt2_##sfx[OMPB__K2_##name], a, b, out, n, params);     \
    else                                                                       \
      t->sfx##_2[OMPB__K2_##name](a, b, out, n, params);                       \
  }
#define WRAP_K2(name, np, uf, ud, what)                                        \
  WRAP_K2_T(name, float, f32)                                                  \
  WRAP_K2_T(name, double, f64)
OMPB_KERNELS_MATH(WRAP_K1)
OMPB_KERNELS_ARITH(WRAP_K1)
OMPB_KERNELS_BINARY(WRAP_K2)

/* The public kernels and their streaming forms, side by side: a form is
 * given where the kernel is in STREAMS or the active table has its nt_
 * slot (as in the public kernels above). */
#define PAIR_F32(name, np, uf, ud, what)                                       \
  {ompb_k_##name##_f32, stream_##name##_f32, OMPB__K1_##name,                  \
   STREAMS(name, float)},
#define PAIR_F64(name, np, uf, ud, what)                                       \
  {ompb_k_##name##_f64, stream_##name##_f64, OMPB__K1_##name,                  \
   STREAMS(name, double)},
static const struct {
  ompb_kernel_f32 *k, *s;
  int slot;
  bool listed;
} pairs_f32[] = {OMPB_KERNELS_MATH(PAIR_F32) OMPB_KERNELS_ARITH(PAIR_F32)};
static const struct {
  ompb_kernel_f64 *k, *s;
  int slot;
  bool listed;
} pairs_f64[] = {OMPB_KERNELS_MATH(PAIR_F64) OMPB_KERNELS_ARITH(PAIR_F64)};

ompb_kernel_f32 *ompb__stream_form_f32(ompb_kernel_f32 *k) {
  for (size_t i = 0; i < sizeof pairs_f32 / sizeof pairs_f32[0]; i++)
    if (pairs_f32[i].k == k)
      return pairs_f32[i].listed ||
                     ompb__simd_active()->nt_f32[pairs_f32[i].slot] != NULL
                 ? pairs_f32[i].s
                 : NULL;
  return NULL;
}

ompb_kernel_f64 *ompb__stream_form_f64(ompb_kernel_f64 *k) {
  for (size_t i = 0; i < sizeof pairs_f64 / sizeof pairs_f64[0]; i++)
    if (pairs_f64[i].k == k)
      return pairs_f64[i].listed ||
                     ompb__simd_active()->nt_f64[pairs_f64[i].slot] != NULL
                 ? pairs_f64[i].s
                 : NULL;
  return NULL;
}

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

int ompb_simd_map_f32(const float *in, float *out, size_t n, ompb_kernel_f32 *k,
                      const void *params) {
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
  {#name, 1,   np, uf, ud, what, ompb_k_##name##_f32, ompb_k_##name##_f64,     \
   NULL,  NULL},
#define INFO_K2(name, np, uf, ud, what)                                        \
  {#name,                                                                      \
   2,                                                                          \
   np,                                                                         \
   uf,                                                                         \
   ud,                                                                         \
   what,                                                                       \
   NULL,                                                                       \
   NULL,                                                                       \
   ompb_k2_##name##_f32,                                                       \
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
    if (kernel_infos[i].arity == arity &&
        strcmp(kernel_infos[i].name, name) == 0)
      return &kernel_infos[i];
  return NULL;
}

size_t ompb_kernel_count(void) { return N_KERNELS; }

const ompb_kernel_info *ompb_kernel_at(size_t i) {
  return i < N_KERNELS ? &kernel_infos[i] : NULL;
}
