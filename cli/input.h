/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: an input array, memory-mapped (never read into a buffer, so
 * that files larger than memory work): a .npy file, or raw native floats.
 * The mapping is guarded by signals.c: when the file shrinks meanwhile, it
 * reads zeros and cli_input_lost() says so (no SIGBUS death). When every
 * guard slot is taken (hundreds of inputs open at once), the file is read
 * into memory instead. Inputs may be opened and closed on any thread. */
#ifndef OMPB_CLI_INPUT_H
#define OMPB_CLI_INPUT_H

#include <stddef.h>

#include "npy.h"

typedef struct {
  const unsigned char *file; /* the whole file, or NULL when it is empty */
  size_t len;
  int guard;                 /* signals.c's slot of the mapping, or -1 */
  int read_in;               /* file is a malloc'd copy, not a mapping */
  int npy;                   /* a .npy file (else raw data) */
  npy_header header;         /* the data is file + header.data_offset */
} cli_input;

/* Map `path` and read its header: a .npy file when it starts with the
 * .npy magic or raw_elem_size is 0, else raw data of raw_elem_size-byte
 * (4 or 8) floats (shape (n,)). Returns EX_OK, or prints one line naming
 * the file and returns EX_FAIL (cannot open or map), EX_UNSUPPORTED or
 * EX_CORRUPT, with nothing left mapped. */
int cli_input_open(const char *path, size_t raw_elem_size, cli_input *in);

/* true when the file shrank while it was mapped: what was read from it
 * since is zeros, not the file. */
int cli_input_lost(const cli_input *in);

/* Unmap; a no-op on an input that is not open. Returns EX_OK or EX_FAIL
 * (after a message). */
int cli_input_close(cli_input *in, const char *path);

#endif /* OMPB_CLI_INPUT_H */
