/* SPDX-License-Identifier: BSD-3-Clause */
/* Guarantees: the bad-input table of docs/guarantees.md, the rows the
 * module suites do not already cover. Every public function with NULL
 * pointers, n == 0, n == SIZE_MAX, negative/NaN/infinite times, and calls
 * in the wrong state (wait twice, resume without pause, pause after
 * finish, register while running, start or wait from a callback) gives its
 * documented code, never a crash or a hang (the runner's watchdog turns a
 * hang into a failure). Waits for events poll with a generous timeout that
 * fails the test. Nothing is asserted inside a task or callback. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "helpers.h"

int ompb_suite_guarantees(void); /* also in helpers.h once registered */

static ompb_pool *pool;
static int setup(void) {
  ompb_pool_opts o = {.workers = 2};
  return ompb_pool_create(&pool, &o) == OMPB_OK ? 0 : -1;
}
static int teardown(void) {
  ompb_pool_destroy(pool);
  return 0;
}

static atomic_int calls;
static void count_progress(const ompb_progress *p, void *user) {
  (void)p;
  (void)user;
  atomic_fetch_add(&calls, 1);
}
static void count_result(const ompb_task_result *r, void *user) {
  (void)r;
  (void)user;
  atomic_fetch_add(&calls, 1);
}
static int map_copy(const void *item, void *out, size_t index, void *user) {
  (void)index;
  (void)user;
  *(double *)out = *(const double *)item;
  return 0;
}

static void ctx_functions_accept_null(void) {
  CU_ASSERT_EQUAL(ompb_ctx_index(NULL), 0u);
  CU_ASSERT_PTR_NULL(ompb_ctx_user(NULL));
  CU_ASSERT_EQUAL(ompb_ctx_fail(NULL, 7, "x %d", 1), 7);
  CU_ASSERT_EQUAL(ompb_ctx_fail(NULL, OMPB_EIO, NULL), OMPB_EIO);
  CU_ASSERT_FALSE(ompb_ctx_should_stop(NULL));
}

static void progress_rejects_null_and_reports_final_counts(void) {
  ompb_progress p;
  CU_ASSERT_EQUAL(ompb_batch_progress(NULL, &p), OMPB_EINVAL);
  ompb_task t[3] = {{.fn = th_index_task}, {.fn = th_index_task}, {.fn = th_fail_task, .arg = (void *)(intptr_t)4}};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 3, NULL, &b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_progress(b, NULL), OMPB_EINVAL);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_progress(b, &p), OMPB_OK);
  CU_ASSERT_EQUAL(p.completed, 3u);
  CU_ASSERT_EQUAL(p.failures, 1u);
  CU_ASSERT_DOUBLE_EQUAL(p.percentage, 100.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(p.estimated_remaining_ms, 0.0, 1e-9);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void wait_with_null_out_leaves_the_result_for_a_later_wait(void) {
  ompb_task t[2] = {{.fn = th_index_task}, {.fn = th_index_task}};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 2, NULL, &b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_wait(b, NULL), OMPB_EINVAL);
  ompb_result *r = (ompb_result *)&r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r->success_count, 2u);
  ompb_result *again = (ompb_result *)&again;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &again), OMPB_ESTATE);
  CU_ASSERT_PTR_NULL(again);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void control_on_a_finished_batch_is_ok_and_does_nothing(void) {
  ompb_task t[4] = {{.fn = th_index_task}, {.fn = th_index_task}, {.fn = th_index_task}, {.fn = th_index_task}};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 4, NULL, &b), OMPB_OK);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  /* pause after finish: OK, and not paused */
  CU_ASSERT_EQUAL(ompb_batch_pause(b), OMPB_OK);
  CU_ASSERT_FALSE(ompb_batch_is_paused(b));
  CU_ASSERT_EQUAL(ompb_batch_resume(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_resume(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_cancel(b), OMPB_OK);
  CU_ASSERT_FALSE(r->cancelled);
  CU_ASSERT(r->all_succeeded);
  ompb_result_free(r);
  ompb_batch_free(b);
}

/* A task that blocks until released, to keep a batch running; it gives up
 * after TH_WAIT_MS with code 1, which fails the test. */
static atomic_int release;
static int blocker(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)ctx;
  (void)arg;
  (void)out;
  double end = th_now_ms() + TH_WAIT_MS;
  while (!atomic_load(&release))
    if (th_now_ms() >= end) return 1;
    else th_sleep_ms(0.2);
  return 0;
}

static void pause_and_resume_are_idempotent(void) {
  /* blockers keep the batch running while it is paused and resumed */
  atomic_store(&release, 0);
  ompb_task t[8];
  for (int i = 0; i < 8; i++) t[i] = (ompb_task){.fn = blocker};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 8, NULL, &b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_pause(b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_batch_pause(b), OMPB_OK);
  CU_ASSERT(ompb_batch_is_paused(b));
  CU_ASSERT_EQUAL(ompb_batch_resume(b), OMPB_OK); /* one resume undoes both */
  CU_ASSERT_FALSE(ompb_batch_is_paused(b));
  CU_ASSERT_EQUAL(ompb_batch_resume(b), OMPB_OK);
  CU_ASSERT_FALSE(ompb_batch_is_paused(b));
  atomic_store(&release, 1);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->success_count, 8u);
  ompb_result_free(r);
  ompb_batch_free(b);
}

static void register_while_running_is_estate(void) {
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, NULL), OMPB_OK);
  atomic_store(&release, 0);
  ompb_task t[1] = {{.fn = blocker}};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(p, t, 1, NULL, &b), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_pool_register(p, "late", th_index_task), OMPB_ESTATE);
  atomic_store(&release, 1);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT(r->all_succeeded);
  ompb_result_free(r);
  ompb_batch_free(b);
  CU_ASSERT_EQUAL(ompb_pool_register(p, "later", th_index_task), OMPB_ESTATE);
  ompb_pool_destroy(p);
}

/* From the reporter thread (on_progress): starting or waiting would
 * deadlock the reporter, so both are OMPB_ESTATE. */
struct from_cb {
  ompb_batch *_Atomic self;
  atomic_int start_rc, map_rc, wait_rc, exec_rc, done;
  atomic_int finished; /* the callback made all its calls */
};
static void start_from_progress(const ompb_progress *p, void *user) {
  (void)p;
  struct from_cb *f = user;
  if (!atomic_load(&f->self) || atomic_exchange(&f->done, 1)) return;
  ompb_task t[1] = {{.fn = th_index_task}};
  ompb_batch *b = (ompb_batch *)&b;
  atomic_store(&f->start_rc, ompb_batch_start(pool, t, 1, NULL, &b));
  if (b) atomic_store(&f->start_rc, 1000); /* *out must stay NULL */
  ompb_result *r = (ompb_result *)&r;
  atomic_store(&f->exec_rc, ompb_exec_batch(pool, t, 1, NULL, &r));
  double x = 1, y;
  atomic_store(&f->map_rc, ompb_map(pool, &x, 1, sizeof x, &y, sizeof y, map_copy, NULL, &r));
  atomic_store(&f->wait_rc, ompb_batch_wait(atomic_load(&f->self), &r));
  atomic_store(&f->finished, 1);
}

static void start_or_wait_from_on_progress_is_estate(void) {
  struct from_cb f = {.start_rc = 99, .map_rc = 99, .wait_rc = 99, .exec_rc = 99};
  atomic_store(&release, 0);
  ompb_task t[1] = {{.fn = blocker}};
  ompb_batch_opts o = {.on_progress = start_from_progress, .progress_throttle_ms = 1, .user = &f};
  ompb_batch *b;
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 1, &o, &b), OMPB_OK);
  atomic_store(&f.self, b);
  /* the blocker keeps the batch running until the callback made its calls */
  CU_ASSERT(th_wait_equal(&f.finished, 1, TH_WAIT_MS));
  atomic_store(&release, 1);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT(r->all_succeeded);
  ompb_result_free(r);
  ompb_batch_free(b);
  CU_ASSERT_EQUAL(atomic_load(&f.start_rc), OMPB_ESTATE);
  CU_ASSERT_EQUAL(atomic_load(&f.exec_rc), OMPB_ESTATE);
  CU_ASSERT_EQUAL(atomic_load(&f.map_rc), OMPB_ESTATE);
  CU_ASSERT_EQUAL(atomic_load(&f.wait_rc), OMPB_ESTATE);
}

static void exec_and_map_with_huge_or_zero_n(void) {
  ompb_task t[1] = {{.fn = th_index_task}};
  ompb_result *r = (ompb_result *)&r;
  atomic_store(&calls, 0);
  ompb_batch_opts o = {.on_progress = count_progress, .on_result = count_result};
  CU_ASSERT_EQUAL(ompb_exec_batch(pool, t, SIZE_MAX, &o, &r), OMPB_ENOMEM);
  CU_ASSERT_PTR_NULL(r);
  /* n == 0 with NULL tasks: an empty, successful result */
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, NULL, 0, &o, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->count, 0u);
  CU_ASSERT(r->all_succeeded);
  CU_ASSERT_FALSE(r->cancelled);
  ompb_result_free(r);
  CU_ASSERT_EQUAL(atomic_load(&calls), 1); /* the final report only */

  double x[2] = {1, 2}, y[2];
  /* n * item_size overflows: EINVAL; huge n with zero sizes: ENOMEM */
  CU_ASSERT_EQUAL(ompb_map(pool, x, SIZE_MAX, 1, y, 1, map_copy, NULL, &r), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_EQUAL(ompb_map(pool, NULL, SIZE_MAX, 0, NULL, 0, map_copy, NULL, &r), OMPB_ENOMEM);
  CU_ASSERT_PTR_NULL(r);
  ompb_batch *b = (ompb_batch *)&b;
  CU_ASSERT_EQUAL(ompb_map_start(pool, NULL, 0, 8, NULL, 8, map_copy, NULL, &b), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->count, 0u);
  ompb_result_free(r);
  ompb_batch_free(b);
  CU_ASSERT_EQUAL(ompb_map_start(pool, x, 2, 8, y, 8, map_copy, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_map_start(NULL, x, 2, 8, y, 8, map_copy, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(b);
}

static void infinite_times_are_valid_and_mean_no_deadline(void) {
  ompb_task t[2] = {{.fn = th_index_task, .timeout_ms = INFINITY}, {.fn = th_index_task}};
  ompb_batch_opts o = {.task_timeout_ms = INFINITY, .batch_timeout_ms = INFINITY,
                       .progress_throttle_ms = INFINITY, .on_progress = count_progress};
  ompb_result *r;
  atomic_store(&calls, 0);
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, 2, &o, &r), OMPB_OK);
  CU_ASSERT(r->all_succeeded);
  CU_ASSERT_FALSE(r->timed_out);
  CU_ASSERT_EQUAL(atomic_load(&calls), 1); /* throttle never elapses: final only */
  ompb_result_free(r);
  /* and negative zero is zero */
  ompb_batch_opts z = {.task_timeout_ms = -0.0};
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, 2, &z, &r), OMPB_OK);
  ompb_result_free(r);
}

static void result_queries_handle_null_out_zero_cap_and_discard(void) {
  ompb_task t[4] = {{.fn = th_index_task}, {.fn = th_fail_task, .arg = (void *)(intptr_t)3},
                    {.fn = th_index_task}, {.fn = th_fail_task, .arg = (void *)(intptr_t)5}};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, 4, NULL, &r), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_result_successes(r, NULL, 0), 2u);
  CU_ASSERT_EQUAL(ompb_result_failures(r, NULL, 0), 2u);
  ompb_value v[1];
  const ompb_error *e[1];
  CU_ASSERT_EQUAL(ompb_result_successes(r, v, 1), 2u); /* like snprintf */
  CU_ASSERT_EQUAL(v[0].i64, 0);
  CU_ASSERT_EQUAL(ompb_result_failures(r, e, 1), 2u);
  CU_ASSERT_EQUAL(e[0]->code, 3);
  CU_ASSERT_EQUAL(e[0]->index, 1u);
  ompb_result_free(r);
  ompb_batch_opts o = {.discard_results = true, .on_result = count_result};
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(pool, t, 4, &o, &r), OMPB_OK);
  CU_ASSERT_PTR_NULL(r->results);
  CU_ASSERT_EQUAL(r->count, 4u);
  CU_ASSERT_EQUAL(ompb_result_successes(r, v, 1), 0u);
  CU_ASSERT_EQUAL(ompb_result_failures(r, e, 1), 0u);
  ompb_result_free(r);
}

/* A batch freed without a wait hands its values to result_free: the value
 * of every task that succeeded, once each, and nothing else. */
static atomic_int values_freed, values_seen; /* calls; bit v for value v */
static void free_value(ompb_value v, void *user) {
  (void)user;
  atomic_fetch_add(&values_freed, 1);
  if (v.i64 >= 0 && v.i64 < 30) atomic_fetch_or(&values_seen, 1 << v.i64);
}
static void free_without_wait_drops_values_through_result_free(void) {
  /* values 2*2 and 3*3; the failing task has none */
  ompb_task t[3] = {{.fn = th_square_task, .arg = (void *)(intptr_t)2},
                    {.fn = th_square_task, .arg = (void *)(intptr_t)3},
                    {.fn = th_fail_task, .arg = (void *)(intptr_t)2}};
  ompb_batch_opts o = {.result_free = free_value};
  ompb_batch *b;
  atomic_store(&values_freed, 0);
  atomic_store(&values_seen, 0);
  CU_ASSERT_EQUAL_FATAL(ompb_batch_start(pool, t, 3, &o, &b), OMPB_OK);
  /* every task ran before the free, so none is skipped by its cancel */
  double end = th_now_ms() + TH_WAIT_MS;
  ompb_progress p = {0};
  while (ompb_batch_progress(b, &p) == OMPB_OK && p.completed < 3 && th_now_ms() < end) th_sleep_ms(0.05);
  CU_ASSERT_EQUAL(p.completed, 3u);
  ompb_batch_free(b); /* waits, drops the result */
  CU_ASSERT_EQUAL(atomic_load(&values_freed), 2);
  CU_ASSERT_EQUAL(atomic_load(&values_seen), (1 << 4) | (1 << 9));
}

static void kernel_maps_reject_bad_input(void) {
  float in[8] = {0}, out[8];
  ompb_batch *b = (ompb_batch *)&b;
  CU_ASSERT_EQUAL(ompb_pool_map_f32(NULL, in, out, 8, ompb_k_sin_f32, NULL, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(b);
  CU_ASSERT_EQUAL(ompb_pool_map_f32(pool, in, out, 8, NULL, NULL, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_map_f32(pool, NULL, out, 8, ompb_k_sin_f32, NULL, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_map_f32(pool, in, NULL, 8, ompb_k_sin_f32, NULL, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_map_f32(pool, in, out, 8, ompb_k_sin_f32, NULL, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_map_f32(pool, in, in + 1, 4, ompb_k_sin_f32, NULL, NULL, &b), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_map_f32(pool, in, out, SIZE_MAX, ompb_k_sin_f32, NULL, NULL, &b), OMPB_EINVAL);
  ompb_map_opts bad = {.batch = {.batch_timeout_ms = NAN}};
  CU_ASSERT_EQUAL(ompb_pool_map_f32(pool, in, out, 8, ompb_k_sin_f32, NULL, &bad, &b), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(b);
  CU_ASSERT_EQUAL_FATAL(ompb_pool_map_f32(pool, NULL, NULL, 0, ompb_k_sin_f32, NULL, NULL, &b), OMPB_OK);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_batch_wait(b, &r), OMPB_OK);
  ompb_result_free(r);
  ompb_batch_free(b);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(in, out, 8, NULL, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(NULL, out, 8, ompb_k_sin_f32, NULL), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_simd_map_f32(NULL, NULL, 0, ompb_k_sin_f32, NULL), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_simd_map_f64(NULL, NULL, 4, ompb_k_sin_f64, NULL), OMPB_EINVAL);
}

static void set_allocator_after_use_is_estate(void) {
  CU_ASSERT_EQUAL(ompb_set_allocator(malloc, calloc, realloc, free), OMPB_ESTATE);
  CU_ASSERT_EQUAL(ompb_set_allocator(NULL, calloc, realloc, free), OMPB_EINVAL);
}

int ompb_suite_guarantees(void) {
  CU_pSuite s = CU_add_suite("guarantees", setup, teardown);
  if (!s) return -1;
  struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
      {"ctx_functions_accept_null", ctx_functions_accept_null},
      {"progress_rejects_null_and_reports_final_counts", progress_rejects_null_and_reports_final_counts},
      {"wait_with_null_out_leaves_the_result_for_a_later_wait",
       wait_with_null_out_leaves_the_result_for_a_later_wait},
      {"control_on_a_finished_batch_is_ok_and_does_nothing",
       control_on_a_finished_batch_is_ok_and_does_nothing},
      {"pause_and_resume_are_idempotent", pause_and_resume_are_idempotent},
      {"register_while_running_is_estate", register_while_running_is_estate},
      {"start_or_wait_from_on_progress_is_estate", start_or_wait_from_on_progress_is_estate},
      {"exec_and_map_with_huge_or_zero_n", exec_and_map_with_huge_or_zero_n},
      {"infinite_times_are_valid_and_mean_no_deadline", infinite_times_are_valid_and_mean_no_deadline},
      {"result_queries_handle_null_out_zero_cap_and_discard",
       result_queries_handle_null_out_zero_cap_and_discard},
      {"free_without_wait_drops_values_through_result_free",
       free_without_wait_drops_values_through_result_free},
      {"kernel_maps_reject_bad_input", kernel_maps_reject_bad_input},
      {"set_allocator_after_use_is_estate", set_allocator_after_use_is_estate},
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    if (!CU_add_test(s, tests[i].name, tests[i].fn)) return -1;
  return 0;
}
