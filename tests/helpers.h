/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared test fixtures and the suite registry of the one test runner. */
#ifndef OMPB_TEST_HELPERS_H
#define OMPB_TEST_HELPERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "ompbatch.h"

/* Each tests/test_<module>.c defines one of these: it adds its suite (with
 * CU_add_suite / CU_add_test) and returns 0, or -1 when CUnit failed. */
int ompb_suite_error(void);
int ompb_suite_pool(void);
int ompb_suite_batch(void);
int ompb_suite_control(void);
int ompb_suite_map(void);
int ompb_suite_simd(void);
int ompb_suite_guarantees(void);
int ompb_suite_caller(void);
int ompb_suite_limits(void);
int ompb_suite_expr(void);

/* Milliseconds on the monotonic clock. */
double th_now_ms(void);
/* Sleep for `ms` milliseconds. */
void th_sleep_ms(double ms);

/* How long a test waits for an event that must happen (a task starting, a
 * count reaching a value) before it fails: generous, so that only a missing
 * event and never a slow or busy machine runs it out. */
#define TH_WAIT_MS 10000.0

/* Wait until `*v >= k` (or `*v == k`), polling every 0.05 ms for at most
 * `timeout_ms`. Returns whether it happened: the caller asserts on it. */
bool th_wait_at_least(atomic_int *v, int k, double timeout_ms);
bool th_wait_equal(atomic_int *v, int k, double timeout_ms);

/* A pool of `workers` workers (a failed create fails the test). */
ompb_pool *th_pool(unsigned workers);

/* Task fixtures. `arg` conventions are documented next to each. */
/* arg: (intptr_t)k; returns 0 with out->i64 = k * k. */
int th_square_task(ompb_ctx *ctx, void *arg, ompb_value *out);
/* arg: unused; returns 0 with out->i64 = ompb_ctx_index(ctx). */
int th_index_task(ompb_ctx *ctx, void *arg, ompb_value *out);
/* arg: (intptr_t)ms to sleep (polling should_stop every 0.2 ms: returns
 * OMPB_ECANCELED when asked to stop); out->i64 = index. */
int th_sleep_task(ompb_ctx *ctx, void *arg, ompb_value *out);
/* arg: (intptr_t)code; fails with that code and a message naming the index. */
int th_fail_task(ompb_ctx *ctx, void *arg, ompb_value *out);

#endif /* OMPB_TEST_HELPERS_H */
