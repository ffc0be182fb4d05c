//! Scalar f64 kernels of the special functions (the f32 versions evaluate these and
//! round). Each cites the method it follows.

use std::f64::consts::{FRAC_2_SQRT_PI, LN_2, PI, SQRT_2};

const SQRT_PI: f64 = 1.772_453_850_905_516;

/// ln(2π)/2.
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// Euler–Mascheroni constant γ.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// ln(1 + x), accurate near 0.
#[inline]
pub fn log1p(x: f64) -> f64 {
    x.ln_1p()
}

/// e^x − 1, accurate near 0.
#[inline]
pub fn expm1(x: f64) -> f64 {
    x.exp_m1()
}

/// erf(x) (musl's algorithm through the `libm` crate; relative error below 1 ulp).
#[inline]
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// erfc(x) = 1 − erf(x) without cancellation (accurate down to about 1e-308).
#[inline]
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// ln(1 + e^x) without overflow: `max(x, 0) + log1p(e^{-|x|})`.
#[inline]
pub fn softplus(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The logistic sigmoid 1/(1+e^{-x}), without overflow.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// x·ln(y) with the convention 0·ln(y) = 0 (for any y that is not NaN), as in
/// `torch.xlogy`.
#[inline]
pub fn xlogy(x: f64, y: f64) -> f64 {
    if y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    x * y.ln()
}

/// Giles' single-precision approximation of erfinv ("Approximating the erfinv
/// function", GPU Computing Gems Jade Edition, 2011), written in terms of
/// `w = -ln((1-y)(1+y))` so the caller can supply `w` without cancellation. It is
/// only the starting point of the Newton refinement below.
fn giles_erfinv_from_w(y: f64, w: f64) -> f64 {
    let p = if w < 5.0 {
        let w = w - 2.5;
        let mut p = 2.810_226_36e-08;
        for c in [
            3.432_739_39e-07,
            -3.523_387_7e-06,
            -4.391_506_54e-06,
            0.000_218_580_87,
            -0.001_253_725_03,
            -0.004_177_681_64,
            0.246_640_727,
            1.501_409_41,
        ] {
            p = c + p * w;
        }
        p
    } else {
        let w = w.sqrt() - 3.0;
        let mut p = -0.000_200_214_257;
        for c in [
            0.000_100_950_558,
            0.001_349_343_22,
            -0.003_673_428_44,
            0.005_739_507_73,
            -0.007_622_461_3,
            0.009_438_870_47,
            1.001_674_06,
            2.832_976_82,
        ] {
            p = c + p * w;
        }
        p
    };
    p * y
}

/// erfcinv(c): the x with erfc(x) = c, for c in [0, 2]. Solved by Newton's method on
/// ln erfc(x) = ln c (well conditioned in the far tail, where erfc varies like
/// e^{-x²}), from Giles' approximation; converges to full f64 accuracy in 2–4 steps.
pub fn erfcinv(c: f64) -> f64 {
    if c.is_nan() || !(0.0..=2.0).contains(&c) {
        return f64::NAN;
    }
    if c == 0.0 {
        return f64::INFINITY;
    }
    if c == 2.0 {
        return f64::NEG_INFINITY;
    }
    if c > 1.0 {
        return -erfcinv(2.0 - c);
    }
    if c == 1.0 {
        return 0.0;
    }
    // y = 1 - c in (0, 1); (1-y)(1+y) = c(2-c) computed without cancellation.
    let w = -(c * (2.0 - c)).ln();
    let mut x = if w < 16.0 {
        giles_erfinv_from_w(1.0 - c, w)
    } else {
        // Beyond f32's range Giles' polynomial diverges; start from the asymptotic
        // erfc(x) ≈ e^{-x²}/(x√π), i.e. x ≈ √(−ln(c √π x)), iterated twice.
        let mut x = (-c.ln()).sqrt();
        for _ in 0..2 {
            x = (-(c * SQRT_PI * x).ln()).sqrt();
        }
        x
    };
    if c > 0.5 {
        // Near the centre, Newton on erf itself (ln erfc is flat there).
        let y = 1.0 - c;
        for _ in 0..4 {
            let r = erf(x) - y;
            let dx = r / (FRAC_2_SQRT_PI * (-x * x).exp());
            x -= dx;
            if dx.abs() <= 1e-17 * x.abs() {
                break;
            }
        }
        return x;
    }
    let lc = c.ln();
    for _ in 0..8 {
        let e = erfc(x);
        if e == 0.0 {
            break;
        }
        // d/dx ln erfc(x) = -(2/√π) e^{-x²} / erfc(x)
        let d = -FRAC_2_SQRT_PI * (-x * x).exp() / e;
        let dx = (e.ln() - lc) / d;
        x -= dx;
        if dx.abs() <= 2e-16 * x.abs() {
            break;
        }
    }
    x
}

/// erfinv(y) for y in [-1, 1]: Newton on erf near 0, erfcinv(1 − |y|) elsewhere (exact
/// subtraction for |y| ≥ 1/2).
pub fn erfinv(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y.abs() >= 0.5 {
        return y.signum() * erfcinv(1.0 - y.abs());
    }
    if y == 0.0 {
        return y;
    }
    let w = -((1.0 - y) * (1.0 + y)).ln();
    let mut x = giles_erfinv_from_w(y, w);
    for _ in 0..4 {
        let r = erf(x) - y;
        let dx = r / (FRAC_2_SQRT_PI * (-x * x).exp());
        x -= dx;
        if dx.abs() <= 1e-17 * x.abs() {
            break;
        }
    }
    x
}

/// Standard normal CDF Φ(z) = erfc(−z/√2)/2 (no cancellation in the lower tail).
#[inline]
pub fn ndtr(z: f64) -> f64 {
    0.5 * erfc(-z / SQRT_2)
}

/// Standard normal quantile Φ⁻¹(q) = −√2 · erfcinv(2q), with 2(1 − q) for q > 1/2 so
/// that both tails keep full relative accuracy.
pub fn ndtri(q: f64) -> f64 {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    if q <= 0.5 {
        -SQRT_2 * erfcinv(2.0 * q)
    } else {
        SQRT_2 * erfcinv(2.0 * (1.0 - q))
    }
}

/// Standard normal log density.
#[inline]
pub fn normal_log_pdf(z: f64) -> f64 {
    -0.5 * z * z - HALF_LN_2PI
}

/// tan(x) (std), exposed for the Cauchy quantile.
#[inline]
pub fn tan(x: f64) -> f64 {
    x.tan()
}

/// atan(x) (std), exposed for the Cauchy CDF.
#[inline]
pub fn atan(x: f64) -> f64 {
    x.atan()
}

/// tan(π (q − 1/2)) for q in (0, 1), the standard Cauchy quantile, evaluated as
/// −1/tan(π q) near 0 and 1/tan(π (1 − q)) near 1 so that tiny tail probabilities keep
/// their relative accuracy (π·q is exact to rounding, while q − 1/2 is not).
pub fn cauchy_icdf(q: f64) -> f64 {
    if q < 0.25 {
        -1.0 / (PI * q).tan()
    } else if q > 0.75 {
        1.0 / (PI * (1.0 - q)).tan()
    } else {
        (PI * (q - 0.5)).tan()
    }
}

/// The standard Cauchy CDF 1/2 + atan(z)/π, written as atan(−1/z)/π … for z < −1 so
/// the lower tail keeps its relative accuracy.
pub fn cauchy_cdf(z: f64) -> f64 {
    if z < -1.0 {
        (-1.0 / z).atan() / PI
    } else if z > 1.0 {
        1.0 - (1.0 / z).atan() / PI
    } else {
        0.5 + z.atan() / PI
    }
}

/// ln 2.
pub const LN2: f64 = LN_2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfinv_inverts_erf_everywhere() {
        for &y in &[
            -0.999_999,
            -0.7,
            -0.3,
            -1e-8,
            1e-300,
            0.2,
            0.49,
            0.5,
            0.9,
            1.0 - 1e-15,
        ] {
            let x = erfinv(y);
            let back = erf(x);
            assert!(
                (back - y).abs() <= 4e-16 * y.abs().max(1e-300),
                "y={y} x={x} back={back}"
            );
        }
        for &c in &[
            1e-300, 1e-100, 1e-38, 1e-20, 1e-9, 1e-7, 1e-5, 0.3, 0.9, 1.2, 1.9999,
        ] {
            let x = erfcinv(c);
            let back = erfc(x);
            assert!(((back - c) / c).abs() <= 1e-13, "c={c} x={x} back={back}");
        }
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert_eq!(erfinv(-1.0), f64::NEG_INFINITY);
        assert!(erfinv(1.5).is_nan());
    }

    #[test]
    fn ndtri_tails_keep_relative_accuracy() {
        for &q in &[1e-300, 1e-12, 0.01, 0.5, 0.99, 1.0 - 1e-12] {
            let z = ndtri(q);
            let back = if q < 0.5 { ndtr(z) } else { 1.0 - ndtr(z) };
            let want = if q < 0.5 { q } else { 1.0 - q };
            let got = if q < 0.5 { back } else { ndtr(-z) };
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "q={q} z={z} back={back}"
            );
        }
    }

    #[test]
    fn softplus_and_xlogy_edges() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert!((softplus(-40.0) - (-40f64).exp()).abs() < 1e-30);
        assert_eq!(xlogy(0.0, 0.0), 0.0);
        assert!(xlogy(0.0, f64::NAN).is_nan());
        assert_eq!(xlogy(2.0, 1.0), 0.0);
    }
}
