/* SPDX-License-Identifier: BSD-3-Clause */
/* The collective entry: ompb_mpi_exec_batch checks its arguments, the
 * ranks agree on the batch (a reduction of their checks, then the root's
 * BATCH header by broadcast), and each rank takes its side (root.c,
 * rank.c) on a duplicate of the caller's communicator. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <string.h>

#include "backend.h"
#include "internal.h"

#ifdef OMPB__MPI_TEST_HOOKS
int ompb__mpi_fault;
#endif

/* The root's checks (the other ranks check only their pool). Times follow
 * the core's rule: negative or NaN is OMPB_EINVAL, +inf means "never". */
static int check_args(int rank, ompb_pool *local, const ompb_mpi_task *tasks,
                      size_t n, const ompb_batch_opts *o,
                      ompb_mpi_result **out) {
  if (!local) return OMPB_EINVAL;
  if (rank != 0) return OMPB_OK;
  if (!out || (!tasks && n)) return OMPB_EINVAL;
  if (o) {
    if (ompb__bad_ms(o->progress_throttle_ms) || ompb__bad_ms(o->task_timeout_ms) ||
        ompb__bad_ms(o->batch_timeout_ms))
      return OMPB_EINVAL;
    if (o->on_result || o->discard_results || o->result_free)
      return OMPB_ENOTSUP;
  }
  for (size_t i = 0; i < n; i++) {
    const ompb_mpi_task *t = &tasks[i];
    if (!t->method || !*t->method || (!t->params && t->len) ||
        ompb__bad_ms(t->timeout_ms))
      return OMPB_EINVAL;
    if (strlen(t->method) > OMPB_MPI_METHOD_MAX || t->len > OMPB_MPI_BYTES_MAX)
      return OMPB_ERANGE;
  }
  return OMPB_OK;
}

/* Batch ids handed out by this process as a root; only ever incremented. */
static atomic_uint_fast64_t batch_seq;

int ompb_mpi_exec_batch(MPI_Comm comm, ompb_pool *local,
                        const ompb_mpi_task *tasks, size_t n,
                        const ompb_batch_opts *opts, ompb_mpi_result **out) {
  double t0 = ompb__mpi_now_ms();
  int rank = 0, size = 0;
  if (comm == MPI_COMM_NULL) return OMPB_EINVAL;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS ||
      MPI_Comm_size(comm, &size) != MPI_SUCCESS)
    return OMPB_EIO;
  if (rank == 0 && out) *out = NULL;
  const ompb_batch_opts none = {0};
  const ompb_batch_opts *o = opts ? opts : &none;
  int rc = check_args(rank, local, tasks, n, opts, out);

  /* Agree on the batch: the ranks' checks meet at the root, the root's
   * decision and options go to everyone. */
  MPI_Comm dc;
  if (MPI_Comm_dup(comm, &dc) != MPI_SUCCESS) return OMPB_EIO;
  MPI_Comm_set_errhandler(dc, MPI_ERRORS_RETURN);
  int worst = 0;
  if (MPI_Reduce(&rc, &worst, 1, MPI_INT, MPI_MIN, 0, dc) != MPI_SUCCESS) {
    MPI_Comm_free(&dc);
    return OMPB_EIO;
  }
  unsigned char hb[OMPB__BATCH_LEN];
  ompb__wire_batch h = {0};
  uint64_t batch_id = 0;
  if (rank == 0) {
    batch_id = atomic_fetch_add(&batch_seq, 1) + 1;
    h.rc = rc ? rc : worst;
    /* A refusal carries no options: they may be what was refused (a NaN
     * time would fail the ranks' decoder and hide the code). */
    if (h.rc == 0)
      h = (ompb__wire_batch){.concurrency = o->concurrency,
                             .n = n,
                             .fail_fast = o->fail_fast,
                             .task_timeout_ms = o->task_timeout_ms,
                             .batch_timeout_ms = o->batch_timeout_ms};
    ompb__wire_batch_encode(hb, batch_id, &h);
  }
  if (MPI_Bcast(hb, sizeof hb, MPI_BYTE, 0, dc) != MPI_SUCCESS) {
    MPI_Comm_free(&dc);
    return OMPB_EIO;
  }
  if (rank != 0 &&
      ompb__wire_batch_decode(hb, sizeof hb, &batch_id, &h) != OMPB_OK) {
    /* Another version at the root: take part with defaults, so each chunk
     * is answered with OMPB_EPROTO and the batch ends everywhere. */
    h = (ompb__wire_batch){.n = 1};
    rc = OMPB_EPROTO;
  }
  if (h.rc != 0) {
    MPI_Comm_free(&dc);
    return h.rc;
  }

  struct ompb__mpi_runner run = {.pool = local, .batch_id = batch_id, .rank = rank};
  run.opts = (ompb_batch_opts){.concurrency = h.concurrency,
                               .fail_fast = h.fail_fast,
                               .task_timeout_ms = h.task_timeout_ms,
                               .user = opts ? opts->user : NULL};
  unsigned w = ompb_pool_workers(local);
  run.workers = h.concurrency && h.concurrency < w ? h.concurrency : w;
  if (run.workers == 0) run.workers = 1;

  if (rank != 0) {
    if (h.n == 0) {
      MPI_Comm_free(&dc);
      return OMPB_OK;
    }
    rc = ompb__mpi_runner_start(&run);
    if (rc == OMPB_OK) {
      rc = ompb__mpi_rank_loop(dc, &run);
      ompb__mpi_runner_stop(&run);
    } else {
      rc = ompb__mpi_rank_decline(dc, batch_id, rc, run.workers);
    }
    MPI_Comm_free(&dc);
    return rc;
  }

  struct ompb__mpi_job job = {.comm = dc, .user_comm = comm, .size = size,
                              .batch_id = batch_id, .tasks = tasks, .n = n,
                              .opts = o, .t0 = t0};
  rc = ompb__mpi_root_run(&job, &run, out);
  MPI_Comm_free(&dc);
  return rc;
}
