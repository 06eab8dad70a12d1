/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_mpi: the distributed path against the local engine on the same
 * 1 ms CPU-bound tasks. `make bench-mpi` runs it as 1 rank x 2 threads and
 * as 2 ranks x 1 thread:
 *   mpiexec.mpich -launcher fork -n R ./bench_mpi --threads T [--tasks N]
 * Prints, per configuration, the best of --reps runs: wall time, the ideal
 * (N x 1 ms / (R x T)), efficiency (ideal / wall) and the overhead per task
 * ((wall - ideal) x R x T / N: worker time not spent in task bodies).
 * --task-ms changes the task length (default 1). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include "ompbatch.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Spin for the given milliseconds of wall time: a CPU-bound task. */
static double spin(double ms) {
  double end = now_ms() + ms, x = 0;
  while (now_ms() < end) x += 1e-9;
  return x;
}

static int spin_bytes(ompb_ctx *ctx, const void *params, size_t len,
                      ompb_mpi_out *out) {
  (void)ctx;
  double ms;
  if (len != sizeof ms) return OMPB_EINVAL;
  memcpy(&ms, params, sizeof ms);
  double x = spin(ms);
  return ompb_mpi_reply(out, &x, sizeof x);
}

static int spin_local(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  out->f64 = spin(*(const double *)arg);
  return 0;
}

static void line(const char *what, int ranks, unsigned threads, size_t n,
                 double task_ms, double wall) {
  double ideal = (double)n * task_ms / (ranks * (double)threads);
  printf("%-28s %d rank(s) x %u thread(s): %8.1f ms  ideal %7.1f  "
         "efficiency %.3f  overhead/task %6.1f us\n",
         what, ranks, threads, wall, ideal, ideal / wall,
         (wall - ideal) * ranks * threads / (double)n * 1e3);
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  unsigned threads = 1;
  size_t n = 2000;
  int reps = 3;
  double task_ms = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads")) threads = (unsigned)atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--tasks")) n = (size_t)atol(argv[i + 1]);
    if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--task-ms")) task_ms = atof(argv[i + 1]);
  }
  ompb_pool *pool = NULL;
  if (ompb_pool_create(&pool, &(ompb_pool_opts){.workers = threads}) ||
      ompb_mpi_register("spin", spin_bytes)) {
    fprintf(stderr, "bench_mpi: setup failed\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  ompb_mpi_task *t = calloc(n, sizeof *t);
  ompb_task *lt = calloc(n, sizeof *lt);
  for (size_t i = 0; i < n; i++) {
    t[i] = (ompb_mpi_task){.method = "spin", .params = &task_ms, .len = sizeof task_ms};
    lt[i] = (ompb_task){.fn = spin_local, .arg = &task_ms};
  }

  /* The local engine alone, on one rank: the baseline. Started and waited
   * for, so that it runs on the pool's dispatcher team as the distributed
   * runner's batches do: ompb_exec_batch from this thread would run on
   * this thread's own team (the caller's team), and that second idle team
   * would make libgomp spin less for both (more OpenMP threads than CPUs:
   * docs/design.md, "The libgomp idle stall"). */
  if (size == 1) {
    double best = 1e300;
    for (int r = 0; r < reps; r++) {
      ompb_result *res = NULL;
      ompb_batch *b = NULL;
      double t0 = now_ms();
      if (ompb_batch_start(pool, lt, n, NULL, &b) == OMPB_OK) ompb_batch_wait(b, &res);
      double el = now_ms() - t0;
      if (el < best) best = el;
      ompb_result_free(res);
      ompb_batch_free(b);
    }
    line("local ompb_batch_start+wait", 1, threads, n, task_ms, best);
  }

  double best = 1e300;
  int bad = 0;
  for (int r = 0; r < reps; r++) {
    ompb_mpi_result *res = NULL;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now_ms();
    int rc = ompb_mpi_exec_batch(MPI_COMM_WORLD, pool, t, n, NULL, &res);
    double el = now_ms() - t0;
    if (rc || (rank == 0 && (!res || res->success_count != n))) bad = 1;
    if (el < best) best = el;
    ompb_mpi_result_free(res);
  }
  if (rank == 0) {
    line("distributed ompb_mpi_exec", size, threads, n, task_ms, best);
    if (bad) printf("bench_mpi: a run did not complete every task\n");
  }
  free(t);
  free(lt);
  ompb_pool_destroy(pool);
  ompb_mpi_registry_clear();
  MPI_Finalize();
  return bad;
}
