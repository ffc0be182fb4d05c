"""Reference values for TanhNormal (a = tanh(u), u = loc + scale * eps).

* mpmath at 50 digits: the action a, its log-density at the pre-tanh value u,
  log N(u; loc, scale) - log(1 - tanh(u)^2), and the pathwise derivatives of both
  with respect to loc and scale at fixed eps, by mpmath.diff (numerical, not the
  closed forms of the Rust code).
* torch (float64): TransformedDistribution(Normal(loc, scale), [TanhTransform(cache_size=1)])
  with u = loc + scale * eps pushed forward (the cache holds u, as after torch's
  rsample): log_prob(a) and its autograd gradients; and the same without cache,
  log_prob of the given action a (torch inverts tanh), where that is finite.

Inputs are float32-exact so that the f32 tests see the same numbers. Writes
reference/tanh_normal.json.
"""
import json
import math
import os

import mpmath
from mpmath import mp, mpf

from refcommon import f32, json_number, to_f64

mp.dps = 50


def lp_mp(loc, scale, eps):
    u = loc + scale * eps
    return -eps**2 / 2 - mpmath.log(scale) - mpmath.log(2 * mpmath.pi) / 2 - mpmath.log(1 - mpmath.tanh(u) ** 2)


def lp_mp_stable(loc, scale, eps):
    # log(1 - tanh^2 u) = log(sech^2 u) = -2 log cosh u, exact at any precision.
    u = loc + scale * eps
    return -eps**2 / 2 - mpmath.log(scale) - mpmath.log(2 * mpmath.pi) / 2 + 2 * mpmath.log(mpmath.cosh(u))


def a_mp(loc, scale, eps):
    return mpmath.tanh(loc + scale * eps)


def cases():
    out = []
    locs = [0.0, 0.5, -1.25, 3.0, -7.5, 12.0]
    scales = [0.05, 0.3, 1.0, 2.5, 8.0]
    epss = [-2.5, -1.0, -0.1, 0.0, 0.7, 1.9, 3.3]
    for m in locs:
        for s in scales:
            for e in epss:
                u = m + s * e
                if abs(u) <= 20.0:
                    out.append((f32(m), f32(s), f32(e)))
    # pre-tanh values out to |u| = 20 exactly (saturated in f32 and f64)
    for m, s, e in [(20.0, 1.0, 0.0), (-20.0, 1.0, 0.0), (19.5, 0.25, 2.0), (-18.0, 2.0, -1.0),
                    (9.0, 1.0, 0.5), (-9.5, 0.5, -1.0), (15.0, 0.1, 3.0), (0.0, 10.0, 2.0),
                    (0.0, 10.0, -1.999), (5.0, 3.0, 5.0)]:
        out.append((f32(m), f32(s), f32(e)))
    return out


def main():
    rows = []
    for m, s, e in cases():
        M, S, E = mpf(m), mpf(s), mpf(e)
        lp = lp_mp_stable(M, S, E)
        # cross-check the two forms where 1 - tanh^2 is representable at 50 digits
        assert abs(lp - lp_mp(M, S, E)) < mpf(10) ** -30
        dl = mpmath.diff(lambda x: lp_mp_stable(x, S, E), M)
        ds = mpmath.diff(lambda x: lp_mp_stable(M, x, E), S)
        a = a_mp(M, S, E)
        dal = mpmath.diff(lambda x: a_mp(x, S, E), M)
        das = mpmath.diff(lambda x: a_mp(M, x, E), S)
        rows.append({
            "loc": m, "scale": s, "eps": e,
            "u": to_f64(M + S * E),
            "a": to_f64(a), "log_prob": to_f64(lp),
            "dlog_prob_dloc": to_f64(dl), "dlog_prob_dscale": to_f64(ds),
            "da_dloc": to_f64(dal), "da_dscale": to_f64(das),
        })
    torch_rows = []
    try:
        import torch
        from torch.distributions import Normal, TransformedDistribution
        from torch.distributions.transforms import TanhTransform
        torch.set_default_dtype(torch.float64)
        for m, s, e in cases():
            loc = torch.tensor(m, requires_grad=True)
            scale = torch.tensor(s, requires_grad=True)
            d = TransformedDistribution(Normal(loc, scale, validate_args=False),
                                        [TanhTransform(cache_size=1)], validate_args=False)
            u = loc + scale * torch.tensor(e)
            a = d.transforms[0](u)
            lp = d.log_prob(a)
            gl, gs = torch.autograd.grad(lp, [loc, scale])
            d0 = TransformedDistribution(Normal(torch.tensor(m), torch.tensor(s), validate_args=False),
                                         [TanhTransform()], validate_args=False)
            lp_given = d0.log_prob(a.detach()).item()
            torch_rows.append({
                "loc": m, "scale": s, "eps": e, "a": a.item(),
                "log_prob_cached": lp.item(), "dloc_cached": gl.item(), "dscale_cached": gs.item(),
                "log_prob_given_action": json_number(lp_given),
            })
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    out = {
        "source": "reference/gen_tanh_normal.py (mpmath 50 digits; torch float64 " + str(torch_version) + ")",
        "mpmath": rows,
        "torch": torch_rows,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tanh_normal.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(rows)} mpmath rows, {len(torch_rows)} torch rows to {path}")


if __name__ == "__main__":
    main()
