/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch kernels [--names]: list the built-in kernels with their
 * parameters and ULP bounds. */
#include <stdbool.h>
#include <stdio.h>

#include "args.h"
#include "cli.h"
#include "ompbatch.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s kernels [--names]\n"
          "\n"
          "List the built-in kernels: inputs, number of --param values, the\n"
          "maximum error in ULP for f32 and f64 (0: exact), and what each computes\n"
          "(with the domain of the bound, where limited). Two-input kernels are\n"
          "listed for reference; `map` runs one-input kernels only.\n"
          "  --names   print only the names of the one-input kernels\n",
          CLI_PROG);
}

enum { OPT_NAMES };
static const cli_option options[] = {[OPT_NAMES] = {"--names", false}};

static void print_ulp(double u) {
  if (u == 0)
    printf("  %-7s", "exact");
  else
    printf("  %-7g", u);
}

static void print_table(void) {
  printf("%-12s %-6s %-6s  %-7s  %-7s  %s\n", "KERNEL", "INPUTS", "PARAMS",
         "ULP_F32", "ULP_F64", "WHAT");
  for (size_t i = 0; i < ompb_kernel_count(); i++) {
    const ompb_kernel_info *k = ompb_kernel_at(i);
    printf("%-12s %-6u %-6u", k->name, k->arity, k->nparams);
    print_ulp(k->ulp_f32);
    print_ulp(k->ulp_f64);
    printf("  %s%s\n", k->what, k->arity == 2 ? " [two inputs: not in map]" : "");
  }
}

static void print_names(void) {
  for (size_t i = 0; i < ompb_kernel_count(); i++) {
    const ompb_kernel_info *k = ompb_kernel_at(i);
    if (k->arity == 1)
      printf("%s\n", k->name);
  }
}

static int run(int argc, char **argv) {
  bool names = false;
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
    names = true; /* OPT_NAMES, the only option */
  }
  if (names)
    print_names();
  else
    print_table();
  return EX_OK;
}

const cli_command cli_cmd_kernels = {
    .name = "kernels",
    .synopsis = "kernels",
    .summary = "list the kernels, their parameters and ULP bounds",
    .usage = usage,
    .run = run,
};
