/* Batch handles: validation, the copied task list, start, wait, control. */
#define _GNU_SOURCE /* madvise */
#include <math.h>
#include <sys/mman.h>
#include <omp.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_THROTTLE_MS 50.0

int ompb__check_opts(const ompb_batch_opts *o) {
  if (!o) return OMPB_OK;
  if (ompb__bad_ms(o->progress_throttle_ms) || ompb__bad_ms(o->task_timeout_ms) ||
      ompb__bad_ms(o->batch_timeout_ms))
    return OMPB_EINVAL;
  return OMPB_OK;
}

/* Slots are cache-line aligned; the allocator hook has no aligned variant,
 * so over-allocate and align by hand. */
static int alloc_slots(ompb_batch *b) {
  size_t count = (size_t)b->nslots + 1;
  size_t bytes = ompb__mul(count, sizeof(struct ompb__slot));
  if (bytes == SIZE_MAX || bytes > SIZE_MAX - OMPB__CACHE_LINE) return OMPB_ENOMEM;
  b->slots_mem = ompb__calloc(1, bytes + OMPB__CACHE_LINE);
  if (!b->slots_mem) return OMPB_ENOMEM;
  uintptr_t p = ((uintptr_t)b->slots_mem + OMPB__CACHE_LINE - 1) &
                ~(uintptr_t)(OMPB__CACHE_LINE - 1);
  b->slots = (struct ompb__slot *)p;
  for (size_t k = 0; k < count; k++) {
    b->slots[k].ctx.b = b;
    b->slots[k].ctx.s = &b->slots[k];
  }
  return OMPB_OK;
}

/* First-touch page faults dominate large batches (a 1M-task result array
 * is 40 MB: ~10k faults at 4 KiB). Ask for transparent huge pages on the
 * array's 2 MiB-aligned interior; advice only, so failure changes nothing. */
#define HUGE_PAGE (2u << 20)
static void advise_huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (!p || bytes < 4 * (size_t)HUGE_PAGE) return;
  uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
  uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

int ompb__batch_alloc(ompb_pool *pool, enum ompb__kind kind, size_t n,
                      const ompb_batch_opts *opts, ompb_batch **out) {
  ompb_batch *b = ompb__calloc(1, sizeof *b);
  if (!b) return OMPB_ENOMEM;
  b->t_start_ns = ompb__now_ns();
  b->pool = pool;
  b->kind = kind;
  b->n = n;
  if (opts) b->opts = *opts;
  if (b->opts.progress_throttle_ms == 0) b->opts.progress_throttle_ms = DEFAULT_THROTTLE_MS;
  unsigned conc = b->opts.concurrency;
  b->nslots = conc && conc < pool->workers ? conc : pool->workers;
  b->task_timeout_ns = ompb__ms_to_ns(b->opts.task_timeout_ms);
  b->min_timeout_ns = b->task_timeout_ns;
  if (b->opts.batch_timeout_ms > 0) {
    int64_t d = ompb__ms_to_ns(b->opts.batch_timeout_ms);
    b->deadline_ns = d > INT64_MAX - b->t_start_ns ? INT64_MAX : b->t_start_ns + d;
  }
  int rc = OMPB_ENOMEM;
  bool keep = !b->opts.discard_results;
  size_t bytes = keep ? ompb__mul(n, sizeof(ompb_task_result)) : 0;
  if (bytes == SIZE_MAX || bytes > SIZE_MAX - sizeof(struct ompb__result)) goto fail;
  b->res = ompb__malloc(sizeof(struct ompb__result) + bytes);
  if (!b->res) goto fail;
  memset(b->res, 0, sizeof *b->res);
  b->results = keep ? (ompb_task_result *)(b->res + 1) : NULL;
  advise_huge_pages(b->results, bytes);
  if (alloc_slots(b) != OMPB_OK) goto fail;
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0) goto fail;
  if (pthread_mutex_init(&b->mu, NULL) != 0) {
    pthread_condattr_destroy(&ca);
    goto fail;
  }
  if (pthread_cond_init(&b->cv, &ca) != 0) {
    pthread_condattr_destroy(&ca);
    pthread_mutex_destroy(&b->mu);
    goto fail;
  }
  pthread_condattr_destroy(&ca);
  atomic_store(&b->state, OMPB__QUEUED);
  *out = b;
  return OMPB_OK;
fail:
  ompb__free(b->slots_mem);
  ompb__free(b->res);
  ompb__free(b);
  return rc;
}

/* Frees everything a handle owns except a result handed to a waiter. */
void ompb__batch_destroy(ompb_batch *b) {
  ompb__free(b->tasks);
  ompb__free(b->arg_free);
  ompb__free(b->timeout_ns);
  for (size_t i = 0; i < b->n_unknown; i++) ompb__free(b->unknown[i].name);
  ompb__free(b->unknown);
  ompb__free(b->slots_mem);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  ompb__free(b);
}

static bool nested_call(void) { return ompb__tls_ctx != NULL || omp_get_level() > 0; }

int ompb__launch(ompb_batch *b, ompb_batch **out) {
  bool report = b->opts.on_progress || b->deadline_ns || b->min_timeout_ns;
  if (report) ompb__reporter_add(b->pool, b);
  if (nested_call()) {
    /* Nested path: run now in the caller's team, never behind the queue. */
    ompb__run_nested(b);
  } else {
    ompb__enqueue(b->pool, b);
  }
  *out = b;
  return OMPB_OK;
}

static int note_unknown(ompb_batch *b, size_t i, const char *name) {
  if ((b->n_unknown & (b->n_unknown - 1)) == 0) { /* grow at powers of two */
    size_t cap = b->n_unknown ? b->n_unknown * 2 : 1;
    void *p = ompb__realloc(b->unknown, ompb__mul(cap, sizeof *b->unknown));
    if (!p) return OMPB_ENOMEM;
    b->unknown = p;
  }
  size_t len = strlen(name) + 1;
  char *copy = ompb__malloc(len);
  if (!copy) return OMPB_ENOMEM;
  memcpy(copy, name, len);
  b->unknown[b->n_unknown].index = i;
  b->unknown[b->n_unknown].name = copy;
  b->n_unknown++;
  return OMPB_OK;
}

/* Validate, copy and resolve the task list. On failure nothing ran and the
 * caller frees b. */
static int copy_tasks(ompb_batch *b, const ompb_task *tasks, size_t n) {
  b->tasks = ompb__malloc(ompb__mul(n, sizeof *b->tasks));
  if (!b->tasks) return OMPB_ENOMEM;
  const ompb__registry *reg = &b->pool->reg;
  const char *last_name = NULL; /* tasks usually repeat one method literal */
  ompb_task_fn *last_fn = NULL;
  for (size_t i = 0; i < n; i++) {
    const ompb_task *t = &tasks[i];
    if (!t->method == !t->fn || ompb__bad_ms(t->timeout_ms)) return OMPB_EINVAL;
    ompb_task_fn *fn = t->fn;
    if (t->method) {
      if (t->method != last_name) {
        last_name = t->method;
        last_fn = ompb__registry_find(reg, t->method);
      }
      fn = last_fn;
      if (!fn && note_unknown(b, i, t->method) != OMPB_OK) return OMPB_ENOMEM;
    }
    b->tasks[i].fn = fn;
    b->tasks[i].arg = t->arg;
    if (t->arg_free) {
      if (!b->arg_free && !(b->arg_free = ompb__calloc(n, sizeof *b->arg_free)))
        return OMPB_ENOMEM;
      b->arg_free[i] = t->arg_free;
    }
    if (t->timeout_ms > 0) {
      if (!b->timeout_ns && !(b->timeout_ns = ompb__calloc(n, sizeof *b->timeout_ns)))
        return OMPB_ENOMEM;
      int64_t ns = ompb__ms_to_ns(t->timeout_ms);
      b->timeout_ns[i] = ns;
      if (!b->min_timeout_ns || ns < b->min_timeout_ns) b->min_timeout_ns = ns;
    }
  }
  return OMPB_OK;
}

int ompb_batch_start(ompb_pool *pool, const ompb_task *tasks, size_t n,
                     const ompb_batch_opts *opts, ompb_batch **out) {
  if (out) *out = NULL;
  if (!pool || !out || (!tasks && n)) return OMPB_EINVAL;
  int rc = ompb__check_opts(opts);
  if (rc != OMPB_OK) return rc;
  if (ompb__tls_reporter == pool) return OMPB_ESTATE;
  ompb__freeze_registry(pool);
  ompb_batch *b;
  rc = ompb__batch_alloc(pool, OMPB__TASKS, n, opts, &b);
  if (rc != OMPB_OK) return rc;
  rc = copy_tasks(b, tasks, n);
  if (rc != OMPB_OK) {
    ompb__free(b->res);
    ompb__batch_destroy(b);
    return rc;
  }
  return ompb__launch(b, out);
}

/* Wait until sealed. Caller holds b->mu. */
static void wait_sealed(ompb_batch *b) {
  while (atomic_load(&b->state) != OMPB__SEALED) pthread_cond_wait(&b->cv, &b->mu);
}

/* Small batches end within microseconds: watch for that briefly before
 * sleeping, which saves the waiter a futex wake-up (tens of microseconds on
 * a VM). Bounded, so long batches cost at most SPIN_NS of one CPU. */
#define SPIN_NS 20000
static void spin_until_sealed(const ompb_batch *b) {
  int64_t until = ompb__now_ns() + SPIN_NS;
  while (atomic_load_explicit(&b->state, memory_order_acquire) != OMPB__SEALED) {
    for (int k = 0; k < 64; k++) ompb__cpu_relax();
    if (ompb__now_ns() > until) return;
  }
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
  spin_until_sealed(b);
  pthread_mutex_lock(&b->mu);
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
  if (atomic_load(&b->state) != OMPB__SEALED) ompb_batch_cancel(b);
  pthread_mutex_lock(&b->mu);
  wait_sealed(b);
  pthread_mutex_unlock(&b->mu);
  if (!b->taken && b->res) ompb__result_drop(b);
  ompb__batch_destroy(b);
}

int ompb_exec_batch(ompb_pool *pool, const ompb_task *tasks, size_t n,
                    const ompb_batch_opts *opts, ompb_result **out) {
  if (out) *out = NULL;
  if (!out) return OMPB_EINVAL;
  ompb_batch *b;
  int rc = ompb_batch_start(pool, tasks, n, opts, &b);
  if (rc != OMPB_OK) return rc;
  rc = ompb_batch_wait(b, out);
  ompb_batch_free(b);
  return rc;
}
