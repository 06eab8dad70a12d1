#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/npy/ and
tests/fuzz/corpus/wire/), the files committed in the tree: valid messages
and files of every kind plus a few near misses that each parser refuses at
a different check. Run from the repository root when the formats change:

    python3 tests/fuzz/make_seeds.py

The wire messages follow docs/mpi.md / src/mpi/wire.h field by field; the
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


if __name__ == "__main__":
    npy_seeds()
    wire_seeds()
