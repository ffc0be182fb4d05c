//! The half-normal distribution.

use super::location_scale::{
    log_indicator, scale_constructors, LocationScale, ScaleKind, StandardForm,
};
use crate::error::Result;
use crate::rng::Draw;
use crate::special::kernel::par_apply;
use crate::special::scalar::{erf, erfinv, HALF_LN_2PI};
use candle_core::Tensor;
use std::f64::consts::{LN_2, SQRT_2};

/// |Z| for Z ~ N(0, 1): density 2φ(z) on z ≥ 0.
#[derive(Debug, Clone, Copy)]
pub struct StandardHalfNormal;

impl StandardForm for StandardHalfNormal {
    type Kind = ScaleKind;
    const NAME: &'static str = "HalfNormal";
    // ln(π/2)/2 + 1/2
    const ENTROPY: f64 = 0.725_791_352_644_727_4;
    // √(2/π)
    const MEAN: f64 = 0.797_884_560_802_865_4;
    const MODE: f64 = 0.0;
    // 1 − 2/π
    const VARIANCE: f64 = 0.363_380_227_632_418_6;

    fn log_density(z: &Tensor) -> Result<Tensor> {
        let base = z.sqr()?.affine(-0.5, LN_2 - HALF_LN_2PI)?;
        Ok((base + log_indicator(z, Some(0.0), None)?)?)
    }

    fn dlog_density(z: &Tensor) -> Result<Tensor> {
        Ok(z.neg()?)
    }

    fn log_density_scalar(z: f64) -> f64 {
        if z >= 0.0 {
            LN_2 - HALF_LN_2PI - 0.5 * z * z
        } else {
            f64::NEG_INFINITY
        }
    }

    fn cdf_scalar(z: f64) -> f64 {
        if z > 0.0 {
            erf(z / SQRT_2)
        } else {
            0.0
        }
    }

    fn icdf_scalar(q: f64) -> f64 {
        SQRT_2 * erfinv(q)
    }

    fn sample_standard_f64(draw: Draw, out: &mut [f64]) {
        draw.fill_normal_f64(out);
        par_apply(out, f64::abs);
    }

    fn sample_standard_f32(draw: Draw, out: &mut [f32]) {
        draw.fill_normal_f32(out);
        par_apply(out, f32::abs);
    }
}

/// The half-normal distribution: |X| for X ~ N(0, scale²).
///
/// Density `p(x) = √2 / (scale √π) · exp(−x² / (2 scale²))` on x ≥ 0; `scale > 0`.
/// Mean `scale √(2/π)`, variance `scale² (1 − 2/π)`.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, HalfNormal};
/// let d = HalfNormal::from_scalars(1.0, DType::F64, &Device::Cpu)?;
/// let c = d.cdf(&Tensor::new(1.0f64, &Device::Cpu)?)?.to_scalar::<f64>()?;
/// assert!((c - 0.6826894921370859).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub type HalfNormal = LocationScale<StandardHalfNormal>;

scale_constructors!(HalfNormal);
