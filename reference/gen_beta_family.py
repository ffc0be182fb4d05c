#!/usr/bin/env python3
"""Reference data for the Beta family: Beta (univariate) and Dirichlet.

Writes the Beta cases into ``shape_families.json`` (replacing the previous Beta
cases, keeping the other distributions) and the Dirichlet cases into
``dirichlet.json``.  Regenerate from the repository root with::

    .venv/bin/python reference/gen_beta_family.py

The formulas are written out below in mpmath; the shared machinery is in
``refcases.py``.  The Beta cdf is the regularised incomplete beta function on
the side where it is small (``refcases.beta_i``).  Dirichlet cases have their
own layout (vector parameter, simplex values), described in
reference/README.md.
"""

import numpy as np

from refcases import (DIFF_DPS, HERE, UNIT, beta_i, cases_of, cdf_picker, conv, f32,
                      json_number, lgamma, main, mp, mpf, near_edges, note_check, rel_err,
                      to_f64, xc)

OUT_DIRICHLET = HERE / "dirichlet.json"

# ---------------------------------------------------------------------------
# Beta(concentration1, concentration0)
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



DISTS = [
    dict(name="Beta", params=["concentration1", "concentration0"],
         cases=cases_of(["concentration1", "concentration0"], BETA_CASES),
         values=cdf_picker(beta_cdf, UNIT, lambda p: near_edges(0.0, 1.0)),
         log_prob=beta_log_prob, cdf=beta_cdf, moments=beta_moments,
         torch=lambda D, tp: D.Beta(tp["concentration1"], tp["concentration0"]),
         scipy=lambda stats, p: stats.beta(p["concentration1"], p["concentration0"])),
]

DIRICHLET = dict(name="Dirichlet", path=OUT_DIRICHLET, generator="reference/gen_beta_family.py",
                 make=lambda: [dirichlet_case(a, h) for a, h in DIRICHLET_CASES],
                 cross_check=dirichlet_cross_check)

if __name__ == "__main__":
    main(DISTS, DIRICHLET)
