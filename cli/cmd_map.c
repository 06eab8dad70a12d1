/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch map KERNEL IN OUT: apply a built-in one-input kernel to every
 * element of an array file, on a pool, into a new .npy file. The steps:
 * read the command line, pick the kernel, catch signals, open IN, create
 * OUT with its header, run the kernel as one batch, commit or drop OUT.
 * With --out-dir, many files: one batch of one task per file (jobs.c),
 * each task doing those steps for its file on its worker. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "cli.h"
#include "convert.h"
#include "input.h"
#include "jobs.h"
#include "npy.h"
#include "ompbatch.h"
#include "output.h"
#include "progress.h"
#include "signals.h"

#define MAX_PARAMS 8

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s map KERNEL IN OUT [--param A ...] [--threads N] [--chunk N]\n"
          "                    [--fast] [--dtype f32|f64] [--progress MODE]\n"
          "       %s map KERNEL IN... --out-dir DIR [--jobs N] [--fail-fast] [...]\n"
          "\n"
          "Apply the one-input kernel KERNEL (see `%s kernels`) to every element of\n"
          "IN and write OUT as a .npy file of the same shape and order. IN is a\n"
          ".npy file of any shape, in C or Fortran order, either byte order:\n"
          "float32 or float64 (OUT has the same dtype), or integers or booleans\n"
          "(computed and written as float64, float32 with --dtype f32); or, with\n"
          "--dtype, raw native float data (OUT then has shape (n,)). OUT is always\n"
          "little-endian. IN is memory-mapped; OUT is written to a temporary file\n"
          "in its directory and renamed at the end, so an error or Ctrl-C leaves\n"
          "no partial OUT.\n"
          "\n"
          "With --out-dir, every IN is mapped to DIR/BASENAME(IN), all files as one\n"
          "batch (each file on one worker, --jobs at once), one progress display\n"
          "over all bytes; each output is committed when its file is done; a file\n"
          "that fails is named on stderr and the others go on (exit 1 at the end).\n"
          "\n"
          "  --param A       a kernel parameter (repeat in order; e.g. pow: p,\n"
          "                  affine: a then b, clamp: lo then hi)\n"
          "  --threads N     workers in the pool (default: OpenMP's maximum)\n"
          "  --chunk N       elements per work item (default: automatic)\n"
          "  --fast          use KERNEL_fast when it exists (3.5-ULP variants)\n"
          "  --dtype T       f32 or f64: the type of raw IN data (no .npy header), or\n"
          "                  the type an integer or boolean .npy is computed in\n"
          "  --out-dir DIR   many files: write DIR/BASENAME(IN) for every IN\n"
          "  --jobs N        with --out-dir: files at once (default: the workers)\n"
          "  --fail-fast     with --out-dir: stop at the first failed file\n"
          "  --progress M    bar (default; drawn only when stderr is a terminal),\n"
          "                  lines (one plain line a second, for logs) or none;\n"
          "                  default from OMPB_PROGRESS=0|1|lines\n"
          "  --no-progress   the same as --progress none\n"
          "\n"
          "exit codes: 0 ok, 1 I/O or run-time error (or a file of --out-dir failed),\n"
          "2 usage error, 3 unknown kernel, 4 unsupported input, 5 corrupt input,\n"
          "130 interrupted.\n",
          CLI_PROG, CLI_PROG, CLI_PROG);
}

/* ---- the command line ------------------------------------------------------ */

typedef struct {
  const char *kernel, *in, *out;
  const char **ins; /* with --out-dir: the inputs */
  size_t nins;
  const char *out_dir;
  double params[MAX_PARAMS];
  float params_f32[MAX_PARAMS]; /* the same, rounded for f32 arrays */
  int nparams;
  unsigned long long threads, chunk, jobs; /* 0: default */
  size_t dtype;                            /* 0: not given; 4 or 8 */
  bool fast, fail_fast;
  const char *progress; /* --progress's value; NULL when not given */
  cli_progress_mode mode;
} map_args;

enum { OPT_PARAM, OPT_THREADS, OPT_CHUNK, OPT_DTYPE, OPT_FAST, OPT_NO_PROGRESS,
       OPT_PROGRESS, OPT_OUT_DIR, OPT_JOBS, OPT_FAIL_FAST };
static const cli_option options[] = {
    [OPT_PARAM] = {"--param", true},     [OPT_THREADS] = {"--threads", true},
    [OPT_CHUNK] = {"--chunk", true},     [OPT_DTYPE] = {"--dtype", true},
    [OPT_FAST] = {"--fast", false},      [OPT_NO_PROGRESS] = {"--no-progress", false},
    [OPT_PROGRESS] = {"--progress", true}, [OPT_OUT_DIR] = {"--out-dir", true},
    [OPT_JOBS] = {"--jobs", true},       [OPT_FAIL_FAST] = {"--fail-fast", false},
};

/* One option and its value into *a; EX_OK or EX_USAGE. */
static int set_option(map_args *a, int id, const char *val) {
  switch (id) {
  case OPT_PARAM:
    if (a->nparams == MAX_PARAMS)
      return cli_usage_error(usage, "too many --param values");
    if (!cli_parse_real(val, &a->params[a->nparams]))
      return cli_usage_error(usage, "--param: '%s' is not a number", val);
    a->params_f32[a->nparams] = (float)a->params[a->nparams];
    a->nparams++;
    return EX_OK;
  case OPT_THREADS:
    if (!cli_parse_count(val, 4096, &a->threads))
      return cli_usage_error(usage, "--threads: '%s' is not in 1..4096", val);
    return EX_OK;
  case OPT_CHUNK:
    if (!cli_parse_count(val, SIZE_MAX, &a->chunk))
      return cli_usage_error(usage, "--chunk: '%s' is not a positive integer", val);
    return EX_OK;
  case OPT_JOBS:
    if (!cli_parse_count(val, 4096, &a->jobs))
      return cli_usage_error(usage, "--jobs: '%s' is not in 1..4096", val);
    return EX_OK;
  case OPT_DTYPE:
    if (!strcmp(val, "f32") || !strcmp(val, "float32"))
      a->dtype = 4;
    else if (!strcmp(val, "f64") || !strcmp(val, "float64"))
      a->dtype = 8;
    else
      return cli_usage_error(usage, "--dtype: '%s' is not f32 or f64", val);
    return EX_OK;
  case OPT_FAST:
    a->fast = true;
    return EX_OK;
  case OPT_FAIL_FAST:
    a->fail_fast = true;
    return EX_OK;
  case OPT_OUT_DIR:
    if (!*val)
      return cli_usage_error(usage, "--out-dir: empty directory name");
    a->out_dir = val;
    return EX_OK;
  case OPT_PROGRESS:
    a->progress = val;
    return EX_OK;
  default: /* OPT_NO_PROGRESS: the table has no other */
    a->progress = "none";
    return EX_OK;
  }
}

/* The last word of a path: "a/b/c.npy" -> "c.npy". */
static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static int parse_args(int argc, char **argv, map_args *a) {
  *a = (map_args){0};
  /* Operands: at most argc of them; the array is the command line's. */
  const char **operands = calloc((size_t)argc + 1, sizeof *operands);
  if (!operands) {
    cli_error("out of memory");
    return EX_FAIL;
  }
  int n = 0, rc = EX_OK;
  cli_args it = cli_args_begin(argc, argv, options,
                               (int)(sizeof options / sizeof options[0]), usage);
  for (;;) {
    const char *val;
    int id = cli_args_next(&it, &val);
    if (id == CLI_ARGS_END)
      break;
    if (id == CLI_ARGS_ERROR) {
      rc = EX_USAGE;
      break;
    }
    if (id == CLI_ARGS_OPERAND) {
      operands[n++] = val;
      continue;
    }
    if ((rc = set_option(a, id, val)) != EX_OK)
      break;
  }
  if (rc == EX_OK)
    rc = cli_progress_choose(a->progress, usage, &a->mode);
  if (rc == EX_OK && !a->out_dir) {
    if (a->jobs || a->fail_fast)
      rc = cli_usage_error(usage, "--jobs and --fail-fast need --out-dir");
    else if (n > 3)
      rc = cli_usage_error(usage, "unexpected argument '%s' (many files need "
                           "--out-dir)", operands[3]);
    else if (n < 3)
      rc = cli_usage_error(usage, "map needs KERNEL, IN and OUT");
  } else if (rc == EX_OK && n < 2) {
    rc = cli_usage_error(usage, "map needs KERNEL and at least one IN");
  }
  /* Two inputs of one name would write the same output. */
  for (int i = 2; rc == EX_OK && a->out_dir && i < n; i++)
    for (int j = 1; j < i; j++)
      if (!strcmp(base_name(operands[i]), base_name(operands[j]))) {
        rc = cli_usage_error(usage, "%s and %s would both write %s/%s",
                             operands[j], operands[i], a->out_dir,
                             base_name(operands[i]));
        break;
      }
  if (rc != EX_OK) {
    free(operands);
    return rc;
  }
  a->kernel = operands[0];
  a->ins = operands + 1;
  a->nins = (size_t)n - 1;
  a->in = operands[1];
  a->out = a->out_dir ? NULL : operands[2];
  return EX_OK;
}

/* ---- the kernel ------------------------------------------------------------ */

/* KERNEL, or KERNEL_fast with --fast when it exists, taking as many
 * parameters as were given. EX_OK, EX_KERNEL or EX_USAGE. */
static int pick_kernel(const map_args *a, const ompb_kernel_info **out) {
  const ompb_kernel_info *k = ompb_kernel_find(a->kernel, 1);
  if (!k) {
    if (ompb_kernel_find(a->kernel, 2))
      cli_error("kernel '%s' takes two inputs; map runs one-input kernels "
                "only (see `%s kernels`)", a->kernel, CLI_PROG);
    else
      cli_error("unknown kernel '%s' (see `%s kernels`)", a->kernel, CLI_PROG);
    return EX_KERNEL;
  }
  char fast[96];
  if (a->fast && (size_t)snprintf(fast, sizeof fast, "%s_fast", k->name) < sizeof fast) {
    const ompb_kernel_info *f = ompb_kernel_find(fast, 1);
    if (f)
      k = f;
  }
  if (a->nparams != (int)k->nparams) {
    cli_error("kernel '%s' takes %u --param value%s (%s), got %d", k->name,
              k->nparams, k->nparams == 1 ? "" : "s", k->what, a->nparams);
    return EX_USAGE;
  }
  *out = k;
  return EX_OK;
}

/* ---- the output ------------------------------------------------------------ */

/* The element size OUT gets for input h: a float .npy keeps its own, an
 * integer or boolean one is computed as f64 (f32 with --dtype f32), raw
 * data is --dtype's. EX_OK, or EX_USAGE after a message naming `in` (a
 * float .npy given with --dtype). */
static int out_elem_size(const map_args *a, const char *in, const npy_header *h,
                         size_t *size) {
  if (h->raw) {
    *size = h->elem_size;
  } else if (h->kind == 'f') {
    if (a->dtype) {
      cli_error("%s is a .npy file; drop --dtype to read it", in);
      return EX_USAGE;
    }
    *size = h->elem_size;
  } else {
    *size = a->dtype ? a->dtype : 8;
  }
  return EX_OK;
}

/* Create the temporary file of `out` for an array shaped like IN's with
 * elements of esize bytes, with its .npy header written; *data is where
 * the elements go. */
static int create_output(const char *in, const char *out_path, const npy_header *h,
                         size_t esize, cli_output *out, unsigned char **data) {
  char header[4096];
  size_t hlen = npy_format_header(header, sizeof header, esize, h->fortran,
                                  h->ndim, h->shape);
  if (hlen == 0 || h->count > (SIZE_MAX - hlen) / esize) {
    cli_error("%s: array too large", in);
    return EX_FAIL;
  }
  int rc = cli_output_create(out, out_path, hlen + h->count * esize);
  if (rc != EX_OK)
    return rc;
  memcpy(out->map, header, hlen);
  *data = (unsigned char *)out->map + hlen;
  return EX_OK;
}

/* ---- the batch ------------------------------------------------------------- */

/* IN shrank under its mapping: say so. Returns EX_FAIL. */
static int input_lost(const char *in) {
  cli_error("%s: the file shrank while it was read (truncated by another "
            "program?)", in);
  return EX_FAIL;
}

/* The batch's outcome as an exit code, with a message when it failed. */
static int check_result(int wait_rc, const ompb_result *res) {
  if (wait_rc == OMPB_OK && res && res->all_succeeded)
    return EX_OK;
  const ompb_error *e = NULL;
  if (res)
    ompb_result_failures(res, &e, 1);
  cli_error("the map failed: %s", e ? e->message : ompb_strerror(wait_rc));
  return EX_FAIL;
}

/* Wait for b, cancelled by a signal, and free it. */
static int wait_batch(ompb_batch *b, cli_progress *bar) {
  int crc = cli_signals_watch(b);
  if (crc != OMPB_OK)
    cli_error("cannot cancel the map: %s", ompb_strerror(crc));
  ompb_result *res = NULL;
  int wrc = ompb_batch_wait(b, &res);
  /* The watcher may be inside ompb_batch_cancel(b): stop it before freeing
   * b, and leave b to the exit when that fails. */
  int err = cli_signals_stop();
  if (err == 0)
    ompb_batch_free(b);
  cli_progress_end(bar);
  int rc;
  if (err != 0) {
    cli_error("cannot stop the signal watcher: %s", strerror(err));
    rc = EX_FAIL;
  } else if (cli_signals_caught()) {
    rc = EX_INTERRUPTED;
  } else if (cli_signals_input_lost()) {
    rc = EX_FAIL; /* said by run_batch, which knows the file's name */
  } else if (crc != OMPB_OK) {
    rc = EX_FAIL;
  } else {
    rc = check_result(wrc, res);
  }
  ompb_result_free(res);
  return rc;
}

/* Run the kernel over IN's elements into dst (esize-byte floats) as one
 * batch on pool. */
static int run_batch(const map_args *a, const ompb_kernel_info *k, ompb_pool *pool,
                     const cli_input *in, size_t esize, void *dst) {
  const npy_header *h = &in->header;
  const void *src = in->file + h->data_offset;
  /* The kernels need aligned native floats of their width. OUT's data is
   * 64-byte aligned (a page-aligned map, a header padded to 64): anything
   * else (integers, big-endian data, a header whose length is not a
   * multiple of the element size, which numpy accepts) is converted into
   * OUT first and computed in place. */
  if (!cli_convert_direct(h, src, esize)) {
    cli_convert(h, src, h->count, dst, esize);
    src = dst;
  }
  cli_progress bar;
  cli_progress_init(&bar, k->name, h->count, false, a->mode);
  ompb_map_opts mo = {.batch = {.on_progress = cli_progress_report,
                                .progress_throttle_ms = cli_progress_throttle_ms(&bar),
                                .user = &bar},
                      .chunk_size = (size_t)a->chunk};
  ompb_batch *b = NULL;
  int rc;
  if (esize == 4)
    rc = ompb_pool_map_f32(pool, src, dst, h->count, k->f32,
                           a->nparams ? a->params_f32 : NULL, &mo, &b);
  else
    rc = ompb_pool_map_f64(pool, src, dst, h->count, k->f64,
                           a->nparams ? a->params : NULL, &mo, &b);
  if (rc != OMPB_OK) {
    cli_error("cannot start the map: %s", ompb_strerror(rc));
    return EX_FAIL;
  }
  rc = wait_batch(b, &bar);
  if (rc == EX_FAIL && cli_signals_input_lost())
    rc = input_lost(a->in);
  return rc;
}

/* ---- many files (--out-dir) ------------------------------------------------ */

typedef struct {
  const map_args *a;
  const ompb_kernel_info *k;
  atomic_size_t done; /* input bytes handled, over all files */
} many_map;

typedef struct {
  many_map *m;
  const char *in;
  char *out;   /* DIR/BASENAME(IN) */
  size_t size; /* IN's size when the run started (its share of the bar) */
} map_job;

/* Map one open file into dst, CLI_JOBS_STEP elements at a time, checking
 * for a cancel and for the input shrinking between steps. Returns EX_OK,
 * an exit code after a message, or OMPB_ECANCELED. */
static int map_steps(ompb_ctx *ctx, map_job *j, const cli_input *in, size_t esize,
                     unsigned char *dst, size_t *added) {
  const map_args *a = j->m->a;
  const npy_header *h = &in->header;
  const unsigned char *src = in->file + h->data_offset;
  bool direct = cli_convert_direct(h, src, esize);
  for (size_t i = 0; i < h->count; i += CLI_JOBS_STEP) {
    if (ompb_ctx_should_stop(ctx))
      return OMPB_ECANCELED;
    size_t n = h->count - i < CLI_JOBS_STEP ? h->count - i : CLI_JOBS_STEP;
    const void *from = src + i * h->elem_size;
    void *to = dst + i * esize;
    if (!direct) {
      cli_convert(h, from, n, to, esize);
      from = to;
    }
    int rc = esize == 4 ? ompb_simd_map_f32(from, to, n, j->m->k->f32,
                                            a->nparams ? a->params_f32 : NULL)
                        : ompb_simd_map_f64(from, to, n, j->m->k->f64,
                                            a->nparams ? a->params : NULL);
    if (rc != OMPB_OK) {
      cli_error("%s: the map failed: %s", j->in, ompb_strerror(rc));
      return EX_FAIL;
    }
    if (cli_input_lost(in))
      return input_lost(j->in);
    size_t bytes = n * h->elem_size;
    atomic_fetch_add(&j->m->done, bytes);
    *added += bytes;
  }
  return EX_OK;
}

/* A task of the many-file batch: map one file, commit its output. */
static int map_file_task(ompb_ctx *ctx, void *arg, ompb_value *result) {
  (void)result;
  map_job *j = arg;
  size_t added = 0, esize = 0;
  cli_input in;
  cli_output out = {.fd = -1};
  unsigned char *dst = NULL;
  int rc = ompb_ctx_should_stop(ctx) ? OMPB_ECANCELED
                                     : cli_input_open(j->in, j->m->a->dtype, &in);
  if (rc == EX_OK) {
    rc = out_elem_size(j->m->a, j->in, &in.header, &esize);
    if (rc == EX_OK)
      rc = create_output(j->in, j->out, &in.header, esize, &out, &dst);
    if (rc == EX_OK)
      rc = map_steps(ctx, j, &in, esize, dst, &added);
    int irc = cli_input_close(&in, j->in);
    if (rc == EX_OK)
      rc = irc;
  }
  if (rc == EX_OK)
    rc = cli_output_flush(&out);
  if (rc == EX_OK && cli_signals_caught())
    rc = OMPB_ECANCELED;
  int orc = cli_output_finish(&out, rc == EX_OK);
  if (rc == EX_OK)
    rc = orc;
  /* The file is done with, whatever happened: the rest of its bytes. */
  if (j->size > added)
    atomic_fetch_add(&j->m->done, j->size - added);
  return rc;
}

static int run_many(const map_args *a, const ompb_kernel_info *k, ompb_pool *pool) {
  struct stat st;
  if (stat(a->out_dir, &st) != 0) {
    cli_error("%s: %s", a->out_dir, strerror(errno));
    return EX_FAIL;
  }
  if (!S_ISDIR(st.st_mode)) {
    cli_error("%s: not a directory", a->out_dir);
    return EX_FAIL;
  }
  many_map m = {.a = a, .k = k};
  atomic_init(&m.done, 0);
  map_job *jobs = calloc(a->nins, sizeof *jobs);
  void **args = calloc(a->nins, sizeof *args);
  int rc = jobs && args ? EX_OK : EX_FAIL;
  size_t total = 0;
  for (size_t i = 0; rc == EX_OK && i < a->nins; i++) {
    jobs[i] = (map_job){.m = &m, .in = a->ins[i]};
    const char *b = base_name(a->ins[i]);
    size_t len = strlen(a->out_dir) + strlen(b) + 2;
    if (!(jobs[i].out = malloc(len))) {
      rc = EX_FAIL;
      break;
    }
    snprintf(jobs[i].out, len, "%s/%s", a->out_dir, b);
    /* A file that cannot be read fails in its task, with its message. */
    if (stat(a->ins[i], &st) == 0 && S_ISREG(st.st_mode))
      jobs[i].size = (size_t)st.st_size;
    total += jobs[i].size;
    args[i] = &jobs[i];
  }
  if (rc != EX_OK) {
    cli_error("out of memory");
  } else {
    cli_progress bar;
    cli_progress_init(&bar, k->name, total, true, a->mode);
    bar.done = &m.done;
    cli_jobs_outcome o;
    rc = cli_jobs_run(pool, map_file_task, args, a->nins, (unsigned)a->jobs,
                      a->fail_fast, &bar, &o);
    if (rc == EX_OK)
      rc = cli_jobs_exit_code(&o, a->nins, "files");
  }
  for (size_t i = 0; jobs && i < a->nins; i++)
    free(jobs[i].out);
  free(jobs);
  free(args);
  return rc;
}

/* ---- the command ----------------------------------------------------------- */

/* The one-file form: IN to OUT through one pool-wide map. */
static int run_one(const map_args *a, const ompb_kernel_info *k, ompb_pool *pool) {
  cli_input in;
  cli_output out = {.fd = -1};
  int rc = cli_input_open(a->in, a->dtype, &in);
  if (rc == EX_OK) {
    unsigned char *dst = NULL;
    size_t esize = 0;
    rc = out_elem_size(a, a->in, &in.header, &esize);
    if (rc == EX_OK)
      rc = create_output(a->in, a->out, &in.header, esize, &out, &dst);
    if (rc == EX_OK && in.header.count > 0)
      rc = run_batch(a, k, pool, &in, esize, dst);
    /* What was read after the file shrank is zeros, not the file. */
    if (rc == EX_OK && cli_signals_input_lost())
      rc = input_lost(a->in);
    int irc = cli_input_close(&in, a->in);
    if (rc == EX_OK)
      rc = irc;
  }
  int err;
  if ((err = cli_signals_stop()) != 0 && rc == EX_OK) {
    cli_error("cannot stop the signal watcher: %s", strerror(err));
    rc = EX_FAIL;
  }
  if (rc == EX_OK)
    rc = cli_output_flush(&out);
  /* The last moment a signal can still undo the run: after the fsync,
   * which can take long, just before the rename that commits. */
  if (rc == EX_OK && cli_signals_caught())
    rc = EX_INTERRUPTED;
  int orc = cli_output_finish(&out, rc == EX_OK);
  if (rc == EX_OK)
    rc = orc;
  if (rc == EX_INTERRUPTED)
    cli_error("interrupted; %s was not written", a->out);
  return rc;
}

static int run(int argc, char **argv) {
  map_args a;
  const ompb_kernel_info *k = NULL;
  int rc = parse_args(argc, argv, &a);
  if (rc != EX_OK)
    return rc;
  rc = pick_kernel(&a, &k);
  if (rc != EX_OK) {
    free(a.ins - 1);
    return rc;
  }
  /* Signals first: a Ctrl-C at any point from here on removes the output. */
  int err = cli_signals_start();
  if (err != 0) {
    cli_error("cannot watch for Ctrl-C: %s", strerror(err));
    free(a.ins - 1);
    return EX_FAIL;
  }
  ompb_pool *pool = NULL;
  rc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = (unsigned)a.threads});
  if (rc != OMPB_OK) {
    cli_error("cannot create the pool: %s", ompb_strerror(rc));
    rc = EX_FAIL;
    if ((err = cli_signals_stop()) != 0)
      cli_error("cannot stop the signal watcher: %s", strerror(err));
  } else if (a.out_dir) {
    rc = run_many(&a, k, pool);
  } else {
    rc = run_one(&a, k, pool);
  }
  ompb_pool_destroy(pool);
  free(a.ins - 1);
  return rc;
}

const cli_command cli_cmd_map = {
    .name = "map",
    .synopsis = "map KERNEL IN OUT",
    .summary = "apply a built-in kernel to a .npy (or raw) file",
    .usage = usage,
    .run = run,
};
