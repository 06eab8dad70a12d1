/* SPDX-License-Identifier: BSD-3-Clause */
/* The MPI backend's wire format (docs/mpi.md, "Wire format"): encoders and
 * validating decoders. Internal to libompbatch_mpi; the tests use it to
 * check the decoders directly. Every multi-byte field is little-endian.
 *
 * Every message starts with a 16-byte header:
 *   u8 version (1) | u8 kind | u16 reserved (0) | u32 count | u64 batch id
 * BATCH   (bcast, 56 bytes): header(count 0) | i32 rc | u32 concurrency |
 *         u64 n | u8 fail_fast | 7 x u8 0 | f64 task_timeout_ms |
 *         f64 batch_timeout_ms
 * CHUNK   (root -> rank): header(count = tasks) | f64 deadline_left_ms, then
 *         per task: u64 id | f64 timeout_ms | u32 params_len | u8 method_len |
 *         method (method_len bytes, NUL-terminated) | params
 * RESULTS (rank -> root): header(count = results) | i32 rc | u32 workers,
 *         (count 0 and rc 0: a request for a chunk; count 0 and rc != 0
 *         with no chunk outstanding: the rank cannot take part)
 *         then per result: u64 id | i32 status | f64 duration_ms | u32 len |
 *         bytes (a success's result, a failure's NUL-terminated message, or
 *         nothing for a cancelled task)
 * END, STOP (root -> rank, 20 bytes): header(count 0) | i32 rc
 *
 * Times: a timeout or deadline is >= 0 and not NaN, +inf meaning none (the
 * core's rule, ompb__bad_ms); a duration is finite and >= 0. */
#ifndef OMPB_MPI_WIRE_H
#define OMPB_MPI_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ompbatch/mpi.h"

#define OMPB__WIRE_VERSION 1
enum {
  OMPB__MSG_BATCH = 1,
  OMPB__MSG_CHUNK = 2,
  OMPB__MSG_RESULTS = 3,
  OMPB__MSG_END = 4,
  OMPB__MSG_STOP = 5
};

#define OMPB__HDR_LEN 16
#define OMPB__BATCH_LEN 56
#define OMPB__CTL_LEN 20
#define OMPB__CHUNK_HEAD (OMPB__HDR_LEN + 8)
#define OMPB__CHUNK_TASK_MIN (8 + 8 + 4 + 1 + 2)
#define OMPB__RES_HEAD (OMPB__HDR_LEN + 8)
#define OMPB__RES_ITEM (8 + 4 + 8 + 4)
/* A failure message on the wire: at most 255 characters plus the NUL. */
#define OMPB__MSG_MAX 256
/* Any message: lengths are MPI int counts. */
#define OMPB__WIRE_MAX (1u << 30)

typedef struct {
  int rc;
  unsigned concurrency;
  uint64_t n;
  bool fail_fast;
  double task_timeout_ms, batch_timeout_ms;
} ompb__wire_batch;

/* A decoded chunk task; pointers point into the message. */
typedef struct {
  uint64_t id;
  const char *method;
  const unsigned char *params;
  size_t len;
  double timeout_ms;
} ompb__wire_task;

/* A decoded result; pointers point into the message. */
typedef struct {
  uint64_t id;
  int status;
  double duration_ms;
  const unsigned char *bytes;
  size_t len;
} ompb__wire_result;

void ompb__wire_batch_encode(unsigned char *buf, uint64_t batch_id,
                             const ompb__wire_batch *h);
int ompb__wire_batch_decode(const unsigned char *buf, size_t len,
                            uint64_t *batch_id, ompb__wire_batch *h);

void ompb__wire_ctl_encode(unsigned char *buf, int kind, uint64_t batch_id,
                           int rc);
/* OMPB_OK and *kind (END or STOP) and *rc, or OMPB_EPROTO. */
int ompb__wire_ctl_decode(const unsigned char *buf, size_t len,
                          uint64_t batch_id, int *kind, int *rc);

/* Bytes a chunk of tasks[lo..lo+n) takes; the tasks were validated. */
size_t ompb__wire_chunk_size(const ompb_mpi_task *tasks, size_t lo, size_t n);
/* Encode that chunk into buf (ompb__wire_chunk_size bytes). */
void ompb__wire_chunk_encode(unsigned char *buf, uint64_t batch_id,
                             double deadline_left_ms,
                             const ompb_mpi_task *tasks, size_t lo, size_t n);
/* Validate a chunk and decode it into a new array (*out, *n; ompb__free it).
 * OMPB_OK, OMPB_EPROTO (malformed, wrong batch id or version), OMPB_ENOMEM. */
int ompb__wire_chunk_decode(const unsigned char *buf, size_t len,
                            uint64_t batch_id, double *deadline_left_ms,
                            ompb__wire_task **out, size_t *n);

/* Results: write the head, then each item with ompb__wire_result_put at the
 * returned offsets. ompb__wire_result_size(len) is one item's size. */
size_t ompb__wire_results_head(unsigned char *buf, uint64_t batch_id,
                               uint32_t count, int rc, unsigned workers);
size_t ompb__wire_result_put(unsigned char *buf, size_t off, uint64_t id,
                             int status, double duration_ms,
                             const void *bytes, size_t len);
static inline size_t ompb__wire_result_size(size_t len) {
  return OMPB__RES_ITEM + len;
}
/* Validate a results message against what was expected: exactly `expect`
 * results with ids lo, lo+1, ... (or none when the message carries a
 * non-zero rc). Sets *count, *rc and *workers. OMPB_OK or OMPB_EPROTO. */
int ompb__wire_results_check(const unsigned char *buf, size_t len,
                             uint64_t batch_id, uint64_t lo, size_t expect,
                             size_t *count, int *rc, unsigned *workers);
/* The count and rc fields of what claims to be a results message (a
 * request for work has both 0); OMPB_EPROTO when even the header is wrong.
 * ompb__wire_results_check still validates the whole message. */
int ompb__wire_results_peek(const unsigned char *buf, size_t len,
                            uint64_t batch_id, size_t *count, int *rc);
/* Read the item at *off of a checked message and advance *off. */
void ompb__wire_result_next(const unsigned char *buf, size_t *off,
                            ompb__wire_result *r);

#endif /* OMPB_MPI_WIRE_H */
