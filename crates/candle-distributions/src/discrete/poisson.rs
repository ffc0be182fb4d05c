//! The Poisson distribution.

use crate::constraints::{host_f64, Constraint};
use crate::distribution::{params_constructors, params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::counts::{
    count_value, outside_to_neg_inf, poisson, poisson_log_prob, sample_counts,
};
use crate::special;
use candle_core::{DType, Tensor};

const NAME: &str = "Poisson";

/// The support in words, for errors.
const SUPPORT: &str = "non-negative integer";

/// The Poisson distribution with `rate` λ ≥ 0.
///
/// Mass `P(k) = λ^k e^{−λ} / k!` on k ∈ {0, 1, 2, …}. Mean λ, variance λ, mode ⌊λ⌋
/// (torch's rule). `log_prob` is k ln λ − λ − ln Γ(k + 1), evaluated in f64 by Loader's
/// saddle-point form (exact to rounding at every rate, 10¹⁵ included, where the direct
/// sum loses several units), with 0·ln 0 = 0 (so Poisson(0) is the point mass at 0:
/// log_prob(0) = 0) and the gradient k/λ − 1 in λ.
/// `cdf` is P(X ≤ k) = Q(k + 1, λ), the regularized upper incomplete gamma function
/// (differentiable in λ; torch has no Poisson cdf). No entropy (torch has none), no
/// `rsample` (the law is discrete). Draws are counts in the float dtype: PTRS for
/// λ ≥ 10, inversion below, exact at every finite rate up to the dtype's resolution
/// ([`crate::samplers::counts`]).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, Poisson};
/// let d = Poisson::new(&Tensor::new(&[0.0f64, 3.0, 1e5], &Device::Cpu)?)?;
/// let x = d.sample(&[2], &mut Generator::new(1))?;
/// assert_eq!(x.dims(), &[2, 3]);
/// let lp = d.log_prob(&Tensor::new(&[0.0f64, 0.0, 1e5], &Device::Cpu)?)?.to_vec1::<f64>()?;
/// assert_eq!(lp[0], 0.0);
/// assert!((lp[1] + 3.0).abs() < 1e-15);
/// assert!(lp[2] < 0.0 && lp[2] > -7.0);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Poisson {
    p: Params,
}

impl Poisson {
    params_constructors! {
        /// Poisson(rate), rate ≥ 0. The parameter is a tensor or a number (dtype rules:
        /// [`distribution`](crate::distribution)).
        "Poisson", |r: &Tensor, v| Self::build(r, v); rate
    }

    fn build(rate: &Tensor, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(NAME, &[("rate", rate, Constraint::NonNegative)], validate)?;
        Ok(Poisson { p })
    }

    /// The rate λ, broadcast to `batch_shape`.
    pub fn rate(&self) -> &Tensor {
        self.p.get(0)
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }
}

impl Distribution for Poisson {
    params_methods!(discrete p, "");
    fn support(&self) -> Constraint {
        Constraint::NonNegativeInteger
    }

    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let rate = host_f64(self.p.w(0))?;
        sample_counts(
            NAME,
            &shape,
            self.dtype(),
            self.device(),
            [&rate],
            rng.next_draw(),
            |[lam], s| poisson(lam, s),
        )
    }

    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let (k, ok) = count_value(&self.p, value, None, SUPPORT)?;
        let lam = self.p.w_at(0, &k)?;
        let r = poisson_log_prob(&k, &lam)?;
        self.p.out_for(value, outside_to_neg_inf(&r, &ok)?)
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let (k, ok) = count_value(&self.p, value, None, SUPPORT)?;
        let lam = self.p.w_at(0, &k)?;
        let c = cdf_at_counts(&k, &lam)?;
        // Outside the support (validation off): the cdf of the largest count below.
        let below = value_floor_cdf(&self.p, value, &lam)?;
        let c = ok.ne(0.0)?.where_cond(&c, &below)?;
        self.p.out_for(value, c)
    }

    fn mean(&self) -> Result<Tensor> {
        Ok(self.rate().clone())
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(self.rate().floor()?)
    }

    fn variance(&self) -> Result<Tensor> {
        Ok(self.rate().clone())
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        // The parameters were checked when this instance was built.
        let mut d = Poisson::build(&t[0], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// P(X ≤ x) at values x that are not counts (validation off): Q(⌊x⌋ + 1, λ) for finite
/// x ≥ 0, 0 below 0, 1 at +∞, NaN at NaN; detached (the value is not a count).
fn value_floor_cdf(p: &Params, value: &Tensor, lam: &Tensor) -> Result<Tensor> {
    let x = crate::distribution::checked_argument(
        p.dist(),
        "value",
        value,
        p.batch_shape(),
        &[],
        DType::F64,
        p.device(),
        None,
    )?
    .detach();
    let lam = lam.detach();
    let fl = x.floor()?;
    let finite = x.abs()?.lt(f64::INFINITY)?;
    let nonneg = x.ge(0.0)?;
    let safe = finite.where_cond(&fl, &fl.zeros_like()?)?.relu()?;
    let q = cdf_at_counts(&safe, &lam)?;
    let zero = q.zeros_like()?;
    let one = q.ones_like()?;
    let q = finite.where_cond(&q, &one)?;
    let q = nonneg.where_cond(&q, &zero)?;
    // NaN compares false everywhere above: restore it.
    let nan = x.ne(&x)?;
    Ok(nan.where_cond(&x, &q)?)
}

/// P(X ≤ k) = Q(k + 1, λ) at counts k (f64), differentiable in λ. Where the answer is
/// 0 or 1 to f64 precision it is set without evaluating Q, whose series and continued
/// fractions take up to a quarter of a second per element for λ near f64::MAX: below
/// the mode the masses increase, so P(X ≤ k) ≤ (k + 1) P(X = k), which underflows once
/// ln P(X = k) + ln(k + 1) < −746; above it P(X > k) ≤ P(X = k + 1)/(1 − λ/(k + 2)),
/// below 2⁻⁵⁴ (so 1 − it rounds to 1) once its logarithm is below −38.
fn cdf_at_counts(k: &Tensor, lam: &Tensor) -> Result<Tensor> {
    let (kd, ld) = (k.detach(), lam.detach());
    let low = kd.lt(&ld)?.to_dtype(DType::F64)?
        * (poisson_log_prob(&kd, &ld)? + (&kd + 1.0)?.log()?)?
            .lt(-746.0)?
            .to_dtype(DType::F64)?;
    let k1 = (&kd + 1.0)?;
    let tail = (poisson_log_prob(&k1, &ld)? - special::log1p(&(&ld / (&kd + 2.0)?)?.neg()?)?)?;
    let high = (kd.gt(&ld)?.to_dtype(DType::F64)? * tail.lt(-38.0)?.to_dtype(DType::F64)?)?;
    let low = low?.ne(0.0)?;
    let high = high.ne(0.0)?;
    let either = low.maximum(&high)?;
    // Harmless arguments where the answer is set: Q(1, 1).
    let ones = kd.ones_like()?;
    let a = either.where_cond(&ones, &k1)?;
    let x = either.where_cond(&ones, lam)?;
    let q = special::gammainc_q(&a, &x)?;
    let q = low.where_cond(&q.zeros_like()?, &q)?;
    Ok(high.where_cond(&q.ones_like()?, &q)?)
}
