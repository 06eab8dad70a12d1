/* SPDX-License-Identifier: BSD-3-Clause */
/* What every kind of work shares while it runs, out of line: parking on a
 * pause, skipping a range after a stop, and building error records. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include <string.h>

#include "work.h"

bool ompb__wait_paused(ompb_batch *b) {
  pthread_mutex_lock(&b->mu);
  while (atomic_load(&b->paused) && !atomic_load(&b->stop))
    pthread_cond_wait(&b->cv, &b->mu);
  bool stopped = atomic_load(&b->stop) != 0;
  pthread_mutex_unlock(&b->mu);
  return stopped;
}

void ompb__skip(ompb_batch *b, size_t lo, size_t hi) {
  const ompb_batch_opts *o = &b->opts;
  if (b->ops->skip) b->ops->skip(b, lo, hi);
  if (!b->results && !o->on_result) return;
  for (size_t i = lo; i < hi; i++) {
    ompb_task_result tmp = {i, OMPB_ECANCELED, {0}, NULL, 0.0};
    ompb_task_result *r = b->results ? &b->results[i] : &tmp;
    *r = tmp;
    if (o->on_result) o->on_result(r, o->user);
  }
}

/* The message is the task's own (copied) or the static ompb_strerror text.
 * When out of memory the seal supplies a record instead (lost_errors). */
ompb_error *ompb__make_error(ompb_batch *b, struct ompb__slot *s, int rc, size_t i) {
  ompb_error *e = ompb__error_new(&s->errs, rc, ompb__error_index(b, i),
                                  s->has_msg ? s->msg : NULL);
  if (!e) atomic_fetch_add(&b->lost_errors, 1);
  return e;
}
