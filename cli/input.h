/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: an input array, memory-mapped (never read into a buffer, so
 * that files larger than memory work): a .npy file, or raw native floats.
 * The mapping is guarded by signals.c: when the file shrinks meanwhile, it
 * reads zeros and cli_signals_input_lost() says so (no SIGBUS death). */
#ifndef OMPB_CLI_INPUT_H
#define OMPB_CLI_INPUT_H

#include <stddef.h>

#include "npy.h"

typedef struct {
  const unsigned char *file; /* the whole file, or NULL when it is empty */
  size_t len;
  npy_header header;         /* the data is file + header.data_offset */
} cli_input;

/* Map `path` and read its header: a .npy file when raw_elem_size is 0,
 * else raw data of 4- or 8-byte floats (shape (n,)). Returns EX_OK, or
 * prints one line naming the file and returns EX_FAIL (cannot open or
 * map), EX_USAGE (raw requested for a .npy file), EX_UNSUPPORTED or
 * EX_CORRUPT, with nothing left mapped. */
int cli_input_open(const char *path, size_t raw_elem_size, cli_input *in);

/* Unmap; a no-op on an input that is not open. Returns EX_OK or EX_FAIL
 * (after a message). */
int cli_input_close(cli_input *in, const char *path);

#endif /* OMPB_CLI_INPUT_H */
