/* SPDX-License-Identifier: BSD-3-Clause */
/* Where team threads run: whether a pool pins its team threads one per CPU,
 * and the pinning itself (done by each team thread, once per pool). */
#define _GNU_SOURCE
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "internal.h"

/* The pool this team thread was pinned for (pinning is done once). */
static _Thread_local const ompb_pool *tls_pinned_for;

void ompb__pin_team_thread(const ompb_pool *pool) {
  if (!pool->pin || tls_pinned_for == pool) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(pool->cpus[(unsigned)omp_get_thread_num() % pool->ncpus], &set);
  /* Advice: a thread left where the OS put it still runs correctly. */
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  tls_pinned_for = pool;
}

/* Pin only when the team is exactly the CPUs this process may use and the
 * user has not asked the OpenMP runtime to bind: then every thread gets its
 * own CPU and nothing else is displaced. */
int ompb__pin_plan(ompb_pool *pool, bool no_pin) {
  cpu_set_t set;
  if (no_pin || getenv("OMP_PROC_BIND") || getenv("OMPB_NO_PIN")) return OMPB_OK;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return OMPB_OK;
  unsigned count = (unsigned)CPU_COUNT(&set);
  if (count != pool->workers || count < 2) return OMPB_OK;
  pool->cpus = ompb__malloc(count * sizeof *pool->cpus);
  if (!pool->cpus) return OMPB_ENOMEM;
  for (int c = 0, k = 0; c < CPU_SETSIZE && k < (int)count; c++)
    if (CPU_ISSET(c, &set)) pool->cpus[k++] = c;
  pool->ncpus = count;
  pool->pin = true;
  return OMPB_OK;
}
