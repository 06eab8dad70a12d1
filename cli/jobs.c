/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: many-file runs (see jobs.h). */
#include "jobs.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signals.h"

int cli_jobs_run(ompb_pool *pool, ompb_task_fn *fn, void *const *args, size_t n,
                 unsigned jobs, bool fail_fast, cli_progress *bar,
                 cli_jobs_outcome *o) {
  *o = (cli_jobs_outcome){0};
  ompb_task *tasks = calloc(n ? n : 1, sizeof *tasks);
  if (!tasks) {
    cli_error("out of memory");
    return EX_FAIL;
  }
  for (size_t i = 0; i < n; i++)
    tasks[i] = (ompb_task){.fn = fn, .arg = args[i]};
  ompb_batch_opts bo = {.concurrency = jobs, .fail_fast = fail_fast,
                        .on_progress = cli_progress_report,
                        .progress_throttle_ms = cli_progress_throttle_ms(bar),
                        .user = bar};
  ompb_batch *b = NULL;
  int rc = ompb_batch_start(pool, tasks, n, &bo, &b);
  free(tasks); /* the batch copied the list */
  if (rc != OMPB_OK) {
    cli_error("cannot start the batch: %s", ompb_strerror(rc));
    return EX_FAIL;
  }
  /* Each task checks its own inputs: a shrunk file fails that file only. */
  int crc = cli_signals_watch_signals(b);
  ompb_result *res = NULL;
  int wrc = ompb_batch_wait(b, &res);
  int err = cli_signals_stop();
  if (err == 0)
    ompb_batch_free(b); /* else the watcher may still use it: left to the exit */
  cli_progress_end(bar);
  o->interrupted = cli_signals_caught() != 0;
  if (err != 0 || crc != OMPB_OK || !res || !res->results) {
    if (err != 0)
      cli_error("cannot stop the signal watcher: %s", strerror(err));
    else if (crc != OMPB_OK)
      cli_error("cannot cancel the batch: %s", ompb_strerror(crc));
    else
      cli_error("the batch failed: %s", ompb_strerror(wrc));
    ompb_result_free(res);
    return EX_FAIL;
  }
  for (size_t i = 0; i < n; i++) {
    int st = res->results[i].status;
    if (st == 0)
      o->ok++;
    else if (st == OMPB_ECANCELED)
      o->cancelled++;
    else
      o->failed++;
  }
  ompb_result_free(res);
  return EX_OK;
}

int cli_jobs_exit_code(const cli_jobs_outcome *o, size_t n, const char *what) {
  if (o->interrupted) {
    cli_error("interrupted; %zu of %zu outputs were not written", n - o->ok, n);
    return EX_INTERRUPTED;
  }
  if (o->failed || o->cancelled) {
    if (o->cancelled)
      cli_error("%zu of %zu %s failed, %zu not run (--fail-fast)", o->failed, n,
                what, o->cancelled);
    else
      cli_error("%zu of %zu %s failed", o->failed, n, what);
    return EX_FAIL;
  }
  return EX_OK;
}
