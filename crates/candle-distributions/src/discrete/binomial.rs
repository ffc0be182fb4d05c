//! The Binomial distribution.

use crate::constraints::{host_f64, Constraint};
use crate::discrete::probs_logits::{
    probs_logits_accessors, probs_logits_constructors, BinaryParam, Given,
};
use crate::distribution::{params_methods, promote_params, Distribution, Param, Params};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::samplers::counts::{
    binomial, binomial_entropy, binomial_log_prob, count_value, host_pq, outside_to_neg_inf,
    sample_counts,
};
use candle_core::{Device, Tensor};

const NAME: &str = "Binomial";

/// The support in words, for errors.
const SUPPORT: &str = "integer interval {0, ..., total_count}";

/// Most terms `entropy` sums over the whole batch (each element needs about
/// 80·√(n p (1 − p)) + 200).
const ENTROPY_MAX_TERMS: f64 = 1e8;

/// The Binomial distribution: the number of successes in `total_count` = n independent
/// trials of success probability p, given as `probs` p ∈ [0, 1] or `logits`
/// l = ln(p/(1 − p)).
///
/// Mass `P(k) = C(n, k) p^k (1 − p)^{n−k}` on k ∈ {0, …, n}; n is a tensor of
/// non-negative integer values in the float dtype (like torch), broadcast with p.
/// Mean np, variance np(1 − p), mode ⌊(n + 1)p⌋ clamped to n (torch's rule).
/// `log_prob` is ln C(n, k) + k ln p + (n − k) ln(1 − p), evaluated in f64 by Loader's
/// saddle-point form from whichever of probs/logits was given (exact to rounding for
/// every n, also 10¹⁵, and exactly 0 for the point masses at p = 0 and 1), with
/// analytic gradients in n, probs and logits. Draws (no
/// `rsample`: the law is discrete) are counts in the float dtype: BTRS for
/// n·min(p, 1 − p) ≥ 10, inversion below, exact for n up to 2⁵³
/// ([`crate::samplers::counts`]).
///
/// `entropy` sums −f ln f over the support exactly (with its gradient), also for
/// inhomogeneous total counts (torch requires one total count), and is
/// `NotImplemented` only where the sum would need more than 10⁸ terms (about
/// n p (1 − p) > 10¹²: torch would enumerate the whole support there).
/// `enumerate_support` needs one total count, like torch.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Binomial, Distribution, Generator};
/// let d = Binomial::new(&Tensor::new(&[10.0f64, 1e6], &Device::Cpu)?, 0.25)?;
/// let x = d.sample(&[4], &mut Generator::new(0))?;
/// assert_eq!(x.dims(), &[4, 2]);
/// let lp = d.log_prob(&Tensor::new(&[0.0f64, 250_000.0], &Device::Cpu)?)?;
/// let lp = lp.to_vec1::<f64>()?;
/// assert!((lp[0] - 10.0 * 0.75f64.ln()).abs() < 1e-12); // P(0) = (1 − p)^n
/// assert!(lp[1] < 0.0 && lp[1] > -10.0);
/// assert_eq!(d.mean()?.to_vec1::<f64>()?, vec![2.5, 250_000.0]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Binomial {
    p: Params,
    bin: BinaryParam,
}

impl Binomial {
    probs_logits_constructors! {
        /// Binomial(total_count, probs): `total_count` non-negative integers, `probs` in
        /// [0, 1], broadcast against each other. Parameters are tensors or numbers (dtype
        /// rules: [`distribution`](crate::distribution)).
        new;
        /// Binomial(total_count, logits): success log-odds l = ln(p/(1 − p)) ∈ ℝ ∪ {±∞}.
        from_logits;
        "Binomial", Self::make; total_count: impl Into<Param>; scalars
    }

    fn make(given: Given, n: Param, x: Param, validate: Option<bool>) -> Result<Self> {
        let [n, x] = promote_params(NAME, [("total_count", n), (given.name(), x)])?;
        Self::build(&n, &x, given, validate)
    }

    fn build(n: &Tensor, x: &Tensor, given: Given, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("total_count", n, Constraint::NonNegativeInteger),
                (given.name(), x, BinaryParam::constraint(given)),
            ],
            validate,
        )?;
        let bin = BinaryParam::new(given, p.get(1), p.w(1));
        Ok(Binomial { p, bin })
    }

    /// The probs/logits pair, for code that needs to know which one was given (KL).
    pub(crate) fn pair(&self) -> &BinaryParam {
        &self.bin
    }

    /// The number of trials n, broadcast to `batch_shape`.
    pub fn total_count(&self) -> &Tensor {
        self.p.get(0)
    }

    probs_logits_accessors!(binary bin);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }

    /// 1 − p in f64, exact also for p near 1 when logits were given.
    fn wide_q(&self) -> Result<Tensor> {
        Ok(self.bin.log_probs()?.1.exp()?)
    }
}

impl Distribution for Binomial {
    params_methods!(discrete p, "");
    /// {0, …, total_count}: `IntegerInterval(0, n)` where every batch element has the
    /// same total count n (below 2⁶³), else `DependentIntegerInterval` with the tensor
    /// bounds 0 and total_count.
    fn support(&self) -> Constraint {
        if let Ok(n) = host_f64(self.total_count()) {
            if let Some(&first) = n.first() {
                if n.iter().all(|&x| x == first)
                    && first >= 0.0
                    && first.fract() == 0.0
                    && first < 9.2e18
                {
                    return Constraint::IntegerInterval(0, first as i64);
                }
            }
        }
        Constraint::DependentIntegerInterval {
            low: self
                .total_count()
                .zeros_like()
                .unwrap_or_else(|_| self.total_count().clone()),
            high: self.total_count().clone(),
        }
    }

    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let n = host_f64(self.p.w(0))?;
        let (p, q) = host_pq(&self.bin)?;
        sample_counts(
            NAME,
            &shape,
            self.dtype(),
            self.device(),
            [&n, &p, &q],
            rng.next_draw(),
            |[n, p, q], s| binomial(n, p, q, s),
        )
    }

    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let (k, ok) = count_value(&self.p, value, Some(self.total_count()), SUPPORT)?;
        let n = self.p.w_at(0, &k)?;
        let r = binomial_log_prob(&k, &n, self.bin.wide(), self.bin.given())?;
        self.p.out_for(value, outside_to_neg_inf(&r, &ok)?)
    }

    /// −Σ_k P(k) ln P(k) over the support (see the type's docs).
    fn entropy(&self) -> Result<Tensor> {
        let n = host_f64(self.p.w(0))?;
        let (p, q) = host_pq(&self.bin)?;
        let terms: f64 = n
            .iter()
            .zip(&p)
            .zip(&q)
            .map(|((n, p), q)| 80.0 * (n * p * q).sqrt() + 200.0)
            .sum();
        if terms.is_nan() || terms > ENTROPY_MAX_TERMS {
            return Err(Error::NotImplemented {
                distribution: NAME,
                method: "entropy",
                reason: Some(format!(
                    "the sum over the support would take about {terms:.3e} terms (more than \
                     {ENTROPY_MAX_TERMS:e}); torch enumerates the whole support"
                )),
            });
        }
        let h = entropy_op(self.p.w(0), self.bin.wide(), self.bin.given())?;
        self.p.out(h)
    }

    fn mean(&self) -> Result<Tensor> {
        self.p.out((self.p.w(0) * self.bin.wide_probs()?)?)
    }

    fn mode(&self) -> Result<Tensor> {
        let n = self.p.w(0).detach();
        let m = ((&n + 1.0)? * self.bin.wide_probs()?.detach())?
            .floor()?
            .minimum(&n)?;
        self.p.out(m)
    }

    fn variance(&self) -> Result<Tensor> {
        self.p
            .out(((self.p.w(0) * self.bin.wide_probs()?)? * self.wide_q()?)?)
    }

    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let n = host_f64(self.total_count())?;
        let Some(&first) = n.first() else {
            return Err(Error::NotImplemented {
                distribution: NAME,
                method: "enumerate_support",
                reason: Some("an empty batch has no total count to enumerate".into()),
            });
        };
        if n.iter().any(|&x| x != first) {
            return Err(Error::NotImplemented {
                distribution: NAME,
                method: "enumerate_support",
                reason: Some("inhomogeneous total_count is not supported (as in torch)".into()),
            });
        }
        if !(first >= 0.0 && first.fract() == 0.0 && first < (1u64 << 32) as f64) {
            return Err(Error::NotImplemented {
                distribution: NAME,
                method: "enumerate_support",
                reason: Some(format!(
                    "the support of total_count {first} has too many values to enumerate                      (at most 2^32)"
                )),
            });
        }
        let k = first as usize + 1;
        let batch = self.batch_shape();
        let mut dims = vec![k];
        dims.extend(std::iter::repeat_n(1, batch.len()));
        let v = Tensor::arange(0u32, k as u32, &Device::Cpu)?
            .to_dtype(self.dtype())?
            .reshape(dims)?
            .to_device(self.device())?;
        if expand {
            let mut full = vec![k];
            full.extend_from_slice(batch);
            crate::distribution::expand_extent(NAME, &full)?;
            Ok(v.broadcast_as(full)?)
        } else {
            Ok(v)
        }
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        // The parameters were checked when this instance was built.
        let mut d = Binomial::build(&t[0], &t[1], self.bin.given(), Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// The Binomial entropy of f64 tensors n and x (probs or logits per `given`), with its
/// gradients dH/dn and dH/dx (dH/dp = (dH/dl)/(p(1 − p)) from probs).
fn entropy_op(n: &Tensor, x: &Tensor, given: Given) -> Result<Tensor> {
    crate::special::kernel::on_cpu(&[n, x], |v| v[0].apply_op2(&v[1], EntropyOp { given }))
}

struct EntropyOp {
    given: Given,
}

impl EntropyOp {
    fn pq(&self, x: f64) -> (f64, f64) {
        use crate::special::scalar::sigmoid;
        match self.given {
            Given::Probs => (x, 1.0 - x),
            Given::Logits => (sigmoid(x), sigmoid(-x)),
        }
    }
}

impl candle_core::CustomOp2 for EntropyOp {
    fn name(&self) -> &'static str {
        "binomial_entropy"
    }

    fn cpu_fwd(
        &self,
        s1: &candle_core::CpuStorage,
        l1: &candle_core::Layout,
        s2: &candle_core::CpuStorage,
        l2: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use crate::special::kernel::gather;
        use candle_core::CpuStorage;
        let (CpuStorage::F64(n), CpuStorage::F64(x)) = (s1, s2) else {
            candle_core::bail!("binomial_entropy: expected f64 inputs")
        };
        let (n, x) = (gather(n, l1), gather(x, l2));
        let out = n
            .iter()
            .zip(x.iter())
            .map(|(&n, &x)| {
                let (p, q) = self.pq(x);
                binomial_entropy(n, p, q, f64::INFINITY).map_or(f64::NAN, |r| r.0)
            })
            .collect();
        Ok((CpuStorage::F64(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        n: &Tensor,
        x: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let nv = n.flatten_all()?.to_vec1::<f64>()?;
        let xv = x.flatten_all()?.to_vec1::<f64>()?;
        let (mut dn, mut dx) = (Vec::with_capacity(nv.len()), Vec::with_capacity(nv.len()));
        for (&n, &x) in nv.iter().zip(&xv) {
            let (p, q) = self.pq(x);
            let (_, a, b) =
                binomial_entropy(n, p, q, f64::INFINITY).unwrap_or((0.0, f64::NAN, f64::NAN));
            dn.push(a);
            dx.push(match self.given {
                Given::Logits => b,
                Given::Probs if p * q > 0.0 => b / (p * q),
                // The point masses at p = 0 and 1: dH/dp = ∓∞ · … is −n ln p → +∞ at 0.
                Given::Probs if n > 0.0 => {
                    if p == 0.0 {
                        f64::INFINITY
                    } else {
                        f64::NEG_INFINITY
                    }
                }
                Given::Probs => 0.0,
            });
        }
        let dn = Tensor::from_vec(dn, n.shape(), n.device())?;
        let dx = Tensor::from_vec(dx, x.shape(), x.device())?;
        Ok((Some((g * dn)?), Some((g * dx)?)))
    }
}
