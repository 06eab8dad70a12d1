/* Shared test fixtures and the suite registry of the one test runner. */
#ifndef OMPB_TEST_HELPERS_H
#define OMPB_TEST_HELPERS_H

#include <stdatomic.h>
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

/* Milliseconds on the monotonic clock. */
double th_now_ms(void);
/* Sleep for `ms` milliseconds. */
void th_sleep_ms(double ms);

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
