# SPDX-License-Identifier: BSD-3-Clause
"""evaluate(): fused array expressions (include/ompbatch/expr.h) with
numexpr's calling convention."""

import collections
import ctypes
import math
import re
import sys

import numpy as np

from . import _arrays, _engine, _lib
from ._lib import LIB

__all__ = ["ExpressionError", "UnboundNameError", "Function", "functions", "evaluate"]

Function = collections.namedtuple("Function", "name nargs reduction what kernel ulp_f32 ulp_f64")
Function.__doc__ = """One function an expression may call: its name, its number of
arguments, whether it is a reduction (sum, prod, min, max, mean), what it
computes, and the built-in kernel it runs with that kernel's ULP bounds
(kernel None and bounds 0.0 for operators of the evaluator itself: where,
minimum, maximum, the reductions)."""


class ExpressionError(ValueError):
    """A bad expression: `message`, the 0-based character position `pos` in
    `expression`. str() shows the expression with a caret under pos."""

    def __init__(self, message, pos, expression):
        self.message, self.pos, self.expression = message, pos, expression
        line = expression.replace("\n", " ")
        caret = "".join("\t" if c == "\t" else " " for c in line[:pos]) + "^"
        super().__init__(f"{message} (at position {pos})\n    {line}\n    {caret}")

    def __str__(self):
        return self.args[0]


class UnboundNameError(ExpressionError, KeyError):
    """A name of the expression is neither a keyword argument, nor in
    local_dict (or the caller's locals), nor in global_dict (or the caller's
    globals). A KeyError too, as numexpr raises."""

    def __init__(self, name, pos, expression):
        self.name = name
        super().__init__(f"name {name!r} is not defined", pos, expression)


def _require():
    if not _lib.HAVE_EXPR:
        raise RuntimeError(f"ompbatch: {_lib.LIB_PATH} has no expression evaluator "
                           "(ompb_expr_*): it predates include/ompbatch/expr.h")


def functions():
    """The functions an expression may call, as a list of Function tuples."""
    _require()
    out = []
    for i in range(LIB.ompb_expr_func_count()):
        f = LIB.ompb_expr_func_at(i)[0]
        k = f.kernel[0] if f.kernel else None
        out.append(Function(f.name.decode(), f.nargs, f.reduction, f.what.decode(),
                            k.name.decode() if k else None,
                            k.ulp_f32 if k else 0.0, k.ulp_f64 if k else 0.0))
    return out


_FUNC_NAMES = None

# Numbers first, so that the `e5` of `1e5` is not taken for a name; a name
# followed by `(` is a call.
_TOKENS = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                     r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)(?P<call>[ \t]*\()?")


def _names(ex):
    """[(name, start, end)] of the variable references in `ex`."""
    global _FUNC_NAMES
    if _FUNC_NAMES is None:
        _FUNC_NAMES = frozenset(f.name for f in functions())
    return [(m.group("name"), m.start(), m.end("name")) for m in _TOKENS.finditer(ex)
            if m.group("name") and not m.group("call") and m.group("name") not in _FUNC_NAMES]


def _literal(v):
    """A scalar as expression text that compiles to exactly float(v)."""
    if math.isnan(v):
        return "(0/0)"
    if math.isinf(v):
        return "(1/0)" if v > 0 else "(-1/0)"
    r = repr(v)
    return f"({r})" if r.startswith("-") else r


class _Source:
    """The expression with scalar names replaced by their values, and the
    map from positions in it back to the caller's text."""

    def __init__(self, ex, substitutions):
        parts, self.segments, last, new_len = [], [], 0, 0
        for start, end, text in sorted(substitutions):
            parts.append(ex[last:start])
            new_len += start - last
            self.segments.append((new_len, new_len + len(text), start, end))
            parts.append(text)
            new_len += len(text)
            last = end
        parts.append(ex[last:])
        self.text = "".join(parts)
        self.encoded = self.text.encode("utf-8")

    def original_pos(self, byte_pos):
        p = len(self.encoded[:byte_pos].decode("utf-8", errors="ignore"))
        shift = 0
        for new_start, new_end, start, end in self.segments:
            if p < new_start:
                break
            if p < new_end:
                return start
            shift = new_end - end
        return p - shift


def _is_weak(value):
    """Python scalars take the arrays' dtype (numpy's NEP 50 rule)."""
    return type(value) in (bool, int, float)  # np.float64 subclasses float


def evaluate(ex, /, local_dict=None, global_dict=None, out=None, progress=None,
             threads=None, **arrays):
    """Evaluate the expression `ex` elementwise over arrays, in one pass over
    memory, on the pool of `threads` workers (None: the OpenMP default).

    Names are resolved as numexpr does: from the keyword `arrays`, else from
    local_dict (default: the caller's locals), else from global_dict
    (default: the caller's globals); an unresolved name raises
    UnboundNameError (a KeyError and a ValueError). Values are array-likes:
    every array of one shape; Python scalars, numpy scalars and 0-d arrays
    are constants for every element.

    The evaluation dtype is float64 when any array, numpy scalar or 0-d array
    is float64, integer or bool (converted, as numpy does), else float32
    (float16 is computed in float32); Python ints and floats take the arrays'
    dtype, as in numpy (numexpr would promote float32 to float64 for a
    Python float). Complex, longdouble and non-numeric dtypes raise
    TypeError. Comparisons give 1.0 / 0.0. The result has the inputs' shape
    and memory order (Fortran when every array is Fortran-ordered).

    out: None, or a contiguous array of the result's shape and dtype; it may
    be one of the inputs (in place). A reduction (`sum(x*y)`, `max(...)`)
    returns a 0-d array like numexpr; its out has one element.

    progress: called as progress(done, total) from the library's reporter
    thread, counting elements, at most every 50 ms and once at the end; an
    exception from it cancels the evaluation and is re-raised here.
    Ctrl-C (KeyboardInterrupt) cancels the evaluation: out is then partly
    written (and a reduction's not at all).

    A bad expression raises ExpressionError (a ValueError) whose message
    holds the position and a caret line. Returns out."""
    _require()
    if not isinstance(ex, str):
        raise TypeError(f"the expression must be a str, not {type(ex).__name__}")
    if local_dict is None or global_dict is None:
        frame = sys._getframe(1)
        if local_dict is None:
            local_dict = frame.f_locals
        if global_dict is None:
            global_dict = frame.f_globals
        del frame

    refs = _names(ex)
    vars_, arrs, subst, scalars = [], {}, [], {}
    f64 = False
    weak_only_f64 = False
    for name, start, end in refs:
        if name not in arrs and name not in scalars:
            for d in (arrays, local_dict, global_dict):
                if name in d:
                    value = d[name]
                    break
            else:
                raise UnboundNameError(name, start, ex)
            a = np.asarray(value)
            dt = _arrays.eval_dtype(a.dtype, f"{name!r}")
            if a.ndim == 0:
                scalars[name] = float(a)
                if _is_weak(value):
                    weak_only_f64 = True
                else:
                    f64 = f64 or dt == _arrays.F64
            else:
                arrs[name] = a
                vars_.append(name)
                f64 = f64 or dt == _arrays.F64
        if name in scalars:
            subst.append((start, end, _literal(scalars[name])))
    if not arrs:
        # Constants only: float64 unless they are all float32 numpy scalars.
        f64 = f64 or weak_only_f64 or not scalars
    dt = _arrays.F64 if f64 else _arrays.F32

    shapes = {a.shape for a in arrs.values()}
    if len(shapes) > 1:
        raise ValueError("the arrays of an expression must have one shape: " + ", ".join(
            f"{k} {a.shape}" for k, a in arrs.items()))
    shape = shapes.pop() if shapes else ()

    src = _Source(ex, subst)
    handle = ctypes.c_void_p()
    diag = _lib.ExprDiag()
    cvars = (ctypes.c_char_p * max(len(vars_), 1))(*[v.encode() for v in vars_])
    rc = LIB.ompb_expr_compile(src.encoded, cvars, len(vars_), ctypes.byref(handle),
                               ctypes.byref(diag))
    if rc in (_lib.EINVAL, _lib.ERANGE):
        raise ExpressionError(diag.message.decode("utf-8", errors="replace"),
                              src.original_pos(diag.pos), ex)
    _lib.check(rc, "ompb_expr_compile")
    try:
        return _run(handle, src, ex, vars_, arrs, shape, dt, out, progress, threads)
    finally:
        LIB.ompb_expr_free(handle)


def _run(e, src, ex, vars_, arrs, shape, dt, out, progress, threads):
    reduction = LIB.ompb_expr_is_reduction(e)
    n = math.prod(shape)
    orders = {_arrays.layout(a) for a in arrs.values()}
    order = "F" if orders == {"F"} else "C"
    if out is not None:
        if reduction:
            if not isinstance(out, np.ndarray) or out.size != 1:
                raise ValueError("the out of a reduction must be an array of one element")
            _arrays.check_out(out, out.shape, dt)
        else:
            order = _arrays.check_out(out, shape, dt)
    else:
        out = np.empty(() if reduction else shape, dtype=dt, order=order)
    inputs = []
    for name in vars_:
        a = _arrays.as_input(arrs[name], dt, order)
        inputs.append(_arrays.unalias(a, out))
    ptrs = (ctypes.c_void_p * max(len(inputs), 1))(*[_arrays.ptr(a) for a in inputs])
    f32 = dt == _arrays.F32
    pool = _engine.get_pool(threads)
    opts, state = _engine.map_opts(progress)
    try:
        if n <= _engine.SYNC_ELEMENTS and progress is None:
            sync = LIB.ompb_expr_eval_f32 if f32 else LIB.ompb_expr_eval_f64
            _lib.check(sync(pool, e, ptrs, n, _arrays.ptr(out), None), "ompbatch.evaluate")
        else:
            start = LIB.ompb_expr_eval_start_f32 if f32 else LIB.ompb_expr_eval_start_f64
            _engine.run_batch(
                lambda hp: start(pool, e, ptrs, n, _arrays.ptr(out), ctypes.byref(opts), hp),
                state, "ompbatch.evaluate")
    except ValueError:
        if reduction and n == 0:
            raise ValueError(f"{ex}: a min or max of zero elements has no value") from None
        raise
    return out
