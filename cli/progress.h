/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: progress on stderr, from a batch's progress reports, in one
 * of three modes: a bar, one line redrawn, only when stderr is a terminal
 *
 *   sin  59.3% [#########.....] 9.48M/16.00M items, 47.35M items/s, ETA 0:01
 *
 * plain lines for logs, one per report (about one a second), anywhere
 *
 *   sin: 59.3% 9.48M/16.00M items, 47.35M items/s, ETA 0:01
 *
 * or nothing. The mode comes from --progress MODE / --no-progress, else from
 * the environment variable OMPB_PROGRESS (0, 1 or lines), else the bar. */
#ifndef OMPB_CLI_PROGRESS_H
#define OMPB_CLI_PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ompbatch.h"

typedef enum {
  CLI_PROGRESS_BAR = 0, /* the default */
  CLI_PROGRESS_NONE,
  CLI_PROGRESS_LINES
} cli_progress_mode;

/* The mode named s: "bar" or "1", "lines", "none" or "0". Returns true and
 * sets *m, or false. */
bool cli_progress_parse(const char *s, cli_progress_mode *m);

/* The mode a command uses: `option` is the value of --progress (NULL when
 * not given; --no-progress is "none"), else OMPB_PROGRESS, else the bar.
 * Returns EX_OK, or prints a usage error (with usage) and returns EX_USAGE
 * for a value that is no mode. */
int cli_progress_choose(const char *option, void (*usage)(FILE *f),
                        cli_progress_mode *m);

typedef struct {
  const char *label; /* first on the line: the kernel's name, "eval" */
  size_t items;      /* what the run covers: elements, or bytes */
  bool bytes;        /* items are bytes (a many-file run) */
  cli_progress_mode mode;
  bool draw;         /* something may be printed (mode, and a terminal for the bar) */
  bool drawn;        /* the bar was drawn: its line is still open */
  /* When set, the amount done is read from here (bytes of a many-file
   * run, added by its tasks), the rate and ETA from the clock; else from
   * the reports' fraction. */
  const atomic_size_t *done;
  double t0;         /* when the run started (seconds, monotonic) */
} cli_progress;

/* Progress over `items` elements (or bytes, with `bytes`) in `mode`.
 * `label` is borrowed until cli_progress_end. */
void cli_progress_init(cli_progress *bar, const char *label, size_t items,
                       bool bytes, cli_progress_mode mode);

/* The progress_throttle_ms a batch reporting to bar should use: 100 ms for
 * the bar, 1 s for lines. */
double cli_progress_throttle_ms(const cli_progress *bar);

/* The batch's on_progress callback, with the bar as `user`. Runs on the
 * pool's reporter thread, never concurrently with itself. Prints nothing
 * once a signal came (the interrupted message follows instead). */
void cli_progress_report(const ompb_progress *p, void *user);

/* End the bar's line, when something was drawn. Call after
 * ompb_batch_wait: no report comes after it. */
void cli_progress_end(cli_progress *bar);

#endif /* OMPB_CLI_PROGRESS_H */
