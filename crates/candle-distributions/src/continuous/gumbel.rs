//! The Gumbel (type-I extreme value) distribution.

use super::location_scale::{loc_scale_constructors, LocScaleKind, LocationScale, StandardForm};
use crate::error::Result;
use crate::special::scalar::EULER_GAMMA;
use candle_core::Tensor;

/// The standard Gumbel distribution, density exp(−z − e^{−z}).
#[derive(Debug, Clone, Copy)]
pub struct StandardGumbel;

impl StandardForm for StandardGumbel {
    type Kind = LocScaleKind;
    const NAME: &'static str = "Gumbel";
    const ENTROPY: f64 = 1.0 + EULER_GAMMA;
    const MEAN: f64 = EULER_GAMMA;
    const MODE: f64 = 0.0;
    // π²/6
    const VARIANCE: f64 = 1.644_934_066_848_226_4;

    // −z − e^{−z} is ∞ − ∞ at z = −∞; below z = −1e30 (f32-representable) the value is
    // −∞ anyway (e^{1e30} = ∞), so z is floored there first.
    fn log_density(z: &Tensor) -> Result<Tensor> {
        let z = z.maximum(-1e30)?;
        Ok((z.neg()? - z.neg()?.exp()?)?)
    }

    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        Ok((z.neg()?.exp()? - 1.0)?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        // At z = −∞ the limit −∞, not ∞ − ∞.
        if z == f64::NEG_INFINITY {
            return z;
        }
        -z - (-z).exp()
    }

    fn cdf_scalar(z: f64) -> f64 {
        (-(-z).exp()).exp()
    }

    fn icdf_scalar(q: f64) -> f64 {
        -(-q.ln()).ln()
    }
}

/// The Gumbel distribution.
///
/// Density `p(x) = exp(−z − e^{−z}) / scale` with `z = (x − loc)/scale`, on the real
/// line; `loc` real, `scale > 0`. Mean `loc + γ scale`, variance `π² scale² / 6`.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, Gumbel};
/// let d = Gumbel::from_scalars(1.0, 2.0, DType::F64, &Device::Cpu)?;
/// let m = d.mean()?.to_scalar::<f64>()?;
/// assert!((m - (1.0 + 2.0 * 0.5772156649015329)).abs() < 1e-12);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type Gumbel = LocationScale<StandardGumbel>;

loc_scale_constructors!(Gumbel);
