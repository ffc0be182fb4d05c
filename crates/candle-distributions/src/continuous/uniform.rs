//! The continuous uniform distribution.

use super::location_scale::{log_indicator, CustomKind, LocationScale, StandardForm};
use crate::constraints::{host_f64, Constraint};
use crate::distribution::Param;
use crate::error::{Error, Result};
use crate::rng::Draw;
use candle_core::{DType, Device, Tensor};

/// The standard uniform distribution on [0, 1).
#[derive(Debug, Clone, Copy)]
pub struct StandardUniform;

impl StandardForm for StandardUniform {
    type Kind = CustomKind;
    const NAME: &'static str = "Uniform";
    const ENTROPY: f64 = 0.0;
    const MEAN: f64 = 0.5;
    const MODE: f64 = f64::NAN;
    const VARIANCE: f64 = 1.0 / 12.0;

    fn params() -> Vec<(&'static str, Constraint)> {
        vec![("low", Constraint::Real), ("high", Constraint::Real)]
    }

    // `!(h > l)` also rejects NaN bounds.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn check_params(p: &[Tensor]) -> Result<()> {
        let (lo, hi) = (host_f64(&p[0])?, host_f64(&p[1])?);
        if let Some(i) = lo.iter().zip(&hi).position(|(l, h)| !(h > l)) {
            return Err(Error::InvalidParameter {
                distribution: "Uniform",
                parameter: "high",
                constraint: format!("greater than low (high > low = {})", lo[i]),
                found: hi[i],
                index: i,
            });
        }
        Ok(())
    }

    // low + (high − low)·u can round up to `high` (e.g. f32 Uniform(1000, 1000.01)),
    // where the density is 0; clamp to the largest float below `high`. For h ≠ 0,
    // h·(1 ∓ ε/2) lies between half and one spacing below h, so it rounds to exactly the
    // next float down (below a power of two the spacing halves and it is exact).
    fn clamp_draw(x: Tensor, p: &[Tensor]) -> Result<Tensor> {
        let high = &p[1];
        let half_eps = if high.dtype() == DType::F64 {
            f64::EPSILON / 2.0
        } else {
            f32::EPSILON as f64 / 2.0
        };
        let positive = high.gt(0.0)?;
        let below =
            positive.where_cond(&(high * (1.0 - half_eps))?, &(high * (1.0 + half_eps))?)?;
        Ok(x.broadcast_minimum(&below)?)
    }

    // Interpolate from the nearer end: low + (high − low)·q for q ≤ 1/2 and
    // high − (high − low)·(1 − q) above, so icdf(0) = low and icdf(1) = high exactly
    // (low + (high − low)·1 cancels: Uniform(−3.4e38, −100) gave 0), then clamp into
    // [low, high] against the last rounding.
    fn quantile_from_standard(
        q: &Tensor,
        low: &Tensor,
        width: &Tensor,
        p: &[Tensor],
    ) -> Result<Tensor> {
        let high = &p[1];
        let from_low = q.broadcast_mul(width)?.broadcast_add(low)?;
        let from_high = high.broadcast_sub(&q.affine(-1.0, 1.0)?.broadcast_mul(width)?)?;
        let x = q.gt(0.5)?.where_cond(&from_high, &from_low)?;
        Ok(x.broadcast_maximum(low)?.broadcast_minimum(high)?)
    }

    fn loc_scale(p: &[Tensor]) -> Result<(Tensor, Tensor)> {
        Ok((p[0].clone(), (&p[1] - &p[0])?))
    }

    fn support(p: &[Tensor]) -> Constraint {
        Constraint::DependentInterval {
            low: p[0].clone(),
            high: p[1].clone(),
        }
    }

    // As torch: density 1/(high − low) on [low, high), zero elsewhere.
    fn log_density(z: &Tensor) -> Result<Tensor> {
        log_indicator(z, Some(0.0), Some(1.0))
    }

    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        Ok(z.zeros_like()?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        if (0.0..1.0).contains(&z) {
            0.0
        } else {
            f64::NEG_INFINITY
        }
    }

    fn cdf_scalar(z: f64) -> f64 {
        z.clamp(0.0, 1.0)
    }

    fn icdf_scalar(q: f64) -> f64 {
        q
    }

    fn sample_standard_f64(draw: Draw, out: &mut [f64]) {
        draw.fill_uniform_f64(out)
    }

    fn sample_standard_f32(draw: Draw, out: &mut [f32]) {
        draw.fill_uniform_f32(out)
    }
}

/// The continuous uniform distribution on [low, high).
///
/// Density `1/(high − low)` on `[low, high)`; `low < high`. Mean `(low + high)/2`,
/// variance `(high − low)²/12`; the mode is not unique (NaN, as torch). `rsample` is
/// `low + (high − low) u` with u ~ U(0, 1), so gradients reach both bounds.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, Uniform};
/// let d = Uniform::from_scalars(-1.0, 3.0, DType::F64, &Device::Cpu)?;
/// assert_eq!(d.mean()?.to_scalar::<f64>()?, 1.0);
/// assert!(d.log_prob(&Tensor::new(5.0f64, &Device::Cpu)?).is_err()); // out of support
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type Uniform = LocationScale<StandardUniform>;

#[doc = super::location_scale::alias_methods_doc!()]
impl Uniform {
    /// Uniform(low, high), tensors or numbers (dtype rules:
    /// [`distribution`](crate::distribution)).
    pub fn new(low: impl Into<Param>, high: impl Into<Param>) -> Result<Self> {
        Self::from_param_values([low.into(), high.into()], None)
    }

    /// As [`Uniform::new`], with argument validation set for this instance.
    pub fn new_with_validation(
        low: impl Into<Param>,
        high: impl Into<Param>,
        validate: bool,
    ) -> Result<Self> {
        Self::from_param_values([low.into(), high.into()], Some(validate))
    }

    /// A scalar Uniform(low, high) of `dtype` (f32 or f64) on `device`.
    pub fn from_scalars(low: f64, high: f64, dtype: DType, device: &Device) -> Result<Self> {
        Self::from_scalar_values([low, high], dtype, device)
    }

    /// The lower bound.
    pub fn low(&self) -> &Tensor {
        self.param("low").expect("Uniform has low")
    }

    /// The upper bound.
    pub fn high(&self) -> &Tensor {
        self.param("high").expect("Uniform has high")
    }
}
