//! The Cauchy distribution.

use super::location_scale::{loc_scale_constructors, LocScaleKind, LocationScale, StandardForm};
use crate::error::Result;
use crate::special::{self, scalar};
use candle_core::Tensor;

/// The standard Cauchy distribution, density 1/(π(1 + z²)).
#[derive(Debug, Clone, Copy)]
pub struct StandardCauchy;

const LN_PI: f64 = 1.144_729_885_849_400_2;

/// ln(1 + z²), as 2 ln|z| beyond |z| = 1e8 (where 1/z² is below half an ulp of 1):
/// z² overflows for |z| > 1.3e154, which made the log density −∞ where it is about
/// −2 ln|z|.
pub(crate) fn ln_1p_sq(z: f64) -> f64 {
    let a = z.abs();
    if a > 1e8 {
        2.0 * a.ln()
    } else {
        (z * z).ln_1p()
    }
}

impl StandardForm for StandardCauchy {
    type Kind = LocScaleKind;
    const NAME: &'static str = "Cauchy";
    // ln(4π)
    const ENTROPY: f64 = 2.531_024_246_969_290_7;
    const MEAN: f64 = f64::NAN;
    const MODE: f64 = 0.0;
    const VARIANCE: f64 = f64::INFINITY;

    fn log_density(z: &Tensor) -> Result<Tensor> {
        Ok(special::log1p(&z.sqr()?)?.affine(-1.0, -LN_PI)?)
    }

    // −2z/(1 + z²) as −2/(z + 1/z): z² overflows for |z| > 1.3e154, and ∞/∞ is NaN
    // (z = 0 gives −2/∞ = 0).
    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        Ok(((z + z.recip()?)?.recip()? * -2.0)?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        -ln_1p_sq(z) - LN_PI
    }

    fn log_density_beyond(dx: f64, ln_scale: f64) -> f64 {
        -LN_PI - 2.0 * dx.abs().ln() + ln_scale
    }

    fn cdf_scalar(z: f64) -> f64 {
        scalar::cauchy_cdf(z)
    }

    fn icdf_scalar(q: f64) -> f64 {
        scalar::cauchy_icdf(q)
    }
}

/// The Cauchy distribution.
///
/// Density `p(x) = 1 / (π scale (1 + ((x − loc)/scale)²))` on the real line; `loc`
/// real, `scale > 0`. The mean is undefined (NaN) and the variance infinite, as in torch.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Cauchy, Distribution};
/// let d = Cauchy::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)?;
/// let c = d.cdf(&Tensor::new(1.0f64, &Device::Cpu)?)?;
/// assert!((c.to_scalar::<f64>()? - 0.75).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type Cauchy = LocationScale<StandardCauchy>;

loc_scale_constructors!(Cauchy);

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn entropy_constant_is_ln_4pi() {
        assert!((<StandardCauchy as StandardForm>::ENTROPY - (4.0 * PI).ln()).abs() < 1e-15);
        assert!((LN_PI - PI.ln()).abs() < 1e-15);
    }
}
