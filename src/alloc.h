/* SPDX-License-Identifier: BSD-3-Clause */
/* The allocator hook's internal side (src/alloc.c): every byte the library
 * and its MPI backend allocate goes through these. Private; never installed. */
#ifndef OMPB_ALLOC_H
#define OMPB_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* Exported for libompbatch_mpi only, not API: the library is built with
 * -fvisibility=hidden, and the MPI backend is a separate shared library that
 * must allocate through the same hook and share the registry. No header
 * under include/ declares these; their names and signatures may change in
 * any release. */
#if defined(__GNUC__)
#define OMPB__PRIVATE __attribute__((visibility("default")))
#else
#define OMPB__PRIVATE
#endif

OMPB__PRIVATE void *ompb__malloc(size_t size);
OMPB__PRIVATE void *ompb__calloc(size_t n, size_t size);
OMPB__PRIVATE void *ompb__realloc(void *p, size_t size);
OMPB__PRIVATE void ompb__free(void *p);
/* n * size, or SIZE_MAX when it overflows (no allocator accepts that). */
static inline size_t ompb__mul(size_t n, size_t size) {
  size_t r;
  return __builtin_mul_overflow(n, size, &r) ? SIZE_MAX : r;
}

#endif /* OMPB_ALLOC_H */
