/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the elements of an input array as the float type a kernel or
 * an expression runs in: integers, booleans, the other float width and
 * big-endian data are converted (numpy's astype: integers to the nearest
 * float, booleans to 0 or 1); native floats of the right width are used as
 * they are when aligned. */
#ifndef OMPB_CLI_CONVERT_H
#define OMPB_CLI_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

#include "npy.h"

/* true when the data at src (laid out as h says) can be read in place as
 * floats of out_size bytes (4 or 8): native order, that width, aligned. */
bool cli_convert_direct(const npy_header *h, const void *src, size_t out_size);

/* Convert n elements laid out as h says from src (any alignment) to floats
 * of out_size bytes (4 or 8) at dst (aligned for them). src and dst must
 * not overlap. Thread-safety: any. */
void cli_convert(const npy_header *h, const void *src, size_t n, void *dst,
                 size_t out_size);

/* Set dst[0..n) (floats of out_size bytes) to the float held in one
 * element of out_size bytes at v: a size-1 input broadcast as a scalar. */
void cli_convert_fill(void *dst, size_t n, const void *v, size_t out_size);

#endif /* OMPB_CLI_CONVERT_H */
