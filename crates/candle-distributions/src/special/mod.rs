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

pub(crate) mod kernel;
pub mod scalar;

use crate::error::Result;
use candle_core::Tensor;
use kernel::{apply1, apply2, Map1, Map2};
use std::f64::consts::PI;

type CResult<T> = candle_core::Result<T>;

const SQRT_PI: f64 = 1.772_453_850_905_516;
const SQRT_2PI: f64 = 2.506_628_274_631_000_5;

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
        let s_neg = sigmoid(&x.neg()?).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
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
        let s = sigmoid(x).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
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
/// ln(y) and x/y, both 0 where x = 0.
pub fn xlogy(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    fn bwd(
        x: &Tensor,
        y: &Tensor,
        _r: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let nonzero = x.ne(0.0)?.to_dtype(x.dtype())?;
        let gx = (g * xlogy(&nonzero, y).map_err(|e| candle_core::Error::Msg(e.to_string()))?)?;
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
