/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: an input array (see input.h). */
#define _POSIX_C_SOURCE 200809L

#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "signals.h"

/* Read the whole file of st_size bytes into memory (when no guard slot is
 * free for a mapping). */
static int read_file(int fd, const char *path, size_t size, cli_input *in) {
  unsigned char *buf = malloc(size);
  if (!buf) {
    cli_error("%s: out of memory (%zu bytes)", path, size);
    return EX_FAIL;
  }
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r < 0)
        cli_error("%s: read: %s", path, strerror(errno));
      else
        cli_error("%s: the file shrank while it was read (truncated by "
                  "another program?)", path);
      free(buf);
      return EX_FAIL;
    }
    got += (size_t)r;
  }
  in->file = buf;
  in->len = size;
  in->read_in = 1;
  return EX_OK;
}

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
      /* Another program may truncate the file while it is mapped. */
      in->guard = cli_signals_guard_add(m, (size_t)st.st_size);
      if (in->guard < 0) {
        (void)munmap(m, (size_t)st.st_size); /* unused: nothing to lose */
        rc = read_file(fd, path, (size_t)st.st_size, in);
      } else {
        in->file = m;
        in->len = (size_t)st.st_size;
        /* Only advice: reading works the same when it is not taken. */
        (void)posix_madvise(m, in->len, POSIX_MADV_SEQUENTIAL);
      }
    }
  }
  /* The mapping keeps the file; a failed close of a read-only descriptor
   * loses nothing. */
  (void)close(fd);
  return rc;
}

/* The header of raw data: n elements of elem_size bytes. */
static int raw_header(const char *path, size_t elem_size, cli_input *in) {
  if (in->len % elem_size) {
    cli_error("%s: %zu bytes is not a whole number of f%zu elements", path,
              in->len, elem_size * 8);
    return EX_CORRUPT;
  }
  npy_header *h = &in->header;
  memset(h, 0, sizeof *h);
  h->kind = 'f';
  h->raw = 1;
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
  *in = (cli_input){.guard = -1};
  int rc = map_file(path, in);
  if (rc == EX_OK)
    rc = raw_elem_size && !npy_has_magic(in->file, in->len)
             ? raw_header(path, raw_elem_size, in)
             : npy_file_header(path, in);
  in->npy = rc == EX_OK && !in->header.raw;
  if (rc != EX_OK)
    (void)cli_input_close(in, path); /* the first error is the one to report */
  return rc;
}

int cli_input_lost(const cli_input *in) {
  return cli_signals_guard_lost(in->guard);
}

int cli_input_close(cli_input *in, const char *path) {
  int rc = EX_OK;
  if (in->read_in) {
    free((void *)in->file);
  } else if (in->file) {
    cli_signals_guard_remove(in->guard);
    if (munmap((void *)in->file, in->len) != 0) {
      cli_error("%s: munmap: %s", path, strerror(errno));
      rc = EX_FAIL;
    }
  }
  in->file = NULL;
  in->len = 0;
  in->guard = -1;
  in->read_in = 0;
  return rc;
}
