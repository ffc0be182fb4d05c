//! The generalized Pareto distribution.

use crate::constraints::Constraint;
use crate::continuous::student_t::standardize;
use crate::distribution::{broadcast_shapes, params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::special::kernel::{
    apply2, apply3, apply3_reducing, sum_ratio_to, unbroadcast, Map2, Map3,
};
use crate::special::{self};
use candle_core::{DType, Tensor};

const NAME: &str = "GeneralizedPareto";

/// The generalized Pareto distribution with `loc` μ, `scale` σ and `concentration` ξ
/// (Pickands 1975; torch's parameterization, as TensorFlow Probability's).
///
/// With `z = (x − μ)/σ`: density `p(x) = (1 + ξz)^{−1/ξ − 1} / σ`, CDF
/// `F(x) = 1 − (1 + ξz)^{−1/ξ}` (`1 − e^{−z}` at ξ = 0), on x ≥ μ, and x ≤ μ − σ/ξ
/// when ξ < 0; `loc` real, `scale > 0`, `concentration` real. Mean `μ + σ/(1 − ξ)` for
/// ξ < 1 and +∞ otherwise; variance `σ²/((1 − ξ)²(1 − 2ξ))` for ξ < 1/2 and +∞
/// otherwise (torch returns NaN in both cases; the moments are infinite, so this
/// crate follows its convention "+∞ where infinite"); mode μ; entropy `ln σ + ξ + 1`.
///
/// Every method computes in f64 and rounds once to the dtype. Two fused kernels carry
/// them all, exact through ξ = 0 (no switch to the exponential case, unlike torch,
/// which treats |ξ| ≤ 1e-8 as 0): `h(ξ, z) = log1p(ξz)/ξ`, so that
/// `log_prob = −ln σ − (1 + ξ) h` and `cdf = −expm1(−h)`, and
/// `e(ξ, w) = expm1(ξw)/ξ`, so that `icdf(q) = μ + σ e(ξ, −log1p(−q))`. Their ξ-derivatives, which cancel near ξz = 0
/// in closed form, switch to their Taylor series there, so `rsample`'s pathwise
/// gradients are accurate for every ξ.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, GeneralizedPareto};
/// let dev = Device::Cpu;
/// // ξ = 0 is the exponential distribution with scale σ.
/// let d = GeneralizedPareto::from_scalars(0.0, 2.0, 0.0, DType::F64, &dev)?;
/// let lp = d.log_prob(&Tensor::new(1.0f64, &dev)?)?.to_scalar::<f64>()?;
/// assert!((lp - (-(2f64).ln() - 0.5)).abs() < 1e-15);
/// // ξ = −1 is the uniform distribution on [μ, μ + σ].
/// let u = GeneralizedPareto::from_scalars(1.0, 2.0, -1.0, DType::F64, &dev)?;
/// let med = u.icdf(&Tensor::new(0.5f64, &dev)?)?.to_scalar::<f64>()?;
/// assert!((med - 2.0).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GeneralizedPareto {
    params: Params,
}

impl GeneralizedPareto {
    crate::distribution::params_constructors! {
        /// GeneralizedPareto(loc, scale, concentration). Parameters are tensors or numbers
        /// (dtype rules: [`distribution`](crate::distribution)).
        "GeneralizedPareto", Self::build; loc, scale, concentration
    }

    fn build(
        loc: &Tensor,
        scale: &Tensor,
        concentration: &Tensor,
        validate: Option<bool>,
    ) -> Result<Self> {
        let params = Params::new(
            NAME,
            &[
                ("loc", loc, Constraint::Real),
                ("scale", scale, Constraint::Positive),
                ("concentration", concentration, Constraint::Real),
            ],
            validate,
        )?;
        Ok(GeneralizedPareto { params })
    }

    /// `loc` μ, broadcast to `batch_shape`.
    pub fn loc(&self) -> &Tensor {
        self.params.get(0)
    }

    /// `scale` σ, broadcast to `batch_shape`.
    pub fn scale(&self) -> &Tensor {
        self.params.get(1)
    }

    /// `concentration` ξ, broadcast to `batch_shape`.
    pub fn concentration(&self) -> &Tensor {
        self.params.get(2)
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.params.set_validate(on);
    }

    /// The upper end of the support in f64: μ − σ/ξ where ξ < 0, +∞ elsewhere.
    fn upper(&self) -> Result<Tensor> {
        let xi = self.params.w(2);
        let neg = xi.lt(0.0)?;
        let safe = neg.where_cond(xi, &filled(xi, -1.0)?)?;
        let hi = (self.params.w(0) - end_offset(self.params.w(1), &safe)?)?;
        Ok(neg.where_cond(&hi, &filled(xi, f64::INFINITY)?)?)
    }

    /// A `log_prob`/`cdf` argument, checked and broadcast, in f64, with the masks of
    /// where it lies: `(z, ξ, σ, inside, at_end)`, z = (x − μ)/σ and the parameters
    /// broadcast alike. `inside`: μ ≤ x below the upper end with 1 + ξz > 0 (where the
    /// kernels run); `at_end`: at the upper end μ − σ/ξ, up to the rounding of that end
    /// to the dtype (a value equal to the rounded end counts as the end, and so does a
    /// point where 1 + ξz rounds to 0 or below).
    ///
    /// With `scale_free`, z carries no gradient to σ (only to x and μ): `log_prob`
    /// forms the whole σ-gradient in [`neg_log_scale`].
    fn standardize(&self, value: &Tensor, scale_free: bool) -> Result<Standardized> {
        // The support's bounds have batch_shape: bring the value to the broadcast shape
        // before the check (when it does not broadcast, `Params::value` reports it).
        let value = match broadcast_shapes(value.dims(), self.batch_shape()) {
            Some(s) if s != value.dims() => value.broadcast_as(s)?,
            _ => value.clone(),
        };
        let x = self.params.wide_value(&value, &self.support())?;
        let loc = self.params.w_at(0, &x)?;
        let scale = self.params.w_at(1, &x)?;
        let xi = self.params.w_at(2, &x)?;
        let hi = self.upper()?.broadcast_as(x.shape())?;
        let hi_rounded = self.params.out(hi.clone())?.to_dtype(DType::F64)?;
        // Snap values between the end and its rounding to the end.
        let x = x.le(&hi_rounded)?.where_cond(&at_most(&x, &hi)?, &x)?;
        let above_lo = x.ge(&loc)?;
        let z_all = ((&x - &loc)? / &scale)?.detach();
        let one_plus = ((&xi * &z_all)? + 1.0)?;
        let inside = above_lo.minimum(&x.lt(&hi)?)?.minimum(&one_plus.gt(0.0)?)?;
        let within = above_lo.minimum(&x.le(&hi)?)?;
        // within ∧ ¬inside (masks are 0/1 bytes)
        let off_kernel = within.gt(&inside)?;
        // (ξ < 0 only: for ξ ≥ 0 the kernels fail only where z overflows, and the end
        // is +∞.)
        let band = off_kernel
            .minimum(&x.lt(&hi)?)?
            .minimum(&hi.lt(f64::INFINITY)?)?;
        let at_end = off_kernel.gt(&band)?;
        // In the band, 1 + ξz = (hi − x)/(hi − μ) > 0 with hi − x exact (the rounded end
        // is the support's end): h = ln((hi − x)/(hi − μ))/ξ. No gradient there.
        let r = ((&hi - &x)? / (&hi - &loc)?)?.detach();
        let h_band = (r.log()? / &xi.detach())?;
        // Gradients flow only through values inside the support: outside (x = ±∞ or
        // beyond the end) z is constant, and differentiating (x − μ)/σ there met
        // 0 · ∞ = NaN even where the result was masked out.
        let x_in = inside.where_cond(&x, &loc)?;
        let z_in = if scale_free {
            standardize_scale_free(&x_in, &loc, &scale)?
        } else {
            standardize(&x_in, &loc, &scale)?
        };
        let z = inside.where_cond(&z_in, &z_all)?;
        Ok(Standardized {
            z,
            xi,
            scale,
            inside,
            at_end,
            band,
            h_band,
        })
    }

    /// `(σ/(1 − ξ), 1 − 2ξ, ξ < 1/2)` in f64, with ξ = 0 where the moments are infinite
    /// (so that the unselected branch stays finite).
    fn spread(&self) -> Result<(Tensor, Tensor, Tensor)> {
        let (scale, xi) = (self.params.w(1), self.params.w(2));
        let finite = xi.lt(0.5)?;
        let safe = finite.where_cond(xi, &xi.zeros_like()?)?;
        let r = (scale / (1.0 - &safe)?)?;
        Ok((r, (1.0 - (&safe * 2.0)?)?, finite))
    }

    /// The quantile of f64 `q` without argument checks, in f64.
    fn quantile(&self, q: &Tensor) -> Result<Tensor> {
        let loc = self.params.w_at(0, q)?;
        let scale = self.params.w_at(1, q)?;
        let xi = self.params.w_at(2, q)?;
        let w = special::log1p(&q.neg()?)?.neg()?;
        let x = (loc + (scale * gp_e(&xi, &w)?)?)?;
        // For ξ < 0, μ + σe may round past μ − σ/ξ (computed separately), or overflow
        // where σ/|ξ| does (|ξ| subnormal): keep it in the support, so that icdf(1)
        // is the upper end and log_prob of a draw passes validation. Rounding to the
        // dtype is monotone, so the rounded value stays below the rounded end.
        let hi = self.upper()?.broadcast_as(x.shape())?;
        at_most(&x, &hi)
    }
}

/// A `log_prob`/`cdf` argument in f64 and where it lies ([`GeneralizedPareto::standardize`]).
struct Standardized {
    /// (x − μ)/σ (differentiable inside the support, constant elsewhere).
    z: Tensor,
    /// ξ, σ broadcast to the value's shape.
    xi: Tensor,
    scale: Tensor,
    /// Where the kernels run: μ ≤ x < end with 1 + ξz > 0.
    inside: Tensor,
    /// At the upper end (or snapped to it).
    at_end: Tensor,
    /// Below the (rounded) end, but so close that 1 + ξz rounds to 0 or below (ξ far
    /// beyond −1, e.g. −3.4e38 with σ = f64::MAX): `h_band` holds h = ln(1 + ξz)/ξ
    /// from 1 + ξz = (end − x)/(end − μ) there. Without it such points took the limit
    /// at the end (+∞ for ξ < −1) where the log density is finite. Taking the rounded
    /// end as exact costs the rounding of the end relative to end − x: at one ulp
    /// below it ln(1 + ξz) may be off by up to ln 2 (0.7 at a log density of −673 for
    /// ξ = −3.4e38, σ = f64::MAX), at k ulps by about 1/k.
    band: Tensor,
    h_band: Tensor,
}

/// σ/ξ with gradients g/ξ and −(g·(σ/ξ))/ξ in that order: the quotient rule's
/// −g·σ/ξ² underflows ξ² for |ξ| < 1e-154, and gave 0·∞ = NaN for a zero upstream
/// gradient (the end of the support is in every `log_prob`/`rsample` graph).
fn end_offset(scale: &Tensor, xi: &Tensor) -> Result<Tensor> {
    fn bwd(
        scale: &Tensor,
        xi: &Tensor,
        r: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let _ = scale;
        Ok((Some((g / xi)?), Some((times(g, r)? / xi)?.neg()?)))
    }
    let f = |s: f64, x: f64| s / x;
    apply2(
        scale,
        xi,
        Map2 {
            name: "gpd_end_offset",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// g·d with 0·d = 0 for every d, ±∞ included: the chain rule's product of an upstream
/// gradient with a local derivative. A zero upstream gradient (an unselected
/// `where_cond` branch, a `minimum` that split its gradient, or σ·½ underflowing for
/// σ = 5e-324) meets derivatives that are ±∞ at extreme ξ (∂e/∂ξ for ξw > 709, σ/ξ for
/// subnormal ξ), and g·d was NaN. One kernel pass, with the same rule for its own
/// gradients.
fn times(g: &Tensor, d: &Tensor) -> CResult<Tensor> {
    fn f(a: f64, b: f64) -> f64 {
        if a == 0.0 || b == 0.0 {
            0.0
        } else {
            a * b
        }
    }
    fn bwd(
        a: &Tensor,
        b: &Tensor,
        _r: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(times(g, b)?), Some(times(g, a)?)))
    }
    apply2(
        g,
        d,
        Map2 {
            name: "gpd_times",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
    .map_err(candle_core::Error::wrap)
}

/// min(x, hi) by selection, whose gradient goes whole to the selected side. candle's
/// `minimum` multiplies the upstream gradient by 0/1 masks (and halves it at ties):
/// an infinite gradient of x (σ = 5e-324) became 0·∞ = NaN on the side of hi, and a
/// halved one underflowed (σ·½ = 0 for σ = 5e-324).
fn at_most(x: &Tensor, hi: &Tensor) -> Result<Tensor> {
    Ok(x.gt(hi)?.where_cond(hi, x)?)
}

/// z = (x − μ)/σ with gradients g/σ in x and −g/σ in μ, and none in σ (see
/// [`neg_log_scale`]).
fn standardize_scale_free(x: &Tensor, loc: &Tensor, scale: &Tensor) -> Result<Tensor> {
    type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    fn f(x: f64, loc: f64, scale: f64) -> f64 {
        (x - loc) / scale
    }
    fn bwd(_x: &Tensor, _loc: &Tensor, scale: &Tensor, _z: &Tensor, g: &Tensor) -> CResult<Grads> {
        let gs = (g / scale)?;
        // σ's gradient is formed in `neg_log_scale`; zero here (see there).
        Ok((Some(gs.clone()), Some(gs.neg()?), Some(scale.zeros_like()?)))
    }
    apply3(
        x,
        loc,
        scale,
        Map3 {
            name: "gpd_standardize_scale_free",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// −ln σ carrying the whole σ-gradient of `log_prob` at the (detached) standardized
/// value z: ∂/∂σ [−ln σ − (1 + ξ) h(ξ, z)] = (z − 1)/((1 + ξz)·σ). As the sum of −1/σ
/// and (1 + ξ)z/((1 + ξz)σ) it was ∞ − ∞ = NaN for a subnormal σ; and σ enters at its
/// own shape ([`apply3_reducing`]), so that the terms are summed over the sample
/// dimensions before the division ([`sum_ratio_to`]): per element they are ±∞ of both
/// signs (z on either side of 1) where the sum is finite.
fn neg_log_scale(z: &Tensor, xi: &Tensor, scale: &Tensor) -> Result<Tensor> {
    type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    fn f(_z: f64, _xi: f64, scale: f64) -> f64 {
        -scale.ln()
    }
    // (z − 1)/(1 + ξz); 1 + ξz > 0 inside the support, where z is used.
    fn term(z: f64, xi: f64) -> f64 {
        (z - 1.0) / (1.0 + xi * z)
    }
    fn bwd(z: &Tensor, xi: &Tensor, scale: &Tensor, _r: &Tensor, g: &Tensor) -> CResult<Grads> {
        let t = apply2(
            z,
            xi,
            Map2 {
                name: "gpd_scale_term",
                f: term,
                f32: term,
                bwd: None,
            },
        )
        .map_err(candle_core::Error::wrap)?;
        let gs = sum_ratio_to(&times(g, &t)?, scale, scale.dims())?;
        // ξ's gradient is in the h term; a zero here still marks ξ's node as reached
        // (candle's backward panics on a tracked input left without a gradient, which
        // happened for empty tensors).
        Ok((None, Some(xi.zeros_like()?), Some(gs)))
    }
    apply3_reducing(
        z,
        xi,
        scale,
        Map3 {
            name: "gpd_neg_log_scale",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// A tensor like `like` filled with `v`.
fn filled(like: &Tensor, v: f64) -> Result<Tensor> {
    Ok(like.ones_like()?.affine(0.0, v)?)
}

// ---------------------------------------------------------------------------
// Kernels. With u = ξz (or u = ξw), every function is a power of z times a function
// of u alone whose Taylor series at u = 0 replaces the closed form for |u| < SERIES_U.
// The closed forms of the ξ-derivatives lose about 4ε/|u| (first) and 12ε/u²
// (second derivative) to cancellation; at |u| = 1/4 that is below 5e-14, and the
// series converge like |u|^n there (at most ~40 terms to reach ε).
// ---------------------------------------------------------------------------

/// Below this |ξz| (|ξw|) the kernels sum Taylor series in u.
pub(crate) const SERIES_U: f64 = 0.25;

/// Sums `Σ_{n≥0} c(n) u^n` until the terms fall below ε relative to the sum.
#[inline]
fn power_series(u: f64, c: impl Fn(f64) -> f64) -> f64 {
    let mut sum = 0.0;
    let mut p = 1.0;
    for n in 0..64 {
        let t = c(n as f64) * p;
        sum += t;
        if t.abs() <= f64::EPSILON * 0.25 * sum.abs() {
            break;
        }
        p *= u;
    }
    sum
}

/// h(ξ, z) = log1p(ξz)/ξ (= z at ξ = 0). Series z·Σ (−u)^n/(n + 1).
pub(crate) fn h_scalar(xi: f64, z: f64) -> f64 {
    let u = xi * z;
    if xi == 0.0 {
        z
    } else if u.abs() < SERIES_U {
        z * power_series(-u, |n| 1.0 / (n + 1.0))
    } else if u == f64::INFINITY && z.is_finite() {
        // ξz overflows (ξ or z near f64::MAX): log1p(ξz) = ln ξ + ln z to f64 precision.
        (xi.ln() + z.ln()) / xi
    } else {
        u.ln_1p() / xi
    }
}

/// ∂h/∂ξ = (z/(1 + ξz) − h)/ξ (= −z²/2 at ξ = 0).
/// Series z²·Σ (−1)^{n+1} (n + 1)/(n + 2) u^n.
pub(crate) fn h_dxi_scalar(xi: f64, z: f64) -> f64 {
    let u = xi * z;
    if xi == 0.0 {
        -0.5 * z * z
    } else if u.abs() < SERIES_U {
        -z * z * power_series(-u, |n| (n + 1.0) / (n + 2.0))
    } else {
        (z / (1.0 + u) - u.ln_1p() / xi) / xi
    }
}

/// ∂²h/∂ξ² = (−z²/(1 + ξz)² − 2 ∂h/∂ξ)/ξ (= 2z³/3 at ξ = 0), from differentiating
/// ξh = log1p(ξz) twice. Series z³·Σ (−1)^n (n + 1)(n + 2)/(n + 3) u^n.
pub(crate) fn h_dxi2_scalar(xi: f64, z: f64) -> f64 {
    let u = xi * z;
    if xi == 0.0 {
        2.0 / 3.0 * z * z * z
    } else if u.abs() < SERIES_U {
        z * z * z * power_series(-u, |n| (n + 1.0) * (n + 2.0) / (n + 3.0))
    } else {
        let r = z / (1.0 + u);
        (-r * r - 2.0 * h_dxi_scalar(xi, z)) / xi
    }
}

/// Above this u = ξw, e^u nears overflow: the kernels e, ∂e/∂ξ, ∂²e/∂ξ² take the
/// forms (e^u − 1)/ξ, (e^u(u − 1) + 1)/ξ² and (e^u(u² − 2u + 2) − 2)/ξ³ with e^u and
/// the power of ξ joined in one exponential, finite where the result is (ξ up to
/// f64::MAX), instead of ∞ − ∞.
const LARGE_U: f64 = 700.0;

/// sign(ξ)^k · exp(u + ln p − k ln|ξ|) − c/ξ^k, the large-u form of the e kernels for
/// a polynomial factor p(u) > 0.
fn large_u_form(xi: f64, u: f64, p: f64, k: i32, c: f64) -> f64 {
    let mag = (u + p.ln() - f64::from(k) * xi.abs().ln()).exp();
    let sign = if k % 2 == 1 && xi < 0.0 { -1.0 } else { 1.0 };
    if mag == f64::INFINITY {
        // (c/ξ^k may overflow too, for subnormal ξ: ∞ − ∞.)
        return sign * mag;
    }
    sign * mag - c / xi.powi(k)
}

/// e(ξ, w) = expm1(ξw)/ξ (= w at ξ = 0). Series w·Σ u^n/(n + 1)!.
pub(crate) fn e_scalar(xi: f64, w: f64) -> f64 {
    let u = xi * w;
    if xi == 0.0 {
        w
    } else if u.abs() < SERIES_U {
        w * exp_series(u, 0)
    } else if u > LARGE_U {
        large_u_form(xi, u, 1.0, 1, 1.0)
    } else {
        u.exp_m1() / xi
    }
}

/// w^k e^{ξw}, with the limit 0 where e^{ξw} underflows (w = +∞ and ξ < 0).
#[inline]
fn pow_exp(w: f64, k: i32, u: f64) -> f64 {
    let ex = u.exp();
    if ex == 0.0 {
        0.0
    } else {
        w.powi(k) * ex
    }
}

/// ∂e/∂ξ = (w e^{ξw} − e)/ξ (= w²/2 at ξ = 0). Series w²·Σ (n + 1) u^n/(n + 2)!.
pub(crate) fn e_dxi_scalar(xi: f64, w: f64) -> f64 {
    let u = xi * w;
    if xi == 0.0 {
        0.5 * w * w
    } else if u.abs() < SERIES_U {
        w * w * exp_series(u, 1)
    } else if u > LARGE_U {
        large_u_form(xi, u, u - 1.0, 2, -1.0)
    } else {
        (pow_exp(w, 1, u) - u.exp_m1() / xi) / xi
    }
}

/// ∂²e/∂ξ² = (w² e^{ξw} − 2 ∂e/∂ξ)/ξ (= w³/3 at ξ = 0).
/// Series w³·Σ (n + 1)(n + 2) u^n/(n + 3)!.
pub(crate) fn e_dxi2_scalar(xi: f64, w: f64) -> f64 {
    let u = xi * w;
    if xi == 0.0 {
        w * w * w / 3.0
    } else if u.abs() < SERIES_U {
        w * w * w * exp_series(u, 2)
    } else if u > LARGE_U {
        large_u_form(xi, u, u * u - 2.0 * u + 2.0, 3, 2.0)
    } else {
        (pow_exp(w, 2, u) - 2.0 * e_dxi_scalar(xi, w)) / xi
    }
}

/// R_k(u) = Σ_{n≥0} (n + 1)⋯(n + k) u^n/(n + k + 1)! for k = 0, 1, 2, the series of
/// R_0 = expm1(u)/u, R_1 = (e^u − R_0)/u and R_2 = (e^u − 2R_1)/u (so that
/// ∂^k e/∂ξ^k = w^{k+1} R_k(ξw)).
fn exp_series(u: f64, k: u32) -> f64 {
    // term_n = (n+1)…(n+k) u^n/(n+k+1)!, built by its ratio to term_{n−1}:
    // (n+k)/(n) · u/(n+k+1).
    let mut t = match k {
        0 => 1.0,
        1 => 0.5,
        _ => 2.0 / 6.0,
    };
    let mut sum = t;
    let kf = k as f64;
    for n in 1..64 {
        let nf = n as f64;
        t *= (nf + kf) / nf * u / (nf + kf + 1.0);
        sum += t;
        if t.abs() <= f64::EPSILON * 0.25 * sum.abs() {
            break;
        }
    }
    sum
}

type CResult<T> = candle_core::Result<T>;

/// h(ξ, z) = log1p(ξz)/ξ, exact through ξ = 0. Gradients ∂h/∂ξ (kernel
/// [`gp_h_dxi`]) and ∂h/∂z = 1/(1 + ξz).
pub(crate) fn gp_h(xi: &Tensor, z: &Tensor) -> Result<Tensor> {
    fn bwd(
        xi: &Tensor,
        z: &Tensor,
        _h: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let dxi = gp_h_dxi(xi, z)?;
        let dz = ((xi * z)? + 1.0)?.recip()?;
        Ok((Some(times(g, &dxi)?), Some(times(g, &dz)?)))
    }
    apply2(
        xi,
        z,
        Map2 {
            name: "gpd_h",
            f: h_scalar,
            f32: h_scalar,
            bwd: Some(bwd),
        },
    )
}

/// ∂h/∂ξ. Gradients ∂²h/∂ξ² and ∂²h/∂ξ∂z = −z/(1 + ξz)².
fn gp_h_dxi(xi: &Tensor, z: &Tensor) -> Result<Tensor> {
    fn bwd(
        xi: &Tensor,
        z: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let d2 = apply2(
            xi,
            z,
            Map2 {
                name: "gpd_h_dxi2",
                f: h_dxi2_scalar,
                f32: h_dxi2_scalar,
                bwd: None,
            },
        )?;
        let dz = (z.neg()? / ((xi * z)? + 1.0)?.sqr()?)?;
        Ok((Some(times(g, &d2)?), Some(times(g, &dz)?)))
    }
    apply2(
        xi,
        z,
        Map2 {
            name: "gpd_h_dxi",
            f: h_dxi_scalar,
            f32: h_dxi_scalar,
            bwd: Some(bwd),
        },
    )
}

/// e(ξ, w) = expm1(ξw)/ξ, exact through ξ = 0. Gradients ∂e/∂ξ (kernel
/// [`gp_e_dxi`]) and ∂e/∂w = e^{ξw}.
pub(crate) fn gp_e(xi: &Tensor, w: &Tensor) -> Result<Tensor> {
    fn bwd(
        xi: &Tensor,
        w: &Tensor,
        _e: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let dxi = gp_e_dxi(xi, w)?;
        let dw = (xi * w)?.exp()?;
        Ok((Some(times(g, &dxi)?), Some(times(g, &dw)?)))
    }
    apply2(
        xi,
        w,
        Map2 {
            name: "gpd_e",
            f: e_scalar,
            f32: e_scalar,
            bwd: Some(bwd),
        },
    )
}

/// ∂e/∂ξ. Gradients ∂²e/∂ξ² and ∂²e/∂ξ∂w = w e^{ξw}.
fn gp_e_dxi(xi: &Tensor, w: &Tensor) -> Result<Tensor> {
    fn bwd(
        xi: &Tensor,
        w: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let d2 = apply2(
            xi,
            w,
            Map2 {
                name: "gpd_e_dxi2",
                f: e_dxi2_scalar,
                f32: e_dxi2_scalar,
                bwd: None,
            },
        )?;
        let dw = (w * (xi * w)?.exp()?)?;
        Ok((Some(times(g, &d2)?), Some(times(g, &dw)?)))
    }
    apply2(
        xi,
        w,
        Map2 {
            name: "gpd_e_dxi",
            f: e_dxi_scalar,
            f32: e_dxi_scalar,
            bwd: Some(bwd),
        },
    )
}

impl Distribution for GeneralizedPareto {
    params_methods!(params);
    fn name(&self) -> &'static str {
        NAME
    }

    /// `[loc, loc − scale/concentration]` where concentration < 0, `[loc, +∞]`
    /// elsewhere (the upper end computed in f64 and rounded to the dtype).
    fn support(&self) -> Constraint {
        match self.upper().and_then(|u| self.params.out(u)) {
            Ok(high) => Constraint::DependentInterval {
                low: self.loc().clone(),
                high,
            },
            // Only fails on a broken device; fall back to the lower bound alone.
            Err(_) => Constraint::DependentGreaterThanEq {
                low: self.loc().clone(),
            },
        }
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.params.sample_shape(sample_shape)?;
        let u = rng.uniform(&shape, self.dtype(), self.device())?;
        let x = self.quantile(&u.to_dtype(DType::F64)?)?;
        self.params.out(x)
    }

    // −ln σ − (1 + ξ) h(ξ, z) inside the support; at the upper end for ξ < 0 the limit
    // (−∞ for −1 < ξ < 0, −ln σ for ξ = −1, +∞ for ξ < −1), and −∞ outside (with checks
    // off). The kernel runs on a safe z outside the open support.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let Standardized {
            z,
            xi,
            scale,
            inside,
            at_end,
            band,
            h_band,
        } = self.standardize(value, true)?;
        let z_safe = inside.where_cond(&z, &z.zeros_like()?)?;
        let h = gp_h(&xi, &z_safe)?;
        let ln_s = scale.log()?;
        let scale_own = unbroadcast(self.params.w(1))?;
        let lp = (neg_log_scale(&z_safe.detach(), &xi, &scale_own)? - ((&xi + 1.0)? * h)?)?;
        let c = (&xi + 1.0)?;
        let end = (ln_s.neg()? + edge_log(&c)?)?;
        let lp_band = (ln_s.neg()? - (&h_band * &c)?)?.detach();
        let out = filled(&z, f64::NEG_INFINITY)?;
        let rest = band.where_cond(&lp_band, &at_end.where_cond(&end, &out)?)?;
        self.params.out_for(value, inside.where_cond(&lp, &rest)?)
    }

    // −expm1(−h(ξ, z)); 0 below μ and 1 at or above the upper end.
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let Standardized {
            z,
            xi,
            inside,
            band,
            h_band,
            ..
        } = self.standardize(value, false)?;
        let z_safe = inside.where_cond(&z, &z.zeros_like()?)?;
        let f = special::expm1(&gp_h(&xi, &z_safe)?.neg()?)?.neg()?;
        let f_band = special::expm1(&h_band.neg()?)?.neg()?;
        let outer = z.lt(0.0)?.where_cond(&z.zeros_like()?, &z.ones_like()?)?;
        let rest = band.where_cond(&f_band, &outer)?;
        self.params.out_for(value, inside.where_cond(&f, &rest)?)
    }

    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let arg = q;
        let q = self.params.probability(q)?.to_dtype(DType::F64)?;
        self.params.out_for(arg, self.quantile(&q)?)
    }

    fn entropy(&self) -> Result<Tensor> {
        let (scale, xi) = (self.params.w(1), self.params.w(2));
        self.params.out(((scale.log()? + xi)? + 1.0)?)
    }

    fn mean(&self) -> Result<Tensor> {
        let (loc, scale, xi) = (self.params.w(0), self.params.w(1), self.params.w(2));
        let finite = xi.lt(1.0)?;
        let safe = finite.where_cond(xi, &xi.zeros_like()?)?;
        let m = (loc + (scale / (1.0 - safe)?)?)?;
        self.params
            .out(finite.where_cond(&m, &filled(xi, f64::INFINITY)?)?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(self.loc().clone())
    }

    /// σ²/((1 − ξ)²(1 − 2ξ)) as r·(r/(1 − 2ξ)) with r = σ/(1 − ξ): σ² and the
    /// denominator each overflow (σ = 1e300, ξ = −1e300 gave ∞/∞ = NaN) where the
    /// variance does not; this order overflows only where the variance does.
    fn variance(&self) -> Result<Tensor> {
        let (r, one_minus_2xi, finite) = self.spread()?;
        let v = (&r * (&r / one_minus_2xi)?)?;
        self.params
            .out(finite.where_cond(&v, &filled(&r, f64::INFINITY)?)?)
    }

    /// σ/((1 − ξ)√(1 − 2ξ)), from the same ratios as the variance (not its square
    /// root, which overflows first).
    fn stddev(&self) -> Result<Tensor> {
        let (r, one_minus_2xi, finite) = self.spread()?;
        let s = (r / one_minus_2xi.sqrt()?)?;
        self.params
            .out(finite.where_cond(&s, &filled(&s, f64::INFINITY)?)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let p = self.params.expanded(batch_shape)?;
        let mut d = GeneralizedPareto::new_with_validation(&p[0], &p[1], &p[2], false)?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// The log-density contribution of `(1 + ξ)·(−ln(1 + ξz)/ξ)` at 1 + ξz → 0⁺, by
/// the sign of c = 1 + ξ: −∞ for c > 0, 0 for c = 0 (the uniform), +∞ for c < 0.
fn edge_log(c: &Tensor) -> Result<Tensor> {
    let pos_inf = filled(c, f64::INFINITY)?;
    let neg_inf = filled(c, f64::NEG_INFINITY)?;
    let zero = c.zeros_like()?;
    let gt = c.gt(0.0)?.where_cond(&neg_inf, &zero)?;
    Ok(c.lt(0.0)?.where_cond(&pos_inf, &gt)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Kernel = fn(f64, f64) -> f64;

    /// Both branches at the switch |u| = SERIES_U agree to 1e-12 (relative).
    #[test]
    fn series_and_closed_forms_agree_at_the_switch() {
        let fs: [(&str, Kernel); 6] = [
            ("h", h_scalar),
            ("h_dxi", h_dxi_scalar),
            ("h_dxi2", h_dxi2_scalar),
            ("e", e_scalar),
            ("e_dxi", e_dxi_scalar),
            ("e_dxi2", e_dxi2_scalar),
        ];
        for (name, f) in fs {
            for z in [0.5, 1.0, 3.0, 40.0] {
                for sign in [1.0, -1.0] {
                    let xi = sign * SERIES_U / z;
                    // Just inside (series) and just outside (closed form).
                    let lo = f(xi * (1.0 - 1e-15), z);
                    let hi = f(xi * (1.0 + 1e-15), z);
                    let rel = (lo - hi).abs() / hi.abs();
                    assert!(
                        rel < 1e-12,
                        "{name} at ξ={xi}, z={z}: {lo} vs {hi} ({rel:e})"
                    );
                }
            }
        }
    }

    /// The ξ = 0 limits and a tiny ξ agree (no jump at 0).
    #[test]
    fn exact_through_zero() {
        for z in [0.1, 1.0, 7.0] {
            let pairs: [(Kernel, f64); 6] = [
                (h_scalar, z),
                (h_dxi_scalar, -z * z / 2.0),
                (h_dxi2_scalar, 2.0 * z * z * z / 3.0),
                (e_scalar, z),
                (e_dxi_scalar, z * z / 2.0),
                (e_dxi2_scalar, z * z * z / 3.0),
            ];
            for (f, at0) in pairs {
                assert!((f(0.0, z) - at0).abs() <= f64::EPSILON * at0.abs());
                let near = f(1e-300, z);
                assert!((near - at0).abs() <= 4.0 * f64::EPSILON * at0.abs());
            }
        }
    }

    /// The derivative kernels are the derivatives of the value kernels (central
    /// differences of the closed/series forms, h = ε^{1/3}).
    #[test]
    fn derivative_kernels_match_differences() {
        let step = f64::EPSILON.cbrt();
        let cases: [(Kernel, Kernel); 4] = [
            (h_scalar, h_dxi_scalar),
            (h_dxi_scalar, h_dxi2_scalar),
            (e_scalar, e_dxi_scalar),
            (e_dxi_scalar, e_dxi2_scalar),
        ];
        for (f, df) in cases {
            for xi in [-0.5, -0.3, -0.1, -1e-3, 0.0, 1e-3, 0.1, 0.3, 2.0] {
                for z in [0.2, 1.0] {
                    let fd = (f(xi + step, z) - f(xi - step, z)) / (2.0 * step);
                    let an = df(xi, z);
                    assert!(
                        (fd - an).abs() <= 1e-8 * (1.0 + an.abs()),
                        "ξ={xi}, z={z}: {fd} vs {an}"
                    );
                }
            }
        }
    }
}
