#!/usr/bin/env python3
"""Reference data for the binary families: Bernoulli, Geometric, LogitRelaxedBernoulli
and RelaxedBernoulli (torch's parameterizations, from probs or from logits).

Writes ``binary_family.json``.  Regenerate from the repository root with::

    .venv/bin/python reference/gen_binary_family.py

Every formula is written out below in mpmath at 50 digits; gradients with respect to
the given parameter (probs or logits) and the temperature come from ``mpmath.diff``
(central, at 80 digits, with a step of 1e-25 relative to the point).  Inputs are float32-exact.
torch (float64) is evaluated on the same inputs as a cross-check only, printed to
stdout; it never produces a number in the file.
"""

import json
import math
import pathlib

import mpmath
from mpmath import mp, mpf

from refcommon import f32, json_number, to_f64

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "binary_family.json"
mp.dps = 50


def sigmoid(l):
    return 1 / (1 + mp.exp(-l))


def pq(given, x):
    """(p, 1 - p, ln p, ln(1 - p)) from the given parameter, without a round trip
    (from logits l: p = sigma(l), 1 - p = sigma(-l), ln p = -ln(1 + e^-l), ln(1 - p) =
    -ln(1 + e^l), exact also where p rounds to 1 at 50 digits, l = 1e38)."""
    x = mpf(x)
    if given == "probs":
        lp = mp.log(x) if x > 0 else -mp.inf
        lq = mp.log1p(-x) if x < 1 else -mp.inf
        return x, 1 - x, lp, lq
    return sigmoid(x), sigmoid(-x), -mp.log1p(mp.exp(-x)), -mp.log1p(mp.exp(x))


def wlog(a, lb):
    """a * ln b given ln b, with 0 * ln 0 = 0."""
    return mpf(0) if a == 0 else a * lb


# --- Bernoulli: P(1) = p -------------------------------------------------------------

def bern_log_prob(x, t):
    p, q, lp, lq = t
    return wlog(x, lp) + wlog(1 - x, lq)


def bern_moments(t):
    p, q, lp, lq = t
    return {
        "entropy": -(wlog(p, lp) + wlog(q, lq)),
        "mean": p,
        "variance": p * q,
    }


# --- Geometric: P(k) = (1 - p)^k p -----------------------------------------------------

def geom_log_prob(k, t):
    p, q, lp, lq = t
    return wlog(k, lq) + lp


def geom_moments(t):
    p, q, lp, lq = t
    return {
        "entropy": -(wlog(p, lp) + wlog(q, lq)) / p,
        "mean": q / p,
        "variance": q / p**2,
    }


# --- LogitRelaxedBernoulli(tau, l): X = (l + Logistic)/tau --------------------------

def logit_of(given, x):
    x = mpf(x)
    return mp.log(x) - mp.log1p(-x) if given == "probs" else x


def lrb_log_prob(x, tau, l):
    d = l - tau * x
    return mp.log(tau) + d - 2 * mp.log1p(mp.exp(d))


def rb_log_prob(y, tau, l):
    x = mp.log(y) - mp.log1p(-y)
    return lrb_log_prob(x, tau, l) - mp.log(y) - mp.log1p(-y)


def deriv(f, x):
    """df/dx at x by mpmath's central difference, step relative to |x|."""
    x = mpf(x)
    with mp.workdps(80):
        h = (abs(x) if x != 0 else mpf(1)) * mpf(10) ** -25
        return mp.diff(f, x, h=h)


def discrete_cases(family):
    if family == "bernoulli":
        probs = [1e-4, 0.3, 0.5, 0.999, 1e-30, 0.0, 1.0]
        logits = [-30.0, -2.5, 0.0, 0.75, 20.0, 1e38, -1e38, 1e-3]
        values = [0.0, 1.0]
        lp, moments = bern_log_prob, bern_moments
    else:
        probs = [1.0, 0.999, 0.5, 0.3, 1e-2, 1e-4, 1e-7]
        logits = [-20.0, -3.0, 0.0, 1.5, 30.0]
        values = [0.0, 1.0, 2.0, 7.0, 100.0, 1e4]
        lp, moments = geom_log_prob, geom_moments
    out = []
    for given, params in (("probs", probs), ("logits", logits)):
        for x in params:
            x = f32(x)
            p = pq(given, x)
            interior = given == "logits" or 0 < x < 1
            case = {"given": given, "param": x, "values": values, "log_prob": [], "grad": []}
            for v in values:
                case["log_prob"].append(json_number(to_f64(lp(mpf(v), p))))
                if interior:
                    g = deriv(lambda t: lp(mpf(v), pq(given, t)), x)
                    case["grad"].append(json_number(to_f64(g)))
                else:
                    case["grad"].append(None)
            for name, val in moments(p).items():
                case[name] = json_number(to_f64(val))
            if interior:
                case["entropy_grad"] = json_number(
                    to_f64(deriv(lambda t: moments(pq(given, t))["entropy"], x)))
            out.append(case)
    return out


def relaxed_cases(family):
    f = lrb_log_prob if family == "logit_relaxed_bernoulli" else rb_log_prob
    if family == "logit_relaxed_bernoulli":
        values = [-40.0, -3.0, -0.25, 0.0, 0.5, 2.0, 15.0, 300.0]
    else:
        values = [1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 0.999999]
    grid = [("probs", 0.5, 0.3), ("probs", 2.0, 0.9), ("probs", 0.1, 1e-3),
            ("logits", 1.0, 0.0), ("logits", 0.25, -4.0), ("logits", 3.0, 7.5),
            ("logits", 0.05, 60.0)]
    out = []
    for given, tau, x in grid:
        tau, x = f32(tau), f32(x)
        case = {"given": given, "temperature": tau, "param": x, "values": [],
                "log_prob": [], "grad_param": [], "grad_temperature": []}
        for v in values:
            v = f32(v)
            case["values"].append(v)
            l = logit_of(given, x)
            case["log_prob"].append(json_number(to_f64(f(mpf(v), mpf(tau), l))))
            gp = deriv(lambda t: f(mpf(v), mpf(tau), logit_of(given, t)), x)
            gt = deriv(lambda t: f(mpf(v), t, l), tau)
            case["grad_param"].append(json_number(to_f64(gp)))
            case["grad_temperature"].append(json_number(to_f64(gt)))
        out.append(case)
    return out


def torch_check(data):
    """Max relative difference of torch float64 log_prob from ours (printed only)."""
    try:
        import torch
        from torch.distributions import Bernoulli, Geometric, RelaxedBernoulli
        from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
    except ImportError:
        print("torch not available: cross-check skipped")
        return
    ctor = {"bernoulli": Bernoulli, "geometric": Geometric}
    for fam in ("bernoulli", "geometric", "logit_relaxed_bernoulli", "relaxed_bernoulli"):
        worst = 0.0
        for c in data[fam]:
            kw = {c["given"]: torch.tensor(c["param"], dtype=torch.float64)}
            if fam in ctor:
                d = ctor[fam](validate_args=False, **kw)
            else:
                t = torch.tensor(c["temperature"], dtype=torch.float64)
                cls = LogitRelaxedBernoulli if fam.startswith("logit") else RelaxedBernoulli
                d = cls(t, validate_args=False, **kw)
            for v, want in zip(c["values"], c["log_prob"]):
                got = d.log_prob(torch.tensor(v, dtype=torch.float64)).item()
                if isinstance(want, str) or not math.isfinite(got):
                    continue
                worst = max(worst, abs(got - want) / max(abs(want), 1.0))
        print(f"torch float64 {fam}: max |torch - ref|/max(|ref|, 1) {worst:.2e} (finite values; "
              "torch clamps probs to [eps, 1 - eps] in log_prob and cancels in log1p(-sigmoid(l)))")


def main():
    data = {
        "generator": "reference/gen_binary_family.py",
        "bernoulli": discrete_cases("bernoulli"),
        "geometric": discrete_cases("geometric"),
        "logit_relaxed_bernoulli": relaxed_cases("logit_relaxed_bernoulli"),
        "relaxed_bernoulli": relaxed_cases("relaxed_bernoulli"),
    }
    # Self-check: Geometric pmf sums to 1 and its mean matches Σ k P(k).
    p = pq("probs", f32(0.3))
    total = mp.nsum(lambda k: mp.exp(geom_log_prob(k, p)), [0, mp.inf])
    mean = mp.nsum(lambda k: k * mp.exp(geom_log_prob(k, p)), [0, mp.inf])
    assert abs(total - 1) < mpf(10) ** -30 and abs(mean - geom_moments(p)["mean"]) < mpf(10) ** -30
    # Self-check: the relaxed density integrates to 1.
    for tau, l in ((mpf(0.5), mpf(-1)), (mpf(2), mpf(3))):
        z = mp.quad(lambda x: mp.exp(lrb_log_prob(x, tau, l)), [-mp.inf, l / tau, mp.inf])
        assert abs(z - 1) < mpf(10) ** -20, z
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")
    torch_check(data)


if __name__ == "__main__":
    main()
