/* SPDX-License-Identifier: BSD-3-Clause */
/* Two OpenMP runtimes in one process are refused: a pool is created while
 * only the library's own runtime is loaded, then the other one (libomp for
 * a gcc build, libgomp for a clang build) is loaded and ompb_pool_create
 * must fail with OMPB_ENOTSUP, *out NULL. A standalone program (`make
 * check-runtimes`): the second runtime stays loaded until it exits. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "ompbatch.h"

int main(void) {
  int failed = 0;
  ompb_pool *p = NULL;
  int rc = ompb_pool_create(&p, NULL);
  if (rc != OMPB_OK) {
    fprintf(stderr, "runtimes: one runtime loaded, yet ompb_pool_create gave %s\n",
            ompb_err_name(rc));
    failed++;
  }
  ompb_pool_destroy(p);

  const char *mine = ompb_openmp_runtime();
  const char *other = strcmp(mine, "libgomp") == 0 ? "libomp.so.5" : "libgomp.so.1";
  void *h = dlopen(other, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "runtimes: cannot load %s beside %s: %s\n", other, mine, dlerror());
    return 1;
  }
  p = NULL;
  rc = ompb_pool_create(&p, NULL);
  if (rc != OMPB_ENOTSUP || p != NULL) {
    fprintf(stderr, "runtimes: %s and %s loaded, yet ompb_pool_create gave %s\n", mine, other,
            ompb_err_name(rc));
    ompb_pool_destroy(p);
    failed++;
  }
  printf("runtimes: %d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
  return failed ? 1 : 0;
}
