/* SPDX-License-Identifier: BSD-3-Clause */
/* The method registry (src/registry.c): an open-addressing hash table from
 * copied names to function pointers. One implementation, two tables: a
 * pool's task functions (ompb_pool_register) and the MPI backend's
 * process-wide byte-level functions (ompb_mpi_register). A table holds one
 * kind of function; each kind has its own typed add/find pair. Private to
 * the library and its MPI backend; never installed. */
#ifndef OMPB_REGISTRY_H
#define OMPB_REGISTRY_H

#include <stddef.h>

#include "ompbatch.h"
#include "alloc.h"

/* A byte-level MPI task function: the same type as ompb_mpi_fn in
 * ompbatch/mpi.h, spelled out here so that the core needs no <mpi.h>. */
struct ompb_mpi_out;
typedef int ompb__bytes_fn(ompb_ctx *ctx, const void *params, size_t len,
                           struct ompb_mpi_out *out);

/* Not thread-safe: the owner serialises writers against readers (a pool
 * writes only before its first batch; the MPI backend holds a lock). */
typedef struct ompb__registry {
  struct ompb__reg_entry *slots; /* open addressing, power-of-two size */
  size_t cap, count;
} ompb__registry;

/* Frees every copied name and the table; the registry is empty afterwards
 * and may be used again. */
OMPB__PRIVATE void ompb__registry_free(ompb__registry *r);
/* Add `fn` under a copy of `name`: OMPB_OK, OMPB_EEXIST (name taken; the
 * table is unchanged), OMPB_ENOMEM (the table is unchanged). */
OMPB__PRIVATE int ompb__registry_add(ompb__registry *r, const char *name,
                                     ompb_task_fn *fn);
/* The function under `name`, or NULL. */
OMPB__PRIVATE ompb_task_fn *ompb__registry_find(const ompb__registry *r,
                                                const char *name);
/* The same pair for a table of byte-level MPI task functions. */
OMPB__PRIVATE int ompb__registry_add_bytes(ompb__registry *r, const char *name,
                                           ompb__bytes_fn *fn);
OMPB__PRIVATE ompb__bytes_fn *ompb__registry_find_bytes(const ompb__registry *r,
                                                        const char *name);

#endif /* OMPB_REGISTRY_H */
