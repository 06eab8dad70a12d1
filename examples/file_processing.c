/* SPDX-License-Identifier: BSD-3-Clause */
/* Usage pattern 2, parallel file processing: one task per file, at most 4
 * files open at once (concurrency), a progress bar from on_progress. The
 * example writes its own input files into a temporary directory and
 * removes them at the end. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ompbatch.h"

#define FILES 48
#define LINES 2000
#define MAX_OPEN 4

static atomic_int open_now, open_max; /* files open at once, and the peak */

/* Sum the integers in a file, one per line. `arg` is the path, owned by the
 * batch (arg_free = free). */
static int process_file(ompb_ctx *ctx, void *arg, ompb_value *out) {
  const char *path = arg;
  int now = atomic_fetch_add(&open_now, 1) + 1;
  for (int m = atomic_load(&open_max); now > m;)
    if (atomic_compare_exchange_weak(&open_max, &m, now))
      break;
  FILE *f = fopen(path, "r");
  if (!f) {
    atomic_fetch_sub(&open_now, 1);
    return ompb_ctx_fail(ctx, 2, "cannot open %s", path);
  }
  long long sum = 0, v;
  while (fscanf(f, "%lld", &v) == 1)
    sum += v;
  fclose(f);
  nanosleep(&(struct timespec){0, 2000000}, NULL); /* stands for slow I/O */
  atomic_fetch_sub(&open_now, 1);
  out->i64 = sum;
  return 0;
}

/* On the pool's reporter thread: a bar when stderr is a terminal. */
static void on_progress(const ompb_progress *p, void *user) {
  (void)user;
  if (!isatty(STDERR_FILENO))
    return;
  int fill = (int)(p->percentage / 100.0 * 30);
  fprintf(stderr, "\r  files %5.1f%% [%.*s%*s] %zu/%zu, %.0f files/s", p->percentage,
          fill, "##############################", 30 - fill, "", p->completed,
          p->total, p->throughput);
  if (p->completed == p->total)
    fputc('\n', stderr);
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/ompbatch-files.XXXXXX", tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(dir))
    return 1;

  ompb_task tasks[FILES];
  long long want[FILES];
  for (int k = 0; k < FILES; k++) {
    char *path = malloc(strlen(dir) + 32);
    sprintf(path, "%s/part-%03d.txt", dir, k);
    FILE *f = fopen(path, "w");
    if (!f)
      return 1;
    want[k] = 0;
    for (int j = 0; j < LINES; j++) {
      fprintf(f, "%d\n", j * (k + 1) - 7);
      want[k] += j * (k + 1) - 7;
    }
    fclose(f);
    /* The batch owns the path from here on and frees it after the task. */
    tasks[k] = (ompb_task){.fn = process_file, .arg = path, .arg_free = free};
  }

  /* More workers than cores suits I/O; concurrency bounds the open files. */
  ompb_pool *pool;
  if (ompb_pool_create(&pool, &(ompb_pool_opts){.workers = 8}) != OMPB_OK)
    return 1;
  ompb_batch_opts opts = {.concurrency = MAX_OPEN, .on_progress = on_progress,
                          .progress_throttle_ms = 20};
  ompb_result *r;
  int rc = ompb_exec_batch(pool, tasks, FILES, &opts, &r);
  int ok = rc == OMPB_OK && r->all_succeeded;
  for (int k = 0; ok && k < FILES; k++)
    ok = r->results[k].value.i64 == want[k];
  printf("%zu files summed in %.1f ms, at most %d open at once (limit %d): %s\n",
         r ? r->success_count : 0, r ? r->duration_ms : 0.0, atomic_load(&open_max),
         MAX_OPEN, ok ? "ok" : "WRONG");
  ompb_result_free(r);
  ompb_pool_destroy(pool);

  for (int k = 0; k < FILES; k++) {
    char path[600];
    snprintf(path, sizeof path, "%s/part-%03d.txt", dir, k);
    unlink(path);
  }
  rmdir(dir);
  return ok && atomic_load(&open_max) <= MAX_OPEN ? 0 : 1;
}
