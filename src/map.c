/* ompb_map and kernel batches: the batch engine over arrays, with items (or
 * chunks) as its tasks and no per-item task records. */
#include "internal.h"

/* Default kernel chunk: 16K elements (64 KiB of float32 in, as much out). */
#define KERNEL_CHUNK 16384

static bool overflows(size_t n, size_t size) { return size && ompb__mul(n, size) == SIZE_MAX; }

int ompb_map_start(ompb_pool *pool, const void *items, size_t n, size_t item_size,
                   void *outs, size_t out_size, ompb_map_fn *fn,
                   const ompb_map_opts *opts, ompb_batch **out) {
  if (out) *out = NULL;
  if (!pool || !fn || !out) return OMPB_EINVAL;
  if (n && ((!items && item_size) || (!outs && out_size))) return OMPB_EINVAL;
  if (overflows(n, item_size) || overflows(n, out_size)) return OMPB_EINVAL;
  int rc = ompb__check_opts(opts ? &opts->batch : NULL);
  if (rc != OMPB_OK) return rc;
  if (ompb__tls_reporter == pool) return OMPB_ESTATE;
  ompb_batch *b;
  rc = ompb__batch_alloc(pool, OMPB__MAP, n, opts ? &opts->batch : NULL, &b);
  if (rc != OMPB_OK) return rc;
  b->items = items;
  b->outs = out_size ? outs : NULL;
  b->item_size = item_size;
  b->out_size = out_size;
  b->map_fn = fn;
  b->chunk = opts ? opts->chunk_size : 0;
  return ompb__launch(b, out);
}

int ompb_map(ompb_pool *pool, const void *items, size_t n, size_t item_size,
             void *outs, size_t out_size, ompb_map_fn *fn,
             const ompb_map_opts *opts, ompb_result **out) {
  if (out) *out = NULL;
  if (!out) return OMPB_EINVAL;
  ompb_batch *b;
  int rc = ompb_map_start(pool, items, n, item_size, outs, out_size, fn, opts, &b);
  if (rc != OMPB_OK) return rc;
  rc = ompb_batch_wait(b, out);
  ompb_batch_free(b);
  return rc;
}

int ompb__kernel_start(ompb_pool *pool, const void *in, void *out, size_t n,
                       ompb__kernel k, const void *params,
                       const ompb_map_opts *opts, ompb_batch **out_batch) {
  if (out_batch) *out_batch = NULL;
  if (!pool || !out_batch || !k.f32 == !k.f64) return OMPB_EINVAL;
  size_t elem_size = k.f32 ? sizeof(float) : sizeof(double);
  if (n && (!in || !out)) return OMPB_EINVAL;
  if (overflows(n, elem_size)) return OMPB_EINVAL;
  int rc = ompb__check_opts(opts ? &opts->batch : NULL);
  if (rc != OMPB_OK) return rc;
  if (ompb__tls_reporter == pool) return OMPB_ESTATE;
  size_t chunk = opts && opts->chunk_size ? opts->chunk_size : KERNEL_CHUNK;
  size_t chunks = n / chunk + (n % chunk != 0);
  ompb_batch *b;
  rc = ompb__batch_alloc(pool, OMPB__KERNEL, chunks, opts ? &opts->batch : NULL, &b);
  if (rc != OMPB_OK) return rc;
  b->items = in;
  b->outs = out;
  b->elems = n;
  b->elem_size = elem_size;
  b->kfn = k;
  b->kparams = params;
  b->kchunk = chunk;
  b->chunk = 1;
  return ompb__launch(b, out_batch);
}
