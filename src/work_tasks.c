/* SPDX-License-Identifier: BSD-3-Clause */
/* Tasks, the first kind of work: a copied list of (function, argument)
 * pairs, resolved against the pool's registry at start; the task's view of
 * its batch (ompb_ctx); ompb_batch_start and ompb_exec_batch. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "work.h"

struct task {
  ompb_task_fn *fn; /* NULL: unknown method */
  void *arg;
};

struct unknown {
  size_t index;
  char *name;
};

/* Copied and resolved at start; tasks, arg_free and timeout_ns are freed
 * when the team is done, unknown when the handle goes. A synchronous call
 * whose tasks are all direct functions borrows the caller's list instead
 * (`user`; the caller is blocked until the batch is sealed): no copy, no
 * allocation, one validating pass. */
struct tasks {
  const ompb_task *user; /* borrowed list, or NULL: the copy below */
  bool user_arg_free;    /* some borrowed task transfers its arg */
  struct task *tasks;
  void (**arg_free)(void *); /* NULL when no task transfers its arg */
  int64_t *timeout_ns;       /* per-task deadlines; NULL when none is set */
  struct unknown *unknown;   /* methods not found, in index order */
  size_t n_unknown;
};

/* ---- inside a task ---- */

bool ompb_ctx_should_stop(const ompb_ctx *ctx) {
  if (!ctx) return false;
  int64_t stop = OMPB__LOAD(&ctx->b->stop);
  return (stop != 0 && stop != OMPB__STOP_FINISHED) || (OMPB__LOAD(&ctx->s->cur) & 1);
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

/* ---- the kind ---- */

static void unknown_method(const struct tasks *w, struct ompb__slot *s, size_t i) {
  size_t lo = 0, hi = w->n_unknown;
  while (lo < hi) { /* the list is in index order */
    size_t mid = lo + (hi - lo) / 2;
    if (w->unknown[mid].index < i) lo = mid + 1;
    else hi = mid;
  }
  if (lo < w->n_unknown && w->unknown[lo].index == i) {
    snprintf(s->msg, sizeof s->msg, "no task function registered as '%s'",
             w->unknown[lo].name);
    s->has_msg = true;
  }
}

static inline int call_task(ompb_batch *b, struct ompb__slot *s, size_t i, ompb_value *v) {
  const struct tasks *w = OMPB__WORK(b, struct tasks);
  const struct task *t = &w->tasks[i];
  if (t->fn) return t->fn(&s->ctx, t->arg, v);
  unknown_method(w, s, i);
  return OMPB_ENOMETHOD;
}

static inline int64_t task_limit(const ompb_batch *b, size_t i) {
  const struct tasks *w = OMPB__WORK(b, struct tasks);
  int64_t t = w->timeout_ns ? w->timeout_ns[i] : 0;
  return t ? t : b->task_timeout_ns;
}

static inline void release_arg(ompb_batch *b, size_t i) {
  const struct tasks *w = OMPB__WORK(b, struct tasks);
  if (w->arg_free && w->arg_free[i]) w->arg_free[i](w->tasks[i].arg);
}

static const ompb__each each_task = {call_task, task_limit, release_arg};

static bool run_range(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi) {
  return ompb__run_each(b, s, lo, hi, &each_task);
}

static void skip(ompb_batch *b, size_t lo, size_t hi) {
  if (!OMPB__WORK(b, struct tasks)->arg_free) return;
  for (size_t i = lo; i < hi; i++) release_arg(b, i);
}

/* The same over a borrowed list (every task has fn: checked at start). */
static inline int call_user(ompb_batch *b, struct ompb__slot *s, size_t i, ompb_value *v) {
  const ompb_task *t = &OMPB__WORK(b, struct tasks)->user[i];
  return t->fn(&s->ctx, t->arg, v);
}

static inline int64_t user_limit(const ompb_batch *b, size_t i) {
  double ms = OMPB__WORK(b, struct tasks)->user[i].timeout_ms;
  return ms > 0 ? ompb__ms_to_ns(ms) : b->task_timeout_ns;
}

static inline void release_user_arg(ompb_batch *b, size_t i) {
  const struct tasks *w = OMPB__WORK(b, struct tasks);
  if (w->user_arg_free && w->user[i].arg_free) w->user[i].arg_free(w->user[i].arg);
}

static const ompb__each each_user = {call_user, user_limit, release_user_arg};

static bool run_user_range(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi) {
  return ompb__run_each(b, s, lo, hi, &each_user);
}

static void skip_user(ompb_batch *b, size_t lo, size_t hi) {
  if (!OMPB__WORK(b, struct tasks)->user_arg_free) return;
  for (size_t i = lo; i < hi; i++) release_user_arg(b, i);
}

static void team_done(ompb_batch *b) {
  struct tasks *w = OMPB__WORK(b, struct tasks);
  ompb__free(w->tasks);
  ompb__free(w->arg_free);
  ompb__free(w->timeout_ns);
  w->tasks = NULL;
  w->arg_free = NULL;
  w->timeout_ns = NULL;
}

static void destroy(ompb_batch *b) {
  struct tasks *w = OMPB__WORK(b, struct tasks);
  for (size_t i = 0; i < w->n_unknown; i++) ompb__free(w->unknown[i].name);
  ompb__free(w->unknown);
}

static const struct ompb__work_ops tasks_ops = {
    .run_range = run_range,
    .skip = skip,
    .team_done = team_done,
    .destroy = destroy,
    .values = true,
};

static const struct ompb__work_ops user_tasks_ops = {
    .run_range = run_user_range,
    .skip = skip_user,
    .values = true,
};

/* ---- start ---- */

static int note_unknown(struct tasks *w, size_t i, const char *name) {
  if ((w->n_unknown & (w->n_unknown - 1)) == 0) { /* grow at powers of two */
    size_t cap = w->n_unknown ? w->n_unknown * 2 : 1;
    void *p = ompb__realloc(w->unknown, ompb__mul(cap, sizeof *w->unknown));
    if (!p) return OMPB_ENOMEM;
    w->unknown = p;
  }
  size_t len = strlen(name) + 1;
  char *copy = ompb__malloc(len);
  if (!copy) return OMPB_ENOMEM;
  memcpy(copy, name, len);
  w->unknown[w->n_unknown].index = i;
  w->unknown[w->n_unknown].name = copy;
  w->n_unknown++;
  return OMPB_OK;
}

/* Validate, copy and resolve the task list. On failure nothing ran and the
 * caller discards b. */
static int copy_tasks(ompb_batch *b, const ompb_task *tasks, size_t n) {
  struct tasks *w = OMPB__WORK(b, struct tasks);
  w->tasks = ompb__malloc(ompb__mul(n, sizeof *w->tasks));
  if (!w->tasks) return OMPB_ENOMEM;
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
      if (!fn && note_unknown(w, i, t->method) != OMPB_OK) return OMPB_ENOMEM;
    }
    w->tasks[i].fn = fn;
    w->tasks[i].arg = t->arg;
    if (t->arg_free) {
      if (!w->arg_free && !(w->arg_free = ompb__calloc(n, sizeof *w->arg_free)))
        return OMPB_ENOMEM;
      w->arg_free[i] = t->arg_free;
    }
    if (t->timeout_ms > 0) {
      if (!w->timeout_ns && !(w->timeout_ns = ompb__calloc(n, sizeof *w->timeout_ns)))
        return OMPB_ENOMEM;
      int64_t ns = ompb__ms_to_ns(t->timeout_ms);
      w->timeout_ns[i] = ns;
      if (!b->min_timeout_ns || ns < b->min_timeout_ns) b->min_timeout_ns = ns;
    }
  }
  return OMPB_OK;
}

/* A synchronous call's list, when every task is a direct function: check
 * it and note what the run needs (deadlines, argument transfers). 1 when it
 * can be borrowed, 0 when it needs the copy (a registered method), or a
 * negative code. */
static int check_user_tasks(ompb_batch *b, const ompb_task *tasks, size_t n) {
  struct tasks *w = OMPB__WORK(b, struct tasks);
  bool arg_free = false;
  int64_t min_ns = b->min_timeout_ns;
  for (size_t i = 0; i < n; i++) {
    const ompb_task *t = &tasks[i];
    if (t->method) return 0;
    if (!t->fn || ompb__bad_ms(t->timeout_ms)) return OMPB_EINVAL;
    arg_free |= t->arg_free != NULL;
    if (t->timeout_ms > 0) {
      int64_t ns = ompb__ms_to_ns(t->timeout_ms);
      if (!min_ns || ns < min_ns) min_ns = ns;
    }
  }
  /* Stored only where they differ: src/batch.c, SET. */
  if (b->min_timeout_ns != min_ns) b->min_timeout_ns = min_ns;
  w->user = tasks;
  w->user_arg_free = arg_free;
  if (b->ops != &user_tasks_ops) b->ops = &user_tasks_ops;
  return 1;
}

/* ompb_batch_start; `sync`: the caller waits next (ompb__launch). */
static int start(ompb_pool *pool, const ompb_task *tasks, size_t n,
                 const ompb_batch_opts *opts, bool sync, ompb_batch **out) {
  if (out) *out = NULL;
  if (!pool || !out || (!tasks && n)) return OMPB_EINVAL;
  ompb_batch *b;
  int rc = ompb__batch_new(pool, &tasks_ops, n, opts, sizeof(struct tasks), &b);
  if (rc != OMPB_OK) return rc;
  ompb__freeze_registry(pool);
  rc = sync ? check_user_tasks(b, tasks, n) : 0;
  if (rc == 0) rc = copy_tasks(b, tasks, n);
  else if (rc == 1) rc = OMPB_OK;
  if (rc != OMPB_OK) {
    ompb__batch_discard(b);
    return rc;
  }
  return ompb__launch(b, sync, out);
}

int ompb_batch_start(ompb_pool *pool, const ompb_task *tasks, size_t n,
                     const ompb_batch_opts *opts, ompb_batch **out) {
  return start(pool, tasks, n, opts, false, out);
}

int ompb_exec_batch(ompb_pool *pool, const ompb_task *tasks, size_t n,
                    const ompb_batch_opts *opts, ompb_result **out) {
  if (out) *out = NULL;
  if (!out) return OMPB_EINVAL;
  ompb_batch *b;
  int rc = start(pool, tasks, n, opts, true, &b);
  return ompb__wait_and_free(rc, b, out);
}
