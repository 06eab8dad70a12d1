/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: the pool (worker team, dispatcher and reporter threads), its
 * registry of named task functions, and what a task sees while it runs. */
#ifndef OMPB_POOL_H
#define OMPB_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ompbatch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ompb_pool ompb_pool;
typedef struct ompb_ctx ompb_ctx;

/* A task's return value. Which member is meaningful is up to the task; the
 * library never looks inside. */
typedef union {
  void *ptr;
  double f64;
  int64_t i64;
} ompb_value;

/* A task function. It runs on a worker thread of the pool (or of the
 * caller's OpenMP team for a nested batch). Return 0 and set *out on
 * success, or a non-zero code: OMPB_ECANCELED counts the task as cancelled
 * (use it after ompb_ctx_should_stop()), any other code as a failure.
 * `out` is zeroed before the call. */
typedef int ompb_task_fn(ompb_ctx *ctx, void *arg, ompb_value *out);

/* Pool options; zero means default. Fill with designated initializers. */
typedef struct {
  /* Worker threads in the team; 0: omp_get_max_threads(). At most 4096. */
  unsigned workers;
  /* By default, when the team fits the CPUs in the process's affinity mask
   * and OMP_PROC_BIND is not set, the pool pins its team threads one per CPU
   * (it owns them), which removes libgomp's ~8 ms wake-up stall after idle
   * periods on small VMs. true: never pin. */
  bool no_pin;
} ompb_pool_opts;

/* Create a pool: starts a dispatcher thread (runs batches in FIFO order, one
 * OpenMP parallel region each) and a reporter thread (progress reports and
 * deadlines). `opts` may be NULL (all defaults); it is not kept.
 * Returns OMPB_OK and sets *out; OMPB_EINVAL (NULL out, workers > 4096),
 * OMPB_ENOMEM, OMPB_EAGAIN (thread creation failed), OMPB_ENOTSUP (two
 * OpenMP runtimes are loaded in the process, say libgomp and libomp: a
 * line on stderr names them; see ompb_openmp_runtime). On failure *out is
 * NULL (when out is non-NULL) and nothing is left allocated.
 * Thread-safety: any. */
OMPB_EXTERN int ompb_pool_create(ompb_pool **out, const ompb_pool_opts *opts);

/* Destroy a pool: waits for every queued and running batch to finish (their
 * handles stay valid until ompb_batch_free), joins its threads and frees
 * the pool. A paused batch counts as running: resume or cancel it first. NULL is a no-op. Must not be called from a task or callback of
 * this pool, nor concurrently with other calls on the same pool.
 * Thread-safety: owner. */
OMPB_EXTERN void ompb_pool_destroy(ompb_pool *pool);

/* Register `fn` under `method` (the name is copied). Tasks naming it are
 * resolved to `fn` once, when their batch starts.
 * Returns OMPB_OK; OMPB_EINVAL (NULL pool, method or fn, empty name);
 * OMPB_EEXIST (name already registered); OMPB_ESTATE (a batch has already
 * been started on this pool: the registry is read without locks while
 * batches run); OMPB_ENOMEM.
 * Thread-safety: any (serialised internally). */
OMPB_EXTERN int ompb_pool_register(ompb_pool *pool, const char *method,
                                   ompb_task_fn *fn);

/* The number of worker threads in the pool's team; 0 for NULL.
 * Thread-safety: any. */
OMPB_EXTERN unsigned ompb_pool_workers(const ompb_pool *pool);

/* Inside a task. `ctx` is only valid during the task call. */

/* True once the task should stop early: the batch was cancelled (by
 * ompb_batch_cancel, fail-fast or the batch deadline) or this task's own
 * deadline passed. A cooperative long task polls it and returns
 * OMPB_ECANCELED (or whatever it sees fit). A relaxed atomic load or two.
 * Thread-safety: the task's own thread. */
OMPB_EXTERN bool ompb_ctx_should_stop(const ompb_ctx *ctx);

/* The index of the running task in its batch (the item index for maps).
 * Thread-safety: the task's own thread. */
OMPB_EXTERN size_t ompb_ctx_index(const ompb_ctx *ctx);

/* The `user` pointer of the batch options (NULL when none).
 * Thread-safety: the task's own thread. */
OMPB_EXTERN void *ompb_ctx_user(const ompb_ctx *ctx);

/* Attach a printf-style message to the task's failure and return `code`,
 * so a task can end with `return ompb_ctx_fail(ctx, 7, "bad row %d", r);`.
 * The message is copied (truncated to 255 bytes) into the task's result
 * when the task returns a failure code; it is ignored on success. `fmt` may
 * be NULL (no message: the result then carries ompb_strerror(code)).
 * Thread-safety: the task's own thread. */
OMPB_EXTERN int ompb_ctx_fail(ompb_ctx *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* OMPB_POOL_H */
