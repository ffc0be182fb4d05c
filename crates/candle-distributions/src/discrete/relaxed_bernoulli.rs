//! The relaxed Bernoulli distribution (binary Concrete / Gumbel-softmax on (0, 1)).

use super::logit_relaxed_bernoulli::LogitRelaxedBernoulli;
use super::probs_logits::{probs_logits_accessors, probs_logits_constructors, Given};
use crate::constraints::Constraint;
use crate::distribution::{checked_argument, result_dtype, Distribution, Param};
use crate::error::Result;
use crate::rng::Generator;
use crate::transforms::transformed::pushforward_methods;
use crate::transforms::{SigmoidTransform, TransformedDistribution};
use candle_core::{DType, Tensor};

const NAME: &str = "RelaxedBernoulli";

/// The relaxed Bernoulli distribution (torch's
/// `RelaxedBernoulli(temperature, probs | logits)`): the law of `Y = σ(X)` for
/// `X ~ LogitRelaxedBernoulli(τ, l)`, a continuous stand-in on (0, 1) for a
/// Bernoulli(σ(l)) draw that has pathwise gradients (Maddison et al. 2017; Jang et al.
/// 2017). As τ → 0 draws concentrate on {0, 1} with `P(Y > ½) = σ(l)`.
///
/// - Parameters as [`LogitRelaxedBernoulli`]: τ > 0 and `probs` ∈ [0, 1] or `logits`.
/// - Support: the unit interval.
/// - Density by the change of variables through [`SigmoidTransform`]:
///   `log p(y) = log p_X(x) − ln y − ln(1 − y)` at `x = ln y − ln(1 − y)`; `y` is
///   clamped to `[tiny, 1 − ε]` of the dtype first (torch's `SigmoidTransform`), so the
///   endpoints give finite values. f32 densities are evaluated in f64 and rounded once.
/// - The cdf is σ(τ·logit(y) − l); no `cdf`/`icdf` method (as torch, see
///   [`LogitRelaxedBernoulli`]).
/// - `rsample` is pathwise (σ of the base draw); no moments or entropy (as torch).
///
/// Built as `TransformedDistribution::named("RelaxedBernoulli", base, [Sigmoid])`:
/// errors name RelaxedBernoulli.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, RelaxedBernoulli};
/// let dev = Device::Cpu;
/// let d = RelaxedBernoulli::new(0.1, &Tensor::new(&[0.3f64], &dev)?)?;
/// let y = d.rsample(&[1000], &mut Generator::new(0))?.to_vec2::<f64>()?;
/// assert!(y.iter().all(|v| v[0] > 0.0 && v[0] < 1.0));
/// // At τ = 0.1 almost every draw is near 0 or 1, and about 30% are near 1.
/// let high = y.iter().filter(|v| v[0] > 0.5).count();
/// assert!((230..370).contains(&high));
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct RelaxedBernoulli {
    base: LogitRelaxedBernoulli,
    inner: TransformedDistribution,
}

impl RelaxedBernoulli {
    probs_logits_constructors! {
        /// RelaxedBernoulli(temperature, probs): τ > 0, probs ∈ [0, 1]; tensors or numbers
        /// (dtype rules: [`distribution`](crate::distribution)).
        new;
        /// RelaxedBernoulli(temperature, logits = l): τ > 0, l any real.
        from_logits;
        "RelaxedBernoulli", Self::make; temperature: impl Into<Param>; scalars
    }

    fn make(given: Given, temperature: Param, p: Param, validate: Option<bool>) -> Result<Self> {
        let base = LogitRelaxedBernoulli::make(NAME, given, temperature, p, validate)?;
        Self::from_base(base)
    }

    fn from_base(base: LogitRelaxedBernoulli) -> Result<Self> {
        let mut inner = TransformedDistribution::named(
            NAME,
            Box::new(base.clone()),
            vec![Box::new(SigmoidTransform)],
        )?;
        inner.set_validate_args(base.validate_args());
        Ok(RelaxedBernoulli { base, inner })
    }

    /// The base distribution in logit space.
    pub fn base(&self) -> &LogitRelaxedBernoulli {
        &self.base
    }

    /// τ, broadcast to `batch_shape`.
    pub fn temperature(&self) -> &Tensor {
        self.base.temperature()
    }

    probs_logits_accessors!(binary base);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.base.set_validate_args(on);
        self.inner.set_validate_args(on);
    }
}

impl Distribution for RelaxedBernoulli {
    pushforward_methods!(inner, base);
    fn name(&self) -> &'static str {
        NAME
    }
    fn support(&self) -> Constraint {
        Constraint::UnitInterval
    }
    fn validate_args(&self) -> bool {
        self.inner.validate_args()
    }
    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        self.inner.rsample_and_log_prob(sample_shape, rng)
    }
    fn sample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        self.inner.sample_and_log_prob(sample_shape, rng)
    }
    /// Evaluated in f64 for f32 distributions (the logit of an f32 `y` taken in f64,
    /// then rounded once); the argument is checked in its own result dtype.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        if self.dtype() != DType::F32 {
            return self.inner.log_prob(value);
        }
        let dt = result_dtype(self.dtype(), self.batch_shape(), value);
        let v = checked_argument(
            NAME,
            "value",
            value,
            self.batch_shape(),
            &[],
            dt,
            self.device(),
            self.validate_args().then_some(&Constraint::UnitInterval),
        )?;
        // Clamped to f32's open interval first, as the f32 transform would.
        let (lo, hi) = crate::transforms::sigmoid::open_unit_bounds(DType::F32);
        let v = v.to_dtype(DType::F64)?.clamp(lo, hi)?;
        let wide = Self::from_base(self.base.widened(NAME)?)?;
        Ok(wide.inner.log_prob(&v)?.to_dtype(dt)?)
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let base = self
            .base
            .expanded(batch_shape)
            .map_err(|e| e.renamed(NAME))?;
        let mut d = Self::from_base(base)?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}
