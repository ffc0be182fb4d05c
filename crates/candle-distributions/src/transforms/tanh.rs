//! The hyperbolic tangent map (the squashing of the SAC policy).

use super::Transform;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::special::kernel::{apply1, Map1};
use crate::special::log1p;
use candle_core::{DType, Tensor};
use std::any::Any;
use std::f64::consts::LN_2;

/// `y = tanh(x)` from the reals onto `(−1, 1)` (torch's `TanhTransform`; codomain the
/// interval `[−1, 1]` as torch declares it), increasing.
///
/// - inverse: `x = atanh(y) = ½(log1p(y) − log1p(−y))` after clamping `y` to
///   `[−(1 − ε), 1 − ε]` (ε the machine epsilon of the dtype): finite for every
///   `y ∈ [−1, 1]` (torch does not clamp and returns ±∞ at ±1); a NaN stays NaN;
/// - `log|dy/dx| = ln(1 − tanh²x) = 2(ln 2 − x − softplus(−2x))`, evaluated in its
///   even form `2(ln 2 − |x| − softplus(−2|x|))` in f64 (also for f32 inputs): exact
///   for every `x`, also where `ln(1 − y²)` is `−∞` because `tanh` rounded to ±1
///   (`|x| > 9` in f32). Its gradient is `−2 tanh x`.
///
/// `tanh(x)` rounds to ±1 for `|x| > 19.1` in f64 (`9.0` in f32), so the round trip
/// saturates there; below that `y` carries an absolute error of about `ε/2`, which
/// comes back as about `ε/(2(1 − y²))` in `x` (below 1e−6 up to `|x| ≈ 11` in f64).
/// Compute densities from the pre-tanh value where it is known (`TanhNormal`).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::transforms::{TanhTransform, Transform};
/// let x = Tensor::new(&[0.0f32, 20.0], &Device::Cpu)?;
/// let (y, ladj) = TanhTransform.forward_and_log_det(&x)?;
/// assert_eq!(y.to_vec1::<f32>()?, vec![0.0, 1.0]); // tanh(20) rounds to 1
/// let l = ladj.to_vec1::<f32>()?;
/// assert_eq!(l[0], 0.0);
/// // 2(ln 2 − 20 − softplus(−40)): finite although 1 − y² = 0 in f32.
/// assert!((l[1] as f64 - 2.0 * (2f64.ln() - 20.0)).abs() < 1e-5);
/// let back = TanhTransform.inverse(&y)?.to_vec1::<f32>()?;
/// assert!(back[1].is_finite());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TanhTransform;

/// `ln(1 − tanh²x) = 2(ln 2 − |x| − softplus(−2|x|))` for one number (`−∞` at ±∞, NaN
/// at NaN).
pub(crate) fn tanh_log_abs_det_scalar(x: f64) -> f64 {
    let a = x.abs();
    // softplus(−2a) = ln(1 + e^{−2a}) as −2a ≤ 0.
    2.0 * (LN_2 - a - (-2.0 * a).exp().ln_1p())
}

/// `ln|d tanh(x)/dx| = ln(1 − tanh²x)` elementwise, as a differentiable tensor op
/// computed in f64 (also for f32 inputs; gradient `−2 tanh x`): the log-det of
/// [`TanhTransform`], for the densities of tanh-squashed laws.
pub(crate) fn tanh_log_abs_det(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        g * (x.tanh()? * -2.0)?
    }
    apply1(
        x,
        Map1 {
            name: "tanh_log_abs_det",
            f: tanh_log_abs_det_scalar,
            bwd: Some(bwd),
        },
    )
}

/// The clamp bound `1 − ε` of the inverse in `dtype`.
fn open_bound(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1.0 - f32::EPSILON as f64,
        _ => 1.0 - f64::EPSILON,
    }
}

impl Transform for TanhTransform {
    fn name(&self) -> &'static str {
        "TanhTransform"
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.tanh()?)
    }
    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let b = open_bound(y.dtype());
        let y = y.clamp(-b, b)?;
        Ok(((log1p(&y)? - log1p(&y.neg()?)?)? * 0.5)?)
    }
    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        tanh_log_abs_det(x)
    }
    fn domain(&self) -> Constraint {
        Constraint::Real
    }
    fn codomain(&self) -> Constraint {
        Constraint::Interval(-1.0, 1.0)
    }
    fn sign(&self) -> Option<i8> {
        Some(1)
    }
    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }
    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<TanhTransform>()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
