"""Helpers shared by the reference generators: float32-exact inputs and correctly
rounded float64 outputs, encoded for JSON (non-finite numbers as strings)."""
import math

import mpmath
import numpy as np
from mpmath import mp, mpf


def f32(x):
    """Round a real number to the nearest float32 and return it as a Python
    float (which then represents that float32 value exactly)."""
    return float(np.float32(x))


def to_f64(x):
    """Round an mpmath number to the nearest float64.

    ``float(mpf)`` in mpmath truncates rather than rounds to nearest, so go
    through a long decimal string and let Python's correctly-rounded parser do
    the work (this also maps huge values to inf and tiny ones to 0/subnormal).
    """
    x = mpf(x)
    if mp.isnan(x):
        return math.nan
    if mp.isinf(x):
        return math.inf if x > 0 else -math.inf
    return float(mpmath.nstr(x, 45, strip_zeros=False))


def json_number(v):
    """Map a float to something JSON can hold: non-finite -> string."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v
