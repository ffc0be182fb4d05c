//! The half-Cauchy distribution.

use super::location_scale::{
    log_indicator, scale_constructors, LocationScale, ScaleKind, StandardForm,
};
use crate::error::Result;
use crate::special;
use candle_core::Tensor;
use std::f64::consts::{FRAC_2_PI, FRAC_PI_2};

/// |Z| for a standard Cauchy Z: density 2/(π(1 + z²)) on z ≥ 0.
#[derive(Debug, Clone, Copy)]
pub struct StandardHalfCauchy;

// ln(π/2)
const LN_PI_2: f64 = 0.451_582_705_289_454_9;

impl StandardForm for StandardHalfCauchy {
    type Kind = ScaleKind;
    const NAME: &'static str = "HalfCauchy";
    // ln(2π)
    const ENTROPY: f64 = 1.837_877_066_409_345_5;
    const MEAN: f64 = f64::INFINITY;
    const MODE: f64 = 0.0;
    const VARIANCE: f64 = f64::INFINITY;

    fn log_density(z: &Tensor) -> Result<Tensor> {
        let base = special::log1p(&z.sqr()?)?.affine(-1.0, -LN_PI_2)?;
        Ok((base + log_indicator(z, Some(0.0), None)?)?)
    }

    // −2z/(1 + z²) as −2/(z + 1/z): z² overflows for |z| > 1.3e154, and ∞/∞ is NaN
    // (z = 0 gives −2/∞ = 0).
    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        Ok(((z + z.recip()?)?.recip()? * -2.0)?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        if z >= 0.0 {
            -super::cauchy::ln_1p_sq(z) - LN_PI_2
        } else {
            f64::NEG_INFINITY
        }
    }

    fn log_density_beyond(dx: f64, ln_scale: f64) -> f64 {
        if dx > 0.0 {
            -LN_PI_2 - 2.0 * dx.ln() + ln_scale
        } else {
            f64::NEG_INFINITY
        }
    }

    // (2/π) atan(z), as 1 − (2/π) atan(1/z) for z > 1 so the upper tail keeps its
    // relative accuracy in 1 − F.
    fn cdf_scalar(z: f64) -> f64 {
        if z <= 0.0 {
            0.0
        } else if z > 1.0 {
            1.0 - FRAC_2_PI * (1.0 / z).atan()
        } else {
            FRAC_2_PI * z.atan()
        }
    }

    // tan(πq/2), as 1/tan(π(1 − q)/2) near q = 1.
    fn icdf_scalar(q: f64) -> f64 {
        if q > 0.5 {
            1.0 / (FRAC_PI_2 * (1.0 - q)).tan()
        } else {
            (FRAC_PI_2 * q).tan()
        }
    }
}

/// The half-Cauchy distribution: |X| for X ~ Cauchy(0, scale).
///
/// Density `p(x) = 2 / (π scale (1 + (x/scale)²))` on x ≥ 0; `scale > 0`. Mean and
/// variance are infinite.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, HalfCauchy};
/// let d = HalfCauchy::from_scalars(2.0, DType::F64, &Device::Cpu)?;
/// let med = d.icdf(&Tensor::new(0.5f64, &Device::Cpu)?)?.to_scalar::<f64>()?;
/// assert!((med - 2.0).abs() < 1e-14);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type HalfCauchy = LocationScale<StandardHalfCauchy>;

scale_constructors!(HalfCauchy);
