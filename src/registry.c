/* SPDX-License-Identifier: BSD-3-Clause */
/* The method registry: an open-addressing hash table from copied names to
 * function pointers, one kind per table (see registry.h). A pool's table is
 * written only before its first batch and read without locks afterwards
 * (see ompb_pool_register); the MPI backend's table is guarded by its lock. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (internal.h) */
#include <string.h>

#include "internal.h"

struct ompb__reg_entry {
  char *name; /* NULL: empty slot */
  uint64_t hash;
  /* The member of the table's kind; NULL in an empty slot. */
  union ompb__reg_fn {
    ompb_task_fn *task;
    ompb__bytes_fn *bytes;
  } fn;
};

static uint64_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void ompb__registry_free(ompb__registry *r) {
  for (size_t i = 0; i < r->cap; i++) ompb__free(r->slots[i].name);
  ompb__free(r->slots);
  r->slots = NULL;
  r->cap = r->count = 0;
}

static struct ompb__reg_entry *probe(struct ompb__reg_entry *slots, size_t cap,
                                     const char *name, uint64_t h) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    struct ompb__reg_entry *e = &slots[i];
    if (!e->name || (e->hash == h && strcmp(e->name, name) == 0)) return e;
  }
}

static int grow(ompb__registry *r) {
  size_t cap = r->cap ? r->cap * 2 : 16;
  struct ompb__reg_entry *slots = ompb__calloc(cap, sizeof *slots);
  if (!slots) return OMPB_ENOMEM;
  for (size_t i = 0; i < r->cap; i++) {
    struct ompb__reg_entry *e = &r->slots[i];
    if (e->name) *probe(slots, cap, e->name, e->hash) = *e;
  }
  ompb__free(r->slots);
  r->slots = slots;
  r->cap = cap;
  return OMPB_OK;
}

static int add(ompb__registry *r, const char *name, union ompb__reg_fn fn) {
  uint64_t h = hash_name(name);
  if (r->cap && probe(r->slots, r->cap, name, h)->name) return OMPB_EEXIST;
  /* Keep the load factor at or below one half. */
  if ((r->count + 1) * 2 > r->cap && grow(r) != OMPB_OK) return OMPB_ENOMEM;
  size_t len = strlen(name) + 1;
  char *copy = ompb__malloc(len);
  if (!copy) return OMPB_ENOMEM;
  memcpy(copy, name, len);
  struct ompb__reg_entry *e = probe(r->slots, r->cap, name, h);
  e->name = copy;
  e->hash = h;
  e->fn = fn;
  r->count++;
  return OMPB_OK;
}

/* The entry under `name`: NULL when there is none. */
static const struct ompb__reg_entry *find(const ompb__registry *r,
                                          const char *name) {
  if (!r->cap) return NULL;
  const struct ompb__reg_entry *e =
      probe(r->slots, r->cap, name, hash_name(name));
  return e->name ? e : NULL;
}

int ompb__registry_add(ompb__registry *r, const char *name, ompb_task_fn *fn) {
  return add(r, name, (union ompb__reg_fn){.task = fn});
}

ompb_task_fn *ompb__registry_find(const ompb__registry *r, const char *name) {
  const struct ompb__reg_entry *e = find(r, name);
  return e ? e->fn.task : NULL;
}

int ompb__registry_add_bytes(ompb__registry *r, const char *name,
                             ompb__bytes_fn *fn) {
  return add(r, name, (union ompb__reg_fn){.bytes = fn});
}

ompb__bytes_fn *ompb__registry_find_bytes(const ompb__registry *r,
                                          const char *name) {
  const struct ompb__reg_entry *e = find(r, name);
  return e ? e->fn.bytes : NULL;
}
