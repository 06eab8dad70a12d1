# SPDX-License-Identifier: BSD-3-Clause
"""Pools and running one batch from Python: progress callbacks from the
library's reporter thread, and Ctrl-C that cancels the batch.

Pools: one per thread count (`threads=None` is the OpenMP default,
omp_get_max_threads()), created on first use and destroyed by close_pools(),
which runs at exit (atexit). A pool holds its OpenMP team plus a dispatcher
and a reporter thread while it exists.

Waiting: ompb_batch_wait runs in a short-lived helper thread (the ctypes call
releases the GIL) while the calling thread waits for it with a timeout loop,
so that the main thread can take KeyboardInterrupt (or any other exception
from a signal handler). On such an exception the batch is cancelled, the
helper's wait returns, the batch is freed and the exception re-raised: no
thread and no running task is left behind.
"""

import atexit
import contextlib
import ctypes
import signal
import threading

from . import _lib
from ._lib import LIB

__all__ = ["get_pool", "close_pools", "run_batch", "SYNC_ELEMENTS"]

# Calls over at most this many elements and without a progress callback run
# synchronously on the calling thread's ctypes call (a helper thread costs
# ~0.1-0.2 ms to start, more than the work): they take a few milliseconds at
# most, and a Ctrl-C during one is raised when it returns.
SYNC_ELEMENTS = 1 << 16

_pools = {}  # thread count (0: default) -> ompb_pool* (int); guarded by _pools_lock
_pools_lock = threading.Lock()


def _key(threads):
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be None or an int, not {type(threads).__name__}")
    if not 1 <= threads <= 4096:
        raise ValueError(f"threads must be between 1 and 4096, not {threads}")
    return threads


_ASYNC_SIGNALS = {getattr(signal, n) for n in (
    "SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGALRM", "SIGUSR1", "SIGUSR2",
    "SIGCHLD", "SIGWINCH") if hasattr(signal, n)}


@contextlib.contextmanager
def _signals_blocked():
    """Block the asynchronous signals in this thread while threads are
    created (they inherit the mask); restore the mask afterwards."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _ASYNC_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def check_threads(threads):
    """Validate a `threads` argument (TypeError / ValueError)."""
    _key(threads)


def get_pool(threads=None):
    """The pool for `threads` workers (None: the OpenMP default), created
    on first use."""
    key = _key(threads)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            handle = ctypes.c_void_p()
            opts = _lib.PoolOpts(workers=key)
            with _signals_blocked():
                rc = LIB.ompb_pool_create(ctypes.byref(handle), ctypes.byref(opts))
            if rc == _lib.ENOTSUP:
                raise RuntimeError(
                    "ompbatch: two OpenMP runtimes are loaded in this process "
                    "(libgomp and libomp); load only the one the library was built for")
            _lib.check(rc, "ompb_pool_create")
            pool = _pools[key] = handle.value
        return pool


def pool_workers(threads=None):
    """The number of worker threads of the pool for `threads`."""
    return LIB.ompb_pool_workers(get_pool(threads))


def close_pools():
    """Destroy every pool created so far (their threads end). Safe to call at
    any time when no evaluation is running; later calls create new pools."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        LIB.ompb_pool_destroy(pool)


atexit.register(close_pools)


def map_opts(progress, chunk_size=0, discard_results=False):
    """ompb_map_opts with `progress` wired to on_progress. Returns
    (opts, state): `state` keeps the C callback alive and records the first
    exception the Python callback raised."""
    state = {"error": None, "batch": None, "cb": None}
    opts = _lib.MapOpts()
    opts.chunk_size = chunk_size
    opts.batch.discard_results = discard_results
    if progress is not None:
        if not callable(progress):
            raise TypeError("progress must be callable as progress(done, total)")

        def on_progress(p, _user):
            # The reporter thread, with the GIL taken by ctypes. No threading
            # calls here: they would register a dummy Thread for this thread.
            if state["error"] is not None:
                return
            try:
                progress(p[0].completed, p[0].total)
            except BaseException as e:  # noqa: B902 - re-raised by run_batch
                state["error"] = e
                if state["batch"]:
                    LIB.ompb_batch_cancel(state["batch"])

        state["cb"] = _lib.PROGRESS_FN(on_progress)
        opts.batch.on_progress = state["cb"]
    return opts, state


def _join(thread):
    """Join `thread`, taking (and keeping) further interrupts until it ended."""
    pending = None
    while True:
        try:
            thread.join()
            break
        except BaseException as e:  # noqa: B902 - a second Ctrl-C
            pending = pending or e
    return pending


def run_batch(start, state, what):
    """Start a batch with `start(byref(handle)) -> rc`, wait for it
    interruptibly, free it. Returns the ompb_result's counts as a dict;
    raises the progress callback's exception, or the interrupt (after a
    cancel), or the library error."""
    handle = ctypes.c_void_p()
    done = threading.Event()
    box = {}
    try:
        rc = start(ctypes.byref(handle))
        _lib.check(rc, what)
        state["batch"] = handle.value
        if state["error"] is not None:  # the callback raised before this line
            LIB.ompb_batch_cancel(handle)

        def waiter():
            res = ctypes.POINTER(_lib.Result)()
            box["rc"] = LIB.ompb_batch_wait(handle, ctypes.byref(res))
            if res:
                r = res[0]
                box["result"] = {"count": r.count, "done": r.success_count,
                                 "cancelled": r.cancelled, "timed_out": r.timed_out}
                LIB.ompb_result_free(res)
            done.set()

        thread = threading.Thread(target=waiter, name="ompbatch-wait", daemon=True)
        with _signals_blocked():
            thread.start()
    except BaseException:
        if handle.value:  # started, then interrupted before the waiter ran
            LIB.ompb_batch_free(handle)  # cancels and waits
        raise
    try:
        while not done.wait(0.1):  # a fallback: signals normally interrupt it
            pass
    except BaseException:
        LIB.ompb_batch_cancel(handle)
        _join(thread)
        LIB.ompb_batch_free(handle)
        state["batch"] = None
        raise
    _join(thread)
    LIB.ompb_batch_free(handle)
    state["batch"] = None
    if state["error"] is not None:
        raise state["error"]
    _lib.check(box["rc"], what)
    return box.get("result", {})
