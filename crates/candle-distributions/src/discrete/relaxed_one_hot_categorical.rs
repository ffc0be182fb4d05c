//! The relaxed one-hot categorical (Gumbel-softmax, concrete) distribution.

use super::exp_relaxed_categorical::{on_face, ExpRelaxedCategorical};
use super::probs_logits::{probs_logits_accessors, probs_logits_constructors, Given};
use crate::constraints::Constraint;
use crate::distribution::{checked_argument, result_dtype, Distribution, Param};
use crate::error::Result;
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor};

const NAME: &str = "RelaxedOneHotCategorical";

/// The relaxed one-hot categorical distribution on the simplex, torch's
/// `RelaxedOneHotCategorical(temperature, probs|logits)`: y = exp(x) for
/// x ~ [`ExpRelaxedCategorical`], i.e. y = softmax((ℓ + G)/λ) with standard Gumbels G
/// (Gumbel-softmax; Jang et al. 2017, Maddison et al. 2017).
///
/// - Parameters: `temperature` λ > 0 and `probs` or `logits` (shape
///   `batch_shape ++ [K]`); `event_shape = [K]`. As λ → 0 draws approach one-hot
///   categorical draws; `rsample` is pathwise in ℓ and λ.
/// - Density on the simplex (change of variables through exp):
///   ln p(y) = ln p_X(ln y) − Σ_k ln y_k, the sum over the classes of positive
///   probability (see [`ExpRelaxedCategorical`]: the law lives on the face they span;
///   a value with y_k > 0 on a class of probability 0, or y_k = 0 on a positive class,
///   the boundary of that face, has log_prob −∞).
/// - Support: the simplex. Moments and entropy have no closed form (as torch).
///
/// A class of probability 0 has y_k = 0 exactly in every draw (plain exp of the base's
/// f64 draw: no clamping into the positive normal range as
/// [`crate::transforms::ExpTransform`] does, which would put mass where the law has
/// none); errors name `RelaxedOneHotCategorical`.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Distribution, Generator, RelaxedOneHotCategorical};
/// let logits = Var::new(&[0.0f64, 1.0, 2.0], &Device::Cpu)?;
/// let d = RelaxedOneHotCategorical::from_logits(0.5, logits.as_tensor())?;
/// let y = d.rsample(&[8], &mut Generator::new(0))?; // [8, 3] on the simplex
/// let s = y.sum(1)?.to_vec1::<f64>()?;
/// assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-12));
/// let g = y.narrow(1, 2, 1)?.sum_all()?.backward()?;
/// assert!(g.get(&logits).is_some());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct RelaxedOneHotCategorical {
    base: ExpRelaxedCategorical,
}

impl RelaxedOneHotCategorical {
    probs_logits_constructors! {
        /// RelaxedOneHotCategorical(temperature, probs).
        new;
        /// RelaxedOneHotCategorical(temperature, logits).
        from_logits;
        "RelaxedOneHotCategorical",
        |g, t, p, v| Self::build(t, g, p, v);
        temperature: impl Into<Param>;
        none
    }

    /// From a temperature and one row of weights, of `dtype` on `device`.
    pub fn from_scalars(
        temperature: f64,
        probs: &[f64],
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let t = super::categorical::host_tensor(vec![temperature], &[], dtype, device)?;
        let p = super::categorical::host_tensor(probs.to_vec(), &[probs.len()], dtype, device)?;
        Self::new(&t, &p)
    }

    fn build(temperature: Param, given: Given, p: Param, validate: Option<bool>) -> Result<Self> {
        let base = ExpRelaxedCategorical::build(NAME, temperature, given, p, validate)?;
        Ok(RelaxedOneHotCategorical { base })
    }

    /// The log-space base distribution.
    pub fn base(&self) -> &ExpRelaxedCategorical {
        &self.base
    }

    /// λ, broadcast to `batch_shape`.
    pub fn temperature(&self) -> &Tensor {
        self.base.temperature()
    }

    probs_logits_accessors!(categorical base);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.base.set_validate_args(on);
    }
}

impl Distribution for RelaxedOneHotCategorical {
    fn name(&self) -> &'static str {
        NAME
    }
    fn batch_shape(&self) -> &[usize] {
        self.base.batch_shape()
    }
    fn event_shape(&self) -> &[usize] {
        self.base.event_shape()
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
    /// y = exp(x) for the base's draw x, in f64 and rounded once.
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let x = self.base.wide_rsample(sample_shape, rng)?;
        Ok(x.exp()?.to_dtype(self.dtype())?)
    }
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        Ok(self.rsample(sample_shape, rng)?.detach())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn support(&self) -> Constraint {
        Constraint::Simplex
    }
    fn validate_args(&self) -> bool {
        self.base.validate_args()
    }

    /// ln p_X(ln y) − Σ_{k: p_k > 0} ln y_k, from the f64 log-density of the base on
    /// the face of the positive classes (the value is checked against the simplex when
    /// validating). A zero coordinate y_k = 0 is required exactly on the classes of
    /// probability 0 and refused (−∞) on the others: the density lives on the relative
    /// interior of the face.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let dt = result_dtype(self.dtype(), self.batch_shape(), value);
        let y = checked_argument(
            NAME,
            "value",
            value,
            self.batch_shape(),
            self.event_shape(),
            dt,
            self.device(),
            self.validate_args().then_some(&Constraint::Simplex),
        )?
        .to_dtype(DType::F64)?;
        let at_zero = y.eq(0.0)?;
        // ln 1 = 0 stands in for ln 0 (flagged by `at_zero`): no −∞, and no 0/0 in the
        // backward of the logarithm.
        let x = at_zero.where_cond(&y.ones_like()?, &y)?.log()?;
        let (lp, off) = self.base.face_log_density(&x, &at_zero)?;
        let lp = (lp - x.sum(candle_core::D::Minus1)?)?;
        Ok(on_face(&lp, &off)?.to_dtype(dt)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        Ok(Box::new(RelaxedOneHotCategorical {
            base: self.base.expanded(batch_shape)?,
        }))
    }
}
