/* SPDX-License-Identifier: BSD-3-Clause */
/* The root's side of a distributed batch: self-scheduling with shrinking
 * chunks (docs/mpi.md, "Scheduling"), the result that the ranks' messages
 * land in, and the cancel registry behind ompb_mpi_cancel. Everything but
 * ompb_mpi_cancel runs on the MPI thread (the caller of
 * ompb_mpi_exec_batch at rank 0). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"

/* A chunk larger than this many bytes is cut short (at least one task). */
#define CHUNK_BYTES (8u << 20)
/* A chunk should take about this long on its rank (measured mean task time
 * x tasks / workers), so progress, which counts landed chunks, stays fresh;
 * before anything was measured chunks are PROBE tasks per worker. */
#define CHUNK_MS 20.0
#define PROBE 4

/* ---- the cancel registry: batches running at a root of this process ---- */

struct active {
  MPI_Comm comm;
  atomic_bool cancel; /* set by ompb_mpi_cancel, read by the root's loop */
  struct active *next;
};

/* act_mu protects the act list (not the cancel flags, which are atomic). */
static pthread_mutex_t act_mu = PTHREAD_MUTEX_INITIALIZER;
static struct active *act_head;

int ompb_mpi_cancel(MPI_Comm comm) {
  if (comm == MPI_COMM_NULL) return OMPB_EINVAL;
  pthread_mutex_lock(&act_mu);
  for (struct active *a = act_head; a; a = a->next)
    if (a->comm == comm) atomic_store(&a->cancel, true);
  pthread_mutex_unlock(&act_mu);
  return OMPB_OK;
}

static void act_add(struct active *a) {
  pthread_mutex_lock(&act_mu);
  a->next = act_head;
  act_head = a;
  pthread_mutex_unlock(&act_mu);
}

static void act_remove(struct active *a) {
  pthread_mutex_lock(&act_mu);
  for (struct active **p = &act_head; *p; p = &(*p)->next)
    if (*p == a) {
      *p = a->next;
      break;
    }
  pthread_mutex_unlock(&act_mu);
}

/* ---- results ---- */

struct mres {
  ompb_mpi_result pub;
  ompb_error *errs;
  struct ompb__mpi_blk *blocks; /* message buffers the results point into */
};

static struct mres *mres_new(size_t n) {
  struct mres *m = ompb__calloc(1, sizeof *m);
  if (!m) return NULL;
  m->pub.count = n;
  if (n) {
    m->pub.results = ompb__malloc(ompb__mul(n, sizeof *m->pub.results));
    m->errs = ompb__calloc(n, sizeof *m->errs);
    if (!m->pub.results || !m->errs) {
      ompb__free(m->pub.results);
      ompb__free(m->errs);
      ompb__free(m);
      return NULL;
    }
  }
  for (size_t i = 0; i < n; i++)
    m->pub.results[i] = (ompb_mpi_task_result){
        .index = i, .status = OMPB_ECANCELED, .rank = -1};
  return m;
}

void ompb_mpi_result_free(ompb_mpi_result *r) {
  if (!r) return;
  struct mres *m = (struct mres *)r;
  for (struct ompb__mpi_blk *b = m->blocks, *nx; b; b = nx) {
    nx = b->next;
    ompb__free(b);
  }
  ompb__free(m->errs);
  ompb__free(r->results);
  ompb__free(m);
}

/* ---- the root ---- */

/* A rank's outstanding chunks, oldest first: the one it runs and the one it
 * prefetched. A rank answers them in this order. */
struct span {
  size_t lo, cnt;
};

struct peer {
  struct span q[OMPB__MPI_AHEAD];
  int qn;
  unsigned workers;
  bool ended, stop_sent; /* ended: got END, asks for nothing more */
};

struct root {
  MPI_Comm comm;
  int size;
  uint64_t batch_id;
  const ompb_mpi_task *tasks;
  size_t n, next;
  struct peer *peers;
  unsigned total_workers;
  struct mres *res;
  size_t successes, failures;
  double ran_ms;  /* summed duration of the tasks that ran ... */
  size_t ran;     /* ... and how many they were */
  bool fail_fast, stopped, timed_out, rc_set;
  int rc;
  double deadline; /* ms on now_ms's clock; 0: none */
  double landed;   /* when the last chunk's results came in (now_ms) */
  struct ompb__mpi_runner *run;
  struct ompb__mpi_outbox out;
};

static void send_ctl(struct root *s, int p, int kind, int tag) {
  struct ompb__mpi_blk *b = ompb__mpi_blk_new(OMPB__CTL_LEN);
  if (b) {
    ompb__wire_ctl_encode(b->data, kind, s->batch_id, s->rc);
    ompb__mpi_outbox_post(&s->out, s->comm, b, p, tag);
    return;
  }
  unsigned char msg[OMPB__CTL_LEN]; /* 20 bytes go out eagerly */
  ompb__wire_ctl_encode(msg, kind, s->batch_id, s->rc);
  MPI_Send(msg, OMPB__CTL_LEN, MPI_BYTE, p, tag, s->comm);
}

/* Stop the batch for `rc` (the first reason is kept): no more chunks, and
 * every rank (the root's runner too) cancels what it runs. */
static void root_trip(struct root *s, int rc, bool timed_out) {
  bool unfinished = s->next < s->n;
  for (int p = 0; p < s->size; p++) unfinished |= s->peers[p].qn > 0;
  /* The deadline cut the batch short when something was still out, and
   * also when the last results landed after it: the ranks enforce the
   * same deadline on their chunks, so their tasks may all have returned,
   * asked to stop, before this thread looked at the clock. Results all in
   * before the deadline: the batch completed, whenever this runs. */
  bool cut = unfinished || (timed_out && s->landed >= s->deadline);
  if (timed_out && !cut) return;
  if (!s->rc_set) {
    s->rc = rc;
    s->rc_set = true;
  }
  if (s->stopped || !cut) return;
  s->stopped = true;
  s->timed_out = timed_out;
  ompb__mpi_runner_cancel(s->run);
  for (int p = 1; p < s->size; p++)
    if (!s->peers[p].stop_sent) {
      send_ctl(s, p, OMPB__MSG_STOP, OMPB__TAG_STOP);
      s->peers[p].stop_sent = true;
    }
}

/* Record a failure made up at the root (the rank's reply was unusable). */
static void root_fail(struct root *s, size_t i, int code, int rank,
                      const char *msg) {
  ompb_mpi_task_result *t = &s->res->pub.results[i];
  ompb_error *e = &s->res->errs[i];
  e->code = code;
  e->index = i;
  e->message = ompb_strerror(code);
  size_t len = strlen(msg) + 1;
  struct ompb__mpi_blk *b = ompb__mpi_blk_new(len);
  if (b) {
    memcpy(b->data, msg, len);
    b->next = s->res->blocks;
    s->res->blocks = b;
    e->message = (const char *)b->data;
  }
  *t = (ompb_mpi_task_result){.index = i, .status = code, .error = e,
                              .rank = rank};
  s->failures++;
}

/* Rank p's oldest chunk is done with (its results landed or failed). */
static void pop(struct root *s, struct peer *pe) {
  pe->q[0] = pe->q[1];
  pe->qn--;
  s->landed = ompb__mpi_now_ms();
}

/* Rank p's oldest chunk failed as a whole with `code` (its reply was
 * malformed, or it could not run the chunk). */
static void root_fail_chunk(struct root *s, int p, int code) {
  struct peer *pe = &s->peers[p];
  if (pe->qn > 0) {
    char msg[OMPB__MSG_MAX];
    if (code == OMPB_EPROTO)
      snprintf(msg, sizeof msg,
               "malformed message between the root and rank %d", p);
    else
      snprintf(msg, sizeof msg, "rank %d could not run its chunk: %s", p,
               ompb_strerror(code));
    for (size_t i = pe->q[0].lo; i < pe->q[0].lo + pe->q[0].cnt; i++)
      root_fail(s, i, code, p, msg);
    pop(s, pe);
  }
  if (code == OMPB_EPROTO || code == OMPB_EIO)
    root_trip(s, code, false);
  else if (s->fail_fast)
    root_trip(s, code, false);
}

/* Land a checked results message for rank p's oldest chunk (takes b). */
static void land(struct root *s, int p, struct ompb__mpi_blk *b, size_t count) {
  b->next = s->res->blocks;
  s->res->blocks = b;
  size_t off = OMPB__RES_HEAD;
  int first_fail = 0;
  for (size_t k = 0; k < count; k++) {
    ompb__wire_result w;
    ompb__wire_result_next(b->data, &off, &w);
    size_t i = (size_t)w.id;
    ompb_mpi_task_result *t = &s->res->pub.results[i];
    *t = (ompb_mpi_task_result){.index = i, .status = w.status,
                                .duration_ms = w.duration_ms, .rank = p};
    if (w.status != OMPB_ECANCELED) {
      s->ran_ms += w.duration_ms;
      s->ran++;
    }
    if (w.status == 0) {
      t->data = w.bytes;
      t->len = w.len;
      s->successes++;
    } else if (w.status != OMPB_ECANCELED) {
      ompb_error *e = &s->res->errs[i];
      e->code = w.status;
      e->index = i;
      e->message = w.len ? (const char *)w.bytes : ompb_strerror(w.status);
      t->error = e;
      s->failures++;
      if (!first_fail) first_fail = w.status;
    } else {
      t->rank = -1;
    }
  }
  pop(s, &s->peers[p]);
  if (first_fail && s->fail_fast) root_trip(s, first_fail, false);
}

/* Size of rank p's next chunk: its share of the remaining tasks, halved so
 * chunks shrink toward the end, at most about CHUNK_MS of work, a multiple
 * of its workers. */
static size_t chunk_len(const struct root *s, int p) {
  size_t rem = s->n - s->next;
  unsigned w = s->peers[p].workers;
  size_t c = (size_t)((double)rem * w / (2.0 * s->total_workers)) + 1;
  double cap = (double)PROBE * w;
  if (s->ran) {
    double mean = s->ran_ms / (double)s->ran;
    cap = (double)w * CHUNK_MS / (mean > 1e-6 ? mean : 1e-6);
  }
  if ((double)c > cap) c = (size_t)cap;
  /* A whole number of waves: each chunk is a local batch, which ends when
   * its last task does, so a partial last wave idles workers. */
  if (c > 65536) c = 65536;
  c = c < w ? w : c - c % w;
  if (c > rem) c = rem;
  size_t bytes = OMPB__CHUNK_HEAD, k = 0;
  while (k < c) {
    const ompb_mpi_task *t = &s->tasks[s->next + k];
    bytes += OMPB__CHUNK_TASK_MIN + strlen(t->method) + t->len;
    if (k > 0 && bytes > CHUNK_BYTES) break;
    k++;
  }
  return k;
}

/* Build rank p's next chunk message and queue it (NULL: nothing to hand
 * out). */
static struct ompb__mpi_blk *root_chunk(struct root *s, int p) {
  struct peer *pe = &s->peers[p];
  while (!s->stopped && s->next < s->n && pe->qn < OMPB__MPI_AHEAD) {
    size_t c = chunk_len(s, p);
    double left = 0;
    if (s->deadline > 0) {
      left = s->deadline - ompb__mpi_now_ms();
      if (left <= 0) {
        root_trip(s, OMPB_ETIMEDOUT, true);
        return NULL;
      }
    }
    struct ompb__mpi_blk *b = ompb__mpi_blk_new(ompb__wire_chunk_size(s->tasks, s->next, c));
    pe->q[pe->qn++] = (struct span){s->next, c};
    s->next += c;
    if (b) {
      ompb__wire_chunk_encode(b->data, s->batch_id, left, s->tasks,
                              pe->q[pe->qn - 1].lo, c);
      if (p != 0 && ompb__mpi_fault_take(2)) b->data[0] ^= 0x5a;
      return b;
    }
    /* No memory for the message: those tasks fail, try the next ones. */
    struct span last = pe->q[--pe->qn];
    for (size_t i = last.lo; i < last.lo + last.cnt; i++)
      root_fail(s, i, OMPB_ENOMEM, -1, "no memory for the chunk message");
    if (s->fail_fast) root_trip(s, OMPB_ENOMEM, false);
  }
  return NULL;
}

/* Answer rank p's request: the next chunk, or END. */
static void root_serve(struct root *s, int p) {
  struct ompb__mpi_blk *b = root_chunk(s, p);
  if (b) {
    if (ompb__mpi_outbox_post(&s->out, s->comm, b, p, OMPB__TAG_WORK) == OMPB_OK) return;
    s->peers[p].qn--; /* never sent: put nothing on the rank's account */
    root_trip(s, OMPB_EIO, false);
  }
  send_ctl(s, p, OMPB__MSG_END, OMPB__TAG_WORK);
  s->peers[p].ended = true;
}

/* A message from rank p (NULL: it could not be received, for `code`). */
static void root_message(struct root *s, int p, struct ompb__mpi_blk *b, int code) {
  struct peer *pe = &s->peers[p];
  size_t count = 0;
  int rc = code;
  unsigned workers = 0;
  if (b && ompb__wire_results_peek(b->data, b->len, s->batch_id, &count,
                                   &rc) != OMPB_OK)
    rc = OMPB_EPROTO;
  bool request = b && rc == 0 && count == 0, decline = false;
  if (b && rc != OMPB_EPROTO) {
    size_t lo = pe->qn ? pe->q[0].lo : 0;
    size_t expect = request || !pe->qn ? 0 : pe->q[0].cnt;
    if (ompb__wire_results_check(b->data, b->len, s->batch_id, lo, expect,
                                 &count, &rc, &workers) != OMPB_OK)
      rc = OMPB_EPROTO;
    else if (!request && !pe->qn)
      /* A report with no chunk outstanding: the rank cannot take part (its
       * runner did not start) and the others do its share; results nobody
       * asked for are garbage. */
      decline = rc != 0 && p != 0;
    if (!request && !pe->qn && !decline) rc = OMPB_EPROTO;
  }
  if (decline) {
    ompb__free(b);
    if (!pe->ended) {
      send_ctl(s, p, OMPB__MSG_END, OMPB__TAG_WORK);
      pe->ended = true;
    }
    return;
  }
  if (rc == 0 && workers != pe->workers) {
    s->total_workers = s->total_workers - pe->workers + workers;
    pe->workers = workers;
  }
  if (rc != 0) {
    ompb__free(b);
    root_fail_chunk(s, p, rc);
    /* A rank that sent garbage, or something we could not read (perhaps a
     * request), gets no more work. */
    if ((rc == OMPB_EPROTO || !b) && !pe->ended && p != 0) {
      send_ctl(s, p, OMPB__MSG_END, OMPB__TAG_WORK);
      pe->ended = true;
    }
    return;
  }
  if (request) {
    ompb__free(b);
    if (!pe->ended) root_serve(s, p);
    return;
  }
  land(s, p, b, count);
}

static void report(const struct root *s, const ompb_batch_opts *o, double t0,
                   bool final) {
  ompb_progress p = {.total = s->n,
                     .successes = s->successes,
                     .failures = s->failures};
  p.completed = p.successes + p.failures;
  p.percentage = s->n ? 100.0 * (double)p.completed / (double)s->n : 100.0;
  double el = ompb__mpi_now_ms() - t0;
  p.throughput = el > 0 ? (double)p.completed / (el / 1e3) : 0;
  p.estimated_remaining_ms =
      final ? 0
            : (p.completed && p.throughput > 0
                   ? (double)(s->n - p.completed) / p.throughput * 1e3
                   : -1);
  o->on_progress(&p, o->user);
}

static int root_loop(struct root *s, const ompb_batch_opts *o,
                     struct active *act, double t0) {
  double throttle = o->progress_throttle_ms > 0 ? o->progress_throttle_ms : 50;
  double next_report = t0 + throttle;
  double backoff = OMPB__POLL_MIN_US;
  struct peer *me = &s->peers[0];
  for (;;) {
    bool progress = false;
    int flag = 0;
    MPI_Status st;
    ompb__mpi_outbox_poll(&s->out);
    while (s->size > 1 &&
           MPI_Iprobe(MPI_ANY_SOURCE, OMPB__TAG_RES, s->comm, &flag, &st) ==
               MPI_SUCCESS &&
           flag) {
      int p = st.MPI_SOURCE, rc = 0;
      struct ompb__mpi_blk *b = ompb__mpi_recv(s->comm, &st, OMPB__TAG_RES, &rc);
      progress = true;
      if (p > 0 && p < s->size)
        root_message(s, p, b, rc);
      else
        ompb__free(b);
    }
    /* The root's own share: one chunk at a time (no latency to hide). */
    struct ompb__mpi_blk *out = NULL;
    int orc = 0;
    if (me->qn && ompb__mpi_runner_take(s->run, &out, &orc)) {
      if (out) {
        size_t count;
        int rc;
        unsigned w;
        if (ompb__wire_results_check(out->data, out->len, s->batch_id,
                                     me->q[0].lo, me->q[0].cnt, &count, &rc,
                                     &w) == OMPB_OK)
          land(s, 0, out, count);
        else
          root_message(s, 0, out, 0);
      } else {
        root_fail_chunk(s, 0, orc);
      }
      progress = true;
    }
    if (!me->qn) {
      struct ompb__mpi_blk *c = root_chunk(s, 0);
      if (c) ompb__mpi_runner_submit(s->run, c);
    }
    double now = ompb__mpi_now_ms();
    if (!s->stopped && atomic_load(&act->cancel)) root_trip(s, OMPB_OK, false);
    if (!s->stopped && s->deadline > 0 && now >= s->deadline)
      root_trip(s, OMPB_ETIMEDOUT, true);
    bool done = !me->qn && (s->stopped || s->next >= s->n);
    for (int p = 1; p < s->size && done; p++)
      done = s->peers[p].ended && !s->peers[p].qn;
    if (done) break;
    if (o->on_progress && now >= next_report) {
      report(s, o, t0, false);
      next_report = ompb__mpi_now_ms() + throttle;
    }
    if (progress) {
      backoff = OMPB__POLL_MIN_US;
      continue;
    }
    double us = backoff;
    if (o->on_progress && (next_report - now) * 1e3 < us)
      us = (next_report - now) * 1e3;
    if (s->deadline > 0 && !s->stopped && (s->deadline - now) * 1e3 < us)
      us = (s->deadline - now) * 1e3;
    if (us > 0) ompb__mpi_runner_sleep(s->run, us);
    if (backoff < OMPB__POLL_MAX_US) backoff *= 2;
  }
  for (int p = 1; p < s->size; p++)
    if (!s->peers[p].stop_sent) {
      send_ctl(s, p, OMPB__MSG_STOP, OMPB__TAG_STOP);
      s->peers[p].stop_sent = true;
    }
  ompb__mpi_outbox_flush(&s->out, s->run);
  return s->rc;
}

/* The other ranks already wait for chunks: end them cleanly with `rc`
 * (blocking: nothing else is in flight yet). */
static void end_ranks(MPI_Comm comm, int size, uint64_t batch_id, int rc) {
  for (int p = 1; p < size; p++) {
    MPI_Status st;
    int e;
    if (MPI_Probe(p, OMPB__TAG_RES, comm, &st) == MPI_SUCCESS)
      ompb__free(ompb__mpi_recv(comm, &st, OMPB__TAG_RES, &e));
    unsigned char msg[OMPB__CTL_LEN];
    ompb__wire_ctl_encode(msg, OMPB__MSG_END, batch_id, 0);
    MPI_Send(msg, OMPB__CTL_LEN, MPI_BYTE, p, OMPB__TAG_WORK, comm);
    ompb__wire_ctl_encode(msg, OMPB__MSG_STOP, batch_id, rc);
    MPI_Send(msg, OMPB__CTL_LEN, MPI_BYTE, p, OMPB__TAG_STOP, comm);
  }
}

int ompb__mpi_root_run(const struct ompb__mpi_job *job,
                       struct ompb__mpi_runner *run, ompb_mpi_result **out) {
  const ompb_batch_opts *o = job->opts;
  size_t n = job->n;
  if (n == 0) {
    /* Every rank already knows there is nothing to do. */
    struct mres *m = mres_new(0);
    if (!m) return OMPB_ENOMEM;
    m->pub.all_succeeded = true;
    if (o->on_progress) {
      struct root e = {.n = 0};
      report(&e, o, job->t0, true);
    }
    m->pub.duration_ms = ompb__mpi_now_ms() - job->t0;
    *out = &m->pub;
    return OMPB_OK;
  }

  struct root s = {.comm = job->comm, .size = job->size,
                   .batch_id = job->batch_id, .tasks = job->tasks, .n = n,
                   .fail_fast = o->fail_fast, .run = run};
  s.res = mres_new(n);
  s.peers = ompb__calloc((size_t)job->size, sizeof *s.peers);
  int rc = (s.res && s.peers) ? ompb__mpi_runner_start(run) : OMPB_ENOMEM;
  if (rc != OMPB_OK) {
    end_ranks(job->comm, job->size, job->batch_id, rc);
    ompb_mpi_result_free(s.res ? &s.res->pub : NULL);
    ompb__free(s.peers);
    return rc;
  }
  for (int p = 0; p < s.size; p++) s.peers[p].workers = run->workers;
  s.total_workers = run->workers * (unsigned)s.size;
  /* An infinite batch timeout is no deadline (ompb_batch_opts). */
  if (o->batch_timeout_ms > 0 && isfinite(o->batch_timeout_ms))
    s.deadline = job->t0 + o->batch_timeout_ms;
  struct active act = {.comm = job->user_comm};
  act_add(&act);
  rc = root_loop(&s, o, &act, job->t0);
  act_remove(&act);
  ompb__mpi_runner_stop(run);

  ompb_mpi_result *r = &s.res->pub;
  for (size_t i = 0; i < n; i++) {
    int st = r->results[i].status;
    if (st == 0)
      r->success_count++;
    else if (st == OMPB_ECANCELED)
      r->cancelled_count++;
    else
      r->failure_count++;
  }
  r->cancelled = s.stopped;
  r->timed_out = s.timed_out;
  r->all_succeeded = r->failure_count == 0 && !r->cancelled;
  if (o->on_progress) report(&s, o, job->t0, true);
  r->duration_ms = ompb__mpi_now_ms() - job->t0;
  ompb__free(s.peers);
  *out = r;
  return rc;
}
