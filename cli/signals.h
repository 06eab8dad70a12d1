/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: Ctrl-C. SIGINT and SIGTERM cancel the running batch at once
 * and are remembered, so that the command can leave no output behind.
 *
 * Use: cli_signals_start() before creating anything a signal must undo;
 * cli_signals_watch(b) once the batch runs; cli_signals_stop() after
 * ompb_batch_wait() and before ompb_batch_free(); cli_signals_caught()
 * before committing the output. */
#ifndef OMPB_CLI_SIGNALS_H
#define OMPB_CLI_SIGNALS_H

#include "ompbatch.h"

/* Install the handlers and start the watcher thread (once per process).
 * Returns 0, or an errno value with nothing installed and nothing left
 * running. */
int cli_signals_start(void);

/* Cancel b on the next signal, and now when one already came. Returns the
 * code of ompb_batch_cancel (OMPB_OK) when it cancelled, else OMPB_OK. */
int cli_signals_watch(ompb_batch *b);

/* Forget the watched batch and end the watcher thread; when it returns, no
 * thread of this module uses the batch any more. A no-op when the watcher
 * is not running. Returns 0 or the errno value of a failed join (the batch
 * may then still be in use: do not free it). The handlers stay installed
 * until exit: a late signal only sets the flag. */
int cli_signals_stop(void);

/* The last signal since cli_signals_start (SIGINT or SIGTERM), or 0.
 * Thread-safety: any (also the pool's reporter thread). */
int cli_signals_caught(void);

#endif /* OMPB_CLI_SIGNALS_H */
