/* SPDX-License-Identifier: BSD-3-Clause */
/* Wire format of the MPI backend: little-endian encoders and decoders that
 * check every length before reading it (a message is never trusted). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>

#include "internal.h"
#include "wire.h"

static void put_u16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double d) {
  uint64_t v;
  memcpy(&v, &d, sizeof v);
  put_u64(p, v);
}

static uint16_t get_u16(const unsigned char *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static double get_f64(const unsigned char *p) {
  uint64_t v = get_u64(p);
  double d;
  memcpy(&d, &v, sizeof d);
  return d;
}

/* int -> u32 is defined modulo 2^32; the way back is written out, since
 * converting an out-of-range value to int is implementation-defined. */
static uint32_t from_i32(int v) { return (uint32_t)v; }

static int to_i32(uint32_t v) {
  return v <= INT32_MAX ? (int)v : (int)((int64_t)v - 4294967296LL);
}

/* A timeout or deadline: the core's rule (+inf: none). */
static bool good_timeout(double ms) { return !ompb__bad_ms(ms); }
/* A measured duration. */
static bool good_duration(double ms) { return isfinite(ms) && ms >= 0.0; }

static void put_header(unsigned char *p, int kind, uint32_t count,
                       uint64_t batch_id) {
  p[0] = OMPB__WIRE_VERSION;
  p[1] = (unsigned char)kind;
  put_u16(p + 2, 0);
  put_u32(p + 4, count);
  put_u64(p + 8, batch_id);
}

static bool header_ok(const unsigned char *p, size_t len, int kind,
                      uint64_t batch_id) {
  return len >= OMPB__HDR_LEN && p[0] == OMPB__WIRE_VERSION && p[1] == kind &&
         get_u16(p + 2) == 0 && get_u64(p + 8) == batch_id;
}

void ompb__wire_batch_encode(unsigned char *buf, uint64_t batch_id,
                             const ompb__wire_batch *h) {
  memset(buf, 0, OMPB__BATCH_LEN);
  put_header(buf, OMPB__MSG_BATCH, 0, batch_id);
  put_u32(buf + 16, from_i32(h->rc));
  put_u32(buf + 20, h->concurrency);
  put_u64(buf + 24, h->n);
  buf[32] = h->fail_fast ? 1 : 0;
  put_f64(buf + 40, h->task_timeout_ms);
  put_f64(buf + 48, h->batch_timeout_ms);
}

int ompb__wire_batch_decode(const unsigned char *buf, size_t len,
                            uint64_t *batch_id, ompb__wire_batch *h) {
  if (len != OMPB__BATCH_LEN || buf[0] != OMPB__WIRE_VERSION ||
      buf[1] != OMPB__MSG_BATCH || get_u16(buf + 2) != 0 ||
      get_u32(buf + 4) != 0 || buf[32] > 1)
    return OMPB_EPROTO;
  for (int i = 33; i < 40; i++)
    if (buf[i]) return OMPB_EPROTO;
  *batch_id = get_u64(buf + 8);
  h->rc = to_i32(get_u32(buf + 16));
  h->concurrency = get_u32(buf + 20);
  h->n = get_u64(buf + 24);
  h->fail_fast = buf[32] == 1;
  h->task_timeout_ms = get_f64(buf + 40);
  h->batch_timeout_ms = get_f64(buf + 48);
  if (!good_timeout(h->task_timeout_ms) || !good_timeout(h->batch_timeout_ms))
    return OMPB_EPROTO;
  return OMPB_OK;
}

void ompb__wire_ctl_encode(unsigned char *buf, int kind, uint64_t batch_id,
                           int rc) {
  put_header(buf, kind, 0, batch_id);
  put_u32(buf + 16, from_i32(rc));
}

int ompb__wire_ctl_decode(const unsigned char *buf, size_t len,
                          uint64_t batch_id, int *kind, int *rc) {
  if (len != OMPB__CTL_LEN || len < 2) return OMPB_EPROTO;
  int k = buf[1];
  if ((k != OMPB__MSG_END && k != OMPB__MSG_STOP) ||
      !header_ok(buf, len, k, batch_id) || get_u32(buf + 4) != 0)
    return OMPB_EPROTO;
  *kind = k;
  *rc = to_i32(get_u32(buf + 16));
  return OMPB_OK;
}

size_t ompb__wire_chunk_size(const ompb_mpi_task *tasks, size_t lo, size_t n) {
  size_t size = OMPB__CHUNK_HEAD;
  for (size_t i = lo; i < lo + n; i++)
    size += 8 + 8 + 4 + 1 + strlen(tasks[i].method) + 1 + tasks[i].len;
  return size;
}

void ompb__wire_chunk_encode(unsigned char *buf, uint64_t batch_id,
                             double deadline_left_ms,
                             const ompb_mpi_task *tasks, size_t lo, size_t n) {
  put_header(buf, OMPB__MSG_CHUNK, (uint32_t)n, batch_id);
  put_f64(buf + 16, deadline_left_ms);
  size_t off = OMPB__CHUNK_HEAD;
  for (size_t i = lo; i < lo + n; i++) {
    const ompb_mpi_task *t = &tasks[i];
    size_t mlen = strlen(t->method) + 1;
    put_u64(buf + off, i);
    put_f64(buf + off + 8, t->timeout_ms);
    put_u32(buf + off + 16, (uint32_t)t->len);
    buf[off + 20] = (unsigned char)mlen;
    off += 21;
    memcpy(buf + off, t->method, mlen);
    off += mlen;
    if (t->len) memcpy(buf + off, t->params, t->len);
    off += t->len;
  }
}

int ompb__wire_chunk_decode(const unsigned char *buf, size_t len,
                            uint64_t batch_id, double *deadline_left_ms,
                            ompb__wire_task **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (len < OMPB__CHUNK_HEAD || len > OMPB__WIRE_MAX ||
      !header_ok(buf, len, OMPB__MSG_CHUNK, batch_id))
    return OMPB_EPROTO;
  size_t count = get_u32(buf + 4);
  double dl = get_f64(buf + 16);
  /* The count must fit the bytes present before anything is allocated. */
  if (count == 0 || !good_timeout(dl) ||
      count > (len - OMPB__CHUNK_HEAD) / OMPB__CHUNK_TASK_MIN)
    return OMPB_EPROTO;
  ompb__wire_task *v = ompb__malloc(count * sizeof *v);
  if (!v) return OMPB_ENOMEM;
  size_t off = OMPB__CHUNK_HEAD;
  for (size_t i = 0; i < count; i++) {
    if (len - off < 21) goto bad;
    ompb__wire_task *t = &v[i];
    t->id = get_u64(buf + off);
    t->timeout_ms = get_f64(buf + off + 8);
    size_t plen = get_u32(buf + off + 16);
    size_t mlen = buf[off + 20];
    off += 21;
    if (!good_timeout(t->timeout_ms) || mlen < 2 || plen > OMPB_MPI_BYTES_MAX ||
        len - off < mlen || len - off - mlen < plen)
      goto bad;
    const char *m = (const char *)buf + off;
    if (m[mlen - 1] != '\0' || memchr(m, '\0', mlen - 1)) goto bad;
    t->method = m;
    off += mlen;
    t->params = plen ? buf + off : NULL;
    t->len = plen;
    off += plen;
  }
  if (off != len) goto bad;
  *deadline_left_ms = dl;
  *out = v;
  *n = count;
  return OMPB_OK;
bad:
  ompb__free(v);
  return OMPB_EPROTO;
}

size_t ompb__wire_results_head(unsigned char *buf, uint64_t batch_id,
                               uint32_t count, int rc, unsigned workers) {
  put_header(buf, OMPB__MSG_RESULTS, count, batch_id);
  put_u32(buf + 16, from_i32(rc));
  put_u32(buf + 20, workers);
  return OMPB__RES_HEAD;
}

size_t ompb__wire_result_put(unsigned char *buf, size_t off, uint64_t id,
                             int status, double duration_ms,
                             const void *bytes, size_t len) {
  put_u64(buf + off, id);
  put_u32(buf + off + 8, from_i32(status));
  put_f64(buf + off + 12, duration_ms);
  put_u32(buf + off + 20, (uint32_t)len);
  if (len) memcpy(buf + off + OMPB__RES_ITEM, bytes, len);
  return off + OMPB__RES_ITEM + len;
}

int ompb__wire_results_check(const unsigned char *buf, size_t len,
                             uint64_t batch_id, uint64_t lo, size_t expect,
                             size_t *count, int *rc, unsigned *workers) {
  if (len < OMPB__RES_HEAD || len > OMPB__WIRE_MAX ||
      !header_ok(buf, len, OMPB__MSG_RESULTS, batch_id))
    return OMPB_EPROTO;
  size_t c = get_u32(buf + 4);
  int code = to_i32(get_u32(buf + 16));
  unsigned w = get_u32(buf + 20);
  if (code > 0 || w == 0 || w > 4096) return OMPB_EPROTO;
  /* A rank that could not run its chunk says why and returns no results. */
  if (code != 0 ? c != 0 : c != expect) return OMPB_EPROTO;
  size_t off = OMPB__RES_HEAD;
  for (size_t i = 0; i < c; i++) {
    if (len - off < OMPB__RES_ITEM) return OMPB_EPROTO;
    uint64_t id = get_u64(buf + off);
    int status = to_i32(get_u32(buf + off + 8));
    double d = get_f64(buf + off + 12);
    size_t blen = get_u32(buf + off + 20);
    off += OMPB__RES_ITEM;
    if (id != lo + i || !good_duration(d) || blen > len - off) return OMPB_EPROTO;
    if (status == 0) {
      if (blen > OMPB_MPI_BYTES_MAX) return OMPB_EPROTO;
    } else if (status == OMPB_ECANCELED) {
      if (blen != 0) return OMPB_EPROTO;
    } else if (blen > OMPB__MSG_MAX ||
               (blen > 0 && buf[off + blen - 1] != '\0')) {
      return OMPB_EPROTO;
    }
    off += blen;
  }
  if (off != len) return OMPB_EPROTO;
  *count = c;
  *rc = code;
  *workers = w;
  return OMPB_OK;
}

int ompb__wire_results_peek(const unsigned char *buf, size_t len,
                            uint64_t batch_id, size_t *count, int *rc) {
  if (len < OMPB__RES_HEAD || !header_ok(buf, len, OMPB__MSG_RESULTS, batch_id))
    return OMPB_EPROTO;
  *count = get_u32(buf + 4);
  *rc = to_i32(get_u32(buf + 16));
  return OMPB_OK;
}

void ompb__wire_result_next(const unsigned char *buf, size_t *off,
                            ompb__wire_result *r) {
  const unsigned char *p = buf + *off;
  r->id = get_u64(p);
  r->status = to_i32(get_u32(p + 8));
  r->duration_ms = get_f64(p + 12);
  r->len = get_u32(p + 20);
  r->bytes = r->len ? p + OMPB__RES_ITEM : NULL;
  *off += OMPB__RES_ITEM + r->len;
}
