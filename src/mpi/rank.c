/* SPDX-License-Identifier: BSD-3-Clause */
/* A non-root rank's side of a distributed batch: ask for chunks, run them
 * through the runner, send the results back, until the root says END and
 * STOP. Runs on the MPI thread (the caller of ompb_mpi_exec_batch). */
#define _POSIX_C_SOURCE 200809L
#include "backend.h"

/* Send a results message (b), a report that a chunk could not run (b NULL,
 * rc != 0) or a request for work (b NULL, rc 0). */
static int send_results(struct ompb__mpi_outbox *o, MPI_Comm comm, struct ompb__mpi_blk *b,
                        int rc, uint64_t id, unsigned workers) {
  if (b) {
    if (ompb__mpi_fault_take(1)) b->data[0] ^= 0x5a;
    return ompb__mpi_outbox_post(o, comm, b, 0, OMPB__TAG_RES);
  }
  b = ompb__mpi_blk_new(OMPB__RES_HEAD);
  if (b) {
    ompb__wire_results_head(b->data, id, 0, rc, workers);
    return ompb__mpi_outbox_post(o, comm, b, 0, OMPB__TAG_RES);
  }
  unsigned char head[OMPB__RES_HEAD]; /* 24 bytes go out eagerly */
  ompb__wire_results_head(head, id, 0, rc, workers);
  return MPI_Send(head, sizeof head, MPI_BYTE, 0, OMPB__TAG_RES, comm) == MPI_SUCCESS
             ? OMPB_OK
             : OMPB_EIO;
}

/* Receive the root's control message on `tag` (blocking): its kind (END or
 * STOP) and code, or OMPB_EPROTO / OMPB_EIO. */
static int recv_ctl(MPI_Comm comm, int tag, uint64_t id, int *kind, int *rc) {
  unsigned char msg[OMPB__CTL_LEN + 8];
  MPI_Status st;
  int cnt = 0;
  if (MPI_Probe(0, tag, comm, &st) != MPI_SUCCESS) return OMPB_EIO;
  MPI_Get_count(&st, MPI_BYTE, &cnt);
  if (cnt < 0 || (size_t)cnt > sizeof msg) {
    int e;
    ompb__free(ompb__mpi_recv(comm, &st, tag, &e));
    return OMPB_EPROTO;
  }
  if (MPI_Recv(msg, cnt, MPI_BYTE, 0, tag, comm, MPI_STATUS_IGNORE) !=
      MPI_SUCCESS)
    return OMPB_EIO;
  return ompb__wire_ctl_decode(msg, (size_t)cnt, id, kind, rc);
}

int ompb__mpi_rank_decline(MPI_Comm comm, uint64_t id, int why,
                           unsigned workers) {
  unsigned char head[OMPB__RES_HEAD]; /* 24 bytes go out eagerly */
  ompb__wire_results_head(head, id, 0, why, workers);
  if (MPI_Send(head, sizeof head, MPI_BYTE, 0, OMPB__TAG_RES, comm) !=
      MPI_SUCCESS)
    return OMPB_EIO;
  /* It asked for nothing, so the root sends END (never a chunk), then STOP
   * with the batch's code. */
  int kind = 0, rc = 0;
  int e = recv_ctl(comm, OMPB__TAG_WORK, id, &kind, &rc);
  if (e == OMPB_OK && kind != OMPB__MSG_END) e = OMPB_EPROTO;
  int e2 = recv_ctl(comm, OMPB__TAG_STOP, id, &kind, &rc);
  if (e2 == OMPB_OK && kind != OMPB__MSG_STOP) e2 = OMPB_EPROTO;
  return e ? e : e2 ? e2 : rc;
}

/* A rank runs one chunk and holds the next one it asked for ahead, so it
 * never waits for the root between chunks. */
int ompb__mpi_rank_loop(MPI_Comm comm, struct ompb__mpi_runner *r) {
  unsigned char stop[OMPB__CTL_LEN + 8];
  MPI_Request req;
  if (MPI_Irecv(stop, sizeof stop, MPI_BYTE, 0, OMPB__TAG_STOP, comm, &req) !=
      MPI_SUCCESS)
    return OMPB_EIO;
  int rc = OMPB_OK;
  struct ompb__mpi_outbox ob = {0};
  bool running = false, asked = false, ended = false, stopped = false;
  struct ompb__mpi_blk *held = NULL;
  double backoff = OMPB__POLL_MIN_US;
  while (!(ended && stopped && !running && !held)) {
    bool progress = false;
    int flag = 0;
    MPI_Status st;
    ompb__mpi_outbox_poll(&ob);
    if (!stopped && MPI_Test(&req, &flag, &st) == MPI_SUCCESS && flag) {
      int cnt = 0, kind = 0;
      MPI_Get_count(&st, MPI_BYTE, &cnt);
      if (cnt < 0 ||
          ompb__wire_ctl_decode(stop, (size_t)cnt, r->batch_id, &kind, &rc) ||
          kind != OMPB__MSG_STOP)
        rc = OMPB_EPROTO;
      stopped = progress = true;
      ompb__mpi_runner_cancel(r);
    }
    struct ompb__mpi_blk *out = NULL;
    int orc = 0;
    if (running && ompb__mpi_runner_take(r, &out, &orc)) {
      running = false;
      progress = true;
      if (held) {
        ompb__mpi_runner_submit(r, held);
        held = NULL;
        running = true;
      }
      if (send_results(&ob, comm, out, orc, r->batch_id, r->workers))
        rc = OMPB_EIO;
    }
    if (!ended && (running ? 1 : 0) + (held ? 1 : 0) < OMPB__MPI_AHEAD && !asked) {
      if (send_results(&ob, comm, NULL, 0, r->batch_id, r->workers)) {
        rc = OMPB_EIO;
        break;
      }
      asked = true;
    }
    if (!ended && MPI_Iprobe(0, OMPB__TAG_WORK, comm, &flag, &st) == MPI_SUCCESS &&
        flag) {
      int e = 0, msg = 0, erc = 0;
      struct ompb__mpi_blk *b = ompb__mpi_recv(comm, &st, OMPB__TAG_WORK, &e);
      progress = true;
      asked = false;
      if (b && ompb__wire_ctl_decode(b->data, b->len, r->batch_id, &msg,
                                     &erc) == OMPB_OK &&
          msg == OMPB__MSG_END) {
        ompb__free(b);
        ended = true;
      } else if (!b) {
        /* Unreadable: answer it as a chunk that could not run. */
        if (send_results(&ob, comm, NULL, e, r->batch_id, r->workers))
          rc = OMPB_EIO;
      } else if (!running) {
        ompb__mpi_runner_submit(r, b); /* the runner rejects anything but a chunk */
        running = true;
      } else if (!held) {
        held = b;
      } else {
        ompb__free(b); /* more than asked for: the root never does this */
      }
    }
    if (progress) {
      backoff = OMPB__POLL_MIN_US;
    } else {
      ompb__mpi_runner_sleep(r, backoff);
      if (backoff < OMPB__POLL_MAX_US) backoff *= 2;
    }
  }
  if (!stopped) {
    MPI_Cancel(&req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
  }
  ompb__free(held);
  ompb__mpi_outbox_flush(&ob, r);
  return rc;
}
