/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch internals: the pool and the batch as the engine sees them. Shared
 * by the files of src/ (never by kernels/), never installed.
 *
 * Who calls whom (calls go one way; no two files call each other):
 *   work_tasks.c, work_map.c, work_kernel.c   a kind of work and its entry
 *       points: the work interface (work.h) over batch.c's handles
 *   batch.c    handles: allocate, launch, wait, control, free
 *   pool.c     the pool, its dispatcher thread and registry -> run.c
 *   run.c      a batch's team: claim, run the kind's ranges, end the team
 *   reporter.c the reporter thread: progress, deadlines, the seal
 *   work.c     what every kind shares when it runs (errors, skip, pause)
 *   result.c   the one builder and the one destructor of a result
 *   pin.c, runtime.c, clock.c, alloc.c, registry.c, error.c, version.c:
 *   leaves. */
#ifndef OMPB_INTERNAL_H
#define OMPB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "alloc.h"
#include "ompbatch.h"
#include "registry.h"

#define OMPB__CACHE_LINE 64
#define OMPB__MAX_WORKERS 4096u
#define OMPB__MSG_MAX 256

/* A polite busy-wait step. */
static inline void ompb__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- time ---- */
static inline int64_t ompb__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
/* The task clock (src/clock.c): ompb__ticks() counts at a constant rate,
 * ompb__tick_ns nanoseconds a tick; the TSC where it is invariant, else the
 * monotonic clock in ns. ompb__clock_init (every pool's creation) chooses
 * and calibrates once; ompb__clock_refine(now), called as teams end,
 * recalibrates over ever longer spans (at doubling intervals: almost
 * always one load and a compare). For durations only: deadlines compare
 * with ompb__now_ns. */
extern bool ompb__tsc;
extern _Atomic double ompb__tick_ns;
void ompb__clock_init(void);
void ompb__clock_refine(int64_t now_ns);
static inline int64_t ompb__ticks(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_expect(ompb__tsc, 1)) return (int64_t)__builtin_ia32_rdtsc();
#endif
  return ompb__now_ns();
}
/* The current ns per tick, read once per range of tasks; a tick count as
 * ns with it (a negative one, from TSCs of two cores that disagree, as 0). */
static inline double ompb__tick_scale(void) {
  return atomic_load_explicit(&ompb__tick_ns, memory_order_relaxed);
}
static inline int64_t ompb__ticks_to_ns(int64_t d, double tick_ns) {
  return d > 0 ? (int64_t)((double)d * tick_ns) : 0;
}
/* Milliseconds (>= 0, not NaN: validated) to nanoseconds, saturating; a
 * positive time is at least 1 ns, since 0 means "none". */
static inline int64_t ompb__ms_to_ns(double ms) {
  if (ms >= 9.2e12) return INT64_MAX;
  int64_t ns = (int64_t)(ms * 1e6);
  return ns == 0 && ms > 0 ? 1 : ns;
}
static inline bool ompb__bad_ms(double ms) { return !(ms >= 0.0); }
/* Instant `t` plus a duration `d` >= 0, saturating: huge or infinite times
 * (valid: they mean "never") must not wrap into the past. */
static inline int64_t ompb__after(int64_t t, int64_t d) {
  return d > INT64_MAX - t ? INT64_MAX : t + d;
}

/* ---- batches ---- */

/* Batch life: QUEUED -> RUNNING -> TEAM_DONE (every task returned or was
 * skipped) -> SEALED (final report sent, result built, waiters woken). */
enum ompb__state { OMPB__QUEUED, OMPB__RUNNING, OMPB__TEAM_DONE, OMPB__SEALED };

/* Stop word: 0 while nothing asked the batch to stop; otherwise the reason
 * in the low 8 bits and the code (fail-fast) above them. FINISHED is set by
 * the thread that ends the team when no stop came first, so a later cancel
 * does nothing. One CAS decides, so the reason and its code never tear. */
enum { OMPB__STOP_CANCEL = 1, OMPB__STOP_FAILFAST, OMPB__STOP_DEADLINE,
       OMPB__STOP_FINISHED };

struct ompb_ctx {
  ompb_batch *b;
  struct ompb__slot *s;
  size_t index;
};

/* The header of every heap allocation holding error records of a result
 * (one record, or the block of records built at seal): a result frees its
 * records by walking this list, never by telling pointers apart. */
struct ompb__errnode {
  struct ompb__errnode *next;
};

/* One per claim task (a team member) plus one for the reporter. Cache-line
 * aligned so that counters written by one thread never share a line. */
struct ompb__slot {
  /* The member's unclaimed claim units [lo, hi), packed lo << 32 | hi
   * (src/run.c): dealt before the team starts, claimed from the front by
   * the owner, halved from the back by members that ran out, emptied by a
   * stop's sweep. Changed only by CAS or exchange. */
  _Alignas(OMPB__CACHE_LINE) _Atomic uint64_t range;
  /* With task deadlines only: (index + 1) << 1 of the running task, bit 0
   * set by the reporter when it timed the task out; 0 when idle. The owner
   * publishes it (release) after deadline_ns and retracts it with an
   * exchange; the reporter sets bit 0 with a CAS, so exactly one of them
   * counts the task. */
  _Atomic uint64_t cur;
  _Atomic int64_t deadline_ns;
  /* The line above is what other members read when they look for work;
   * what the owner writes at every index, and the seal reads, starts a
   * line of its own. */
  /* Tasks that ran and succeeded / failed. Written only by the slot's owner
   * (relaxed load + store), read by the reporter and progress snapshots. */
  _Alignas(OMPB__CACHE_LINE) _Atomic size_t ok;
  _Atomic size_t failed;
  /* Error records this member allocated, handed to the result at seal.
   * Written only by the slot's owner while the team runs. */
  struct ompb__errnode *errs;
  ompb_ctx ctx;
  bool has_msg;
  char msg[OMPB__MSG_MAX];
};

/* The result as allocated: the public part, then the per-task array. Built
 * and freed only by src/result.c. */
struct ompb__result {
  ompb_result pub;
  struct ompb__errnode *errs; /* every allocation holding error records */
};

struct ompb__work_ops; /* a kind of work: src/work.h */

struct ompb_batch {
  /* What the team's members read, and the batch's start writes: on the
   * first lines, apart from what the thread that ends the team writes
   * (below), so that ending one batch does not take these lines from the
   * members' caches. The handle is cache-line aligned (src/batch.c). */
  const struct ompb__work_ops *ops; /* the kind of work */
  void *work;           /* the kind's own state, in the batch's allocation */
  size_t n;             /* indices: tasks, items or chunks */
  size_t chunk;         /* claim granularity; 0 adaptive */
  ompb_task_result *results; /* res's array; NULL with discard_results */
  struct ompb__slot *slots; /* in the batch's allocation, after the kind's state */
  /* How the indices were dealt to the members' ranges (slots[k].range,
   * src/run.c): `unit` indices a claim unit (b->chunk, or 1 when adaptive;
   * more only past 2^32 - 1 units), to `dealt` members. Written before
   * the team starts. */
  size_t unit;
  unsigned dealt;
  atomic_bool paused;         /* read before each task start; set under mu */
  _Atomic int64_t stop;       /* see OMPB__STOP_* */
  int64_t task_timeout_ns; /* batch default per index, 0: none */
  int64_t min_timeout_ns;  /* smallest deadline in effect, 0: no deadlines */
  ompb_batch_opts opts; /* copy; throttle resolved */
  unsigned nslots;      /* most team members; slots[nslots] is the reporter's */
  ompb_pool *pool;

  /* The rest: the start, the end and the seal, control and lists. */
  _Alignas(OMPB__CACHE_LINE) void *block; /* the allocation holding the batch */
  size_t block_bytes; /* from the handle on, for its reuse (pool->spare) */
  int64_t t_start_ns, t_end_ns, deadline_ns; /* deadline 0: none */
  struct ompb__result *res;  /* NULL once taken by a waiter or dropped */
  int64_t final_stop;         /* stop word as the team ended */
  /* A member saw the stop before it left the team: the stop came before
   * the batch completed, whether or not anything was left to skip. */
  atomic_bool stop_seen;
  /* Waiting threads inside ompb__help_skip: the team's end waits for 0. */
  _Atomic unsigned skip_helpers;
  _Atomic size_t lost_errors; /* failed tasks whose error record could not be allocated */

  /* mu protects state, taken and the paused transitions; cv signals state
   * changes, resume and stop to waiters and paused workers. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  _Atomic int state;
  bool taken;
  int rc;
  /* A synchronous call's batch that runs and is sealed on the calling
   * thread with no reporter: no other thread ever holds its handle (the
   * caller has none to give; tasks see only their ompb_ctx), so nobody can
   * pause it or sleep on cv, and its state changes need no lock. Set
   * before it runs, by ompb__launch. */
  bool solo;

  ompb_batch *qnext; /* pool queue (pool->qmu) */
  /* reporter list (pool->rep.mu) */
  ompb_batch *rprev, *rnext;
  bool in_reporter, team_done;
  int64_t next_report_ns;
};

/* Ask batch b to stop for `reason` (OMPB__STOP_*) with `code`; true when
 * this call decided the stop (the first one wins). Wakes members parked by
 * a pause so they see it. Thread-safety: any. */
static inline bool ompb__trip(ompb_batch *b, int reason, int code) {
  int64_t expect = 0;
  int64_t word = (int64_t)reason | ((int64_t)code * 256);
  if (!atomic_compare_exchange_strong(&b->stop, &expect, word)) return false;
  pthread_mutex_lock(&b->mu);
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  return true;
}

/* ---- the pool ---- */

/* The reporter's part of a pool (src/reporter.c owns every field). */
struct ompb__reporter {
  /* mu protects the list, each listed batch's team_done and
   * next_report_ns, gen and quit; cv wakes the reporter. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  ompb_batch *head, *tail;
  unsigned gen; /* bumped on every add and team end: no lost wake-ups */
  bool quit;
  pthread_t thread;
};

struct ompb_pool {
  unsigned workers;
  bool pin;
  unsigned ncpus;
  int *cpus; /* CPUs the team threads are pinned to, when pin */

  /* reg_mu serialises registration and the first start: after `started`
   * turns true the registry is read-only and read without locks. */
  pthread_mutex_t reg_mu;
  ompb__registry reg;
  atomic_bool started;

  /* qmu protects the FIFO queue; qcv wakes the dispatcher. busy: a batch
   * of this pool is running (on the dispatcher or on a caller); no other
   * starts until it ends; taken by CAS, so that a synchronous caller that
   * finds the pool idle needs no lock (src/pool.c). queued: the queue's
   * length, and quit, written under qmu, readable without it. */
  pthread_mutex_t qmu;
  pthread_cond_t qcv;
  ompb_batch *qhead, *qtail;
  atomic_bool busy;
  _Atomic size_t queued;
  atomic_bool quit;
  pthread_t dispatcher;

  struct ompb__reporter rep;

  /* The block of the last solo batch (src/internal.h, ompb_batch.solo),
   * kept for the next batch instead of freed: its lines are still in the
   * caches of the threads that used them (src/batch.c). Its lock and
   * condition variable are destroyed; NULL when none. */
  _Atomic(ompb_batch *) spare;
};

/* src/runtime.c: the OpenMP runtime */
/* OMPB_OK when at most one OpenMP runtime is loaded in the process; else
 * a message on stderr naming them, and OMPB_ENOTSUP. */
int ompb__check_runtimes(void);

/* src/pin.c: where team threads run */
/* Decide whether pool's team threads are pinned (sets pool->pin, cpus,
 * ncpus). OMPB_OK or OMPB_ENOMEM. */
int ompb__pin_plan(ompb_pool *pool, bool no_pin);
/* Pin the calling team thread once per pool, when the pool pins. */
void ompb__pin_team_thread(const ompb_pool *pool);

/* src/run.c: a batch's team */
/* The task or item this thread is running (NULL outside); also how a batch
 * started from inside one knows to take the nested path. */
extern _Thread_local ompb_ctx *ompb__tls_ctx;
/* Run b in one parallel region opened by the calling thread (the
 * dispatcher, or a caller outside any region; `pin`: the dispatcher's own
 * team may be pinned), or in the calling thread's current team (nested:
 * from inside a task or a parallel region). Both end with
 * ompb__reporter_team_done. */
void ompb__run_dispatched(ompb_batch *b, bool pin);
void ompb__run_nested(ompb_batch *b);
/* A thread waiting for stopped batch b, outside its team, claims and skips
 * unclaimed indices beside the team's members (the team's end waits for
 * it). Does nothing when the batch is not running or has an on_result
 * callback (results are never streamed from a waiting thread; the skipped
 * tasks' arg_free does run on it, as include/ompbatch/batch.h allows). */
void ompb__help_skip(ompb_batch *b);

/* src/reporter.c: progress, deadlines, the seal */
/* Which pool's reporter this thread is (NULL elsewhere). */
extern _Thread_local const ompb_pool *ompb__tls_reporter;
/* Start / stop pool's reporter thread. Start returns OMPB_OK or
 * OMPB_EAGAIN; stop waits until every listed batch is sealed. */
int ompb__reporter_start(ompb_pool *pool);
void ompb__reporter_stop(ompb_pool *pool);
/* List b for reports and deadlines (before it runs). */
void ompb__reporter_add(ompb_pool *pool, ompb_batch *b);
/* b's team is done: the reporter seals a listed batch, the caller's
 * thread seals any other right here. */
void ompb__reporter_team_done(ompb_batch *b);
void ompb__snapshot(const ompb_batch *b, ompb_progress *p, bool final);

/* src/batch.c */
/* The shared start of every kind: validate opts, refuse a start from the
 * pool's reporter thread (OMPB_ESTATE), allocate the handle with the kind's
 * state (work_size bytes, zeroed, at b->work) and the result. */
int ompb__batch_new(ompb_pool *pool, const struct ompb__work_ops *ops, size_t n,
                    const ompb_batch_opts *opts, size_t work_size, ompb_batch **out);
/* Free a handle whose start failed (nothing ran). */
void ompb__batch_discard(ompb_batch *b);
/* Hand b to the reporter if it needs one, then run it: nested, or on the
 * calling thread (`sync`: the caller waits for it next, see
 * ompb__run_here), or queue it. */
int ompb__launch(ompb_batch *b, bool sync, ompb_batch **out);
/* The synchronous calls: start's code, then wait and free. */
int ompb__wait_and_free(int start_rc, ompb_batch *b, ompb_result **out);

/* src/pool.c */
void ompb__enqueue(ompb_pool *pool, ompb_batch *b);
/* Run b (not queued) on the calling thread now when the pool is idle:
 * nothing running, nothing queued. False, doing nothing, otherwise. */
bool ompb__run_here(ompb_pool *pool, ompb_batch *b);
void ompb__freeze_registry(ompb_pool *pool);

/* src/result.c: the one builder and the one destructor of a result */
/* A result for n indices, with the per-index array unless !keep; NULL when
 * out of memory (or n too large to allocate). */
struct ompb__result *ompb__result_new(size_t n, bool keep);
/* A heap error record (message copied, or ompb_strerror's when msg is
 * NULL), listed on *list for the result to free; NULL when out of memory. */
ompb_error *ompb__error_new(struct ompb__errnode **list, int code, size_t index,
                            const char *msg);
/* Move the records of *list into res (at seal). */
void ompb__result_adopt(struct ompb__result *res, struct ompb__errnode **list);
/* Give the `lost` failed entries of b's result that have no record (their
 * allocation failed) one from a single block. OMPB_OK or OMPB_ENOMEM. */
int ompb__result_fill_lost(ompb_batch *b, size_t lost);
/* Free res and its records. With `drop` (a batch whose result nobody takes,
 * every entry written), values of succeeded entries go to result_free
 * first, for kinds that have values. */
void ompb__result_destroy(struct ompb__result *res, const ompb_batch *drop);

#endif /* OMPB_INTERNAL_H */
