# SPDX-License-Identifier: BSD-3-Clause
"""numpy, numexpr and ompbatch on perf/bench_expr's expressions, in one
Python process, on the same arrays (16M float32, 8M float64, uniform on
[-4, 4), fixed seed), with `threads` threads for numexpr and ompbatch
(numpy's ufuncs use one). Run by `make bench-expr` after bench_expr, whose
JSON (--limits) gives the limit rows (the expression's inputs read, out
written with non-temporal stores): every row here is given as a fraction of
that limit, measured in C in the same make run. A numpy copy (np.copyto of
x) is timed too, as this process's own reference against the C one.
"ompb x" is how many times faster ompbatch is than the row, within the
rounds of this process. As in bench_expr, every row is also timed in
process CPU time divided by the threads it runs on (numpy: 1), which leaves
out the preemption of a shared machine ("cpu ms", "cpu x l", "cpu"): the C
limit's CPU time is the reference then.

Rounds are interleaved (each round runs every row once, starting at a
rotating row); figures are medians over rounds, ratios medians of the
ratios within a round.

    perf/bench_expr.py [--rounds N] [--threads T] [--limits FILE] [--json FILE]
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np

try:
    import numexpr as ne
except ImportError:  # the rows are left out
    ne = None

import ompbatch

EXPRS = [
    ("E1", "2*sin(x)+exp(-x*x)", 1),
    ("E2", "x*y+z", 3),
    ("E3", "sqrt(x*x+y*y)", 2),
    ("E4", "where(x>0, log(x), -x)", 1),
    ("E1f", "2*sin_fast(x)+exp_fast(-x*x)", 1),
]


def numpy_fn(name):
    """The expression the way a numpy user writes it."""
    return {
        "E1": lambda x, y, z: 2 * np.sin(x) + np.exp(-x * x),
        "E2": lambda x, y, z: x * y + z,
        "E3": lambda x, y, z: np.sqrt(x * x + y * y),
        "E4": lambda x, y, z: np.where(x > 0, np.log(x), -x),
    }.get(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limits", help="bench_expr's JSON (its limit rows)")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()

    limits, climits = {}, {}
    if a.limits:
        with open(a.limits) as f:
            for r in json.load(f)["rows"]:
                if r.get("row") == "limit":
                    limits[(r["type"], r["expr"])] = r["ms"]
                    climits[(r["type"], r["expr"])] = r.get("cpu_ms")
    if ne is not None:
        ne.set_num_threads(a.threads)
    out_rows = []
    print(f"bench_expr.py: numpy {np.__version__}, "
          f"numexpr {ne.__version__ if ne else '(not installed)'}"
          f"{' (VML)' if ne is not None and ne.use_vml else ''}, ompbatch "
          f"{ompbatch.library_version()} ({ompbatch.simd_isa()}), {a.threads} threads "
          f"(numpy: 1), {a.rounds} interleaved rounds, medians; x limit: fraction of "
          f"bench_expr's limit row{'s' if limits else ' (not given)'}")
    for dt, n in ((np.float32, 16 << 20), (np.float64, 8 << 20)):
        tname = "f32" if dt == np.float32 else "f64"
        rng = np.random.default_rng(88172645463325252)
        x, y, z = (rng.uniform(-4, 4, n).astype(dt) for _ in range(3))
        out = np.zeros(n, dt)
        env = {"x": x, "y": y, "z": z}
        # (expr, who, function, threads it runs on)
        rows = [("copy", "numpy copy", lambda: np.copyto(out, x), 1)]
        for name, src, _ in EXPRS:
            fn = numpy_fn(name)
            if fn is not None:
                rows.append((name, "numpy", lambda fn=fn: fn(x, y, z), 1))
            if ne is not None and name != "E1f":
                rows.append((name, "numexpr",
                             lambda src=src: ne.evaluate(src, local_dict=env, out=out),
                             a.threads))
            rows.append((name, "ompbatch", lambda src=src: ompbatch.evaluate(
                src, local_dict=env, out=out, threads=a.threads), a.threads))
        t = {i: [] for i in range(len(rows))}
        c = {i: [] for i in range(len(rows))}
        with np.errstate(all="ignore"):
            for k in range(-1, a.rounds):  # round -1 warms up
                for j in range(len(rows)):
                    i = (j + max(k, 0)) % len(rows)
                    c0, t0 = time.process_time(), time.perf_counter()
                    rows[i][2]()
                    dt_ms = (time.perf_counter() - t0) * 1e3
                    dc_ms = (time.process_time() - c0) * 1e3 / rows[i][3]
                    if k >= 0:
                        t[i].append(dt_ms)
                        c[i].append(dc_ms)
        print(f"\n{tname:4} {'row':18} {'ms':>9} {'cpu ms':>8} {'x limit':>8} {'cpu x l':>8} "
              f"{'ompb x':>8} {'cpu':>8}")
        for i, (name, who, _, _) in enumerate(rows):
            ms, cms = statistics.median(t[i]), statistics.median(c[i])
            key = (tname, "E1" if name in ("E1f", "copy") else name)
            lim, clim = limits.get(key), climits.get(key)
            xl = lim / ms if lim else float("nan")
            cxl = clim / cms if clim and cms > 0 else float("nan")
            line = f"{tname:4} {name + ' ' + who:18} {ms:9.2f} {cms:8.2f} {xl:8.3f} {cxl:8.3f}"
            # how many times faster ompbatch is than this row, per round
            o = next((j for j, r in enumerate(rows)
                      if r[0] == name and r[1] == "ompbatch"), None)
            q = qc = None
            if o is not None and o != i:
                q = statistics.median(t[i][r] / t[o][r] for r in range(a.rounds))
                qc = statistics.median(c[i][r] / max(c[o][r], 1e-9) for r in range(a.rounds))
                line += f" {q:8.2f} {qc:8.2f}"
            print(line, flush=True)
            out_rows.append({"type": tname, "expr": name, "row": who, "ms": ms,
                             "cpu_ms": cms, "x_limit": xl, "cpu_x_limit": cxl,
                             "ompb_times_faster": q, "ompb_times_faster_cpu": qc})
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bench": "bench_expr.py", "threads": a.threads, "rounds": a.rounds,
                       "rows": out_rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
