#!/usr/bin/env python3
"""Reference-data generator for the location/scale family of distributions.

Writes ``reference/location_scale.json``, the high-precision reference values
that the Rust test-suite of candle-distributions compares against.

Regenerate from the repository root with::

    .venv/bin/python reference/gen_location_scale.py

Design notes
------------
* Every number in the output is computed with mpmath at ``mp.dps = 50``
  (about 166 bits).  Each density, CDF, inverse CDF and moment is written
  from its textbook closed form in this file.  scipy is *only* used, when
  it is importable, for a cross-check that is printed to stdout; it never
  feeds into the JSON.
* Semantics and parameterisations follow PyTorch's ``torch.distributions``
  (parameter names, the value of ``mode`` for Uniform being NaN, Cauchy's
  mean being NaN, ...).
* Every input (parameter, value, quantile) is first rounded to float32 and
  converted back to a Python float, so that float32 and float64 tests can use
  bit-identical inputs.  All outputs are computed *from those rounded inputs*.
* Gradients are obtained with ``mpmath.diff`` (central finite differences
  carried out internally at more than twice the working precision) applied to
  the very same mpmath log-density / CDF functions.  The formulas used for
  differentiation have no support masks (they are the analytic expressions),
  which is harmless because every value is inside the support; at the Laplace
  kink (value == loc) the symmetric difference yields the sign(0) = 0
  convention that torch's autograd uses for ``abs``.
* Results are rounded to the nearest float64 (via a 45-digit decimal string,
  so sub-normals and overflow to +-inf are handled by Python's own correctly
  rounded parser).  Non-finite floats are written as the JSON strings
  ``"nan"``, ``"inf"`` and ``"-inf"``.
"""

import json
import math
import sys
from pathlib import Path

import mpmath
import numpy as np
from mpmath import mp, mpf

mp.dps = 50

OUT_PATH = Path(__file__).resolve().parent / "location_scale.json"

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


from refcommon import f32, json_number, to_f64  # noqa: E402


def dedupe_sorted(xs):
    """Sort a list of floats and drop exact duplicates (float32 rounding can
    map two nearby grid points onto the same value)."""
    return sorted(set(xs))


SQRT2 = lambda: mp.sqrt(2)  # evaluated lazily, at whatever precision is active
LOG2PI = lambda: mp.log(2 * mp.pi)

# Quantiles requested for icdf.  Note: 1 - 1e-9 rounds to exactly 1.0 in
# float32, so the last quantile is q = 1 (icdf = +inf, or `high` for Uniform).
Q_GRID = [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.999, 1 - 1e-9]

# Parameter grids (before float32 rounding).
SCALES = [1e-3, 0.5, 1.0, 3.0, 1e3]
LOCS = [0.0, -2.5, 1e3]
# LogNormal cannot use loc = 1e3: its median exp(1000) is not representable
# even in float64, so no value in the support would be a float32.  A "large"
# location of 40 (median ~2.35e17) plays that role instead.
LOGNORMAL_LOCS = [0.0, -2.5, 40.0]
RATES = [1e-3, 1.0, 7.5, 1e3]
UNIFORM_BOUNDS = [(0.0, 1.0), (-3.0, 2.0), (1e3, 1e3 + 1e-2), (-1e3, 1e3)]

# ---------------------------------------------------------------------------
# Distributions.  Each one is described by:
#   params   : list of parameter names (torch spelling)
#   cases    : list of dicts {param: float32-exact float}
#   values   : function(params as floats) -> list of float32-exact values
#   log_prob : function(x, **params as mpf) -> mpf   (analytic, unmasked)
#   cdf      : function(x, **params) -> mpf          (analytic, unmasked)
#   icdf     : function(q, **params) -> mpf
#   moments  : function(**params) -> dict entropy/mean/mode/variance/stddev
# ---------------------------------------------------------------------------


def standardized_values(loc, scale, zs):
    """Values loc + z*scale for a grid of standardized points z, rounded to
    float32 (the z actually tested therefore move slightly)."""
    return dedupe_sorted(f32(loc + z * scale) for z in zs)


# ----- Normal(loc, scale) -------------------------------------------------


def normal_log_prob(x, loc, scale):
    # log N(x; loc, scale) = -z^2/2 - log(scale) - log(2 pi)/2
    z = (x - loc) / scale
    return -z * z / 2 - mp.log(scale) - LOG2PI() / 2


def normal_cdf(x, loc, scale):
    # Phi(z) = erfc(-z / sqrt 2) / 2; erfc avoids the 1 + erf(...) cancellation
    # in the lower tail.
    z = (x - loc) / scale
    return mp.erfc(-z / SQRT2()) / 2


def normal_icdf(q, loc, scale):
    # Phi^{-1}(q) = sqrt 2 * erfinv(2q - 1); 2q - 1 is exact in mpmath since q
    # is a float32.
    if q == 1:
        return mp.inf
    return loc + scale * SQRT2() * mp.erfinv(2 * q - 1)


def normal_moments(loc, scale):
    return {
        "entropy": mpf(1) / 2 + LOG2PI() / 2 + mp.log(scale),
        "mean": loc,
        "mode": loc,
        "variance": scale**2,
        "stddev": scale,
    }


NORMAL_Z = [-30, -12, -5, -2, -0.75, 0, 0.3, 1, 2.5, 8, 30]

# ----- Uniform(low, high) -------------------------------------------------


def uniform_log_prob(x, low, high):
    # Constant -log(high - low) on [low, high).  Written without the support
    # test so that mpmath.diff gives d/dlow = 1/(high-low), d/dhigh =
    # -1/(high-low) and d/dvalue = 0, as torch's autograd does inside the
    # support.
    return -mp.log(high - low)


def uniform_cdf(x, low, high):
    # (x - low)/(high - low); torch clamps to [0, 1] but values are inside.
    return (x - low) / (high - low)


def uniform_icdf(q, low, high):
    return low + q * (high - low)


def uniform_moments(low, high):
    width = high - low
    return {
        "entropy": mp.log(width),
        "mean": (low + high) / 2,
        "mode": mp.nan,  # torch returns NaN
        "variance": width**2 / 12,
        "stddev": width / mp.sqrt(12),
    }


UNIFORM_FRACTIONS = [0, 1e-6, 0.01, 0.25, 0.5, 0.6, 0.9, 0.999, 1 - 1e-6]


def uniform_values(low, high):
    out = []
    for t in UNIFORM_FRACTIONS:
        x = f32(low + t * (high - low))
        # Keep every value in the support [low, high).
        if low <= x < high:
            out.append(x)
    return dedupe_sorted(out)


# ----- Exponential(rate) --------------------------------------------------


def exponential_log_prob(x, rate):
    return mp.log(rate) - rate * x


def exponential_cdf(x, rate):
    # 1 - exp(-rate x), via expm1 to keep relative accuracy near x = 0.
    return -mp.expm1(-rate * x)


def exponential_icdf(q, rate):
    if q == 1:
        return mp.inf
    return -mp.log1p(-q) / rate


def exponential_moments(rate):
    return {
        "entropy": 1 - mp.log(rate),
        "mean": 1 / rate,
        "mode": mpf(0),
        "variance": 1 / rate**2,
        "stddev": 1 / rate,
    }


EXPONENTIAL_T = [0, 1e-6, 1e-3, 0.1, 0.5, 1, 2, 5, 20, 100, 700]

# ----- Laplace(loc, scale) ------------------------------------------------


def laplace_log_prob(x, loc, scale):
    return -mp.log(2 * scale) - abs(x - loc) / scale


def laplace_cdf(x, loc, scale):
    # Piecewise form: exp(z)/2 below loc, 1 - exp(-z)/2 above.  Both pieces
    # meet with matching derivative at z = 0, so the symmetric difference
    # there gives the true density 1/(2 scale).
    z = (x - loc) / scale
    if z < 0:
        return mp.exp(z) / 2
    return 1 - mp.exp(-z) / 2


def laplace_icdf(q, loc, scale):
    if q == 1:
        return mp.inf
    if q < mpf(1) / 2:
        return loc + scale * mp.log(2 * q)
    return loc - scale * mp.log(2 * (1 - q))


def laplace_moments(loc, scale):
    return {
        "entropy": 1 + mp.log(2 * scale),
        "mean": loc,
        "mode": loc,
        "variance": 2 * scale**2,
        "stddev": mp.sqrt(2) * scale,
    }


LAPLACE_Z = [-30, -8, -2, -0.5, 0, 0.25, 1, 3, 10, 30]

# ----- Cauchy(loc, scale) -------------------------------------------------


def cauchy_log_prob(x, loc, scale):
    # density 1 / (pi scale (1 + z^2))
    z = (x - loc) / scale
    return -mp.log(mp.pi) - mp.log(scale) - mp.log1p(z * z)


def cauchy_cdf(x, loc, scale):
    z = (x - loc) / scale
    return mp.atan(z) / mp.pi + mpf(1) / 2


def cauchy_icdf(q, loc, scale):
    if q == 1:
        return mp.inf
    return loc + scale * mp.tan(mp.pi * (q - mpf(1) / 2))


def cauchy_moments(loc, scale):
    return {
        "entropy": mp.log(4 * mp.pi * scale),
        "mean": mp.nan,  # torch returns NaN
        "mode": loc,
        "variance": mp.inf,
        "stddev": mp.inf,
    }


CAUCHY_Z = [-1e4, -30, -3, -1, -0.2, 0, 0.7, 2, 30, 1e4]

# ----- Gumbel(loc, scale) -------------------------------------------------


def gumbel_log_prob(x, loc, scale):
    # density exp(-(z + exp(-z))) / scale
    z = (x - loc) / scale
    return -(z + mp.exp(-z)) - mp.log(scale)


def gumbel_cdf(x, loc, scale):
    z = (x - loc) / scale
    return mp.exp(-mp.exp(-z))


def gumbel_icdf(q, loc, scale):
    if q == 1:
        return mp.inf
    return loc - scale * mp.log(-mp.log(q))


def gumbel_moments(loc, scale):
    return {
        "entropy": mp.log(scale) + 1 + mp.euler,
        "mean": loc + scale * mp.euler,
        "mode": loc,
        "variance": mp.pi**2 / 6 * scale**2,
        "stddev": mp.pi / mp.sqrt(6) * scale,
    }


GUMBEL_Z = [-30, -4, -2, -1, -0.3, 0, 0.5, 1.5, 4, 10, 30]

# ----- LogNormal(loc, scale) ----------------------------------------------


def lognormal_log_prob(x, loc, scale):
    # Change of variables y = log x: log N(log x; loc, scale) - log x
    y = mp.log(x)
    return normal_log_prob(y, loc, scale) - y


def lognormal_cdf(x, loc, scale):
    return normal_cdf(mp.log(x), loc, scale)


def lognormal_icdf(q, loc, scale):
    if q == 1:
        return mp.inf
    return mp.exp(normal_icdf(q, loc, scale))


def lognormal_moments(loc, scale):
    s2 = scale**2
    return {
        # torch: entropy of the base Normal plus loc
        "entropy": normal_moments(loc, scale)["entropy"] + loc,
        "mean": mp.exp(loc + s2 / 2),
        "mode": mp.exp(loc - s2),
        "variance": mp.expm1(s2) * mp.exp(2 * loc + s2),
        "stddev": mp.sqrt(mp.expm1(s2) * mp.exp(2 * loc + s2)),
    }


# log(value) must stay inside the normal float32 range so that every value is
# a (normal, finite) float32: exp(-87) ~ 1.6e-38, exp(88) ~ 1.65e38.
LOG_MIN, LOG_MAX = -87.0, 88.0


def lognormal_values(loc, scale):
    logs = [loc + z * scale for z in NORMAL_Z]
    inside = [y for y in logs if LOG_MIN <= y <= LOG_MAX]
    if len(inside) < len(logs):
        # Some standardized points fall outside float32 range (large scale);
        # add evenly spaced points across the representable window instead.
        lo = max(LOG_MIN, loc - 30 * scale)
        hi = min(LOG_MAX, loc + 30 * scale)
        inside += [lo + (hi - lo) * k / 10 for k in range(11)]
    out = [f32(math.exp(y)) for y in inside]
    out = [x for x in out if x > 0 and math.isfinite(x)]
    return dedupe_sorted(out)


# ----- HalfNormal(scale) --------------------------------------------------


def halfnormal_log_prob(x, scale):
    # 2 * N(x; 0, scale) for x >= 0
    return mp.log(2) + normal_log_prob(x, mpf(0), scale)


def halfnormal_cdf(x, scale):
    # 2 Phi(x/scale) - 1 = erf(x / (scale sqrt 2))
    return mp.erf(x / (scale * SQRT2()))


def halfnormal_icdf(q, scale):
    if q == 1:
        return mp.inf
    return scale * SQRT2() * mp.erfinv(q)


def halfnormal_moments(scale):
    return {
        "entropy": mp.log(mp.pi * scale**2 / 2) / 2 + mpf(1) / 2,
        "mean": scale * mp.sqrt(2 / mp.pi),
        "mode": mpf(0),
        "variance": scale**2 * (1 - 2 / mp.pi),
        "stddev": scale * mp.sqrt(1 - 2 / mp.pi),
    }


HALFNORMAL_T = [0, 1e-4, 0.05, 0.5, 1, 2, 4, 10, 30]

# ----- HalfCauchy(scale) --------------------------------------------------


def halfcauchy_log_prob(x, scale):
    # 2 * Cauchy(x; 0, scale) for x >= 0
    return mp.log(2) + cauchy_log_prob(x, mpf(0), scale)


def halfcauchy_cdf(x, scale):
    return 2 * mp.atan(x / scale) / mp.pi


def halfcauchy_icdf(q, scale):
    if q == 1:
        return mp.inf
    return scale * mp.tan(mp.pi * q / 2)


def halfcauchy_moments(scale):
    return {
        "entropy": mp.log(2 * mp.pi * scale),
        "mean": mp.inf,
        "mode": mpf(0),
        "variance": mp.inf,
        "stddev": mp.inf,
    }


HALFCAUCHY_T = [0, 1e-4, 0.1, 0.5, 1, 3, 30, 1e4]

# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def loc_scale_cases(locs):
    return [{"loc": f32(l), "scale": f32(s)} for l in locs for s in SCALES]


DISTS = [
    dict(
        name="Normal",
        params=["loc", "scale"],
        cases=loc_scale_cases(LOCS),
        values=lambda p: standardized_values(p["loc"], p["scale"], NORMAL_Z),
        log_prob=normal_log_prob,
        cdf=normal_cdf,
        icdf=normal_icdf,
        moments=normal_moments,
    ),
    dict(
        name="Uniform",
        params=["low", "high"],
        cases=[{"low": f32(a), "high": f32(b)} for a, b in UNIFORM_BOUNDS],
        values=lambda p: uniform_values(p["low"], p["high"]),
        log_prob=uniform_log_prob,
        cdf=uniform_cdf,
        icdf=uniform_icdf,
        moments=uniform_moments,
    ),
    dict(
        name="Exponential",
        params=["rate"],
        cases=[{"rate": f32(r)} for r in RATES],
        values=lambda p: dedupe_sorted(f32(t / p["rate"]) for t in EXPONENTIAL_T),
        log_prob=exponential_log_prob,
        cdf=exponential_cdf,
        icdf=exponential_icdf,
        moments=exponential_moments,
    ),
    dict(
        name="Laplace",
        params=["loc", "scale"],
        cases=loc_scale_cases(LOCS),
        values=lambda p: standardized_values(p["loc"], p["scale"], LAPLACE_Z),
        log_prob=laplace_log_prob,
        cdf=laplace_cdf,
        icdf=laplace_icdf,
        moments=laplace_moments,
    ),
    dict(
        name="Cauchy",
        params=["loc", "scale"],
        cases=loc_scale_cases(LOCS),
        values=lambda p: standardized_values(p["loc"], p["scale"], CAUCHY_Z),
        log_prob=cauchy_log_prob,
        cdf=cauchy_cdf,
        icdf=cauchy_icdf,
        moments=cauchy_moments,
    ),
    dict(
        name="Gumbel",
        params=["loc", "scale"],
        cases=loc_scale_cases(LOCS),
        values=lambda p: standardized_values(p["loc"], p["scale"], GUMBEL_Z),
        log_prob=gumbel_log_prob,
        cdf=gumbel_cdf,
        icdf=gumbel_icdf,
        moments=gumbel_moments,
    ),
    dict(
        name="LogNormal",
        params=["loc", "scale"],
        cases=loc_scale_cases(LOGNORMAL_LOCS),
        values=lambda p: lognormal_values(p["loc"], p["scale"]),
        log_prob=lognormal_log_prob,
        cdf=lognormal_cdf,
        icdf=lognormal_icdf,
        moments=lognormal_moments,
    ),
    dict(
        name="HalfNormal",
        params=["scale"],
        cases=[{"scale": f32(s)} for s in SCALES],
        values=lambda p: dedupe_sorted(f32(t * p["scale"]) for t in HALFNORMAL_T),
        log_prob=halfnormal_log_prob,
        cdf=halfnormal_cdf,
        icdf=halfnormal_icdf,
        moments=halfnormal_moments,
    ),
    dict(
        name="HalfCauchy",
        params=["scale"],
        cases=[{"scale": f32(s)} for s in SCALES],
        values=lambda p: dedupe_sorted(f32(t * p["scale"]) for t in HALFCAUCHY_T),
        log_prob=halfcauchy_log_prob,
        cdf=halfcauchy_cdf,
        icdf=halfcauchy_icdf,
        moments=halfcauchy_moments,
    ),
]

Q_VALUES = dedupe_sorted(f32(q) for q in Q_GRID)

# ---------------------------------------------------------------------------
# Case evaluation
# ---------------------------------------------------------------------------


# Working precision (decimal digits) used while differentiating.  mpmath.diff
# takes a central difference with step h = 2^-(prec+10) evaluated at
# 2*(prec+20) bits, so its rounding noise is about 2^-(prec+30) * |f|.  At the
# global 50 digits that noise (~1e-60 |f|) would (a) show up as tiny non-zero
# numbers where the exact derivative is 0 (e.g. Normal d/dscale at z = 1) and
# (b) swamp derivatives of a cdf that is 1 - 1e-198 in the upper tail.  At
# 400 digits the noise is ~1e-410 |f|, below the float64 range, and every
# derivative keeps well over 50 correct digits.
DIFF_DPS = 400


def partial(fn, x, mp_params, wrt):
    """d fn(x, **params) / d wrt, by mpmath.diff, where wrt is a parameter
    name or "value".  Inputs are exact binary numbers, so raising the
    precision here does not change the point of evaluation."""
    with mp.workdps(DIFF_DPS):
        if wrt == "value":
            d = mp.diff(lambda t: fn(t, **mp_params), x)
        else:
            d = mp.diff(lambda t: fn(x, **dict(mp_params, **{wrt: t})), mp_params[wrt])
    return +d  # round back to the global 50 digits


# Internal consistency failures are collected here and reported at the end.
SELF_CHECK = {}


def note_check(dist, what, rel):
    key = (dist, what)
    SELF_CHECK[key] = max(SELF_CHECK.get(key, mpf(0)), rel)


def rel_err(a, b):
    if a == b:
        return mpf(0)
    return abs(a - b) / max(abs(a), abs(b))


def evaluate_case(d, params):
    name = d["name"]
    mp_params = {k: mpf(v) for k, v in params.items()}  # exact: floats are binary
    values = d["values"](params)
    assert values, (name, params)

    log_prob, cdf, icdf = [], [], []
    grads_lp = {k: [] for k in d["params"] + ["value"]}
    grads_cdf = {k: [] for k in d["params"] + ["value"]}
    for v in values:
        x = mpf(v)
        lp = d["log_prob"](x, **mp_params)
        c = d["cdf"](x, **mp_params)
        log_prob.append(lp)
        cdf.append(c)
        for k in grads_lp:
            grads_lp[k].append(partial(d["log_prob"], x, mp_params, k))
            grads_cdf[k].append(partial(d["cdf"], x, mp_params, k))
        # Self check: d cdf / d value must equal the density exp(log_prob).
        note_check(name, "dcdf/dx vs exp(log_prob)", rel_err(grads_cdf["value"][-1], mp.exp(lp)))

    for q in Q_VALUES:
        xq = d["icdf"](mpf(q), **mp_params)
        icdf.append(xq)
        # Self check: the inverse really inverts the cdf.
        if mp.isfinite(xq):
            note_check(name, "cdf(icdf(q)) vs q", rel_err(d["cdf"](xq, **mp_params), mpf(q)))

    moments = d["moments"](**mp_params)

    conv = lambda xs: [json_number(to_f64(x)) for x in xs]
    case = {
        "dist": name,
        "params": dict(params),
        "values": list(values),
        "log_prob": conv(log_prob),
        "cdf": conv(cdf),
        "grad_log_prob": {k: conv(vs) for k, vs in grads_lp.items()},
        "grad_cdf": {k: conv(vs) for k, vs in grads_cdf.items()},
        "q": list(Q_VALUES),
        "icdf": conv(icdf),
    }
    for key in ["entropy", "mean", "mode", "variance", "stddev"]:
        case[key] = json_number(to_f64(moments[key]))
    return case


def analytic_gradient_checks(cases):
    """A few closed-form gradients, to confirm mpmath.diff is accurate."""
    for case in cases:
        if case["dist"] != "Normal":
            continue
        loc, scale = mpf(case["params"]["loc"]), mpf(case["params"]["scale"])
        for i, v in enumerate(case["values"]):
            z = (mpf(v) - loc) / scale
            expected = {
                "loc": z / scale,
                "scale": (z * z - 1) / scale,
                "value": -z / scale,
            }
            for k, e in expected.items():
                got = case["grad_log_prob"][k][i]
                note_check("Normal", "analytic d log_prob/d" + k, rel_err(mpf(got), mpf(to_f64(e))))


# ---------------------------------------------------------------------------
# Optional scipy cross-check (stdout only)
# ---------------------------------------------------------------------------


def scipy_frozen(name, p):
    from scipy import stats

    if name == "Normal":
        return stats.norm(loc=p["loc"], scale=p["scale"])
    if name == "Uniform":
        return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
    if name == "Exponential":
        return stats.expon(scale=1 / p["rate"])
    if name == "Laplace":
        return stats.laplace(loc=p["loc"], scale=p["scale"])
    if name == "Cauchy":
        return stats.cauchy(loc=p["loc"], scale=p["scale"])
    if name == "Gumbel":
        return stats.gumbel_r(loc=p["loc"], scale=p["scale"])
    if name == "LogNormal":
        return stats.lognorm(s=p["scale"], scale=math.exp(p["loc"]))
    if name == "HalfNormal":
        return stats.halfnorm(scale=p["scale"])
    if name == "HalfCauchy":
        return stats.halfcauchy(scale=p["scale"])
    raise KeyError(name)


def from_json(v):
    return float(v) if isinstance(v, str) else v


def scipy_cross_check(cases):
    try:
        import scipy  # noqa: F401
    except ImportError:
        print("scipy not available: cross-check skipped")
        return
    # Values whose reference magnitude is below this are considered to be in
    # scipy's (float64) underflow region and are skipped for cdf.
    tiny = 1e-290
    report = {}

    def upd(dist, what, ours, theirs):
        ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
        both_same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
        finite = np.isfinite(ours) & np.isfinite(theirs) & (np.abs(ours) > tiny)
        rel = np.zeros_like(ours)
        rel[finite] = np.abs(ours[finite] - theirs[finite]) / np.abs(ours[finite])
        mismatch = ~both_same & ~finite & ~(np.abs(ours) <= tiny)
        worst = float(rel.max()) if rel.size else 0.0
        if mismatch.any():
            worst = math.inf
        key = (dist, what)
        report[key] = max(report.get(key, 0.0), worst)

    with np.errstate(all="ignore"):
        for c in cases:
            frozen = scipy_frozen(c["dist"], c["params"])
            xs = np.array(c["values"])
            qs = np.array(c["q"])
            upd(c["dist"], "log_prob", [from_json(v) for v in c["log_prob"]], frozen.logpdf(xs))
            upd(c["dist"], "cdf", [from_json(v) for v in c["cdf"]], frozen.cdf(xs))
            upd(c["dist"], "icdf", [from_json(v) for v in c["icdf"]], frozen.ppf(qs))
            upd(c["dist"], "pdf", [from_json(v) for v in c["grad_cdf"]["value"]], frozen.pdf(xs))
            mean, var = frozen.stats(moments="mv")
            ent = frozen.entropy()
            ours = [from_json(c[k]) for k in ("entropy", "mean", "variance")]
            theirs = [float(ent), float(mean), float(var)]
            if c["dist"] == "Cauchy":
                theirs[2] = math.inf  # scipy reports nan variance; torch uses inf
            if c["dist"] in ("HalfCauchy",):
                theirs[1] = theirs[2] = math.inf  # scipy: inf/nan; torch: inf/inf
            upd(c["dist"], "entropy/mean/var", ours, theirs)

    print("scipy cross-check: max relative disagreement (cdf values < 1e-290 skipped)")
    dists = []
    for d, _ in report:
        if d not in dists:
            dists.append(d)
    for d in dists:
        row = ", ".join(f"{w}={report[(d, w)]:.1e}" for (dd, w) in report if dd == d)
        print(f"  {d:12s} {row}")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main():
    cases = []
    counts = {}
    for d in DISTS:
        for params in d["cases"]:
            cases.append(evaluate_case(d, params))
            counts[d["name"]] = counts.get(d["name"], 0) + 1

    analytic_gradient_checks(cases)

    doc = {
        "generator": "reference/gen_location_scale.py",
        "mpmath_dps": mp.dps,
        "cases": cases,
    }
    text = json.dumps(doc, indent=1, allow_nan=False)
    OUT_PATH.write_text(text + "\n")
    print(f"wrote {OUT_PATH} ({len(text) / 1024:.0f} KiB, {len(cases)} cases)")
    for name, n in counts.items():
        print(f"  {name:12s} {n} cases")

    print("internal self-checks (max relative error, in mpmath before float64 rounding"
          " except the analytic-gradient row which compares float64 results):")
    bad = False
    for (dist, what), rel in SELF_CHECK.items():
        print(f"  {dist:12s} {what:32s} {mpmath.nstr(rel, 3)}")
        # Analytic comparisons are made after float64 rounding: allow 1 ulp.
        limit = mpf("1e-15") if what.startswith("analytic") else mpf("1e-30")
        if rel > limit:
            bad = True
    scipy_cross_check(cases)
    if bad:
        print("SELF-CHECK FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
