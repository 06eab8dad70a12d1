/* SPDX-License-Identifier: BSD-3-Clause */
/* An outside MPI program, built against an installed ompbatch with
 * `pkg-config --cflags --libs ompbatch-mpi` (or CMake's ompbatch::mpi) and
 * run with mpiexec on 2 ranks: a distributed batch of 500 tasks whose
 * results the root checks. Exit 0 on every rank when all is right. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ompbatch.h>

#ifndef OMPB_MPI_H
#error "<ompbatch.h> after <mpi.h> declares the MPI backend"
#endif

/* params: one int64 k; result: k * k + rank-independent 7 */
static int square7(ompb_ctx *ctx, const void *params, size_t len, ompb_mpi_out *out) {
  (void)ctx;
  int64_t k;
  if (len != sizeof k) return OMPB_EINVAL;
  memcpy(&k, params, sizeof k);
  int64_t v = k * k + 7;
  return ompb_mpi_reply(out, &v, sizeof v);
}

enum { TASKS = 500 };

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int bad = provided < MPI_THREAD_FUNNELED;
  ompb_pool *pool = NULL;
  if (ompb_pool_create(&pool, &(ompb_pool_opts){.workers = 2}) != OMPB_OK ||
      ompb_mpi_register("square7", square7) != OMPB_OK)
    bad = 1;

  static int64_t ks[TASKS];
  static ompb_mpi_task tasks[TASKS];
  for (int i = 0; i < TASKS; i++) {
    ks[i] = 3 * i - 250;
    tasks[i] = (ompb_mpi_task){.method = "square7", .params = &ks[i], .len = sizeof ks[i]};
  }
  ompb_mpi_result *r = NULL;
  int rc = bad ? OMPB_EINVAL
               : ompb_mpi_exec_batch(MPI_COMM_WORLD, pool, tasks, rank == 0 ? TASKS : 0, NULL, &r);
  int ranks_used = 0;
  if (rc != OMPB_OK) bad = 1;
  if (rank == 0 && r != NULL) {
    unsigned seen = 0;
    if (r->count != TASKS || !r->all_succeeded) bad = 1;
    for (size_t i = 0; i < r->count && !bad; i++) {
      int64_t v;
      if (r->results[i].status != 0 || r->results[i].len != sizeof v) {
        bad = 1;
        break;
      }
      memcpy(&v, r->results[i].data, sizeof v);
      if (v != ks[i] * ks[i] + 7) bad = 1;
      if (r->results[i].rank >= 0 && r->results[i].rank < 32) seen |= 1u << r->results[i].rank;
    }
    for (unsigned s = seen; s; s &= s - 1) ranks_used++;
    ompb_mpi_result_free(r);
  }
  int any_bad;
  MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    printf("outside mpi program: %d ranks (%d ran tasks), %d tasks, %s\n", size, ranks_used, TASKS,
           any_bad ? "FAILED" : "ok");
  if (pool) ompb_pool_destroy(pool);
  ompb_mpi_registry_clear();
  MPI_Finalize();
  return any_bad;
}
