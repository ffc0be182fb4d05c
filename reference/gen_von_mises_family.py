#!/usr/bin/env python3
"""Reference data for the von Mises distribution.

Writes its cases into ``shape_families.json`` (replacing the previous VonMises
cases, keeping the other distributions).  Regenerate from the repository root
with::

    .venv/bin/python reference/gen_von_mises_family.py

The formulas are written out below in mpmath; the shared machinery is in
``refcases.py``.  torch has no VonMises cdf or entropy: the cdf is our own
definition (below), summed as a Fourier series with as many digits as its
cancellation needs, and checked against tanh-sinh quadrature; the entropy is
checked against quadrature of -p log p.
"""

import math

from refcases import HALF, cases_of, f32, main, mp, mpf, note_check, quad_entropy, rel_err

# ---------------------------------------------------------------------------
# VonMises(loc, concentration = kappa)
#     log p(x) = kappa cos(x - loc) - log(2 pi I0(kappa)), any real x.
#     cdf (our own definition; torch has none): F(x) = int_{loc-pi}^{x} p for
#     x in [loc - pi, loc + pi] (so F(loc) = 1/2).  With u = x - loc it is the
#     Fourier series
#         G(u) = (u + pi)/(2 pi) + (1/pi) sum_{n>=1} rho_n sin(n u)/n,
#     rho_n = I_n(kappa)/I_0(kappa), evaluated at u = -|u| (and 1 - G(-u) for
#     u > 0).  The series cancels down to the tail value (~1e-869 near the edge
#     for kappa = 1e3), so it is summed with that many extra digits; the
#     ratios I_n/I_{n-1} come from their continued fraction (backward
#     recurrence).  Checked against quadrature in vm_self_check.
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



def vm_self_check(c):
    """The series (used for the output) against quadrature of the density and
    of its kappa-derivative, and against the series with 40 more digits; the
    entropy against quadrature of -p log p."""
    p = {k: mpf(v) for k, v in c["params"].items()}
    k = p["concentration"]
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
        k = mpf(c["params"]["concentration"])
        lp = lambda t: vm_log_prob(t, mpf(0), k)
        s = 1 / mp.sqrt(k)
        pts = sorted(set([-mp.pi, -min(4 * s, 1), 0, min(4 * s, 1), mp.pi]))
        h = quad_entropy(lp, pts)
        note_check("VonMises", "entropy vs quad(-p log p)",
                   abs(h - vm_moments(mpf(0), k)["entropy"]) / max(1, abs(h)), mpf("1e-20"))


DISTS = [
    dict(name="VonMises", params=["loc", "concentration"],
         cases=cases_of(["loc", "concentration"], VM_CASES),
         values=vm_values, log_prob=vm_log_prob, cdf=vm_cdf, cdf_grads=vm_cdf_grads,
         moments=vm_moments, self_check=vm_self_check,
         torch=lambda D, tp: D.VonMises(tp["loc"], tp["concentration"]),
         scipy=lambda stats, p: stats.vonmises(p["concentration"], loc=p["loc"]),
         # scipy's mean/var of vonmises are not the circular ones.
         scipy_moments=False,
         scipy_cdf_source=lambda p: "scipy(kappa>=50)" if p["concentration"] >= 50 else "scipy",
         xc_exempt={
             ("log_prob", "torch"):
                 "torch's I0 is a ~1e-7 polynomial approximation (Abramowitz-Stegun)",
             ("variance", "torch"): "torch's I1/I0 uses the same polynomial approximation",
             ("stddev", "torch"): "torch's I1/I0 uses the same polynomial approximation",
             ("grad_log_prob", "torch"): "torch's I0 is a polynomial approximation",
             ("cdf", "scipy(kappa>=50)"):
                 "scipy uses a normal approximation (~1e-6) for kappa >= 50; ours is checked"
                 " against the series",
         },
         # scipy's cdf is a series summed in float64: values near 0 are compared
         # absolutely.
         abs_metric={("cdf", "scipy")}),
]

if __name__ == "__main__":
    main(DISTS)
