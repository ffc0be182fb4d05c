//! The absolute value (not injective).

use super::Transform;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use candle_core::Tensor;
use std::any::Any;

/// `y = |x|` from the reals onto `[0, ∞)` (torch's `AbsTransform`). Not injective:
/// `bijective()` is false and `sign()` is `None`.
///
/// - inverse: the pseudo-inverse `y ↦ y`, the non-negative preimage, so that
///   `forward(inverse(forward(x))) = forward(x)`;
/// - `log_abs_det_jacobian`: none, as in torch (`|x|` has two preimages, so a density
///   cannot be carried through it by one Jacobian): [`Error::NotImplemented`] naming
///   `AbsTransform`.
///
/// The codomain is `NonNegative` (`|0| = 0`), where torch declares `positive`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{AbsTransform, Transform};
/// let x = Tensor::new(&[-2.0f64, 0.0, 3.0], &Device::Cpu)?;
/// let y = AbsTransform.forward(&x)?;
/// assert_eq!(y.to_vec1::<f64>()?, vec![2.0, 0.0, 3.0]);
/// assert_eq!(AbsTransform.inverse(&y)?.to_vec1::<f64>()?, vec![2.0, 0.0, 3.0]);
/// assert!(!AbsTransform.bijective());
/// assert!(AbsTransform.log_abs_det_jacobian(&x, &y).is_err());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AbsTransform;

impl Transform for AbsTransform {
    fn name(&self) -> &'static str {
        "AbsTransform"
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.abs()?)
    }
    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.clone())
    }
    fn log_abs_det_jacobian(&self, _x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        Err(Error::NotImplemented {
            distribution: "AbsTransform",
            method: "log_abs_det_jacobian",
            reason: Some("|x| is not injective: no single Jacobian carries a density".into()),
        })
    }
    fn domain(&self) -> Constraint {
        Constraint::Real
    }
    fn codomain(&self) -> Constraint {
        Constraint::NonNegative
    }
    fn bijective(&self) -> bool {
        false
    }
    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }
    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<AbsTransform>()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
