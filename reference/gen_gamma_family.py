#!/usr/bin/env python3
"""Reference data for the Gamma family: Gamma, Chi2 and InverseGamma.

Writes their cases into ``shape_families.json`` (replacing the previous cases
of these three distributions, keeping the others).  Regenerate from the
repository root with::

    .venv/bin/python reference/gen_gamma_family.py

The formulas are written out below in mpmath; the shared machinery (value
placement, gradients, self-checks, cross-checks against torch and scipy) is in
``refcases.py``.  The cdfs use the regularised incomplete gamma function P or
Q, each on the side where it is small (``refcases.gamma_p``/``gamma_q``).
"""

from refcases import (HALF, Positive, cases_of, cdf_picker, gamma_p, gamma_q, lgamma,
                      main, mp, mpf)

# ---------------------------------------------------------------------------
# Gamma(concentration, rate)
# ---------------------------------------------------------------------------


def gamma_log_prob(x, concentration, rate):
    a, b = concentration, rate
    return a * mp.log(b) + (a - 1) * mp.log(x) - b * x - lgamma(a)


def gamma_cdf(x, concentration, rate):
    return gamma_p(concentration, rate * x)


def gamma_moments(concentration, rate):
    a, b = concentration, rate
    return {
        "entropy": a - mp.log(b) + lgamma(a) + (1 - a) * mp.digamma(a),
        "mean": a / b,
        "mode": max((a - 1) / b, mpf(0)),  # torch: clamp(min=0)
        "variance": a / b**2,
        "stddev": mp.sqrt(a) / b,
    }


GAMMA_CASES = [(1e-3, 1.0), (0.1, 7.5), (0.5, 1.0), (1.0, 1e-2), (2.5, 1.0),
               (2.5, 7.5), (30.0, 1e-2), (1e4, 1.0)]

# ---------------------------------------------------------------------------
# Chi2(df) = Gamma(df/2, 1/2)
# ---------------------------------------------------------------------------


def chi2_log_prob(x, df):
    return gamma_log_prob(x, df / 2, HALF)


def chi2_cdf(x, df):
    return gamma_cdf(x, df / 2, HALF)


def chi2_moments(df):
    return gamma_moments(df / 2, HALF)


CHI2_CASES = [0.1, 1.0, 3.0, 50.0]

# ---------------------------------------------------------------------------
# InverseGamma(concentration, rate): 1/X with X ~ Gamma(concentration, rate)
# ---------------------------------------------------------------------------


def invgamma_log_prob(x, concentration, rate):
    a, b = concentration, rate
    return a * mp.log(b) - lgamma(a) - (a + 1) * mp.log(x) - b / x


def invgamma_cdf(x, concentration, rate):
    return gamma_q(concentration, rate / x)


def invgamma_moments(concentration, rate):
    a, b = concentration, rate
    var = b**2 / ((a - 1) ** 2 * (a - 2)) if a > 2 else mp.inf
    return {
        "entropy": a + mp.log(b) + lgamma(a) - (1 + a) * mp.digamma(a),
        "mean": b / (a - 1) if a > 1 else mp.inf,  # torch: inf for a <= 1
        "mode": b / (a + 1),
        "variance": var,  # torch: inf for a <= 2
        "stddev": mp.sqrt(var) if a > 2 else mp.inf,
    }


INVGAMMA_CASES = [(0.5, 1.0), (1.0, 7.5), (2.0, 1.0), (3.5, 1e-2), (30.0, 1.0)]


DISTS = [
    dict(name="Gamma", params=["concentration", "rate"],
         cases=cases_of(["concentration", "rate"], GAMMA_CASES),
         values=cdf_picker(gamma_cdf, lambda p: Positive()),
         log_prob=gamma_log_prob, cdf=gamma_cdf, moments=gamma_moments,
         torch=lambda D, tp: D.Gamma(tp["concentration"], tp["rate"]),
         scipy=lambda stats, p: stats.gamma(p["concentration"], scale=1 / p["rate"])),
    dict(name="Chi2", params=["df"], cases=cases_of(["df"], [(d,) for d in CHI2_CASES]),
         values=cdf_picker(chi2_cdf, lambda p: Positive()),
         log_prob=chi2_log_prob, cdf=chi2_cdf, moments=chi2_moments,
         torch=lambda D, tp: D.Chi2(tp["df"]),
         scipy=lambda stats, p: stats.chi2(p["df"])),
    dict(name="InverseGamma", params=["concentration", "rate"],
         cases=cases_of(["concentration", "rate"], INVGAMMA_CASES),
         values=cdf_picker(invgamma_cdf, lambda p: Positive()),
         log_prob=invgamma_log_prob, cdf=invgamma_cdf, moments=invgamma_moments,
         torch=lambda D, tp: D.InverseGamma(tp["concentration"], tp["rate"]),
         scipy=lambda stats, p: stats.invgamma(p["concentration"], scale=p["rate"]),
         # torch's cdf is 1 - P: values near 0 lose relative accuracy there.
         abs_metric={("cdf", "torch"), ("grad_cdf", "torch")}),
]

if __name__ == "__main__":
    main(DISTS)
