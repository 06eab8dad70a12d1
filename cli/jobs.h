/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: a many-file run (map or eval with --out-dir): one task per
 * file (or set of files) in one batch on a pool, at most `jobs` at once,
 * one progress display over the bytes of all inputs, Ctrl-C cancelling the
 * batch. Each task writes and commits its own output (temporary file +
 * rename) and reports its own errors by file name; a failed task does not
 * stop the others unless fail_fast. */
#ifndef OMPB_CLI_JOBS_H
#define OMPB_CLI_JOBS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ompbatch.h"
#include "progress.h"

/* Elements a task handles between two checks of cancel and of its inputs,
 * and between two progress updates. */
#define CLI_JOBS_STEP ((size_t)1 << 16)

typedef struct {
  size_t ok, failed, cancelled; /* tasks, by outcome */
  bool interrupted;             /* a signal came */
} cli_jobs_outcome;

/* Run fn over args[0..n) as one batch on pool (concurrency `jobs`, 0: the
 * pool's workers; fail_fast as in ompb_batch_opts; bar is shown over its
 * items, which the tasks add to through bar->done), then wait for it. A
 * task returns 0, OMPB_ECANCELED when it stopped for a cancel, or an exit
 * code (> 0) after printing why. Returns EX_OK with *o filled (whatever the
 * tasks did), or EX_FAIL after a message when the batch could not run. */
int cli_jobs_run(ompb_pool *pool, ompb_task_fn *fn, void *const *args, size_t n,
                 unsigned jobs, bool fail_fast, cli_progress *bar,
                 cli_jobs_outcome *o);

/* The exit code of a finished many-file run, after a summary line when
 * anything failed or was not written ("2 of 5 files failed"). `what` names
 * the unit ("files", "sets"). */
int cli_jobs_exit_code(const cli_jobs_outcome *o, size_t n, const char *what);

#endif /* OMPB_CLI_JOBS_H */
