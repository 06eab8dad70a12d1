/* SPDX-License-Identifier: BSD-3-Clause */
/* Which OpenMP runtime the library was built for, and the check that the
 * process has only one: two runtimes in one process (libgomp beside
 * libomp, or Intel's libiomp5) each keep their own thread pools and
 * thread-local state, a known source of crashes, oversubscription and
 * wrong results (MKL + libgomp, libomp + libiomp5). */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include <link.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *ompb_openmp_runtime(void) {
#ifdef KMP_VERSION_MAJOR
  return "libomp"; /* LLVM's runtime: its omp.h defines KMP_VERSION_* */
#else
  return "libgomp";
#endif
}

/* The OpenMP runtimes, by the start of their shared objects' file names. */
static const char *const runtimes[] = {"libgomp.so", "libomp.so", "libiomp5.so"};
static const char *const names_of[] = {"libgomp", "libomp", "libiomp5"};
enum { NRUNTIMES = sizeof runtimes / sizeof runtimes[0] };

static int note_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  unsigned *seen = data;
  const char *slash = strrchr(info->dlpi_name, '/');
  const char *base = slash ? slash + 1 : info->dlpi_name;
  for (unsigned k = 0; k < NRUNTIMES; k++)
    if (strncmp(base, runtimes[k], strlen(runtimes[k])) == 0) *seen |= 1u << k;
  return 0;
}

int ompb__check_runtimes(void) {
  unsigned seen = 0;
  dl_iterate_phdr(note_object, &seen);
  if ((seen & (seen - 1)) == 0) return OMPB_OK; /* none or one */
  char names[64] = "";
  size_t len = 0;
  for (unsigned k = 0; k < NRUNTIMES; k++)
    if (seen & (1u << k))
      len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? " and " : "",
                              names_of[k]);
  fprintf(stderr,
          "ompbatch: refusing to create a pool: two OpenMP runtimes are loaded (%s); "
          "build and link the whole program with one compiler's OpenMP (this library "
          "uses %s)\n",
          names, ompb_openmp_runtime());
  return OMPB_ENOTSUP;
}
