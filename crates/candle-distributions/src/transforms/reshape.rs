//! Reshaping of the rightmost dimensions.

use super::{check_event_rank, Transform};
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use candle_core::Tensor;
use std::any::Any;

/// Reshapes the rightmost dimensions from `in_shape` to `out_shape` (torch's
/// `ReshapeTransform`): `y[b, ...] = reshape(x[b, ...], out_shape)` for each batch index
/// `b`, entries kept in row-major order.
///
/// - domain: reals with `in_shape.len()` event dimensions; codomain: reals with
///   `out_shape.len()` event dimensions.
/// - A bijection with unit Jacobian: `log_abs_det_jacobian` is 0, with the batch shape
///   (the shape of `x` without `in_shape`).
/// - The two shapes must hold the same number of elements ([`Error::InvalidArgument`]
///   from the constructor otherwise); `forward` on a tensor whose rightmost dimensions
///   are not `in_shape` is an [`Error::Shape`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{ReshapeTransform, Transform};
/// let t = ReshapeTransform::new(&[2, 3], &[6])?;
/// let x = Tensor::arange(0f64, 12.0, &Device::Cpu)?.reshape((2, 2, 3))?;
/// let y = t.forward(&x)?;
/// assert_eq!(y.dims(), &[2, 6]);
/// assert_eq!(t.log_abs_det_jacobian(&x, &y)?.to_vec1::<f64>()?, vec![0.0, 0.0]);
/// assert_eq!(t.inverse_shape(&[5, 6])?, vec![5, 2, 3]);
/// assert!(ReshapeTransform::new(&[2, 3], &[5]).is_err());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshapeTransform {
    in_shape: Vec<usize>,
    out_shape: Vec<usize>,
}

impl ReshapeTransform {
    /// Reshapes events of shape `in_shape` into `out_shape`; [`Error::InvalidArgument`]
    /// when their element counts differ (or overflow).
    pub fn new(in_shape: &[usize], out_shape: &[usize]) -> Result<Self> {
        let count = |s: &[usize]| s.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        match (count(in_shape), count(out_shape)) {
            (Some(a), Some(b)) if a == b => Ok(ReshapeTransform {
                in_shape: in_shape.to_vec(),
                out_shape: out_shape.to_vec(),
            }),
            (a, b) => Err(Error::InvalidArgument(format!(
                "ReshapeTransform: in_shape {in_shape:?} and out_shape {out_shape:?} must hold the same number of elements, found {} and {}",
                a.map_or("an overflowing count".to_string(), |v| v.to_string()),
                b.map_or("an overflowing count".to_string(), |v| v.to_string()),
            ))),
        }
    }

    /// The event shape of the input.
    pub fn in_shape(&self) -> &[usize] {
        &self.in_shape
    }

    /// The event shape of the output.
    pub fn out_shape(&self) -> &[usize] {
        &self.out_shape
    }

    /// `shape` with its rightmost `from` replaced by `to`; [`Error::Shape`] when it does
    /// not end in `from`.
    fn swap_tail(&self, shape: &[usize], from: &[usize], to: &[usize]) -> Result<Vec<usize>> {
        if shape.len() < from.len() || shape[shape.len() - from.len()..] != *from {
            return Err(Error::shape(
                self.name(),
                format!("expected a shape ending in {from:?}, got {shape:?}"),
            ));
        }
        let mut s = shape[..shape.len() - from.len()].to_vec();
        s.extend_from_slice(to);
        Ok(s)
    }
}

impl Transform for ReshapeTransform {
    fn name(&self) -> &'static str {
        "ReshapeTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = self.forward_shape(x.dims())?;
        Ok(x.reshape(s)?)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let s = self.inverse_shape(y.dims())?;
        Ok(y.reshape(s)?)
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        check_event_rank(self.name(), x, self.in_shape.len())?;
        let batch = &x.dims()[..x.rank() - self.in_shape.len()];
        Ok(Tensor::zeros(batch, x.dtype(), x.device())?)
    }

    fn domain(&self) -> Constraint {
        real_with_event_dim(self.in_shape.len())
    }

    fn codomain(&self) -> Constraint {
        real_with_event_dim(self.out_shape.len())
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.swap_tail(shape, &self.in_shape, &self.out_shape)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.swap_tail(shape, &self.out_shape, &self.in_shape)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(self.clone())
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<ReshapeTransform>()
            .is_some_and(|o| o == self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The reals with `n` event dimensions.
fn real_with_event_dim(n: usize) -> Constraint {
    if n == 0 {
        Constraint::Real
    } else {
        Constraint::Independent {
            base: Box::new(Constraint::Real),
            reinterpreted_batch_ndims: n,
        }
    }
}
