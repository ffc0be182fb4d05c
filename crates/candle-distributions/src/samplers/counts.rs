//! Samplers for counts: Binomial (BTRS and inversion), Poisson (PTRS and inversion)
//! and NegativeBinomial (a Gamma–Poisson mixture), on per-element streams, with the
//! accurate log-masses their rejection steps (and the Binomial entropy) need.
//!
//! Every sampler here is a pure function of its parameters and the element's own
//! stream ([`ElementStream`]), so element `i` of a draw depends only on (seed, draw
//! index, i), whatever the thread count. NaN parameters give NaN, infinite ones the
//! limit (∞ or 0), both before any loop; every loop is bounded.
//!
//! Log-masses are evaluated by Loader's saddle-point form ("Fast and accurate
//! computation of binomial probabilities", 2000): ln f = −stirlerr terms − bd0
//! deviances − ½ ln(2π k …). Unlike `k ln λ − λ − ln Γ(k + 1)`, which at λ = 10¹⁵ is a
//! difference of terms of 3·10¹⁶ and so has an absolute error of several units, each
//! term here is small or computed to full relative accuracy, so the acceptance tests of
//! BTRS and PTRS are exact to rounding at every rate and trial count.

use crate::constraints::{host_f64, Constraint};
use crate::discrete::probs_logits::{BinaryParam, Given};
use crate::distribution::{broadcast_to, checked_argument, checked_numel, Params};
use crate::error::{Error, Result};
use crate::rng::{Draw, ElementStream};
use crate::samplers::{per_element, standard_gamma_ln, MAX_TRIES};
use crate::special::gamma::lgamma;
use candle_core::{DType, Device, Tensor};

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Loader's stirlerr(n) = ln Γ(n + 1) − (n + ½) ln n + n − ½ ln 2π, the error of
/// Stirling's formula, for n > 0. For n ≥ 16 its asymptotic series
/// 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷) + 1/(1188n⁹) (next term below
/// 2e-17 there); below, the direct formula, whose terms are under 50 so that the
/// cancellation costs at most ~1e-14 absolute.
pub(crate) fn stirlerr(n: f64) -> f64 {
    if n >= 16.0 {
        let r = 1.0 / n;
        let r2 = r * r;
        r * (1.0 / 12.0
            - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))))
    } else {
        lgamma(n + 1.0) - (n + 0.5) * n.ln() + n - HALF_LN_2PI
    }
}

/// Loader's deviance bd0(x, m) = x ln(x/m) + m − x ≥ 0 for x, m > 0. Near x = m it
/// is a difference of nearly equal terms; there (|x − m| < 0.1 (x + m)) it is summed
/// as 2x Σ_{j≥0} v^{2j+1}/(2j + 1) − (x − m) v with v = (x − m)/(x + m), every term
/// positive after the first, to full relative accuracy.
pub(crate) fn bd0(x: f64, m: f64) -> f64 {
    let d = x - m;
    // Halved where x + m overflows (both near f64::MAX): v is a ratio either way.
    let sum = if (x + m).is_finite() {
        x + m
    } else {
        0.5 * x + 0.5 * m
    };
    let dv = if (x + m).is_finite() { d } else { 0.5 * d };
    if d.abs() < 0.1 * (x + m) {
        let v = dv / sum;
        let mut s = d * v;
        let mut ej = x * v * 2.0;
        let v2 = v * v;
        // |v| < 0.1: each term is below 1e-2 times the last, so 20 terms reach 1e-40
        // relative; the loop stops as soon as a term no longer changes the sum.
        for j in 1..40 {
            ej *= v2;
            let s1 = s + ej / (2 * j + 1) as f64;
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        s
    } else {
        // ln(x/m) from the logarithms where the ratio leaves the normal range (x = 1e-40
        // against m = 1e300): the ratio's ln would be −∞ or +∞.
        let r = x / m;
        let l = if r.is_normal() {
            r.ln()
        } else {
            x.ln() - m.ln()
        };
        x * l + m - x
    }
}

/// ln P(X = k) for X ~ Binomial(n, p), q = 1 − p, both given to full relative
/// accuracy (so that ln q is exact also for p near 1), for an integer 0 ≤ k ≤ n.
pub(crate) fn binomial_log_pmf(k: f64, n: f64, p: f64, q: f64) -> f64 {
    if k == 0.0 {
        return if n == 0.0 { 0.0 } else { n * ln_of(q, p) };
    }
    if k == n {
        return n * ln_of(p, q);
    }
    if p == 0.0 || q == 0.0 {
        return f64::NEG_INFINITY;
    }
    let nk = n - k;
    stirlerr(n) - stirlerr(k) - stirlerr(nk) - bd0(k, n * p) - bd0(nk, n * q)
        + 0.5 * (n.ln() - k.ln() - nk.ln())
        - HALF_LN_2PI
}

/// ln x for x = 1 − y, both given accurately: ln1p(−y) where x > ½ (there ln x is
/// small and x's rounding would dominate it), ln x elsewhere.
#[inline]
fn ln_of(x: f64, y: f64) -> f64 {
    if x > 0.5 {
        (-y).ln_1p()
    } else {
        x.ln()
    }
}

/// ln P(X = k) for X ~ Poisson(λ), integer k ≥ 0, λ ≥ 0.
pub(crate) fn poisson_log_pmf(k: f64, lam: f64) -> f64 {
    if k == 0.0 {
        return -lam;
    }
    if lam == 0.0 {
        return f64::NEG_INFINITY;
    }
    -stirlerr(k) - bd0(k, lam) - 0.5 * k.ln() - HALF_LN_2PI
}

/// A Binomial(n, p) draw, with q = 1 − p (both to full relative accuracy: from logits
/// l, p = σ(l) and q = σ(−l)).
///
/// For p > ½ the draw is n − Binomial(n, q), so the samplers below only meet p ≤ ½.
/// n·p < 10: inversion (sequential search from 0, one uniform); else BTRS (Hörmann,
/// "The generation of binomial random variates", J. Stat. Comput. Simul. 46, 1993),
/// whose acceptance test here compares with the exact log-mass ratio
/// (`binomial_log_pmf`). Draws are exact for n up to 2⁵³ (all counts representable);
/// beyond, they carry the rounding of f64.
///
/// Terminates for every input: NaN in gives NaN, n = 0 or p = 0 gives 0, n = ∞ gives ∞
/// (or 0 where p = 0), without a loop; the loops are bounded (see `binomial_small`).
pub(crate) fn binomial(n: f64, p: f64, q: f64, s: &mut ElementStream) -> f64 {
    if n.is_nan() || p.is_nan() || q.is_nan() {
        return f64::NAN;
    }
    if p > q {
        let y = binomial_small(n, q, p, s);
        // n = ∞ with q = 0 would be ∞ − 0; with q > 0 the draw is ∞ − ∞: the limit is
        // no number, NaN (n = ∞ is outside the support's constraint anyway).
        if n == f64::INFINITY {
            return if q == 0.0 { n } else { f64::NAN };
        }
        return n - y;
    }
    binomial_small(n, p, q, s)
}

/// `binomial` for p ≤ ½.
fn binomial_small(n: f64, p: f64, q: f64, s: &mut ElementStream) -> f64 {
    if n == 0.0 || p == 0.0 {
        return 0.0;
    }
    if n == f64::INFINITY {
        return n;
    }
    if n * p < 10.0 {
        binomial_inversion(n, p, q, s)
    } else {
        btrs(n, p, q, s)
    }
}

/// Sequential inversion for n·p < 10, p ≤ ½: P(0) = q^n ≥ e^{−14} (ln q ≥ −1.39 p),
/// then P(k + 1) = P(k)·(n − k)/(k + 1)·p/q. Stops at n, where the terms underflow to
/// 0 (a uniform within rounding of 1 that the computed partial sums never pass), or
/// after 10 000 terms (P(X > 10⁴) < 10⁻⁴⁰⁰⁰ for these parameters).
fn binomial_inversion(n: f64, p: f64, q: f64, s: &mut ElementStream) -> f64 {
    let r = p / q;
    let mut f = (n * (-p).ln_1p()).exp();
    let mut acc = f;
    let u = s.uniform_f64();
    let mut k = 0.0;
    for _ in 0..10_000 {
        if u <= acc || k >= n {
            break;
        }
        f *= r * ((n - k) / (k + 1.0));
        if f == 0.0 {
            break;
        }
        k += 1.0;
        acc += f;
    }
    k
}

/// BTRS for n·p ≥ 10, p ≤ ½: a transformed-rejection proposal
/// k = ⌊(2a/u_s + b)u + c⌋ with the constants of Hörmann (1993), the fast acceptance
/// box (u_s ≥ 0.07, v ≤ v_r), and otherwise the exact test
/// ln(v α/(a/u_s² + b)) ≤ ln f(k) − ln f(m), m the mode. The acceptance rate is above
/// 0.9 for these parameters; after `MAX_TRIES` rejections (never in practice) the
/// draw is the mode m.
fn btrs(n: f64, p: f64, q: f64, s: &mut ElementStream) -> f64 {
    let spq = (n * p * q).sqrt();
    let b = 1.15 + 2.53 * spq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = n * p + 0.5;
    let v_r = 0.92 - 4.2 / b;
    let alpha = (2.83 + 5.1 / b) * spq;
    let m = ((n + 1.0) * p).floor().min(n);
    let lf_m = binomial_log_pmf(m, n, p, q);
    for _ in 0..MAX_TRIES {
        let u = s.uniform_f64() - 0.5;
        let v = s.uniform_f64();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + c).floor();
        if !(0.0..=n).contains(&k) {
            continue;
        }
        if us >= 0.07 && v <= v_r {
            return k;
        }
        let lv = (v * alpha / (a / (us * us) + b)).ln();
        if lv <= binomial_log_pmf(k, n, p, q) - lf_m {
            return k;
        }
    }
    m
}

/// A Poisson(λ) draw. λ < 10: inversion (sequential search, one uniform); λ ≥ 10:
/// PTRS (Hörmann, "The transformed rejection method for generating Poisson random
/// variables", Insurance: Mathematics and Economics 12, 1993), its acceptance test
/// against the exact log-mass (`poisson_log_pmf`), which stays exact at every finite
/// rate: no normal limit is used. For λ beyond 2⁵³ not every count is representable:
/// the proposal is rounded to the f64 grid, so the draws are the law rounded to the
/// dtype (for λ ≳ 10³¹ the grid spacing exceeds the standard deviation √λ and every
/// draw lands within a few spacings of λ).
///
/// Terminates for every input: NaN or λ < 0 gives NaN, λ = 0 gives 0, λ = ∞ gives ∞,
/// without a loop; the loops are bounded.
pub(crate) fn poisson(lam: f64, s: &mut ElementStream) -> f64 {
    if lam.is_nan() || lam < 0.0 {
        return f64::NAN;
    }
    if lam == 0.0 {
        return 0.0;
    }
    if lam == f64::INFINITY {
        return lam;
    }
    if lam < 10.0 {
        poisson_inversion(lam, s)
    } else {
        ptrs(lam, s)
    }
}

/// Sequential inversion for 0 < λ < 10: P(0) = e^{−λ} > 4.5e-5, P(k + 1) = P(k)λ/(k + 1).
/// Bounded as `binomial_inversion`.
fn poisson_inversion(lam: f64, s: &mut ElementStream) -> f64 {
    let mut f = (-lam).exp();
    let mut acc = f;
    let u = s.uniform_f64();
    let mut k = 0.0;
    for _ in 0..10_000 {
        if u <= acc {
            break;
        }
        f *= lam / (k + 1.0);
        if f == 0.0 {
            break;
        }
        k += 1.0;
        acc += f;
    }
    k
}

/// PTRS for λ ≥ 10 (constants of Hörmann 1993). The acceptance rate is above 0.89;
/// after `MAX_TRIES` rejections (never in practice) the draw is ⌊λ⌋, the mode.
fn ptrs(lam: f64, s: &mut ElementStream) -> f64 {
    let slam = lam.sqrt();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let v_r = 0.9277 - 3.6224 / (b - 2.0);
    for _ in 0..MAX_TRIES {
        let u = s.uniform_f64() - 0.5;
        let v = s.uniform_f64();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lam + 0.43).floor();
        if k < 0.0 {
            continue;
        }
        if us >= 0.07 && v <= v_r {
            return k;
        }
        if us < 0.013 && v > us {
            continue;
        }
        let lv = v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln();
        if lv <= poisson_log_pmf(k, lam) {
            return k;
        }
    }
    lam.floor()
}

/// A NegativeBinomial(r, p) draw in torch's parameterization (the number of successes,
/// each of probability p, before r failures) as the Gamma–Poisson mixture
/// X | λ ~ Poisson(λ), λ ~ Gamma(r, scale p/(1 − p)), given `log_odds` = ln(p/(1 − p)).
///
/// λ is formed as exp(ln G + log-odds) from the logarithm of the Gamma draw
/// (`standard_gamma_ln`): for small r (10⁻³) the Gamma draw itself underflows in most
/// draws, while its logarithm does not, and a λ that underflows to 0 then gives the
/// draw 0 that it should (P(X > 0) ≈ λ). A λ beyond f64's range gives ∞.
///
/// Terminates for every input: NaN gives NaN, r = 0 or p = 0 (log-odds −∞) gives 0.
pub(crate) fn negative_binomial(r: f64, log_odds: f64, s: &mut ElementStream) -> f64 {
    if r.is_nan() || log_odds.is_nan() || r < 0.0 {
        return f64::NAN;
    }
    if r == 0.0 || log_odds == f64::NEG_INFINITY {
        return 0.0;
    }
    let lg = standard_gamma_ln(r, s);
    let ll = lg + log_odds;
    if ll.is_nan() {
        // Only ∞ + (−∞) (r = ∞ with p = 0 is excluded above): no limit.
        return f64::NAN;
    }
    poisson(ll.exp(), s)
}

/// A tensor of `shape` (= sample_shape ++ batch_shape, already checked) in `dtype` on
/// `device`, element `i` drawn by `f(params at i, stream_i)`, where the parameters of
/// batch element `j` are `params[·][j]` and element `i` belongs to batch element
/// `i mod batch`: the draws of every count family, one pass, no broadcast copies of
/// the parameters.
pub(crate) fn sample_counts<const K: usize>(
    dist: &'static str,
    shape: &[usize],
    dtype: DType,
    device: &Device,
    params: [&[f64]; K],
    draw: Draw,
    f: impl Fn([f64; K], &mut ElementStream) -> f64 + Sync + Send,
) -> Result<Tensor> {
    let n = checked_numel(dist, shape)?;
    let batch = params.first().map_or(1, |p| p.len());
    if n > 0 && (batch == 0 || params.iter().any(|p| p.len() != batch)) {
        return Err(Error::InvalidArgument(format!(
            "{dist}: sample: parameter lengths {:?} do not fit {n} draws",
            params.iter().map(|p| p.len()).collect::<Vec<_>>()
        )));
    }
    let at = |i: usize| -> [f64; K] {
        let j = i % batch.max(1);
        std::array::from_fn(|c| params[c][j])
    };
    // A count beyond the dtype's range (a rate near its largest number) becomes that
    // largest number, the nearest representable count, never ∞ (outside the support).
    let t = match dtype {
        DType::F64 => {
            let v = per_element(draw, n, |i, st| f(at(i), st).min(f64::MAX));
            Tensor::from_vec(v, shape, &Device::Cpu)?
        }
        DType::F32 => {
            let v = per_element(draw, n, |i, st| f(at(i), st).min(f32::MAX as f64) as f32);
            Tensor::from_vec(v, shape, &Device::Cpu)?
        }
        other => {
            return Err(Error::DType {
                context: format!("{dist}: sample"),
                dtype: other,
            })
        }
    };
    Ok(t.to_device(device)?)
}

/// −Σ_k f(k) ln f(k) for X ~ Binomial(n, p) (q = 1 − p, both accurate), and its
/// derivatives with respect to n and to ln-odds l = ln(p/q):
/// (H, dH/dn, dH/dl). Summed outwards from the mode over every k whose mass exceeds
/// 1e-320 (the rest adds less than 1e-316), with Neumaier's compensated sums.
/// Since Σ_k ∂f(k) = 0, dH/dθ = −Σ_k f(k) ln f(k) ∂ ln f(k)/∂θ, where
/// ∂ ln f/∂l = k − np and ∂ ln f/∂n = ψ(n + 1) − ψ(n − k + 1) + ln q.
///
/// Returns `None` when the sum would take more than `max_terms` terms (about
/// 80·√(npq) are needed).
pub(crate) fn binomial_entropy(n: f64, p: f64, q: f64, max_terms: f64) -> Option<(f64, f64, f64)> {
    use crate::special::gamma::digamma;
    if n.is_nan() || p.is_nan() || q.is_nan() {
        return Some((f64::NAN, f64::NAN, f64::NAN));
    }
    if n == 0.0 || p == 0.0 || q == 0.0 {
        // A point mass: H = 0, and its derivatives are the limits of the sums below
        // (every term carries f ln f → 0).
        return Some((0.0, 0.0, 0.0));
    }
    let sd = (n * p * q).sqrt();
    if 80.0 * sd + 200.0 > max_terms || !n.is_finite() {
        return None;
    }
    let m = ((n + 1.0) * p).floor().min(n);
    let np = n * p;
    let (psi_n1, lq) = (digamma(n + 1.0), q.ln());
    let mut h = Neumaier::default();
    let mut dn = Neumaier::default();
    let mut dl = Neumaier::default();
    let mut add = |k: f64| -> bool {
        let lf = binomial_log_pmf(k, n, p, q);
        let f = lf.exp();
        if f < 1e-320 {
            return false;
        }
        let t = f * lf;
        h.add(-t);
        dl.add(-t * (k - np));
        dn.add(-t * (psi_n1 - digamma(n - k + 1.0) + lq));
        true
    };
    let mut k = m;
    while k >= 0.0 && add(k) {
        k -= 1.0;
    }
    let mut k = m + 1.0;
    while k <= n && add(k) {
        k += 1.0;
    }
    Some((h.sum(), dn.sum(), dl.sum()))
}

/// Neumaier's compensated summation.
#[derive(Default)]
struct Neumaier {
    s: f64,
    c: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }
    fn sum(&self) -> f64 {
        self.s + self.c
    }
}

/// p and q = 1 − p of a binary parameter on the host, in f64, each to full relative
/// accuracy (from logits l: σ(l) and σ(−l); from probs: p and 1 − p), for the samplers.
pub(crate) fn host_pq(bin: &BinaryParam) -> Result<(Vec<f64>, Vec<f64>)> {
    use crate::special::scalar::sigmoid;
    let w = host_f64(&bin.wide().detach())?;
    Ok(match bin.given() {
        Given::Probs => (w.clone(), w.iter().map(|p| 1.0 - p).collect()),
        Given::Logits => (
            w.iter().map(|&l| sigmoid(l)).collect(),
            w.iter().map(|&l| sigmoid(-l)).collect(),
        ),
    })
}

/// The log-odds ln(p/(1 − p)) of a binary parameter on the host, in f64: the logits as
/// given, or ln p − ln1p(−p) from probs (−∞ at 0, +∞ at 1, without torch's clamp).
pub(crate) fn host_log_odds(bin: &BinaryParam) -> Result<Vec<f64>> {
    let w = host_f64(&bin.wide().detach())?;
    Ok(match bin.given() {
        Given::Logits => w,
        Given::Probs => w.iter().map(|&p| p.ln() - (-p).ln_1p()).collect(),
    })
}

/// p and q = 1 − p from a binary parameter's value `x` (probs, or logits when
/// `LOGITS`), each to full relative accuracy.
#[inline]
fn pq_from<const LOGITS: bool>(x: f64) -> (f64, f64) {
    use crate::special::scalar::sigmoid;
    if LOGITS {
        (sigmoid(x), sigmoid(-x))
    } else {
        (x, 1.0 - x)
    }
}

/// ln P(X = k), X ~ Binomial(n, p), elementwise for counts k (in the support: the
/// caller masks the rest, see [`count_value`]), n and the given parameter x (probs,
/// or logits when `LOGITS`), by Loader's form (`binomial_log_pmf`): exact to rounding
/// for every n up to f64::MAX, where ln Γ(n + 1) − ln Γ(k + 1) − … + k ln p + … is a
/// sum of terms of size n·H(p) (at n = 10¹⁵ an absolute error of 0.1), and exactly
/// 0 for the point masses (k = 0 at p = 0, k = n at p = 1). Gradients (analytic):
/// ∂/∂n = ψ(n + 1) − ψ(n − k + 1) + ln(1 − p); ∂/∂p = k/p − (n − k)/(1 − p), a term
/// with a zero count dropping out (so p = 0 and 1 give finite gradients for the
/// counts they allow); ∂/∂l = k(1 − p) − (n − k)p.
pub(crate) fn binomial_log_prob(
    k: &Tensor,
    n: &Tensor,
    x: &Tensor,
    given: Given,
) -> Result<Tensor> {
    struct Mass;
    impl CountLogMass for Mass {
        const NAME: [&'static str; 3] = [
            "binomial_log_prob",
            "binomial_log_prob_dn",
            "binomial_log_prob_dx",
        ];
        fn f(k: f64, n: f64, p: f64, q: f64) -> f64 {
            binomial_log_pmf(k, n, p, q)
        }
        fn da(k: f64, n: f64, p: f64, q: f64) -> f64 {
            let lq = if k == n && q == 0.0 { 0.0 } else { ln_of(q, p) };
            crate::special::gamma::digamma_shift_diff(n - k + 1.0, k) + lq
        }
        fn failures(k: f64, n: f64) -> f64 {
            n - k
        }
        // ln C(n, k) = −ln(n + 1) − ln B(n − k + 1, k + 1), without the cancellation
        // of three ln Γ of size n ln n.
        fn log_coef(k: f64, n: f64) -> f64 {
            if k == 0.0 || k == n {
                0.0
            } else {
                -(n + 1.0).ln() - crate::special::gamma::lbeta(n - k + 1.0, k + 1.0)
            }
        }
        fn dcoef(k: f64, n: f64) -> f64 {
            crate::special::gamma::digamma_shift_diff(n - k + 1.0, k)
        }
    }
    count_log_prob::<Mass>(k, n, x, given)
}

/// The log-mass of a count law in (count k, shape parameter a, binary parameter x:
/// probs, or logits), for [`count_log_prob`]: the mass and its derivative in a from
/// p and q = 1 − p; the derivative in x is shared, since every such mass is
/// k ln p + m ln q + (terms free of p) for m = `failures(k, a)`.
trait CountLogMass {
    /// The kernel names of the mass, ∂/∂a and ∂/∂x.
    const NAME: [&'static str; 3];
    fn f(k: f64, a: f64, p: f64, q: f64) -> f64;
    fn da(k: f64, a: f64, p: f64, q: f64) -> f64;
    /// m, the weight of ln q.
    fn failures(k: f64, a: f64) -> f64;
    /// ln of the factor free of p (the mass is its product with p^k q^m), for the
    /// logits path where σ(±l) underflows and the saddle-point form has no p or q.
    fn log_coef(k: f64, a: f64) -> f64;
    /// ∂/∂a of `log_coef` (∂/∂a of the mass is this plus ln q: ∂m/∂a = 1 for both).
    fn dcoef(k: f64, a: f64) -> f64;
}

/// k ln p + m ln q from logits l (ln p = −softplus(−l), ln q = −softplus(l)), a term
/// with weight 0 dropping out: every digit where σ(±l) underflows.
fn logit_terms(k: f64, m: f64, l: f64) -> f64 {
    use crate::special::scalar::softplus;
    let a = if k == 0.0 { 0.0 } else { -k * softplus(-l) };
    let b = if m == 0.0 { 0.0 } else { -m * softplus(l) };
    a + b
}

/// Whether a logits-given mass must take the log-space path: σ(l) or σ(−l) rounds to
/// 0 (|l| ≳ 745) while l is finite, so p or q, and Loader's form with them, lose the
/// mass entirely (NegativeBinomial(r, logits = 1e8).log_prob(0) = −r·1e8, not −∞).
#[inline]
fn underflowed<const L: bool>(x: f64, p: f64, q: f64) -> bool {
    L && x.is_finite() && (p == 0.0 || q == 0.0)
}

/// ∂/∂x of k ln p + m ln q: k/p − m/q in probs, a term with a zero weight dropping
/// out (so p = 0 and 1 give finite gradients for the counts they allow); k q − m p in
/// logits.
fn count_dx<M: CountLogMass, const L: bool>(k: f64, a: f64, x: f64) -> f64 {
    let (p, q) = pq_from::<L>(x);
    let m = M::failures(k, a);
    if L {
        return k * q - m * p;
    }
    let u = if k == 0.0 { 0.0 } else { k / p };
    let v = if m == 0.0 { 0.0 } else { m / q };
    let d = u - v;
    if d.is_nan() && p * q > 0.0 {
        // Both terms overflowed (counts near f64::MAX): the common-denominator form,
        // whose numerator does not.
        return (k * q - m * p) / (p * q);
    }
    d
}

fn count_f<M: CountLogMass, const L: bool>(k: f64, a: f64, x: f64) -> f64 {
    let (p, q) = pq_from::<L>(x);
    if underflowed::<L>(x, p, q) {
        let v = M::log_coef(k, a) + logit_terms(k, M::failures(k, a), x);
        // +∞ − ∞ only where both parts overflow (parameters near f64::MAX): the
        // p-q terms then lie below −f64::MAX and decide, so the log-mass is −∞.
        return if v.is_nan() { f64::NEG_INFINITY } else { v };
    }
    M::f(k, a, p, q)
}

fn count_da<M: CountLogMass, const L: bool>(k: f64, a: f64, x: f64) -> f64 {
    let (p, q) = pq_from::<L>(x);
    if underflowed::<L>(x, p, q) {
        return M::dcoef(k, a) - crate::special::scalar::softplus(x);
    }
    M::da(k, a, p, q)
}

type Grads3 = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

fn count_bwd<M: CountLogMass, const L: bool>(
    k: &Tensor,
    a: &Tensor,
    x: &Tensor,
    _y: &Tensor,
    g: &Tensor,
) -> candle_core::Result<Grads3> {
    use crate::special::kernel::{apply3, Map3};
    let map = |name, f: fn(f64, f64, f64) -> f64| {
        apply3(
            k,
            a,
            x,
            Map3 {
                name,
                f,
                f32: f,
                bwd: None,
            },
        )
        .map_err(|e| candle_core::Error::Msg(e.to_string()))
    };
    let ga = (g * map(M::NAME[1], count_da::<M, L>)?)?;
    let gx = (g * map(M::NAME[2], count_dx::<M, L>)?)?;
    Ok((None, Some(ga), Some(gx)))
}

/// The elementwise log-mass `M` of counts k (masked by the caller outside the
/// support), shape parameters a and the given binary parameter x, with the analytic
/// backward of [`CountLogMass`] (none for k).
fn count_log_prob<M: CountLogMass>(
    k: &Tensor,
    a: &Tensor,
    x: &Tensor,
    given: Given,
) -> Result<Tensor> {
    use crate::special::kernel::{apply3, Map3};
    type F = fn(f64, f64, f64) -> f64;
    fn op<M: CountLogMass, const L: bool>() -> Map3<F, F> {
        Map3 {
            name: M::NAME[0],
            f: count_f::<M, L>,
            f32: count_f::<M, L>,
            bwd: Some(count_bwd::<M, L>),
        }
    }
    match given {
        Given::Probs => apply3(k, a, x, op::<M, false>()),
        Given::Logits => apply3(k, a, x, op::<M, true>()),
    }
}

/// ln P(X = k) for X ~ NegativeBinomial(r, p) in torch's sense (successes of
/// probability p before r failures; q = 1 − p, both accurate), an integer k ≥ 0:
/// Γ(r + k)/(Γ(r) k!) p^k q^r = r/(r + k) · C(r + k, k) p^k q^r, the binomial mass by
/// Loader's form with n = r + k real, written without forming n·p (r p + k p) or
/// ln n (from the larger of r, k) so that r and k near f64::MAX stay finite.
pub(crate) fn negative_binomial_log_pmf(k: f64, r: f64, p: f64, q: f64) -> f64 {
    if k == 0.0 {
        return if r == 0.0 { 0.0 } else { r * ln_of(q, p) };
    }
    if r == 0.0 || p == 0.0 || q == 0.0 {
        return f64::NEG_INFINITY;
    }
    let n = r + k;
    let (hi, lo) = if r > k { (r, k) } else { (k, r) };
    let ln_n = hi.ln() + (lo / hi).ln_1p();
    let (ln_r, ln_k) = (r.ln(), k.ln());
    // bd0 is homogeneous of degree 1: where n·p overflows, halve its arguments and
    // double the result (which may then be the correctly rounded +∞).
    let dev = |x: f64, a: f64| {
        let m = r * a + k * a;
        if m.is_finite() {
            bd0(x, m)
        } else {
            2.0 * bd0(0.5 * x, 0.5 * r * a + 0.5 * k * a)
        }
    };
    ln_r - ln_n + stirlerr(n) - stirlerr(k) - stirlerr(r) - dev(k, p) - dev(r, q)
        + 0.5 * (ln_n - ln_k - ln_r)
        - HALF_LN_2PI
}

/// ln P(X = k), X ~ NegativeBinomial(r, p), elementwise for counts k (masked by the
/// caller outside the support), r and the given parameter x (probs, or logits when
/// `LOGITS`), by [`negative_binomial_log_pmf`]: exact to rounding for r from 10⁻³⁰⁰
/// to f64::MAX and p near 0 or 1. Gradients (analytic): ∂/∂r = ψ(r + k) − ψ(r) +
/// ln(1 − p) (by `digamma_shift_diff`, finite down to r = 5e-324); ∂/∂p = k/p −
/// r/(1 − p), a term with a zero count dropping out; ∂/∂l = k(1 − p) − r p.
pub(crate) fn negative_binomial_log_prob(
    k: &Tensor,
    r: &Tensor,
    x: &Tensor,
    given: Given,
) -> Result<Tensor> {
    struct Mass;
    impl CountLogMass for Mass {
        const NAME: [&'static str; 3] = [
            "negative_binomial_log_prob",
            "negative_binomial_log_prob_dr",
            "negative_binomial_log_prob_dx",
        ];
        fn f(k: f64, r: f64, p: f64, q: f64) -> f64 {
            negative_binomial_log_pmf(k, r, p, q)
        }
        fn da(k: f64, r: f64, p: f64, q: f64) -> f64 {
            let lq = ln_of(q, p);
            if k == 0.0 {
                lq
            } else {
                crate::special::gamma::digamma_shift_diff(r, k) + lq
            }
        }
        fn failures(_k: f64, r: f64) -> f64 {
            r
        }
        // ln[Γ(r + k)/(Γ(r) k!)] = −ln k − ln B(r, k) for k ≥ 1.
        fn log_coef(k: f64, r: f64) -> f64 {
            if k == 0.0 {
                0.0
            } else {
                -k.ln() - crate::special::gamma::lbeta(r, k)
            }
        }
        fn dcoef(k: f64, r: f64) -> f64 {
            if k == 0.0 {
                0.0
            } else {
                crate::special::gamma::digamma_shift_diff(r, k)
            }
        }
    }
    count_log_prob::<Mass>(k, r, x, given)
}

/// ln P(X = k), X ~ Poisson(λ), elementwise for counts k and rates λ ≥ 0 by Loader's
/// form (`poisson_log_pmf`): k ln λ − λ − ln Γ(k + 1) is a difference of terms of
/// 3·10¹⁶ at λ = 10¹⁵ (an absolute error of several units), this is exact to
/// rounding at every rate; 0 at k = 0 for λ = 0, −∞ for every count at λ = ∞.
/// Gradient ∂/∂λ = k/λ − 1 (−1 at k = 0, also at λ = 0).
pub(crate) fn poisson_log_prob(k: &Tensor, lam: &Tensor) -> Result<Tensor> {
    use crate::special::kernel::{apply2, Map2};
    fn f(k: f64, lam: f64) -> f64 {
        if lam == f64::INFINITY {
            return f64::NEG_INFINITY;
        }
        poisson_log_pmf(k, lam)
    }
    fn dl(k: f64, lam: f64) -> f64 {
        if k == 0.0 {
            -1.0
        } else {
            k / lam - 1.0
        }
    }
    fn bwd(
        k: &Tensor,
        lam: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let d = apply2(
            k,
            lam,
            Map2 {
                name: "poisson_log_prob_drate",
                f: dl,
                f32: dl,
                bwd: None,
            },
        )
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        Ok((None, Some((g * d)?)))
    }
    apply2(
        k,
        lam,
        Map2 {
            name: "poisson_log_prob",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// A `log_prob` argument of a count family: brought to the result dtype and broadcast
/// with the batch (`checked_argument`); when validating, checked to be a non-negative
/// integer and, with `upper` (the Binomial's total_count), at most `upper`, the error
/// naming the constraint `support` in words. Returns the value in f64 with every
/// element outside the support replaced by 0 (so that the log-mass formulas and their
/// gradients stay finite there) and the f64 mask of elements inside it.
pub(crate) fn count_value(
    p: &Params,
    value: &Tensor,
    upper: Option<&Tensor>,
    support: &str,
) -> Result<(Tensor, Tensor)> {
    let v = checked_argument(
        p.dist(),
        "value",
        value,
        p.batch_shape(),
        &[],
        p.result_dtype(value),
        p.device(),
        None,
    )?;
    let x = v.to_dtype(DType::F64)?;
    let upper = upper.map(|u| broadcast_to(u, x.dims())).transpose()?;
    if p.validate() {
        let bad = match Constraint::NonNegativeInteger.check(&x)? {
            Some(b) => Some(b),
            None => match &upper {
                Some(u) => {
                    let le = x.le(&u.to_dtype(DType::F64)?)?;
                    let ok = host_f64(&le)?;
                    let xs = host_f64(&x)?;
                    ok.iter().position(|&o| o == 0.0).map(|i| (i, xs[i]))
                }
                None => None,
            },
        };
        if let Some((index, found)) = bad {
            return Err(Error::OutOfSupport {
                distribution: p.dist(),
                argument: "value",
                constraint: support.to_string(),
                found,
                index,
            });
        }
    }
    let xd = x.detach();
    let mut ok =
        (xd.ge(0.0)?.to_dtype(DType::F64)? * xd.eq(&xd.floor()?)?.to_dtype(DType::F64)?)?;
    ok = (ok * xd.abs()?.lt(f64::INFINITY)?.to_dtype(DType::F64)?)?;
    if let Some(u) = &upper {
        ok = (ok
            * xd.le(&u.detach().to_dtype(DType::F64)?)?
                .to_dtype(DType::F64)?)?;
    }
    let inside = ok.ne(0.0)?;
    let safe = inside.where_cond(&x, &x.zeros_like()?)?;
    Ok((safe, ok))
}

/// A log-mass `lp` computed at safe values, with −∞ where `ok` (from [`count_value`])
/// is 0: outside the support (validation off).
pub(crate) fn outside_to_neg_inf(lp: &Tensor, ok: &Tensor) -> Result<Tensor> {
    let ninf = Tensor::full(f64::NEG_INFINITY, lp.dims(), lp.device())?;
    Ok(ok.ne(0.0)?.where_cond(lp, &ninf)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_pmfs_match_direct_formulas_where_those_are_exact() {
        // Small arguments: ln Γ differences are exact enough to compare at 1e-13.
        for &(k, n, p) in &[
            (3.0, 10.0, 0.3),
            (0.0, 7.0, 0.2),
            (7.0, 7.0, 0.2),
            (20.0, 40.0, 0.5),
        ] {
            let q = 1.0 - p;
            let direct = lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0)
                + k * f64::ln(p)
                + (n - k) * f64::ln(q);
            let ours = binomial_log_pmf(k, n, p, q);
            assert!(
                (ours - direct).abs() < 1e-13,
                "{k} {n} {p}: {ours} vs {direct}"
            );
        }
        for &(k, lam) in &[(0.0, 3.0), (5.0, 3.0), (30.0, 12.5), (1.0, 1e-4)] {
            let direct = k * f64::ln(lam) - lam - lgamma(k + 1.0);
            let ours = poisson_log_pmf(k, lam);
            assert!(
                (ours - direct).abs() < 1e-13,
                "{k} {lam}: {ours} vs {direct}"
            );
        }
    }

    #[test]
    fn samplers_terminate_on_hostile_parameters() {
        let d = crate::Generator::new(1).next_draw();
        let mut s = d.element_stream(0);
        for &x in &[f64::NAN, f64::INFINITY, 1e308, f64::MAX, 0.0, 5e-324] {
            let _ = poisson(x, &mut s);
            let _ = binomial(x, 0.5, 0.5, &mut s);
            let _ = binomial(1e6, x.min(1.0), 1.0 - x.min(1.0), &mut s);
            let _ = negative_binomial(x, 0.0, &mut s);
            let _ = negative_binomial(1.0, x, &mut s);
        }
        assert!(poisson(f64::NAN, &mut s).is_nan());
        assert_eq!(poisson(f64::INFINITY, &mut s), f64::INFINITY);
        assert!(poisson(1e308, &mut s).is_finite());
        assert_eq!(binomial(0.0, 0.3, 0.7, &mut s), 0.0);
        assert_eq!(binomial(9.0, 1.0, 0.0, &mut s), 9.0);
    }

    #[test]
    fn log_pmfs_stay_finite_where_ratios_leave_the_float_range() {
        // A tiny total count against huge counts: ln(r/m) must not become −∞.
        for &k in &[1.0, 1e300, f64::MAX] {
            for &(r, p) in &[
                (1e-40, 0.5),
                (1.2e-38, 5e-324),
                (5e-324, 0.99999999),
                (f64::MAX, 0.5),
                (f64::MAX, 0.7),
            ] {
                let v = negative_binomial_log_pmf(k, r, p, 1.0 - p);
                assert!(!v.is_nan() && v < f64::INFINITY, "NB({r}, {p}) at {k}: {v}");
            }
            let v = binomial_log_pmf(k.min(1e300), 1e300, 1e-300, 1.0);
            assert!(!v.is_nan() && v < f64::INFINITY, "Binomial at {k}: {v}");
        }
        assert!(bd0(1e-40, 1e300).is_finite());
    }
}
