/* SPDX-License-Identifier: BSD-3-Clause */
/* Map items, a kind of work: one user function over an array of items,
 * outputs at a fixed stride, no per-item task records; ompb_map_start and
 * ompb_map. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include "work.h"

/* Map items timed together: one clock read per block (a read costs ~40 ns
 * on a KVM guest, 0.04 ns per item here). */
#define MAP_BLOCK 1024

struct map {
  const char *items;
  char *outs; /* NULL when out_size is 0 */
  size_t item_size, out_size;
  ompb_map_fn *fn;
};

static inline int call_item(ompb_batch *b, struct ompb__slot *s, size_t i, ompb_value *v) {
  (void)s;
  (void)v;
  const struct map *m = OMPB__WORK(b, struct map);
  /* Integers, as in block_loop: items may be NULL with item_size 0, and
   * even NULL + 0 is undefined. */
  uintptr_t ip = (uintptr_t)m->items + i * m->item_size;
  uintptr_t op = (uintptr_t)m->outs + i * m->out_size;
  return m->fn((const void *)ip, m->outs ? (void *)op : NULL, i, b->opts.user);
}

static const ompb__each each_item = {call_item, NULL, NULL};

/* Give items [lo, hi), run since t0, equal shares of the time; returns now. */
static int64_t share_time(ompb_batch *b, size_t lo, size_t hi, int64_t t0) {
  int64_t t1 = ompb__now_ns();
  if (b->results && hi > lo) {
    double each = (double)(t1 - t0) / 1e6 / (double)(hi - lo);
    for (size_t i = lo; i < hi; i++) b->results[i].duration_ms = each;
  }
  return t1;
}

/* Map items without per-item callbacks or deadlines: one clock read per
 * block of items, durations shared evenly within the block. The batch's
 * fields are read once into locals: the item function is opaque, so the
 * compiler would reload them after every call (31 instructions per item
 * around the call before, 27 after; perf/bench_map). `keep` (whether
 * results are kept) is a constant in each of the two inlined copies. */
static inline __attribute__((always_inline)) bool
block_loop(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi, const bool keep) {
  const struct map *m = OMPB__WORK(b, struct map);
  const size_t isz = m->item_size, osz = m->out_size;
  ompb_map_fn *const fn = m->fn;
  void *const user = b->opts.user;
  ompb_task_result *const results = b->results;
  /* Running addresses of item i and its output; integers, because outs is
   * NULL (and osz 0) for maps without outputs. */
  uintptr_t ip = (uintptr_t)m->items + lo * isz;
  uintptr_t op = (uintptr_t)m->outs + lo * osz;
  /* A map function has no ctx (it can neither set a message nor read its
   * index from one), so the slot's ctx needs no per-item update. */
  s->has_msg = false;
  int64_t t0 = ompb__now_ns();
  size_t ok = 0;
  for (size_t blo = lo; blo < hi; blo += MAP_BLOCK) {
    size_t bhi = hi - blo < MAP_BLOCK ? hi : blo + MAP_BLOCK;
    for (size_t i = blo; i < bhi; i++, ip += isz, op += osz) {
      if (ompb__gate(b, &t0)) {
        OMPB__STORE(&s->ok, OMPB__LOAD(&s->ok) + ok);
        share_time(b, blo, i, t0);
        ompb__skip(b, i, hi);
        return true;
      }
      int rc = fn((const void *)ip, (void *)op, i, user);
      if (keep) {
        ompb_task_result *r = &results[i];
        r->index = i;
        r->status = rc;
        r->value.i64 = 0;
        r->error = NULL;
      }
      if (rc == 0) {
        ok++;
      } else {
        ompb__finish(b, s, i, rc, (ompb_value){0}, 0, false);
      }
    }
    OMPB__STORE(&s->ok, OMPB__LOAD(&s->ok) + ok);
    ok = 0;
    t0 = share_time(b, blo, bhi, t0);
  }
  return false;
}

static bool run_range(ompb_batch *b, struct ompb__slot *s, size_t lo, size_t hi) {
  if (b->opts.on_result || b->min_timeout_ns) return ompb__run_each(b, s, lo, hi, &each_item);
  return b->results ? block_loop(b, s, lo, hi, true) : block_loop(b, s, lo, hi, false);
}

static const struct ompb__work_ops map_ops = {.run_range = run_range};

static bool overflows(size_t n, size_t size) { return size && ompb__mul(n, size) == SIZE_MAX; }

/* ompb_map_start; `sync`: the caller waits next (ompb__launch). */
static int start(ompb_pool *pool, const void *items, size_t n, size_t item_size,
                 void *outs, size_t out_size, ompb_map_fn *fn,
                 const ompb_map_opts *opts, bool sync, ompb_batch **out) {
  if (out) *out = NULL;
  if (!pool || !fn || !out) return OMPB_EINVAL;
  if (n && ((!items && item_size) || (!outs && out_size))) return OMPB_EINVAL;
  if (overflows(n, item_size) || overflows(n, out_size)) return OMPB_EINVAL;
  ompb_batch *b;
  int rc = ompb__batch_new(pool, &map_ops, n, opts ? &opts->batch : NULL, sizeof(struct map), &b);
  if (rc != OMPB_OK) return rc;
  struct map *m = OMPB__WORK(b, struct map);
  m->items = items;
  m->outs = out_size ? outs : NULL;
  m->item_size = item_size;
  m->out_size = out_size;
  m->fn = fn;
  b->chunk = opts ? opts->chunk_size : 0;
  return ompb__launch(b, sync, out);
}

int ompb_map_start(ompb_pool *pool, const void *items, size_t n, size_t item_size,
                   void *outs, size_t out_size, ompb_map_fn *fn,
                   const ompb_map_opts *opts, ompb_batch **out) {
  return start(pool, items, n, item_size, outs, out_size, fn, opts, false, out);
}

int ompb_map(ompb_pool *pool, const void *items, size_t n, size_t item_size,
             void *outs, size_t out_size, ompb_map_fn *fn,
             const ompb_map_opts *opts, ompb_result **out) {
  if (out) *out = NULL;
  if (!out) return OMPB_EINVAL;
  ompb_batch *b;
  int rc = start(pool, items, n, item_size, outs, out_size, fn, opts, true, &b);
  return ompb__wait_and_free(rc, b, out);
}
