//! The Pareto (type I) distribution, and the scale-power kernels it shares with
//! [`Weibull`](crate::Weibull).

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::special::kernel::{apply2, grad_carrier, Map2};
use crate::special::{self};
use candle_core::{DType, Tensor};

const NAME: &str = "Pareto";

/// The Pareto (type I) distribution with `scale` σ and shape `alpha` α (torch's
/// parameterization and argument order).
///
/// Density `p(x) = α σ^α / x^{α+1}` on the support x ≥ σ, CDF `F(x) = 1 − (σ/x)^α`,
/// quantile `F⁻¹(q) = σ (1 − q)^{−1/α}`; `scale > 0`, `alpha > 0`. Mean `ασ/(α − 1)`
/// for α > 1 and +∞ otherwise, variance `σ²α/((α − 1)²(α − 2))` for α > 2 and +∞
/// otherwise (torch's values), mode σ, entropy `ln(σ/α) + 1 + 1/α`.
///
/// torch builds it as `TransformedDistribution(Exponential(α), [Exp, Affine(0, σ)])`;
/// this type gives the same values from closed forms evaluated in f64 (rounded once to
/// the dtype), with t = ln(x/σ) computed without cancellation near x = σ
/// (`log1p((x − σ)/σ)`, where x − σ is exact): `log_prob = ln α − ln x − α t`,
/// `cdf = −expm1(−α t)`. `rsample` is the inverse CDF, x = σ·exp(E/α) with
/// E = −ln U exponential, evaluated as σ·e^{E/α} (so x ≥ σ exactly), with the pathwise
/// gradients ∂x/∂σ = e^{E/α} and ∂x/∂α = −x E/α²; draws beyond the dtype's range are
/// its largest finite number, and draws below its smallest normal number (subnormal
/// scales) are that number, still in the support (gradient 0 at both).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, Pareto};
/// let dev = Device::Cpu;
/// let d = Pareto::from_scalars(2.0, 3.0, DType::F64, &dev)?;
/// // F(4) = 1 − (2/4)³ = 7/8, and the quantile inverts it.
/// let f = d.cdf(&Tensor::new(4.0f64, &dev)?)?.to_scalar::<f64>()?;
/// assert!((f - 0.875).abs() < 1e-15);
/// let x = d.icdf(&Tensor::new(0.875f64, &dev)?)?.to_scalar::<f64>()?;
/// assert!((x - 4.0).abs() < 1e-14);
/// // mean = ασ/(α − 1) = 3
/// assert!((d.mean()?.to_scalar::<f64>()? - 3.0).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pareto {
    params: Params,
}

impl Pareto {
    crate::distribution::params_constructors! {
        /// Pareto(scale, alpha). Parameters are tensors or numbers (dtype rules:
        /// [`distribution`](crate::distribution)).
        "Pareto", Self::build; scale, alpha
    }

    fn build(scale: &Tensor, alpha: &Tensor, validate: Option<bool>) -> Result<Self> {
        let params = Params::new(
            NAME,
            &[
                ("scale", scale, Constraint::Positive),
                ("alpha", alpha, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(Pareto { params })
    }

    /// `scale` σ (the lower end of the support), broadcast to `batch_shape`.
    pub fn scale(&self) -> &Tensor {
        self.params.get(0)
    }

    /// `alpha` α (the tail index), broadcast to `batch_shape`.
    pub fn alpha(&self) -> &Tensor {
        self.params.get(1)
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.params.set_validate(on);
    }

    /// A `log_prob`/`cdf` argument in f64 with the parameters broadcast to it:
    /// `(x, σ, α, t, inside)`, where `inside` is σ ≤ x < ∞ and t = ln(x/σ) is
    /// evaluated at x = σ (t = 0) elsewhere, so no gradient meets an infinity.
    fn prepare(&self, value: &Tensor) -> Result<Prepared> {
        let x = self.params.wide_value(value, &self.support())?;
        let sigma = self.params.w_at(0, &x)?;
        let alpha = self.params.w_at(1, &x)?;
        let inside = x.ge(&sigma)?.minimum(&x.lt(f64::INFINITY)?)?;
        let x_safe = inside.where_cond(&x, &sigma.detach())?;
        let t = log_ratio(&x_safe, &sigma)?;
        Ok(Prepared {
            x,
            x_safe,
            alpha,
            t,
            inside,
        })
    }

    /// `(r, α/(α − 2), finite)` for the variance and standard deviation:
    /// r = σ/(α − 1), with α = 3 standing in where α ≤ 2 (infinite moments).
    fn spread(&self) -> Result<(Tensor, Tensor, Tensor)> {
        let (sigma, alpha) = (self.params.w(0), self.params.w(1));
        let finite = alpha.gt(2.0)?;
        let a = finite.where_cond(alpha, &filled(alpha, 3.0)?)?;
        let r = (sigma / (&a - 1.0)?)?;
        let ratio = (&a / (&a - 2.0)?)?;
        Ok((r, ratio, finite))
    }
}

struct Prepared {
    x: Tensor,
    x_safe: Tensor,
    alpha: Tensor,
    t: Tensor,
    inside: Tensor,
}

/// A tensor like `like` filled with `v`.
fn filled(like: &Tensor, v: f64) -> Result<Tensor> {
    Ok(like.ones_like()?.affine(0.0, v)?)
}

// ---------------------------------------------------------------------------------
// Kernels shared with Weibull: both laws are x = s·exp(c/θ) of a scale s, a shape θ
// and a standard variable c (Pareto: c = E, θ = α; Weibull: c = ln E, θ = k, with E
// standard exponential), and both densities are functions of t = ln(x/s).
// ---------------------------------------------------------------------------------

/// ln(x/s) for x, s > 0 without cancellation: `log1p((x − s)/s)` for s/2 ≤ x ≤ 2s
/// (where x − s is exact, Sterbenz), `ln(x/s)` where the ratio is a normal number,
/// and `ln x − ln s` where it overflows or underflows (ratios of subnormal scales).
pub(crate) fn log_ratio_scalar(x: f64, s: f64) -> f64 {
    if x >= 0.5 * s && x <= 2.0 * s {
        return ((x - s) / s).ln_1p();
    }
    let r = x / s;
    if r.is_finite() && r >= f64::MIN_POSITIVE {
        r.ln()
    } else {
        x.ln() - s.ln()
    }
}

/// t = ln(x/s), elementwise with broadcasting ([`log_ratio_scalar`]); gradients
/// g/x and −g/s (divisions, so a zero upstream gradient stays 0 at subnormal x or s).
pub(crate) fn log_ratio(x: &Tensor, s: &Tensor) -> Result<Tensor> {
    fn bwd(
        x: &Tensor,
        s: &Tensor,
        _t: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some((g / x)?), Some((g / s)?.neg()?)))
    }
    apply2(
        x,
        s,
        Map2 {
            name: "log_ratio",
            f: log_ratio_scalar,
            f32: log_ratio_scalar,
            bwd: Some(bwd),
        },
    )
}

/// s·e^l for s > 0 without spurious overflow or underflow: the product where e^l and
/// s·e^l are normal numbers (one rounding each), else `exp(ln s + l)`.
pub(crate) fn scaled_exp_scalar(s: f64, l: f64) -> f64 {
    let r = l.exp();
    let x = s * r;
    if r.is_finite() && r > 0.0 && x.is_finite() && x >= f64::MIN_POSITIVE {
        x
    } else {
        (s.ln() + l).exp()
    }
}

/// s·e^l ([`scaled_exp_scalar`]) with gradients e^l·g and (s·e^l)·g, where a zero
/// upstream gradient gives 0 even if e^l is ∞ (the branch of a selection that was
/// not taken).
pub(crate) fn scaled_exp(s: &Tensor, l: &Tensor) -> Result<Tensor> {
    fn bwd(
        _s: &Tensor,
        l: &Tensor,
        y: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let zero = g.eq(0.0)?;
        let z = g.zeros_like()?;
        let ds = zero.where_cond(&z, &(g * l.exp()?)?)?;
        let dl = zero.where_cond(&z, &(g * y)?)?;
        Ok((Some(ds), Some(dl)))
    }
    apply2(
        s,
        l,
        Map2 {
            name: "scaled_exp",
            f: scaled_exp_scalar,
            f32: scaled_exp_scalar,
            bwd: Some(bwd),
        },
    )
}

/// x = s·exp(c/θ) (f64 tensors of one shape), the inverse CDF of both families, with
/// the pathwise gradients ∂x/∂s = e^{c/θ}, ∂x/∂θ = −x·(c/θ)/θ and ∂x/∂c = x/θ attached
/// by [`grad_carrier`] (so gradients reach s, θ and whatever c was computed from).
///
/// With `clamp = Some((lo, hi))` the result is clamped into [lo, hi] (a dtype's
/// range, for draws), with gradient 0 where it was clamped; without, x may be 0 or
/// +∞ (quantiles at q = 0 and 1), also with gradient 0. So no gradient is ever
/// 0·∞ = NaN.
pub(crate) fn scale_power(
    s: &Tensor,
    theta: &Tensor,
    c: &Tensor,
    clamp: Option<(f64, f64)>,
) -> Result<Tensor> {
    let l = (c.detach() / theta.detach())?;
    let x0 = apply2(
        &s.detach(),
        &l,
        Map2 {
            name: "scale_power",
            f: scaled_exp_scalar,
            f32: scaled_exp_scalar,
            bwd: None,
        },
    )?;
    let (lo, hi) = clamp.unwrap_or((f64::MIN_POSITIVE * f64::EPSILON, f64::MAX));
    let keep = x0
        .ge(lo)?
        .minimum(&x0.le(hi)?)?
        .minimum(&l.abs()?.lt(f64::INFINITY)?)?;
    let zero = x0.zeros_like()?;
    let coef = |v: Tensor| -> Result<Tensor> { Ok(keep.where_cond(&v, &zero)?) };
    let th = theta.detach();
    let c_s = coef(l.exp()?)?;
    let c_theta = coef(((&x0 * &l)? / &th)?.neg()?)?;
    let c_c = coef((&x0 / &th)?)?;
    let x = match clamp {
        Some((lo, hi)) => x0.clamp(lo, hi)?,
        None => x0,
    };
    let carried =
        ((grad_carrier(&c_s, s)? + grad_carrier(&c_theta, theta)?)? + grad_carrier(&c_c, c)?)?;
    Ok((x + carried)?)
}

/// The range `[lo, hi]` a draw of `dtype` is clamped into: the smallest positive
/// normal and the largest finite number of the dtype.
pub(crate) fn draw_range(dtype: DType) -> (f64, f64) {
    let (tiny, _) = crate::samplers::unit_bounds(dtype);
    (tiny, crate::samplers::finite_max(dtype))
}

impl Distribution for Pareto {
    params_methods!(params);
    fn name(&self) -> &'static str {
        NAME
    }

    /// `[scale, ∞)` (torch's `greater_than_eq(scale)`).
    fn support(&self) -> Constraint {
        Constraint::DependentGreaterThanEq {
            low: self.scale().clone(),
        }
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.params.sample_shape(sample_shape)?;
        let u = rng
            .uniform(&shape, self.dtype(), self.device())?
            .to_dtype(DType::F64)?;
        // E = −ln U: U lies in the open interval, so E is positive and finite.
        let e = u.log()?.neg()?;
        let sigma = self.params.w_at(0, &e)?;
        let alpha = self.params.w_at(1, &e)?;
        let x = scale_power(&sigma, &alpha, &e, Some(draw_range(self.dtype())))?;
        self.params.out(x)
    }

    // ln α − ln x − α ln(x/σ) on [σ, ∞); −∞ at x = ∞ and (checks off) below σ.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let Prepared {
            x,
            x_safe,
            alpha,
            t,
            inside,
        } = self.prepare(value)?;
        let lp = ((alpha.log()? - x_safe.log()?)? - (&alpha * &t)?)?;
        let out = filled(&x, f64::NEG_INFINITY)?;
        self.params.out_for(value, inside.where_cond(&lp, &out)?)
    }

    // 1 − (σ/x)^α = −expm1(−α t); 0 below σ, 1 at +∞.
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let Prepared {
            x,
            alpha,
            t,
            inside,
            ..
        } = self.prepare(value)?;
        let f = special::expm1(&(&alpha * &t)?.neg()?)?.neg()?;
        let rest = x
            .ge(f64::INFINITY)?
            .where_cond(&x.ones_like()?, &x.zeros_like()?)?;
        self.params.out_for(value, inside.where_cond(&f, &rest)?)
    }

    // σ·exp(−log1p(−q)/α): σ at q = 0, +∞ at q = 1.
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let arg = q;
        let q = self.params.probability(q)?.to_dtype(DType::F64)?;
        let sigma = self.params.w_at(0, &q)?;
        let alpha = self.params.w_at(1, &q)?;
        let inner = q.gt(0.0)?.minimum(&q.lt(1.0)?)?;
        let q_safe = inner.where_cond(&q, &filled(&q, 0.5)?)?;
        let c = special::log1p(&q_safe.neg()?)?.neg()?;
        let x = scale_power(&sigma, &alpha, &c, None)?;
        let top = filled(&q, f64::INFINITY)?;
        let ends = q.le(0.0)?.where_cond(&sigma, &top)?;
        self.params.out_for(arg, inner.where_cond(&x, &ends)?)
    }

    // ln σ − ln α + 1 + 1/α (torch: ln(σ/α) + 1 + 1/α, whose ratio can overflow).
    fn entropy(&self) -> Result<Tensor> {
        let (sigma, alpha) = (self.params.w(0), self.params.w(1));
        let h = ((sigma.log()? - alpha.log()?)? + (alpha.recip()? + 1.0)?)?;
        self.params.out(h)
    }

    // σ·α/(α − 1) for α > 1, +∞ for α ≤ 1 (torch clamps α at 1 and divides by 0).
    fn mean(&self) -> Result<Tensor> {
        let (sigma, alpha) = (self.params.w(0), self.params.w(1));
        let finite = alpha.gt(1.0)?;
        let a = finite.where_cond(alpha, &filled(alpha, 2.0)?)?;
        let m = (sigma * (&a / (&a - 1.0)?)?)?;
        self.params
            .out(finite.where_cond(&m, &filled(alpha, f64::INFINITY)?)?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(self.scale().clone())
    }

    /// `σ²α/((α − 1)²(α − 2))` for α > 2 (+∞ otherwise), as r·(r·α/(α − 2)) with
    /// r = σ/(α − 1): σ² alone overflows (σ = 1e200, α = 1e100) where the variance
    /// does not.
    fn variance(&self) -> Result<Tensor> {
        let (r, ratio, finite) = self.spread()?;
        let v = (&r * (&r * ratio)?)?;
        self.params
            .out(finite.where_cond(&v, &filled(&r, f64::INFINITY)?)?)
    }

    /// `r·sqrt(α/(α − 2))`, r = σ/(α − 1), for α > 2 (+∞ otherwise): not the square
    /// root of the variance, which overflows first.
    fn stddev(&self) -> Result<Tensor> {
        let (r, ratio, finite) = self.spread()?;
        let s = (&r * ratio.sqrt()?)?;
        self.params
            .out(finite.where_cond(&s, &filled(&r, f64::INFINITY)?)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let p = self.params.expanded(batch_shape)?;
        let mut d = Pareto::new_with_validation(&p[0], &p[1], false)?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ratio_is_exact_near_one_and_finite_for_subnormal_scales() {
        // x = s(1 + 2⁻⁴⁰): ln(x/s) = 2⁻⁴⁰ − 2⁻⁸¹ + …, to full relative precision.
        let d = 2f64.powi(-40);
        let t = log_ratio_scalar(3.0 * (1.0 + d), 3.0);
        assert!((t - (d - d * d / 2.0)).abs() <= 2.0 * f64::EPSILON * d);
        // The ratio 1e300/5e-324 overflows; the difference of logarithms does not.
        let t = log_ratio_scalar(1e300, 5e-324);
        let want = 1e300f64.ln() - 5e-324f64.ln();
        assert!((t - want).abs() <= 4.0 * f64::EPSILON * want);
    }

    #[test]
    fn scaled_exp_avoids_spurious_overflow() {
        // 5e-324·e^{800} is about 1.3e24: e^{800} alone overflows.
        let x = scaled_exp_scalar(5e-324, 800.0);
        let want = (5e-324f64.ln() + 800.0).exp();
        assert!(x.is_finite() && (x - want).abs() <= 1e-12 * want);
        assert_eq!(scaled_exp_scalar(2.0, 0.0), 2.0);
        assert_eq!(scaled_exp_scalar(f64::MAX, 1.0), f64::INFINITY);
    }
}
