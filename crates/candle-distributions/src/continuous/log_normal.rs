//! The log-normal distribution.

use super::normal::Normal;
use crate::constraints::Constraint;
use crate::distribution::{checked_argument, Distribution};
use crate::error::Result;
use crate::rng::Generator;
use crate::special::kernel::{
    apply2, apply3, apply3_reducing, sum_ratio_to, sum_to, unbroadcast, Map2, Map3,
};
use crate::special::scalar::{ln_for_f32, ln_minus, normal_log_pdf};
use candle_core::{DType, Device, Tensor};

/// The log-normal distribution: `exp(Y)` for `Y ~ N(loc, scale²)`.
///
/// Density `p(x) = exp(−(ln x − loc)² / (2 scale²)) / (x scale √(2π))` on x > 0;
/// `loc` real, `scale > 0`. Mean `exp(loc + scale²/2)`, mode `exp(loc − scale²)`,
/// variance `(exp(scale²) − 1) exp(2 loc + scale²)`. `rsample_and_log_prob` takes the
/// log density from the pre-exp normal draw, so no `ln(exp(y))` round trip happens.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, LogNormal};
/// let d = LogNormal::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)?;
/// let med = d.icdf(&Tensor::new(0.5f64, &Device::Cpu)?)?.to_scalar::<f64>()?;
/// assert!((med - 1.0).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LogNormal {
    base: Normal,
}

impl LogNormal {
    crate::distribution::params_constructors! {
        /// LogNormal(loc, scale): the parameters of the underlying normal, tensors or
        /// numbers (dtype rules: [`distribution`](crate::distribution)).
        "LogNormal", Self::build; loc, scale
    }

    // The inner normal reports errors (at construction and in every later method) as
    // LogNormal: users see the name of what they built.
    fn build(loc: &Tensor, scale: &Tensor, validate: Option<bool>) -> Result<Self> {
        Ok(LogNormal {
            base: Normal::named_from_param_values(NAME, [loc.into(), scale.into()], validate)?,
        })
    }

    /// The underlying normal distribution of ln X.
    pub fn base_dist(&self) -> &Normal {
        &self.base
    }

    /// `loc` of ln X.
    pub fn loc(&self) -> &Tensor {
        self.base.loc()
    }

    /// `scale` of ln X.
    pub fn scale(&self) -> &Tensor {
        self.base.scale()
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.base.set_validate_args(on);
    }

    /// `(z, x)`: the standard normal point z = (ln x − loc)/scale of the value x (after
    /// checks against the support), and x broadcast to the shape of z.
    ///
    /// z is one f64 kernel with ln x − loc in double-double ([`ln_minus`]), rounded
    /// once to the dtype: rounding ln x first would cost ε·|ln x|/scale in z (for
    /// loc = 40 and scale = 1e-3 in f32, an error of 2e-3 in z, and a relative error of
    /// 4e-8 in f64 where ln x − loc is small).
    fn standardize(&self, value: &Tensor) -> Result<(Tensor, Tensor)> {
        let v = self.checked_value(value)?;
        let z = standardize_kernel(&v, self.loc(), self.scale())?;
        Ok((z, v))
    }

    /// A `log_prob`/`cdf` argument through the shared path ([`checked_argument`]),
    /// under this distribution's name and support.
    fn checked_value(&self, value: &Tensor) -> Result<Tensor> {
        checked_argument(
            NAME,
            "value",
            value,
            self.batch_shape(),
            &[],
            self.dtype(),
            self.device(),
            self.base.validate_args().then_some(&Constraint::Positive),
        )
    }
}

/// Gradients of z = (ln x − loc)/scale: 1/(x·scale), −1/scale and −z/scale.
fn standardize_bwd(
    x: &Tensor,
    _loc: &Tensor,
    scale: &Tensor,
    z: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let g_scale = (g / scale)?;
    Ok((
        Some((&g_scale / x)?),
        Some(g_scale.neg()?),
        Some((g_scale * z)?.neg()?),
    ))
}

const NAME: &str = "LogNormal";

/// log p(x) = log φ(z) − ln s − ln x with z = (ln x − loc)/s; −∞ outside (0, ∞) (the
/// density tends to 0 at both ends), where ln x − loc would meet ln s in ∞ − ∞.
#[inline]
fn log_prob_scalar(x: f64, loc: f64, s: f64, ln: fn(f64) -> f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if !(x > 0.0 && x < f64::INFINITY) {
        return f64::NEG_INFINITY;
    }
    normal_log_pdf(ln_minus(x, loc) / s) - ln(s) - ln(x)
}

/// Gradients of [`log_prob_scalar`] as tensor ops (so that they differentiate again),
/// for the parameters at their own shapes ([`apply3_reducing`]): ∂/∂loc = Σ g·z/s and
/// ∂/∂s = Σ g·(z² − 1)/s, each summed over the broadcast dimensions before the one
/// division ([`sum_ratio_to`]). Per element, z²/s and −1/s (and z/s of either sign)
/// overflow for a subnormal s and their sums were ∞ − ∞ = NaN where the true sum is
/// finite or one infinity. ∂/∂x = −(z/s + 1)/x per element. f32 inputs are worked in
/// f64 (z² overflows f32 first). Outside (0, ∞) the log density is constantly −∞:
/// zero gradients, from z = 0 and g = 0 there (inside, a log density that underflowed
/// to −∞ keeps its gradients). Remaining limit: z = (ln x − loc)/s itself overflows
/// f64 where |ln x − loc| > f64::MAX·s, and values on both sides of e^loc then sum
/// ±∞ in the loc gradient.
fn log_prob_bwd(
    x: &Tensor,
    loc: &Tensor,
    scale: &Tensor,
    lp: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let dtype = x.dtype();
    let wide = |t: &Tensor| t.to_dtype(DType::F64);
    let (xw, locw, scalew, gw) = (wide(x)?, wide(loc)?, wide(scale)?, wide(g)?);
    let z = standardize_kernel(&xw, &locw, &scalew).map_err(candle_core::Error::wrap)?;
    let _ = lp;
    let off = xw.gt(0.0)?.minimum(&xw.lt(f64::INFINITY)?)?.eq(0u8)?;
    let off = off.broadcast_as(z.shape())?;
    let zero = z.zeros_like()?;
    let z = off.where_cond(&zero, &z)?;
    let g = off.where_cond(&zero, &gw.broadcast_as(z.shape())?)?;
    let g_loc = sum_ratio_to(&(&g * &z)?, &scalew, loc.dims())?;
    let g_scale = sum_ratio_to(&(&g * (z.sqr()? - 1.0)?)?, &scalew, scale.dims())?;
    let x_safe = off.where_cond(&zero.ones_like()?, &xw.broadcast_as(z.shape())?)?;
    let z_over_s = z.broadcast_div(&scalew)?;
    let g_x = sum_to(&((&g * (z_over_s + 1.0)?)? / x_safe)?.neg()?, x.dims())?;
    let out = |t: Tensor| t.to_dtype(dtype);
    Ok((Some(out(g_x)?), Some(out(g_loc)?), Some(out(g_scale)?)))
}

/// (ln x − loc)/scale as one differentiable kernel (see [`LogNormal::standardize`]).
fn standardize_kernel(x: &Tensor, loc: &Tensor, scale: &Tensor) -> Result<Tensor> {
    apply3(
        x,
        loc,
        scale,
        Map3 {
            name: "lognormal_standardize",
            f: |x: f64, loc: f64, scale: f64| ln_minus(x, loc) / scale,
            f32: |x: f64, loc: f64, scale: f64| ln_minus(x, loc) / scale,
            bwd: Some(standardize_bwd),
        },
    )
}

/// exp(loc + s·(s/2)): s/2 first, so that s² overflowing f64 (s > 1.3e154) does not
/// make the exponent +∞ where loc + s²/2 is still finite.
fn mean_scalar(loc: f64, s: f64) -> f64 {
    (loc + s * (0.5 * s)).exp()
}

/// Gradients of the mean: m and s·m (both ±∞ or 0 only where the true ones are).
fn mean_bwd(
    _loc: &Tensor,
    scale: &Tensor,
    m: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
    let gm = (g * m)?;
    Ok((Some(gm.clone()), Some((gm * scale)?)))
}

/// Below this s², ln expm1(s²) is taken from its series (s² may underflow).
const SMALL_T: f64 = 1e-3;

/// ln σ_X = loc + (t + ln expm1(t))/2 with t = s², in f64 with no overflow or
/// cancellation: for t < 1e-3, ln expm1(t) = ln t + t/2 + t²/24 − t⁴/2880 + … with
/// ln t = 2 ln s (error < 4e-16; t itself may underflow, s = 1e-200); for t > 1,
/// ln expm1(t) = t + log1p(−e^{−t}) (finite for t up to f64::MAX; expm1 overflows at
/// t > 709). loc + … cannot overflow to the wrong infinity: t = ∞ only where
/// t > f64::MAX ≥ |loc|.
pub(crate) fn ln_stddev(loc: f64, s: f64) -> f64 {
    let t = s * s;
    let spread = if t < SMALL_T {
        s.ln() + 0.75 * t + t * t / 48.0
    } else if t <= 1.0 {
        0.5 * (t + t.exp_m1().ln())
    } else {
        t + 0.5 * (-(-t).exp()).ln_1p()
    };
    loc + spread
}

/// ln ∂(ln σ_X)/∂s = ln(s + s/(1 − e^{−t})), with the small-t form
/// −ln s + log1p(3t/2 + t²/12) (the derivative of ln s + 3t/4 + t²/48 is
/// (1 + 3t/2 + t²/12)/s), finite for every s > 0.
fn ln_dln_stddev(s: f64) -> f64 {
    let t = s * s;
    if t < SMALL_T {
        -s.ln() + (1.5 * t + t * t / 12.0).ln_1p()
    } else {
        (s + s / (-(-t).exp_m1())).ln()
    }
}

/// Gradients of σ_X^k (k = 1, 2): k·σ_X^k in loc and exp(k ln σ_X + ln k + ln ∂ln σ_X/∂s)
/// in scale, the latter one kernel so that e^{k ln σ_X} underflowing to 0 meets no
/// overflowing ∂/∂s (0·∞).
fn power_bwd(
    k: f64,
    loc: &Tensor,
    scale: &Tensor,
    res: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
    let d_scale = if k == 1.0 {
        apply2(
            loc,
            scale,
            Map2 {
                name: "lognormal_stddev_dscale",
                f: |loc: f64, s: f64| (ln_stddev(loc, s) + ln_dln_stddev(s)).exp(),
                f32: |loc: f64, s: f64| (ln_stddev(loc, s) + ln_dln_stddev(s)).exp(),
                bwd: None,
            },
        )
    } else {
        apply2(
            loc,
            scale,
            Map2 {
                name: "lognormal_variance_dscale",
                f: |loc: f64, s: f64| {
                    (2.0 * ln_stddev(loc, s) + std::f64::consts::LN_2 + ln_dln_stddev(s)).exp()
                },
                f32: |loc: f64, s: f64| {
                    (2.0 * ln_stddev(loc, s) + std::f64::consts::LN_2 + ln_dln_stddev(s)).exp()
                },
                bwd: None,
            },
        )
    }
    .map_err(candle_core::Error::wrap)?;
    Ok((Some(((g * res)? * k)?), Some((g * d_scale)?)))
}

fn stddev_bwd(
    loc: &Tensor,
    scale: &Tensor,
    res: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
    power_bwd(1.0, loc, scale, res, g)
}

fn variance_bwd(
    loc: &Tensor,
    scale: &Tensor,
    res: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
    power_bwd(2.0, loc, scale, res, g)
}

impl Distribution for LogNormal {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> &[usize] {
        self.base.batch_shape()
    }

    fn event_shape(&self) -> &[usize] {
        &[]
    }

    fn support(&self) -> Constraint {
        Constraint::Positive
    }

    fn device(&self) -> &Device {
        self.base.device()
    }

    fn dtype(&self) -> DType {
        self.base.dtype()
    }

    fn has_rsample(&self) -> bool {
        true
    }

    fn validate_args(&self) -> bool {
        self.base.validate_args()
    }

    /// `exp` of a Normal draw, with the exponent clamped so that the draw is a positive
    /// finite number of the dtype: `e^y` would round to 0 (outside the support, where
    /// `log_prob` is −∞) or overflow to ∞ (and its gradient to NaN). A clamped draw has
    /// gradient 0.
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        crate::samplers::exp_draw(&self.base.rsample(sample_shape, rng)?, self.dtype())
    }

    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let (y, lp) = self.base.rsample_and_log_prob(sample_shape, rng)?;
        // log p_X(e^y) = log p_Y(y) − y, with log p_Y from the noise (exact). Where e^y
        // is clamped into the dtype's range (see `rsample`), the density is that of the
        // clamped draw, so that it equals `log_prob` of the returned value.
        let (lo, hi) = crate::samplers::log_range(self.dtype());
        let yc = y.clamp(lo, hi)?;
        let lp_c = self.base.log_prob(&yc)?;
        let lp = y.eq(&yc)?.where_cond(&lp, &lp_c)?;
        let x = crate::samplers::exp_draw(&y, self.dtype())?;
        Ok((x, (lp - yc)?))
    }

    // log φ(z) − ln scale − ln x in one f64 kernel, so that its gradient in `scale` is
    // one term (z² − 1)/scale: as the sum of the paths through z (z²/scale) and
    // through ln scale (−1/scale) it was ∞ − ∞ = NaN where 1/scale overflows (f32
    // scale = 1e-40).
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        // An f64 argument promotes an f32 distribution (see `distribution`).
        if let Some(base) = self.base.widened_for(value)? {
            return LogNormal { base }.log_prob(value);
        }
        let v = self.checked_value(value)?;
        apply3_reducing(
            &v,
            &unbroadcast(self.loc())?,
            &unbroadcast(self.scale())?,
            Map3 {
                name: "lognormal_log_prob",
                f: |x: f64, loc: f64, s: f64| log_prob_scalar(x, loc, s, f64::ln),
                f32: |x: f64, loc: f64, s: f64| log_prob_scalar(x, loc, s, ln_for_f32),
                bwd: Some(log_prob_bwd),
            },
        )
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        // An f64 argument promotes an f32 distribution (see `distribution`).
        if let Some(base) = self.base.widened_for(value)? {
            return LogNormal { base }.cdf(value);
        }
        let (z, _) = self.standardize(value)?;
        crate::special::ndtr(&z)
    }

    // The correctly rounded quantile: e^y beyond the dtype's range is ∞ (or 0), as
    // any overflowing function value (unlike draws, which must lie in the support).
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        // An f64 argument promotes an f32 distribution (see `distribution`).
        if let Some(base) = self.base.widened_for(q)? {
            return LogNormal { base }.icdf(q);
        }
        Ok(self.base.icdf(q)?.exp()?)
    }

    fn entropy(&self) -> Result<Tensor> {
        Ok((self.base.entropy()? + self.loc())?)
    }

    // exp(loc + scale²/2) in f64: in f32, scale² overflows (scale ≥ 1.9e19) where
    // loc + scale²/2 can still be very negative (loc = −3.4e38: the mean is 0, not ∞).
    fn mean(&self) -> Result<Tensor> {
        apply2(
            self.loc(),
            self.scale(),
            Map2 {
                name: "lognormal_mean",
                f: mean_scalar,
                f32: mean_scalar,
                bwd: Some(mean_bwd),
            },
        )
    }

    fn mode(&self) -> Result<Tensor> {
        Ok((self.loc() - self.scale().sqr()?)?.exp()?)
    }

    /// `(e^{s²} − 1)·e^{2 loc + s²}`, evaluated as `exp(2 ln σ_X)` with the log standard
    /// deviation from `ln_stddev` (one f64 kernel): the product form is 0·∞ = NaN
    /// where e^{2 loc} underflows and e^{s²} overflows (loc = −1e8, scale = 30). The
    /// result is finite, or +∞ exactly where the variance exceeds the dtype's range.
    fn variance(&self) -> Result<Tensor> {
        apply2(
            self.loc(),
            self.scale(),
            Map2 {
                name: "lognormal_variance",
                f: |loc: f64, s: f64| (2.0 * ln_stddev(loc, s)).exp(),
                f32: |loc: f64, s: f64| (2.0 * ln_stddev(loc, s)).exp(),
                bwd: Some(variance_bwd),
            },
        )
    }

    /// `√(e^{s²} − 1)·e^{loc + s²/2}` as `exp(ln σ_X)` (`ln_stddev`), not √variance:
    /// the variance overflows first (in f32 at loc = 40, scale = 3 it is 3.6e42 while
    /// the deviation is 1.9e21).
    fn stddev(&self) -> Result<Tensor> {
        apply2(
            self.loc(),
            self.scale(),
            Map2 {
                name: "lognormal_stddev",
                f: |loc: f64, s: f64| ln_stddev(loc, s).exp(),
                f32: |loc: f64, s: f64| ln_stddev(loc, s).exp(),
                bwd: Some(stddev_bwd),
            },
        )
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        crate::distribution::expand_extent(NAME, batch_shape)?;
        let loc = self.loc().broadcast_as(batch_shape);
        let scale = self.scale().broadcast_as(batch_shape);
        let (loc, scale) = match (loc, scale) {
            (Ok(l), Ok(s)) => (l, s),
            _ => {
                return Err(crate::Error::shape(
                    NAME,
                    format!(
                        "cannot expand batch_shape {:?} to {:?}",
                        self.batch_shape(),
                        batch_shape
                    ),
                ))
            }
        };
        let mut d = LogNormal::build(&loc, &scale, Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
