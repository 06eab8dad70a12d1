#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the ompbatch command-line tool (make check-cli).

    python3 tests/cli/test_cli.py build/ompbatch [NAME-SUBSTRING]

Arrays are made with numpy, transformed by the CLI and compared with numpy
within the ULP bound that `ompbatch kernels` lists for the kernel; every
bad-file case must give its message and exit code and leave no output; the
progress bar appears on a pty and never on a pipe; SIGINT leaves no partial
output. Needs python3-numpy (Debian). Prints `N passed, N failed` last and
exits non-zero when anything failed.
"""
import math
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

CLI = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ompbatch")
ONLY = sys.argv[2] if len(sys.argv) > 2 else ""
TMP = tempfile.mkdtemp(prefix="ompbatch-cli.")
RNG = np.random.default_rng(2385)
TESTS = []

# Exit codes, as documented in `ompbatch --help`, docs/cli.md and the man page.
EX_FAIL, EX_USAGE, EX_KERNEL, EX_UNSUPPORTED, EX_CORRUPT, EX_INTERRUPTED = 1, 2, 3, 4, 5, 130


def test(fn):
    TESTS.append(fn)
    return fn


def path(name):
    return os.path.join(TMP, name)


def run(*args, timeout=60, **kw):
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, timeout=timeout, **kw)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def leftovers(directory=TMP):
    """Temporary files the CLI may have left (.ompb.XXXXXX; before issue 16
    .NAME.XXXXXX)."""
    return [f for f in os.listdir(directory) if re.match(r"^\..+\.[A-Za-z0-9]{6}$", f)]


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- kernels and their bounds, from the CLI itself ----------------------------

def kernel_table():
    rc, out, err = run("kernels")
    check(rc == 0, f"kernels: rc {rc} {err}")
    table = {}
    lines = out.splitlines()
    check(lines[0].split()[:5] == ["KERNEL", "INPUTS", "PARAMS", "ULP_F32", "ULP_F64"],
          f"kernels header: {lines[0]}")
    for line in lines[1:]:
        f = line.split()
        ulp = [0.0 if v == "exact" else float(v) for v in f[3:5]]
        table.setdefault((f[0], int(f[1])), {"params": int(f[2]), "f32": ulp[0], "f64": ulp[1]})
    return table


KERNELS = None


def max_ulp(out, ref, dtype):
    """Largest error of `out` in ULPs of the correctly rounded result, with
    `ref` computed in higher precision (float64 for f32, longdouble for f64)."""
    out = out.astype(np.longdouble).ravel()
    ref = np.asarray(ref, dtype=np.longdouble).ravel()
    both_nan = np.isnan(out) & np.isnan(ref)
    same_inf = np.isinf(ref) & (out == ref)
    ok = both_nan | same_inf
    check(not np.any(np.isnan(out) & ~ok), "unexpected NaN in the output")
    spacing = np.spacing(np.abs(ref.astype(dtype))).astype(np.longdouble)
    err = np.abs(out - ref) / spacing
    err[ok] = 0
    return float(np.max(err)) if err.size else 0.0


L = np.longdouble


def erf_ref(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x.astype(np.float64))


def erfc_ref(x):
    return np.vectorize(math.erfc, otypes=[np.float64])(x.astype(np.float64))


def uniform(lo, hi):
    return lambda n, dt: RNG.uniform(lo, hi, n).astype(dt)


def logspread(lo, hi):
    return lambda n, dt: np.exp(RNG.uniform(math.log(lo), math.log(hi), n)).astype(dt)


# name, params, inputs, reference on the high-precision copy; f64_ok is False
# where Python has no reference better than float64 (erf, erfc).
CASES = [
    ("sin", [], uniform(-100, 100), np.sin, True),
    ("cos", [], uniform(-100, 100), np.cos, True),
    ("tan", [], uniform(-1.5, 1.5), np.tan, True),
    ("asin", [], uniform(-1, 1), np.arcsin, True),
    ("acos", [], uniform(-1, 1), np.arccos, True),
    ("atan", [], uniform(-1e3, 1e3), np.arctan, True),
    ("sinh", [], uniform(-80, 80), np.sinh, True),
    ("cosh", [], uniform(-80, 80), np.cosh, True),
    ("tanh", [], uniform(-20, 20), np.tanh, True),
    ("exp", [], uniform(-80, 80), np.exp, True),
    ("exp2", [], uniform(-120, 120), np.exp2, True),
    ("expm1", [], uniform(-20, 20), np.expm1, True),
    ("log", [], logspread(1e-30, 1e30), np.log, True),
    ("log2", [], logspread(1e-30, 1e30), np.log2, True),
    ("log10", [], logspread(1e-30, 1e30), np.log10, True),
    ("log1p", [], uniform(-0.9, 1e3), np.log1p, True),
    ("sqrt", [], logspread(1e-30, 1e30), np.sqrt, True),
    ("cbrt", [], uniform(-1e6, 1e6), np.cbrt, True),
    ("erf", [], uniform(-5, 5), erf_ref, False),
    ("erfc", [], uniform(-5, 9), erfc_ref, False),
    ("pow", [2.385], uniform(0, 100), None, True),
    ("sigmoid", [], uniform(-30, 30), lambda x: 1 / (1 + np.exp(-x)), True),
    ("scale", [2.385], uniform(-1e3, 1e3), None, True),
    ("add_scalar", [-1.25], uniform(-1e3, 1e3), None, True),
    ("affine", [2.385, -0.5], uniform(-1e3, 1e3), None, True),
    ("clamp", [-1.0, 1.0], uniform(-3, 3), None, True),
    ("abs", [], uniform(-1e3, 1e3), np.abs, True),
    ("axpy", [2.385], uniform(-1e3, 1e3), None, True),
]


def param_ref(name, x, params, dt):
    """References for parameterised kernels; parameters are first rounded to
    the element type, as the CLI does."""
    p = [L(dt(v)) for v in params]
    if name == "pow":
        return np.power(x, p[0])
    if name in ("scale", "axpy"):  # axpy's y (the output) starts at zero
        return x * p[0]
    if name == "add_scalar":
        return x + p[0]
    if name == "affine":
        return x * p[0] + p[1]
    if name == "clamp":
        return np.minimum(np.maximum(x, p[0]), p[1])
    raise KeyError(name)


def roundtrip(name, params, gen, ref_fn, dtype, fast=False, n=4099, shape=None):
    dt = np.float32 if dtype == "f32" else np.float64
    x = gen(n, dt)
    if shape:
        x = x[: int(np.prod(shape))].reshape(shape)
    src, dst = path(f"{name}_{dtype}_in.npy"), path(f"{name}_{dtype}_out.npy")
    np.save(src, x)
    args = ["map", name, src, dst] + [a for v in params for a in ("--param", repr(v))]
    if fast:
        args.append("--fast")
    rc, out, err = run(*args)
    check(rc == 0, f"{name} {dtype}: rc {rc}: {err}")
    y = np.load(dst)
    check(y.dtype == dt and y.shape == x.shape, f"{name}: got {y.dtype}{y.shape}")
    hp = x.astype(np.float64 if dtype == "f32" else np.longdouble)
    ref = param_ref(name, hp, params, dt) if ref_fn is None else ref_fn(hp)
    kname = name + "_fast" if fast and (name + "_fast", 1) in KERNELS else name
    bound = KERNELS[(kname, 1)][dtype]
    worst = max_ulp(y, ref, dt)
    check(worst <= bound + 0.02, f"{kname} {dtype}: {worst:.3f} ULP > bound {bound}")
    check(not leftovers(), f"temporary files left: {leftovers()}")
    return worst


# ---- help, version, kernels, info ---------------------------------------------

@test
def help_and_version_everywhere():
    for args in (["--help"], ["-h"], ["help"], ["help", "map"], ["map", "--help"],
                 ["kernels", "--help"], ["info", "--help"], ["map", "sin", "-h"]):
        rc, out, err = run(*args)
        check(rc == 0 and "usage:" in out and not err, f"{args}: rc {rc} {out[:80]!r} {err!r}")
    for args in (["--version"], ["map", "--version"], ["kernels", "--version"],
                 ["info", "--version"], ["map", "sin", "a", "b", "--version"]):
        rc, out, err = run(*args)
        check(rc == 0 and re.match(r"ompbatch \d+\.\d+\.\d+ \(library \d+\.\d+\.\d+\)", out),
              f"{args}: rc {rc} {out!r}")
    rc, out, err = run("map", "--help")
    check("exit codes" in out and "130" in out, "map --help documents exit codes")


@test
def kernels_lists_every_kernel_with_bounds():
    t = kernel_table()
    for name in ("sin", "sin_fast", "exp", "log", "sqrt", "pow", "affine", "clamp", "abs"):
        check((name, 1) in t, f"{name} missing")
    check(("atan2", 2) in t and ("pow", 2) in t, "two-input kernels listed")
    check(t[("sqrt", 1)]["f32"] == 0.5 and t[("sin_fast", 1)]["f64"] == 3.5, "bounds")
    check(t[("clamp", 1)]["params"] == 2 and t[("abs", 1)]["f32"] == 0, "params/exact")
    rc, out, err = run("kernels", "--names")
    check(rc == 0 and "sin\n" in out and "atan2" not in out, "--names: one-input only")


@test
def info_reports_version_isa_workers_cancellation():
    rc, out, err = run("info")
    check(rc == 0, err)
    check(re.search(r"version:\s+\d+\.\d+\.\d+", out), out)
    check(re.search(r"simd isa:\s+(avx512f|avx2|sse2|neon|scalar)", out), out)
    check(re.search(r"workers:\s+[1-9]", out), out)
    check(re.search(r"cancellation:\s+off", out), out)
    env = dict(os.environ, OMP_CANCELLATION="true")
    rc, out, err = run("info", "--threads", 3, env=env)
    check(re.search(r"cancellation:\s+on", out) and re.search(r"workers:\s+3\n", out), out)
    env = dict(os.environ, OMPB_SIMD="scalar")
    rc, out, err = run("info", env=env)
    check(re.search(r"simd isa:\s+scalar", out), out)


# ---- round trips against numpy -----------------------------------------------

@test
def every_unary_kernel_within_its_ulp_bound():
    report = []
    for name, params, gen, ref_fn, f64_ok in CASES:
        for dtype in ("f32", "f64") if f64_ok else ("f32",):
            report.append(f"{name}/{dtype} {roundtrip(name, params, gen, ref_fn, dtype):.2f}")
    print("    max ULP: " + ", ".join(report))


@test
def fast_variants_within_their_bound():
    for name, params, gen, ref_fn, f64_ok in CASES:
        if (name + "_fast", 1) not in KERNELS:
            continue
        for dtype in ("f32", "f64"):
            roundtrip(name, params, gen, ref_fn, dtype, fast=True)
    # --fast on a kernel without a fast variant runs the kernel itself
    roundtrip("log10", [], logspread(1e-3, 1e3), np.log10, "f32", fast=True)


@test
def shapes_are_kept_including_scalar_and_empty():
    for shape in [(), (0,), (7,), (3, 4, 5), (2, 0, 3), (1, 1, 1, 1, 9)]:
        for dt in (np.float32, np.float64):
            x = RNG.uniform(-3, 3, shape).astype(dt)
            np.save(path("s.npy"), x)
            rc, out, err = run("map", "cos", path("s.npy"), path("t.npy"))
            check(rc == 0, f"{shape}: {err}")
            y = np.load(path("t.npy"))
            check(y.shape == shape and y.dtype == dt, f"{shape}: {y.shape} {y.dtype}")
            check(np.allclose(y, np.cos(x.astype(np.float64)), rtol=1e-6, atol=1e-7), f"{shape}")


@test
def many_chunks_on_several_threads():
    x = RNG.uniform(-10, 10, 1 << 20).astype(np.float32).reshape(1024, 1024)
    np.save(path("m.npy"), x)
    for extra in (["--threads", 2, "--chunk", 1000], ["--threads", 1], ["--chunk", 1]):
        if extra == ["--chunk", 1]:
            np.save(path("m.npy"), x[:64])
        rc, out, err = run("map", "exp", path("m.npy"), path("mo.npy"), *extra)
        check(rc == 0, f"{extra}: {err}")
        y = np.load(path("mo.npy"))
        xs = np.load(path("m.npy")).astype(np.float64)
        check(max_ulp(y, np.exp(xs), np.float32) <= 1.02, f"{extra}")


@test
def special_values_pass_through():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45], dtype=np.float32)
    np.save(path("sp.npy"), x)
    rc, out, err = run("map", "exp", path("sp.npy"), path("spo.npy"))
    y = np.load(path("spo.npy"))
    check(rc == 0 and np.isnan(y[0]) and y[1] == np.inf and y[2] == 0 and y[3] == 1, f"{y}")
    rc, out, err = run("map", "clamp", path("sp.npy"), path("spo.npy"),
                       "--param", "-inf", "--param", "0.5")
    y = np.load(path("spo.npy"))
    check(rc == 0 and np.isnan(y[0]) and y[1] == 0.5 and y[2] == -np.inf, f"{y}")


@test
def npy_versions_2_and_3_and_1d_fortran_are_read():
    x = RNG.uniform(0, 5, 100)
    for version in ((2, 0), (3, 0)):
        with open(path("v.npy"), "wb") as f:
            np.lib.format.write_array(f, x, version=version)
        rc, out, err = run("map", "sqrt", path("v.npy"), path("vo.npy"))
        check(rc == 0 and np.array_equal(np.load(path("vo.npy")), np.sqrt(x)), f"{version}: {err}")
    np.save(path("f1.npy"), np.asfortranarray(x))  # 1-D: same layout in both orders
    hdr = open(path("f1.npy"), "rb").read(128)
    rc, out, err = run("map", "sqrt", path("f1.npy"), path("vo.npy"))
    check(rc == 0, f"1-d fortran ({hdr!r}): {err}")


def misaligned_npy(a, extra=3):
    """A .npy numpy accepts whose data starts at an offset that is not a
    multiple of the element size (header padded by `extra` spaces)."""
    h = repr(np.lib.format.header_data_from_array_1_0(a)).encode() + b" " * extra + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + a.tobytes()


def kernel_pointers(args):
    """Run the CLI under gdb with a breakpoint on ompb_k_sin_f32/_f64 that
    stops only on a misaligned input or output pointer (x86-64: rdi, rsi).
    Returns gdb's output, or None when gdb cannot do it here."""
    import platform
    import shutil
    if platform.machine() != "x86_64" or not shutil.which("gdb"):
        return None
    cond = "(((long)$rdi | (long)$rsi) & 3) != 0"
    cmd = ["gdb", "-nx", "-batch", "-ex", "set pagination off",
           "-ex", "set breakpoint pending on",
           "-ex", f"break ompb_k_sin_f32 if {cond}",
           "-ex", f"break ompb_k_sin_f64 if {cond}",
           "-ex", "run", "-ex", "info registers rdi rsi", "-ex", "kill",
           "--args", CLI, *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


@test
def misaligned_npy_data_reaches_kernels_aligned():
    x = RNG.uniform(-5, 5, 10007)
    for dt in (np.float32, np.float64):
        a = x.astype(dt)
        data = misaligned_npy(a)
        check((len(data) - a.nbytes) % a.itemsize != 0, "the data offset is misaligned")
        with open(path("mis.npy"), "wb") as f:
            f.write(data)
        check(np.array_equal(np.load(path("mis.npy")), a), "numpy reads it")
        rc, out, err = run("map", "sin", path("mis.npy"), path("miso.npy"))
        check(rc == 0, f"{dt.__name__}: rc {rc} {err}")
        check(np.allclose(np.load(path("miso.npy")), np.sin(a.astype(np.float64)),
                          rtol=1e-6, atol=1e-7), dt.__name__)
        text = kernel_pointers(["map", "sin", path("mis.npy"), path("miso.npy"),
                                "--threads", 1])
        if text is None:
            print("    no gdb on x86-64: pointer alignment not checked")
            continue
        check("exited normally" in text and "Breakpoint 1," not in text
              and "Breakpoint 2," not in text,
              f"{dt.__name__}: a kernel got a misaligned pointer:\n{text[-800:]}")
    check(not leftovers(), leftovers())


@test
def raw_input_with_dtype():
    for dt, name in ((np.float32, "f32"), (np.float64, "f64")):
        x = RNG.uniform(-2, 2, 1001).astype(dt)
        x.tofile(path("r.bin"))
        rc, out, err = run("map", "tanh", path("r.bin"), path("ro.npy"), "--dtype", name)
        y = np.load(path("ro.npy"))
        check(rc == 0 and y.shape == (1001,) and y.dtype == dt, f"{name}: {err}")
        check(np.allclose(y, np.tanh(x.astype(np.float64)), rtol=1e-6), name)
    open(path("empty.bin"), "wb").close()
    rc, out, err = run("map", "tanh", path("empty.bin"), path("ro.npy"), "--dtype", "f32")
    check(rc == 0 and np.load(path("ro.npy")).shape == (0,), f"empty raw: {err}")


@test
def output_is_replaced_atomically_with_umask_permissions():
    x = RNG.uniform(0, 1, 10).astype(np.float32)
    np.save(path("p.npy"), x)
    with open(path("po.npy"), "w") as f:
        f.write("old")
    old = os.umask(0o027)
    try:
        rc, out, err = run("map", "abs", path("p.npy"), path("po.npy"))
    finally:
        os.umask(old)
    check(rc == 0 and np.array_equal(np.load(path("po.npy")), x), err)
    check(os.stat(path("po.npy")).st_mode & 0o777 == 0o640, oct(os.stat(path("po.npy")).st_mode))
    check(not leftovers(), leftovers())
    # a relative OUT without a directory part
    rc, out, err = run("map", "abs", "p.npy", "rel.npy", cwd=TMP)
    check(rc == 0 and os.path.exists(path("rel.npy")), err)


# ---- bad input: message, exit code, no output ----------------------------------

def npy_bytes(arr, **kw):
    import io
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, **kw)
    return b.getvalue()


def header_swap(data, old, new):
    """Replace text in the header, keeping its declared length."""
    hl = struct.unpack("<H", data[8:10])[0]
    head = data[10:10 + hl].decode("latin1")
    assert old in head, (old, head)
    head = head.replace(old, new)
    head = head[:-1].rstrip(" ").ljust(hl - 1) + "\n"
    assert len(head) == hl, (hl, head)
    return data[:10] + head.encode("latin1") + data[10 + hl:]


def bad_cases():
    f32 = RNG.uniform(-1, 1, (4, 6)).astype(np.float32)
    good = npy_bytes(f32)
    structured = np.zeros(3, dtype=[("a", "<f4"), ("b", "<f4")])
    ver9 = bytearray(good)
    ver9[6] = 9
    return [
        # name, file bytes, extra args, exit code, message fragment
        ("float16", npy_bytes(f32.astype(np.float16)), [], EX_UNSUPPORTED, "dtype '<f2'"),
        ("complex", npy_bytes(f32.astype(np.complex64)), [], EX_UNSUPPORTED, "dtype '<c8'"),
        ("big-endian complex", npy_bytes(f32.astype(">c16")), [], EX_UNSUPPORTED,
         "dtype '>c16'"),
        ("string", npy_bytes(np.array(["ab", "c"])), [], EX_UNSUPPORTED, "dtype '<U2'"),
        ("bytes", npy_bytes(np.array([b"ab", b"c"])), [], EX_UNSUPPORTED, "dtype '|S2'"),
        ("object", npy_bytes(np.array([1, "a"], dtype=object), allow_pickle=True), [],
         EX_UNSUPPORTED, "dtype '|O'"),
        ("datetime", npy_bytes(np.zeros(3, "datetime64[s]")), [], EX_UNSUPPORTED,
         "dtype '<M8[s]'"),
        ("longdouble", npy_bytes(np.zeros(3, np.longdouble)), [], EX_UNSUPPORTED,
         "is not supported"),
        ("int3", header_swap(npy_bytes(np.zeros(3, np.int32)), "'<i4'", "'<i3'"), [],
         EX_UNSUPPORTED, "dtype '<i3'"),
        ("bool2", header_swap(npy_bytes(np.zeros(3, np.int16)), "'<i2'", "'<b2'"), [],
         EX_UNSUPPORTED, "dtype '<b2'"),
        ("structured", npy_bytes(structured), [], EX_UNSUPPORTED, "structured dtype"),
        ("version 9", bytes(ver9), [], EX_UNSUPPORTED, "version 9.0"),
        ("text file", b"1.0 2.0 3.0\n" * 10, [], EX_CORRUPT, "bad magic"),
        ("empty file", b"", [], EX_CORRUPT, "truncated header"),
        ("magic only", good[:6], [], EX_CORRUPT, "truncated header"),
        ("truncated header", good[:40], [], EX_CORRUPT, "truncated header"),
        ("truncated data", good[:-3], [], EX_CORRUPT, "truncated data"),
        ("trailing bytes", good + b"\0" * 8, [], EX_CORRUPT, "bytes after"),
        ("bad key", header_swap(good, "'shape'", "'shapf'"), [], EX_CORRUPT, "corrupt header"),
        ("missing key", header_swap(good, "'fortran_order': False, ", ""), [], EX_CORRUPT,
         "missing key 'fortran_order'"),
        ("bad bool", header_swap(good, "False", "Maybe"), [], EX_CORRUPT, "True or False"),
        ("bad shape", header_swap(good, "(4, 6)", "(4, x)"), [], EX_CORRUPT, "shape"),
        ("negative dim", header_swap(good, "(4, 6)", "(-4, 6)"), [], EX_CORRUPT, "shape"),
        ("not a dict", header_swap(good, "{", "["), [], EX_CORRUPT, "not a dict"),
        ("huge shape", header_swap(good, "(4, 6)", "(99999999999, 99999999999)"), [],
         EX_CORRUPT, "too large"),
        # numpy refuses these two (issue 16, bug 9)
        ("NUL then junk", header_swap(good, "), }", "), }\0junk"), [], EX_CORRUPT,
         "a NUL byte after the dict"),
        ("empty, dim >= 2^63", header_swap(npy_bytes(np.zeros((0, 3), np.float32)),
                                           "(0, 3)", f"(0, {2**63})"), [], EX_CORRUPT,
         "too large"),
        ("empty, 2^62 x 4 x f4", header_swap(npy_bytes(np.zeros((0, 3), np.float32)),
                                             "(0, 3)", f"(0, {2**62}, 4)"), [], EX_CORRUPT,
         "too large"),
        ("raw ragged", b"\0" * 10, ["--dtype", "f32"], EX_CORRUPT, "whole number"),
        ("raw given a .npy", good, ["--dtype", "f32"], EX_USAGE, "drop --dtype"),
    ]


@test
def every_bad_file_gives_its_error_and_exit_code():
    failures = []
    for name, data, extra, code, frag in bad_cases():
        with open(path("bad.npy"), "wb") as f:
            f.write(data)
        out = path("bad_out.npy")
        rc, so, err = run("map", "sin", path("bad.npy"), out, *extra)
        if rc != code or frag not in err or os.path.exists(out) or leftovers():
            failures.append(f"{name}: rc {rc} (want {code}), stderr {err.strip()!r}")
        elif not err.startswith("ompbatch: ") or err.count("\n") != 1:
            failures.append(f"{name}: message not one 'ompbatch: ' line: {err!r}")
    check(not failures, "\n      ".join([""] + failures))


@test
def bad_command_lines_give_usage_or_kernel_errors():
    np.save(path("ok.npy"), np.ones(3, np.float32))
    ok, out = path("ok.npy"), path("never.npy")
    cases = [
        (["map", "nosuch", ok, out], EX_KERNEL, "unknown kernel 'nosuch'"),
        (["map", "atan2", ok, out], EX_KERNEL, "two inputs"),
        (["map", "pow", ok, out], EX_USAGE, "takes 1 --param value"),
        (["map", "clamp", ok, out, "--param", "1"], EX_USAGE, "takes 2 --param values"),
        (["map", "sin", ok, out, "--param", "1"], EX_USAGE, "takes 0 --param values"),
        (["map", "pow", ok, out, "--param", "two"], EX_USAGE, "not a number"),
        (["map", "sin", ok, out, "--threads", "0"], EX_USAGE, "--threads"),
        (["map", "sin", ok, out, "--threads", "x"], EX_USAGE, "--threads"),
        (["map", "sin", ok, out, "--chunk", "-5"], EX_USAGE, "--chunk"),
        (["map", "sin", ok, out, "--dtype", "f16"], EX_USAGE, "--dtype"),
        (["map", "sin", ok, out, "--bogus"], EX_USAGE, "unknown option --bogus"),
        (["map", "sin", ok, out, "--fast=1"], EX_USAGE, "takes no value"),
        (["map", "sin", ok], EX_USAGE, "KERNEL, IN and OUT"),
        (["map", "sin", ok, out, "extra"], EX_USAGE, "unexpected argument"),
        (["map", "sin", ok, out, "--threads"], EX_USAGE, "needs a value"),
        (["frobnicate"], EX_USAGE, "unknown command"),
        (["--bogus"], EX_USAGE, "unknown option"),
        ([], EX_USAGE, "usage:"),
        (["kernels", "extra"], EX_USAGE, "unexpected argument"),
        (["kernels", "--names=1"], EX_USAGE, "option --names takes no value"),
        (["info", "--threads", "0"], EX_USAGE, "--threads: '0' is not in 1..4096"),
        (["info", "--threads"], EX_USAGE, "option --threads needs a value"),
        (["info", "extra"], EX_USAGE, "unexpected argument 'extra'"),
        # options are never abbreviated
        (["map", "sin", ok, out, "--thr", "2"], EX_USAGE, "unknown option --thr"),
        (["map", "sin", path("nonexistent.npy"), out], EX_FAIL, "No such file"),
        (["map", "sin", TMP, out], EX_FAIL, "not a regular file"),
        (["map", "sin", ok, path("nodir/x.npy")], EX_FAIL, "cannot create"),
        (["map", "sin", ok, path("nodir") + "/"], EX_USAGE, "output is a directory name"),
        # the rename over OUT fails: the temporary file goes
        (["map", "sin", ok, path("adir")], EX_FAIL, "Is a directory"),
    ]
    os.makedirs(path("adir"), exist_ok=True)
    failures = []
    for args, code, frag in cases:
        rc, so, err = run(*args)
        if rc != code or frag not in err or os.path.exists(out) or leftovers():
            failures.append(f"{args[:2]}...: rc {rc} (want {code}), {err.strip()[:120]!r}")
    os.rmdir(path("adir"))
    check(not failures, "\n      ".join([""] + failures))
    # the equals form and `--` work
    rc, so, err = run("map", "pow", "--param=3", "--", ok, path("eq.npy"))
    check(rc == 0 and np.array_equal(np.load(path("eq.npy")), np.ones(3, np.float32)), err)


@test
def info_threads_has_an_equals_form_and_stdout_errors_fail():
    rc, so, err = run("info", "--threads=3")
    check(rc == 0 and re.search(r"workers:\s+3\n", so), f"rc {rc} {so!r} {err!r}")
    if not os.path.exists("/dev/full"):
        return
    for args in (["kernels"], ["info"], ["--help"]):
        with open("/dev/full", "w") as full:
            p = subprocess.run([CLI, *args], stdout=full, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == EX_FAIL and "standard output" in err,
              f"{args} > /dev/full: rc {p.returncode} {err!r}")


# ---- progress bar and Ctrl-C ---------------------------------------------------

def spawn_pty(args):
    """Run the CLI with stderr on a pty (stdout on a pipe)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([CLI, *map(str, args)], stdout=subprocess.PIPE,
                         stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    return p, master


def read_pty(master, p, until=None, timeout=60):
    """Read the pty until the process exits (or `until` appears: then return
    early). Returns the bytes read."""
    buf = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child side is closed
                break
            if not chunk:
                break
            buf += chunk
            if until is not None and until in buf:
                return buf
        elif p.poll() is not None and until is None:
            # drain what is left
            r, _, _ = select.select([master], [], [], 0.05)
            if not r:
                break
    return buf


def wait_for(cond, p, what, timeout=60):
    """Poll `cond` until it holds; fail when the run `p` ends first or when
    `timeout` seconds pass. The sleep is the polling interval only: the test
    goes on when the event is seen, not when some time has passed."""
    end = time.monotonic() + timeout
    while not cond():
        check(p.poll() is None, f"the run ended before {what}")
        check(time.monotonic() < end, f"no {what} within {timeout} s")
        time.sleep(0.002)


def output_files(p):
    """The files run `p` has open in TMP other than its input, through
    /proc (the temporary output is unnamed until the commit; a stale file
    of another run is never mistaken for it), as paths that open them."""
    found = []
    try:
        fds = os.listdir(f"/proc/{p.pid}/fd")
    except FileNotFoundError:  # it exited
        return found
    for fd in fds:
        link = f"/proc/{p.pid}/fd/{fd}"
        try:
            target = os.readlink(link)
        except OSError:
            continue
        if target.startswith(TMP + "/") and not target.endswith(".npy"):
            found.append(link)
    return found


def results_written(p):
    """True once the temporary output of run `p` holds its header and some
    computed elements: the handlers are in place (they come before the
    output) and the batch is under way."""
    for name in output_files(p):
        try:
            with open(name, "rb") as f:
                head = f.read(10)
                if len(head) < 10 or head[:6] != b"\x93NUMPY":
                    continue
                f.seek(10 + struct.unpack("<H", head[8:10])[0])
                if f.read(8 * 4096).strip(b"\0"):
                    return True
        except OSError:  # renamed, removed or closed meanwhile
            pass
    return False


BIG = None


def big_input():
    """A run that lasts a few tenths of a second even on one fast thread:
    16M float64 with huge arguments (sin's slow argument reduction)."""
    global BIG
    if BIG is None:
        BIG = path("big.npy")
        np.save(BIG, RNG.uniform(1e200, 1e300, 16 << 20))
    return BIG


@test
def progress_bar_on_a_terminal_only():
    x = RNG.uniform(-10, 10, 1 << 22).astype(np.float32)
    np.save(path("pb.npy"), x)
    p, master = spawn_pty(["map", "sin", path("pb.npy"), path("pbo.npy")])
    text = read_pty(master, p).decode(errors="replace")
    rc = p.wait(timeout=60)
    os.close(master)
    check(rc == 0, f"pty run rc {rc}: {text!r}")
    check("100.0%" in text and "items/s" in text and "ETA" in text and "\r" in text,
          f"no progress bar on the pty: {text!r}")
    check(text.endswith("\n"), "the bar's line is ended")
    # a pipe: nothing at all on stderr
    rc, out, err = run("map", "sin", path("pb.npy"), path("pbo.npy"))
    check(rc == 0 and err == "" and out == "", f"pipe: {err!r}")
    # --no-progress on a pty: nothing
    p, master = spawn_pty(["map", "sin", path("pb.npy"), path("pbo.npy"), "--no-progress"])
    text = read_pty(master, p).decode(errors="replace")
    p.wait(timeout=60)
    os.close(master)
    check(text == "", f"--no-progress drew: {text!r}")


@test
def sigint_on_a_terminal_cancels_and_leaves_no_output():
    out = path("int_out.npy")
    p, master = spawn_pty(["map", "sin", big_input(), out, "--threads", 1, "--chunk", 4096])
    seen = read_pty(master, p, until=b"%")
    check(b"%" in seen, f"no progress report within 60 s: {seen!r}")
    check(p.poll() is None, "the run ended before its first progress report")
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    rest = read_pty(master, p)
    rc = p.wait(timeout=60)
    stopped_in = time.monotonic() - t0
    os.close(master)
    text = (seen + rest).decode(errors="replace")
    check(rc == EX_INTERRUPTED, f"rc {rc}: {text!r}")
    check("interrupted" in text and "was not written" in text, text)
    percents = [float(v) for v in re.findall(r"(\d+\.\d)%", text)]
    check(percents and max(percents) < 100.0, f"the batch ran to the end: {percents}")
    check(not os.path.exists(out) and not leftovers(), f"output left: {leftovers()}")
    print(f"    stopped {stopped_in * 1e3:.0f} ms after SIGINT, at {max(percents):.1f}%")


@test
def sigint_and_sigterm_without_a_terminal():
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = path("int2_out.npy")
        p = subprocess.Popen([CLI, "map", "sin", big_input(), out, "--threads", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: results_written(p), p, "first results in the temporary output")
        p.send_signal(sig)
        so, err = p.communicate(timeout=60)
        check(p.returncode == EX_INTERRUPTED, f"{sig}: rc {p.returncode} {err!r}")
        check(b"\r" not in err and b"%" not in err, f"progress drawn on a pipe: {err!r}")
        check(not os.path.exists(out) and not leftovers(), f"output left: {leftovers()}")


@test
def existing_output_survives_an_interrupt():
    out = path("keep.npy")
    with open(out, "wb") as f:
        f.write(b"precious")
    p = subprocess.Popen([CLI, "map", "sin", big_input(), out, "--threads", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: results_written(p), p, "first results in the temporary output")
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    check(p.returncode == EX_INTERRUPTED, f"rc {p.returncode}")
    check(open(out, "rb").read() == b"precious" and not leftovers(), "OUT was touched")


@test
def sigint_during_the_final_fsync_still_wins():
    """strace delivers SIGINT as the CLI enters its fsync of the output (the
    last step before the rename): the signal must still undo the run."""
    import shutil
    if not shutil.which("strace"):
        print("    skipped: no strace")
        return
    x = RNG.uniform(-3, 3, 1 << 16).astype(np.float32)
    np.save(path("fs_in.npy"), x)
    out = path("fs_out.npy")
    with open(out, "wb") as f:
        f.write(b"precious")
    p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync",
                        "-e", "inject=fsync:signal=SIGINT", CLI, "map", "sin",
                        path("fs_in.npy"), out], capture_output=True, timeout=120)
    err = p.stderr.decode(errors="replace")
    if "ptrace" in err and "not permitted" in err:
        print("    skipped: ptrace not permitted")
        return
    check(p.returncode == EX_INTERRUPTED, f"rc {p.returncode} (want 130): {err!r}")
    check("interrupted" in err and "was not written" in err, err)
    check(open(out, "rb").read() == b"precious" and not leftovers(), "OUT was replaced")
    # without the signal the same run commits
    rc, so, err = run("map", "sin", path("fs_in.npy"), out)
    check(rc == 0 and np.load(out).shape == x.shape, f"rc {rc} {err}")


# ---- the output file: full disk, long names, a crash (issue 16) ---------------

def mounted_tmpfs(size):
    """A fresh tmpfs of `size` bytes on a directory in TMP, or None when this
    process may not mount one (then the caller skips)."""
    mnt = tempfile.mkdtemp(prefix="full.", dir=TMP)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        os.rmdir(mnt)
        return None
    return mnt


def unmount(mnt):
    subprocess.run(["umount", mnt], check=True, timeout=60)
    os.rmdir(mnt)


@test
def a_full_disk_is_an_error_with_nothing_left_behind():
    mnt = mounted_tmpfs(1 << 20)
    if mnt is None:
        print("    skipped: cannot mount a tmpfs here (not root?)")
        return
    try:
        np.save(path("full_in.npy"), RNG.uniform(-1, 1, 1 << 19).astype(np.float32))  # 2 MiB
        with open(os.path.join(mnt, "keep.npy"), "wb") as f:
            f.write(b"precious")
        out = os.path.join(mnt, "keep.npy")
        rc, so, err = run("map", "sin", path("full_in.npy"), out)
        check(rc == EX_FAIL, f"rc {rc} (want {EX_FAIL}): {err!r}")
        check("No space left on device" in err and err.startswith("ompbatch: ")
              and err.count("\n") == 1, f"message: {err!r}")
        check(os.listdir(mnt) == ["keep.npy"], f"left on the full disk: {os.listdir(mnt)}")
        check(open(out, "rb").read() == b"precious", "OUT was touched")
        # what fits is written there
        RNG.uniform(-1, 1, 1 << 19).astype(np.float32).tofile(path("full_in.bin"))
        rc, so, err = run("map", "sin", path("full_in.bin"), os.path.join(mnt, "s.npy"),
                          "--dtype", "f32")
        check(rc == EX_FAIL and "No space left" in err, f"raw: rc {rc} {err!r}")
        np.save(path("small_in.npy"), np.ones(1000, np.float32))
        rc, so, err = run("map", "sin", path("small_in.npy"), os.path.join(mnt, "s.npy"))
        check(rc == 0 and sorted(os.listdir(mnt)) == ["keep.npy", "s.npy"], f"{rc} {err}")
    finally:
        unmount(mnt)


@test
def an_input_truncated_during_the_run_fails_cleanly():
    """Another program truncates IN while the CLI maps it: exit 1 with a
    message and no output, not a SIGBUS death."""
    import shutil
    src = path("shrink_in.npy")
    shutil.copyfile(big_input(), src)
    out = path("shrink_out.npy")
    p, master = spawn_pty(["map", "sin", src, out, "--threads", 1, "--chunk", 4096])
    seen = read_pty(master, p, until=b"%")
    check(b"%" in seen and p.poll() is None, f"no progress report while running: {seen!r}")
    os.truncate(src, 4096)
    rest = read_pty(master, p)
    rc = p.wait(timeout=60)
    os.close(master)
    text = (seen + rest).decode(errors="replace")
    check(rc == EX_FAIL, f"rc {rc} (want {EX_FAIL}): {text[-300:]!r}")
    check("shrank while it was read" in text, text[-300:])
    check(not os.path.exists(out) and not leftovers(), f"output left: {leftovers()}")
    os.unlink(src)


@test
def an_out_name_of_254_characters_works():
    name = "o" * 250 + ".npy"
    check(len(name) <= os.pathconf(TMP, "PC_NAME_MAX"), "a valid name here")
    x = RNG.uniform(0, 4, 99).astype(np.float64)
    np.save(path("long_in.npy"), x)
    for out in (path(name), name):  # with a directory part and without
        rc, so, err = run("map", "sqrt", path("long_in.npy"), out, cwd=TMP)
        check(rc == 0, f"rc {rc}: {err!r}")
        check(np.array_equal(np.load(path(name)), np.sqrt(x)), "content")
        os.unlink(path(name))
    check(not leftovers(), leftovers())


@test
def a_killed_run_leaves_no_temporary_file():
    out = path("killed_out.npy")
    before = set(os.listdir(TMP))
    p = subprocess.Popen([CLI, "map", "sin", big_input(), out, "--threads", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: results_written(p), p, "first results in the temporary output")
    p.kill()
    p.communicate(timeout=60)
    check(p.returncode == -signal.SIGKILL, f"rc {p.returncode}")
    check(set(os.listdir(TMP)) == before | {"big.npy"},
          f"left after SIGKILL: {sorted(set(os.listdir(TMP)) - before - {'big.npy'})}")


# The other test files of this directory run in this namespace.
for _extra in sorted(os.listdir(os.path.dirname(os.path.abspath(__file__)))):
    if _extra.startswith("test_") and _extra.endswith(".py") and _extra != "test_cli.py":
        _p = os.path.join(os.path.dirname(os.path.abspath(__file__)), _extra)
        with open(_p) as _f:
            exec(compile(_f.read(), _p, "exec"))


def main():
    global KERNELS
    passed = failed = 0
    t_start = time.monotonic()
    try:
        KERNELS = kernel_table()
    except Exception as e:  # noqa: BLE001 - report and count as a failure
        print(f"FAIL kernel table: {e}")
        print("0 passed, 1 failed")
        return 1
    for fn in TESTS:
        if ONLY and ONLY not in fn.__name__:
            continue
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print(f"ok   {fn.__name__} ({time.monotonic() - t0:.2f} s)")
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {fn.__name__}: {e}")
            if not isinstance(e, AssertionError):
                traceback.print_exc()
        sys.stdout.flush()
    import shutil
    shutil.rmtree(TMP)
    print(f"cli tests took {time.monotonic() - t_start:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
