/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: reading and writing numpy .npy headers (format versions
 * 1.0, 2.0 and 3.0; float32/float64, integers and booleans, either byte
 * order, C or Fortran order). */
#ifndef OMPB_CLI_NPY_H
#define OMPB_CLI_NPY_H

#include <stddef.h>

/* numpy 2 allows 64 dimensions (numpy 1: 32). */
#define NPY_MAXDIMS 64

/* Why a header was refused: the file is a .npy we do not handle, or it is
 * not a well-formed .npy at all. */
enum { NPY_OK = 0, NPY_UNSUPPORTED = 1, NPY_CORRUPT = 2 };

typedef struct {
  char kind;                 /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
  size_t elem_size;          /* bytes: 4 or 8 ('f'), 1, 2, 4 or 8 ('i', 'u'), 1 ('b') */
  int swap;                  /* the data is big-endian: swap each element on read */
  int fortran;               /* 'fortran_order': True (kept in the output) */
  int raw;                   /* not from a .npy header: raw data */
  int ndim;                  /* 0 for a scalar array */
  size_t shape[NPY_MAXDIMS];
  size_t count;              /* product of shape (1 for ndim 0) */
  size_t data_offset;        /* bytes before the data */
} npy_header;

/* true when buf (len bytes) starts with the .npy magic "\x93NUMPY". */
int npy_has_magic(const unsigned char *buf, size_t len);

/* Parse the header of a whole .npy file held in buf[0..len). Checks that
 * the data that follows is exactly count * elem_size bytes. Returns NPY_OK,
 * NPY_UNSUPPORTED or NPY_CORRUPT with a one-line reason in err. */
int npy_parse(const unsigned char *buf, size_t len, npy_header *h, char *err,
              size_t errlen);

/* true when the array's layout differs between C and Fortran order: two
 * or more dimensions longer than 1. */
int npy_order_matters(const npy_header *h);

/* Write a version 1.0 header for a little-endian float array of elem_size
 * 4 or 8 (float32, float64), in Fortran order when `fortran`, of the given
 * shape into buf (cap bytes; 4096 always suffice for NPY_MAXDIMS
 * dimensions). Returns its length, a multiple of 64, or 0 when cap is too
 * small. */
size_t npy_format_header(char *buf, size_t cap, size_t elem_size, int fortran,
                         int ndim, const size_t *shape);

#endif /* OMPB_CLI_NPY_H */
