/* SPDX-License-Identifier: BSD-3-Clause */
/* Results: the one builder (ompb__result_new), the error records, the
 * queries and the one destructor (ompb__result_destroy). A result is one
 * allocation (the public struct followed by the per-task array) plus the
 * allocations on its `errs` list: one per error record, and possibly one
 * block of records built at seal for failed allocations. */
#define _GNU_SOURCE /* madvise */
#include <string.h>
#include <sys/mman.h>

#include "work.h"

/* First-touch page faults dominate large batches (a 1M-task result array
 * is 40 MB: ~10k faults at 4 KiB). Ask for transparent huge pages on the
 * array's 2 MiB-aligned interior; advice only, so failure changes nothing. */
#define HUGE_PAGE (2u << 20)
static void advise_huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (!p || bytes < 4 * (size_t)HUGE_PAGE) return;
  uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
  uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

struct ompb__result *ompb__result_new(size_t n, bool keep) {
  size_t bytes = keep ? ompb__mul(n, sizeof(ompb_task_result)) : 0;
  if (bytes == SIZE_MAX || bytes > SIZE_MAX - sizeof(struct ompb__result)) return NULL;
  struct ompb__result *res = ompb__malloc(sizeof *res + bytes);
  if (!res) return NULL;
  memset(res, 0, sizeof *res);
  res->pub.results = keep ? (ompb_task_result *)(res + 1) : NULL;
  res->pub.count = n;
  advise_huge_pages(res->pub.results, bytes);
  return res;
}

/* A record allocation: the list link, then the record, then the message. */
struct record {
  struct ompb__errnode node;
  ompb_error e;
};

ompb_error *ompb__error_new(struct ompb__errnode **list, int code, size_t index,
                            const char *msg) {
  size_t len = msg ? strlen(msg) + 1 : 0;
  struct record *rec = ompb__malloc(sizeof *rec + len);
  if (!rec) return NULL;
  rec->e.code = code;
  rec->e.index = index;
  if (msg) {
    char *m = (char *)(rec + 1);
    memcpy(m, msg, len);
    rec->e.message = m;
  } else {
    rec->e.message = ompb_strerror(code);
  }
  rec->node.next = *list;
  *list = &rec->node;
  return &rec->e;
}

void ompb__result_adopt(struct ompb__result *res, struct ompb__errnode **list) {
  struct ompb__errnode *n = *list;
  if (!n) return;
  while (n->next) n = n->next;
  n->next = res->errs;
  res->errs = *list;
  *list = NULL;
}

static bool failed(const ompb_task_result *t) {
  return t->status != 0 && t->status != OMPB_ECANCELED;
}

int ompb__result_fill_lost(ompb_batch *b, size_t lost) {
  struct ompb__result *res = b->res;
  size_t bytes = ompb__mul(lost, sizeof(ompb_error));
  if (bytes > SIZE_MAX - sizeof(struct ompb__errnode)) return OMPB_ENOMEM;
  struct ompb__errnode *block = ompb__calloc(1, sizeof *block + bytes);
  if (!block) return OMPB_ENOMEM;
  block->next = res->errs;
  res->errs = block;
  /* The records follow the link; ompb_error's alignment is a pointer's. */
  ompb_error *recs = (ompb_error *)(block + 1);
  size_t j = 0;
  for (size_t i = 0; i < b->n && j < lost; i++) {
    ompb_task_result *t = &b->results[i];
    if (failed(t) && !t->error) {
      ompb_error *e = &recs[j++];
      e->code = t->status;
      e->index = ompb__error_index(b, i);
      e->message = ompb_strerror(t->status);
      t->error = e;
    }
  }
  return OMPB_OK;
}

void ompb__result_destroy(struct ompb__result *res, const ompb_batch *drop) {
  if (!res) return;
  if (drop && drop->ops->values && drop->opts.result_free && res->pub.results) {
    const ompb_batch_opts *o = &drop->opts;
    for (size_t i = 0; i < res->pub.count; i++) {
      const ompb_task_result *t = &res->pub.results[i];
      if (t->status == 0) o->result_free(t->value, o->user);
    }
  }
  for (struct ompb__errnode *n = res->errs, *next; n; n = next) {
    next = n->next;
    ompb__free(n);
  }
  ompb__free(res);
}

void ompb_result_free(ompb_result *r) {
  ompb__result_destroy((struct ompb__result *)r, NULL);
}

size_t ompb_result_successes(const ompb_result *r, ompb_value *out, size_t cap) {
  if (!r || !r->results) return 0;
  size_t count = 0;
  for (size_t i = 0; i < r->count; i++) {
    if (r->results[i].status != 0) continue;
    if (out && count < cap) out[count] = r->results[i].value;
    count++;
  }
  return count;
}

size_t ompb_result_failures(const ompb_result *r, const ompb_error **out, size_t cap) {
  if (!r || !r->results) return 0;
  size_t count = 0;
  for (size_t i = 0; i < r->count && count < r->failure_count; i++) {
    if (!failed(&r->results[i])) continue;
    if (out && count < cap) out[count] = r->results[i].error;
    count++;
  }
  return count;
}
