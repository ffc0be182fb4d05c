//! The continuous Bernoulli distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::special::kernel::{apply1, apply2, Map1, Map2};
use crate::special::{self};
use candle_core::{DType, Device, Tensor};
use std::f64::consts::LN_2;

const NAME: &str = "ContinuousBernoulli";

/// The continuous Bernoulli distribution on [0, 1] (Loaiza-Ganem and Cunningham, "The
/// continuous Bernoulli: fixing a pervasive error in variational autoencoders",
/// NeurIPS 2019), parameterized by `probs` λ or by `logits` L = ln(λ/(1 − λ)) (torch's
/// names: λ is not a probability of the distribution, nor L its log-odds).
///
/// Density `p(x) = C(λ) λ^x (1 − λ)^{1−x}` on 0 ≤ x ≤ 1 with `C = L / tanh(L/2)`
/// (2 at λ = 1/2); CDF `F(x) = expm1(xL)/expm1(L)`, quantile
/// `F⁻¹(q) = log1p(q·expm1(L))/L` (both the identity at L = 0); mean
/// `m(L) = 1/(1 − e^{−L}) − 1/L`, variance `m'(L) = 1/L² − 1/(4 sinh²(L/2))`, entropy
/// `−m L − ln C − ln(1 − λ)`, mode 1 for λ > 1/2, 0 for λ < 1/2 and NaN at 1/2 (torch
/// defines no mode).
///
/// Everything is a function of L, evaluated in f64 (rounded once to the dtype) and
/// exactly everywhere: torch replaces the
/// formulas by low-order Taylor polynomials for λ ∈ (0.499, 0.501); here fused kernels
/// switch to series in the Bernoulli numbers near L = 0 (below |L| = 1/2 for ln C and
/// its derivative, |L| = 2 for the mean, the variance and its derivative), where the
/// closed forms cancel, so results are accurate to a few ulps for every λ and their
/// gradients are exact. Large |L| never overflows (any finite logit works).
///
/// `probs` must lie in [0, 1] (checked when validating) and is then clamped to
/// [ε, 1 − ε] of the dtype, as torch's `clamp_probs`, so λ = 0 or 1 gives the finite
/// logit ∓ln(1/ε − 1) instead of an infinite one. `logits` may be any real; ±∞ is
/// clamped to the largest finite value of the dtype (the distribution is then, to
/// rounding, a point mass at 0 or 1).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{ContinuousBernoulli, Distribution};
/// let dev = Device::Cpu;
/// let d = ContinuousBernoulli::new(&Tensor::new(&[0.5f64, 0.8], &dev)?)?;
/// let m = d.mean()?.to_vec1::<f64>()?;
/// assert_eq!(m[0], 0.5); // the uniform distribution
/// // L = ln 4: mean 1/(1 − 1/4) − 1/ln 4
/// assert!((m[1] - (4.0 / 3.0 - 1.0 / 4f64.ln())).abs() < 1e-15);
/// let x = Tensor::new(&[0.3f64, 0.3], &dev)?;
/// let back = d.icdf(&d.cdf(&x)?)?.to_vec1::<f64>()?;
/// assert!((back[1] - 0.3).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ContinuousBernoulli {
    /// The parameter as given (`probs` or `logits`), broadcast and checked.
    params: Params,
    from_probs: bool,
    /// L in the dtype, on the graph of the given parameter.
    logits: Tensor,
    /// λ in the dtype: the clamped probs, or sigmoid(L).
    probs: Tensor,
    /// L in f64, which every method works with (results are rounded once).
    l: Tensor,
}

impl ContinuousBernoulli {
    /// ContinuousBernoulli(probs), probs ∈ [0, 1] (clamped to [ε, 1 − ε]). Parameters are
    /// tensors or numbers (dtype rules: [`distribution`](crate::distribution)).
    pub fn new(probs: impl Into<crate::distribution::Param>) -> Result<Self> {
        let [probs] = crate::distribution::promote_params(NAME, [("probs", probs.into())])?;
        Self::build_probs(&probs, None)
    }

    /// As [`ContinuousBernoulli::new`], with argument validation set for this instance.
    pub fn new_with_validation(
        probs: impl Into<crate::distribution::Param>,
        validate: bool,
    ) -> Result<Self> {
        let [probs] = crate::distribution::promote_params(NAME, [("probs", probs.into())])?;
        Self::build_probs(&probs, Some(validate))
    }

    /// A scalar ContinuousBernoulli of `dtype` (f32 or f64) on `device`.
    pub fn from_scalars(probs: f64, dtype: candle_core::DType, device: &Device) -> Result<Self> {
        let [probs] = crate::distribution::scalar_params(NAME, [probs], dtype, device)?;
        Self::new(&probs)
    }

    /// ContinuousBernoulli(logits = L), any real L. Parameters are tensors or numbers
    /// (dtype rules: [`distribution`](crate::distribution)).
    pub fn from_logits(logits: impl Into<crate::distribution::Param>) -> Result<Self> {
        let [logits] = crate::distribution::promote_params(NAME, [("logits", logits.into())])?;
        Self::build_logits(&logits, None)
    }

    /// As [`ContinuousBernoulli::from_logits`], with argument validation set for this instance.
    pub fn from_logits_with_validation(
        logits: impl Into<crate::distribution::Param>,
        validate: bool,
    ) -> Result<Self> {
        let [logits] = crate::distribution::promote_params(NAME, [("logits", logits.into())])?;
        Self::build_logits(&logits, Some(validate))
    }

    fn build_probs(probs: &Tensor, validate: Option<bool>) -> Result<Self> {
        let params = Params::new(
            NAME,
            &[("probs", probs, Constraint::UnitInterval)],
            validate,
        )?;
        let eps = match params.dtype() {
            DType::F32 => f32::EPSILON as f64,
            _ => f64::EPSILON,
        };
        let p = params.get(0).clamp(eps, 1.0 - eps)?;
        let l = logit(&p.to_dtype(DType::F64)?)?;
        let logits = params.out(l.clone())?;
        Ok(ContinuousBernoulli {
            params,
            from_probs: true,
            logits,
            probs: p,
            l,
        })
    }

    fn build_logits(logits: &Tensor, validate: Option<bool>) -> Result<Self> {
        let params = Params::new(NAME, &[("logits", logits, Constraint::Real)], validate)?;
        let max = match params.dtype() {
            DType::F32 => f32::MAX as f64,
            _ => f64::MAX,
        };
        let logits = params.get(0).clamp(-max, max)?;
        let l = logits.to_dtype(DType::F64)?;
        let probs = params.out(special::sigmoid(&l)?)?;
        Ok(ContinuousBernoulli {
            params,
            from_probs: false,
            logits,
            probs,
            l,
        })
    }

    /// λ (`probs`, clamped to [ε, 1 − ε] when given; sigmoid(logits) otherwise),
    /// broadcast to `batch_shape`.
    pub fn probs(&self) -> &Tensor {
        &self.probs
    }

    /// L = ln(λ/(1 − λ)) (`logits`), broadcast to `batch_shape`.
    pub fn logits(&self) -> &Tensor {
        &self.logits
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.params.set_validate(on);
    }

    /// L in f64 on the graph of the given parameter (what every method computes with),
    /// broadcast to `batch_shape`: the KL closed forms use it.
    pub(crate) fn wide_logits(&self) -> &Tensor {
        &self.l
    }

    /// L in f64 broadcast to the shape of `like`.
    fn l_like(&self, like: &Tensor) -> Result<Tensor> {
        crate::distribution::broadcast_to(&self.l, like.dims())
    }
}

// ---------------------------------------------------------------------------
// Scalar kernels in L.
//
// With the Bernoulli numbers B_2k and c_k = B_2k/(2k)!:
//   L/(1 − e^{−L}) = 1 + L/2 + Σ c_k L^{2k}, so m(L) = 1/2 + Σ c_k L^{2k−1}
//   (radius of convergence 2π), and v = m', v' = m'' termwise;
//   ln C(L) = ln(L coth(L/2)) = ln 2 + Σ (4^k − 2) c_k L^{2k}/(2k) (radius π), from
//   ln(y coth y) = ln cosh y − ln(sinh y/y) and the series of both (Abramowitz and
//   Stegun 4.5.67–68), and d ln C/dL = 1/L − 1/sinh L = Σ (4^k − 2) c_k L^{2k−1}.
// Closed forms lose about 2/|L|·ε (m), 12/L²·ε (v, d ln C) and 240/L²·ε (v') to
// cancellation; at the switches (|L| = 2 for m, v, v'; 1/2 for ln C, d ln C) this is
// below 1e-13, and the series' truncation after 24 (12) terms below 1e-20.
// ---------------------------------------------------------------------------

/// B_2k/(2k)! for k = 1..=24.
const BERN: [f64; 24] = [
    0.08333333333333333,
    -0.001388888888888889,
    3.306878306878307e-05,
    -8.267195767195768e-07,
    2.08767569878681e-08,
    -5.284190138687493e-10,
    1.3382536530684679e-11,
    -3.3896802963225827e-13,
    8.586062056277845e-15,
    -2.174868698558062e-16,
    5.5090028283602295e-18,
    -1.3954464685812522e-19,
    3.534707039629467e-21,
    -8.953517427037546e-23,
    2.267952452337683e-24,
    -5.744790668872202e-26,
    1.455172475614865e-27,
    -3.6859949406653103e-29,
    9.336734257095045e-31,
    -2.36502241570063e-32,
    5.990671762482134e-34,
    -1.5174548844682903e-35,
    3.843758125454189e-37,
    -9.736353072646691e-39,
];

/// Series switch of the mean, the variance and its derivative.
pub(crate) const SERIES_M: f64 = 2.0;
/// Series switch of ln C and its derivative.
pub(crate) const SERIES_C: f64 = 0.5;
/// Terms of the ln C series (ratio (1/(2π))² per term at the switch).
const TERMS_C: usize = 12;
/// Below this |L| the CDF and the quantile use their first-order expansion in L
/// (error O(L²) ≤ 1e-16 relative); above `BIG_L` forms that do not overflow.
const TINY_L: f64 = 1e-8;
const BIG_L: f64 = 700.0;

/// Σ_k coef(k) c_k s^{k−1} for s = L², k = 1..=n, by Horner's rule.
#[inline]
fn bern_poly(s: f64, n: usize, coef: impl Fn(f64) -> f64) -> f64 {
    let mut acc = 0.0;
    for k in (1..=n).rev() {
        acc = acc * s + coef(k as f64) * BERN[k - 1];
    }
    acc
}

/// m(L) = 1/(1 − e^{−L}) − 1/L, the mean.
pub(crate) fn mean_scalar(l: f64) -> f64 {
    if l.abs() < SERIES_M {
        0.5 + l * bern_poly(l * l, 24, |_| 1.0)
    } else {
        -1.0 / (-l).exp_m1() - 1.0 / l
    }
}

/// v(L) = m'(L) = 1/L² − 1/(4 sinh²(L/2)), the variance.
pub(crate) fn var_scalar(l: f64) -> f64 {
    if l.abs() < SERIES_M {
        bern_poly(l * l, 24, |k| 2.0 * k - 1.0)
    } else {
        let s = (0.5 * l).sinh();
        1.0 / (l * l) - 0.25 / (s * s)
    }
}

/// v'(L) = −2/L³ + coth(L/2)/(4 sinh²(L/2)).
pub(crate) fn dvar_scalar(l: f64) -> f64 {
    if l.abs() < SERIES_M {
        // Σ_{k≥2} c_k (2k−1)(2k−2) L^{2k−3} = L Σ_{j≥1} c_{j+1} (2j+1)(2j) L^{2j−2}
        let s = l * l;
        let mut acc = 0.0;
        for k in (2..=24).rev() {
            let kf = k as f64;
            acc = acc * s + (2.0 * kf - 1.0) * (2.0 * kf - 2.0) * BERN[k - 1];
        }
        l * acc
    } else {
        let h = 0.5 * l;
        let s = h.sinh();
        -2.0 / (l * l * l) + 0.25 / (h.tanh() * s * s)
    }
}

/// ln C(L) = ln(L / tanh(L/2)) = ln|L| + log1p(2/expm1(|L|)).
pub(crate) fn lnc_scalar(l: f64) -> f64 {
    let a = l.abs();
    if a < SERIES_C {
        let s = l * l;
        LN_2 + s * bern_poly(s, TERMS_C, |k| (4f64.powf(k) - 2.0) / (2.0 * k))
    } else {
        a.ln() + (2.0 / a.exp_m1()).ln_1p()
    }
}

/// d ln C/dL = 1/L − 1/sinh L.
pub(crate) fn dlnc_scalar(l: f64) -> f64 {
    if l.abs() < SERIES_C {
        l * bern_poly(l * l, TERMS_C, |k| 4f64.powf(k) - 2.0)
    } else {
        1.0 / l - 1.0 / l.sinh()
    }
}

/// F(x, L) = expm1(xL)/expm1(L), clamped to [0, 1].
pub(crate) fn cdf_scalar(x: f64, l: f64) -> f64 {
    let f = if l.abs() < TINY_L {
        x + 0.5 * x * (x - 1.0) * l
    } else if l <= BIG_L {
        (x * l).exp_m1() / l.exp_m1()
    } else {
        // e^{(x−1)L} (1 − e^{−xL})/(1 − e^{−L}), without overflow.
        ((x - 1.0) * l).exp() * (-x * l).exp_m1() / (-l).exp_m1()
    };
    f.clamp(0.0, 1.0)
}

/// ln(e^a + e^b).
#[inline]
fn logaddexp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + (-(a - b).abs()).exp().ln_1p()
}

/// F⁻¹(q, L) = log1p(q·expm1(L))/L, clamped to [0, 1].
pub(crate) fn icdf_scalar(q: f64, l: f64) -> f64 {
    let x = if l.abs() < TINY_L {
        q + 0.5 * q * (1.0 - q) * l
    } else if l <= BIG_L {
        (q * l.exp_m1()).ln_1p() / l
    } else {
        // ln(1 + q(e^L − 1)) = L + ln(q + (1 − q)e^{−L}).
        (l + logaddexp(q.ln(), (-q).ln_1p() - l)) / l
    };
    x.clamp(0.0, 1.0)
}

/// logit(p) = ln(p/(1 − p)): `ln p − log1p(−p)` below 1/4, `2 atanh(2p − 1)` above
/// (2p − 1 is exact there, so logit(1/2) = 0 exactly).
pub(crate) fn logit_scalar(p: f64) -> f64 {
    if p < 0.25 {
        p.ln() - (-p).ln_1p()
    } else {
        2.0 * (2.0 * p - 1.0).atanh()
    }
}

// ---------------------------------------------------------------------------
// Tensor kernels with exact backward passes.
// ---------------------------------------------------------------------------

type CResult<T> = candle_core::Result<T>;

/// logit(p). Gradient 1/(p(1 − p)).
fn logit(p: &Tensor) -> Result<Tensor> {
    fn bwd(p: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g / (p * (1.0 - p)?)?
    }
    apply1(
        p,
        Map1 {
            name: "logit",
            f: logit_scalar,
            bwd: Some(bwd),
        },
    )
}

/// ln C(L). Gradient d ln C/dL.
pub(crate) fn cb_log_norm(l: &Tensor) -> Result<Tensor> {
    fn bwd(l: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * cb_dlog_norm(l)?
    }
    apply1(
        l,
        Map1 {
            name: "cb_log_norm",
            f: lnc_scalar,
            bwd: Some(bwd),
        },
    )
}

/// d ln C/dL = σ(L) − m(L). Gradient σ(L)σ(−L) − v(L) (no cancellation: 1/4 − 1/12 at
/// L = 0, ≈ −1/L² for large |L|).
fn cb_dlog_norm(l: &Tensor) -> Result<Tensor> {
    fn bwd(l: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        let s = special::sigmoid(l)?;
        let sn = special::sigmoid(&l.neg()?)?;
        let v = cb_var(l)?;
        g * ((s * sn)? - v)?
    }
    apply1(
        l,
        Map1 {
            name: "cb_dlog_norm",
            f: dlnc_scalar,
            bwd: Some(bwd),
        },
    )
}

/// m(L). Gradient v(L).
pub(crate) fn cb_mean(l: &Tensor) -> Result<Tensor> {
    fn bwd(l: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        g * cb_var(l)?
    }
    apply1(
        l,
        Map1 {
            name: "cb_mean",
            f: mean_scalar,
            bwd: Some(bwd),
        },
    )
}

/// v(L). Gradient v'(L) (whose own backward is not provided: third derivatives of
/// the mean are not available).
pub(crate) fn cb_var(l: &Tensor) -> Result<Tensor> {
    fn bwd(l: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
        let d = apply1(
            l,
            Map1 {
                name: "cb_dvar",
                f: dvar_scalar,
                bwd: None,
            },
        )?;
        g * d
    }
    apply1(
        l,
        Map1 {
            name: "cb_var",
            f: var_scalar,
            bwd: Some(bwd),
        },
    )
}

/// The density p(x) = exp(xL − softplus(L) + ln C(L)), differentiable.
fn density(x: &Tensor, l: &Tensor) -> CResult<Tensor> {
    let sp = special::softplus(l)?;
    let lc = cb_log_norm(l)?;
    (((x * l)? - sp)? + lc)?.exp()
}

/// x·m(xL) − m(L) = ∂ ln F(x, L)/∂L (ln F = ln x + A(xL) − A(L), A(L) = ln(expm1(L)/L),
/// A' = m).
fn dlogf_dl(x: &Tensor, l: &Tensor) -> CResult<Tensor> {
    let mx = cb_mean(&(x * l)?)?;
    let m = cb_mean(l)?;
    (x * mx)? - m
}

/// F(x, L). Gradients p(x) and F·(x m(xL) − m(L)).
pub(crate) fn cb_cdf(x: &Tensor, l: &Tensor) -> Result<Tensor> {
    fn bwd(
        x: &Tensor,
        l: &Tensor,
        f: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let dx = density(x, l)?;
        let dl = (f * dlogf_dl(x, l)?)?;
        Ok((Some((g * dx)?), Some((g * dl)?)))
    }
    apply2(
        x,
        l,
        Map2 {
            name: "cb_cdf",
            f: cdf_scalar,
            f32: cdf_scalar,
            bwd: Some(bwd),
        },
    )
}

/// F⁻¹(q, L). Gradients 1/p(x) and −∂F/∂L / p(x) at x = F⁻¹(q) (implicit function).
pub(crate) fn cb_icdf(q: &Tensor, l: &Tensor) -> Result<Tensor> {
    fn bwd(
        q: &Tensor,
        l: &Tensor,
        x: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let inv = density(x, l)?.recip()?;
        let dl = ((q * dlogf_dl(x, l)?)? * &inv)?.neg()?;
        Ok((Some((g * inv)?), Some((g * dl)?)))
    }
    apply2(
        q,
        l,
        Map2 {
            name: "cb_icdf",
            f: icdf_scalar,
            f32: icdf_scalar,
            bwd: Some(bwd),
        },
    )
}

/// A tensor like `like` filled with `v`.
fn filled(like: &Tensor, v: f64) -> Result<Tensor> {
    Ok(like.ones_like()?.affine(0.0, v)?)
}

impl Distribution for ContinuousBernoulli {
    params_methods!(params);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::UnitInterval
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.params.sample_shape(sample_shape)?;
        let u = rng.uniform(&shape, self.dtype(), self.device())?;
        let u = u.to_dtype(DType::F64)?;
        let l = self.l_like(&u)?;
        self.params.out(cb_icdf(&u, &l)?)
    }

    // x ln λ + (1 − x) ln(1 − λ) + ln C = −x softplus(−L) − (1 − x) softplus(L) + ln C;
    // −∞ outside [0, 1] (with checks off).
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.params.wide_value(value, &Constraint::UnitInterval)?;
        let l = self.l_like(&x)?;
        let inside = x.ge(0.0)?.minimum(&x.le(1.0)?)?;
        let x = inside.where_cond(&x, &x.zeros_like()?)?;
        let neg_ln_lam = special::softplus(&l.neg()?)?;
        let neg_ln_1m = special::softplus(&l)?;
        let lp = (cb_log_norm(&l)? - ((&x * neg_ln_lam)? + ((1.0 - &x)? * neg_ln_1m)?)?)?;
        self.params.out_for(
            value,
            inside.where_cond(&lp, &filled(&lp, f64::NEG_INFINITY)?)?,
        )
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.params.wide_value(value, &Constraint::UnitInterval)?;
        let l = self.l_like(&x)?;
        let inside = x.ge(0.0)?.minimum(&x.le(1.0)?)?;
        let safe = inside.where_cond(&x, &x.zeros_like()?)?;
        let f = cb_cdf(&safe, &l)?;
        let outer = x.lt(0.0)?.where_cond(&x.zeros_like()?, &x.ones_like()?)?;
        self.params.out_for(value, inside.where_cond(&f, &outer)?)
    }

    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let arg = q;
        let q = self.params.probability(q)?.to_dtype(DType::F64)?;
        let l = self.l_like(&q)?;
        self.params.out_for(arg, cb_icdf(&q, &l)?)
    }

    // m(L) softplus(−L) + m(−L) softplus(L) − ln C(L): the same as torch's
    // −m L − ln C − ln(1 − λ), with 1 − m taken as m(−L) so nothing cancels for
    // large |L|.
    fn entropy(&self) -> Result<Tensor> {
        let l = &self.l;
        let ln = l.neg()?;
        let a = (cb_mean(l)? * special::softplus(&ln)?)?;
        let b = (cb_mean(&ln)? * special::softplus(l)?)?;
        self.params.out(((a + b)? - cb_log_norm(l)?)?)
    }

    fn mean(&self) -> Result<Tensor> {
        self.params.out(cb_mean(&self.l)?)
    }

    // The density ∝ e^{xL} is monotone: mode 1 for L > 0, 0 for L < 0, NaN at L = 0.
    fn mode(&self) -> Result<Tensor> {
        let l = &self.logits;
        let neg = l
            .lt(0.0)?
            .where_cond(&l.zeros_like()?, &filled(l, f64::NAN)?)?;
        Ok(l.gt(0.0)?.where_cond(&l.ones_like()?, &neg)?)
    }

    fn variance(&self) -> Result<Tensor> {
        self.params.out(cb_var(&self.l)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let p = self.params.expanded(batch_shape)?;
        let mut d = if self.from_probs {
            ContinuousBernoulli::new_with_validation(&p[0], false)?
        } else {
            ContinuousBernoulli::from_logits_with_validation(&p[0], false)?
        };
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Kernel = fn(f64) -> f64;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    /// Series and closed form agree to 1e-12 at (just below / just above) each switch,
    /// for both signs of L.
    #[test]
    fn branches_agree_at_the_switches() {
        let fs: [(&str, Kernel, f64); 5] = [
            ("mean", mean_scalar, SERIES_M),
            ("var", var_scalar, SERIES_M),
            ("dvar", dvar_scalar, SERIES_M),
            ("lnC", lnc_scalar, SERIES_C),
            ("dlnC", dlnc_scalar, SERIES_C),
        ];
        for (name, f, t) in fs {
            for s in [1.0, -1.0] {
                let below = f(s * t * (1.0 - f64::EPSILON));
                let at = f(s * t);
                assert!(
                    rel(below, at) < 1e-12,
                    "{name} at L = {}: {below} vs {at}",
                    s * t
                );
            }
        }
    }

    /// The series branches against the closed forms well inside the region where the
    /// closed forms are accurate (|L| = 1.5t..3t), extending the series past its switch.
    #[test]
    fn series_values_at_known_points() {
        // L = 0: exact limits.
        assert_eq!(mean_scalar(0.0), 0.5);
        assert_eq!(var_scalar(0.0), 1.0 / 12.0);
        assert_eq!(dvar_scalar(0.0), 0.0);
        assert_eq!(lnc_scalar(0.0), LN_2);
        assert_eq!(dlnc_scalar(0.0), 0.0);
        assert_eq!(cdf_scalar(0.3, 0.0), 0.3);
        assert_eq!(icdf_scalar(0.3, 0.0), 0.3);
        assert_eq!(logit_scalar(0.5), 0.0);
        // Symmetries m(−L) = 1 − m(L), v even, ln C even.
        for l in [0.1, 1.0, 1.999, 2.0, 5.0, 50.0] {
            assert!((mean_scalar(-l) - (1.0 - mean_scalar(l))).abs() < 4.0 * f64::EPSILON);
            assert_eq!(var_scalar(-l), var_scalar(l));
            assert_eq!(lnc_scalar(-l), lnc_scalar(l));
        }
    }

    #[test]
    fn no_overflow_for_large_logits() {
        for l in [710.0, 1e5, 1e300, f64::MAX] {
            let m = mean_scalar(l);
            assert!(
                (m - (1.0 - 1.0 / l)).abs() <= 2.0 * f64::EPSILON,
                "{l}: {m}"
            );
            assert!(var_scalar(l).is_finite() && lnc_scalar(l).is_finite());
            assert!(dvar_scalar(l).is_finite());
            for q in [0.0, 1e-300, 0.5, 1.0] {
                let x = icdf_scalar(q, l);
                assert!((0.0..=1.0).contains(&x), "{l} {q}: {x}");
                let x = icdf_scalar(q, -l);
                assert!((0.0..=1.0).contains(&x), "{l} {q}: {x}");
            }
            assert_eq!(cdf_scalar(1.0, l), 1.0);
            assert_eq!(cdf_scalar(0.0, l), 0.0);
        }
    }
}
