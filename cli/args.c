/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the command line of a command (see args.h). */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

cli_args cli_args_begin(int argc, char **argv, const cli_option *options,
                        int noptions, void (*usage)(FILE *f)) {
  return (cli_args){.argv = argv, .argc = argc, .options = options,
                    .noptions = noptions, .usage = usage};
}

/* A word of one leading '-' that cannot be an option name: `-x**2`,
 * `-2*x`, `-(a+b)` (see cli_args.dash_operands). */
static bool dash_operand(const char *s) {
  if (s[1] == '-')
    return false;
  for (const char *c = s + 1; *c; c++)
    if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
      return true;
  return false;
}

/* The option called exactly s[0..len), or -1. */
static int find_option(const cli_args *a, const char *s, size_t len) {
  for (int id = 0; id < a->noptions; id++)
    if (strlen(a->options[id].name) == len &&
        memcmp(a->options[id].name, s, len) == 0)
      return id;
  return -1;
}

int cli_args_next(cli_args *a, const char **value) {
  *value = NULL;
  if (a->next >= a->argc)
    return CLI_ARGS_END;
  const char *s = a->argv[a->next++];
  if (a->options_done || s[0] != '-' || s[1] == '\0') {
    *value = s; /* "-" alone is an operand (a file name) */
    return CLI_ARGS_OPERAND;
  }
  if (strcmp(s, "--") == 0) {
    a->options_done = true;
    return cli_args_next(a, value);
  }
  const char *eq = s[1] == '-' ? strchr(s, '=') : NULL;
  int id = find_option(a, s, eq ? (size_t)(eq - s) : strlen(s));
  if (id < 0 && a->dash_operands && dash_operand(s)) {
    *value = s;
    return CLI_ARGS_OPERAND;
  }
  if (id < 0) {
    if (a->dash_operands && s[1] != '-')
      cli_usage_error(a->usage, "unknown option %s (an operand that starts "
                      "with '-' goes after --, or in parentheses: '(%s)')", s, s);
    else
      cli_usage_error(a->usage, "unknown option %s", s);
    return CLI_ARGS_ERROR;
  }
  const cli_option *o = &a->options[id];
  if (!o->takes_value && eq) {
    cli_usage_error(a->usage, "option %s takes no value", o->name);
    return CLI_ARGS_ERROR;
  }
  if (o->takes_value) {
    if (eq) {
      *value = eq + 1;
    } else if (a->next < a->argc) {
      *value = a->argv[a->next++];
    } else {
      cli_usage_error(a->usage, "option %s needs a value", o->name);
      return CLI_ARGS_ERROR;
    }
  }
  return id;
}

bool cli_parse_count(const char *s, unsigned long long max,
                     unsigned long long *v) {
  /* strtoull would accept leading blanks and a sign. */
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

bool cli_parse_real(const char *s, double *v) {
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end || (errno == ERANGE && isinf(x)))
    return false;
  *v = x;
  return true;
}
