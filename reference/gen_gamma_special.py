#!/usr/bin/env python3
"""Reference-data generator for the gamma-family special functions.

Writes ``reference/gamma_special.json``, the high-precision values that
``crates/candle-distributions/tests/suite/special_gamma.rs`` compares
``candle_distributions::special::gamma`` against.

Regenerate from the repository root with::

    .venv/bin/python reference/gen_gamma_special.py

(about 20 seconds; deterministic: running it again writes the same file). The
script exits non-zero if one of its internal cross-checks fails.

What is computed
----------------
* ``unary``: ln|Γ(x)|, ψ(x), ψ'(x) and ψ⁽ⁿ⁾(x) for n = 2, 3, 5, 10 at positive
  points from 1e-300 to 1e10 (the digamma root x0 = 1.4616321... included) and
  a few negative non-integers.
* ``lbeta``: ln B(a, b) on a grid with very unequal arguments.
* ``mvlgamma``: ln Γ_p(x) = p(p-1)/4 ln π + Σ_j ln Γ(x - j/2), p = 1..4.
* ``gammainc``: P(a, x), Q(a, x), ∂P/∂a and ∂P/∂x on a grid of shapes a and
  points x at the Gamma(a, 1) quantiles 1e-6 ... 1-1e-6 plus fixed points.
* ``implicit_grad``: dx/dα = -(∂P/∂α)(α, x) / p(x; α) for standard Gamma draws
  (the reparameterization gradient) at the quantile points.
* ``random``: the gradient and P, Q, ∂P/∂a at 300 random (α, quantile) points
  (fixed seed): α log-uniform on [1e-3, 1e4] or uniform on [0.5, 10].

Method
------
* mpmath at ``mp.dps = 50``. P and Q come from ``mp.gammainc`` (regularized);
  ψ, ψ⁽ⁿ⁾, ln Γ from mpmath's own functions.
* ∂P/∂a is ``mp.diff`` (central differences at raised precision, DIFF_DPS
  digits) applied to the smaller of P and -Q, so its relative accuracy holds in
  both tails. It is cross-checked against the differentiated power series
  ∂P/∂a = D [S (ln x - ψ(a+1)) + ∂S/∂a], D = x^a e^-x / Γ(a+1),
  S = Σ x^n / ((a+1)...(a+n)), summed independently at 100 digits where the
  series is practical (x < a + 1 + 40 sqrt(a+1)).
* Every input is rounded to float32 first (so f32 tests can share the points),
  except where float32 cannot hold it: quantile points below float32's normal
  range are kept as float64, and those below float64's normal range are replaced
  by the clamp value f64::MIN_POSITIVE (2.2250738585072014e-308) that the
  sampler uses. Each reference is computed at exactly the stored input. Inputs
  that are not float32-exact carry ``"f32": false``.
* Outputs are rounded to the nearest float64 (refcommon.to_f64); non-finite
  values are stored as the strings "nan", "inf", "-inf" (refcommon.json_number).
"""

import json
import math
import sys
from pathlib import Path

import mpmath
import numpy as np
from mpmath import mp, mpf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refcommon import f32, json_number, to_f64  # noqa: E402

mp.dps = 50
DIFF_DPS = 90
OUT_PATH = Path(__file__).resolve().parent / "gamma_special.json"

F64_TINY = 2.2250738585072014e-308  # f64::MIN_POSITIVE
F32_TINY = float(np.finfo(np.float32).tiny)  # f32::MIN_POSITIVE, 1.1754943508222875e-38

FAILED = []


def check(ok, what):
    if not ok:
        FAILED.append(what)
        print("CHECK FAILED:", what)


def num(v):
    return json_number(to_f64(v))


def is_f32(v):
    return v == 0.0 or not math.isfinite(v) or float(np.float32(v)) == v


def store_x(v):
    """The input as stored: float32 where representable as a normal float32,
    else float64, else the f64 clamp."""
    v = mpf(v)
    if v >= F32_TINY and v < mpf("3.4e38"):
        return f32(v)
    fv = to_f64(v)
    return fv if fv >= F64_TINY else F64_TINY


# ---------------------------------------------------------------------------
# Unary functions
# ---------------------------------------------------------------------------

def lgamma_abs(x):
    x = mpf(x)
    if x > 0:
        return mp.loggamma(x)
    return mp.log(abs(mp.gamma(x)))


UNARY_X = [1e-8, 1e-3, 0.1, 0.5, 1.0, 1.4616321, 1.5, 2.0, 2.5, 7.3, 30.0,
           1e3, 1e5, 1e10, -0.5, -1.5, -2.5, -3.7, -10.3, -0.999]
UNARY_X = [f32(v) for v in UNARY_X]
# f64-only points: far below float32's range, and the f64 neighbours of the
# digamma root (where ψ is ~1e-16 and only a root expansion keeps it accurate).
X0 = mp.findroot(mp.digamma, mpf("1.4616321449683623"))
UNARY_X_F64 = [1e-300, 1.4616321449683622, 1.4616321449683625, 1.46163214,
               1.4616322]
assert to_f64(X0) == 1.4616321449683622
POLY_N = [2, 3, 5, 10]


def gen_unary():
    rows = []
    for x in UNARY_X + UNARY_X_F64:
        X = mpf(x)
        row = {"x": x, "f32": is_f32(x), "lgamma": num(lgamma_abs(X)),
               "digamma": num(mp.digamma(X)), "trigamma": num(mp.polygamma(1, X))}
        for n in POLY_N:
            row["polygamma%d" % n] = num(mp.polygamma(n, X))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# lbeta and mvlgamma
# ---------------------------------------------------------------------------

LBETA_AB = [1e-3, 1e-2, 0.5, 1.0, 2.5, 10.0, 1e3, 1e5, 1e8]


def gen_lbeta():
    rows = []
    for a in LBETA_AB:
        for b in LBETA_AB:
            a32, b32 = f32(a), f32(b)
            A, B = mpf(a32), mpf(b32)
            v = mp.loggamma(A) + mp.loggamma(B) - mp.loggamma(A + B)
            rows.append({"a": a32, "b": b32, "lbeta": num(v)})
    return rows


def gen_mvlgamma():
    rows = []
    for p in [1, 2, 3, 4]:
        for x in [1.6, 2.5, 7.3, 30.0, 1e3, 1e6]:
            X = mpf(f32(x))
            v = mpf(p) * (p - 1) / 4 * mp.log(mp.pi)
            for j in range(p):
                v += mp.loggamma(X - mpf(j) / 2)
            rows.append({"x": f32(x), "p": p, "mvlgamma": num(v)})
    return rows


# ---------------------------------------------------------------------------
# Incomplete gamma
# ---------------------------------------------------------------------------

def P_(a, x):
    return mp.gammainc(a, 0, x, regularized=True)


def Q_(a, x):
    return mp.gammainc(a, x, mp.inf, regularized=True)


def quantile(a, q):
    """x with P(a, x) = q, by bisection on ln x (only float32 accuracy is needed,
    the point is rounded afterwards and all references use the stored x)."""
    a = mpf(a)
    q = mpf(q)
    upper = q > mpf("0.5")
    target = 1 - q if upper else q

    def g(y):  # increasing in y
        x = mp.exp(y)
        return target - Q_(a, x) if upper else P_(a, x) - target

    hi = mp.log(a + 50 * mp.sqrt(a) + 100)
    if upper:
        # search downwards (Q near 1 at tiny x is slow in mpmath and not needed)
        step = mpf(1)
        lo = hi - step
        while g(lo) >= 0:
            step *= 2
            lo = hi - step
    else:
        lo = mpf(-2e6)
    for _ in range(200):
        mid = (lo + hi) / 2
        if g(mid) < 0:
            lo = mid
        else:
            hi = mid
        if hi - lo < mpf("1e-12"):
            break
    return mp.exp((lo + hi) / 2)


def dP_da(a, x):
    """∂P/∂a by mp.diff of the smaller of P and -Q."""
    a, x = mpf(a), mpf(x)
    small_p = P_(a, x) <= mpf("0.5")
    with mp.workdps(DIFF_DPS):
        if small_p:
            d = mp.diff(lambda t: P_(t, x), a)
        else:
            d = -mp.diff(lambda t: Q_(t, x), a)
    return +d


def dP_da_series(a, x):
    """Independent check: the differentiated power series, at 100 digits (it loses
    about as many digits as P/|∂P/∂a| has, up to ~50 in the grid's upper tails)."""
    with mp.workdps(100):
        a, x = mpf(a), mpf(x)
        t, s, sp, h = mpf(1), mpf(1), mpf(0), mpf(0)
        n = 0
        while True:
            n += 1
            h += 1 / (a + n)
            t *= x / (a + n)
            s += t
            sp -= t * h
            if t < mpf("1e-102") * s and n > x - a:
                break
        d = mp.exp(a * mp.log(x) - x - mp.loggamma(a + 1))
        return d * (s * (mp.log(x) - mp.digamma(a + 1)) + sp)


def density(a, x):
    a, x = mpf(a), mpf(x)
    return mp.exp((a - 1) * mp.log(x) - x - mp.loggamma(a))


GAMMAINC_A = [1e-3, 1e-2, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 1e3, 1e4, 1e5]
QUANTILES = [1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-6]
FIXED_X = [F64_TINY, F32_TINY, 1e-10, 0.5, 1.0, 2.0, 10.0, 100.0, 1e4, 1e6]
GRAD_ALPHA = [1e-3, 3e-3, 1e-2, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 1e3, 1e4, 1e5]


def gammainc_point(a, x):
    A, X = mpf(a), mpf(x)
    row = {"a": a, "x": json_number(x), "f32": is_f32(x)}
    if x == 0:
        row.update(P=0.0, Q=1.0, dPda=0.0,
                   dPdx=num(mpf("inf") if a < 1 else (1 if a == 1 else 0)))
        return row
    if math.isinf(x):
        row.update(P=1.0, Q=0.0, dPda=0.0, dPdx=0.0)
        return row
    P, Q = P_(A, X), Q_(A, X)
    d = dP_da(A, X)
    if X < A + 1 + 40 * mp.sqrt(A + 1):
        ds = dP_da_series(A, X)
        rel = abs(ds - d) / abs(d) if d != 0 else abs(ds)
        check(rel < mpf("1e-30") or abs(d) < mpf("1e-320"),
              "dP/da series vs diff at a=%r x=%r: rel %s" % (a, x, mpmath.nstr(rel, 3)))
    check(abs(P + Q - 1) < mpf("1e-45"), "P+Q at a=%r x=%r" % (a, x))
    row.update(P=num(P), Q=num(Q), dPda=num(d), dPdx=num(density(A, X)))
    return row


def grid_x(a):
    xs = set()
    for q in QUANTILES:
        xs.add(store_x(quantile(a, q)))
    for x in FIXED_X:
        xs.add(store_x(x) if x >= F32_TINY else x)
    xs.add(f32(a))
    xs.add(f32(a + 1))
    return sorted(xs)


def gen_gammainc():
    rows = []
    for a in GAMMAINC_A:
        a = f32(a)
        for x in grid_x(a) + [0.0, math.inf]:
            rows.append(gammainc_point(a, x))
    return rows


def gen_implicit_grad():
    rows = []
    for a in GRAD_ALPHA:
        a = f32(a)
        A = mpf(a)
        pts = []
        for q in QUANTILES:
            pts.append((q, store_x(quantile(A, q))))
        if a < 1:
            pts += [("clamp_f64", F64_TINY), ("clamp_f32", F32_TINY)]
        seen = set()
        for label, x in pts:
            if x in seen:
                continue
            seen.add(x)
            X = mpf(x)
            g = -dP_da(A, X) / density(A, X)
            rows.append({"alpha": a, "x": x, "q": label if isinstance(label, str) else f32(label),
                         "f32": is_f32(x), "grad": num(g)})
    return rows


def gen_random():
    """Random points: α log-uniform on [1e-3, 1e4] and uniform on [0.5, 10] (the
    range the sampler benchmark uses), x at a uniform random quantile (located with
    mpmath, rounded to float32). Each row holds the gradient and P, Q, ∂P/∂a."""
    rng = np.random.default_rng(20240607)
    rows = []
    for i in range(RANDOM_POINTS):
        a = f32(10 ** rng.uniform(-3, 4)) if i % 2 == 0 else f32(rng.uniform(0.5, 10))
        u = rng.uniform(1e-6, 1 - 1e-6)
        x = store_x(quantile(a, u))
        A, X = mpf(a), mpf(x)
        d = dP_da(A, X)
        rows.append({"alpha": a, "x": x, "f32": is_f32(x), "grad": num(-d / density(A, X)),
                     "P": num(P_(A, X)), "Q": num(Q_(A, X)), "dPda": num(d)})
    return rows


RANDOM_POINTS = 300


def main():
    out = {
        "generator": "reference/gen_gamma_special.py",
        "mpmath_dps": mp.dps,
        "diff_dps": DIFF_DPS,
        "digamma_root": num(X0),
        "unary": gen_unary(),
        "lbeta": gen_lbeta(),
        "mvlgamma": gen_mvlgamma(),
        "gammainc": gen_gammainc(),
        "implicit_grad": gen_implicit_grad(),
        "random": gen_random(),
    }
    # A finite-difference check of ∂P/∂x against the density formula.
    for a, x in [(0.5, 0.3), (10.0, 12.0), (1e3, 990.0)]:
        A, X = mpf(a), mpf(x)
        with mp.workdps(DIFF_DPS):
            d = mp.diff(lambda t: P_(A, t), X)
        check(abs(d / density(A, X) - 1) < mpf("1e-40"), "dP/dx at a=%r x=%r" % (a, x))
    OUT_PATH.write_text(json.dumps(out, indent=1, allow_nan=False) + "\n")
    print("wrote", OUT_PATH, "rows:",
          {k: len(v) for k, v in out.items() if isinstance(v, list)})
    if FAILED:
        print(len(FAILED), "checks failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
