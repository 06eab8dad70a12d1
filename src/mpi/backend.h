/* SPDX-License-Identifier: BSD-3-Clause */
/* The MPI backend's internals, shared by the files of src/mpi/ and never
 * installed (docs/mpi.md describes the design):
 *
 *   reply.c   the byte-level registry and a task's output slot
 *   msg.c     message buffers, sends in flight, receiving a probed message
 *   runner.c  the local runner: a chunk message in, a results message out
 *   root.c    the root's scheduler, the result, ompb_mpi_cancel
 *   rank.c    a non-root rank's loop
 *   exec.c    the collective entry, ompb_mpi_exec_batch
 *
 * Threads on every rank: the caller's thread makes every MPI call and never
 * blocks in MPI (it polls with MPI_Iprobe/MPI_Test and sleeps on the
 * runner's condition variable between polls, so that it does not steal a
 * CPU from the pool's workers); one runner thread per call turns a chunk
 * message into a local batch on the rank's pool, waits for it and encodes
 * the results message. The root runs chunks too, through its own runner. */
#ifndef OMPB_MPI_BACKEND_H
#define OMPB_MPI_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mpi.h>

#include "ompbatch.h"
#include "alloc.h"
#include "registry.h"
#include "wire.h"

enum { OMPB__TAG_RES = 1, OMPB__TAG_WORK = 2, OMPB__TAG_STOP = 3 };

/* A rank's outstanding chunks: the one it runs and the one it asked for
 * ahead, so it never waits for the root between chunks. */
#define OMPB__MPI_AHEAD 2

/* Poll back-off of the MPI thread, microseconds. */
#define OMPB__POLL_MIN_US 10
#define OMPB__POLL_MAX_US 200

/* Milliseconds on the monotonic clock: the backend's one time base. */
static inline double ompb__mpi_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- test hooks ----
 * Compiled in only when the test build defines OMPB__MPI_TEST_HOOKS (the
 * tests link their own copy of the backend; the shipped libraries carry no
 * hook). ompb__mpi_fault, 0: none; 1: this rank corrupts the next results
 * message it sends; 2: the root corrupts the next chunk it sends to another
 * rank; 3: this rank's next runner fails to start (as if pthread_create
 * had failed). Read and reset by the calling thread of ompb_mpi_exec_batch only. */
#ifdef OMPB__MPI_TEST_HOOKS
extern int ompb__mpi_fault;
static inline bool ompb__mpi_fault_take(int kind) {
  if (ompb__mpi_fault != kind) return false;
  ompb__mpi_fault = 0;
  return true;
}
#else
static inline bool ompb__mpi_fault_take(int kind) {
  (void)kind;
  return false;
}
#endif

/* ---- message buffers (msg.c) ---- */

/* One allocation per message, chained into a result's list once landed. */
struct ompb__mpi_blk {
  struct ompb__mpi_blk *next;
  size_t len;
  double t_recv; /* when a chunk message arrived (its deadline counts from then) */
  unsigned char data[];
};

/* A buffer of `len` bytes (NULL: out of memory); free with ompb__free. */
struct ompb__mpi_blk *ompb__mpi_blk_new(size_t len);

/* Sends in flight: every message goes out with MPI_Isend and stays
 * allocated until MPI_Test says it left (a blocking send of a large chunk
 * could meet the rank's own blocking send of a large results message, each
 * waiting for the other to receive). Owned by the MPI thread. */
struct ompb__mpi_outbox {
  MPI_Request *req;
  struct ompb__mpi_blk **buf;
  int n, cap;
};

/* Send `b` (taken, freed once sent) to `dest`: OMPB_OK or OMPB_EIO. */
int ompb__mpi_outbox_post(struct ompb__mpi_outbox *o, MPI_Comm comm,
                          struct ompb__mpi_blk *b, int dest, int tag);
/* Free what has left. */
void ompb__mpi_outbox_poll(struct ompb__mpi_outbox *o);
/* Receive the pending message probed with `st` into a new buffer; NULL and
 * *rc (OMPB_EPROTO: too large, OMPB_ENOMEM, OMPB_EIO) when it could not be
 * (it is drained then). */
struct ompb__mpi_blk *ompb__mpi_recv(MPI_Comm comm, MPI_Status *st, int tag,
                                     int *rc);

/* ---- the registry and a task's output slot (reply.c) ---- */

/* n zeroed output slots (NULL: out of memory); free with ompb__mpi_slots_free. */
ompb_mpi_out *ompb__mpi_slots_new(size_t n);
void ompb__mpi_slots_free(ompb_mpi_out *slots, size_t n);
/* Bind the decoded tasks v[0..n) to their byte-level functions (one lookup
 * under the registry's lock for the chunk) and fill tasks[0..n) with local
 * tasks that run them on rank `rank`. */
void ompb__mpi_slots_bind(ompb_mpi_out *slots, ompb_task *tasks,
                          const ompb__wire_task *v, size_t n, int rank);
/* The result bytes that slot i's task replied. */
void ompb__mpi_slot_reply(const ompb_mpi_out *slots, size_t i,
                          const void **bytes, size_t *len);

/* ---- the local runner (runner.c) ---- */

struct ompb__mpi_runner {
  /* mu protects every field below up to `th`; cv signals new input, quit
   * and cancel to the runner, and new output to the MPI thread. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct ompb__mpi_blk *in, *out;
  bool quit, cancel;
  int out_rc; /* with out == NULL: why the chunk could not run */
  bool have_out;
  ompb_batch *b; /* the local batch while it runs */
  pthread_t th;

  /* read-only while the thread runs */
  ompb_pool *pool;
  ompb_batch_opts opts;
  uint64_t batch_id;
  unsigned workers;
  int rank;
};

/* Start the runner thread: OMPB_OK, or OMPB_EAGAIN when a lock, condition
 * or the thread could not be created (nothing is left to clean up). */
int ompb__mpi_runner_start(struct ompb__mpi_runner *r);
/* Stop and join the thread and free what it still holds. */
void ompb__mpi_runner_stop(struct ompb__mpi_runner *r);
/* Hand the runner a chunk message (taken); it holds at most one. */
void ompb__mpi_runner_submit(struct ompb__mpi_runner *r,
                             struct ompb__mpi_blk *in);
/* Cancel the local batch running now and any later one. */
void ompb__mpi_runner_cancel(struct ompb__mpi_runner *r);
/* Take the runner's output if there is one: the results message, or NULL
 * and *rc, why the chunk could not run. */
bool ompb__mpi_runner_take(struct ompb__mpi_runner *r,
                           struct ompb__mpi_blk **out, int *rc);
/* Sleep until the runner has output or `us` microseconds passed. */
void ompb__mpi_runner_sleep(struct ompb__mpi_runner *r, double us);
/* Wait until everything in `o` left (sleeping on the runner between polls),
 * then free the outbox. */
void ompb__mpi_outbox_flush(struct ompb__mpi_outbox *o, struct ompb__mpi_runner *r);

/* ---- the two sides of a batch (root.c, rank.c) ---- */

/* Everything the root needs once the ranks agreed on the batch. */
struct ompb__mpi_job {
  MPI_Comm comm; /* the duplicate the batch's messages use */
  MPI_Comm user_comm; /* the caller's, which ompb_mpi_cancel names */
  int size;
  uint64_t batch_id;
  const ompb_mpi_task *tasks;
  size_t n;
  const ompb_batch_opts *opts; /* never NULL */
  double t0;                   /* when the call started */
};

/* The root's side: runs the batch with the runner `run` (not started yet)
 * and sets *out (n == 0 included). Returns the batch's code. */
int ompb__mpi_root_run(const struct ompb__mpi_job *job,
                       struct ompb__mpi_runner *run, ompb_mpi_result **out);
/* A non-root rank's side, with the runner `r` (started): OMPB_OK or the
 * code the root sent with STOP, OMPB_EPROTO, OMPB_EIO. */
int ompb__mpi_rank_loop(MPI_Comm comm, struct ompb__mpi_runner *r);
/* A non-root rank whose runner did not start (for `why`): it tells the
 * root, which hands its share to the others, and takes END and STOP.
 * Returns the root's code, as every rank does, or OMPB_EPROTO / OMPB_EIO. */
int ompb__mpi_rank_decline(MPI_Comm comm, uint64_t id, int why,
                           unsigned workers);

#endif /* OMPB_MPI_BACKEND_H */
