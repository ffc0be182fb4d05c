//! A transform with batch dimensions reinterpreted as event dimensions.

use super::{check_event_rank, sum_rightmost_for, Transform};
use crate::constraints::Constraint;
use crate::error::Result;
use candle_core::Tensor;
use std::any::Any;

/// `base` acting on events with `reinterpreted_batch_ndims` more rightmost dimensions
/// (torch's `IndependentTransform`): the map is `base`'s, and the log-det is `base`'s
/// summed over those extra dimensions,
///
/// `log|det J|(x) = Σ_{rightmost n dims} log|det J_base|(x)`.
///
/// - domain / codomain: `base`'s, as `Independent(·, n)` (event dimension `+n`).
/// - `bijective`, `sign`, `forward_shape`, `inverse_shape`: `base`'s.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{ExpTransform, IndependentTransform, Transform};
/// let t = IndependentTransform::new(Box::new(ExpTransform), 1);
/// let x = Tensor::new(&[[0.0f64, 1.0], [2.0, 3.0]], &Device::Cpu)?;
/// let ladj = t.log_abs_det_jacobian(&x, &t.forward(&x)?)?;
/// assert_eq!(ladj.to_vec1::<f64>()?, vec![1.0, 5.0]); // Σ_row x
/// assert_eq!(t.domain().event_dim(), 1);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct IndependentTransform {
    base: Box<dyn Transform>,
    reinterpreted: usize,
}

impl IndependentTransform {
    /// `base` with `reinterpreted_batch_ndims` more event dimensions.
    pub fn new(base: Box<dyn Transform>, reinterpreted_batch_ndims: usize) -> Self {
        IndependentTransform {
            base,
            reinterpreted: reinterpreted_batch_ndims,
        }
    }

    /// The wrapped transform.
    pub fn base(&self) -> &dyn Transform {
        self.base.as_ref()
    }

    /// How many batch dimensions are counted as event dimensions.
    pub fn reinterpreted_batch_ndims(&self) -> usize {
        self.reinterpreted
    }

    fn wrap(&self, c: Constraint) -> Constraint {
        if self.reinterpreted == 0 {
            return c;
        }
        Constraint::Independent {
            base: Box::new(c),
            reinterpreted_batch_ndims: self.reinterpreted,
        }
    }
}

impl Transform for IndependentTransform {
    fn name(&self) -> &'static str {
        "IndependentTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_event_rank(self.name(), x, self.domain().event_dim())?;
        self.base.forward(x)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        check_event_rank(self.name(), y, self.codomain().event_dim())?;
        self.base.inverse(y)
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        check_event_rank(self.name(), x, self.domain().event_dim())?;
        sum_rightmost_for(
            self.name(),
            &self.base.log_abs_det_jacobian(x, y)?,
            self.reinterpreted,
        )
    }

    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        check_event_rank(self.name(), x, self.domain().event_dim())?;
        let (y, ladj) = self.base.forward_and_log_det(x)?;
        Ok((
            y,
            sum_rightmost_for(self.name(), &ladj, self.reinterpreted)?,
        ))
    }

    fn domain(&self) -> Constraint {
        self.wrap(self.base.domain())
    }

    fn codomain(&self) -> Constraint {
        self.wrap(self.base.codomain())
    }

    fn bijective(&self) -> bool {
        self.base.bijective()
    }

    fn sign(&self) -> Option<i8> {
        self.base.sign()
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.base.forward_shape(shape)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.base.inverse_shape(shape)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(IndependentTransform::new(
            self.base.clone_box(),
            self.reinterpreted,
        ))
    }

    fn inv(&self) -> Box<dyn Transform> {
        Box::new(IndependentTransform::new(
            self.base.inv(),
            self.reinterpreted,
        ))
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<IndependentTransform>()
            .is_some_and(|o| {
                o.reinterpreted == self.reinterpreted && self.base.equals(o.base.as_ref())
            })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
