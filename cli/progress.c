/* SPDX-License-Identifier: BSD-3-Clause */
/* ompbatch CLI: the progress bar (see progress.h). */
#define _POSIX_C_SOURCE 200809L

#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "signals.h"

void cli_progress_init(cli_progress *bar, const char *label, size_t items,
                       bool enabled) {
  *bar = (cli_progress){.label = label, .items = items,
                        .draw = enabled && isatty(STDERR_FILENO)};
}

/* 1234567 -> "1.23M". */
static void human(char *buf, size_t cap, double x) {
  if (x >= 1e9)
    snprintf(buf, cap, "%.2fG", x / 1e9);
  else if (x >= 1e6)
    snprintf(buf, cap, "%.2fM", x / 1e6);
  else if (x >= 1e3)
    snprintf(buf, cap, "%.2fk", x / 1e3);
  else
    snprintf(buf, cap, "%.0f", x);
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
  /* The bar shrinks (down to nothing) to keep the line on narrow terminals:
   * a wrapped line cannot be redrawn with \r. 62 columns are the rest of
   * the line. */
  int width = columns() - 62 - (int)strlen(bar->label);
  width = width > 30 ? 30 : width < 0 ? 0 : width;
  double frac = p->percentage / 100.0;
  int fill = (int)(frac * width + 1e-9);
  char hashes[31], done[16], total[16], rate[16], eta[32];
  for (int i = 0; i < width; i++)
    hashes[i] = i < fill ? '#' : '.';
  hashes[width] = '\0';
  /* Reports count work items (chunks); the bar shows elements. */
  double scale = p->total ? (double)bar->items / (double)p->total : 0.0;
  human(done, sizeof done, frac * (double)bar->items);
  human(total, sizeof total, (double)bar->items);
  human(rate, sizeof rate, p->throughput * scale);
  if (p->estimated_remaining_ms < 0) {
    snprintf(eta, sizeof eta, "ETA --:--");
  } else {
    long s = (long)ceil(p->estimated_remaining_ms / 1000.0);
    snprintf(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
  }
  if (width >= 5)
    fprintf(stderr, "\r%s %5.1f%% [%s] %s/%s items, %s items/s, %s\033[K",
            bar->label, p->percentage, hashes, done, total, rate, eta);
  else
    fprintf(stderr, "\r%s %5.1f%% %s items/s %s\033[K", bar->label,
            p->percentage, rate, eta);
  fflush(stderr);
  bar->drawn = true;
}

void cli_progress_end(cli_progress *bar) {
  if (bar->drawn)
    fputc('\n', stderr);
  bar->drawn = false;
}
