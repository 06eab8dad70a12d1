/* SPDX-License-Identifier: BSD-3-Clause */
/* The layout of every C struct the Fortran module mirrors with a bind(c)
 * type: its size, then each field's offset, in declaration order. The
 * Fortran test computes the same list from its types (c_sizeof and c_loc)
 * and compares them entry by entry. */
#include <stddef.h>

#include "ompbatch.h"

size_t ompbt_layout(size_t *out, size_t cap);

#define SZ(T) out[n++] = sizeof(T)
#define OF(T, f) out[n++] = offsetof(T, f)

size_t ompbt_layout(size_t *out, size_t cap) {
  size_t n = 0;
  if (cap < 128)
    return 0;
  SZ(ompb_pool_opts); OF(ompb_pool_opts, workers); OF(ompb_pool_opts, no_pin);
  SZ(ompb_batch_opts); OF(ompb_batch_opts, concurrency);
  OF(ompb_batch_opts, fail_fast); OF(ompb_batch_opts, on_progress);
  OF(ompb_batch_opts, progress_throttle_ms); OF(ompb_batch_opts, task_timeout_ms);
  OF(ompb_batch_opts, batch_timeout_ms); OF(ompb_batch_opts, on_result);
  OF(ompb_batch_opts, discard_results); OF(ompb_batch_opts, result_free);
  OF(ompb_batch_opts, user);
  SZ(ompb_map_opts); OF(ompb_map_opts, batch); OF(ompb_map_opts, chunk_size);
  SZ(ompb_progress); OF(ompb_progress, completed); OF(ompb_progress, total);
  OF(ompb_progress, successes); OF(ompb_progress, failures);
  OF(ompb_progress, percentage); OF(ompb_progress, estimated_remaining_ms);
  OF(ompb_progress, throughput);
  SZ(ompb_error); OF(ompb_error, code); OF(ompb_error, index); OF(ompb_error, message);
  SZ(ompb_task_result); OF(ompb_task_result, index); OF(ompb_task_result, status);
  OF(ompb_task_result, value); OF(ompb_task_result, error);
  OF(ompb_task_result, duration_ms);
  SZ(ompb_result); OF(ompb_result, results); OF(ompb_result, count);
  OF(ompb_result, success_count); OF(ompb_result, failure_count);
  OF(ompb_result, cancelled_count); OF(ompb_result, duration_ms);
  OF(ompb_result, all_succeeded); OF(ompb_result, cancelled); OF(ompb_result, timed_out);
  SZ(ompb_task); OF(ompb_task, method); OF(ompb_task, fn); OF(ompb_task, arg);
  OF(ompb_task, arg_free); OF(ompb_task, timeout_ms);
  SZ(ompb_kernel_info); OF(ompb_kernel_info, name); OF(ompb_kernel_info, arity);
  OF(ompb_kernel_info, nparams); OF(ompb_kernel_info, ulp_f32);
  OF(ompb_kernel_info, ulp_f64); OF(ompb_kernel_info, what); OF(ompb_kernel_info, f32);
  OF(ompb_kernel_info, f64); OF(ompb_kernel_info, f32_2); OF(ompb_kernel_info, f64_2);
  SZ(ompb_expr_diag); OF(ompb_expr_diag, pos); OF(ompb_expr_diag, message);
  /* the sizes of the scalar types the mirrors use for unsigned and bool */
  SZ(unsigned); SZ(_Bool); SZ(ompb_value);
  return n;
}
