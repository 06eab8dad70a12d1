# SPDX-License-Identifier: BSD-3-Clause
"""Finding and loading libompbatch.so, and its C declarations for ctypes.

The library is looked for, in this order:

1. the path in the environment variable OMPBATCH_LIBRARY;
2. the library that `make install` installed with this module: the libdir
   written into the generated `_config.py` (relative to this package first,
   then as installed), or else `libompbatch.so.MAJOR` three levels above
   this package (PREFIX/lib/python3/dist-packages/ompbatch -> PREFIX/lib);
3. ctypes.util.find_library("ompbatch") (the dynamic loader's search path).

A clear ImportError says where it looked when none loads.
"""

import ctypes
import ctypes.util
import glob
import os

__all__ = ["LIB", "LIB_PATH", "HAVE_EXPR", "OmpbError", "check"]

_HERE = os.path.dirname(os.path.abspath(__file__))

try:  # written by `make install` only
    from . import _config  # type: ignore
except ImportError:  # pragma: no cover - not installed
    _config = None


def _candidates():
    """(how it was found, path) pairs, in lookup order."""
    env = os.environ.get("OMPBATCH_LIBRARY")
    if env:
        yield "OMPBATCH_LIBRARY", env
        return  # an explicit choice: no fallback behind the user's back
    soname = getattr(_config, "SONAME", None)
    if _config is not None:
        # Relative first: a staged (DESTDIR) or moved install finds its own.
        yield "_config.py", os.path.normpath(os.path.join(_HERE, _config.LIBDIR_REL, soname))
        yield "_config.py", os.path.join(_config.LIBDIR, soname)
    libdir = os.path.normpath(os.path.join(_HERE, "..", "..", ".."))
    for path in sorted(glob.glob(os.path.join(libdir, "libompbatch.so.[0-9]*"))):
        if path.rsplit(".so.", 1)[1].isdigit():  # the SONAME link
            yield "beside the module", path
    found = ctypes.util.find_library("ompbatch")
    if found:
        yield "ctypes.util.find_library", found


def _load():
    tried = []
    for how, path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{how}: {path}: {e}")
    where = "; ".join(tried) if tried else "nothing found"
    raise ImportError(
        "ompbatch: cannot load libompbatch.so (" + where + "). Set OMPBATCH_LIBRARY "
        "to the library's path, install it with `make install`, or add its "
        "directory to LD_LIBRARY_PATH.")


LIB, LIB_PATH = _load()

# ---- types (include/ompbatch/*.h) -----------------------------------------

c_size = ctypes.c_size_t
c_bool = ctypes.c_bool
c_double = ctypes.c_double
c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p


class Progress(ctypes.Structure):
    """ompb_progress."""
    _fields_ = [("completed", c_size), ("total", c_size), ("successes", c_size),
                ("failures", c_size), ("percentage", c_double),
                ("estimated_remaining_ms", c_double), ("throughput", c_double)]


PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.POINTER(Progress), c_void_p)


class BatchOpts(ctypes.Structure):
    """ompb_batch_opts (the callbacks we never set are plain pointers)."""
    _fields_ = [("concurrency", ctypes.c_uint), ("fail_fast", c_bool),
                ("on_progress", PROGRESS_FN), ("progress_throttle_ms", c_double),
                ("task_timeout_ms", c_double), ("batch_timeout_ms", c_double),
                ("on_result", c_void_p), ("discard_results", c_bool),
                ("result_free", c_void_p), ("user", c_void_p)]


class MapOpts(ctypes.Structure):
    """ompb_map_opts."""
    _fields_ = [("batch", BatchOpts), ("chunk_size", c_size)]


class Result(ctypes.Structure):
    """ompb_result (per-task results are never read here)."""
    _fields_ = [("results", c_void_p), ("count", c_size), ("success_count", c_size),
                ("failure_count", c_size), ("cancelled_count", c_size),
                ("duration_ms", c_double), ("all_succeeded", c_bool),
                ("cancelled", c_bool), ("timed_out", c_bool)]


class PoolOpts(ctypes.Structure):
    """ompb_pool_opts."""
    _fields_ = [("workers", ctypes.c_uint), ("no_pin", c_bool)]


class KernelInfo(ctypes.Structure):
    """ompb_kernel_info."""
    _fields_ = [("name", c_char_p), ("arity", ctypes.c_uint), ("nparams", ctypes.c_uint),
                ("ulp_f32", c_double), ("ulp_f64", c_double), ("what", c_char_p),
                ("f32", c_void_p), ("f64", c_void_p), ("f32_2", c_void_p),
                ("f64_2", c_void_p)]


class ExprFunc(ctypes.Structure):
    """ompb_expr_func."""
    _fields_ = [("name", c_char_p), ("nargs", ctypes.c_uint), ("reduction", c_bool),
                ("what", c_char_p), ("kernel", ctypes.POINTER(KernelInfo))]


class ExprDiag(ctypes.Structure):
    """ompb_expr_diag."""
    _fields_ = [("pos", c_size), ("message", ctypes.c_char * 160)]


def _proto(name, restype, *argtypes):
    fn = getattr(LIB, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


P = ctypes.POINTER
_proto("ompb_version", c_char_p)
_proto("ompb_strerror", c_char_p, ctypes.c_int)
_proto("ompb_err_name", c_char_p, ctypes.c_int)
_proto("ompb_pool_create", ctypes.c_int, P(c_void_p), P(PoolOpts))
_proto("ompb_pool_destroy", None, c_void_p)
_proto("ompb_pool_workers", ctypes.c_uint, c_void_p)
_proto("ompb_batch_wait", ctypes.c_int, c_void_p, P(P(Result)))
_proto("ompb_batch_cancel", ctypes.c_int, c_void_p)
_proto("ompb_batch_free", None, c_void_p)
_proto("ompb_result_free", None, P(Result))
_proto("ompb_kernel_count", c_size)
_proto("ompb_kernel_at", P(KernelInfo), c_size)
_proto("ompb_kernel_find", P(KernelInfo), c_char_p, ctypes.c_uint)
_proto("ompb_simd_isa", c_char_p)
for _t in ("f32", "f64"):
    _proto(f"ompb_simd_map_{_t}", ctypes.c_int, c_void_p, c_void_p, c_size, c_void_p, c_void_p)
for _t in ("f32", "f64"):
    _proto(f"ompb_pool_map_{_t}", ctypes.c_int, c_void_p, c_void_p, c_void_p, c_size,
           c_void_p, c_void_p, P(MapOpts), P(c_void_p))

# The evaluator (include/ompbatch/expr.h): optional, so that the kernels work
# with a library built before it.
HAVE_EXPR = hasattr(LIB, "ompb_expr_compile")
if HAVE_EXPR:
    _proto("ompb_expr_compile", ctypes.c_int, c_char_p, P(c_char_p), c_size,
           P(c_void_p), P(ExprDiag))
    _proto("ompb_expr_free", None, c_void_p)
    _proto("ompb_expr_is_reduction", c_bool, c_void_p)
    _proto("ompb_expr_nvars", c_size, c_void_p)
    _proto("ompb_expr_uses", c_bool, c_void_p, c_size)
    _proto("ompb_expr_func_count", c_size)
    _proto("ompb_expr_func_at", P(ExprFunc), c_size)
    for _t in ("f32", "f64"):
        _proto(f"ompb_expr_eval_start_{_t}", ctypes.c_int, c_void_p, c_void_p,
               P(c_void_p), c_size, c_void_p, P(MapOpts), P(c_void_p))
        _proto(f"ompb_expr_eval_{_t}", ctypes.c_int, c_void_p, c_void_p,
               P(c_void_p), c_size, c_void_p, P(MapOpts))

# ---- errors ---------------------------------------------------------------

OK, EINVAL, ENOMEM, ETIMEDOUT, ENOTSUP, ERANGE = 0, -1, -2, -5, -9, -12


class OmpbError(RuntimeError):
    """A library call failed: `code` is the OMPB_E* code, `name` its name."""

    def __init__(self, code, what):
        self.code = code
        self.name = LIB.ompb_err_name(code).decode()
        super().__init__(f"{what}: {LIB.ompb_strerror(code).decode()} ({self.name})")


def check(rc, what):
    """Raise the Python exception that fits a non-zero library code."""
    if rc == OK:
        return
    if rc == ENOMEM:
        raise MemoryError(f"{what}: out of memory")
    if rc == ETIMEDOUT:
        raise TimeoutError(f"{what}: deadline exceeded")
    if rc in (EINVAL, ERANGE):
        raise ValueError(f"{what}: {LIB.ompb_strerror(rc).decode()} "
                         f"({LIB.ompb_err_name(rc).decode()})")
    raise OmpbError(rc, what)
