/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: Ctrl-C. SIGINT and SIGTERM cancel the running batch at once
 * and are remembered, so that the command can leave no output behind.
 *
 * Use: cli_signals_start() before creating anything a signal must undo;
 * cli_signals_watch(b) once the batch runs; cli_signals_stop() after
 * ompb_batch_wait() and before ompb_batch_free(); cli_signals_caught()
 * before committing the output. A SIGBUS on an input mapping, when the
 * file shrinks under it, is caught too (cli_signals_guard_add). */
#ifndef OMPB_CLI_SIGNALS_H
#define OMPB_CLI_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>

#include "ompbatch.h"

/* Install the handlers and start the watcher thread (once per process).
 * Returns 0, or an errno value with nothing installed and nothing left
 * running. */
int cli_signals_start(void);

/* Cancel b on the next signal, and now when one already came; also when a
 * guarded input shrinks (with cli_signals_watch; not with
 * cli_signals_watch_signals, whose tasks check their own inputs' slots).
 * Returns the code of ompb_batch_cancel (OMPB_OK) when it cancelled, else
 * OMPB_OK. */
int cli_signals_watch(ompb_batch *b);
int cli_signals_watch_signals(ompb_batch *b);

/* Forget the watched batch and end the watcher thread; when it returns, no
 * thread of this module uses the batch any more. A no-op when the watcher
 * is not running. Returns 0 or the errno value of a failed join (the batch
 * may then still be in use: do not free it). The handlers stay installed
 * until exit: a late signal only sets the flag. */
int cli_signals_stop(void);

/* Guard the read-only file mapping [map, map + len) (a page-aligned mmap,
 * len > 0): when the file shrinks under it, the SIGBUS its reader gets is
 * caught, the pages from there on read as zeros, the slot's "lost" flag
 * and cli_signals_input_lost() become true, and a batch watched with
 * cli_signals_watch is cancelled. Call after cli_signals_start. Returns the
 * guard's slot (>= 0), or -1 when all CLI_GUARD_SLOTS are in use (the
 * caller then reads the file instead of mapping it). Thread-safety: any. */
#define CLI_GUARD_SLOTS 256
int cli_signals_guard_add(const void *map, size_t len);

/* Stop guarding the slot's mapping (before unmapping it); -1 is a no-op.
 * Thread-safety: any, for the slot's owner. */
void cli_signals_guard_remove(int slot);

/* true once a SIGBUS hit the slot's mapping; false for -1.
 * Thread-safety: any. */
bool cli_signals_guard_lost(int slot);

/* true once a SIGBUS hit any guarded mapping: what was read from it is not
 * the file. Thread-safety: any. */
bool cli_signals_input_lost(void);

/* The last signal since cli_signals_start (SIGINT or SIGTERM), or 0.
 * Thread-safety: any (also the pool's reporter thread). */
int cli_signals_caught(void);

#endif /* OMPB_CLI_SIGNALS_H */
