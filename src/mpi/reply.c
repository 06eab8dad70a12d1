/* SPDX-License-Identifier: BSD-3-Clause */
/* The byte-level registry (a table of the core's registry module) and a
 * task's output slot: ompb_mpi_register, ompb_mpi_reply and friends, and the
 * trampoline that runs a byte-level function as a local task. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "backend.h"

/* reg_mu protects reg; a chunk's lookups take it once. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static ompb__registry reg;

int ompb_mpi_register(const char *method, ompb_mpi_fn *fn) {
  if (!method || !*method || !fn) return OMPB_EINVAL;
  if (strlen(method) > OMPB_MPI_METHOD_MAX) return OMPB_ERANGE;
  pthread_mutex_lock(&reg_mu);
  int rc = ompb__registry_add_bytes(&reg, method, fn);
  pthread_mutex_unlock(&reg_mu);
  return rc;
}

void ompb_mpi_registry_clear(void) {
  pthread_mutex_lock(&reg_mu);
  ompb__registry_free(&reg);
  pthread_mutex_unlock(&reg_mu);
}

/* ---- a task's output slot (the public ompb_mpi_out) ---- */

/* Results up to this many bytes live in the slot itself. */
#define SMALL 16
struct ompb_mpi_out {
  ompb_mpi_fn *fn; /* NULL: method unknown on this rank */
  const char *method;
  const unsigned char *params;
  size_t len;
  uint64_t id;
  int rank;
  bool on_heap;
  size_t out_len, heap_cap;
  unsigned char *heap;
  unsigned char small[SMALL];
};

void *ompb_mpi_reply_buf(ompb_mpi_out *o, size_t len) {
  if (!o || len > OMPB_MPI_BYTES_MAX) return NULL;
  if (len <= SMALL) {
    o->on_heap = false;
    o->out_len = len;
    return o->small;
  }
  if (o->heap_cap < len) {
    unsigned char *h = ompb__malloc(len);
    if (!h) return NULL;
    ompb__free(o->heap);
    o->heap = h;
    o->heap_cap = len;
  }
  o->on_heap = true;
  o->out_len = len;
  return o->heap;
}

int ompb_mpi_reply(ompb_mpi_out *o, const void *data, size_t len) {
  if (!o || (!data && len)) return OMPB_EINVAL;
  if (len > OMPB_MPI_BYTES_MAX) return OMPB_ERANGE;
  void *p = ompb_mpi_reply_buf(o, len);
  if (!p) return OMPB_ENOMEM;
  if (len) memcpy(p, data, len);
  return OMPB_OK;
}

size_t ompb_mpi_index(const ompb_mpi_out *o) { return o ? (size_t)o->id : 0; }

/* Runs on a worker of the rank's pool, as the local task of slot `arg`. */
static int trampoline(ompb_ctx *ctx, void *arg, ompb_value *v) {
  (void)v;
  ompb_mpi_out *o = arg;
  o->on_heap = false;
  o->out_len = 0;
  if (!o->fn)
    return ompb_ctx_fail(ctx, OMPB_ENOMETHOD,
                         "no byte-level task \"%s\" registered on rank %d",
                         o->method, o->rank);
  return o->fn(ctx, o->params, o->len, o);
}

ompb_mpi_out *ompb__mpi_slots_new(size_t n) {
  return ompb__calloc(n, sizeof(ompb_mpi_out));
}

void ompb__mpi_slots_free(ompb_mpi_out *slots, size_t n) {
  if (!slots) return;
  for (size_t i = 0; i < n; i++) ompb__free(slots[i].heap);
  ompb__free(slots);
}

void ompb__mpi_slots_bind(ompb_mpi_out *slots, ompb_task *tasks,
                          const ompb__wire_task *v, size_t n, int rank) {
  const char *last = NULL;
  ompb_mpi_fn *fn = NULL;
  pthread_mutex_lock(&reg_mu);
  for (size_t i = 0; i < n; i++) {
    /* Chunks mostly repeat one method: look a name up once per run. */
    if (!last || strcmp(last, v[i].method) != 0) {
      last = v[i].method;
      fn = ompb__registry_find_bytes(&reg, last);
    }
    slots[i] = (ompb_mpi_out){.fn = fn, .method = v[i].method,
                              .params = v[i].params, .len = v[i].len,
                              .id = v[i].id, .rank = rank};
    tasks[i] = (ompb_task){.fn = trampoline, .arg = &slots[i],
                           .timeout_ms = v[i].timeout_ms};
  }
  pthread_mutex_unlock(&reg_mu);
}

void ompb__mpi_slot_reply(const ompb_mpi_out *slots, size_t i,
                          const void **bytes, size_t *len) {
  const ompb_mpi_out *o = &slots[i];
  *bytes = o->on_heap ? o->heap : o->small;
  *len = o->out_len;
}
