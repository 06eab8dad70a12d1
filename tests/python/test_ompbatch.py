# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the Python module (python/ompbatch) with Debian's python3 and
numpy: map() against numpy within each kernel's documented ULP bound (the
bound read from kernels()), shapes, orders, dtypes, in place, errors;
evaluate() against numpy (expressions, where, reductions, numexpr's
frame-locals convention, scalars, dtypes, errors with their position);
progress callbacks; Ctrl-C in a subprocess (the batch is cancelled and no
thread is left behind); and a staged `make install`.

Run by `make check-python` with OMPBATCH_LIBRARY set to the in-tree
library. Usage: test_ompbatch.py [--skip-install] [TEST_NAME...]
Environment: MAKE, OMPB_BUILD (the BUILD of the install test)."""

import math
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import numpy as np

import ompbatch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RNG = np.random.default_rng(20250815)
TESTS = []
L = np.longdouble


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError(f"{getattr(fn, '__name__', fn)}{args} did not raise {exc.__name__}")


def max_ulp(out, ref, dtype):
    """Largest error of `out` in ULPs of the correctly rounded result, with
    `ref` computed in higher precision (float64 for f32, longdouble for f64)."""
    out = out.astype(L).ravel()
    ref = np.asarray(ref, dtype=L).ravel()
    ok = (np.isnan(out) & np.isnan(ref)) | (np.isinf(ref) & (out == ref))
    check(not np.any(np.isnan(out) & ~ok), "unexpected NaN in the output")
    with np.errstate(over="ignore"):
        spacing = np.spacing(np.abs(ref.astype(dtype))).astype(L)
    err = np.abs(out - ref) / spacing
    err[ok] = 0
    return float(np.max(err)) if err.size else 0.0


# ---- kernels ------------------------------------------------------------------

def uniform(lo, hi):
    return lambda n, dt: RNG.uniform(lo, hi, n).astype(dt)


def logspread(lo, hi):
    return lambda n, dt: np.exp(RNG.uniform(math.log(lo), math.log(hi), n)).astype(dt)


def vec(f):
    return lambda x: np.vectorize(f, otypes=[np.float64])(x.astype(np.float64))


# base name -> (params, inputs, reference on the high-precision copy, f64
# reference good enough: False where Python has nothing better than double).
CASES = {
    "sin": ((), uniform(-100, 100), np.sin, True),
    "cos": ((), uniform(-100, 100), np.cos, True),
    "tan": ((), uniform(-1.5, 1.5), np.tan, True),
    "asin": ((), uniform(-1, 1), np.arcsin, True),
    "acos": ((), uniform(-1, 1), np.arccos, True),
    "atan": ((), uniform(-1e3, 1e3), np.arctan, True),
    "sinh": ((), uniform(-80, 80), np.sinh, True),
    "cosh": ((), uniform(-80, 80), np.cosh, True),
    "tanh": ((), uniform(-20, 20), np.tanh, True),
    "exp": ((), uniform(-80, 80), np.exp, True),
    "exp2": ((), uniform(-120, 120), np.exp2, True),
    "expm1": ((), uniform(-20, 20), np.expm1, True),
    "log": ((), logspread(1e-30, 1e30), np.log, True),
    "log2": ((), logspread(1e-30, 1e30), np.log2, True),
    "log10": ((), logspread(1e-30, 1e30), np.log10, True),
    "log1p": ((), uniform(-0.9, 1e3), np.log1p, True),
    "sqrt": ((), logspread(1e-30, 1e30), np.sqrt, True),
    "cbrt": ((), uniform(-1e6, 1e6), np.cbrt, True),
    "erf": ((), uniform(-5, 5), vec(math.erf), False),
    "erfc": ((), uniform(-5, 9), vec(math.erfc), False),
    "sigmoid": ((), uniform(-30, 30), lambda x: 1 / (1 + np.exp(-x)), True),
    "abs": ((), uniform(-1e3, 1e3), np.abs, True),
    "pow": ((2.385,), uniform(0, 100), lambda x, p: np.power(x, p[0]), True),
    "scale": ((2.385,), uniform(-1e3, 1e3), lambda x, p: x * p[0], True),
    "add_scalar": ((-1.25,), uniform(-1e3, 1e3), lambda x, p: x + p[0], True),
    "axpy": ((2.385,), uniform(-1e3, 1e3), lambda x, p: x * p[0], True),  # out starts at 0
    "affine": ((2.385, -0.5), uniform(-1e3, 1e3), lambda x, p: x * p[0] + p[1], True),
    "clamp": ((-1.0, 1.0), uniform(-3, 3),
              lambda x, p: np.minimum(np.maximum(x, p[0]), p[1]), True),
}


@test
def kernels_lists_names_arity_params_and_bounds():
    ks = ompbatch.kernels()
    names = {(k.name, k.arity) for k in ks}
    for need in (("sin", 1), ("exp_fast", 1), ("affine", 1), ("pow", 1), ("pow", 2),
                 ("atan2", 2)):
        check(need in names, f"{need} missing from kernels()")
    for k in ks:
        check(k.arity in (1, 2) and k.nparams >= 0 and k.ulp_f32 >= 0 and k.ulp_f64 >= 0
              and k.what, f"odd entry {k}")
    aff = [k for k in ks if k.name == "affine"][0]
    check(aff.nparams == 2 and aff.ulp_f32 == 0.5, f"affine: {aff}")


@test
def map_every_unary_kernel_within_its_ulp_bound():
    worst_seen, skipped = {}, []
    for k in ompbatch.kernels():
        if k.arity != 1:
            continue
        base = k.name[:-5] if k.name.endswith("_fast") else k.name
        if base not in CASES:
            skipped.append(k.name)
            continue
        params, gen, ref_fn, f64_ok = CASES[base]
        for dt, hp, bound in ((np.float32, np.float64, k.ulp_f32),
                              (np.float64, L, k.ulp_f64)):
            if dt == np.float64 and not f64_ok:
                continue
            x = gen(4099, dt)
            y = ompbatch.map(k.name, x, params=params)
            check(y.dtype == dt and y.shape == x.shape, f"{k.name}: {y.dtype} {y.shape}")
            xh = x.astype(hp)
            pr = [L(dt(v)) for v in params]
            with np.errstate(all="ignore"):
                ref = ref_fn(xh, pr) if params else ref_fn(xh)
            worst = max_ulp(y, ref, dt)
            check(worst <= bound + 0.02,
                  f"{k.name} {np.dtype(dt).name}: {worst:.3f} ULP > bound {bound}")
            worst_seen[(k.name, np.dtype(dt).name)] = worst
    check(len(worst_seen) >= 60, f"only {len(worst_seen)} kernel/dtype pairs checked")
    if skipped:
        print(f"    no reference here for: {' '.join(skipped)}")


@test
def map_in_place_and_into_a_given_out():
    x = RNG.uniform(-5, 5, 10007)
    ref = ompbatch.map("exp", x)
    y = x.copy()
    r = ompbatch.map("exp", y, out=y)
    check(r is y and np.array_equal(y, ref), "in place differs")
    o = np.empty_like(x)
    check(ompbatch.map("exp", x, out=o) is o and np.array_equal(o, ref), "given out")
    # an out that overlaps x without being x: computed from a copy of x
    z = RNG.uniform(-5, 5, 1001)
    want = np.exp(z[1:].astype(L))
    ompbatch.map("exp", z[1:], out=z[:-1])
    check(max_ulp(z[:-1], want, np.float64) <= 1.02, "overlapping out")


@test
def map_keeps_shape_and_fortran_order_and_converts_like_numpy():
    x = np.asfortranarray(RNG.uniform(-10, 10, (123, 77)))
    y = ompbatch.map("sin", x)
    check(y.shape == x.shape and y.flags.f_contiguous and not y.flags.c_contiguous,
          f"order lost: {y.flags}")
    check(max_ulp(y, np.sin(x.astype(L)), np.float64) <= 1.02, "2-D Fortran values")
    # a Fortran-ordered float32 array into a C-ordered out
    xf = x.astype(np.float32, order="F")
    oc = np.empty(xf.shape, np.float32)
    ompbatch.map("sin", xf, out=oc)
    check(max_ulp(oc, np.sin(xf.astype(np.float64)), np.float32) <= 1.02, "F into C out")
    # non-contiguous, big-endian, integer, bool, float16, 0-d, empty, 3-D, lists
    s = RNG.uniform(-3, 3, (40, 60))[:, ::3]
    check(np.allclose(ompbatch.map("cos", s), np.cos(s), rtol=1e-15, atol=0), "strided")
    be = RNG.uniform(-3, 3, 500).astype(">f8")
    r = ompbatch.map("cos", be)
    check(r.dtype == np.float64 and r.dtype.isnative and np.allclose(r, np.cos(be), rtol=1e-15),
          "big-endian")
    i = np.arange(-50, 50, dtype=np.int32)
    r = ompbatch.map("exp", i)
    check(r.dtype == np.float64 and max_ulp(r, np.exp(i.astype(L)), np.float64) <= 1.02, "int")
    r = ompbatch.map("exp", np.array([True, False]))
    check(r.dtype == np.float64 and np.allclose(r, [math.e, 1.0], rtol=1e-15), "bool")
    r = ompbatch.map("sqrt", np.array([4, 9], dtype=np.float16))
    check(r.dtype == np.float32 and np.array_equal(r, [2, 3]), "float16")
    r = ompbatch.map("sqrt", np.float32(16))
    check(r.shape == () and r.dtype == np.float32 and r == 4, f"0-d: {r!r}")
    r = ompbatch.map("sqrt", np.empty((0, 3)))
    check(r.shape == (0, 3), "empty")
    t = RNG.uniform(0, 1, (4, 5, 6)).astype(np.float32)
    check(np.array_equal(ompbatch.map("abs", -t), t), "3-D")
    check(np.array_equal(ompbatch.map("abs", [-1.5, 2.0]), [1.5, 2.0]), "list")
    check(np.array_equal(ompbatch.map("clamp", [-3.0, 0.5, 7.0], params=(-1, 1)),
                         [-1, 0.5, 1]), "params")


@test
def map_with_threads_one_two_sixteen_agrees():
    x = RNG.uniform(-100, 100, 300001).astype(np.float32)
    ref = ompbatch.map("sin", x, threads=1)
    for t in (2, 16):
        check(np.array_equal(ompbatch.map("sin", x, threads=t), ref), f"threads={t}")
    check(ompbatch.pool_workers(16) == 16 and ompbatch.pool_workers(1) == 1, "pool sizes")


@test
def map_bad_arguments_raise_clear_errors():
    x = np.ones(10)
    for bad in (np.ones(3, np.complex128), np.array(["a", "b"]), np.ones(3, np.longdouble),
                np.array([object(), object()]), np.array(["2020-01-01"], "M8[D]")):
        e = raises(TypeError, ompbatch.map, "sin", bad)
        check(str(bad.dtype) in str(e), f"dtype not named: {e}")
    raises(TypeError, ompbatch.map, "sin", x, out=np.empty(10, np.float32))
    raises(TypeError, ompbatch.map, "sin", x, out=[0.0] * 10)
    raises(ValueError, ompbatch.map, "sin", x, out=np.empty(11))
    raises(ValueError, ompbatch.map, "sin", x, out=np.empty(20)[::2])
    ro = np.empty(10)
    ro.flags.writeable = False
    raises(ValueError, ompbatch.map, "sin", x, out=ro)
    e = raises(ValueError, ompbatch.map, "no_such_kernel", x)
    check("no_such_kernel" in str(e), str(e))
    e = raises(ValueError, ompbatch.map, "atan2", x)
    check("evaluate" in str(e), str(e))
    raises(TypeError, ompbatch.map, 3, x)
    raises(ValueError, ompbatch.map, "affine", x, params=(1.0,))
    raises(ValueError, ompbatch.map, "sin", x, params=(1.0,))
    raises(TypeError, ompbatch.map, "sin", x, threads=1.5)
    raises(ValueError, ompbatch.map, "sin", x, threads=0)
    raises(TypeError, ompbatch.map, "sin", x, progress=5)


@test
def map_progress_is_non_decreasing_and_ends_at_total():
    seen = []
    x = RNG.uniform(-1e3, 1e3, 1 << 22)
    ompbatch.map("sin", x, threads=2, progress=lambda d, t: seen.append((d, t)))
    check(seen, "no progress report")
    check(all(b[0] >= a[0] for a, b in zip(seen, seen[1:])), f"went backwards: {seen}")
    check(len({t for _, t in seen}) == 1 and seen[-1][0] == seen[-1][1] > 0,
          f"did not end at total: {seen[-3:]}")


# ---- evaluate -----------------------------------------------------------------

def close(out, ref, dt, what, rtol=None, atol=None):
    ref = np.asarray(ref)
    rtol = rtol if rtol is not None else (2e-6 if dt == np.float32 else 4e-15)
    atol = atol if atol is not None else rtol
    check(out.dtype == dt, f"{what}: dtype {out.dtype}, want {np.dtype(dt).name}")
    check(out.shape == ref.shape, f"{what}: shape {out.shape}, want {ref.shape}")
    bad = ~np.isclose(out.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol,
                      equal_nan=True)
    check(not bad.any(), f"{what}: {bad.sum()} elements off, first at "
          f"{np.argwhere(bad)[0] if bad.any() else ''}: {out[bad][:3]} vs {ref[bad][:3]}")


@test
def evaluate_matches_numpy():
    for dt in (np.float32, np.float64):
        hp = np.float64 if dt == np.float32 else L
        x = RNG.uniform(-4, 4, 100003).astype(dt)
        y = RNG.uniform(-4, 4, 100003).astype(dt)
        z = RNG.uniform(-4, 4, 100003).astype(dt)
        X, Y, Z = (a.astype(hp) for a in (x, y, z))
        close(ompbatch.evaluate("2*sin(x) + exp(-x*x)", x=x), 2 * np.sin(X) + np.exp(-X * X),
              dt, "E1")
        close(ompbatch.evaluate("x*y + z", x=x, y=y, z=z), X * Y + Z, dt, "E2")
        close(ompbatch.evaluate("sqrt(x*x + y*y)", x=x, y=y), np.sqrt(X * X + Y * Y), dt, "E3")
        with np.errstate(all="ignore"):
            ref = np.where(X > 0, np.log(np.abs(X)), -X)
        close(ompbatch.evaluate("where(x > 0, log(x), -x)", x=x), ref, dt, "E4")
        close(ompbatch.evaluate("-x**2 + 2**-1 + x**3/(1 + y*y)", x=x, y=y),
              -X ** 2 + 0.5 + X ** 3 / (1 + Y * Y), dt, "powers")
        close(ompbatch.evaluate("(x < y) + (x >= z)*2 + (x == x)*4 + (x != x)*8", x=x, y=y, z=z),
              (X < Y) + (X >= Z) * 2.0 + 4.0, dt, "comparisons")
        close(ompbatch.evaluate("minimum(x, y) - maximum(y, z) + abs(z) + arctan2(x, y)"
                                " + hypot(x, z)", x=x, y=y, z=z),
              np.minimum(X, Y) - np.maximum(Y, Z) + np.abs(Z) + np.arctan2(X, Y) + np.hypot(X, Z),
              dt, "two-argument functions", rtol=(1e-5 if dt == np.float32 else 1e-13))
        close(ompbatch.evaluate("arcsinh(x) + tanh(y) + log1p(abs(z)) + expm1(x/4)",
                                x=x, y=y, z=z),
              np.arcsinh(X) + np.tanh(Y) + np.log1p(np.abs(Z)) + np.expm1(X / 4), dt,
              "unary functions", rtol=(1e-5 if dt == np.float32 else 1e-13))


@test
def evaluate_reductions_return_0d_arrays():
    for dt in (np.float32, np.float64):
        x = RNG.uniform(-4, 4, 200003).astype(dt)
        y = RNG.uniform(0.999, 1.001, 5001).astype(dt)
        X = x.astype(np.float64)
        s = ompbatch.evaluate("sum(x*x)", x=x)
        check(isinstance(s, np.ndarray) and s.shape == () and s.dtype == dt, f"sum: {s!r}")
        close(s, np.sum(X * X), dt, "sum", rtol=1e-6 if dt == np.float32 else 1e-12)
        close(ompbatch.evaluate("mean(x)", x=x), np.mean(X), dt, "mean", atol=1e-6)
        close(ompbatch.evaluate("prod(y)", y=y), np.prod(y.astype(np.float64)), dt, "prod",
              rtol=1e-5 if dt == np.float32 else 1e-12)
        check(ompbatch.evaluate("max(sin(x))", x=x) == np.max(ompbatch.map("sin", x)), "max")
        check(ompbatch.evaluate("min(x)", x=x) == np.min(x), "min")
        x[777] = np.nan
        check(np.isnan(ompbatch.evaluate("max(x)", x=x)), "max with a NaN")
        o = np.zeros(1, dt)
        ompbatch.evaluate("sum(x)", x=np.ones(10, dt), out=o)
        check(o[0] == 10, f"reduction into out: {o}")
    e = np.empty(0)
    check(ompbatch.evaluate("sum(e)") == 0 and ompbatch.evaluate("prod(e)") == 1, "empty")
    raises(ValueError, ompbatch.evaluate, "min(e)")
    check(ompbatch.evaluate("sin(e)").shape == (0,), "empty elementwise")


GLOBAL_ARRAY = np.linspace(0, 1, 1001)


@test
def evaluate_finds_names_as_numexpr_does():
    a = RNG.uniform(-1, 1, 1000)
    b = RNG.uniform(-1, 1, 1000)
    close(ompbatch.evaluate("a*b + 1"), a * b + 1, np.float64, "frame locals")

    def inner():
        c = RNG.uniform(0, 1, 1001)
        return c, ompbatch.evaluate("c + GLOBAL_ARRAY")
    c, r = inner()
    close(r, c + GLOBAL_ARRAY, np.float64, "locals of a nested function, then globals")
    close(ompbatch.evaluate("a - b", local_dict={"a": b, "b": a}), b - a, np.float64,
          "local_dict")
    close(ompbatch.evaluate("a - b", b=a), a - a, np.float64, "keywords before locals")
    close(ompbatch.evaluate("q + GLOBAL_ARRAY", local_dict={},
                            global_dict={"q": 1.0, "GLOBAL_ARRAY": GLOBAL_ARRAY}),
          1 + GLOBAL_ARRAY, np.float64, "global_dict")
    e = raises(KeyError, ompbatch.evaluate, "a + nope", a=a)
    check(isinstance(e, ValueError) and e.pos == 4 and "nope" in str(e), f"unbound: {e}")
    # 300 variables (numexpr stops at 31)
    d = {f"v{i}": np.full(50, float(i)) for i in range(300)}
    close(ompbatch.evaluate(" + ".join(d), local_dict=d), np.full(50, float(sum(range(300)))),
          np.float64, "300 variables")


@test
def evaluate_scalars_dtypes_orders_and_out():
    x32 = RNG.uniform(-2, 2, (64, 33)).astype(np.float32)
    x64 = x32.astype(np.float64)
    s = 2.5
    r = ompbatch.evaluate("x32*s + 1", x32=x32, s=s)
    close(r, x32 * np.float32(2.5) + 1, np.float32, "a Python float keeps float32")
    r = ompbatch.evaluate("x32*s", x32=x32, s=np.float64(2.5))
    close(r, x64 * 2.5, np.float64, "a numpy float64 scalar promotes")
    r = ompbatch.evaluate("x32 + t", x32=x32, t=np.array(0.25, np.float32))
    close(r, x32 + np.float32(0.25), np.float32, "0-d float32")
    close(ompbatch.evaluate("x32 + x64", x32=x32, x64=x64), x64 * 2, np.float64, "mixed")
    i = np.arange(12).reshape(3, 4)
    close(ompbatch.evaluate("i*0.5 + sqrt(i)", i=i), i * 0.5 + np.sqrt(i), np.float64, "int")
    close(ompbatch.evaluate("m*3", m=np.array([True, False])), np.array([3.0, 0.0]),
          np.float64, "bool")
    for v, want in ((float("inf"), np.inf), (-float("inf"), -np.inf), (-0.0, 0.0)):
        close(ompbatch.evaluate("x32*0 + v", x32=x32, v=v), np.full(x32.shape, want, np.float32),
              np.float32, f"scalar {v}")
    check(np.isnan(ompbatch.evaluate("x32 + v", x32=x32, v=float("nan"))).all(), "NaN scalar")
    r = ompbatch.evaluate("2.5 * 2")
    check(r.shape == () and r.dtype == np.float64 and r == 5, f"constants only: {r!r}")
    # Fortran order is kept; mixed orders give C
    f = np.asfortranarray(x64)
    r = ompbatch.evaluate("f*f", f=f)
    check(r.flags.f_contiguous and not r.flags.c_contiguous, "F order lost")
    close(r, x64 * x64, np.float64, "F values")
    r = ompbatch.evaluate("f + x64", f=f, x64=x64)
    check(r.flags.c_contiguous, "mixed orders")
    close(r, x64 * 2, np.float64, "mixed-order values")
    close(ompbatch.evaluate("s + 1", s=x64[:, ::2]), x64[:, ::2] + 1, np.float64, "strided")
    # out: in place, given, wrong
    y = x64.copy()
    ompbatch.evaluate("y*2 + sin(y)", y=y, out=y)
    close(y, x64 * 2 + np.sin(x64), np.float64, "in place")
    o = np.empty_like(x64)
    check(ompbatch.evaluate("x64 + 1", x64=x64, out=o) is o, "out is returned")
    raises(TypeError, ompbatch.evaluate, "x64 + 1", x64=x64, out=np.empty_like(x32))
    raises(ValueError, ompbatch.evaluate, "x64 + 1", x64=x64, out=np.empty(5))
    raises(ValueError, ompbatch.evaluate, "a + b", a=np.ones(3), b=np.ones(4))
    for bad in (np.ones(3, np.complex64), np.array(["x"]), 1j):
        raises(TypeError, ompbatch.evaluate, "a + 1", a=bad)
    raises(TypeError, ompbatch.evaluate, b"a")


@test
def bad_expressions_raise_value_error_with_position_and_caret():
    x = np.ones(4)
    for ex, pos in (("x + * x", 4), ("sin(x", 5), ("x + ", 4), ("foo(x)", 0),
                    ("x < x < x", 6), ("sin(x, x)", 0), ("", 0), ("1 + sum(x)", 4),
                    ("x $ 2", 2), ("sin", 0), ("x\t+ )", 4)):
        e = raises(ValueError, ompbatch.evaluate, ex, x=x)
        check(isinstance(e, ompbatch.ExpressionError), f"{ex!r}: {type(e)}")
        msg = str(e).splitlines()
        check(f"position {e.pos}" in msg[0], f"{ex!r}: no position in {msg[0]!r}")
        caret = "".join("\t" if c == "\t" else " " for c in ex[:e.pos]) + "^"
        check(len(msg) == 3 and msg[1] == "    " + ex and msg[2] == "    " + caret,
              f"{ex!r}: expression and caret lines: {msg}")
        check(e.pos == pos, f"{ex!r}: position {e.pos}, expected {pos}: {e}")
    # positions are the caller's, also after a scalar was substituted
    s = -12.5
    e = raises(ValueError, ompbatch.evaluate, "s + x + * 2", s=s, x=x)
    check(e.pos == 8, f"position after a scalar: {e.pos}: {e}")


@test
def functions_lists_names_arguments_and_bounds():
    fs = {f.name: f for f in ompbatch.functions()}
    for name in ("sin", "where", "sum", "arctan2", "minimum"):
        check(name in fs, f"{name} missing from functions()")
    check(fs["where"].nargs == 3 and fs["sum"].reduction and fs["sin"].kernel == "sin"
          and fs["sin"].ulp_f32 == 1.0, f"{fs['where']} {fs['sum']} {fs['sin']}")


@test
def evaluate_progress_counts_elements_and_an_exception_cancels():
    n = 3 << 20
    x = RNG.uniform(1e200, 1e300, n)
    seen = []
    ompbatch.evaluate("sin(x)", x=x, threads=2, progress=lambda d, t: seen.append((d, t)))
    check(seen and seen[-1] == (n, n), f"last report {seen[-1:]}, want {(n, n)}")
    check(all(b[0] >= a[0] and b[1] == n for a, b in zip(seen, seen[1:])), f"{seen}")

    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop(done)
    for f in (lambda: ompbatch.evaluate("sin(x)", x=x, threads=1, progress=stop),
              lambda: ompbatch.map("sin", x, threads=1, progress=stop)):
        raises(Stop, f)


@test
def evaluate_from_several_python_threads_at_once():
    xs = [RNG.uniform(-3, 3, 200001) for _ in range(6)]
    res, errs = [None] * 6, []

    def work(i):
        try:
            res[i] = ompbatch.evaluate("exp(-v*v) * cos(v)", v=xs[i], threads=2)
        except BaseException as e:  # noqa: B902 - reported below
            errs.append(e)
    ts = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errs, f"{errs}")
    for i in range(6):
        close(res[i], np.exp(-xs[i] ** 2) * np.cos(xs[i]), np.float64, f"thread {i}")


# ---- Ctrl-C -------------------------------------------------------------------

def read_lines(p, until, timeout):
    """Lines of p's stdout until one starts with `until` or p ends, within
    `timeout` seconds overall."""
    lines, buf = [], b""
    end = time.monotonic() + timeout
    fd = p.stdout.fileno()
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode())
            if until and line.decode().startswith(until):
                return lines
    return lines


def interrupt(mode):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "interrupt_child.py"), mode],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        head = read_lines(p, "STARTED", 120)
        check(head and head[-1] == "STARTED", f"{mode}: no STARTED: {head} "
              f"{p.stderr.read().decode() if p.poll() is not None else ''}")
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        rest = read_lines(p, None, 120)
        rc = p.wait(timeout=120)
        stopped = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = p.stderr.read().decode()
    check(rc == 0, f"{mode}: rc {rc}: {err}")
    kv = dict(line.split(" ", 1) for line in head + rest if " " in line)
    check("interrupted" in rest, f"{mode}: no KeyboardInterrupt: {rest} {err}")
    check(int(kv["done"]) < int(kv["total"]), f"{mode}: ran to the end: {kv}")
    check(kv["py_threads"] == "1", f"{mode}: Python threads left: {kv['py_threads']}")
    base = int(kv["baseline_os_threads"])
    check(int(kv["os_threads_after_close"]) == base,
          f"{mode}: OS threads {kv['os_threads_after_close']} after close_pools, {base} before")
    print(f"    {mode}: exited {stopped * 1e3:.0f} ms after SIGINT, at {kv['done']}/{kv['total']};"
          f" OS threads {base} -> {kv['os_threads']} (pool alive) -> "
          f"{kv['os_threads_after_close']}")


@test
def ctrl_c_cancels_a_map_and_leaves_no_thread():
    interrupt("map")


@test
def ctrl_c_cancels_an_evaluation_and_leaves_no_thread():
    interrupt("evaluate")


# ---- make install -------------------------------------------------------------

def install_test():
    make = os.environ.get("MAKE", "make")
    build = os.environ.get("OMPB_BUILD", "build")
    with tempfile.TemporaryDirectory(prefix="ompbatch-py-install.") as tmp:
        stage = os.path.join(tmp, "stage")
        cmd = [make, "--no-print-directory", "-C", ROOT, f"BUILD={build}", "install",
               f"DESTDIR={stage}", "PREFIX=/usr/local"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        check(r.returncode == 0, f"make install: {r.stdout[-2000:]} {r.stderr[-2000:]}")
        site = os.path.join(stage, "usr/local/lib/python3/dist-packages")
        check(os.path.isfile(os.path.join(site, "ompbatch", "_config.py")), "no _config.py")
        env = {k: v for k, v in os.environ.items()
               if k not in ("OMPBATCH_LIBRARY", "LD_LIBRARY_PATH", "PYTHONDONTWRITEBYTECODE")}
        env["PYTHONPATH"] = site
        code = ("import numpy as np, ompbatch; x = np.linspace(-3, 3, 10001);"
                "y = ompbatch.evaluate('2*sin(x) + exp(-x*x)');"
                "assert np.allclose(y, 2*np.sin(x) + np.exp(-x*x), rtol=1e-14, atol=1e-15);"
                "assert np.allclose(ompbatch.map('cos', x), np.cos(x), rtol=1e-15);"
                "print(ompbatch.library_path, ompbatch.__version__, ompbatch.__file__)")
        r = subprocess.run(["/usr/bin/python3", "-c", code], env=env, cwd=tmp,
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"staged import: {r.stdout} {r.stderr}")
        lib, _, mod = r.stdout.split()
        check(os.path.realpath(lib).startswith(os.path.realpath(stage) + os.sep),
              f"the staged module loaded {lib}, not the staged library")
        check(os.path.realpath(mod).startswith(os.path.realpath(site)), f"imported {mod}")
        check(os.path.isdir(os.path.join(site, "ompbatch", "__pycache__")), "no bytecode written")
        r = subprocess.run([make, "--no-print-directory", "-C", ROOT, f"BUILD={build}",
                            "uninstall", f"DESTDIR={stage}", "PREFIX=/usr/local"],
                           capture_output=True, text=True, timeout=600)
        check(r.returncode == 0, f"make uninstall: {r.stdout[-2000:]} {r.stderr[-2000:]}")
        left = [os.path.join(d, f) for d, _, fs in os.walk(stage) for f in fs]
        check(not left, f"left after uninstall: {left}")
        check(not os.path.exists(os.path.join(site, "ompbatch")), "package dir left")
        print(f"    staged install loaded {os.path.relpath(lib, stage)}")


# ---- runner -------------------------------------------------------------------

def main(argv):
    skip_install = "--skip-install" in argv
    names = [a for a in argv if not a.startswith("--")]
    tests = list(TESTS)
    if not skip_install:
        tests.append(install_test)
    if names:
        tests = [t for t in tests if t.__name__ in names]
        check(tests, f"no test named {names}")
    print(f"test_ompbatch: {ompbatch.library_path} ({ompbatch.__version__}, {ompbatch.simd_isa()},"
          f" OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')},"
          f" {ompbatch.pool_workers()} default workers)")
    failed = 0
    for t in tests:
        t0 = time.monotonic()
        try:
            t()
            print(f"  ok   {t.__name__} ({time.monotonic() - t0:.2f} s)")
        except Exception:  # noqa: B902 - every failure is reported
            failed += 1
            print(f"  FAIL {t.__name__}")
            traceback.print_exc()
    print(f"test_ompbatch: {len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
