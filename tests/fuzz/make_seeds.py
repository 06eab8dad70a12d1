#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/npy/,
tests/fuzz/corpus/wire/ and tests/fuzz/corpus/expr/), the files committed
in the tree: valid messages, files and expressions of every kind plus a few
near misses that each parser refuses at a different check. Run from the repository root when the formats change:

    python3 tests/fuzz/make_seeds.py

The expression inputs follow the layout of tests/fuzz/fuzz_expr.c (two
header bytes, optional names, the source). The wire messages follow docs/mpi.md / src/mpi/wire.h field by field; the
.npy files follow numpy's format (versions 1.0, 2.0, 3.0). The seeds are
deterministic (no randomness, no numpy needed). Crash inputs saved in the
corpus directories by hand are not touched."""
import math
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- .npy ----
MAGIC = b"\x93NUMPY"


def npy(dict_text, data=b"", major=1, pad=True):
    text = dict_text.encode("latin-1")
    pre = 10 if major == 1 else 12
    if pad:
        total = (pre + len(text) + 1 + 63) // 64 * 64
        text = text + b" " * (total - pre - len(text) - 1) + b"\n"
    hdr = MAGIC + bytes([major, 0])
    hdr += struct.pack("<H", len(text)) if major == 1 else struct.pack("<I", len(text))
    return hdr + text + data


def f4(n):
    return struct.pack("<%df" % n, *[2.385 * (i + 1) for i in range(n)])


def f8(n):
    return struct.pack("<%dd" % n, *[-0.618 * (i + 1) for i in range(n)])


def npy_seeds():
    s = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    write("npy", "v1_f4_2x3", npy(s, f4(6)))
    write("npy", "v1_f8_vector",
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", f8(5)))
    write("npy", "v1_scalar",
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f8(1)))
    write("npy", "v1_empty_0x3",
          npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }"))
    write("npy", "v2_f4", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                              f4(4), major=2))
    write("npy", "v3_native_order",
          npy("{'descr': '=f8', 'fortran_order': False, 'shape': (1, 2), }", f8(2), major=3))
    write("npy", "v1_keys_reordered_dquote",
          npy('{"shape": (3L,), "fortran_order": True, "descr": "<f4"}', f4(3)))
    write("npy", "v1_unpadded_4d",
          npy("{'descr':'<f4','fortran_order':False,'shape':(1,2,1,2)}", f4(4), pad=False))
    write("npy", "v1_many_dims",
          npy("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }"
              % ", ".join(["1"] * 64), f4(1)))
    write("npy", "v1_empty_huge_dim",
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 1152921504606846975), }"))
    # Refused, each at a different check.
    write("npy", "bad_big_endian",
          npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", f8(2)))
    write("npy", "bad_structured",
          npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", f4(1)))
    write("npy", "bad_fortran_2d",
          npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f4(4)))
    write("npy", "bad_int_dtype",
          npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", f4(2)))
    write("npy", "bad_short_data",
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8(2)))
    write("npy", "bad_version", npy(s, f4(6), major=4))
    write("npy", "bad_huge_shape",
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': "
              "(4294967296, 4294967296, 4294967296), }"))
    write("npy", "bad_nul_padding",
          npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\0", f4(1)))


# ---- wire ----
VERSION = 1
BATCH, CHUNK, RESULTS, END, STOP = 1, 2, 3, 4, 5
ECANCELED, ETIMEDOUT, EPROTO = -4, -5, -10
INF = math.inf


def header(kind, count, bid):
    return struct.pack("<BBHIQ", VERSION, kind, 0, count, bid)


def batch(bid, rc, conc, n, fail_fast, task_ms, batch_ms):
    return (header(BATCH, 0, bid) + struct.pack("<iIQB7x", rc, conc, n, fail_fast)
            + struct.pack("<dd", task_ms, batch_ms))


def ctl(kind, bid, rc):
    return header(kind, 0, bid) + struct.pack("<i", rc)


def chunk(bid, deadline_ms, tasks):
    out = header(CHUNK, len(tasks), bid) + struct.pack("<d", deadline_ms)
    for tid, timeout_ms, method, params in tasks:
        m = method + b"\0"
        out += struct.pack("<QdIB", tid, timeout_ms, len(params), len(m)) + m + params
    return out


def results(bid, rc, workers, items):
    out = header(RESULTS, len(items), bid) + struct.pack("<iI", rc, workers)
    for rid, status, duration_ms, data in items:
        out += struct.pack("<QidI", rid, status, duration_ms, len(data)) + data
    return out


def wire_seeds():
    bid = 0x2385000000000007
    write("wire", "batch", batch(bid, 0, 4, 1000, 0, 0.0, INF))
    write("wire", "batch_fail_fast", batch(1, -5, 4096, 3, 1, 250.5, 2.385e3))
    write("wire", "end", ctl(END, bid, 0))
    write("wire", "stop", ctl(STOP, 2, ETIMEDOUT))
    write("wire", "chunk_one", chunk(bid, INF, [(0, 0.0, b"sum", b"")]))
    write("wire", "chunk_three", chunk(
        bid, 1500.25,
        [(10, INF, b"scale", struct.pack("<3d", 2.385, -1.5, 7.0)),
         (11, 12.5, b"m", b"\x01\x02"),
         (12, 0.0, b"sleep_ms", b"\xff")]))
    write("wire", "results_request", results(bid, 0, 2, []))
    write("wire", "results_rank_failed", results(bid, -2, 1, []))
    write("wire", "results_mixed", results(
        bid, 0, 8,
        [(10, 0, 0.125, struct.pack("<d", 4.77)),
         (11, ECANCELED, 0.0, b""),
         (12, 17, 3.5, b"task failed\0"),
         (13, 0, 1e-3, b"")]))
    # Near misses: refused at one check each.
    write("wire", "bad_batch_padding", batch(bid, 0, 4, 10, 0, 0.0, INF)[:33] + b"\x01" +
          batch(bid, 0, 4, 10, 0, 0.0, INF)[34:])
    write("wire", "bad_chunk_nan_timeout",
          chunk(bid, INF, [(0, math.nan, b"sum", b"ab")]))
    write("wire", "bad_results_unterminated",
          results(bid, 0, 1, [(0, EPROTO, 1.0, b"no nul")]))


# ---- expressions ----
# Length classes of fuzz_expr.c's lens[]: index -> n.
LENS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 70, 1030]


def expr(src, nvars=3, n=17, seed=0, names=None):
    head = bytes([(LENS.index(n) << 4) | (8 if names is not None else 0) | nvars, seed])
    body = (",".join(names) + ";" if names is not None else "") + src
    return head + body.encode("latin-1")


def expr_seeds():
    w = lambda name, *a, **k: write("expr", name, expr(*a, **k))
    # issue 13's four, and numexpr-style formulas over x y z
    w("e1", "2*sin(x)+exp(-x*x)", nvars=1, n=33)
    w("e2", "x*y+z", n=70, seed=5)
    w("e3", "sqrt(x*x+y*y)", nvars=2, n=16, seed=9)
    w("e4", "where(x>0, log(x), -x)", nvars=1, n=31, seed=2)
    w("e1_block", "2*sin(x)+exp(-x*x)", nvars=1, n=1030, seed=3)
    w("e2_block", "x*y+z", n=1030, seed=6)
    w("physics", "0.5*a*t**2 + b*t + c", nvars=7, n=9, seed=1)
    w("powers", "x**2 + x**3 - x**-1 + x**-2 + x**0.5 + 2**-1 + x**y + (-x)**3",
      nvars=2, n=15)
    w("unary", "-x**2 + +y - -z * (-(x))", n=8)
    w("compare", "(x < y) + (x <= y) * 2 + (x > z) * 4 + (x >= z) * 8 + (y == z) + (x != y)",
      n=17, seed=11)
    w("logical", "where((x > 0) & (y < 1) | ~(z != z) ^ (x == y), x & y, x | ~z)",
      n=33, seed=15)
    w("remainder", "x % y + fmod(y, z) - (-x) % 2.5 * (x % -y)", n=33, seed=16)
    w("numpy_funcs", "where(isnan(x), 0, x // y) + round(x) + trunc(y) - sign(z) "
      "+ copysign(x, y) * nextafter(y, z) + isinf(x) + isfinite(y) + signbit(z) "
      "+ copy(x) * ones_like(y) + (-x) // 2.5 + True - False", n=33, seed=17)
    w("where_nested", "where(x, where(y > 1, y, z), where(z != z, 1, 0))", n=33, seed=4)
    w("minmax", "minimum(x, y) - maximum(y, z) + abs(x - z)", n=7, seed=8)
    w("two_input", "atan2(x, y) + arctan2(y, x) + hypot(x, y) + atan2_fast(x, z) "
      "+ hypot_fast(z, y) + pow(x, y) + add(x, z) + mul(y, z)", n=70)
    w("trig", "sin(x) + cos(y) + tan(z) + asin(x) + acos(y) + atan(z) + arcsin(x/4) "
      "+ arccos(y/4) + arctan(z)", n=16, seed=12)
    w("hyper", "sinh(x) + cosh(y) + tanh(z) + asinh(x) + acosh(y) + atanh(z/5) "
      "+ arcsinh(x) + arccosh(abs(y)+1) + arctanh(z/8)", n=9)
    w("explog", "exp(x) + exp2(y) + expm1(z) + log(x) + log2(y) + log10(z) + log1p(x)",
      n=31, seed=7)
    w("fast", "sin_fast(x) + cos_fast(x) + tan_fast(x) + exp_fast(y) + log_fast(z) "
      "+ exp2_fast(x) + log2_fast(y) + sqrt_fast(z) + cbrt_fast(x) + asin_fast(x/4) "
      "+ acos_fast(y/4) + atan_fast(z) + sinh_fast(x) + cosh_fast(y) + tanh_fast(z)", n=33)
    w("misc", "cbrt(x) + erf(y) + erfc(z) + sigmoid(x) + floor(y) + ceil(z) + sqrt(x)",
      n=15, seed=13)
    w("fma_cse", "x*y + z + (x*y + z) * (x*y + z) - sin(x*y + z)", n=70, seed=14)
    w("consts", "1/0 + log(-1) * 0 + 0.1 + 0.2 + 1e308*10 + 1e-320 + 2.5e+3 + .5 - 3.",
      nvars=0, n=5)
    w("consts_var", "x*0 + (2+3)*x + sin(1)*y", n=4)
    w("sum", "sum(x*y + z)", n=1030, seed=15)
    w("prod", "prod(1 + x/100)", n=70)
    w("min", "min(x - y)", n=33, seed=16)
    w("max", "max(where(x > 0, x, y))", n=17, seed=17)
    w("mean", "mean(x)", n=31, seed=18)
    w("sum_empty", "sum(x)", n=0)
    w("min_empty", "min(x)", n=0)
    w("in_place", "x + y", nvars=2, n=70, seed=16)
    w("unused_vars", "z * 2", nvars=7, n=9, seed=19)
    w("spaces", " \t x\t*  ( y +\tz )  ", n=3)
    w("deep_parens", "(" * 200 + "x" + ")" * 200, nvars=1, n=8)
    w("deep_calls", "sin(" * 100 + "x" + ")" * 100, nvars=1, n=5)
    w("long_chain", "+".join(["x*%d" % i for i in range(300)]), nvars=1, n=70)
    w("pow_chain", "x**y**z**x", n=8)
    # names from the input
    w("names_own", "alpha*beta + gamma_2", nvars=3, n=7, names=["alpha", "beta", "gamma_2"])
    w("names_func", "sin(sin) + where(where, sum, 1)", nvars=3, n=16,
      names=["sin", "where", "sum"])
    w("names_under", "_ + _1", nvars=2, n=4, names=["_", "_1"])
    # refused, each at a different check
    w("bad_syntax", "x + * y", n=2)
    w("bad_chain", "x < y < z", n=2)
    w("bad_unknown_name", "x + w", n=2)
    w("bad_unknown_func", "foo(x)", n=2)
    w("bad_arity", "atan2(x)", n=2)
    w("bad_inner_reduction", "sum(x) + 1", n=2)
    w("bad_nested_reduction", "sum(max(x))", n=2)
    w("bad_empty", "   ", n=2)
    w("bad_paren", "(x + y", n=2)
    w("bad_char", "x $ y", n=2)
    w("bad_param_kernel", "scale(x)", n=2)
    w("bad_number", "1e", n=2)
    w("bad_name_dup", "x", nvars=2, names=["x", "x"])
    w("bad_name_digit", "x", nvars=2, names=["x", "1y"])
    w("bad_name_empty", "x", nvars=2, names=["x", ""])
    w("bad_too_deep", "(" * 2100 + "x" + ")" * 2100, nvars=1)
    w("bad_too_deep_unary", "-" * 2100 + "x", nvars=1)


if __name__ == "__main__":
    npy_seeds()
    wire_seeds()
    expr_seeds()
