//! Pairs whose first argument is a location-scale family (Normal, HalfNormal, LogNormal,
//! Laplace, Gumbel, Cauchy, HalfCauchy).

use super::{
    add, add_infinite, exp_m1_m_x, exp_m1_m_x_scalar, gumbel_cross, Ctx, KlFn, EULER_GAMMA,
};
use crate::continuous::{
    Beta, Cauchy, ContinuousBernoulli, Exponential, Gamma, Gumbel, HalfCauchy, HalfNormal, Laplace,
    LogNormal, Normal, Pareto, TanhNormal, Uniform,
};
use crate::distribution::broadcast_to;
use crate::error::Result;
use crate::special;
use crate::special::kernel::{
    apply2, apply3, apply3_pair, eval3_multi, stored3, sum_to, unbroadcast, Kernel3, Map2, Map3,
};
use candle_core::{DType, Tensor};
use std::any::TypeId;
use std::collections::HashMap;
use std::f64::consts::PI;
use std::sync::Arc;

pub(super) fn register(t: &mut HashMap<(TypeId, TypeId), KlFn>) {
    add::<Normal, Normal>(t, normal_normal);
    add::<HalfNormal, HalfNormal>(t, half_normal_half_normal);
    add::<LogNormal, LogNormal>(t, log_normal_log_normal);
    add::<TanhNormal, TanhNormal>(t, tanh_normal_tanh_normal);
    add::<Laplace, Laplace>(t, laplace_laplace);
    add::<Gumbel, Gumbel>(t, gumbel_gumbel);
    add::<Cauchy, Cauchy>(t, cauchy_cauchy);
    add::<HalfCauchy, HalfCauchy>(t, half_cauchy_half_cauchy);
    add::<Normal, Laplace>(t, normal_laplace);
    add::<Normal, Gumbel>(t, normal_gumbel);
    add::<Laplace, Normal>(t, laplace_normal);
    add::<Gumbel, Normal>(t, gumbel_normal);
    // Real-line laws against laws on a half-line or an interval.
    add_infinite::<Normal, Beta>(t);
    add_infinite::<Normal, ContinuousBernoulli>(t);
    add_infinite::<Normal, Exponential>(t);
    add_infinite::<Normal, Gamma>(t);
    add_infinite::<Normal, Uniform>(t);
    add_infinite::<Laplace, Beta>(t);
    add_infinite::<Laplace, ContinuousBernoulli>(t);
    add_infinite::<Laplace, Exponential>(t);
    add_infinite::<Laplace, Gamma>(t);
    add_infinite::<Laplace, Uniform>(t);
    add_infinite::<Gumbel, Beta>(t);
    add_infinite::<Gumbel, ContinuousBernoulli>(t);
    add_infinite::<Gumbel, Exponential>(t);
    add_infinite::<Gumbel, Gamma>(t);
    add_infinite::<Gumbel, Uniform>(t);
    add_infinite::<Normal, Pareto>(t);
    add_infinite::<Laplace, Pareto>(t);
    add_infinite::<Gumbel, Pareto>(t);
}

/// ln σp − ln σq: the log of the scale ratio, never the ratio itself (which overflows
/// for σp = 1e300, σq = 1e-300).
fn log_ratio(sp: &Tensor, sq: &Tensor) -> Result<Tensor> {
    Ok((sp.log()? - sq.log()?)?)
}

/// r² − 1 − ln r² for r = 1 + u, from u = r − 1 = (σp − σq)/σq, which is exact to one
/// rounding also when σp ≈ σq (σp − σq is then exact): 2u² + 2 Σ_{k≥3} (−1)^k u^k/k by
/// Horner's rule for |u| < 0.05 (terms to k = 16: relative error < 1e-17), else
/// u(2 + u) − 2 ln(1 + u) (which loses at most 1.3 digits there).
/// (1 + u overflows only when r does, and the caller handles that range.)
fn scale_bregman(u: f64) -> f64 {
    if u.abs() < 0.05 {
        let mut s = 0.0;
        for k in (3..=16).rev() {
            let c = (if k % 2 == 0 { 1.0 } else { -1.0 }) / k as f64;
            s = (s + c) * u;
        }
        2.0 * u * u * (1.0 + s)
    } else {
        // ln(1 + u) as ln r: r = 1 + u rounds by < 1e-16 relative here, and ln is
        // cheaper than ln_1p on this hot path.
        u * (2.0 + u) - 2.0 * (1.0 + u).ln()
    }
}

/// r − 1 for r = σp/σq, as (σp − σq)/σq: one rounding, also where σp ≈ σq.
#[inline]
fn scale_ratio_m1(sp: f64, sq: f64) -> f64 {
    (sp - sq) / sq
}

/// KL(N(μp, σp²) ‖ N(μq, σq²)) of one element from Δ = μp − μq:
/// ½ (r² − 1 − ln r²) + ½ (Δ/σq)², r = σp/σq; one logarithm per element, no
/// cancellation near r = 1.
fn normal_kl_scalar(d: f64, sp: f64, sq: f64) -> f64 {
    let (z, _, breg) = normal_kl_parts(d, sp, sq);
    0.5 * (breg + z * z)
}

/// `(z, u, r² − 1 − ln r²)` with z = Δ/σq, u = r − 1, r = σp/σq.
#[inline(always)]
fn normal_kl_parts(d: f64, sp: f64, sq: f64) -> (f64, f64, f64) {
    let z = d / sq;
    let u = scale_ratio_m1(sp, sq);
    let r = sp / sq;
    let breg = if r > f64::MIN_POSITIVE && r < f64::MAX {
        scale_bregman(u)
    } else {
        // r² − 1 − 2 ln r with ln r from the scales: r² is 0 or +∞ here.
        r * r - 1.0 - 2.0 * (sp.ln() - sq.ln())
    };
    (z, u, breg)
}

/// The Normal KL and its three partial derivatives at one element, from one pass.
#[derive(Clone, Copy)]
struct NormalKlWithGrads;

impl Kernel3<4> for NormalKlWithGrads {
    /// The value of [`normal_kl_scalar`] and its gradients ∂/∂Δ = Δ/σq²,
    /// ∂/∂σp = (r² − 1)/σp and ∂/∂σq = −(r² − 1 + (Δ/σq)²)/σq, with r² − 1 = u(u + 2)
    /// from the exact u = r − 1 (no transcendental function beyond the value's).
    #[inline(always)]
    fn eval(d: f64, sp: f64, sq: f64) -> [f64; 4] {
        let (z, u, breg) = normal_kl_parts(d, sp, sq);
        let em = u * (u + 2.0);
        [0.5 * (breg + z * z), z / sq, em / sp, -(em + z * z) / sq]
    }
}

/// Normal/Normal as one fused kernel over (Δ, σp, σq) (each element evaluated in f64,
/// so f32 users get the f32 rounding of the f64 value with no widened copies). When a
/// parameter is on the graph the same pass also gives ∂/∂Δ = Δ/σq², ∂/∂σp and ∂/∂σq
/// ([`eval3_multi`]), which the backward multiplies by the upstream gradient, or
/// returns as they are when that is the broadcast 1 of a summed loss: no second
/// evaluation, no extra products. This is the VAE loss's hot path.
pub(crate) fn normal_normal_params(
    c: &Ctx,
    lp: &Tensor,
    sp: &Tensor,
    lq: &Tensor,
    sq: &Tensor,
) -> Result<Tensor> {
    let d = c.t(lp)?.broadcast_sub(&c.t(lq)?)?;
    let (sp, sq) = (c.t(sp)?, c.t(sq)?);
    if !(d.track_op() || sp.track_op() || sq.track_op()) {
        let kl = apply3(
            &d,
            &sp,
            &sq,
            Map3 {
                name: "normal_kl",
                f: normal_kl_scalar,
                f32: normal_kl_scalar,
                bwd: None,
            },
        )?;
        return broadcast_to(&kl, &c.shape);
    }
    let [kl, gd, gsp, gsq] = eval3_multi("normal_kl", &d, &sp, &sq, NormalKlWithGrads)?;
    let kl = stored3(
        "normal_kl",
        &d,
        &sp,
        &sq,
        &kl,
        Arc::new(move |d, sp, sq, g| {
            // The usual upstream gradient is a broadcast scalar (the KL summed into a
            // loss): then the coefficients are the gradients, scaled at most.
            let g1 = unbroadcast(g)?;
            let gv = if g1.elem_count() == 1 {
                Some(g1.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?[0])
            } else {
                None
            };
            let times_g = |coef: &Tensor| -> candle_core::Result<Tensor> {
                match gv {
                    Some(1.0) => Ok(coef.clone()),
                    Some(v) => coef.affine(v, 0.0),
                    None => coef.broadcast_mul(g),
                }
            };
            Ok((
                Some(sum_to(&times_g(&gd)?, d.dims())?),
                Some(sum_to(&times_g(&gsp)?, sp.dims())?),
                Some(sum_to(&times_g(&gsq)?, sq.dims())?),
            ))
        }),
    )?;
    broadcast_to(&kl, &c.shape)
}

fn normal_normal(p: &Normal, q: &Normal, c: &Ctx) -> Result<Tensor> {
    normal_normal_params(c, p.loc(), p.scale(), q.loc(), q.scale())
}

/// HalfNormal/HalfNormal: the KL of the underlying zero-mean Normals (torch's rule),
/// ½ (e^{2ℓ} − 1 − 2ℓ).
fn half_normal_half_normal(p: &HalfNormal, q: &HalfNormal, c: &Ctx) -> Result<Tensor> {
    let l2 = (log_ratio(&c.w(p.scale())?, &c.w(q.scale())?)? * 2.0)?;
    c.out((exp_m1_m_x(&l2)? * 0.5)?)
}

/// LogNormal/LogNormal: KL is invariant under the bijection exp, so it is the KL of
/// the underlying Normals (torch reaches it through `TransformedDistribution`).
fn log_normal_log_normal(p: &LogNormal, q: &LogNormal, c: &Ctx) -> Result<Tensor> {
    normal_normal_params(c, p.loc(), p.scale(), q.loc(), q.scale())
}

/// TanhNormal/TanhNormal: tanh is a bijection of ℝ onto (−1, 1), so this is the KL of
/// the pre-tanh Normals (torch: `TransformedDistribution(Normal, TanhTransform)` pairs).
fn tanh_normal_tanh_normal(p: &TanhNormal, q: &TanhNormal, c: &Ctx) -> Result<Tensor> {
    normal_normal_params(c, p.loc(), p.scale(), q.loc(), q.scale())
}

/// KL(Laplace(μp, σp) ‖ Laplace(μq, σq)) of one element from Δ = μp − μq:
/// −ℓ + b + e^{ℓ−a} − 1 with ℓ = ln σp − ln σq, a = |Δ|/σp, b = |Δ|/σq, written as
/// (e^{ℓ−a} − 1 − (ℓ − a)) − a + b for a < 1 (no cancellation when the laws are close),
/// directly above (where a may be +∞ for a subnormal σp).
fn laplace_kl_scalar(d: f64, sp: f64, sq: f64) -> f64 {
    let (l, a, b) = laplace_terms(d, sp, sq);
    if a < 1.0 {
        exp_m1_m_x_scalar(l - a) - a + b
    } else {
        -l + b + (l - a).exp() - 1.0
    }
}

fn laplace_terms(d: f64, sp: f64, sq: f64) -> (f64, f64, f64) {
    let ad = d.abs();
    (sp.ln() - sq.ln(), ad / sp, ad / sq)
}

/// ∂/∂Δ = sign(Δ)(1 − e^{−a})/σq and ∂/∂σp = (e^{ℓ−a}(1 + a) − 1)/σp, as
/// expm1(ℓ − a + ln(1 + a))/σp (−1/σp once a overflows).
fn laplace_kl_d_delta_sp(d: f64, sp: f64, sq: f64) -> (f64, f64) {
    let (l, a, _) = laplace_terms(d, sp, sq);
    let dd = if d == 0.0 {
        0.0
    } else {
        d.signum() * -(-a).exp_m1() / sq
    };
    let dsp = if a.is_finite() {
        (l - a + a.ln_1p()).exp_m1() / sp
    } else {
        -1.0 / sp
    };
    (dd, dsp)
}

/// ∂/∂σq = (1 − b − e^{ℓ−a})/σq = (−expm1(ℓ − a) − b)/σq.
fn laplace_kl_d_sq(d: f64, sp: f64, sq: f64) -> f64 {
    let (l, a, b) = laplace_terms(d, sp, sq);
    (-(l - a).exp_m1() - b) / sq
}

/// Laplace/Laplace as one kernel over (Δ, σp, σq) with closed-form gradients, finite for
/// subnormal scales (where the tensor-op form met ∞ − ∞).
fn laplace_laplace(p: &Laplace, q: &Laplace, c: &Ctx) -> Result<Tensor> {
    fn bwd(
        d: &Tensor,
        sp: &Tensor,
        sq: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (gd, gsp) = apply3_pair(
            d,
            sp,
            sq,
            "laplace_kl_d_delta_sp",
            laplace_kl_d_delta_sp,
            laplace_kl_d_delta_sp,
        )?;
        let gsq = apply3(
            d,
            sp,
            sq,
            Map3 {
                name: "laplace_kl_d_sq",
                f: laplace_kl_d_sq,
                f32: laplace_kl_d_sq,
                bwd: None,
            },
        )?;
        Ok((Some((gd * g)?), Some((gsp * g)?), Some((gsq * g)?)))
    }
    let d = (c.w(p.loc())? - c.w(q.loc())?)?;
    let kl = apply3(
        &d,
        &c.w(p.scale())?,
        &c.w(q.scale())?,
        Map3 {
            name: "laplace_kl",
            f: laplace_kl_scalar,
            f32: laplace_kl_scalar,
            bwd: Some(bwd),
        },
    )?;
    c.out(kl)
}

/// Gumbel/Gumbel: −ln r + δ + γ r + e^{−δ} Γ(1 + r) − (1 + γ), r = σp/σq,
/// δ = (μp − μq)/σq.
fn gumbel_gumbel(p: &Gumbel, q: &Gumbel, c: &Ctx) -> Result<Tensor> {
    let [lp, sp, lq, sq] = c.ws([p.loc(), p.scale(), q.loc(), q.scale()])?;
    let l = log_ratio(&sp, &sq)?;
    let r = (&sp / &sq)?;
    let d = ((lp - lq)? / &sq)?;
    // E[z] = δ + γr, ln E[e^{−z}] = ln Γ(1 + r) − δ.
    let ez = (&d + (&r * EULER_GAMMA)?)?;
    let log_mgf = (special::lgamma(&(&r + 1.0)?)? - d)?;
    let kl = (gumbel_cross(&ez, &log_mgf)? - l)?;
    c.out((kl - (1.0 + EULER_GAMMA))?)
}

/// ln(((σp + σq)² + Δ²)/(4σpσq)) (Chyzak & Nielsen 2019, arXiv:1905.10965), written as
/// ln(1 + u² + v²) with u = (σp − σq)/(2√(σpσq)), v = Δ/(2√(σpσq)): no cancellation when
/// the two laws are close.
fn cauchy_params(c: &Ctx, lp: &Tensor, sp: &Tensor, lq: &Tensor, sq: &Tensor) -> Result<Tensor> {
    let (sp, sq) = (c.w(sp)?, c.w(sq)?);
    let g = ((sp.sqrt()? * sq.sqrt()?)? * 2.0)?;
    let u = ((&sp - &sq)? / &g)?;
    let v = ((c.w(lp)? - c.w(lq)?)? / &g)?;
    c.out(special::log1p(&(u.sqr()? + v.sqr()?)?)?)
}

fn cauchy_cauchy(p: &Cauchy, q: &Cauchy, c: &Ctx) -> Result<Tensor> {
    cauchy_params(c, p.loc(), p.scale(), q.loc(), q.scale())
}

/// HalfCauchy/HalfCauchy: folding at 0 keeps the KL of zero-centred Cauchy laws (torch
/// reaches it through `TransformedDistribution(Cauchy, AbsTransform)`).
fn half_cauchy_half_cauchy(p: &HalfCauchy, q: &HalfCauchy, c: &Ctx) -> Result<Tensor> {
    let zero = c.full(0.0)?;
    cauchy_params(c, &zero, p.scale(), &zero, q.scale())
}

/// E|X − μq| for X ~ N(μp, σp²), from Δ = μp − μq:
/// σp √(2/π) e^{−Δ²/(2σp²)} + |Δ| erf(|Δ|/(√2 σp)). Gradients erf(Δ/(√2 σp)) and
/// √(2/π) e^{−Δ²/(2σp²)}, which stay finite for a subnormal σp (the tensor-op chain
/// rule met 0 · ∞ there).
fn normal_mean_abs(d: &Tensor, sp: &Tensor) -> Result<Tensor> {
    fn f(d: f64, sp: f64) -> f64 {
        let z = d.abs() / sp * std::f64::consts::FRAC_1_SQRT_2;
        sp * (2.0 / PI).sqrt() * (-z * z).exp() + d.abs() * crate::special::scalar::erf(z)
    }
    fn bwd(
        d: &Tensor,
        sp: &Tensor,
        _y: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let z = ((d / sp)? * std::f64::consts::FRAC_1_SQRT_2)?;
        let erf = (1.0 - special::erfc(&z)?)?;
        let dens = (z.sqr()?.neg()?.exp()? * (2.0 / PI).sqrt())?;
        Ok((Some((g * erf)?), Some((g * dens)?)))
    }
    apply2(
        d,
        sp,
        Map2 {
            name: "normal_mean_abs",
            f,
            f32: f,
            bwd: Some(bwd),
        },
    )
}

/// Normal/Laplace: −ln(σp/σq) + E|X − μq|/σq − ½ (1 + ln(π/2)).
fn normal_laplace(p: &Normal, q: &Laplace, c: &Ctx) -> Result<Tensor> {
    let (sp, sq) = (c.w(p.scale())?, c.w(q.scale())?);
    let d = (c.w(p.loc())? - c.w(q.loc())?)?;
    let l = log_ratio(&sp, &sq)?;
    let mean_abs = (normal_mean_abs(&d, &sp)? / sq)?;
    c.out(((mean_abs - l)? - 0.5 * (1.0 + (0.5 * PI).ln()))?)
}

/// Normal/Gumbel: −ln r + δ + e^{−δ + r²/2} − ½ (1 + ln 2π), r = σp/σq,
/// δ = (μp − μq)/σq.
fn normal_gumbel(p: &Normal, q: &Gumbel, c: &Ctx) -> Result<Tensor> {
    let [lp, sp, lq, sq] = c.ws([p.loc(), p.scale(), q.loc(), q.scale()])?;
    let l = log_ratio(&sp, &sq)?;
    let delta = (lp - lq)?;
    let d = (&delta / &sq)?;
    // ln E[e^{−z}] = r²/2 − δ, as (r σp/2 − Δ)/σq: finite or +∞ when r overflows.
    let log_mgf = ((((&sp / &sq)? * &sp)? * 0.5)? - delta)?.broadcast_div(&sq)?;
    let s = gumbel_cross(&d, &log_mgf)?;
    c.out(((s - l)? - 0.5 * (1.0 + (2.0 * PI).ln()))?)
}

/// Laplace/Normal: −ln r + r² + ½ (Δ/σq)² − ½ ln(2/π) − 1, r = σp/σq (E_p[(X − μq)²] =
/// Δ² + 2σp²).
fn laplace_normal(p: &Laplace, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let [lp, sp, lq, sq] = c.ws([p.loc(), p.scale(), q.loc(), q.scale()])?;
    let l = log_ratio(&sp, &sq)?;
    let r = (&sp / &sq)?;
    let d = ((lp - lq)? / &sq)?;
    let kl = ((r.sqr()? - l)? + (d.sqr()? * 0.5)?)?;
    c.out((kl - (0.5 * (2.0 / PI).ln() + 1.0))?)
}

/// Gumbel/Normal: −ln(r/√(2π)) + π² r²/12 + ½ ((μp + γσp − μq)/σq)² − (1 + γ),
/// r = σp/σq (the Gumbel mean is μ + γσ, its variance π²σ²/6).
fn gumbel_normal(p: &Gumbel, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let [lp, sp, lq, sq] = c.ws([p.loc(), p.scale(), q.loc(), q.scale()])?;
    let l = log_ratio(&sp, &sq)?;
    let r = (&sp / &sq)?;
    let m = (((lp + (&sp * EULER_GAMMA)?)? - lq)? / &sq)?;
    let kl = (((r.sqr()? * (PI * PI / 12.0))? - l)? + (m.sqr()? * 0.5)?)?;
    c.out((kl + (0.5 * (2.0 * PI).ln() - 1.0 - EULER_GAMMA))?)
}
