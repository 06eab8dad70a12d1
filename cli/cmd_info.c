/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch info [--threads N]: what this build and machine give a batch. */
#include <omp.h>
#include <stdio.h>

#include "args.h"
#include "cli.h"
#include "ompbatch.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s info [--threads N]\n"
          "\n"
          "Print the library version, the SIMD instruction set the kernels use,\n"
          "the worker count a pool gets (with --threads N: N), and whether OpenMP\n"
          "cancellation is active (set OMP_CANCELLATION=true before the start).\n",
          CLI_PROG);
}

enum { OPT_THREADS };
static const cli_option options[] = {[OPT_THREADS] = {"--threads", true}};

static int run(int argc, char **argv) {
  unsigned long long threads = 0;
  cli_args it = cli_args_begin(argc, argv, options,
                               (int)(sizeof options / sizeof options[0]), usage);
  for (;;) {
    const char *val;
    int id = cli_args_next(&it, &val);
    if (id == CLI_ARGS_END)
      break;
    if (id == CLI_ARGS_ERROR)
      return EX_USAGE;
    if (id == CLI_ARGS_OPERAND)
      return cli_usage_error(usage, "unexpected argument '%s'", val);
    if (!cli_parse_count(val, 4096, &threads)) /* OPT_THREADS, the only option */
      return cli_usage_error(usage, "--threads: '%s' is not in 1..4096", val);
  }
  /* The worker count is what a pool really gets, not a guess. */
  ompb_pool *pool;
  int rc = ompb_pool_create(&pool, &(ompb_pool_opts){.workers = (unsigned)threads});
  if (rc != OMPB_OK) {
    cli_error("cannot create a pool: %s", ompb_strerror(rc));
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

const cli_command cli_cmd_info = {
    .name = "info",
    .synopsis = "info",
    .summary = "version, SIMD ISA, workers, OpenMP cancellation",
    .usage = usage,
    .run = run,
};
