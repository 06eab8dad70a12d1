# SPDX-License-Identifier: BSD-3-Clause
"""numpy arrays in the shape the C library takes: native float32/float64,
contiguous (C or Fortran order), and outputs checked against the inputs."""

import numpy as np

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


def eval_dtype(dt, what):
    """The dtype an array of dtype `dt` is computed in, as numpy's ufuncs
    would: float32 and float64 as they are (any byte order), float16 in
    float32, integers and booleans in float64; TypeError for the rest."""
    if dt.kind == "f":
        if dt.itemsize == 4:
            return F32
        if dt.itemsize == 8:
            return F64
        if dt.itemsize == 2:
            return F32
    elif dt.kind in "biu":
        return F64
    raise TypeError(f"{what} has dtype {dt}: ompbatch computes in float32 or float64 "
                    "(float, integer and bool arrays are converted; "
                    "complex, longdouble, object, string and datetime are not)")


def layout(a):
    """'C' or 'F': the memory order in which `a` is contiguous, 'C' for
    arrays that are neither (they are copied)."""
    if a.flags.c_contiguous:
        return "C"
    if a.flags.f_contiguous:
        return "F"
    return "C"


def as_input(a, dt, order):
    """`a` as a native, `order`-contiguous array of `dt`, a copy only when
    needed."""
    return np.asarray(a, dtype=dt, order=order)


def check_out(out, shape, dt, what="out"):
    """Validate a caller's `out` and return the order it is contiguous in."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{what} must be a numpy.ndarray, not {type(out).__name__}")
    if out.dtype != dt:
        raise TypeError(f"{what} has dtype {out.dtype}; this computation writes {dt.name}"
                        f" (native byte order)")
    if out.shape != tuple(shape):
        raise ValueError(f"{what} has shape {out.shape}, the inputs have {tuple(shape)}")
    if not out.flags.writeable:
        raise ValueError(f"{what} is read-only")
    if not (out.flags.c_contiguous or out.flags.f_contiguous):
        raise ValueError(f"{what} must be contiguous (C or Fortran order)")
    return "C" if out.flags.c_contiguous else "F"


def same_memory(a, b):
    """True when a and b are the same elements in the same order (in place
    is safe); False when they do not overlap at all."""
    return (a.ctypes.data == b.ctypes.data and a.shape == b.shape
            and a.dtype == b.dtype and layout(a) == layout(b))


def unalias(a, out):
    """`a`, or a copy of it when it overlaps `out` in any way other than
    being the very same elements (the library refuses partial overlaps)."""
    if a.size and np.may_share_memory(a, out) and not same_memory(a, out):
        return a.copy(order=layout(a))
    return a


def ptr(a):
    """The address of a's first element (for ctypes)."""
    return a.ctypes.data
