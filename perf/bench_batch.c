/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_batch: the spec's "Performance Benchmarks" table for the batch
 * engine, each figure beside the same work done by raw OpenMP in the same
 * run. Medians over interleaved repeats; ratios are ours / baseline.
 *
 *   make bench            (or: build/perf/bench_batch [rounds] [--json FILE])
 *
 * With --json FILE (or OMPB_BENCH_BATCH_JSON=FILE in the environment, which
 * `make bench` sets: mk/plots.mk) it also measures the per-task cost of a
 * no-op batch against the batch size, beside the same raw baselines, and
 * writes every figure of the run to FILE as JSON (scripts/plots/ turns it
 * into docs/plot-batch.png). The text output is the same either way, plus
 * the sweep's table.
 */
#define _GNU_SOURCE
#include <omp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ompbatch.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void sleep_ms(double ms) {
  struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (double)(long)(ms / 1e3) * 1e3) * 1e6)};
  nanosleep(&ts, NULL);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double pct(double *v, int n, double p) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  int k = (int)(p * (n - 1) + 0.5);
  return v[k];
}

/* The work item of every row: a no-op that returns its index. */
static int noop_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  (void)arg;
  out->i64 = (int64_t)ompb_ctx_index(ctx);
  return 0;
}

__attribute__((noinline)) static int64_t noop_raw(size_t i) {
  __asm__ volatile("" ::: "memory");
  return (int64_t)i;
}

static ompb_pool *pool;
static ompb_task *tasks;

/* ---- one sample of each method: ns per item for n items ---- */

static double run_ompb(size_t n, const ompb_batch_opts *o) {
  double t0 = now_ns();
  ompb_result *r;
  if (ompb_exec_batch(pool, tasks, n, o, &r) != OMPB_OK || r->success_count != n) {
    fprintf(stderr, "bench: batch failed\n");
    exit(1);
  }
  ompb_result_free(r);
  return (now_ns() - t0) / (double)n;
}

static double run_omp_task(size_t n, int64_t *out) {
  double t0 = now_ns();
#pragma omp parallel
#pragma omp single
  {
#pragma omp taskgroup
    for (size_t i = 0; i < n; i++) {
#pragma omp task firstprivate(i)
      out[i] = noop_raw(i);
    }
  }
  return (now_ns() - t0) / (double)n;
}

static double run_omp_dynamic1(size_t n, int64_t *out) {
  double t0 = now_ns();
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < n; i++) out[i] = noop_raw(i);
  return (now_ns() - t0) / (double)n;
}

static double run_omp_guided(size_t n, int64_t *out) {
  double t0 = now_ns();
#pragma omp parallel for schedule(guided)
  for (size_t i = 0; i < n; i++) out[i] = noop_raw(i);
  return (now_ns() - t0) / (double)n;
}

/* ---- the user's loop: their own parallel for, then a batch ---- */

/* A task of `arg` sin calls (the value keeps them from being elided). */
__attribute__((noinline)) static double sin_work(size_t i, intptr_t calls) {
  double acc = 0.0, x = (double)i * 1e-3;
  for (intptr_t k = 0; k < calls; k++) acc += sin(x + (double)k * 1e-4);
  return acc;
}

static int sin_task(ompb_ctx *ctx, void *arg, ompb_value *out) {
  out->f64 = sin_work(ompb_ctx_index(ctx), (intptr_t)arg);
  return 0;
}

enum { FIELD = 256 * 1024, STEPS = 200 };
static double *field;

static void user_step(void) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < FIELD; i++) field[i] = field[i] * 0.999999 + 1e-9;
}

/* ms for STEPS time steps, each the user's loop then `n` tasks of `calls`
 * sin calls: through the pool, or all raw (schedule(dynamic,1)). */
static double time_steps(ompb_task *t, size_t n, intptr_t calls, double *sink, bool raw_only) {
  double t0 = now_ns();
  for (int k = 0; k < STEPS; k++) {
    user_step();
    if (raw_only) {
#pragma omp parallel for schedule(dynamic, 1)
      for (size_t i = 0; i < n; i++) sink[i] = sin_work(i, calls);
    } else {
      ompb_result *r;
      if (ompb_exec_batch(pool, t, n, NULL, &r) != OMPB_OK) {
        fprintf(stderr, "bench: batch failed\n");
        exit(1);
      }
      sink[0] += r->results[n - 1].value.f64;
      ompb_result_free(r);
    }
  }
  return (now_ns() - t0) / 1e6;
}

static int threads_alive(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  fclose(f);
  return n;
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void noop_progress(const ompb_progress *p, void *u) {
  (void)p;
  (void)u;
}

/* Every row printed, kept for the JSON file. */
enum { MAX_ROWS = 64 };
static struct {
  char what[64], unit[8], base_name[32], goal[32];
  double ours, base;
} rows[MAX_ROWS];
static int nrows;

static void row(const char *what, double ours, const char *unit, const char *base_name,
                double base, const char *goal) {
  if (nrows < MAX_ROWS) {
    /* an empty name continues the row above (another baseline) */
    const char *w = what[0] || nrows == 0 ? what : rows[nrows - 1].what;
    snprintf(rows[nrows].what, sizeof rows[nrows].what, "%s", w);
    snprintf(rows[nrows].unit, sizeof rows[nrows].unit, "%s", unit);
    snprintf(rows[nrows].base_name, sizeof rows[nrows].base_name, "%s", base_name);
    snprintf(rows[nrows].goal, sizeof rows[nrows].goal, "%s", goal);
    rows[nrows].ours = ours;
    rows[nrows].base = base;
    nrows++;
  }
  printf("| %-44s | %10.3f %-3s | %-26s | %10.3f | %6.2f | %-22s |\n", what, ours, unit,
         base_name, base, base > 0 ? ours / base : 0.0, goal);
}

/* ---- the batch-size sweep and the JSON file ---- */

/* up to the 1M tasks the program builds */
static const size_t sweep_sizes[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1000000};
enum { NSWEEP = sizeof sweep_sizes / sizeof sweep_sizes[0], NMETHODS = 4 };
static const char *const method_names[NMETHODS] = {"ompbatch", "omp task per item",
                                                   "for schedule(dynamic,1)", "for schedule(guided)"};
static double sweep_ns[NSWEEP][NMETHODS];

/* ns per item of one method at n items: the mean over `reps` back-to-back
 * runs, so that a sample of a small batch is long enough to time. */
static double sample(int method, size_t n, int reps, int64_t *raw) {
  double sum = 0;
  for (int k = 0; k < reps; k++) switch (method) {
      case 0: sum += run_ompb(n, NULL); break;
      case 1: sum += run_omp_task(n, raw); break;
      case 2: sum += run_omp_dynamic1(n, raw); break;
      default: sum += run_omp_guided(n, raw); break;
    }
  return sum / reps;
}

/* Per-task cost against the batch size: for each size, rounds of one
 * sample of every method in turn (interleaved), medians. */
static void sweep(int rounds, int64_t *raw) {
  double *s[NMETHODS];
  for (int m = 0; m < NMETHODS; m++) s[m] = calloc((size_t)rounds, sizeof(double));
  printf("\nper-task cost against batch size (ns per no-op task, medians of %d rounds)\n", rounds);
  printf("| %9s |", "batch");
  for (int m = 0; m < NMETHODS; m++) printf(" %23s |", method_names[m]);
  printf("\n");
  for (int z = 0; z < NSWEEP; z++) {
    size_t n = sweep_sizes[z];
    int reps = n >= 65536 ? 1 : (int)(65536 / n < 2000 ? 65536 / n : 2000);
    for (int r = 0; r < rounds; r++)
      for (int m = 0; m < NMETHODS; m++) s[m][r] = sample(m, n, reps, raw);
    printf("| %9zu |", n);
    for (int m = 0; m < NMETHODS; m++) {
      sweep_ns[z][m] = median(s[m], rounds);
      printf(" %23.2f |", sweep_ns[z][m]);
    }
    printf("\n");
  }
  for (int m = 0; m < NMETHODS; m++) free(s[m]);
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

/* A number, or null for what JSON cannot hold (inf, NaN). */
static void json_num(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.6g", v);
  else
    fputs("null", f);
}

static int write_json(const char *path, unsigned workers, int rounds) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return -1;
  }
  fprintf(f, "{\n  \"bench\": \"bench_batch\",\n  \"workers\": %u,\n  \"rounds\": %d,\n", workers,
          rounds);
  fprintf(f, "  \"openmp_runtime\": ");
  json_str(f, ompb_openmp_runtime());
  fprintf(f, ",\n  \"version\": ");
  json_str(f, ompb_version());
  fprintf(f, ",\n  \"cancellation\": %s,\n", omp_get_cancellation() ? "true" : "false");
  fprintf(f, "  \"sweep\": {\n    \"unit\": \"ns per task\",\n    \"sizes\": [");
  for (int z = 0; z < NSWEEP; z++) fprintf(f, "%s%zu", z ? ", " : "", sweep_sizes[z]);
  fprintf(f, "],\n    \"series\": {");
  for (int m = 0; m < NMETHODS; m++) {
    fprintf(f, "%s\n      ", m ? "," : "");
    json_str(f, method_names[m]);
    fprintf(f, ": [");
    for (int z = 0; z < NSWEEP; z++) {
      if (z) fputs(", ", f);
      json_num(f, sweep_ns[z][m]);
    }
    fputc(']', f);
  }
  fprintf(f, "\n    }\n  },\n  \"rows\": [");
  for (int i = 0; i < nrows; i++) {
    fprintf(f, "%s\n    {\"measure\": ", i ? "," : "");
    json_str(f, rows[i].what);
    fprintf(f, ", \"ompbatch\": ");
    json_num(f, rows[i].ours);
    fprintf(f, ", \"unit\": ");
    json_str(f, rows[i].unit);
    fprintf(f, ", \"baseline_name\": ");
    json_str(f, rows[i].base_name);
    fprintf(f, ", \"baseline\": ");
    json_num(f, rows[i].base);
    fprintf(f, ", \"goal\": ");
    json_str(f, rows[i].goal);
    fputc('}', f);
  }
  fprintf(f, "\n  ]\n}\n");
  if (fclose(f) != 0) {
    perror(path);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int rounds = 11;
  const char *json = getenv("OMPB_BENCH_BATCH_JSON");
  if (json && !json[0]) json = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
      json = argv[++i];
    else if (argv[i][0] >= '0' && argv[i][0] <= '9')
      rounds = atoi(argv[i]);
    else {
      fprintf(stderr, "usage: bench_batch [rounds] [--json FILE]\n");
      return 2;
    }
  }
  if (rounds < 3) rounds = 3;
  const size_t big = 1000000, small = 10000;
  tasks = malloc(big * sizeof *tasks);
  int64_t *raw = malloc(big * sizeof *raw);
  if (!tasks || !raw) return 1;
  for (size_t i = 0; i < big; i++) tasks[i] = (ompb_task){.fn = noop_task};
  if (ompb_pool_create(&pool, NULL) != OMPB_OK) return 1;
  printf("bench_batch: %u workers, %d rounds (medians), OMP_CANCELLATION %s\n\n",
         ompb_pool_workers(pool), rounds, omp_get_cancellation() ? "on" : "off");

  /* warm both runtimes */
  run_ompb(small, NULL);
  run_omp_task(small, raw);
  run_omp_guided(small, raw);

  double *s[8];
  for (int k = 0; k < 8; k++) s[k] = calloc((size_t)rounds, sizeof(double));
  size_t sizes[2] = {small, big};
  printf("| %-44s | %14s | %-26s | %10s | %6s | %-22s |\n", "measure", "ompbatch", "raw OpenMP baseline",
         "baseline", "ratio", "goal");
  printf("|%s|%s|%s|%s|%s|%s|\n", "----------------------------------------------", "----------------",
         "----------------------------", "------------", "--------", "------------------------");
  for (int z = 0; z < 2; z++) {
    size_t n = sizes[z];
    for (int r = 0; r < rounds; r++) { /* interleaved */
      s[0][r] = run_ompb(n, NULL);
      s[1][r] = run_omp_task(n, raw);
      s[2][r] = run_omp_dynamic1(n, raw);
      s[3][r] = run_omp_guided(n, raw);
    }
    double ours = median(s[0], rounds);
    char what[64];
    snprintf(what, sizeof what, "no-op task, start->wait->result, n=%zu", n);
    row(what, ours, "ns", "omp task per item", median(s[1], rounds), "<=100 ns, <=0.5x task");
    row("", ours, "ns", "for schedule(dynamic,1)", median(s[2], rounds), "");
    row("", ours, "ns", "for schedule(guided)", median(s[3], rounds), "");
    if (n == small)
      row("batch overhead, 10K tasks (ms)", ours * (double)n / 1e6, "ms", "omp task per item (ms)",
          median(s[1], rounds) * (double)n / 1e6, "spec < 100 ms");
  }

  /* 16-task batch latency: warm, and after 100 ms idle */
  enum { WARM = 201 };
  double warm[WARM], warm_raw[WARM];
  for (int r = 0; r < WARM; r++) {
    warm[r] = run_ompb(16, NULL) * 16 / 1e3;
    warm_raw[r] = run_omp_dynamic1(16, raw) * 16 / 1e3;
  }
  row("16-task batch, warm (us)", median(warm, WARM), "us", "parallel for, 16 items", median(warm_raw, WARM),
      "<= 1.2x raw");
  printf("|   p90 warm: ompbatch %.1f us, raw %.1f us\n", pct(warm, WARM, 0.9), pct(warm_raw, WARM, 0.9));
  int idle_n = rounds < 15 ? 15 : rounds;
  double *idle = calloc((size_t)idle_n, sizeof *idle), *idle_raw = calloc((size_t)idle_n, sizeof *idle);
  for (int r = 0; r < idle_n; r++) {
    sleep_ms(100);
    idle[r] = run_ompb(16, NULL) * 16 / 1e3;
    sleep_ms(100);
    idle_raw[r] = run_omp_dynamic1(16, raw) * 16 / 1e3;
  }
  row("16-task batch after 100 ms idle (us)", median(idle, idle_n), "us", "parallel for after idle",
      median(idle_raw, idle_n), "<= 1.5x raw");
  printf("|   p90 after idle: ompbatch %.1f us, raw %.1f us\n", pct(idle, idle_n, 0.9),
         pct(idle_raw, idle_n, 0.9));

  /* the user's time-step loop: their parallel for, then a batch */
  {
    static const struct {
      const char *what;
      size_t n;
      intptr_t calls;
    } mix[3] = {{"time steps: for + 64 tasks x 100 sin (ms)", 64, 100},
                {"time steps: for + 16 tiny tasks (ms)", 16, 1},
                {"time steps: for + 256 tasks x 10K sin (ms)", 256, 10000}};
    field = calloc(FIELD, sizeof *field);
    ompb_task *t = malloc(256 * sizeof *t);
    double *sink = calloc(256, sizeof *sink);
    if (!field || !t || !sink) return 1;
    int steps_rounds = rounds < 5 ? 5 : rounds;
    for (int m = 0; m < 3; m++) {
      for (size_t i = 0; i < mix[m].n; i++)
        t[i] = (ompb_task){.fn = sin_task, .arg = (void *)mix[m].calls};
      double *ours = calloc((size_t)steps_rounds, sizeof *ours);
      double *base = calloc((size_t)steps_rounds, sizeof *base);
      double *ratio = calloc((size_t)steps_rounds, sizeof *ratio);
      if (!ours || !base || !ratio) return 1;
      for (int r = 0; r < steps_rounds; r++) { /* interleaved */
        ours[r] = time_steps(t, mix[m].n, mix[m].calls, sink, false);
        base[r] = time_steps(t, mix[m].n, mix[m].calls, sink, true);
        ratio[r] = ours[r] / base[r];
      }
      row(mix[m].what, median(ours, steps_rounds), "ms", "all raw OpenMP", median(base, steps_rounds),
          "<= 1.05x raw");
      printf("|   median of per-round ratios: %.3f\n", median(ratio, steps_rounds));
      free(ours);
      free(base);
      free(ratio);
    }
    row("threads alive after the time-step loops", (double)threads_alive(), "", "OpenMP team + 2",
        (double)(omp_get_max_threads() + 2), "<= N + 2");
    free(field);
    free(t);
    free(sink);
  }

  /* progress: cost of building a report, and of reporting every 1 ms */
  {
    ompb_batch *b;
    ompb_batch_start(pool, tasks, small, NULL, &b);
    ompb_result *r;
    ompb_batch_wait(b, &r);
    ompb_progress p;
    enum { REPS = 200000 };
    double t0 = now_ns();
    for (int k = 0; k < REPS; k++) ompb_batch_progress(b, &p);
    double per = (now_ns() - t0) / REPS;
    ompb_result_free(r);
    ompb_batch_free(b);
    row("progress report build (ns)", per, "ns", "-", 0, "<= 1000 ns");
    ompb_batch_opts o = {.on_progress = noop_progress, .progress_throttle_ms = 1};
    for (int k = 0; k < rounds; k++) {
      s[4][k] = run_ompb(big, &o);
      s[5][k] = run_ompb(big, NULL);
    }
    row("1M no-op tasks with on_progress every 1 ms", median(s[4], rounds), "ns", "same, no on_progress",
        median(s[5], rounds), "spec callback < 1 ms");
  }

  /* retained memory per task: RSS growth while a 1M-task result is held */
  {
    long before = rss_kib();
    ompb_result *r;
    ompb_exec_batch(pool, tasks, big, NULL, &r);
    long after = rss_kib();
    row("retained bytes per task (RSS, 1M tasks)", (double)(after - before) * 1024.0 / (double)big, "B",
        "raw: int64 result per item", 8.0, "<= 48 B (spec < 1 KB)");
    ompb_result_free(r);
    ompb_batch_opts d = {.discard_results = true};
    before = rss_kib();
    ompb_batch *b;
    ompb_batch_start(pool, tasks, big, &d, &b);
    ompb_batch_wait(b, &r);
    after = rss_kib();
    row("  with discard_results (bytes per task)", (double)(after - before) * 1024.0 / (double)big, "B", "-",
        0, "O(workers)");
    ompb_result_free(r);
    ompb_batch_free(b);
  }

  if (json) {
    sweep(rounds < 7 ? rounds : 7, raw);
    if (write_json(json, ompb_pool_workers(pool), rounds) != 0) return 1;
    printf("bench_batch: figures written to %s\n", json);
  }

  ompb_pool_destroy(pool);
  for (int k = 0; k < 8; k++) free(s[k]);
  free(idle);
  free(idle_raw);
  free(tasks);
  free(raw);
  return 0;
}
