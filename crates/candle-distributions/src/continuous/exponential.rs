//! The exponential distribution.

use super::location_scale::{log_indicator, CustomKind, LocationScale, StandardForm};
use crate::constraints::Constraint;
use crate::distribution::Param;
use crate::error::Result;
use candle_core::{DType, Device, Tensor};

/// The standard exponential distribution, density e^{−z} on z ≥ 0.
#[derive(Debug, Clone, Copy)]
pub struct StandardExponential;

impl StandardForm for StandardExponential {
    type Kind = CustomKind;
    const NAME: &'static str = "Exponential";
    const ENTROPY: f64 = 1.0;
    const MEAN: f64 = 1.0;
    const MODE: f64 = 0.0;
    const VARIANCE: f64 = 1.0;

    fn params() -> Vec<(&'static str, Constraint)> {
        vec![("rate", Constraint::Positive)]
    }

    fn loc_scale(p: &[Tensor]) -> Result<(Tensor, Tensor)> {
        Ok((p[0].zeros_like()?, p[0].recip()?))
    }

    fn support(_: &[Tensor]) -> Constraint {
        Constraint::NonNegative
    }

    // Every method works from the rate: 1/rate is ∞ for a subnormal rate, where
    // `0·∞` would make icdf(0), the entropy and the gradients NaN.
    fn rate(p: &[Tensor]) -> Option<Tensor> {
        Some(p[0].clone())
    }

    fn log_density(z: &Tensor) -> Result<Tensor> {
        Ok((z.neg()? + log_indicator(z, Some(0.0), None)?)?)
    }

    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        Ok((z.ones_like()? * -1.0)?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        if z >= 0.0 {
            -z
        } else {
            f64::NEG_INFINITY
        }
    }

    fn cdf_scalar(z: f64) -> f64 {
        if z > 0.0 {
            -(-z).exp_m1()
        } else {
            0.0
        }
    }

    fn icdf_scalar(q: f64) -> f64 {
        -(-q).ln_1p()
    }
}

/// The exponential distribution with rate λ.
///
/// Density `p(x) = λ e^{−λx}` on x ≥ 0; `rate > 0`. Mean `1/λ`, variance `1/λ²`. A
/// scale family with scale `1/λ`, so `rsample` is `ε/λ` with ε ~ Exp(1). Computed from λ
/// directly (`log_prob = ln λ − λx`, `icdf(q) = −ln(1 − q)/λ`, entropy `1 − ln λ`), so a
/// subnormal rate, whose scale 1/λ is ∞, gives the limits: `scale()`, mean and stddev
/// +∞, finite entropy and log densities, and draws that overflow to +∞ only where
/// ε/λ does.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Exponential};
/// let d = Exponential::new(&Tensor::new(&[2.0f64], &Device::Cpu)?)?;
/// let lp = d.log_prob(&Tensor::new(&[1.0f64], &Device::Cpu)?)?;
/// assert!((lp.to_vec1::<f64>()?[0] - (2f64.ln() - 2.0)).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type Exponential = LocationScale<StandardExponential>;

#[doc = super::location_scale::alias_methods_doc!()]
impl Exponential {
    /// Exponential(rate), `rate` a tensor or a number (dtype rules:
    /// [`distribution`](crate::distribution)).
    pub fn new(rate: impl Into<Param>) -> Result<Self> {
        Self::from_param_values([rate.into()], None)
    }

    /// As [`Exponential::new`], with argument validation set for this instance.
    pub fn new_with_validation(rate: impl Into<Param>, validate: bool) -> Result<Self> {
        Self::from_param_values([rate.into()], Some(validate))
    }

    /// A scalar Exponential(rate) of `dtype` (f32 or f64) on `device`.
    pub fn from_scalars(rate: f64, dtype: DType, device: &Device) -> Result<Self> {
        Self::from_scalar_values([rate], dtype, device)
    }

    /// The rate λ, broadcast to `batch_shape`.
    pub fn rate(&self) -> &Tensor {
        self.param("rate").expect("Exponential has a rate")
    }
}
