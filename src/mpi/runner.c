/* SPDX-License-Identifier: BSD-3-Clause */
/* The local runner: one thread per call and rank that turns a chunk message
 * into an ordinary local batch on the rank's pool, waits for it and encodes
 * the results message. It makes no MPI call. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "backend.h"

/* What the results message says for task i of the local batch; `size`
 * accumulates the message size so both passes decide alike. */
static void plan_item(const ompb_task_result *t, const ompb_mpi_out *slots,
                      size_t i, size_t *size, int *status, const void **bytes,
                      size_t *len) {
  *status = t->status;
  *bytes = NULL;
  *len = 0;
  if (t->status == 0) {
    ompb__mpi_slot_reply(slots, i, bytes, len);
    if (*size + ompb__wire_result_size(*len) > OMPB__WIRE_MAX) {
      static const char msg[] = "result message over the wire limit";
      *status = OMPB_ERANGE;
      *bytes = msg;
      *len = sizeof msg;
    }
  } else if (t->status != OMPB_ECANCELED) {
    const char *m = t->error && t->error->message ? t->error->message
                                                  : ompb_strerror(t->status);
    *bytes = m;
    *len = strnlen(m, OMPB__MSG_MAX - 1) + 1;
  }
  *size += ompb__wire_result_size(*len);
}

/* Run one chunk; returns the results message, or NULL and *rc. */
static struct ompb__mpi_blk *run_chunk(struct ompb__mpi_runner *r,
                                       const struct ompb__mpi_blk *in,
                                       int *rc) {
  ompb__wire_task *v = NULL;
  size_t n = 0;
  double dl = 0;
  ompb_mpi_out *slots = NULL;
  ompb_task *tasks = NULL;
  ompb_result *res = NULL;
  struct ompb__mpi_blk *msg = NULL;
  *rc = ompb__wire_chunk_decode(in->data, in->len, r->batch_id, &dl, &v, &n);
  if (*rc) return NULL;
  slots = ompb__mpi_slots_new(n);
  tasks = ompb__calloc(n, sizeof *tasks);
  if (!slots || !tasks) {
    *rc = OMPB_ENOMEM;
    goto done;
  }
  ompb__mpi_slots_bind(slots, tasks, v, n, r->rank);

  ompb_batch_opts o = r->opts;
  /* A prefetched chunk waited: its deadline has been running meanwhile. */
  if (dl > 0) {
    dl -= ompb__mpi_now_ms() - in->t_recv;
    o.batch_timeout_ms = dl > 1e-3 ? dl : 1e-3;
  }
  ompb_batch *b = NULL;
  *rc = ompb_batch_start(r->pool, tasks, n, &o, &b);
  if (*rc) goto done;
  pthread_mutex_lock(&r->mu);
  r->b = b;
  if (r->cancel) ompb_batch_cancel(b);
  pthread_mutex_unlock(&r->mu);
  /* The wait's code (fail-fast, deadline) is also in the tasks' statuses,
   * which is all the root needs; without a result it is OMPB_ENOMEM. */
  ompb_batch_wait(b, &res);
  pthread_mutex_lock(&r->mu);
  r->b = NULL;
  pthread_mutex_unlock(&r->mu);
  ompb_batch_free(b);
  if (!res) {
    *rc = OMPB_ENOMEM;
    goto done;
  }

  size_t size = OMPB__RES_HEAD;
  int status;
  const void *bytes;
  size_t len;
  for (size_t i = 0; i < n; i++)
    plan_item(&res->results[i], slots, i, &size, &status, &bytes, &len);
  msg = ompb__mpi_blk_new(size);
  if (!msg) {
    *rc = OMPB_ENOMEM;
    goto done;
  }
  size_t off = ompb__wire_results_head(msg->data, r->batch_id, (uint32_t)n,
                                       0, r->workers);
  size = OMPB__RES_HEAD;
  for (size_t i = 0; i < n; i++) {
    plan_item(&res->results[i], slots, i, &size, &status, &bytes, &len);
    off = ompb__wire_result_put(msg->data, off, v[i].id, status,
                                res->results[i].duration_ms, bytes, len);
    /* A failure's message is cut to fit and always ends in a NUL. */
    if (status != 0 && status != OMPB_ECANCELED) msg->data[off - 1] = '\0';
  }
done:
  ompb__mpi_slots_free(slots, n);
  ompb_result_free(res);
  ompb__free(tasks);
  ompb__free(v);
  return msg;
}

static void *runner_main(void *arg) {
  struct ompb__mpi_runner *r = arg;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->in && !r->quit) pthread_cond_wait(&r->cv, &r->mu);
    if (!r->in) break;
    struct ompb__mpi_blk *in = r->in;
    r->in = NULL;
    pthread_mutex_unlock(&r->mu);
    int rc = 0;
    struct ompb__mpi_blk *out = run_chunk(r, in, &rc);
    ompb__free(in);
    pthread_mutex_lock(&r->mu);
    r->out = out;
    r->out_rc = rc;
    r->have_out = true;
    pthread_cond_broadcast(&r->cv);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int ompb__mpi_runner_start(struct ompb__mpi_runner *r) {
  if (ompb__mpi_fault_take(3)) return OMPB_EAGAIN;
  /* The MPI thread's timed sleeps count on the monotonic clock. */
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca)) return OMPB_EAGAIN;
  int e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  if (!e) e = pthread_cond_init(&r->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (e) return OMPB_EAGAIN;
  if (pthread_mutex_init(&r->mu, NULL)) {
    pthread_cond_destroy(&r->cv);
    return OMPB_EAGAIN;
  }
  if (pthread_create(&r->th, NULL, runner_main, r)) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    return OMPB_EAGAIN;
  }
  return OMPB_OK;
}

void ompb__mpi_runner_stop(struct ompb__mpi_runner *r) {
  pthread_mutex_lock(&r->mu);
  r->quit = true;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->th, NULL);
  ompb__free(r->in);
  ompb__free(r->out);
  r->in = r->out = NULL;
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
}

void ompb__mpi_runner_submit(struct ompb__mpi_runner *r,
                             struct ompb__mpi_blk *in) {
  pthread_mutex_lock(&r->mu);
  r->in = in;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

void ompb__mpi_runner_cancel(struct ompb__mpi_runner *r) {
  pthread_mutex_lock(&r->mu);
  r->cancel = true;
  if (r->b) ompb_batch_cancel(r->b);
  pthread_mutex_unlock(&r->mu);
}

bool ompb__mpi_runner_take(struct ompb__mpi_runner *r,
                           struct ompb__mpi_blk **out, int *rc) {
  pthread_mutex_lock(&r->mu);
  bool have = r->have_out;
  if (have) {
    *out = r->out;
    *rc = r->out_rc;
    r->out = NULL;
    r->have_out = false;
  }
  pthread_mutex_unlock(&r->mu);
  return have;
}

void ompb__mpi_runner_sleep(struct ompb__mpi_runner *r, double us) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long ns = ts.tv_nsec + (long)(us * 1e3);
  ts.tv_sec += ns / 1000000000L;
  ts.tv_nsec = ns % 1000000000L;
  pthread_mutex_lock(&r->mu);
  if (!r->have_out) pthread_cond_timedwait(&r->cv, &r->mu, &ts);
  pthread_mutex_unlock(&r->mu);
}

/* Sends still in flight, waited for with the runner's sleep. The receivers
 * keep receiving until they finish, so this ends. */
void ompb__mpi_outbox_flush(struct ompb__mpi_outbox *o,
                            struct ompb__mpi_runner *r) {
  for (ompb__mpi_outbox_poll(o); o->n; ompb__mpi_outbox_poll(o))
    ompb__mpi_runner_sleep(r, OMPB__POLL_MAX_US);
  ompb__free(o->req);
  ompb__free(o->buf);
  *o = (struct ompb__mpi_outbox){0};
}

