/* SPDX-License-Identifier: BSD-3-Clause */
/* The linked library's version. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include "internal.h"

const char *ompb_version(void) { return OMPB_VERSION_STRING; }
