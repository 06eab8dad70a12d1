/* SPDX-License-Identifier: BSD-3-Clause */
/* Error strings, generated from the one table in ompbatch/error.h. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include "internal.h"

/* The table's values run 0, -1, -2, ... in order, so that OMPB_ERRNO_MIN
 * (one below the count) is the lowest. */
enum {
#define XX(name, value, msg) ERR_POS_##name,
  OMPB_ERRNO_MAP(XX)
#undef XX
};
#define XX(name, value, msg) \
  _Static_assert((value) == -(int)ERR_POS_##name, "OMPB_ERRNO_MAP: " #name " out of order");
OMPB_ERRNO_MAP(XX)
#undef XX
_Static_assert(OMPB_ERRNO_MIN == OMPB_ERANGE, "OMPB_ERRNO_MIN is the last code");

const char *ompb_strerror(int code) {
  switch (code) {
#define XX(name, value, msg) \
  case OMPB_##name:          \
    return msg;
    OMPB_ERRNO_MAP(XX)
#undef XX
  default:
    return code > 0 ? "task-defined error" : "unknown error";
  }
}

const char *ompb_err_name(int code) {
  switch (code) {
#define XX(name, value, msg) \
  case OMPB_##name:          \
    return "OMPB_" #name;
    OMPB_ERRNO_MAP(XX)
#undef XX
  default:
    return code > 0 ? "OMPB_TASK_ERROR" : "OMPB_UNKNOWN";
  }
}
