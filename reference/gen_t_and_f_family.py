#!/usr/bin/env python3
"""Reference data for Student's t and the Fisher-Snedecor (F) distribution.

Writes their cases into ``shape_families.json`` (replacing the previous cases
of these two distributions, keeping the others).  Regenerate from the
repository root with::

    .venv/bin/python reference/gen_t_and_f_family.py

The formulas are written out below in mpmath; the shared machinery is in
``refcases.py``.  Both cdfs are regularised incomplete beta functions.  torch
has no FisherSnedecor entropy: the closed form is checked against quadrature of
-p log p.
"""

from refcases import (HALF, Positive, RealLine, beta_i, cases_of, cdf_picker, lgamma, main,
                      mp, mpf, note_check, quad_entropy)

# ---------------------------------------------------------------------------
# StudentT(df, loc, scale)
# ---------------------------------------------------------------------------


def studentt_log_prob(x, df, loc, scale):
    z = (x - loc) / scale
    return (lgamma((df + 1) / 2) - lgamma(df / 2) - mp.log(df * mp.pi) / 2
            - mp.log(scale) - (df + 1) / 2 * mp.log1p(z * z / df))


def studentt_cdf(x, df, loc, scale):
    # Two textbook forms, each used where its incomplete-beta argument is
    # computed without cancellation:
    #   |t| small: 1/2 + sign(t)/2 * I_{t^2/(df+t^2)}(1/2, df/2)
    #   |t| large: I_{df/(df+t^2)}(df/2, 1/2)/2 (lower tail), 1 - that (upper)
    t = (x - loc) / scale
    t2 = t * t
    if t2 < df:
        i = mp.betainc(HALF, df / 2, 0, t2 / (df + t2), regularized=True)
        return HALF + i / 2 if t >= 0 else HALF - i / 2
    tail = mp.betainc(df / 2, HALF, 0, df / (df + t2), regularized=True) / 2
    return tail if t < 0 else 1 - tail


def studentt_moments(df, loc, scale):
    if df > 2:
        var = scale**2 * df / (df - 2)
    elif df > 1:
        var = mp.inf
    else:
        var = mp.nan
    lbeta = lgamma(df / 2) + lgamma(HALF) - lgamma((df + 1) / 2)
    return {
        "entropy": mp.log(scale) + (df + 1) / 2 * (mp.digamma((df + 1) / 2) - mp.digamma(df / 2))
        + mp.log(df) / 2 + lbeta,
        "mean": loc if df > 1 else mp.nan,
        "mode": loc,
        "variance": var,
        "stddev": mp.sqrt(var),
    }


STUDENTT_CASES = [(0.5, 0.0, 1.0), (1.0, -2.5, 0.5), (2.0, 0.0, 3.0), (2.5, 1e3, 3.0),
                  (30.0, 0.0, 1.0), (1e3, -2.5, 0.5)]

# ---------------------------------------------------------------------------
# FisherSnedecor(df1, df2)
# ---------------------------------------------------------------------------


def fs_log_prob(x, df1, df2):
    a, b = df1 / 2, df2 / 2
    return (lgamma(a + b) - lgamma(a) - lgamma(b) + a * mp.log(df1 / df2)
            + (a - 1) * mp.log(x) - (a + b) * mp.log1p(df1 * x / df2))


def fs_cdf(x, df1, df2):
    # I_y(df1/2, df2/2) with y = df1 x/(df1 x + df2); 1 - y = df2/(df1 x + df2)
    den = df1 * x + df2
    return beta_i(df1 / 2, df2 / 2, df1 * x / den, df2 / den)


def fs_entropy(df1, df2):
    a, b = df1 / 2, df2 / 2
    return (lgamma(a) + lgamma(b) - lgamma(a + b) + (1 - a) * mp.digamma(a)
            - (1 + b) * mp.digamma(b) + (a + b) * mp.digamma(a + b) + mp.log(df2 / df1))


def fs_moments(df1, df2):
    if df2 > 4:
        var = 2 * df2**2 * (df1 + df2 - 2) / (df1 * (df2 - 2) ** 2 * (df2 - 4))
    else:
        var = mp.nan  # torch: NaN for df2 <= 4
    return {
        "entropy": fs_entropy(df1, df2),  # torch has none: closed form
        "mean": df2 / (df2 - 2) if df2 > 2 else mp.nan,
        "mode": (df1 - 2) / df1 * df2 / (df2 + 2) if df1 > 2 else mp.nan,
        "variance": var,
        "stddev": mp.sqrt(var),
    }


FS_CASES = [(1.0, 1.0), (2.0, 5.0), (3.0, 3.0), (10.0, 50.0), (100.0, 4.5)]


def fs_self_check(c):
    """The closed-form entropy against quadrature of -p log p."""
    with mp.workdps(30):
        p = {k: mpf(v) for k, v in c["params"].items()}
        lp = lambda t: fs_log_prob(t, **p)
        h = quad_entropy(lp, [0, 1, 10, mp.inf])
        note_check("FisherSnedecor", "entropy vs quad(-p log p)",
                   abs(h - fs_entropy(**p)) / max(1, abs(h)), mpf("1e-12"))


DISTS = [
    dict(name="StudentT", params=["df", "loc", "scale"],
         cases=cases_of(["df", "loc", "scale"], STUDENTT_CASES),
         values=cdf_picker(studentt_cdf, lambda p: RealLine(p["loc"], p["scale"]),
                           lambda p: [p["loc"]]),
         log_prob=studentt_log_prob, cdf=studentt_cdf, moments=studentt_moments,
         torch=lambda D, tp: D.StudentT(tp["df"], tp["loc"], tp["scale"]),
         scipy=lambda stats, p: stats.t(p["df"], loc=p["loc"], scale=p["scale"])),
    dict(name="FisherSnedecor", params=["df1", "df2"],
         cases=cases_of(["df1", "df2"], FS_CASES),
         values=cdf_picker(fs_cdf, lambda p: Positive()),
         log_prob=fs_log_prob, cdf=fs_cdf, moments=fs_moments, self_check=fs_self_check,
         torch=lambda D, tp: D.FisherSnedecor(tp["df1"], tp["df2"]),
         scipy=lambda stats, p: stats.f(p["df1"], p["df2"])),
]

if __name__ == "__main__":
    main(DISTS)
