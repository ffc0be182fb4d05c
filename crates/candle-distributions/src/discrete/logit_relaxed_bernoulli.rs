//! The logit-relaxed Bernoulli distribution (the binary Concrete law in logit space).

use super::probs_logits::{probs_logits_accessors, probs_logits_constructors, BinaryParam, Given};
use crate::constraints::Constraint;
use crate::distribution::{Distribution, Param, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::special;
use crate::special::kernel::{stored3, sum_ratio_to, unbroadcast, StoredBwd};
use candle_core::{DType, Device, Tensor};
use std::sync::OnceLock;

const NAME: &str = "LogitRelaxedBernoulli";

/// The logit-relaxed Bernoulli distribution (torch's
/// `LogitRelaxedBernoulli(temperature, probs | logits)`; Maddison, Mnih and Teh, "The
/// Concrete Distribution", ICLR 2017; Jang, Gu and Poole, "Categorical
/// Reparameterization with Gumbel-Softmax", ICLR 2017): the law of
/// `X = (l + L)/τ` with `L = ln U − ln(1 − U)` standard logistic, so that
/// `σ(X)` is a `RelaxedBernoulli(τ, l)` draw.
///
/// - Parameters: `temperature` τ > 0 and `probs` p ∈ [0, 1] or `logits`
///   l = ln(p/(1 − p)) (real, ±∞ allowed); τ and the probability parameter broadcast
///   against each other to give `batch_shape` (torch keeps τ outside the batch shape;
///   broadcasting both is the same for a scalar τ and well defined otherwise).
/// - Support: the reals.
/// - Density: with d = l − τx, `log p(x) = ln τ + d − 2 ln(1 + e^d)`, evaluated as
///   `ln τ − |d| − 2 ln(1 + e^{−|d|})` in f64 (exact for every |d|; torch's
///   `exp(d).log1p()` overflows for d > 88 in f32).
/// - The cdf is σ(τx − l) (the tests use it); there is no `cdf`/`icdf` method, as in
///   torch: at tiny τ the quantile (l + logit(q))/τ amplifies the rounding of q by 1/τ.
/// - `rsample` is pathwise: ∂X/∂l = 1/τ, ∂X/∂τ = −X/τ, summed over the draws with 1/τ
///   taken out of the sums (`sum_ratio_to`), so a tiny τ gives large or infinite
///   gradients, never NaN (no τ², no ∞ − ∞, no 0·∞ where the incoming gradient is 0). The logistic noise is made from a
///   53-bit uniform in f64, `ln U − ln1p(−U)`, so it is exact in both tails. Given
///   `probs`, l is torch's clamped `probs_to_logits` (p clamped to [ε, 1 − ε]).
/// - No entropy or moments (torch defines none).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, LogitRelaxedBernoulli};
/// let dev = Device::Cpu;
/// let d = LogitRelaxedBernoulli::from_logits(0.5, &Tensor::new(&[0.0f64, 2.0], &dev)?)?;
/// // At x = l/τ the logistic density of X peaks at τ/4.
/// let lp = d.log_prob(&Tensor::new(&[0.0f64, 4.0], &dev)?)?.to_vec1::<f64>()?;
/// assert!((lp[1] - (0.5f64 / 4.0).ln()).abs() < 1e-15);
/// assert_eq!(d.rsample(&[10], &mut Generator::new(0))?.dims(), &[10, 2]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LogitRelaxedBernoulli {
    params: Params,
    given: Given,
    pair: OnceLock<BinaryParam>,
}

impl LogitRelaxedBernoulli {
    probs_logits_constructors! {
        /// LogitRelaxedBernoulli(temperature, probs): τ > 0, probs ∈ [0, 1]; tensors or
        /// numbers (dtype rules: [`distribution`](crate::distribution)).
        new;
        /// LogitRelaxedBernoulli(temperature, logits = l): τ > 0, l any real.
        from_logits;
        "LogitRelaxedBernoulli",
        |g, t, p, v| Self::make(NAME, g, t, p, v);
        temperature: impl Into<Param>;
        scalars
    }

    /// Built under `name` (errors name the distribution the user built: RelaxedBernoulli
    /// builds its base here).
    pub(crate) fn make(
        name: &'static str,
        given: Given,
        temperature: Param,
        p: Param,
        validate: Option<bool>,
    ) -> Result<Self> {
        let [t, p] = crate::distribution::promote_params(
            name,
            [("temperature", temperature), (given.name(), p)],
        )?;
        Self::build(name, given, &t, &p, validate)
    }

    fn build(
        name: &'static str,
        given: Given,
        temperature: &Tensor,
        p: &Tensor,
        validate: Option<bool>,
    ) -> Result<Self> {
        let params = Params::new(
            name,
            &[
                ("temperature", temperature, Constraint::Positive),
                (given.name(), p, BinaryParam::constraint(given)),
            ],
            validate,
        )?;
        Ok(LogitRelaxedBernoulli {
            params,
            given,
            pair: OnceLock::new(),
        })
    }

    /// τ, broadcast to `batch_shape`.
    pub fn temperature(&self) -> &Tensor {
        self.params.get(0)
    }

    probs_logits_accessors!(lazy params[1]);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.params.set_validate(on);
    }

    /// This distribution with parameters converted to f64 on the graph, checks off, under
    /// `name`.
    pub(crate) fn widened(&self, name: &'static str) -> Result<Self> {
        let t = self.params.get(0).to_dtype(DType::F64)?;
        let p = self.params.get(1).to_dtype(DType::F64)?;
        Self::build(name, self.given, &t, &p, Some(false))
    }

    /// l in f64 on the graph of the given parameter: the logits, or torch's clamped
    /// `probs_to_logits` of the probs.
    fn wide_logits(&self) -> Result<Tensor> {
        match self.given {
            Given::Logits => Ok(self.pair().wide().clone()),
            Given::Probs => {
                let eps = match self.dtype() {
                    DType::F32 => f32::EPSILON as f64,
                    _ => f64::EPSILON,
                };
                // Clamped with `where` (not `clamp`, whose backward multiplies by a 0/1
                // mask: 0·∞ where a huge gradient meets a clamped entry).
                let p = self.pair().wide();
                let p = p.lt(eps)?.where_cond(&(p.ones_like()? * eps)?, p)?;
                let hi = 1.0 - eps;
                let p = p.gt(hi)?.where_cond(&(p.ones_like()? * hi)?, &p)?;
                Ok((p.log()? - special::log1p(&p.neg()?)?)?)
            }
        }
    }
}

impl Distribution for LogitRelaxedBernoulli {
    fn name(&self) -> &'static str {
        NAME
    }
    fn batch_shape(&self) -> &[usize] {
        self.params.batch_shape()
    }
    fn event_shape(&self) -> &[usize] {
        &[]
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn device(&self) -> &Device {
        self.params.device()
    }
    fn dtype(&self) -> DType {
        self.params.dtype()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    fn validate_args(&self) -> bool {
        self.params.validate()
    }
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.params.sample_shape(sample_shape)?;
        let u = rng.uniform(&shape, DType::F64, self.device())?;
        let noise = (u.log()? - special::log1p(&u.neg()?)?)?;
        let l = unbroadcast(&self.wide_logits()?)?;
        let tau = unbroadcast(self.params.w(0))?;
        let x = noise.broadcast_add(&l)?.broadcast_div(&tau)?;
        let x = stored3(
            "logit_relaxed_bernoulli_draw",
            &l,
            &tau,
            &noise,
            &x,
            draw_grads(),
        )?;
        self.params.out(x)
    }
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.params.wide_value(value, &Constraint::Real)?;
        let tau = self.params.w_at(0, &x)?;
        let l = crate::distribution::broadcast_to(&self.wide_logits()?, x.dims())?;
        // At x = ±∞ the density's limit is 0 (d = ∓∞); the stand-in keeps τ·x and the
        // backward finite.
        let lp = special::finite_or(&x, f64::NEG_INFINITY, |x| {
            let d = (l - (x * &tau)?)?;
            let a = d.abs()?;
            Ok(((tau.log()? - &a)? - (special::softplus(&a.neg()?)? * 2.0)?)?)
        })?;
        self.params.out_for(value, lp)
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        Ok(Box::new(self.expanded(batch_shape)?))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl LogitRelaxedBernoulli {
    /// [`Distribution::expand`] as the concrete type.
    pub(crate) fn expanded(&self, batch_shape: &[usize]) -> Result<Self> {
        let p = self.params.expanded(batch_shape)?;
        let mut d = Self::build(self.params.dist(), self.given, &p[0], &p[1], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(d)
    }
}

/// The backward rule of the draw X = (l + L)/τ: ∂/∂l = Σ g/τ and ∂/∂τ = −(Σ g·(l + L)/τ)/τ,
/// each sum taken before the division (`sum_ratio_to`), with g·(l + L) = 0 where g = 0
/// (a clipped sigmoid downstream) also for infinite l.
fn draw_grads() -> StoredBwd {
    std::sync::Arc::new(|l, tau, noise, g| {
        let num = noise.broadcast_add(l)?;
        let zero = g.eq(0.0)?;
        let num = zero.where_cond(&g.zeros_like()?, &(g * num)?)?;
        let gl = sum_ratio_to(g, tau, l.dims())?;
        let gt = sum_ratio_to(&num, tau, tau.dims())?.div(tau)?.neg()?;
        Ok((Some(gl), Some(gt), None))
    })
}
