/* SPDX-License-Identifier: BSD-3-Clause */
/* ompb_map: order, element sizes, chunking, failures, bad input, nesting. */
#include "ompbatch/map.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static ompb_pool *pool;
static int setup(void) { return ompb_pool_create(&pool, NULL) == OMPB_OK ? 0 : -1; }
static int teardown(void) {
  ompb_pool_destroy(pool);
  return 0;
}

static int cube(const void *item, void *out, size_t index, void *user) {
  (void)index;
  (void)user;
  double x = *(const double *)item;
  *(double *)out = x * x * x;
  return 0;
}

static void map_writes_outputs_in_order(void) {
  size_t chunks[] = {0, 1, 3, 1000, 100000};
  enum { N = 100003 };
  double *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
  CU_ASSERT_FATAL(in && out);
  for (size_t i = 0; i < N; i++) in[i] = 2.385 * (double)i - 7.5;
  for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
    memset(out, 0, N * sizeof *out);
    ompb_map_opts o = {.chunk_size = chunks[c]};
    ompb_result *r;
    CU_ASSERT_EQUAL_FATAL(ompb_map(pool, in, N, sizeof *in, out, sizeof *out, cube, &o, &r), OMPB_OK);
    CU_ASSERT_EQUAL(r->count, (size_t)N);
    CU_ASSERT_EQUAL(r->success_count, (size_t)N);
    CU_ASSERT(r->all_succeeded);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
      if (out[i] != in[i] * in[i] * in[i]) bad++;
      if (r->results[i].index != i || r->results[i].status != 0 || !(r->results[i].duration_ms >= 0)) bad++;
    }
    CU_ASSERT_EQUAL(bad, 0u);
    ompb_result_free(r);
  }
  free(in);
  free(out);
}

struct rgb {
  unsigned char r, g, b;
};

static int gray(const void *item, void *out, size_t index, void *user) {
  const struct rgb *p = item;
  const int *bias = user;
  (void)index;
  *(unsigned short *)out = (unsigned short)(p->r * 3 + p->g * 5 + p->b + *bias);
  return 0;
}

static void map_handles_odd_element_sizes_and_user(void) {
  enum { N = 5001 };
  struct rgb *in = malloc(N * sizeof *in);
  unsigned short *out = malloc(N * sizeof *out);
  CU_ASSERT_FATAL(in && out);
  for (int i = 0; i < N; i++) in[i] = (struct rgb){(unsigned char)i, (unsigned char)(i / 7), (unsigned char)(i * 13)};
  int bias = 11;
  ompb_map_opts o = {.batch = {.user = &bias}, .chunk_size = 17};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_map(pool, in, N, sizeof *in, out, sizeof *out, gray, &o, &r), OMPB_OK);
  int bad = 0;
  for (int i = 0; i < N; i++)
    if (out[i] != (unsigned short)(in[i].r * 3 + in[i].g * 5 + in[i].b + 11)) bad++;
  CU_ASSERT_EQUAL(bad, 0);
  ompb_result_free(r);
  free(in);
  free(out);
}

static int picky(const void *item, void *out, size_t index, void *user) {
  (void)user;
  int v = *(const int *)item;
  if (v % 1000 == 999) return OMPB_ERANGE;
  if (index == 4242) return 17;
  *(int *)out = -v;
  return 0;
}

static void map_reports_failing_items_with_index_and_code(void) {
  enum { N = 10000 };
  int *in = malloc(N * sizeof *in), *out = calloc(N, sizeof *out);
  CU_ASSERT_FATAL(in && out);
  for (int i = 0; i < N; i++) in[i] = i;
  bool discard[2] = {false, true};
  for (int d = 0; d < 2; d++) {
    ompb_map_opts o = {.batch = {.discard_results = discard[d]}};
    ompb_result *r;
    CU_ASSERT_EQUAL_FATAL(ompb_map(pool, in, N, sizeof *in, out, sizeof *out, picky, &o, &r), OMPB_OK);
    CU_ASSERT_EQUAL(r->failure_count, 11u);
    CU_ASSERT_EQUAL(r->success_count, (size_t)N - 11);
    CU_ASSERT_FALSE(r->all_succeeded);
    if (!discard[d]) {
      const ompb_error *e[16];
      CU_ASSERT_EQUAL_FATAL(ompb_result_failures(r, e, 16), 11u);
      CU_ASSERT_EQUAL(e[0]->index, 999u);
      CU_ASSERT_EQUAL(e[0]->code, OMPB_ERANGE);
      CU_ASSERT_EQUAL(e[4]->index, 4242u);
      CU_ASSERT_EQUAL(e[4]->code, 17);
      CU_ASSERT_EQUAL(r->results[4242].status, 17);
    } else {
      CU_ASSERT_PTR_NULL(r->results);
      CU_ASSERT_EQUAL(r->count, (size_t)N);
    }
    CU_ASSERT_EQUAL(out[5], -5);
    ompb_result_free(r);
  }
  /* fail_fast stops the map at the first failure and returns its code */
  ompb_map_opts ff = {.batch = {.fail_fast = true, .concurrency = 1}};
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_map(pool, in, N, sizeof *in, out, sizeof *out, picky, &ff, &r), OMPB_ERANGE);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(r->cancelled);
  CU_ASSERT_EQUAL(r->success_count, 999u);
  CU_ASSERT_EQUAL(r->failure_count, 1u);
  CU_ASSERT_EQUAL(r->cancelled_count, (size_t)N - 1000);
  CU_ASSERT_EQUAL(r->results[1000].status, OMPB_ECANCELED);
  ompb_result_free(r);
  free(in);
  free(out);
}

static void map_rejects_bad_input(void) {
  double x[4] = {0}, y[4];
  ompb_result *r = (ompb_result *)&r;
  ompb_batch *b = (ompb_batch *)&b;
  CU_ASSERT_EQUAL(ompb_map(NULL, x, 4, 8, y, 8, cube, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_EQUAL(ompb_map(pool, x, 4, 8, y, 8, NULL, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_map(pool, NULL, 4, 8, y, 8, cube, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_map(pool, x, 4, 8, NULL, 8, cube, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_map(pool, x, 4, 8, y, 8, cube, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_map(pool, x, SIZE_MAX / 4, 8, y, 8, cube, NULL, &r), OMPB_EINVAL);
  ompb_map_opts bad = {.batch = {.task_timeout_ms = NAN}};
  CU_ASSERT_EQUAL(ompb_map(pool, x, 4, 8, y, 8, cube, &bad, &r), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_map_start(pool, x, 4, 8, y, 8, cube, &bad, &b), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(b);
  /* n == 0: NULL arrays are fine */
  CU_ASSERT_EQUAL_FATAL(ompb_map(pool, NULL, 0, 8, NULL, 8, cube, NULL, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->count, 0u);
  CU_ASSERT(r->all_succeeded);
  ompb_result_free(r);
}

static void map_inside_users_parallel_region(void) {
  enum { N = 20000 };
  double *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
  CU_ASSERT_FATAL(in && out);
  for (int i = 0; i < N; i++) in[i] = i * 0.5;
  int rc = -1;
  size_t ok = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
  {
    ompb_result *r;
    rc = ompb_map(pool, in, N, sizeof *in, out, sizeof *out, cube, NULL, &r);
    if (r) ok = r->success_count;
    ompb_result_free(r);
  }
  CU_ASSERT_EQUAL(rc, OMPB_OK);
  CU_ASSERT_EQUAL(ok, (size_t)N);
  CU_ASSERT_EQUAL(out[N - 1], in[N - 1] * in[N - 1] * in[N - 1]);
  free(in);
  free(out);
}

int ompb_suite_map(void) {
  CU_pSuite s = CU_add_suite("map", setup, teardown);
  if (!s) return -1;
  if (!CU_add_test(s, "map_writes_outputs_in_order", map_writes_outputs_in_order) ||
      !CU_add_test(s, "map_handles_odd_element_sizes_and_user", map_handles_odd_element_sizes_and_user) ||
      !CU_add_test(s, "map_reports_failing_items_with_index_and_code",
                   map_reports_failing_items_with_index_and_code) ||
      !CU_add_test(s, "map_rejects_bad_input", map_rejects_bad_input) ||
      !CU_add_test(s, "map_inside_users_parallel_region", map_inside_users_parallel_region))
    return -1;
  return 0;
}
