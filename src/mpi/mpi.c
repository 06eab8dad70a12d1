/* The MPI backend: a registry of byte-level tasks, the root's scheduler
 * (self-scheduling with shrinking chunks) and the ranks' loop.
 *
 * Threads on every rank: the caller's thread makes every MPI call and never
 * blocks in MPI (it polls with MPI_Iprobe/MPI_Test and sleeps on the
 * runner's condition variable between polls, so that it does not steal a
 * CPU from the pool's workers); one runner thread per call turns a chunk
 * message into a local batch on the rank's pool, waits for it and encodes
 * the results message. The root runs chunks too, through its own runner. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ompbatch/mpi.h"
#include "wire.h"

int ompb__mpi_fault;

enum { TAG_RES = 1, TAG_WORK = 2, TAG_STOP = 3 };

/* A chunk larger than this many bytes is cut short (at least one task). */
#define CHUNK_BYTES (8u << 20)
/* A chunk should take about this long on its rank (measured mean task time
 * x tasks / workers), so progress, which counts landed chunks, stays fresh;
 * before anything was measured chunks are PROBE tasks per worker. */
#define CHUNK_MS 20.0
#define PROBE 4
/* Poll back-off of the MPI thread, microseconds. */
#define POLL_MIN_US 10
#define POLL_MAX_US 200

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool bad_ms(double ms) { return !(ms >= 0.0) || isinf(ms); }

/* ---- message buffers: one allocation, chained into a result's list ---- */

struct blk {
  struct blk *next;
  size_t len;
  double t_recv; /* when a chunk message arrived (its deadline counts from then) */
  unsigned char data[];
};

static struct blk *blk_new(size_t len) {
  struct blk *b = malloc(sizeof *b + (len ? len : 1));
  if (b) {
    b->next = NULL;
    b->len = len;
    b->t_recv = now_ms();
  }
  return b;
}

/* ---- registry ---- */

struct reg_entry {
  char *name;
  ompb_mpi_fn *fn;
};

/* reg_mu protects reg, reg_n and reg_cap; lookups take it once per chunk. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg;
static size_t reg_n, reg_cap;

int ompb_mpi_register(const char *method, ompb_mpi_fn *fn) {
  if (!method || !*method || !fn) return OMPB_EINVAL;
  size_t len = strlen(method);
  if (len > OMPB_MPI_METHOD_MAX) return OMPB_ERANGE;
  int rc = OMPB_OK;
  pthread_mutex_lock(&reg_mu);
  for (size_t i = 0; i < reg_n; i++)
    if (strcmp(reg[i].name, method) == 0) {
      rc = OMPB_EEXIST;
      goto out;
    }
  if (reg_n == reg_cap) {
    size_t cap = reg_cap ? 2 * reg_cap : 16;
    struct reg_entry *r = realloc(reg, cap * sizeof *r);
    if (!r) {
      rc = OMPB_ENOMEM;
      goto out;
    }
    reg = r;
    reg_cap = cap;
  }
  char *name = malloc(len + 1);
  if (!name) {
    rc = OMPB_ENOMEM;
    goto out;
  }
  memcpy(name, method, len + 1);
  reg[reg_n].name = name;
  reg[reg_n].fn = fn;
  reg_n++;
out:
  pthread_mutex_unlock(&reg_mu);
  return rc;
}

void ompb_mpi_registry_clear(void) {
  pthread_mutex_lock(&reg_mu);
  for (size_t i = 0; i < reg_n; i++) free(reg[i].name);
  free(reg);
  reg = NULL;
  reg_n = reg_cap = 0;
  pthread_mutex_unlock(&reg_mu);
}

/* Caller holds reg_mu. */
static ompb_mpi_fn *reg_find(const char *name) {
  for (size_t i = 0; i < reg_n; i++)
    if (strcmp(reg[i].name, name) == 0) return reg[i].fn;
  return NULL;
}

/* ---- a task's output slot (the public ompb_mpi_out) ---- */

#define SMALL 16
struct ompb_mpi_out {
  ompb_mpi_fn *fn; /* NULL: method unknown on this rank */
  const char *method;
  const unsigned char *params;
  size_t len;
  uint64_t id;
  int rank;
  bool on_heap;
  size_t out_len, heap_cap;
  unsigned char *heap;
  unsigned char small[SMALL];
};

void *ompb_mpi_reply_buf(ompb_mpi_out *o, size_t len) {
  if (!o || len > OMPB_MPI_BYTES_MAX) return NULL;
  if (len <= SMALL) {
    o->on_heap = false;
    o->out_len = len;
    return o->small;
  }
  if (o->heap_cap < len) {
    unsigned char *h = malloc(len);
    if (!h) return NULL;
    free(o->heap);
    o->heap = h;
    o->heap_cap = len;
  }
  o->on_heap = true;
  o->out_len = len;
  return o->heap;
}

int ompb_mpi_reply(ompb_mpi_out *o, const void *data, size_t len) {
  if (!o || (!data && len)) return OMPB_EINVAL;
  if (len > OMPB_MPI_BYTES_MAX) return OMPB_ERANGE;
  void *p = ompb_mpi_reply_buf(o, len);
  if (!p) return OMPB_ENOMEM;
  if (len) memcpy(p, data, len);
  return OMPB_OK;
}

size_t ompb_mpi_index(const ompb_mpi_out *o) { return o ? (size_t)o->id : 0; }

static int trampoline(ompb_ctx *ctx, void *arg, ompb_value *v) {
  (void)v;
  ompb_mpi_out *o = arg;
  o->on_heap = false;
  o->out_len = 0;
  if (!o->fn)
    return ompb_ctx_fail(ctx, OMPB_ENOMETHOD,
                         "no byte-level task \"%s\" registered on rank %d",
                         o->method, o->rank);
  return o->fn(ctx, o->params, o->len, o);
}

/* ---- the runner: a chunk message in, a results message out ---- */

struct runner {
  /* mu protects every field below up to `th`; cv signals new input, quit
   * and cancel to the runner, and new output to the MPI thread. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct blk *in, *out;
  bool quit, cancel;
  int out_rc;    /* with out == NULL: why the chunk could not run */
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

/* What the results message says for task i of the local batch; `size`
 * accumulates the message size so both passes decide alike. */
static void plan_item(const ompb_task_result *t, const ompb_mpi_out *o,
                      size_t *size, int *status, const void **bytes,
                      size_t *len) {
  *status = t->status;
  *bytes = NULL;
  *len = 0;
  if (t->status == 0) {
    *bytes = o->on_heap ? o->heap : o->small;
    *len = o->out_len;
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
static struct blk *run_chunk(struct runner *r, const struct blk *in, int *rc) {
  ompb__wire_task *v = NULL;
  size_t n = 0;
  double dl = 0;
  ompb_mpi_out *slots = NULL;
  ompb_task *tasks = NULL;
  ompb_result *res = NULL;
  struct blk *msg = NULL;
  *rc = ompb__wire_chunk_decode(in->data, in->len, r->batch_id, &dl, &v, &n);
  if (*rc) return NULL;
  slots = calloc(n, sizeof *slots);
  tasks = calloc(n, sizeof *tasks);
  if (!slots || !tasks) {
    *rc = OMPB_ENOMEM;
    goto done;
  }
  pthread_mutex_lock(&reg_mu);
  const char *last = NULL;
  ompb_mpi_fn *fn = NULL;
  for (size_t i = 0; i < n; i++) {
    if (!last || strcmp(last, v[i].method) != 0) {
      last = v[i].method;
      fn = reg_find(last);
    }
    slots[i] = (ompb_mpi_out){.fn = fn, .method = v[i].method,
                              .params = v[i].params, .len = v[i].len,
                              .id = v[i].id, .rank = r->rank};
    tasks[i] = (ompb_task){.fn = trampoline, .arg = &slots[i],
                           .timeout_ms = v[i].timeout_ms};
  }
  pthread_mutex_unlock(&reg_mu);

  ompb_batch_opts o = r->opts;
  /* A prefetched chunk waited: its deadline has been running meanwhile. */
  if (dl > 0) {
    dl -= now_ms() - in->t_recv;
    o.batch_timeout_ms = dl > 1e-3 ? dl : 1e-3;
  }
  ompb_batch *b = NULL;
  *rc = ompb_batch_start(r->pool, tasks, n, &o, &b);
  if (*rc) goto done;
  pthread_mutex_lock(&r->mu);
  r->b = b;
  if (r->cancel) ompb_batch_cancel(b);
  pthread_mutex_unlock(&r->mu);
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
    plan_item(&res->results[i], &slots[i], &size, &status, &bytes, &len);
  msg = blk_new(size);
  if (!msg) {
    *rc = OMPB_ENOMEM;
    goto done;
  }
  size_t off = ompb__wire_results_head(msg->data, r->batch_id, (uint32_t)n,
                                       0, r->workers);
  size = OMPB__RES_HEAD;
  for (size_t i = 0; i < n; i++) {
    plan_item(&res->results[i], &slots[i], &size, &status, &bytes, &len);
    off = ompb__wire_result_put(msg->data, off, v[i].id, status,
                                res->results[i].duration_ms, bytes, len);
    /* A failure's message is cut to fit and always ends in a NUL. */
    if (status != 0 && status != OMPB_ECANCELED) msg->data[off - 1] = '\0';
  }
done:
  if (slots)
    for (size_t i = 0; i < n; i++) free(slots[i].heap);
  ompb_result_free(res);
  free(slots);
  free(tasks);
  free(v);
  return msg;
}

static void *runner_main(void *arg) {
  struct runner *r = arg;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->in && !r->quit) pthread_cond_wait(&r->cv, &r->mu);
    if (!r->in) break;
    struct blk *in = r->in;
    r->in = NULL;
    pthread_mutex_unlock(&r->mu);
    int rc = 0;
    struct blk *out = run_chunk(r, in, &rc);
    free(in);
    pthread_mutex_lock(&r->mu);
    r->out = out;
    r->out_rc = rc;
    r->have_out = true;
    pthread_cond_broadcast(&r->cv);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

static int runner_start(struct runner *r) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int e = pthread_cond_init(&r->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (e) return OMPB_EAGAIN;
  pthread_mutex_init(&r->mu, NULL);
  if (pthread_create(&r->th, NULL, runner_main, r)) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    return OMPB_EAGAIN;
  }
  return OMPB_OK;
}

static void runner_stop(struct runner *r) {
  pthread_mutex_lock(&r->mu);
  r->quit = true;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->th, NULL);
  free(r->in);
  free(r->out);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
}

static void runner_submit(struct runner *r, struct blk *in) {
  pthread_mutex_lock(&r->mu);
  r->in = in;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void runner_cancel(struct runner *r) {
  pthread_mutex_lock(&r->mu);
  r->cancel = true;
  if (r->b) ompb_batch_cancel(r->b);
  pthread_mutex_unlock(&r->mu);
}

/* Take the runner's output if there is one. */
static bool runner_take(struct runner *r, struct blk **out, int *rc) {
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

/* Sleep until the runner has output or `us` microseconds passed. */
static void runner_sleep(struct runner *r, double us) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long ns = ts.tv_nsec + (long)(us * 1e3);
  ts.tv_sec += ns / 1000000000L;
  ts.tv_nsec = ns % 1000000000L;
  pthread_mutex_lock(&r->mu);
  if (!r->have_out) pthread_cond_timedwait(&r->cv, &r->mu, &ts);
  pthread_mutex_unlock(&r->mu);
}

/* ---- sends in flight ----
 * Every message goes out with MPI_Isend and stays allocated until MPI_Test
 * says it left: a blocking send of a large chunk could meet the rank's own
 * blocking send of a large results message, each waiting for the other to
 * receive. */

struct outbox {
  MPI_Request *req;
  struct blk **buf;
  int n, cap;
};

/* Send `b` (taken) to `dest`. */
static int outbox_post(struct outbox *o, MPI_Comm comm, struct blk *b,
                       int dest, int tag) {
  if (o->n == o->cap) {
    int cap = o->cap ? 2 * o->cap : 8;
    MPI_Request *req = realloc(o->req, (size_t)cap * sizeof *req);
    if (req) o->req = req;
    struct blk **buf = req ? realloc(o->buf, (size_t)cap * sizeof *buf) : NULL;
    if (buf) o->buf = buf;
    if (!req || !buf) {
      /* No room to track it: send it the blocking way. */
      int e = MPI_Send(b->data, (int)b->len, MPI_BYTE, dest, tag, comm);
      free(b);
      return e == MPI_SUCCESS ? OMPB_OK : OMPB_EIO;
    }
    o->cap = cap;
  }
  if (MPI_Isend(b->data, (int)b->len, MPI_BYTE, dest, tag, comm,
                &o->req[o->n]) != MPI_SUCCESS) {
    free(b);
    return OMPB_EIO;
  }
  o->buf[o->n++] = b;
  return OMPB_OK;
}

static void outbox_poll(struct outbox *o) {
  for (int i = 0; i < o->n;) {
    int done = 0;
    if (MPI_Test(&o->req[i], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
      done = 1;
    if (!done) {
      i++;
      continue;
    }
    free(o->buf[i]);
    o->n--;
    o->req[i] = o->req[o->n];
    o->buf[i] = o->buf[o->n];
  }
}

/* Wait until everything left (the receivers keep receiving until they
 * finish, so this ends), then free the outbox. */
static void outbox_flush(struct outbox *o, struct runner *r) {
  for (outbox_poll(o); o->n; outbox_poll(o)) runner_sleep(r, POLL_MAX_US);
  free(o->req);
  free(o->buf);
}

/* ---- cancel registry: batches running at a root of this process ---- */

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
  struct blk *blocks; /* message buffers the results point into */
};

static struct mres *mres_new(size_t n) {
  struct mres *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->pub.count = n;
  if (n) {
    m->pub.results = malloc(n * sizeof *m->pub.results);
    m->errs = calloc(n, sizeof *m->errs);
    if (!m->pub.results || !m->errs) {
      free(m->pub.results);
      free(m->errs);
      free(m);
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
  for (struct blk *b = m->blocks, *nx; b; b = nx) {
    nx = b->next;
    free(b);
  }
  free(m->errs);
  free(r->results);
  free(m);
}

/* ---- the root ---- */

/* A rank's outstanding chunks, oldest first: the one it runs and the one it
 * prefetched. A rank answers them in this order. */
#define AHEAD 2
struct span {
  size_t lo, cnt;
};

struct peer {
  struct span q[AHEAD];
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
  struct runner *run;
  struct outbox out;
};

static void send_ctl(struct root *s, int p, int kind, int tag) {
  struct blk *b = blk_new(OMPB__CTL_LEN);
  if (b) {
    ompb__wire_ctl_encode(b->data, kind, s->batch_id, s->rc);
    outbox_post(&s->out, s->comm, b, p, tag);
    return;
  }
  unsigned char msg[OMPB__CTL_LEN]; /* 20 bytes go out eagerly */
  ompb__wire_ctl_encode(msg, kind, s->batch_id, s->rc);
  MPI_Send(msg, OMPB__CTL_LEN, MPI_BYTE, p, tag, s->comm);
}

/* Stop the batch for `rc` (the first reason is kept): no more chunks, and
 * every rank (the root's runner too) cancels what it runs. */
static void root_trip(struct root *s, int rc, bool timed_out) {
  if (!s->rc_set) {
    s->rc = rc;
    s->rc_set = true;
  }
  if (s->stopped) return;
  bool unfinished = s->next < s->n;
  for (int p = 0; p < s->size; p++) unfinished |= s->peers[p].qn > 0;
  if (!unfinished) return;
  s->stopped = true;
  s->timed_out = timed_out;
  runner_cancel(s->run);
  for (int p = 1; p < s->size; p++)
    if (!s->peers[p].stop_sent) {
      send_ctl(s, p, OMPB__MSG_STOP, TAG_STOP);
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
  struct blk *b = blk_new(len);
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

static void pop(struct peer *pe) {
  pe->q[0] = pe->q[1];
  pe->qn--;
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
    pop(pe);
  }
  if (code == OMPB_EPROTO || code == OMPB_EIO)
    root_trip(s, code, false);
  else if (s->fail_fast)
    root_trip(s, code, false);
}

/* Land a checked results message for rank p's oldest chunk (takes b). */
static void land(struct root *s, int p, struct blk *b, size_t count) {
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
  pop(&s->peers[p]);
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
static struct blk *root_chunk(struct root *s, int p) {
  struct peer *pe = &s->peers[p];
  while (!s->stopped && s->next < s->n && pe->qn < AHEAD) {
    size_t c = chunk_len(s, p);
    double left = 0;
    if (s->deadline > 0) {
      left = s->deadline - now_ms();
      if (left <= 0) {
        root_trip(s, OMPB_ETIMEDOUT, true);
        return NULL;
      }
    }
    struct blk *b = blk_new(ompb__wire_chunk_size(s->tasks, s->next, c));
    pe->q[pe->qn++] = (struct span){s->next, c};
    s->next += c;
    if (b) {
      ompb__wire_chunk_encode(b->data, s->batch_id, left, s->tasks,
                              pe->q[pe->qn - 1].lo, c);
      if (ompb__mpi_fault == 2 && p != 0) {
        ompb__mpi_fault = 0;
        b->data[0] ^= 0x5a;
      }
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
  struct blk *b = root_chunk(s, p);
  if (b) {
    if (outbox_post(&s->out, s->comm, b, p, TAG_WORK) == OMPB_OK) return;
    s->peers[p].qn--; /* never sent: put nothing on the rank's account */
    root_trip(s, OMPB_EIO, false);
  }
  send_ctl(s, p, OMPB__MSG_END, TAG_WORK);
  s->peers[p].ended = true;
}

/* A message from rank p (NULL: it could not be received, for `code`). */
static void root_message(struct root *s, int p, struct blk *b, int code) {
  struct peer *pe = &s->peers[p];
  size_t count = 0;
  int rc = code;
  unsigned workers = 0;
  if (b && ompb__wire_results_peek(b->data, b->len, s->batch_id, &count,
                                   &rc) != OMPB_OK)
    rc = OMPB_EPROTO;
  bool request = b && rc == 0 && count == 0;
  if (b && rc != OMPB_EPROTO) {
    size_t lo = pe->qn ? pe->q[0].lo : 0;
    size_t expect = request || !pe->qn ? 0 : pe->q[0].cnt;
    if (ompb__wire_results_check(b->data, b->len, s->batch_id, lo, expect,
                                 &count, &rc, &workers) != OMPB_OK ||
        (!request && !pe->qn))
      rc = OMPB_EPROTO;
  }
  if (rc == 0 && workers != pe->workers) {
    s->total_workers = s->total_workers - pe->workers + workers;
    pe->workers = workers;
  }
  if (rc != 0) {
    free(b);
    root_fail_chunk(s, p, rc);
    /* A rank that sent garbage, or something we could not read (perhaps a
     * request), gets no more work. */
    if ((rc == OMPB_EPROTO || !b) && !pe->ended && p != 0) {
      send_ctl(s, p, OMPB__MSG_END, TAG_WORK);
      pe->ended = true;
    }
    return;
  }
  if (request) {
    free(b);
    if (!pe->ended) root_serve(s, p);
    return;
  }
  land(s, p, b, count);
}

/* Receive one pending message (probed with `st`) into a new buffer; NULL
 * and *rc when it was too large or no memory was left (it is drained). */
static struct blk *recv_msg(MPI_Comm comm, MPI_Status *st, int tag,
                            int *rc) {
  int cnt = 0;
  MPI_Get_count(st, MPI_BYTE, &cnt);
  struct blk *b = NULL;
  *rc = OMPB_EPROTO;
  if (cnt >= 0 && (size_t)cnt <= OMPB__WIRE_MAX) {
    b = blk_new((size_t)cnt);
    *rc = OMPB_ENOMEM;
  }
  if (b) {
    if (MPI_Recv(b->data, cnt, MPI_BYTE, st->MPI_SOURCE, tag, comm,
                 MPI_STATUS_IGNORE) == MPI_SUCCESS)
      return b;
    free(b);
    *rc = OMPB_EIO;
    return NULL;
  }
  unsigned char sink[1];
  MPI_Recv(sink, 1, MPI_BYTE, st->MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE);
  return NULL;
}

static void report(const struct root *s, const ompb_batch_opts *o, double t0,
                   bool final) {
  ompb_progress p = {.total = s->n,
                     .successes = s->successes,
                     .failures = s->failures};
  p.completed = p.successes + p.failures;
  p.percentage = s->n ? 100.0 * (double)p.completed / (double)s->n : 100.0;
  double el = now_ms() - t0;
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
  double backoff = POLL_MIN_US;
  struct peer *me = &s->peers[0];
  for (;;) {
    bool progress = false;
    int flag = 0;
    MPI_Status st;
    outbox_poll(&s->out);
    while (s->size > 1 &&
           MPI_Iprobe(MPI_ANY_SOURCE, TAG_RES, s->comm, &flag, &st) ==
               MPI_SUCCESS &&
           flag) {
      int p = st.MPI_SOURCE, rc = 0;
      struct blk *b = recv_msg(s->comm, &st, TAG_RES, &rc);
      progress = true;
      if (p > 0 && p < s->size)
        root_message(s, p, b, rc);
      else
        free(b);
    }
    /* The root's own share: one chunk at a time (no latency to hide). */
    struct blk *out = NULL;
    int orc = 0;
    if (me->qn && runner_take(s->run, &out, &orc)) {
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
      struct blk *c = root_chunk(s, 0);
      if (c) runner_submit(s->run, c);
    }
    double now = now_ms();
    if (!s->stopped && atomic_load(&act->cancel)) root_trip(s, OMPB_OK, false);
    if (!s->stopped && s->deadline > 0 && now >= s->deadline)
      root_trip(s, OMPB_ETIMEDOUT, true);
    bool done = !me->qn && (s->stopped || s->next >= s->n);
    for (int p = 1; p < s->size && done; p++)
      done = s->peers[p].ended && !s->peers[p].qn;
    if (done) break;
    if (o->on_progress && now >= next_report) {
      report(s, o, t0, false);
      next_report = now_ms() + throttle;
    }
    if (progress) {
      backoff = POLL_MIN_US;
      continue;
    }
    double us = backoff;
    if (o->on_progress && (next_report - now) * 1e3 < us)
      us = (next_report - now) * 1e3;
    if (s->deadline > 0 && !s->stopped && (s->deadline - now) * 1e3 < us)
      us = (s->deadline - now) * 1e3;
    if (us > 0) runner_sleep(s->run, us);
    if (backoff < POLL_MAX_US) backoff *= 2;
  }
  for (int p = 1; p < s->size; p++)
    if (!s->peers[p].stop_sent) {
      send_ctl(s, p, OMPB__MSG_STOP, TAG_STOP);
      s->peers[p].stop_sent = true;
    }
  outbox_flush(&s->out, s->run);
  return s->rc;
}

/* ---- a non-root rank ---- */

/* Send a results message (b), a report that a chunk could not run (b NULL,
 * rc != 0) or a request for work (b NULL, rc 0). */
static int send_results(struct outbox *o, MPI_Comm comm, struct blk *b,
                        int rc, uint64_t id, unsigned workers) {
  if (b) {
    if (ompb__mpi_fault == 1) {
      ompb__mpi_fault = 0;
      b->data[0] ^= 0x5a;
    }
    return outbox_post(o, comm, b, 0, TAG_RES);
  }
  b = blk_new(OMPB__RES_HEAD);
  if (b) {
    ompb__wire_results_head(b->data, id, 0, rc, workers);
    return outbox_post(o, comm, b, 0, TAG_RES);
  }
  unsigned char head[OMPB__RES_HEAD]; /* 24 bytes go out eagerly */
  ompb__wire_results_head(head, id, 0, rc, workers);
  return MPI_Send(head, sizeof head, MPI_BYTE, 0, TAG_RES, comm) == MPI_SUCCESS
             ? OMPB_OK
             : OMPB_EIO;
}

/* A rank runs one chunk and holds the next one it asked for ahead, so it
 * never waits for the root between chunks. */
static int rank_loop(MPI_Comm comm, struct runner *r) {
  unsigned char stop[OMPB__CTL_LEN + 8];
  MPI_Request req;
  if (MPI_Irecv(stop, sizeof stop, MPI_BYTE, 0, TAG_STOP, comm, &req) !=
      MPI_SUCCESS)
    return OMPB_EIO;
  int rc = OMPB_OK;
  struct outbox ob = {0};
  bool running = false, asked = false, ended = false, stopped = false;
  struct blk *held = NULL;
  double backoff = POLL_MIN_US;
  while (!(ended && stopped && !running && !held)) {
    bool progress = false;
    int flag = 0;
    MPI_Status st;
    outbox_poll(&ob);
    if (!stopped && MPI_Test(&req, &flag, &st) == MPI_SUCCESS && flag) {
      int cnt = 0, kind = 0;
      MPI_Get_count(&st, MPI_BYTE, &cnt);
      if (cnt < 0 ||
          ompb__wire_ctl_decode(stop, (size_t)cnt, r->batch_id, &kind, &rc) ||
          kind != OMPB__MSG_STOP)
        rc = OMPB_EPROTO;
      stopped = progress = true;
      runner_cancel(r);
    }
    struct blk *out = NULL;
    int orc = 0;
    if (running && runner_take(r, &out, &orc)) {
      running = false;
      progress = true;
      if (held) {
        runner_submit(r, held);
        held = NULL;
        running = true;
      }
      if (send_results(&ob, comm, out, orc, r->batch_id, r->workers))
        rc = OMPB_EIO;
    }
    if (!ended && (running ? 1 : 0) + (held ? 1 : 0) < AHEAD && !asked) {
      if (send_results(&ob, comm, NULL, 0, r->batch_id, r->workers)) {
        rc = OMPB_EIO;
        break;
      }
      asked = true;
    }
    if (!ended && MPI_Iprobe(0, TAG_WORK, comm, &flag, &st) == MPI_SUCCESS &&
        flag) {
      int e = 0, kind = 0, erc = 0;
      struct blk *b = recv_msg(comm, &st, TAG_WORK, &e);
      progress = true;
      asked = false;
      if (b && ompb__wire_ctl_decode(b->data, b->len, r->batch_id, &kind,
                                     &erc) == OMPB_OK &&
          kind == OMPB__MSG_END) {
        free(b);
        ended = true;
      } else if (!b) {
        /* Unreadable: answer it as a chunk that could not run. */
        if (send_results(&ob, comm, NULL, e, r->batch_id, r->workers))
          rc = OMPB_EIO;
      } else if (!running) {
        runner_submit(r, b); /* the runner rejects anything but a chunk */
        running = true;
      } else if (!held) {
        held = b;
      } else {
        free(b); /* more than asked for: the root never does this */
      }
    }
    if (progress) {
      backoff = POLL_MIN_US;
    } else {
      runner_sleep(r, backoff);
      if (backoff < POLL_MAX_US) backoff *= 2;
    }
  }
  if (!stopped) {
    MPI_Cancel(&req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
  }
  free(held);
  outbox_flush(&ob, r);
  return rc;
}

/* ---- the collective entry point ---- */

static int check_args(int rank, ompb_pool *local, const ompb_mpi_task *tasks,
                      size_t n, const ompb_batch_opts *o,
                      ompb_mpi_result **out) {
  if (!local) return OMPB_EINVAL;
  if (rank != 0) return OMPB_OK;
  if (!out || (!tasks && n)) return OMPB_EINVAL;
  if (o) {
    if (bad_ms(o->progress_throttle_ms) || bad_ms(o->task_timeout_ms) ||
        bad_ms(o->batch_timeout_ms))
      return OMPB_EINVAL;
    if (o->on_result || o->discard_results || o->result_free)
      return OMPB_ENOTSUP;
  }
  for (size_t i = 0; i < n; i++) {
    const ompb_mpi_task *t = &tasks[i];
    if (!t->method || !*t->method || (!t->params && t->len) ||
        bad_ms(t->timeout_ms))
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
  double t0 = now_ms();
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
    h = (ompb__wire_batch){.rc = rc ? rc : worst,
                           .concurrency = o->concurrency,
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

  struct runner run = {.pool = local, .batch_id = batch_id, .rank = rank};
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
    rc = runner_start(&run);
    if (rc == OMPB_OK) {
      rc = rank_loop(dc, &run);
      runner_stop(&run);
    }
    MPI_Comm_free(&dc);
    return rc;
  }

  if (n == 0) {
    /* Every rank already knows there is nothing to do. */
    MPI_Comm_free(&dc);
    struct mres *m = mres_new(0);
    if (!m) return OMPB_ENOMEM;
    m->pub.all_succeeded = true;
    if (o->on_progress) {
      struct root e = {.n = 0};
      report(&e, o, t0, true);
    }
    m->pub.duration_ms = now_ms() - t0;
    *out = &m->pub;
    return OMPB_OK;
  }

  struct root s = {.comm = dc, .size = size, .batch_id = batch_id,
                   .tasks = tasks, .n = n, .fail_fast = o->fail_fast,
                   .run = &run};
  s.res = mres_new(n);
  s.peers = calloc((size_t)size, sizeof *s.peers);
  struct active act = {.comm = comm};
  rc = (s.res && s.peers) ? runner_start(&run) : OMPB_ENOMEM;
  if (rc != OMPB_OK) {
    /* The other ranks are already waiting for chunks: end them cleanly. */
    for (int p = 1; p < size; p++) {
      MPI_Status st;
      MPI_Probe(p, TAG_RES, dc, &st);
      int e;
      free(recv_msg(dc, &st, TAG_RES, &e));
      unsigned char msg[OMPB__CTL_LEN];
      ompb__wire_ctl_encode(msg, OMPB__MSG_END, batch_id, 0);
      MPI_Send(msg, OMPB__CTL_LEN, MPI_BYTE, p, TAG_WORK, dc);
      ompb__wire_ctl_encode(msg, OMPB__MSG_STOP, batch_id, rc);
      MPI_Send(msg, OMPB__CTL_LEN, MPI_BYTE, p, TAG_STOP, dc);
    }
    ompb_mpi_result_free(s.res ? &s.res->pub : NULL);
    free(s.peers);
    MPI_Comm_free(&dc);
    return rc;
  }
  for (int p = 0; p < size; p++) s.peers[p].workers = run.workers;
  s.total_workers = run.workers * (unsigned)size;
  if (o->batch_timeout_ms > 0) s.deadline = t0 + o->batch_timeout_ms;
  act_add(&act);
  rc = root_loop(&s, o, &act, t0);
  act_remove(&act);
  runner_stop(&run);
  MPI_Comm_free(&dc);

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
  if (o->on_progress) report(&s, o, t0, true);
  r->duration_ms = now_ms() - t0;
  free(s.peers);
  *out = r;
  return rc;
}
