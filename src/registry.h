/* The method registry (src/registry.c): an open-addressing hash table from
 * copied names to function pointers. Private to the library and its MPI
 * backend; never installed. */
#ifndef OMPB_REGISTRY_H
#define OMPB_REGISTRY_H

#include <stddef.h>

#include "ompbatch.h"

typedef struct ompb__registry {
  struct ompb__reg_entry *slots; /* open addressing, power-of-two size */
  size_t cap, count;
} ompb__registry;
void ompb__registry_free(ompb__registry *r);
int ompb__registry_add(ompb__registry *r, const char *name, ompb_task_fn *fn);
ompb_task_fn *ompb__registry_find(const ompb__registry *r, const char *name);

#endif /* OMPB_REGISTRY_H */
