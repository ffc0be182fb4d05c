//! The normal (Gaussian) distribution.

use super::location_scale::{loc_scale_constructors, LocScaleKind, LocationScale, StandardForm};
use crate::distribution::Distribution;
use crate::error::Result;
use crate::rng::Draw;
use crate::special::scalar::{ndtr, ndtri, normal_log_pdf, HALF_LN_2PI};
use crate::transforms::{Transform, TransformedDistribution};
use candle_core::Tensor;

/// The standard normal N(0, 1), the base of [`Normal`].
#[derive(Debug, Clone, Copy)]
pub struct StandardNormal;

impl StandardForm for StandardNormal {
    type Kind = LocScaleKind;
    const NAME: &'static str = "Normal";
    const ENTROPY: f64 = 0.5 + HALF_LN_2PI;
    const MEAN: f64 = 0.0;
    const MODE: f64 = 0.0;
    const VARIANCE: f64 = 1.0;

    fn log_density(z: &Tensor) -> Result<Tensor> {
        Ok(z.sqr()?.affine(-0.5, -HALF_LN_2PI)?)
    }

    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        Ok(z.neg()?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        normal_log_pdf(z)
    }

    fn cdf_scalar(z: f64) -> f64 {
        ndtr(z)
    }

    fn icdf_scalar(q: f64) -> f64 {
        ndtri(q)
    }

    fn sample_standard_f64(draw: Draw, out: &mut [f64]) {
        draw.fill_normal_f64(out)
    }

    fn sample_standard_f32(draw: Draw, out: &mut [f32]) {
        draw.fill_normal_f32(out)
    }
}

/// The normal distribution N(loc, scale²).
///
/// Density `p(x) = exp(−(x − loc)² / (2 scale²)) / (scale √(2π))` on the real line;
/// `loc` real, `scale > 0`. `rsample` is `loc + scale · ε` with ε ~ N(0, 1) (ziggurat
/// on the Philox stream), so dx/dloc = 1 and dx/dscale = ε.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Distribution, Generator, Normal};
/// let loc = Var::new(&[0.0f64, 1.0], &Device::Cpu)?;
/// let scale = Var::new(&[1.0f64, 2.0], &Device::Cpu)?;
/// let d = Normal::new(loc.as_tensor(), scale.as_tensor())?;
/// let x = d.rsample(&[100], &mut Generator::new(0))?; // shape [100, 2]
/// let grads = x.mean_all()?.backward()?;
/// // mean over 200 draws, 100 per element of loc: d/dloc = 100/200
/// assert!((grads.get(&loc).unwrap().to_vec1::<f64>()?[0] - 0.5).abs() < 1e-12);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type Normal = LocationScale<StandardNormal>;

loc_scale_constructors!(Normal);

/// `normal` pushed through `transforms` as a [`TransformedDistribution`] reporting
/// errors as `name`, with the normal's validation switch: the body of the families
/// defined as transformed normals (TanhNormal, LogisticNormal).
pub(crate) fn normal_pushforward(
    name: &'static str,
    normal: &Normal,
    transforms: Vec<Box<dyn Transform>>,
) -> Result<TransformedDistribution> {
    let mut inner = TransformedDistribution::named(name, Box::new(normal.clone()), transforms)?;
    inner.set_validate_args(normal.validate_args());
    Ok(inner)
}

/// `normal.expand(batch_shape)` as a `Normal` (not boxed), errors named `name`.
pub(crate) fn expand_normal(
    name: &'static str,
    normal: &Normal,
    batch_shape: &[usize],
) -> Result<Normal> {
    let e = normal.expand(batch_shape).map_err(|e| e.renamed(name))?;
    e.as_any().downcast_ref::<Normal>().cloned().ok_or_else(|| {
        crate::Error::InvalidArgument(format!("{name}: expand did not give a Normal"))
    })
}
