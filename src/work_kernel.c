/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel chunks, a kind of work: a SIMD kernel (float or double) over n
 * elements in chunks, one index and one result entry per chunk, and the
 * public entry points ompb_pool_map_f32 / _f64. The kernels themselves are
 * kernels/'s: this file only knows their type and their streaming forms. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include <string.h>

#include "kernels.h"
#include "work.h"

/* A kernel of either precision; exactly one member is set. */
struct kernel_fn {
  ompb_kernel_f32 *f32;
  ompb_kernel_f64 *f64;
};

struct kernel {
  struct kernel_fn k;
  const void *in;
  void *out;
  const void *params;
  size_t elems, chunk; /* elements in all, per chunk */
};

static inline int call_chunk(ompb_batch *b, struct ompb__slot *s, size_t i, ompb_value *v) {
  (void)s;
  (void)v;
  const struct kernel *w = OMPB__WORK(b, struct kernel);
  size_t lo = i * w->chunk, cnt = w->elems - lo < w->chunk ? w->elems - lo : w->chunk;
  if (w->k.f32)
    w->k.f32((const float *)w->in + lo, (float *)w->out + lo, cnt, w->params);
  else
    w->k.f64((const double *)w->in + lo, (double *)w->out + lo, cnt, w->params);
  return OMPB_OK;
}

static const ompb__each each_chunk = {call_chunk, NULL, NULL};

static bool run_range(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi) {
  return ompb__run_each(b, s, lo, hi, &each_chunk);
}

/* A failed or timed-out chunk reports its first element. */
static size_t error_index(const ompb_batch *b, size_t i) {
  return i * OMPB__WORK(b, const struct kernel)->chunk;
}

static const struct ompb__work_ops kernel_ops = {.run_range = run_range,
                                                 .error_index = error_index};

/* Automatic chunk size in elements: a chunk's input and output (2 * chunk *
 * elem_size bytes) stay within a core's L2 slice, chunks are big enough that
 * the ~1 us per-chunk cost of the engine stays below 1% of the work, and
 * every worker gets at least CHUNKS_PER_WORKER of them to balance the tail.
 * A streamed map (`stream`: its stores bypass the caches) has no reason to
 * stay within L2, and each of its chunks ends with a store fence that
 * drains the write-combining buffers: its chunks reach STREAM_CHUNK_BYTES
 * of output (16M floats, 2 workers: 8 chunks instead of 512; progress and
 * a cancel still come every few milliseconds at memory speed). The size
 * is a multiple of 64 elements so that only the last chunk has a vector
 * tail. */
#define CHUNK_BYTES_MAX (256u * 1024u)
#define CHUNK_ELEMS_MIN 4096u
#define CHUNKS_PER_WORKER 4u
#define STREAM_CHUNK_BYTES (8u * 1024u * 1024u)

static size_t auto_chunk(const ompb_pool *pool, size_t n, size_t elem_size, bool stream) {
  size_t max = stream ? STREAM_CHUNK_BYTES / elem_size : CHUNK_BYTES_MAX / (2 * elem_size);
  unsigned workers = pool->workers;
  size_t want = n / ((size_t)(workers ? workers : 1) * CHUNKS_PER_WORKER);
  if (want > max)
    want = max;
  if (want < CHUNK_ELEMS_MIN)
    want = CHUNK_ELEMS_MIN;
  return (want + 63) & ~(size_t)63;
}

/* Start a batch that runs `k` over n elements (float for k.f32, double for
 * k.f64), one index and one result entry per chunk of `chunk` elements
 * (opts->chunk_size, or the automatic size). Validation and codes as
 * ompb_map_start (in/out may not be NULL when n > 0). The kernel is called
 * as k(in + lo, out + lo, hi - lo, params). */
static int kernel_start(ompb_pool *pool, const void *in, void *out, size_t n,
                        size_t elem_size, struct kernel_fn k, bool stream, const void *params,
                        const ompb_map_opts *opts, ompb_batch **out_batch) {
  if (!pool || !out_batch) return OMPB_EINVAL;
  if (n && (!in || !out)) return OMPB_EINVAL;
  if (ompb__mul(n, elem_size) == SIZE_MAX) return OMPB_EINVAL;
  size_t chunk = opts && opts->chunk_size ? opts->chunk_size : auto_chunk(pool, n, elem_size, stream);
  ompb_batch *b;
  int rc = ompb__batch_new(pool, &kernel_ops, n / chunk + (n % chunk != 0),
                           opts ? &opts->batch : NULL, sizeof(struct kernel), &b);
  if (rc != OMPB_OK) return rc;
  struct kernel *w = OMPB__WORK(b, struct kernel);
  w->k = k;
  w->in = in;
  w->out = out;
  w->params = params;
  w->elems = n;
  w->chunk = chunk;
  b->chunk = 1;
  return ompb__launch(b, false, out_batch);
}

/* true when in and out overlap without being equal (NULLs are left to the
 * engine's checks). */
static bool partial_overlap(const void *in, const void *out, size_t n,
                            size_t size) {
  if (n == 0 || in == NULL || out == NULL || in == out || n > SIZE_MAX / size)
    return false;
  const uintptr_t a = (uintptr_t)in, b = (uintptr_t)out, len = n * size;
  return a < b + len && b < a + len;
}

/* A map whose whole output reaches the streaming size runs a built-in
 * kernel's streaming form on every chunk (each chunk alone is far below
 * it); user kernels are never streamed. */
static bool streams(size_t n, size_t size) {
  return n >= ompb__stream_min() / size;
}

int ompb_pool_map_f32(ompb_pool *pool, const float *in, float *out, size_t n,
                      ompb_kernel_f32 *k, const void *params,
                      const ompb_map_opts *opts, ompb_batch **out_batch) {
  if (out_batch != NULL)
    *out_batch = NULL;
  if (k == NULL || partial_overlap(in, out, n, sizeof *in))
    return OMPB_EINVAL;
  ompb_kernel_f32 *s = streams(n, sizeof *in) ? ompb__stream_form_f32(k) : NULL;
  return kernel_start(pool, in, out, n, sizeof *in,
                      (struct kernel_fn){.f32 = s != NULL ? s : k}, s != NULL, params, opts,
                      out_batch);
}

int ompb_pool_map_f64(ompb_pool *pool, const double *in, double *out, size_t n,
                      ompb_kernel_f64 *k, const void *params,
                      const ompb_map_opts *opts, ompb_batch **out_batch) {
  if (out_batch != NULL)
    *out_batch = NULL;
  if (k == NULL || partial_overlap(in, out, n, sizeof *in))
    return OMPB_EINVAL;
  ompb_kernel_f64 *s = streams(n, sizeof *in) ? ompb__stream_form_f64(k) : NULL;
  return kernel_start(pool, in, out, n, sizeof *in,
                      (struct kernel_fn){.f64 = s != NULL ? s : k}, s != NULL, params, opts,
                      out_batch);
}
