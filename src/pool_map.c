/* ompbatch: ompb_pool_map_f32/_f64, a kernel over all workers of a pool in
 * chunks, through the batch engine (ompb__kernel_start in src/). */
#include <string.h>

#include "internal.h"
#include "kernels.h"

/* Automatic chunk size in elements: a chunk's input and output (2 * chunk *
 * elem_size bytes) stay within a core's L2 slice, chunks are big enough that
 * the ~1 us per-chunk cost of the engine stays below 1% of the work, and
 * every worker gets at least CHUNKS_PER_WORKER of them to balance the tail.
 * The size is a multiple of 64 elements so that only the last chunk has a
 * vector tail. */
#define CHUNK_BYTES_MAX (256u * 1024u)
#define CHUNK_ELEMS_MIN 4096u
#define CHUNKS_PER_WORKER 4u

static size_t auto_chunk(const ompb_pool *pool, size_t n, size_t elem_size) {
  size_t max = CHUNK_BYTES_MAX / (2 * elem_size);
  unsigned workers = pool ? ompb_pool_workers(pool) : 1;
  size_t want = n / ((size_t)(workers ? workers : 1) * CHUNKS_PER_WORKER);
  if (want > max)
    want = max;
  if (want < CHUNK_ELEMS_MIN)
    want = CHUNK_ELEMS_MIN;
  return (want + 63) & ~(size_t)63;
}

static int pool_map(ompb_pool *pool, const void *in, void *out, size_t n,
                    size_t elem_size, ompb__kernel k, const void *params,
                    const ompb_map_opts *opts, ompb_batch **out_batch) {
  ompb_map_opts o;
  if (opts != NULL)
    o = *opts;
  else
    memset(&o, 0, sizeof o);
  if (o.chunk_size == 0 && pool != NULL)
    o.chunk_size = auto_chunk(pool, n, elem_size);
  return ompb__kernel_start(pool, in, out, n, k, params, &o, out_batch);
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
  return pool_map(pool, in, out, n, sizeof *in,
                  (ompb__kernel){.f32 = s != NULL ? s : k}, params, opts,
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
  return pool_map(pool, in, out, n, sizeof *in,
                  (ompb__kernel){.f64 = s != NULL ? s : k}, params, opts,
                  out_batch);
}
