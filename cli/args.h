/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the command line of a command. GNU-style long options
 * (`--name value` and `--name=value`), operands before, between or after
 * them, `--` ending the options. Names must be given in full: unlike
 * getopt_long, no abbreviation is accepted, so that adding an option never
 * changes what an existing command line means. */
#ifndef OMPB_CLI_ARGS_H
#define OMPB_CLI_ARGS_H

#include <stdbool.h>
#include <stdio.h>

/* One option a command accepts; its id is its index in the command's table. */
typedef struct {
  const char *name; /* with the dashes: "--threads" */
  bool takes_value;
} cli_option;

/* What cli_args_next found (option ids are >= 0). */
enum {
  CLI_ARGS_END = -1,     /* no more words */
  CLI_ARGS_OPERAND = -2, /* an operand, in *value */
  CLI_ARGS_ERROR = -3    /* a usage error, already printed: exit EX_USAGE */
};

/* A pass over argv[0..argc) (the words after the command's name). */
typedef struct {
  char **argv;
  int argc, next;
  bool options_done; /* `--` was seen: the rest are operands */
  /* Set by a command whose operands may start with '-' (ompbatch eval's
   * EXPR, `-x**2`): a word of one leading '-' that is no option and holds
   * a character no option name has (anything but letters, digits, '_' and
   * '-') is an operand. */
  bool dash_operands;
  const cli_option *options;
  int noptions;
  void (*usage)(FILE *f); /* printed after a usage error */
} cli_args;

/* Start a pass over argv with the command's option table and usage. */
cli_args cli_args_begin(int argc, char **argv, const cli_option *options,
                        int noptions, void (*usage)(FILE *f));

/* The next option or operand. Returns an option's id (*value: its value, or
 * NULL when it takes none), CLI_ARGS_OPERAND (*value: the word),
 * CLI_ARGS_END, or CLI_ARGS_ERROR after printing "unknown option X",
 * "option X needs a value" or "option X takes no value" and the usage. */
int cli_args_next(cli_args *a, const char **value);

/* Strict numbers: the whole string must be the number. A count is a
 * decimal integer in 1..max; a real may be inf or nan but must not
 * overflow. Return true and set *v, or return false. */
bool cli_parse_count(const char *s, unsigned long long max, unsigned long long *v);
bool cli_parse_real(const char *s, double *v);

#endif /* OMPB_CLI_ARGS_H */
