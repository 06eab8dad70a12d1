/* SPDX-License-Identifier: BSD-3-Clause */
/* The reporter: one thread per pool that owns the listed batches' progress
 * reports and deadlines, sends each final report, and seals: the one place
 * a batch's result is filled in and its waiters are woken. Batches with no
 * progress callback and no deadline are never listed; their team's last
 * thread seals them (ompb__reporter_team_done). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include "work.h"

_Thread_local const ompb_pool *ompb__tls_reporter;

/* ---- progress ---- */

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

static void report(ompb_batch *b, bool final) {
  ompb_progress p;
  ompb__snapshot(b, &p, final);
  b->opts.on_progress(&p, b->opts.user);
}

/* ---- deadlines ---- */

/* The shortest gap between two looks for tasks that started unseen: task
 * deadlines below it are enforced within about this much of their time. */
#define MIN_RECHECK_NS 1000000

/* The batch deadline and the running indices' deadlines of listed batch b
 * at time `now`. Lowers *wake to the next instant needing attention. */
static void enforce_deadlines(ompb_batch *b, int64_t now, int64_t *wake) {
  if (atomic_load(&b->state) >= OMPB__TEAM_DONE || OMPB__LOAD(&b->stop)) {
    /* Stopped: deadlines have nothing left to cut, except running tasks'
     * own deadlines, which still mark them as timed out. */
    if (!b->min_timeout_ns || atomic_load(&b->state) >= OMPB__TEAM_DONE) return;
  } else if (b->deadline_ns) {
    if (now >= b->deadline_ns) ompb__trip(b, OMPB__STOP_DEADLINE, OMPB_ETIMEDOUT);
    else if (b->deadline_ns < *wake) *wake = b->deadline_ns;
  }
  if (!b->min_timeout_ns) return;
  /* A task starting after this point cannot expire before now + the
   * smallest deadline: look again then at the latest, but not sooner than
   * MIN_RECHECK_NS (a deadline of 1 ns would make this a busy loop). */
  int64_t again = ompb__after(now, b->min_timeout_ns > MIN_RECHECK_NS ? b->min_timeout_ns
                                                                      : MIN_RECHECK_NS);
  if (again < *wake) *wake = again;
  if (atomic_load(&b->state) != OMPB__RUNNING) return;
  struct ompb__slot *mine = &b->slots[b->nslots];
  for (unsigned k = 0; k < b->nslots; k++) {
    struct ompb__slot *s = &b->slots[k];
    uint64_t cur = atomic_load_explicit(&s->cur, memory_order_acquire);
    if (!cur || (cur & 1)) continue;
    int64_t dl = OMPB__LOAD(&s->deadline_ns);
    if (now < dl) {
      if (dl < *wake) *wake = dl;
    } else if (atomic_compare_exchange_strong(&s->cur, &cur, cur | 1)) {
      OMPB__BUMP(&mine->failed);
      if (b->opts.fail_fast) ompb__trip(b, OMPB__STOP_FAILFAST, OMPB_ETIMEDOUT);
    }
  }
}

/* ---- the seal ---- */

/* Fill in b's result from its counters and stop word, hand it the members'
 * error records, and wake the waiters. Runs once, after the team ended. */
static void seal(ompb_batch *b) {
  size_t ok, failed;
  sum_counts(b, &ok, &failed);
  int reason = (int)(b->final_stop & 255);
  int code = (int)((b->final_stop - reason) / 256);
  size_t skipped = b->n - ok - failed;
  /* A cancel or deadline that came after every member had left changed
   * nothing: the batch completed. One that a member saw cut the batch
   * short, even with nothing left to skip (tasks asked to stop returned
   * early). A fail-fast trip always ends the batch early. */
  bool cut = skipped > 0 || (b->n > 0 && atomic_load(&b->stop_seen));
  if ((reason == OMPB__STOP_CANCEL || reason == OMPB__STOP_DEADLINE) && !cut) reason = 0;
  struct ompb__result *res = b->res;
  for (unsigned k = 0; k < b->nslots; k++) ompb__result_adopt(res, &b->slots[k].errs);
  ompb_result *r = &res->pub;
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
  if (lost && b->results && ompb__result_fill_lost(b, lost) != OMPB_OK) {
    /* No result can be handed over without its records. */
    ompb__result_destroy(res, b);
    b->res = NULL;
    b->results = NULL;
    b->rc = OMPB_ENOMEM;
  }
  if (b->solo) { /* the sealing thread is the only waiter */
    atomic_store_explicit(&b->state, OMPB__SEALED, memory_order_relaxed);
    return;
  }
  pthread_mutex_lock(&b->mu);
  atomic_store(&b->state, OMPB__SEALED);
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

/* ---- the list ---- */

void ompb__reporter_add(ompb_pool *pool, ompb_batch *b) {
  struct ompb__reporter *rep = &pool->rep;
  pthread_mutex_lock(&rep->mu);
  b->in_reporter = true;
  b->next_report_ns = ompb__after(b->t_start_ns, ompb__ms_to_ns(b->opts.progress_throttle_ms));
  b->rnext = NULL;
  b->rprev = rep->tail;
  if (rep->tail) rep->tail->rnext = b;
  else rep->head = b;
  rep->tail = b;
  rep->gen++;
  pthread_cond_signal(&rep->cv);
  pthread_mutex_unlock(&rep->mu);
}

void ompb__reporter_team_done(ompb_batch *b) {
  if (!b->in_reporter) {
    seal(b);
    return;
  }
  struct ompb__reporter *rep = &b->pool->rep;
  pthread_mutex_lock(&rep->mu);
  b->team_done = true;
  rep->gen++;
  pthread_cond_signal(&rep->cv);
  pthread_mutex_unlock(&rep->mu);
}

static void unlist(struct ompb__reporter *rep, ompb_batch *b) {
  if (b->rprev) b->rprev->rnext = b->rnext;
  else rep->head = b->rnext;
  if (b->rnext) b->rnext->rprev = b->rprev;
  else rep->tail = b->rprev;
}

/* A listed batch is only unlisted here, so it stays valid while mu is
 * dropped around a callback. No lock is held while user code runs. */
static void *reporter_main(void *arg) {
  ompb_pool *pool = arg;
  struct ompb__reporter *rep = &pool->rep;
  ompb__tls_reporter = pool;
  pthread_mutex_lock(&rep->mu);
  for (;;) {
    if (!rep->head && rep->quit) break;
    unsigned gen = rep->gen;
    int64_t now = ompb__now_ns();
    int64_t wake = INT64_MAX;
    ompb_batch *b = rep->head;
    while (b) {
      if (b->team_done) {
        unlist(rep, b);
        pthread_mutex_unlock(&rep->mu);
        if (b->opts.on_progress) report(b, true);
        seal(b); /* b may be freed from here on */
        pthread_mutex_lock(&rep->mu);
        b = rep->head; /* the list may have changed meanwhile */
        continue;
      }
      enforce_deadlines(b, now, &wake);
      if (b->opts.on_progress) {
        if (now >= b->next_report_ns) {
          pthread_mutex_unlock(&rep->mu);
          report(b, false);
          pthread_mutex_lock(&rep->mu);
          /* The next report is due a throttle after this one returned:
           * however late this one started, no gap is shorter. */
          now = ompb__now_ns();
          b->next_report_ns = ompb__after(now, ompb__ms_to_ns(b->opts.progress_throttle_ms));
        }
        if (b->next_report_ns < wake) wake = b->next_report_ns;
      }
      b = b->rnext;
    }
    /* mu was dropped around callbacks: ompb__reporter_stop may have set
     * quit (and signalled nobody) meanwhile. */
    if (!rep->head && rep->quit) break;
    /* A batch added or finished while mu was dropped: look again now. */
    if (gen != rep->gen) continue;
    if (wake == INT64_MAX) {
      pthread_cond_wait(&rep->cv, &rep->mu);
    } else if (wake > ompb__now_ns()) {
      struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000),
                            .tv_nsec = (long)(wake % 1000000000)};
      pthread_cond_timedwait(&rep->cv, &rep->mu, &ts);
    }
  }
  pthread_mutex_unlock(&rep->mu);
  return NULL;
}

/* ---- start / stop ---- */

/* The reporter's condition waits against CLOCK_MONOTONIC (ompb__now_ns). */
static int init_sync(struct ompb__reporter *rep) {
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0) return OMPB_EAGAIN;
  int rc = OMPB_EAGAIN;
  if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0) goto done;
  if (pthread_mutex_init(&rep->mu, NULL) != 0) goto done;
  if (pthread_cond_init(&rep->cv, &ca) != 0) {
    pthread_mutex_destroy(&rep->mu);
    goto done;
  }
  rc = OMPB_OK;
done:
  pthread_condattr_destroy(&ca);
  return rc;
}

int ompb__reporter_start(ompb_pool *pool) {
  struct ompb__reporter *rep = &pool->rep;
  int rc = init_sync(rep);
  if (rc != OMPB_OK) return rc;
  if (pthread_create(&rep->thread, NULL, reporter_main, pool) != 0) {
    pthread_cond_destroy(&rep->cv);
    pthread_mutex_destroy(&rep->mu);
    return OMPB_EAGAIN;
  }
  return OMPB_OK;
}

void ompb__reporter_stop(ompb_pool *pool) {
  struct ompb__reporter *rep = &pool->rep;
  pthread_mutex_lock(&rep->mu);
  rep->quit = true;
  pthread_cond_signal(&rep->cv);
  pthread_mutex_unlock(&rep->mu);
  pthread_join(rep->thread, NULL);
  pthread_cond_destroy(&rep->cv);
  pthread_mutex_destroy(&rep->mu);
}
