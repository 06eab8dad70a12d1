/* Running a batch: claiming indices, running tasks, skipping after a stop,
 * ending the team, sealing the result, and the reporter's deadline duties.
 *
 * How workers take tasks was decided by measurement (FACTS.md): one claim
 * task per team member, each taking indices from an atomic counter in
 * adaptive chunks (large first, shrinking toward the end), with the stop and
 * pause flags checked before every single task. This costs a few ns per item
 * where one `omp task` per item costs ~200 ns. The claim tasks sit in one
 * taskgroup, so when omp_get_cancellation() is true a stopping member also
 * runs `omp cancel taskgroup`, discarding members that have not started. */
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The task this thread is running (NULL outside tasks); also how a batch
 * started from inside a task knows to take the nested path. */
_Thread_local ompb_ctx *ompb__tls_ctx;

#define LOAD(p) atomic_load_explicit((p), memory_order_relaxed)
#define STORE(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
/* Bump a counter that only this thread writes: no read-modify-write needed. */
#define BUMP(p) STORE((p), LOAD(p) + 1)

/* Largest adaptive chunk: keeps claims rare without starving late members. */
#define MAX_CHUNK 1024
/* Map items timed together: one clock read per block (a read costs ~40 ns
 * on a KVM guest, 0.04 ns per item here). */
#define MAP_BLOCK 1024

/* ---- inside a task ---- */

bool ompb_ctx_should_stop(const ompb_ctx *ctx) {
  if (!ctx) return false;
  int64_t stop = LOAD(&ctx->b->stop);
  return (stop != 0 && stop != OMPB__STOP_FINISHED) || (LOAD(&ctx->s->cur) & 1);
}

size_t ompb_ctx_index(const ompb_ctx *ctx) { return ctx ? ctx->index : 0; }

void *ompb_ctx_user(const ompb_ctx *ctx) { return ctx ? ctx->b->opts.user : NULL; }

int ompb_ctx_fail(ompb_ctx *ctx, int code, const char *fmt, ...) {
  if (!ctx) return code;
  ctx->s->has_msg = fmt != NULL;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->s->msg, sizeof ctx->s->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* ---- stop ---- */

bool ompb__trip(ompb_batch *b, int reason, int code) {
  int64_t expect = 0;
  int64_t word = (int64_t)reason | ((int64_t)code * 256);
  if (!atomic_compare_exchange_strong(&b->stop, &expect, word)) return false;
  /* Wake members parked by a pause so they see the stop. */
  pthread_mutex_lock(&b->mu);
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  return true;
}

/* Park while paused; true when the batch was stopped meanwhile. */
static bool wait_paused(ompb_batch *b) {
  pthread_mutex_lock(&b->mu);
  while (atomic_load(&b->paused) && !atomic_load(&b->stop))
    pthread_cond_wait(&b->cv, &b->mu);
  bool stopped = atomic_load(&b->stop) != 0;
  pthread_mutex_unlock(&b->mu);
  return stopped;
}

/* Before each task: true when the batch was stopped. Restarts *t after a
 * pause so the wait is not billed to the next task. */
static inline bool gate(ompb_batch *b, int64_t *t) {
  /* the hot path: two loads, one test */
  if (__builtin_expect((LOAD(&b->stop) | (int64_t)LOAD(&b->paused)) == 0, 1)) return false;
  if (LOAD(&b->stop)) return true;
  if (LOAD(&b->paused)) {
    if (wait_paused(b)) return true;
    *t = ompb__now_ns();
  }
  return false;
}

/* ---- results ---- */

static size_t error_index(const ompb_batch *b, size_t i) {
  return b->kind == OMPB__KERNEL ? i * b->kchunk : i;
}

/* A heap error record for a kept result; the message is the task's own
 * (copied inline) or the static ompb_strerror text. NULL when out of memory:
 * the seal then supplies a record (see lost_errors). */
static ompb_error *make_error(ompb_batch *b, const struct ompb__slot *s,
                              int rc, size_t i) {
  size_t len = s->has_msg ? strlen(s->msg) + 1 : 0;
  ompb_error *e = ompb__malloc(sizeof *e + len);
  if (!e) {
    atomic_fetch_add(&b->lost_errors, 1);
    return NULL;
  }
  e->code = rc;
  e->index = error_index(b, i);
  if (len) {
    char *m = (char *)(e + 1);
    memcpy(m, s->msg, len);
    e->message = m;
  } else {
    e->message = ompb_strerror(rc);
  }
  return e;
}

/* Record task i's outcome: counters, fail-fast, the result slot, on_result,
 * and dropping the value when results are discarded. `late`: the reporter
 * already timed the task out and counted it. */
static void finish_task(ompb_batch *b, struct ompb__slot *s, size_t i, int rc,
                        ompb_value v, int64_t dur_ns, bool late) {
  const ompb_batch_opts *o = &b->opts;
  if (late) {
    if (rc == 0 && o->result_free) o->result_free(v, o->user);
    rc = OMPB_ETIMEDOUT;
    s->has_msg = false;
  } else if (rc == 0) {
    BUMP(&s->ok);
  } else if (rc != OMPB_ECANCELED) {
    BUMP(&s->failed);
    if (o->fail_fast) ompb__trip(b, OMPB__STOP_FAILFAST, rc);
  }
  if (rc != 0) v.i64 = 0;
  bool failed = rc != 0 && rc != OMPB_ECANCELED;
  if (b->results) {
    ompb_task_result *r = &b->results[i];
    r->index = i;
    r->status = rc;
    r->value = v;
    r->error = failed ? make_error(b, s, rc, i) : NULL;
    r->duration_ms = (double)dur_ns / 1e6;
    if (o->on_result) o->on_result(r, o->user);
    return;
  }
  if (o->on_result) {
    ompb_error e = {rc, error_index(b, i), s->has_msg ? s->msg : ompb_strerror(rc)};
    ompb_task_result r = {i, rc, v, failed ? &e : NULL, (double)dur_ns / 1e6};
    o->on_result(&r, o->user);
  }
  if (rc == 0 && o->result_free) o->result_free(v, o->user);
}

/* Mark [lo, hi) skipped: status ECANCELED, arg_free, on_result. */
static void skip_range(ompb_batch *b, size_t lo, size_t hi) {
  const ompb_batch_opts *o = &b->opts;
  if (!b->results && !o->on_result && !b->arg_free) return;
  for (size_t i = lo; i < hi; i++) {
    ompb_task_result tmp = {i, OMPB_ECANCELED, {0}, NULL, 0.0};
    ompb_task_result *r = b->results ? &b->results[i] : &tmp;
    *r = tmp;
    if (b->arg_free && b->arg_free[i]) b->arg_free[i](b->tasks[i].arg);
    if (o->on_result) o->on_result(r, o->user);
  }
}

/* ---- running ---- */

static inline int64_t task_timeout(const ompb_batch *b, size_t i) {
  int64_t t = b->timeout_ns ? b->timeout_ns[i] : 0;
  return t ? t : b->task_timeout_ns;
}

/* Publish the running task for the reporter's deadline check. */
static inline void publish(ompb_batch *b, struct ompb__slot *s, size_t i, int64_t t0) {
  int64_t limit = task_timeout(b, i);
  STORE(&s->deadline_ns, limit ? ompb__after(t0, limit) : INT64_MAX);
  atomic_store_explicit(&s->cur, (uint64_t)(i + 1) << 1, memory_order_release);
}

static inline bool retract(struct ompb__slot *s) {
  return atomic_exchange(&s->cur, 0) & 1;
}

static void unknown_method(ompb_batch *b, struct ompb__slot *s, size_t i) {
  size_t lo = 0, hi = b->n_unknown;
  while (lo < hi) { /* the list is in index order */
    size_t mid = lo + (hi - lo) / 2;
    if (b->unknown[mid].index < i) lo = mid + 1;
    else hi = mid;
  }
  if (lo < b->n_unknown && b->unknown[lo].index == i) {
    snprintf(s->msg, sizeof s->msg, "no task function registered as '%s'",
             b->unknown[lo].name);
    s->has_msg = true;
  }
}

/* Run task (or item, or chunk) i that started at t0; returns the end time. */
static int64_t run_one(ompb_batch *b, struct ompb__slot *s, size_t i, int64_t t0) {
  ompb_value v = {0};
  int rc = 0;
  bool deadlines = b->min_timeout_ns != 0;
  s->ctx.index = i;
  s->has_msg = false;
  if (deadlines) publish(b, s, i, t0);
  switch (b->kind) {
  case OMPB__TASKS:
    if (b->tasks[i].fn) {
      rc = b->tasks[i].fn(&s->ctx, b->tasks[i].arg, &v);
    } else {
      rc = OMPB_ENOMETHOD;
      unknown_method(b, s, i);
    }
    break;
  case OMPB__MAP:
    rc = b->map_fn(b->items + i * b->item_size, b->outs ? b->outs + i * b->out_size : NULL,
                   i, b->opts.user);
    break;
  case OMPB__KERNEL: {
    size_t lo = i * b->kchunk, cnt = b->elems - lo < b->kchunk ? b->elems - lo : b->kchunk;
    if (b->kfn.f32)
      b->kfn.f32((const float *)b->items + lo, (float *)b->outs + lo, cnt, b->kparams);
    else
      b->kfn.f64((const double *)b->items + lo, (double *)b->outs + lo, cnt, b->kparams);
    break;
  }
  }
  bool late = deadlines && retract(s);
  int64_t t1 = ompb__now_ns();
  if (b->arg_free && b->arg_free[i]) b->arg_free[i](b->tasks[i].arg);
  finish_task(b, s, i, rc, v, t1 - t0, late);
  return t1;
}

/* Give items [lo, hi), run since t0, equal shares of the time; returns now. */
static int64_t share_time(ompb_batch *b, size_t lo, size_t hi, int64_t t0) {
  int64_t t1 = ompb__now_ns();
  if (b->results && hi > lo) {
    double each = (double)(t1 - t0) / 1e6 / (double)(hi - lo);
    for (size_t i = lo; i < hi; i++) b->results[i].duration_ms = each;
  }
  return t1;
}

/* Map items without per-item callbacks or deadlines: one clock read per
 * block of items, durations shared evenly within the block. The batch's
 * fields are read once into locals: the item function is opaque, so the
 * compiler would reload them after every call (31 instructions per item
 * around the call before, 27 after; perf/bench_map). `keep` (whether
 * results are kept) is a constant in each of the two inlined copies. */
static inline __attribute__((always_inline)) bool
map_block_loop(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi, const bool keep) {
  const size_t isz = b->item_size, osz = b->out_size;
  ompb_map_fn *const fn = b->map_fn;
  void *const user = b->opts.user;
  ompb_task_result *const results = b->results;
  /* Running addresses of item i and its output; integers, because outs is
   * NULL (and osz 0) for maps without outputs. */
  uintptr_t ip = (uintptr_t)b->items + lo * isz;
  uintptr_t op = (uintptr_t)b->outs + lo * osz;
  /* A map function has no ctx (it can neither set a message nor read its
   * index from one), so the slot's ctx needs no per-item update. */
  s->has_msg = false;
  int64_t t0 = ompb__now_ns();
  size_t ok = 0;
  for (size_t blo = lo; blo < hi; blo += MAP_BLOCK) {
    size_t bhi = hi - blo < MAP_BLOCK ? hi : blo + MAP_BLOCK;
    for (size_t i = blo; i < bhi; i++, ip += isz, op += osz) {
      if (gate(b, &t0)) {
        STORE(&s->ok, LOAD(&s->ok) + ok);
        share_time(b, blo, i, t0);
        skip_range(b, i, hi);
        return true;
      }
      int rc = fn((const void *)ip, (void *)op, i, user);
      if (keep) {
        ompb_task_result *r = &results[i];
        r->index = i;
        r->status = rc;
        r->value.i64 = 0;
        r->error = NULL;
      }
      if (rc == 0) {
        ok++;
      } else {
        finish_task(b, s, i, rc, (ompb_value){0}, 0, false);
      }
    }
    STORE(&s->ok, LOAD(&s->ok) + ok);
    ok = 0;
    t0 = share_time(b, blo, bhi, t0);
  }
  return false;
}

static bool run_map_block(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi) {
  return b->results ? map_block_loop(b, s, lo, hi, true) : map_block_loop(b, s, lo, hi, false);
}

static bool run_range(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi) {
  if (b->kind == OMPB__MAP && !b->opts.on_result && !b->min_timeout_ns)
    return run_map_block(b, s, lo, hi);
  int64_t t = ompb__now_ns();
  for (size_t i = lo; i < hi; i++) {
    if (gate(b, &t)) {
      skip_range(b, i, hi);
      return true;
    }
    t = run_one(b, s, i, t);
  }
  return false;
}

static bool claim(ompb_batch *b, unsigned members, size_t *lo, size_t *hi) {
  size_t c = b->chunk;
  if (!c) {
    size_t seen = LOAD(&b->next);
    if (seen >= b->n) return false;
    c = (b->n - seen) / (2 * (size_t)members);
    c = c < 1 ? 1 : c > MAX_CHUNK ? MAX_CHUNK : c;
  }
  size_t first = atomic_fetch_add_explicit(&b->next, c, memory_order_relaxed);
  if (first >= b->n) return false;
  *lo = first;
  *hi = b->n - first < c ? b->n : first + c;
  return true;
}

/* One team member: claim and run until the batch is drained or stopped.
 * Returns true when it stopped early. */
static bool run_member(ompb_batch *b, unsigned k, unsigned members) {
  struct ompb__slot *s = &b->slots[k];
  ompb_ctx *outer = ompb__tls_ctx;
  ompb__tls_ctx = &s->ctx;
  bool stopped = false;
  size_t lo, hi;
  while (!stopped && claim(b, members, &lo, &hi)) stopped = run_range(b, s, lo, hi);
  if (!stopped) stopped = LOAD(&b->stop) != 0;
  ompb__tls_ctx = outer;
  return stopped;
}

/* Task creation lives in this one function (TSan's race_top suppression for
 * libomp's reuse of task descriptors names it). */
__attribute__((noinline)) static void spawn_members(ompb_batch *b, unsigned members) {
#pragma omp taskgroup
  {
    for (unsigned k = 0; k < members; k++) {
#pragma omp task firstprivate(k)
      {
        if (run_member(b, k, members) && omp_get_cancellation()) {
#pragma omp cancel taskgroup
        }
      }
    }
  }
}

static unsigned team_size(const ompb_batch *b, unsigned limit) {
  unsigned t = b->nslots < limit ? b->nslots : limit;
  if (b->n < t) t = b->n ? (unsigned)b->n : 1;
  return t ? t : 1;
}

/* The team is done: skip what was never claimed, release the task list,
 * decide how the batch ended, and hand it to whoever seals it. */
static void finish_team(ompb_batch *b) {
  size_t next = LOAD(&b->next);
  if (next < b->n) skip_range(b, next, b->n);
  b->t_end_ns = ompb__now_ns();
  ompb__free(b->tasks);
  ompb__free(b->arg_free);
  ompb__free(b->timeout_ns);
  b->tasks = NULL;
  b->arg_free = NULL;
  b->timeout_ns = NULL;
  int64_t expect = 0;
  if (atomic_compare_exchange_strong(&b->stop, &expect, OMPB__STOP_FINISHED))
    expect = 0;
  b->final_stop = expect;
  pthread_mutex_lock(&b->mu);
  atomic_store(&b->state, OMPB__TEAM_DONE);
  atomic_store(&b->paused, false);
  pthread_mutex_unlock(&b->mu);
  if (b->in_reporter) ompb__reporter_team_done(b->pool, b);
  else ompb__seal(b);
}

static void start_running(ompb_batch *b) {
  pthread_mutex_lock(&b->mu);
  atomic_store(&b->state, OMPB__RUNNING);
  pthread_mutex_unlock(&b->mu);
}

void ompb__run_dispatched(ompb_batch *b) {
  start_running(b);
  unsigned members = team_size(b, b->pool->workers);
  if (members == 1 || LOAD(&b->stop)) {
    run_member(b, 0, 1);
  } else {
    const ompb_pool *pool = b->pool;
#pragma omp parallel num_threads(members)
    {
      ompb__pin_team_thread(pool);
#ifdef KMP_VERSION_MAJOR
      /* libomp (14): task descriptors come from the creating thread's
       * free lists, and a worker that frees one caches it for its owner.
       * When the owner is a root thread that exits (this dispatcher, at
       * ompb_pool_destroy), the next root to reuse that worker aborts in
       * kmp_alloc.cpp. So the dispatcher itself never creates tasks here:
       * the team's last thread does, the others run them at the barrier. */
      if (omp_get_thread_num() == omp_get_num_threads() - 1)
        spawn_members(b, members);
#else
#pragma omp single
      spawn_members(b, members);
#endif
    }
  }
  finish_team(b);
}

void ompb__run_nested(ompb_batch *b) {
  start_running(b);
  int team = omp_get_num_threads();
  unsigned members = team_size(b, team > 0 ? (unsigned)team : 1);
  if (members == 1) run_member(b, 0, 1);
  else spawn_members(b, members);
  finish_team(b);
}

/* ---- progress, deadlines, seal ---- */

static void sum_counts(const ompb_batch *b, size_t *ok, size_t *failed) {
  size_t o = 0, f = 0;
  for (unsigned k = 0; k <= b->nslots; k++) {
    o += atomic_load_explicit(&b->slots[k].ok, memory_order_acquire);
    f += atomic_load_explicit(&b->slots[k].failed, memory_order_acquire);
  }
  *ok = o;
  *failed = f;
}

void ompb__snapshot(const ompb_batch *b, ompb_progress *p, bool final) {
  size_t ok, failed;
  sum_counts(b, &ok, &failed);
  int64_t end = final ? b->t_end_ns : ompb__now_ns();
  double secs = (double)(end - b->t_start_ns) / 1e9;
  p->completed = ok + failed;
  p->total = b->n;
  p->successes = ok;
  p->failures = failed;
  p->percentage = b->n ? 100.0 * (double)p->completed / (double)b->n : 100.0;
  p->throughput = secs > 0 ? (double)p->completed / secs : 0.0;
  if (final)
    p->estimated_remaining_ms = 0.0;
  else if (p->completed == 0 || p->throughput <= 0)
    p->estimated_remaining_ms = -1.0;
  else
    p->estimated_remaining_ms = (double)(b->n - p->completed) / p->throughput * 1e3;
}

void ompb__enforce_deadlines(ompb_batch *b, int64_t now, int64_t *wake) {
  if (atomic_load(&b->state) >= OMPB__TEAM_DONE || LOAD(&b->stop)) {
    /* Stopped: deadlines have nothing left to cut, except running tasks'
     * own deadlines, which still mark them as timed out. */
    if (!b->min_timeout_ns || atomic_load(&b->state) >= OMPB__TEAM_DONE) return;
  } else if (b->deadline_ns) {
    if (now >= b->deadline_ns) ompb__trip(b, OMPB__STOP_DEADLINE, OMPB_ETIMEDOUT);
    else if (b->deadline_ns < *wake) *wake = b->deadline_ns;
  }
  if (!b->min_timeout_ns) return;
  /* A task starting after this point cannot expire before now + the
   * smallest deadline: look again then at the latest. */
  int64_t again = ompb__after(now, b->min_timeout_ns);
  if (again < *wake) *wake = again;
  if (atomic_load(&b->state) != OMPB__RUNNING) return;
  struct ompb__slot *mine = &b->slots[b->nslots];
  for (unsigned k = 0; k < b->nslots; k++) {
    struct ompb__slot *s = &b->slots[k];
    uint64_t cur = atomic_load_explicit(&s->cur, memory_order_acquire);
    if (!cur || (cur & 1)) continue;
    int64_t dl = LOAD(&s->deadline_ns);
    if (now < dl) {
      if (dl < *wake) *wake = dl;
    } else if (atomic_compare_exchange_strong(&s->cur, &cur, cur | 1)) {
      BUMP(&mine->failed);
      if (b->opts.fail_fast) ompb__trip(b, OMPB__STOP_FAILFAST, OMPB_ETIMEDOUT);
    }
  }
}

void ompb__seal(ompb_batch *b) {
  size_t ok, failed;
  sum_counts(b, &ok, &failed);
  int reason = (int)(b->final_stop & 255);
  int code = (int)((b->final_stop - reason) / 256);
  size_t skipped = b->n - ok - failed;
  /* A cancel or deadline that came after every task had run changed nothing:
   * the batch completed. A fail-fast trip always ends the batch early. */
  if ((reason == OMPB__STOP_CANCEL || reason == OMPB__STOP_DEADLINE) && skipped == 0)
    reason = 0;
  ompb_result *r = &b->res->pub;
  r->results = b->results;
  r->count = b->n;
  r->success_count = ok;
  r->failure_count = failed;
  r->cancelled_count = skipped;
  r->duration_ms = (double)(b->t_end_ns - b->t_start_ns) / 1e6;
  r->cancelled = reason != 0;
  r->timed_out = reason == OMPB__STOP_DEADLINE;
  r->all_succeeded = failed == 0 && !r->cancelled;
  b->rc = reason == OMPB__STOP_FAILFAST ? code
          : reason == OMPB__STOP_DEADLINE ? OMPB_ETIMEDOUT : OMPB_OK;

  size_t lost = atomic_load(&b->lost_errors);
  if (lost && b->results) {
    b->res->lost = ompb__calloc(lost, sizeof *b->res->lost);
    if (b->res->lost) {
      b->res->nlost = lost;
      size_t j = 0;
      for (size_t i = 0; i < b->n && j < lost; i++) {
        ompb_task_result *t = &b->results[i];
        if (t->status != 0 && t->status != OMPB_ECANCELED && !t->error) {
          ompb_error *e = &b->res->lost[j++];
          e->code = t->status;
          e->index = error_index(b, i);
          e->message = ompb_strerror(t->status);
          t->error = e;
        }
      }
    } else {
      ompb__result_drop(b);
      b->rc = OMPB_ENOMEM;
    }
  }
  pthread_mutex_lock(&b->mu);
  atomic_store(&b->state, OMPB__SEALED);
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}
