#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Constants of the hand-written kernels in kernels/math.c, regenerated.

    python3 kernels/gen_consts.py        (about 20 s; standard library only)

Prints, as C hex-float literals:
- the split pi (53-bit parts for FMA hardware, 33-bit parts without FMA),
- sin polynomials: sin r = r + r^3 P(r^2) on |r| <= pi/2, P of degree 4
  (for float results computed in double) and 7 (for the f64 _fast kernels),
- sin and cos polynomials on |r| <= pi/4 and pi/2 in three parts, for the
  f64 1-ULP sin and cos; a degree-3 float P and pi in three floats, for the
  f32 sin_fast and cos_fast,
- 2^(j/8) for the AVX2 f32 exp, and E of degree 10 for the AVX2 f64 exp,
- the tables of the AVX-512F log_fast f32 (1/c and -ln(1/c) on 16
  subintervals of [0.75, 1.5)),
- 2^(j/16), j = 0..15, as double-double and float-float tables, ln2/16
  split in two, and E(r) of degree 4 (exp_fast f64) for the AVX-512F exp
  kernels; exp f64 and the f32 ones use E's Taylor coefficients.

Polynomials are Chebyshev interpolants (near-minimax) solved in exact
rational arithmetic; each line also prints the worst error of the rounded
coefficients, relative to the function, on a fine grid. The accuracy the
kernels reach is checked against MPFR by tests/test_simd.c, not here.
"""
import math
import struct
from decimal import Decimal, getcontext
from fractions import Fraction as F

getcontext().prec = 80


def dec_pi():
    def arctan_inv(x):
        x = Decimal(x)
        s, t, n, sign, x2 = Decimal(0), 1 / x, 1, 1, x * x
        while t > Decimal(10) ** -78:
            s += sign * t / n
            t /= x2
            n += 2
            sign = -sign
        return s
    return 16 * arctan_inv(5) - 4 * arctan_inv(239)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def trunc_bits(v, bits):
    """v rounded to `bits` significant bits, as a Fraction."""
    e = math.floor(math.log2(abs(float(v))))
    scale = F(2) ** (bits - 1 - e)
    return F(round(F(v) * scale)) / scale


def split(v, widths):
    parts, rest = [], F(v)
    for w in widths:
        p = trunc_bits(rest, w)
        parts.append(float(p))
        rest -= F(p)
    return parts


def series(coef, z, terms=40):
    s, p = F(0), F(1)
    for k in range(terms):
        s += coef(k) * p
        p *= z
    return s


def chebyshev_fit(coef, lo, hi, d):
    """Coefficients (doubles) of the degree-d interpolant of sum coef(k) z^k
    at the Chebyshev nodes of [lo, hi], and its worst error (weighted by z
    for the sin form, r^2 for exp: the error it makes in the function)."""
    nodes = [F(lo) + (F(hi) - F(lo)) *
             (1 + F(math.cos(math.pi * (2 * i + 1) / (2 * (d + 1))))) / 2
             for i in range(d + 1)]
    n = d + 1
    m = [[x ** j for j in range(n)] + [series(coef, x)] for x in nodes]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[piv] = m[piv], m[c]
        for r in range(n):
            if r != c and m[r][c] != 0:
                f = m[r][c] / m[c][c]
                m[r] = [m[r][k] - f * m[c][k] for k in range(n + 1)]
    return [float(m[i][n] / m[i][i]) for i in range(n)]


def worst(cd, coef, lo, hi, weight, points=600):
    w = F(0)
    for i in range(points + 1):
        x = F(lo) + (F(hi) - F(lo)) * i / points
        approx = sum(F(c) * x ** j for j, c in enumerate(cd))
        w = max(w, abs(approx - series(coef, x)) * weight(x))
    return float(w)


def emit_fit(title, coef, lo, hi, d, weight, to_float=False, suffix=""):
    """Fit, print the worst error and the coefficients, highest first."""
    cd = chebyshev_fit(coef, lo, hi, d)
    if to_float:
        cd = [f32(c) for c in cd]
    err = worst(cd, coef, lo, hi, weight)
    print(f"/* {title}, error {err:.3g}{suffix} */")
    print(", ".join(c.hex() for c in reversed(cd)))


def main():
    pi = dec_pi()
    print("/* pi, 53-bit parts (FMA) */")
    print(", ".join(x.hex() for x in split(F(pi), [53, 53, 53])))
    print("/* pi, 33-bit parts and a 53-bit tail (no FMA) */")
    print(", ".join(x.hex() for x in split(F(pi), [33, 33, 33, 53])))

    fact = math.factorial
    def sin_coef(k):
        return F((-1) ** (k + 1), fact(2 * k + 3))
    zmax = (F(pi) / 2) ** 2 * F(1001, 1000)
    for d in (4, 7):
        emit_fit(f"sin P degree {d}", sin_coef, 0, zmax, d, lambda z: z)

    def exp_coef(k):
        return F(1, fact(k + 2))
    h = F(math.log(2)) / 32 * F(1001, 1000)
    emit_fit("exp: e^r = 1 + r + r^2 E(r), |r| <= ln2/32, E degree 4",
             exp_coef, -h, h, 4, lambda r: r * r)

    emit_fit("float sin P degree 3 (float coefficients)", sin_coef, 0, zmax, 3,
             lambda z: z, to_float=True)
    print("/* pi as three floats */")
    print(", ".join(f32(x).hex() for x in split(F(pi), [24, 24, 24])))

    zq = (F(pi) / 4) ** 2 * F(1001, 1000)
    emit_fit("sin r = r + r^3 S(r^2), |r| <= pi/4, S degree 6", sin_coef, 0,
             zq, 6, lambda z: z)
    def cos_coef(k):
        return F((-1) ** k, fact(2 * k + 4))
    emit_fit("cos r = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4, C degree 5",
             cos_coef, 0, zq, 5, lambda z: z * z)
    print("/* pi/2, 53-bit parts (FMA); 2/pi */")
    print(", ".join(x.hex() for x in split(F(pi) / 2, [53, 53, 53])),
          float(2 / F(pi)).hex())

    ln = lambda v: Decimal(v).ln()
    for bits_, isa in ((4, "AVX-512F"), (3, "AVX2")):
        t = 1 << bits_
        print(f"/* logf on {isa}: for j = top {bits_} fraction bits of m in "
              "[0.75, 1.5):")
        print(f"   1/c rounded to float (c = 1 for j = 0 and {t - 1}), -ln(1/c) "
              "as float hi and lo */")
        for j in range(t):
            if j < t // 2:
                a_, w_ = F(1) + F(j, t), F(1, t)
            else:
                a_, w_ = F(1, 2) + F(j, 2 * t), F(1, 2 * t)
            c = F(1) if j in (0, t - 1) else a_ + w_ / 2
            ic = f32(float(1 / c))
            lc = -ln(ic)
            hi = f32(float(lc))
            print(ic.hex(), hi.hex(), f32(float(lc - Decimal(hi))).hex())
    print("/* ln2 as float hi (16 bits) and lo */")
    l2 = Decimal(2).ln()
    l2hi = float(trunc_bits(F(l2), 16))
    if l2hi > float(l2):
        l2hi -= 2.0 ** -16
    print(l2hi.hex(), f32(float(l2 - Decimal(l2hi))).hex())

    h2 = F(math.log(2)) / 2 * F(1001, 1000)
    emit_fit("AVX2 exp f64: e^r = 1 + r + r^2 E(r), |r| <= ln2/2, E degree 10",
             exp_coef, -h2, h2, 10, lambda r: r * r, suffix="; ln2 hi, lo")
    print(float(l2).hex(), float(l2 - Decimal(float(l2))).hex())

    print("/* AVX2 expf: 2^(j/8) as float hi and lo; 8/ln2, ln2/8 hi, lo */")
    for j in range(8):
        v = Decimal(2) ** (Decimal(j) / 8)
        hf = f32(float(v))
        print(hf.hex(), f32(float(v - Decimal(hf))).hex())
    l8 = Decimal(2).ln() / 8
    h8 = f32(float(l8))
    print(f32(float(8 / Decimal(2).ln())).hex(), h8.hex(),
          f32(float(l8 - Decimal(h8))).hex())

    print("/* 2^(j/16): double hi, double lo, float hi, float lo */")
    for j in range(16):
        v = Decimal(2) ** (Decimal(j) / 16)
        h = float(v)
        hf = f32(h)
        print(h.hex(), float(v - Decimal(h)).hex(), hf.hex(),
              f32(float(v - Decimal(hf))).hex())
    l = Decimal(2).ln() / 16
    h = float(l)
    hf = f32(h)
    print("/* 16/ln2, ln2/16 hi, lo (double), then float */")
    print(float(16 / Decimal(2).ln()).hex(), h.hex(),
          float(l - Decimal(h)).hex(), f32(float(16 / Decimal(2).ln())).hex(),
          hf.hex(), f32(float(l - Decimal(hf))).hex())


if __name__ == "__main__":
    main()
