"""Reference values for the Bessel functions and the von Mises CDF kernels.

Writes reference/von_mises_special.json with

* ``bessel``: for x on a grid (and its negatives), the scaled modified Bessel functions
  i0e(x) = e^{-|x|} I0(x), i1e(x) = e^{-|x|} I1(x), ln I0(x) and the ratio
  A(x) = I1(x)/I0(x), all from ``mpmath.besseli``;
* ``von_mises``: for concentrations kappa and angles theta (von Mises quantiles and
  a few fixed angles), the standardized von Mises CDF
  F(theta; kappa) = int_{-pi}^{theta} e^{kappa cos t} / (2 pi I0(kappa)) dt, its
  kappa-derivative dF/dkappa = int_{-pi}^{theta} (cos t - A(kappa)) p(t) dt
  (differentiation under the integral), the log density and the implicit
  reparameterization gradient d theta/d kappa = -(dF/dkappa) / p(theta).

Both integrals are computed with ``mpmath.quad`` (tanh-sinh) at mp.dps = 40 directly on
the density in t, with break points placed geometrically towards the density's peak
so that each piece is smooth on its own scale. Everything is evaluated in the lower
half theta <= 0 and mapped to theta > 0 by the symmetry F(theta) = 1 - F(-theta),
which holds exactly. Self-checks (the script exits non-zero if one fails): quadrature
error estimates, the Fourier series F = (theta + pi)/(2 pi) + (1/pi) sum_n
(I_n/I_0) sin(n theta)/n at high precision for small kappa, dF/dkappa against
mpmath.diff of that series, and p = dF/dtheta by mpmath.diff.

Inputs (x, kappa, theta) are rounded to float32 first (refcommon.f32), and all
outputs are computed from the rounded inputs and rounded to the nearest float64.
Quantile angles come from a Newton solve of F(theta) = q (in mpmath), then are rounded
to float32; the column "q" records the nominal quantile only.

Run from the repository root (about a minute):

    .venv/bin/python reference/gen_von_mises_special.py

The output is deterministic.
"""
import json
import math
import os
import sys

import numpy as np
from mpmath import mp, mpf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refcommon import f32, json_number, to_f64  # noqa: E402

DPS = 40
mp.dps = DPS

BESSEL_X = [0.0, 1e-8, 1e-3, 0.1, 0.5, 1.0, 2.5, 7.0, 15.0, 18.0, 19.5, 20.0, 20.5,
            22.0, 25.0, 30.0, 50.0, 100.0, 700.0, 1e3, 1e5, 1e8]
KAPPAS = [1e-3, 1e-2, 0.1, 0.5, 1.0, 4.0, 10.0, 30.0, 100.0, 300.0, 1e3, 1e4, 1e5]
QUANTILES = [1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-6]
# The largest float32 below pi (f32(pi) itself lies above pi, outside the support).
PI_F32_BELOW = float(np.nextafter(np.float32(math.pi), np.float32(0)))
# Extra scattered cases (fixed seed): kappa log-uniform in [1e-3, 1e5], theta either
# z/sqrt(kappa) with z uniform in [-8, 8] or uniform on [-pi, pi].
N_SCATTER = 160
SCATTER_SEED = 20240531
FIXED_THETAS = [-PI_F32_BELOW, -2.0, -1.0, -0.25, 0.0, 0.25, 2.0, PI_F32_BELOW]


def enc(x):
    return json_number(to_f64(x))


# ---------------------------------------------------------------- Bessel functions
def bessel_row(x):
    x = mpf(x)
    i0 = mp.besseli(0, x)
    i1 = mp.besseli(1, x)
    e = mp.exp(-abs(x))
    return {
        "x": float(x),
        "i0e": enc(i0 * e),
        "i1e": enc(i1 * e),
        "log_i0": enc(mp.log(i0)),
        "ratio": enc(i1 / i0),
    }


# ---------------------------------------------------------------- von Mises
class VM:
    """Quantities of the von Mises(0, kappa) law at working precision."""

    def __init__(self, kappa):
        self.k = mpf(kappa)
        i0 = mp.besseli(0, self.k)
        self.A = mp.besseli(1, self.k) / i0
        # 2 pi I0(kappa) e^{-kappa}: the density is e^{kappa (cos t - 1)} / norm.
        self.norm = 2 * mp.pi * i0 * mp.exp(-self.k)
        self.log_norm = mp.log(self.norm)

    def logp(self, t):
        return self.k * (mp.cos(t) - 1) - self.log_norm

    def p(self, t):
        return mp.exp(self.logp(t))

    def breaks(self, theta):
        """Break points on [-pi, theta] (theta <= 0), geometric towards theta, where
        the integrand is largest, at its decay scale."""
        s = abs(mp.sin(theta))
        h = 1 / mp.sqrt(self.k)
        if self.k * s > 0:
            h = min(h, 1 / (self.k * s))
        h = min(h, mpf(0.5))
        pts = [theta]
        d = h / 8
        while theta - d > -mp.pi:
            pts.append(theta - d)
            d *= 2
        pts.append(-mp.pi)
        return pts[::-1]

    def cdf(self, theta):
        """F alone (for the quantile search)."""
        theta = mpf(theta)
        if theta > 0:
            return 1 - self.cdf(-theta)
        if theta <= -mp.pi:
            return mpf(0)
        return mp.quad(self.p, self.breaks(theta))

    def lower(self, theta):
        """(F, dF/dkappa) for theta <= 0, with the quadrature error estimates."""
        if theta <= -mp.pi:
            return mpf(0), mpf(0), mpf(0)
        if theta == 0:
            # F(0) = 1/2 and dF/dkappa(0) = 0 exactly, by symmetry.
            return mpf(1) / 2, mpf(0), mpf(0)
        pts = self.breaks(theta)
        # Integrate p(t)/p(theta) = e^{kappa (cos t - cos theta)} (at most 1, so the
        # quadrature's absolute error floor is no problem in the far tails) and
        # multiply by p(theta) afterwards.
        ct = mp.cos(theta)
        q = lambda t: mp.exp(self.k * (mp.cos(t) - ct))  # noqa: E731
        el, ee = mp.quad(q, pts, error=True, maxdegree=10)
        m, em = mp.quad(lambda t: (mp.cos(t) - self.A) * q(t), pts, error=True, maxdegree=10)
        # Relative error estimates.
        err = max(ee / abs(el), em / abs(m))
        pt = self.p(theta)
        f, d = el * pt, m * pt
        return f, d, err

    def parts(self, theta):
        theta = mpf(theta)
        if theta <= 0:
            f, d, err = self.lower(theta)
            return f, d, err
        f, d, err = self.lower(-theta)
        return 1 - f, -d, err


def fourier_cdf(kappa, theta, nmax=None):
    """F by its Fourier series, at working precision (only for small kappa)."""
    kappa, theta = mpf(kappa), mpf(theta)
    i0 = mp.besseli(0, kappa)
    s = (theta + mp.pi) / (2 * mp.pi)
    n = 1
    while True:
        r = mp.besseli(n, kappa) / i0
        term = r * mp.sin(n * theta) / n / mp.pi
        s += term
        if r < mpf(10) ** (-DPS - 5) or (nmax and n >= nmax):
            break
        n += 1
    return s


def quantile(vm, q):
    """theta with F(theta) = q: bisection to a bracket, then Newton (dF/dtheta = p)."""
    q = mpf(q)
    if q == 0.5:
        return mpf(0)
    lo, hi = -mp.pi, mp.pi
    with mp.workdps(20):
        for _ in range(60):
            mid = (lo + hi) / 2
            if vm.cdf(mid) < q:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-4 * (abs(mid) + 1e-3):
                break
        t = (lo + hi) / 2
        for _ in range(6):
            t = t - (vm.cdf(t) - q) / vm.p(t)
    return t


def check(cond, what):
    if not cond:
        print("CHECK FAILED:", what)
        sys.exit(1)


def main():
    bessel = []
    for x in BESSEL_X:
        for sx in ([x] if x == 0 else [x, -x]):
            bessel.append(bessel_row(f32(sx)))

    rows = []
    worst_err = mpf(0)
    for kappa in KAPPAS:
        k = f32(kappa)
        vm = VM(k)
        thetas = []
        for q in QUANTILES:
            thetas.append((f32(float(quantile(vm, q))), q))
        for t in FIXED_THETAS:
            thetas.append((f32(t), None))
        for theta, q in thetas:
            check(abs(theta) <= math.pi, "theta in [-pi, pi]")
            f, d, err = vm.parts(theta)
            worst_err = max(worst_err, err)
            check(err < mpf(10) ** -28, f"quad error {err} at kappa={k}, theta={theta}")
            logp = vm.logp(mpf(theta))
            grad = -d / mp.exp(logp)
            rows.append({
                "kappa": k,
                "theta": theta,
                "q": q,
                "cdf": enc(f),
                "dcdf_dkappa": enc(d),
                "log_prob": enc(logp),
                "implicit_grad": enc(grad),
            })
        print(f"kappa={k:g}: {len(thetas)} angles", flush=True)

    rng = np.random.RandomState(SCATTER_SEED)
    for i in range(N_SCATTER):
        k = f32(10 ** rng.uniform(-3, 5))
        if i % 3 == 2:
            theta = rng.uniform(-math.pi, math.pi)
        else:
            theta = rng.uniform(-8, 8) / math.sqrt(max(k, 0.1))
        theta = f32(max(-PI_F32_BELOW, min(PI_F32_BELOW, theta)))
        vm = VM(k)
        f, d, err = vm.parts(theta)
        worst_err = max(worst_err, err)
        check(err < mpf(10) ** -28, f"quad error {err} at kappa={k}, theta={theta}")
        logp = vm.logp(mpf(theta))
        rows.append({
            "kappa": k,
            "theta": theta,
            "q": None,
            "cdf": enc(f),
            "dcdf_dkappa": enc(d),
            "log_prob": enc(logp),
            "implicit_grad": enc(-d / mp.exp(logp)),
        })
    print(f"{N_SCATTER} scattered cases", flush=True)

    # Self-checks against independent formulas.
    for kappa, theta in [(0.5, -2.0), (4.0, 1.0), (1.0, -0.3), (10.0, -1.5)]:
        vm = VM(kappa)
        f, d, _ = vm.parts(theta)
        fs = fourier_cdf(kappa, theta)
        check(abs(f - fs) < mpf(10) ** -32, f"quad vs Fourier F at {kappa}, {theta}: {f - fs}")
        with mp.workdps(60):
            ds = mp.diff(lambda kk: fourier_cdf(kk, theta), mpf(kappa))
        check(abs(d - ds) < mpf(10) ** -28 * abs(ds),
              f"dF/dkappa vs diff of series at {kappa}, {theta}: {d} {ds}")
        pd = mp.diff(lambda t: fourier_cdf(kappa, t), mpf(theta))
        check(abs(pd - vm.p(theta)) < mpf(10) ** -28, f"p vs dF/dtheta at {kappa}, {theta}")
    # Monotone and symmetric.
    vm = VM(4.0)
    check(abs(vm.cdf(0) - mpf(1) / 2) < mpf(10) ** -35, "F(0) = 1/2")
    print(f"worst relative quadrature error estimate: {mp.nstr(worst_err, 3)}")

    out = {
        "generator": "reference/gen_von_mises_special.py",
        "mpmath_dps": DPS,
        "bessel": bessel,
        "von_mises": rows,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "von_mises_special.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {path}: {len(bessel)} bessel rows, {len(rows)} von Mises rows")


if __name__ == "__main__":
    main()
