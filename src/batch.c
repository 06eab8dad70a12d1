/* SPDX-License-Identifier: BSD-3-Clause */
/* Batch handles, whatever their kind of work: the shared start (options,
 * allocation), launch, wait, control and free. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include <omp.h>
#include <sched.h>
#include <string.h>

#include "work.h"

#define DEFAULT_THROTTLE_MS 50.0
/* The shortest gap between reports: a smaller throttle would turn the
 * reporter into a busy loop (as tqdm's mininterval, a floor). */
#define MIN_THROTTLE_MS 1.0

static int check_opts(const ompb_batch_opts *o) {
  if (!o) return OMPB_OK;
  if (ompb__bad_ms(o->progress_throttle_ms) || ompb__bad_ms(o->task_timeout_ms) ||
      ompb__bad_ms(o->batch_timeout_ms))
    return OMPB_EINVAL;
  return OMPB_OK;
}

/* Store v in a field of the handle's first lines (what the members read)
 * only when it differs: a reused block's lines then stay in the cache of
 * the member that read them for the last batch, since the same synchronous
 * call usually repeats the same values (src/internal.h, struct ompb_batch). */
#define SET(field, v)                      \
  do {                                     \
    __typeof__(field) set_v_ = (v);        \
    if ((field) != set_v_) (field) = set_v_; \
  } while (0)

/* Slots are cache-line aligned and follow the kind's state in the batch's
 * one allocation; the allocator hook has no aligned variant, so the block
 * is over-allocated and the slots aligned by hand. */
static size_t slots_bytes(unsigned nslots) {
  return ompb__mul((size_t)nslots + 1, sizeof(struct ompb__slot));
}

/* `old`: where a reused block's slots were, and `old_n` + 1 of them ready
 * (NULL for a fresh, zeroed block). In the same place they keep their ctx
 * and message buffers, and only the words a batch counts from are cleared:
 * the lines a member wrote last time are not all written again by this
 * thread first. */
static void place_slots(ompb_batch *b, char *after_work, struct ompb__slot *old,
                        unsigned old_n) {
  uintptr_t p = ((uintptr_t)after_work + OMPB__CACHE_LINE - 1) &
                ~(uintptr_t)(OMPB__CACHE_LINE - 1);
  SET(b->slots, (struct ompb__slot *)p);
  if (old == b->slots && old_n >= b->nslots) {
    for (size_t k = 0; k <= b->nslots; k++) {
      struct ompb__slot *s = &b->slots[k];
      if (OMPB__LOAD(&s->range)) OMPB__STORE(&s->range, 0);
      if (OMPB__LOAD(&s->cur)) OMPB__STORE(&s->cur, 0);
      if (OMPB__LOAD(&s->deadline_ns)) OMPB__STORE(&s->deadline_ns, 0);
      if (OMPB__LOAD(&s->ok)) OMPB__STORE(&s->ok, 0);
      if (OMPB__LOAD(&s->failed)) OMPB__STORE(&s->failed, 0);
      SET(s->errs, NULL);
    }
    return;
  }
  if (old) memset(b->slots, 0, slots_bytes(b->nslots));
  for (size_t k = 0; k <= b->nslots; k++) {
    b->slots[k].ctx.b = b;
    b->slots[k].ctx.s = &b->slots[k];
  }
}

/* b->mu and b->cv; OMPB_OK or OMPB_EAGAIN with neither left behind. */
static int init_sync(ompb_batch *b) {
  if (pthread_mutex_init(&b->mu, NULL) != 0) return OMPB_EAGAIN;
  if (pthread_cond_init(&b->cv, NULL) != 0) {
    pthread_mutex_destroy(&b->mu);
    return OMPB_EAGAIN;
  }
  return OMPB_OK;
}

/* The kind's state follows the handle in its allocation. */
#define WORK_OFFSET ((sizeof(struct ompb_batch) + _Alignof(max_align_t) - 1) & \
                     ~(_Alignof(max_align_t) - 1))

int ompb__batch_new(ompb_pool *pool, const struct ompb__work_ops *ops, size_t n,
                    const ompb_batch_opts *opts, size_t work_size, ompb_batch **out) {
  int rc = check_opts(opts);
  if (rc != OMPB_OK) return rc;
  if (ompb__tls_reporter == pool) return OMPB_ESTATE;
  unsigned conc = opts ? opts->concurrency : 0;
  unsigned nslots = conc && conc < pool->workers ? conc : pool->workers;
  size_t sbytes = slots_bytes(nslots);
  if (work_size > SIZE_MAX - WORK_OFFSET - OMPB__CACHE_LINE ||
      sbytes > SIZE_MAX - WORK_OFFSET - OMPB__CACHE_LINE - work_size)
    return OMPB_ENOMEM;
  size_t bytes = WORK_OFFSET + work_size + OMPB__CACHE_LINE + sbytes;
  /* The pool's spare block when it is large enough (one thread takes it);
   * the handle and the kind's state are cleared as calloc would, except
   * that every field of the handle's first lines is set below, and only
   * written where it differs (SET). The handle is cache-line aligned in
   * its block (the allocator hook has no aligned variant). */
  ompb_batch *b = atomic_exchange_explicit(&pool->spare, NULL, memory_order_acquire);
  struct ompb__slot *old = NULL;
  unsigned old_n = 0;
  void *block;
  if (b && b->block_bytes >= bytes) {
    block = b->block;
    bytes = b->block_bytes;
    old = b->slots;
    old_n = b->nslots;
    memset(&b->block, 0, WORK_OFFSET + work_size - offsetof(struct ompb_batch, block));
  } else {
    if (b) ompb__free(b->block);
    if (bytes > SIZE_MAX - OMPB__CACHE_LINE) return OMPB_ENOMEM;
    block = ompb__calloc(1, bytes + OMPB__CACHE_LINE);
    if (!block) return OMPB_ENOMEM;
    b = (ompb_batch *)(((uintptr_t)block + OMPB__CACHE_LINE - 1) &
                       ~(uintptr_t)(OMPB__CACHE_LINE - 1));
  }
  b->block = block;
  b->block_bytes = bytes;
  b->t_start_ns = ompb__now_ns();
  SET(b->pool, pool);
  SET(b->ops, ops);
  SET(b->work, (void *)((char *)b + WORK_OFFSET));
  SET(b->n, n);
  SET(b->chunk, 0);
  if (OMPB__LOAD(&b->stop)) OMPB__STORE(&b->stop, 0);
  if (OMPB__LOAD(&b->paused)) OMPB__STORE(&b->paused, false);
  ompb_batch_opts o;
  if (opts) o = *opts;
  else memset(&o, 0, sizeof o);
  if (o.progress_throttle_ms == 0) o.progress_throttle_ms = DEFAULT_THROTTLE_MS;
  else if (o.progress_throttle_ms < MIN_THROTTLE_MS) o.progress_throttle_ms = MIN_THROTTLE_MS;
  if (memcmp(&b->opts, &o, sizeof o) != 0) b->opts = o;
  SET(b->nslots, nslots);
  place_slots(b, (char *)b->work + work_size, old, old_n);
  SET(b->task_timeout_ns, ompb__ms_to_ns(b->opts.task_timeout_ms));
  SET(b->min_timeout_ns, b->task_timeout_ns);
  if (b->opts.batch_timeout_ms > 0)
    b->deadline_ns = ompb__after(b->t_start_ns, ompb__ms_to_ns(b->opts.batch_timeout_ms));
  rc = OMPB_ENOMEM;
  b->res = ompb__result_new(n, !b->opts.discard_results);
  if (!b->res) goto fail;
  SET(b->results, b->res->pub.results);
  rc = init_sync(b);
  if (rc != OMPB_OK) goto fail;
  atomic_store(&b->state, OMPB__QUEUED);
  *out = b;
  return OMPB_OK;
fail:
  ompb__result_destroy(b->res, NULL);
  ompb__free(b->block);
  return rc;
}

/* Frees everything a handle owns except a result handed to a waiter. A
 * sealed batch's untaken result is dropped (its values to result_free);
 * one that never ran has nothing written in it. */
static void destroy(ompb_batch *b) {
  bool sealed = atomic_load(&b->state) == OMPB__SEALED;
  ompb__result_destroy(b->res, sealed ? b : NULL);
  if (b->ops->team_done && !sealed) b->ops->team_done(b);
  if (b->ops->destroy) b->ops->destroy(b);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  ompb__free(b->block);
}

/* Spare blocks larger than this are freed (a pool of thousands of workers
 * has that many slots). */
#define SPARE_MAX_BYTES 65536

/* A solo batch is freed by its synchronous call, before it returns: the
 * pool is alive, and the block becomes its spare (the previous spare, if
 * another thread's call left one meanwhile, is freed). */
static void destroy_solo(ompb_batch *b) {
  ompb__result_destroy(b->res, b); /* sealed: nothing but an untaken result */
  if (b->ops->destroy) b->ops->destroy(b);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  if (b->block_bytes > SPARE_MAX_BYTES) {
    ompb__free(b->block);
    return;
  }
  ompb_batch *prev = atomic_exchange_explicit(&b->pool->spare, b, memory_order_acq_rel);
  if (prev) ompb__free(prev->block);
}

void ompb__batch_discard(ompb_batch *b) { destroy(b); }

static bool nested_call(void) { return ompb__tls_ctx != NULL || omp_get_level() > 0; }

int ompb__launch(ompb_batch *b, bool sync, ompb_batch **out) {
  bool report = b->opts.on_progress || b->deadline_ns || b->min_timeout_ns;
  if (report) ompb__reporter_add(b->pool, b);
  *out = b;
  b->solo = sync && !report;
  if (nested_call()) {
    /* Nested path: run now in the caller's team, never behind the queue. */
    ompb__run_nested(b);
  } else if (!sync || !ompb__run_here(b->pool, b)) {
    b->solo = false; /* the dispatcher runs it while the caller waits */
    ompb__enqueue(b->pool, b);
  }
  return OMPB_OK;
}

/* Wait until sealed. Caller holds b->mu. */
static void wait_sealed(ompb_batch *b) {
  while (atomic_load(&b->state) != OMPB__SEALED) pthread_cond_wait(&b->cv, &b->mu);
}

/* Small batches end within microseconds: watch for that briefly before
 * sleeping, which saves the waiter a futex wake-up (tens of microseconds on
 * a VM). Bounded, so long batches cost at most SPIN_NS of one CPU. */
#define SPIN_NS 20000
/* A stopped batch ends as soon as its running tasks return: then skip
 * beside the team what nobody claimed (while its members finish the tasks
 * they are running), and watch a while longer, yielding the CPU to them,
 * before sleeping. */
#define STOPPED_SPIN_NS 1000000
static void spin_until_sealed(ompb_batch *b) {
  int64_t t0 = ompb__now_ns(), until = t0 + SPIN_NS;
  bool helped = false;
  while (atomic_load_explicit(&b->state, memory_order_acquire) != OMPB__SEALED) {
    int64_t stop = atomic_load_explicit(&b->stop, memory_order_relaxed);
    if (stop != 0 && stop != OMPB__STOP_FINISHED) {
      if (!helped) ompb__help_skip(b);
      helped = true;
      until = t0 + STOPPED_SPIN_NS;
      sched_yield();
    } else {
      for (int k = 0; k < 64; k++) ompb__cpu_relax();
    }
    if (ompb__now_ns() > until) return;
  }
}

/* Take b->mu. Right after the seal its thread still holds mu for the
 * broadcast: a plain lock would then sleep in the kernel and need a futex
 * wake-up to return (tens of microseconds on a VM), so once the batch is
 * sealed, try for a moment first. */
#define TRYLOCK_SPINS 1000
static void lock_after_seal(ompb_batch *b) {
  if (atomic_load_explicit(&b->state, memory_order_acquire) == OMPB__SEALED) {
    for (int k = 0; k < TRYLOCK_SPINS; k++) {
      if (pthread_mutex_trylock(&b->mu) == 0) return;
      ompb__cpu_relax();
    }
  }
  pthread_mutex_lock(&b->mu);
}

/* Waiting from inside the batch's own task or callback, or from the
 * reporter thread before the batch is sealed, could never return. */
static bool would_deadlock(const ompb_batch *b) {
  if (atomic_load(&b->state) == OMPB__SEALED) return false;
  return (ompb__tls_ctx && ompb__tls_ctx->b == b) || ompb__tls_reporter == b->pool;
}

int ompb_batch_wait(ompb_batch *b, ompb_result **out) {
  if (out) *out = NULL;
  if (!b || !out) return OMPB_EINVAL;
  if (would_deadlock(b)) return OMPB_ESTATE;
  if (b->solo) { /* sealed on this thread already; nobody else has b */
    b->taken = true;
    if (b->res) *out = &b->res->pub;
    b->res = NULL;
    return b->rc;
  }
  spin_until_sealed(b);
  lock_after_seal(b);
  wait_sealed(b);
  int rc = OMPB_ESTATE;
  if (!b->taken) {
    b->taken = true;
    rc = b->rc;
    if (b->res) *out = &b->res->pub;
    b->res = NULL;
  }
  pthread_mutex_unlock(&b->mu);
  return rc;
}

int ompb_batch_cancel(ompb_batch *b) {
  if (!b) return OMPB_EINVAL;
  ompb__trip(b, OMPB__STOP_CANCEL, 0);
  return OMPB_OK;
}

int ompb_batch_pause(ompb_batch *b) {
  if (!b) return OMPB_EINVAL;
  pthread_mutex_lock(&b->mu);
  if (atomic_load(&b->state) < OMPB__TEAM_DONE) atomic_store(&b->paused, true);
  pthread_mutex_unlock(&b->mu);
  return OMPB_OK;
}

int ompb_batch_resume(ompb_batch *b) {
  if (!b) return OMPB_EINVAL;
  pthread_mutex_lock(&b->mu);
  atomic_store(&b->paused, false);
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  return OMPB_OK;
}

bool ompb_batch_is_paused(const ompb_batch *b) {
  return b && atomic_load(&b->paused);
}

int ompb_batch_progress(const ompb_batch *b, ompb_progress *out) {
  if (!b || !out) return OMPB_EINVAL;
  ompb__snapshot(b, out, atomic_load(&b->state) >= OMPB__TEAM_DONE);
  return OMPB_OK;
}

void ompb_batch_free(ompb_batch *b) {
  if (!b) return;
  if (b->solo) {
    destroy_solo(b);
    return;
  }
  if (atomic_load(&b->state) != OMPB__SEALED) ompb_batch_cancel(b);
  pthread_mutex_lock(&b->mu);
  wait_sealed(b);
  pthread_mutex_unlock(&b->mu);
  destroy(b);
}

int ompb__wait_and_free(int start_rc, ompb_batch *b, ompb_result **out) {
  if (start_rc != OMPB_OK) return start_rc;
  int rc = ompb_batch_wait(b, out);
  ompb_batch_free(b);
  return rc;
}

