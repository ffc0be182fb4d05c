//! The geometric distribution (failures before the first success).

use super::probs_logits::{probs_logits_accessors, probs_logits_constructors, BinaryParam, Given};
use crate::constraints::Constraint;
use crate::distribution::{check_param, params_methods, Distribution, Param, Params};
use crate::error::Result;
use crate::rng::Generator;
use candle_core::{DType, Tensor};
use std::sync::OnceLock;

const NAME: &str = "Geometric";

/// The geometric distribution (torch's `Geometric(probs | logits)`): the number of
/// failures before the first success in Bernoulli(p) trials,
/// `P(X = k) = (1 − p)^k p` for k = 0, 1, 2, …
///
/// - Parameters: `probs` p ∈ (0, 1] (torch's check: in [0, 1] and positive), or
///   `logits` l = ln(p/(1 − p)) any real (l = −∞ is p = 0, accepted as in torch: the
///   law then has no mass anywhere and its moments are +∞).
/// - Support {0, 1, 2, …} (`Constraint::NonNegativeInteger`); draws are counts in the
///   parameters' dtype.
/// - `log_prob(k) = k ln(1 − p) + ln p` in f64 from the parameter as given, with
///   0·ln 0 = 0 (so p = 1 gives 0 at k = 0 and −∞ above, with finite gradients),
///   ln(1 − p) = ln1p(−p) from probs and −softplus(l) from logits.
/// - entropy `(−p ln p − (1 − p) ln(1 − p))/p`, mean `(1 − p)/p`, variance
///   `(1 − p)/p²`, mode 0; all +∞ at p = 0 (and huge but finite, or +∞ once they exceed
///   the dtype's range, as p → 0+).
/// - `sample` by inversion, `⌊E/|ln(1 − p)|⌋` with E = −ln U exponential and
///   ln(1 − p) exact (ln1p(−p), or −softplus(l)): exact rates for tiny p, 0 at p = 1;
///   draws beyond the dtype's range (p below ~1e-38 in f32, or p = 0) are capped at the
///   dtype's largest finite number (an integer, so the draw stays in the support and
///   its `log_prob` is finite), never +∞ or NaN.
/// - No `rsample`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Geometric};
/// let d = Geometric::new(&Tensor::new(&[0.25f64], &Device::Cpu)?)?;
/// assert_eq!(d.mean()?.to_vec1::<f64>()?, vec![3.0]);
/// let lp = d.log_prob(&Tensor::new(&[2.0f64], &Device::Cpu)?)?.to_vec1::<f64>()?;
/// assert!((lp[0] - (0.75f64 * 0.75 * 0.25).ln()).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Geometric {
    params: Params,
    given: Given,
    pair: OnceLock<BinaryParam>,
}

impl Geometric {
    probs_logits_constructors! {
        /// Geometric(probs), probs ∈ (0, 1]: a tensor or a number (dtype rules:
        /// [`distribution`](crate::distribution)).
        new;
        /// Geometric(logits = l), l = ln(p/(1 − p)) any real.
        from_logits;
        "Geometric", Self::make; ; scalars
    }

    fn make(given: Given, p: Param, validate: Option<bool>) -> Result<Self> {
        let [t] = crate::distribution::promote_params(NAME, [(given.name(), p)])?;
        Self::build(given, &t, validate)
    }

    fn build(given: Given, t: &Tensor, validate: Option<bool>) -> Result<Self> {
        let params = Params::new(
            NAME,
            &[(given.name(), t, BinaryParam::constraint(given))],
            validate,
        )?;
        if params.validate() && given == Given::Probs {
            check_param(NAME, "probs", params.get(0), &Constraint::Positive)?;
        }
        Ok(Geometric {
            params,
            given,
            pair: OnceLock::new(),
        })
    }

    probs_logits_accessors!(lazy params[0]);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.params.set_validate(on);
    }

    /// (p, 1 − p) in f64, with p replaced by 1 where it is 0 (for divisions whose
    /// result is then overwritten), and the mask p = 0.
    fn safe_probs(&self) -> Result<(Tensor, Tensor, Tensor)> {
        let pair = self.pair();
        let p = pair.wide_probs()?;
        let zero = p.eq(0.0)?;
        let safe = zero.where_cond(&p.ones_like()?, &p)?;
        Ok((safe, pair.wide_complement()?, zero))
    }

    /// `t` where p > 0 and +∞ where p = 0, in the dtype.
    fn inf_at_zero(&self, zero: &Tensor, t: Tensor) -> Result<Tensor> {
        let inf = (t.ones_like()? * f64::INFINITY)?;
        self.params.out(zero.where_cond(&inf, &t)?)
    }
}

impl Distribution for Geometric {
    params_methods!(discrete params, "");
    fn support(&self) -> Constraint {
        Constraint::NonNegativeInteger
    }
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.params.sample_shape(sample_shape)?;
        let (_, ln_q) = self.pair().log_probs()?;
        let rate = ln_q.detach().abs()?;
        let e = rng
            .uniform(&shape, DType::F64, self.device())?
            .log()?
            .neg()?;
        // Counts beyond the dtype's range (p below ~1e-38 in f32, p = 0) are capped at
        // its largest finite number, itself an integer: a draw stays in the support and
        // its log_prob is finite.
        let max = crate::samplers::finite_max(self.dtype());
        let k = e.broadcast_div(&rate)?.floor()?.minimum(max)?;
        Ok(k.to_dtype(self.dtype())?)
    }
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let k = self
            .params
            .wide_value(value, &Constraint::NonNegativeInteger)?;
        // k = +∞ (outside the support; reachable with checks off) has mass 0, also at
        // p = 0 where ∞·ln 1 would be NaN; the stand-in k = 0 keeps the backward finite.
        let inf = k.eq(f64::INFINITY)?;
        let k = inf.where_cond(&k.zeros_like()?, &k)?;
        let lp = self.pair().weighted_log_probs(&k.ones_like()?, &k)?;
        let lp = inf.where_cond(&(lp.ones_like()? * f64::NEG_INFINITY)?, &lp)?;
        self.params.out_for(value, lp)
    }
    fn entropy(&self) -> Result<Tensor> {
        let pair = self.pair();
        let p = pair.wide_probs()?;
        let (safe, q, zero) = self.safe_probs()?;
        let h = (pair.weighted_log_probs(&p, &q)?.neg()? / safe)?;
        self.inf_at_zero(&zero, h)
    }
    fn mean(&self) -> Result<Tensor> {
        let (safe, q, zero) = self.safe_probs()?;
        self.inf_at_zero(&zero, (q / safe)?)
    }
    fn mode(&self) -> Result<Tensor> {
        Ok(self.params.get(0).zeros_like()?.detach())
    }
    fn variance(&self) -> Result<Tensor> {
        let (safe, q, zero) = self.safe_probs()?;
        self.inf_at_zero(&zero, (q / safe.sqr()?)?)
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let p = self.params.expanded(batch_shape)?;
        let mut d = Self::build(self.given, &p[0], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}
