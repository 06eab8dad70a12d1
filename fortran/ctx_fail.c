/* SPDX-License-Identifier: BSD-3-Clause */
/* The one call of the Fortran module that Fortran cannot make itself:
 * ompb_ctx_fail is variadic (a bind(c) interface cannot declare `...`, and
 * calling a variadic function through a fixed prototype is undefined). The
 * message arrives as Fortran has it, with a length and no NUL. */
#include <stddef.h>

#include "ompbatch/pool.h"

int ompb__f_ctx_fail(ompb_ctx *ctx, int code, const char *msg, size_t len);

int ompb__f_ctx_fail(ompb_ctx *ctx, int code, const char *msg, size_t len) {
  if (len > 255)
    len = 255;
  return ompb_ctx_fail(ctx, code, "%.*s", (int)len, msg);
}
