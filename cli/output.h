/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the output file. It is written through a memory map to a
 * temporary file `.OUT.XXXXXX` next to OUT (the same file system, so that
 * rename is atomic), and renamed over OUT only when the command succeeded:
 * an error or a signal leaves no partial OUT and an existing OUT intact. */
#ifndef OMPB_CLI_OUTPUT_H
#define OMPB_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  const char *path; /* OUT (borrowed) */
  char *tmp;        /* the temporary file; NULL when there is none */
  int fd;
  void *map;        /* len bytes, writable; NULL when len is 0 */
  size_t len;
} cli_output;

/* Create the temporary file for `path`, len bytes long, with the
 * permissions a new file gets (0666 & ~umask), and map it. Returns EX_OK,
 * or prints a message and returns EX_USAGE (path names a directory) or
 * EX_FAIL, with nothing left behind. */
int cli_output_create(cli_output *o, const char *path, size_t len);

/* When `commit`, flush the data to disk and rename the file over OUT; else
 * (or when that fails) remove it. A no-op on an output never created.
 * Returns EX_OK, or EX_FAIL after a message. */
int cli_output_finish(cli_output *o, bool commit);

#endif /* OMPB_CLI_OUTPUT_H */
