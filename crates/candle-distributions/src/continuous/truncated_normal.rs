//! The truncated normal distribution.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::special::kernel::{apply2, apply3, Map2, Map3};
use crate::special::log_ndtr_diff;
use crate::special::scalar::{
    clamp_total, gauss_legendre_32, half_sq_diff, log_mass_at, log_ndtr_diff as log_mass,
    log_ndtr_rel, ndtri_exp, window_anchor, HALF_LN_2PI,
};
use candle_core::{DType, Tensor};

type CResult<T> = candle_core::Result<T>;

/// The normal distribution N(`loc`, `scale`²) restricted to [`low`, `high`] (new: torch
/// has none).
///
/// Density `p(x) = φ(z) / (scale · Z)` for low ≤ x ≤ high, z = (x − loc)/scale,
/// Z = Φ(β) − Φ(α), α = (low − loc)/scale, β = (high − loc)/scale; `low` < `high`,
/// either may be infinite. Mean loc + scale (φ(α) − φ(β))/Z, variance
/// scale² [1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²], mode loc clamped into the
/// window, entropy ln(√(2πe) scale Z) + (αφ(α) − βφ(β))/(2Z).
///
/// Everything is computed in log space and, for windows in the upper half, on the
/// reflected tails, so windows far out in a tail (α = 30) keep full accuracy:
/// ln Z = ln(Φ(β) − Φ(α)) without cancellation, and `icdf`/`rsample` invert
/// ln Φ(z) = ln(Φ(α) + q Z) with a log-space normal quantile. `rsample` is the inverse
/// CDF of uniform noise, with exact pathwise gradients in all four parameters.
///
/// Masses are taken relative to the density at the window's point nearest `loc`
/// ([`crate::special::scalar::log_mass_at`]), so a window whose mass
/// underflows (ln Z = −∞, e.g. low = 1e300 with scale 1.5) still has an exact cdf,
/// quantile and log_prob. A window that collapses in f64 (α = β although low < high:
/// loc 1e308 away, or a width below an ulp of α) is its exact limit: the exponential
/// tail of rate |α|/scale from the bound nearer `loc`, or the uniform law. Known gap:
/// gradients (log_prob and rsample backward) for such collapsed windows are NaN.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, TruncatedNormal};
/// let dev = Device::Cpu;
/// let t = |v: f64| Tensor::new(v, &dev);
/// // a window 30 standard deviations out: still exact
/// let d = TruncatedNormal::new(&t(0.0)?, &t(1.0)?, &t(30.0)?, &t(31.0)?)?;
/// let x = d.sample(&[1000], &mut Generator::new(0))?.to_vec1::<f64>()?;
/// assert!(x.iter().all(|&v| (30.0..=31.0).contains(&v)));
/// let m = d.mean()?.to_scalar::<f64>()?; // ≈ 30 + 1/30
/// assert!((m - 30.033).abs() < 1e-3);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TruncatedNormal {
    p: Params,
    /// α and β, the standardized bounds (f64).
    a: Tensor,
    b: Tensor,
    /// ln Z (f64).
    log_z: Tensor,
    /// The window's anchor c (its point nearest 0, standardized), the same point in
    /// x units (low, high or loc), and the anchored log mass ln Z + c²/2 + ln√(2π)
    /// (f64, no gradients): `log_prob` as −(z² − c²)/2 − ln scale − that, finite for
    /// windows whose ln Z is −∞ or that collapsed to α = β in f64.
    anchor: Tensor,
    anchor_x: Tensor,
    log_m: Tensor,
    /// For windows collapsed in f64 (α = β): ln W, ln y and ln Λ, with W = high − low,
    /// Λ = |c|/scale the rate of the exponential tail there (x units), y = ΛW.
    collapse: (Tensor, Tensor, Tensor),
}

const NAME: &str = "TruncatedNormal";

impl TruncatedNormal {
    crate::distribution::params_constructors! {
        /// TruncatedNormal(loc, scale, low, high), broadcast against each other. Parameters are
        /// tensors or numbers (dtype rules: [`distribution`](crate::distribution)).
        "TruncatedNormal", Self::build; loc, scale, low, high
    }

    fn build(
        loc: &Tensor,
        scale: &Tensor,
        low: &Tensor,
        high: &Tensor,
        validate: Option<bool>,
    ) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("loc", loc, Constraint::Real),
                ("scale", scale, Constraint::Positive),
                ("low", low, Constraint::Real),
                ("high", high, Constraint::Real),
            ],
            validate,
        )?;
        if p.validate() {
            // high > low, elementwise: a value of high − low that is not positive.
            let gap = (p.get(3) - p.get(2))?;
            if let Some((index, _)) = Constraint::Positive.check(&gap)? {
                let found = crate::constraints::host_f64(&p.get(3).flatten_all()?)?[index];
                return Err(Error::InvalidParameter {
                    distribution: NAME,
                    parameter: "high",
                    constraint: "greater than low".into(),
                    found,
                    index,
                });
            }
        }
        let a = standardize(p.w(2), p.w(0), p.w(1))?;
        let b = standardize(p.w(3), p.w(0), p.w(1))?;
        let log_z = log_ndtr_diff(&a, &b)?;
        let (anchor, anchor_x, log_m, collapse) = anchored_mass(&p, &a, &b)?;
        Ok(TruncatedNormal {
            p,
            a,
            b,
            log_z,
            anchor,
            anchor_x,
            log_m,
            collapse,
        })
    }

    /// The location of the untruncated normal.
    pub fn loc(&self) -> &Tensor {
        self.p.get(0)
    }

    /// The scale of the untruncated normal.
    pub fn scale(&self) -> &Tensor {
        self.p.get(1)
    }

    /// The lower bound.
    pub fn low(&self) -> &Tensor {
        self.p.get(2)
    }

    /// The upper bound.
    pub fn high(&self) -> &Tensor {
        self.p.get(3)
    }

    /// ln Z = ln(Φ(β) − Φ(α)), the log mass of the window under the untruncated normal.
    pub fn log_normalizer(&self) -> Result<Tensor> {
        self.p.out(self.log_z.clone())
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }

    /// Standard quantiles z(α, β, q) (f64) for f64 q broadcast with the batch.
    fn standard_icdf(&self, q: &Tensor) -> Result<Tensor> {
        let a = crate::distribution::broadcast_to(&self.a, q.dims())?;
        let b = crate::distribution::broadcast_to(&self.b, q.dims())?;
        apply3(
            &a,
            &b,
            q,
            Map3 {
                name: "truncated_normal_icdf",
                f: standard_icdf,
                f32: standard_icdf,
                bwd: Some(standard_icdf_bwd),
            },
        )
    }

    /// loc + scale·z(q) for f64 q, clamped into the window (loc + scale·z is rounded),
    /// in the dtype.
    fn quantile(&self, q: &Tensor) -> Result<Tensor> {
        let z = self.standard_icdf(q)?;
        let x = z.broadcast_mul(self.p.w(1))?.broadcast_add(self.p.w(0))?;
        let x = x
            .broadcast_maximum(self.p.w(2))?
            .broadcast_minimum(self.p.w(3))?;
        // Where the window collapsed in standardized units (α = β, e.g. both +∞ for
        // loc = −1e308), loc + scale·z is meaningless; the mass sits at the bound
        // nearer loc.
        let collapsed = self.a.eq(&self.b)?;
        let near = self.a.gt(0.0)?.where_cond(self.p.w(2), self.p.w(3))?;
        let dims = x.dims().to_vec();
        let bc = |t: &Tensor| crate::distribution::broadcast_to(t, &dims);
        let x = bc(&collapsed)?.where_cond(&bc(&near.detach())?, &x)?;
        self.p.out(x)
    }

    /// `regular` where the window is resolved in f64, else `pick` of
    /// [`collapsed_moments`] (in x units via `to_x`), detached.
    fn or_collapsed(
        &self,
        regular: Tensor,
        pick: fn(f64, f64, f64) -> f64,
        to_x: impl Fn(Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let collapsed = self.a.eq(&self.b)?;
        let v = apply3(
            &self.collapse.0,
            &self.collapse.1,
            &self.collapse.2,
            Map3 {
                name: "truncated_normal_collapsed",
                f: pick,
                f32: pick,
                bwd: None,
            },
        )?;
        let v = to_x(v)?.detach();
        let v = crate::distribution::broadcast_to(&v, regular.dims())?;
        let c = crate::distribution::broadcast_to(&collapsed, regular.dims())?;
        Ok(c.where_cond(&v, &regular)?)
    }

    /// φ(t)/Z and t·φ(t)/Z for a standardized bound t (0 at infinite t).
    fn phi_terms(&self, t: &Tensor) -> Result<(Tensor, Tensor)> {
        let r = (t.sqr()?.affine(-0.5, -HALF_LN_2PI)? - &self.log_z)?.exp()?;
        let finite = t.abs()?.lt(f64::INFINITY)?;
        let zero = r.zeros_like()?;
        let r = finite.where_cond(&r, &zero)?;
        let tr = finite.where_cond(&(t * &r)?, &zero)?;
        Ok((r, tr))
    }
}

/// (c, c in x units, ln Z + c²/2 + ln√(2π)) for the [`TruncatedNormal`] fields, all
/// detached. Where the window collapsed in f64 (α = β although low < high: loc 1e16
/// scales away, or both overflowed) the normal is an exponential tail there of rate
/// |c| per standard unit, and the anchored mass is ∫₀^w e^{−|c|u} du =
/// (1 − e^{−|c|w})/|c| (relative error 1/c², c ≥ 1e16 here) with the width
/// w = (high − low)/scale and ln|c| from the raw parameters (|c| itself may overflow).
type Anchored = (Tensor, Tensor, Tensor, (Tensor, Tensor, Tensor));

fn anchored_mass(p: &Params, a: &Tensor, b: &Tensor) -> Result<Anchored> {
    let (a, b) = (a.detach(), b.detach());
    let (loc, scale, low, high) = (p.w(0), p.w(1), p.w(2), p.w(3));
    let c = apply2(
        &a,
        &b,
        Map2 {
            name: "truncated_normal_anchor",
            f: window_anchor,
            f32: window_anchor,
            bwd: None,
        },
    )?;
    let shape = c.dims().to_vec();
    let bc = |t: &Tensor| crate::distribution::broadcast_to(&t.detach(), &shape);
    let (loc, scale, low, high) = (bc(loc)?, bc(scale)?, bc(low)?, bc(high)?);
    let cx = c
        .gt(0.0)?
        .where_cond(&low, &c.lt(0.0)?.where_cond(&high, &loc)?)?;
    fn ln_abs_diff(x: f64, y: f64) -> f64 {
        let d = x - y;
        if d.is_finite() {
            d.abs().ln()
        } else {
            (0.5 * x - 0.5 * y).abs().ln() + std::f64::consts::LN_2
        }
    }
    let ln_scale = scale.log()?;
    let map2 = |x: &Tensor, y: &Tensor, name: &'static str, f: fn(f64, f64) -> f64| {
        apply2(
            x,
            y,
            Map2 {
                name,
                f,
                f32: f,
                bwd: None,
            },
        )
    };
    // ln W (x units), ln Λ = ln(|c|/scale) the tail's rate in x units, t = ln(ΛW).
    let l_w = map2(&high, &low, "truncated_normal_ln_w", ln_abs_diff)?;
    let l_rate =
        ((map2(&cx, &loc, "truncated_normal_ln_c", ln_abs_diff)? - &ln_scale)? - &ln_scale)?;
    let lt = (&l_rate + &l_w)?;
    fn regular(a: f64, b: f64) -> f64 {
        log_mass_at(a, b, window_anchor(a, b))
    }
    let m = apply2(
        &a,
        &b,
        Map2 {
            name: "truncated_normal_anchored_mass",
            f: regular,
            f32: regular,
            bwd: None,
        },
    )?;
    // Collapsed: ln ∫₀^w e^{−|c|u} du in standardized units = ln(W·(1 − e^{−y})/y) −
    // ln scale, written through ln W for small y (the uniform limit, c may be 0) and
    // through ln Λ for large y (W may overflow).
    fn collapsed_mass(l_w: f64, t: f64, l_rate: f64) -> f64 {
        if t > 0.0 {
            (-(-t.exp()).exp_m1()).ln() - l_rate
        } else {
            l_w + collapsed_g(t)
        }
    }
    let mc = (apply3(
        &l_w,
        &lt,
        &l_rate,
        Map3 {
            name: "truncated_normal_collapsed_mass",
            f: collapsed_mass,
            f32: collapsed_mass,
            bwd: None,
        },
    )? - &ln_scale)?;
    let collapsed = a.eq(&b)?;
    let m = collapsed.where_cond(&mc, &m)?;
    Ok((c, cx, m, (l_w, lt, l_rate)))
}

/// ln((1 − e^{−y})/y) for y = e^t (0 at y → 0, the uniform limit).
fn collapsed_g(t: f64) -> f64 {
    let y = t.exp();
    if y < 1e-300 {
        return 0.0;
    }
    (-(-y).exp_m1()).ln() - t
}

/// (mean offset from the anchor bound, variance, entropy) of an exponential of rate Λ
/// truncated to [0, W] (x units), from ln W, t = ln(ΛW) and ln Λ: the normal on a
/// window collapsed in f64. Scaled by W for small y = ΛW (uniform limit; Λ may be 0),
/// by 1/Λ for large y (W may overflow); series in y where the closed forms cancel.
fn collapsed_moments(l_w: f64, t: f64, l_rate: f64) -> (f64, f64, f64) {
    let y = t.exp();
    if y < 1e-2 {
        // 1/y − 1/(e^y − 1) = 1/2 − y/12 + y³/720 − …,
        // 1/y² − e^y/(e^y − 1)² = 1/12 − y²/240 + y⁴/6048 − …,
        // y/(e^y − 1) = 1 − y/2 + y²/12 − y⁴/720 + …
        let (w, y2) = (l_w.exp(), y * y);
        let m = 0.5 - y / 12.0 + y * y2 / 720.0;
        let v = 1.0 / 12.0 - y2 / 240.0 + y2 * y2 / 6048.0;
        let r = 1.0 - y / 2.0 + y2 / 12.0 - y2 * y2 / 720.0;
        // (w·m, (w·v)·w): W² alone may underflow where the variance does not
        return (w * m, w * v * w, l_w + collapsed_g(t) + 1.0 - r);
    }
    let inv = (-l_rate).exp();
    let em = y.exp_m1();
    // y/(e^y − 1) and y²e^y/(e^y − 1)², 0 once e^y overflows.
    let (r, r2) = if em.is_finite() {
        let q = y / em;
        (q, q * q * (em + 1.0))
    } else {
        (0.0, 0.0)
    };
    let h = (-(-y).exp_m1()).ln() - l_rate + 1.0 - r;
    (inv * (1.0 - r), inv * (1.0 - r2) * inv, h)
}

/// Zero-valued, with the gradient of `t` where `t` is finite: the closed forms carry
/// the gradients of values computed another way (`t − t.detach()`), but where they
/// over- or underflow to ±∞/NaN that difference is NaN, so there they carry nothing.
fn grad_only(t: &Tensor) -> Result<Tensor> {
    let finite = t.abs()?.lt(f64::INFINITY)?;
    let t = finite.where_cond(t, &t.zeros_like()?)?;
    Ok((&t - t.detach())?)
}

/// (bound − loc)/scale, with zero gradients where the bound is infinite (there the
/// standardized bound is ±∞ whatever loc and scale are).
fn standardize(bound: &Tensor, loc: &Tensor, scale: &Tensor) -> Result<Tensor> {
    fn f(t: f64, loc: f64, scale: f64) -> f64 {
        (t - loc) / scale
    }
    fn bwd(
        _t: &Tensor,
        _loc: &Tensor,
        scale: &Tensor,
        z: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let finite = z.abs()?.lt(f64::INFINITY)?;
        let zero = z.zeros_like()?;
        let g = finite.where_cond(g, &zero)?;
        let z = finite.where_cond(z, &zero)?;
        let gs = (g / scale)?;
        Ok((Some(gs.clone()), Some(gs.neg()?), Some((gs * z)?.neg()?)))
    }
    apply3(
        bound,
        loc,
        scale,
        Map3 {
            name: "truncated_normal_standardize",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// The standard truncated normal quantile: z in [α, β] with Φ(z) = Φ(α) + q Z.
/// Windows leaning to the upper half are reflected (z = −quantile(−β, −α, 1 − q)) so
/// that the inversion always works on the small lower tail, in log space:
/// ln Φ(z) = logaddexp(ln Φ(α), ln q + ln Z), then z = Φ⁻¹ from the log probability.
fn standard_icdf(a: f64, b: f64, q: f64) -> f64 {
    if q.is_nan() || a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a + b > 0.0 {
        return -lower_icdf(-b, -a, 1.0 - q);
    }
    lower_icdf(a, b, q)
}

fn lower_icdf(a: f64, b: f64, q: f64) -> f64 {
    if q <= 0.0 || a == b {
        return a;
    }
    if q >= 1.0 {
        return b;
    }
    // Masses relative to the density at the window's anchor c (finite however far out
    // the window lies): ln Φ(z) + c²/2 + ln√(2π) = logaddexp(that of α, ln q + that of Z).
    let c = window_anchor(a, b);
    let la = log_ndtr_rel(a, c);
    let t = q.ln() + log_mass_at(a, b, c);
    let m = la.max(t);
    let lp = m + ((la - m).exp() + (t - m).exp()).ln();
    // Never `f64::clamp`: with validation off, α > β (low ≥ high) must give NaN, not a
    // panic.
    clamp_total(ndtri_rel(lp, c), a, b)
}

/// z ≤ c ≤ 0 with [`log_ndtr_rel`](z, c) = lp. Near the centre this is the log-space
/// normal quantile; for an anchor below −37 (where c²/2 may overflow) Newton's method
/// on the relative form, from the exponential-tail guess z ≈ c − (lp + ln(−c))/c
/// (there ln Φ has slope φ/Φ ≈ −c and the relative ln Φ(c) ≈ −ln(−c)), with the slope
/// φ(z)/Φ(z) also taken relative so that nothing overflows.
fn ndtri_rel(lp: f64, c: f64) -> f64 {
    if lp.is_nan() {
        return f64::NAN;
    }
    if c >= -37.0 {
        return ndtri_exp((lp - 0.5 * c * c - HALF_LN_2PI).min(0.0));
    }
    if lp == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let mut z = (c - (lp + (-c).ln()) / c).min(c);
    for _ in 0..50 {
        let g = log_ndtr_rel(z, c);
        let d = (-half_sq_diff(z, c) - g).exp();
        let step = (g - lp) / d;
        let next = (z - step).min(c);
        if !next.is_finite() || (next - z).abs() <= 1e-15 * z.abs() {
            if next.is_finite() {
                z = next;
            }
            break;
        }
        z = next;
    }
    z
}

/// The standard truncated normal cdf (Φ(z) − Φ(α))/(Φ(β) − Φ(α)) for z in [α, β],
/// from log-space window masses.
fn standard_cdf(a: f64, b: f64, z: f64) -> f64 {
    if a == b && a == z {
        // A window that collapsed in standardized units (loc 1e308 away): all mass at
        // the bound nearer loc; `cdf` settles the bounds themselves from x.
        return if a > 0.0 { 1.0 } else { 0.0 };
    }
    if z <= a {
        return 0.0;
    }
    if z >= b {
        return 1.0;
    }
    let c = window_anchor(a, b);
    (log_mass_at(a, z, c) - log_mass_at(a, b, c)).exp()
}

/// 1 − F = (Φ(β) − Φ(z))/Z.
fn standard_sf(a: f64, b: f64, z: f64) -> f64 {
    if a == b && a == z {
        return if a > 0.0 { 0.0 } else { 1.0 };
    }
    if z <= a {
        return 1.0;
    }
    if z >= b {
        return 0.0;
    }
    let c = window_anchor(a, b);
    (log_mass_at(z, b, c) - log_mass_at(a, b, c)).exp()
}

/// Gradients of F = (Φ(z) − Φ(α))/Z: ∂F/∂z = φ(z)/Z, ∂F/∂α = −(1 − F) φ(α)/Z,
/// ∂F/∂β = −F φ(β)/Z (all finite, also at z = α).
fn standard_cdf_bwd(
    a: &Tensor,
    b: &Tensor,
    z: &Tensor,
    f: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let lz = log_ndtr_diff(a, b)?.detach();
    let r = |t: &Tensor| -> CResult<Tensor> { (t.sqr()?.affine(-0.5, -HALF_LN_2PI)? - &lz)?.exp() };
    // 1 − F from its own log-space mass (the subtraction would cancel near z = β).
    let upper = apply3(
        a,
        b,
        z,
        Map3 {
            name: "truncated_normal_sf",
            f: standard_sf,
            f32: standard_sf,
            bwd: None,
        },
    )?;
    let da = (upper * r(a)?)?.neg()?;
    let db = (f * r(b)?)?.neg()?;
    Ok((Some((g * da)?), Some((g * db)?), Some((g * r(z)?)?)))
}

/// Gradients of z(α, β, q) from φ(z) dz = (1 − q) φ(α) dα + q φ(β) dβ + Z dq.
fn standard_icdf_bwd(
    a: &Tensor,
    b: &Tensor,
    q: &Tensor,
    z: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let log_phi = |t: &Tensor| t.sqr()?.affine(-0.5, -HALF_LN_2PI);
    let lz = log_ndtr_diff(a, b)?.detach();
    let lpz = log_phi(z)?;
    let da = ((1.0 - q)? * (log_phi(a)? - &lpz)?.exp()?)?;
    let db = (q * (log_phi(b)? - &lpz)?.exp()?)?;
    let dq = (lz - &lpz)?.exp()?;
    Ok((Some((g * da)?), Some((g * db)?), Some((g * dq)?)))
}

impl Distribution for TruncatedNormal {
    params_methods!(p);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::DependentInterval {
            low: self.low().clone(),
            high: self.high().clone(),
        }
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let u = rng.uniform(&shape, DType::F64, self.device())?;
        self.quantile(&u)
    }

    // −z²/2 − ln√(2π) − ln scale − ln Z
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &self.support())?;
        let z = standardize(&x, &self.p.w_at(0, &x)?, &self.p.w_at(1, &x)?)?;
        let lp = z.sqr()?.affine(-0.5, -HALF_LN_2PI)?;
        let lp = lp.broadcast_sub(&(self.p.w(1).log()? + &self.log_z)?)?;
        // The value: −(z² − c²)/2 − ln scale − (anchored mass), with z − c taken from
        // x − (the anchor in x units) so that a window collapsed in f64 keeps its
        // slope; the gradient is the closed form's above.
        let scale = self.p.w_at(1, &x)?.detach();
        let zd = z.detach();
        let d = ((&x.detach() - crate::distribution::broadcast_to(&self.anchor_x, x.dims())?)?
            / &scale)?;
        let half_sum =
            ((&zd * 0.5)? + (crate::distribution::broadcast_to(&self.anchor, x.dims())? * 0.5)?)?;
        let q = d.eq(0.0)?.where_cond(&d.zeros_like()?, &(&d * half_sum)?)?;
        let lpv = ((q.neg()? - scale.log()?)?
            - crate::distribution::broadcast_to(&self.log_m, x.dims())?)?;
        self.p.out((lpv + grad_only(&lp)?)?)
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &self.support())?;
        let z = standardize(&x, &self.p.w_at(0, &x)?, &self.p.w_at(1, &x)?)?;
        let a = crate::distribution::broadcast_to(&self.a, z.dims())?;
        let b = crate::distribution::broadcast_to(&self.b, z.dims())?;
        let f = apply3(
            &a,
            &b,
            &z,
            Map3 {
                name: "truncated_normal_cdf",
                f: standard_cdf,
                f32: standard_cdf,
                bwd: Some(standard_cdf_bwd),
            },
        )?;
        // At and beyond the bounds from x itself: a window collapsed in standardized
        // units cannot tell its bounds apart by z.
        let f = x
            .ge(&self.p.w_at(3, &x)?)?
            .where_cond(&f.ones_like()?, &f)?;
        let f = x
            .le(&self.p.w_at(2, &x)?)?
            .where_cond(&f.zeros_like()?, &f)?;
        self.p.out(f)
    }

    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let q = self.p.probability(q)?.to_dtype(DType::F64)?;
        self.quantile(&q)
    }

    // ln(√(2πe) scale Z) + (αφ(α) − βφ(β))/(2Z); in the far tails the value comes from
    // `standard_tail_entropy` (the closed form cancels), the gradient from the closed
    // form.
    fn entropy(&self) -> Result<Tensor> {
        let (_, ta) = self.phi_terms(&self.a)?;
        let (_, tb) = self.phi_terms(&self.b)?;
        let h0 = ((&self.log_z + (0.5 + HALF_LN_2PI))? + ((ta - tb)? * 0.5)?)?;
        fn tail_or_nan(a: f64, b: f64) -> f64 {
            standard_tail_entropy(a, b).unwrap_or(f64::NAN)
        }
        let ht = apply2(
            &self.a,
            &self.b,
            Map2 {
                name: "truncated_normal_tail_entropy",
                f: tail_or_nan,
                f32: tail_or_nan,
                bwd: None,
            },
        )?;
        let ht = ht.detach();
        let use_tail = ht.eq(&ht)?;
        let h0 = use_tail.where_cond(&(ht + grad_only(&h0)?)?, &h0)?;
        let h = (h0 + self.p.w(1).log()?)?;
        let h = self.or_collapsed(h, |lw, t, lr| collapsed_moments(lw, t, lr).2, Ok)?;
        self.p.out(h)
    }

    // loc + scale (φ(α) − φ(β))/Z; in the far tails loc + scale·(mean of z) cancels
    // (TruncatedNormal(1e4, 0.05, 8.12, 50): 1e4 − 9950.0002), so the value there is
    // the nearer bound plus scale·E[s]/c (`tail_mean_offset`), the gradient the
    // closed form's.
    fn mean(&self) -> Result<Tensor> {
        let (ra, _) = self.phi_terms(&self.a)?;
        let (rb, _) = self.phi_terms(&self.b)?;
        let m = (self.p.w(0) + (self.p.w(1) * (ra - rb)?)?)?;
        let off = apply2(
            &self.a,
            &self.b,
            Map2 {
                name: "truncated_normal_tail_mean",
                f: tail_mean_offset,
                f32: tail_mean_offset,
                bwd: None,
            },
        )?;
        let off = off.detach();
        let use_tail = off.eq(&off)?;
        // 0, not NaN, off the tail windows: the unused branch still gets (zero)
        // gradients, and 0 · NaN would be NaN.
        let off = use_tail.where_cond(&off, &off.zeros_like()?)?;
        // Offsets ≥ 0 are from low (windows above 1, narrow windows), < 0 from high.
        let lower = off.ge(0.0)?;
        let bound = lower.where_cond(self.p.w(2), self.p.w(3))?;
        let mt = (bound + (self.p.w(1) * off)?)?;
        let m = use_tail.where_cond(&(mt.detach() + grad_only(&m)?)?, &m)?;
        // Collapsed windows: the anchor bound moved inward by scale·(mean offset).
        let m = self.or_collapsed(
            m,
            |lw, t, lr| collapsed_moments(lw, t, lr).0,
            |v| {
                let sign = self
                    .anchor
                    .lt(0.0)?
                    .where_cond(&self.anchor.ones_like()?.neg()?, &self.anchor.ones_like()?)?;
                Ok((&self.anchor_x + (sign * v)?)?)
            },
        )?;
        self.p.out(m)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(self.loc().maximum(self.low())?.minimum(self.high())?)
    }

    // scale²[1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²] cancels for narrow windows
    // (width w: the terms are O(1), the variance w²/12), so for windows up to one
    // standard deviation wide the value comes from Gauss–Legendre quadrature of the
    // window instead; the gradient is the closed form's.
    fn variance(&self) -> Result<Tensor> {
        let (ra, ta) = self.phi_terms(&self.a)?;
        let (rb, tb) = self.phi_terms(&self.b)?;
        let v = (((ta - tb)? + 1.0)? - (ra - rb)?.sqr()?)?;
        let vq = apply2(
            &self.a,
            &self.b,
            Map2 {
                name: "truncated_normal_variance",
                f: standard_sd,
                f32: standard_sd,
                bwd: None,
            },
        )?;
        // (scale·sd)², not scale²·sd²: either factor of the latter may over/underflow.
        let vq = (vq * self.p.w(1))?.sqr()?.detach();
        let v = (vq + grad_only(&(self.p.w(1).sqr()? * v)?)?)?;
        let v = self.or_collapsed(v, |lw, t, lr| collapsed_moments(lw, t, lr).1, Ok)?;
        self.p.out(v)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = TruncatedNormal::build(&t[0], &t[1], &t[2], &t[3], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// The variance of the standard normal truncated to [α, β]: the closed form where the
/// window is wider than 1, else Gauss–Legendre quadrature (32 nodes) of the window
/// with the density taken relative to its largest value (exact to rounding for a
/// window of width ≤ 1 anywhere on the line: the integrand is e^{−z²/2}, smooth).
///
/// Returns the standard deviation: a window 1e-300 wide has a variance that underflows
/// but a standard deviation that, times a scale of 1e300, is of order one.
fn standard_sd(a: f64, b: f64) -> f64 {
    if let Some((c, d)) = tail_window(a, b) {
        let (_, m1, m2) = tail_moments(c, d);
        return (m2 - m1 * m1).max(0.0).sqrt() / c;
    }
    if b - a > 1.0 || (b - a).is_nan() {
        let z = log_mass(a, b);
        let r = |t: f64| {
            if t.is_finite() {
                (-0.5 * t * t - HALF_LN_2PI - z).exp()
            } else {
                0.0
            }
        };
        let tr = |t: f64| if t.is_finite() { t * r(t) } else { 0.0 };
        let m = r(a) - r(b);
        return (1.0 + tr(a) - tr(b) - m * m).max(0.0).sqrt();
    }
    let (nodes, weights) = gauss_legendre_32();
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let top = if a > 0.0 {
        a
    } else if b < 0.0 {
        b
    } else {
        0.0
    };
    let mut s0 = 0.0;
    let mut s1 = 0.0;
    let mut s2 = 0.0;
    for (&t, &w) in nodes.iter().zip(weights) {
        let z = mid + half * t;
        let f = w * (-0.5 * (z - top) * (z + top)).exp();
        // moments of t = (z − mid)/half, scaled back by half at the end
        s0 += f;
        s1 += f * t;
        s2 += f * t * t;
    }
    let m = s1 / s0;
    half * (s2 / s0 - m * m).max(0.0).sqrt()
}

/// A window wider than 1 lying entirely in one tail, at distance ≥ 1 from 0, as the
/// reflected (c, d) with 1 ≤ c < d ≤ ∞. There the closed-form variance
/// 1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)² is a difference of terms of size c²
/// (TruncatedNormal(1e4, 0.05, 8.12, 50): c ≈ 2e5, the terms 4e10, the variance
/// 2.5e-11 — it came out negative), and the entropy likewise; [`tail_moments`] has
/// no cancellation.
fn tail_window(a: f64, b: f64) -> Option<(f64, f64)> {
    if (b - a).is_nan() || b - a <= 1.0 {
        return None;
    }
    if a >= 1.0 {
        Some((a, b))
    } else if b <= -1.0 {
        Some((-b, -a))
    } else {
        None
    }
}

/// Moments of the standard normal truncated to [c, d] (1 ≤ c < d ≤ ∞) in the variable
/// s = c(z − c) ∈ [0, S], S = c(d − c), whose density is ∝ w(s) = e^{−s − s²/(2c²)}
/// (z = c + s/c: e^{−z²/2} = e^{−c²/2} w(s)). Returns (ln ∫w ds, E[s], E[s²]) by
/// 32-point Gauss–Legendre quadrature on the panels [0, 1, 3, 7, 15, 31, 60] clipped
/// at S (w < e^{−60} beyond: negligible against ∫w ≥ 0.3 for S ≥ 1). The integrand
/// is smooth and of order one, so this is accurate to rounding for every c ≥ 1.
fn tail_moments(c: f64, d: f64) -> (f64, f64, f64) {
    const EDGES: [f64; 7] = [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 60.0];
    let top = if d < f64::INFINITY {
        (c * (d - c)).min(EDGES[6])
    } else {
        EDGES[6]
    };
    let k = 0.5 / (c * c);
    let (nodes, weights) = gauss_legendre_32();
    let (mut m0, mut m1, mut m2) = (0.0, 0.0, 0.0);
    for e in EDGES.windows(2) {
        let (lo, hi) = (e[0], e[1].min(top));
        if hi <= lo {
            break;
        }
        let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        for (&t, &w) in nodes.iter().zip(weights) {
            let x = mid + half * t;
            let f = half * w * (-x - k * x * x).exp();
            m0 += f;
            m1 += f * x;
            m2 += f * x * x;
        }
    }
    (m0.ln(), m1 / m0, m2 / m0)
}

/// The entropy of the standard normal truncated to [α, β] where [`tail_window`]
/// applies (else None): with the reflected [c, d] and the moments of [`tail_moments`],
/// ln Z + ln√(2π) = −c²/2 + ln ∫w − ln c and E[z²]/2 = c²/2 + E[s] + E[s²]/(2c²), so
/// H = ln ∫w − ln c + E[s] + E[s²]/(2c²), with the c²/2 terms cancelled exactly.
fn standard_tail_entropy(a: f64, b: f64) -> Option<f64> {
    let (c, d) = tail_window(a, b)?;
    let (l0, m1, m2) = tail_moments(c, d);
    Some(l0 - c.ln() + m1 + m2 / (2.0 * c * c))
}

/// Where [`tail_window`] applies, the mean of the standard normal truncated to [α, β]
/// minus its nearer bound (α for a window above 0, β below): ±E[s]/c with the moments
/// of [`tail_moments`] (z = c + s/c); for windows at most 1 wide the mean minus α;
/// NaN elsewhere.
fn tail_mean_offset(a: f64, b: f64) -> f64 {
    match tail_window(a, b) {
        Some((c, d)) => {
            let (_, m1, _) = tail_moments(c, d);
            if a >= 1.0 {
                m1 / c
            } else {
                -m1 / c
            }
        }
        None if b - a <= 1.0 => {
            // Narrow: (φ(α) − φ(β))/Z cancels (to 0 for a window 1e-300 wide), so the
            // mean minus α by Gauss–Legendre quadrature, in units of the half-width.
            let (nodes, weights) = gauss_legendre_32();
            let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
            let top = window_anchor(a, b);
            let (mut s0, mut s1) = (0.0, 0.0);
            for (&t, &w) in nodes.iter().zip(weights) {
                let z = mid + half * t;
                let f = w * (-0.5 * (z - top) * (z + top)).exp();
                s0 += f;
                s1 += f * t;
            }
            half * (1.0 + s1 / s0)
        }
        None => f64::NAN,
    }
}
