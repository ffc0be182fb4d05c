//! The softplus map.

use super::Transform;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::special::kernel::{apply1, Map1};
use crate::special::{self, expm1};
use candle_core::Tensor;
use std::any::Any;
use std::f64::consts::LN_2;

/// `y = softplus(x) = ln(1 + eˣ)` from the reals onto `(0, ∞)` (torch's
/// `SoftplusTransform`), increasing.
///
/// - forward: `max(x, 0) + ln(1 + e^{−|x|})`, without overflow for large `x` and exact
///   (`eˣ`) for very negative `x` (in f64 for f32 inputs);
/// - inverse: `x = y + ln(1 − e^{−y})`, with `ln(1 − e^{−y})` evaluated as
///   `ln(−expm1(−y))` for `y ≤ ln 2` and `log1p(−e^{−y})` above (Mächler 2012,
///   "Accurately computing log(1 − exp(−|a|))"): exact for tiny `y` (`x ≈ ln y`) and
///   for large `y` (`x ≈ y`); `−∞` at `y = 0`, NaN for `y < 0` (transforms do not
///   validate inputs). Its gradient is `1/(1 − e^{−y})`;
/// - `log|dy/dx| = ln σ(x) = −softplus(−x)`, exact for every `x`, with gradient
///   `σ(−x)`.
///
/// In f64 `softplus(x)` underflows to 0 for `x < −745`, where the round trip saturates.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{SoftplusTransform, Transform};
/// let x = Tensor::new(&[-50.0f64, 0.0, 800.0], &Device::Cpu)?;
/// let (y, ladj) = SoftplusTransform.forward_and_log_det(&x)?;
/// let y = y.to_vec1::<f64>()?;
/// assert!((y[1] - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(y[2], 800.0); // no overflow
/// assert!((ladj.to_vec1::<f64>()?[1] + 2f64.ln()).abs() < 1e-15); // ln σ(0)
/// let back = SoftplusTransform.inverse(&Tensor::new(&y[..], &Device::Cpu)?)?;
/// let back = back.to_vec1::<f64>()?;
/// assert!((back[0] + 50.0).abs() < 1e-12 && (back[2] - 800.0).abs() < 1e-12);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoftplusTransform;

/// The inverse of softplus for one number: `y + ln(1 − e^{−y})`.
pub(crate) fn softplus_inverse_scalar(y: f64) -> f64 {
    if y == f64::INFINITY {
        return y;
    }
    let log1mexp = if y <= LN_2 {
        (-(-y).exp_m1()).ln()
    } else {
        (-(-y).exp()).ln_1p()
    };
    y + log1mexp
}

/// `ln σ(x) = −softplus(−x)` for one number: `min(x, 0) − ln(1 + e^{−|x|})`.
pub(crate) fn log_sigmoid_scalar(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.min(0.0) - (-x.abs()).exp().ln_1p()
}

/// The inverse of softplus as a differentiable tensor op.
pub(crate) fn softplus_inverse(y: &Tensor) -> Result<Tensor> {
    fn bwd(y: &Tensor, _x: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        g / expm1(&y.neg()?)?.neg()?
    }
    apply1(
        y,
        Map1 {
            name: "softplus_inverse",
            f: softplus_inverse_scalar,
            bwd: Some(bwd),
        },
    )
}

/// `ln σ(x)` as a differentiable tensor op (gradient `σ(−x)`).
pub(crate) fn log_sigmoid(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        g * special::sigmoid(&x.neg()?)?
    }
    apply1(
        x,
        Map1 {
            name: "log_sigmoid",
            f: log_sigmoid_scalar,
            bwd: Some(bwd),
        },
    )
}

impl Transform for SoftplusTransform {
    fn name(&self) -> &'static str {
        "SoftplusTransform"
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        special::softplus(x)
    }
    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        softplus_inverse(y)
    }
    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        log_sigmoid(x)
    }
    fn domain(&self) -> Constraint {
        Constraint::Real
    }
    fn codomain(&self) -> Constraint {
        Constraint::Positive
    }
    fn sign(&self) -> Option<i8> {
        Some(1)
    }
    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }
    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<SoftplusTransform>()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
