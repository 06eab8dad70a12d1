/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the MPI backend's wire decoders (src/mpi/wire.c) on
 * arbitrary bytes.
 *
 * The input is one message, of any kind; every decoder sees it, with the
 * batch id the message itself carries (bytes 8..15), so that the fuzzer
 * need not guess it. A decoder must reject it with OMPB_EPROTO or accept it
 * without reading outside it (ASan), and at most one decoder accepts a
 * message (the kind byte differs). What a decoder accepts is encoded again
 * from the decoded values with the backend's own encoders and must give the
 * input back byte for byte: a field the decoder misreads, or a malformed
 * message it lets through, shows up as a difference. Then the same message
 * must be refused for another batch id (and, for results, for another
 * expected count or first id). */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, then abort so libFuzzer keeps the input. */
#define EXPECT(cond)                                                    \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "fuzz_wire: %s:%d: expected %s\n", __FILE__,      \
              __LINE__, #cond);                                         \
      abort();                                                          \
    }                                                                   \
  } while (0)

/* The fields as the wire format defines them (little-endian), read here
 * independently of wire.c. */
static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static int fuzz_batch(const uint8_t *data, size_t size) {
  uint64_t bid;
  ompb__wire_batch h;
  int rc = ompb__wire_batch_decode(data, size, &bid, &h);
  EXPECT(rc == OMPB_OK || rc == OMPB_EPROTO);
  if (rc != OMPB_OK) return 0;
  EXPECT(size == OMPB__BATCH_LEN && bid == le64(data + 8));
  EXPECT(h.task_timeout_ms >= 0.0 && h.batch_timeout_ms >= 0.0);
  unsigned char out[OMPB__BATCH_LEN];
  ompb__wire_batch_encode(out, bid, &h);
  EXPECT(memcmp(out, data, sizeof out) == 0);
  return 1;
}

static int fuzz_ctl(const uint8_t *data, size_t size, uint64_t bid) {
  int kind = -1, code = 0;
  int rc = ompb__wire_ctl_decode(data, size, bid, &kind, &code);
  EXPECT(rc == OMPB_OK || rc == OMPB_EPROTO);
  if (rc != OMPB_OK) return 0;
  EXPECT(size == OMPB__CTL_LEN);
  EXPECT(kind == OMPB__MSG_END || kind == OMPB__MSG_STOP);
  unsigned char out[OMPB__CTL_LEN];
  ompb__wire_ctl_encode(out, kind, bid, code);
  EXPECT(memcmp(out, data, sizeof out) == 0);
  EXPECT(ompb__wire_ctl_decode(data, size, bid + 1, &kind, &code) == OMPB_EPROTO);
  return 1;
}

static int fuzz_chunk(const uint8_t *data, size_t size, uint64_t bid) {
  double dl = -1.0;
  ompb__wire_task *v = (ompb__wire_task *)1;
  size_t n = 1;
  int rc = ompb__wire_chunk_decode(data, size, bid, &dl, &v, &n);
  EXPECT(rc == OMPB_OK || rc == OMPB_EPROTO);
  if (rc != OMPB_OK) {
    /* A failing function leaves its outputs empty. */
    EXPECT(v == NULL && n == 0);
    return 0;
  }
  EXPECT(v != NULL && n > 0 && dl >= 0.0);

  ompb_mpi_task *tasks = calloc(n, sizeof *tasks);
  EXPECT(tasks != NULL);
  const uint8_t *end = data + size;
  for (size_t i = 0; i < n; i++) {
    const ompb__wire_task *t = &v[i];
    /* Everything the task points at lies inside the message. */
    const uint8_t *m = (const uint8_t *)t->method;
    EXPECT(m > data && m < end);
    size_t mlen = strnlen(t->method, (size_t)(end - m));
    EXPECT(mlen >= 1 && mlen <= OMPB_MPI_METHOD_MAX && m + mlen < end);
    EXPECT(t->len <= OMPB_MPI_BYTES_MAX);
    EXPECT(t->len == 0 ? t->params == NULL
                       : t->params > m && t->len <= (size_t)(end - t->params));
    EXPECT(t->timeout_ms >= 0.0);
    tasks[i] = (ompb_mpi_task){.method = t->method, .params = t->params,
                               .len = t->len, .timeout_ms = t->timeout_ms};
  }
  EXPECT(ompb__wire_chunk_size(tasks, 0, n) == size);

  /* The encoder numbers tasks by their index (lo = 0 here); the decoder
   * keeps whatever ids the message carries. Compare the ids apart, then
   * the whole message. */
  uint8_t *out = malloc(size);
  EXPECT(out != NULL);
  ompb__wire_chunk_encode(out, bid, dl, tasks, 0, n);
  size_t off = OMPB__CHUNK_HEAD;
  for (size_t i = 0; i < n; i++) {
    EXPECT(le64(out + off) == i && le64(data + off) == v[i].id);
    put_le64(out + off, v[i].id);
    off += 21 + strlen(v[i].method) + 1 + v[i].len;
  }
  EXPECT(off == size);
  EXPECT(memcmp(out, data, size) == 0);
  free(out);
  free(tasks);
  ompb__free(v);

  ompb__wire_task *w = (ompb__wire_task *)1;
  EXPECT(ompb__wire_chunk_decode(data, size, bid + 1, &dl, &w, &n) == OMPB_EPROTO);
  EXPECT(w == NULL && n == 0);
  return 1;
}

static int fuzz_results(const uint8_t *data, size_t size, uint64_t bid) {
  /* Expect what the message claims: its count and, as the first id, the
   * first item's id. Anything else is refused by a comparison. */
  size_t expect = size >= 8 ? le32(data + 4) : 0;
  uint64_t lo = size >= OMPB__RES_HEAD + 8 ? le64(data + OMPB__RES_HEAD) : 0;
  size_t count = 0, pcount = 0;
  int code = 0, pcode = 0;
  unsigned workers = 0;
  int rc = ompb__wire_results_check(data, size, bid, lo, expect, &count, &code,
                                    &workers);
  EXPECT(rc == OMPB_OK || rc == OMPB_EPROTO);
  int prc = ompb__wire_results_peek(data, size, bid, &pcount, &pcode);
  EXPECT(prc == OMPB_OK || prc == OMPB_EPROTO);
  if (rc != OMPB_OK) return 0;

  EXPECT(prc == OMPB_OK && pcount == count && pcode == code);
  EXPECT(count == expect && code <= 0 && workers >= 1 && workers <= 4096);
  EXPECT(code == 0 || count == 0);

  uint8_t *out = malloc(size);
  EXPECT(out != NULL);
  size_t off = ompb__wire_results_head(out, bid, (uint32_t)count, code, workers);
  size_t roff = OMPB__RES_HEAD;
  for (size_t i = 0; i < count; i++) {
    ompb__wire_result r;
    size_t before = roff;
    ompb__wire_result_next(data, &roff, &r);
    EXPECT(roff > before && roff <= size);
    EXPECT(r.id == lo + i);
    EXPECT(isfinite(r.duration_ms) && r.duration_ms >= 0.0);
    EXPECT(r.len == 0 ? r.bytes == NULL : r.bytes == data + before + OMPB__RES_ITEM);
    EXPECT(roff - before == ompb__wire_result_size(r.len));
    if (r.status == 0)
      EXPECT(r.len <= OMPB_MPI_BYTES_MAX);
    else if (r.status == OMPB_ECANCELED)
      EXPECT(r.len == 0);
    else
      EXPECT(r.len <= OMPB__MSG_MAX && (r.len == 0 || r.bytes[r.len - 1] == '\0'));
    off = ompb__wire_result_put(out, off, r.id, r.status, r.duration_ms, r.bytes,
                                r.len);
    EXPECT(off == roff);
  }
  EXPECT(roff == size && off == size);
  EXPECT(memcmp(out, data, size) == 0);
  free(out);

  EXPECT(ompb__wire_results_check(data, size, bid + 1, lo, expect, &count, &code,
                                  &workers) == OMPB_EPROTO);
  /* With a non-zero rc the count must be 0 whatever was expected. */
  if (code == 0)
    EXPECT(ompb__wire_results_check(data, size, bid, lo, expect + 1, &count,
                                    &code, &workers) == OMPB_EPROTO);
  if (expect > 0)
    EXPECT(ompb__wire_results_check(data, size, bid, lo + 1, expect, &count,
                                    &code, &workers) == OMPB_EPROTO);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t bid = size >= OMPB__HDR_LEN ? le64(data + 8) : 0;
  int accepted = fuzz_batch(data, size) + fuzz_ctl(data, size, bid) +
                 fuzz_chunk(data, size, bid) + fuzz_results(data, size, bid);
  EXPECT(accepted <= 1);
  return 0;
}
