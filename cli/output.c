/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the output file (see output.h). */
#define _POSIX_C_SOURCE 200809L

#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The mode open(2) would give a new file. umask can only be read by
 * setting it; the CLI creates no other file meanwhile. */
static mode_t creation_mode(void) {
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

int cli_output_create(cli_output *o, const char *path, size_t len) {
  *o = (cli_output){.path = path, .fd = -1, .len = len};
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = slash ? slash + 1 : path;
  if (*base == '\0') {
    cli_error("%s: output is a directory name", path);
    return EX_USAGE;
  }
  size_t cap = dirlen + strlen(base) + sizeof "..XXXXXX";
  if (!(o->tmp = malloc(cap))) {
    cli_error("out of memory");
    return EX_FAIL;
  }
  snprintf(o->tmp, cap, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
  /* mkstemp creates the file 0600 and exclusively: nobody else's file is
   * ever written or removed. */
  if ((o->fd = mkstemp(o->tmp)) < 0) {
    cli_error("%s: cannot create a file there: %s", path, strerror(errno));
    free(o->tmp); /* no file of ours has that name: remove nothing */
    o->tmp = NULL;
    return EX_FAIL;
  }
  if (fchmod(o->fd, creation_mode()) != 0 || ftruncate(o->fd, (off_t)len) != 0) {
    cli_error("%s: %s", o->tmp, strerror(errno));
    goto fail;
  }
  if (len > 0) {
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
    if (m == MAP_FAILED) {
      cli_error("%s: mmap: %s", o->tmp, strerror(errno));
      goto fail;
    }
    o->map = m;
  }
  return EX_OK;

fail:
  (void)cli_output_finish(o, false); /* the first error is the one reported */
  return EX_FAIL;
}

/* Unmap, flush when committing, close. */
static int release(cli_output *o, bool commit) {
  int rc = EX_OK;
  if (o->map && munmap(o->map, o->len) != 0 && commit) {
    cli_error("%s: munmap: %s", o->tmp, strerror(errno));
    rc = EX_FAIL;
  }
  o->map = NULL;
  if (o->fd < 0)
    return rc;
  /* fsync covers the pages written through the shared mapping (one page
   * cache); without it a crash after rename could leave an empty OUT. */
  if (commit && rc == EX_OK && fsync(o->fd) != 0) {
    cli_error("%s: fsync: %s", o->tmp, strerror(errno));
    rc = EX_FAIL;
  }
  if (close(o->fd) != 0 && commit && rc == EX_OK) {
    cli_error("%s: close: %s", o->tmp, strerror(errno));
    rc = EX_FAIL;
  }
  o->fd = -1;
  return rc;
}

int cli_output_finish(cli_output *o, bool commit) {
  if (!o->tmp)
    return EX_OK;
  int rc = release(o, commit);
  if (commit && rc == EX_OK && rename(o->tmp, o->path) != 0) {
    cli_error("%s: %s", o->path, strerror(errno));
    rc = EX_FAIL;
  }
  /* ENOENT: someone else removed it already. */
  if ((!commit || rc != EX_OK) && unlink(o->tmp) != 0 && errno != ENOENT) {
    cli_error("%s: cannot remove: %s", o->tmp, strerror(errno));
    rc = EX_FAIL;
  }
  free(o->tmp);
  o->tmp = NULL;
  return rc;
}
