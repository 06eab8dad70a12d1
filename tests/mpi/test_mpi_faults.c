/* SPDX-License-Identifier: BSD-3-Clause */
/* Allocation-failure injection on the MPI backend (tests/faults.c does the
 * same for the core): a counting allocator installed with
 * ompb_set_allocator fails the k-th allocation, for k = 1, 2, ..., of a
 * scripted run (register -> ompb_mpi_exec_batch -> result -> free ->
 * ompb_mpi_registry_clear) until a run gets through without meeting its
 * failure point. Two modes: only the k-th allocation fails ("once"), or
 * the k-th and every later one ("from").
 *
 * Every rank runs the script on its own, on MPI_COMM_SELF (one rank per
 * batch: which allocation fails is then the same from run to run). Each
 * failure must come back as OMPB_ENOMEM, from the call (with *out NULL) or
 * as the status of the tasks it hit (with an error record); every other
 * task has its own outcome, byte for byte; and after the frees the
 * allocator holds exactly the blocks it held before the run.
 *   mpiexec.mpich -launcher fork -n 3 ./test_mpi_faults --expect-size 3 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "ompbatch.h"

#include "../fault_alloc.h"

/* ---- bookkeeping ---- */
static int g_rank;
static long violations;
static long current_k;
static const char *current_mode;
#define EXPECT(cond, ...)                                                   \
  do {                                                                      \
    if (!(cond)) {                                                          \
      violations++;                                                         \
      fprintf(stderr, "rank %d: mpi faults: %s k=%ld: ", g_rank,            \
              current_mode, current_k);                                     \
      fprintf(stderr, __VA_ARGS__);                                         \
      fputc('\n', stderr);                                                  \
    }                                                                       \
  } while (0)

/* ---- byte-level tasks: three methods, three reply paths ---- */

/* x % 29 + 1 bytes derived from x: in the slot up to 16, on the heap above. */
static size_t mix_expect(uint64_t x, unsigned char *buf) {
  size_t n = x % 29 + 1;
  for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(x * 31 + i * 7);
  return n;
}
static int mix_task(ompb_ctx *ctx, const void *params, size_t len,
                    ompb_mpi_out *out) {
  (void)ctx;
  uint64_t x;
  if (len != sizeof x) return 3;
  memcpy(&x, params, sizeof x);
  unsigned char *b = ompb_mpi_reply_buf(out, x % 29 + 1);
  if (!b) return OMPB_ENOMEM;
  mix_expect(x, b);
  return 0;
}
/* 100 copied bytes: the params repeated. */
static int big_task(ompb_ctx *ctx, const void *params, size_t len,
                    ompb_mpi_out *out) {
  (void)ctx;
  unsigned char b[100];
  for (size_t i = 0; i < sizeof b; i++)
    b[i] = ((const unsigned char *)params)[i % len];
  return ompb_mpi_reply(out, b, sizeof b);
}
static int fail_task(ompb_ctx *ctx, const void *params, size_t len,
                     ompb_mpi_out *out) {
  (void)params;
  (void)len;
  return ompb_ctx_fail(ctx, 5, "task %zu fails with a message",
                       ompb_mpi_index(out));
}

static const struct {
  const char *name;
  ompb_mpi_fn *fn;
} methods[] = {{"mix", mix_task}, {"big", big_task}, {"fail", fail_task}};
enum { NM = sizeof methods / sizeof methods[0], NT = 36 };

/* One run of the script; returns whether the failure point was met. */
static bool run_once(ompb_pool *pool, long base) {
  atomic_store(&n_calls, 0);
  atomic_store(&hit, false);
  bool registered[NM];
  for (int m = 0; m < NM; m++) {
    int rc = ompb_mpi_register(methods[m].name, methods[m].fn);
    EXPECT(rc == OMPB_OK || rc == OMPB_ENOMEM, "register %s: %d", methods[m].name, rc);
    registered[m] = rc == OMPB_OK;
  }

  uint64_t x[NT];
  ompb_mpi_task t[NT];
  for (size_t i = 0; i < NT; i++) {
    x[i] = (uint64_t)i * 2654435761u + 2385;
    t[i] = (ompb_mpi_task){.method = methods[i % NM].name, .params = &x[i],
                           .len = sizeof x[i]};
  }
  ompb_mpi_result *r = NULL;
  int rc = ompb_mpi_exec_batch(MPI_COMM_SELF, pool, t, NT, NULL, &r);
  EXPECT(rc == OMPB_OK || rc == OMPB_ENOMEM, "exec returned %d", rc);
  EXPECT((rc == OMPB_OK) == (r != NULL), "exec %d with result %p", rc, (void *)r);
  if (r) {
    EXPECT(r->count == NT && !r->cancelled && !r->timed_out &&
               r->success_count + r->failure_count + r->cancelled_count == NT,
           "counts");
    for (size_t i = 0; r->count == NT && i < NT; i++) {
      const ompb_mpi_task_result *e = &r->results[i];
      int m = (int)(i % NM);
      unsigned char want[100];
      size_t wl = m == 0 ? mix_expect(x[i], want) : 100;
      if (m == 1)
        for (size_t b = 0; b < wl; b++) want[b] = ((const unsigned char *)&x[i])[b % 8];
      if (e->status == 0) {
        EXPECT(m != 2 && e->len == wl && memcmp(e->data, want, wl) == 0,
               "task %zu: wrong bytes", i);
        continue;
      }
      EXPECT(e->error && e->error->code == e->status && e->error->index == i &&
                 e->error->message,
             "task %zu: status %d without its error record", i, e->status);
      bool ok = e->status == OMPB_ENOMEM ||
                (m == 2 && e->status == 5) ||
                (!registered[m] && e->status == OMPB_ENOMETHOD);
      EXPECT(ok, "task %zu (%s): status %d", i, methods[m].name, e->status);
    }
    /* The run that met no failure point has every task's own outcome. */
    if (!atomic_load(&hit))
      EXPECT(r->success_count == NT - NT / NM && r->failure_count == NT / NM,
             "clean run: %zu ok, %zu failed", r->success_count, r->failure_count);
  }
  ompb_mpi_result_free(r);
  ompb_mpi_registry_clear();
  long now = atomic_load(&live);
  EXPECT(now == base, "%ld blocks left over", now - base);
  return atomic_load(&hit);
}

int main(int argc, char **argv) {
  /* Before anything of the library allocates. */
  int set = ompb_set_allocator(f_malloc, f_calloc, f_realloc, f_free);
  int provided = 0, size = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int expect = -1;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--expect-size") == 0) expect = atoi(argv[i + 1]);
  /* A wrong launcher starts N separate size-1 jobs (docs/mpi.md, "What the
   * backend rests on"). */
  current_mode = "setup";
  EXPECT(expect == size, "communicator size %d, expected %d", size, expect);
  EXPECT(set == OMPB_OK, "ompb_set_allocator: %d", set);
  EXPECT(provided >= MPI_THREAD_FUNNELED, "thread level %d", provided);

  ompb_pool *pool = NULL;
  int prc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = 2});
  EXPECT(prc == OMPB_OK, "pool: %d", prc);
  long runs = 0, clean_calls = 0;
  if (prc == OMPB_OK && violations == 0) {
    long base = atomic_load(&live);
    static const char *const modes[] = {"once", "from"};
    for (int mode = 0; mode < 2; mode++) {
      current_mode = modes[mode];
      fail_from = mode == 1;
      /* Bounded: a run allocates a few hundred blocks at most. */
      for (current_k = 1; current_k < 100000; current_k++) {
        fail_at = current_k;
        runs++;
        if (!run_once(pool, base)) break;
      }
      EXPECT(current_k > 1 && current_k < 100000, "ended at k=%ld", current_k);
      clean_calls = atomic_load(&n_calls);
    }
    fail_at = 0;
    ompb_pool_destroy(pool);
    current_mode = "end";
    EXPECT(atomic_load(&live) == 0, "%ld blocks left after the pool",
           atomic_load(&live));
  }

  long mine[2] = {violations, runs}, sum[2] = {0, 0};
  MPI_Allreduce(mine, sum, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0)
    printf("mpi faults: %ld runs on %d rank(s), %ld allocations in a clean "
           "run, %ld violations\n",
           sum[1], size, clean_calls, sum[0]);
  MPI_Finalize();
  return sum[0] ? 1 : 0;
}
