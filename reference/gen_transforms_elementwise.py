#!/usr/bin/env python3
"""Reference log-Jacobians of the elementwise transforms at inputs where finite
differences cannot resolve the derivative (the map saturates in floating point).

mpmath at 60 digits, from the definitions of the maps (not the Rust formulas):
* TanhTransform:     log |d tanh(x)/dx|  = log(sech(x)^2)
* SigmoidTransform:  log |d s(x)/dx|     = log(s(x) * (1 - s(x))), s = 1/(1+exp(-x))
* SoftplusTransform: log |d/dx log(1+e^x)| = log(e^x / (1 + e^x))
* PowerTransform(a): log |a x^(a-1)|
Also the forward value of softplus and the inverse of softplus at tiny and huge y.

Inputs are float32-exact, so the f32 tests see the same numbers. Writes
reference/transforms_elementwise.json. Regenerate from the repository root with::

    .venv/bin/python reference/gen_transforms_elementwise.py
"""
import json
import os

import mpmath
from mpmath import mp, mpf

from refcommon import f32, json_number, to_f64

mp.dps = 60
HERE = os.path.dirname(os.path.abspath(__file__))


def sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


XS = [0.0, 0.5, -0.5, 3.0, -7.25, 9.0, 12.0, -15.5, 20.0, -20.0, 25.0, 40.0, -40.0,
      88.5, -100.0, 300.0, -709.0, 1000.0, -1000.0]


def ladj_cases(fn):
    return [{"x": f32(x), "ladj": json_number(to_f64(fn(mpf(f32(x))))),} for x in XS]


out = {
    "TanhTransform": ladj_cases(lambda x: mpmath.log(mpmath.sech(x) ** 2)),
    "SigmoidTransform": ladj_cases(lambda x: mpmath.log(sigmoid(x) * sigmoid(-x))),
    "SoftplusTransform": ladj_cases(lambda x: mpmath.log(sigmoid(x))),
    "PowerTransform": [],
    "softplus_forward": [],
    "softplus_inverse": [],
}
for a in [2.0, 0.5, -1.5, 3.75, -0.25]:
    for x in [1e-300, 1e-30, 1e-5, 0.75, 2.0, 1e5, 1e30, 1e300]:
        xm = mpf(x)
        out["PowerTransform"].append({
            "exponent": a, "x": x,
            "ladj": json_number(to_f64(mpmath.log(abs(a * xm ** (a - 1))))),
        })
for x in XS:
    xm = mpf(f32(x))
    out["softplus_forward"].append({"x": f32(x), "y": json_number(to_f64(mpmath.log1p(mpmath.exp(xm))))})
for y in [1e-300, 1e-20, 1e-8, 0.5, 0.6931471805599453, 1.0, 30.0, 40.0, 700.0, 1e10]:
    ym = mpf(y)
    out["softplus_inverse"].append({"y": y, "x": json_number(to_f64(ym + mpmath.log(-mpmath.expm1(-ym))))})

with open(os.path.join(HERE, "transforms_elementwise.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote transforms_elementwise.json")
