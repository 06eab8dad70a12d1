/* SPDX-License-Identifier: BSD-3-Clause */
/* The allocator hook: all library memory goes through these four pointers. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (internal.h) */
#include <stdlib.h>

#include "alloc.h"
#include "internal.h"

/* The functions in use. Replaced only by ompb_set_allocator before the first
 * allocation; `used` turns true at the first allocation and never back. */
static void *(*g_malloc)(size_t) = malloc;
static void *(*g_calloc)(size_t, size_t) = calloc;
static void *(*g_realloc)(void *, size_t) = realloc;
static void (*g_free)(void *) = free;
static atomic_bool used;

int ompb_set_allocator(void *(*malloc_fn)(size_t),
                       void *(*calloc_fn)(size_t, size_t),
                       void *(*realloc_fn)(void *, size_t),
                       void (*free_fn)(void *)) {
  if (!malloc_fn || !calloc_fn || !realloc_fn || !free_fn) return OMPB_EINVAL;
  if (atomic_load(&used)) return OMPB_ESTATE;
  g_malloc = malloc_fn;
  g_calloc = calloc_fn;
  g_realloc = realloc_fn;
  g_free = free_fn;
  return OMPB_OK;
}

static inline void mark_used(void) {
  if (!atomic_load_explicit(&used, memory_order_relaxed))
    atomic_store(&used, true);
}

void *ompb__malloc(size_t size) {
  mark_used();
  return size == SIZE_MAX ? NULL : g_malloc(size ? size : 1);
}

void *ompb__calloc(size_t n, size_t size) {
  mark_used();
  if (ompb__mul(n, size) == SIZE_MAX) return NULL;
  return g_calloc(n ? n : 1, size ? size : 1);
}

void *ompb__realloc(void *p, size_t size) {
  mark_used();
  return size == SIZE_MAX ? NULL : g_realloc(p, size ? size : 1);
}

void ompb__free(void *p) {
  if (p) g_free(p);
}
