"""Reference values of KL(p || q) for every pair of families with a closed form in
candle-distributions' `kl` module, and their gradients with respect to every parameter
of both sides.

Values come from mpmath numerical integration of p(x) (ln p(x) - ln q(x)) over the
support of p, with each log-density written out below from its textbook formula (no
closed-form KL is used for a reference value). Gradients are central differences of
those integrals at 30 digits (step 1e-9 relative: truncation ~1e-18, quadrature noise
~1e-20). Dirichlet pairs reduce exactly to E_p[ln x_k], integrated over the Beta
marginals. torch's closed forms (float64) are printed as a cross-check only.

Inputs are float32-exact, so the f32 and f64 tests see the same parameters. Writes
reference/kl.json:
  {"pairs": [{"p": name, "q": name, "p_params": {..}, "q_params": {..}, "kl": v,
              "grad_p": {..}, "grad_q": {..}}],
   "infinite": [{"p": .., "q": .., "p_params": .., "q_params": ..}]}
Parameters use torch's names; Dirichlet's `concentration` is a list (its gradient too).

Run from the repository root: .venv/bin/python reference/gen_kl.py
"""
import json
import math
import os
import sys

from mpmath import mp, mpf

sys.path.insert(0, os.path.dirname(__file__))
from refcommon import f32, to_f64  # noqa: E402

mp.dps = 30
INF = mp.inf


# ---------------------------------------------------------------- log-densities
# Each family: (log_density(x, params), support(params) -> (lo, hi), points(params)
# -> breakpoints for the quadrature (modes, locations)).

def lg(x):
    return mp.loggamma(x)


def normal_lp(x, loc, scale):
    return -((x - loc) ** 2) / (2 * scale ** 2) - mp.log(scale) - mp.log(2 * mp.pi) / 2


def cb_log_norm(lam):
    # C(lambda) = 2 atanh(1 - 2 lambda) / (1 - 2 lambda), C(1/2) = 2.
    if lam == mpf(1) / 2:
        return mp.log(2)
    t = 1 - 2 * lam
    return mp.log(2 * mp.atanh(t) / t)


FAMILIES = {
    "Normal": (
        lambda x, P: normal_lp(x, P["loc"], P["scale"]),
        lambda P: (-INF, INF),
        lambda P: [P["loc"] - 3 * P["scale"], P["loc"], P["loc"] + 3 * P["scale"]],
    ),
    "HalfNormal": (
        lambda x, P: mp.log(2) + normal_lp(x, 0, P["scale"]),
        lambda P: (0, INF),
        lambda P: [P["scale"], 3 * P["scale"]],
    ),
    "LogNormal": (
        lambda x, P: normal_lp(mp.log(x), P["loc"], P["scale"]) - mp.log(x),
        lambda P: (0, INF),
        lambda P: [mp.exp(P["loc"] - 2 * P["scale"]), mp.exp(P["loc"]), mp.exp(P["loc"] + 2 * P["scale"])],
    ),
    "Laplace": (
        lambda x, P: -abs(x - P["loc"]) / P["scale"] - mp.log(2 * P["scale"]),
        lambda P: (-INF, INF),
        lambda P: [P["loc"]],
    ),
    "Gumbel": (
        lambda x, P: (lambda z: -z - mp.exp(-z) - mp.log(P["scale"]))((x - P["loc"]) / P["scale"]),
        lambda P: (-INF, INF),
        lambda P: [P["loc"] - 2 * P["scale"], P["loc"], P["loc"] + 3 * P["scale"]],
    ),
    "Cauchy": (
        lambda x, P: -mp.log(mp.pi * P["scale"]) - mp.log(1 + ((x - P["loc"]) / P["scale"]) ** 2),
        lambda P: (-INF, INF),
        lambda P: [P["loc"]],
    ),
    "HalfCauchy": (
        lambda x, P: mp.log(2) - mp.log(mp.pi * P["scale"]) - mp.log(1 + (x / P["scale"]) ** 2),
        lambda P: (0, INF),
        lambda P: [P["scale"]],
    ),
    "Exponential": (
        lambda x, P: mp.log(P["rate"]) - P["rate"] * x,
        lambda P: (0, INF),
        lambda P: [1 / P["rate"], 4 / P["rate"]],
    ),
    "Gamma": (
        lambda x, P: P["concentration"] * mp.log(P["rate"]) + (P["concentration"] - 1) * mp.log(x)
        - P["rate"] * x - lg(P["concentration"]),
        lambda P: (0, INF),
        lambda P: [P["concentration"] / P["rate"], 4 * (P["concentration"] + 1) / P["rate"]],
    ),
    "Chi2": (
        lambda x, P: (P["df"] / 2) * mp.log(mpf(1) / 2) + (P["df"] / 2 - 1) * mp.log(x) - x / 2 - lg(P["df"] / 2),
        lambda P: (0, INF),
        lambda P: [P["df"], 4 * (P["df"] + 2)],
    ),
    "InverseGamma": (
        lambda x, P: P["concentration"] * mp.log(P["rate"]) - lg(P["concentration"])
        - (P["concentration"] + 1) * mp.log(x) - P["rate"] / x,
        lambda P: (0, INF),
        lambda P: [P["rate"] / (P["concentration"] + 1), P["rate"], 4 * P["rate"]],
    ),
    "Beta": (
        lambda x, P: (P["concentration1"] - 1) * mp.log(x) + (P["concentration0"] - 1) * mp.log(1 - x)
        - (lg(P["concentration1"]) + lg(P["concentration0"]) - lg(P["concentration1"] + P["concentration0"])),
        lambda P: (0, 1),
        lambda P: [mpf(1) / 2],
    ),
    "ContinuousBernoulli": (
        lambda x, P: cb_log_norm(P["probs"]) + x * mp.log(P["probs"]) + (1 - x) * mp.log(1 - P["probs"]),
        lambda P: (0, 1),
        lambda P: [],
    ),
    "Uniform": (
        lambda x, P: -mp.log(P["high"] - P["low"]),
        lambda P: (P["low"], P["high"]),
        lambda P: [],
    ),
    "Pareto": (
        lambda x, P: mp.log(P["alpha"]) + P["alpha"] * mp.log(P["scale"]) - (P["alpha"] + 1) * mp.log(x),
        lambda P: (P["scale"], INF),
        lambda P: [2 * P["scale"], 10 * P["scale"]],
    ),
}


TINY = mpf(10) ** -45  # tail mass left out of the quadrature ranges below


def gamma_log_range(a, b):
    """ln x range holding all but ~1e-45 of a Gamma(a, b): P(X < e) ~ (b e)^a / Gamma(a + 1)."""
    lo = (mp.log(TINY) + lg(a + 1)) / a - mp.log(b)
    hi = mp.log((a + 110 + 25 * mp.sqrt(a)) / b)
    return lo, hi


# The variable each family is integrated over: "x" (with finite range) or "log"
# (x = e^t over a t range), so that every quadrature is over a finite interval on which
# the integrand is smooth (tanh-sinh on infinite ranges stalls on double exponentials).
def quad_range(pn, P):
    if pn == "Normal":
        return "x", P["loc"] - 40 * P["scale"], P["loc"] + 40 * P["scale"]
    if pn == "Laplace":
        return "x", P["loc"] - 110 * P["scale"], P["loc"] + 110 * P["scale"]
    if pn == "Gumbel":
        return "x", P["loc"] - 5 * P["scale"], P["loc"] + 110 * P["scale"]
    if pn == "HalfNormal":
        return "log", mp.log(TINY * P["scale"]), mp.log(40 * P["scale"])
    if pn == "LogNormal":
        return "log", P["loc"] - 40 * P["scale"], P["loc"] + 40 * P["scale"]
    if pn == "Exponential":
        return ("log",) + gamma_log_range(mpf(1), P["rate"])
    if pn == "Gamma":
        return ("log",) + gamma_log_range(P["concentration"], P["rate"])
    if pn == "Chi2":
        return ("log",) + gamma_log_range(P["df"] / 2, mpf(1) / 2)
    if pn == "InverseGamma":
        lo, hi = gamma_log_range(P["concentration"], P["rate"])
        return "log", -hi, -lo
    if pn == "Pareto":
        # In t = ln x the integrand against Normal decays like e^{-(alpha - 2) t}, against
        # Exponential or Gamma like e^{-(alpha - 1) t}.
        a = P["alpha"]
        rate = a - 2 if a > 2 else (a - 1 if a > 1 else a)
        return "log", mp.log(P["scale"]), mp.log(P["scale"]) + 110 / rate
    lo, hi = FAMILIES[pn][1](P)
    return "x", mpf(lo), mpf(hi)


def kl_quad(pn, P, qn, Q):
    lp, supp, pts = FAMILIES[pn]
    lq, _, qpts = FAMILIES[qn]
    if pn in ("Cauchy", "HalfCauchy"):
        # x = loc + scale tan(t): p(x) dx = dt/pi (HalfCauchy: 2 dt/pi on [0, pi/2)).
        loc = P.get("loc", 0)
        a = -mp.pi / 2 if pn == "Cauchy" else 0
        w = 1 / mp.pi if pn == "Cauchy" else 2 / mp.pi

        def g(t):
            x = loc + P["scale"] * mp.tan(t)
            return w * (lp(x, P) - lq(x, Q))
        return mp.quad(g, [a, 0, mp.pi / 2] if a < 0 else [a, mp.pi / 4, mp.pi / 2])
    kind, lo, hi = quad_range(pn, P)
    cand = [mpf(v) for v in pts(P) + qpts(Q)]
    if kind == "log":
        cand = [mp.log(v) for v in cand if v > 0]
    cuts = sorted(set(v for v in cand if lo < v < hi))
    nodes = [lo] + cuts + [hi]

    def f(t):
        x = mp.exp(t) if kind == "log" else t
        l = lp(x, P)
        jac = x if kind == "log" else 1
        return mp.exp(l) * jac * (l - lq(x, Q))
    return mp.quad(f, nodes)


def dirichlet_kl(P, Q):
    a = [mpf(v) for v in P["concentration"]]
    b = [mpf(v) for v in Q["concentration"]]
    a0 = sum(a)
    ln_norm_p = lg(a0) - sum(lg(v) for v in a)
    ln_norm_q = lg(sum(b)) - sum(lg(v) for v in b)
    total = ln_norm_p - ln_norm_q
    for k in range(len(a)):
        # E_p[ln x_k] over the marginal Beta(a_k, a0 - a_k), by quadrature.
        ak, bk = a[k], a0 - a[k]
        lnb = lg(ak) + lg(bk) - lg(ak + bk)
        e = mp.quad(lambda x: mp.exp((ak - 1) * mp.log(x) + (bk - 1) * mp.log(1 - x) - lnb) * mp.log(x), [0, mpf(1) / 2, 1])
        total += (a[k] - b[k]) * e
    return total


def kl_value(pn, P, qn, Q):
    if pn == "Dirichlet":
        return dirichlet_kl(P, Q)
    return kl_quad(pn, P, qn, Q)


def perturb(params, name, idx, h):
    out = dict(params)
    if isinstance(out[name], list):
        v = list(out[name])
        v[idx] = v[idx] + h
        out[name] = v
    else:
        out[name] = out[name] + h
    return out


def grads(pn, P, qn, Q, side):
    params = P if side == "p" else Q
    out = {}
    for name, val in params.items():
        vals = val if isinstance(val, list) else [val]
        g = []
        for i, v in enumerate(vals):
            h = mpf(10) ** -9 * max(1, abs(v))
            Pp, Pm = perturb(params, name, i, h), perturb(params, name, i, -h)
            if side == "p":
                d = (kl_value(pn, Pp, qn, Q) - kl_value(pn, Pm, qn, Q)) / (2 * h)
            else:
                d = (kl_value(pn, P, qn, Pp) - kl_value(pn, P, qn, Pm)) / (2 * h)
            g.append(to_f64(d))
        out[name] = g if isinstance(val, list) else g[0]
    return out


# ---------------------------------------------------------------- grids (f32-exact)
def F(**kw):
    return {k: ([f32(x) for x in v] if isinstance(v, list) else f32(v)) for k, v in kw.items()}


G = {
    "Normal": [F(loc=0.5, scale=1.25), F(loc=-1.0, scale=0.75), F(loc=2.0, scale=3.0)],
    "HalfNormal": [F(scale=0.75), F(scale=2.0)],
    "LogNormal": [F(loc=0.25, scale=0.5), F(loc=-0.5, scale=1.25)],
    "Laplace": [F(loc=0.5, scale=1.5), F(loc=-1.0, scale=0.5)],
    "Gumbel": [F(loc=0.5, scale=1.25), F(loc=-1.0, scale=2.0)],
    "Cauchy": [F(loc=0.5, scale=1.25), F(loc=-1.0, scale=0.5)],
    "HalfCauchy": [F(scale=0.75), F(scale=2.5)],
    "Exponential": [F(rate=0.75), F(rate=2.0)],
    "Gamma": [F(concentration=0.75, rate=1.5), F(concentration=3.0, rate=0.5)],
    "Chi2": [F(df=3.0), F(df=5.0)],
    "InverseGamma": [F(concentration=2.5, rate=1.5), F(concentration=4.0, rate=0.75)],
    "Beta": [F(concentration1=0.75, concentration0=1.5), F(concentration1=2.5, concentration0=3.0)],
    "ContinuousBernoulli": [F(probs=0.25), F(probs=0.625)],
    "Dirichlet": [F(concentration=[0.75, 1.5, 2.0]), F(concentration=[2.5, 1.25, 3.0])],
    "Pareto": [F(scale=1.5, alpha=2.5), F(scale=0.5, alpha=3.5)],
}
# Uniforms by what they are compared with (p must lie inside q's support).
U_REAL = [F(low=-0.5, high=1.5), F(low=0.25, high=3.0)]
U_POS = [F(low=0.25, high=0.75), F(low=1.5, high=4.0)]
U_UNIT = [F(low=0.25, high=0.75), F(low=0.125, high=0.875)]
U_WIDE = [F(low=-1.0, high=2.0), F(low=-0.5, high=1.0)]  # contains [0, 1]
U_PARETO = [F(low=2.0, high=3.5), F(low=1.5, high=6.0)]


def sets(name, role):
    return G[name]


FINITE = [
    # same family
    ("Normal", "Normal", None, None),
    ("HalfNormal", "HalfNormal", None, None),
    ("LogNormal", "LogNormal", None, None),
    ("Laplace", "Laplace", None, None),
    ("Gumbel", "Gumbel", None, None),
    ("Cauchy", "Cauchy", None, None),
    ("HalfCauchy", "HalfCauchy", None, None),
    ("Exponential", "Exponential", None, None),
    ("Gamma", "Gamma", None, None),
    ("Chi2", "Chi2", None, None),
    ("Chi2", "Gamma", None, None),
    ("Gamma", "Chi2", None, None),
    ("InverseGamma", "InverseGamma", None, None),
    ("Beta", "Beta", None, None),
    ("ContinuousBernoulli", "ContinuousBernoulli", None, None),
    ("Dirichlet", "Dirichlet", None, None),
    ("Uniform", "Uniform", [F(low=0.25, high=0.75), F(low=-1.0, high=0.5)], [F(low=0.0, high=1.5), F(low=-2.0, high=1.0)]),
    ("Pareto", "Pareto", [F(scale=1.5, alpha=2.5), F(scale=2.0, alpha=0.75)], [F(scale=0.5, alpha=3.5), F(scale=1.25, alpha=1.5)]),
    # location-scale cross pairs
    ("Normal", "Laplace", None, None),
    ("Normal", "Gumbel", None, None),
    ("Laplace", "Normal", None, None),
    ("Gumbel", "Normal", None, None),
    # positive families
    ("Exponential", "Gamma", None, None),
    ("Exponential", "Chi2", None, None),
    ("Exponential", "Gumbel", None, None),
    ("Exponential", "Normal", None, None),
    ("Gamma", "Exponential", None, None),
    ("Chi2", "Exponential", None, None),
    ("Gamma", "Gumbel", None, None),
    ("Chi2", "Gumbel", None, None),
    ("Gamma", "Normal", None, None),
    ("Chi2", "Normal", None, None),
    ("Pareto", "Exponential", None, None),
    ("Pareto", "Gamma", None, None),
    ("Pareto", "Chi2", None, None),
    ("Pareto", "Normal", None, None),
    # interval families
    ("Beta", "ContinuousBernoulli", None, None),
    ("Beta", "Exponential", None, None),
    ("Beta", "Gamma", None, None),
    ("Beta", "Chi2", None, None),
    ("Beta", "Normal", None, None),
    ("Beta", "Uniform", None, U_WIDE),
    ("ContinuousBernoulli", "Exponential", None, None),
    ("ContinuousBernoulli", "Normal", None, None),
    ("ContinuousBernoulli", "Uniform", None, U_WIDE),
    ("Uniform", "Beta", U_UNIT, None),
    ("Uniform", "ContinuousBernoulli", U_UNIT, None),
    ("Uniform", "Exponential", U_POS, None),
    ("Uniform", "Gamma", U_POS, None),
    ("Uniform", "Chi2", U_POS, None),
    ("Uniform", "Gumbel", U_REAL, None),
    ("Uniform", "Normal", U_REAL, None),
    ("Uniform", "Pareto", U_PARETO, None),
]

# Pairs that are +inf for every parameter (q has no mass on part of p's support), and
# parameter-dependent ones at parameters where they are +inf.
ALWAYS_INF = [
    (p, q)
    for p in ("Normal", "Laplace", "Gumbel")
    for q in ("Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Chi2", "Pareto", "Uniform")
] + [
    (p, q)
    for p in ("Exponential", "Gamma", "Chi2")
    for q in ("Beta", "ContinuousBernoulli", "Pareto", "Uniform")
] + [
    ("Gumbel", "Exponential"),
    ("Beta", "Pareto"),
    ("ContinuousBernoulli", "Pareto"),
    ("Pareto", "Beta"),
    ("Pareto", "ContinuousBernoulli"),
    ("Pareto", "Uniform"),
]
ALWAYS_INF = list(dict.fromkeys(ALWAYS_INF))
PARAM_INF = [
    ("Uniform", F(low=0.25, high=0.75), "Uniform", F(low=0.5, high=2.0)),
    ("Uniform", F(low=0.25, high=2.5), "Uniform", F(low=0.0, high=2.0)),
    ("Uniform", F(low=-0.25, high=0.75), "Beta", F(concentration1=2.0, concentration0=3.0)),
    ("Uniform", F(low=0.25, high=1.25), "Beta", F(concentration1=2.0, concentration0=3.0)),
    ("Uniform", F(low=-0.25, high=0.75), "ContinuousBernoulli", F(probs=0.25)),
    ("Uniform", F(low=-0.5, high=0.75), "Exponential", F(rate=2.0)),
    ("Uniform", F(low=-0.5, high=0.75), "Gamma", F(concentration=2.0, rate=1.0)),
    ("Uniform", F(low=1.0, high=3.0), "Pareto", F(scale=1.5, alpha=2.0)),
    ("Beta", F(concentration1=2.0, concentration0=3.0), "Uniform", F(low=0.25, high=1.5)),
    ("Beta", F(concentration1=2.0, concentration0=3.0), "Uniform", F(low=-1.0, high=0.75)),
    ("ContinuousBernoulli", F(probs=0.25), "Uniform", F(low=0.125, high=1.0)),
    ("Pareto", F(scale=1.0, alpha=2.0), "Pareto", F(scale=1.5, alpha=2.0)),
    ("Pareto", F(scale=1.0, alpha=1.0), "Exponential", F(rate=2.0)),
    ("Pareto", F(scale=1.0, alpha=0.5), "Gamma", F(concentration=2.0, rate=1.0)),
    ("Pareto", F(scale=1.0, alpha=2.0), "Normal", F(loc=0.0, scale=1.0)),
]


def torch_cross_check(rows):
    try:
        import torch
        import torch.distributions as D
    except ImportError:
        print("torch not available: no cross-check")
        return
    torch.set_default_dtype(torch.float64)

    def build(name, P):
        t = {k: torch.tensor(v, dtype=torch.float64) for k, v in P.items()}
        if name == "Pareto":
            return D.Pareto(t["scale"], t["alpha"])
        return getattr(D, name)(**t)
    worst = 0.0
    for r in rows:
        try:
            v = D.kl_divergence(build(r["p"], r["p_params"]), build(r["q"], r["q_params"])).item()
        except NotImplementedError:
            continue
        if math.isinf(v):
            # torch's ContinuousBernoulli/Uniform and Uniform/ContinuousBernoulli also
            # return +inf when an interval end touches 0 or 1, where the KL is finite.
            print(f"  torch gives inf: {r['p']}/{r['q']} {r['p_params']} {r['q_params']}: ours {r['kl']!r}")
            continue
        rel = abs(v - r["kl"]) / max(abs(r["kl"]), 1e-300)
        worst = max(worst, rel)
        if rel > 1e-9:
            print(f"  torch differs: {r['p']}/{r['q']} {r['p_params']} {r['q_params']}: ours {r['kl']!r} torch {v!r}")
    print(f"torch float64 cross-check: max relative difference {worst:.2e} where torch is finite")


def main():
    rows = []
    for pn, qn, ps, qs in FINITE:
        ps = ps or G[pn]
        qs = qs or G[qn]
        # Up to three combinations, diagonal first, never p = q.
        combos = [(P, Q) for i, P in enumerate(ps) for j, Q in enumerate(qs)]
        combos.sort(key=lambda c: 0 if ps.index(c[0]) == qs.index(c[1]) else 1)
        combos = [c for c in combos if not (pn == qn and c[0] == c[1])][:3]
        for P, Q in combos:
            Pm = {k: ([mpf(x) for x in v] if isinstance(v, list) else mpf(v)) for k, v in P.items()}
            Qm = {k: ([mpf(x) for x in v] if isinstance(v, list) else mpf(v)) for k, v in Q.items()}
            v = kl_value(pn, Pm, qn, Qm)
            rows.append({
                "p": pn, "q": qn, "p_params": P, "q_params": Q, "kl": to_f64(v),
                "grad_p": grads(pn, Pm, qn, Qm, "p"), "grad_q": grads(pn, Pm, qn, Qm, "q"),
            })
            print(f"{pn}/{qn} {P} {Q}: {to_f64(v)!r}", flush=True)
    # Two laws 1e-3 apart: the closed forms cancel here unless written carefully.
    for pn, P, Q in [
        ("Normal", F(loc=0.5, scale=1.25), F(loc=0.5009765625, scale=1.25048828125)),
        ("Gamma", F(concentration=3.0, rate=0.5), F(concentration=3.0009765625, rate=0.50048828125)),
        ("Exponential", F(rate=0.75), F(rate=0.75048828125)),
        ("Laplace", F(loc=0.5, scale=1.5), F(loc=0.5009765625, scale=1.50048828125)),
    ]:
        Pm = {k: mpf(v) for k, v in P.items()}
        Qm = {k: mpf(v) for k, v in Q.items()}
        v = kl_value(pn, Pm, pn, Qm)
        rows.append({"p": pn, "q": pn, "p_params": P, "q_params": Q, "kl": to_f64(v),
                     "grad_p": grads(pn, Pm, pn, Qm, "p"), "grad_q": grads(pn, Pm, pn, Qm, "q")})
        print(f"{pn}/{pn} (close) {P} {Q}: {to_f64(v)!r}", flush=True)
    infinite = []
    for pn, qn in ALWAYS_INF:
        P = (G[pn] if pn in G else U_POS)[0]
        Q = (G[qn] if qn in G else U_UNIT)[0]
        infinite.append({"p": pn, "q": qn, "p_params": P, "q_params": Q})
    for pn, P, qn, Q in PARAM_INF:
        infinite.append({"p": pn, "q": qn, "p_params": P, "q_params": Q})
    torch_cross_check(rows)
    path = os.path.join(os.path.dirname(__file__), "kl.json")
    with open(path, "w") as f:
        json.dump({"pairs": rows, "infinite": infinite}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(rows)} finite cases and {len(infinite)} infinite ones to {path}")


if __name__ == "__main__":
    main()
