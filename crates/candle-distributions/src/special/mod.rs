//! Special functions that candle lacks, as differentiable tensor operations.
//!
//! Each function has one scalar kernel in [`scalar`] (f64; f32 tensors are evaluated
//! through it and rounded) and one tensor form here, a candle `CustomOp` whose backward
//! is the exact derivative written with tensor ops, so it composes with autograd to any
//! order. Tensors on other devices make a round trip through host memory.
//!
//! ```
//! use candle_core::{Device, Tensor, Var};
//! use candle_distributions::special;
//! let x = Var::new(&[0.5f64, -0.25], &Device::Cpu)?;
//! let y = special::erfinv(x.as_tensor())?;
//! let g = y.sum_all()?.backward()?;
//! // d erfinv(x)/dx = √π/2 · exp(erfinv(x)²)
//! let want = std::f64::consts::PI.sqrt() / 2.0 * (y.to_vec1::<f64>()?[0].powi(2)).exp();
//! assert!((g.get(&x).unwrap().to_vec1::<f64>()?[0] - want).abs() < 1e-12);
//! # Ok::<(), candle_distributions::Error>(())
//! ```

pub mod bessel;
pub mod beta;
pub mod gamma;
pub(crate) mod kernel;
pub mod rows;
pub mod scalar;
pub mod von_mises;

use crate::error::Result;
use candle_core::Tensor;
use kernel::{apply1, apply2, apply3, Map1, Map2, Map3};
use std::f64::consts::PI;

type CResult<T> = candle_core::Result<T>;

const SQRT_PI: f64 = 1.772_453_850_905_516;
const SQRT_2PI: f64 = 2.506_628_274_631_000_5;

/// `f(x)` where `x` is finite or NaN, and `fill` where `x` is ±∞, with `f` evaluated at
/// the finite stand-in 1 in those places. A density formula meets ∞ − ∞ or 0 · ∞ at
/// an infinite value (α ln β + (α − 1) ln x − βx at x = ∞), and its backward the same
/// even when the value is masked out afterwards; the stand-in keeps both finite, so
/// the result there is exactly `fill` (the density's limit, −∞ for a log density) with
/// zero gradient. The one place such limits are taken for the tensor-op densities.
pub fn finite_or(
    x: &Tensor,
    fill: f64,
    f: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let inf = x.abs()?.eq(f64::INFINITY)?;
    let safe = inf.where_cond(&x.ones_like()?, x)?;
    let y = f(&safe)?;
    let filled = (y.ones_like()? * fill)?;
    Ok(inf.where_cond(&filled, &y)?)
}

/// ln(1 + x), accurate for small x. Gradient 1/(1 + x).
pub fn log1p(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g / (x + 1.0)?
    }
    apply1(
        x,
        Map1 {
            name: "log1p",
            f: scalar::log1p,
            bwd: Some(bwd),
        },
    )
}

/// e^x − 1, accurate for small x. Gradient e^x (not y + 1, which cancels for x ≪ 0).
pub fn expm1(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * x.exp()?
    }
    apply1(
        x,
        Map1 {
            name: "expm1",
            f: scalar::expm1,
            bwd: Some(bwd),
        },
    )
}

/// The complementary error function erfc(x) = 1 − erf(x), accurate in the upper tail.
/// Gradient −(2/√π) e^{−x²}.
pub fn erfc(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * (x.sqr()?.neg()?.exp()? * (-2.0 / SQRT_PI))?
    }
    apply1(
        x,
        Map1 {
            name: "erfc",
            f: scalar::erfc,
            bwd: Some(bwd),
        },
    )
}

/// The inverse error function on [−1, 1] (±∞ at ±1, NaN outside). Gradient
/// (√π/2) e^{y²} with y = erfinv(x).
pub fn erfinv(x: &Tensor) -> Result<Tensor> {
    fn bwd(_x: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * (y.sqr()?.exp()? * (SQRT_PI / 2.0))?
    }
    apply1(
        x,
        Map1 {
            name: "erfinv",
            f: scalar::erfinv,
            bwd: Some(bwd),
        },
    )
}

/// The inverse complementary error function on [0, 2]. Gradient −(√π/2) e^{y²}.
pub fn erfcinv(x: &Tensor) -> Result<Tensor> {
    fn bwd(_x: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * (y.sqr()?.exp()? * (-SQRT_PI / 2.0))?
    }
    apply1(
        x,
        Map1 {
            name: "erfcinv",
            f: scalar::erfcinv,
            bwd: Some(bwd),
        },
    )
}

/// The standard normal CDF Φ(x), accurate in both tails. Gradient φ(x).
pub fn ndtr(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * ((x.sqr()? * -0.5)?.exp()? / SQRT_2PI)?
    }
    apply1(
        x,
        Map1 {
            name: "ndtr",
            f: scalar::ndtr,
            bwd: Some(bwd),
        },
    )
}

/// The standard normal quantile Φ⁻¹(q), accurate in both tails. Gradient 1/φ(y).
pub fn ndtri(q: &Tensor) -> Result<Tensor> {
    fn bwd(_q: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * ((y.sqr()? * 0.5)?.exp()? * SQRT_2PI)?
    }
    apply1(
        q,
        Map1 {
            name: "ndtri",
            f: scalar::ndtri,
            bwd: Some(bwd),
        },
    )
}

/// The logistic sigmoid 1/(1 + e^{−x}). Gradient σ(x)σ(−x) (not σ(1 − σ), which
/// cancels for large x).
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        let s_neg = sigmoid(&x.neg()?)?;
        g * (y * s_neg)?
    }
    apply1(
        x,
        Map1 {
            name: "sigmoid",
            f: scalar::sigmoid,
            bwd: Some(bwd),
        },
    )
}

/// softplus(x) = ln(1 + e^x) without overflow. Gradient σ(x).
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        let s = sigmoid(x)?;
        g * s
    }
    apply1(
        x,
        Map1 {
            name: "softplus",
            f: scalar::softplus,
            bwd: Some(bwd),
        },
    )
}

/// x·ln(y) with 0·ln(y) = 0 (torch's `xlogy`), broadcasting x against y. Gradients
/// ln(y) (also at x = 0, where torch returns 0) and x/y (0 where x = 0).
pub fn xlogy(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    fn bwd(
        x: &Tensor,
        y: &Tensor,
        _r: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let nonzero = x.ne(0.0)?.to_dtype(x.dtype())?;
        // ∂/∂x = ln y (also at x = 0); where y = 0 the convention 0·ln 0 = 0 makes it
        // 0 for x = 0 (and −∞ otherwise): xlogy(m, y) with m = 1 where y > 0.
        let m = nonzero.maximum(&y.gt(0.0)?.to_dtype(x.dtype())?)?;
        let gx = (g * xlogy(&m, y)?)?;
        // x·ln y is constant in y where x = 0: its y-gradient is 0 there, also at y = 0
        // (where x/y would be 0/0).
        let safe_y = ((y * &nonzero)? + (1.0 - &nonzero)?)?;
        let gy = ((g * x)? / safe_y)?;
        Ok((Some(gx), Some(gy)))
    }
    apply2(
        x,
        y,
        Map2 {
            name: "xlogy",
            f: scalar::xlogy,
            f32: scalar::xlogy,
            bwd: Some(bwd),
        },
    )
}

/// atan(x). Gradient 1/(1 + x²).
pub fn atan(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g / (x.sqr()? + 1.0)?
    }
    apply1(
        x,
        Map1 {
            name: "atan",
            f: scalar::atan,
            bwd: Some(bwd),
        },
    )
}

/// tan(x). Gradient 1 + tan²(x).
pub fn tan(x: &Tensor) -> Result<Tensor> {
    fn bwd(_x: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * (y.sqr()? + 1.0)?
    }
    apply1(
        x,
        Map1 {
            name: "tan",
            f: scalar::tan,
            bwd: Some(bwd),
        },
    )
}

/// π, re-exported for formulas that build on these functions.
pub const PI_F64: f64 = PI;

// ---------------------------------------------------------------------------
// The gamma and beta families, Bessel functions and normal tails (step 2).
// ---------------------------------------------------------------------------

/// ln|Γ(x)|. Gradient ψ(x).
pub fn lgamma(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * digamma(x)?
    }
    apply1(
        x,
        Map1 {
            name: "lgamma",
            f: gamma::lgamma,
            bwd: Some(bwd),
        },
    )
}

/// The digamma function ψ(x) = d ln Γ(x)/dx. Gradient ψ'(x) (trigamma).
pub fn digamma(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * trigamma(x)?
    }
    apply1(
        x,
        Map1 {
            name: "digamma",
            f: gamma::digamma,
            bwd: Some(bwd),
        },
    )
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), broadcasting a against b, accurate
/// also when one argument is much larger than the other. Gradients ψ(a) − ψ(a + b)
/// and ψ(b) − ψ(a + b).
pub fn lbeta(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    fn bwd(
        a: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let dab = digamma(&(a + b)?)?;
        let da = (digamma(a)? - &dab)?;
        let db = (digamma(b)? - &dab)?;
        Ok((Some((g * da)?), Some((g * db)?)))
    }
    apply2(
        a,
        b,
        Map2 {
            name: "lbeta",
            f: gamma::lbeta,
            f32: gamma::lbeta,
            bwd: Some(bwd),
        },
    )
}

/// The multivariate log-gamma function of dimension p,
/// ln Γ_p(x) = p(p − 1)/4 · ln π + Σ_{j=0}^{p−1} ln Γ(x − j/2) (torch's
/// `special.multigammaln`), defined for x > (p − 1)/2. Differentiable through
/// [`lgamma`].
pub fn mvlgamma(x: &Tensor, p: u32) -> Result<Tensor> {
    let mut acc = lgamma(x)?;
    for j in 1..p {
        acc = (acc + lgamma(&(x - j as f64 / 2.0)?)?)?;
    }
    let c = (p as f64) * (p as f64 - 1.0) / 4.0 * PI.ln();
    Ok((acc + c)?)
}

/// ln Φ(x), the log of the standard normal CDF, accurate in both tails. Gradient
/// φ(x)/Φ(x) = exp(ln φ(x) − ln Φ(x)).
pub fn log_ndtr(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        let log_phi = x.sqr()?.affine(-0.5, -scalar::HALF_LN_2PI)?;
        g * (log_phi - y)?.exp()?
    }
    apply1(
        x,
        Map1 {
            name: "log_ndtr",
            f: scalar::log_ndtr,
            bwd: Some(bwd),
        },
    )
}

/// ln(Φ(b) − Φ(a)) for a ≤ b, without cancellation in either tail. Gradients
/// −φ(a)/(Φ(b) − Φ(a)) and φ(b)/(Φ(b) − Φ(a)), from log-space ratios.
pub fn log_ndtr_diff(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    fn bwd(
        a: &Tensor,
        b: &Tensor,
        y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let ratio = |z: &Tensor| -> CResult<Tensor> {
            (z.sqr()?.affine(-0.5, -scalar::HALF_LN_2PI)? - y)?.exp()
        };
        Ok((Some((g * ratio(a)?)?.neg()?), Some((g * ratio(b)?)?)))
    }
    apply2(
        a,
        b,
        Map2 {
            name: "log_ndtr_diff",
            f: scalar::log_ndtr_diff,
            f32: scalar::log_ndtr_diff,
            bwd: Some(bwd),
        },
    )
}

/// The trigamma function ψ'(x). Gradient ψ''(x).
pub fn trigamma(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * polygamma(2, x)?
    }
    apply1(
        x,
        Map1 {
            name: "trigamma",
            f: gamma::trigamma,
            bwd: Some(bwd),
        },
    )
}

/// The polygamma function ψ⁽ⁿ⁾(x), the n-th derivative of ψ. Gradient ψ⁽ⁿ⁺¹⁾(x), so
/// derivatives of any order are available.
pub fn polygamma(n: u32, x: &Tensor) -> Result<Tensor> {
    fn bwd(
        n: &Tensor,
        x: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        // `n` is constant within one op (it was filled from a u32).
        let n0 = n.flatten_all()?.get(0)?.to_dtype(candle_core::DType::F64)?;
        let n1 = n0.to_scalar::<f64>()? as u32 + 1;
        Ok((None, Some((g * polygamma(n1, x)?)?)))
    }
    fn f(n: f64, x: f64) -> f64 {
        gamma::polygamma(n as u32, x)
    }
    let nt = (x.ones_like()? * n as f64)?;
    apply2(
        &nt,
        x,
        Map2 {
            name: "polygamma",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// The regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a), broadcasting
/// a against x. Gradients ∂P/∂a (exact, by differentiating the series and continued
/// fraction) and ∂P/∂x = x^{a−1} e^{−x}/Γ(a).
pub fn gammainc_p(a: &Tensor, x: &Tensor) -> Result<Tensor> {
    fn bwd(
        a: &Tensor,
        x: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let (da, dx) = gammainc_partials(a, x)?;
        Ok((Some((g * da)?), Some((g * dx)?)))
    }
    apply2(
        a,
        x,
        Map2 {
            name: "gammainc_p",
            f: gamma::gammainc_p,
            f32: gamma::gammainc_p,
            bwd: Some(bwd),
        },
    )
}

/// The regularized upper incomplete gamma function Q(a, x) = 1 − P(a, x), accurate
/// where it is small. Gradients −∂P/∂a and −∂P/∂x.
pub fn gammainc_q(a: &Tensor, x: &Tensor) -> Result<Tensor> {
    fn bwd(
        a: &Tensor,
        x: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let (da, dx) = gammainc_partials(a, x)?;
        Ok((Some((g * da)?.neg()?), Some((g * dx)?.neg()?)))
    }
    apply2(
        a,
        x,
        Map2 {
            name: "gammainc_q",
            f: gamma::gammainc_q,
            f32: gamma::gammainc_q,
            bwd: Some(bwd),
        },
    )
}

/// (∂P/∂a, ∂P/∂x) as tensors. ∂P/∂x = exp((a − 1) ln x − x − ln Γ(a)) is built from
/// differentiable ops (so second derivatives in x and a exist); ∂P/∂a has no further
/// derivatives.
fn gammainc_partials(a: &Tensor, x: &Tensor) -> Result<(Tensor, Tensor)> {
    let da = apply2(
        a,
        x,
        Map2 {
            name: "gammainc_p_da",
            f: gamma::gammainc_p_da,
            f32: gamma::gammainc_p_da,
            bwd: None,
        },
    )?;
    let am1 = (a - 1.0)?;
    let log_p = (xlogy(&am1, x)?.broadcast_sub(x)?.broadcast_sub(&lgamma(a)?))?;
    Ok((da, log_p.exp()?))
}

/// The regularized incomplete beta function I_x(a, b), broadcasting its arguments.
/// Gradients in a, b (exact, by differentiating the continued fraction) and in x
/// (the Beta density).
pub fn betainc(a: &Tensor, b: &Tensor, x: &Tensor) -> Result<Tensor> {
    fn bwd(
        a: &Tensor,
        b: &Tensor,
        x: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (da, db) = kernel::apply3_pair(a, b, x, "betainc_dab", betainc_dab, betainc_dab)?;
        let log_p = ((xlogy(&(a - 1.0)?, x)? + xlogy(&(b - 1.0)?, &(1.0 - x)?)?)? - lbeta(a, b)?)?;
        Ok((Some((g * da)?), Some((g * db)?), Some((g * log_p.exp()?)?)))
    }
    apply3(
        a,
        b,
        x,
        Map3 {
            name: "betainc",
            f: beta::betainc,
            f32: beta::betainc,
            bwd: Some(bwd),
        },
    )
}

fn betainc_dab(a: f64, b: f64, x: f64) -> (f64, f64) {
    let (_, da, db) = beta::betainc_grad(a, b, x);
    (da, db)
}

/// The exponentially scaled modified Bessel function e^{−|x|} I₀(x). Gradient
/// i1e(x) − sign(x) i0e(x).
pub fn i0e(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        let d = (i1e(x)? - (x.sign()? * y)?)?;
        g * d
    }
    apply1(
        x,
        Map1 {
            name: "i0e",
            f: bessel::i0e,
            bwd: Some(bwd),
        },
    )
}

/// The exponentially scaled modified Bessel function e^{−|x|} I₁(x). Gradient
/// i0e(x) − i1e(x)/x − sign(x) i1e(x) (1/2 at x = 0).
pub fn i1e(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        // i1e(x)/x → 1/2 as x → 0: divide by x where x ≠ 0 only.
        let nz = x.ne(0.0)?.to_dtype(x.dtype())?;
        let safe_x = ((x * &nz)? + (1.0 - &nz)?)?;
        let over_x = (((y / safe_x)? * &nz)? + ((1.0 - &nz)? * 0.5)?)?;
        let d = ((i0e(x)? - over_x)? - (x.sign()? * y)?)?;
        g * d
    }
    apply1(
        x,
        Map1 {
            name: "i1e",
            f: bessel::i1e,
            bwd: Some(bwd),
        },
    )
}
