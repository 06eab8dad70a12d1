/* SPDX-License-Identifier: BSD-3-Clause */
/* Allocation-failure injection (SQLite's way): install a failing allocator
 * with ompb_set_allocator and, for k = 1, 2, ..., fail the k-th allocation
 * of a scripted run (create -> register -> start -> wait -> result -> free,
 * over task batches, streaming batches, maps and kernel maps) until a run
 * gets through without meeting its failure point. Two modes: only the k-th
 * allocation fails ("once"), or the k-th and every later one ("from").
 *
 * Every failure must come back as the documented code (OMPB_ENOMEM; a wait
 * may also return OMPB_ENOMEM with *out NULL when the result cannot be
 * assembled), with no callback and no arg_free on a failed start, arg_free
 * and on_result exactly once per task of a started batch, and nothing left
 * allocated: the allocator counts live blocks, and LSan (under ASan)
 * checks the rest. A standalone program: a crash here must not hide a
 * CUnit summary. Exits 1 on any violation. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ompbatch.h"

#include "fault_alloc.h"

/* ---- bookkeeping ---- */
static int violations;
static int current_k;
static const char *current_mode;
#define EXPECT(cond, ...)                                                        \
  do {                                                                           \
    if (!(cond)) {                                                               \
      violations++;                                                              \
      fprintf(stderr, "faults: %s k=%d: ", current_mode, current_k);             \
      fprintf(stderr, __VA_ARGS__);                                              \
      fputc('\n', stderr);                                                       \
    }                                                                            \
  } while (0)

enum { NT = 40 };
static atomic_int freed[NT], streamed[NT], progress_calls;

static void arg_free_fn(void *p) {
  atomic_fetch_add(&freed[*(int *)p], 1);
  free(p); /* the caller's memory, not the library's */
}
static void on_result(const ompb_task_result *r, void *user) {
  (void)user;
  if (r->index < NT) atomic_fetch_add(&streamed[r->index], 1);
}
static void on_progress(const ompb_progress *p, void *user) {
  (void)p;
  (void)user;
  atomic_fetch_add(&progress_calls, 1);
}

static int task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  int i = *(int *)arg;
  if (i % 4 == 1) return ompb_ctx_fail(ctx, 5, "task %d fails with a message", i);
  if (i % 4 == 3) return 6; /* no message: strerror text */
  out->i64 = i;
  return 0;
}
static int other(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)arg;
  out->i64 = -1;
  return 0;
}
static int map_fn(const void *item, void *out, size_t index, void *user) {
  (void)user;
  *(double *)out = *(const double *)item * 2;
  return index % 9 == 4 ? 3 : 0;
}

static bool ok_or_enomem(int rc) { return rc == OMPB_OK || rc == OMPB_ENOMEM; }

/* A started batch's per-task ledger must be complete: once each. */
static void expect_ledger(const char *what, bool started, bool streaming) {
  for (int i = 0; i < NT; i++) {
    int f = atomic_load(&freed[i]), s = atomic_load(&streamed[i]);
    EXPECT(f == (started ? 1 : 0), "%s: task %d arg_free ran %d times", what, i, f);
    EXPECT(s == (started && streaming ? 1 : 0), "%s: task %d on_result ran %d times", what, i, s);
  }
}

static void reset_ledger(void) {
  for (int i = 0; i < NT; i++) atomic_store(&freed[i], 0), atomic_store(&streamed[i], 0);
  atomic_store(&progress_calls, 0);
}

static void check_result(const ompb_result *r, size_t n) {
  EXPECT(r->count == n, "count");
  EXPECT(r->success_count + r->failure_count + r->cancelled_count == n, "counts add up");
  if (!r->results) return;
  for (size_t i = 0; i < n; i++) {
    const ompb_task_result *t = &r->results[i];
    EXPECT(t->index == i, "index");
    if (t->status != 0 && t->status != OMPB_ECANCELED)
      EXPECT(t->error && t->error->code == t->status && t->error->message,
             "failed task %zu has no complete error record", i);
  }
}

/* One task batch: kept results (streaming when `streaming`). */
static void task_batch(ompb_pool *pool, bool streaming, bool discard) {
  ompb_task t[NT];
  reset_ledger();
  for (int i = 0; i < NT; i++) {
    int *a = malloc(sizeof *a);
    if (!a) abort();
    *a = i;
    t[i] = (ompb_task){.arg = a, .arg_free = arg_free_fn};
    if (i % 5 == 0) t[i].method = "task";
    else if (i % 7 == 0) t[i].method = i % 2 ? "missing-a" : "missing-b"; /* ENOMETHOD */
    else t[i].fn = task;
    if (i % 6 == 0) t[i].timeout_ms = 10000;
  }
  ompb_batch_opts o = {.on_progress = on_progress, .discard_results = discard};
  if (streaming) o.on_result = on_result;
  ompb_batch *b = (ompb_batch *)&b;
  int rc = ompb_batch_start(pool, t, NT, &o, &b);
  EXPECT(ok_or_enomem(rc), "start returned %d", rc);
  if (rc != OMPB_OK) {
    EXPECT(b == NULL, "failed start left *out set");
    expect_ledger("failed start", false, streaming);
    EXPECT(atomic_load(&progress_calls) == 0, "failed start called on_progress");
    for (int i = 0; i < NT; i++) free(t[i].arg); /* ownership stayed here */
    return;
  }
  ompb_result *r = (ompb_result *)&r;
  rc = ompb_batch_wait(b, &r);
  EXPECT(ok_or_enomem(rc), "wait returned %d", rc);
  if (rc == OMPB_OK) {
    EXPECT(r != NULL, "wait OK without a result");
    if (r) check_result(r, NT);
  } else {
    EXPECT(r == NULL, "wait ENOMEM with a result");
  }
  EXPECT(atomic_load(&progress_calls) >= 1, "no final progress report");
  ompb_result_free(r == (ompb_result *)&r ? NULL : r);
  ompb_batch_free(b);
  expect_ledger("batch", true, streaming);
}

static void maps(ompb_pool *pool) {
  enum { NM = 50 };
  double in[NM], out[NM];
  for (int i = 0; i < NM; i++) in[i] = i;
  ompb_result *r = (ompb_result *)&r;
  int rc = ompb_map(pool, in, NM, sizeof *in, out, sizeof *out, map_fn, NULL, &r);
  EXPECT(ok_or_enomem(rc), "map returned %d", rc);
  if (rc == OMPB_OK) check_result(r, NM);
  else EXPECT(r == NULL, "failed map left *out set");
  ompb_result_free(rc == OMPB_OK ? r : NULL);

  float fin[1000], fout[1000];
  for (int i = 0; i < 1000; i++) fin[i] = (float)i / 100.0f;
  ompb_map_opts mo = {.chunk_size = 128};
  ompb_batch *b = (ompb_batch *)&b;
  rc = ompb_pool_map_f32(pool, fin, fout, 1000, ompb_k_sin_f32, NULL, &mo, &b);
  EXPECT(ok_or_enomem(rc), "pool_map_f32 returned %d", rc);
  if (rc != OMPB_OK) {
    EXPECT(b == NULL, "failed pool_map left *out set");
    return;
  }
  rc = ompb_batch_wait(b, &r);
  EXPECT(ok_or_enomem(rc), "kernel wait returned %d", rc);
  if (rc == OMPB_OK) ompb_result_free(r);
  ompb_batch_free(b);
}

/* One scripted run. Returns true when it met no failure point. */
static bool run_once(void) {
  atomic_store(&n_calls, 0);
  atomic_store(&hit, false);
  ompb_pool *pool = (ompb_pool *)&pool;
  ompb_pool_opts po = {.workers = 2};
  int rc = ompb_pool_create(&pool, &po);
  EXPECT(ok_or_enomem(rc), "pool_create returned %d", rc);
  if (rc != OMPB_OK) {
    EXPECT(pool == NULL, "failed pool_create left *out set");
    goto done;
  }
  /* 20 names: the registry grows twice */
  char name[32];
  rc = ompb_pool_register(pool, "task", task);
  EXPECT(ok_or_enomem(rc), "register returned %d", rc);
  for (int i = 0; i < 20 && rc == OMPB_OK; i++) {
    snprintf(name, sizeof name, "other-%d", i);
    rc = ompb_pool_register(pool, name, other);
    EXPECT(ok_or_enomem(rc), "register returned %d", rc);
  }
  if (rc == OMPB_OK) {
    task_batch(pool, false, false);
    task_batch(pool, true, false);
    task_batch(pool, true, true);
    maps(pool);
  }
  ompb_pool_destroy(pool);
done:
  EXPECT(atomic_load(&live) == 0, "%ld blocks leaked", atomic_load(&live));
  atomic_store(&live, 0);
  return !atomic_load(&hit);
}

int main(void) {
  if (ompb_set_allocator(f_malloc, f_calloc, f_realloc, f_free) != OMPB_OK) {
    fprintf(stderr, "faults: ompb_set_allocator failed\n");
    return 2;
  }
  int points[2] = {0, 0};
  long clean_allocs = 0;
  for (int mode = 0; mode < 2; mode++) {
    fail_from = mode == 1;
    current_mode = fail_from ? "from" : "once";
    for (int k = 1;; k++) {
      current_k = k;
      fail_at = k;
      if (run_once()) break;
      points[mode]++;
      if (k > 100000) {
        fprintf(stderr, "faults: no end in sight\n");
        return 1;
      }
    }
  }
  fail_at = 0;
  current_mode = "clean";
  run_once();
  clean_allocs = atomic_load(&n_calls);
  printf("faults: a clean run makes %ld allocations; failure points exercised: %d (only the k-th "
         "fails) + %d (the k-th and all later fail)\n",
         clean_allocs, points[0], points[1]);
  printf("faults: %d passed, %d failed\n", violations ? 0 : 1, violations ? 1 : 0);
  return violations ? 1 : 0;
}
