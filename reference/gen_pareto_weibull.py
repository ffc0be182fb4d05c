#!/usr/bin/env python3
"""Reference data for Pareto and Weibull (torch's parameterizations).

Writes ``pareto_weibull.json`` (same layout as ``shape_families.json``: one case per
parameter set with log_prob, cdf, their gradients, the icdf at the quantile grid and
the five moments).  Regenerate from the repository root with::

    .venv/bin/python reference/gen_pareto_weibull.py

The formulas are written out below in mpmath at 50 digits (gradients by
``mpmath.diff`` at 400 digits); the shared machinery (value placement, gradients,
self-checks, the torch and scipy cross-checks printed to stdout) is ``refcases.py``,
pointed at this script's own output file.  The means, variances and entropies are
also checked against quadrature of the density.
"""

import math

import refcases
from refcases import HERE, LowerBounded, Positive, cases_of, icdf_picker, main, mp, mpf, \
    note_check, rel_err

refcases.OUT_UNIVARIATE = HERE / "pareto_weibull.json"
refcases.UNIVARIATE_GENERATOR = "reference/gen_pareto_weibull.py"

# ---------------------------------------------------------------------------
# Pareto(scale = s, alpha = a):  p(x) = a s^a / x^(a+1) on x >= s.
# ---------------------------------------------------------------------------


def pareto_log_prob(x, scale, alpha):
    return mp.log(alpha) + alpha * mp.log(scale) - (alpha + 1) * mp.log(x)


def pareto_cdf(x, scale, alpha):
    return -mp.expm1(-alpha * mp.log(x / scale))


def pareto_icdf(q, scale, alpha):
    if q == 1:
        return mp.inf
    return scale * mp.exp(-mp.log1p(-q) / alpha)


def pareto_moments(scale, alpha):
    s, a = scale, alpha
    # torch: +inf for alpha <= 1 (mean) and alpha <= 2 (variance); mode = scale.
    var = s**2 * a / ((a - 1) ** 2 * (a - 2)) if a > 2 else mp.inf
    return {
        "entropy": mp.log(s / a) + 1 + 1 / a,
        "mean": a * s / (a - 1) if a > 1 else mp.inf,
        "mode": s,
        "variance": var,
        "stddev": mp.sqrt(var),
    }


PARETO_CASES = [(1.0, 1.0), (2.0, 3.0), (0.5, 0.5), (1e-3, 2.5), (3.0, 12.0), (1e4, 1.5),
                (1.0, 200.0)]


def pareto_coord(p):
    return LowerBounded(p["scale"], p["scale"])


def quad_check(name, log_prob, moments, p, pts):
    """Mean, variance and entropy of ``moments(**p)`` against quadrature of the
    density over ``pts`` (breakpoints at quantiles, so that narrow peaks and heavy
    tails are resolved), at 30 digits."""
    with mp.workdps(30):
        lp = lambda t: log_prob(t, **p)
        pdf = lambda t: mp.exp(lp(t))
        m = mp.quad(lambda t: t * pdf(t), pts)
        var = mp.quad(lambda t: (t - m) ** 2 * pdf(t), pts)
        h = mp.quad(lambda t: -pdf(t) * lp(t), pts)
        mom = moments(**p)
        note_check(name, "mean/variance/entropy vs quadrature",
                   max(rel_err(m, mom["mean"]), rel_err(var, mom["variance"]),
                       abs(h - mom["entropy"]) / max(1, abs(h))), mpf("1e-15"))


QUAD_Q = (1e-6, 0.01, 0.3, 0.7, 0.99, 1 - 1e-6)


def pareto_self_check(c):
    p = {k: mpf(v) for k, v in c["params"].items()}
    if p["alpha"] > 2.5:
        pts = [p["scale"]] + [pareto_icdf(mpf(q), **p) for q in QUAD_Q] + [mp.inf]
        quad_check("Pareto", pareto_log_prob, pareto_moments, p, pts)


# ---------------------------------------------------------------------------
# Weibull(scale = l, concentration = k):  p(x) = (k/l)(x/l)^(k-1) exp(-(x/l)^k), x > 0.
# ---------------------------------------------------------------------------


def weibull_log_prob(x, scale, concentration):
    k, lam = concentration, scale
    return mp.log(k / lam) + (k - 1) * mp.log(x / lam) - (x / lam) ** k


def weibull_cdf(x, scale, concentration):
    return -mp.expm1(-((x / scale) ** concentration))


def weibull_icdf(q, scale, concentration):
    if q == 1:
        return mp.inf
    return scale * (-mp.log1p(-q)) ** (1 / concentration)


def weibull_moments(scale, concentration):
    k, lam = concentration, scale
    g1 = mp.gamma(1 + 1 / k)
    g2 = mp.gamma(1 + 2 / k)
    var = lam**2 * (g2 - g1**2)
    if k > 1:
        mode = lam * ((k - 1) / k) ** (1 / k)
    elif k == 1:
        mode = mpf(0)
    else:
        mode = mp.nan  # torch: a negative base to a fractional power
    return {
        "entropy": mp.euler * (1 - 1 / k) + mp.log(lam / k) + 1,
        "mean": lam * g1,
        "mode": mode,
        "variance": var,
        "stddev": mp.sqrt(var),
    }


WEIBULL_CASES = [(1.0, 1.0), (2.0, 0.5), (1.0, 2.0), (0.5, 3.5), (10.0, 0.2), (1e-3, 1.5),
                 (3.0, 40.0), (1.0, 1000.0)]


def weibull_self_check(c):
    p = {k: mpf(v) for k, v in c["params"].items()}
    if p["concentration"] >= 0.5:
        pts = [mpf(0)] + [weibull_icdf(mpf(q), **p) for q in QUAD_Q] + [mp.inf]
        lp = lambda t, **q: weibull_log_prob(t, **q) if t > 0 else -mp.inf
        quad_check("Weibull", lp, weibull_moments, p, pts)


def weibull_torch_grad_source(p, method, k):
    """torch's value gradient of log_prob at concentration 1 (see xc_exempt)."""
    if k == "value" and method == "log_prob" and p["concentration"] == 1.0:
        return "torch(k=1)"
    return None


DISTS = [
    dict(name="Pareto", params=["scale", "alpha"],
         cases=cases_of(["scale", "alpha"], PARETO_CASES),
         values=icdf_picker(pareto_icdf, pareto_coord, lambda p: [p["scale"]]),
         log_prob=pareto_log_prob, cdf=pareto_cdf, icdf=pareto_icdf, moments=pareto_moments,
         self_check=pareto_self_check,
         torch=lambda D, tp: D.Pareto(tp["scale"], tp["alpha"]),
         scipy=lambda stats, p: stats.pareto(p["alpha"], scale=p["scale"]),
         # Infinite moments: +inf on both sides (the JSON holds the string "inf").
         torch_skip_moment=lambda m, theirs, ours: math.isinf(theirs) and ours == "inf"),
    dict(name="Weibull", params=["scale", "concentration"],
         cases=cases_of(["scale", "concentration"], WEIBULL_CASES),
         values=icdf_picker(weibull_icdf, lambda p: Positive()),
         log_prob=weibull_log_prob, cdf=weibull_cdf, icdf=weibull_icdf,
         moments=weibull_moments, self_check=weibull_self_check,
         torch=lambda D, tp: D.Weibull(tp["scale"], tp["concentration"]),
         scipy=lambda stats, p: stats.weibull_min(p["concentration"], scale=p["scale"]),
         torch_grad_source=weibull_torch_grad_source,
         # torch's icdf forms 1 - q first: q = 1e-12 loses its digits.
         torch_icdf_min_q=1e-6,
         # torch's cdf is 1 - exp(-(x/scale)^k): values near 0 are compared absolutely.
         abs_metric={("cdf", "torch"), ("grad_cdf", "torch")},
         xc_exempt={
             ("mode", "torch"):
                 "torch's ((k - 1)/k)^(1/k) is NaN for k < 1 except where 1/k is an even "
                 "integer, where it is a positive number that is not the mode (the "
                 "density is unbounded at 0); we return NaN for every k < 1",
             ("grad_log_prob", "torch(k=1)"):
                 "torch's autograd of x^(k - 1) at k = 1 gives d/dvalue = 0 instead of -1/scale "
                 "at tiny x",
         }),
]

if __name__ == "__main__":
    main(DISTS)
