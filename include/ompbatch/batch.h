/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: batches of independent tasks with ordered results, progress,
 * cancellation, pause/resume, fail-fast and deadlines.
 *
 * Lifecycle: ompb_batch_start() validates and copies the task list and
 * returns a handle at once; the pool's dispatcher runs the batch (batches of
 * one pool run one after another, FIFO); ompb_batch_wait() hands over the
 * result; ompb_batch_free() releases the handle. ompb_exec_batch() is start
 * + wait + free in one call.
 *
 * A batch started from inside an OpenMP parallel region or from inside a
 * task of any pool (the nested path) runs at once in the caller's team, in
 * the library's own taskgroup, and never waits behind the pool's queue: no
 * deadlock for any worker count. ompb_batch_start() then returns after the
 * batch ran.
 *
 * A task function is never preempted or killed: cancel, fail-fast and
 * deadlines skip tasks that have not started and ask running ones to stop
 * (ompb_ctx_should_stop). A task that ignores the request delays the end of
 * its batch; ompb_batch_wait() returns only after every started task has
 * returned, so no work is left running behind the caller's back. */
#ifndef OMPB_BATCH_H
#define OMPB_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "ompbatch/error.h"
#include "ompbatch/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ompb_batch ompb_batch;

/* One task: exactly one of `method` (a registered name) and `fn`. */
typedef struct {
  const char *method;         /* registered name, or NULL when fn is set */
  ompb_task_fn *fn;           /* direct function, or NULL when method is set */
  void *arg;                  /* passed to the function; borrowed unless arg_free */
  void (*arg_free)(void *arg);/* ownership transfer: when set, the batch owns arg
                                 and calls arg_free(arg) exactly once, after the
                                 task ran or was skipped, before wait returns, on
                                 the thread that ran or skipped it (a thread
                                 waiting for a stopped batch may skip tasks) */
  double timeout_ms;          /* this task's deadline from its start; 0: the batch's
                                 task_timeout_ms */
} ompb_task;

/* A progress snapshot. completed = successes + failures (tasks that ran;
 * tasks skipped by a stop are not completed). Counters never go backwards. */
typedef struct {
  size_t completed, total, successes, failures;
  double percentage;             /* 0..100 (100 for an empty batch) */
  double estimated_remaining_ms; /* < 0 when unknown (nothing completed yet); 0 at the end */
  double throughput;             /* completed tasks per second since the start */
} ompb_progress;

/* An error record: code == the task's status, index == the task's index,
 * message never NULL (the task's own via ompb_ctx_fail, else
 * ompb_strerror(code)). Owned by the result. */
typedef struct {
  int code;
  size_t index;
  const char *message;
} ompb_error;

/* One task's outcome. status: 0 success, OMPB_ECANCELED skipped (or the task
 * itself returned it), any other value a failure (error is then non-NULL).
 * value: what the task stored in *out (successes only; 0 otherwise).
 * duration_ms: the task function's run time (0 for skipped tasks). */
typedef struct {
  size_t index;
  int status;
  ompb_value value;
  const ompb_error *error;
  double duration_ms;
} ompb_task_result;

/* A batch's result. results[i] is task i (NULL with discard_results;
 * count is n either way). success_count + failure_count + cancelled_count
 * == count. duration_ms: from ompb_batch_start until the last task returned.
 * cancelled: a cancel, a fail-fast trip or the batch deadline happened
 * before the batch completed; timed_out: the batch deadline was the reason.
 * all_succeeded == (failure_count == 0 && !cancelled). */
typedef struct {
  ompb_task_result *results;
  size_t count;
  size_t success_count, failure_count, cancelled_count;
  double duration_ms;
  bool all_succeeded, cancelled, timed_out;
} ompb_result;

/* Batch options; zero means default. Fill with designated initializers:
 *     ompb_batch_opts o = { .concurrency = 4, .fail_fast = true };
 * Every time is in milliseconds and must be >= 0 and not NaN. */
typedef struct {
  /* Maximum tasks running at once; 0: the pool's workers (larger values are
   * capped at the pool's workers). */
  unsigned concurrency;
  /* Stop at the first failure (a task error or a task deadline): pending
   * tasks are skipped and ompb_batch_wait returns that task's code. */
  bool fail_fast;
  /* Progress callback. Runs on the pool's reporter thread only, never
   * concurrently with itself, about every progress_throttle_ms while the
   * batch runs (never more often) and exactly once more with the final
   * counts before ompb_batch_wait returns. It may call ompb_batch_cancel,
   * _pause, _resume and _progress; it must not wait for or free a batch. */
  void (*on_progress)(const ompb_progress *p, void *user);
  /* Minimum gap between reports; 0: 50 ms; below 1 ms: 1 ms (a floor, as
   * tqdm's mininterval: the reporter never busy-loops). The final report is
   * always sent. */
  double progress_throttle_ms;
  /* Default deadline of each task from its start (0: none), and deadline of
   * the whole batch from ompb_batch_start, queue time included (0: none).
   * Any positive time is a deadline, however small (at least 1 ns); task
   * deadlines below 1 ms are enforced within about 1 ms of their time.
   * Deadlines keep counting while the batch is paused. */
  double task_timeout_ms, batch_timeout_ms;
  /* Streaming: called once per task, right after its result is final, on
   * the worker that ran it (or on the thread that skipped it). `r` and
   * r->error are valid during the call only. May run concurrently with
   * itself on different workers. */
  void (*on_result)(const ompb_task_result *r, void *user);
  /* Keep no per-task results (memory O(workers)): the result has counts
   * only and results == NULL. Values are passed to on_result and then to
   * result_free. */
  bool discard_results;
  /* Frees values the batch drops itself: a value returned after its task's
   * deadline, and every value after on_result when discard_results is set.
   * Values kept in a result belong to the caller. */
  void (*result_free)(ompb_value v, void *user);
  /* Passed to every callback, and to tasks through ompb_ctx_user(). */
  void *user;
} ompb_batch_opts;

/* Start a batch of `n` tasks. The task list is copied (method names are
 * resolved here, once); `opts` (NULL: defaults) is copied too. Each task's
 * `arg` is borrowed until its task ran, unless arg_free transfers it.
 * Returns OMPB_OK and sets *out to a handle to wait on and free.
 * OMPB_EINVAL: NULL pool or out, NULL tasks with n > 0, a task with neither
 * or both of method and fn, a negative or NaN time. OMPB_ENOMEM (n too
 * large included). OMPB_ESTATE: called from the pool's reporter thread (an
 * on_progress callback). On any failure nothing runs, no callback and no
 * arg_free is called, and *out is NULL. n == 0 is valid: an empty,
 * successful batch. An unknown method name fails only its own task, with
 * OMPB_ENOMETHOD.
 * Thread-safety: any (several threads may start batches on one pool at
 * once), including from inside a task (the nested path). */
OMPB_EXTERN int ompb_batch_start(ompb_pool *pool, const ompb_task *tasks,
                                 size_t n, const ompb_batch_opts *opts,
                                 ompb_batch **out);

/* Wait until every task returned and the final progress report was sent,
 * then hand over the result (*out; free it with ompb_result_free).
 * Returns OMPB_OK when the batch completed or was cancelled by
 * ompb_batch_cancel (see result->cancelled); the first failure's code when
 * fail_fast tripped; OMPB_ETIMEDOUT when the batch deadline passed. *out is
 * filled in all three cases. OMPB_ESTATE (*out NULL): the result was
 * already handed to an earlier wait, or the call comes from a task or
 * callback of this same batch (it would deadlock). OMPB_EINVAL: NULL b or
 * out. OMPB_ENOMEM: the result could not be assembled (*out NULL; values
 * were passed to result_free).
 * Thread-safety: any; when several threads wait, one gets the result and
 * the others OMPB_ESTATE once the batch has finished. */
OMPB_EXTERN int ompb_batch_wait(ompb_batch *b, ompb_result **out);

/* Cancel: tasks not yet started are skipped (OMPB_ECANCELED), running tasks
 * see ompb_ctx_should_stop(), tasks that complete keep their values.
 * Idempotent; does nothing on a finished batch. Returns OMPB_OK, or
 * OMPB_EINVAL for NULL.
 * Thread-safety: async (any thread, tasks and callbacks included). */
OMPB_EXTERN int ompb_batch_cancel(ompb_batch *b);

/* Pause: no task starts until ompb_batch_resume (checked when each task
 * starts; a task that already passed that check when pause is called, at
 * most one per worker, still runs). Running tasks finish, the reporter
 * keeps reporting, deadlines keep counting, cancel still ends the batch.
 * Idempotent; does nothing on a finished batch. OMPB_OK or OMPB_EINVAL.
 * Thread-safety: async. */
OMPB_EXTERN int ompb_batch_pause(ompb_batch *b);

/* Resume a paused batch. Idempotent (resume without pause is OMPB_OK).
 * Thread-safety: async. */
OMPB_EXTERN int ompb_batch_resume(ompb_batch *b);

/* True while paused (false for NULL and for a finished batch).
 * Thread-safety: async. */
OMPB_EXTERN bool ompb_batch_is_paused(const ompb_batch *b);

/* A progress snapshot, at any time (the final counts once finished).
 * Returns OMPB_OK, or OMPB_EINVAL for NULL b or out.
 * Thread-safety: async. */
OMPB_EXTERN int ompb_batch_progress(const ompb_batch *b, ompb_progress *out);

/* Free a handle. On a batch still running it cancels and waits first (so no
 * task of it is left running); a result never handed to a waiter is freed
 * (its values go to result_free when set). NULL is a no-op. Must not be
 * called from a task or callback of the same batch, nor twice.
 * Thread-safety: any, once no other thread uses the handle. */
OMPB_EXTERN void ompb_batch_free(ompb_batch *b);

/* ompb_batch_start + ompb_batch_wait + ompb_batch_free. Same codes; *out is
 * filled whenever ompb_batch_wait would fill it.
 * Thread-safety: any, including from inside a task (the nested path). */
OMPB_EXTERN int ompb_exec_batch(ompb_pool *pool, const ompb_task *tasks,
                                size_t n, const ompb_batch_opts *opts,
                                ompb_result **out);

/* Copy up to `cap` successful values (in task order) to `out` (may be NULL
 * when cap is 0) and return how many there are, like snprintf. 0 for NULL r
 * or a result without per-task results.
 * Thread-safety: any (the result is read-only). */
OMPB_EXTERN size_t ompb_result_successes(const ompb_result *r, ompb_value *out,
                                         size_t cap);

/* Copy up to `cap` error pointers of failed tasks (in task order; owned by
 * the result) and return how many failures there are.
 * Thread-safety: any. */
OMPB_EXTERN size_t ompb_result_failures(const ompb_result *r,
                                        const ompb_error **out, size_t cap);

/* Free a result and its error messages (not the values: they are the
 * caller's). NULL is a no-op.
 * Thread-safety: owner of the result. */
OMPB_EXTERN void ompb_result_free(ompb_result *r);

#ifdef __cplusplus
}
#endif
#endif /* OMPB_BATCH_H */
