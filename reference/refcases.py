"""Shared engine of the per-family reference generators (``gen_*_family.py``).

The family scripts hold the formulas, the parameter grids and the torch/scipy
constructors of their distributions; this module holds everything they share:

* value placement: coordinates mapping u -> x onto a support, probability
  levels, bisection on the mpmath cdf (or the explicit icdf), gap filling;
* the regularised incomplete gamma and beta functions, evaluated on the side
  where the result is small;
* case evaluation: log_prob, cdf, their gradients by ``mpmath.diff`` at 400
  digits, icdf, moments, and the self-checks d cdf/dx = exp(log_prob) and
  cdf(icdf(q)) = q;
* cross-checks against torch (float64) and scipy, printed to stdout only;
* ``main``: evaluate a family's cases in worker processes, merge them into
  ``shape_families.json``, run the self-checks and the cross-checks.

Conventions (the same contract as ``gen_location_scale.py``):

* Every output number comes from mpmath at ``mp.dps = 50``, from the closed
  forms written in the family scripts.  torch and scipy are only used for
  cross-checks that are printed to stdout and never feed the JSON.
* Parameter names, parameterisations and moment conventions (NaN vs inf) are
  torch's; where torch has no value or is wrong the choice is documented in
  reference/README.md.
* Inputs (parameters, values, quantiles) are rounded to float32 first and all
  outputs are computed from the rounded inputs.
* Gradients come from ``mpmath.diff`` at 400 digits applied to the same
  mpmath functions, unless a family supplies them (``cdf_grads``).
* Outputs are rounded to the nearest float64; non-finite numbers are written
  as "nan", "inf", "-inf".

A family script exits non-zero if an internal self-check fails or if a
cross-check against torch (float64) or scipy disagrees by more than
``XC_TOL`` (relative) outside the documented exceptions (``xc_exempt``).

A family is a list of dicts, one per distribution, with the keys

* ``name``, ``params`` (torch names, constructor order), ``cases`` (from
  ``cases_of``), ``values`` (params -> float32 values; ``cdf_picker``,
  ``icdf_picker`` or a fixed grid);
* ``log_prob``, ``cdf``, ``moments`` and optionally ``icdf`` and
  ``cdf_grads`` (mpmath functions of (x, **params));
* optionally ``extra_fields`` (mp params -> extra informational JSON keys),
  ``self_check`` (case -> None, calls ``note_check``), ``torch`` ((D, tensors)
  -> torch distribution), ``scipy`` ((stats, params) -> frozen scipy
  distribution), ``torch_cdf_source`` (params -> the source tag of the cdf
  and icdf rows), ``torch_grad_source`` ((params, method, parameter) -> a
  source tag for that gradient row, or None), ``torch_icdf_min_q``, ``torch_skip_moment``
  ((moment, torch value, ours) -> bool), ``scipy_cdf_source``,
  ``scipy_moment_source``, ``scipy_moments`` (False: compare the entropy
  only), and the cross-check tables ``xc_exempt`` ({(method, source):
  reason}), ``abs_metric`` and ``skip_nonfinite`` ({(method, source)}).
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
# Every family script writes its univariate cases into this one file (each
# replaces its own families' cases and keeps the others, in place).
OUT_UNIVARIATE = HERE / "shape_families.json"

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
# Registry helpers
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
    if "extra_fields" in d:
        case.update(d["extra_fields"](mp_params))
    moments = d["moments"](**mp_params)
    for key in ["entropy", "mean", "mode", "variance", "stddev"]:
        case[key] = json_number(to_f64(moments[key]))
    return case


def quad_entropy(logpdf, pts):
    f = lambda t: -mp.exp(logpdf(t)) * logpdf(t)
    return mp.quad(f, pts)


def quad_moments_check(name, log_prob, moments, p, lo, hi):
    """Mean, variance and entropy from ``moments(**p)`` against quadrature of
    ``log_prob`` over [lo, hi], at 30 digits (p: mp params)."""
    with mp.workdps(30):
        _quad_moments_check(name, log_prob, moments, p, mpf(lo), mpf(hi))


def _quad_moments_check(name, log_prob, moments, p, lo, hi):
    lp = lambda t: log_prob(t, **p)
    pdf = lambda t: mp.exp(lp(t))
    pts = [lo, (lo + hi) / 2, hi]
    m = mp.quad(lambda t: t * pdf(t), pts)
    var = mp.quad(lambda t: (t - m) ** 2 * pdf(t), pts)
    h = quad_entropy(lp, pts)
    mom = moments(**p)
    note_check(name, "mean/variance/entropy vs quadrature",
               max(rel_err(m, mom["mean"]), rel_err(var, mom["variance"]),
                   abs(h - mom["entropy"]) / max(1, abs(h))), mpf("1e-15"))


# ---------------------------------------------------------------------------
# Cross-checks against torch (float64) and scipy: stdout only
# ---------------------------------------------------------------------------

XC_TOL = 1e-8
XC = {}  # (dist, method, source) -> max disagreement
XC_SKIPPED = {}
LOG_METRIC = {"log_prob", "entropy", "grad_log_prob", "grad_cdf"}

TINY = 1e-290

# (dist, method, source) -> reason: printed but not enforced.  Filled from the
# families' ``xc_exempt`` by ``register_tables``.
XC_EXEMPT = {}
# Rows where the other side subtracts from 1, so values near 0 lose relative
# accuracy: measured absolutely, |ours - theirs| (families' ``abs_metric``).
ABS_METRIC = set()
# Rows where points at which the other side returns +-inf/NaN (and ours is
# finite) are skipped and counted (families' ``skip_nonfinite``).
SKIP_NONFINITE = set()


def register_tables(dists):
    for d in dists:
        if "scipy" in d:
            XC_EXEMPT[(d["name"], "grad_cdf", "scipy-fd")] = (
                "informational: finite differences of scipy's cdf, step 1e-6")
        for (method, source), reason in d.get("xc_exempt", {}).items():
            XC_EXEMPT[(d["name"], method, source)] = reason
        ABS_METRIC.update((d["name"], m, s) for m, s in d.get("abs_metric", ()))
        SKIP_NONFINITE.update((d["name"], m, s) for m, s in d.get("skip_nonfinite", ()))


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



def torch_dist(d, p, n):
    """torch's distribution for parameters ``p``, each an n-vector of one value
    that requires gradients; (None, None) if torch has no such class."""
    if "torch" not in d:
        return None, None
    import torch
    from torch import distributions as D

    t = lambda v: torch.full((n,), v, dtype=torch.float64, requires_grad=True)
    tp = {k: t(v) for k, v in p.items()}
    return d["torch"](D, tp), tp


def torch_cross_check(d, c):
    import torch

    torch.set_default_dtype(torch.float64)  # GeneralizedPareto mixes in torch.tensor(0.0)

    name, p = c["dist"], c["params"]
    n = len(c["values"])
    td, tp = torch_dist(d, p, n)
    if td is None:
        return
    src = "torch"
    src_cdf = d.get("torch_cdf_source", lambda p: src)(p)
    grad_source = d.get("torch_grad_source", lambda p, method, k: None)

    for method, source in (("log_prob", src), ("cdf", src_cdf)):
        x = torch.tensor(c["values"], dtype=torch.float64, requires_grad=True)
        try:
            y = getattr(td, method)(x)
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
            gsrc = grad_source(p, method, k) or source
            xc(name, "grad_" + method, gsrc, c["grad_" + method][k], g.numpy())
    if "q" in c:
        min_q = d.get("torch_icdf_min_q", 0.0)
        keep = [i for i, q in enumerate(c["q"]) if q >= min_q]
        q = torch.tensor([c["q"][i] for i in keep], dtype=torch.float64)
        d1, _ = torch_dist(d, p, len(keep))
        xc(name, "icdf", src_cdf, [c["icdf"][i] for i in keep], d1.icdf(q).detach().numpy())
    skip = d.get("torch_skip_moment", lambda m, theirs, ours: False)
    for m in ["entropy", "mean", "mode", "variance", "stddev"]:
        try:
            v = getattr(td, m)
            v = v() if callable(v) else v
        except NotImplementedError:
            continue
        tv = float(v.detach()[0])
        if skip(m, tv, c[m]):
            continue
        xc(name, m, src, [c[m]], [tv])


def scipy_frozen(d, p):
    if "scipy" not in d:
        return None
    from scipy import stats

    return d["scipy"](stats, p)


def scipy_cross_check(d, c):
    name = c["dist"]
    fr = scipy_frozen(d, c["params"])
    if fr is None:
        return
    xs = np.array(c["values"])
    xc(name, "log_prob", "scipy", c["log_prob"], fr.logpdf(xs))
    src = d.get("scipy_cdf_source", lambda p: "scipy")(c["params"])
    xc(name, "cdf", src, c["cdf"], fr.cdf(xs))
    xc(name, "pdf", "scipy", c["grad_cdf"]["value"], fr.pdf(xs))
    if "q" in c:
        xc(name, "icdf", "scipy", c["icdf"], fr.ppf(np.array(c["q"])))
    if not d.get("scipy_moments", True):
        xc(name, "entropy", "scipy", [c["entropy"]], [float(fr.entropy())])
        return
    msrc = d.get("scipy_moment_source", lambda p: "scipy")(c["params"])
    mean, var = fr.stats(moments="mv")
    xc(name, "entropy", msrc, [c["entropy"]], [float(fr.entropy())])
    # scipy's conventions for undefined moments differ from torch's: only the
    # finite reference moments are compared.
    for m, v in (("mean", mean), ("variance", var)):
        ours = fnum(c[m])
        if math.isfinite(ours):
            xc(name, m, msrc, [ours], [float(v)])


def scipy_fd_grad_check(d, c):
    """Informational: d cdf / d parameter against a central difference of
    scipy's cdf in float64 (relative step 1e-6, so agreement to ~1e-8 only)."""
    name = c["dist"]
    if scipy_frozen(d, c["params"]) is None:
        return
    xs = np.array(c["values"])
    for k, v in c["params"].items():
        h = 1e-6 * (abs(v) if v != 0 else 1.0)
        up = scipy_frozen(d, dict(c["params"], **{k: v + h})).cdf(xs)
        dn = scipy_frozen(d, dict(c["params"], **{k: v - h})).cdf(xs)
        xc(name, "grad_cdf", "scipy-fd", c["grad_cdf"][k], (up - dn) / (2 * h))


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
# Main
# ---------------------------------------------------------------------------

UNIVARIATE_GENERATOR = "reference/gen_*_family.py"


def write_json(path, cases, generator):
    doc = {"generator": generator, "mpmath_dps": mp.dps, "cases": cases}
    text = json.dumps(doc, indent=1, allow_nan=False)
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(text) / 1024:.0f} KiB, {len(cases)} cases)")


def merge_cases(old, new):
    """``old`` with the cases of every distribution in ``new`` replaced by the
    new ones, in place (at the first old case of that distribution); cases of
    distributions new to the file go at the end."""
    names = {c["dist"] for c in new}
    out, done = [], set()
    for c in old:
        if c["dist"] not in names:
            out.append(c)
        elif c["dist"] not in done:
            out += [n for n in new if n["dist"] == c["dist"]]
            done.add(c["dist"])
    return out + [n for n in new if n["dist"] not in done]


_DISTS = []  # the family being evaluated (read by forked workers)


def _evaluate_task(task):
    """Worker: evaluate one case; returns it with the self-check entries."""
    i, j = task
    SELF_CHECK.clear()
    d = _DISTS[i]
    case = evaluate_case(d, d["cases"][j])
    return case, dict(SELF_CHECK)


def main(dists, vector=None):
    """Evaluates the cases of ``dists`` and merges them into
    ``shape_families.json``; ``vector`` optionally describes a multivariate
    output of the family with its own file: dict(path, generator, make=() ->
    cases, cross_check=case -> None).  ``--check-only`` re-runs the
    cross-checks on the written files."""
    import os
    import time

    register_tables(dists)
    names = [d["name"] for d in dists]
    if "--check-only" in sys.argv:
        cases = [c for c in json.loads(OUT_UNIVARIATE.read_text())["cases"] if c["dist"] in names]
        vcases = json.loads(vector["path"].read_text())["cases"] if vector else []
        return cross_check_all(dists, cases, vector, vcases, False)

    # Cases are independent: evaluate them in worker processes (results come
    # back in task order, so the output does not depend on the worker count).
    t0 = time.time()
    _DISTS[:] = dists
    tasks = [(i, j) for i, d in enumerate(dists) for j in range(len(d["cases"]))]
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
    vcases = vector["make"]() if vector else []
    if vector:
        counts[vector["name"]] = len(vcases)
    print(f"evaluated {len(cases) + len(vcases)} cases in {time.time() - t0:.0f} s ({workers} processes)")
    for name, n in counts.items():
        print(f"  {name:20s} {n:2d} cases")

    by_name = {d["name"]: d for d in dists}
    for c in cases:
        if "self_check" in by_name[c["dist"]]:
            by_name[c["dist"]]["self_check"](c)
    old = json.loads(OUT_UNIVARIATE.read_text())["cases"] if OUT_UNIVARIATE.exists() else []
    write_json(OUT_UNIVARIATE, merge_cases(old, cases), UNIVARIATE_GENERATOR)
    if vector:
        write_json(vector["path"], vcases, vector["generator"])

    print("internal self-checks (max relative error, mpmath):")
    bad = False
    for (dist, what), (rel, limit) in SELF_CHECK.items():
        flag = "" if rel <= limit else "  <-- FAIL"
        bad |= rel > limit
        print(f"  {dist:20s} {what:40s} {mpmath.nstr(rel, 3):>10s} (limit {mpmath.nstr(limit, 1)}){flag}")

    return cross_check_all(dists, cases, vector, vcases, bad)


def cross_check_all(dists, cases, vector, vcases, bad):
    try:
        import scipy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        print(f"cross-checks skipped ({e}): they need torch and scipy")
        if bad:
            print("CHECKS FAILED", file=sys.stderr)
            sys.exit(1)
        return
    by_name = {d["name"]: d for d in dists}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for c in cases:
            d = by_name[c["dist"]]
            CURRENT["p"] = c["params"]
            torch_cross_check(d, c)
            scipy_cross_check(d, c)
            scipy_fd_grad_check(d, c)
        for c in vcases:
            CURRENT["p"] = c["params"]
            vector["cross_check"](c)
    xbad = report_cross_checks()
    if bad or xbad:
        print("CHECKS FAILED", file=sys.stderr)
        sys.exit(1)
