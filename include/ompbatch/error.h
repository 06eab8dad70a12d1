/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: error codes, error strings and the allocator hook.
 *
 * Every fallible function returns an int: OMPB_OK (0), a negative OMPB_E*
 * code from the table below, or a positive code defined by a task function
 * and passed through unchanged. */
#ifndef OMPB_ERROR_H
#define OMPB_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define OMPB_EXTERN __attribute__((visibility("default")))
#else
#define OMPB_EXTERN
#endif

/* The one table: XX(name, value, message). It generates the enum,
 * ompb_strerror() and ompb_err_name(). Values never change once released. */
#define OMPB_ERRNO_MAP(XX)                                                     \
  XX(OK, 0, "success")                                                         \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(ENOMETHOD, -3, "no task function registered under that method name")     \
  XX(ECANCELED, -4, "cancelled before it could complete")                      \
  XX(ETIMEDOUT, -5, "deadline exceeded")                                       \
  XX(ESTATE, -6, "operation not valid in the current state")                   \
  XX(EEXIST, -7, "name already registered")                                    \
  XX(EAGAIN, -8, "system resources exhausted (thread creation failed)")        \
  XX(ENOTSUP, -9, "not supported by this build or machine")                    \
  XX(EPROTO, -10, "malformed or unsupported message")                         \
  XX(EIO, -11, "input/output error")                                           \
  XX(ERANGE, -12, "size or count out of range")

/* OMPB_ERRNO_MIN, the lowest code, follows from the table: its values run
 * 0, -1, -2, ... without gaps (src/error.c checks that at compile time). */
typedef enum {
#define OMPB__ERR_ENUM(name, value, msg) OMPB_##name = (value),
  OMPB_ERRNO_MAP(OMPB__ERR_ENUM)
#undef OMPB__ERR_ENUM
#define OMPB__ERR_COUNT(name, value, msg) +1
  OMPB_ERRNO_MIN = 1 - (0 OMPB_ERRNO_MAP(OMPB__ERR_COUNT))
#undef OMPB__ERR_COUNT
} ompb_errno;

/* A static, human-readable description of `code`. Never NULL: unknown
 * negative codes give "unknown error", positive codes "task-defined error".
 * Thread-safety: any. */
OMPB_EXTERN const char *ompb_strerror(int code);

/* The symbolic name of `code` ("OMPB_EINVAL"); "OMPB_UNKNOWN" for codes not
 * in the table, "OMPB_TASK_ERROR" for positive codes. Never NULL.
 * Thread-safety: any. */
OMPB_EXTERN const char *ompb_err_name(int code);

/* Allocator hook: every byte the library allocates goes through these four
 * functions (malloc, calloc, realloc, free semantics). Call it before any
 * other ompbatch call; all four must be non-NULL.
 * Returns OMPB_OK, OMPB_EINVAL for a NULL function, OMPB_ESTATE once the
 * library has allocated anything with the previous allocator.
 * Thread-safety: owner (call once, before other threads use the library). */
OMPB_EXTERN int ompb_set_allocator(void *(*malloc_fn)(size_t),
                                   void *(*calloc_fn)(size_t, size_t),
                                   void *(*realloc_fn)(void *, size_t),
                                   void (*free_fn)(void *));

#ifdef __cplusplus
}
#endif
#endif /* OMPB_ERROR_H */
