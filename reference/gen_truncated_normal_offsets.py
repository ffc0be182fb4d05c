"""Reference values of TruncatedNormal where the window is narrow or far out in a tail
(tests/suite/truncated_normal_offsets.rs): cdf, quantiles, log_prob, the log_prob gradients
and the pathwise (rsample) derivatives dx/dθ = −(∂F/∂θ)/p(x).

Everything is evaluated with mpmath at 120 digits (400 for the window 1e-270 wide) from the definition
F(x) = (Φ(z) − Φ(α))/(Φ(β) − Φ(α)), z = (x − loc)/scale, α, β the standardized
bounds, with the masses taken on the side of the window's tail (no cancellation at
this precision). Quantiles by bisection on F; derivatives by mpmath.diff.
Inputs are written as float64 numbers (some are float32 values, as the suite drew
them). Run: .venv/bin/python reference/gen_truncated_normal_offsets.py
"""
import json
import mpmath as mp

mp.mp.dps = 120

F32_1E8 = 9.99999993922529e-9  # float32(1e-8)
MAX = 1.7976931348623157e308

# (loc, scale, low, high, xs as fractions of the window, gradients?)
CASES = [
    (1e8, 1e8, F32_1E8, 7.0, True),  # narrow window at α ≈ −1
    (-100.0, 1.0, 0.0, 2.5, True),  # tail window, β = 100
    (7.0, 30.0, -0.0, 1e-8, True),  # narrow window below loc
    (0.0, 0.5, -0.0, 1e-8, True),  # narrow window at loc
    (-1e8, 2.5, -100.0, 2.5, True),  # tail window, β = 4e7
    (-1e8, 1e-8, -1.3, 1e8, True),  # exponential law, β = 1e16
    (-1e8, 2.5, F32_1E8, 1e-8, True),  # collapsed in f64: width 6e-17 at β = 4e7
    (1e300, MAX, -3.4028234663852886e38, 1.1754943508222875e-38, False),  # collapsed, uniform
]
FRACTIONS = [1e-9, 0.01, 0.3, 0.5, 0.77, 0.999]
QS = [1e-12, 0.1, 0.5, 0.9, 1 - 2**-40]


def masses(loc, scale, low, high, x):
    """(mass of [low, x], mass of [low, high]) of N(loc, scale²), in a common scale."""
    a, b, z = (low - loc) / scale, (high - loc) / scale, (x - loc) / scale
    if a + b <= 0:
        return mp.ncdf(z) - mp.ncdf(a), mp.ncdf(b) - mp.ncdf(a)
    # upper half: from the upper tail
    return mp.ncdf(-a) - mp.ncdf(-z), mp.ncdf(-a) - mp.ncdf(-b)


def cdf(loc, scale, low, high, x):
    m, t = masses(loc, scale, low, high, x)
    return m / t


def log_prob(loc, scale, low, high, x):
    _, t = masses(loc, scale, low, high, x)
    z = (x - loc) / scale
    return -z * z / 2 - mp.log(mp.sqrt(2 * mp.pi)) - mp.log(scale) - mp.log(t)


def icdf(loc, scale, low, high, q):
    lo, hi = mp.mpf(low), mp.mpf(high)
    for _ in range(800):
        mid = (lo + hi) / 2
        if cdf(loc, scale, low, high, mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def num(v):
    v = mp.mpf(v)
    if mp.isnan(v):
        return "nan"
    if mp.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(v)


def main():
    out = []
    for loc, scale, low, high, grads in CASES:
        # A window 1e-270 wide at α ≈ 5e-9 needs 300 digits to resolve its masses.
        mp.mp.dps = 120 if grads else 400
        p = [mp.mpf(v) for v in (loc, scale, low, high)]
        width = p[3] - p[2]
        case = {"params": [loc, scale, low, high], "points": [], "quantiles": []}
        for f in FRACTIONS:
            x = float(p[2] + width * f)
            if not (low < x < high):
                continue
            xm = mp.mpf(x)
            pt = {"x": x, "cdf": num(cdf(*p, xm)), "log_prob": num(log_prob(*p, xm))}
            if grads:
                g = []
                for k in range(4):
                    def fk(t, k=k):
                        q = list(p)
                        q[k] = t
                        return log_prob(*q, xm)
                    g.append(num(mp.diff(fk, p[k])))
                pt["grad_log_prob"] = g
            case["points"].append(pt)
        for q in QS:
            qm = mp.mpf(q)
            x = icdf(*p, qm)
            item = {"q": q, "x": num(x)}
            if grads:
                dens = mp.exp(log_prob(*p, x))
                d = []
                for k in range(4):
                    def fk(t, k=k):
                        r = list(p)
                        r[k] = t
                        return cdf(*r, x)
                    d.append(num(-mp.diff(fk, p[k]) / dens))
                item["dx"] = d
            case["quantiles"].append(item)
        out.append(case)
        print("done", loc, scale, low, high, flush=True)
    with open("reference/truncated_normal_offsets.json", "w") as fh:
        json.dump({"source": "reference/gen_truncated_normal_offsets.py (mpmath, 120 digits)",
                   "cases": out}, fh, indent=1)


if __name__ == "__main__":
    main()
