/* Results: queries and freeing. A result is one allocation (the public
 * struct followed by the per-task array) plus one error record per failed
 * task, and possibly one block of records built at seal (`lost`). */
#include "internal.h"

static bool failed(const ompb_task_result *t) {
  return t->status != 0 && t->status != OMPB_ECANCELED;
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

static void free_errors(struct ompb__result *res, size_t n) {
  ompb_result *r = &res->pub;
  if (!r->results) return;
  /* Records inside the `lost` block are not separate allocations. */
  const ompb_error *lo = res->lost, *hi = res->lost ? res->lost + res->nlost : NULL;
  for (size_t i = 0; i < n; i++) {
    const ompb_error *e = r->results[i].error;
    if (e && !(e >= lo && e < hi)) ompb__free((void *)e);
  }
  ompb__free(res->lost);
}

void ompb_result_free(ompb_result *r) {
  if (!r) return;
  struct ompb__result *res = (struct ompb__result *)r;
  free_errors(res, r->count);
  ompb__free(res);
}

/* The batch keeps a result nobody will take (freed handle, or no memory to
 * finish it): its values go to result_free, the rest is freed. Runs once
 * the team is done, so every slot in the array has been written. */
void ompb__result_drop(ompb_batch *b) {
  struct ompb__result *res = b->res;
  if (!res) return;
  const ompb_batch_opts *o = &b->opts;
  if (b->results) {
    for (size_t i = 0; i < b->n; i++) {
      ompb_task_result *t = &b->results[i];
      if (t->status == 0 && o->result_free && b->kind == OMPB__TASKS)
        o->result_free(t->value, o->user);
    }
  }
  res->pub.results = b->results;
  free_errors(res, b->n);
  ompb__free(res);
  b->res = NULL;
  b->results = NULL;
}
