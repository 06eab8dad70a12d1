/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the output file. It is written through a memory map to an
 * unnamed temporary file (O_TMPFILE) in OUT's directory (the same file
 * system, so that rename is atomic), with all its blocks allocated first;
 * only when the command succeeded is it linked as `.ompb.XXXXXX` and renamed
 * over OUT. An error, a signal or a crash leaves no partial OUT, no
 * temporary file and an existing OUT intact. Where the file system has no
 * O_TMPFILE, the temporary file is created under that name at once (then a
 * crash can leave it behind). Outputs may be created and finished on any
 * thread, each by one thread at a time. */
#ifndef OMPB_CLI_OUTPUT_H
#define OMPB_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  const char *path; /* OUT (borrowed) */
  char *tmp;        /* the temporary name; NULL when there is no file */
  bool named;       /* the file has the name tmp (else it is unnamed) */
  int fd;
  void *map;        /* len bytes, writable; NULL when len is 0 or flushed */
  size_t len;
} cli_output;

/* Create the temporary file for `path`, len bytes long and allocated on
 * disk, with the permissions a new file gets (0666 & ~umask), and map it.
 * Returns EX_OK, or prints a message and returns EX_USAGE (path names a
 * directory) or EX_FAIL (cannot create it, no space for len bytes, ...),
 * with nothing left behind. */
int cli_output_create(cli_output *o, const char *path, size_t len);

/* Unmap and flush the data to disk (before the commit; a no-op on an
 * output never created). Returns EX_OK, or EX_FAIL after a message. */
int cli_output_flush(cli_output *o);

/* When `commit` (after cli_output_flush), put the file in place of OUT: the
 * rename is the moment OUT changes. Else (or when that fails) remove it. A
 * no-op on an output never created. Returns EX_OK, or EX_FAIL after a
 * message. */
int cli_output_finish(cli_output *o, bool commit);

#endif /* OMPB_CLI_OUTPUT_H */
