/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: Ctrl-C. SIGINT and SIGTERM cancel the running batch at once
 * and are remembered, so that the command can leave no output behind.
 *
 * Use: cli_signals_start() before creating anything a signal must undo;
 * cli_signals_watch(b) once the batch runs; cli_signals_stop() after
 * ompb_batch_wait() and before ompb_batch_free(); cli_signals_caught()
 * before committing the output. A SIGBUS on the input mapping, when the
 * file shrinks under it, is caught too (cli_signals_guard). */
#ifndef OMPB_CLI_SIGNALS_H
#define OMPB_CLI_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>

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

/* Guard the read-only file mapping [map, map + len) (a page-aligned mmap;
 * NULL or 0: guard nothing): when the file shrinks under it, the SIGBUS
 * its reader gets is caught, the pages from there on read as zeros, the
 * watched batch is cancelled and cli_signals_input_lost() becomes true.
 * Call after cli_signals_start, and with NULL before unmapping. One mapping
 * at a time. */
void cli_signals_guard(const void *map, size_t len);

/* true once a SIGBUS hit the guarded mapping: what was read from it is not
 * the file. Thread-safety: any. */
bool cli_signals_input_lost(void);

/* The last signal since cli_signals_start (SIGINT or SIGTERM), or 0.
 * Thread-safety: any (also the pool's reporter thread). */
int cli_signals_caught(void);

#endif /* OMPB_CLI_SIGNALS_H */
