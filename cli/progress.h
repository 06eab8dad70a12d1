/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the progress bar, one line on stderr redrawn from a batch's
 * progress reports, only when stderr is a terminal:
 *
 *   sin  59.3% [#########.....] 9.48M/16.00M items, 47.35M items/s, ETA 0:01
 */
#ifndef OMPB_CLI_PROGRESS_H
#define OMPB_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "ompbatch.h"

typedef struct {
  const char *label; /* first on the line: the kernel's name */
  size_t items;      /* elements the batch covers: reports count work items */
  bool draw;         /* stderr is a terminal and drawing was asked for */
  bool drawn;        /* something was drawn: the line is still open */
} cli_progress;

/* A bar for `items` elements; it draws only when `enabled` and stderr is a
 * terminal. `label` is borrowed until cli_progress_end. */
void cli_progress_init(cli_progress *bar, const char *label, size_t items,
                       bool enabled);

/* The batch's on_progress callback, with the bar as `user`. Runs on the
 * pool's reporter thread, never concurrently with itself. Draws nothing once
 * a signal came (the interrupted message follows instead). */
void cli_progress_report(const ompb_progress *p, void *user);

/* End the bar's line, when something was drawn. Call after
 * ompb_batch_wait: no report comes after it. */
void cli_progress_end(cli_progress *bar);

#endif /* OMPB_CLI_PROGRESS_H */
