//! The Fisher–Snedecor (F) distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::{exp_draw, standard_gamma_ln_rsample};
use crate::special::beta::betainc_grad_xy;
use crate::special::beta::betainc_xy;
use crate::special::finite_or;
use crate::special::kernel::{apply2, apply3, apply3_pair, Map2, Map3};
use candle_core::Tensor;

/// The Fisher–Snedecor distribution F(`df1` d₁, `df2` d₂), d₁, d₂ > 0: the law of
/// (X₁/d₁)/(X₂/d₂) for independent X_i ~ χ²(d_i).
///
/// Density `p(x) = (d₁/d₂)^{d₁/2} x^{d₁/2 − 1} (1 + d₁x/d₂)^{−(d₁+d₂)/2} / B(d₁/2, d₂/2)`
/// on x > 0. Mean d₂/(d₂ − 2) for d₂ > 2, mode (d₁ − 2)/d₁ · d₂/(d₂ + 2) for d₁ > 2,
/// variance 2d₂²(d₁ + d₂ − 2)/(d₁(d₂ − 2)²(d₂ − 4)) for d₂ > 4 (NaN elsewhere, as
/// torch). `cdf` = I_{d₁x/(d₁x + d₂)}(d₁/2, d₂/2), differentiable in all arguments;
/// `entropy` in closed form (torch has none). `rsample` uses two Gamma draws with exact
/// implicit gradients.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, FisherSnedecor};
/// let d = FisherSnedecor::from_scalars(4.0, 6.0, DType::F64, &Device::Cpu)?;
/// assert!((d.mean()?.to_scalar::<f64>()? - 1.5).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FisherSnedecor {
    p: Params,
}

const NAME: &str = "FisherSnedecor";

impl FisherSnedecor {
    crate::distribution::params_constructors! {
        /// FisherSnedecor(df1, df2), broadcast against each other. Parameters are tensors or
        /// numbers (dtype rules: [`distribution`](crate::distribution)).
        "FisherSnedecor", Self::build; df1, df2
    }

    fn build(df1: &Tensor, df2: &Tensor, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("df1", df1, Constraint::Positive),
                ("df2", df2, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(FisherSnedecor { p })
    }

    /// d₁, broadcast to `batch_shape`.
    pub fn df1(&self) -> &Tensor {
        self.p.get(0)
    }

    /// d₂, broadcast to `batch_shape`.
    pub fn df2(&self) -> &Tensor {
        self.p.get(1)
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }
}

/// Whether any degrees of freedom are small enough (≤ 1e-300) for both Gamma
/// log-draws of `rsample` to overflow to −∞ at once.
fn tiny_df(d: &Tensor) -> Result<bool> {
    let v = d.flatten_all()?.to_vec1::<f64>()?;
    Ok(v.iter().any(|&x| x <= 1e-300))
}

fn nan_unless(cond: Tensor, v: Tensor) -> Result<Tensor> {
    let nan = (v.ones_like()? * f64::NAN)?;
    Ok(cond.where_cond(&v, &nan)?)
}

impl Distribution for FisherSnedecor {
    params_methods!(p);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::Positive
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        // x = (G₁/d₁)/(G₂/d₂) in f64 from ln G₁ − ln G₂ (see
        // `standard_gamma_ln_rsample`): for small d₁, d₂ the Gammas underflow and their
        // ratio overflows, and gradients through G₁, G₂ meet 0 · ∞.
        let d1 = self.p.w(0).broadcast_as(shape.as_slice())?;
        let d2 = self.p.w(1).broadcast_as(shape.as_slice())?;
        let tiny = tiny_df(self.p.w(0))? || tiny_df(self.p.w(1))?;
        let (mut a1, mut a2) = ((&d1 * 0.5)?, (&d2 * 0.5)?);
        if tiny {
            // d/2 rounds to 0 for d = 5e-324; the smallest positive shape stands in
            // (ln G = ln U/α overflows to −∞ for either).
            a1 = a1.maximum(f64::from_bits(1))?;
            a2 = a2.maximum(f64::from_bits(1))?;
        }
        let l1 = standard_gamma_ln_rsample(&a1, rng.next_draw())?;
        let l2 = standard_gamma_ln_rsample(&a2, rng.next_draw())?;
        let mut l = ((l1 - l2)? + (d2.log()? - d1.log()?)?)?;
        if tiny {
            // For d ≲ 1e-307 both ln Gᵢ ≈ −Eᵢ/αᵢ (Eᵢ standard exponential) can overflow
            // to −∞, and l is ∞ − ∞. The draw is then beyond the range on one side or
            // the other: above 1 exactly when E₁/α₁ < E₂/α₂, which has probability
            // α₁/(α₁ + α₂) = d₁/(d₁ + d₂); that side is drawn with a fresh uniform (one
            // extra generator draw, only for such parameters) and clamped by `exp_draw`.
            let u = rng.uniform(&shape, candle_core::DType::F64, l.device())?;
            let p_up = (&d1 / (&d1 + &d2)?)?;
            let big = (l.ones_like()? * f64::MAX)?;
            let side = u.lt(&p_up)?.where_cond(&big, &big.neg()?)?;
            l = l.ne(&l)?.where_cond(&side, &l)?;
        }
        exp_draw(&l, self.dtype())
    }

    // (d₁/2) ln(d₁/d₂) + (d₁/2 − 1) ln x − ((d₁+d₂)/2) log1p(d₁x/d₂) − ln B(d₁/2, d₂/2)
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Positive)?;
        let (d1, d2) = (self.p.w_at(0, &x)?, self.p.w_at(1, &x)?);
        // x = ∞: −∞ with zero gradients (the formula meets ∞ − ∞ there).
        self.p.out_for(
            value,
            finite_or(&x, f64::NEG_INFINITY, |x| log_density(x, &d1, &d2))?,
        )
    }

    // I_z(d₁/2, d₂/2) with z = d₁x/(d₁x + d₂) and 1 − z = d₂/(d₁x + d₂) both formed
    // directly (z rounds to 1 in the far upper tail).
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Positive)?;
        let (d1, d2) = (self.p.w_at(0, &x)?, self.p.w_at(1, &x)?);
        let f = apply3(
            &x,
            &d1,
            &d2,
            Map3 {
                name: "fisher_snedecor_cdf",
                f: f_cdf,
                f32: f_cdf,
                bwd: Some(f_cdf_bwd),
            },
        )?;
        self.p.out_for(value, f)
    }

    // ln(d₂/d₁) + ln B(d₁/2, d₂/2) + (1 − d₁/2)ψ(d₁/2) − (1 + d₂/2)ψ(d₂/2)
    //   + ((d₁ + d₂)/2) ψ((d₁ + d₂)/2)
    /// In closed form; for degrees of freedom below 2e-290 from the small-argument
    /// expansion of ψ (see `entropy_s`), ±∞ where 2/d overflows.
    fn entropy(&self) -> Result<Tensor> {
        let h = apply2(
            self.p.w(0),
            self.p.w(1),
            Map2 {
                name: "fisher_snedecor_entropy",
                f: entropy_s,
                f32: entropy_s,
                bwd: None,
            },
        )?;
        self.p.out(h)
    }

    fn mean(&self) -> Result<Tensor> {
        let d2 = self.p.w(1);
        self.p.out(nan_unless(d2.gt(2.0)?, (d2 / (d2 - 2.0)?)?)?)
    }

    fn mode(&self) -> Result<Tensor> {
        let (d1, d2) = (self.p.w(0), self.p.w(1));
        let m = (((d1 - 2.0)? / d1)? * (d2 / (d2 + 2.0)?)?)?;
        self.p.out(nan_unless(d1.gt(2.0)?, m)?)
    }

    // In f64, as 2m²·(1/(d₂ − 4) + ((d₂ − 2)/(d₂ − 4))/d₁) with m = d₂/(d₂ − 2): every
    // factor stays finite unless the variance itself overflows (d₂² overflows f32,
    // and f64 near its maximum, where ∞/∞ was a NaN).
    fn variance(&self) -> Result<Tensor> {
        let (d1, d2) = (self.p.w(0), self.p.w(1));
        let m = (d2 / (d2 - 2.0)?)?;
        let d4 = (d2 - 4.0)?;
        let k = (d4.recip()? + (((d2 - 2.0)? / &d4)? / d1)?)?;
        let v = ((m.sqr()? * 2.0)? * k)?;
        self.p.out(nan_unless(d2.gt(4.0)?, v)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = FisherSnedecor::build(&t[0], &t[1], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// Above this d₁ and d₂ the cdf is the normal limit of ln F.
const HUGE_DF: f64 = 1e30;

/// √(2/d₁ + 2/d₂), the standard deviation of ln F for large d₁, d₂.
fn ln_f_sd(d1: f64, d2: f64) -> f64 {
    (2.0 / d1 + 2.0 / d2).sqrt()
}

/// Whether ln B(d₁/2, d₂/2) takes its small-argument form: where a half is
/// subnormal or underflows to 0 (d < 2⁻¹⁰²¹), so that Γ(a) = 1/a to f64 precision.
fn tiny_half(d1: f64, d2: f64) -> bool {
    0.5 * d1 < f64::MIN_POSITIVE || 0.5 * d2 < f64::MIN_POSITIVE
}

/// ln B(d₁/2, d₂/2). Where a half is below the normal range (it may round to 0, and
/// Γ then has its pole), Γ(a) = 1/a − γ + O(a) gives B(a, b) = (a + b)/(ab)·(1 + O(ab))
/// when both are small and 1/a·(1 + O(a ψ(b))) when only a is, both
/// ln(d₁ + d₂) − ln d₁ − ln d₂ + ln 2 in the unhalved degrees of freedom.
fn lbeta_half(d1: f64, d2: f64) -> f64 {
    let (a, b) = (0.5 * d1, 0.5 * d2);
    if tiny_half(d1, d2) {
        (d1 + d2).ln() - d1.ln() - d2.ln() + std::f64::consts::LN_2
    } else if a.min(b) > 1e15 {
        // Stirling without its remainders μ(a) + μ(b) − μ(a + b) = O(1/(12 min(a, b)))
        // < 1e-16, and with ln((a + b)/(ab)) in logs (ab overflows near f64::MAX).
        let (lo, hi) = (a.min(b), a.max(b));
        let ln_s = hi.ln() + (lo / hi).ln_1p();
        crate::special::scalar::HALF_LN_2PI + 0.5 * (ln_s - lo.ln() - hi.ln())
            - lo * (hi / lo).ln_1p()
            - hi * (lo / hi).ln_1p()
    } else {
        crate::special::gamma::lbeta(0.5 * d1, 0.5 * d2)
    }
}

/// (∂/∂d₁, ∂/∂d₂) of [`lbeta_half`]: ½(ψ(a) − ψ(a + b)), ½(ψ(b) − ψ(a + b)), and
/// the derivatives of the small-argument form there, −d₂/(d₁(d₁ + d₂)) and
/// −d₁/(d₂(d₁ + d₂)) (±∞ where they overflow, as the true ones do).
fn lbeta_half_grad(d1: f64, d2: f64) -> (f64, f64) {
    if tiny_half(d1, d2) {
        let s = d1 + d2;
        (-(d2 / s) / d1, -(d1 / s) / d2)
    } else {
        let (a, b) = (0.5 * d1, 0.5 * d2);
        let ds = digamma_s(a + b);
        (0.5 * (digamma_s(a) - ds), 0.5 * (digamma_s(b) - ds))
    }
}

use crate::special::gamma::digamma as digamma_s;

/// (ln z, ln w) for z = d₁x/(d₁x + d₂), w = 1 − z, as −softplus(∓t) of
/// t = ln(d₁x/d₂) = ln d₁ + ln x − ln d₂: exact where z or w underflows, and d₁x/d₂
/// is never formed (it overflows or underflows for extreme degrees of freedom).
fn log_split(x: f64, d1: f64, d2: f64) -> (f64, f64) {
    use crate::special::scalar::softplus;
    let t = d1.ln() + x.ln() - d2.ln();
    (-softplus(-t), -softplus(t))
}

/// a·ln z with the convention 0·ln 0 = 0 (a = d/2 may round to 0).
fn xlog(a: f64, lz: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else {
        a * lz
    }
}

/// ln p(x) = a ln z + b ln w − ln B(a, b) − ln x with a = d₁/2, b = d₂/2 and z, w of
/// [`log_split`] (the density is the Beta(a, b) density of z times dz/dx = zw/x).
/// At x = 0 the limit by a: +∞ (a < 1), ln a + ln(d₁/d₂) − ln B(1, b) (a = 1),
/// −∞ (a > 1).
fn log_density_s(x: f64, d1: f64, d2: f64) -> f64 {
    if x.is_nan() || d1.is_nan() || d2.is_nan() {
        return f64::NAN;
    }
    let (a, b) = (0.5 * d1, 0.5 * d2);
    if x == 0.0 {
        return if a < 1.0 {
            f64::INFINITY
        } else if a == 1.0 {
            (d1 / d2).ln() - lbeta_half(d1, d2)
        } else {
            f64::NEG_INFINITY
        };
    }
    if a.min(b) > HUGE_HALF {
        return log_density_huge(x, a, b);
    }
    let (lz, lw) = log_split(x, d1, d2);
    xlog(a, lz) + xlog(b, lw) - lbeta_half(d1, d2) - x.ln()
}

/// Above this a and b the Stirling remainders μ(a), μ(b), μ(a + b) (≈ 1/(12a)) are
/// below 1e-16 and dropped.
const HUGE_HALF: f64 = 1e15;

/// ln(1 + t) − t, without cancellation for small |t|.
fn log1pmx(t: f64) -> f64 {
    if t <= -1.0 {
        // 1 + t ≤ 0 only by the rounding of t ≈ −1 (at the ends of the support).
        return f64::NEG_INFINITY;
    }
    if t.abs() > 0.1 {
        return t.ln_1p() - t;
    }
    // −Σ_{k≥2} (−t)^k/k
    let (mut sum, mut p) = (0.0, t * t);
    for k in 2..40 {
        let term = p / f64::from(k);
        sum += if k % 2 == 0 { -term } else { term };
        if term.abs() <= 1e-17 * sum.abs() {
            break;
        }
        p *= t;
    }
    sum
}

/// The log density for a, b > 1e15, in the form of DiDonato & Morris (1992,
/// Algorithm 708, `brcomp`): with z₀ = a/(a + b), w₀ = 1 − z₀ and z − z₀ =
/// w₀·(x − 1)·z/x (exact near the mode, where z − z₀ ~ 1/√(a + b) is far below
/// the rounding of z), ln p = a·log1pmx((z − z₀)/z₀) + b·log1pmx((z₀ − z)/w₀) plus
/// ½ ln(ab/(a + b)) − ½ ln 2π − ln x. The direct a ln z + b ln w − ln B(a, b)
/// cancels terms of size a to a result of size ln a.
fn log_density_huge(x: f64, a: f64, b: f64) -> f64 {
    let (z, _) = split(x, 2.0 * a, 2.0 * b);
    let (lo, hi) = (a.min(b), a.max(b));
    let ln_s = hi.ln() + (lo / hi).ln_1p();
    let (z0, w0) = (1.0 / (1.0 + b / a), 1.0 / (1.0 + a / b));
    // z/x = 1/(x + b/a): for x < 1 in that form (z underflows and (x − 1)/x
    // overflows for subnormal x), else as z/x (d₁x overflows near f64::MAX).
    let e = if x == f64::INFINITY {
        w0
    } else if x < 1.0 {
        w0 * (x - 1.0) / (x + b / a)
    } else {
        w0 * (x - 1.0) * (z / x)
    };
    a * log1pmx(e / z0) + b * log1pmx(-e / w0) + 0.5 * (a.ln() + b.ln() - ln_s)
        - crate::special::scalar::HALF_LN_2PI
        - x.ln()
}

/// (∂/∂x, ∂/∂d₁, ∂/∂d₂) of the log density, with z = d₁x/(d₁x + d₂), w = 1 − z:
/// (a − 1 − (a + b)z)/x, ½(ln z + w − xw) − ∂ln B/∂d₁ and
/// ½(ln w + z − z/x) − ∂ln B/∂d₂.
fn log_density_grad(x: f64, d1: f64, d2: f64) -> (f64, f64, f64) {
    let (a, b) = (0.5 * d1, 0.5 * d2);
    let (z, w) = split(x, d1, d2);
    let (g1, g2) = lbeta_half_grad(d1, d2);
    let dx = (a - 1.0 - (a + b) * z) / x;
    let (lz, lw) = log_split(x, d1, d2);
    // x·w = x d₂/(d₁x + d₂) ≤ d₂/d₁ and z/x = d₁/(d₁x + d₂) ≤ d₁/d₂, by their
    // quotient forms where x is 0 or beyond d₂/d₁'s range.
    let xw = if x.is_finite() { x * w } else { d2 / d1 };
    let z_over_x = if x > 0.0 { z / x } else { d1 / d2 };
    let dd1 = 0.5 * (lz + w - xw) - g1;
    let dd2 = 0.5 * (lw + z - z_over_x) - g2;
    (dx, dd1, dd2)
}

/// The log density as one kernel (differentiable in all three arguments).
fn log_density(x: &Tensor, d1: &Tensor, d2: &Tensor) -> Result<Tensor> {
    fn bwd(
        x: &Tensor,
        d1: &Tensor,
        d2: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let part = |name, k: fn(f64, f64, f64) -> f64| {
            apply3(
                x,
                d1,
                d2,
                Map3 {
                    name,
                    f: k,
                    f32: k,
                    bwd: None,
                },
            )
            .map_err(candle_core::Error::wrap)
        };
        let gx = (g * part("fisher_snedecor_lp_dx", |x, a, b| {
            log_density_grad(x, a, b).0
        })?)?;
        let g1 = (g * part("fisher_snedecor_lp_dd1", |x, a, b| {
            log_density_grad(x, a, b).1
        })?)?;
        let g2 = (g * part("fisher_snedecor_lp_dd2", |x, a, b| {
            log_density_grad(x, a, b).2
        })?)?;
        Ok((Some(gx), Some(g1), Some(g2)))
    }
    apply3(
        x,
        d1,
        d2,
        Map3 {
            name: "fisher_snedecor_log_density",
            f: log_density_s,
            f32: log_density_s,
            bwd: Some(bwd),
        },
    )
}

/// The entropy of F(d₁, d₂) in f64:
/// ln(d₂/d₁) + ln B(a, b) + (1 − a)ψ(a) − (1 + b)ψ(b) + (a + b)ψ(a + b). For a half
/// below 1e-290, where ψ(a) = −1/a − γ + O(a) makes the ψ terms ∞ − ∞ in floating
/// point, their expansion: 1/b − 1/a + 1 + O(a + b) when both are small (so
/// H = (2/d₂ − 2/d₁) + 1 + ln(d₁ + d₂) + ln 2 − 2 ln d₁), and −1/a or 1/b plus
/// O(ln) terms when only one is (the ±∞ limits where 2/d overflows).
fn entropy_s(d1: f64, d2: f64) -> f64 {
    if d1.is_nan() || d2.is_nan() {
        return f64::NAN;
    }
    const SMALL: f64 = 1e-290;
    let (a, b) = (0.5 * d1, 0.5 * d2);
    if a.min(b) > 1e12 {
        // ln F ≈ N(0, 2/d₁ + 2/d₂) (Var ln(χ²_d/d) = ψ′(d/2) ≈ 2/d), and
        // H(F) = H(ln F) + E[ln F], E[ln F] = O(1/d): ½ ln(4πe(1/d₁ + 1/d₂)) + O(1/d),
        // where the closed form cancels terms of size d·ln d.
        let inv = 1.0 / d1 + 1.0 / d2;
        return 0.5 * (4.0 * std::f64::consts::PI * std::f64::consts::E * inv).ln();
    }
    let g = crate::special::scalar::EULER_GAMMA;
    let ln2 = std::f64::consts::LN_2;
    match (a < SMALL, b < SMALL) {
        (true, true) => {
            let diff = if d1 == d2 {
                0.0
            } else {
                let (p, q) = (2.0 / d2, 2.0 / d1);
                if p.is_infinite() && q.is_infinite() {
                    if d1 > d2 {
                        f64::INFINITY
                    } else {
                        f64::NEG_INFINITY
                    }
                } else {
                    p - q
                }
            };
            diff + 1.0 + (d1 + d2).ln() + ln2 - 2.0 * d1.ln()
        }
        // ψ terms −1/a + 1 − γ − ψ(b) + O(a); ln B + ln(b/a) = −2 ln a + ln b + O(a).
        (true, false) => -2.0 / d1 + 1.0 - g - digamma_s(b) - 2.0 * (d1.ln() - ln2) + b.ln(),
        // ψ terms 1/b + ψ(a) + 1 + γ + O(b); ln B + ln(b/a) = −ln a + O(b).
        (false, true) => 2.0 / d2 + digamma_s(a) + 1.0 + g - a.ln(),
        // One degree of freedom 1e16 times the other (and above 1): the χ² limits
        // H(χ²_{d₁}/d₁) = ln(2/d₁) + ln Γ(a) + a + (1 − a)ψ(a) as d₂ → ∞ and
        // H(d₂/χ²_{d₂}) = ln(d₂/2) + ln Γ(b) + b − (1 + b)ψ(b) as d₁ → ∞, with relative
        // corrections O(min/max); the closed form cancels terms of size max·ln max.
        _ if b >= 1e16 * a.max(1.0) => {
            (2.0 / d1).ln() + crate::special::gamma::lgamma(a) + a + (1.0 - a) * digamma_s(a)
        }
        _ if a >= 1e16 * b.max(1.0) => {
            (0.5 * d2).ln() + crate::special::gamma::lgamma(b) + b - (1.0 + b) * digamma_s(b)
        }
        (false, false) => {
            let s = a + b;
            (d2.ln() - d1.ln()) + crate::special::gamma::lbeta(a, b) + (1.0 - a) * digamma_s(a)
                - (1.0 + b) * digamma_s(b)
                + s * digamma_s(s)
        }
    }
}

/// (z, 1 − z) = (d₁x, d₂)/(d₁x + d₂), also where d₁x overflows (x near f64::MAX):
/// then from r = d₂/(d₁x) = (d₂/x)/d₁ as (1/(1 + r), r/(1 + r)).
fn split(x: f64, d1: f64, d2: f64) -> (f64, f64) {
    let t = d1 * x;
    if t < f64::INFINITY {
        let s = t + d2;
        if s < f64::INFINITY {
            return (t / s, d2 / s);
        }
    }
    let r = (d2 / x) / d1;
    (1.0 / (1.0 + r), r / (1.0 + r))
}

/// I_z(a, b). Where a half underflows (see [`tiny_half`]) the Beta law is two point
/// masses, b/(a + b) at z = 0 and a/(a + b) at z = 1, up to O(a ln z, b ln w): the
/// cdf is d₂/(d₁ + d₂) inside (0, ∞).
fn f_cdf(x: f64, d1: f64, d2: f64) -> f64 {
    if x == f64::INFINITY {
        return 1.0;
    }
    if x <= 0.0 {
        return 0.0;
    }
    if tiny_half(d1, d2) {
        return d2 / (d1 + d2);
    }
    if d1.min(d2) > HUGE_DF {
        // ln F → N(0, 2/d₁ + 2/d₂) with mean and skew O(1/d), below 1e-30 (the
        // incomplete beta's expansions break down for a, b near f64::MAX).
        return crate::special::scalar::ndtr(x.ln() / ln_f_sd(d1, d2));
    }
    let (z, w) = split(x, d1, d2);
    betainc_xy(0.5 * d1, 0.5 * d2, z, w)
}

/// (∂F/∂d₁, ∂F/∂d₂): with a = d₁/2, b = d₂/2, dz/dd₁ = zw/d₁ and dz/dd₂ = −zw/d₂.
fn f_cdf_ddf(x: f64, d1: f64, d2: f64) -> (f64, f64) {
    if !x.is_finite() || x <= 0.0 {
        return (0.0, 0.0);
    }
    if d1.min(d2) > HUGE_DF {
        // ∂/∂dᵢ Φ(ln x/σ) = φ(u)·u/(σ² dᵢ²), u = ln x/σ, σ² = 2/d₁ + 2/d₂.
        let sd = ln_f_sd(d1, d2);
        let u = x.ln() / sd;
        let c = (-0.5 * u * u).exp() / (2.0 * std::f64::consts::PI).sqrt() * u / sd;
        return (c / (sd * d1) / d1, c / (sd * d2) / d2);
    }
    let (z, w) = split(x, d1, d2);
    if tiny_half(d1, d2) {
        // The derivatives of the two-point limit d₂/(d₁ + d₂).
        let s = d1 + d2;
        return (-(d2 / s) / s, (d1 / s) / s);
    }
    let (dz, da, db) = betainc_grad_xy(0.5 * d1, 0.5 * d2, z, w);
    let zw = z * w;
    (0.5 * da + dz * zw / d1, 0.5 * db - dz * zw / d2)
}

fn f_cdf_bwd(
    x: &Tensor,
    d1: &Tensor,
    d2: &Tensor,
    _f: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let pdf = log_density(x, d1, d2)?.exp()?;
    let (g1, g2) = apply3_pair(x, d1, d2, "fisher_snedecor_cdf_ddf", f_cdf_ddf, f_cdf_ddf)?;
    Ok((Some((g * pdf)?), Some((g * g1)?), Some((g * g2)?)))
}
