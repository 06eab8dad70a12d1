/* SPDX-License-Identifier: BSD-3-Clause */
/* Error table, strings and the allocator hook. Includes its module's header
 * first: it must compile on its own. */
#include "ompbatch/error.h"

#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const int all_codes[] = {
#define XX(name, value, msg) OMPB_##name,
    OMPB_ERRNO_MAP(XX)
#undef XX
};
#define NCODES (sizeof all_codes / sizeof all_codes[0])

static void strerror_covers_every_code_and_never_returns_null(void) {
  for (size_t i = 0; i < NCODES; i++) {
    const char *s = ompb_strerror(all_codes[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(strlen(s) > 0);
    CU_ASSERT_STRING_NOT_EQUAL(s, "unknown error");
  }
  CU_ASSERT_STRING_EQUAL(ompb_strerror(-9999), "unknown error");
  CU_ASSERT_STRING_EQUAL(ompb_strerror(42), "task-defined error");
  CU_ASSERT_STRING_EQUAL(ompb_strerror(OMPB_OK), "success");
}

static void err_names_match_the_table(void) {
  CU_ASSERT_STRING_EQUAL(ompb_err_name(OMPB_EINVAL), "OMPB_EINVAL");
  CU_ASSERT_STRING_EQUAL(ompb_err_name(OMPB_ETIMEDOUT), "OMPB_ETIMEDOUT");
  CU_ASSERT_STRING_EQUAL(ompb_err_name(OMPB_ENOMETHOD), "OMPB_ENOMETHOD");
  CU_ASSERT_STRING_EQUAL(ompb_err_name(7), "OMPB_TASK_ERROR");
  CU_ASSERT_STRING_EQUAL(ompb_err_name(-4242), "OMPB_UNKNOWN");
  for (size_t i = 0; i < NCODES; i++) {
    CU_ASSERT(strncmp(ompb_err_name(all_codes[i]), "OMPB_", 5) == 0);
    for (size_t j = i + 1; j < NCODES; j++) CU_ASSERT(all_codes[i] != all_codes[j]);
  }
}

static void codes_are_zero_or_negative(void) {
  CU_ASSERT_EQUAL(OMPB_OK, 0);
  for (size_t i = 1; i < NCODES; i++) CU_ASSERT(all_codes[i] < 0);
}

static void set_allocator_rejects_null_and_late_calls(void) {
  CU_ASSERT_EQUAL(ompb_set_allocator(NULL, calloc, realloc, free), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_set_allocator(malloc, calloc, realloc, NULL), OMPB_EINVAL);
  /* Other suites have allocated by now (or this one does): too late. */
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, NULL), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_set_allocator(malloc, calloc, realloc, free), OMPB_ESTATE);
  ompb_pool_destroy(p);
}

int ompb_suite_error(void) {
  CU_pSuite s = CU_add_suite("error", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "strerror_covers_every_code_and_never_returns_null",
                   strerror_covers_every_code_and_never_returns_null) ||
      !CU_add_test(s, "err_names_match_the_table", err_names_match_the_table) ||
      !CU_add_test(s, "codes_are_zero_or_negative", codes_are_zero_or_negative) ||
      !CU_add_test(s, "set_allocator_rejects_null_and_late_calls",
                   set_allocator_rejects_null_and_late_calls))
    return -1;
  return 0;
}
