/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: error messages. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One fputs per message: stdio locks the stream for each call, so lines
 * from the tasks of a many-file run never interleave. */
static void vreport(const char *fmt, va_list ap) {
  char line[1024];
  int n = snprintf(line, sizeof line, "%s: ", CLI_PROG);
  vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  size_t len = strlen(line);
  line[len] = '\n';
  line[len + 1] = '\0';
  fputs(line, stderr);
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
