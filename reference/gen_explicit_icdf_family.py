#!/usr/bin/env python3
"""Reference data for the distributions sampled through an explicit inverse
CDF: Kumaraswamy, GeneralizedPareto and ContinuousBernoulli.

Writes their cases into ``shape_families.json`` (replacing the previous cases
of these three distributions, keeping the others); each case also holds the
icdf at the quantile grid.  Regenerate from the repository root with::

    .venv/bin/python reference/gen_explicit_icdf_family.py

The formulas are written out below in mpmath; the shared machinery is in
``refcases.py``.  The Kumaraswamy and ContinuousBernoulli mean, variance and
entropy are checked against quadrature.
"""

import math

from refcases import (HALF, UNIT, Interval, LowerBounded, cases_of, f32, icdf_picker,
                      json_number, main, mp, mpf, near_edges, quad_moments_check, to_f64)

# ---------------------------------------------------------------------------
# Kumaraswamy(concentration1 = a, concentration0 = b)
# ---------------------------------------------------------------------------


def kuma_log_prob(x, concentration1, concentration0):
    a, b = concentration1, concentration0
    return mp.log(a) + mp.log(b) + (a - 1) * mp.log(x) + (b - 1) * mp.log1p(-(x**a))


def kuma_cdf(x, concentration1, concentration0):
    a, b = concentration1, concentration0
    return -mp.expm1(b * mp.log1p(-(x**a)))


def kuma_icdf(q, concentration1, concentration0):
    a, b = concentration1, concentration0
    if q == 1:
        return mpf(1)
    return (-mp.expm1(mp.log1p(-q) / b)) ** (1 / a)


def kuma_moments(concentration1, concentration0):
    a, b = concentration1, concentration0
    m1 = b * mp.beta(1 + 1 / a, b)
    m2 = b * mp.beta(1 + 2 / a, b)
    var = m2 - m1**2
    if a < 1 or b < 1 or (a == 1 and b == 1):
        mode = mp.nan  # torch masks a < 1 or b < 1; a = b = 1 (uniform) is 0/0
    else:
        mode = ((a - 1) / (a * b - 1)) ** (1 / a)
    h_b = mp.digamma(b + 1) + mp.euler  # harmonic number H_b
    return {
        "entropy": (1 - 1 / b) + (1 - 1 / a) * h_b - mp.log(a) - mp.log(b),
        "mean": m1,
        "mode": mode,
        "variance": var,
        "stddev": mp.sqrt(var),
    }


KUMA_CASES = [(0.5, 0.5), (1.0, 1.0), (2.0, 5.0), (5.0, 1.0), (0.25, 40.0), (12.0, 0.8)]

# ---------------------------------------------------------------------------
# GeneralizedPareto(loc, scale, concentration = xi)
# ---------------------------------------------------------------------------


def gp_log_prob(x, loc, scale, concentration):
    z = (x - loc) / scale
    xi = concentration
    if xi == 0:
        return -mp.log(scale) - z
    return -mp.log(scale) - (1 / xi + 1) * mp.log1p(xi * z)


def gp_cdf(x, loc, scale, concentration):
    z = (x - loc) / scale
    xi = concentration
    if xi == 0:
        return -mp.expm1(-z)
    return -mp.expm1(-mp.log1p(xi * z) / xi)


def gp_icdf(q, loc, scale, concentration):
    xi = concentration
    if q == 1:
        return loc - scale / xi if xi < 0 else mp.inf
    if xi == 0:
        return loc - scale * mp.log1p(-q)
    return loc + scale / xi * mp.expm1(-xi * mp.log1p(-q))


def gp_moments(loc, scale, concentration):
    xi = concentration
    # The moments are infinite (not undefined) for xi >= 1 (mean) and xi >= 1/2
    # (variance): this crate writes +inf there, its convention for infinite moments;
    # torch returns NaN (the cross-check below skips those entries).
    var = scale**2 / ((1 - xi) ** 2 * (1 - 2 * xi)) if xi < HALF else mp.inf
    return {
        "entropy": mp.log(scale) + xi + 1,
        "mean": loc + scale / (1 - xi) if xi < 1 else mp.inf,
        "mode": loc,  # torch
        "variance": var,
        "stddev": mp.sqrt(var),
    }


GP_CASES = [(0.0, 1.0, 0.0), (-2.5, 0.5, 0.3), (0.0, 2.0, 0.75), (1.0, 1.0, 1.5),
            (10.0, 3.0, -0.4), (0.0, 1.0, -1.0)]


def gp_coord(p):
    loc, scale, xi = p["loc"], p["scale"], p["concentration"]
    if xi < 0:
        return Interval(loc, float(mpf(loc) - mpf(scale) / mpf(xi)))
    return LowerBounded(loc, scale)


def gp_extra(p):
    loc, scale, xi = p["loc"], p["scale"], p["concentration"]
    if xi < 0:
        return near_edges(loc, float(mpf(loc) - mpf(scale) / mpf(xi)))
    return [loc + 1e-6 * scale]


# ---------------------------------------------------------------------------
# ContinuousBernoulli(probs = lam)
#    p(x) = C(lam) lam^x (1-lam)^(1-x) on [0, 1], C = 2 atanh(1-2 lam)/(1-2 lam).
#    With L = logit(lam) = log1p((2 lam - 1)/(1 - lam)) every formula below is
#    free of the 0/0 at lam = 1/2 except at lam == 1/2 exactly, which uses the
#    limit.  (mpmath.diff steps lam by ~1e-400 around 1/2: the forms used keep
#    full relative accuracy there.)
# ---------------------------------------------------------------------------


def cb_logit(lam):
    return mp.log1p((2 * lam - 1) / (1 - lam))


def cb_log_norm(lam):
    """log C(lam) = log(L / (2 lam - 1))."""
    if lam == HALF:
        return mp.log(2)
    y = (2 * lam - 1) / (1 - lam)
    return mp.log(mp.log1p(y) / y) - mp.log1p(-lam)


def cb_log_prob(x, probs):
    lam = probs
    return cb_log_norm(lam) + x * mp.log(lam) + (1 - x) * mp.log1p(-lam)


def cb_cdf(x, probs):
    # (lam^x (1-lam)^(1-x) + lam - 1)/(2 lam - 1) = expm1(x L)/expm1(L)
    if probs == HALF:
        return x
    L = cb_logit(probs)
    return mp.expm1(x * L) / mp.expm1(L)


def cb_icdf(q, probs):
    if probs == HALF:
        return q
    L = cb_logit(probs)
    return mp.log1p(q * mp.expm1(L)) / L


def cb_moments(probs):
    lam = probs
    if lam == HALF:
        mean, var, ent = HALF, mpf(1) / 12, mpf(0)
        mode = mp.nan  # uniform: no unique mode (own convention; torch has none)
    else:
        with mp.workdps(mp.dps + 40):
            L = cb_logit(lam)
            # torch: lam/(2 lam - 1) + 1/(log(1-lam) - log(lam))
            mean = lam / (2 * lam - 1) - 1 / L
            # torch: lam (lam - 1)/(1 - 2 lam)^2 + 1/(log(1-lam) - log(lam))^2
            var = lam * (lam - 1) / (1 - 2 * lam) ** 2 + 1 / L**2
            # torch: mean (log(1-lam) - log(lam)) - log C - log(1-lam)
            ent = -mean * L - cb_log_norm(lam) - mp.log1p(-lam)
        mean, var, ent = +mean, +var, +ent
        mode = mpf(0) if lam < HALF else mpf(1)  # own convention; torch has none
    return {"entropy": ent, "mean": mean, "mode": mode, "variance": var, "stddev": mp.sqrt(var)}


CB_CASES = [1e-3, 0.2, 0.4999, 0.5, 0.5001, 0.8, 0.999]
CB_VALUES = [1e-6, 1e-3, 0.05, 0.2, 0.35, 0.5, 0.65, 0.9, 0.999, 1 - 2**-24]


def kuma_self_check(c):
    p = {k: mpf(v) for k, v in c["params"].items()}
    if p["concentration1"] < 1 or p["concentration0"] < 1:
        return  # integrable endpoint singularities: no quadrature
    quad_moments_check("Kumaraswamy", kuma_log_prob, kuma_moments, p, 0, 1)


def cb_self_check(c):
    p = {k: mpf(v) for k, v in c["params"].items()}
    quad_moments_check("ContinuousBernoulli", cb_log_prob, cb_moments, p, 0, 1)


def gp_torch_grad_source(p, method, k):
    """torch's autograd is wrong in d/dconcentration at concentration 0 (log_prob
    and cdf) and -1 (log_prob): those rows get their own source tag."""
    xi = p["concentration"]
    if k == "concentration" and (xi == 0.0 or (xi == -1.0 and method == "log_prob")):
        return "torch(xi=%g)" % xi
    return None


def cb_torch_cdf_source(p):
    """torch's cdf and icdf are the uniform ones for 0.499 < probs <= 0.501."""
    if 0.499 < p["probs"] <= 0.501 and p["probs"] != 0.5:
        return "torch(0.499<p<=0.501)"
    return "torch"


DISTS = [
    dict(name="Kumaraswamy", params=["concentration1", "concentration0"],
         cases=cases_of(["concentration1", "concentration0"], KUMA_CASES),
         values=icdf_picker(kuma_icdf, UNIT, lambda p: near_edges(0.0, 1.0)),
         log_prob=kuma_log_prob, cdf=kuma_cdf, icdf=kuma_icdf, moments=kuma_moments,
         self_check=kuma_self_check,
         torch=lambda D, tp: D.Kumaraswamy(tp["concentration1"], tp["concentration0"]),
         # torch's icdf forms 1 - q before a power: q = 1e-12 loses its digits.
         torch_icdf_min_q=1e-6,
         xc_exempt={("mode", "torch"): "torch's formula is wrong (NaN for every parameter)"},
         # torch's cdf goes through 1 - x^a: values near 0 are compared absolutely.
         abs_metric={("cdf", "torch"), ("grad_cdf", "torch")},
         # torch's log_prob is -inf where 1 - x^a rounds to 1 (tiny x) or x^a to 1.
         skip_nonfinite={("log_prob", "torch"), ("grad_log_prob", "torch")}),
    dict(name="GeneralizedPareto", params=["loc", "scale", "concentration"],
         cases=cases_of(["loc", "scale", "concentration"], GP_CASES),
         values=icdf_picker(gp_icdf, gp_coord, gp_extra),
         log_prob=gp_log_prob, cdf=gp_cdf, icdf=gp_icdf, moments=gp_moments,
         torch=lambda D, tp: D.GeneralizedPareto(tp["loc"], tp["scale"], tp["concentration"]),
         scipy=lambda stats, p: stats.genpareto(p["concentration"], loc=p["loc"],
                                                scale=p["scale"]),
         torch_grad_source=gp_torch_grad_source,
         # torch's NaN for an infinite moment (see gp_moments).
         torch_skip_moment=lambda m, theirs, ours: math.isnan(theirs) and ours == "inf",
         xc_exempt={
             ("grad_log_prob", "torch(xi=0)"):
                 "torch's autograd gives d/dconcentration = 0 at concentration == 0",
             ("grad_cdf", "torch(xi=0)"):
                 "torch's autograd gives d/dconcentration = 0 at concentration == 0",
             ("grad_log_prob", "torch(xi=-1)"):
                 "torch's where(1/xi + 1 == 0, ...) gives d/dconcentration = 1 instead of log1p(-z)",
         },
         # torch's cdf is 1 - exp(log sf): values near 0 are compared absolutely,
         # and its gradient is NaN where that rounds to 0.
         abs_metric={("cdf", "torch"), ("grad_cdf", "torch")},
         skip_nonfinite={("grad_cdf", "torch")}),
    dict(name="ContinuousBernoulli", params=["probs"],
         cases=cases_of(["probs"], [(p,) for p in CB_CASES]),
         values=lambda p: sorted(set(f32(v) for v in CB_VALUES)),
         log_prob=cb_log_prob, cdf=cb_cdf, icdf=cb_icdf, moments=cb_moments,
         self_check=cb_self_check,
         # Informational: the equivalent logits parameter (float64, not f32-exact).
         extra_fields=lambda mp_params: {
             "logits": json_number(to_f64(cb_logit(mp_params["probs"])))},
         torch=lambda D, tp: D.ContinuousBernoulli(probs=tp["probs"]),
         torch_cdf_source=cb_torch_cdf_source,
         # torch's icdf forms -p + q (2p - 1) before a log: q = 1e-12 loses its digits.
         torch_icdf_min_q=1e-6,
         xc_exempt={
             ("cdf", "torch(0.499<p<=0.501)"):
                 "torch returns the uniform cdf for 0.499 < probs <= 0.501",
             ("icdf", "torch(0.499<p<=0.501)"):
                 "torch returns the uniform icdf for 0.499 < probs <= 0.501",
             ("grad_cdf", "torch(0.499<p<=0.501)"):
                 "torch returns the uniform cdf for 0.499 < probs <= 0.501",
         }),
]

if __name__ == "__main__":
    main(DISTS)
