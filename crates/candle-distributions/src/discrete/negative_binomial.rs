//! The NegativeBinomial distribution.

use crate::constraints::{host_f64, Constraint};
use crate::discrete::probs_logits::{
    probs_logits_accessors, probs_logits_constructors, BinaryParam, Given,
};
use crate::distribution::{params_methods, promote_params, Distribution, Param, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::counts::{
    count_value, host_log_odds, negative_binomial, negative_binomial_log_prob, outside_to_neg_inf,
    sample_counts,
};
use candle_core::Tensor;

const NAME: &str = "NegativeBinomial";

/// The support in words, for errors.
const SUPPORT: &str = "non-negative integer";

/// The negative binomial distribution in torch's parameterization: the number of
/// successes, each trial succeeding with probability p, before `total_count` = r
/// failures; p given as `probs` ∈ [0, 1) or `logits` l = ln(p/(1 − p)), r ≥ 0 real.
///
/// Mass `P(k) = Γ(r + k)/(Γ(r) k!) · p^k (1 − p)^r` on k ∈ {0, 1, 2, …}. Mean
/// r p/(1 − p), variance r p/(1 − p)², mode ⌊(r − 1) p/(1 − p)⌋ clamped at 0 (torch).
/// `log_prob` is evaluated in f64 from whichever of probs/logits was given, by Loader's
/// saddle-point form of r/(r + k)·C(r + k, k) p^k (1 − p)^r: exact to rounding for r
/// from 10⁻³⁰⁰ to f64::MAX and p near 0 or 1, with analytic gradients in r, probs and
/// logits; r = 0 is the point mass at 0. Draws (no `rsample`) are counts in the float
/// dtype, from the Gamma–Poisson mixture Poisson(G·p/(1 − p)), G ~ Gamma(r, 1), formed
/// in log space ([`crate::samplers::counts`]). No entropy (torch has none).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, NegativeBinomial};
/// let d = NegativeBinomial::new(&Tensor::new(&[1e-3f64, 5.0], &Device::Cpu)?, 0.5)?;
/// let x = d.sample(&[3], &mut Generator::new(2))?;
/// assert_eq!(x.dims(), &[3, 2]);
/// assert_eq!(d.mean()?.to_vec1::<f64>()?, vec![1e-3, 5.0]);
/// // r = 1 is the geometric law: P(k) = p^k (1 − p).
/// let g = NegativeBinomial::new(1.0f64, 0.25)?;
/// let lp = g.log_prob(&Tensor::new(2.0f32, &Device::Cpu)?)?.to_scalar::<f32>()?;
/// assert!((lp as f64 - (0.25f64.powi(2) * 0.75).ln()).abs() < 1e-6);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct NegativeBinomial {
    p: Params,
    bin: BinaryParam,
}

impl NegativeBinomial {
    probs_logits_constructors! {
        /// NegativeBinomial(total_count, probs): `total_count` ≥ 0, `probs` in [0, 1),
        /// broadcast against each other. Parameters are tensors or numbers (dtype rules:
        /// [`distribution`](crate::distribution)).
        new;
        /// NegativeBinomial(total_count, logits): success log-odds l = ln(p/(1 − p)).
        from_logits;
        "NegativeBinomial", Self::make; total_count: impl Into<Param>; scalars
    }

    fn make(given: Given, n: Param, x: Param, validate: Option<bool>) -> Result<Self> {
        let [n, x] = promote_params(NAME, [("total_count", n), (given.name(), x)])?;
        Self::build(&n, &x, given, validate)
    }

    fn build(n: &Tensor, x: &Tensor, given: Given, validate: Option<bool>) -> Result<Self> {
        // torch: probs in the half-open [0, 1) (p = 1 never stops), logits real.
        let c = match given {
            Given::Probs => Constraint::HalfOpenInterval(0.0, 1.0),
            Given::Logits => BinaryParam::constraint(given),
        };
        let p = Params::new(
            NAME,
            &[
                ("total_count", n, Constraint::NonNegative),
                (given.name(), x, c),
            ],
            validate,
        )?;
        let bin = BinaryParam::new(given, p.get(1), p.w(1));
        Ok(NegativeBinomial { p, bin })
    }

    /// The number of failures r, broadcast to `batch_shape`.
    pub fn total_count(&self) -> &Tensor {
        self.p.get(0)
    }

    probs_logits_accessors!(binary bin);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }

    /// The odds p/(1 − p) in f64, from the logarithms (exact near p = 1 from logits).
    fn wide_odds(&self) -> Result<Tensor> {
        let (lp, lq) = self.bin.log_probs()?;
        Ok((lp - lq)?.exp()?)
    }
}

impl Distribution for NegativeBinomial {
    params_methods!(discrete p, "");
    fn support(&self) -> Constraint {
        Constraint::NonNegativeInteger
    }

    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let r = host_f64(self.p.w(0))?;
        let lo = host_log_odds(&self.bin)?;
        sample_counts(
            NAME,
            &shape,
            self.dtype(),
            self.device(),
            [&r, &lo],
            rng.next_draw(),
            |[r, lo], s| negative_binomial(r, lo, s),
        )
    }

    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let (k, ok) = count_value(&self.p, value, None, SUPPORT)?;
        let r = self.p.w_at(0, &k)?;
        let res = negative_binomial_log_prob(&k, &r, self.bin.wide(), self.bin.given())?;
        self.p.out_for(value, outside_to_neg_inf(&res, &ok)?)
    }

    fn mean(&self) -> Result<Tensor> {
        self.p.out((self.p.w(0) * self.wide_odds()?)?)
    }

    fn mode(&self) -> Result<Tensor> {
        let r = self.p.w(0).detach();
        let m = ((r - 1.0)? * self.wide_odds()?.detach())?.floor()?.relu()?;
        self.p.out(m)
    }

    fn variance(&self) -> Result<Tensor> {
        let (_, lq) = self.bin.log_probs()?;
        let mean = (self.p.w(0) * self.wide_odds()?)?;
        self.p.out((mean / lq.exp()?)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        // The parameters were checked when this instance was built.
        let mut d = NegativeBinomial::build(&t[0], &t[1], self.bin.given(), Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}
