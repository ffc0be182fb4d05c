//! The log-normal distribution.

use super::location_scale::StandardForm;
use super::normal::{Normal, StandardNormal};
use crate::constraints::Constraint;
use crate::distribution::{checked_argument, Distribution, Param};
use crate::error::Result;
use crate::rng::Generator;
use crate::special::kernel::{apply3, Map3};
use crate::special::scalar::ln_minus;
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
    /// LogNormal(loc, scale): the parameters of the underlying normal, tensors or
    /// numbers (dtype rules: [`distribution`](crate::distribution)).
    pub fn new(loc: impl Into<Param>, scale: impl Into<Param>) -> Result<Self> {
        Self::build([loc.into(), scale.into()], None)
    }

    /// As [`LogNormal::new`], with argument validation set for this instance.
    pub fn new_with_validation(
        loc: impl Into<Param>,
        scale: impl Into<Param>,
        validate: bool,
    ) -> Result<Self> {
        Self::build([loc.into(), scale.into()], Some(validate))
    }

    /// A scalar LogNormal(loc, scale) of `dtype` (f32 or f64) on `device`.
    pub fn from_scalars(loc: f64, scale: f64, dtype: DType, device: &Device) -> Result<Self> {
        let [l, s] = crate::distribution::scalar_params(NAME, [loc, scale], dtype, device)?;
        Self::new(&l, &s)
    }

    // The inner normal reports errors (at construction and in every later method) as
    // LogNormal: users see the name of what they built.
    fn build(params: [Param; 2], validate: Option<bool>) -> Result<Self> {
        Ok(LogNormal {
            base: Normal::named_from_param_values(NAME, params, validate)?,
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
        let v = checked_argument(
            NAME,
            "value",
            value,
            self.batch_shape(),
            &[],
            self.dtype(),
            self.device(),
            self.base.validate_args().then_some(&Constraint::Positive),
        )?;
        let z = apply3(
            &v,
            self.loc(),
            self.scale(),
            Map3 {
                name: "lognormal_standardize",
                f: |x: f64, loc: f64, scale: f64| ln_minus(x, loc) / scale,
                f32: |x: f64, loc: f64, scale: f64| ln_minus(x, loc) / scale,
                bwd: Some(standardize_bwd),
            },
        )?;
        Ok((z, v))
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

    // log φ(z) − ln scale − ln x.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let (z, x) = self.standardize(value)?;
        let lp = StandardNormal::log_density(&z)?;
        Ok(lp.broadcast_sub(&self.scale().log()?)?.sub(&x.log()?)?)
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let (z, _) = self.standardize(value)?;
        crate::special::ndtr(&z)
    }

    // The correctly rounded quantile: e^y beyond the dtype's range is ∞ (or 0), as
    // any overflowing function value (unlike draws, which must lie in the support).
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        Ok(self.base.icdf(q)?.exp()?)
    }

    fn entropy(&self) -> Result<Tensor> {
        Ok((self.base.entropy()? + self.loc())?)
    }

    fn mean(&self) -> Result<Tensor> {
        Ok((self.loc() + (self.scale().sqr()? * 0.5)?)?.exp()?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok((self.loc() - self.scale().sqr()?)?.exp()?)
    }

    fn variance(&self) -> Result<Tensor> {
        let s2 = self.scale().sqr()?;
        let a = crate::special::expm1(&s2)?;
        Ok((a * ((self.loc() * 2.0)? + s2)?.exp()?)?)
    }

    // √(e^{s²} − 1)·e^{loc + s²/2} rather than √variance: the variance overflows first
    // (in f32 at loc = 40, scale = 3 it is 3.6e42 while the deviation is 1.9e21).
    fn stddev(&self) -> Result<Tensor> {
        let s2 = self.scale().sqr()?;
        let a = crate::special::expm1(&s2)?.sqrt()?;
        Ok((a * (self.loc() + (s2 * 0.5)?)?.exp()?)?)
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
        let mut d = LogNormal::build([(&loc).into(), (&scale).into()], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
