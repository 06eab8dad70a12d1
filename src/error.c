/* Error strings, generated from the one table in ompbatch/error.h. */
#include "internal.h"

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
