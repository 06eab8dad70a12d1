/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch: version numbers. */
#ifndef OMPB_VERSION_H
#define OMPB_VERSION_H

#include "ompbatch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Semantic versioning of the API, written only here (the build reads the
 * SONAME, the library's file names and ompbatch.pc from these lines):
 * MINOR grows with additions (functions, kernels, fields appended to an
 * option struct), MAJOR when the ABI breaks (a removed or changed function,
 * a public struct that does not only grow at its end), and the SONAME is
 * libompbatch.so.MAJOR. The option structs only ever grow at the end. */
#define OMPB_VERSION_MAJOR 0
#define OMPB_VERSION_MINOR 1
#define OMPB_VERSION_PATCH 0
#define OMPB_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, for compile-time comparisons. */
#define OMPB_VERSION_HEX \
  (OMPB_VERSION_MAJOR * 10000 + OMPB_VERSION_MINOR * 100 + OMPB_VERSION_PATCH)

/* The version of the library actually linked ("0.1.0"); compare with
 * OMPB_VERSION_STRING to catch header/library mismatches.
 * Thread-safety: any. */
OMPB_EXTERN const char *ompb_version(void);

/* The OpenMP runtime the library was built for: "libgomp" (gcc) or
 * "libomp" (clang, LLVM). The program that links it must use the same one:
 * ompb_pool_create refuses a process with two (OMPB_ENOTSUP).
 * Thread-safety: any. */
OMPB_EXTERN const char *ompb_openmp_runtime(void);

#ifdef __cplusplus
}
#endif
#endif /* OMPB_VERSION_H */
