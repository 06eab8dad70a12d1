/* SPDX-License-Identifier: BSD-3-Clause */
/* The task clock: what times each task's duration when no deadline needs
 * the monotonic clock. On x86-64 with an invariant TSC (CPUID
 * 0x80000007, EDX bit 8: constant rate, counting through sleep states) it
 * is RDTSC, read in ~7 ns where clock_gettime takes ~15-30 ns here, and
 * one read per task was most of a no-op task's cost (docs/design.md, "The
 * task clock"). Elsewhere it is the monotonic clock itself. A leaf: it
 * calls nothing of the library. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <pthread.h>

#include "internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

bool ompb__tsc = false;
_Atomic double ompb__tick_ns = 1.0;

/* The first calibration spans this long; each refinement then spans all
 * the time since the first pair, so the error shrinks as the process runs
 * (a pair's error is a few tens of ns: 0.03% of the first span, 3e-7
 * after 100 ms). */
#define CALIBRATE_NS 100000
/* Readings per (ticks, ns) pair; the tightest one is kept. */
#define PAIR_TRIES 16

#if HAVE_TSC
static bool invariant_tsc(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u) return false;
  __get_cpuid(0x80000007u, &a, &b, &c, &d);
  return (d >> 8) & 1u;
}

/* A (ticks, ns) pair read as close together as the two clocks allow: the
 * ns reading sits between two tick readings, the tightest of PAIR_TRIES
 * brackets is kept (an interrupt or a preemption between the readings
 * would skew it by microseconds), and its midpoint is taken. */
static void pair(uint64_t *tick, int64_t *ns) {
  uint64_t best = UINT64_MAX;
  for (int k = 0; k < PAIR_TRIES; k++) {
    uint64_t t0 = __builtin_ia32_rdtsc();
    int64_t n = ompb__now_ns();
    uint64_t t1 = __builtin_ia32_rdtsc();
    if (t1 - t0 < best) {
      best = t1 - t0;
      *tick = t0 + (t1 - t0) / 2;
      *ns = n;
    }
  }
}

static uint64_t base_tick;
static int64_t base_ns;
/* When the next refinement is due (ns); the thread that moves it runs it. */
static _Atomic int64_t refine_at = INT64_MAX;

static void calibrate(void) {
  if (!invariant_tsc()) return;
  uint64_t k1;
  int64_t n1;
  pair(&base_tick, &base_ns);
  do pair(&k1, &n1);
  while (n1 - base_ns < CALIBRATE_NS);
  if (k1 <= base_tick) return; /* not counting: keep the monotonic clock */
  atomic_store(&ompb__tick_ns, (double)(n1 - base_ns) / (double)(k1 - base_tick));
  atomic_store(&refine_at, n1 + (n1 - base_ns));
  ompb__tsc = true;
}

void ompb__clock_refine(int64_t now_ns) {
  int64_t due = atomic_load_explicit(&refine_at, memory_order_relaxed);
  if (now_ns < due) return;
  /* the one thread that moves the due time refines; it doubles the span */
  if (!atomic_compare_exchange_strong(&refine_at, &due, now_ns + (now_ns - base_ns))) return;
  uint64_t k;
  int64_t n;
  pair(&k, &n);
  if (k > base_tick && n > base_ns)
    atomic_store_explicit(&ompb__tick_ns, (double)(n - base_ns) / (double)(k - base_tick),
                          memory_order_relaxed);
}
#else
static void calibrate(void) {}
void ompb__clock_refine(int64_t now_ns) { (void)now_ns; }
#endif

void ompb__clock_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, calibrate);
}
