"""Reference values for the regularized incomplete beta function, its partial
derivatives and the implicit reparameterization gradient of Beta and Dirichlet draws
(crates/candle-distributions/src/special/beta.rs, tested by tests/suite/special_beta.rs).

Writes reference/beta_special.json. Everything is computed with mpmath at 50 digits:

Kinds of Beta cases: "quantile" (the grid PARAMS x QUANTILES), "fixed" (fixed x),
"clamp" (the samplers' clamp values for small parameters) and "wide" (a, b up to 1e4,
outside the grid, for the incomplete beta function's range).

* I = I_x(a, b) = mp.betainc(a, b, 0, x, regularized=True) and its complement
  1 - I = I_{1-x}(b, a), each evaluated directly (no subtraction);
* dI/dx = x^(a-1) (1-x)^(b-1) / B(a, b) (the Beta density p);
* dI/da, dI/db by mpmath.diff at 70 digits, applied to whichever of I and 1 - I is
  smaller (so upper-tail derivatives keep their relative accuracy);
* the implicit gradients dx/da = -(dI/da)/p, dx/db = -(dI/db)/p.

Inputs are float32-exact: a and b are float32 values; x is the float32 rounding of a
Beta(a, b) quantile (located with scipy.special.betaincinv; only the location comes
from scipy, every stored output is computed by mpmath at exactly the stored x). When
rounding to float32 would collapse a quantile (to 0, 1, a float32 subnormal, or the
same value as another quantile of that (a, b)), the float64 value is kept instead and
the case is marked "f64_only"; when even float64 rounds it to 0 or 1 the sampler's
clamp value is stored (f64::MIN_POSITIVE, or 1 - 2^-53). Dirichlet cases use the
marginal Beta(alpha_i, alpha_0 - alpha_i) with b = alpha_0 - alpha_i summed in float64.

Run from the repository root (about 2 minutes; deterministic output):

    .venv/bin/python reference/gen_beta_special.py
"""
import json
import os
import sys

import numpy as np
import scipy.special as sc
from mpmath import mp, mpf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcommon import f32, json_number, to_f64  # noqa: E402

mp.dps = 50
DIFF_DPS = 70

PARAMS = [1e-2, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 1e3]
QUANTILES = [1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-6]
FIXED_X = [1e-3, 0.25, 0.5, 0.75, 0.999]
F64_MIN_POSITIVE = 2.2250738585072014e-308
F32_MIN_POSITIVE = 1.1754943508222875e-38
ONE_MINUS_EPS = 1.0 - 2.0**-53
# Clamp values of the samplers, checked for the heavy-tailed small-parameter cases.
CLAMP_X = [F64_MIN_POSITIVE, 1e-300, F32_MIN_POSITIVE, 1.0 - 2.0**-24, ONE_MINUS_EPS]
CLAMP_PARAMS = [(1e-2, 1e-2), (0.1, 1e-2), (1e-2, 0.1), (0.5, 0.5), (1e-2, 1e3), (1e3, 1e-2)]
# Beyond the grid, for the incomplete beta function's documented range a, b <= 1e4.
WIDE_PARAMS = [(1e4, 1e4), (1e4, 1e-2), (1e-2, 1e4), (1e4, 1.0), (3.0, 1e4), (1e4, 100.0), (1e4, 2e3)]
DIRICHLET = [
    [0.01, 0.01, 0.01],
    [0.5, 2.0, 3.0],
    [10.0] * 10,
    [1e3, 1.0, 0.1],
    [2.5] * 10,
]


def enc(v):
    return json_number(to_f64(v))


def ibeta(a, b, x):
    return mp.betainc(a, b, 0, x, regularized=True)


def ibeta_wide(a, b, x):
    """The same x^a 2F1(a, 1-b; a+1; x) / (a B(a, b)) that mp.betainc evaluates, with
    larger series limits for parameters up to 1e4."""
    # (x is used as given: it may be an exact 1 - x0 with more bits than the working
    # precision, which mpf() would round.)
    a, b = mpf(a), mpf(b)
    h = mp.hyp2f1(a, 1 - b, a + 1, x, maxterms=10**6, maxprec=60000)
    return x**a * h / (a * mp.beta(a, b))


def quantile(a, b, q):
    """A float64 approximation of the Beta(a, b) quantile (only picks grid points)."""
    if q <= 0.5:
        return float(sc.betaincinv(a, b, q))
    y = float(sc.betaincinv(b, a, 1.0 - q))
    return 1.0 - y


def grid_points(a, b):
    """(x, f64_only, q) for the quantiles of Beta(a, b), deduplicated."""
    out, seen = [], set()
    for q in QUANTILES:
        x = quantile(a, b, q)
        xf = f32(x)
        if F32_MIN_POSITIVE <= xf < 1.0 and xf not in seen:
            point = (xf, False)
        else:
            x64 = min(max(x, F64_MIN_POSITIVE), ONE_MINUS_EPS)
            point = (x64, True)
        if point[0] in seen:
            continue
        seen.add(point[0])
        out.append((point[0], point[1], q))
    return out


def values(a, b, x, ibeta=ibeta):
    """All reference quantities at exact float64 inputs a, b, x."""
    a, b, x = mpf(a), mpf(b), mpf(x)
    y = mp.fsub(1, x, exact=True)  # exact (up to 1074 bits), so I_y(b, a) is exact too
    lower = ibeta(a, b, x)
    upper = ibeta(b, a, y)
    log_p = (a - 1) * mp.log(x) + (b - 1) * mp.log1p(-x) - (mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b))
    p = mp.exp(log_p)
    with mp.workdps(DIFF_DPS):
        if lower <= upper:
            da = mp.diff(lambda s: ibeta(s, b, x), a)
            db = mp.diff(lambda s: ibeta(a, s, x), b)
        else:
            da = -mp.diff(lambda s: ibeta(b, s, y), a)
            db = -mp.diff(lambda s: ibeta(s, a, y), b)
    return {
        "I": lower,
        "Ic": upper,
        "dI_dx": p,
        "dI_da": da,
        "dI_db": db,
        "dx_da": -da / p,
        "dx_db": -db / p,
    }


def subnormal(v):
    f = abs(to_f64(v))
    return 0.0 < f < 1e-300


def main():
    beta_cases = []
    for a in PARAMS:
        for b in PARAMS:
            a32, b32 = f32(a), f32(b)
            points = [(x, f64o, "quantile", q) for (x, f64o, q) in grid_points(a32, b32)]
            xs = {p[0] for p in points}
            points += [(f32(x), False, "fixed", None) for x in FIXED_X if f32(x) not in xs]
            if (a, b) in CLAMP_PARAMS:
                xs = {p[0] for p in points}
                points += [(x, f32(x) != x, "clamp", None) for x in CLAMP_X if x not in xs]
            for x, f64_only, kind, q in points:
                v = values(a32, b32, x)
                if kind == "fixed" and any(subnormal(val) for val in v.values()):
                    continue  # no float64 relative accuracy to test there
                case = {"a": a32, "b": b32, "x": x, "f64_only": f64_only, "kind": kind, "q": q}
                case.update({k: enc(val) for k, val in v.items()})
                beta_cases.append(case)
        print(f"a={a}: {len(beta_cases)} cases", flush=True)
    for a, b in WIDE_PARAMS:
        a32, b32 = f32(a), f32(b)
        for x, f64_only, q in grid_points(a32, b32):
            v = values(a32, b32, x, ibeta=ibeta_wide)
            case = {"a": a32, "b": b32, "x": x, "f64_only": f64_only, "kind": "wide", "q": q}
            case.update({k: enc(val) for k, val in v.items()})
            beta_cases.append(case)
    print(f"wide: {len(beta_cases)} cases", flush=True)

    dir_cases = []
    for alpha in DIRICHLET:
        alpha = [f32(v) for v in alpha]
        total = 0.0
        for v in alpha:
            total += v
        done = set()
        for i, ai in enumerate(alpha):
            b = total - ai
            if (ai, b) in done:
                continue
            done.add((ai, b))
            for x, f64_only, q in grid_points(ai, b):
                v = values(ai, b, x)
                dir_cases.append({"alpha": alpha, "i": i, "a": ai, "b": b, "x": x,
                                  "f64_only": f64_only, "q": q,
                                  "dx_da": enc(v["dx_da"]), "dx_db": enc(v["dx_db"])})
    print(f"dirichlet: {len(dir_cases)} cases", flush=True)

    # Self-checks: I + (1 - I) = 1 (every case, in float64, and a sample in mpmath) and
    # dI/dx = p against a direct central difference.
    for c in beta_cases:
        assert abs(c["I"] + c["Ic"] - 1) < 4e-16, c
    for c in beta_cases[::37]:
        a, b, x = mpf(c["a"]), mpf(c["b"]), mpf(c["x"])
        s = ibeta(a, b, x) + ibeta(b, a, mp.fsub(1, x, exact=True))
        assert abs(s - 1) < mpf(10) ** -40, (c, s)
    for c in beta_cases[::53]:
        a, b, x = mpf(c["a"]), mpf(c["b"]), mpf(c["x"])
        if mpf(1e-200) < x < 1 - mpf(1e-12):
            with mp.workdps(DIFF_DPS):
                d = mp.diff(lambda t: ibeta(a, b, t), x)
            p = mpf(c["dI_dx"])
            assert p == 0 or abs(d / p - 1) < mpf(10) ** -12, (c, d)

    out = {
        "generator": "reference/gen_beta_special.py",
        "mpmath_dps": mp.dps,
        "diff_dps": DIFF_DPS,
        "beta": beta_cases,
        "dirichlet": dir_cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "beta_special.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=0)
        fh.write("\n")
    print("wrote", path, len(beta_cases), "beta cases,", len(dir_cases), "dirichlet cases")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
