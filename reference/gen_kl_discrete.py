"""Reference values of KL(p || q) for the discrete pairs of candle-distributions' `kl`
module (Bernoulli, Binomial, Geometric, Poisson, Categorical, OneHotCategorical and
the Bernoulli/Poisson cross pair), and their gradients with respect to the parameter
each side was built from (probs, logits or rate).

Every value is an explicit sum of p(k) (ln p(k) - ln q(k)) over the support of p in
mpmath at 40 digits, each log-mass written out from its textbook formula (no closed-form
KL is used; torch's float64 closed forms are printed where they differ, as a
cross-check only). The infinite supports (Poisson, Geometric) are summed up to an N at which
a proven bound on the remaining tail is below 1e-35 relative:
  - Poisson(lam): for k > N >= lam, p(k+1)/p(k) = lam/(k+1) <= r = lam/(N+2) < 1, so the
    tail of p(k) |a + b k| is at most p(N+1) [(|a| + |b|(N+1))/(1-r) + |b| r/(1-r)^2];
  - Geometric(p): p(k) = p (1-p)^k, the same geometric bound with r = 1 - p.
Gradients are central differences of those sums at 40 digits (step 1e-12 relative:
truncation ~1e-24, rounding ~1e-28). Categorical parameters are differentiated as given
(probs are normalised by their sum, logits by log-sum-exp, as torch does).

Inputs are float32-exact, so the f32 and f64 tests see the same parameters. Writes
reference/kl_discrete.json:
  {"pairs": [{"p": name, "q": name, "p_params": {"probs"|"logits"|"rate"|"total_count": ..},
              "q_params": {..}, "kl": v, "grad_p": {name: v or [..]} | null, "grad_q": ..}],
   "infinite": [{"p": .., "q": .., "p_params": .., "q_params": ..}]}
A parameter given as a list is a Categorical vector; "-inf" encodes a -inf logit.
grad_* is null where a side sits on the boundary of its parameter space (a probability
of 0 or 1, an infinite logit, a rate of 0), where the KL is not differentiable.

Run from the repository root: .venv/bin/python reference/gen_kl_discrete.py
"""
import json
import math
import os
import sys

from mpmath import mp, mpf

sys.path.insert(0, os.path.dirname(__file__))
from refcommon import f32, json_number, to_f64  # noqa: E402

mp.dps = 40
NINF = -mp.inf
TAIL = mpf(10) ** -35


def xlogy(x, y):
    return mpf(0) if x == 0 else x * mp.log(y)


# ------------------------------------------------------------ binary parameters
def binary_p(P):
    """The probability of a binary family from its given parameter."""
    if "probs" in P:
        return mpf(P["probs"])
    l = P["logits"]
    if l == NINF:
        return mpf(0)
    if l == mp.inf:
        return mpf(1)
    return 1 / (1 + mp.exp(-l))


def bern_logs(P):
    p = binary_p(P)
    return p, (NINF if p == 0 else mp.log(p)), (NINF if p == 1 else mp.log(1 - p))


# --------------------------------------------------------------- log-masses
def bernoulli_terms(P):
    p, lp, l1p = bern_logs(P)
    return [(0, 1 - p, l1p), (1, p, lp)]


def binomial_lpmf(k, P):
    n = P["total_count"]
    p, lp, l1p = bern_logs(P)
    lc = mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
    a = mpf(0) if k == 0 else (NINF if lp == NINF else k * lp)
    b = mpf(0) if k == n else (NINF if l1p == NINF else (n - k) * l1p)
    return lc + a + b


def poisson_lpmf(k, P):
    lam = mpf(P["rate"])
    if lam == 0:
        return mpf(0) if k == 0 else NINF
    return k * mp.log(lam) - lam - mp.loggamma(k + 1)


def geometric_lpmf(k, P):
    p, lp, l1p = bern_logs(P)
    if k == 0:
        return lp
    return NINF if l1p == NINF else lp + k * l1p


def categorical_logs(P):
    if "probs" in P:
        v = [mpf(x) for x in P["probs"]]
        s = mp.fsum(v)
        return [NINF if x == 0 else mp.log(x / s) for x in v]
    v = [mpf(x) if x != "-inf" else NINF for x in P["logits"]]
    m = max(v)
    lse = m + mp.log(mp.fsum(mp.exp(x - m) for x in v if x != NINF))
    return [NINF if x == NINF else x - lse for x in v]


def term(lpk, lqk):
    """p(k) (ln p(k) - ln q(k)) with 0 ln 0 = 0 and +inf where q(k) = 0 < p(k)."""
    if lpk == NINF:
        return mpf(0)
    if lqk == NINF:
        return mp.inf
    return mp.exp(lpk) * (lpk - lqk)


# ------------------------------------------------------------------- KL sums
def kl_finite(ks, lp, lq):
    return mp.fsum(term(lp(k), lq(k)) for k in ks)


def kl_tail_sum(lp, lq, r_of, start_n):
    """Sum over k = 0.. with a proven tail bound; r_of(N) bounds p(k+1)/p(k) past N."""
    total = mpf(0)
    k = 0
    n = start_n
    while True:
        while k <= n:
            total += term(lp(k), lq(k))
            k += 1
        if total == mp.inf:
            return total
        # Past N, |ln p(k) - ln q(k)| <= |a| + |b| k with a, b from two points.
        a = (lp(n) - lq(n)) - n * ((lp(n + 1) - lq(n + 1)) - (lp(n) - lq(n)))
        b = (lp(n + 1) - lq(n + 1)) - (lp(n) - lq(n))
        r = r_of(n)
        if r < 1:
            p1 = mp.exp(lp(n + 1))
            bound = p1 * ((abs(a) + abs(b) * (n + 1)) / (1 - r) + abs(b) * r / (1 - r) ** 2)
            if bound <= TAIL * max(abs(total), mpf(10) ** -30):
                return total
        n = 2 * n + 10


def kl_pair(pn, P, qn, Q):
    if pn in ("Bernoulli",) and qn == "Bernoulli":
        lp = lambda k: bern_logs(P)[2 if k == 0 else 1]
        lq = lambda k: bern_logs(Q)[2 if k == 0 else 1]
        return kl_finite([0, 1], lp, lq)
    if pn == "Binomial" and qn == "Binomial":
        if P["total_count"] > Q["total_count"]:
            return mp.inf
        return kl_finite(range(int(P["total_count"]) + 1),
                         lambda k: binomial_lpmf(k, P), lambda k: binomial_lpmf(k, Q))
    if pn == "Poisson" and qn == "Poisson":
        lam = mpf(P["rate"])
        if lam == 0:
            return kl_finite([0], lambda k: poisson_lpmf(k, P), lambda k: poisson_lpmf(k, Q))
        return kl_tail_sum(lambda k: poisson_lpmf(k, P), lambda k: poisson_lpmf(k, Q),
                           lambda n: lam / (n + 2), int(lam + 60 * mp.sqrt(lam) + 60))
    if pn == "Geometric" and qn == "Geometric":
        p = binary_p(P)
        if p == 1:
            return kl_finite([0], lambda k: geometric_lpmf(k, P), lambda k: geometric_lpmf(k, Q))
        return kl_tail_sum(lambda k: geometric_lpmf(k, P), lambda k: geometric_lpmf(k, Q),
                           lambda n: 1 - p, int(80 / p))
    if pn == "Bernoulli" and qn == "Poisson":
        lp = lambda k: bern_logs(P)[2 if k == 0 else 1]
        return kl_finite([0, 1], lp, lambda k: poisson_lpmf(k, Q))
    if pn == "Poisson" and qn in ("Bernoulli", "Binomial"):
        # Only a rate of 0 (all mass at 0) has a finite KL against a law on {0..n}.
        if mpf(P["rate"]) != 0:
            return mp.inf
        lq = (lambda k: bern_logs(Q)[2]) if qn == "Bernoulli" else (lambda k: binomial_lpmf(k, Q))
        return kl_finite([0], lambda k: poisson_lpmf(k, P), lq)
    if pn in ("Categorical", "OneHotCategorical"):
        a, b = categorical_logs(P), categorical_logs(Q)
        return mp.fsum(term(x, y) for x, y in zip(a, b))
    raise ValueError((pn, qn))


# ------------------------------------------------------------------ gradients
def interior(P):
    for k, v in P.items():
        if k == "total_count":
            continue
        vs = v if isinstance(v, list) else [v]
        for x in vs:
            if x == "-inf" and k == "logits" and isinstance(v, list):
                # A class masked out by a -inf logit: the KL is smooth in the others
                # and constant in it (gradient 0).
                continue
            if x == "-inf" or (isinstance(x, float) and math.isinf(x)):
                return False
            if k == "probs" and not isinstance(v, list) and x in (0.0, 1.0):
                return False
            if k == "probs" and isinstance(v, list) and x == 0.0:
                return False
            if k == "rate" and x == 0.0:
                return False
    return True


def to_mp(P):
    out = {}
    for k, v in P.items():
        if isinstance(v, list):
            out[k] = [NINF if x == "-inf" else mpf(x) for x in v]
        elif isinstance(v, float) and math.isinf(v):
            out[k] = mp.inf if v > 0 else NINF
        else:
            out[k] = mpf(v)
    return out


def grads(pn, P, qn, Q, side):
    """Central differences w.r.t. every differentiable parameter of one side."""
    base = P if side == "p" else Q
    out = {}
    for name, v in base.items():
        if name == "total_count":
            continue

        def f(perturbed):
            B = dict(base)
            B[name] = perturbed
            return kl_pair(pn, B, qn, Q) if side == "p" else kl_pair(pn, P, qn, B)

        if isinstance(v, list):
            g = []
            for i in range(len(v)):
                if v[i] == NINF:
                    g.append(0.0)
                    continue
                h = mpf(10) ** -12 * max(abs(v[i]), mpf(1))
                up = list(v)
                dn = list(v)
                up[i] += h
                dn[i] -= h
                g.append(to_f64((f(up) - f(dn)) / (2 * h)))
            out[name] = g
        else:
            h = mpf(10) ** -12 * max(abs(v), mpf(1))
            out[name] = to_f64((f(v + h) - f(v - h)) / (2 * h))
    return out


def enc(P):
    out = {}
    for k, v in P.items():
        if isinstance(v, list):
            out[k] = [json_number(x) if x != "-inf" else "-inf" for x in v]
        else:
            out[k] = json_number(v)
    return out


# ---------------------------------------------------------------------- cases
INF = math.inf


def bp(x):
    return {"probs": f32(x)}


def bl(x):
    return {"logits": f32(x) if math.isfinite(x) else x}


CASES = [
    # Bernoulli/Bernoulli: both parameterizations, mixed, near-equal, extremes, edges.
    ("Bernoulli", bp(0.3), "Bernoulli", bp(0.6)),
    ("Bernoulli", bp(0.6), "Bernoulli", bp(0.3)),
    ("Bernoulli", bp(1e-4), "Bernoulli", bp(0.5)),
    ("Bernoulli", bp(0.999), "Bernoulli", bp(0.2)),
    ("Bernoulli", bp(0.4), "Bernoulli", bp(0.4001)),
    ("Bernoulli", bl(-1.5), "Bernoulli", bl(2.0)),
    ("Bernoulli", bl(40.0), "Bernoulli", bl(0.0)),
    ("Bernoulli", bl(-30.0), "Bernoulli", bl(3.0)),
    ("Bernoulli", bp(0.25), "Bernoulli", bl(1.0)),
    ("Bernoulli", bl(0.5), "Bernoulli", bp(0.75)),
    ("Bernoulli", bp(0.0), "Bernoulli", bp(0.3)),
    ("Bernoulli", bp(1.0), "Bernoulli", bp(0.3)),
    ("Bernoulli", bp(0.0), "Bernoulli", bp(0.0)),
    ("Bernoulli", bl(-INF), "Bernoulli", bl(1.0)),
    ("Bernoulli", bl(INF), "Bernoulli", bp(0.9)),
    # Binomial/Binomial, equal total_count (q.total_count > p's is NotImplemented, as torch).
    ("Binomial", {"total_count": 10.0, **bp(0.3)}, "Binomial", {"total_count": 10.0, **bp(0.5)}),
    ("Binomial", {"total_count": 1000.0, **bp(0.01)}, "Binomial", {"total_count": 1000.0, **bp(0.02)}),
    ("Binomial", {"total_count": 7.0, **bl(1.25)}, "Binomial", {"total_count": 7.0, **bl(-0.5)}),
    ("Binomial", {"total_count": 25.0, **bp(0.2)}, "Binomial", {"total_count": 25.0, **bl(0.0)}),
    ("Binomial", {"total_count": 0.0, **bp(0.2)}, "Binomial", {"total_count": 0.0, **bp(0.7)}),
    ("Binomial", {"total_count": 5.0, **bp(1.0)}, "Binomial", {"total_count": 5.0, **bp(0.5)}),
    # Geometric/Geometric.
    ("Geometric", bp(0.3), "Geometric", bp(0.6)),
    ("Geometric", bp(0.9), "Geometric", bp(0.1)),
    ("Geometric", bp(0.05), "Geometric", bp(0.06)),
    ("Geometric", bl(-1.0), "Geometric", bl(0.5)),
    ("Geometric", bp(0.5), "Geometric", bl(2.0)),
    ("Geometric", bp(1.0), "Geometric", bp(0.25)),
    # Poisson/Poisson.
    ("Poisson", {"rate": f32(2.5)}, "Poisson", {"rate": f32(4.0)}),
    ("Poisson", {"rate": f32(4.0)}, "Poisson", {"rate": f32(2.5)}),
    ("Poisson", {"rate": f32(1e-4)}, "Poisson", {"rate": f32(0.3)}),
    ("Poisson", {"rate": f32(1000.0)}, "Poisson", {"rate": f32(1001.0)}),
    ("Poisson", {"rate": f32(30.0)}, "Poisson", {"rate": f32(1e-3)}),
    ("Poisson", {"rate": 0.0}, "Poisson", {"rate": f32(1.5)}),
    # Bernoulli/Poisson.
    ("Bernoulli", bp(0.3), "Poisson", {"rate": f32(0.5)}),
    ("Bernoulli", bl(-2.0), "Poisson", {"rate": f32(3.0)}),
    ("Bernoulli", bp(0.0), "Poisson", {"rate": f32(2.0)}),
    ("Bernoulli", bp(1.0), "Poisson", {"rate": f32(0.25)}),
    # Poisson with rate 0 (a point mass at 0) against Bernoulli/Binomial.
    ("Poisson", {"rate": 0.0}, "Bernoulli", bp(0.3)),
    ("Poisson", {"rate": 0.0}, "Binomial", {"total_count": 4.0, **bp(0.3)}),
    # Categorical/Categorical and OneHotCategorical/OneHotCategorical.
    ("Categorical", {"probs": [f32(0.2), f32(0.3), f32(0.5)]}, "Categorical",
     {"probs": [f32(0.5), f32(0.25), f32(0.25)]}),
    ("Categorical", {"probs": [f32(1.0), f32(2.0), f32(3.0), f32(4.0)]}, "Categorical",
     {"probs": [f32(4.0), f32(3.0), f32(2.0), f32(1.0)]}),
    ("Categorical", {"logits": [f32(0.5), f32(-1.0), f32(2.0)]}, "Categorical",
     {"logits": [f32(0.0), f32(0.0), f32(0.0)]}),
    ("Categorical", {"logits": [f32(30.0), f32(-30.0), f32(0.0)]}, "Categorical",
     {"probs": [f32(0.1), f32(0.1), f32(0.8)]}),
    ("Categorical", {"probs": [f32(0.5), 0.0, f32(0.5)]}, "Categorical",
     {"probs": [f32(0.2), f32(0.3), f32(0.5)]}),
    ("Categorical", {"logits": [f32(1.0), "-inf", f32(0.0)]}, "Categorical",
     {"logits": [f32(0.0), "-inf", f32(2.0)]}),
    ("OneHotCategorical", {"probs": [f32(0.7), f32(0.2), f32(0.1)]}, "OneHotCategorical",
     {"logits": [f32(1.0), f32(2.0), f32(3.0)]}),
    ("OneHotCategorical", {"logits": [f32(-2.0), f32(0.0)]}, "OneHotCategorical",
     {"probs": [f32(0.25), f32(0.75)]}),
]

INFINITE = [
    ("Bernoulli", bp(0.3), "Bernoulli", bp(0.0)),
    ("Bernoulli", bp(0.3), "Bernoulli", bp(1.0)),
    ("Bernoulli", bl(1.0), "Bernoulli", bl(-INF)),
    ("Binomial", {"total_count": 10.0, **bp(0.3)}, "Binomial", {"total_count": 8.0, **bp(0.3)}),
    ("Geometric", bp(0.3), "Geometric", bp(1.0)),
    ("Poisson", {"rate": f32(2.0)}, "Poisson", {"rate": 0.0}),
    ("Bernoulli", bp(0.3), "Poisson", {"rate": 0.0}),
    ("Poisson", {"rate": f32(2.0)}, "Bernoulli", bp(0.3)),
    ("Poisson", {"rate": f32(2.0)}, "Binomial", {"total_count": 4.0, **bp(0.3)}),
    ("Categorical", {"probs": [f32(0.2), f32(0.3), f32(0.5)]}, "Categorical",
     {"probs": [f32(0.5), 0.0, f32(0.5)]}),
]


def main():
    pairs = []
    for pn, P, qn, Q in CASES:
        Pm, Qm = to_mp(P), to_mp(Q)
        v = kl_pair(pn, Pm, qn, Qm)
        assert mp.isfinite(v) and v >= 0, (pn, P, qn, Q, v)
        gp = grads(pn, Pm, qn, Qm, "p") if interior(P) and interior(Q) else None
        gq = grads(pn, Pm, qn, Qm, "q") if interior(P) and interior(Q) else None
        pairs.append({"p": pn, "q": qn, "p_params": enc(P), "q_params": enc(Q),
                      "kl": to_f64(v), "grad_p": gp, "grad_q": gq})
        print(f"{pn}{P} || {qn}{Q}: {mp.nstr(v, 20)}")
    infinite = []
    for pn, P, qn, Q in INFINITE:
        v = kl_pair(pn, to_mp(P), qn, to_mp(Q))
        assert v == mp.inf, (pn, P, qn, Q, v)
        infinite.append({"p": pn, "q": qn, "p_params": enc(P), "q_params": enc(Q)})
    out = os.path.join(os.path.dirname(__file__), "kl_discrete.json")
    with open(out, "w") as fh:
        json.dump({"pairs": pairs, "infinite": infinite}, fh, indent=1)
        fh.write("\n")
    print(f"wrote {out}: {len(pairs)} pairs, {len(infinite)} infinite")


def torch_cross_check(pairs):
    """Prints where torch's float64 closed forms differ from the sums by more than 1e-10
    relative (a cross-check only; torch is not needed to write the JSON)."""
    try:
        import torch
        from torch.distributions import (Bernoulli, Binomial, Categorical, Geometric,
                                         OneHotCategorical, Poisson, kl_divergence)
    except ImportError:
        print("torch not installed: no cross-check")
        return
    fams = {"Bernoulli": Bernoulli, "Geometric": Geometric, "Poisson": Poisson,
            "Categorical": Categorical, "OneHotCategorical": OneHotCategorical,
            "Binomial": Binomial}

    def val(x):
        if isinstance(x, list):
            return torch.tensor([float(v) for v in x], dtype=torch.float64)
        return torch.tensor(float(x), dtype=torch.float64)

    def make(name, P):
        return fams[name](**{k: val(v) for k, v in P.items()}, validate_args=False)

    for c in pairs:
        t = kl_divergence(make(c["p"], c["p_params"]), make(c["q"], c["q_params"])).item()
        e = abs(t - c["kl"]) / max(abs(c["kl"]), 1e-300)
        if not e <= 1e-10:
            print(f'torch differs: {c["p"]}{c["p_params"]} || {c["q"]}{c["q_params"]}: '
                  f'torch {t!r}, sum {c["kl"]!r} (rel {e:.1e})')


if __name__ == "__main__":
    main()
    with open(os.path.join(os.path.dirname(__file__), "kl_discrete.json")) as fh:
        torch_cross_check(json.load(fh)["pairs"])
