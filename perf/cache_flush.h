/* SPDX-License-Identifier: BSD-3-Clause */
/* perf/bench_simd and perf/bench_expr: every row starts from the same state
 * of the caches, its arrays written back and dropped from every level
 * (clflushopt), outside its timing. Without it a row found part of its
 * input in the machine's large L3 (260 MiB here) when the row before it
 * had read the same array, or paid for the dirty lines a plain-store row
 * before it had left in out: the same loop measured from 0.8x to 1.15x the
 * stream copy depending on its place in the round (docs/design.md, "The
 * overlap ceiling"). Where the CPU has no clflushopt (cpuid) nothing is
 * flushed, and the benches say so in their header. */
#ifndef OMPB_PERF_CACHE_FLUSH_H
#define OMPB_PERF_CACHE_FLUSH_H

#include <cpuid.h>
#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool cache_flush_supported(void) {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 23 & 1);
}

/* Writes back and drops [p, p + bytes) from the caches; only where
 * cache_flush_supported(). Callers split large arrays between threads. */
__attribute__((target("clflushopt"))) static inline void
cache_flush(const void *p, size_t bytes) {
  for (size_t i = 0; i < bytes; i += 64)
    _mm_clflushopt((char *)(uintptr_t)p + i); /* it takes a void * */
  _mm_sfence(); /* the flushes are done before what follows */
}

#endif /* OMPB_PERF_CACHE_FLUSH_H */
