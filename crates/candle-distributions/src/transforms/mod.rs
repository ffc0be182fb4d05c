//! Transforms: invertible (or pseudo-invertible) maps `y = f(x)` with the log absolute
//! determinant of their Jacobian, the building blocks of [`TransformedDistribution`] and
//! of [`biject_to`] / [`transform_to`].
//!
//! A transform acts on events of `domain().event_dim()` rightmost dimensions; its
//! `log_abs_det_jacobian(x, y)` has the shape of `x` without those dimensions. The
//! conventions (names, parameterizations, event-dim bookkeeping) are torch's
//! `torch.distributions.transforms`.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use candle_distributions::transforms::{ExpTransform, Transform};
//! let t = ExpTransform;
//! let x = Tensor::new(&[0.0f64, 1.0], &Device::Cpu)?;
//! let (y, ladj) = t.forward_and_log_det(&x)?;
//! assert_eq!(y.to_vec1::<f64>()?, vec![1.0, 1f64.exp()]);
//! assert_eq!(ladj.to_vec1::<f64>()?, vec![0.0, 1.0]); // log|dy/dx| = x
//! assert_eq!(t.inverse(&y)?.to_vec1::<f64>()?, vec![0.0, 1.0]);
//! # Ok::<(), candle_distributions::Error>(())
//! ```

use crate::constraints::Constraint;
use crate::error::{Error, Result};
use candle_core::Tensor;
use std::any::Any;
use std::fmt::Debug;

pub mod abs;
pub mod affine;
pub mod biject;
pub mod cat_stack;
pub mod cholesky;
pub mod compose;
pub mod cumulative_distribution;
pub mod exp;
pub mod independent;
pub mod independent_transform;
pub mod power;
pub mod reshape;
pub mod sigmoid;
pub mod softmax;
pub mod softplus;
pub mod stick_breaking;
pub mod tanh;
pub mod transformed;

pub use abs::AbsTransform;
pub use affine::AffineTransform;
pub use biject::{biject_to, transform_to};
pub use cat_stack::{CatTransform, StackTransform};
pub use cholesky::{CorrCholeskyTransform, LowerCholeskyTransform, PositiveDefiniteTransform};
pub use compose::ComposeTransform;
pub use cumulative_distribution::CumulativeDistributionTransform;
pub use exp::ExpTransform;
pub use independent::Independent;
pub use independent_transform::IndependentTransform;
pub use power::PowerTransform;
pub use reshape::ReshapeTransform;
pub use sigmoid::SigmoidTransform;
pub use softmax::SoftmaxTransform;
pub use softplus::SoftplusTransform;
pub use stick_breaking::StickBreakingTransform;
pub use tanh::TanhTransform;
pub use transformed::TransformedDistribution;

/// A map `y = f(x)` between constrained sets, with its inverse and the log absolute
/// determinant of its Jacobian (object safe: `Box<dyn Transform>` works).
///
/// Implementors give `forward`, `inverse`, `log_abs_det_jacobian`, `domain`,
/// `codomain`, `clone_box` and `as_any`; the rest have defaults. `forward_and_log_det`
/// is overridden where computing both together is cheaper or more exact.
pub trait Transform: Debug + Send + Sync {
    /// Name used in errors and displays ("ExpTransform", ...).
    fn name(&self) -> &'static str;
    /// `y = f(x)`.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;
    /// `x = f⁻¹(y)` (for a non-bijective map, one preimage: a pseudo-inverse).
    fn inverse(&self, y: &Tensor) -> Result<Tensor>;
    /// `log |det ∂y/∂x|`, summed over one event of `domain().event_dim()` dimensions:
    /// the shape of `x` without its event dimensions.
    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Result<Tensor>;
    /// `(forward(x), log_abs_det_jacobian(x, forward(x)))` in one pass.
    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let y = self.forward(x)?;
        let ladj = self.log_abs_det_jacobian(x, &y)?;
        Ok((y, ladj))
    }
    /// The set the transform accepts; its `event_dim()` is the transform's input event
    /// dimension.
    fn domain(&self) -> Constraint;
    /// The set the transform maps into; its `event_dim()` is the output event dimension.
    fn codomain(&self) -> Constraint;
    /// Whether the map is a bijection of `domain` onto `codomain` (false for `Abs`).
    fn bijective(&self) -> bool {
        true
    }
    /// `Some(+1)` or `Some(-1)` for a scalar map that is increasing or decreasing
    /// everywhere, `None` otherwise (or when unknown).
    fn sign(&self) -> Option<i8> {
        None
    }
    /// The shape of `forward(x)` for an `x` of shape `shape`.
    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        Ok(shape.to_vec())
    }
    /// The shape of `inverse(y)` for a `y` of shape `shape`.
    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        Ok(shape.to_vec())
    }
    /// A boxed copy (parameters are shared tensors: gradients still reach them).
    fn clone_box(&self) -> Box<dyn Transform>;
    /// The inverse transform `f⁻¹` (its inverse is `f` again).
    fn inv(&self) -> Box<dyn Transform> {
        Box::new(InverseTransform::new(self.clone_box()))
    }
    /// Whether `other` is the same map (same type and equal parameters), as torch's
    /// `__eq__`: the KL of two transformed distributions needs equal transforms.
    fn equals(&self, other: &dyn Transform) -> bool {
        let _ = other;
        false
    }
    /// For downcasting.
    fn as_any(&self) -> &dyn Any;
}

impl Clone for Box<dyn Transform> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The inverse `f⁻¹` of a transform `f`: forward and inverse swap, and the log-det is
/// `-log|det J_f(x)|` at `x = f⁻¹(y)`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{ExpTransform, Transform};
/// let log = ExpTransform.inv();
/// let y = Tensor::new(&[1.0f64], &Device::Cpu)?;
/// assert_eq!(log.forward(&y)?.to_vec1::<f64>()?, vec![0.0]);
/// assert_eq!(log.inv().forward(&y)?.to_vec1::<f64>()?, vec![1f64.exp()]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct InverseTransform {
    inner: Box<dyn Transform>,
}

impl InverseTransform {
    /// The inverse of `inner`.
    pub fn new(inner: Box<dyn Transform>) -> Self {
        InverseTransform { inner }
    }

    /// The transform this one inverts.
    pub fn inner(&self) -> &dyn Transform {
        self.inner.as_ref()
    }
}

impl Transform for InverseTransform {
    fn name(&self) -> &'static str {
        "InverseTransform"
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.inner.inverse(x)
    }
    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        self.inner.forward(y)
    }
    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.inner.log_abs_det_jacobian(y, x)?.neg()?)
    }
    fn domain(&self) -> Constraint {
        self.inner.codomain()
    }
    fn codomain(&self) -> Constraint {
        self.inner.domain()
    }
    fn bijective(&self) -> bool {
        self.inner.bijective()
    }
    fn sign(&self) -> Option<i8> {
        self.inner.sign()
    }
    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.inner.inverse_shape(shape)
    }
    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.inner.forward_shape(shape)
    }
    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(InverseTransform::new(self.inner.clone_box()))
    }
    fn inv(&self) -> Box<dyn Transform> {
        self.inner.clone_box()
    }
    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<InverseTransform>()
            .is_some_and(|o| self.inner.equals(o.inner.as_ref()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Sums the rightmost `n` dimensions of `t` (torch's `_sum_rightmost`); `n = 0` returns
/// `t` unchanged.
pub fn sum_rightmost(t: &Tensor, n: usize) -> Result<Tensor> {
    sum_rightmost_for("sum_rightmost", t, n)
}

/// [`sum_rightmost`] whose shape error names `name`: the transform or distribution the
/// user built (a composite sums its parts' log-dets, and a bad input shape surfaces here).
pub(crate) fn sum_rightmost_for(name: &str, t: &Tensor, n: usize) -> Result<Tensor> {
    if n == 0 {
        return Ok(t.clone());
    }
    let rank = t.rank();
    if n > rank {
        return Err(Error::shape(
            name,
            format!(
                "cannot sum {n} rightmost dimensions of a tensor of shape {:?}",
                t.dims()
            ),
        ));
    }
    let dims: Vec<usize> = (rank - n..rank).collect();
    Ok(t.sum(dims)?)
}

/// Checks that `x` has at least `event_dim` dimensions, as every transform needs for
/// one event; otherwise [`Error::Shape`] naming the transform.
pub(crate) fn check_event_rank(name: &str, x: &Tensor, event_dim: usize) -> Result<()> {
    if x.rank() < event_dim {
        return Err(Error::shape(
            name,
            format!(
                "needs at least {event_dim} dimension(s) for one event, got shape {:?}",
                x.dims()
            ),
        ));
    }
    Ok(())
}

/// `t.narrow(dim, start, len)`, except that a zero-size `t` gives a fresh zero-size
/// tensor of the narrowed shape: candle's `narrow` of an empty tensor yields a view whose
/// start offset lies past the end of its storage, which candle's own kernels then read
/// out of bounds (a panic). Every transform that slices its input goes through here.
pub(crate) fn narrow(t: &Tensor, dim: usize, start: usize, len: usize) -> Result<Tensor> {
    if t.elem_count() == 0 {
        let mut shape = t.dims().to_vec();
        if dim >= shape.len() || start + len > shape[dim] {
            // Out of range: candle's own message.
            return Ok(t.narrow(dim, start, len)?);
        }
        shape[dim] = len;
        return Ok(Tensor::zeros(shape, t.dtype(), t.device())?);
    }
    Ok(t.narrow(dim, start, len)?)
}
