/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: parallel map over arrays, on the pool, with every batch option. */
#ifndef OMPB_MAP_H
#define OMPB_MAP_H

#include <stddef.h>

#include "ompbatch/batch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Map one item: read `item`, write `out` (NULL when out_size is 0). Return 0
 * or an error code, as a task does. `user` is opts->batch.user. Runs on a
 * worker thread, possibly concurrently with itself. */
typedef int ompb_map_fn(const void *item, void *out, size_t index, void *user);

typedef struct {
  ompb_batch_opts batch; /* every batch option applies; progress counts items */
  /* Items handed to a worker at a time; 0: automatic (large chunks first,
   * shrinking toward the end, like schedule(guided)). */
  size_t chunk_size;
} ompb_map_opts;

/* Start a map of `fn` over n items of item_size bytes at `items`, writing
 * item i's output to outs + i*out_size. The arrays are borrowed until the
 * batch finished (wait returned). The result has one entry per item
 * (count == n, results[i] is item i, values unused: the outputs are in
 * `outs`); with discard_results only counts. A failing item has its status,
 * index and message like a failed task. duration_ms of an item is the run
 * time of its block (up to 1024 consecutive items of one chunk) divided
 * evenly among the block's items: one clock read per block keeps the
 * per-item cost near a plain loop (a clock read can cost 40 ns in a VM).
 * Returns OMPB_OK and *out; OMPB_EINVAL: NULL pool, fn or out, NULL items
 * with n > 0 and item_size > 0, NULL outs with n > 0 and out_size > 0,
 * n * item_size or n * out_size overflowing, a bad time; OMPB_ENOMEM. As
 * for ompb_batch_start, nothing runs on failure and *out stays NULL.
 * Thread-safety: any, including from inside a task (nested path). */
OMPB_EXTERN int ompb_map_start(ompb_pool *pool, const void *items, size_t n,
                               size_t item_size, void *outs, size_t out_size,
                               ompb_map_fn *fn, const ompb_map_opts *opts,
                               ompb_batch **out);

/* ompb_map_start + ompb_batch_wait + ompb_batch_free: same codes as
 * ompb_batch_wait, *out filled likewise. Thread-safety: any. */
OMPB_EXTERN int ompb_map(ompb_pool *pool, const void *items, size_t n,
                         size_t item_size, void *outs, size_t out_size,
                         ompb_map_fn *fn, const ompb_map_opts *opts,
                         ompb_result **out);

#ifdef __cplusplus
}
#endif
#endif /* OMPB_MAP_H */
