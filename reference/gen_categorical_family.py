#!/usr/bin/env python3
"""Reference data for the categorical family: Categorical / OneHotCategorical,
Multinomial, ExpRelaxedCategorical and RelaxedOneHotCategorical.

Writes ``categorical_family.json``.  Regenerate from the repository root with::

    .venv/bin/python reference/gen_categorical_family.py

Everything is computed in mpmath (60 digits, 90 for logits of 1e38):
- log-probabilities ln(p_k / sum p) from probs, x_k - logsumexp(x) from logits;
- gradients of log_prob with respect to the given parameter by ``mpmath.diff``
  (central differences at high precision) on the finite coordinates; at a -inf
  logit the derivative of x_k - logsumexp(x) is the limit -p_j = 0 (written out);
- entropy -sum p ln p (0 ln 0 = 0) and its gradient by ``mpmath.diff``;
- Multinomial log-masses from factorials, and mean, variance and entropy by
  enumerating every count vector (independent of torch's binomial formula);
- the relaxed log-densities from the concrete density of Maddison et al. (2017),
  whose normalisation is checked here by quadrature over the simplex (K = 2, 3).
torch (float64) values are printed as a cross-check, not stored.
"""

import itertools
import json
import math
import pathlib
import sys

import mpmath as mp

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "categorical_family.json"
mp.mp.dps = 60
NINF = mp.mpf("-inf")


def f32(x):
    """x rounded to float32, as an exact Python float (inputs are f32-exact)."""
    import struct

    if isinstance(x, float) and math.isinf(x):
        return x
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def jnum(v):
    v = float(v) if not isinstance(v, float) else v
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def jlist(xs):
    return [jnum(x) for x in xs]


def log_probs(given, raw):
    """Normalised log-probabilities (mpf) of a row."""
    if given == "probs":
        s = mp.fsum(raw)
        return [mp.log(p / s) if p > 0 else NINF for p in raw]
    m = max(raw)
    s = mp.fsum(mp.exp(x - m) for x in raw if x != NINF)
    lse = m + mp.log(s)
    return [x - lse if x != NINF else NINF for x in raw]


def entropy_of(lp):
    return -mp.fsum(mp.exp(l) * l for l in lp if l != NINF)


def grad(f, raw, given, skip_value):
    """d f / d raw_j by mpmath.diff on the finite coordinates; -inf logits get 0
    (the limit of the derivative, -p_j e^... = 0)."""
    out = []
    for j, r in enumerate(raw):
        if r == NINF:
            out.append(mp.mpf(0))
            continue

        def fj(t, j=j):
            rr = list(raw)
            rr[j] = t
            return f(rr)

        out.append(mp.diff(fj, r))
    return out


CAT_CASES = [
    ("logits", ["0.5", "-1.25", "2.0"]),
    ("logits", ["0.0", "-inf", "1.0", "3.5"]),
    ("probs", ["0.25", "0.5", "1.25"]),
    ("probs", ["0.0", "1.0", "3.0"]),
    ("logits", ["1e38", "0.0", "-1e38"]),
    ("logits", ["0.125", "-0.75", "1.5", "2.25", "-3.0", "0.0", "0.625", "-1.5", "4.0", "1.0"]),
]


def as_raw(vals):
    out = []
    for v in vals:
        if v == "-inf":
            out.append(NINF)
        else:
            out.append(mp.mpf(f32(float(v))))
    return out


def categorical_cases():
    cases = []
    for given, vals in CAT_CASES:
        raw = as_raw(vals)
        big = any(abs(r) > 1e30 for r in raw if r != NINF)
        with mp.workdps(120 if big else 60):
            lp = log_probs(given, raw)
            p = [mp.exp(l) if l != NINF else mp.mpf(0) for l in lp]
            h = entropy_of(lp)
            grads = []
            for k in range(len(raw)):
                if lp[k] == NINF:
                    grads.append([mp.nan] * len(raw))
                    continue
                grads.append(grad(lambda rr, k=k: log_probs(given, rr)[k], raw, given, None))
            gh = grad(lambda rr: entropy_of(log_probs(given, rr)), raw, given, None)
            # At a zero weight the entropy's derivative is one-sided (-ln p -> +inf): none.
            gh = [mp.nan if given == "probs" and r == 0 else g for g, r in zip(gh, raw)]
        cases.append({
            "given": given,
            "raw": jlist(raw),
            "log_prob": jlist(lp),
            "probs": jlist(p),
            "variance": jlist([q * (1 - q) for q in p]),
            "entropy": jnum(h),
            "grad_log_prob": [jlist(g) for g in grads],
            "grad_entropy": jlist(gh),
        })
    return cases


def compositions(n, k):
    if k == 1:
        yield (n,)
        return
    for i in range(n + 1):
        for rest in compositions(n - i, k - 1):
            yield (i,) + rest


def multinomial_lp(n, given, raw, x):
    lp = log_probs(given, raw)
    t = mp.mpf(0)
    for xi, l in zip(x, lp):
        if xi == 0:
            continue
        if l == NINF:
            return NINF
        t += xi * l
    return mp.log(mp.factorial(n)) - mp.fsum(mp.log(mp.factorial(xi)) for xi in x) + t


MULTI_CASES = [
    (5, "probs", ["0.25", "0.5", "1.25"], [(0, 1, 4), (5, 0, 0), (2, 2, 1)]),
    (4, "logits", ["0.0", "-inf", "1.0"], [(1, 0, 3), (4, 0, 0), (0, 0, 4)]),
    (7, "logits", ["0.5", "-1.25", "2.0", "0.0"], [(1, 2, 3, 1), (0, 0, 7, 0), (2, 0, 2, 3)]),
]


def multinomial_cases():
    cases = []
    for n, given, vals, xs in MULTI_CASES:
        raw = as_raw(vals)
        k = len(raw)
        lps = [multinomial_lp(n, given, raw, x) for x in xs]
        grads = [grad(lambda rr, x=x: multinomial_lp(n, given, rr, x), raw, given, None) for x in xs]
        lp = log_probs(given, raw)
        p = [mp.exp(l) if l != NINF else mp.mpf(0) for l in lp]
        mean = [0] * k
        second = [0] * k
        h = mp.mpf(0)
        total = mp.mpf(0)
        for x in compositions(n, k):
            l = multinomial_lp(n, given, raw, x)
            if l == NINF:
                continue
            q = mp.exp(l)
            total += q
            h -= q * l
            for i in range(k):
                mean[i] += q * x[i]
                second[i] += q * x[i] ** 2
        assert abs(total - 1) < mp.mpf(10) ** -40, total
        var = [second[i] - mean[i] ** 2 for i in range(k)]
        for i in range(k):
            assert abs(mean[i] - n * p[i]) < mp.mpf(10) ** -40
            assert abs(var[i] - n * p[i] * (1 - p[i])) < mp.mpf(10) ** -40
        cases.append({
            "total_count": n,
            "given": given,
            "raw": jlist(raw),
            "values": [list(x) for x in xs],
            "log_prob": jlist(lps),
            "grad_log_prob": [jlist(g) for g in grads],
            "mean": jlist(mean),
            "variance": jlist(var),
            "entropy": jnum(h),
        })
    return cases


def exp_relaxed_lp(t, given, raw, x):
    """torch's ExpRelaxedCategorical log-density (the concrete density in log space)."""
    k = len(raw)
    lp = log_probs(given, raw)
    score = [l - xi * t if l != NINF else NINF for l, xi in zip(lp, x)]
    m = max(score)
    lse = m + mp.log(mp.fsum(mp.exp(s - m) for s in score if s != NINF))
    return mp.loggamma(k) + (k - 1) * mp.log(t) + mp.fsum(s - lse for s in score)


def relaxed_density(t, lp, y):
    """The concrete density on the simplex (Maddison et al. 2017, eq. 2)."""
    k = len(lp)
    p = [mp.exp(l) for l in lp]
    num = mp.fsum(p[i] * y[i] ** (-t) for i in range(k)) ** (-k)
    prod = 1
    for i in range(k):
        prod *= p[i] * y[i] ** (-t - 1)
    return mp.factorial(k - 1) * t ** (k - 1) * prod * num


def check_normalisation():
    with mp.workdps(20):
        lp2 = log_probs("logits", [mp.mpf("0.3"), mp.mpf("-0.4")])
        z2 = mp.quad(lambda a: relaxed_density(mp.mpf("0.7"), lp2, [a, 1 - a]), [0, 0.5, 1])
        lp3 = log_probs("logits", [mp.mpf("0.3"), mp.mpf("-0.4"), mp.mpf("0.1")])
        z3 = mp.quad(
            lambda a, b: relaxed_density(mp.mpf("1.5"), lp3, [a, b * (1 - a), (1 - a) * (1 - b)]) * (1 - a),
            [0, 1], [0, 1])
        # and the concrete density agrees with torch's log-space formula minus sum(x)
        y = [mp.mpf("0.2"), mp.mpf("0.5"), mp.mpf("0.3")]
        x = [mp.log(v) for v in y]
        a = mp.log(relaxed_density(mp.mpf("1.5"), lp3, y))
        b = exp_relaxed_lp(mp.mpf("1.5"), "logits", [mp.mpf("0.3"), mp.mpf("-0.4"), mp.mpf("0.1")], x) - sum(x)
    print(f"relaxed density normalisation: K=2 {z2}, K=3 {z3}; formula agreement {a - b}")
    assert abs(z2 - 1) < 1e-8 and abs(z3 - 1) < 1e-6 and abs(a - b) < 1e-15


RELAXED_CASES = [
    ("0.5", "logits", ["0.5", "-1.25", "2.0"], [["0.0", "1.0", "-0.5"], ["3.0", "-2.0", "0.25"]]),
    ("2.0", "probs", ["0.25", "0.5", "1.25"], [["0.0", "0.0", "0.0"], ["-1.0", "1.5", "0.5"]]),
    ("0.125", "logits", ["0.0", "1.0", "-0.5", "2.5"], [["0.5", "0.25", "-1.0", "2.0"]]),
]


def relaxed_cases():
    cases = []
    for t, given, vals, pts in RELAXED_CASES:
        t = mp.mpf(f32(float(t)))
        raw = as_raw(vals)
        xs = []
        for p in pts:
            z = [mp.mpf(f32(float(v))) for v in p]
            m = max(z)
            lse = m + mp.log(mp.fsum(mp.exp(v - m) for v in z))
            xs.append([v - lse for v in z])  # a point with sum exp(x) = 1 (not f32-exact)
        lps = [exp_relaxed_lp(t, given, raw, x) for x in xs]
        grads = [grad(lambda rr, x=x: exp_relaxed_lp(t, given, rr, x), raw, given, None) for x in xs]
        gts = [mp.diff(lambda tt, x=x: exp_relaxed_lp(tt, given, raw, x), t) for x in xs]
        cases.append({
            "temperature": jnum(t),
            "given": given,
            "raw": jlist(raw),
            "points": [[str(p) for p in pt] for pt in pts],
            "log_x": [jlist(x) for x in xs],
            "exp_relaxed_log_prob": jlist(lps),
            "relaxed_one_hot_log_prob": jlist([l - mp.fsum(x) for l, x in zip(lps, xs)]),
            "grad_log_prob": [jlist(g) for g in grads],
            "grad_temperature": jlist(gts),
        })
    return cases


def torch_cross_check(doc):
    try:
        import torch
        from torch.distributions import Categorical, Multinomial
        from torch.distributions.relaxed_categorical import ExpRelaxedCategorical
    except ImportError:
        print("torch not available: no cross-check")
        return
    worst = 0.0
    for c in doc["categorical"]:
        raw = torch.tensor([float(v) if not isinstance(v, str) else float(v) for v in c["raw"]],
                           dtype=torch.float64)
        d = Categorical(**{c["given"]: raw}, validate_args=False)
        lp = d.log_prob(torch.arange(len(raw)))
        for a, b in zip(lp.tolist(), c["log_prob"]):
            if isinstance(b, float) and math.isfinite(a):
                worst = max(worst, abs(a - b) / max(1.0, abs(b)))
        print(f"torch Categorical({c['given']}) log_prob {lp.tolist()}; entropy {d.entropy().item()} "
              f"(ours-ref {c['entropy']})")
    for c in doc["multinomial"]:
        raw = torch.tensor([float(v) for v in c["raw"]], dtype=torch.float64)
        d = Multinomial(c["total_count"], **{c["given"]: raw}, validate_args=False)
        lp = d.log_prob(torch.tensor(c["values"], dtype=torch.float64))
        print(f"torch Multinomial log_prob {lp.tolist()} vs {c['log_prob']}; entropy "
              f"{d.entropy().item()} vs {c['entropy']}")
    for c in doc["relaxed"]:
        raw = torch.tensor([float(v) for v in c["raw"]], dtype=torch.float64)
        d = ExpRelaxedCategorical(torch.tensor(c["temperature"], dtype=torch.float64),
                                  **{c["given"]: raw}, validate_args=False)
        lp = d.log_prob(torch.tensor(c["log_x"], dtype=torch.float64))
        print(f"torch ExpRelaxedCategorical log_prob {lp.tolist()} vs {c['exp_relaxed_log_prob']}")
    print(f"torch Categorical worst relative difference on finite classes: {worst:.2e}")


def main():
    check_normalisation()
    doc = {
        "categorical": categorical_cases(),
        "multinomial": multinomial_cases(),
        "relaxed": relaxed_cases(),
    }
    torch_cross_check(doc)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
