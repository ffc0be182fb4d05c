#!/usr/bin/env python3
"""Reference data for the truncated normal distribution (not in torch), with
parameters (loc, scale, low, high).

Writes its cases into ``shape_families.json`` (replacing the previous
TruncatedNormal cases, keeping the other distributions); each case also holds
the icdf at the quantile grid.  Regenerate from the repository root with::

    .venv/bin/python reference/gen_truncated_normal_family.py

The formulas are written out below in mpmath; the shared machinery is in
``refcases.py``.  The mean, variance and entropy are checked against
quadrature; scipy's truncnorm is the only cross-check.
"""

from refcases import (Window, cases_of, icdf_picker, ln_sqrt_2pi, main, mp, mpf,
                      quad_moments_check, sqrt2)

# ---------------------------------------------------------------------------
# TruncatedNormal(loc, scale, low, high) (not in torch).
#     p(x) = phi(z) / (scale Z) on [low, high], Z = Phi(beta) - Phi(alpha).
# ---------------------------------------------------------------------------


def _phi(z):
    return mp.exp(-z * z / 2) / mp.sqrt(2 * mp.pi)


def _mass(a, b):
    """Phi(b) - Phi(a) for a <= b, written so that nothing cancels more than
    the mass itself requires (upper tail via erfc of positive arguments)."""
    s = sqrt2()
    if a >= 0:
        return (mp.erfc(a / s) - mp.erfc(b / s)) / 2
    if b <= 0:
        return (mp.erfc(-b / s) - mp.erfc(-a / s)) / 2
    return 1 - (mp.erfc(-a / s) + mp.erfc(b / s)) / 2


def tn_log_prob(x, loc, scale, low, high):
    z = (x - loc) / scale
    al, be = (low - loc) / scale, (high - loc) / scale
    return -z * z / 2 - ln_sqrt_2pi() - mp.log(scale) - mp.log(_mass(al, be))


def tn_cdf(x, loc, scale, low, high):
    z = (x - loc) / scale
    al, be = (low - loc) / scale, (high - loc) / scale
    return _mass(al, z) / _mass(al, be)


def _ndtri(p):
    return sqrt2() * mp.erfinv(2 * p - 1)


def tn_icdf(q, loc, scale, low, high):
    if q == 1:
        return mpf(high)
    with mp.workdps(mp.dps + 80):
        al, be = (low - loc) / scale, (high - loc) / scale
        m = q * _mass(al, be)
        if al >= 0:  # upper tail: solve Q(z) = Q(alpha) - m
            s = mp.erfc(al / sqrt2()) / 2 - m
            z = -_ndtri(s)
        else:
            z = _ndtri(mp.erfc(-al / sqrt2()) / 2 + m)
        res = loc + scale * z
    return +res


def tn_moments(loc, scale, low, high):
    with mp.workdps(mp.dps + 50):
        al, be = (low - loc) / scale, (high - loc) / scale
        Z = _mass(al, be)
        pa, pb = _phi(al), _phi(be)
        # beta phi(beta) with beta huge underflows to 0 in the limit anyway.
        apa = al * pa
        bpb = be * pb
        d1 = (pa - pb) / Z
        d2 = (apa - bpb) / Z
        mean = loc + scale * d1
        var = scale**2 * (1 + d2 - d1**2)
        ent = mp.log(mp.sqrt(2 * mp.pi * mp.e) * scale * Z) + d2 / 2
        mode = min(max(loc, low), high)
    return {"entropy": +ent, "mean": +mean, "mode": +mode, "variance": +var,
            "stddev": +mp.sqrt(var)}


TN_CASES = [
    (0.0, 1.0, -1.0, 2.0),  # two-sided window around loc
    (-2.5, 0.5, 1.5, 3.5),  # upper tail: alpha = 8, beta = 12
    (1.0, 2.0, -23.0, -15.0),  # lower tail: alpha = -12, beta = -8
    (0.5, 1.5, -0.5, 1e30),  # one-sided (high huge but finite)
    (0.0, 2.0, 0.3, 0.302),  # narrow window, width ~1e-3 scale
    (0.0, 1.0, 1.0, 3.0),  # window beside loc (mode = low)
]


def tn_extra(p):
    loc, scale, low, high = p["loc"], p["scale"], p["low"], p["high"]
    w = min(high - low, scale)
    out = [low + 1e-6 * w]
    if (high - loc) / scale < 40:
        out.append(high - 1e-6 * w)
    return out



def tn_self_check(c):
    p = {k: mpf(v) for k, v in c["params"].items()}
    hi = min(p["high"], p["loc"] + 40 * p["scale"])
    quad_moments_check("TruncatedNormal", tn_log_prob, tn_moments, p, p["low"], hi)


def tn_scipy(stats, p):
    a = (p["low"] - p["loc"]) / p["scale"]
    b = (p["high"] - p["loc"]) / p["scale"]
    return stats.truncnorm(a, b, loc=p["loc"], scale=p["scale"])


def tn_scipy_moment_source(p):
    """scipy's moments are wrong far in a tail and cancel in narrow windows."""
    al, be = (p["low"] - p["loc"]) / p["scale"], (p["high"] - p["loc"]) / p["scale"]
    if al >= 5 or be <= -5 or be - al < 1e-2:
        return "scipy(tail/narrow)"
    return "scipy"


DISTS = [
    dict(name="TruncatedNormal", params=["loc", "scale", "low", "high"],
         cases=cases_of(["loc", "scale", "low", "high"], TN_CASES),
         values=icdf_picker(tn_icdf, lambda p: Window(p["loc"], p["scale"], p["low"], p["high"]),
                            tn_extra),
         log_prob=tn_log_prob, cdf=tn_cdf, icdf=tn_icdf, moments=tn_moments,
         self_check=tn_self_check, scipy=tn_scipy, scipy_moment_source=tn_scipy_moment_source,
         xc_exempt={
             ("entropy", "scipy(tail/narrow)"):
                 "scipy's truncnorm entropy is wrong far in the tail (quadrature agrees with ours)",
             ("variance", "scipy(tail/narrow)"):
                 "scipy's closed form cancels ~7 digits in the narrow window",
             ("mean", "scipy(tail/narrow)"): "as variance",
         }),
]

if __name__ == "__main__":
    main(DISTS)
