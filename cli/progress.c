/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: progress (see progress.h). */
#define _POSIX_C_SOURCE 200809L

#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "signals.h"

bool cli_progress_parse(const char *s, cli_progress_mode *m) {
  if (!strcmp(s, "bar") || !strcmp(s, "1"))
    *m = CLI_PROGRESS_BAR;
  else if (!strcmp(s, "lines"))
    *m = CLI_PROGRESS_LINES;
  else if (!strcmp(s, "none") || !strcmp(s, "0"))
    *m = CLI_PROGRESS_NONE;
  else
    return false;
  return true;
}

int cli_progress_choose(const char *option, void (*usage)(FILE *f),
                        cli_progress_mode *m) {
  *m = CLI_PROGRESS_BAR;
  if (option) {
    if (!cli_progress_parse(option, m))
      return cli_usage_error(usage, "--progress: '%s' is not bar, lines or none",
                             option);
    return EX_OK;
  }
  const char *env = getenv("OMPB_PROGRESS");
  if (env && !cli_progress_parse(env, m))
    return cli_usage_error(usage, "OMPB_PROGRESS: '%s' is not 0, 1 or lines "
                           "(or none, bar)", env);
  return EX_OK;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress *bar, const char *label, size_t items,
                       bool bytes, cli_progress_mode mode) {
  *bar = (cli_progress){
      .label = label, .items = items, .bytes = bytes, .mode = mode,
      .draw = mode == CLI_PROGRESS_LINES ||
              (mode == CLI_PROGRESS_BAR && isatty(STDERR_FILENO)),
      .t0 = now_s()};
}

double cli_progress_throttle_ms(const cli_progress *bar) {
  return bar->mode == CLI_PROGRESS_LINES ? 1000.0 : 100.0;
}

/* 1234567 -> "1.23M" (and "1.23MB" for bytes). */
static void human(char *buf, size_t cap, double x, bool bytes) {
  const char *b = bytes ? "B" : "";
  if (x >= 1e9)
    snprintf(buf, cap, "%.2fG%s", x / 1e9, b);
  else if (x >= 1e6)
    snprintf(buf, cap, "%.2fM%s", x / 1e6, b);
  else if (x >= 1e3)
    snprintf(buf, cap, "%.2fk%s", x / 1e3, b);
  else
    snprintf(buf, cap, "%.0f%s", x, b);
}

/* The terminal's width, 80 when it cannot be told. */
static int columns(void) {
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
    return ws.ws_col;
  return 80;
}

void cli_progress_report(const ompb_progress *p, void *user) {
  cli_progress *bar = user;
  if (!bar->draw || cli_signals_caught())
    return;
  double done, rate, eta_ms, pct;
  if (bar->done) {
    done = (double)atomic_load(bar->done);
    double t = now_s() - bar->t0;
    rate = t > 0 ? done / t : 0;
    pct = bar->items ? 100.0 * done / (double)bar->items : 100.0;
    eta_ms = rate > 0 ? ((double)bar->items - done) / rate * 1e3 : -1;
    if (p->completed == p->total)
      eta_ms = 0;
  } else {
    /* Reports count work items (chunks, blocks); the bar shows elements. */
    double scale = p->total ? (double)bar->items / (double)p->total : 0.0;
    pct = p->percentage;
    done = pct / 100.0 * (double)bar->items;
    rate = p->throughput * scale;
    eta_ms = p->estimated_remaining_ms;
  }
  char dn[16], total[16], rt[16], eta[32];
  const char *unit = bar->bytes ? "" : " items";
  human(dn, sizeof dn, done, bar->bytes);
  human(total, sizeof total, (double)bar->items, bar->bytes);
  human(rt, sizeof rt, rate, bar->bytes);
  if (eta_ms < 0) {
    snprintf(eta, sizeof eta, "ETA --:--");
  } else {
    long s = (long)ceil(eta_ms / 1000.0);
    snprintf(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
  }
  if (bar->mode == CLI_PROGRESS_LINES) {
    /* One whole line per report, in one write. */
    char line[256];
    snprintf(line, sizeof line, "%s: %.1f%% %s/%s%s, %s%s/s, %s\n", bar->label,
             pct, dn, total, unit, rt, unit, eta);
    fputs(line, stderr);
    fflush(stderr);
    return;
  }
  /* The bar shrinks (down to nothing) to keep the line on narrow terminals:
   * a wrapped line cannot be redrawn with \r. 62 columns are the rest of
   * the line. */
  int width = columns() - 62 - (int)strlen(bar->label);
  width = width > 30 ? 30 : width < 0 ? 0 : width;
  int fill = (int)(pct / 100.0 * width + 1e-9);
  char hashes[31];
  for (int i = 0; i < width; i++)
    hashes[i] = i < fill ? '#' : '.';
  hashes[width] = '\0';
  if (width >= 5)
    fprintf(stderr, "\r%s %5.1f%% [%s] %s/%s%s, %s%s/s, %s\033[K", bar->label,
            pct, hashes, dn, total, unit, rt, unit, eta);
  else
    fprintf(stderr, "\r%s %5.1f%% %s%s/s %s\033[K", bar->label, pct, rt, unit,
            eta);
  fflush(stderr);
  bar->drawn = true;
}

void cli_progress_end(cli_progress *bar) {
  if (bar->drawn)
    fputc('\n', stderr);
  bar->drawn = false;
}
