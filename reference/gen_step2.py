#!/usr/bin/env python3
"""Reference-data generator for the "step 2" distributions.

Writes two files next to this script:

* ``step2.json``: univariate cases for Gamma, Chi2, InverseGamma, Beta,
  StudentT, FisherSnedecor, Kumaraswamy, GeneralizedPareto,
  ContinuousBernoulli, VonMises and TruncatedNormal.  The per-case schema is
  the one of ``location_scale.json``; ``q``/``icdf`` are present only for the
  distributions with an explicit inverse CDF (Kumaraswamy,
  GeneralizedPareto, ContinuousBernoulli, TruncatedNormal).
* ``dirichlet.json``: Dirichlet cases (vector parameter, vector values).

Regenerate from the repository root with::

    .venv/bin/python reference/gen_step2.py

Conventions (the same contract as ``gen_location_scale.py``):

* Every output number comes from mpmath at ``mp.dps = 50``, from the closed
  forms written in this file.  torch and scipy are only used for cross-checks
  that are printed to stdout and never feed the JSON.
* Parameter names, parameterisations and moment conventions (NaN vs inf) are
  torch's; where torch has no value (FisherSnedecor/VonMises entropy,
  ContinuousBernoulli mode, TruncatedNormal altogether) or is wrong
  (Kumaraswamy mode) the choice is documented in reference/README.md.
* Inputs (parameters, values, quantiles) are rounded to float32 first and all
  outputs are computed from the rounded inputs.
* Gradients come from ``mpmath.diff`` at 400 digits applied to the same
  mpmath functions.  Exception: the VonMises cdf is a Fourier series summed
  with up to ~1000 digits; its gradients are written out (d/dvalue = pdf,
  d/dloc = -pdf, d/dconcentration = the differentiated series), see
  ``vm_cdf_grads``, and checked against quadrature.
* Outputs are rounded to the nearest float64; non-finite numbers are written
  as "nan", "inf", "-inf".

The script exits non-zero if an internal self-check fails or if a
cross-check against torch (float64) or scipy disagrees by more than
``XC_TOL`` (relative) outside the documented exceptions (``XC_EXEMPT``).
"""

import json
import math
import sys
import warnings
from pathlib import Path

import mpmath
import numpy as np
from mpmath import mp, mpf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refcommon import f32, json_number, to_f64  # noqa: E402

mp.dps = 50

HERE = Path(__file__).resolve().parent
OUT_UNIVARIATE = HERE / "step2.json"
OUT_DIRICHLET = HERE / "dirichlet.json"

# Same quantile grid as location_scale.json (1 - 1e-9 is exactly 1 in f32).
Q_GRID = [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.999, 1 - 1e-9]
Q_VALUES = sorted(set(f32(q) for q in Q_GRID))

# See gen_location_scale.py: at 400 digits the central-difference noise of
# mpmath.diff (~1e-410 |f|) is below the float64 range, so exact zeros stay 0
# and derivatives of cdf values like 1 - 1e-7000 keep their accuracy.
DIFF_DPS = 400

F32_TINY = 1.1754943508222875e-38  # smallest normal float32
F32_MAX = 3.4028234663852886e38

HALF = mpf(1) / 2


def lgamma(a):
    """log Gamma(a) for a > 0.  log(gamma(a)) rather than mpmath's loggamma,
    which is very slow near its zeros (a = 1, 2) at the 800-digit working
    precision of mpmath.diff; mpmath numbers do not overflow."""
    return mp.log(mp.gamma(a))


def sqrt2():
    return mp.sqrt(2)


def ln_sqrt_2pi():
    return mp.log(2 * mp.pi) / 2


# ---------------------------------------------------------------------------
# Coordinates used to place values: monotone maps u -> x onto the support, so
# that bisection for a quantile and "fill in the largest gap" work uniformly.
# ---------------------------------------------------------------------------


class Positive:
    """x = exp(u) on (0, inf); x within [smallest normal f32, 1e30]."""

    def __init__(self):
        self.umin, self.umax = math.log(F32_TINY) + 0.01, math.log(1e30)

    def fwd(self, u):
        return mp.exp(u)

    def inv(self, x):
        return mp.log(x)

    def inside(self, x):
        return F32_TINY <= x <= 1e30


class RealLine:
    """x = loc + scale * sinh(u), |z| <= 1e17."""

    def __init__(self, loc, scale):
        self.loc, self.scale = mpf(loc), mpf(scale)
        self.umax = float(mp.asinh(1e17))
        self.umin = -self.umax

    def fwd(self, u):
        return self.loc + self.scale * mp.sinh(u)

    def inv(self, x):
        return mp.asinh((mpf(x) - self.loc) / self.scale)

    def inside(self, x):
        return math.isfinite(x) and abs(x) < F32_MAX


class Window(RealLine):
    """RealLine coordinates restricted to the open interval (low, high)."""

    def __init__(self, loc, scale, low, high):
        super().__init__(loc, scale)
        self.low, self.high = low, high

    def inside(self, x):
        return self.low < x < self.high and (x == 0 or abs(x) >= F32_TINY)


class LowerBounded:
    """x = low + scale * exp(u) on (low, inf), x - low in [1e-30, 1e17] scale."""

    def __init__(self, low, scale):
        self.low, self.scale = mpf(low), mpf(scale)
        self.umin, self.umax = math.log(1e-30), math.log(1e17)

    def fwd(self, u):
        return self.low + self.scale * mp.exp(u)

    def inv(self, x):
        return mp.log((mpf(x) - self.low) / self.scale)

    def inside(self, x):
        return x > self.low and (x == 0 or abs(x) >= F32_TINY) and abs(x) < 1e30


class Interval:
    """x = a + (b - a) * sigmoid(u) on the open interval (a, b)."""

    def __init__(self, a, b):
        self.a, self.b = mpf(a), mpf(b)
        self.umin, self.umax = -87.0, 87.0

    def fwd(self, u):
        return self.a + (self.b - self.a) / (1 + mp.exp(-u))

    def inv(self, x):
        t = (mpf(x) - self.a) / (self.b - self.a)
        return mp.log(t / (1 - t))

    def inside(self, x):
        return self.a < x < self.b and (x == 0 or abs(x) >= F32_TINY)


# Probability levels for the values: ("lo", p) means cdf = p, ("hi", s) means
# 1 - cdf = s.  Levels that fall outside the representable window collapse to
# its edge (and are deduplicated); missing points are then filled in.
LEVELS = [("lo", 1e-30), ("lo", 1e-8), ("lo", 1e-3), ("lo", 0.05), ("lo", 0.3),
          ("lo", 0.5), ("lo", 0.75), ("hi", 0.05), ("hi", 1e-4), ("hi", 1e-10)]
MIN_VALUES = 8
MAX_VALUES = 12


def bisect_level(cdf, coord, side, level, iters=34):
    """u with cdf(coord.fwd(u)) = level ("lo") or 1 - cdf = level ("hi"),
    clamped to [umin, umax].  Only used to *place* values (low precision)."""
    lo, hi = mpf(coord.umin), mpf(coord.umax)
    target = mpf(level)

    def g(u):  # increasing in u
        c = cdf(coord.fwd(u))
        return c - target if side == "lo" else target - (1 - c)

    if g(lo) >= 0:
        return lo
    if g(hi) <= 0:
        return hi
    for _ in range(iters):
        mid = (lo + hi) / 2
        if g(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def pick_values(coord, cdf=None, icdf=None, extra=()):
    """Float32 values at the LEVELS, from the explicit icdf when there is one
    and by bisection on the cdf otherwise; then edge extras, dedupe, and fill
    the widest gaps (in the coordinate u) up to MIN_VALUES points."""
    xs = []
    with mp.workdps(30):
        for side, level in LEVELS:
            if icdf is not None:
                with mp.workdps(60):
                    q = mpf(level) if side == "lo" else 1 - mpf(level)
                    x = icdf(q)
                    u = coord.inv(x) if mp.isfinite(x) else mpf(coord.umax)
                u = min(max(u, mpf(coord.umin)), mpf(coord.umax))
            else:
                u = bisect_level(cdf, coord, side, level)
            xs.append(f32(float(coord.fwd(u))))
    xs += [f32(e) for e in extra]
    vals = sorted(set(x for x in xs if coord.inside(x)))
    with mp.workdps(30):
        for _ in range(40):
            if len(vals) >= MIN_VALUES:
                break
            us = [coord.inv(v) for v in vals]
            gaps = sorted(((us[i + 1] - us[i], i) for i in range(len(us) - 1)), reverse=True)
            added = False
            for _, i in gaps:
                x = f32(float(coord.fwd((us[i] + us[i + 1]) / 2)))
                if coord.inside(x) and x not in vals:
                    vals = sorted(vals + [x])
                    added = True
                    break
            if not added:
                break
    assert len(vals) <= MAX_VALUES, vals
    return vals


def near_edges(a, b):
    """Two points just inside a bounded interval (a, b)."""
    w = b - a
    return [a + 1e-6 * w, b - 1e-6 * w]


# ---------------------------------------------------------------------------
# Incomplete gamma / beta, regularised, evaluated on the side where the result
# is small (then 1 - small on the other side), so every number is relatively
# accurate and needs no cancellation inside mpmath.
# ---------------------------------------------------------------------------


def _q_digits(a, x):
    """Rough -log10 Q(a, x) for x > a + 1 (from the leading asymptotic term)."""
    with mp.workdps(15):
        return int((x - (a - 1) * mp.log(x) + mp.loggamma(a)) / mp.log(10))


def gamma_p(a, x):
    # The lower series is fast and relatively accurate; for x so large that
    # Q(a, x) < 1e-600 it would need ~x terms, and P = 1 - Q is used instead.
    if x <= 0:
        return mpf(0)
    if x < a + 1 or _q_digits(a, x) < 600:
        return mp.gammainc(a, 0, x, regularized=True)
    return 1 - mp.gammainc(a, x, mp.inf, regularized=True)


def gamma_q(a, x):
    # 1 - P(a, x), with P summed with as many extra digits as the
    # subtraction cancels (mpmath's own upper incomplete gamma is much slower
    # at the 800-digit precision of mpmath.diff); the upper function only
    # when Q < 1e-600.
    if x <= 0:
        return mpf(1)
    if x < a + 1:
        return 1 - mp.gammainc(a, 0, x, regularized=True)
    digits = _q_digits(a, x)
    if digits < 600:
        with mp.workdps(mp.dps + digits + 10):
            res = 1 - mp.gammainc(a, 0, x, regularized=True)
        return +res
    return mp.gammainc(a, x, mp.inf, regularized=True)


def beta_i(a, b, x, one_minus_x=None):
    """I_x(a, b).  ``one_minus_x`` may be given when 1 - x is known more
    accurately than by subtraction."""
    omx = 1 - x if one_minus_x is None else one_minus_x
    if x <= a / (a + b):
        return mp.betainc(a, b, 0, x, regularized=True)
    return 1 - mp.betainc(b, a, 0, omx, regularized=True)


# ---------------------------------------------------------------------------
# 1. Gamma(concentration, rate)
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
# 2. Chi2(df) = Gamma(df/2, 1/2)
# ---------------------------------------------------------------------------


def chi2_log_prob(x, df):
    return gamma_log_prob(x, df / 2, HALF)


def chi2_cdf(x, df):
    return gamma_cdf(x, df / 2, HALF)


def chi2_moments(df):
    return gamma_moments(df / 2, HALF)


CHI2_CASES = [0.1, 1.0, 3.0, 50.0]

# ---------------------------------------------------------------------------
# 3. InverseGamma(concentration, rate): 1/X with X ~ Gamma(concentration, rate)
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

# ---------------------------------------------------------------------------
# 4. Beta(concentration1, concentration0)
# ---------------------------------------------------------------------------


def beta_log_prob(x, concentration1, concentration0):
    a, b = concentration1, concentration0
    return (a - 1) * mp.log(x) + (b - 1) * mp.log(1 - x) - mp.log(mp.beta(a, b))


def beta_cdf(x, concentration1, concentration0):
    return beta_i(concentration1, concentration0, x)


def dirichlet_mode(alpha):
    """torch's Dirichlet.mode: clamp(alpha - 1, min=0) normalised; when *all*
    alpha < 1 the result is the one-hot vector at argmax of that (all 0/0 =
    NaN) vector, which torch's argmax resolves to index 0.  When the clamped
    vector is all zero but not all alpha < 1 (e.g. all alpha == 1) it stays
    NaN."""
    m1 = [max(a - 1, mpf(0)) for a in alpha]
    s = sum(m1)
    if all(a < 1 for a in alpha):
        return [mpf(1)] + [mpf(0)] * (len(alpha) - 1)
    if s == 0:
        return [mp.nan] * len(alpha)
    return [m / s for m in m1]


def beta_moments(concentration1, concentration0):
    a, b = concentration1, concentration0
    t = a + b
    var = a * b / (t**2 * (t + 1))
    return {
        "entropy": mp.log(mp.beta(a, b)) - (a - 1) * mp.digamma(a)
        - (b - 1) * mp.digamma(b) + (t - 2) * mp.digamma(t),
        "mean": a / t,
        "mode": dirichlet_mode([a, b])[0],  # torch: Dirichlet([a, b]).mode[0]
        "variance": var,
        "stddev": mp.sqrt(var),
    }


BETA_CASES = [(0.01, 0.01), (0.5, 0.5), (1.0, 1.0), (1.0, 3.0), (2.5, 7.0), (100.0, 1000.0)]

# ---------------------------------------------------------------------------
# 5. StudentT(df, loc, scale)
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
# 6. FisherSnedecor(df1, df2)
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

# ---------------------------------------------------------------------------
# 7. Kumaraswamy(concentration1 = a, concentration0 = b)
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
# 8. GeneralizedPareto(loc, scale, concentration = xi)
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
# 9. ContinuousBernoulli(probs = lam)
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

# ---------------------------------------------------------------------------
# 10. VonMises(loc, concentration = kappa)
#     log p(x) = kappa cos(x - loc) - log(2 pi I0(kappa)), any real x.
#     cdf (our own definition; torch has none): F(x) = int_{loc-pi}^{x} p for
#     x in [loc - pi, loc + pi] (so F(loc) = 1/2).  With u = x - loc it is the
#     Fourier series
#         G(u) = (u + pi)/(2 pi) + (1/pi) sum_{n>=1} rho_n sin(n u)/n,
#     rho_n = I_n(kappa)/I_0(kappa), evaluated at u = -|u| (and 1 - G(-u) for
#     u > 0).  The series cancels down to the tail value (~1e-869 near the edge
#     for kappa = 1e3), so it is summed with that many extra digits; the
#     ratios I_n/I_{n-1} come from their continued fraction (backward
#     recurrence).  Checked against quadrature in extra_self_checks.
# ---------------------------------------------------------------------------


def vm_log_prob(x, loc, concentration):
    k = concentration
    return k * mp.cos(x - loc) - mp.log(2 * mp.pi) - mp.log(mp.besseli(0, k))


def _vm_norm(k):
    # 2 pi e^{-k} I0(k): the density of u is exp(k (cos u - 1)) / norm
    return 2 * mp.pi * mp.exp(-k) * mp.besseli(0, k)


def _vm_series(u, k, deriv=False, extra=0):
    """G(u) for u <= 0, or dG/dkappa (deriv=True) from d rho_n/d kappa =
    (rho_{n-1} + rho_{n+1})/2 - rho_n rho_1 (since I_n' = (I_{n-1} + I_{n+1})/2)."""
    with mp.workdps(20):
        lg = (k * (mp.cos(u) - 1) - mp.log(_vm_norm(k))) / mp.log(10)  # log10 p0(u)
    dps = mp.dps + 20 + extra + max(0, int(-lg))
    with mp.workdps(dps):
        u, k = mpf(u), mpf(k)
        n_max = int(math.sqrt(2 * float(k) * dps * 2.31)) + dps + 30
        ratios = [mpf(0)] * (n_max + 2)
        r = mpf(0)
        for n in range(n_max + 1, 0, -1):
            r = 1 / (2 * n / k + r)  # I_n / I_{n-1}
            ratios[n] = r
        rho = [mpf(1)]
        for n in range(1, n_max + 2):
            rho.append(rho[-1] * ratios[n])
        c2 = 2 * mp.cos(u)
        s_prev, s_cur = mpf(0), mp.sin(u)  # sin(n u) by the Chebyshev recurrence
        total = mpf(0)
        for n in range(1, n_max + 1):
            w = (rho[n - 1] + rho[n + 1]) / 2 - rho[n] * rho[1] if deriv else rho[n]
            total += w * s_cur / n
            s_prev, s_cur = s_cur, c2 * s_cur - s_prev
        res = total / mp.pi if deriv else (u + mp.pi) / (2 * mp.pi) + total / mp.pi
    return +res


def vm_cdf(x, loc, concentration):
    u = mpf(x) - loc
    if u == 0:
        return HALF
    g = _vm_series(-abs(u), concentration)
    return g if u < 0 else 1 - g


def vm_cdf_grads(x, loc, concentration):
    """Derivatives of F(x) = G(x - loc; kappa): d/dx = p(x), d/dloc = -p(x),
    d/dkappa from the differentiated series (odd in u, exactly 0 at u = 0)."""
    k = concentration
    p = mp.exp(vm_log_prob(x, loc, k))
    u = mpf(x) - loc
    if u == 0:
        dk = mpf(0)
    else:
        g = _vm_series(-abs(u), k, deriv=True)
        dk = g if u < 0 else -g
    return {"loc": -p, "concentration": dk, "value": p}


def vm_quad_tail(u, k, weight=None):
    """Self-check only: int_{-pi}^{u} w(t) p0(t) dt for u < 0 by tanh-sinh
    quadrature, with the integrand scaled to peak ~1 at t = u (mp.quad's
    tolerance is absolute)."""
    with mp.workdps(80):
        u, k = mpf(u), mpf(k)
        pts = sorted(set([-mp.pi] + [u - d for d in (1, mpf("0.1"), mpf("0.01")) if u - d > -mp.pi] + [u]))
        w = weight if weight is not None else (lambda t: 1)
        val = mp.quad(lambda t: w(t) * mp.exp(k * (mp.cos(t) - mp.cos(u))), pts)
        res = val * mp.exp(k * (mp.cos(u) - 1)) / _vm_norm(k)
    return +res


def vm_moments(loc, concentration):
    k = concentration
    a = mp.besseli(1, k) / mp.besseli(0, k)
    return {
        "entropy": -k * a + mp.log(2 * mp.pi * mp.besseli(0, k)),  # torch has none
        "mean": loc,  # circular mean (torch)
        "mode": loc,
        "variance": 1 - a,  # circular variance (torch)
        "stddev": mp.sqrt(1 - a),
    }


VM_CASES = [(0.0, 1e-2), (-2.5, 0.5), (1.0, 4.0), (0.0, 100.0), (0.5, 1e3)]
VM_U = [-3.14, -2.0, -0.7, 0.0, 1.0, 2.5, 3.14]


def vm_values(p):
    loc, k = mpf(p["loc"]), p["concentration"]
    us = list(VM_U)
    if k > 4:
        us += [z / math.sqrt(k) for z in (-3.0, -1.0, 0.5, 2.0)]
    xs = set()
    for u in us:
        x = f32(p["loc"] + u)
        if loc - mp.pi < x < loc + mp.pi:
            xs.add(x)
    return sorted(xs)


# ---------------------------------------------------------------------------
# 11. TruncatedNormal(loc, scale, low, high) (not in torch).
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


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def cases_of(names, tuples):
    return [{n: f32(v) for n, v in zip(names, t)} for t in tuples]


def cdf_picker(d, coord_fn, extra_fn=None):
    """values(p) by bisection on the mpmath cdf."""

    def values(p):
        mpp = {k: mpf(v) for k, v in p.items()}
        return pick_values(coord_fn(p), cdf=lambda x: d(x, **mpp),
                           extra=extra_fn(p) if extra_fn else ())

    return values


def icdf_picker(icdf, coord_fn, extra_fn=None):
    def values(p):
        mpp = {k: mpf(v) for k, v in p.items()}
        return pick_values(coord_fn(p), icdf=lambda q: icdf(q, **mpp),
                           extra=extra_fn(p) if extra_fn else ())

    return values


UNIT = lambda p: Interval(0.0, 1.0)

DISTS = [
    dict(name="Gamma", params=["concentration", "rate"],
         cases=cases_of(["concentration", "rate"], GAMMA_CASES),
         values=cdf_picker(gamma_cdf, lambda p: Positive()),
         log_prob=gamma_log_prob, cdf=gamma_cdf, moments=gamma_moments),
    dict(name="Chi2", params=["df"], cases=cases_of(["df"], [(d,) for d in CHI2_CASES]),
         values=cdf_picker(chi2_cdf, lambda p: Positive()),
         log_prob=chi2_log_prob, cdf=chi2_cdf, moments=chi2_moments),
    dict(name="InverseGamma", params=["concentration", "rate"],
         cases=cases_of(["concentration", "rate"], INVGAMMA_CASES),
         values=cdf_picker(invgamma_cdf, lambda p: Positive()),
         log_prob=invgamma_log_prob, cdf=invgamma_cdf, moments=invgamma_moments),
    dict(name="Beta", params=["concentration1", "concentration0"],
         cases=cases_of(["concentration1", "concentration0"], BETA_CASES),
         values=cdf_picker(beta_cdf, UNIT, lambda p: near_edges(0.0, 1.0)),
         log_prob=beta_log_prob, cdf=beta_cdf, moments=beta_moments),
    dict(name="StudentT", params=["df", "loc", "scale"],
         cases=cases_of(["df", "loc", "scale"], STUDENTT_CASES),
         values=cdf_picker(studentt_cdf, lambda p: RealLine(p["loc"], p["scale"]),
                           lambda p: [p["loc"]]),
         log_prob=studentt_log_prob, cdf=studentt_cdf, moments=studentt_moments),
    dict(name="FisherSnedecor", params=["df1", "df2"],
         cases=cases_of(["df1", "df2"], FS_CASES),
         values=cdf_picker(fs_cdf, lambda p: Positive()),
         log_prob=fs_log_prob, cdf=fs_cdf, moments=fs_moments),
    dict(name="Kumaraswamy", params=["concentration1", "concentration0"],
         cases=cases_of(["concentration1", "concentration0"], KUMA_CASES),
         values=icdf_picker(kuma_icdf, UNIT, lambda p: near_edges(0.0, 1.0)),
         log_prob=kuma_log_prob, cdf=kuma_cdf, icdf=kuma_icdf, moments=kuma_moments),
    dict(name="GeneralizedPareto", params=["loc", "scale", "concentration"],
         cases=cases_of(["loc", "scale", "concentration"], GP_CASES),
         values=icdf_picker(gp_icdf, gp_coord, gp_extra),
         log_prob=gp_log_prob, cdf=gp_cdf, icdf=gp_icdf, moments=gp_moments),
    dict(name="ContinuousBernoulli", params=["probs"],
         cases=cases_of(["probs"], [(p,) for p in CB_CASES]),
         values=lambda p: sorted(set(f32(v) for v in CB_VALUES)),
         log_prob=cb_log_prob, cdf=cb_cdf, icdf=cb_icdf, moments=cb_moments),
    dict(name="VonMises", params=["loc", "concentration"],
         cases=cases_of(["loc", "concentration"], VM_CASES),
         values=vm_values, log_prob=vm_log_prob, cdf=vm_cdf, cdf_grads=vm_cdf_grads,
         moments=vm_moments),
    dict(name="TruncatedNormal", params=["loc", "scale", "low", "high"],
         cases=cases_of(["loc", "scale", "low", "high"], TN_CASES),
         values=icdf_picker(tn_icdf, lambda p: Window(p["loc"], p["scale"], p["low"], p["high"]),
                            tn_extra),
         log_prob=tn_log_prob, cdf=tn_cdf, icdf=tn_icdf, moments=tn_moments),
]

# ---------------------------------------------------------------------------
# Case evaluation
# ---------------------------------------------------------------------------


def partial(fn, x, mp_params, wrt):
    """d fn(x, **params) / d wrt by mpmath.diff at DIFF_DPS digits."""
    with mp.workdps(DIFF_DPS):
        if wrt == "value":
            d = mp.diff(lambda t: fn(t, **mp_params), x)
        else:
            d = mp.diff(lambda t: fn(x, **dict(mp_params, **{wrt: t})), mp_params[wrt])
    return +d


SELF_CHECK = {}  # (dist, what) -> (max rel error, limit)


def note_check(dist, what, rel, limit=mpf("1e-30")):
    key = (dist, what)
    old = SELF_CHECK.get(key, (mpf(0), limit))[0]
    SELF_CHECK[key] = (max(old, rel), limit)


def rel_err(a, b):
    if a == b:
        return mpf(0)
    return abs(a - b) / max(abs(a), abs(b))


def conv(xs):
    return [json_number(to_f64(x)) for x in xs]


def evaluate_case(d, params):
    name = d["name"]
    mp_params = {k: mpf(v) for k, v in params.items()}
    values = d["values"](params)
    assert 6 <= len(values) <= MAX_VALUES, (name, params, values)

    keys = d["params"] + ["value"]
    log_prob, cdf = [], []
    g_lp = {k: [] for k in keys}
    g_cdf = {k: [] for k in keys}
    for v in values:
        x = mpf(v)
        lp = d["log_prob"](x, **mp_params)
        c = d["cdf"](x, **mp_params)
        log_prob.append(lp)
        cdf.append(c)
        for k in keys:
            g_lp[k].append(partial(d["log_prob"], x, mp_params, k))
        if "cdf_grads" in d:
            gc = d["cdf_grads"](x, **mp_params)
            for k in keys:
                g_cdf[k].append(gc[k])
        else:
            for k in keys:
                g_cdf[k].append(partial(d["cdf"], x, mp_params, k))
        dens = mp.exp(lp)
        if abs(dens) > mpf("1e-330") or abs(g_cdf["value"][-1]) > mpf("1e-330"):
            # Below that both round to 0 in float64 (there the cdf is 1 - 1e-5000
            # or so, and mpmath.diff at 400 digits returns exactly 0).
            note_check(name, "dcdf/dx vs exp(log_prob)", rel_err(g_cdf["value"][-1], dens))
        assert 0 <= c <= 1, (name, params, v, c)

    case = {
        "dist": name,
        "params": dict(params),
        "values": list(values),
        "log_prob": conv(log_prob),
        "cdf": conv(cdf),
        "grad_log_prob": {k: conv(vs) for k, vs in g_lp.items()},
        "grad_cdf": {k: conv(vs) for k, vs in g_cdf.items()},
    }
    if "icdf" in d:
        icdf = []
        for q in Q_VALUES:
            xq = d["icdf"](mpf(q), **mp_params)
            icdf.append(xq)
            if mp.isfinite(xq) and q < 1:
                note_check(name, "cdf(icdf(q)) vs q", rel_err(d["cdf"](xq, **mp_params), mpf(q)))
        case["q"] = list(Q_VALUES)
        case["icdf"] = conv(icdf)
    if name == "ContinuousBernoulli":
        # Informational: the equivalent logits parameter (float64, not f32-exact).
        case["logits"] = json_number(to_f64(cb_logit(mp_params["probs"])))
    moments = d["moments"](**mp_params)
    for key in ["entropy", "mean", "mode", "variance", "stddev"]:
        case[key] = json_number(to_f64(moments[key]))
    return case


# ---------------------------------------------------------------------------
# Extra self-checks of the hand-written formulas (mpmath only)
# ---------------------------------------------------------------------------


def quad_entropy(logpdf, pts):
    f = lambda t: -mp.exp(logpdf(t)) * logpdf(t)
    return mp.quad(f, pts)


def extra_self_checks(cases):
    for c in cases:
        if c["dist"] != "VonMises":
            continue
        p = {k: mpf(v) for k, v in c["params"].items()}
        k = p["concentration"]
        # Series (used for the output) vs quadrature of the density and of
        # its kappa-derivative, and vs the series with 40 more digits.
        with mp.workdps(90):
            a1 = mp.besseli(1, k) / mp.besseli(0, k)
        for v in c["values"]:
            u = -abs(mpf(v) - p["loc"])
            if u == 0:
                continue
            g = _vm_series(u, k)
            note_check("VonMises", "cdf tail: series vs quadrature", rel_err(g, vm_quad_tail(u, k)),
                       mpf("1e-45"))
            note_check("VonMises", "cdf tail: series vs series(+40 digits)",
                       rel_err(g, _vm_series(u, k, extra=40)), mpf("1e-45"))
            dk = _vm_series(u, k, deriv=True)
            dq = vm_quad_tail(u, k, weight=lambda t: mp.cos(t) - a1)
            note_check("VonMises", "dcdf/dkappa: series vs quadrature", rel_err(dk, dq), mpf("1e-40"))
    with mp.workdps(30):
        for c in cases:
            p = {k: mpf(v) for k, v in c["params"].items()}
            if c["dist"] == "FisherSnedecor":
                lp = lambda t: fs_log_prob(t, **p)
                h = quad_entropy(lp, [0, 1, 10, mp.inf])
                note_check("FisherSnedecor", "entropy vs quad(-p log p)",
                           abs(h - fs_entropy(**p)) / max(1, abs(h)), mpf("1e-12"))
            if c["dist"] == "VonMises":
                k = p["concentration"]
                lp = lambda t: vm_log_prob(t, mpf(0), k)
                s = 1 / mp.sqrt(k)
                pts = sorted(set([-mp.pi, -min(4 * s, 1), 0, min(4 * s, 1), mp.pi]))
                h = quad_entropy(lp, pts)
                note_check("VonMises", "entropy vs quad(-p log p)",
                           abs(h - vm_moments(mpf(0), k)["entropy"]) / max(1, abs(h)), mpf("1e-20"))
            if c["dist"] in ("Kumaraswamy", "ContinuousBernoulli", "TruncatedNormal"):
                name = c["dist"]
                d = next(dd for dd in DISTS if dd["name"] == name)
                if name == "TruncatedNormal":
                    lo, hi = p["low"], min(p["high"], p["loc"] + 40 * p["scale"])
                else:
                    lo, hi = mpf(0), mpf(1)
                if name == "Kumaraswamy" and (p["concentration1"] < 1 or p["concentration0"] < 1):
                    continue  # integrable endpoint singularities: skip the quadrature
                lp = lambda t: d["log_prob"](t, **p)
                pdf = lambda t: mp.exp(lp(t))
                pts = [lo, (lo + hi) / 2, hi]
                m = mp.quad(lambda t: t * pdf(t), pts)
                var = mp.quad(lambda t: (t - m) ** 2 * pdf(t), pts)
                h = quad_entropy(lp, pts)
                mom = d["moments"](**p)
                note_check(name, "mean/variance/entropy vs quadrature",
                           max(rel_err(m, mom["mean"]), rel_err(var, mom["variance"]),
                               abs(h - mom["entropy"]) / max(1, abs(h))), mpf("1e-15"))


# ---------------------------------------------------------------------------
# Cross-checks against torch (float64) and scipy: stdout only
# ---------------------------------------------------------------------------

XC_TOL = 1e-8
XC = {}  # (dist, method, source) -> max disagreement

# (dist, method, source) -> reason.  Printed but not enforced.
XC_EXEMPT = {
    **{(d, "grad_cdf", "scipy-fd"): "informational: finite differences of scipy's cdf, step 1e-6"
       for d in ("Gamma", "Chi2", "InverseGamma", "Beta", "StudentT", "FisherSnedecor",
                 "GeneralizedPareto", "VonMises", "TruncatedNormal")},
    ("VonMises", "log_prob", "torch"): "torch's I0 is a ~1e-7 polynomial approximation (Abramowitz-Stegun)",
    ("VonMises", "variance", "torch"): "torch's I1/I0 uses the same polynomial approximation",
    ("VonMises", "stddev", "torch"): "torch's I1/I0 uses the same polynomial approximation",
    ("VonMises", "grad_log_prob", "torch"): "torch's I0 is a polynomial approximation",
    ("Kumaraswamy", "mode", "torch"): "torch's formula is wrong (NaN for every parameter)",
    ("ContinuousBernoulli", "cdf", "torch(0.499<p<=0.501)"):
        "torch returns the uniform cdf for 0.499 < probs <= 0.501",
    ("ContinuousBernoulli", "icdf", "torch(0.499<p<=0.501)"):
        "torch returns the uniform icdf for 0.499 < probs <= 0.501",
    ("ContinuousBernoulli", "grad_cdf", "torch(0.499<p<=0.501)"):
        "torch returns the uniform cdf for 0.499 < probs <= 0.501",
    ("GeneralizedPareto", "grad_log_prob", "torch(xi=0)"):
        "torch's autograd gives d/dconcentration = 0 at concentration == 0",
    ("GeneralizedPareto", "grad_cdf", "torch(xi=0)"):
        "torch's autograd gives d/dconcentration = 0 at concentration == 0",
    ("GeneralizedPareto", "grad_log_prob", "torch(xi=-1)"):
        "torch's where(1/xi + 1 == 0, ...) gives d/dconcentration = 1 instead of log1p(-z)",
    ("VonMises", "cdf", "scipy(kappa>=50)"):
        "scipy uses a normal approximation (~1e-6) for kappa >= 50; ours is checked against the series",
    ("TruncatedNormal", "entropy", "scipy(tail/narrow)"):
        "scipy's truncnorm entropy is wrong far in the tail (quadrature agrees with ours)",
    ("TruncatedNormal", "variance", "scipy(tail/narrow)"):
        "scipy's closed form cancels ~7 digits in the narrow window",
    ("TruncatedNormal", "mean", "scipy(tail/narrow)"): "as variance",
}

# Where the other side subtracts from 1 (torch: InverseGamma cdf = 1 - P,
# GeneralizedPareto cdf = 1 - exp(log sf), Kumaraswamy through 1 - x^a and
# 1 - (1-q)^(1/b); scipy: VonMises cdf, a series summed in float64), values near 0 lose
# relative accuracy: those rows are measured absolutely, |ours - theirs|.
ABS_METRIC = {("InverseGamma", "cdf", "torch"), ("GeneralizedPareto", "cdf", "torch"),
              ("InverseGamma", "grad_cdf", "torch"), ("GeneralizedPareto", "grad_cdf", "torch"),
              ("Kumaraswamy", "cdf", "torch"), ("Kumaraswamy", "grad_cdf", "torch"),
              ("VonMises", "cdf", "scipy")}
# Rows where points at which the other side returns +-inf/NaN (and ours is
# finite) are skipped and counted: torch's Kumaraswamy log_prob is -inf where
# 1 - x^a rounds to 1 (tiny x) or x^a to 1; torch's GeneralizedPareto cdf
# gradient is NaN where its cdf = 1 - exp(log sf) rounds to 0.
SKIP_NONFINITE = {("Kumaraswamy", "log_prob", "torch"), ("Kumaraswamy", "grad_log_prob", "torch"),
                  ("GeneralizedPareto", "grad_cdf", "torch")}
XC_SKIPPED = {}
LOG_METRIC = {"log_prob", "entropy", "grad_log_prob", "grad_cdf"}

TINY = 1e-290


def fnum(v):
    return float(v) if isinstance(v, str) else float(v)


XC_WHERE = {}  # key -> (disagreement, params, index, ours, theirs) of the worst point
CURRENT = {}  # params of the case being cross-checked (for XC_WHERE)


def xc(dist, method, source, ours, theirs):
    ours = np.atleast_1d(np.asarray([fnum(v) for v in np.atleast_1d(ours)], float))
    theirs = np.atleast_1d(np.asarray(theirs, float))
    assert ours.shape == theirs.shape, (dist, method, source, ours.shape, theirs.shape)
    metric = "abs" if (dist, method, source) in ABS_METRIC else (
        "log" if method in LOG_METRIC else "rel")
    worst, where = 0.0, None
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a == b or (math.isnan(a) and math.isnan(b)):
            continue
        if not (math.isfinite(a) and math.isfinite(b)):
            if math.isfinite(a) and (dist, method, source) in SKIP_NONFINITE:
                XC_SKIPPED[(dist, method, source)] = XC_SKIPPED.get((dist, method, source), 0) + 1
                continue
            worst, where = math.inf, (math.inf, CURRENT.get("p"), i, a, b)
            continue
        if abs(a) < TINY and abs(b) < 1e-280:
            continue  # float64 underflow region
        if metric == "abs":
            e = abs(a - b)
        elif metric == "log":
            e = abs(a - b) / max(abs(a), 1.0)
        else:
            e = abs(a - b) / abs(a) if a != 0 else abs(b)
        if e > worst:
            worst, where = e, (e, CURRENT.get("p"), i, a, b)
    key = (dist, method, source)
    XC[key] = max(XC.get(key, 0.0), worst)
    if where is not None and where[0] >= XC_WHERE.get(key, (0,))[0]:
        XC_WHERE[key] = where


def torch_dist(name, p, n):
    import torch
    from torch import distributions as D

    t = lambda v: torch.full((n,), v, dtype=torch.float64, requires_grad=True)
    tp = {k: t(v) for k, v in p.items()}
    ctor = {
        "Gamma": lambda: D.Gamma(tp["concentration"], tp["rate"]),
        "Chi2": lambda: D.Chi2(tp["df"]),
        "InverseGamma": lambda: D.InverseGamma(tp["concentration"], tp["rate"]),
        "Beta": lambda: D.Beta(tp["concentration1"], tp["concentration0"]),
        "StudentT": lambda: D.StudentT(tp["df"], tp["loc"], tp["scale"]),
        "FisherSnedecor": lambda: D.FisherSnedecor(tp["df1"], tp["df2"]),
        "Kumaraswamy": lambda: D.Kumaraswamy(tp["concentration1"], tp["concentration0"]),
        "GeneralizedPareto": lambda: D.GeneralizedPareto(tp["loc"], tp["scale"], tp["concentration"]),
        "ContinuousBernoulli": lambda: D.ContinuousBernoulli(probs=tp["probs"]),
        "VonMises": lambda: D.VonMises(tp["loc"], tp["concentration"]),
    }.get(name)
    if ctor is None:
        return None, None
    return ctor(), tp


def torch_cross_check(c):
    import torch

    torch.set_default_dtype(torch.float64)  # GeneralizedPareto mixes in torch.tensor(0.0)

    name, p = c["dist"], c["params"]
    n = len(c["values"])
    d, tp = torch_dist(name, p, n)
    if d is None:
        return
    src = "torch"
    if name == "ContinuousBernoulli" and 0.499 < p["probs"] <= 0.501 and p["probs"] != 0.5:
        src_cdf = "torch(0.499<p<=0.501)"
    else:
        src_cdf = src
    src_grad = src
    if name == "GeneralizedPareto" and p["concentration"] in (0.0, -1.0):
        src_grad = "torch(xi=%g)" % p["concentration"]

    for method, source in (("log_prob", src), ("cdf", src_cdf)):
        x = torch.tensor(c["values"], dtype=torch.float64, requires_grad=True)
        try:
            y = getattr(d, method)(x)
        except NotImplementedError:
            continue
        xc(name, method, source, c[method], y.detach().numpy())
        # Per-element gradients (the parameters are n-vectors of one value).
        inputs = [tp[k] for k in p] + [x]
        try:
            grads = torch.autograd.grad(y.sum(), inputs, allow_unused=True)
        except (NotImplementedError, RuntimeError):
            continue
        for k, g in zip(list(p) + ["value"], grads):
            if g is None:
                g = torch.zeros(n, dtype=torch.float64)
            gsrc = source
            if k == "concentration" and src_grad != src and (method == "log_prob" or src_grad == "torch(xi=0)"):
                gsrc = src_grad
            xc(name, "grad_" + method, gsrc, c["grad_" + method][k], g.numpy())
    if "q" in c:
        # torch's Kumaraswamy and ContinuousBernoulli icdf form 1 - q (resp.
        # -p + q (2p - 1)) before a log/power, which loses relative accuracy
        # ~1e-16/q: q = 1e-12 is left out for those two.
        keep = [i for i, q in enumerate(c["q"])
                if q >= 1e-6 or name not in ("Kumaraswamy", "ContinuousBernoulli")]
        q = torch.tensor([c["q"][i] for i in keep], dtype=torch.float64)
        d1, _ = torch_dist(name, p, len(keep))
        xc(name, "icdf", src_cdf, [c["icdf"][i] for i in keep], d1.icdf(q).detach().numpy())
    for m in ["entropy", "mean", "mode", "variance", "stddev"]:
        try:
            v = getattr(d, m)
            v = v() if callable(v) else v
        except NotImplementedError:
            continue
        tv = float(v.detach()[0])
        if name == "GeneralizedPareto" and math.isnan(tv) and c[m] == "inf":
            continue  # torch's NaN for an infinite moment (see gp_moments)
        xc(name, m, src, [c[m]], [tv])


def scipy_frozen(name, p):
    from scipy import stats

    if name == "Gamma":
        return stats.gamma(p["concentration"], scale=1 / p["rate"])
    if name == "Chi2":
        return stats.chi2(p["df"])
    if name == "InverseGamma":
        return stats.invgamma(p["concentration"], scale=p["rate"])
    if name == "Beta":
        return stats.beta(p["concentration1"], p["concentration0"])
    if name == "StudentT":
        return stats.t(p["df"], loc=p["loc"], scale=p["scale"])
    if name == "FisherSnedecor":
        return stats.f(p["df1"], p["df2"])
    if name == "GeneralizedPareto":
        return stats.genpareto(p["concentration"], loc=p["loc"], scale=p["scale"])
    if name == "VonMises":
        return stats.vonmises(p["concentration"], loc=p["loc"])
    if name == "TruncatedNormal":
        a = (p["low"] - p["loc"]) / p["scale"]
        b = (p["high"] - p["loc"]) / p["scale"]
        return stats.truncnorm(a, b, loc=p["loc"], scale=p["scale"])
    return None


def scipy_cross_check(c):
    name = c["dist"]
    fr = scipy_frozen(name, c["params"])
    if fr is None:
        return
    xs = np.array(c["values"])
    xc(name, "log_prob", "scipy", c["log_prob"], fr.logpdf(xs))
    src = "scipy"
    if name == "VonMises" and c["params"]["concentration"] >= 50:
        src = "scipy(kappa>=50)"
    xc(name, "cdf", src, c["cdf"], fr.cdf(xs))
    xc(name, "pdf", "scipy", c["grad_cdf"]["value"], fr.pdf(xs))
    if "q" in c:
        xc(name, "icdf", "scipy", c["icdf"], fr.ppf(np.array(c["q"])))
    if name == "VonMises":
        xc(name, "entropy", "scipy", [c["entropy"]], [float(fr.entropy())])
        return  # scipy's mean/var of vonmises are not the circular ones
    msrc = "scipy"
    if name == "TruncatedNormal":
        p = c["params"]
        al, be = (p["low"] - p["loc"]) / p["scale"], (p["high"] - p["loc"]) / p["scale"]
        if al >= 5 or be <= -5 or be - al < 1e-2:
            msrc = "scipy(tail/narrow)"
    mean, var = fr.stats(moments="mv")
    xc(name, "entropy", msrc, [c["entropy"]], [float(fr.entropy())])
    # scipy's conventions for undefined moments differ from torch's: only the
    # finite reference moments are compared.
    for m, v in (("mean", mean), ("variance", var)):
        ours = fnum(c[m])
        if math.isfinite(ours):
            xc(name, m, msrc, [ours], [float(v)])


def scipy_fd_grad_check(c):
    """Informational: d cdf / d parameter against a central difference of
    scipy's cdf in float64 (relative step 1e-6, so agreement to ~1e-8 only)."""
    name = c["dist"]
    if scipy_frozen(name, c["params"]) is None:
        return
    xs = np.array(c["values"])
    for k, v in c["params"].items():
        h = 1e-6 * (abs(v) if v != 0 else 1.0)
        up = scipy_frozen(name, dict(c["params"], **{k: v + h})).cdf(xs)
        dn = scipy_frozen(name, dict(c["params"], **{k: v - h})).cdf(xs)
        xc(name, "grad_cdf", "scipy-fd", c["grad_cdf"][k], (up - dn) / (2 * h))


def dirichlet_cross_check(c):
    import torch
    from scipy import stats

    alpha = c["params"]["concentration"]
    conc = torch.tensor(alpha, dtype=torch.float64)
    for i, v in enumerate(c["values"]):
        a = conc.clone().requires_grad_(True)
        x = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        lp = torch.distributions.Dirichlet(a).log_prob(x)
        xc("Dirichlet", "log_prob", "torch", [c["log_prob"][i]], [float(lp)])
        ga, gx = torch.autograd.grad(lp, [a, x])
        xc("Dirichlet", "grad_log_prob", "torch", c["grad_log_prob"]["concentration"][i], ga.numpy())
        xc("Dirichlet", "grad_log_prob", "torch", c["grad_log_prob"]["value"][i], gx.numpy())
    d = torch.distributions.Dirichlet(conc)
    xc("Dirichlet", "entropy", "torch", [c["entropy"]], [float(d.entropy())])
    for m in ("mean", "mode", "variance", "stddev"):
        xc("Dirichlet", m, "torch", c[m], getattr(d, m).numpy())
    fr = stats.dirichlet(np.array(alpha))
    xc("Dirichlet", "entropy", "scipy", [c["entropy"]], [float(fr.entropy())])
    xc("Dirichlet", "mean", "scipy", c["mean"], fr.mean())
    xc("Dirichlet", "variance", "scipy", c["variance"], fr.var())


def report_cross_checks():
    print(f"cross-checks: max disagreement (relative; log_prob/entropy/gradients relative to"
          f" max(|ref|, 1); 'abs' rows absolute; f64-underflow values skipped); tol {XC_TOL:g}")
    bad = []
    for (dist, method, source) in sorted(XC):
        e = XC[(dist, method, source)]
        key = (dist, method, source)
        tag = ""
        if key in XC_EXEMPT:
            tag = "  [not enforced: " + XC_EXEMPT[key] + "]"
        elif key in ABS_METRIC:
            tag = "  [absolute]"
        if key in XC_SKIPPED:
            tag += f"  [{XC_SKIPPED[key]} non-finite {source} values skipped]"
        if e > XC_TOL and key not in XC_EXEMPT:
            tag += "  <-- FAIL"
            bad.append(key)
        print(f"  {dist:20s} {method:14s} {source:24s} {e:9.2e}{tag}")
        if e > XC_TOL and key in XC_WHERE:
            _, p, i, a, b = XC_WHERE[key]
            print(f"      worst at {p} [{i}]: ours {a!r}, {source} {b!r}")
    return bad


# ---------------------------------------------------------------------------
# Dirichlet
# ---------------------------------------------------------------------------

DIRICHLET_CASES = [
    ([0.5, 2.0, 3.0], [[0.1, 0.3], [0.8, 0.15], [1e-6, 0.5], [0.3, 1e-4]]),
    ([1.0, 1.0, 1.0, 1.0], [[0.25, 0.25, 0.25], [0.7, 0.1, 0.1], [1e-5, 0.5, 0.2]]),
    ([10.0] * 5, [[0.2] * 4, [0.1, 0.3, 0.2, 0.15], [0.05, 0.05, 0.05, 0.05]]),
    ([1e-2, 1e-2, 1e-2], [[1e-20, 1e-10], [0.3, 0.3], [0.999, 1e-30]]),
    ([1e3, 1.0, 0.1], [[0.998, 1e-3], [0.9, 0.05], [0.5, 0.25]]),
]


def simplex_point(head):
    """First K-1 components rounded to f32; the last one is 1 - sum(head)
    computed in float32 arithmetic (left to right)."""
    h = [np.float32(v) for v in head]
    s = np.float32(0)
    for v in h:
        s = np.float32(s + v)
    last = np.float32(np.float32(1) - s)
    pt = [float(v) for v in h] + [float(last)]
    assert all(v > 0 for v in pt), pt
    return pt


def dirichlet_log_prob(x, alpha):
    return (sum((a - 1) * mp.log(xi) for a, xi in zip(alpha, x))
            + lgamma(sum(alpha)) - sum(lgamma(a) for a in alpha))


def dirichlet_case(alpha_in, heads):
    alpha = [f32(a) for a in alpha_in]
    A = [mpf(a) for a in alpha]
    K = len(A)
    pts = [simplex_point(h) for h in heads]
    lps, g_a, g_x = [], [], []
    for pt in pts:
        X = [mpf(v) for v in pt]
        lps.append(dirichlet_log_prob(X, A))
        ga, gx = [], []
        for i in range(K):
            with mp.workdps(DIFF_DPS):
                da = mp.diff(lambda t: dirichlet_log_prob(X, A[:i] + [t] + A[i + 1:]), A[i])
                dx = mp.diff(lambda t: dirichlet_log_prob(X[:i] + [t] + X[i + 1:], A), X[i])
            ga.append(+da)
            gx.append(+dx)
            # closed forms: psi(a0) - psi(a_i) + log x_i and (a_i - 1)/x_i
            note_check("Dirichlet", "grad vs closed form",
                       max(rel_err(ga[-1], mp.digamma(sum(A)) - mp.digamma(A[i]) + mp.log(X[i])),
                           rel_err(gx[-1], (A[i] - 1) / X[i])))
        g_a.append(ga)
        g_x.append(gx)
    a0 = sum(A)
    ent = (sum(lgamma(a) for a in A) - lgamma(a0) + (a0 - K) * mp.digamma(a0)
           - sum((a - 1) * mp.digamma(a) for a in A))
    mean = [a / a0 for a in A]
    var = [a * (a0 - a) / (a0**2 * (a0 + 1)) for a in A]
    return {
        "dist": "Dirichlet",
        "params": {"concentration": alpha},
        "values": pts,
        "log_prob": conv(lps),
        "grad_log_prob": {"concentration": [conv(g) for g in g_a],
                          "value": [conv(g) for g in g_x]},
        "entropy": json_number(to_f64(ent)),
        "mean": conv(mean),
        "mode": conv(dirichlet_mode(A)),
        "variance": conv(var),
        "stddev": conv([mp.sqrt(v) for v in var]),
    }


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def write_json(path, cases):
    doc = {"generator": "reference/gen_step2.py", "mpmath_dps": mp.dps, "cases": cases}
    text = json.dumps(doc, indent=1, allow_nan=False)
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(text) / 1024:.0f} KiB, {len(cases)} cases)")


def report_self_checks_only(bad):
    if bad:
        print("CHECKS FAILED", file=sys.stderr)
        sys.exit(1)


def _evaluate_task(task):
    """Worker: evaluate one case; returns it with the self-check entries."""
    i, j = task
    SELF_CHECK.clear()
    d = DISTS[i]
    case = evaluate_case(d, d["cases"][j])
    return case, dict(SELF_CHECK)


def main():
    import os
    import time

    if "--check-only" in sys.argv:  # re-run the cross-checks on the written files
        cases = json.loads(OUT_UNIVARIATE.read_text())["cases"]
        dcases = json.loads(OUT_DIRICHLET.read_text())["cases"]
        return cross_check_all(cases, dcases, False)

    # Cases are independent: evaluate them in worker processes (results come
    # back in task order, so the output does not depend on the worker count).
    t0 = time.time()
    tasks = [(i, j) for i, d in enumerate(DISTS) for j in range(len(d["cases"]))]
    workers = min(len(tasks), os.cpu_count() or 1)
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_evaluate_task, tasks, chunksize=1)
    else:
        results = [_evaluate_task(t) for t in tasks]
    cases, counts = [], {}
    for case, checks in results:
        cases.append(case)
        counts[case["dist"]] = counts.get(case["dist"], 0) + 1
        for (dist, what), (rel, limit) in checks.items():
            note_check(dist, what, rel, limit)
    dcases = [dirichlet_case(a, h) for a, h in DIRICHLET_CASES]
    counts["Dirichlet"] = len(dcases)
    print(f"evaluated {len(cases) + len(dcases)} cases in {time.time() - t0:.0f} s ({workers} processes)")
    for name, n in counts.items():
        print(f"  {name:20s} {n:2d} cases")

    extra_self_checks(cases)
    write_json(OUT_UNIVARIATE, cases)
    write_json(OUT_DIRICHLET, dcases)

    print("internal self-checks (max relative error, mpmath):")
    bad = False
    for (dist, what), (rel, limit) in SELF_CHECK.items():
        flag = "" if rel <= limit else "  <-- FAIL"
        bad |= rel > limit
        print(f"  {dist:20s} {what:40s} {mpmath.nstr(rel, 3):>10s} (limit {mpmath.nstr(limit, 1)}){flag}")

    return cross_check_all(cases, dcases, bad)


def cross_check_all(cases, dcases, bad):
    try:
        import scipy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        print(f"cross-checks skipped ({e}): they need torch and scipy")
        return report_self_checks_only(bad)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for c in cases:
            CURRENT["p"] = c["params"]
            torch_cross_check(c)
            scipy_cross_check(c)
            scipy_fd_grad_check(c)
        for c in dcases:
            CURRENT["p"] = c["params"]
            dirichlet_cross_check(c)
    xbad = report_cross_checks()
    if bad or xbad:
        print("CHECKS FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
