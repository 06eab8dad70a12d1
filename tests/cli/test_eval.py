# SPDX-License-Identifier: BSD-3-Clause
"""Tests of `ompbatch eval`, many-file `map` and the progress modes (issues
13 and 15). Run by tests/cli/test_cli.py, in its namespace (test, run, path,
check, leftovers, spawn_pty, read_pty, RNG, the exit codes)."""


def ev(*args, **kw):
    return run("eval", *args, **kw)


@test
def eval_matches_numpy_for_formulas_where_and_reductions():
    for shape in [(1000,), (17, 31), (4, 5, 6)]:
        for order in ("C", "F"):
            x = np.asarray(RNG.uniform(-4, 4, shape), order=order)
            y = np.asarray(RNG.uniform(0.5, 2, shape), order=order)
            np.save(path("ex.npy"), x)
            np.save(path("ey.npy"), y)
            rc, so, err = ev("0.5*y*x**2 + 9.81*y*sqrt(x*x+1)", "x=" + path("ex.npy"),
                             "y=" + path("ey.npy"), "-o", path("er.npy"))
            check(rc == 0, f"{shape} {order}: {err}")
            r = np.load(path("er.npy"))
            check(r.shape == shape and r.dtype == np.float64, f"{r.shape} {r.dtype}")
            check(r.flags.f_contiguous == (order == "F") or len(shape) == 1, "order kept")
            ref = 0.5 * y * x**2 + 9.81 * y * np.sqrt(x * x + 1)
            check(np.allclose(r, ref, rtol=1e-14), f"{shape} {order}")
            rc, so, err = ev("where(x > 0, log(x), -x)", "x=" + path("ex.npy"),
                             "-o", path("er.npy"))
            with np.errstate(all="ignore"):
                ref = np.where(x > 0, np.log(x), -x)
            check(rc == 0 and np.allclose(np.load(path("er.npy")), ref, rtol=1e-14), err)
    # numexpr's % (numpy's remainder) and logical operators
    rc, so, err = ev("where((x > 0) & ~(y > 1.5), x % y, -x % 2.5)", "x=" + path("ex.npy"),
                     "y=" + path("ey.npy"), "-o", path("er.npy"))
    ref = np.where((x > 0) & ~(y > 1.5), np.remainder(x, y), np.remainder(-x, 2.5))
    check(rc == 0 and np.allclose(np.load(path("er.npy")), ref, rtol=1e-15, atol=0), err)
    for red, fn in (("sum", np.sum), ("prod", np.prod), ("min", np.min),
                    ("max", np.max), ("mean", np.mean)):
        rc, so, err = ev(f"{red}(y)", "y=" + path("ey.npy"))
        check(rc == 0 and np.isclose(float(so), fn(y), rtol=1e-12), f"{red}: {so!r} {err}")
        rc, so, err = ev(f"{red}(y)", "y=" + path("ey.npy"), "-o", path("red.npy"))
        v = np.load(path("red.npy"))
        check(rc == 0 and v.shape == () and np.isclose(v, fn(y), rtol=1e-12), red)
    y32 = RNG.uniform(0, 1, 100).astype(np.float32)
    np.save(path("e32.npy"), y32)
    rc, so, err = ev("max(y)", "y=" + path("e32.npy"))
    check(rc == 0 and so == "%.9g\n" % y32.max(), f"f32 print: {so!r}")


@test
def eval_numpy_functions_and_floor_division_match_numpy():
    # numpy's own values, bit for bit (NaN: any sign), f32 and f64, over
    # special values (all pairs) and random ones
    sp = [0.0, -0.0, np.inf, -np.inf, np.nan, 0.5, -0.5, 1.5, 2.5, -2.5, -0.4, 3.0, -7.0,
          1e-300, 1e300, 5e-324, 2.0**52 + 1, 1.7e308, 3.4e38]
    xs, ys = np.meshgrid(sp, sp)
    x = np.concatenate([xs.ravel(), RNG.uniform(-20, 20, 2000), RNG.integers(-40, 40, 500) / 2])
    y = np.concatenate([ys.ravel(), RNG.uniform(-5, 5, 2000), RNG.uniform(-3, 3, 500)])
    with np.errstate(all="ignore"):
        for dt in (np.float32, np.float64):
            xd, yd = x.astype(dt), y.astype(dt)
            np.save(path("nfx.npy"), xd)
            np.save(path("nfy.npy"), yd)
            for expr, ref in (
                    ("where(isnan(x), 0, x // y)", np.where(np.isnan(xd), dt(0), xd // yd)),
                    ("round(x)", np.round(xd)), ("sign(x)", np.sign(xd)),
                    ("trunc(x) + signbit(y) - isinf(x)",
                     np.trunc(xd) + np.signbit(yd).astype(dt) - np.isinf(xd).astype(dt)),
                    ("nextafter(x, y) * True", np.nextafter(xd, yd)),
                    ("copysign(x, y) + isfinite(x)", np.copysign(xd, yd) + np.isfinite(xd).astype(dt)),
                    ("copy(x) // ones_like(y)", np.floor_divide(xd, np.ones_like(yd)))):
                rc, so, err = ev(expr, "x=" + path("nfx.npy"), "y=" + path("nfy.npy"),
                                 "-o", path("nfo.npy"))
                check(rc == 0, f"{expr}: {err}")
                r = np.load(path("nfo.npy"))
                check(r.dtype == dt, f"{expr}: {r.dtype}")
                ok = (r.view(np.uint8).reshape(len(r), -1) ==
                      ref.astype(dt).view(np.uint8).reshape(len(r), -1)).all(axis=1)
                ok |= np.isnan(r) & np.isnan(ref)
                bad = np.flatnonzero(~ok)[:3]
                check(ok.all(), f"{expr} {dt.__name__}: {[(xd[i], yd[i], r[i], ref[i]) for i in bad]}")


@test
def eval_dtypes_broadcast_and_in_place():
    base = RNG.uniform(0, 100, 500)
    for dt, want in ((np.float32, np.float32), (np.float64, np.float64),
                     (np.int32, np.float64), (np.int64, np.float64),
                     (np.uint8, np.float64), (np.bool_, np.float64), (">f8", np.float64),
                     (">i2", np.float64)):
        x = base.astype(dt)
        np.save(path("dt.npy"), x)
        rc, so, err = ev("x*2 + 1", "x=" + path("dt.npy"), "-o", path("dto.npy"))
        r = np.load(path("dto.npy"))
        check(rc == 0 and r.dtype == want, f"{dt}: {rc} {r.dtype} {err}")
        check(np.allclose(r, x.astype(np.float64) * 2 + 1, rtol=1e-6), f"{dt}")
        check(r.dtype.byteorder in "<=|", "written little-endian")
    np.save(path("dt.npy"), base.astype(np.int32))
    rc, so, err = ev("x/3", "x=" + path("dt.npy"), "-o", path("dto.npy"), "--dtype", "f32")
    check(rc == 0 and np.load(path("dto.npy")).dtype == np.float32, err)
    # a one-element input broadcasts as a scalar
    np.save(path("one.npy"), np.array([2.5]))
    np.save(path("vec.npy"), base)
    rc, so, err = ev("x*s", "x=" + path("vec.npy"), "s=" + path("one.npy"), "-o", path("b.npy"))
    check(rc == 0 and np.allclose(np.load(path("b.npy")), base * 2.5), err)
    # OUT is an input
    rc, so, err = ev("x + 1", "x=" + path("vec.npy"), "-o", path("vec.npy"))
    check(rc == 0 and np.allclose(np.load(path("vec.npy")), base + 1), err)
    check(not leftovers(), leftovers())


@test
def eval_expression_may_start_with_a_minus():
    x = RNG.uniform(-4, 4, 300)
    np.save(path("neg.npy"), x)
    for expr, ref in (("-x**2", -x**2), ("-2*x", -2 * x), ("-(x+1)", -(x + 1))):
        rc, so, err = ev(expr, "x=" + path("neg.npy"), "-o", path("nego.npy"))
        check(rc == 0 and np.array_equal(np.load(path("nego.npy")), ref), f"{expr}: {err}")
    rc, so, err = ev("-o", path("nego.npy"), "--", "-x", "x=" + path("neg.npy"))
    check(rc == 0 and np.array_equal(np.load(path("nego.npy")), -x), err)
    # a bare -NAME stays an option: unknown, with the way out in the message
    rc, so, err = ev("-x", "x=" + path("neg.npy"), "-o", path("nego.npy"))
    check(rc == EX_USAGE and "after --" in err, err)


@test
def eval_errors_show_a_caret_and_write_nothing():
    np.save(path("ea.npy"), np.ones(4))
    np.save(path("eb.npy"), np.ones(5))
    np.save(path("ec.npy"), np.ones(4, np.complex64))
    out = path("keep2.npy")
    with open(out, "wb") as f:
        f.write(b"precious")
    a, b = "a=" + path("ea.npy"), "b=" + path("eb.npy")
    cases = [
        (["sin(a) + foo(a)", a], EX_USAGE, 9),
        (["a +", a], EX_USAGE, None),
        (["a + z", a], EX_USAGE, 4),
        (["sin(a, a)", a], EX_USAGE, None),
        (["", a], EX_USAGE, 0),
        (["a", "1a=" + path("ea.npy")], EX_USAGE, None),
        (["a", "sin=" + path("ea.npy"), a], EX_USAGE, None),
        (["a", "a"], EX_USAGE, None),
        (["a + b", a, b], EX_UNSUPPORTED, None),
        (["c", "c=" + path("ec.npy")], EX_UNSUPPORTED, None),
        (["a", "a=" + path("nosuch.npy")], EX_FAIL, None),
    ]
    failures = []
    for args, code, pos in cases:
        rc, so, err = ev(*args, "-o", out)
        lines = err.splitlines()
        if rc != code or open(out, "rb").read() != b"precious" or leftovers():
            failures.append(f"{args}: rc {rc} (want {code}) {err!r}")
        elif pos is not None and not (len(lines) == 3 and lines[2] == "  " + " " * pos + "^"
                                      and lines[1] == "  " + args[0]):
            failures.append(f"{args}: no caret at {pos}: {err!r}")
    check(not failures, "\n      ".join([""] + failures))


@test
def eval_help_lists_functions_and_operators():
    rc, so, err = run("eval", "--help")
    check(rc == 0 and "arctan2" in so and "where(c, a, b)" in so and "**" in so, so[-400:])
    check(all(f"\n  {f}(" in so for f in ("round", "nextafter", "isnan", "ones_like"))
          and "//" in so and "True" in so, so[-400:])
    check(re.search(r"\n  sin\(x\)\s+1/1\s", so), "sin with its ULP bounds")


@test
def eval_many_sets_with_out_dir_and_stem():
    os.makedirs(path("eo"), exist_ok=True)
    xs = [RNG.uniform(-1, 1, 100 + i) for i in range(3)]
    for i, x in enumerate(xs):
        np.save(path(f"s{i}.npy"), x)
    np.save(path("k.npy"), np.array(3.0))
    args = ["x*k"] + [f"x={path(f's{i}.npy')}" for i in range(3)] + ["k=" + path("k.npy")]
    rc, so, err = ev(*args, "--out-dir", path("eo"), "--jobs", 2)
    check(rc == 0, err)
    for i, x in enumerate(xs):
        check(np.allclose(np.load(path(f"eo/s{i}.npy")), x * 3), f"set {i}")
    rc, so, err = ev(*args, "-o", path("eo/{stem}_k.npy"))
    check(rc == 0 and np.allclose(np.load(path("eo/s2_k.npy")), xs[2] * 3), err)
    rc, so, err = ev("sum(x)", *args[1:4])
    got = [l.split("\t") for l in so.splitlines()]
    check(rc == 0 and len(got) == 3 and all(np.isclose(float(v), xs[i].sum())
                                            for i, (f, v) in enumerate(got)), so)
    rc, so, err = ev(*args, "-o", path("eo/same.npy"))
    check(rc == EX_USAGE and "{stem}" in err, err)


@test
def map_many_files_one_bad_jobs_and_fail_fast():
    os.makedirs(path("mo"), exist_ok=True)
    xs = [RNG.uniform(-3, 3, 5000).astype(np.float32) for _ in range(4)]
    names = []
    for i, x in enumerate(xs):
        names.append(path(f"m{i}.npy"))
        np.save(names[-1], x)
    with open(path("mbad.npy"), "wb") as f:
        f.write(b"not a npy at all")
    files = names[:2] + [path("mbad.npy")] + names[2:]
    for jobs in (1, 3):
        for f in os.listdir(path("mo")):
            os.unlink(path("mo/" + f))
        rc, so, err = run("map", "sin", *files, "--out-dir", path("mo"), "--jobs", jobs)
        check(rc == EX_FAIL and "mbad.npy" in err and "1 of 5 files failed" in err, err)
        for n, x in zip(names, xs):
            y = np.load(path("mo/" + os.path.basename(n)))
            check(np.allclose(y, np.sin(x.astype(np.float64)), atol=1e-6), n)
        check(not os.path.exists(path("mo/mbad.npy")) and not leftovers(path("mo")), "bad")
    rc, so, err = run("map", "sin", path("mbad.npy"), *names, "--out-dir", path("mo"),
                      "--jobs", 1, "--fail-fast")
    check(rc == EX_FAIL and "not run" in err, err)
    rc, so, err = run("map", "sin", names[0], path("mo/../" + os.path.basename(names[0])),
                      "--out-dir", path("mo"))
    check(rc == EX_USAGE and "would both write" in err, err)


@test
def progress_lines_and_environment():
    x = RNG.uniform(-1, 1, 1 << 16)
    np.save(path("pl.npy"), x)
    rc, so, err = run("map", "sin", path("pl.npy"), path("plo.npy"), "--progress=lines")
    check(rc == 0 and re.search(r"^sin: 100\.0% .* items, .* items/s, ETA 0:00$", err, re.M), err)
    env = dict(os.environ, OMPB_PROGRESS="lines")
    rc, so, err = ev("sum(x)", "x=" + path("pl.npy"), env=env)
    check(rc == 0 and "eval: 100.0%" in err, err)
    rc, so, err = run("map", "sin", path("pl.npy"), path("plo.npy"), env=env)
    check(rc == 0 and "sin: 100.0%" in err, err)
    rc, so, err = run("map", "sin", path("pl.npy"), path("plo.npy"), "--no-progress", env=env)
    check(rc == 0 and err == "", err)
    env["OMPB_PROGRESS"] = "0"
    rc, so, err = run("map", "sin", path("pl.npy"), path("plo.npy"), "--progress", "lines",
                      env=env)
    check(rc == 0 and "100.0%" in err, "the option wins over the environment")
    env["OMPB_PROGRESS"] = "sometimes"
    rc, so, err = run("map", "sin", path("pl.npy"), path("plo.npy"), env=env)
    check(rc == EX_USAGE and "OMPB_PROGRESS" in err, err)
    rc, so, err = run("map", "sin", path("pl.npy"), path("plo.npy"), "--progress=x")
    check(rc == EX_USAGE and "--progress" in err, err)


def interrupt_on_pty(args, out_paths):
    p, master = spawn_pty(args)
    seen = read_pty(master, p, until=b"%")
    check(b"%" in seen and p.poll() is None, f"no progress while running: {seen!r}")
    p.send_signal(signal.SIGINT)
    rest = read_pty(master, p)
    rc = p.wait(timeout=60)
    os.close(master)
    text = (seen + rest).decode(errors="replace")
    check(rc == EX_INTERRUPTED and "interrupted" in text, f"rc {rc}: {text[-300:]!r}")
    check(not leftovers() and not any(os.path.exists(o) for o in out_paths), leftovers())


@test
def ctrl_c_during_eval_and_many_file_map():
    big = big_input()
    interrupt_on_pty(["eval", "sin(x)*cos(x)", "x=" + big, "-o", path("ci.npy"),
                      "--threads", 1], [path("ci.npy")])
    os.makedirs(path("cm"), exist_ok=True)
    import shutil
    copies = []
    for i in range(2):
        copies.append(path(f"cbig{i}.npy"))
        shutil.copyfile(big, copies[-1])
    interrupt_on_pty(["map", "sin", *copies, "--out-dir", path("cm"), "--threads", 2],
                     [path("cm/cbig0.npy"), path("cm/cbig1.npy")])
    check(not leftovers(path("cm")), "temporaries in the out dir")
    for c in copies:
        os.unlink(c)
