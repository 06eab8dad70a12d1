/* SPDX-License-Identifier: BSD-3-Clause */
/* The one test runner: `runner` runs every suite, `runner SUITE` one suite,
 * `runner SUITE TEST` one test. Exits non-zero when any assertion or suite
 * setup failed, when the run did not complete, or when no test ran. A
 * watchdog (OMPB_TEST_TIMEOUT seconds, default 600) turns a hang into a
 * failure. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "helpers.h"

static int (*const suites[])(void) = {
    ompb_suite_error, ompb_suite_pool, ompb_suite_batch, ompb_suite_control,
    ompb_suite_map,   ompb_suite_simd,
    ompb_suite_guarantees, ompb_suite_caller, ompb_suite_limits,
    ompb_suite_expr,
};

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "\nrunner: watchdog timeout: a test hung\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
  _exit(3);
}

int main(int argc, char **argv) {
  const char *t = getenv("OMPB_TEST_TIMEOUT");
  signal(SIGALRM, on_alarm);
  alarm(t ? (unsigned)atoi(t) : 600);

  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
    if (suites[i]() != 0) {
      fprintf(stderr, "runner: cannot register suite %zu: %s\n", i, CU_get_error_msg());
      CU_cleanup_registry();
      return 2;
    }
  }
  CU_basic_set_mode(CU_BRM_NORMAL);
  CU_ErrorCode rc;
  if (argc == 1) {
    rc = CU_basic_run_tests();
  } else {
    CU_pSuite s = CU_get_suite(argv[1]);
    if (!s) {
      fprintf(stderr, "runner: no suite '%s'\n", argv[1]);
      CU_cleanup_registry();
      return 2;
    }
    if (argc > 2) {
      CU_pTest test = CU_get_test(s, argv[2]);
      if (!test) {
        fprintf(stderr, "runner: no test '%s' in suite '%s'\n", argv[2], argv[1]);
        CU_cleanup_registry();
        return 2;
      }
      rc = CU_basic_run_test(s, test);
    } else {
      rc = CU_basic_run_suite(s);
    }
  }
  unsigned ran = CU_get_number_of_tests_run();
  unsigned records = CU_get_number_of_failure_records();
  unsigned failed = CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  if (rc != CUE_SUCCESS || records || failed || ran == 0) {
    fprintf(stderr, "runner: FAILED (run code %d, %u failure records, %u tests ran)\n",
            (int)rc, records, ran);
    return 1;
  }
  return 0;
}
