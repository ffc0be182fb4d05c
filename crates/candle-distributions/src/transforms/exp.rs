//! The exponential map.

use super::Transform;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::special::kernel::{apply1, Map1};
use candle_core::{DType, Tensor};
use std::any::Any;

/// `y = exp(x)` from the reals onto `(0, ∞)` (torch's `ExpTransform`), increasing.
///
/// - inverse: `x = ln y`;
/// - `log|dy/dx| = x` (exact for every `x`, also where `exp` overflows or underflows).
///
/// Elementwise (event dimension 0). Transforms do not validate their inputs: a
/// negative `y` gives `ln y = NaN`, as the formula does. Results stay in the codomain
/// within the dtype: `exp(x)` beyond the largest finite number is that number, below
/// the smallest positive normal number it is that number (as LogNormal's draws), with
/// gradient 0 there, so a draw pushed through it is never `∞` or `0` and no `∞ − ∞`
/// reaches a gradient sum. The round trip saturates there (`x > 709.8` or
/// `x < −708.4` in f64, `88.7` and `−87.3` in f32).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{ExpTransform, Transform};
/// let x = Tensor::new(&[-1.0f64, 0.0, 2.0], &Device::Cpu)?;
/// let (y, ladj) = ExpTransform.forward_and_log_det(&x)?;
/// assert!((y.to_vec1::<f64>()?[2] - 2f64.exp()).abs() < 1e-12);
/// assert_eq!(ladj.to_vec1::<f64>()?, vec![-1.0, 0.0, 2.0]);
/// let back = ExpTransform.inverse(&y)?.to_vec1::<f64>()?;
/// assert!((back[0] + 1.0).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpTransform;

impl Transform for ExpTransform {
    fn name(&self) -> &'static str {
        "ExpTransform"
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        exp_in_range(x)
    }
    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.log()?)
    }
    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((exp_in_range(x)?, x.clone()))
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
        other.as_any().is::<ExpTransform>()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `exp(x)` clamped to `[smallest positive normal, largest finite]` of x's dtype, with
/// gradient `exp(x)` inside and 0 where clamped.
fn exp_in_range(x: &Tensor) -> Result<Tensor> {
    fn bwd(_x: &Tensor, y: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        let (lo, hi) = range(y.dtype());
        let inside = y.gt(lo)?.mul(&y.lt(hi)?)?.to_dtype(y.dtype())?;
        g.mul(&y.mul(&inside)?)
    }
    let (lo, hi) = range(x.dtype());
    let f = move |v: f64| v.exp().clamp(lo, hi);
    // NaN stays NaN (`clamp` keeps it).
    apply1(
        x,
        Map1 {
            name: "exp_in_range",
            f,
            bwd: Some(bwd),
        },
    )
}

/// The positive normal range of a float dtype, in f64.
fn range(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F32 => (f32::MIN_POSITIVE as f64, f32::MAX as f64),
        _ => (f64::MIN_POSITIVE, f64::MAX),
    }
}
