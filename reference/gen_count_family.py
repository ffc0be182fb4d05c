#!/usr/bin/env python3
"""Reference data for the count families: Binomial, Poisson, NegativeBinomial
(torch's parameterizations).

Writes ``count_family.json``: per family a list of cases (parameters given as probs,
logits or rate; every parameter float32-exact so one file serves both dtypes), each
with values, log_prob, the log_prob gradients with respect to the given parameter
and to total_count, the Poisson cdf and its rate gradient, the moments (mean,
variance, torch's mode) and the Binomial entropy.  Regenerate from the repository
root with::

    .venv/bin/python reference/gen_count_family.py

Everything is computed in mpmath at 80 digits (so that ln(1 - p) keeps its relative
accuracy for p = sigma(-100)) from the textbook masses
(C(n, k) p^k q^(n-k), lam^k e^-lam / k!, Gamma(r+k)/(Gamma(r) k!) p^k q^r);
gradients are closed forms (digamma differences, k/p - (n-k)/q, ...) checked here
against ``mpmath.diff`` of the log-masses; entropies are sums over the whole
support (or mean +- 60 sd, where the rest is below 1e-700), checked against
``mpmath.diff`` for the gradient-free value only.  torch (float64) and scipy values
are printed as a cross-check; the script exits non-zero if a self-check fails.
"""

import json
import math
import pathlib
import sys

import mpmath
from mpmath import mp, mpf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from refcommon import f32, json_number, to_f64  # noqa: E402

mp.dps = 80
HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "count_family.json"
FAILS = []


def check(ok, what):
    if not ok:
        FAILS.append(what)
        print("SELF-CHECK FAILED:", what)


def num(x):
    return json_number(to_f64(x))


def pq_of(given, x):
    x = mpf(x)
    if given == "probs":
        return x, 1 - x
    # sigma(l), sigma(-l) exactly
    return 1 / (1 + mp.exp(-x)), 1 / (1 + mp.exp(x))


def xlog(c, lp):
    """c * ln(p) with 0 * ln 0 = 0."""
    if c == 0:
        return mpf(0)
    if lp == 0:
        return -mp.inf
    return c * mp.log(lp)


# ---------------------------------------------------------------------------
# Binomial
# ---------------------------------------------------------------------------


def binom_lp(k, n, p, q):
    if k < 0 or k > n:
        return -mp.inf
    lc = mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
    return lc + xlog(k, p) + xlog(n - k, q)


def binom_grads(k, n, p, q, given):
    """d log_prob / d given-parameter and d / d total_count."""
    if given == "probs":
        # k/p - (n-k)/q, with the terms of zero count dropped
        g = mpf(0)
        if k > 0:
            g += k / p if p > 0 else mp.inf
        if n - k > 0:
            g -= (n - k) / q if q > 0 else mp.inf
    else:
        g = k - n * p  # d/dl: k q - (n - k) p
    gn = mp.digamma(n + 1) - mp.digamma(n - k + 1) + (mp.log(q) if q > 0 else (0 if n - k == 0 else -mp.inf))
    return g, gn


def binom_entropy(n, p, q):
    n = int(n)
    if p == 0 or q == 0 or n == 0:
        return mpf(0)
    sd = math.sqrt(float(n * p * q))
    mean = float(n * p)
    lo = max(0, int(mean - 60 * sd - 60))
    hi = min(n, int(mean + 60 * sd + 60))
    h = mpf(0)
    lp = binom_lp(lo, n, p, q)
    # walk with the exact ratio to keep it fast: f(k+1)/f(k) = (n-k)/(k+1) p/q
    f = mp.exp(lp)
    for k in range(lo, hi + 1):
        if f > 0:
            h -= f * mp.log(f)
        f = f * (n - k) / (k + 1) * p / q
    return h


BINOMIAL = [
    # (total_count, given, param, values)
    (10, "probs", 0.3, [0, 1, 3, 7, 10]),
    (1, "probs", 0.5, [0, 1]),
    (0, "probs", 0.3, [0]),
    (20, "probs", 0.0, [0, 1, 20]),
    (20, "probs", 1.0, [0, 19, 20]),
    (1e6, "probs", 0.5, [0, 499000, 500000, 500700, 1000000]),
    (1e6, "probs", 1e-6, [0, 1, 3, 20]),
    (1e6, "probs", 0.999, [998900, 999000, 999050, 1000000]),
    (100, "probs", 1e-4, [0, 1, 2]),
    (10, "logits", -0.8, [0, 2, 10]),
    (1e6, "logits", 5.0, [993000, 993300, 1000000]),
    (1e6, "logits", -20.0, [0, 1, 5]),
    (50, "logits", 30.0, [48, 49, 50]),
    (7, "logits", -100.0, [0, 1]),
]

# ---------------------------------------------------------------------------
# Poisson
# ---------------------------------------------------------------------------


def pois_lp(k, lam):
    return xlog(k, lam) - lam - mp.loggamma(k + 1)


POISSON = [
    (1e-4, [0, 1, 2, 5]),
    (0.5, [0, 1, 4]),
    (3.0, [0, 1, 3, 10, 25]),
    (10.0, [0, 5, 10, 20, 40]),
    (1e5, [99000, 100000, 100500, 102000]),
    (0.0, [0, 1]),
    (1e15, [1e15 - 2e8, 1e15, 1e15 + 1e8]),
]

# ---------------------------------------------------------------------------
# NegativeBinomial: successes (prob p each) before r failures.
# ---------------------------------------------------------------------------


def nb_lp(k, r, p, q):
    if k == 0:
        return xlog(r, q)
    lc = mp.loggamma(r + k) - mp.loggamma(r) - mp.loggamma(k + 1)
    return lc + xlog(r, q) + xlog(k, p)


def nb_grads(k, r, p, q, given):
    if given == "probs":
        g = (0 if k == 0 else (k / p if p > 0 else mp.inf)) - r / q
    else:
        g = k * q - r * p
    gr = (mp.log(q) if q > 0 else -mp.inf) + (mp.digamma(r + k) - mp.digamma(r) if k > 0 else 0)
    return g, gr


NEGBIN = [
    (1e-3, "probs", 0.5, [0, 1, 2, 10, 100]),
    (0.5, "probs", 0.3, [0, 1, 4]),
    (50.0, "probs", 0.9, [0, 300, 450, 600]),
    (5.0, "probs", 0.0, [0, 1]),
    (2.5, "probs", 1e-6, [0, 1, 3]),
    (1e-3, "logits", 2.0, [0, 1, 50]),
    (50.0, "logits", -3.0, [0, 2, 10]),
    (10.0, "logits", 20.0, [4e9, 4.85e9, 6e9]),
]


def diff_check(f, x, expect, what):
    if not mp.isfinite(expect):
        return
    d = mp.diff(f, mpf(x))
    check(abs(d - expect) <= mpf(10) ** -25 * (1 + abs(expect)), f"{what}: diff {d} vs {expect}")


def main():
    out = {"generator": "reference/gen_count_family.py", "binomial": [], "poisson": [], "negative_binomial": []}
    with mp.workdps(80):
        for n, given, x, values in BINOMIAL:
            n, x = f32(n), f32(x)
            p, q = pq_of(given, x)
            lps, gs, gns = [], [], []
            for k in values:
                k = f32(k)
                lps.append(binom_lp(mpf(k), mpf(n), p, q))
                g, gn = binom_grads(mpf(k), mpf(n), p, q, given)
                gs.append(g)
                gns.append(gn)
                if 0 < p < 1 and n < 1e5:
                    diff_check(lambda t: binom_lp(mpf(k), mpf(n), *pq_of(given, t)), x, g, f"binomial d{given}")
                    diff_check(lambda t: mp.loggamma(t + 1) - mp.loggamma(k + 1) - mp.loggamma(t - k + 1)
                               + xlog(k, p) + (t - k) * mp.log(q), n, gn, "binomial dn")
            mode = min(mp.floor((mpf(n) + 1) * p), n)
            case = {
                "total_count": n, "given": given, "param": x,
                "values": [f32(k) for k in values],
                "log_prob": [num(v) for v in lps],
                "grad_param": [num(v) for v in gs],
                "grad_total_count": [num(v) for v in gns],
                "mean": num(n * p), "variance": num(n * p * q), "mode": num(mode),
                "entropy": num(binom_entropy(n, p, q)),
            }
            out["binomial"].append(case)

        for lam, values in POISSON:
            lam = f32(lam)
            L = mpf(lam)
            lps, gs, cdfs, gcs = [], [], [], []
            for k in values:
                k = mpf(f32(k))
                lps.append(pois_lp(k, L))
                gs.append(k / L - 1 if L > 0 else (-1 if k == 0 else mp.inf))
                # mpmath's incomplete gamma takes minutes at 1e15: no cdf there.
                if lam > 1e6:
                    c = mp.nan
                else:
                    c = mp.gammainc(k + 1, L, mp.inf, regularized=True) if L > 0 else mpf(1)
                cdfs.append(c)
                gcs.append(-mp.exp(pois_lp(k, L)))
                if L > 0 and lam < 1e6:
                    diff_check(lambda t: pois_lp(k, t), lam, gs[-1], "poisson drate")
                    diff_check(lambda t: mp.gammainc(k + 1, t, mp.inf, regularized=True), lam, gcs[-1],
                               "poisson dcdf")
            out["poisson"].append({
                "rate": lam, "values": [f32(k) for k in values],
                "log_prob": [num(v) for v in lps], "grad_rate": [num(v) for v in gs],
                "cdf": [num(v) for v in cdfs], "grad_cdf_rate": [num(v) for v in gcs],
                "mean": lam, "variance": lam, "mode": num(mp.floor(L)),
            })

        for r, given, x, values in NEGBIN:
            r, x = f32(r), f32(x)
            p, q = pq_of(given, x)
            R = mpf(r)
            lps, gs, grs = [], [], []
            for k in values:
                k = mpf(f32(k))
                lps.append(nb_lp(k, R, p, q))
                g, gr = nb_grads(k, R, p, q, given)
                gs.append(g)
                grs.append(gr)
                if 0 < p < 1 and R > 0 and k < 1e6:
                    diff_check(lambda t: nb_lp(k, R, *pq_of(given, t)), x, g, f"negbin d{given}")
                    diff_check(lambda t: nb_lp(k, t, p, q), r, gr, "negbin dr")
            odds = p / q
            out["negative_binomial"].append({
                "total_count": r, "given": given, "param": x,
                "values": [f32(k) for k in values],
                "log_prob": [num(v) for v in lps], "grad_param": [num(v) for v in gs],
                "grad_total_count": [num(v) for v in grs],
                "mean": num(R * odds), "variance": num(R * odds / q),
                "mode": num(max(mp.floor((R - 1) * odds), 0)),
            })

        # Entropy self-check: sum of the masses is 1 where the entropy was summed.
        for case in out["binomial"]:
            n = case["total_count"]
            if n <= 100:
                p, q = pq_of(case["given"], case["param"])
                tot = mp.fsum(mp.exp(binom_lp(k, n, p, q)) for k in range(int(n) + 1))
                check(abs(tot - 1) < mpf(10) ** -40, f"binomial mass sums to {tot}")

    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")
    cross_check(out)
    if FAILS:
        print(f"{len(FAILS)} self-checks failed")
        sys.exit(1)


def cross_check(out):
    try:
        import torch
        from scipy import stats
    except ImportError as e:  # pragma: no cover
        print("cross-check skipped:", e)
        return
    worst = 0.0
    for c in out["binomial"]:
        n = torch.tensor(c["total_count"], dtype=torch.float64)
        x = torch.tensor(c["param"], dtype=torch.float64)
        kw = {"probs": x} if c["given"] == "probs" else {"logits": x}
        d = torch.distributions.Binomial(n, validate_args=False, **kw)
        lp = d.log_prob(torch.tensor(c["values"], dtype=torch.float64)).tolist()
        p, _ = pq_of(c["given"], c["param"])
        sp = stats.binom.logpmf(c["values"], int(c["total_count"]), float(p))
        for a, b, s in zip(c["log_prob"], lp, sp):
            if isinstance(a, float) and math.isfinite(a):
                worst = max(worst, abs(a - b) / max(1.0, abs(a)))
        print(f"Binomial n={c['total_count']:g} {c['given']}={c['param']:g}: ours {c['log_prob']}"
              f" torch {[round(v, 12) for v in lp]} scipy {[round(float(v), 12) for v in sp]}")
    for c in out["poisson"]:
        d = torch.distributions.Poisson(torch.tensor(c["rate"], dtype=torch.float64), validate_args=False)
        lp = d.log_prob(torch.tensor(c["values"], dtype=torch.float64)).tolist()
        sp = stats.poisson.logpmf(c["values"], c["rate"])
        print(f"Poisson rate={c['rate']:g}: ours {c['log_prob']} torch {lp} scipy {list(sp)}")
    for c in out["negative_binomial"]:
        r = torch.tensor(c["total_count"], dtype=torch.float64)
        x = torch.tensor(c["param"], dtype=torch.float64)
        kw = {"probs": x} if c["given"] == "probs" else {"logits": x}
        d = torch.distributions.NegativeBinomial(r, validate_args=False, **kw)
        lp = d.log_prob(torch.tensor(c["values"], dtype=torch.float64)).tolist()
        print(f"NegativeBinomial r={c['total_count']:g} {c['given']}={c['param']:g}: ours {c['log_prob']}"
              f" torch {lp} mean ours {c['mean']} torch {float(d.mean)}")
    print(f"largest relative log_prob difference to torch (finite, binomial): {worst:.2e}")


if __name__ == "__main__":
    main()
