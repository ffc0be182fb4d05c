//! The two-parameter Weibull distribution.

use crate::constraints::Constraint;
use crate::continuous::pareto::{draw_range, log_ratio, scale_power, scaled_exp};
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::special::kernel::{
    apply1, apply3_reducing, sum_ratio_to, sum_to, unbroadcast, Map1, Map3,
};
use crate::special::{self, scalar::EULER_GAMMA};
use candle_core::{DType, Tensor};

const NAME: &str = "Weibull";

/// The Weibull distribution with `scale` λ and `concentration` k (torch's
/// parameterization and argument order).
///
/// Density `p(x) = (k/λ)(x/λ)^{k−1} e^{−(x/λ)^k}` on x > 0, CDF
/// `F(x) = 1 − e^{−(x/λ)^k}`, quantile `F⁻¹(q) = λ(−ln(1 − q))^{1/k}`; `scale > 0`,
/// `concentration > 0`. Mean `λΓ(1 + 1/k)`, variance
/// `λ²(Γ(1 + 2/k) − Γ(1 + 1/k)²)`, mode `λ((k − 1)/k)^{1/k}` (0 at k = 1; NaN for
/// every k < 1, where the density is unbounded at 0: torch's formula is NaN there too,
/// except where 1/k is an even integer and it returns a number that is not a mode),
/// entropy
/// `γ(1 − 1/k) + ln(λ/k) + 1` (γ Euler's constant).
///
/// torch builds it as `TransformedDistribution(Exponential(1), [Power(1/k),
/// Affine(0, λ)])`; this type gives the same values from closed forms in f64 (rounded
/// once to the dtype). With t = ln(x/λ) (no cancellation near x = λ) and u = kt:
/// `log_prob = ln k − ln x + u − e^u`, `cdf = −expm1(−e^u)`. The variance is
/// `exp(2 ln λ + 2 ln Γ(1 + 1/k) + ln(e^D − 1))` with
/// D = ln Γ(1 + 2/k) − 2 ln Γ(1 + 1/k) summed as its series in 1/k for k ≥ 20 (the
/// two ln Γ cancel there: the variance is ≈ λ²π²/(6k²)), so it keeps its relative
/// precision for every k and does not overflow where λ² would. `rsample` is the
/// inverse CDF x = λ·E^{1/k} = λ·exp(ln E/k), E = −ln U standard exponential, with
/// pathwise gradients ∂x/∂λ = x/λ and ∂x/∂k = −x ln E/k²; draws are clamped into the
/// dtype's positive normal range (gradient 0 there).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, Weibull};
/// let dev = Device::Cpu;
/// // k = 1 is the exponential distribution with mean λ.
/// let d = Weibull::from_scalars(2.0, 1.0, DType::F64, &dev)?;
/// assert!((d.mean()?.to_scalar::<f64>()? - 2.0).abs() < 1e-15);
/// let lp = d.log_prob(&Tensor::new(1.0f64, &dev)?)?.to_scalar::<f64>()?;
/// assert!((lp - (-(2f64).ln() - 0.5)).abs() < 1e-15);
/// // k = 2 (Rayleigh): F(λ) = 1 − 1/e.
/// let r = Weibull::from_scalars(3.0, 2.0, DType::F64, &dev)?;
/// let f = r.cdf(&Tensor::new(3.0f64, &dev)?)?.to_scalar::<f64>()?;
/// assert!((f - (1.0 - (-1f64).exp())).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Weibull {
    params: Params,
}

impl Weibull {
    crate::distribution::params_constructors! {
        /// Weibull(scale, concentration). Parameters are tensors or numbers (dtype
        /// rules: [`distribution`](crate::distribution)).
        "Weibull", Self::build; scale, concentration
    }

    fn build(scale: &Tensor, concentration: &Tensor, validate: Option<bool>) -> Result<Self> {
        let params = Params::new(
            NAME,
            &[
                ("scale", scale, Constraint::Positive),
                ("concentration", concentration, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(Weibull { params })
    }

    /// `scale` λ, broadcast to `batch_shape`.
    pub fn scale(&self) -> &Tensor {
        self.params.get(0)
    }

    /// `concentration` k (the shape), broadcast to `batch_shape`.
    pub fn concentration(&self) -> &Tensor {
        self.params.get(1)
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.params.set_validate(on);
    }

    /// A `cdf` argument in f64: `(x, u, inside)` with u = k ln(x/λ)
    /// and `inside` 0 < x < ∞; elsewhere u is evaluated at x = λ (u = 0) so no
    /// gradient meets an infinity.
    fn prepare(&self, value: &Tensor) -> Result<Prepared> {
        let x = self.params.wide_value(value, &Constraint::Positive)?;
        let lambda = self.params.w_at(0, &x)?;
        let k = self.params.w_at(1, &x)?;
        let inside = x.gt(0.0)?.minimum(&x.lt(f64::INFINITY)?)?;
        let x_safe = inside.where_cond(&x, &lambda.detach())?;
        let u = (&k * log_ratio(&x_safe, &lambda)?)?;
        Ok(Prepared { x, u, inside })
    }

    /// 2 ln λ + 2 ln Γ(1 + 1/k) + ln(e^D − 1): the logarithm of the variance.
    fn log_variance(&self) -> Result<Tensor> {
        let (lambda, k) = (self.params.w(0), self.params.w(1));
        let g1 = special::lgamma(&(k.recip()? + 1.0)?)?;
        Ok((((lambda.log()? + g1)? * 2.0)? + log_gap(k)?)?)
    }
}

struct Prepared {
    x: Tensor,
    u: Tensor,
    inside: Tensor,
}

/// A tensor like `like` filled with `v`.
fn filled(like: &Tensor, v: f64) -> Result<Tensor> {
    Ok(like.ones_like()?.affine(0.0, v)?)
}

/// The log density at 0 < x < ∞ ([`log_density_scalar`]), with gradients from one
/// closed form each (so no term meets another of opposite sign or infinite size):
/// ∂/∂x = −(1 + k·expm1(u))/x = −((1 − k) + k e^u)/x, ∂/∂λ = k·expm1(u)/λ, ∂/∂k = 1/k − t·expm1(u), with
/// t = ln(x/λ), u = kt; 0 where the density is −∞ or the upstream gradient is 0.
fn log_density(x: &Tensor, lambda: &Tensor, k: &Tensor) -> Result<Tensor> {
    type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    // The inputs keep their own shapes ([`apply3_reducing`]): the rule sums each
    // gradient to its input's shape itself, with 1/λ taken out of the sum over values
    // (`sum_ratio_to`), so a tiny λ broadcast over values whose terms k·expm1(u)/λ
    // overflow to +∞ and −∞ gives the true total, not ∞ − ∞.
    fn bwd(
        x0: &Tensor,
        lambda0: &Tensor,
        k0: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<Grads> {
        let full = g.dims();
        let (x, lambda, k) = (
            x0.broadcast_as(full)?,
            lambda0.broadcast_as(full)?,
            k0.broadcast_as(full)?,
        );
        let t = log_ratio(&x.detach(), &lambda.detach())?;
        let u = (k.detach() * &t)?;
        let em = special::expm1(&u)?;
        let keep = res.gt(f64::NEG_INFINITY)?.minimum(&g.ne(0.0)?)?;
        let zero = g.zeros_like()?;
        let apply = |d: Tensor| keep.where_cond(&(g * d)?, &zero);
        let k_em = (&k * &em)?;
        // 1 + k·expm1(u) = (1 − k) + k·e^u: each form from the one whose terms are
        // smaller (the first cancels for u ≪ 0 at k ≈ 1, the second for u ≈ 0).
        let a = (&k_em + 1.0)?;
        let k_eu = (&k * u.exp()?)?;
        let b = ((1.0 - &k)? + &k_eu)?;
        let mag_a = (k_em.abs()? + 1.0)?;
        let mag_b = ((1.0 - &k)?.abs()? + &k_eu)?;
        let dx = apply((mag_a.le(&mag_b)?.where_cond(&a, &b)? / &x)?.neg()?)?;
        let dl = sum_ratio_to(&apply(k_em.clone())?, lambda0, lambda0.dims())?;
        let dk = apply((k.recip()? - (&t * &em)?)?)?;
        Ok((
            Some(sum_to(&dx, x0.dims())?),
            Some(dl),
            Some(sum_to(&dk, k0.dims())?),
        ))
    }
    apply3_reducing(
        x,
        &unbroadcast(lambda)?,
        &unbroadcast(k)?,
        Map3 {
            name: "weibull_log_density",
            f: log_density_scalar,
            f32: log_density_scalar,
            bwd: Some(bwd),
        },
    )
}

/// ln k − ln x + u − e^u with u = k ln(x/λ), for 0 < x < ∞: −∞ where e^u overflows
/// (the density is below the smallest float there).
fn log_density_scalar(x: f64, lambda: f64, k: f64) -> f64 {
    let u = k * crate::continuous::pareto::log_ratio_scalar(x, lambda);
    if u > LN_MAX + 0.01 {
        return f64::NEG_INFINITY;
    }
    k.ln() - x.ln() + u - u.exp()
}

/// ln(f64::MAX): beyond it e^u overflows.
const LN_MAX: f64 = 709.782_712_893_384;

/// c_n = (−1)ⁿ ζ(n)(2ⁿ − 2)/n, n = 2, 3, …: D(ε) = ln Γ(1 + 2ε) − 2 ln Γ(1 + ε) =
/// Σ c_n εⁿ (from ln Γ(1 + z) = −γz + Σ (−1)ⁿ ζ(n) zⁿ/n, |z| < 1; values from mpmath).
const GAP_SERIES: [f64; 26] = [
    1.644_934_066_848_226_4,
    -2.404_113_806_319_188_5,
    3.788_131_317_988_983_5,
    -6.221_566_530_860_22,
    10.512_544_973_839_308,
    -18.150_286_992_874_612,
    31.879_456_059_284_73,
    -56.780_475_593_477_995,
    102.301_645_578_063,
    -186.091_919_080_366_2,
    341.250_623_195_770_3,
    -630.077_309_408_974_4,
    1_170.214_526_210_609_4,
    -2_184.466_816_943_389,
    4_095.937_594_224_255_5,
    -7_710.058_882_793_788,
    14_563.500_037_382_837,
    -27_594.052_655_221_7,
    52_428.750_014_989_29,
    -99_864.333_342_857_78,
    190_650.136_369_700_92,
    -364_722.043_482_129_8,
    699_050.625_002_472_7,
    -1_342_177.240_001_583,
    2_581_110.115_385_63,
    -4_971_026.925_926_577,
];

/// At and below this ε = 1/k the gap D(ε) is summed as its series (terms shrink like
/// (2ε)ⁿ: 26 terms leave less than 1e-17 relative).
const SERIES_EPS: f64 = 0.05;

/// (D(ε)/ε², D′(ε)/ε) from the series, for ε ≤ [`SERIES_EPS`]: normalized so that
/// neither underflows for tiny ε.
fn gap_series(eps: f64) -> (f64, f64) {
    let (mut s0, mut s1) = (0.0, 0.0);
    for (i, c) in GAP_SERIES.iter().enumerate().rev() {
        let n = (i + 2) as f64;
        s0 = s0 * eps + c;
        s1 = s1 * eps + n * c;
    }
    (s0, s1)
}

/// ln(e^D − 1) from D > 0 and ln D: ln D + ln(expm1(D)/D), the second term as D/2 where
/// D is tiny (its series is D/2 + D²/24 − …).
fn ln_expm1_from(d: f64, ln_d: f64) -> f64 {
    if d < 1e-8 {
        ln_d + d / 2.0
    } else if d > 1.0 {
        d + (-(-d).exp()).ln_1p()
    } else {
        ln_d + (d.exp_m1() / d).ln()
    }
}

/// ln(Γ(1 + 2/k)/Γ(1 + 1/k)² − 1), the logarithm of the variance over the squared mean,
/// for k > 0: the series of D in ε = 1/k for ε ≤ 0.05 (ln D = 2 ln ε + ln(D/ε²)), the
/// difference of ln Γ up to ε = 1e10, and Stirling's ln C(2ε, ε) ≈ 2ε ln 2 − ½ ln(πε)
/// (relative error ~1/(8ε)) beyond, where ln Γ(1 + 2ε) would overflow.
fn log_gap_scalar(k: f64) -> f64 {
    if k.is_nan() {
        return k;
    }
    let eps = 1.0 / k;
    if eps == f64::INFINITY {
        return eps;
    }
    if eps <= SERIES_EPS {
        let (s0, _) = gap_series(eps);
        let ln_d = s0.ln() - 2.0 * k.ln();
        return ln_expm1_from(ln_d.exp(), ln_d);
    }
    let d = if eps <= 1e10 {
        special::gamma::lgamma(1.0 + 2.0 * eps) - 2.0 * special::gamma::lgamma(1.0 + eps)
    } else {
        2.0 * eps * std::f64::consts::LN_2 - 0.5 * (std::f64::consts::PI * eps).ln()
    };
    ln_expm1_from(d, d.ln())
}

/// d/dk of [`log_gap_scalar`]: −ε² D′(ε) e^D/(e^D − 1), in the series form
/// −ε (D′/ε)/(D/ε²) · D/(1 − e^{−D}) for ε ≤ 0.05.
fn log_gap_dk_scalar(k: f64) -> f64 {
    if k.is_nan() {
        return k;
    }
    let eps = 1.0 / k;
    if eps == f64::INFINITY {
        return f64::NEG_INFINITY;
    }
    // D/(1 − e^{−D}) = 1 + D/2 + … .
    let factor = |d: f64| {
        if d < 1e-8 {
            1.0 + d / 2.0
        } else {
            d / -(-d).exp_m1()
        }
    };
    if eps <= SERIES_EPS {
        let (s0, s1) = gap_series(eps);
        let d = s0 * eps * eps;
        return -eps * (s1 / s0) * factor(d);
    }
    let (d, dp) = if eps <= 1e10 {
        let a = 1.0 + 2.0 * eps;
        let b = 1.0 + eps;
        (
            special::gamma::lgamma(a) - 2.0 * special::gamma::lgamma(b),
            2.0 * (special::gamma::digamma(a) - special::gamma::digamma(b)),
        )
    } else {
        let l2 = std::f64::consts::LN_2;
        (
            2.0 * eps * l2 - 0.5 * (std::f64::consts::PI * eps).ln(),
            2.0 * l2 - 0.5 / eps,
        )
    };
    // −ε²·D′/(1 − e^{−D}) = −ε² D′ e^D/(e^D − 1); ε² may overflow, D′/(…) is moderate.
    -(eps * (eps * (dp / -(-d).exp_m1())))
}

/// ln(Γ(1 + 2/k)/Γ(1 + 1/k)² − 1) as a tensor op ([`log_gap_scalar`]), with its
/// derivative in k (first order only).
fn log_gap(k: &Tensor) -> Result<Tensor> {
    fn bwd(k: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        let d = apply1(
            k,
            Map1 {
                name: "weibull_log_gap_dk",
                f: log_gap_dk_scalar,
                bwd: None,
            },
        )?;
        g.eq(0.0)?.where_cond(&g.zeros_like()?, &(g * d)?)
    }
    apply1(
        k,
        Map1 {
            name: "weibull_log_gap",
            f: log_gap_scalar,
            bwd: Some(bwd),
        },
    )
}

impl Distribution for Weibull {
    params_methods!(params);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::Positive
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.params.sample_shape(sample_shape)?;
        let u = rng
            .uniform(&shape, self.dtype(), self.device())?
            .to_dtype(DType::F64)?;
        // c = ln E with E = −ln U: U is in the open interval, so c is finite.
        let c = u.log()?.neg()?.log()?;
        let lambda = self.params.w_at(0, &c)?;
        let k = self.params.w_at(1, &c)?;
        let x = scale_power(&lambda, &k, &c, Some(draw_range(self.dtype())))?;
        self.params.out(x)
    }

    // ln k − ln x + u − e^u, u = k ln(x/λ), for 0 < x < ∞; −∞ where e^u overflows, at
    // x = ∞, and (checks off) at x ≤ 0.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.params.wide_value(value, &Constraint::Positive)?;
        let lambda = self.params.w_at(0, &x)?;
        let k = self.params.w_at(1, &x)?;
        let inside = x.gt(0.0)?.minimum(&x.lt(f64::INFINITY)?)?;
        let x_safe = inside.where_cond(&x, &lambda.detach())?;
        let lp = log_density(&x_safe, &lambda, &k)?;
        let out = filled(&x, f64::NEG_INFINITY)?;
        self.params.out_for(value, inside.where_cond(&lp, &out)?)
    }

    // −expm1(−e^u); 0 at x ≤ 0, 1 at x = ∞. u is capped at 700 (F is 1 there to the
    // last bit) so that the chain rule never meets e^u = ∞.
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let Prepared { x, u, inside, .. } = self.prepare(value)?;
        let big = u.gt(700.0)?;
        let u = big.where_cond(&filled(&u, 700.0)?, &u)?;
        let f = special::expm1(&u.exp()?.neg()?)?.neg()?;
        let rest = x
            .ge(f64::INFINITY)?
            .where_cond(&x.ones_like()?, &x.zeros_like()?)?;
        self.params.out_for(value, inside.where_cond(&f, &rest)?)
    }

    // λ·exp(ln(−log1p(−q))/k): 0 at q = 0, +∞ at q = 1.
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let arg = q;
        let q = self.params.probability(q)?.to_dtype(DType::F64)?;
        let lambda = self.params.w_at(0, &q)?;
        let k = self.params.w_at(1, &q)?;
        let inner = q.gt(0.0)?.minimum(&q.lt(1.0)?)?;
        let q_safe = inner.where_cond(&q, &filled(&q, 0.5)?)?;
        let c = special::log1p(&q_safe.neg()?)?.neg()?.log()?;
        let x = scale_power(&lambda, &k, &c, None)?;
        let ends = q
            .le(0.0)?
            .where_cond(&q.zeros_like()?, &filled(&q, f64::INFINITY)?)?;
        self.params.out_for(arg, inner.where_cond(&x, &ends)?)
    }

    // γ(1 − 1/k) + ln λ − ln k + 1 (torch: ln(λ/k), whose ratio can overflow).
    fn entropy(&self) -> Result<Tensor> {
        let (lambda, k) = (self.params.w(0), self.params.w(1));
        let euler = ((1.0 - k.recip()?)? * EULER_GAMMA)?;
        self.params
            .out(((euler + (lambda.log()? - k.log()?)?)? + 1.0)?)
    }

    // λ·Γ(1 + 1/k), formed as λ·e^{ln Γ} without spurious overflow (scaled_exp).
    fn mean(&self) -> Result<Tensor> {
        let (lambda, k) = (self.params.w(0), self.params.w(1));
        let g1 = special::lgamma(&(k.recip()? + 1.0)?)?;
        self.params.out(scaled_exp(lambda, &g1)?)
    }

    // λ·exp(ln((k − 1)/k)/k) for k > 1, 0 at k = 1, NaN for k < 1 (torch's value:
    // the density is unbounded at 0 there). ln((k − 1)/k) is log1p(−1/k) for k > 2
    // and ln(k − 1) − ln k (k − 1 exact) below.
    fn mode(&self) -> Result<Tensor> {
        let (lambda, k) = (self.params.w(0), self.params.w(1));
        let above = k.gt(1.0)?;
        let ks = above.where_cond(k, &filled(k, 3.0)?)?;
        let far = ks.gt(2.0)?;
        let k_far = far.where_cond(&ks, &filled(k, 3.0)?)?;
        let k_near = far.where_cond(&filled(k, 1.5)?, &ks)?;
        let ln_far = special::log1p(&k_far.recip()?.neg()?)?;
        let ln_near = ((&k_near - 1.0)?.log()? - k_near.log()?)?;
        let ln_ratio = far.where_cond(&ln_far, &ln_near)?;
        let m = scaled_exp(lambda, &(ln_ratio / &ks)?)?;
        let at_one = k
            .eq(1.0)?
            .where_cond(&k.zeros_like()?, &filled(k, f64::NAN)?)?;
        self.params.out(above.where_cond(&m, &at_one)?)
    }

    fn variance(&self) -> Result<Tensor> {
        self.params.out(self.log_variance()?.exp()?)
    }

    /// exp(½ ln Var): not the square root of a variance that may have overflowed.
    fn stddev(&self) -> Result<Tensor> {
        self.params.out((self.log_variance()? * 0.5)?.exp()?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let p = self.params.expanded(batch_shape)?;
        let mut d = Weibull::new_with_validation(&p[0], &p[1], false)?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The series and the difference of ln Γ agree at the switch ε = 0.05, values and
    /// derivatives, and the closed form of D at small ε is ζ(2)ε².
    #[test]
    fn gap_series_matches_lgamma_difference_at_the_switch() {
        let k = 1.0 / SERIES_EPS;
        let series = log_gap_scalar(k * (1.0 + 1e-15));
        let direct = log_gap_scalar(k * (1.0 - 1e-15));
        assert!(
            (series - direct).abs() < 1e-12 * series.abs(),
            "{series} {direct}"
        );
        let ds = log_gap_dk_scalar(k * (1.0 + 1e-15));
        let dd = log_gap_dk_scalar(k * (1.0 - 1e-15));
        assert!((ds - dd).abs() < 1e-11 * ds.abs(), "{ds} {dd}");
        // k = 1e200: ln(π²/6) − 400 ln 10, where ε² underflows.
        let want = (std::f64::consts::PI.powi(2) / 6.0).ln() - 400.0 * 10f64.ln();
        assert!((log_gap_scalar(1e200) - want).abs() < 1e-13 * want.abs());
    }

    /// The Stirling form and the ln Γ difference agree at ε = 1e10.
    #[test]
    fn gap_stirling_matches_lgamma_difference() {
        let a = log_gap_scalar(1.0 / (1e10 * (1.0 - 1e-12)));
        let b = log_gap_scalar(1.0 / (1e10 * (1.0 + 1e-12)));
        assert!((a - b).abs() < 1e-9 * a.abs(), "{a} {b}");
    }
}
