/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: what every part of the command shares: the exit codes, the
 * shape of a command, and how errors are printed.
 *
 * The parts call one way: main.c (the command table and dispatch) runs a
 * command, cmd_NAME.c; a command uses the building blocks args.c (the
 * command line), input.c (an input array), output.c (the output file),
 * signals.c (Ctrl-C) and progress.c (the progress bar, which goes quiet
 * after a signal: it reads signals.c's flag; and input.c has signals.c
 * guard its mapping against SIGBUS: the two calls between blocks), which
 * use only this file, npy.c and the library. Nothing here is
 * thread-safe unless stated: the CLI runs its commands on the main thread. */
#ifndef OMPB_CLI_CLI_H
#define OMPB_CLI_CLI_H

#include <stdio.h>

/* The name every message starts with (not argv[0]: messages are the same
 * however the tool was started). */
#define CLI_PROG "ompbatch"

/* Exit codes, one per cause (documented in `ompbatch --help`, docs/cli.md
 * and the man page). */
enum {
  EX_OK = 0,
  EX_FAIL = 1,        /* I/O error, out of memory, the batch failed */
  EX_USAGE = 2,       /* bad command line, wrong number of --param */
  EX_KERNEL = 3,      /* unknown kernel (or a two-input one) */
  EX_UNSUPPORTED = 4, /* valid .npy we do not handle: dtype, byte order, order */
  EX_CORRUPT = 5,     /* not a .npy, truncated or corrupt header or data */
  EX_INTERRUPTED = 130
};

/* A command: `ompbatch NAME ARGS...`. */
typedef struct {
  const char *name;     /* "map" */
  const char *synopsis; /* its line in `ompbatch --help`: "map KERNEL IN OUT" */
  const char *summary;  /* what it does, in a few words, for the same line */
  /* Print the command's usage to f (`ompbatch help NAME`, NAME --help, and
   * after a usage error). */
  void (*usage)(FILE *f);
  /* Run it on the words after NAME (--help and --version are handled before
   * and never reach it). Returns an exit code. */
  int (*run)(int argc, char **argv);
} cli_command;

/* The commands, in the order `ompbatch --help` lists them: each X(NAME) is
 * defined by cli/cmd_NAME.c as cli_cmd_NAME, and main.c's command table is
 * made from this list. Adding a command is that file and one X(NAME). */
#define CLI_COMMANDS(X) X(map) X(eval) X(kernels) X(info)

#define CLI_DECLARE_COMMAND(name) extern const cli_command cli_cmd_##name;
CLI_COMMANDS(CLI_DECLARE_COMMAND)
#undef CLI_DECLARE_COMMAND

/* Print "ompbatch: " and the formatted message as one line on stderr (one
 * write: safe from any thread; at most 1 KiB, longer ones are cut). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the message like cli_error, then the usage `help` prints, to
 * stderr. Returns EX_USAGE. */
int cli_usage_error(void (*help)(FILE *f), const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* OMPB_CLI_CLI_H */
