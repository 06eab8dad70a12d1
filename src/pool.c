/* The pool: worker count, registry, the dispatcher thread (runs queued
 * batches in FIFO order, one OpenMP parallel region each, so libgomp keeps
 * one warm team for it) and the reporter thread (progress and deadlines). */
#define _GNU_SOURCE
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Which pool's reporter this thread is (NULL elsewhere). */
_Thread_local const ompb_pool *ompb__tls_reporter;
/* The pool this team thread was pinned for (pinning is done once). */
static _Thread_local const ompb_pool *tls_pinned_for;

void ompb__pin_team_thread(const ompb_pool *pool) {
  if (!pool->pin || tls_pinned_for == pool) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(pool->cpus[(unsigned)omp_get_thread_num() % pool->ncpus], &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  tls_pinned_for = pool;
}

/* Pin only when the team is exactly the CPUs this process may use and the
 * user has not asked the OpenMP runtime to bind: then every thread gets its
 * own CPU and nothing else is displaced. */
static int plan_pinning(ompb_pool *pool, const ompb_pool_opts *opts) {
  cpu_set_t set;
  if (opts->no_pin || getenv("OMP_PROC_BIND") || getenv("OMPB_NO_PIN")) return OMPB_OK;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return OMPB_OK;
  unsigned count = (unsigned)CPU_COUNT(&set);
  if (count != pool->workers || count < 2) return OMPB_OK;
  pool->cpus = ompb__malloc(count * sizeof *pool->cpus);
  if (!pool->cpus) return OMPB_ENOMEM;
  for (int c = 0, k = 0; c < CPU_SETSIZE && k < (int)count; c++)
    if (CPU_ISSET(c, &set)) pool->cpus[k++] = c;
  pool->ncpus = count;
  pool->pin = true;
  return OMPB_OK;
}

static void *dispatcher_main(void *arg) {
  ompb_pool *pool = arg;
  pthread_mutex_lock(&pool->qmu);
  for (;;) {
    while (!pool->qhead && !pool->quit) pthread_cond_wait(&pool->qcv, &pool->qmu);
    ompb_batch *b = pool->qhead;
    if (!b) break; /* quit with an empty queue */
    pool->qhead = b->qnext;
    if (!pool->qhead) pool->qtail = NULL;
    pthread_mutex_unlock(&pool->qmu);
    ompb__run_dispatched(b);
    pthread_mutex_lock(&pool->qmu);
  }
  pthread_mutex_unlock(&pool->qmu);
  return NULL;
}

void ompb__enqueue(ompb_pool *pool, ompb_batch *b) {
  pthread_mutex_lock(&pool->qmu);
  b->qnext = NULL;
  if (pool->qtail) pool->qtail->qnext = b;
  else pool->qhead = b;
  pool->qtail = b;
  pthread_cond_signal(&pool->qcv);
  pthread_mutex_unlock(&pool->qmu);
}

/* ---- reporter ---- */

void ompb__reporter_add(ompb_pool *pool, ompb_batch *b) {
  pthread_mutex_lock(&pool->rmu);
  b->in_reporter = true;
  b->next_report_ns = ompb__after(b->t_start_ns, ompb__ms_to_ns(b->opts.progress_throttle_ms));
  b->rnext = NULL;
  b->rprev = pool->rtail;
  if (pool->rtail) pool->rtail->rnext = b;
  else pool->rhead = b;
  pool->rtail = b;
  pool->rgen++;
  pthread_cond_signal(&pool->rcv);
  pthread_mutex_unlock(&pool->rmu);
}

void ompb__reporter_team_done(ompb_pool *pool, ompb_batch *b) {
  pthread_mutex_lock(&pool->rmu);
  b->team_done = true;
  pool->rgen++;
  pthread_cond_signal(&pool->rcv);
  pthread_mutex_unlock(&pool->rmu);
}

static void unlist(ompb_pool *pool, ompb_batch *b) {
  if (b->rprev) b->rprev->rnext = b->rnext;
  else pool->rhead = b->rnext;
  if (b->rnext) b->rnext->rprev = b->rprev;
  else pool->rtail = b->rprev;
}

static void report(ompb_batch *b, bool final) {
  ompb_progress p;
  ompb__snapshot(b, &p, final);
  b->opts.on_progress(&p, b->opts.user);
}

/* The reporter owns every listed batch's reports and deadlines, and seals
 * them: a listed batch is only unlisted here, so it stays valid while rmu is
 * dropped around a callback. No lock is held while user code runs. */
static void *reporter_main(void *arg) {
  ompb_pool *pool = arg;
  ompb__tls_reporter = pool;
  pthread_mutex_lock(&pool->rmu);
  for (;;) {
    if (!pool->rhead && pool->rquit) break;
    unsigned gen = pool->rgen;
    int64_t now = ompb__now_ns();
    int64_t wake = INT64_MAX;
    ompb_batch *b = pool->rhead;
    while (b) {
      if (b->team_done) {
        unlist(pool, b);
        pthread_mutex_unlock(&pool->rmu);
        if (b->opts.on_progress) report(b, true);
        ompb__seal(b); /* b may be freed from here on */
        pthread_mutex_lock(&pool->rmu);
        b = pool->rhead; /* the list may have changed meanwhile */
        continue;
      }
      ompb__enforce_deadlines(b, now, &wake);
      if (b->opts.on_progress) {
        if (now >= b->next_report_ns) {
          b->next_report_ns = ompb__after(now, ompb__ms_to_ns(b->opts.progress_throttle_ms));
          pthread_mutex_unlock(&pool->rmu);
          report(b, false);
          pthread_mutex_lock(&pool->rmu);
          now = ompb__now_ns();
        }
        if (b->next_report_ns < wake) wake = b->next_report_ns;
      }
      b = b->rnext;
    }
    /* rmu was dropped around callbacks: ompb_pool_destroy may have set
     * rquit (and signalled nobody) meanwhile. */
    if (!pool->rhead && pool->rquit) break;
    /* A batch added or finished while rmu was dropped: look again now. */
    if (gen != pool->rgen) continue;
    if (wake == INT64_MAX) {
      pthread_cond_wait(&pool->rcv, &pool->rmu);
    } else if (wake > ompb__now_ns()) {
      struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000),
                            .tv_nsec = (long)(wake % 1000000000)};
      pthread_cond_timedwait(&pool->rcv, &pool->rmu, &ts);
    }
  }
  pthread_mutex_unlock(&pool->rmu);
  return NULL;
}

/* ---- create / destroy ---- */

int ompb_pool_create(ompb_pool **out, const ompb_pool_opts *opts) {
  static const ompb_pool_opts defaults = {0};
  if (!out) return OMPB_EINVAL;
  *out = NULL;
  if (!opts) opts = &defaults;
  if (opts->workers > OMPB__MAX_WORKERS) return OMPB_EINVAL;

  ompb_pool *pool = ompb__calloc(1, sizeof *pool);
  if (!pool) return OMPB_ENOMEM;
  int max = omp_get_max_threads();
  pool->workers = opts->workers ? opts->workers : (unsigned)(max > 0 ? max : 1);
  if (pool->workers > OMPB__MAX_WORKERS) pool->workers = OMPB__MAX_WORKERS;
  int rc = plan_pinning(pool, opts);
  if (rc != OMPB_OK) goto fail_alloc;

  pthread_condattr_t ca;
  rc = OMPB_EAGAIN;
  if (pthread_condattr_init(&ca) != 0) goto fail_alloc;
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int inited = 0;
  if (pthread_mutex_init(&pool->reg_mu, NULL) == 0) inited++;
  if (inited == 1 && pthread_mutex_init(&pool->qmu, NULL) == 0) inited++;
  if (inited == 2 && pthread_cond_init(&pool->qcv, NULL) == 0) inited++;
  if (inited == 3 && pthread_mutex_init(&pool->rmu, NULL) == 0) inited++;
  if (inited == 4 && pthread_cond_init(&pool->rcv, &ca) == 0) inited++;
  pthread_condattr_destroy(&ca);
  if (inited < 5) goto fail_sync;
  if (pthread_create(&pool->reporter, NULL, reporter_main, pool) != 0) goto fail_sync;
  if (pthread_create(&pool->dispatcher, NULL, dispatcher_main, pool) != 0) {
    pthread_mutex_lock(&pool->rmu);
    pool->rquit = true;
    pthread_cond_signal(&pool->rcv);
    pthread_mutex_unlock(&pool->rmu);
    pthread_join(pool->reporter, NULL);
    goto fail_sync;
  }
  *out = pool;
  return OMPB_OK;

fail_sync:
  if (inited > 4) pthread_cond_destroy(&pool->rcv);
  if (inited > 3) pthread_mutex_destroy(&pool->rmu);
  if (inited > 2) pthread_cond_destroy(&pool->qcv);
  if (inited > 1) pthread_mutex_destroy(&pool->qmu);
  if (inited > 0) pthread_mutex_destroy(&pool->reg_mu);
fail_alloc:
  ompb__free(pool->cpus);
  ompb__free(pool);
  return rc;
}

void ompb_pool_destroy(ompb_pool *pool) {
  if (!pool) return;
  /* The dispatcher drains the queue before it quits; the reporter quits
   * once every listed batch has been sealed. */
  pthread_mutex_lock(&pool->qmu);
  pool->quit = true;
  pthread_cond_signal(&pool->qcv);
  pthread_mutex_unlock(&pool->qmu);
  pthread_join(pool->dispatcher, NULL);
  pthread_mutex_lock(&pool->rmu);
  pool->rquit = true;
  pthread_cond_signal(&pool->rcv);
  pthread_mutex_unlock(&pool->rmu);
  pthread_join(pool->reporter, NULL);

  pthread_cond_destroy(&pool->rcv);
  pthread_mutex_destroy(&pool->rmu);
  pthread_cond_destroy(&pool->qcv);
  pthread_mutex_destroy(&pool->qmu);
  pthread_mutex_destroy(&pool->reg_mu);
  ompb__registry_free(&pool->reg);
  ompb__free(pool->cpus);
  ompb__free(pool);
}

int ompb_pool_register(ompb_pool *pool, const char *method, ompb_task_fn *fn) {
  if (!pool || !method || !*method || !fn) return OMPB_EINVAL;
  pthread_mutex_lock(&pool->reg_mu);
  int rc = atomic_load(&pool->started) ? OMPB_ESTATE
                                        : ompb__registry_add(&pool->reg, method, fn);
  pthread_mutex_unlock(&pool->reg_mu);
  return rc;
}

void ompb__freeze_registry(ompb_pool *pool) {
  if (atomic_load_explicit(&pool->started, memory_order_acquire)) return;
  pthread_mutex_lock(&pool->reg_mu);
  atomic_store(&pool->started, true);
  pthread_mutex_unlock(&pool->reg_mu);
}

unsigned ompb_pool_workers(const ompb_pool *pool) { return pool ? pool->workers : 0; }
