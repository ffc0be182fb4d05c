//! The softmax map from real vectors onto the simplex.

use super::{check_event_rank, Transform};
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use candle_core::{Tensor, D};
use std::any::Any;

/// `y_k = exp(x_k) / Σ_j exp(x_j)` over the last dimension: real vectors onto the
/// simplex (torch's `SoftmaxTransform`).
///
/// - domain: real vectors (event dimension 1); codomain: the simplex.
/// - Not bijective: adding a constant to every `x_k` gives the same `y`. The inverse is
///   the pseudo-inverse `x = log y` (one preimage: the one with `Σ exp(x_k) = 1`), so
///   `forward(inverse(y)) = y` on the simplex while `inverse(forward(x))` is `x` shifted
///   by a constant.
/// - `log_abs_det_jacobian` is undefined (the Jacobian is singular) and returns
///   [`Error::NotImplemented`], as torch raises.
///
/// The forward pass subtracts the (detached) maximum before exponentiating, so inputs
/// of any magnitude give a point of the simplex; infinite entries give the limit
/// (`[∞, 0] ↦ [1, 0]`, a vector of `−∞` the uniform point). NaN gives NaN.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{SoftmaxTransform, Transform};
/// let x = Tensor::new(&[0.0f64, 2f64.ln(), 1000.0], &Device::Cpu)?;
/// let y = SoftmaxTransform.forward(&x)?.to_vec1::<f64>()?;
/// assert!((y[2] - 1.0).abs() < 1e-12 && y[0] >= 0.0);
/// let y = Tensor::new(&[0.25f64, 0.75], &Device::Cpu)?;
/// let back = SoftmaxTransform.forward(&SoftmaxTransform.inverse(&y)?)?.to_vec1::<f64>()?;
/// assert!((back[1] - 0.75).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftmaxTransform;

impl Transform for SoftmaxTransform {
    fn name(&self) -> &'static str {
        "SoftmaxTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_event_rank(self.name(), x, 1)?;
        if x.elem_count() == 0 {
            // No event to normalize (candle's max has no identity for an empty reduce).
            return Ok(x.zeros_like()?);
        }
        // The shift leaves the result unchanged, so its gradient path is not needed.
        let m = x.max_keepdim(D::Minus1)?.detach();
        // A vector whose maximum is ±∞ has the limit softmax: equal shares on the
        // entries at the maximum, 0 elsewhere (x − m would be NaN there).
        let m_inf = m.abs()?.eq(f64::INFINITY)?.broadcast_as(x.shape())?;
        let at_max = x.broadcast_eq(&m)?;
        let limit = at_max.where_cond(&x.zeros_like()?, &(x.ones_like()? * f64::NEG_INFINITY)?)?;
        let x = m_inf.where_cond(&limit, x)?;
        let m = m
            .abs()?
            .eq(f64::INFINITY)?
            .where_cond(&m.zeros_like()?, &m)?;
        let e = x.broadcast_sub(&m)?.exp()?;
        let s = e.sum_keepdim(D::Minus1)?;
        Ok(e.broadcast_div(&s)?)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        check_event_rank(self.name(), y, 1)?;
        Ok(y.log()?)
    }

    fn log_abs_det_jacobian(&self, _x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        Err(Error::NotImplemented {
            distribution: "SoftmaxTransform",
            method: "log_abs_det_jacobian",
            reason: Some(
                "softmax is not injective (its Jacobian is singular); use StickBreakingTransform for a bijection onto the simplex"
                    .to_string(),
            ),
        })
    }

    fn domain(&self) -> Constraint {
        Constraint::RealVector
    }

    fn codomain(&self) -> Constraint {
        Constraint::Simplex
    }

    fn bijective(&self) -> bool {
        false
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        if shape.is_empty() {
            return Err(Error::shape(
                self.name(),
                "needs at least 1 dimension for one event, got shape []",
            ));
        }
        Ok(shape.to_vec())
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.forward_shape(shape)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<SoftmaxTransform>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
