//! The Bernoulli distribution, and the fused 0/1 sampler that the binary families share.

use super::probs_logits::{probs_logits_accessors, probs_logits_constructors, BinaryParam, Given};
use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Param, Params};
use crate::error::{Error, Result};
use crate::rng::{Draw, Generator, CHUNK};
use candle_core::{CpuStorage, DType, Device, Storage, Tensor};
use std::sync::OnceLock;

const NAME: &str = "Bernoulli";

/// The Bernoulli distribution (torch's `Bernoulli(probs | logits)`): `P(X = 1) = p`,
/// `P(X = 0) = 1 − p`, given by `probs` p ∈ [0, 1] or by `logits` l = ln(p/(1 − p))
/// (any real, ±∞ included).
///
/// - Support {0, 1} (`Constraint::Boolean`); draws are 0.0/1.0 in the parameters' dtype.
/// - `log_prob(x) = x ln p + (1 − x) ln(1 − p)`, evaluated in f64 from the parameter as
///   given (ln p and ln1p(−p) from probs, −softplus(∓l) from logits) with 0·ln 0 = 0,
///   so `probs = 1e-4` gives ln 1e-4 at x = 1 with gradient 1e4, `logits = ±1e38` (f32)
///   give finite values and `logits = ±∞` their limits 0 and −∞, never NaN.
/// - entropy `−p ln p − (1 − p) ln(1 − p)` (0 at p ∈ {0, 1}), mean p, variance
///   p(1 − p), mode 1 for p > ½, 0 for p < ½ and NaN at p = ½ (torch's rule),
///   `enumerate_support` [0, 1] along a new leading dimension.
/// - No `rsample` (a draw is piecewise constant in p): use score-function gradients
///   through `log_prob`, or `RelaxedBernoulli`.
///
/// Sampling is one fused pass that never materialises the probabilities: element i
/// compares its 32-bit word with 2³²·p and reads 53 more bits only on a tie, so rates
/// down to about 1e-25 are exact, from probs or logits, in f32 or f64.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Bernoulli, Distribution, Generator};
/// let p = Var::new(&[1e-4f64], &Device::Cpu)?;
/// let d = Bernoulli::new(&p)?;
/// let lp = d.log_prob(&Tensor::new(&[1.0f64], &Device::Cpu)?)?;
/// assert!((lp.to_vec1::<f64>()?[0] - 1e-4f64.ln()).abs() < 1e-15);
/// let g = lp.sum_all()?.backward()?;
/// assert!((g.get(&p).unwrap().to_vec1::<f64>()?[0] - 1e4).abs() < 1e-9);
/// let x = d.sample(&[3], &mut Generator::new(0))?;
/// assert_eq!(x.dims(), &[3, 1]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Bernoulli {
    params: Params,
    given: Given,
    /// Made on first use: sampling reads the raw parameter and never pays for the f64
    /// copy.
    pair: OnceLock<BinaryParam>,
}

impl Bernoulli {
    probs_logits_constructors! {
        /// Bernoulli(probs), probs ∈ [0, 1]: a tensor or a number (dtype rules:
        /// [`distribution`](crate::distribution)).
        new;
        /// Bernoulli(logits = l), l = ln(p/(1 − p)) any real (±∞ give p = 1, 0).
        from_logits;
        "Bernoulli", Self::make; ; scalars
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
        Ok(Bernoulli {
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
}

impl Distribution for Bernoulli {
    params_methods!(discrete params, "RelaxedBernoulli");
    fn support(&self) -> Constraint {
        Constraint::Boolean
    }
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.params.sample_shape(sample_shape)?;
        fill_bernoulli(NAME, self.given, self.params.get(0), &shape, rng)
    }
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let v = self.params.wide_value(value, &Constraint::Boolean)?;
        let lp = self
            .pair()
            .weighted_log_probs(&v, &v.neg()?.affine(1.0, 1.0)?)?;
        self.params.out_for(value, lp)
    }
    fn entropy(&self) -> Result<Tensor> {
        let pair = self.pair();
        let (p, q) = (pair.wide_probs()?, pair.wide_complement()?);
        let h = pair.weighted_log_probs(&p, &q)?.neg()?;
        self.params.out(h)
    }
    fn mean(&self) -> Result<Tensor> {
        self.probs()
    }
    fn mode(&self) -> Result<Tensor> {
        let p = self.probs()?;
        let one = p.ge(0.5)?.to_dtype(p.dtype())?;
        let nan = (p.ones_like()? * f64::NAN)?;
        Ok(p.eq(0.5)?.where_cond(&nan, &one)?.detach())
    }
    fn variance(&self) -> Result<Tensor> {
        let pair = self.pair();
        self.params
            .out((pair.wide_probs()? * pair.wide_complement()?)?)
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        binary_support(
            self.params.batch_shape(),
            self.dtype(),
            self.device(),
            expand,
        )
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let p = self.params.expanded(batch_shape)?;
        let mut d = Self::build(self.given, &p[0], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// The values 0 and 1 along a new leading dimension: shape `[2, 1, …, 1]` (one 1 per
/// batch dimension), or `[2] ++ batch_shape` when `expand` (torch's
/// `enumerate_support`).
pub(crate) fn binary_support(
    batch_shape: &[usize],
    dtype: DType,
    device: &Device,
    expand: bool,
) -> Result<Tensor> {
    let mut shape = vec![2usize];
    shape.extend(std::iter::repeat_n(1, batch_shape.len()));
    let v = Tensor::new(&[0.0f64, 1.0], device)?
        .to_dtype(dtype)?
        .reshape(shape)?;
    if expand {
        let mut full = vec![2usize];
        full.extend_from_slice(batch_shape);
        Ok(v.broadcast_as(full)?.contiguous()?)
    } else {
        Ok(v)
    }
}

// ---------------------------------------------------------------------------------
// The fused sampler.
//
// Element i of a draw takes the 32-bit word i % 4 of block i / 4 of the draw's
// sub-stream 1 (the vectorized `first_blocks`), read as the top bits of a uniform
// U = (w + V)/2^32, V ∈ (0, 1) the bits below. With the threshold written as
// s = 2^32·t, U < t is decided by w < ⌊s⌋ (hit) or w > ⌊s⌋ (miss); only w = ⌊s⌋
// (probability 2^-32) needs V, which then comes from the element's own stream past its
// first block (sub-streams ≥ 2, disjoint from every element's word): V < s − w in f64.
// So the rate is exact to the precision of s (an 85-bit uniform), not the 2^-24 or
// 2^-53 grid of a float uniform: p = 1e-12 keeps its rate. From logits the threshold is
// t = σ(−|l|) ≤ ½ and the draw is (U < t) XOR (l ≥ 0), so p near 1 is as exact as p
// near 0, and σ(l) is never formed.
// ---------------------------------------------------------------------------------

const TWO32: f64 = 4_294_967_296.0;

/// How one parameter element maps to the comparison `(U < s/2^32) != flip`.
trait Rule<T>: Sync {
    /// (s, flip, NaN parameter).
    fn split(x: T) -> (f64, bool, bool);
    /// ⌊s⌋ as the word threshold (saturated into u32), consistent with `split`.
    fn floor(x: T) -> u32 {
        let (s, _, _) = Self::split(x);
        s as u32
    }
    /// One run of elements sharing consecutive parameters; returns whether some word
    /// equalled its threshold (and needs [`refine`]).
    fn run(out: &mut [T], words: &[u32], xs: &[T], value: fn(bool, bool) -> T) -> bool
    where
        T: Copy,
    {
        let mut tie = false;
        for ((o, &w), &x) in out.iter_mut().zip(words).zip(xs) {
            let (s, flip, nan) = Self::split(x);
            let k = s as u32;
            tie |= w == k;
            *o = value((w < k) != flip, nan);
        }
        tie
    }
}

struct ProbsRule;
struct LogitsRule;

impl<T: Into<f64> + Copy> Rule<T> for ProbsRule {
    #[inline(always)]
    fn split(x: T) -> (f64, bool, bool) {
        let p: f64 = x.into();
        (p * TWO32, false, p.is_nan())
    }
}

impl Rule<f64> for LogitsRule {
    #[inline(always)]
    fn split(x: f64) -> (f64, bool, bool) {
        let z = (-x.abs()).exp();
        (TWO32 * z / (1.0 + z), x >= 0.0, x.is_nan())
    }
}

impl Rule<f32> for LogitsRule {
    #[inline(always)]
    fn split(x: f32) -> (f64, bool, bool) {
        (logit_threshold_f32(x) as f64, x >= 0.0, x.is_nan())
    }
    #[inline(always)]
    fn floor(x: f32) -> u32 {
        floor_f32(logit_threshold_f32(x))
    }
    fn run(out: &mut [f32], words: &[u32], xs: &[f32], _value: fn(bool, bool) -> f32) -> bool {
        #[cfg(target_arch = "x86_64")]
        if crate::rng::has_avx2() {
            // SAFETY: the CPU supports AVX2 and FMA is not used for contraction (Rust
            // never fuses a·b + c on its own), so both paths give the same bits.
            return unsafe { logits_f32_avx2(out, words, xs) };
        }
        logits_f32_body(out, words, xs)
    }
}

/// 2^32·σ(−|l|) in f32, branch-free: e^{−|l|} by [`exp_neg_f32`], then
/// 2^32·z/(1 + z) ∈ [0, 2^31].
#[inline(always)]
fn logit_threshold_f32(x: f32) -> f32 {
    let z = exp_neg_f32(x.abs());
    z * (TWO32 as f32) / (1.0 + z)
}

/// ⌊s⌋ for s ∈ [0, 2^31] (not NaN), without Rust's saturating float-to-int cast,
/// which does not vectorize: below 2^31 the largest f32 is 2^31 − 128, so the
/// unchecked conversion of s clamped there is in range, and s = 2^31 is selected apart.
#[inline(always)]
fn floor_f32(s: f32) -> u32 {
    const BELOW: f32 = 2_147_483_520.0;
    // SAFETY: s.min(BELOW) is finite and in [0, 2^31 − 128] (min with NaN gives BELOW).
    let k = unsafe { s.min(BELOW).to_int_unchecked::<i32>() } as u32;
    if s > BELOW {
        0x8000_0000
    } else {
        k
    }
}

#[inline(always)]
fn logits_f32_body(out: &mut [f32], words: &[u32], xs: &[f32]) -> bool {
    let mut tie = false;
    for ((o, &w), &x) in out.iter_mut().zip(words).zip(xs) {
        let k = floor_f32(logit_threshold_f32(x));
        tie |= w == k;
        let one = (w < k) != (x >= 0.0);
        let v = if one { 1.0 } else { 0.0 };
        *o = if x.is_nan() { f32::NAN } else { v };
    }
    tie
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn logits_f32_avx2(out: &mut [f32], words: &[u32], xs: &[f32]) -> bool {
    logits_f32_body(out, words, xs)
}

/// e^{−a} for a ≥ 0 in f32, vectorizable (no branches, no libm call): Cody–Waite
/// reduction a = n ln 2 + r with |r| ≤ ln 2/2, e^{−r} by its degree-7 Taylor polynomial
/// (truncation below 6e-9 relative), and 2^n built in the exponent bits. Relative error
/// a few ulps. Returns 0 above a = 87 (where e^{−a} leaves f32's normal range; the
/// Bernoulli threshold 2^32·e^{−a} is then below 1e-28) and for a = +∞ or NaN (callers
/// handle NaN themselves).
#[inline(always)]
pub(crate) fn exp_neg_f32(a: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = -(a.min(87.0));
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // n is in the low bits of t (t = 1.5·2^23 + n, n ∈ [−126, 0]): 2^n from the bits,
    // with no float-to-int cast (which would not vectorize).
    let scale = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    let z = p * scale;
    if a <= 87.0 {
        z
    } else {
        0.0
    }
}

fn value_f32(one: bool, nan: bool) -> f32 {
    if nan {
        f32::NAN
    } else if one {
        1.0
    } else {
        0.0
    }
}

fn value_f64(one: bool, nan: bool) -> f64 {
    if nan {
        f64::NAN
    } else if one {
        1.0
    } else {
        0.0
    }
}

/// Fills `out` (the flattened `sample_shape ++ batch_shape`) from the parameter
/// elements `xs` (the flattened batch, repeated over the sample dimensions).
fn fill_with<T: Copy + Send + Sync, R: Rule<T>>(
    d: Draw,
    xs: &[T],
    out: &mut [T],
    value: fn(bool, bool) -> T,
) {
    let m = xs.len();
    if m == 0 {
        return;
    }
    Draw::for_chunks(out, CHUNK, |start, part| {
        let blocks = d.first_blocks(start / 4, part.len().div_ceil(4));
        let words = blocks.as_flattened();
        let mut tie = false;
        let mut j = 0;
        while j < part.len() {
            let pi = (start + j) % m;
            let len = (part.len() - j).min(m - pi);
            tie |= R::run(
                &mut part[j..j + len],
                &words[j..j + len],
                &xs[pi..pi + len],
                value,
            );
            j += len;
        }
        if tie {
            for (j, o) in part.iter_mut().enumerate() {
                let x = xs[(start + j) % m];
                let w = words[j];
                if w != R::floor(x) {
                    continue;
                }
                let (s, flip, nan) = R::split(x);
                let mut stream = d.element_stream((start + j) as u64);
                // Skip the stream's first block (sub-stream 1), which holds the words of
                // elements 4i..4i + 3.
                for _ in 0..4 {
                    stream.next_u32();
                }
                let v = stream.uniform_f64();
                *o = value((v < s - w as f64) != flip, nan);
            }
        }
    });
}

/// 0/1 draws of shape `shape` (`sample_shape ++ batch_shape`, checked by the caller)
/// with success probability given by `param` (probs or logits, broadcast to the batch
/// shape), in the parameter's dtype, from one fresh draw of `rng`.
///
/// One fused pass over the output, on all threads for large outputs, with no
/// probability tensor materialised; element i is a pure function of (seed, draw index,
/// i), whatever the thread count. The success rate is exact to the precision of the
/// threshold (an 85-bit uniform, see the comment above `TWO32`): probabilities down to
/// 2^-85 ≈ 2.6e-26 keep their rate (below that, and from f32 logits beyond ±87, where
/// the rarer outcome has probability below 1.7e-38, it is never drawn). f32 logits use a
/// vectorized f32 σ (relative error of the threshold a few ulps of f32, as torch's f32
/// `sigmoid`); f64 parameters compute in f64. A NaN parameter (possible only with
/// validation off) gives NaN.
pub(crate) fn fill_bernoulli(
    name: &'static str,
    given: Given,
    param: &Tensor,
    shape: &[usize],
    rng: &mut Generator,
) -> Result<Tensor> {
    let n = crate::distribution::checked_numel(name, shape)?;
    let device = param.device().clone();
    let host = param.to_device(&Device::Cpu)?;
    let d = rng.next_draw();
    let out = {
        let (st, layout) = host.storage_and_layout();
        match &*st {
            Storage::Cpu(CpuStorage::F32(data)) => {
                let xs = crate::special::kernel::try_gather(name, data, layout)?;
                let mut out = crate::special::kernel::alloc_buffer::<f32>(name, n)?;
                match given {
                    Given::Probs => fill_with::<f32, ProbsRule>(d, &xs, &mut out, value_f32),
                    Given::Logits => fill_with::<f32, LogitsRule>(d, &xs, &mut out, value_f32),
                }
                Tensor::from_vec(out, shape, &Device::Cpu)?
            }
            Storage::Cpu(CpuStorage::F64(data)) => {
                let xs = crate::special::kernel::try_gather(name, data, layout)?;
                let mut out = crate::special::kernel::alloc_buffer::<f64>(name, n)?;
                match given {
                    Given::Probs => fill_with::<f64, ProbsRule>(d, &xs, &mut out, value_f64),
                    Given::Logits => fill_with::<f64, LogitsRule>(d, &xs, &mut out, value_f64),
                }
                Tensor::from_vec(out, shape, &Device::Cpu)?
            }
            other => {
                return Err(Error::DType {
                    context: format!("{name}: parameter"),
                    dtype: other.dtype(),
                })
            }
        }
    };
    Ok(out.to_device(&device)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_neg_f32_is_accurate() {
        let mut worst = 0.0f64;
        let mut a = 0.0f32;
        while a <= 87.0 {
            let got = exp_neg_f32(a) as f64;
            let want = (-(a as f64)).exp();
            worst = worst.max((got - want).abs() / want);
            a += 0.001_3;
        }
        assert!(
            worst < 4.0 * f32::EPSILON as f64,
            "worst relative error {worst:e}"
        );
        assert_eq!(exp_neg_f32(f32::INFINITY), 0.0);
        assert_eq!(exp_neg_f32(88.0), 0.0);
        assert_eq!(exp_neg_f32(0.0), 1.0);
    }

    #[test]
    fn vector_and_scalar_paths_agree() {
        let xs: Vec<f32> = (0..4096).map(|i| ((i as f32) - 2048.0) * 0.037).collect();
        let words: Vec<u32> = (0..4096u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let mut a = vec![0f32; 4096];
        let mut b = vec![0f32; 4096];
        LogitsRule::run(&mut a, &words, &xs, value_f32);
        logits_f32_body(&mut b, &words, &xs);
        assert_eq!(a, b);
        for ((&x, &w), &o) in xs.iter().zip(&words).zip(&a) {
            let (s, flip, _) = <LogitsRule as Rule<f32>>::split(x);
            if (w as f64) + 1.0 <= s || (w as f64) >= s {
                assert_eq!(o == 1.0, ((w as f64) < s) != flip);
            }
        }
    }
}
