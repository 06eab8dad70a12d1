/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: one batch across MPI ranks (hybrid MPI + OpenMP).
 *
 * Pointers cannot cross ranks, so a distributed task is a method name plus
 * parameter bytes, and its result is bytes. Every rank registers the same
 * byte-level functions under the same names (ompb_mpi_register), then all
 * ranks of a communicator call ompb_mpi_exec_batch() together. The root
 * (rank 0) holds the tasks and receives the result; it hands out chunks of
 * task ids on demand (self-scheduling, chunks shrinking toward the end),
 * every rank (the root included) runs its chunks as ordinary local batches
 * on its own pool, and the results stream back and land in task order.
 *
 * Built into the separate library libompbatch_mpi (link it before
 * libompbatch); needs an MPI library initialised with at least
 * MPI_THREAD_FUNNELED: the library makes MPI calls only from the thread
 * that called ompb_mpi_exec_batch, while the pool's threads run tasks.
 * Its memory comes from the allocator set with ompb_set_allocator, like the
 * core's. Wire format, scheduling and figures: docs/mpi.md. */
#ifndef OMPB_MPI_H
#define OMPB_MPI_H

#include <stdbool.h>
#include <stddef.h>

#include <mpi.h>

#include "ompbatch/error.h"
#include "ompbatch/pool.h"
#include "ompbatch/batch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Wire limits, checked on both sides (a larger value is OMPB_ERANGE when
 * submitted, and OMPB_EPROTO when received). */
#define OMPB_MPI_METHOD_MAX 254          /* bytes in a method name */
#define OMPB_MPI_BYTES_MAX (64u << 20)   /* parameter or result bytes per task */

/* Where a byte-level task writes its result bytes. Opaque; valid during the
 * task call only. */
typedef struct ompb_mpi_out ompb_mpi_out;

/* A byte-level task function. It runs on a worker thread of the pool of
 * whichever rank runs the task, like an ompb_task_fn: `ctx` works as usual
 * (ompb_ctx_should_stop, ompb_ctx_fail; ompb_ctx_index is the index in the
 * local chunk: use ompb_mpi_index for the task's index in the distributed
 * batch). `params` are the task's
 * parameter bytes (len may be 0; params is then NULL), read-only and valid
 * during the call. Return 0 after writing the result bytes with
 * ompb_mpi_reply (none written: an empty result), or an error code as a
 * task does (OMPB_ECANCELED counts as cancelled). */
typedef int ompb_mpi_fn(ompb_ctx *ctx, const void *params, size_t len,
                        ompb_mpi_out *out);

/* One distributed task (read at the root only). */
typedef struct {
  const char *method;  /* name registered with ompb_mpi_register on every rank */
  const void *params;  /* parameter bytes, borrowed for the call; NULL when len 0 */
  size_t len;
  double timeout_ms;   /* this task's deadline from its start on the rank that
                          runs it; 0: the batch's task_timeout_ms; INFINITY:
                          none */
} ompb_mpi_task;

/* One task's outcome at the root. status as for ompb_task_result: 0 success,
 * OMPB_ECANCELED skipped (or returned by the task), anything else a failure
 * with a non-NULL error (code == status, index == i, message never NULL: the
 * task's own through ompb_ctx_fail, also when it ran on another rank).
 * data/len: the result bytes of a success (data NULL when len is 0), owned
 * by the result. rank: the rank that ran the task, -1 when it never ran. */
typedef struct {
  size_t index;
  int status;
  const void *data;
  size_t len;
  const ompb_error *error;
  double duration_ms;
  int rank;
} ompb_mpi_task_result;

/* A distributed batch's result; same counting rules as ompb_result:
 * success_count + failure_count + cancelled_count == count, results[i] is
 * task i, cancelled/timed_out/all_succeeded as for a local batch. */
typedef struct {
  ompb_mpi_task_result *results;
  size_t count;
  size_t success_count, failure_count, cancelled_count;
  double duration_ms;
  bool all_succeeded, cancelled, timed_out;
} ompb_mpi_result;

/* Register a byte-level task function under `method` in this process (the
 * name is copied). Every rank that may run the task registers the same name;
 * a task whose method a rank does not know fails there with
 * OMPB_ENOMETHOD. Returns OMPB_OK; OMPB_EINVAL (NULL or empty name, NULL fn);
 * OMPB_ERANGE (name longer than OMPB_MPI_METHOD_MAX); OMPB_EEXIST;
 * OMPB_ENOMEM.
 * Thread-safety: any (serialised internally; batches look names up under
 * the same lock, once per chunk). */
OMPB_EXTERN int ompb_mpi_register(const char *method, ompb_mpi_fn *fn);

/* Forget every registered name and free the registry (for leak checkers at
 * exit). Must not run while a distributed batch runs in this process.
 * Thread-safety: owner. */
OMPB_EXTERN void ompb_mpi_registry_clear(void);

/* Inside a byte-level task: set the result bytes (copied; a second call
 * replaces the first). Returns OMPB_OK, OMPB_EINVAL (NULL out, or NULL data
 * with len > 0), OMPB_ERANGE (len > OMPB_MPI_BYTES_MAX), OMPB_ENOMEM.
 * Thread-safety: the task's own thread. */
OMPB_EXTERN int ompb_mpi_reply(ompb_mpi_out *out, const void *data, size_t len);

/* Inside a byte-level task: a writable buffer of `len` bytes that becomes
 * the result (replacing any earlier reply); NULL for len > OMPB_MPI_BYTES_MAX
 * or out of memory. Results up to 16 bytes need no allocation.
 * Thread-safety: the task's own thread. */
OMPB_EXTERN void *ompb_mpi_reply_buf(ompb_mpi_out *out, size_t len);

/* Inside a byte-level task: the task's index in the distributed batch.
 * Thread-safety: the task's own thread. */
OMPB_EXTERN size_t ompb_mpi_index(const ompb_mpi_out *out);

/* Run a distributed batch. Collective: every rank of `comm` calls it, each
 * with its own `local` pool (non-NULL everywhere). At the root (rank 0),
 * `tasks`/`n` are the batch, `opts` its options and *out receives the
 * result; on the other ranks tasks, n and out are ignored, and of `opts`
 * only `user` (seen by their tasks through ompb_ctx_user) is read.
 *
 * Options at the root: concurrency (per rank; 0: each pool's workers),
 * fail_fast, task_timeout_ms and batch_timeout_ms apply on every rank and
 * stop every rank promptly (cancel, fail-fast and the deadline each send a
 * stop to all ranks; running tasks see ompb_ctx_should_stop). on_progress
 * runs at the root on the calling thread, never concurrently with itself,
 * with global counts, about every progress_throttle_ms (0: 50 ms) and once
 * more with the final counts before the call returns. on_result,
 * discard_results and result_free are not supported (OMPB_ENOTSUP).
 *
 * Returns (on every rank, as decided at the root): OMPB_OK when the batch
 * completed or was cancelled with ompb_mpi_cancel; the first failure's code
 * (the first to reach the root) when fail_fast tripped; OMPB_ETIMEDOUT at the
 * batch deadline; OMPB_EPROTO when a malformed message arrived (the tasks
 * it concerned fail with OMPB_EPROTO, the rest are cancelled). *out is filled
 * in each of these cases. Before anything runs, a validation failure on any
 * rank is returned on every rank, with *out NULL: OMPB_EINVAL (NULL local,
 * NULL out or tasks with n > 0 at the root, a task without method, NULL
 * params with len > 0, a negative or NaN time among the options or a task's
 * timeout_ms, MPI_COMM_NULL; as in a local batch, INFINITY means no
 * deadline), OMPB_ERANGE (a method
 * name or parameter size over the limits), OMPB_ENOTSUP, OMPB_ENOMEM,
 * OMPB_EAGAIN when the root cannot create its runner thread (a rank other
 * than the root that cannot leaves its share to the others), and
 * OMPB_EIO when an MPI call fails. n == 0 is an empty, successful batch.
 * The local pools are used like any caller uses them (their other batches
 * queue alongside).
 * Thread-safety: one distributed batch per communicator at a time; the
 * calling thread makes all MPI calls (MPI_THREAD_FUNNELED suffices when it
 * is the main thread, otherwise MPI_THREAD_SERIALIZED). */
OMPB_EXTERN int ompb_mpi_exec_batch(MPI_Comm comm, ompb_pool *local,
                                    const ompb_mpi_task *tasks, size_t n,
                                    const ompb_batch_opts *opts,
                                    ompb_mpi_result **out);

/* Cancel the distributed batch running on `comm` in this process (at the
 * root): tasks not yet started on any rank are skipped, running ones see
 * ompb_ctx_should_stop, and the batch returns OMPB_OK with cancelled set.
 * Callable from on_progress, from a task on the root, or from any other
 * thread of the root. Idempotent; OMPB_OK also when no batch runs there
 * (nothing happens), OMPB_EINVAL for MPI_COMM_NULL.
 * Thread-safety: async. */
OMPB_EXTERN int ompb_mpi_cancel(MPI_Comm comm);

/* Free a result, its result bytes and its messages. NULL is a no-op.
 * Thread-safety: owner of the result. */
OMPB_EXTERN void ompb_mpi_result_free(ompb_mpi_result *r);

#ifdef __cplusplus
}
#endif
#endif /* OMPB_MPI_H */
