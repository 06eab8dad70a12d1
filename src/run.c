/* SPDX-License-Identifier: BSD-3-Clause */
/* Running a batch's team: claiming ranges of indices, handing each to the
 * kind's range runner (src/work.h), and ending the team.
 *
 * How workers take indices was decided by measurement (docs/design.md,
 * "How workers take tasks"): every team member takes indices from one
 * atomic counter in adaptive chunks (large first, shrinking toward the
 * end), with the stop and pause flags checked before every single index.
 * This costs a few ns per item where one `omp task` per item costs ~200 ns.
 * In a region of its own each thread is a member; nested in the caller's
 * region the members are claim tasks in one taskgroup, so when
 * omp_get_cancellation() is true a stopping member also runs
 * `omp cancel taskgroup`, discarding members that have not started. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include <omp.h>
#include <sched.h>

#include "work.h"

_Thread_local ompb_ctx *ompb__tls_ctx;

/* Largest adaptive chunk: keeps claims rare without starving late members. */
#define MAX_CHUNK 1024

/* Indices a stopped member claims at once to skip them: 40 KiB of
 * result entries. */
#define SKIP_CHUNK 1024

/* An adaptive claim starts at one index and doubles, up to MAX_CHUNK,
 * while the member ran its last claim in under RAMP_NS: tasks of more than
 * a few microseconds are claimed one by one. A stop then finds no index
 * that a member claimed but has not started (it would skip the rest of its
 * own claim alone, after its running task: ~15 us for the ~900 left of a
 * 1,024-index claim of 100 us tasks, perf/bench_control), everything left
 * is open to every thread that skips, and a slow task never holds back
 * indices that another member could run. Fast tasks reach MAX_CHUNK
 * within ten claims. */
#define RAMP_NS 20000

/* Claim the next range [lo, hi) of at most `chunk` indices (adaptive, at
 * most `cap`, when 0). The counter never passes n, so no chunk size,
 * however large, can wrap it. */
static bool claim(ompb_batch *b, unsigned members, size_t chunk, size_t cap, size_t *lo,
                  size_t *hi) {
  size_t first = OMPB__LOAD(&b->next);
  do {
    if (first >= b->n) return false;
    size_t left = b->n - first, c = chunk;
    if (!c) {
      c = left / (2 * (size_t)members);
      c = c < 1 ? 1 : c > cap ? cap : c;
    }
    *hi = left < c ? b->n : first + c;
  } while (!atomic_compare_exchange_weak_explicit(&b->next, &first, *hi, memory_order_relaxed,
                                                  memory_order_relaxed));
  *lo = first;
  return true;
}

/* One team member: claim and run until the batch is drained or stopped.
 * Returns true when it stopped early. */
static bool run_member(ompb_batch *b, unsigned k, unsigned members) {
  struct ompb__slot *s = &b->slots[k];
  bool (*const run_range)(ompb_batch *, struct ompb__slot *, size_t, size_t) =
      b->ops->run_range;
  ompb_ctx *outer = ompb__tls_ctx;
  ompb__tls_ctx = &s->ctx;
  bool stopped = false;
  size_t lo, hi, cap = b->chunk ? MAX_CHUNK : 1;
  const double tick_ns = ompb__tick_scale();
  const int64_t ramp_ticks = (int64_t)(tick_ns > 0 ? RAMP_NS / tick_ns : RAMP_NS);
  while (!stopped && claim(b, members, b->chunk, cap, &lo, &hi)) {
    int64_t t0 = cap < MAX_CHUNK ? ompb__ticks() : 0;
    stopped = run_range(b, s, lo, hi);
    if (cap < MAX_CHUNK && hi - lo == cap && ompb__ticks() - t0 < ramp_ticks) cap *= 2;
  }
  if (!stopped) stopped = OMPB__LOAD(&b->stop) != 0;
  if (stopped) {
    atomic_store_explicit(&b->stop_seen, true, memory_order_relaxed);
    /* Claim and skip all that nobody claimed, now: the first member to
     * stop starts while the others still finish the index they are
     * running, and each joins as it stops, instead of the thread that ends
     * the team doing it alone after them (the cancel latency of
     * perf/bench_control: writing the skipped entries of a fresh result
     * array is mostly page faults, ~57 us for 7,800 entries here). In
     * chunks when there are entries or callbacks to share out; else in
     * one range, which then costs nothing however large. */
    if (b->results || b->opts.on_result) {
      while (claim(b, members, SKIP_CHUNK, SKIP_CHUNK, &lo, &hi)) ompb__skip(b, lo, hi);
    } else {
      size_t first = atomic_exchange_explicit(&b->next, b->n, memory_order_relaxed);
      if (first < b->n) ompb__skip(b, first, b->n);
    }
  }
  ompb__tls_ctx = outer;
  return stopped;
}

void ompb__help_skip(ompb_batch *b) {
  if (!b->results || b->opts.on_result) return;
  atomic_fetch_add_explicit(&b->skip_helpers, 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&b->state, memory_order_acquire) == OMPB__RUNNING) {
    size_t lo, hi;
    while (claim(b, 1, SKIP_CHUNK, SKIP_CHUNK, &lo, &hi)) ompb__skip(b, lo, hi);
  }
  atomic_fetch_sub_explicit(&b->skip_helpers, 1, memory_order_release);
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

/* The team is done: skip what was never claimed, release what only the
 * running team needed, decide how the batch ended, and hand it on to be
 * sealed. */
static void finish_team(ompb_batch *b) {
  size_t next = atomic_exchange(&b->next, b->n);
  if (next < b->n) ompb__skip(b, next, b->n);
  /* A waiter that entered ompb__help_skip before the exchange may still be
   * writing what it claimed: its chunk is bounded, so wait for it. Paired
   * with the fence there: either it sees next == n, or this sees it. */
  atomic_thread_fence(memory_order_seq_cst);
  while (atomic_load_explicit(&b->skip_helpers, memory_order_acquire)) sched_yield();
  b->t_end_ns = ompb__now_ns();
  ompb__clock_refine(b->t_end_ns);
  if (b->ops->team_done) b->ops->team_done(b);
  int64_t expect = 0;
  if (atomic_compare_exchange_strong(&b->stop, &expect, OMPB__STOP_FINISHED))
    expect = 0;
  b->final_stop = expect;
  if (b->solo) { /* nobody else can pause it (src/internal.h, solo) */
    atomic_store_explicit(&b->state, OMPB__TEAM_DONE, memory_order_relaxed);
  } else {
    pthread_mutex_lock(&b->mu);
    atomic_store(&b->state, OMPB__TEAM_DONE);
    atomic_store(&b->paused, false);
    pthread_mutex_unlock(&b->mu);
  }
  ompb__reporter_team_done(b);
}

/* The opening thread, done with its share, gives its CPU to team threads
 * that have not even started yet: after idle, a woken team thread can land
 * on the CPU where this one would spin at the region's closing barrier and
 * wait there for milliseconds (docs/design.md, "The libgomp idle stall").
 * Bounded: past YIELD_MAX_NS the barrier's own wait takes over. */
#define YIELD_MAX_NS 1000000
/* A warm team thread arrives within a microsecond or two: watch that long
 * before giving the CPU away (a sched_yield is a system call, ~1 us on a
 * VM, and in the warm case the late thread is spinning on another CPU). */
#define ARRIVE_SPIN_NS 5000
static void yield_to_late_members(_Atomic unsigned *arrived, unsigned team) {
  if (atomic_load_explicit(arrived, memory_order_relaxed) >= team) return;
  int64_t t0 = ompb__now_ns(), spin_until = t0 + ARRIVE_SPIN_NS, until = t0 + YIELD_MAX_NS;
  while (atomic_load_explicit(arrived, memory_order_relaxed) < team) {
    int64_t now = ompb__now_ns();
    if (now >= until) return;
    if (now < spin_until) {
      for (int k = 0; k < 16; k++) ompb__cpu_relax();
    } else {
      sched_yield();
    }
  }
}

/* A batch whose deadline passed while it waited in the queue starts
 * stopped: its team skips everything, whether or not the reporter has
 * looked at it yet. */
static void start_running(ompb_batch *b) {
  if (b->deadline_ns && ompb__now_ns() >= b->deadline_ns) ompb__trip(b, OMPB__STOP_DEADLINE, 0);
  if (b->solo) {
    atomic_store_explicit(&b->state, OMPB__RUNNING, memory_order_relaxed);
    return;
  }
  pthread_mutex_lock(&b->mu);
  atomic_store(&b->state, OMPB__RUNNING);
  pthread_mutex_unlock(&b->mu);
}

void ompb__run_dispatched(ompb_batch *b, bool pin) {
  start_running(b);
  unsigned members = team_size(b, b->pool->workers);
  if (members == 1 || OMPB__LOAD(&b->stop)) {
    run_member(b, 0, 1);
  } else {
    const ompb_pool *pool = b->pool;
    /* Each thread of the region is one member, with no task in between:
     * creating and running claim tasks cost more than the claims in small
     * batches (perf/bench_batch, 16-task rows), and without tasks libomp's
     * task descriptors never outlive the thread that opened the region
     * (docs/design.md, "libomp task descriptors and exiting root
     * threads"). A runtime that grants fewer threads than asked still
     * drains the batch: members claim until nothing is left. No `omp
     * cancel` here: every member is already running and sees the stop
     * flag before its next index, so a cancel would discard nothing (and
     * libomp 14 can hang in the closing cancel barrier when one member
     * cancels after another reached it: seen in the control suite). */
    _Atomic unsigned arrived = 0;
#pragma omp parallel num_threads(members)
    {
      if (pin) ompb__pin_team_thread(pool);
      unsigned team = (unsigned)omp_get_num_threads();
      atomic_fetch_add_explicit(&arrived, 1, memory_order_relaxed);
      run_member(b, (unsigned)omp_get_thread_num(), team);
      if (omp_get_thread_num() == 0) yield_to_late_members(&arrived, team);
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
