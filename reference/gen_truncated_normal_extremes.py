"""Reference moments of TruncatedNormal far in a tail (tests/suite/extreme_parameters.rs).

Closed forms evaluated at 80 digits, where their cancellation (terms of size c² for a
window at distance c from the mean) costs nothing: Z = Φ(β) − Φ(α),
mean = loc + scale (φ(α) − φ(β))/Z,
variance = scale² [1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²],
entropy = ln(√(2πe) scale Z) + (αφ(α) − βφ(β))/(2Z).
Run: .venv/bin/python reference/gen_truncated_normal_extremes.py
"""
import mpmath as mp

mp.mp.dps = 80


def moments(loc, scale, low, high):
    loc, scale, low, high = map(mp.mpf, (loc, scale, low, high))
    a, b = (low - loc) / scale, (high - loc) / scale
    phi = lambda t: mp.mpf(0) if mp.isinf(t) else mp.npdf(t)
    tphi = lambda t: mp.mpf(0) if mp.isinf(t) else t * mp.npdf(t)
    # Φ(β) − Φ(α) from the tail nearer the window, without cancellation.
    z = mp.ncdf(b) - mp.ncdf(a) if a + b <= 0 else mp.ncdf(-a) - mp.ncdf(-b)
    m = (phi(a) - phi(b)) / z
    v = 1 + (tphi(a) - tphi(b)) / z - m * m
    h = mp.log(mp.sqrt(2 * mp.pi * mp.e) * scale * z) + (tphi(a) - tphi(b)) / (2 * z)
    return loc + scale * m, scale**2 * v, h


if __name__ == "__main__":
    for args in [
        (1e4, 0.05, 8.12, 50.0),
        (0.0, 1.0, 30.0, mp.inf),
        (0.0, 1.0, -mp.inf, -40.0),
        (0.0, 1.0, 5.0, 7.0),
        (0.0, 1.0, 1.5, 3.0),
        (0.0, 1.0, -1e6, -1e3),
    ]:
        m, v, h = moments(*args)
        print(args, mp.nstr(m, 20), mp.nstr(v, 20), mp.nstr(h, 20))
