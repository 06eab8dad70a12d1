/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: Ctrl-C through a self-pipe. The handler only sets `caught`
 * and writes a byte to a pipe (both async-signal-safe); a watcher thread
 * blocked on the pipe's read end calls ompb_batch_cancel on the batch
 * published in `watched`, at once, whatever the main thread is doing. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS (POSIX only from 2024) */

#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"

/* Lock-free atomics are async-signal-safe; plain ones would not be. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal flag must be lock-free");
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the batch handle must be lock-free");

/* The last signal's number, or 0; set by the handler, never cleared. */
static atomic_int caught;
/* The batch a signal cancels, or NULL; the watcher reads it, then cancels:
 * the owner clears it and joins the watcher before freeing the batch. */
static _Atomic(ompb_batch *) watched;
/* Set before the wake-up that ends the watcher: the watcher returns on any
 * byte it reads once this is true (a full pipe still wakes it). */
static atomic_bool stopping;
static int wake_pipe[2] = {-1, -1};
static pthread_t watcher;
static bool watcher_running;
static struct sigaction old_int, old_term;
/* The guarded input mappings: slot i is in use while claimed[i]; its
 * range [lo, hi) in whole pages is set after the claim (hi first, lo last)
 * and cleared before the release (lo first), so the handler that sees a
 * non-NULL lo sees its hi. lost[i]: a SIGBUS hit that range; cleared when
 * the slot is claimed again. */
static atomic_bool claimed[CLI_GUARD_SLOTS];
static _Atomic(char *) guard_lo[CLI_GUARD_SLOTS], guard_hi[CLI_GUARD_SLOTS];
static atomic_bool guard_lost[CLI_GUARD_SLOTS];
/* Set by the handler when a SIGBUS hit any guarded mapping; never cleared. */
static atomic_bool input_lost;
/* The watched batch is cancelled when an input shrinks (single-file runs;
 * many-file runs fail only the file's own task). */
static atomic_bool cancel_on_lost;
static uintptr_t page_size;

/* A SIGBUS in the guarded input means the file shrank under the mapping:
 * put zero pages from the fault to the end (the access is retried and
 * reads zeros), remember it and cancel the batch. mmap is not on POSIX's
 * async-signal-safe list, but on Linux it is one system call, no lock. Any
 * other SIGBUS gets the default action (the process dies as before). */
static void on_bus(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  int saved = errno;
  char *a = si->si_addr;
  for (int i = 0; si->si_code > 0 && i < CLI_GUARD_SLOTS; i++) {
    char *lo = atomic_load(&guard_lo[i]), *hi = atomic_load(&guard_hi[i]);
    if (!lo || a < lo || a >= hi)
      continue;
    char *from = lo + ((uintptr_t)(a - lo) & ~(page_size - 1));
    if (mmap(from, (size_t)(hi - from), PROT_READ,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
      break;
    atomic_store(&guard_lost[i], true);
    atomic_store(&input_lost, true);
    if (write(wake_pipe[1], "b", 1) < 0) {
      /* Pipe full: a wake-up is already pending. */
    }
    errno = saved;
    return;
  }
  signal(sig, SIG_DFL);
  if (si->si_code <= 0)
    raise(sig); /* sent, not a fault: it would not come again */
  errno = saved;
}

static void on_signal(int sig) {
  int saved = errno;
  atomic_store(&caught, sig);
  if (write(wake_pipe[1], "i", 1) < 0) {
    /* Pipe full: a wake-up is already pending. */
  }
  errno = saved;
}

static void *watch(void *unused) {
  (void)unused;
  char c;
  for (;;) {
    ssize_t r = read(wake_pipe[0], &c, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0 || atomic_load(&stopping))
      return NULL;
    ompb_batch *b = atomic_load(&watched);
    if (b && (c != 'b' || atomic_load(&cancel_on_lost)))
      ompb_batch_cancel(b); /* OMPB_OK on any non-NULL handle */
  }
}

static void close_pipe(void) {
  close(wake_pipe[0]);
  close(wake_pipe[1]);
  wake_pipe[0] = wake_pipe[1] = -1;
}

/* The write end never blocks: the handler must return even when the pipe
 * is full. */
static int set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return errno;
  return 0;
}

int cli_signals_start(void) {
  if (pipe(wake_pipe) != 0)
    return errno;
  int err = set_nonblocking(wake_pipe[1]);
  if (err)
    goto fail_pipe;
  atomic_store(&stopping, false);
  if ((err = pthread_create(&watcher, NULL, watch, NULL)) != 0)
    goto fail_pipe;
  watcher_running = true;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, &old_int) != 0) {
    err = errno;
    goto fail_thread;
  }
  if (sigaction(SIGTERM, &sa, &old_term) != 0) {
    err = errno;
    sigaction(SIGINT, &old_int, NULL); /* restores what succeeded above */
    goto fail_thread;
  }
  page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
  struct sigaction bus;
  memset(&bus, 0, sizeof bus);
  bus.sa_sigaction = on_bus;
  bus.sa_flags = SA_SIGINFO;
  sigemptyset(&bus.sa_mask);
  if (sigaction(SIGBUS, &bus, NULL) != 0) {
    err = errno;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    goto fail_thread;
  }
  return 0;

fail_thread:
  if (cli_signals_stop() != 0)
    return err; /* the watcher may still read the pipe: keep it open */
fail_pipe:
  close_pipe();
  return err;
}

static int watch_batch(ompb_batch *b, bool on_lost) {
  atomic_store(&cancel_on_lost, on_lost);
  atomic_store(&watched, b);
  /* A signal that came before b was published is caught here; one that
   * comes after finds b through the watcher. */
  if (atomic_load(&caught) || (on_lost && atomic_load(&input_lost)))
    return ompb_batch_cancel(b);
  return OMPB_OK;
}

int cli_signals_watch(ompb_batch *b) { return watch_batch(b, true); }
int cli_signals_watch_signals(ompb_batch *b) { return watch_batch(b, false); }

int cli_signals_stop(void) {
  if (!watcher_running)
    return 0;
  atomic_store(&watched, NULL);
  atomic_store(&stopping, true);
  while (write(wake_pipe[1], "q", 1) < 0 && errno == EINTR)
    ;
  /* EAGAIN: the pipe is full, so the watcher has bytes to wake up on. */
  int err = pthread_join(watcher, NULL);
  if (err)
    return err;
  watcher_running = false;
  return 0;
}

int cli_signals_caught(void) { return atomic_load(&caught); }

int cli_signals_guard_add(const void *map, size_t len) {
  if (!map || !len || !page_size)
    return -1;
  for (int i = 0; i < CLI_GUARD_SLOTS; i++) {
    bool free_slot = false;
    if (!atomic_compare_exchange_strong(&claimed[i], &free_slot, true))
      continue;
    char *lo = (char *)(uintptr_t)map; /* the handler maps over it */
    atomic_store(&guard_lost[i], false);
    atomic_store(&guard_hi[i], lo + (len + page_size - 1) / page_size * page_size);
    atomic_store(&guard_lo[i], lo);
    return i;
  }
  return -1;
}

void cli_signals_guard_remove(int slot) {
  if (slot < 0 || slot >= CLI_GUARD_SLOTS)
    return;
  atomic_store(&guard_lo[slot], NULL);
  atomic_store(&guard_hi[slot], NULL);
  atomic_store(&claimed[slot], false);
}

bool cli_signals_guard_lost(int slot) {
  return slot >= 0 && slot < CLI_GUARD_SLOTS && atomic_load(&guard_lost[slot]);
}

bool cli_signals_input_lost(void) { return atomic_load(&input_lost); }
