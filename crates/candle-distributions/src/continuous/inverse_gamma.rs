//! The inverse Gamma distribution.

use super::gamma::Gamma;
use crate::constraints::Constraint;
use crate::distribution::{broadcast_to, check_value, prepare_value, Distribution};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::{exp_draw, standard_gamma_ln_rsample};
use crate::special::{finite_or, gammainc_q};
use candle_core::{DType, Device, Tensor};

/// The inverse Gamma distribution: 1/X for X ~ Gamma(`concentration` α, `rate` β).
///
/// Density `p(y) = β^α y^{−α−1} e^{−β/y} / Γ(α)` on y > 0. Mean β/(α − 1) for α > 1
/// (+∞ otherwise), mode β/(α + 1), variance β²/((α − 1)²(α − 2)) for α > 2 (+∞
/// otherwise), as torch. `cdf(y)` = Q(α, β/y); `rsample` is 1/X with the Gamma's exact
/// implicit gradient.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, InverseGamma};
/// let d = InverseGamma::from_scalars(3.0, 2.0, DType::F64, &Device::Cpu)?;
/// assert_eq!(d.mean()?.to_scalar::<f64>()?, 1.0); // β/(α − 1)
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct InverseGamma {
    gamma: Gamma,
}

const NAME: &str = "InverseGamma";

impl InverseGamma {
    crate::distribution::params_constructors! {
        /// InverseGamma(concentration, rate). Parameters are tensors or numbers (dtype rules:
        /// [`distribution`](crate::distribution)).
        "InverseGamma", |c: &Tensor, r: &Tensor, v| Ok(InverseGamma { gamma: Gamma::build(NAME, c, r, v)? }); concentration, rate
    }

    /// α, broadcast to `batch_shape`.
    pub fn concentration(&self) -> &Tensor {
        self.gamma.concentration()
    }

    /// β, broadcast to `batch_shape`.
    pub fn rate(&self) -> &Tensor {
        self.gamma.rate()
    }

    /// The Gamma(α, β) of 1/Y.
    pub fn base_dist(&self) -> &Gamma {
        &self.gamma
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.gamma.set_validate_args(on);
    }

    /// The dtype of results for the argument `value` (torch's promotion,
    /// [`result_dtype`](crate::distribution::result_dtype)).
    fn result_dtype(&self, value: &Tensor) -> DType {
        crate::distribution::result_dtype(self.dtype(), self.batch_shape(), value)
    }

    fn checked(&self, value: &Tensor) -> Result<Tensor> {
        let (v, shape) = prepare_value(
            NAME,
            value,
            self.batch_shape(),
            self.result_dtype(value),
            self.device(),
        )?;
        if self.validate_args() {
            check_value(NAME, "value", &v, &Constraint::Positive)?;
        }
        broadcast_to(&v, &shape)
    }
}

impl Distribution for InverseGamma {
    fn name(&self) -> &'static str {
        NAME
    }
    fn batch_shape(&self) -> &[usize] {
        self.gamma.batch_shape()
    }
    fn event_shape(&self) -> &[usize] {
        &[]
    }
    fn support(&self) -> Constraint {
        Constraint::Positive
    }
    fn device(&self) -> &Device {
        self.gamma.device()
    }
    fn dtype(&self) -> DType {
        self.gamma.dtype()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    fn validate_args(&self) -> bool {
        self.gamma.validate_args()
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        // β/G in f64 from ln G (see `standard_gamma_ln_rsample`): 1/G overflows f32 for
        // small α, and d(1/G)/dα = −(dG/dα)/G² overflows in G² where the gradient is
        // finite.
        let shape = crate::distribution::sample_extent(
            NAME,
            sample_shape,
            self.batch_shape(),
            &[],
            self.dtype(),
        )?;
        let alpha = broadcast_to(&self.concentration().to_dtype(DType::F64)?, &shape)?;
        let rate = broadcast_to(&self.rate().to_dtype(DType::F64)?, &shape)?;
        let lg = standard_gamma_ln_rsample(&alpha, rng.next_draw())?;
        exp_draw(&(rate.log()? - lg)?, self.dtype())
    }

    // α ln β − (α + 1) ln y − β/y − ln Γ(α). At y = ∞: −∞.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let y = self.checked(value)?.to_dtype(DType::F64)?;
        let a = broadcast_to(&self.concentration().to_dtype(DType::F64)?, y.dims())?;
        let r = broadcast_to(&self.rate().to_dtype(DType::F64)?, y.dims())?;
        // The Gamma(α, 1) density at β/y (l = ln β − ln y, so a subnormal y does not
        // make it ∞ − ∞) times β/y²; α ≳ 1e305 stays finite (see `gamma_log_density`).
        let lp = finite_or(&y, f64::NEG_INFINITY, |y| {
            let (lr, ly) = (r.log()?, y.log()?);
            let k = super::gamma::gamma_log_density(&a, &(&lr - &ly)?, &(&r / y)?)?;
            Ok(((k + lr)? - (ly * 2.0)?)?)
        })?;
        Ok(lp.to_dtype(self.result_dtype(value))?)
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let y = self.checked(value)?.to_dtype(DType::F64)?;
        let rate = broadcast_to(&self.rate().to_dtype(DType::F64)?, y.dims())?;
        let z = (rate / y)?;
        let a = broadcast_to(&self.concentration().to_dtype(DType::F64)?, z.dims())?;
        Ok(gammainc_q(&a, &z)?.to_dtype(self.result_dtype(value))?)
    }

    // α + ln β + ln Γ(α) − (1 + α) ψ(α), the α part by `gamma_entropy_t` (the direct
    // sum is ∞ − ∞ at α ≳ 1e305).
    fn entropy(&self) -> Result<Tensor> {
        let a = self.concentration().to_dtype(DType::F64)?;
        let h = super::gamma::gamma_entropy_t(&a, true)?;
        self.gamma
            .out((h + self.rate().to_dtype(DType::F64)?.log()?)?)
    }

    fn mean(&self) -> Result<Tensor> {
        let a = self.concentration();
        let m = (self.rate() / (a - 1.0)?)?;
        let inf = (m.ones_like()? * f64::INFINITY)?;
        Ok(a.gt(1.0)?.where_cond(&m, &inf)?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok((self.rate() / (self.concentration() + 1.0)?)?)
    }

    fn variance(&self) -> Result<Tensor> {
        let a = self.concentration();
        // (β/(α − 1))²/(α − 2): β² and (α − 1)² overflow separately at β, α ≈ 1e300.
        let v = ((self.rate() / (a - 1.0)?)?.sqr()? / (a - 2.0)?)?;
        let inf = (v.ones_like()? * f64::INFINITY)?;
        Ok(a.gt(2.0)?.where_cond(&v, &inf)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        crate::distribution::expand_extent(NAME, batch_shape)?;
        let shape_err = |_| {
            crate::Error::shape(
                NAME,
                format!(
                    "cannot expand batch_shape {:?} to {:?}",
                    self.batch_shape(),
                    batch_shape
                ),
            )
        };
        let a = self
            .concentration()
            .broadcast_as(batch_shape)
            .map_err(shape_err)?;
        let r = self.rate().broadcast_as(batch_shape).map_err(shape_err)?;
        let mut d = InverseGamma::new_with_validation(&a, &r, false)?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
