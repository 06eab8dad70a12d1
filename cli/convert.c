/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: element conversion (see convert.h). One loop per source
 * type and target width, each element loaded with memcpy (any alignment)
 * and swapped when the file is big-endian. */
#include "convert.h"

#include <stdint.h>
#include <string.h>

bool cli_convert_direct(const npy_header *h, const void *src, size_t out_size) {
  return h->kind == 'f' && h->elem_size == out_size && !h->swap &&
         (uintptr_t)src % out_size == 0;
}

static uint16_t swap16(uint16_t v) { return __builtin_bswap16(v); }
static uint32_t swap32(uint32_t v) { return __builtin_bswap32(v); }
static uint64_t swap64(uint64_t v) { return __builtin_bswap64(v); }

/* dst[i] = (OUT)(the i-th element as TYPE), loaded as the unsigned BITS
 * wide integer U and swapped when asked. */
#define CONVERT_LOOP(OUT, TYPE, U, SWAP)                                       \
  do {                                                                         \
    const unsigned char *s_ = src;                                             \
    OUT *d_ = dst;                                                             \
    if (h->swap) {                                                             \
      for (size_t i = 0; i < n; i++) {                                         \
        U u;                                                                   \
        TYPE v;                                                                \
        memcpy(&u, s_ + i * sizeof u, sizeof u);                               \
        u = SWAP(u);                                                           \
        memcpy(&v, &u, sizeof v);                                              \
        d_[i] = (OUT)v;                                                        \
      }                                                                        \
    } else {                                                                   \
      for (size_t i = 0; i < n; i++) {                                         \
        TYPE v;                                                                \
        memcpy(&v, s_ + i * sizeof v, sizeof v);                               \
        d_[i] = (OUT)v;                                                        \
      }                                                                        \
    }                                                                          \
  } while (0)

#define NOSWAP(u) (u)

#define CONVERT_TO(OUT)                                                        \
  do {                                                                         \
    switch (h->kind) {                                                         \
    case 'f':                                                                  \
      if (h->elem_size == 4)                                                   \
        CONVERT_LOOP(OUT, float, uint32_t, swap32);                            \
      else                                                                     \
        CONVERT_LOOP(OUT, double, uint64_t, swap64);                           \
      break;                                                                   \
    case 'i':                                                                  \
      if (h->elem_size == 1)                                                   \
        CONVERT_LOOP(OUT, int8_t, uint8_t, NOSWAP);                            \
      else if (h->elem_size == 2)                                              \
        CONVERT_LOOP(OUT, int16_t, uint16_t, swap16);                          \
      else if (h->elem_size == 4)                                              \
        CONVERT_LOOP(OUT, int32_t, uint32_t, swap32);                          \
      else                                                                     \
        CONVERT_LOOP(OUT, int64_t, uint64_t, swap64);                          \
      break;                                                                   \
    case 'u':                                                                  \
      if (h->elem_size == 1)                                                   \
        CONVERT_LOOP(OUT, uint8_t, uint8_t, NOSWAP);                           \
      else if (h->elem_size == 2)                                              \
        CONVERT_LOOP(OUT, uint16_t, uint16_t, swap16);                         \
      else if (h->elem_size == 4)                                              \
        CONVERT_LOOP(OUT, uint32_t, uint32_t, swap32);                         \
      else                                                                     \
        CONVERT_LOOP(OUT, uint64_t, uint64_t, swap64);                         \
      break;                                                                   \
    default: { /* 'b': numpy reads any non-zero byte as True */                \
      const unsigned char *s_ = src;                                           \
      OUT *d_ = dst;                                                           \
      for (size_t i = 0; i < n; i++)                                           \
        d_[i] = s_[i] != 0;                                                    \
    }                                                                          \
    }                                                                          \
  } while (0)

void cli_convert(const npy_header *h, const void *src, size_t n, void *dst,
                 size_t out_size) {
  if (out_size == 4)
    CONVERT_TO(float);
  else
    CONVERT_TO(double);
}

void cli_convert_fill(void *dst, size_t n, const void *v, size_t out_size) {
  if (out_size == 4) {
    float x, *d = dst;
    memcpy(&x, v, sizeof x);
    for (size_t i = 0; i < n; i++)
      d[i] = x;
  } else {
    double x, *d = dst;
    memcpy(&x, v, sizeof x);
    for (size_t i = 0; i < n; i++)
      d[i] = x;
  }
}
