/* SPDX-License-Identifier: BSD-3-Clause */
/* Message buffers, sends in flight and receiving a probed message: the
 * transport pieces that the root and the ranks share. Every call here is
 * made by the MPI thread (the caller of ompb_mpi_exec_batch). */
#define _POSIX_C_SOURCE 200809L
#include "backend.h"

struct ompb__mpi_blk *ompb__mpi_blk_new(size_t len) {
  struct ompb__mpi_blk *b = ompb__malloc(sizeof *b + (len ? len : 1));
  if (b) {
    b->next = NULL;
    b->len = len;
    b->t_recv = ompb__mpi_now_ms();
  }
  return b;
}

int ompb__mpi_outbox_post(struct ompb__mpi_outbox *o, MPI_Comm comm,
                          struct ompb__mpi_blk *b, int dest, int tag) {
  if (o->n == o->cap) {
    int cap = o->cap ? 2 * o->cap : 8;
    MPI_Request *req = ompb__realloc(o->req, (size_t)cap * sizeof *req);
    if (req) o->req = req;
    struct ompb__mpi_blk **buf =
        req ? ompb__realloc(o->buf, (size_t)cap * sizeof *buf) : NULL;
    if (buf) o->buf = buf;
    if (!req || !buf) {
      /* No room to track it: send it the blocking way. */
      int e = MPI_Send(b->data, (int)b->len, MPI_BYTE, dest, tag, comm);
      ompb__free(b);
      return e == MPI_SUCCESS ? OMPB_OK : OMPB_EIO;
    }
    o->cap = cap;
  }
  if (MPI_Isend(b->data, (int)b->len, MPI_BYTE, dest, tag, comm,
                &o->req[o->n]) != MPI_SUCCESS) {
    ompb__free(b);
    return OMPB_EIO;
  }
  o->buf[o->n++] = b;
  return OMPB_OK;
}

void ompb__mpi_outbox_poll(struct ompb__mpi_outbox *o) {
  for (int i = 0; i < o->n;) {
    int done = 0;
    if (MPI_Test(&o->req[i], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
      done = 1;
    if (!done) {
      i++;
      continue;
    }
    ompb__free(o->buf[i]);
    o->n--;
    o->req[i] = o->req[o->n];
    o->buf[i] = o->buf[o->n];
  }
}

struct ompb__mpi_blk *ompb__mpi_recv(MPI_Comm comm, MPI_Status *st, int tag,
                                     int *rc) {
  int cnt = 0;
  MPI_Get_count(st, MPI_BYTE, &cnt);
  struct ompb__mpi_blk *b = NULL;
  *rc = OMPB_EPROTO;
  if (cnt >= 0 && (size_t)cnt <= OMPB__WIRE_MAX) {
    b = ompb__mpi_blk_new((size_t)cnt);
    *rc = OMPB_ENOMEM;
  }
  if (b) {
    if (MPI_Recv(b->data, cnt, MPI_BYTE, st->MPI_SOURCE, tag, comm,
                 MPI_STATUS_IGNORE) == MPI_SUCCESS)
      return b;
    ompb__free(b);
    *rc = OMPB_EIO;
    return NULL;
  }
  /* Drain it into a byte: MPI reports the truncation, which is expected. */
  unsigned char sink[1];
  MPI_Recv(sink, 1, MPI_BYTE, st->MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE);
  return NULL;
}
