/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the output file (see output.h). */
#define _GNU_SOURCE /* O_TMPFILE; linkat and AT_SYMLINK_FOLLOW are POSIX */

#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* The temporary name's last part: short whatever OUT is, so that any OUT
 * that fits NAME_MAX has a temporary name that fits too. */
#define TMP_BASE ".ompb.XXXXXX"
#define TMP_X 6

/* The mode open(2) would give a new file (0666 & ~umask), found once,
 * before the first output is created: Linux shows the umask in
 * /proc/self/status; elsewhere it can only be read by setting it, which
 * must not race with another thread's open (outputs of a many-file run are
 * created on the pool's workers, all after this once). */
static mode_t new_file_mode;
static pthread_once_t mode_once = PTHREAD_ONCE_INIT;

static void find_mode(void) {
  unsigned mask = 0;
  bool found = false;
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    char line[256];
    while (!found && fgets(line, sizeof line, f))
      found = sscanf(line, "Umask: %o", &mask) == 1;
    fclose(f); /* read-only: nothing to lose */
  }
  if (!found) {
    mode_t m = umask(0);
    umask(m);
    mask = m;
  }
  new_file_mode = 0666 & ~(mode_t)mask;
}

static mode_t creation_mode(void) {
  pthread_once(&mode_once, find_mode);
  return new_file_mode;
}

/* Replace the trailing X's of name with letters and digits that differ
 * from one call, process and moment to the next (only a name to try: the
 * link that uses it is exclusive). */
static void random_suffix(char *name) {
  static const char chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  /* Shared by the workers of a many-file run: each call takes its own step. */
  static _Atomic uint64_t state;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t z = atomic_fetch_add(&state, 0x9e3779b97f4a7c15u) + 0x9e3779b97f4a7c15u; /* splitmix64 */
  z += (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 40;
  z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9u;
  z = (z ^ z >> 27) * 0x94d049bb133111ebu;
  z ^= z >> 31;
  char *x = name + strlen(name) - TMP_X;
  for (int i = 0; i < TMP_X; i++, z /= sizeof chars - 1)
    x[i] = chars[z % (sizeof chars - 1)];
}

/* Open the unnamed temporary file in dir, or, where the file system has no
 * O_TMPFILE, create the named one o->tmp. Returns an fd, or -1 with errno. */
static int open_temporary(cli_output *o, const char *dir) {
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666); /* umask applies */
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
    return fd;
  /* mkstemp creates the file 0600 and exclusively: nobody else's file is
   * ever written or removed. */
  if ((fd = mkstemp(o->tmp)) < 0)
    return -1;
  if (fchmod(fd, creation_mode()) != 0) {
    int err = errno;
    (void)unlink(o->tmp); /* ours: just created exclusively */
    (void)close(fd);
    errno = err;
    return -1;
  }
  o->named = true;
  return fd;
}

int cli_output_create(cli_output *o, const char *path, size_t len) {
  *o = (cli_output){.path = path, .fd = -1, .len = len};
  (void)creation_mode(); /* before any open of ours: see find_mode */
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = slash ? slash + 1 : path;
  if (*base == '\0') {
    cli_error("%s: output is a directory name", path);
    return EX_USAGE;
  }
  size_t cap = dirlen + sizeof TMP_BASE;
  char *dir = malloc(dirlen + 2);
  if (!dir || !(o->tmp = malloc(cap))) {
    free(dir);
    cli_error("out of memory");
    return EX_FAIL;
  }
  if (dirlen)
    snprintf(dir, dirlen + 1, "%s", path); /* up to and with the slash */
  else
    strcpy(dir, ".");
  snprintf(o->tmp, cap, "%.*s%s", (int)dirlen, path, TMP_BASE);
  o->fd = open_temporary(o, dir);
  free(dir);
  if (o->fd < 0) {
    cli_error("%s: cannot create a file there: %s", path, strerror(errno));
    free(o->tmp); /* no file of ours has that name (any is removed): remove nothing */
    o->tmp = NULL;
    return EX_FAIL;
  }
  /* Reserve every block now: a full disk is this error, never a SIGBUS
   * while the map is written. */
  int err = len ? posix_fallocate(o->fd, 0, (off_t)len) : 0;
  if (err) {
    cli_error("%s: cannot allocate %zu bytes: %s", path, len, strerror(err));
    goto fail;
  }
  if (len > 0) {
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
    if (m == MAP_FAILED) {
      cli_error("%s: mmap: %s", path, strerror(errno));
      goto fail;
    }
    o->map = m;
  }
  return EX_OK;

fail:
  (void)cli_output_finish(o, false); /* the first error is the one reported */
  return EX_FAIL;
}

int cli_output_flush(cli_output *o) {
  if (o->fd < 0)
    return EX_OK;
  int rc = EX_OK;
  if (o->map && munmap(o->map, o->len) != 0) {
    cli_error("%s: munmap: %s", o->path, strerror(errno));
    rc = EX_FAIL;
  }
  o->map = NULL;
  /* fsync covers the pages written through the shared mapping (one page
   * cache); without it a crash after rename could leave an empty OUT. */
  if (rc == EX_OK && fsync(o->fd) != 0) {
    cli_error("%s: fsync: %s", o->path, strerror(errno));
    rc = EX_FAIL;
  }
  return rc;
}

/* Give the unnamed file the name o->tmp: an exclusive link, retried with
 * another name while one exists. Through /proc (any user may); without
 * /proc, by the descriptor itself (AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH). */
static int link_temporary(cli_output *o) {
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
  bool by_fd = false;
  for (int tries = 0; tries < 100; tries++) {
    random_suffix(o->tmp);
    int r = by_fd ? linkat(o->fd, "", AT_FDCWD, o->tmp, AT_EMPTY_PATH)
                  : linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW);
    if (r == 0) {
      o->named = true;
      return 0;
    }
    if (errno == ENOENT && !by_fd) {
      by_fd = true; /* no /proc: the same name is still free */
      tries--;
    } else if (errno != EEXIST) {
      return -1;
    }
  }
  return -1; /* errno is EEXIST */
}

int cli_output_finish(cli_output *o, bool commit) {
  if (!o->tmp)
    return EX_OK;
  int rc = EX_OK;
  if (commit) {
    if (o->map || o->fd < 0) {
      rc = EX_FAIL; /* not flushed: a caller's bug, never commit that */
      cli_error("%s: not flushed", o->path);
    } else if (!o->named && link_temporary(o) != 0) {
      cli_error("%s: cannot name the temporary file: %s", o->path, strerror(errno));
      rc = EX_FAIL;
    } else if (rename(o->tmp, o->path) != 0) {
      cli_error("%s: %s", o->path, strerror(errno));
      rc = EX_FAIL;
    }
  }
  if (o->map)
    (void)munmap(o->map, o->len); /* dropped: nothing of it is kept */
  o->map = NULL;
  /* The data is on disk (flushed) and renamed: a failed close of it loses
   * nothing; of a dropped file, nothing is lost either. */
  if (o->fd >= 0)
    (void)close(o->fd);
  o->fd = -1;
  /* ENOENT: someone else removed it already. */
  if ((!commit || rc != EX_OK) && o->named && unlink(o->tmp) != 0 &&
      errno != ENOENT) {
    cli_error("%s: cannot remove: %s", o->tmp, strerror(errno));
    rc = EX_FAIL;
  }
  free(o->tmp);
  o->tmp = NULL;
  return rc;
}
