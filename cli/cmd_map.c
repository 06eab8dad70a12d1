/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch map KERNEL IN OUT: apply a built-in one-input kernel to every
 * element of an array file, on a pool, into a new .npy file. The steps:
 * read the command line, pick the kernel, catch signals, open IN, create
 * OUT with its header, run the kernel as one batch, commit or drop OUT. */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "input.h"
#include "npy.h"
#include "ompbatch.h"
#include "output.h"
#include "progress.h"
#include "signals.h"

#define MAX_PARAMS 8

static void usage(FILE *f) {
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
          CLI_PROG, CLI_PROG);
}

/* ---- the command line ------------------------------------------------------ */

typedef struct {
  const char *kernel, *in, *out;
  double params[MAX_PARAMS];
  float params_f32[MAX_PARAMS]; /* the same, rounded for f32 arrays */
  int nparams;
  unsigned long long threads, chunk; /* 0: default */
  size_t dtype;                      /* 0: .npy input; 4 or 8: raw */
  bool fast, no_progress;
} map_args;

enum { OPT_PARAM, OPT_THREADS, OPT_CHUNK, OPT_DTYPE, OPT_FAST, OPT_NO_PROGRESS };
static const cli_option options[] = {
    [OPT_PARAM] = {"--param", true},     [OPT_THREADS] = {"--threads", true},
    [OPT_CHUNK] = {"--chunk", true},     [OPT_DTYPE] = {"--dtype", true},
    [OPT_FAST] = {"--fast", false},      [OPT_NO_PROGRESS] = {"--no-progress", false},
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
  default: /* OPT_NO_PROGRESS: the table has no other */
    a->no_progress = true;
    return EX_OK;
  }
}

static int parse_args(int argc, char **argv, map_args *a) {
  *a = (map_args){0};
  const char *operands[3];
  int n = 0;
  cli_args it = cli_args_begin(argc, argv, options,
                               (int)(sizeof options / sizeof options[0]), usage);
  for (;;) {
    const char *val;
    int id = cli_args_next(&it, &val);
    if (id == CLI_ARGS_END)
      break;
    if (id == CLI_ARGS_ERROR)
      return EX_USAGE;
    if (id == CLI_ARGS_OPERAND) {
      if (n == 3)
        return cli_usage_error(usage, "unexpected argument '%s'", val);
      operands[n++] = val;
      continue;
    }
    int rc = set_option(a, id, val);
    if (rc != EX_OK)
      return rc;
  }
  if (n < 3)
    return cli_usage_error(usage, "map needs KERNEL, IN and OUT");
  a->kernel = operands[0];
  a->in = operands[1];
  a->out = operands[2];
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

/* Create OUT's temporary file for an array shaped like IN's, with its .npy
 * header written; *data is where the elements go. */
static int create_output(const map_args *a, const npy_header *h, cli_output *out,
                         unsigned char **data) {
  char header[4096];
  size_t hlen = npy_format_header(header, sizeof header, h->elem_size, h->ndim,
                                  h->shape);
  if (hlen == 0 || h->count > (SIZE_MAX - hlen) / h->elem_size) {
    cli_error("%s: array too large", a->in);
    return EX_FAIL;
  }
  int rc = cli_output_create(out, a->out, hlen + h->count * h->elem_size);
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

/* Run the kernel over IN's elements into dst as one batch on a new pool. */
static int run_batch(const map_args *a, const ompb_kernel_info *k,
                     const cli_input *in, void *dst) {
  const npy_header *h = &in->header;
  const void *src = in->file + h->data_offset;
  /* numpy accepts a header whose length is not a multiple of the element
   * size; the kernels need aligned elements. OUT's data is 64-byte aligned
   * (a page-aligned map, a header padded to 64): copy IN there and run in
   * place. */
  if ((uintptr_t)src % h->elem_size != 0) {
    memcpy(dst, src, h->count * h->elem_size);
    src = dst;
  }
  ompb_pool *pool = NULL;
  int rc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = (unsigned)a->threads});
  if (rc != OMPB_OK) {
    cli_error("cannot create the pool: %s", ompb_strerror(rc));
    return EX_FAIL;
  }
  cli_progress bar;
  cli_progress_init(&bar, k->name, h->count, !a->no_progress);
  ompb_map_opts mo = {.batch = {.on_progress = cli_progress_report,
                                .progress_throttle_ms = 100,
                                .user = &bar},
                      .chunk_size = (size_t)a->chunk};
  ompb_batch *b = NULL;
  if (h->elem_size == 4)
    rc = ompb_pool_map_f32(pool, src, dst, h->count, k->f32,
                           a->nparams ? a->params_f32 : NULL, &mo, &b);
  else
    rc = ompb_pool_map_f64(pool, src, dst, h->count, k->f64,
                           a->nparams ? a->params : NULL, &mo, &b);
  if (rc != OMPB_OK) {
    cli_error("cannot start the map: %s", ompb_strerror(rc));
    rc = EX_FAIL;
  } else {
    rc = wait_batch(b, &bar);
    if (rc == EX_FAIL && cli_signals_input_lost())
      rc = input_lost(a->in);
  }
  ompb_pool_destroy(pool);
  return rc;
}

/* ---- the command ----------------------------------------------------------- */

static int run(int argc, char **argv) {
  map_args a;
  const ompb_kernel_info *k = NULL;
  int rc = parse_args(argc, argv, &a);
  if (rc == EX_OK)
    rc = pick_kernel(&a, &k);
  if (rc != EX_OK)
    return rc;

  /* Signals first: a Ctrl-C at any point from here on removes the output. */
  int err = cli_signals_start();
  if (err != 0) {
    cli_error("cannot watch for Ctrl-C: %s", strerror(err));
    return EX_FAIL;
  }
  cli_input in;
  cli_output out = {.fd = -1};
  rc = cli_input_open(a.in, a.dtype, &in);
  if (rc == EX_OK) {
    unsigned char *dst = NULL;
    rc = create_output(&a, &in.header, &out, &dst);
    if (rc == EX_OK && in.header.count > 0)
      rc = run_batch(&a, k, &in, dst);
    /* What was read after the file shrank is zeros, not the file. */
    if (rc == EX_OK && cli_signals_input_lost())
      rc = input_lost(a.in);
    int irc = cli_input_close(&in, a.in);
    if (rc == EX_OK)
      rc = irc;
  }
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
    cli_error("interrupted; %s was not written", a.out);
  return rc;
}

const cli_command cli_cmd_map = {
    .name = "map",
    .synopsis = "map KERNEL IN OUT",
    .summary = "apply a built-in kernel to a .npy (or raw) file",
    .usage = usage,
    .run = run,
};
