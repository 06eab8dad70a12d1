#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Bench figures as JSON, and JSON as gnuplot data (mk/plots.mk).

  benchjson.py simd BENCH_SIMD.txt OUT.json   parse bench_simd's text table
  benchjson.py dat BENCH.json OUTDIR          write OUTDIR/<bench>.dat for gnuplot
                                              (and bench_simd_limits.gp: the limits)

bench_simd's table rows look like
  f32   2  ompb sin                     12.34 ms   10.9 GB/s   0.50   0.60 ...
(type, threads, row name, median time, traffic, then the columns named by
the header line); only type, threads, name, ms and GB/s are relied on, the
rest is kept as the list `extra`. The memory limit is the "stream copy"
row (a copy without read-for-ownership), with memcpy beside it.
"""
import json
import re
import sys

ROW = re.compile(r"^(f32|f64)\s+(\d+)\s+(.+?)\s+([0-9.]+) ms\s+([0-9.]+) GB/s(.*)$")


def parse_simd(text):
    rows, header = [], ""
    for line in text.splitlines():
        if line.startswith("bench_simd:"):
            header = line
        m = ROW.match(line)
        if not m:
            continue
        rest = m.group(6).split()
        extra = []
        for tok in rest:
            try:
                extra.append(float(tok.rstrip("x")))
            except ValueError:
                break
        rows.append({"type": m.group(1), "threads": int(m.group(2)), "row": m.group(3).strip(),
                     "ms": float(m.group(4)), "gbps": float(m.group(5)), "extra": extra,
                     "notes": m.group(6).strip()})
    if not rows:
        raise SystemExit("benchjson: no bench_simd rows found")
    limits = {}
    for r in rows:
        for name in ("stream copy", "memcpy"):
            if r["row"] == name:
                limits.setdefault(r["type"], {})[name] = r["gbps"]
    return {"bench": "bench_simd", "header": header, "unit": "GB/s (bytes read + written per second)",
            "memory_limit": limits, "rows": rows}


def dat_batch(d, out):
    names = list(d["sweep"]["series"])
    out.write("# batch size, then ns per task of: " + "; ".join(names) + "\n")
    for i, n in enumerate(d["sweep"]["sizes"]):
        vals = [d["sweep"]["series"][k][i] for k in names]
        out.write("%d %s\n" % (n, " ".join("NaN" if v is None else repr(v) for v in vals)))


def dat_simd(d, out):
    """One line per row (the limits, then the ompb and ompb_pool_map rows):
    name, f32 GB/s, f64 GB/s."""
    by = {}
    order = []
    for r in d["rows"]:
        name = r["row"]
        if not (name.startswith("ompb") or name in ("stream copy", "memcpy")):
            continue
        if name not in by:
            by[name] = {}
            order.append(name)
        by[name][r["type"]] = r["gbps"]
    out.write("# row, f32 GB/s, f64 GB/s\n")
    for name in order:
        out.write('"%s" %s %s\n' % (name, by[name].get("f32", "NaN"), by[name].get("f64", "NaN")))


def limits_simd(d, out):
    """The memory limits as gnuplot variables (NaN when a row is missing)."""
    for t in ("f32", "f64"):
        lim = d["memory_limit"].get(t, {})
        out.write("stream_%s = %s\n" % (t, lim.get("stream copy", "NaN")))
        out.write("memcpy_%s = %s\n" % (t, lim.get("memcpy", "NaN")))


def main(argv):
    if len(argv) == 4 and argv[1] == "simd":
        with open(argv[2]) as f:
            d = parse_simd(f.read())
        with open(argv[3], "w") as f:
            json.dump(d, f, indent=1)
            f.write("\n")
        return 0
    if len(argv) == 4 and argv[1] == "dat":
        with open(argv[2]) as f:
            d = json.load(f)
        with open("%s/%s.dat" % (argv[3], d["bench"]), "w") as out:
            if d["bench"] == "bench_batch":
                dat_batch(d, out)
            elif d["bench"] == "bench_simd":
                dat_simd(d, out)
                with open("%s/bench_simd_limits.gp" % argv[3], "w") as lim:
                    limits_simd(d, lim)
            else:
                raise SystemExit("benchjson: unknown bench " + d["bench"])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
