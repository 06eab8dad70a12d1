# SPDX-License-Identifier: BSD-3-Clause
"""The built-in SIMD kernels: kernels() lists them, map() applies one to an
array on a pool (ompb_pool_map_f32/_f64)."""

import collections
import ctypes

import numpy as np

from . import _arrays, _engine, _lib
from ._lib import LIB

__all__ = ["Kernel", "kernels", "map"]

Kernel = collections.namedtuple("Kernel", "name arity nparams ulp_f32 ulp_f64 what")
Kernel.__doc__ = """One built-in kernel (include/ompbatch/simd.h): its name, the
number of input arrays (1, or 2 for the two-input kernels, which evaluate()
calls), the number of scalar parameters, the documented maximum error in ULP
for float32 and float64 (0: exact), and what it computes."""


def _kernel(info):
    k = info[0]
    return Kernel(k.name.decode(), k.arity, k.nparams, k.ulp_f32, k.ulp_f64, k.what.decode())


def kernels():
    """The built-in kernels, as a list of Kernel tuples (unary ones in the
    library's table order, then the two-input ones)."""
    return [_kernel(LIB.ompb_kernel_at(i)) for i in range(LIB.ompb_kernel_count())]


def _find(name):
    if not isinstance(name, str):
        raise TypeError(f"kernel must be a kernel name (str), not {type(name).__name__}")
    info = LIB.ompb_kernel_find(name.encode(), 1)
    if not info:
        if LIB.ompb_kernel_find(name.encode(), 2):
            raise ValueError(f"kernel {name!r} takes two arrays: use "
                             f"ompbatch.evaluate('{name}(a, b)', a=..., b=...)")
        raise ValueError(f"no kernel named {name!r} (see ompbatch.kernels())")
    return info[0]


def map(kernel, x, out=None, threads=None, params=(), progress=None):  # noqa: A001
    """out = kernel(x), elementwise, on the pool of `threads` workers.

    kernel: a kernel name from kernels() with one input ("sin", "exp_fast",
    "affine"). x: array-like of any shape; float32 and float64 arrays are
    used as they are when contiguous in C or Fortran order, anything else is
    converted as numpy's ufuncs would (integers and booleans to float64,
    float16 to float32, other byte orders and non-contiguous arrays copied);
    complex, longdouble and non-numeric dtypes raise TypeError.
    out: None (a new array of x's shape, dtype and order), or a contiguous
    array of that shape and dtype; it may be x itself (in place). "axpy"
    reads out (out = a*x + out; a new out starts at zero).
    params: the kernel's scalar parameters (Kernel.nparams of them, e.g.
    (a, b) for "affine"), rounded to the dtype.
    progress: called as progress(done, total) from the library's reporter
    thread, counting chunks of elements, at most every 50 ms and once at the
    end; an exception from it cancels the map and is re-raised here.
    Ctrl-C (KeyboardInterrupt) cancels the map: out is then partly written.
    Returns out."""
    k = _find(kernel)
    name = k.name.decode()
    a = np.asarray(x)
    dt = _arrays.eval_dtype(a.dtype, "x")
    order = _arrays.layout(a)
    if out is not None:
        order = _arrays.check_out(out, a.shape, dt)
    a = _arrays.as_input(a, dt, order)
    if out is None:
        out = (np.zeros if name == "axpy" else np.empty)(a.shape, dtype=dt, order=order)
    a = _arrays.unalias(a, out)
    try:
        plist = [float(v) for v in params]
    except TypeError:
        raise TypeError("params must be a sequence of numbers") from None
    if len(plist) != k.nparams:
        raise ValueError(f"kernel {name!r} takes {k.nparams} parameter(s), "
                         f"{len(plist)} given")
    parr = np.array(plist, dtype=dt)  # alive until the batch ended
    pptr = parr.ctypes.data if k.nparams else None
    f32 = dt == _arrays.F32
    fn = k.f32 if f32 else k.f64
    n = a.size
    what = f"ompbatch.map({name!r})"
    if n <= _engine.SYNC_ELEMENTS and progress is None:
        # Small: on the calling thread, no pool (the same kernel, the same
        # results).
        _engine.check_threads(threads)
        sync = LIB.ompb_simd_map_f32 if f32 else LIB.ompb_simd_map_f64
        _lib.check(sync(_arrays.ptr(a), _arrays.ptr(out), n, fn, pptr), what)
        return out
    start = LIB.ompb_pool_map_f32 if f32 else LIB.ompb_pool_map_f64
    pool = _engine.get_pool(threads)
    opts, state = _engine.map_opts(progress, discard_results=True)
    _engine.run_batch(
        lambda hp: start(pool, _arrays.ptr(a), _arrays.ptr(out), n, fn, pptr,
                         ctypes.byref(opts), hp),
        state, what)
    return out
