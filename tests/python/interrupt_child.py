# SPDX-License-Identifier: BSD-3-Clause
"""Child of test_ompbatch.py's Ctrl-C tests: runs a long map or evaluate,
prints STARTED from the first progress report, and, when the parent's
SIGINT arrives, reports what the KeyboardInterrupt left behind.

Usage: interrupt_child.py map|evaluate
Output lines (key value): baseline_os_threads, STARTED, interrupted,
done, total, py_threads, os_threads, os_threads_after_close."""

import os
import signal
import sys
import threading
import time

import numpy as np

import ompbatch


def os_threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise RuntimeError("no Threads: line in /proc/self/status")


def say(*words):
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()


RUNS = 100


def main():
    mode = sys.argv[1]
    # Python leaves SIGINT ignored when it started ignored, as in a job put
    # in the background by a non-interactive shell (a CI script's `cmd &`):
    # take it back, since this process exists to receive one.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # sin of huge arguments takes the slow argument reduction; the runs are
    # repeated, so that the SIGINT always finds one running, however fast
    # the machine.
    x = np.random.default_rng(7).uniform(1e200, 1e300, 8 << 20)
    baseline = os_threads()
    say("baseline_os_threads", baseline)
    last = [0, 0]
    started = []

    def progress(done, total):
        if not started:
            started.append(True)
            say("STARTED")
        last[0], last[1] = done, total

    try:
        for _ in range(RUNS):
            last[:] = [0, 0]
            if mode == "map":
                ompbatch.map("sin", x, threads=1, progress=progress)
            else:
                ompbatch.evaluate("sin(x) + cos(x)", x=x, threads=1, progress=progress)
        say("completed")
    except KeyboardInterrupt:
        say("interrupted")
    say("done", last[0])
    say("total", last[1])
    say("py_threads", threading.active_count())
    say("os_threads", os_threads())
    ompbatch.close_pools()
    # The pool's threads have been joined; libgomp's team threads of the
    # pool's dispatcher end right after it: wait for the count to settle
    # (the sleep is the polling interval, the condition is the event).
    deadline = time.monotonic() + 30
    while os_threads() != baseline and time.monotonic() < deadline:
        time.sleep(0.005)
    say("os_threads_after_close", os_threads())
    return 0


if __name__ == "__main__":
    sys.exit(main())
