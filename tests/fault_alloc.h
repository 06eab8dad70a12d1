/* SPDX-License-Identifier: BSD-3-Clause */
/* The failing allocator of the fault injectors (tests/faults.c,
 * tests/mpi/test_mpi_faults.c), installed with ompb_set_allocator: it counts
 * allocations and live blocks, and fails the fail_at-th allocation (and,
 * with fail_from, every later one). One program includes it once; its
 * state is that program's. */
#ifndef OMPB_TEST_FAULT_ALLOC_H
#define OMPB_TEST_FAULT_ALLOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

static atomic_long n_calls;   /* allocations attempted in this run */
static atomic_long live;      /* blocks handed out and not yet freed */
static atomic_bool hit;       /* the failure point was reached */
static long fail_at;          /* 0: never fail */
static bool fail_from;        /* fail every allocation from fail_at on */

static bool should_fail(void) {
  long k = atomic_fetch_add(&n_calls, 1) + 1;
  if (!fail_at || k < fail_at || (k > fail_at && !fail_from)) return false;
  atomic_store(&hit, true);
  return true;
}
static void *f_malloc(size_t n) {
  if (should_fail()) return NULL;
  void *p = malloc(n);
  if (p) atomic_fetch_add(&live, 1);
  return p;
}
static void *f_calloc(size_t n, size_t s) {
  if (should_fail()) return NULL;
  void *p = calloc(n, s);
  if (p) atomic_fetch_add(&live, 1);
  return p;
}
static void *f_realloc(void *old, size_t n) {
  if (should_fail()) return NULL;
  void *p = realloc(old, n);
  if (p && !old) atomic_fetch_add(&live, 1);
  return p;
}
static void f_free(void *p) {
  if (p) atomic_fetch_sub(&live, 1);
  free(p);
}

#endif /* OMPB_TEST_FAULT_ALLOC_H */
