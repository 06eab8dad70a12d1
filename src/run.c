/* SPDX-License-Identifier: BSD-3-Clause */
/* Running a batch's team: claiming ranges of indices, handing each to the
 * kind's range runner (src/work.h), and ending the team.
 *
 * How workers take indices was decided by measurement (docs/design.md,
 * "How workers take tasks"): every team member takes indices by atomic
 * claims in adaptive chunks (from its own range first, then halves of the
 * others': see RANGE below), with the stop and pause flags checked before
 * every single index.
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

/* Where claims come from: the indices are dealt, in claim units (b->unit
 * indices each), into one contiguous range per member (its slot's `range`)
 * before the team starts. A member claims from the front of its own range,
 * a cache line that only it writes while it has work; one that ran out
 * takes the back half of the fullest other range and carries on from it.
 * A single shared claim counter cost a 16-task batch on two workers ~240
 * TSC ticks a claim, its line crossing between the cores at every claim,
 * and interleaved the members' result entries; with ranges each member
 * runs the same indices batch after batch, so its slot and its result
 * entries stay in its own cache (docs/design.md, "The caller's team"). A
 * late member's range is taken over by the others, half by half, as a
 * shared counter would have let them. */
#define RANGE(lo, hi) (((uint64_t)(lo) << 32) | (uint64_t)(hi))
#define RANGE_LO(w) ((size_t)((w) >> 32))
#define RANGE_HI(w) ((size_t)((w) & 0xffffffffu))

/* The indices of units [lo, hi). */
static void unit_span(const ompb_batch *b, size_t lo, size_t hi, size_t *ilo, size_t *ihi) {
  *ilo = lo * b->unit;
  *ihi = hi > b->n / b->unit ? b->n : hi * b->unit; /* the last unit may be short */
}

/* Deal b's indices to `members` ranges, contiguous and about equal. */
static void deal(ompb_batch *b, unsigned members) {
  size_t unit = b->chunk ? b->chunk : 1;
  size_t units = b->n / unit + (b->n % unit != 0);
  if (units > UINT32_MAX) { /* whole chunks still, and fewer than 2^32 */
    size_t grow = units / UINT32_MAX + 1;
    unit = unit > SIZE_MAX / grow ? b->n : unit * grow;
    units = b->n / unit + (b->n % unit != 0);
  }
  if (b->unit != unit) b->unit = unit; /* unchanged, no write: src/batch.c, SET */
  if (b->dealt != members) b->dealt = members;
  for (unsigned k = 0; k < members; k++) {
    uint64_t lo = (uint64_t)units * k / members, hi = (uint64_t)units * (k + 1) / members;
    OMPB__STORE(&b->slots[k].range, RANGE(lo, hi));
  }
}

/* Take up to `want` units (adaptive when 0: half of what is left, at most
 * `cap`) from the front of member v's range, as indices [lo, hi); false
 * when it is empty. *got: the units taken. */
static bool take_front(ompb_batch *b, unsigned v, size_t want, size_t cap, size_t *lo,
                       size_t *hi, size_t *got) {
  _Atomic uint64_t *r = &b->slots[v].range;
  uint64_t w = OMPB__LOAD(r);
  size_t l, c;
  do {
    l = RANGE_LO(w);
    size_t left = RANGE_HI(w) > l ? RANGE_HI(w) - l : 0;
    if (!left) return false;
    c = want;
    if (!c) {
      c = left / 2;
      c = c < 1 ? 1 : c > cap ? cap : c;
    }
    if (c > left) c = left;
  } while (!atomic_compare_exchange_weak_explicit(r, &w, RANGE(l + c, RANGE_HI(w)),
                                                  memory_order_relaxed, memory_order_relaxed));
  unit_span(b, l, l + c, lo, hi);
  *got = c;
  return true;
}

/* Member k ran out: move the back half of the fullest other range into its
 * own (empty, and only k fills it). False when every range is empty. */
static bool steal(ompb_batch *b, unsigned k) {
  for (;;) {
    unsigned victim = k;
    size_t most = 0;
    uint64_t vw = 0;
    for (unsigned v = 0; v < b->dealt; v++) {
      if (v == k) continue;
      uint64_t w = OMPB__LOAD(&b->slots[v].range);
      size_t left = RANGE_HI(w) > RANGE_LO(w) ? RANGE_HI(w) - RANGE_LO(w) : 0;
      if (left > most) {
        most = left;
        victim = v;
        vw = w;
      }
    }
    if (!most) return false;
    size_t l = RANGE_LO(vw), h = RANGE_HI(vw), mid = h - (most + 1) / 2;
    if (atomic_compare_exchange_strong_explicit(&b->slots[victim].range, &vw, RANGE(l, mid),
                                                memory_order_relaxed, memory_order_relaxed)) {
      OMPB__STORE(&b->slots[k].range, RANGE(mid, h));
      return true;
    }
  }
}

/* Member k's next claim: from its own range, else from another's. */
static bool claim(ompb_batch *b, unsigned k, size_t cap, size_t *lo, size_t *hi, size_t *got) {
  size_t want = b->chunk ? 1 : 0;
  do {
    if (take_front(b, k, want, cap, lo, hi, got)) return true;
  } while (steal(b, k));
  return false;
}

/* Claim and skip everything unclaimed, in chunks (entries or callbacks to
 * share out with other skipping threads), or each range at once. */
static void skip_unclaimed(ompb_batch *b, bool chunks) {
  size_t lo, hi, got, want = SKIP_CHUNK / b->unit ? SKIP_CHUNK / b->unit : 1;
  for (unsigned v = 0; v < b->dealt; v++) {
    if (chunks) {
      while (take_front(b, v, want, 0, &lo, &hi, &got)) ompb__skip(b, lo, hi);
    } else {
      uint64_t w = atomic_exchange_explicit(&b->slots[v].range, 0, memory_order_relaxed);
      if (RANGE_HI(w) > RANGE_LO(w)) {
        unit_span(b, RANGE_LO(w), RANGE_HI(w), &lo, &hi);
        ompb__skip(b, lo, hi);
      }
    }
  }
}

/* One team member: claim and run until the batch is drained or stopped.
 * Returns true when it stopped early. */
static bool run_member(ompb_batch *b, unsigned k) {
  struct ompb__slot *s = &b->slots[k];
  bool (*const run_range)(ompb_batch *, struct ompb__slot *, size_t, size_t) =
      b->ops->run_range;
  ompb_ctx *outer = ompb__tls_ctx;
  ompb__tls_ctx = &s->ctx;
  bool stopped = false;
  size_t lo, hi, got, cap = b->chunk ? MAX_CHUNK : 1;
  const double tick_ns = ompb__tick_scale();
  const int64_t ramp_ticks = (int64_t)(tick_ns > 0 ? RAMP_NS / tick_ns : RAMP_NS);
  while (!stopped && claim(b, k, cap, &lo, &hi, &got)) {
    int64_t t0 = cap < MAX_CHUNK ? ompb__ticks() : 0;
    stopped = run_range(b, s, lo, hi);
    if (cap < MAX_CHUNK && got == cap && ompb__ticks() - t0 < ramp_ticks) cap *= 2;
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
     * chunks when there are entries or callbacks to share out; else each
     * range at once, which then costs nothing however large. */
    skip_unclaimed(b, b->results || b->opts.on_result);
  }
  ompb__tls_ctx = outer;
  return stopped;
}

void ompb__help_skip(ompb_batch *b) {
  if (!b->results || b->opts.on_result) return;
  atomic_fetch_add_explicit(&b->skip_helpers, 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&b->state, memory_order_acquire) == OMPB__RUNNING)
    skip_unclaimed(b, true);
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
        if (run_member(b, k) && omp_get_cancellation()) {
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
static void finish_team(ompb_batch *b, bool nested) {
  /* Every member that ran left nothing unclaimed (it drained every range,
   * or swept them when it stopped): the sweep here covers members that
   * never ran, in a nested team (discarded claim tasks). A solo batch has
   * no waiter that could help skip (src/internal.h, solo). */
  if (nested || !b->solo) skip_unclaimed(b, false);
  if (!b->solo) {
    /* A waiter that entered ompb__help_skip before the sweep may still be
     * writing what it claimed: its chunk is bounded, so wait for it.
     * Paired with the fence there: either it sees every range empty, or
     * this sees it. */
    atomic_thread_fence(memory_order_seq_cst);
    while (atomic_load_explicit(&b->skip_helpers, memory_order_acquire)) sched_yield();
  }
  b->t_end_ns = ompb__now_ns();
  ompb__clock_refine(b->t_end_ns);
  if (b->ops->team_done) b->ops->team_done(b);
  if (b->solo) {
    /* Nobody else can stop it now (its members are done, and no other
     * thread has its handle) nor pause it: no CAS, no lock. */
    b->final_stop = OMPB__LOAD(&b->stop);
    atomic_store_explicit(&b->state, OMPB__TEAM_DONE, memory_order_relaxed);
  } else {
    int64_t expect = 0;
    if (atomic_compare_exchange_strong(&b->stop, &expect, OMPB__STOP_FINISHED))
      expect = 0;
    b->final_stop = expect;
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
  unsigned members = team_size(b, b->pool->workers);
  deal(b, members);
  start_running(b);
  if (members == 1 || OMPB__LOAD(&b->stop)) {
    run_member(b, 0);
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
    /* A line of its own: every member writes it, and the opening thread's
     * frame around it would otherwise be fetched back after the region. */
    struct {
      _Alignas(OMPB__CACHE_LINE) _Atomic unsigned n;
      char pad[OMPB__CACHE_LINE - sizeof(unsigned)];
    } arrived = {0};
#pragma omp parallel num_threads(members)
    {
      if (pin) ompb__pin_team_thread(pool);
      unsigned team = (unsigned)omp_get_num_threads();
      atomic_fetch_add_explicit(&arrived.n, 1, memory_order_relaxed);
      run_member(b, (unsigned)omp_get_thread_num());
      if (omp_get_thread_num() == 0) yield_to_late_members(&arrived.n, team);
    }
  }
  finish_team(b, false);
}

void ompb__run_nested(ompb_batch *b) {
  int team = omp_get_num_threads();
  unsigned members = team_size(b, team > 0 ? (unsigned)team : 1);
  deal(b, members);
  start_running(b);
  if (members == 1) run_member(b, 0);
  else spawn_members(b, members);
  finish_team(b, true);
}
