/* SPDX-License-Identifier: BSD-3-Clause */
/* The pool: worker count, registry, and who runs its batches: the
 * dispatcher thread, which runs queued batches in FIFO order, one OpenMP
 * parallel region each, so that libgomp keeps one warm team for it
 * (docs/design.md, "Why a long-lived dispatcher thread"), or the thread of a
 * synchronous call that finds the pool idle, in its own warm team
 * (docs/design.md, "The caller's team"). The reporter thread is
 * src/reporter.c's. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include <omp.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

/* One batch runs at a time: the dispatcher's or a caller's (`busy`), so
 * that a pool never has two teams at once and batches start in FIFO order.
 *
 * busy is taken by CAS, by the dispatcher under qmu and by a synchronous
 * caller without it. The caller then checks that nothing is queued, and
 * when its batch is done, releases busy and checks again for a queued batch
 * or a quit, to wake the dispatcher. Each side writes its word (busy;
 * queued or quit) before it reads the other's, all sequentially
 * consistent, so at least one side sees the other: a batch queued while a
 * caller runs is either seen by the caller as it ends (it wakes the
 * dispatcher), or sees busy released (ompb__enqueue signals). The
 * dispatcher reads busy under qmu and the caller signals under it, so no
 * wake-up is lost between the dispatcher's test and its wait. */
static void *dispatcher_main(void *arg) {
  ompb_pool *pool = arg;
  pthread_mutex_lock(&pool->qmu);
  for (;;) {
    while (atomic_load(&pool->busy) || (!pool->qhead && !atomic_load(&pool->quit)))
      pthread_cond_wait(&pool->qcv, &pool->qmu);
    ompb_batch *b = pool->qhead;
    if (!b) break; /* quit with an empty queue */
    bool idle = false;
    if (!atomic_compare_exchange_strong(&pool->busy, &idle, true)) continue; /* a caller's */
    pool->qhead = b->qnext;
    if (!pool->qhead) pool->qtail = NULL;
    atomic_fetch_sub(&pool->queued, 1);
    pthread_mutex_unlock(&pool->qmu);
    ompb__run_dispatched(b, true);
    pthread_mutex_lock(&pool->qmu);
    atomic_store(&pool->busy, false);
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
  atomic_fetch_add(&pool->queued, 1);
  if (!atomic_load(&pool->busy)) pthread_cond_signal(&pool->qcv);
  pthread_mutex_unlock(&pool->qmu);
}

/* Release busy after a caller's batch; wake the dispatcher when a batch was
 * queued meanwhile or the pool is quitting. */
static void release_busy(ompb_pool *pool) {
  atomic_store(&pool->busy, false);
  if (atomic_load(&pool->queued) || atomic_load(&pool->quit)) {
    pthread_mutex_lock(&pool->qmu);
    pthread_cond_signal(&pool->qcv);
    pthread_mutex_unlock(&pool->qmu);
  }
}

bool ompb__run_here(ompb_pool *pool, ompb_batch *b) {
  bool idle = false;
  if (atomic_load_explicit(&pool->busy, memory_order_relaxed) ||
      !atomic_compare_exchange_strong(&pool->busy, &idle, true))
    return false;
  if (atomic_load(&pool->queued)) { /* FIFO: behind the queued batches */
    release_busy(pool);
    return false;
  }
  /* The caller's team is the user's: its threads are not pinned. */
  ompb__run_dispatched(b, false);
  release_busy(pool);
  return true;
}

/* ---- create / destroy ---- */

/* The pool's own locks; OMPB_OK or OMPB_EAGAIN with none left behind. */
static int init_sync(ompb_pool *pool) {
  if (pthread_mutex_init(&pool->reg_mu, NULL) != 0) return OMPB_EAGAIN;
  if (pthread_mutex_init(&pool->qmu, NULL) != 0) goto fail_qmu;
  if (pthread_cond_init(&pool->qcv, NULL) != 0) goto fail_qcv;
  return OMPB_OK;
fail_qcv:
  pthread_mutex_destroy(&pool->qmu);
fail_qmu:
  pthread_mutex_destroy(&pool->reg_mu);
  return OMPB_EAGAIN;
}

static void destroy_sync(ompb_pool *pool) {
  pthread_cond_destroy(&pool->qcv);
  pthread_mutex_destroy(&pool->qmu);
  pthread_mutex_destroy(&pool->reg_mu);
}

int ompb_pool_create(ompb_pool **out, const ompb_pool_opts *opts) {
  static const ompb_pool_opts defaults = {0};
  if (!out) return OMPB_EINVAL;
  *out = NULL;
  if (!opts) opts = &defaults;
  if (opts->workers > OMPB__MAX_WORKERS) return OMPB_EINVAL;
  int rc = ompb__check_runtimes();
  if (rc != OMPB_OK) return rc;
  ompb__clock_init();

  ompb_pool *pool = ompb__calloc(1, sizeof *pool);
  if (!pool) return OMPB_ENOMEM;
  int max = omp_get_max_threads();
  pool->workers = opts->workers ? opts->workers : (unsigned)(max > 0 ? max : 1);
  if (pool->workers > OMPB__MAX_WORKERS) pool->workers = OMPB__MAX_WORKERS;
  rc = ompb__pin_plan(pool, opts->no_pin);
  if (rc != OMPB_OK) goto fail_alloc;
  rc = init_sync(pool);
  if (rc != OMPB_OK) goto fail_alloc;
  rc = ompb__reporter_start(pool);
  if (rc != OMPB_OK) goto fail_sync;
  if (pthread_create(&pool->dispatcher, NULL, dispatcher_main, pool) != 0) {
    rc = OMPB_EAGAIN;
    ompb__reporter_stop(pool);
    goto fail_sync;
  }
  *out = pool;
  return OMPB_OK;

fail_sync:
  destroy_sync(pool);
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
  atomic_store(&pool->quit, true);
  pthread_cond_signal(&pool->qcv);
  pthread_mutex_unlock(&pool->qmu);
  pthread_join(pool->dispatcher, NULL);
  ompb__reporter_stop(pool);
  destroy_sync(pool);
  ompb_batch *spare = atomic_load(&pool->spare);
  if (spare) ompb__free(spare->block); /* its block: src/batch.c */
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
