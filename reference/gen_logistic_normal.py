#!/usr/bin/env python3
"""Reference data for LogisticNormal(loc, scale) (torch's parameterization: the
stick-breaking image of Normal(loc, scale) with independent coordinates).

Writes ``logistic_normal.json``.  Regenerate from the repository root with::

    .venv/bin/python reference/gen_logistic_normal.py

Every output comes from mpmath at 50 digits (gradients by ``mpmath.diff`` at 400
digits) from the formulas written out below; torch (float64) is a cross-check printed
to stdout only.  Inputs are float32-exact: parameters are rounded to float32, and each
value y is a point whose K + 1 entries are dyadic (multiples of 2^-20, or 2^-24 at the
edges) and sum to exactly 1, in float32 and float64 alike.

Density: with K = len(loc), T_k = sum_{j >= k} y_j and the inverse stick-breaking map
x_k = ln y_k - ln T_{k+1} + ln(K - k) (k < K),

    log p(y) = sum_k log N(x_k; loc_k, scale_k) - sum_k [ln sigmoid(-x'_k) + ln y_k],

x'_k = x_k - ln(K - k) (torch's StickBreakingTransform log-det).  The self-check
compares it with the closed form sum_k log N(x_k) - sum_{k<=K} ln y_k + ln T_0.

Layout: {"generator", "mpmath_dps", "cases": [{"loc": [K], "scale": [K],
"values": [[K+1], ...], "log_prob": [...], "grad_loc": [[K], ...],
"grad_scale": [[K], ...]}]}: the gradients are those of log_prob at each value with
respect to each parameter entry.
"""

import json
import math
import sys
from pathlib import Path

import mpmath
from mpmath import mp, mpf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refcommon import f32, json_number, to_f64  # noqa: E402

mp.dps = 50
DIFF_DPS = 400
HERE = Path(__file__).resolve().parent
OUT = HERE / "logistic_normal.json"


def inverse(y):
    """x = StickBreaking^{-1}(y), from the entries and their tail sums."""
    k = len(y) - 1
    return [mp.log(y[i]) - mp.log(mp.fsum(y[i + 1:])) + mp.log(k - i) for i in range(k)]


def log_sigmoid(t):
    return -mp.log1p(mp.exp(-t))


def log_prob(y, loc, scale):
    k = len(loc)
    x = inverse(y)
    lp = mpf(0)
    for i in range(k):
        z = (x[i] - loc[i]) / scale[i]
        lp += -z * z / 2 - mp.log(scale[i]) - mp.log(2 * mp.pi) / 2
    for i in range(k):
        xs = x[i] - mp.log(k - i)
        lp -= log_sigmoid(-xs) + mp.log(y[i])
    return lp


def closed_form(y, loc, scale):
    x = inverse(y)
    lp = mpf(0)
    for i in range(len(loc)):
        z = (x[i] - loc[i]) / scale[i]
        lp += -z * z / 2 - mp.log(scale[i]) - mp.log(2 * mp.pi) / 2
    return lp - mp.fsum(mp.log(v) for v in y) + mp.log(mp.fsum(y))


def forward(x):
    """StickBreaking(x) in mpmath."""
    k = len(x)
    y, rest = [], mpf(1)
    for i in range(k):
        z = 1 / (1 + mp.exp(-(x[i] - mp.log(k - i))))
        y.append(rest * z)
        rest *= 1 - z
    return y + [rest]


def dyadic_point(y, bits=20):
    """y rounded to multiples of 2^-bits (each entry >= 2^-bits), the last entry
    taking up the rest so that the sum is exactly 1."""
    q = 2**bits
    head = [max(1, int(mp.nint(v * q))) for v in y[:-1]]
    last = q - sum(head)
    if last < 1:
        return None
    return [h / q for h in head] + [last / q]


CASES = [
    ([0.0, 0.0], [1.0, 1.0]),
    ([0.5, -1.5, 2.0], [0.3, 2.0, 1.0]),
    ([3.0], [0.05]),
    ([-4.0, 4.0, 0.0, 1.0], [1.0, 0.5, 3.0, 1e-2]),
    ([0.0, 0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0, 2.0]),
]
Z_GRID = [-2.5, -1.0, 0.0, 0.7, 1.8]


def values_for(loc, scale):
    k = len(loc)
    pts = []
    for zi, z in enumerate(Z_GRID):
        x = [mpf(loc[i]) + mpf(scale[i]) * (z if i % 2 == 0 else -z / 2 + 0.1 * zi)
             for i in range(k)]
        p = dyadic_point(forward(x))
        if p is not None and p not in pts:
            pts.append(p)
    # Edge points with one entry of 2^-24: first, and last (the others dyadic).
    tiny = 2.0**-24
    front = [tiny] + [2.0 ** -(i + 1) for i in range(1, k)]
    front.append(1.0 - sum(front))
    back = [2.0 ** -(i + 1) for i in range(k - 1)]
    back.append(1.0 - sum(back) - tiny)
    back.append(tiny)
    for p in (front, back):
        assert all(v > 0 and f32(v) == v for v in p) and mp.fsum(mpf(v) for v in p) == 1, p
        pts.append(p)
    return pts


def main():
    out, worst = [], mpf(0)
    for loc, scale in CASES:
        loc = [f32(v) for v in loc]
        scale = [f32(v) for v in scale]
        mloc = [mpf(v) for v in loc]
        msc = [mpf(v) for v in scale]
        values = values_for(loc, scale)
        assert len(values) >= 5, (loc, scale, values)
        lps, gl, gs = [], [], []
        for y in values:
            assert all(f32(v) == v for v in y) and mp.fsum(mpf(v) for v in y) == 1, y
            my = [mpf(v) for v in y]
            lp = log_prob(my, mloc, msc)
            cf = closed_form(my, mloc, msc)
            worst = max(worst, abs(lp - cf) / max(1, abs(cf)))
            lps.append(lp)
            row_l, row_s = [], []
            for i in range(len(loc)):
                with mp.workdps(DIFF_DPS):
                    f_l = lambda t: log_prob(my, mloc[:i] + [t] + mloc[i + 1:], msc)
                    f_s = lambda t: log_prob(my, mloc, msc[:i] + [t] + msc[i + 1:])
                    row_l.append(+mp.diff(f_l, mloc[i]))
                    row_s.append(+mp.diff(f_s, msc[i]))
            gl.append(row_l)
            gs.append(row_s)
        conv = lambda v: json_number(to_f64(v))
        out.append({
            "loc": loc,
            "scale": scale,
            "values": values,
            "log_prob": [conv(v) for v in lps],
            "grad_loc": [[conv(v) for v in r] for r in gl],
            "grad_scale": [[conv(v) for v in r] for r in gs],
        })
    doc = {"generator": "reference/gen_logistic_normal.py", "mpmath_dps": 50, "cases": out}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    n = sum(len(c["values"]) for c in out)
    print(f"wrote {OUT} ({len(out)} cases, {n} values)")
    print(f"self-check: torch's log-det form vs closed form, max rel {mpmath.nstr(worst, 3)}")
    bad = worst > mpf("1e-40")
    try:
        import torch
        from torch.distributions import LogisticNormal
    except ImportError:
        print("torch cross-check skipped")
    else:
        xc = 0.0
        for c in out:
            loc = torch.tensor(c["loc"], dtype=torch.float64, requires_grad=True)
            scale = torch.tensor(c["scale"], dtype=torch.float64, requires_grad=True)
            d = LogisticNormal(loc, scale)
            for j, y in enumerate(c["values"]):
                lp = d.log_prob(torch.tensor(y, dtype=torch.float64))
                gl, gsc = torch.autograd.grad(lp, [loc, scale])
                for ours, theirs in [(c["log_prob"][j], lp.item())] + list(
                        zip(c["grad_loc"][j], gl.tolist())) + list(
                        zip(c["grad_scale"][j], gsc.tolist())):
                    xc = max(xc, abs(ours - theirs) / max(1.0, abs(ours)))
        print(f"cross-check vs torch (float64): max disagreement {xc:.2e} (tol 1e-8)")
        bad |= xc > 1e-8
    if bad:
        print("CHECKS FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
