/* ompbatch: the command-line tool. Applies built-in SIMD kernels to .npy
 * (or raw) files on a pool, with a terminal progress bar and clean Ctrl-C.
 * Uses the public API only (include/ompbatch.h). Exit codes: see usage(). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "npy.h"
#include "ompbatch.h"

/* Exit codes (documented in usage(), docs/cli.md and the man page). */
enum {
  EX_OK = 0,
  EX_FAIL = 1,        /* I/O error, out of memory, the batch failed */
  EX_USAGE = 2,       /* bad command line, wrong number of --param */
  EX_KERNEL = 3,      /* unknown kernel (or a two-input one) */
  EX_UNSUPPORTED = 4, /* valid .npy we do not handle: dtype, byte order, order */
  EX_CORRUPT = 5,     /* not a .npy, truncated or corrupt header or data */
  EX_INTERRUPTED = 130
};

static const char *prog = "ompbatch";

/* Ctrl-C: the SIGINT/SIGTERM handler sets `interrupted` and writes a byte
 * to a self-pipe; a watcher thread blocked on the pipe's read end calls
 * ompb_batch_cancel at once (the batch handle is published in
 * `running_batch`). The map checks `interrupted` after publishing the
 * handle and again before renaming its output, so a signal at any moment
 * leaves no output file. Lock-free atomics are async-signal-safe. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal flag must be lock-free");
static atomic_int interrupted;
static _Atomic(ompb_batch *) running_batch;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  int saved = errno;
  atomic_store(&interrupted, sig);
  if (write(wake_pipe[1], "i", 1) < 0) {
    /* Pipe full: a wake-up is already pending. */
  }
  errno = saved;
}

/* The watcher thread: 'i' cancels the running batch, 'q' ends the thread. */
static void *watch_signals(void *unused) {
  (void)unused;
  char c;
  for (;;) {
    ssize_t r = read(wake_pipe[0], &c, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0 || c == 'q')
      return NULL;
    ompb_batch *b = atomic_load(&running_batch);
    if (b)
      ompb_batch_cancel(b);
  }
}

/* Install the handler and start the watcher; returns 0 or -1. */
static int watch_start(pthread_t *thread) {
  if (pipe(wake_pipe) != 0)
    return -1;
  fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
  if (pthread_create(thread, NULL, watch_signals, NULL) != 0)
    return -1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return 0;
}

/* Stop the watcher. The handler stays installed and the pipe open until
 * exit: a late signal then only sets the flag and fills the pipe. */
static void watch_stop(pthread_t thread) {
  while (write(wake_pipe[1], "q", 1) < 0 && errno == EINTR)
    ;
  pthread_join(thread, NULL);
}

static void usage_main(FILE *f) {
  fprintf(f,
          "usage: %s COMMAND [ARGS] [--help] [--version]\n"
          "\n"
          "Batch numeric transforms on an OpenMP team (ompbatch %s).\n"
          "\n"
          "commands:\n"
          "  map KERNEL IN OUT   apply a built-in kernel to a .npy (or raw) file\n"
          "  kernels             list the kernels, their parameters and ULP bounds\n"
          "  info                version, SIMD ISA, workers, OpenMP cancellation\n"
          "  help [COMMAND]      this text, or a command's\n"
          "\n"
          "exit codes: 0 ok, 1 I/O or run-time error, 2 usage error, 3 unknown\n"
          "kernel, 4 unsupported input (dtype, byte order, Fortran order),\n"
          "5 corrupt or truncated input, 130 interrupted (no output written).\n",
          prog, ompb_version());
}

static void usage_map(FILE *f) {
  fprintf(f,
          "usage: %s map KERNEL IN OUT [--param A ...] [--threads N] [--chunk N]\n"
          "                    [--fast] [--dtype f32|f64] [--no-progress]\n"
          "\n"
          "Apply the one-input kernel KERNEL (see `%s kernels`) to every element of\n"
          "IN and write OUT as a .npy file of the same shape and dtype. IN is a\n"
          ".npy file (float32 or float64, little-endian, C order, any shape) or,\n"
          "with --dtype, raw native float data (OUT then has shape (n,)). IN is\n"
          "memory-mapped; OUT is written to a temporary file in its directory and\n"
          "renamed at the end, so an error or Ctrl-C leaves no partial OUT.\n"
          "\n"
          "  --param A      a kernel parameter (repeat in order; e.g. pow: p,\n"
          "                 affine: a then b, clamp: lo then hi)\n"
          "  --threads N    workers in the pool (default: OpenMP's maximum)\n"
          "  --chunk N      elements per work item (default: automatic)\n"
          "  --fast         use KERNEL_fast when it exists (3.5-ULP variants)\n"
          "  --dtype T      read IN as raw f32 or f64 data instead of .npy\n"
          "  --no-progress  never draw the progress bar (drawn only when stderr\n"
          "                 is a terminal)\n"
          "\n"
          "exit codes: 0 ok, 1 I/O or run-time error, 2 usage error, 3 unknown\n"
          "kernel, 4 unsupported input, 5 corrupt input, 130 interrupted.\n",
          prog, prog);
}

static void usage_kernels(FILE *f) {
  fprintf(f,
          "usage: %s kernels [--names]\n"
          "\n"
          "List the built-in kernels: inputs, number of --param values, the\n"
          "maximum error in ULP for f32 and f64 (0: exact), and what each computes\n"
          "(with the domain of the bound, where limited). Two-input kernels are\n"
          "listed for reference; `map` runs one-input kernels only.\n"
          "  --names   print only the names of the one-input kernels\n",
          prog);
}

static void usage_info(FILE *f) {
  fprintf(f,
          "usage: %s info [--threads N]\n"
          "\n"
          "Print the library version, the SIMD instruction set the kernels use,\n"
          "the worker count a pool gets (with --threads N: N), and whether OpenMP\n"
          "cancellation is active (set OMP_CANCELLATION=true before the start).\n",
          prog);
}

static int version(void) {
  printf("ompbatch %s (library %s)\n", OMPB_VERSION_STRING, ompb_version());
  return EX_OK;
}

static int usage_error(void (*help)(FILE *), const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", prog);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  help(stderr);
  return EX_USAGE;
}

/* Strict number parsing: the whole string must be a number. */
static bool parse_ulong(const char *s, unsigned long long max,
                        unsigned long long *v) {
  if (*s < '0' || *s > '9')
    return false;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 10);
  if (errno || *end || x == 0 || x > max)
    return false;
  *v = x;
  return true;
}

static bool parse_double(const char *s, double *v) {
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end || (errno == ERANGE && isinf(x)))
    return false;
  *v = x;
  return true;
}

/* ---- progress bar -------------------------------------------------------- */

typedef struct {
  const char *kernel;
  size_t items;                /* elements in the array */
  bool draw;                   /* stderr is a terminal and not --no-progress */
  bool drawn;                  /* something was drawn: end the line later */
} progress_state;

static void human(char *buf, size_t cap, double x) {
  if (x >= 1e9)
    snprintf(buf, cap, "%.2fG", x / 1e9);
  else if (x >= 1e6)
    snprintf(buf, cap, "%.2fM", x / 1e6);
  else if (x >= 1e3)
    snprintf(buf, cap, "%.2fk", x / 1e3);
  else
    snprintf(buf, cap, "%.0f", x);
}

/* Runs on the pool's reporter thread, never concurrently with itself.
 * Progress counts work items (chunks); the bar shows elements, scaled by
 * items / total. Nothing is drawn once Ctrl-C was pressed. */
static void on_progress(const ompb_progress *p, void *user) {
  progress_state *st = user;
  if (!st->draw || atomic_load(&interrupted))
    return;
  /* The bar shrinks (down to nothing) to keep the line on narrow terminals:
   * a wrapped line cannot be redrawn with \r. */
  struct winsize ws;
  int cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
  int width = cols - 62 - (int)strlen(st->kernel);
  width = width > 30 ? 30 : width < 0 ? 0 : width;
  double frac = p->percentage / 100.0;
  int fill = (int)(frac * width + 1e-9);
  char bar[64], done[16], total[16], rate[16], eta[32];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  double scale = p->total ? (double)st->items / (double)p->total : 0.0;
  human(done, sizeof done, frac * (double)st->items);
  human(total, sizeof total, (double)st->items);
  human(rate, sizeof rate, p->throughput * scale);
  if (p->estimated_remaining_ms < 0) {
    snprintf(eta, sizeof eta, "ETA --:--");
  } else {
    long s = (long)ceil(p->estimated_remaining_ms / 1000.0);
    snprintf(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
  }
  if (width >= 5)
    fprintf(stderr, "\r%s %5.1f%% [%s] %s/%s items, %s items/s, %s\033[K",
            st->kernel, p->percentage, bar, done, total, rate, eta);
  else
    fprintf(stderr, "\r%s %5.1f%% %s items/s %s\033[K", st->kernel,
            p->percentage, rate, eta);
  fflush(stderr);
  st->drawn = true;
}

/* ---- files --------------------------------------------------------------- */

typedef struct {
  void *map;      /* the whole file, or NULL when it is empty */
  size_t len;
} mapped_file;

static int map_input(const char *path, mapped_file *m) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    return EX_FAIL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fprintf(stderr, "%s: %s: not a regular file\n", prog, path);
    close(fd);
    return EX_FAIL;
  }
  m->len = (size_t)st.st_size;
  m->map = NULL;
  if (m->len > 0) {
    m->map = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m->map == MAP_FAILED) {
      fprintf(stderr, "%s: %s: mmap: %s\n", prog, path, strerror(errno));
      m->map = NULL;
      close(fd);
      return EX_FAIL;
    }
    posix_madvise(m->map, m->len, POSIX_MADV_SEQUENTIAL);
  }
  close(fd);
  return EX_OK;
}

/* The output: a temporary file next to OUT (same file system, so rename is
 * atomic), sized and mapped up front. */
typedef struct {
  char *tmp;      /* path of the temporary file; NULL once renamed */
  int fd;
  void *map;
  size_t len;
} out_file;

static int create_output(const char *path, size_t len, mode_t mode,
                         out_file *o) {
  o->fd = -1;
  o->map = NULL;
  o->len = len;
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = slash ? slash + 1 : path;
  if (*base == '\0') {
    fprintf(stderr, "%s: %s: output is a directory name\n", prog, path);
    return EX_USAGE;
  }
  o->tmp = malloc(dirlen + strlen(base) + 16);
  if (!o->tmp) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return EX_FAIL;
  }
  sprintf(o->tmp, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
  o->fd = mkstemp(o->tmp);
  if (o->fd < 0) {
    fprintf(stderr, "%s: %s: cannot create a file there: %s\n", prog, path,
            strerror(errno));
    free(o->tmp);
    o->tmp = NULL;
    return EX_FAIL;
  }
  if (fchmod(o->fd, mode) != 0 || ftruncate(o->fd, (off_t)len) != 0) {
    fprintf(stderr, "%s: %s: %s\n", prog, o->tmp, strerror(errno));
    return EX_FAIL;
  }
  o->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
  if (o->map == MAP_FAILED) {
    o->map = NULL;
    fprintf(stderr, "%s: %s: mmap: %s\n", prog, o->tmp, strerror(errno));
    return EX_FAIL;
  }
  return EX_OK;
}

/* Unmap and close; when `keep`, flush and rename to `path`, else remove the
 * temporary file. Returns EX_OK or EX_FAIL. */
static int finish_output(out_file *o, const char *path, bool keep) {
  int rc = EX_OK;
  if (o->map && munmap(o->map, o->len) != 0 && keep) {
    fprintf(stderr, "%s: %s: munmap: %s\n", prog, o->tmp, strerror(errno));
    rc = EX_FAIL;
  }
  o->map = NULL;
  /* fsync covers the pages written through the shared mapping (one page
   * cache); without it a crash after rename could leave an empty OUT. */
  if (o->fd >= 0 && keep && rc == EX_OK && fsync(o->fd) != 0) {
    fprintf(stderr, "%s: %s: fsync: %s\n", prog, o->tmp, strerror(errno));
    rc = EX_FAIL;
  }
  if (o->fd >= 0)
    close(o->fd);
  o->fd = -1;
  if (o->tmp) {
    if (keep && rc == EX_OK && rename(o->tmp, path) != 0) {
      fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
      rc = EX_FAIL;
    }
    if (!keep || rc != EX_OK)
      unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
  }
  return rc;
}

/* ---- map ----------------------------------------------------------------- */

typedef struct {
  const char *kernel, *in, *out;
  double params[8];
  int nparams;
  unsigned long long threads, chunk;
  size_t dtype; /* 0: .npy input; 4 or 8: raw */
  bool fast, no_progress;
} map_args;

static int parse_map_args(int argc, char **argv, map_args *a) {
  const char *pos[3];
  int npos = 0;
  bool opts_done = false;
  memset(a, 0, sizeof *a);
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    const char *val = NULL;
    if (!opts_done && s[0] == '-' && s[1] == '-') {
      if (s[2] == '\0') {
        opts_done = true;
        continue;
      }
      const char *eq = strchr(s, '=');
      char name[32];
      size_t nl = eq ? (size_t)(eq - s) : strlen(s);
      snprintf(name, sizeof name, "%.*s", (int)(nl < 31 ? nl : 31), s);
      bool takes = !strcmp(name, "--param") || !strcmp(name, "--threads") ||
                   !strcmp(name, "--chunk") || !strcmp(name, "--dtype");
      if (takes) {
        if (eq)
          val = eq + 1;
        else if (i + 1 < argc)
          val = argv[++i];
        else
          return usage_error(usage_map, "option %s needs a value", name);
      } else if (eq) {
        return usage_error(usage_map, "option %s takes no value", name);
      }
      if (!strcmp(name, "--param")) {
        if (a->nparams == 8)
          return usage_error(usage_map, "too many --param values%s", "");
        if (!parse_double(val, &a->params[a->nparams++]))
          return usage_error(usage_map, "--param: '%s' is not a number", val);
      } else if (!strcmp(name, "--threads")) {
        if (!parse_ulong(val, 4096, &a->threads))
          return usage_error(usage_map, "--threads: '%s' is not in 1..4096", val);
      } else if (!strcmp(name, "--chunk")) {
        if (!parse_ulong(val, SIZE_MAX, &a->chunk))
          return usage_error(usage_map, "--chunk: '%s' is not a positive integer",
                             val);
      } else if (!strcmp(name, "--dtype")) {
        if (!strcmp(val, "f32") || !strcmp(val, "float32"))
          a->dtype = 4;
        else if (!strcmp(val, "f64") || !strcmp(val, "float64"))
          a->dtype = 8;
        else
          return usage_error(usage_map, "--dtype: '%s' is not f32 or f64", val);
      } else if (!strcmp(name, "--fast")) {
        a->fast = true;
      } else if (!strcmp(name, "--no-progress")) {
        a->no_progress = true;
      } else {
        return usage_error(usage_map, "unknown option %s", s);
      }
    } else if (!opts_done && s[0] == '-' && s[1] != '\0') {
      return usage_error(usage_map, "unknown option %s", s);
    } else {
      if (npos == 3)
        return usage_error(usage_map, "unexpected argument '%s'", s);
      pos[npos++] = s;
    }
  }
  if (npos < 3)
    return usage_error(usage_map, "map needs KERNEL, IN and OUT%s", "");
  a->kernel = pos[0];
  a->in = pos[1];
  a->out = pos[2];
  return EX_OK;
}

/* The kernel to run: KERNEL, or KERNEL_fast with --fast when it exists. */
static const ompb_kernel_info *pick_kernel(const map_args *a) {
  const ompb_kernel_info *k = ompb_kernel_find(a->kernel, 1);
  if (!k) {
    if (ompb_kernel_find(a->kernel, 2))
      fprintf(stderr,
              "%s: kernel '%s' takes two inputs; map runs one-input kernels "
              "only (see `%s kernels`)\n",
              prog, a->kernel, prog);
    else
      fprintf(stderr, "%s: unknown kernel '%s' (see `%s kernels`)\n", prog,
              a->kernel, prog);
    return NULL;
  }
  if (a->fast) {
    char name[96];
    snprintf(name, sizeof name, "%s_fast", a->kernel);
    const ompb_kernel_info *f = ompb_kernel_find(name, 1);
    if (f)
      k = f;
  }
  return k;
}

static mode_t creation_mode(void) {
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

static int cmd_map(int argc, char **argv) {
  map_args a;
  int rc = parse_map_args(argc, argv, &a);
  if (rc != EX_OK)
    return rc;
  const ompb_kernel_info *k = pick_kernel(&a);
  if (!k)
    return EX_KERNEL;
  if (a.nparams != (int)k->nparams) {
    fprintf(stderr, "%s: kernel '%s' takes %u --param value%s (%s), got %d\n",
            prog, k->name, k->nparams, k->nparams == 1 ? "" : "s", k->what,
            a.nparams);
    return EX_USAGE;
  }

  /* Signals first: a Ctrl-C at any point from here on removes the output. */
  pthread_t watcher;
  if (watch_start(&watcher) != 0) {
    fprintf(stderr, "%s: cannot watch for Ctrl-C: %s\n", prog, strerror(errno));
    return EX_FAIL;
  }

  mapped_file in = {0};
  out_file out = {.fd = -1};
  ompb_pool *pool = NULL;
  ompb_result *res = NULL;
  bool ok = false, watcher_running = true;
  if ((rc = map_input(a.in, &in)) != EX_OK)
    goto done;

  npy_header h;
  char err[256];
  const unsigned char *bytes = in.map;
  if (a.dtype) {
    if (npy_has_magic(bytes, in.len)) {
      fprintf(stderr, "%s: %s is a .npy file; drop --dtype to read it\n", prog,
              a.in);
      rc = EX_USAGE;
      goto done;
    }
    if (in.len % a.dtype) {
      fprintf(stderr,
              "%s: %s: %zu bytes is not a whole number of f%zu elements\n",
              prog, a.in, in.len, a.dtype * 8);
      rc = EX_CORRUPT;
      goto done;
    }
    memset(&h, 0, sizeof h);
    h.elem_size = a.dtype;
    h.ndim = 1;
    h.shape[0] = h.count = in.len / a.dtype;
  } else {
    int pr = npy_parse(bytes ? bytes : (const unsigned char *)"", in.len, &h,
                       err, sizeof err);
    if (pr != NPY_OK) {
      fprintf(stderr, "%s: %s: %s\n", prog, a.in, err);
      rc = pr == NPY_UNSUPPORTED ? EX_UNSUPPORTED : EX_CORRUPT;
      goto done;
    }
  }

  char header[4096];
  size_t hlen = npy_format_header(header, sizeof header, h.elem_size, h.ndim,
                                  h.shape);
  if (hlen == 0 || h.count > (SIZE_MAX - hlen) / h.elem_size) {
    fprintf(stderr, "%s: %s: array too large\n", prog, a.in);
    rc = EX_FAIL;
    goto done;
  }
  if ((rc = create_output(a.out, hlen + h.count * h.elem_size, creation_mode(),
                          &out)) != EX_OK)
    goto done;
  memcpy(out.map, header, hlen);

  if (h.count > 0) {
    rc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = (unsigned)a.threads});
    if (rc != OMPB_OK) {
      fprintf(stderr, "%s: cannot create the pool: %s\n", prog, ompb_strerror(rc));
      rc = EX_FAIL;
      goto done;
    }
    progress_state st = {.kernel = k->name, .items = h.count,
                         .draw = !a.no_progress && isatty(STDERR_FILENO)};
    ompb_map_opts mo = {.batch = {.on_progress = on_progress,
                                  .progress_throttle_ms = 100,
                                  .user = &st},
                        .chunk_size = (size_t)a.chunk};
    float pf[8];
    for (int i = 0; i < a.nparams; i++)
      pf[i] = (float)a.params[i];
    const unsigned char *src = bytes + h.data_offset;
    unsigned char *dst = (unsigned char *)out.map + hlen;
    ompb_batch *b = NULL;
    if (h.elem_size == 4)
      rc = ompb_pool_map_f32(pool, (const float *)(const void *)src,
                             (float *)(void *)dst, h.count, k->f32,
                             a.nparams ? pf : NULL, &mo, &b);
    else
      rc = ompb_pool_map_f64(pool, (const double *)(const void *)src,
                             (double *)(void *)dst, h.count, k->f64,
                             a.nparams ? a.params : NULL, &mo, &b);
    if (rc != OMPB_OK) {
      fprintf(stderr, "%s: cannot start the map: %s\n", prog, ompb_strerror(rc));
      rc = EX_FAIL;
      goto done;
    }
    atomic_store(&running_batch, b);
    /* A signal that came before the handle was published is caught here. */
    if (atomic_load(&interrupted))
      ompb_batch_cancel(b);
    int wrc = ompb_batch_wait(b, &res);
    /* The watcher may be inside ompb_batch_cancel(b): wait until it is not
     * before freeing (it reads the handle, then cancels). */
    atomic_store(&running_batch, NULL);
    watch_stop(watcher);
    watcher_running = false;
    ompb_batch_free(b);
    if (st.drawn)
      fputc('\n', stderr);
    if (atomic_load(&interrupted)) {
      rc = EX_INTERRUPTED;
      goto done;
    }
    if (wrc != OMPB_OK || !res || !res->all_succeeded) {
      const ompb_error *e = NULL;
      if (res)
        ompb_result_failures(res, &e, 1);
      fprintf(stderr, "%s: the map failed: %s\n", prog,
              e ? e->message : ompb_strerror(wrc));
      rc = EX_FAIL;
      goto done;
    }
  }
  if (atomic_load(&interrupted)) {
    rc = EX_INTERRUPTED;
    goto done;
  }
  ok = true;
  rc = EX_OK;

done:
  if (watcher_running)
    watch_stop(watcher);
  ompb_result_free(res);
  ompb_pool_destroy(pool);
  if (out.tmp) {
    int frc = finish_output(&out, a.out, ok);
    if (ok)
      rc = frc;
  }
  if (in.map)
    munmap(in.map, in.len);
  if (rc == EX_INTERRUPTED)
    fprintf(stderr, "%s: interrupted; %s was not written\n", prog, a.out);
  return rc;
}

/* ---- kernels, info ------------------------------------------------------- */

static void print_ulp(double u) {
  if (u == 0)
    printf("  %-7s", "exact");
  else
    printf("  %-7g", u);
}

static int cmd_kernels(int argc, char **argv) {
  bool names = false;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--names"))
      names = true;
    else
      return usage_error(usage_kernels, "unexpected argument '%s'", argv[i]);
  }
  size_t n = ompb_kernel_count();
  if (!names)
    printf("%-12s %-6s %-6s  %-7s  %-7s  %s\n", "KERNEL", "INPUTS", "PARAMS",
           "ULP_F32", "ULP_F64", "WHAT");
  for (size_t i = 0; i < n; i++) {
    const ompb_kernel_info *k = ompb_kernel_at(i);
    if (names) {
      if (k->arity == 1)
        printf("%s\n", k->name);
      continue;
    }
    printf("%-12s %-6u %-6u", k->name, k->arity, k->nparams);
    print_ulp(k->ulp_f32);
    print_ulp(k->ulp_f64);
    printf("  %s%s\n", k->what, k->arity == 2 ? " [two inputs: not in map]" : "");
  }
  return EX_OK;
}

static int cmd_info(int argc, char **argv) {
  unsigned long long threads = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      if (!parse_ulong(argv[++i], 4096, &threads))
        return usage_error(usage_info, "--threads: '%s' is not in 1..4096",
                           argv[i]);
    } else {
      return usage_error(usage_info, "unexpected argument '%s'", argv[i]);
    }
  }
  ompb_pool *pool;
  int rc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = (unsigned)threads});
  if (rc != OMPB_OK) {
    fprintf(stderr, "%s: cannot create a pool: %s\n", prog, ompb_strerror(rc));
    return EX_FAIL;
  }
  unsigned workers = ompb_pool_workers(pool);
  ompb_pool_destroy(pool);
  printf("version:      %s (headers %s)\n", ompb_version(), OMPB_VERSION_STRING);
  printf("simd isa:     %s%s\n", ompb_simd_isa(),
         ompb_simd_available() ? "" : " (no vector instructions)");
  printf("workers:      %u\n", workers);
  printf("cancellation: %s\n",
         omp_get_cancellation()
             ? "on (OMP_CANCELLATION=true: omp cancel is used)"
             : "off (a stop flag is used; OMP_CANCELLATION=true enables omp cancel)");
  printf("kernels:      %zu built-in\n", ompb_kernel_count());
  return EX_OK;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv) {
  /* --help and --version work everywhere (before `--`), whatever else the
   * command line holds. */
  const char *cmd = NULL;
  int cmd_at = argc;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--"))
      break;
    if (!strcmp(argv[i], "--version"))
      return version();
    if (!cmd && argv[i][0] != '-') {
      cmd = argv[i];
      cmd_at = i;
    }
  }
  bool help = false;
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      help = true;
  if (!cmd) {
    if (help) {
      usage_main(stdout);
      return EX_OK;
    }
    if (argc > 1)
      return usage_error(usage_main, "unknown option %s", argv[1]);
    usage_main(stderr);
    return EX_USAGE;
  }
  /* Options before the command are not defined (only --help/--version). */
  if (cmd_at != 1 && !help)
    return usage_error(usage_main, "unknown option %s", argv[1]);
  int sub_argc = argc - cmd_at - 1;
  char **sub_argv = argv + cmd_at + 1;
  if (!strcmp(cmd, "help")) {
    const char *what = sub_argc > 0 ? sub_argv[0] : "";
    if (!strcmp(what, "map"))
      usage_map(stdout);
    else if (!strcmp(what, "kernels"))
      usage_kernels(stdout);
    else if (!strcmp(what, "info"))
      usage_info(stdout);
    else
      usage_main(stdout);
    return EX_OK;
  }
  if (!strcmp(cmd, "map")) {
    if (help) {
      usage_map(stdout);
      return EX_OK;
    }
    return cmd_map(sub_argc, sub_argv);
  }
  if (!strcmp(cmd, "kernels")) {
    if (help) {
      usage_kernels(stdout);
      return EX_OK;
    }
    return cmd_kernels(sub_argc, sub_argv);
  }
  if (!strcmp(cmd, "info")) {
    if (help) {
      usage_info(stdout);
      return EX_OK;
    }
    return cmd_info(sub_argc, sub_argv);
  }
  if (help) {
    usage_main(stdout);
    return EX_OK;
  }
  return usage_error(usage_main, "unknown command '%s'", cmd);
}
