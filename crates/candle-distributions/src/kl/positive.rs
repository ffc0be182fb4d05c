//! Pairs whose first argument lives on (0, ∞): Exponential, Gamma (and Chi2 through it),
//! InverseGamma.

use super::{add, add_infinite, exp_m1_m_x, gumbel_cross, Ctx, KlFn, EULER_GAMMA};
use crate::continuous::{
    Beta, ContinuousBernoulli, Exponential, Gamma, Gumbel, InverseGamma, Normal, Pareto, Uniform,
};
use crate::distribution::Distribution;
use crate::error::Result;
use crate::special;
use candle_core::Tensor;
use std::any::TypeId;
use std::collections::HashMap;
use std::f64::consts::PI;

pub(super) fn register(t: &mut HashMap<(TypeId, TypeId), KlFn>) {
    add::<Exponential, Exponential>(t, exponential_exponential);
    add::<Exponential, Gamma>(t, exponential_gamma);
    add::<Exponential, Gumbel>(t, exponential_gumbel);
    add::<Exponential, Normal>(t, exponential_normal);
    add::<Gamma, Gamma>(t, gamma_gamma);
    add::<Gamma, Exponential>(t, gamma_exponential);
    add::<Gamma, Gumbel>(t, gamma_gumbel);
    add::<Gamma, Normal>(t, gamma_normal);
    add::<InverseGamma, InverseGamma>(t, inverse_gamma_inverse_gamma);
    // (0, ∞) against [0, 1] or an interval: the upper tail has no mass under q.
    add_infinite::<Exponential, Beta>(t);
    add_infinite::<Exponential, ContinuousBernoulli>(t);
    add_infinite::<Exponential, Uniform>(t);
    add_infinite::<Gamma, Beta>(t);
    add_infinite::<Gamma, ContinuousBernoulli>(t);
    add_infinite::<Gamma, Uniform>(t);
    add::<Pareto, Pareto>(t, pareto_pareto);
    add::<Pareto, Exponential>(t, pareto_exponential);
    add::<Pareto, Gamma>(t, pareto_gamma);
    add::<Pareto, Normal>(t, pareto_normal);
    // Pareto lives on [scale, ∞); the others on [0, 1], an interval, or start at 0.
    add_infinite::<Pareto, Beta>(t);
    add_infinite::<Pareto, ContinuousBernoulli>(t);
    add_infinite::<Pareto, Uniform>(t);
    add_infinite::<Exponential, Pareto>(t);
    add_infinite::<Gamma, Pareto>(t);
}

/// Exponential/Exponential: r − 1 − ln r with r = λq/λp, as e^ℓ − 1 − ℓ, ℓ = ln λq − ln λp.
fn exponential_exponential(p: &Exponential, q: &Exponential, c: &Ctx) -> Result<Tensor> {
    let l = (c.w(q.rate())?.log()? - c.w(p.rate())?.log()?)?;
    c.out(exp_m1_m_x(&l)?)
}

/// Exponential(λ)/Gamma(α, β): e^ℓ − αℓ + ln Γ(α) + γ(α − 1) − 1, ℓ = ln β − ln λ
/// (E[ln X] = −γ − ln λ).
fn exponential_gamma(p: &Exponential, q: &Gamma, c: &Ctx) -> Result<Tensor> {
    let lam = c.w(p.rate())?;
    let (a, b) = (c.w(q.concentration())?, c.w(q.rate())?);
    let l = (b.log()? - lam.log()?)?;
    let kl = ((l.exp()? - (&a * &l)?)? + special::lgamma(&a)?)?;
    let kl = (kl + ((a - 1.0)? * EULER_GAMMA)?)?;
    c.out((kl - 1.0)?)
}

/// Exponential(λ)/Gumbel(μ, σ): ln m − 1 + 1/m − u + e^u m/(m + 1), m = λσ, u = μ/σ
/// (E[e^{−X/σ}] = λσ/(λσ + 1)).
fn exponential_gumbel(p: &Exponential, q: &Gumbel, c: &Ctx) -> Result<Tensor> {
    let lam = c.w(p.rate())?;
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let m = (&lam * &s)?;
    // E[z] = (1/λ − μ)/σ, ln E[e^{−z}] = μ/σ − ln(1 + 1/m).
    let ez = ((lam.recip()? - &mu)? / &s)?;
    let log_mgf = ((&mu / &s)? - special::log1p(&m.recip()?)?)?;
    // ln m as ln λ + ln σ: λσ underflows for a subnormal σ.
    let kl = ((lam.log()? + s.log()?)? + gumbel_cross(&ez, &log_mgf)?)?;
    c.out((kl - 1.0)?)
}

/// Exponential(λ)/Normal(μ, σ): ln(λσ) + ½ ln 2π − 1 + (m² + (m − μ)²)/(2σ²), m = 1/λ
/// (E[(X − μ)²] = Var + (E X − μ)², no cancellation).
fn exponential_normal(p: &Exponential, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let lam = c.w(p.rate())?;
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let m = lam.recip()?;
    let second = (m.sqr()? + (&m - mu)?.sqr()?)?;
    let kl = ((lam.log()? + s.log()?)? + (second / (s.sqr()? * 2.0)?)?)?;
    c.out((kl + (0.5 * (2.0 * PI).ln() - 1.0))?)
}

/// Gamma(αp, βp)/Gamma(αq, βq) for parameters given as tensors (InverseGamma reuses it):
/// αp (e^ℓ − 1 − ℓ) + (αp − αq) ℓ + ln Γ(αq) − ln Γ(αp) + (αp − αq) ψ(αp),
/// ℓ = ln βq − ln βp.
fn gamma_gamma_params(
    c: &Ctx,
    ap: &Tensor,
    bp: &Tensor,
    aq: &Tensor,
    bq: &Tensor,
) -> Result<Tensor> {
    let (ap, bp, aq, bq) = (c.w(ap)?, c.w(bp)?, c.w(aq)?, c.w(bq)?);
    let l = (bq.log()? - bp.log()?)?;
    let da = (&ap - &aq)?;
    let kl = ((&ap * exp_m1_m_x(&l)?)? + (&da * l)?)?;
    let kl = (kl + (special::lgamma(&aq)? - special::lgamma(&ap)?)?)?;
    c.out((kl + (da * special::digamma(&ap)?)?)?)
}

fn gamma_gamma(p: &Gamma, q: &Gamma, c: &Ctx) -> Result<Tensor> {
    gamma_gamma_params(c, p.concentration(), p.rate(), q.concentration(), q.rate())
}

/// InverseGamma/InverseGamma: x ↦ 1/x is a bijection, so this is the KL of the
/// underlying Gammas (torch reaches it through `TransformedDistribution`).
fn inverse_gamma_inverse_gamma(p: &InverseGamma, q: &InverseGamma, c: &Ctx) -> Result<Tensor> {
    gamma_gamma_params(c, p.concentration(), p.rate(), q.concentration(), q.rate())
}

/// −H(p) of a Gamma in f64: the entropy kernel of a widened copy (on the graph).
fn neg_gamma_entropy(p: &Gamma, c: &Ctx) -> Result<Tensor> {
    let a = c.w(p.concentration())?;
    let b = c.w(p.rate())?;
    Ok(Gamma::new_with_validation(&a, &b, false)?
        .entropy()?
        .neg()?)
}

/// Gamma(α, β)/Exponential(λ): −H(p) − ln λ + λ α/β.
fn gamma_exponential(p: &Gamma, q: &Exponential, c: &Ctx) -> Result<Tensor> {
    let (a, b) = (c.w(p.concentration())?, c.w(p.rate())?);
    let lam = c.w(q.rate())?;
    let kl = ((neg_gamma_entropy(p, c)? - lam.log()?)? + ((lam * a)? / b)?)?;
    c.out(kl)
}

/// Gamma(α, β)/Gumbel(μ, σ): (α − 1)ψ(α) − ln Γ(α) − α + ln(βσ) + α/(βσ)
/// + e^u (1 + 1/(βσ))^{−α} − u, u = μ/σ (E[e^{−X/σ}] = (1 + 1/(βσ))^{−α}).
fn gamma_gumbel(p: &Gamma, q: &Gumbel, c: &Ctx) -> Result<Tensor> {
    let (a, b) = (c.w(p.concentration())?, c.w(p.rate())?);
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let bs = (&b * &s)?;
    let t1 = (((&a - 1.0)? * special::digamma(&a)?)? - (special::lgamma(&a)? + &a)?)?;
    // E[z] = (α/β − μ)/σ, ln E[e^{−z}] = μ/σ − α ln(1 + 1/(βσ)).
    let ez = (((&a / &b)? - &mu)? / &s)?;
    let log_mgf = ((&mu / &s)? - (&a * special::log1p(&bs.recip()?)?)?)?;
    let ln_bs = (b.log()? + s.log()?)?;
    c.out(((t1 + ln_bs)? + gumbel_cross(&ez, &log_mgf)?)?)
}

/// Gamma(α, β)/Normal(μ, σ): ln(βσ) + ½ ln 2π − α − ln Γ(α) + (α − 1)ψ(α)
/// + (α/β² + (α/β − μ)²)/(2σ²).
fn gamma_normal(p: &Gamma, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let (a, b) = (c.w(p.concentration())?, c.w(p.rate())?);
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let m = (&a / &b)?;
    let second = ((&m / &b)? + (m - mu)?.sqr()?)?;
    let t1 = ((b.log()? + s.log()?)? - (&a + special::lgamma(&a)?)?)?;
    let t2 = ((&a - 1.0)? * special::digamma(&a)?)?;
    let kl = ((t1 + t2)? + (second / (s.sqr()? * 2.0)?)?)?;
    c.out((kl + 0.5 * (2.0 * PI).ln())?)
}

/// The f64 parameters (scale x_m, alpha α) of a Pareto, broadcast.
fn pareto_params(p: &Pareto, c: &Ctx) -> Result<(Tensor, Tensor)> {
    Ok((c.w(p.scale())?, c.w(p.alpha())?))
}

/// Pareto/Pareto: αq ln(x_p/x_q) + e^ℓ − 1 − ℓ with ℓ = ln αq − ln αp, +∞ where
/// x_p < x_q (p has mass below q's support).
fn pareto_pareto(p: &Pareto, q: &Pareto, c: &Ctx) -> Result<Tensor> {
    let (xp, ap) = pareto_params(p, c)?;
    let (xq, aq) = pareto_params(q, c)?;
    let outside = xp.lt(&xq)?;
    let l = (aq.log()? - ap.log()?)?;
    let kl = (exp_m1_m_x(&l)? + (aq * (xp.log()? - xq.log()?)?)?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// Pareto(x_m, α) with α replaced by a stand-in where the KL is +∞ (the moment it needs
/// is infinite): returns (mask, safe α).
fn pareto_alpha_above(a: &Tensor, bound: f64, c: &Ctx) -> Result<(Tensor, Tensor)> {
    let mask = a.le(bound)?;
    let safe = c.safe(&mask, a, bound + 1.0)?;
    Ok((mask, safe))
}

/// Pareto(x_m, α)/Exponential(λ): ln(α/(x_m λ)) − 1/α + λ α x_m/(α − 1) − 1, +∞ for α ≤ 1
/// (infinite mean).
fn pareto_exponential(p: &Pareto, q: &Exponential, c: &Ctx) -> Result<Tensor> {
    let (xm, a) = pareto_params(p, c)?;
    let (mask, a) = pareto_alpha_above(&a, 1.0, c)?;
    let lam = c.w(q.rate())?;
    let mean = ((&a * &xm)? / (&a - 1.0)?)?;
    let kl = ((a.log()? - (xm.log()? + lam.log()?)?)? - a.recip()?)?;
    let kl = ((kl + (lam * mean)?)? - 1.0)?;
    c.out(c.inf_where(&mask, &kl)?)
}

/// Pareto(x_m, α)/Gamma(a, b): ln α − κ + ln Γ(a) − a ln b + (1 − a) κ + b α x_m/(α − 1) − 1,
/// κ = E[ln X] = ln x_m + 1/α; +∞ for α ≤ 1.
fn pareto_gamma(p: &Pareto, q: &Gamma, c: &Ctx) -> Result<Tensor> {
    let (xm, al) = pareto_params(p, c)?;
    let (mask, al) = pareto_alpha_above(&al, 1.0, c)?;
    let (a, b) = (c.w(q.concentration())?, c.w(q.rate())?);
    let kappa = (xm.log()? + al.recip()?)?;
    let mean = ((&al * &xm)? / (&al - 1.0)?)?;
    let kl = ((al.log()? - (&a * &kappa)?)? + (special::lgamma(&a)? - (&a * b.log()?)?)?)?;
    let kl = ((kl + (b * mean)?)? - 1.0)?;
    c.out(c.inf_where(&mask, &kl)?)
}

/// Pareto(x_m, α)/Normal(μ, σ): ln(√(2π) σ α/x_m) − 1/α + (Var + (m − μ)²)/(2σ²) − 1,
/// m = α x_m/(α − 1), Var = α x_m²/((α − 1)²(α − 2)); +∞ for α ≤ 2 (infinite variance).
fn pareto_normal(p: &Pareto, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let (xm, a) = pareto_params(p, c)?;
    let (mask, a) = pareto_alpha_above(&a, 2.0, c)?;
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let cm = (&xm / (&a - 1.0)?)?;
    let var = ((&a * cm.sqr()?)? / (&a - 2.0)?)?;
    let second = (var + ((&a * cm)? - mu)?.sqr()?)?;
    let kl = (((s.log()? + a.log()?)? - xm.log()?)? - a.recip()?)?;
    let kl = (kl + (second / (s.sqr()? * 2.0)?)?)?;
    c.out(c.inf_where(&mask, &(kl + (0.5 * (2.0 * PI).ln() - 1.0))?)?)
}
