/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: an input array (see input.h). */
#define _POSIX_C_SOURCE 200809L

#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "signals.h"

/* Map the whole file read-only. */
static int map_file(const char *path, cli_input *in) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    cli_error("%s: %s", path, strerror(errno));
    return EX_FAIL;
  }
  int rc = EX_OK;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    cli_error("%s: not a regular file", path);
    rc = EX_FAIL;
  } else if (st.st_size > 0) {
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      cli_error("%s: mmap: %s", path, strerror(errno));
      rc = EX_FAIL;
    } else {
      in->file = m;
      in->len = (size_t)st.st_size;
      /* Another program may truncate the file while it is mapped. */
      cli_signals_guard(m, in->len);
      /* Only advice: reading works the same when it is not taken. */
      (void)posix_madvise(m, in->len, POSIX_MADV_SEQUENTIAL);
    }
  }
  /* The mapping keeps the file; a failed close of a read-only descriptor
   * loses nothing. */
  (void)close(fd);
  return rc;
}

/* The header of raw data: n elements of elem_size bytes. */
static int raw_header(const char *path, size_t elem_size, cli_input *in) {
  if (npy_has_magic(in->file, in->len)) {
    cli_error("%s is a .npy file; drop --dtype to read it", path);
    return EX_USAGE;
  }
  if (in->len % elem_size) {
    cli_error("%s: %zu bytes is not a whole number of f%zu elements", path,
              in->len, elem_size * 8);
    return EX_CORRUPT;
  }
  npy_header *h = &in->header;
  memset(h, 0, sizeof *h);
  h->elem_size = elem_size;
  h->ndim = 1;
  h->shape[0] = h->count = in->len / elem_size;
  return EX_OK;
}

static int npy_file_header(const char *path, cli_input *in) {
  char err[256];
  int pr = npy_parse(in->file ? in->file : (const unsigned char *)"", in->len,
                     &in->header, err, sizeof err);
  if (pr == NPY_OK)
    return EX_OK;
  cli_error("%s: %s", path, err);
  return pr == NPY_UNSUPPORTED ? EX_UNSUPPORTED : EX_CORRUPT;
}

int cli_input_open(const char *path, size_t raw_elem_size, cli_input *in) {
  *in = (cli_input){0};
  int rc = map_file(path, in);
  if (rc == EX_OK)
    rc = raw_elem_size ? raw_header(path, raw_elem_size, in)
                       : npy_file_header(path, in);
  if (rc != EX_OK)
    (void)cli_input_close(in, path); /* the first error is the one to report */
  return rc;
}

int cli_input_close(cli_input *in, const char *path) {
  int rc = EX_OK;
  if (in->file)
    cli_signals_guard(NULL, 0);
  if (in->file && munmap((void *)in->file, in->len) != 0) {
    cli_error("%s: munmap: %s", path, strerror(errno));
    rc = EX_FAIL;
  }
  in->file = NULL;
  in->len = 0;
  return rc;
}
