//! The Laplace (double exponential) distribution.

use super::location_scale::{loc_scale_constructors, LocScaleKind, LocationScale, StandardForm};
use crate::error::Result;
use candle_core::Tensor;
use std::f64::consts::LN_2;

/// The standard Laplace distribution, density e^{−|z|}/2.
#[derive(Debug, Clone, Copy)]
pub struct StandardLaplace;

impl StandardForm for StandardLaplace {
    type Kind = LocScaleKind;
    const NAME: &'static str = "Laplace";
    const ENTROPY: f64 = 1.0 + LN_2;
    const MEAN: f64 = 0.0;
    const MODE: f64 = 0.0;
    const VARIANCE: f64 = 2.0;

    // |z| as z·sign(z): the same value, but the gradient is sign(z) with sign(0) = 0
    // (torch's convention for `abs`), where candle's `abs` gives +1 at 0. The density's
    // kink at z = 0 then has the symmetric subgradient 0 for `loc` and the value.
    fn log_density(z: &Tensor) -> Result<Tensor> {
        Ok((z * z.sign()?)?.affine(-1.0, -LN_2)?)
    }

    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        // −sign(z), 0 at z = 0 like torch's |x| gradient.
        Ok(z.sign()?.neg()?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        -z.abs() - LN_2
    }

    fn cdf_scalar(z: f64) -> f64 {
        if z < 0.0 {
            0.5 * z.exp()
        } else {
            1.0 - 0.5 * (-z).exp()
        }
    }

    // ln(2q) below the median and −ln(2(1 − q)) above it: q − 1/2 would lose the
    // digits of small tail probabilities.
    fn icdf_scalar(q: f64) -> f64 {
        if q < 0.5 {
            (2.0 * q).ln()
        } else {
            -(2.0 * (1.0 - q)).ln()
        }
    }
}

/// The Laplace distribution.
///
/// Density `p(x) = exp(−|x − loc| / scale) / (2 scale)` on the real line; `loc` real,
/// `scale > 0`. Mean `loc`, variance `2 scale²`.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, Laplace};
/// let d = Laplace::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)?;
/// let lp = d.log_prob(&Tensor::new(0.0f64, &Device::Cpu)?)?;
/// assert!((lp.to_scalar::<f64>()? + std::f64::consts::LN_2).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type Laplace = LocationScale<StandardLaplace>;

loc_scale_constructors!(Laplace);
