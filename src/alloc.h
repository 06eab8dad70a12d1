/* The allocator hook's internal side (src/alloc.c): every byte the library
 * allocates goes through these. Private; never installed. */
#ifndef OMPB_ALLOC_H
#define OMPB_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *ompb__malloc(size_t size);
void *ompb__calloc(size_t n, size_t size);
void *ompb__realloc(void *p, size_t size);
void ompb__free(void *p);
/* n * size, or SIZE_MAX when it overflows (no allocator accepts that). */
static inline size_t ompb__mul(size_t n, size_t size) {
  size_t r;
  return __builtin_mul_overflow(n, size, &r) ? SIZE_MAX : r;
}

#endif /* OMPB_ALLOC_H */
