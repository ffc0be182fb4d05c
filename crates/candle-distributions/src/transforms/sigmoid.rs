//! The logistic sigmoid map.

use super::Transform;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::special::kernel::{apply1, Map1};
use crate::special::{self, log1p};
use candle_core::{DType, Tensor};
use std::any::Any;

/// `y = σ(x) = 1/(1 + e^{−x})` from the reals onto the unit interval (torch's
/// `SigmoidTransform`), increasing.
///
/// - forward: `σ(x)` computed without overflow (in f64 for f32 inputs), then clipped
///   to `[tiny, 1 − ε]` of the dtype (`tiny` the smallest positive normal number, `ε`
///   the machine epsilon), as torch does, so that `y` stays strictly inside `(0, 1)`
///   and the inverse and later log-densities stay finite;
/// - inverse: `x = ln y − ln(1 − y)` (`log1p` form) after clamping `y` to the same
///   `[tiny, 1 − ε]`: finite for every `y ∈ [0, 1]`; a `y` outside `[0, 1]` is clamped
///   too (transforms do not validate inputs), a NaN stays NaN;
/// - `log|dy/dx| = ln σ(x) + ln σ(−x) = −softplus(−x) − softplus(x)`, evaluated as
///   `−|x| − 2·ln(1 + e^{−|x|})`: exact for every `x`, also where `y` is clipped
///   (it is the log-derivative of the exact sigmoid). Its gradient is `−tanh(x/2)`.
///
/// The round trip is limited by the rounding of `y` near 1: `y` carries an absolute
/// error of about `ε/2`, which comes back as an error of about `ε·eˣ/2` in `x`
/// (below 1e−6 up to `x ≈ 22` in f64). `σ(x)` is clipped for `x ≲ −708` and
/// `x ≳ 36` in f64 (`−87` and `15.9` in f32), where the round trip saturates.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{SigmoidTransform, Transform};
/// let x = Tensor::new(&[0.0f64, 2.0, -800.0], &Device::Cpu)?;
/// let (y, ladj) = SigmoidTransform.forward_and_log_det(&x)?;
/// let y = y.to_vec1::<f64>()?;
/// assert_eq!(y[0], 0.5);
/// assert_eq!(y[2], f64::MIN_POSITIVE); // clipped, not 0
/// let l = ladj.to_vec1::<f64>()?;
/// assert!((l[0] - 0.25f64.ln()).abs() < 1e-15);
/// assert_eq!(l[2], -800.0); // exact log-derivative, though y was clipped
/// let one = Tensor::new(&[1.0f64, 0.0], &Device::Cpu)?;
/// let x = SigmoidTransform.inverse(&one)?.to_vec1::<f64>()?;
/// assert!(x.iter().all(|v| v.is_finite()));
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigmoidTransform;

/// The open unit interval of a float dtype as torch's `clamp_probs`/`_clipped_sigmoid`
/// see it: `[tiny, 1 − ε]`.
pub(crate) fn open_unit_bounds(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F32 => (f32::MIN_POSITIVE as f64, 1.0 - f32::EPSILON as f64),
        _ => (f64::MIN_POSITIVE, 1.0 - f64::EPSILON),
    }
}

/// `ln σ(x) + ln σ(−x)` for one number: `−|x| − 2·ln(1 + e^{−|x|})` (even in `x`;
/// `−∞` at `x = ±∞`, NaN at NaN).
pub(crate) fn sigmoid_log_abs_det_scalar(x: f64) -> f64 {
    let a = x.abs();
    -a - 2.0 * (-a).exp().ln_1p()
}

/// The log-derivative of the sigmoid, `ln σ(x) + ln σ(−x)`, as a differentiable
/// tensor op (computed in f64 for f32 inputs; gradient `−tanh(x/2)`).
pub(crate) fn sigmoid_log_abs_det(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        g * (x * 0.5)?.tanh()?.neg()?
    }
    apply1(
        x,
        Map1 {
            name: "sigmoid_log_abs_det",
            f: sigmoid_log_abs_det_scalar,
            bwd: Some(bwd),
        },
    )
}

impl Transform for SigmoidTransform {
    fn name(&self) -> &'static str {
        "SigmoidTransform"
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (lo, hi) = open_unit_bounds(x.dtype());
        Ok(special::sigmoid(x)?.clamp(lo, hi)?)
    }
    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let (lo, hi) = open_unit_bounds(y.dtype());
        let y = y.clamp(lo, hi)?;
        Ok((y.log()? - log1p(&y.neg()?)?)?)
    }
    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        sigmoid_log_abs_det(x)
    }
    fn domain(&self) -> Constraint {
        Constraint::Real
    }
    fn codomain(&self) -> Constraint {
        Constraint::UnitInterval
    }
    fn sign(&self) -> Option<i8> {
        Some(1)
    }
    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }
    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<SigmoidTransform>()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
