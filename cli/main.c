/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: the command-line tool. Applies built-in SIMD kernels to .npy
 * (or raw) files on a pool, with a terminal progress bar and clean Ctrl-C.
 * Uses the public API only (include/ompbatch.h). This file holds the
 * command table and the dispatch; each command is cli/cmd_NAME.c (cli.h
 * says how the parts fit). Exit codes: see usage(). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ompbatch.h"

/* The command table: every command of CLI_COMMANDS (cli.h), in order. */
#define ENTRY(name) &cli_cmd_##name,
static const cli_command *const commands[] = {CLI_COMMANDS(ENTRY)};
#undef ENTRY

static const cli_command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(commands[i]->name, name))
      return commands[i];
  return NULL;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s COMMAND [ARGS] [--help] [--version]\n"
          "\n"
          "Batch numeric transforms on an OpenMP team (ompbatch %s).\n"
          "\n"
          "commands:\n",
          CLI_PROG, ompb_version());
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-19s %s\n", commands[i]->synopsis, commands[i]->summary);
  fprintf(f,
          "  %-19s %s\n"
          "\n"
          "exit codes: 0 ok, 1 I/O or run-time error, 2 usage error, 3 unknown\n"
          "kernel, 4 unsupported input (dtype) or inputs of different shapes,\n"
          "5 corrupt or truncated input, 130 interrupted (no output written).\n",
          "help [COMMAND]", "this text, or a command's");
}

static int version(void) {
  printf("ompbatch %s (library %s)\n", OMPB_VERSION_STRING, ompb_version());
  return EX_OK;
}

/* `ompbatch help [COMMAND]`, `ompbatch [COMMAND] --help`: the usage of the
 * command when there is one by that name, else the tool's. */
static int help(const char *name) {
  const cli_command *c = name ? find_command(name) : NULL;
  if (c)
    c->usage(stdout);
  else
    usage(stdout);
  return EX_OK;
}

static int dispatch(int argc, char **argv) {
  /* --help, -h and --version work everywhere before `--`, whatever else the
   * command line holds; the command is the first word that is no option. */
  const char *cmd = NULL;
  int cmd_at = argc;
  bool want_help = false;
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "--version"))
      return version();
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      want_help = true;
    else if (!cmd && argv[i][0] != '-') {
      cmd = argv[i];
      cmd_at = i;
    }
  }
  if (!cmd) {
    if (want_help)
      return help(NULL);
    if (argc > 1)
      return cli_usage_error(usage, "unknown option %s", argv[1]);
    usage(stderr);
    return EX_USAGE;
  }
  /* Options before the command are not defined (only --help/--version). */
  if (cmd_at != 1 && !want_help)
    return cli_usage_error(usage, "unknown option %s", argv[1]);
  int sub_argc = argc - cmd_at - 1;
  char **sub_argv = argv + cmd_at + 1;
  if (!strcmp(cmd, "help"))
    return help(sub_argc > 0 ? sub_argv[0] : NULL);
  if (want_help)
    return help(cmd);
  const cli_command *c = find_command(cmd);
  if (!c)
    return cli_usage_error(usage, "unknown command '%s'", cmd);
  return c->run(sub_argc, sub_argv);
}

int main(int argc, char **argv) {
  int rc = dispatch(argc, argv);
  /* What went to stdout (a listing, a usage text) is part of the result: a
   * write error there is an I/O error, not a success. */
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_error("standard output: %s", strerror(errno));
    if (rc == EX_OK)
      rc = EX_FAIL;
  }
  return rc;
}
