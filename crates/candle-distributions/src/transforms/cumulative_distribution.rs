//! The probability integral transform of a univariate distribution.

use super::Transform;
use crate::constraints::Constraint;
use crate::distribution::Distribution;
use crate::error::Result;
use candle_core::Tensor;
use std::any::Any;
use std::sync::Arc;

/// `y = F(x)`, the CDF of a univariate distribution, from its support onto `[0, 1]`
/// (torch's `CumulativeDistributionTransform`), increasing.
///
/// - inverse: the quantile function `x = F⁻¹(y)` (`icdf`);
/// - `log|dy/dx| = ln p(x)`, the distribution's `log_prob`.
///
/// Each method is the distribution's own, with its validation and errors (a value
/// outside the support is that distribution's `OutOfSupport` when it validates); a
/// family without `cdf`/`icdf` returns its `NotImplemented`. The distribution is shared
/// by clones of the transform, and `equals` is true for transforms over the same
/// distribution object (torch compares transforms by identity here).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{CumulativeDistributionTransform, Transform};
/// use candle_distributions::Normal;
/// let t = CumulativeDistributionTransform::new(Box::new(Normal::new(0.0f64, 1.0)?));
/// let x = Tensor::new(&[0.0f32, 1.5], &Device::Cpu)?;
/// let (y, ladj) = t.forward_and_log_det(&x)?;
/// assert!((y.to_vec1::<f32>()?[0] - 0.5).abs() < 1e-7);
/// let log_phi0 = -0.5 * (2.0 * std::f64::consts::PI).ln();
/// assert!((ladj.to_vec1::<f32>()?[0] as f64 - log_phi0).abs() < 1e-6);
/// assert!((t.inverse(&y)?.to_vec1::<f32>()?[1] - 1.5).abs() < 1e-5);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CumulativeDistributionTransform {
    dist: Arc<dyn Distribution>,
}

impl CumulativeDistributionTransform {
    /// The CDF of `dist` as a transform.
    pub fn new(dist: Box<dyn Distribution>) -> Self {
        CumulativeDistributionTransform {
            dist: Arc::from(dist),
        }
    }

    /// The distribution whose CDF this is.
    pub fn distribution(&self) -> &dyn Distribution {
        self.dist.as_ref()
    }
}

impl Transform for CumulativeDistributionTransform {
    fn name(&self) -> &'static str {
        "CumulativeDistributionTransform"
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.dist.cdf(x)
    }
    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        self.dist.icdf(y)
    }
    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        self.dist.log_prob(x)
    }
    fn domain(&self) -> Constraint {
        self.dist.support()
    }
    fn codomain(&self) -> Constraint {
        Constraint::UnitInterval
    }
    fn sign(&self) -> Option<i8> {
        Some(1)
    }
    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(self.clone())
    }
    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<CumulativeDistributionTransform>()
            .is_some_and(|o| Arc::ptr_eq(&self.dist, &o.dist))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
