/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: error messages. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

static void vreport(const char *fmt, va_list ap) {
  fputs(CLI_PROG ": ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(fmt, ap);
  va_end(ap);
}

int cli_usage_error(void (*help)(FILE *f), const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(fmt, ap);
  va_end(ap);
  help(stderr);
  return EX_USAGE;
}
