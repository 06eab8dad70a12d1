# SPDX-License-Identifier: BSD-3-Clause
"""ompbatch from Python: the SIMD kernels and the fused expression evaluator
of libompbatch over numpy arrays, run on the library's OpenMP pools.

    import numpy as np, ompbatch
    x = np.linspace(-4, 4, 1 << 20, dtype=np.float32)
    y = ompbatch.map("sin", x)                       # one kernel
    z = ompbatch.evaluate("2*sin(x) + exp(-x*x)")    # x from the caller's frame
    s = ompbatch.evaluate("sum(x*x)")                # a 0-d array
    ompbatch.kernels()                               # names, arity, ULP bounds

Pure Python over ctypes; see docs/python.md. The library is found through
OMPBATCH_LIBRARY, else next to this package (make install), else the
dynamic loader's path. Pools: one per `threads` value, created on first use
and destroyed at exit (or by close_pools()). Ctrl-C cancels a running map or
evaluation and raises KeyboardInterrupt.
"""

from ._lib import LIB as _LIB, LIB_PATH as library_path, OmpbError
from ._engine import close_pools, pool_workers
from ._kernels import Kernel, kernels, map  # noqa: A004 - numexpr-like API
from ._expr import ExpressionError, Function, UnboundNameError, evaluate, functions

__all__ = ["map", "kernels", "Kernel", "evaluate", "functions", "Function",
           "ExpressionError", "UnboundNameError", "OmpbError", "close_pools", "pool_workers",
           "library_path", "library_version", "simd_isa", "__version__"]


def library_version():
    """The version of the loaded libompbatch ("0.1.0")."""
    return _LIB.ompb_version().decode()


def simd_isa():
    """The instruction set the kernels use in this process ("avx2", ...)."""
    return _LIB.ompb_simd_isa().decode()


__version__ = library_version()
