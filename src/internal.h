/* ompbatch internals: shared by src/ and kernels/, never installed. */
#ifndef OMPB_INTERNAL_H
#define OMPB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ompbatch.h"
#include "alloc.h"
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
/* Milliseconds (>= 0, not NaN: validated) to nanoseconds, saturating. */
static inline int64_t ompb__ms_to_ns(double ms) {
  return ms >= 9.2e12 ? INT64_MAX : (int64_t)(ms * 1e6);
}
static inline bool ompb__bad_ms(double ms) { return !(ms >= 0.0); }
/* Instant `t` plus a duration `d` >= 0, saturating: huge or infinite times
 * (valid: they mean "never") must not wrap into the past. */
static inline int64_t ompb__after(int64_t t, int64_t d) {
  return d > INT64_MAX - t ? INT64_MAX : t + d;
}

/* ---- batches ---- */

/* A kernel of either precision; exactly one member is set. */
typedef struct {
  ompb_kernel_f32 *f32;
  ompb_kernel_f64 *f64;
} ompb__kernel;


enum ompb__kind { OMPB__TASKS, OMPB__MAP, OMPB__KERNEL };

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

/* One per claim task (a team member) plus one for the reporter. Cache-line
 * aligned so that counters written by one thread never share a line. */
struct ompb__slot {
  /* Tasks that ran and succeeded / failed. Written only by the slot's owner
   * (relaxed load + store), read by the reporter and progress snapshots. */
  _Alignas(OMPB__CACHE_LINE) _Atomic size_t ok;
  _Atomic size_t failed;
  /* With task deadlines only: (index + 1) << 1 of the running task, bit 0
   * set by the reporter when it timed the task out; 0 when idle. The owner
   * publishes it (release) after deadline_ns and retracts it with an
   * exchange; the reporter sets bit 0 with a CAS, so exactly one of them
   * counts the task. */
  _Atomic uint64_t cur;
  _Atomic int64_t deadline_ns;
  ompb_ctx ctx;
  bool has_msg;
  char msg[OMPB__MSG_MAX];
};

struct ompb__task {
  ompb_task_fn *fn; /* NULL: unknown method */
  void *arg;
};

struct ompb__unknown {
  size_t index;
  char *name;
};

/* The result as allocated: the public part, then the per-task array. */
struct ompb__result {
  ompb_result pub;
  ompb_error *lost; /* error records built at seal for failed allocations */
  size_t nlost;     /* how many records `lost` holds */
};

struct ompb_batch {
  ompb_pool *pool;
  enum ompb__kind kind;
  size_t n;             /* tasks, items or chunks */
  ompb_batch_opts opts; /* copy; throttle resolved */
  size_t chunk;         /* claim granularity; 0 adaptive */
  unsigned nslots;      /* most team members; slots[nslots] is the reporter's */

  /* tasks: copied and resolved at start, freed when the team is done */
  struct ompb__task *tasks;
  void (**arg_free)(void *); /* NULL when no task transfers its arg */
  int64_t *timeout_ns;       /* per-task deadlines; NULL when none is set */
  int64_t task_timeout_ns;   /* batch default, 0: none */
  int64_t min_timeout_ns;    /* smallest deadline in effect, 0: no deadlines */
  struct ompb__unknown *unknown;
  size_t n_unknown;

  /* map */
  const char *items;
  char *outs;
  size_t item_size, out_size;
  ompb_map_fn *map_fn;
  /* kernel */
  ompb__kernel kfn;
  const void *kparams;
  size_t elems, elem_size, kchunk;

  int64_t t_start_ns, t_end_ns, deadline_ns; /* deadline 0: none */
  struct ompb__result *res;
  ompb_task_result *results; /* NULL with discard_results */
  void *slots_mem;
  struct ompb__slot *slots;

  /* next is written by every claim, stop and paused are read before every
   * task: 64 bytes apart, a claim does not evict the line that the gate
   * reads from the other members' caches (the batch is only malloc-aligned,
   * hence padding rather than _Alignas). */
  char pad_before_next_[64];
  _Atomic size_t next;        /* claim counter (may pass n) */
  char pad_after_next_[64];
  _Atomic int64_t stop;       /* see OMPB__STOP_* */
  int64_t final_stop;         /* stop word as the team ended */
  atomic_bool paused;         /* read before each task start; set under mu */
  _Atomic size_t lost_errors; /* failed tasks whose error record could not be allocated */

  /* mu protects state, taken and the paused transitions; cv signals state
   * changes, resume and stop to waiters and paused workers. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  _Atomic int state;
  bool taken;
  int rc;

  ompb_batch *qnext; /* pool queue (pool->qmu) */
  /* reporter list (pool->rmu) */
  ompb_batch *rprev, *rnext;
  bool in_reporter, team_done;
  int64_t next_report_ns;
};

/* ---- the pool ---- */
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

  /* qmu protects the FIFO queue and quit; qcv wakes the dispatcher. */
  pthread_mutex_t qmu;
  pthread_cond_t qcv;
  ompb_batch *qhead, *qtail;
  bool quit;
  pthread_t dispatcher;

  /* rmu protects the reporter list, each listed batch's team_done and
   * next_report_ns, rgen and rquit; rcv wakes the reporter. */
  pthread_mutex_t rmu;
  pthread_cond_t rcv;
  ompb_batch *rhead, *rtail;
  unsigned rgen; /* bumped on every add and team end: no lost wake-ups */
  bool rquit;
  pthread_t reporter;
};

/* src/run.c: executing a batch */
extern _Thread_local ompb_ctx *ompb__tls_ctx;
extern _Thread_local const ompb_pool *ompb__tls_reporter;
void ompb__run_dispatched(ompb_batch *b);
void ompb__run_nested(ompb_batch *b);
void ompb__seal(ompb_batch *b);
void ompb__snapshot(const ompb_batch *b, ompb_progress *p, bool final);
bool ompb__trip(ompb_batch *b, int reason, int code);
/* Reporter duties for one listed batch at time `now`: the batch deadline
 * and task deadlines. Lowers *wake to the next instant needing attention. */
void ompb__enforce_deadlines(ompb_batch *b, int64_t now, int64_t *wake);

/* src/batch.c */
int ompb__batch_alloc(ompb_pool *pool, enum ompb__kind kind, size_t n,
                      const ompb_batch_opts *opts, ompb_batch **out);
void ompb__batch_destroy(ompb_batch *b);
int ompb__launch(ompb_batch *b, ompb_batch **out);
int ompb__check_opts(const ompb_batch_opts *opts);

/* src/pool.c */
void ompb__pin_team_thread(const ompb_pool *pool);
void ompb__reporter_add(ompb_pool *pool, ompb_batch *b);
void ompb__reporter_team_done(ompb_pool *pool, ompb_batch *b);
void ompb__enqueue(ompb_pool *pool, ompb_batch *b);
void ompb__freeze_registry(ompb_pool *pool);

/* src/result.c */
void ompb__result_drop(ompb_batch *b);

/* ---- kernel batches (used by kernels/pool_map.c) ---- */


/* Start a batch that runs `k` over n elements (float for k.f32, double for
 * k.f64), in chunks of opts->chunk_size elements (0: 16384), one task and one
 * result entry per chunk; a failed or timed-out chunk's error->index is its
 * first element. Validation and codes as ompb_map_start (in/out may not be
 * NULL when n > 0; exactly one of k.f32 and k.f64). The kernel is called as
 * k(in + lo, out + lo, hi - lo, params). Thread-safety: any. */
int ompb__kernel_start(ompb_pool *pool, const void *in, void *out, size_t n,
                       ompb__kernel k, const void *params,
                       const ompb_map_opts *opts, ompb_batch **out_batch);

#endif /* OMPB_INTERNAL_H */
