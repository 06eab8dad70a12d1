/* SPDX-License-Identifier: BSD-3-Clause */
/* Pool: create/destroy, workers, the registry, multi-threaded use. */
#include "ompbatch/pool.h"

#include <omp.h>
#include <pthread.h>
#include <string.h>

#include "helpers.h"

static void create_defaults_to_omp_max_threads(void) {
  ompb_pool *p = NULL;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, NULL), OMPB_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(ompb_pool_workers(p), (unsigned)omp_get_max_threads());
  ompb_pool_destroy(p);
  ompb_pool_opts o = {.workers = 3};
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, &o), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_pool_workers(p), 3u);
  ompb_pool_destroy(p);
}

static void create_rejects_bad_arguments(void) {
  CU_ASSERT_EQUAL(ompb_pool_create(NULL, NULL), OMPB_EINVAL);
  ompb_pool *p = (ompb_pool *)&p;
  ompb_pool_opts o = {.workers = 100000};
  CU_ASSERT_EQUAL(ompb_pool_create(&p, &o), OMPB_EINVAL);
  CU_ASSERT_PTR_NULL(p);
  CU_ASSERT_EQUAL(ompb_pool_workers(NULL), 0u);
  ompb_pool_destroy(NULL); /* no-op */
}

static void register_copies_names_and_rejects_duplicates(void) {
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, NULL), OMPB_OK);
  char name[16];
  strcpy(name, "square");
  CU_ASSERT_EQUAL(ompb_pool_register(p, name, th_square_task), OMPB_OK);
  strcpy(name, "clobbered");
  CU_ASSERT_EQUAL(ompb_pool_register(p, "square", th_index_task), OMPB_EEXIST);
  CU_ASSERT_EQUAL(ompb_pool_register(NULL, "x", th_index_task), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_register(p, NULL, th_index_task), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_register(p, "", th_index_task), OMPB_EINVAL);
  CU_ASSERT_EQUAL(ompb_pool_register(p, "x", NULL), OMPB_EINVAL);
  /* Many names: the table grows and every name still resolves. */
  char buf[32];
  for (int i = 0; i < 200; i++) {
    snprintf(buf, sizeof buf, "m%d", i);
    CU_ASSERT_EQUAL(ompb_pool_register(p, buf, th_index_task), OMPB_OK);
  }
  ompb_task t[3] = {{.method = "square", .arg = (void *)(intptr_t)9},
                    {.method = "m137"},
                    {.method = "clobbered"}};
  ompb_result *r;
  CU_ASSERT_EQUAL_FATAL(ompb_exec_batch(p, t, 3, NULL, &r), OMPB_OK);
  CU_ASSERT_EQUAL(r->results[0].status, 0);
  CU_ASSERT_EQUAL(r->results[0].value.i64, 81);
  CU_ASSERT_EQUAL(r->results[1].value.i64, 1);
  CU_ASSERT_EQUAL(r->results[2].status, OMPB_ENOMETHOD);
  ompb_result_free(r);
  ompb_pool_destroy(p);
}

static void register_after_first_batch_is_estate(void) {
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, NULL), OMPB_OK);
  CU_ASSERT_EQUAL(ompb_pool_register(p, "a", th_index_task), OMPB_OK);
  ompb_result *r;
  CU_ASSERT_EQUAL(ompb_exec_batch(p, NULL, 0, NULL, &r), OMPB_OK);
  ompb_result_free(r);
  CU_ASSERT_EQUAL(ompb_pool_register(p, "b", th_index_task), OMPB_ESTATE);
  ompb_pool_destroy(p);
}

static void destroy_waits_for_queued_batches(void) {
  ompb_pool *p;
  ompb_pool_opts o = {.workers = 2};
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, &o), OMPB_OK);
  enum { NB = 4, NT = 8 };
  ompb_task t[NT];
  for (int i = 0; i < NT; i++) t[i] = (ompb_task){.fn = th_sleep_task, .arg = (void *)(intptr_t)2};
  ompb_batch *b[NB];
  for (int i = 0; i < NB; i++) CU_ASSERT_EQUAL_FATAL(ompb_batch_start(p, t, NT, NULL, &b[i]), OMPB_OK);
  ompb_pool_destroy(p); /* handles stay valid */
  for (int i = 0; i < NB; i++) {
    ompb_result *r;
    CU_ASSERT_EQUAL(ompb_batch_wait(b[i], &r), OMPB_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->success_count, (size_t)NT);
    CU_ASSERT(r->all_succeeded);
    ompb_result_free(r);
    ompb_batch_free(b[i]);
  }
}

struct starter {
  ompb_pool *pool;
  int base;
  int ok; /* 1 when every batch came back correct */
};

static void *start_batches(void *arg) {
  struct starter *st = arg;
  enum { NT = 300 };
  ompb_task t[NT];
  st->ok = 1;
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < NT; i++)
      t[i] = (ompb_task){.fn = th_square_task, .arg = (void *)(intptr_t)(st->base + i)};
    ompb_result *r;
    if (ompb_exec_batch(st->pool, t, NT, NULL, &r) != OMPB_OK || !r) {
      st->ok = 0;
      continue;
    }
    for (int i = 0; i < NT; i++) {
      int64_t k = st->base + i;
      if (r->results[i].index != (size_t)i || r->results[i].value.i64 != k * k) st->ok = 0;
    }
    ompb_result_free(r);
  }
  return NULL;
}

static void batches_from_several_threads_at_once(void) {
  ompb_pool *p;
  CU_ASSERT_EQUAL_FATAL(ompb_pool_create(&p, NULL), OMPB_OK);
  pthread_t th[3];
  struct starter st[3];
  for (int i = 0; i < 3; i++) {
    st[i] = (struct starter){p, 1000 * i, 0};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, start_batches, &st[i]), 0);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(st[i].ok, 1);
  }
  ompb_pool_destroy(p);
}

int ompb_suite_pool(void) {
  CU_pSuite s = CU_add_suite("pool", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "create_defaults_to_omp_max_threads", create_defaults_to_omp_max_threads) ||
      !CU_add_test(s, "create_rejects_bad_arguments", create_rejects_bad_arguments) ||
      !CU_add_test(s, "register_copies_names_and_rejects_duplicates",
                   register_copies_names_and_rejects_duplicates) ||
      !CU_add_test(s, "register_after_first_batch_is_estate", register_after_first_batch_is_estate) ||
      !CU_add_test(s, "destroy_waits_for_queued_batches", destroy_waits_for_queued_batches) ||
      !CU_add_test(s, "batches_from_several_threads_at_once", batches_from_several_threads_at_once))
    return -1;
  return 0;
}
