//! The one-hot categorical distribution with the straight-through gradient estimator.

use super::one_hot_categorical::OneHotCategorical;
use super::probs_logits::{probs_logits_accessors, probs_logits_constructors, Given};
use crate::constraints::Constraint;
use crate::distribution::{Distribution, Param};
use crate::error::Result;
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor};

const NAME: &str = "OneHotCategoricalStraightThrough";

/// [`OneHotCategorical`] whose `rsample` is the straight-through estimator of Bengio,
/// Léonard & Courville, "Estimating or Propagating Gradients Through Stochastic
/// Neurons" (2013), as torch's `OneHotCategoricalStraightThrough`.
///
/// `rsample` returns x + p − stop_gradient(p) for a one-hot draw x: the value is x
/// exactly, the gradient is that of p (a biased but low-variance surrogate of
/// ∂E[f(x)]/∂θ). Every other method is [`OneHotCategorical`]'s.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Distribution, Generator, OneHotCategoricalStraightThrough};
/// let logits = Var::new(&[0.0f64, 1.0, 2.0], &Device::Cpu)?;
/// let d = OneHotCategoricalStraightThrough::from_logits(logits.as_tensor())?;
/// assert!(d.has_rsample());
/// let x = d.rsample(&[], &mut Generator::new(0))?;
/// assert_eq!(x.sum_all()?.to_scalar::<f64>()?, 1.0);
/// let g = (x * Tensor::new(&[1.0f64, 2.0, 3.0], &Device::Cpu)?)?.sum_all()?.backward()?;
/// assert!(g.get(&logits).is_some()); // the gradient of Σ c_k p_k
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OneHotCategoricalStraightThrough {
    inner: OneHotCategorical,
}

impl OneHotCategoricalStraightThrough {
    probs_logits_constructors! {
        /// From `probs` (non-negative weights along the last dimension).
        new;
        /// From `logits` (unnormalised log-probabilities along the last dimension).
        from_logits;
        "OneHotCategoricalStraightThrough", Self::build; ; row
    }

    fn build(given: Given, p: Param, validate: Option<bool>) -> Result<Self> {
        Ok(OneHotCategoricalStraightThrough {
            inner: OneHotCategorical::build_named(NAME, given, p, validate)?,
        })
    }

    /// The one-hot distribution this estimator draws from.
    pub fn one_hot(&self) -> &OneHotCategorical {
        &self.inner
    }

    probs_logits_accessors!(categorical inner);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.inner.set_validate_args(on);
    }
}

impl Distribution for OneHotCategoricalStraightThrough {
    fn name(&self) -> &'static str {
        NAME
    }
    fn batch_shape(&self) -> &[usize] {
        self.inner.batch_shape()
    }
    fn event_shape(&self) -> &[usize] {
        self.inner.event_shape()
    }
    fn support(&self) -> Constraint {
        self.inner.support()
    }
    fn device(&self) -> &Device {
        self.inner.device()
    }
    fn dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    fn validate_args(&self) -> bool {
        self.inner.validate_args()
    }

    /// x + p − p.detach() for a one-hot draw x (value x, gradient of p).
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let x = self.inner.one_hot_sample(NAME, sample_shape, rng)?;
        let p = self.inner.probs()?;
        let st = (&p - p.detach())?;
        Ok(x.broadcast_add(&st)?)
    }

    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        self.inner.one_hot_sample(NAME, sample_shape, rng)
    }

    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        self.inner.one_hot_log_prob(NAME, value)
    }

    fn entropy(&self) -> Result<Tensor> {
        self.inner.entropy()
    }

    fn mean(&self) -> Result<Tensor> {
        self.inner.mean()
    }

    fn variance(&self) -> Result<Tensor> {
        self.inner.variance()
    }

    fn mode(&self) -> Result<Tensor> {
        self.inner.mode()
    }

    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        self.inner.enumerate_support(expand)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        Ok(Box::new(OneHotCategoricalStraightThrough {
            inner: self.inner.expanded(NAME, batch_shape)?,
        }))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
