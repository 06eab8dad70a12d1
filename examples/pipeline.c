/* SPDX-License-Identifier: BSD-3-Clause */
/* Usage pattern 1, a data pipeline: map (validate, fail-fast) -> map
 * (transform the items that passed) -> batch (store each result through a
 * registered method). The spec's processDataset(), in C. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ompbatch.h"

#define N 10000

typedef struct {
  int station;
  double celsius;
} reading;

typedef struct {
  int station;
  double kelvin, fahrenheit;
} record;

/* Stage 1: a reading is valid when it could be a surface temperature. */
static int validate(const void *item, void *out, size_t i, void *user) {
  (void)out, (void)i, (void)user;
  const reading *r = item;
  if (!(r->celsius >= -90.0 && r->celsius <= 60.0))
    return 22; /* a task-defined code, passed through unchanged */
  return 0;
}

/* Stage 2: convert units. */
static int transform(const void *item, void *out, size_t i, void *user) {
  (void)i, (void)user;
  const reading *r = item;
  record *o = out;
  *o = (record){r->station, r->celsius + 273.15, r->celsius * 9.0 / 5.0 + 32.0};
  return 0;
}

/* Stage 3: "store" a record; here into a table indexed by station. */
static double table[N];
static int store(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  const record *rec = arg;
  table[rec->station] = rec->kelvin;
  out->i64 = rec->station;
  return 0;
}

int main(void) {
  ompb_pool *pool;
  if (ompb_pool_create(&pool, NULL) != OMPB_OK)
    return 1;
  /* Methods are registered before the pool's first batch. */
  ompb_pool_register(pool, "storeItem", store);

  reading *items = malloc(N * sizeof *items);
  record *records = malloc(N * sizeof *records);
  reading *valid = malloc(N * sizeof *valid);
  ompb_task *tasks = malloc(N * sizeof *tasks);
  if (!items || !records || !valid || !tasks)
    return 1;
  for (int i = 0; i < N; i++)
    items[i] = (reading){i, -40.0 + 80.0 * sin(i * 0.37) * sin(i * 0.37)};

  /* Stage 1, fail-fast: one bad reading stops the stage. */
  ompb_map_opts strict = {.batch = {.fail_fast = true}};
  ompb_result *r;
  int rc = ompb_map(pool, items, N, sizeof *items, NULL, 0, validate, &strict, &r);
  if (rc != OMPB_OK || !r->all_succeeded)
    return 1;
  size_t nvalid = 0;
  for (size_t i = 0; i < r->count; i++)
    if (r->results[i].status == 0)
      valid[nvalid++] = items[i];
  ompb_result_free(r);
  printf("stage 1: %zu of %d readings valid\n", nvalid, N);

  /* Stage 2 on the successes. */
  rc = ompb_map(pool, valid, nvalid, sizeof *valid, records, sizeof *records,
                transform, NULL, &r);
  if (rc != OMPB_OK || r->success_count != nvalid)
    return 1;
  ompb_result_free(r);

  /* Stage 3: one task per record, by method name. */
  for (size_t i = 0; i < nvalid; i++)
    tasks[i] = (ompb_task){.method = "storeItem", .arg = &records[i]};
  rc = ompb_exec_batch(pool, tasks, nvalid, NULL, &r);
  if (rc != OMPB_OK || !r->all_succeeded)
    return 1;
  printf("stage 3: stored %zu records in %.2f ms; station 7 at %.2f K\n",
         r->success_count, r->duration_ms, table[7]);
  ompb_result_free(r);

  /* What fail-fast does with a bad item: wait returns its code, and the
   * partial result (the spec's error.partialResult) says what ran. */
  items[5000].celsius = 999.0;
  rc = ompb_map(pool, items, N, sizeof *items, NULL, 0, validate, &strict, &r);
  const ompb_error *e = NULL;
  ompb_result_failures(r, &e, 1);
  printf("with a bad reading: code %d, item %zu (%s); %zu ok, %zu skipped\n", rc,
         e ? e->index : 0, e ? e->message : "-", r->success_count, r->cancelled_count);
  int ok = rc == 22 && e && e->index == 5000 && r->cancelled;
  ompb_result_free(r);

  double want = -40.0 + 80.0 * sin(7 * 0.37) * sin(7 * 0.37) + 273.15;
  ok = ok && fabs(table[7] - want) < 1e-9;
  ompb_pool_destroy(pool);
  free(items), free(records), free(valid), free(tasks);
  return ok ? 0 : 1;
}
