"""Reference values for the elementwise special functions of step 1.

Writes reference/special.json: for each function, inputs (float32-representable, so the
same cases serve f32 and f64 tests), values and first derivatives, all computed with
mpmath at 50 significant digits from the functions' definitions.

Regenerate with:  .venv/bin/python reference/gen_special.py
"""
import json
import math
import os

import mpmath as mp
import numpy as np

mp.mp.dps = 50


from refcommon import f32, json_number, to_f64


def enc(x):
    """Correctly rounded float64 (mpmath's float() truncates), JSON-encodable."""
    return json_number(to_f64(x))


def erfcinv(c):
    """The x with erfc(x) = c, by a bracketing root finder on ln erfc (monotone)."""
    c = mp.mpf(c)
    if c == 1:
        return mp.mpf(0)
    if c > 1:
        return -erfcinv(2 - c)
    lc = mp.log(c)
    return mp.findroot(lambda x: mp.log(mp.erfc(x)) - lc, (mp.mpf(0), mp.mpf(40)), solver="anderson")


def erfinv(y):
    """erf(x) = y: erfcinv(1 - y) (exact in mpmath's 50 digits)."""
    y = mp.mpf(y)
    if y == 0:
        return mp.mpf(0)
    if abs(y) < 0.5:
        return mp.findroot(lambda x: mp.erf(x) - y, (mp.mpf(-1), mp.mpf(1)), solver="anderson")
    return mp.sign(y) * erfcinv(1 - abs(y))


def ndtr(z):
    return mp.erfc(-mp.mpf(z) / mp.sqrt(2)) / 2


def ndtri(q):
    q = mp.mpf(q)
    if q < 0.5:
        return -mp.sqrt(2) * erfcinv(2 * q)
    return mp.sqrt(2) * erfcinv(2 * (1 - q))


FUNCS = {
    # name: (function, derivative, inputs)
    "log1p": (lambda x: mp.log1p(x), lambda x: 1 / (1 + mp.mpf(x)),
              [-0.999, -0.5, -1e-6, -1e-20, 1e-30, 1e-8, 0.3, 1.0, 7.5, 1e10, 1e30]),
    "expm1": (lambda x: mp.expm1(x), lambda x: mp.exp(x),
              [-80.0, -5.0, -1e-5, -1e-20, 1e-30, 1e-9, 0.5, 3.0, 50.0, 700.0]),
    "erfc": (lambda x: mp.erfc(x), lambda x: -2 / mp.sqrt(mp.pi) * mp.exp(-mp.mpf(x) ** 2),
             [-6.0, -1.0, -1e-10, 0.0, 1e-10, 0.5, 1.0, 3.0, 10.0, 26.0]),
    "erfinv": (erfinv, lambda y: mp.sqrt(mp.pi) / 2 * mp.exp(erfinv(y) ** 2),
               [-0.999999, -0.9, -0.5, -0.1, -1e-10, 1e-30, 1e-6, 0.3, 0.5, 0.75, 0.99, 0.9999999]),
    "erfcinv": (erfcinv, lambda c: -mp.sqrt(mp.pi) / 2 * mp.exp(erfcinv(c) ** 2),
                [1e-38, 1e-30, 1e-10, 1e-3, 0.2, 0.7, 1.0, 1.3, 1.9, 1.9999]),
    "ndtr": (ndtr, lambda z: mp.npdf(z),
             [-37.0, -20.0, -5.0, -1.0, 0.0, 0.3, 2.0, 8.0, 30.0]),
    "ndtri": (ndtri, lambda q: 1 / mp.npdf(ndtri(q)),
              [1e-37, 1e-20, 1e-9, 0.001, 0.2, 0.5, 0.6, 0.975, 0.9999999]),
    "softplus": (lambda x: mp.log1p(mp.exp(x)), lambda x: 1 / (1 + mp.exp(-mp.mpf(x))),
                 [-100.0, -20.0, -1.0, 0.0, 1e-7, 2.0, 20.0, 100.0]),
    "sigmoid": (lambda x: 1 / (1 + mp.exp(-mp.mpf(x))),
                lambda x: mp.exp(-mp.mpf(x)) / (1 + mp.exp(-mp.mpf(x))) ** 2,
                [-80.0, -10.0, -1.0, 0.0, 0.5, 10.0, 40.0]),
    "atan": (lambda x: mp.atan(x), lambda x: 1 / (1 + mp.mpf(x) ** 2),
             [-1e6, -3.0, -1e-8, 0.0, 0.7, 1.0, 50.0]),
    "tan": (lambda x: mp.tan(x), lambda x: 1 / mp.cos(x) ** 2,
            [-1.5, -0.7, -1e-8, 0.0, 0.3, 1.0, 1.55]),
}


def main():
    out = {"generator": "reference/gen_special.py", "mpmath_dps": 50, "unary": {}, "xlogy": []}
    for name, (f, df, xs) in FUNCS.items():
        xs = [f32(x) for x in xs]
        out["unary"][name] = {
            "x": [enc(x) for x in xs],
            "y": [enc(f(x)) for x in xs],
            "dy": [enc(df(x)) for x in xs],
        }
    for x, y in [(0.0, 0.0), (0.0, 5.0), (2.0, 1.0), (1e-30, 1e-30), (3.5, 0.25), (-2.0, 7.0), (5.0, 1e30)]:
        x, y = f32(x), f32(y)
        val = mp.mpf(0) if x == 0 else x * mp.log(y)
        # d/dx (x ln y) = ln y, also at x = 0 (torch returns 0 there); at y = 0 the
        # convention 0·ln 0 = 0 gives 0 for x = 0.
        dx = mp.mpf(0) if (x == 0 and y == 0) else mp.log(y)
        dy = mp.mpf(x) / y if y != 0 else (mp.mpf(0) if x == 0 else mp.inf)
        out["xlogy"].append({"x": enc(x), "y": enc(y), "value": enc(val), "dx": enc(dx), "dy": enc(dy)})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "special.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
