#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Constants of the hand-written kernels: writes kernels/consts.h to stdout.

    /usr/bin/python3 kernels/gen_consts.py > kernels/consts.h
                                  (about 15 s; standard library only)

`make check-consts` (part of `make check`) regenerates it into the build
directory and fails when it differs from the committed file. Named
constants, as C hex-float literals:
- the split pi (53-bit parts for FMA hardware, all positive, 33-bit parts
  without FMA,
  30 + 29-bit parts for the f32 sin/cos computed in double), 1/pi, 2/pi,
- sin polynomials: sin r = r + r^3 P(r^2) on |r| <= pi/2, P of degree 4
  (for float results computed in double) and 7 (for the f64 _fast kernels),
- sin and cos polynomials on |r| <= pi/4 and pi/2 in three parts, for the
  f64 1-ULP sin and cos; a degree-3 float P and pi in three floats, for the
  f32 sin_fast and cos_fast; pi/2 in three floats and float sin (degree
  3) and cos (degree 2) polynomials on |r| <= pi/4, for the f32 sin and cos
  in float lanes (AVX2, AVX-512F),
- 2^(j/8) for the AVX2 f32 exp; for the AVX2 f64 exp and exp_fast 2^(j/8)
  as double hi and relative lo, ln2/8 in a 39-bit hi part and a lo part,
  and E of degree 6 (exp) and 5 (exp_fast) on |r| <= ln2/16,
- the tables of the log_fast f32 kernels (1/c and -ln(1/c) on 16 (AVX-512F)
  or 8 (AVX2) subintervals of [0.75, 1.5)), AVX2's f32 log's short s ~ 1/m
  and -ln s on the same 8, E of degree 5 and 4 for AVX2's f32 log and
  log_fast, ln2 in two floats, and of the
  f64 log (short s ~ 1/m with r = m s - 1 exact: AVX-512F 16 entries and
  E of degree 8, AVX2 128 entries and degree 5) and log_fast (1/c: 128
  entries, degree 5; on AVX-512F 16 entries and degree 8),
- 2^(j/16), j = 0..15, as double-double and float-float tables, ln2/16
  split in two, and E(r) of degree 4 (exp_fast f64) for the AVX-512F exp
  kernels; exp f64 and the f32 ones use E's Taylor coefficients, written
  in the kernels as 1.0 / 720 and the like.

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


def split_down(v, widths):
    """As split, but every part but the last rounded toward zero: for a
    positive v all parts are positive."""
    parts, rest = [], F(v)
    for w in widths[:-1]:
        e = math.floor(math.log2(float(rest)))
        scale = F(2) ** (w - 1 - e)
        p = F(math.floor(rest * scale)) / scale
        parts.append(float(p))
        rest -= p
    parts.append(float(trunc_bits(rest, widths[-1])))
    return parts


def series(coef, z, terms=40):
    """sum coef(k) z^k, k < terms, exactly: Horner on integer numerators and
    denominators, reduced once at the end (a Fraction per step spends the
    run in gcd)."""
    z = F(z)
    zn, zd = z.numerator, z.denominator
    num, den = 0, 1
    for k in reversed(range(terms)):
        c = F(coef(k))
        num, den = (num * zn * c.denominator + c.numerator * den * zd,
                    den * zd * c.denominator)
    return F(num, den)


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


def cd_(x):
    return float(x).hex()


def cf_(x):
    return f32(float(x)).hex() + "f"


def emit(name, ctype, values, comment):
    """One named constant array, as a C static const."""
    lit = cf_ if ctype == "float" else cd_
    print(f"/* {comment} */")
    body = ", ".join(lit(v) for v in values)
    print(f"static const {ctype} {name}[{len(values)}] = {{{body}}};")


def emit_scalar(name, ctype, value, comment):
    lit = cf_ if ctype == "float" else cd_
    print(f"/* {comment} */")
    print(f"static const {ctype} {name} = {lit(value)};")


def emit_fit(name, title, coef, lo, hi, d, weight, to_float=False):
    """Fit and print the coefficients, highest degree first (the order of
    Horner's scheme), with the worst error of the rounded ones."""
    cd = chebyshev_fit(coef, lo, hi, d)
    if to_float:
        cd = [f32(c) for c in cd]
    err = worst(cd, coef, lo, hi, weight)
    emit(name, "float" if to_float else "double", list(reversed(cd)),
         f"{title}, error {err:.3g}")


HEADER = """/* SPDX-License-Identifier: BSD-3-Clause */
/* The constants of ompbatch's own kernels (kernels/k_trig.c, k_exp.c,
 * k_log.c), highest polynomial degree first. Generated by
 * kernels/gen_consts.py: do not edit; `make check-consts` regenerates it
 * and fails when it differs. Each fit gives the worst error of its rounded
 * coefficients on a fine grid (relative to the function); the accuracy
 * the kernels reach is checked against MPFR by tests/test_simd.c. */
#ifndef OMPB_KERNELS_CONSTS_H
#define OMPB_KERNELS_CONSTS_H
"""


def main():
    print(HEADER)
    pi = dec_pi()
    fpi = F(pi)
    l2 = Decimal(2).ln()
    emit("PI53", "double", split_down(fpi, [53, 53, 53]),
         "pi in three 53-bit parts (FMA hardware), all positive: a zero x "
         "keeps its sign through the reduction")
    emit("PI33", "double", split(fpi, [33, 33, 33, 53]),
         "pi in 33-bit parts and a 53-bit tail (no FMA)")
    emit("PI30", "double", split(fpi, [30, 29, 53]),
         "pi in parts of 30 and 29 bits and a tail (f32 sin/cos in double: "
         "h times either is exact for |2h| < 2^23)")
    emit_scalar("INV_PI", "double", 1 / fpi, "1/pi")

    fact = math.factorial
    def sin_coef(k):
        return F((-1) ** (k + 1), fact(2 * k + 3))
    zmax = (fpi / 2) ** 2 * F(1001, 1000)
    emit_fit("SIN_P4", "sin r = r + r^3 P(r^2), |r| <= pi/2, P degree 4",
             sin_coef, 0, zmax, 4, lambda z: z)
    emit_fit("SIN_P7", "sin r = r + r^3 P(r^2), |r| <= pi/2, P degree 7",
             sin_coef, 0, zmax, 7, lambda z: z)
    emit_fit("SINF_P3", "the same, P degree 3, float coefficients", sin_coef,
             0, zmax, 3, lambda z: z, to_float=True)
    emit("PIF3", "float", [f32(x) for x in split_down(fpi, [24, 24, 24])],
         "pi as three floats, all positive (as PI53)")
    emit_scalar("INV_PIF", "float", 1 / fpi, "1/pi as a float")

    zq = (fpi / 4) ** 2 * F(1001, 1000)
    emit_fit("SIN_S6", "sin r = r + r^3 S(r^2), |r| <= pi/4, S degree 6",
             sin_coef, 0, zq, 6, lambda z: z)
    def cos_coef(k):
        return F((-1) ** k, fact(2 * k + 4))
    emit_fit("COS_C5",
             "cos r = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4, C degree 5",
             cos_coef, 0, zq, 5, lambda z: z * z)
    emit("PIO2", "double", split(fpi / 2, [53, 53, 53]),
         "pi/2 in three 53-bit parts (FMA)")
    emit_scalar("TWO_OVER_PI", "double", 2 / fpi, "2/pi")
    emit("PIO2F3", "float",
         [f32(x) for x in split_down(fpi / 2, [24, 24, 24])],
         "pi/2 as three floats, all positive (f32 sin/cos in float lanes)")
    emit_scalar("TWO_OVER_PIF", "float", 2 / fpi, "2/pi as a float")
    def sin_coef_neg(k):
        return -sin_coef(k)
    emit_fit("SINF_S3", "sin r = r - r^3 S(r^2), |r| <= pi/4, S degree 3, "
             "float coefficients", sin_coef_neg, 0, zq, 3, lambda z: z,
             to_float=True)
    emit_fit("COSF_C2", "cos r = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4, "
             "C degree 2, float coefficients", cos_coef, 0, zq, 2,
             lambda z: z * z, to_float=True)

    def exp_coef(k):
        return F(1, fact(k + 2))
    h = F(math.log(2)) / 32 * F(1001, 1000)
    emit_fit("EXP_E4",
             "e^r = 1 + r + r^2 E(r), |r| <= ln2/32, E degree 4 (exp_fast "
             "f64, AVX-512F and AVX2)", exp_coef, -h, h, 4, lambda r: r * r)

    t16 = [Decimal(2) ** (Decimal(j) / 16) for j in range(16)]
    emit("EXP_T", "double", t16, "2^(j/16), j = 0..15: double hi")
    emit("EXP_TL", "double", [v - Decimal(float(v)) for v in t16],
         "2^(j/16): double lo")
    emit("EXP_TF", "float", t16, "2^(j/16): float hi")
    emit("EXP_TLF", "float",
         [v - Decimal(f32(float(v))) for v in t16], "2^(j/16): float lo")
    l16 = l2 / 16
    emit("EXP16", "double", [16 / l2, l16, l16 - Decimal(float(l16))],
         "16/ln2, ln2/16 hi and lo")
    emit("EXP16F", "float",
         [16 / l2, f32(float(l16)), l16 - Decimal(f32(float(l16)))],
         "16/ln2, ln2/16 hi and lo, as floats")
    t8 = [Decimal(2) ** (Decimal(j) / 8) for j in range(8)]
    emit("EXP8_TF", "float", t8, "2^(j/8), j = 0..7: float hi (AVX2 expf)")
    emit("EXP8_TLF", "float",
         [v - Decimal(f32(float(v))) for v in t8], "2^(j/8): float lo")
    l8 = l2 / 8
    emit("EXP8F", "float",
         [8 / l2, f32(float(l8)), l8 - Decimal(f32(float(l8)))],
         "8/ln2, ln2/8 hi and lo, as floats")
    # f64 exp and exp_fast on AVX2: 2^(j/8), its low and high 32-bit halves
    # in two registers (vpermps picks; no gather), |r| <= ln2/16, E
    # near-minimax
    t8d = [Decimal(2) ** (Decimal(j) / 8) for j in range(8)]
    emit("EXP8_T", "double", t8d,
         "2^(j/8), j = 0..7: double hi (AVX2 f64 exp and exp_fast)")
    emit("EXP8_TC", "double",
         [(v - Decimal(float(v))) / Decimal(float(v)) for v in t8d],
         "2^(j/8): (value - hi) / hi, the lo part relative to hi")
    l8d = split(F(l2) / 8, [39, 53])
    emit("EXP8_LN2", "double", [8 / l2] + l8d,
         "8/ln2, ln2/8 hi (39 bits: k hi is exact for |k| < 2^14) and lo")
    h8 = F(math.log(2)) / 16 * F(1001, 1000)
    emit_fit("EXP8_E6",
             "e^r = 1 + r + r^2 E(r), |r| <= ln2/16, E degree 6 (exp f64, "
             "AVX2)", exp_coef, -h8, h8, 6, lambda r: r * r)
    emit_fit("EXP8_E5",
             "e^r = 1 + r + r^2 E(r), |r| <= ln2/16, E degree 5 (exp_fast "
             "f64, AVX2)", exp_coef, -h8, h8, 5, lambda r: r * r)

    ln = lambda v: Decimal(v).ln()
    for bits_, nm, isa in ((4, "LOGF", "AVX-512F"), (3, "LOG8", "AVX2")):
        t = 1 << bits_
        ic_, hi_, lo_ = [], [], []
        for j in range(t):
            if j < t // 2:
                a_, w_ = F(1) + F(j, t), F(1, t)
            else:
                a_, w_ = F(1, 2) + F(j, 2 * t), F(1, 2 * t)
            c = F(1) if j in (0, t - 1) else a_ + w_ / 2
            ic = f32(float(1 / c))
            lc = -ln(ic)
            # a multiple of 2^-16, as LN2F[0] is: k ln2_hi + hi is then
            # exact (|k| <= 150), its rounding no longer adds to the result's
            hi = float(round(lc * 2 ** 16)) / 2 ** 16
            ic_.append(ic)
            hi_.append(hi)
            lo_.append(lc - Decimal(hi))
        what = (f"log_fast f32 on {isa}: j = the top {bits_} fraction bits "
                f"of m in [0.75, 1.5), centre c (1 for j = 0 and {t - 1})")
        emit(f"{nm}_INVC", "float", ic_, what + ": 1/c rounded")
        emit(f"{nm}_C_HI", "float", hi_,
             "-ln(1/c): hi, a multiple of 2^-16")
        emit(f"{nm}_C_LO", "float", lo_, "-ln(1/c): float lo")
    # the AVX2 f32 log: s_j, at most 3 fraction bits, so that r = m s - 1
    # is exact in one fma (m s a multiple of 2^-27, |r| < 2^-3); -ln s as
    # hi (a multiple of 2^-16) + lo
    s8 = [F(1), F(7, 8), F(3, 4), F(3, 4), F(5, 4), F(5, 4), F(9, 8), F(1)]
    for j, sj in enumerate(s8):
        a_ = F(1) + F(j, 8) if j < 4 else F(1, 2) + F(j, 16)
        b_ = a_ + (F(1, 8) if j < 4 else F(1, 16))
        assert -F(1, 16) <= a_ * sj - 1 and b_ * sj - 1 <= F(1, 8)
    ls = [-ln(float(sj)) for sj in s8]
    hs = [float(round(v * 2 ** 16)) / 2 ** 16 for v in ls]
    emit("LOG8_S", "float", [float(sj) for sj in s8],
         "log f32 on AVX2: j = the top 3 fraction bits of m in [0.75, 1.5), "
         "s_j ~ 1/m with 3 fraction bits: r = m s - 1 exact")
    emit("LOG8_S_HI", "float", hs, "-ln s: hi, a multiple of 2^-16")
    emit("LOG8_S_LO", "float", [v - Decimal(h) for v, h in zip(ls, hs)],
         "-ln s: float lo")
    # the AVX2 f32 log and log_fast: r in [-1/16, 1/8)
    def log_coef(k):
        return F((-1) ** (k + 1), k + 2)
    rlo, rhi = F(-1, 16) * F(1001, 1000), F(1, 8) * F(1001, 1000)
    emit_fit("LOG8_E5", "log(1+r) = r + r^2 E(r), -1/16 <= r < 1/8, E "
             "degree 5, float coefficients (f32 log, AVX2)", log_coef, rlo,
             rhi, 5, abs, to_float=True)
    emit_fit("LOG8_E4", "the same, E degree 4 (f32 log_fast, AVX2)",
             log_coef, rlo, rhi, 4, abs, to_float=True)
    l2dhi = float(round(F(l2) * 2 ** 42)) / 2 ** 42
    emit("LN2D", "double", [l2dhi, l2 - Decimal(l2dhi)],
         "ln2 as hi (a multiple of 2^-42) and lo")
    r16 = F(1, 16) * F(1001, 1000)
    emit_fit("LOGD_E8",
             "log(1+r) = r + r^2 E(r), -1/32 <= r <= 1/16, E degree 8 "
             "(log and log_fast f64 on AVX-512F; error relative to r)",
             log_coef, -r16 / 2, r16, 8, lambda r: abs(r))
    # f64 log on AVX-512F: m in [1, 2) (vgetmant), j = its top 4 fraction
    # bits; 1/c replaced by a short number s = a 2^-M (s = 1 for j = 0 and
    # 1/2 for j = 15, next to 1 from above and below), M and a picked so
    # that r = m s - 1 stays in [-1/32, 1/16) (LOGD_E8's interval) with
    # |r| < 2^(1-M): m s is then a multiple of 2^-(52+M) and r exact in one
    # fma. -ln s as hi (a multiple of 2^-42) and lo; for j = 15 they are
    # LN2D's two parts, so that -ln2 + ln2 cancels exactly for x < 1
    sc_, shi_, slo_ = [], [], []
    ulp = F(1, 2 ** 52)
    for j in range(16):
        a_, b_ = F(1) + F(j, 16), F(1) + F(j + 1, 16) - ulp
        if j in (0, 15):
            sc = F(1) if j == 0 else F(1, 2)
        else:
            best = None
            for mb in range(1, 9):
                a0 = round(2 ** mb * 2 / (a_ + b_))
                for a in range(a0 - 3, a0 + 4):
                    s = F(a, 2 ** mb)
                    r0, r1 = a_ * s - 1, b_ * s - 1
                    w = max(abs(r0), abs(r1))
                    if (w < F(2) ** (1 - mb) and r0 >= F(-1, 32)
                            and r1 < F(1, 16) and (best is None or w < best[0])):
                        best = (w, s)
            sc = best[1]
        lc = -ln(Decimal(sc.numerator) / Decimal(sc.denominator))
        hi = float(round(lc * 2 ** 42)) / 2 ** 42
        sc_.append(float(sc))
        shi_.append(hi)
        slo_.append(lc - Decimal(hi))
    emit("LOGD_S", "double", sc_,
         "log f64 (AVX-512F): j = the top 4 fraction bits of m in [1, 2), "
         "s ~ 1/m short (r = m s - 1 exact, -1/32 <= r < 1/16)")
    emit("LOGD_S_HI", "double", shi_, "-ln s: hi, a multiple of 2^-42")
    emit("LOGD_S_LO", "double", slo_, "-ln s: lo")
    # f64 log on AVX2: the same on 128 subintervals of [1, 2) with s on
    # the grid 2^-8 (a = 256 s in [128, 256], |r| < 2^-7 so r = m s - 1 is
    # exact); each entry a pair read by one 16-byte load: -ln s hi (a
    # multiple of 2^-42, < 0.7: its low 11 bits are 0) carrying a - 128 in
    # its low 8 bits, and -ln s lo
    sh_, sl_ = [], []
    rmin, rmax = F(0), F(0)
    for j in range(128):
        a_, b_ = F(1) + F(j, 128), F(1) + F(j + 1, 128) - ulp
        if j in (0, 127):
            a = 256 if j == 0 else 128
        else:
            a = min(range(128, 257), key=lambda a: max(abs(a_ * a / 256 - 1),
                                                     abs(b_ * a / 256 - 1)))
        sc = F(a, 256)
        r0, r1 = a_ * sc - 1, b_ * sc - 1
        assert max(abs(r0), abs(r1)) < F(1, 128)
        rmin, rmax = min(rmin, r0), max(rmax, r1)
        lc = -ln(Decimal(a) / 256)
        hi = float(round(lc * 2 ** 42)) / 2 ** 42
        hb = struct.unpack("<Q", struct.pack("<d", hi))[0]
        assert hb & 0x7ff == 0 and hi >= 0
        sh_.append(struct.unpack("<d", struct.pack("<Q", hb | (a - 128)))[0])
        sl_.append(lc - Decimal(hi))
    emit("LOGD128_S", "double", [v for p in zip(sh_, sl_) for v in p],
         "log f64 (AVX2): j = the top 7 fraction bits of m in [1, 2), s = "
         "a/256 ~ 1/m (1 for j = 0, 1/2 for j = 127): pairs of -ln s hi, a "
         "multiple of 2^-42, with a - 128 in its low 8 bits, and -ln s lo")
    emit_fit("LOGD_E5S",
             f"log(1+r) = r + r^2 E(r), {float(rmin):.6f} <= r <= "
             f"{float(rmax):.6f}, E degree 5 (log f64 on AVX2; error "
             "relative to r)", log_coef, rmin * F(1001, 1000),
             rmax * F(1001, 1000), 5, lambda r: abs(r))
    l2hi = float(trunc_bits(F(l2), 16))
    if l2hi > float(l2):
        l2hi -= 2.0 ** -16
    emit("LN2F", "float", [l2hi, l2 - Decimal(l2hi)],
         "ln2 as float hi (16 bits) and lo")
    print()
    print("#endif /* OMPB_KERNELS_CONSTS_H */")


if __name__ == "__main__":
    main()
