//! The multinomial distribution.

use super::categorical::{categorical_param, host_tensor};
use super::probs_logits::{
    probs_logits_accessors, probs_logits_constructors, CategoricalParam, Given,
};
use crate::constraints::Constraint;
use crate::distribution::{
    broadcast_to, prepare_event_value, result_dtype, sample_extent, Distribution, Param,
};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::special::{expm1, lgamma, xlogy};
use candle_core::{DType, Device, Tensor, D};

const NAME: &str = "Multinomial";

/// The multinomial distribution (torch's `Multinomial(total_count, probs|logits)`): the
/// counts of `total_count` independent categorical draws per class.
///
/// - Parameters: `total_count` n (a non-negative integer shared by the batch, as in
///   torch) and `probs` or `logits` of shape `batch_shape ++ [K]` (as
///   [`crate::Categorical`]); `event_shape = [K]`.
/// - Mass: P(x) = n! / Π_k x_k! · Π_k p_k^{x_k} on {x_k ∈ ℕ, Σ_k x_k = n};
///   log_prob = ln Γ(Σx + 1) − Σ ln Γ(x_k + 1) + Σ x_k ℓ_k with the terms x_k ℓ_k
///   taken as 0 where x_k = 0 (exact with −∞ logits), in f64.
/// - Mean n·p, variance n·p(1 − p); entropy by torch's enumeration over the binomial
///   marginals (O(n·K) per batch row).
/// - Sampling: n categorical draws per row, counted (a binary search per draw on the
///   row's cumulative sums, formed once): O(K + n log K) per row. There is no Binomial
///   sampler here to take the conditional-binomial route.
///
/// Departure from torch: with validation, values must be non-negative integers that
/// sum to `total_count` exactly (torch accepts any sum ≤ n, where the formula is not a
/// mass function).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, Multinomial};
/// let d = Multinomial::new(10, &Tensor::new(&[1.0f64, 1.0, 2.0], &Device::Cpu)?)?;
/// let x = d.sample(&[3], &mut Generator::new(0))?; // [3, 3], rows summing to 10
/// assert!(x.sum(1)?.to_vec1::<f64>()?.iter().all(|&s| s == 10.0));
/// let lp = d.log_prob(&Tensor::new(&[0.0f64, 0.0, 10.0], &Device::Cpu)?)?;
/// assert!((lp.to_scalar::<f64>()? - 10.0 * 0.5f64.ln()).abs() < 1e-12);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Multinomial {
    total_count: usize,
    param: CategoricalParam,
    batch_shape: Vec<usize>,
    event_shape: [usize; 1],
    validate: bool,
}

impl Multinomial {
    probs_logits_constructors! {
        /// Multinomial(total_count, probs).
        new;
        /// Multinomial(total_count, logits).
        from_logits;
        "Multinomial", |g, n, p, v| Self::build(n, g, p, v); total_count: usize; none
    }

    /// Multinomial(total_count, probs) for one row of weights, of `dtype` on `device`.
    pub fn from_scalars(
        total_count: usize,
        probs: &[f64],
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        Self::new(
            total_count,
            &host_tensor(probs.to_vec(), &[probs.len()], dtype, device)?,
        )
    }

    fn build(total_count: usize, given: Given, p: Param, validate: Option<bool>) -> Result<Self> {
        if total_count as u64 >= 1 << 53 {
            return Err(Error::InvalidParameter {
                distribution: NAME,
                parameter: "total_count",
                constraint: "an integer below 2^53 (exact in f64)".into(),
                found: total_count as f64,
                index: 0,
            });
        }
        let (param, validate) = categorical_param(NAME, given, p, validate)?;
        Ok(Self::from_param(total_count, param, validate))
    }

    fn from_param(total_count: usize, param: CategoricalParam, validate: bool) -> Self {
        Multinomial {
            total_count,
            batch_shape: param.batch_shape().to_vec(),
            event_shape: [param.num_events()],
            param,
            validate,
        }
    }

    /// n, the number of draws.
    pub fn total_count(&self) -> usize {
        self.total_count
    }

    probs_logits_accessors!(categorical param);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.validate = on;
    }

    /// Checks a value (f64, shape `… ++ [K]`): non-negative integer counts summing to n.
    fn check_counts(&self, v: &Tensor) -> Result<()> {
        let k = self.event_shape[0];
        let host = crate::constraints::host_f64(v)?;
        let constraint = || {
            format!(
                "multinomial counts (non-negative integers summing to total_count = {})",
                self.total_count
            )
        };
        for (r, row) in host.chunks(k).enumerate() {
            if let Some(j) = row
                .iter()
                .position(|&x| !(x >= 0.0 && x.fract() == 0.0 && x.is_finite()))
            {
                return Err(Error::OutOfSupport {
                    distribution: NAME,
                    argument: "value",
                    constraint: constraint(),
                    found: row[j],
                    index: r * k + j,
                });
            }
            let s: f64 = row.iter().sum();
            if s != self.total_count as f64 {
                return Err(Error::OutOfSupport {
                    distribution: NAME,
                    argument: "value",
                    constraint: constraint(),
                    found: s,
                    index: r * k,
                });
            }
        }
        Ok(())
    }
}

impl Distribution for Multinomial {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }

    fn event_shape(&self) -> &[usize] {
        &self.event_shape
    }

    /// Non-negative integers per class (torch: `multinomial(total_count)`; the crate's
    /// constraints have no sum condition, which `log_prob` checks itself).
    fn support(&self) -> Constraint {
        Constraint::Multinomial {
            upper_bound: self.total_count as u64,
        }
    }

    fn device(&self) -> &Device {
        self.param.raw().device()
    }

    fn dtype(&self) -> DType {
        self.param.raw().dtype()
    }

    fn validate_args(&self) -> bool {
        self.validate
    }

    fn rsample(&self, _sample_shape: &[usize], _rng: &mut Generator) -> Result<Tensor> {
        Err(super::no_rsample(NAME, ""))
    }

    /// Counts in the float dtype, shape `sample_shape ++ batch_shape ++ [K]`.
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = sample_extent(
            NAME,
            sample_shape,
            &self.batch_shape,
            &self.event_shape,
            self.dtype(),
        )?;
        let n_samples: usize = sample_shape.iter().product();
        let l = self.param.logits()?.detach();
        let v = crate::special::rows::categorical_counts(
            NAME,
            &l,
            n_samples,
            self.total_count,
            rng.next_draw(),
        )?;
        host_tensor(v, &shape, self.dtype(), self.device())
    }

    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let (x, _) = prepare_event_value(
            NAME,
            value,
            &self.batch_shape,
            &self.event_shape,
            DType::F64,
            self.device(),
        )?;
        let mask = if self.validate {
            self.check_counts(&x)?;
            None
        } else {
            // Counts: non-negative integers summing to n; other rows get −∞ (the formula
            // would read ln Γ at negative or fractional points).
            let bad = (x.lt(0.0)? + x.floor()?.ne(&x)?)?
                .to_dtype(DType::F64)?
                .sum(D::Minus1)?;
            Some((bad.eq(0.0)? * x.sum(D::Minus1)?.eq(self.total_count as f64)?)?)
        };
        let x = match &mask {
            // Rows outside the support are evaluated at a stand-in 0 and masked.
            Some(m) => {
                let m = m.unsqueeze(D::Minus1)?.broadcast_as(x.dims())?;
                m.where_cond(&x, &x.zeros_like()?)?
            }
            None => x,
        };
        let dt = result_dtype(self.dtype(), &self.batch_shape, value);
        let l = broadcast_to(&self.param.wide_logits()?, x.dims())?;
        let zero = x.zeros_like()?;
        let powers = x.eq(0.0)?.where_cond(&zero, &(&x * &l)?)?.sum(D::Minus1)?;
        let log_n = lgamma(&(x.sum(D::Minus1)? + 1.0)?)?;
        let log_x = lgamma(&(&x + 1.0)?)?.sum(D::Minus1)?;
        super::categorical::outside_is_neg_inf(((log_n - log_x)? + powers)?.to_dtype(dt)?, mask)
    }

    /// n·p.
    fn mean(&self) -> Result<Tensor> {
        Ok((self.param.wide_probs()? * self.total_count as f64)?.to_dtype(self.dtype())?)
    }

    /// n·p(1 − p).
    fn variance(&self) -> Result<Tensor> {
        let p = self.param.wide_probs()?;
        let v = ((&p * (1.0 - &p)?)? * self.total_count as f64)?;
        Ok(v.to_dtype(self.dtype())?)
    }

    /// torch's enumeration: n·H(Categorical) − ln n! + Σ_k Σ_{j=1..n} Binomial(j; n, p_k)
    /// ln j!, in f64 (O(n·K) per batch row). Classes of probability 0 contribute 0.
    fn entropy(&self) -> Result<Tensor> {
        let n = self.total_count;
        let l = self.param.wide_logits()?;
        let finite = l.ne(f64::NEG_INFINITY)?;
        let zero = l.zeros_like()?;
        let l0 = finite.where_cond(&l, &zero)?;
        let p = finite.where_cond(&l0.exp()?, &zero)?;
        let h_cat = (&p * &l0)?.sum(D::Minus1)?.neg()?;
        let nf = n as f64;
        let ln_n_fact = crate::special::gamma::lgamma(nf + 1.0);
        let term1 = ((h_cat * nf)? - ln_n_fact)?;
        if n == 0 || l.elem_count() == 0 {
            return Ok(term1.to_dtype(self.dtype())?);
        }
        crate::distribution::check_allocatable(
            NAME,
            l.dims(),
            l.elem_count().saturating_mul(n),
            8,
        )?;
        // The binomial marginal of class k: ln C(n, j) + j ln p_k + (n − j) ln(1 − p_k),
        // with 1 − p_k = −expm1(ℓ_k) (no cancellation near p_k = 1) and the classes of
        // probability 0 evaluated at a stand-in ℓ = ln ½ and masked afterwards (their
        // j ln 0 = −∞ would send 0·∞ = NaN through the backward).
        let half = (zero.clone() + 0.5f64.ln())?;
        let ls = finite.where_cond(&l, &half)?;
        let ps = ls.exp()?;
        let qs = expm1(&ls)?.neg()?;
        let mut dims = vec![1usize; l.rank() + 1];
        dims[0] = n;
        let j = Tensor::arange(1u32, n as u32 + 1, self.device())?
            .to_dtype(DType::F64)?
            .reshape(dims.as_slice())?;
        let mut full = vec![n];
        full.extend_from_slice(l.dims());
        let jb = j.broadcast_as(full.as_slice())?;
        let nj = (nf - &jb)?;
        let ln_j_fact = lgamma(&(&jb + 1.0)?)?;
        let ln_c = ((ln_n_fact - &ln_j_fact)? - lgamma(&(&nj + 1.0)?)?)?;
        let lp = ((ln_c + xlogy(&jb, &ps.broadcast_as(full.as_slice())?)?)?
            + xlogy(&nj, &qs.broadcast_as(full.as_slice())?)?)?;
        let t = (lp.exp()? * ln_j_fact)?;
        let mask = finite.unsqueeze(0)?.broadcast_as(full.as_slice())?;
        let t = mask.where_cond(&t, &t.zeros_like()?)?;
        let term2 = t.sum(0)?.sum(D::Minus1)?;
        Ok((term1 + term2)?.to_dtype(self.dtype())?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        Ok(Box::new(Self::from_param(
            self.total_count,
            self.param.expand(NAME, batch_shape)?,
            self.validate,
        )))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
