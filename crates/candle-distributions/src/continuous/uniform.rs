//! The continuous uniform distribution.

use super::location_scale::{log_indicator, CustomKind, LocationScale, StandardForm};
use crate::constraints::{host_f64, Constraint};
use crate::distribution::Param;
use crate::error::{Error, Result};
use crate::rng::Draw;
use crate::special::kernel::{apply2, apply3, Map2, Map3};
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

    // One f64 kernel over (q, low, high), see [`uniform_quantile`]; `width` (high − low
    // in the dtype) is not used: it overflows for low = −3.4e38, high = 3.4e38 in f32
    // (and ±f64::MAX in f64), where q·width was 0·∞ = NaN at q = 0.
    fn quantile_from_standard(
        q: &Tensor,
        _low: &Tensor,
        _width: &Tensor,
        p: &[Tensor],
    ) -> Result<Tensor> {
        apply3(
            q,
            &p[0],
            &p[1],
            Map3 {
                name: "uniform_quantile",
                f: uniform_quantile,
                f32: uniform_quantile,
                bwd: Some(uniform_quantile_bwd),
            },
        )
    }

    // (x − low)/(high − low) by one f64 kernel over (x, low, high) (see
    // [`uniform_fraction`]): the width in the dtype overflows for ±MAX bounds, where
    // (x − low)/∞ was 0 and ∞/∞ NaN.
    fn standardize_value(
        x: &Tensor,
        _loc: &Tensor,
        _scale: &Tensor,
        p: &[Tensor],
    ) -> Result<Tensor> {
        let dims = x.dims();
        let at = |t: &Tensor| crate::distribution::broadcast_to(t, dims);
        apply3(
            x,
            &at(&p[0])?,
            &at(&p[1])?,
            Map3 {
                name: "uniform_fraction",
                f: uniform_fraction,
                f32: uniform_fraction,
                bwd: Some(uniform_fraction_bwd),
            },
        )
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

/// (x − low)/(high − low), with the differences taken in halves where the full ones
/// overflow (x − low and high − low for low = −MAX); unclamped, as the standardized
/// value of the location-scale form.
fn uniform_fraction(x: f64, low: f64, high: f64) -> f64 {
    let (d, w) = (x - low, high - low);
    if d.is_finite() && w.is_finite() {
        d / w
    } else {
        (0.5 * x - 0.5 * low) / (0.5 * high - 0.5 * low)
    }
}

/// Gradients of z = (x − low)/w: ∂z/∂x = 1/w, ∂z/∂low = −(1 − z)/w,
/// ∂z/∂high = −z/w, with 1/w taken from the half width (finite for ±MAX bounds).
fn uniform_fraction_bwd(
    x: &Tensor,
    low: &Tensor,
    high: &Tensor,
    z: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let _ = x;
    let half_w = ((high * 0.5)? - (low * 0.5)?)?;
    let inv_w = (half_w.recip()? * 0.5)?;
    let gx = (g * &inv_w)?;
    let glow = ((z - 1.0)? * &gx)?;
    let ghigh = (z * &gx)?.neg()?;
    Ok((Some(gx), Some(glow), Some(ghigh)))
}

/// low + (high − low)·q, interpolated from the nearer end: low + w·q for q ≤ 1/2 and
/// high − w·(1 − q) above, so that icdf(0) = low and icdf(1) = high exactly
/// (low + w·1 cancels: Uniform(−3.4e38, −100) gave 0), then clamped into [low, high]
/// against the last rounding. Where w = high − low overflows, the same from the half
/// width high/2 − low/2 (finite) and 2q or 2(1 − q) (exact); elsewhere the full width,
/// since halving a subnormal width is inexact.
fn uniform_quantile(q: f64, low: f64, high: f64) -> f64 {
    let w = high - low;
    let x = if w.is_finite() {
        if q > 0.5 {
            high - w * (1.0 - q)
        } else {
            low + w * q
        }
    } else {
        let half = 0.5 * high - 0.5 * low;
        if q > 0.5 {
            high - half * (2.0 * (1.0 - q))
        } else {
            low + half * (2.0 * q)
        }
    };
    // max/min rather than clamp, which panics for low > high or NaN (unchecked
    // parameters).
    x.max(low).min(high)
}

/// Gradients of low + (high − low)·q: high − low (computed in f64 and rounded, so ∞
/// where the width overflows the dtype, with 0 for a zero upstream gradient), 1 − q
/// and q.
fn uniform_quantile_bwd(
    q: &Tensor,
    low: &Tensor,
    high: &Tensor,
    _x: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let w = apply2(
        low,
        high,
        Map2 {
            name: "uniform_width",
            f: |l: f64, h: f64| h - l,
            f32: |l: f64, h: f64| h - l,
            bwd: None,
        },
    )
    .map_err(candle_core::Error::wrap)?;
    let gq = g.eq(0.0)?.where_cond(&g.zeros_like()?, &(g * w)?)?;
    let g_low = (g * q.affine(-1.0, 1.0)?)?;
    let g_high = (g * q)?;
    Ok((Some(gq), Some(g_low), Some(g_high)))
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
