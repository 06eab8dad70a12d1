/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the .npy header parser (cli/npy.c) on arbitrary bytes.
 *
 * The input is a whole .npy file. Whatever it is, npy_parse must return one
 * of its three codes without touching a byte outside the input (ASan), and
 * a refusal must come with a reason. A header it accepts must describe the
 * input exactly (data_offset + count * elem_size == len) and must survive a
 * round trip: npy_format_header writes the same dtype and shape again, and
 * parsing that header with the same data gives the same header back. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, then abort so libFuzzer keeps the input. */
#define EXPECT(cond)                                                    \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "fuzz_npy: %s:%d: expected %s\n", __FILE__,       \
              __LINE__, #cond);                                         \
      abort();                                                          \
    }                                                                   \
  } while (0)

static void check_accepted(const uint8_t *data, size_t size,
                           const npy_header *h) {
  /* what cli/npy.h accepts: f4 f8, i/u 1 2 4 8, b1 */
  EXPECT(h->kind == 'f' ? h->elem_size == 4 || h->elem_size == 8
         : h->kind == 'b' ? h->elem_size == 1
         : (h->kind == 'i' || h->kind == 'u') &&
               (h->elem_size == 1 || h->elem_size == 2 || h->elem_size == 4 ||
                h->elem_size == 8));
  EXPECT(h->ndim >= 0 && h->ndim <= NPY_MAXDIMS);
  /* numpy's limits (docs/cli.md): each dimension, and the bytes of the
   * non-zero ones together, at most PTRDIFF_MAX, even for an empty array. */
  size_t count = 1, nonzero = h->elem_size;
  for (int i = 0; i < h->ndim; i++) {
    size_t d = h->shape[i];
    EXPECT(d <= PTRDIFF_MAX && (d == 0 || nonzero <= PTRDIFF_MAX / d));
    count *= d;
    if (d) nonzero *= d;
  }
  EXPECT(count == h->count);
  EXPECT(h->data_offset <= size);
  EXPECT(size - h->data_offset == h->count * h->elem_size);
  EXPECT(npy_has_magic(data, size));
  /* The header is Python source to numpy: no NUL byte in it. */
  size_t start = data[6] == 1 ? 10 : 12;
  EXPECT(h->data_offset >= start &&
         memchr(data + start, '\0', h->data_offset - start) == NULL);

  /* The same array again, with the header the CLI writes (it writes only
   * little-endian floats, in the input's order). The data is copied as it
   * is: its bytes are part of the input, so this allocation is bounded by
   * the input's size. */
  if (h->kind != 'f' || h->swap) return;
  size_t dlen = size - h->data_offset;
  unsigned char *out = malloc(4096 + dlen);
  EXPECT(out != NULL);
  size_t hlen = npy_format_header((char *)out, 4096, h->elem_size, h->fortran,
                                  h->ndim, h->shape);
  EXPECT(hlen > 0 && hlen % 64 == 0);
  if (dlen) memcpy(out + hlen, data + h->data_offset, dlen);
  npy_header h2;
  char err[256];
  int rc = npy_parse(out, hlen + dlen, &h2, err, sizeof err);
  if (rc != NPY_OK) fprintf(stderr, "fuzz_npy: re-parse: %s\n", err);
  EXPECT(rc == NPY_OK);
  EXPECT(h2.kind == 'f' && h2.fortran == h->fortran && !h2.swap);
  EXPECT(h2.elem_size == h->elem_size && h2.ndim == h->ndim &&
         h2.count == h->count && h2.data_offset == hlen);
  EXPECT(memcmp(h2.shape, h->shape, (size_t)h->ndim * sizeof h->shape[0]) == 0);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  npy_header h;
  char err[256];
  /* A sentinel: a refusal must overwrite it with a reason. */
  memcpy(err, "-", 2);
  int rc = npy_parse(data, size, &h, err, sizeof err);
  EXPECT(rc == NPY_OK || rc == NPY_UNSUPPORTED || rc == NPY_CORRUPT);
  if (rc == NPY_OK) {
    check_accepted(data, size, &h);
  } else {
    EXPECT(memchr(err, '\0', sizeof err) != NULL);
    EXPECT(err[0] != '\0' && strcmp(err, "-") != 0);
    /* A reason cut to a short buffer is still a C string. */
    char small[8];
    memset(small, 'x', sizeof small);
    npy_header h3;
    EXPECT(npy_parse(data, size, &h3, small, sizeof small) == rc);
    EXPECT(memchr(small, '\0', sizeof small) != NULL);
  }
  return 0;
}
