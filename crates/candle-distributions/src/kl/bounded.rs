//! Pairs whose first argument lives on an interval or the simplex: Uniform, Beta,
//! ContinuousBernoulli, Dirichlet.

use super::{add, add_infinite, gumbel_cross, Ctx, KlFn};
use crate::continuous::continuous_bernoulli::{cb_log_norm, cb_mean, cb_var};
use crate::continuous::{
    Beta, ContinuousBernoulli, Exponential, Gamma, Gumbel, Normal, Pareto, Uniform,
};
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::multivariate::Dirichlet;
use crate::special;
use candle_core::Tensor;
use std::any::TypeId;
use std::collections::HashMap;
use std::f64::consts::PI;

pub(super) fn register(t: &mut HashMap<(TypeId, TypeId), KlFn>) {
    add::<Uniform, Uniform>(t, uniform_uniform);
    add::<Uniform, Beta>(t, uniform_beta);
    add::<Uniform, ContinuousBernoulli>(t, uniform_continuous_bernoulli);
    add::<Uniform, Exponential>(t, uniform_exponential);
    add::<Uniform, Gamma>(t, uniform_gamma);
    add::<Uniform, Gumbel>(t, uniform_gumbel);
    add::<Uniform, Normal>(t, uniform_normal);
    add::<Beta, Beta>(t, beta_beta);
    add::<Beta, ContinuousBernoulli>(t, beta_continuous_bernoulli);
    add::<Beta, Exponential>(t, beta_exponential);
    add::<Beta, Gamma>(t, beta_gamma);
    add::<Beta, Normal>(t, beta_normal);
    add::<Beta, Uniform>(t, beta_uniform);
    add::<ContinuousBernoulli, ContinuousBernoulli>(t, cb_cb);
    add::<ContinuousBernoulli, Exponential>(t, cb_exponential);
    add::<ContinuousBernoulli, Normal>(t, cb_normal);
    add::<ContinuousBernoulli, Uniform>(t, cb_uniform);
    add::<Dirichlet, Dirichlet>(t, dirichlet_dirichlet);
    add::<Uniform, Pareto>(t, uniform_pareto);
    // [0, 1] against [scale, ∞) with scale > 0.
    add_infinite::<Beta, Pareto>(t);
    add_infinite::<ContinuousBernoulli, Pareto>(t);
}

/// E[ln X] for X ~ Uniform(l, h) ⊂ [0, ∞): (h ln h − l ln l)/(h − l) − 1.
pub(crate) fn uniform_mean_log(l: &Tensor, h: &Tensor) -> Result<Tensor> {
    let w = (h - l)?;
    let num = (special::xlogy(h, h)? - special::xlogy(l, l)?)?;
    Ok(((num / w)? - 1.0)?)
}

/// Uniform/Uniform: ln((hq − lq)/(hp − lp)), +∞ where [lp, hp] ⊄ [lq, hq].
fn uniform_uniform(p: &Uniform, q: &Uniform, c: &Ctx) -> Result<Tensor> {
    let (lp, hp, lq, hq) = (c.w(p.low())?, c.w(p.high())?, c.w(q.low())?, c.w(q.high())?);
    let outside = (lq.gt(&lp)? + hq.lt(&hp)?)?.gt(0u8)?;
    let kl = ((hq - lq)?.log()? - (hp - lp)?.log()?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// The Uniform's parameters with a stand-in interval where `mask` is set.
fn safe_interval(
    c: &Ctx,
    mask: &Tensor,
    l: &Tensor,
    h: &Tensor,
    sl: f64,
    sh: f64,
) -> Result<(Tensor, Tensor)> {
    Ok((c.safe(mask, l, sl)?, c.safe(mask, h, sh)?))
}

/// Uniform(l, h)/Beta(a, b): −ln w − (a − 1) E[ln X] − (b − 1) E[ln(1 − X)] + ln B(a, b),
/// +∞ where [l, h] ⊄ [0, 1].
fn uniform_beta(p: &Uniform, q: &Beta, c: &Ctx) -> Result<Tensor> {
    let (l, h) = (c.w(p.low())?, c.w(p.high())?);
    let (a, b) = (c.w(q.concentration1())?, c.w(q.concentration0())?);
    let outside = (l.lt(0.0)? + h.gt(1.0)?)?.gt(0u8)?;
    let (l, h) = safe_interval(c, &outside, &l, &h, 0.25, 0.75)?;
    let w = (&h - &l)?;
    let e_ln_x = uniform_mean_log(&l, &h)?;
    // X ↦ 1 − X maps U(l, h) to U(1 − h, 1 − l).
    let e_ln_1mx = uniform_mean_log(&(1.0 - &h)?, &(1.0 - &l)?)?;
    let kl = ((special::lbeta(&a, &b)? - w.log()?)? - ((a - 1.0)? * e_ln_x)?)?;
    let kl = (kl - ((b - 1.0)? * e_ln_1mx)?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// E_p[ln q(X)] for q = ContinuousBernoulli(L): E[X]·L − softplus(L) + ln C(L).
fn cb_cross(mean: &Tensor, lq: &Tensor) -> Result<Tensor> {
    Ok((((mean * lq)? - special::softplus(lq)?)? + cb_log_norm(lq)?)?)
}

/// The f64 logits of a ContinuousBernoulli, broadcast.
fn cb_l(d: &ContinuousBernoulli, c: &Ctx) -> Result<Tensor> {
    c.w(d.wide_logits())
}

/// Uniform(l, h)/ContinuousBernoulli(L): −ln w − E_p[ln q], +∞ where [l, h] ⊄ [0, 1].
/// (torch also returns +∞ when l = 0 or h = 1, where the KL is finite; we do not.)
fn uniform_continuous_bernoulli(p: &Uniform, q: &ContinuousBernoulli, c: &Ctx) -> Result<Tensor> {
    let (l, h) = (c.w(p.low())?, c.w(p.high())?);
    let outside = (l.lt(0.0)? + h.gt(1.0)?)?.gt(0u8)?;
    let (l, h) = safe_interval(c, &outside, &l, &h, 0.25, 0.75)?;
    let mean = ((&l + &h)? * 0.5)?;
    let kl = ((h - l)?.log()?.neg()? - cb_cross(&mean, &cb_l(q, c)?)?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// Uniform(l, h)/Exponential(λ): λ(l + h)/2 − ln(λw), +∞ where l < 0.
fn uniform_exponential(p: &Uniform, q: &Exponential, c: &Ctx) -> Result<Tensor> {
    let (l, h) = (c.w(p.low())?, c.w(p.high())?);
    let lam = c.w(q.rate())?;
    let outside = l.lt(0.0)?;
    let w = (&h - &l)?;
    let kl = (((&lam * (l + h)?)? * 0.5)? - (lam.log()? + w.log()?)?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// Uniform(l, h)/Gamma(α, β): −ln w + ln Γ(α) − α ln β − (α − 1) E[ln X] + β(l + h)/2,
/// +∞ where l < 0.
fn uniform_gamma(p: &Uniform, q: &Gamma, c: &Ctx) -> Result<Tensor> {
    let (l, h) = (c.w(p.low())?, c.w(p.high())?);
    let (a, b) = (c.w(q.concentration())?, c.w(q.rate())?);
    let outside = l.lt(0.0)?;
    let (l, h) = safe_interval(c, &outside, &l, &h, 1.0, 2.0)?;
    let w = (&h - &l)?;
    let e_ln_x = uniform_mean_log(&l, &h)?;
    let kl = ((special::lgamma(&a)? - (&a * b.log()?)?)? - w.log()?)?;
    let kl = (kl - ((a - 1.0)? * e_ln_x)?)?;
    let kl = (kl + ((b * (l + h)?)? * 0.5)?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// Uniform(l, h)/Gumbel(μ, σ): ln(σ/w) + E[z] + E[e^{−z}], z = (x − μ)/σ, with
/// E[e^{−z}] = (σ/w) e^{−zl} (1 − e^{−w/σ}) written through expm1.
fn uniform_gumbel(p: &Uniform, q: &Gumbel, c: &Ctx) -> Result<Tensor> {
    let (l, h) = (c.w(p.low())?, c.w(p.high())?);
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let w = (&h - &l)?;
    let zl = ((&l - &mu)? / &s)?;
    // E[z] = ((l + h)/2 − μ)/σ; ln E[e^{−z}] = ln(σ/w) − z_l + ln(1 − e^{−w/σ}).
    let ez = ((((&l + &h)? * 0.5)? - &mu)? / &s)?;
    let ratio_log = (s.log()? - w.log()?)?;
    let tail = special::expm1(&(&w / &s)?.neg()?)?.neg()?.log()?;
    let log_mgf = ((&ratio_log - zl)? + tail)?;
    c.out((ratio_log + gumbel_cross(&ez, &log_mgf)?)?)
}

/// Uniform(l, h)/Normal(μ, σ): ln(√(2π) σ/w) + (w²/12 + (m − μ)²)/(2σ²), m = (l + h)/2.
fn uniform_normal(p: &Uniform, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let (l, h) = (c.w(p.low())?, c.w(p.high())?);
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let w = (&h - &l)?;
    let m = ((l + h)? * 0.5)?;
    let second = ((w.sqr()? / 12.0)? + (m - mu)?.sqr()?)?;
    let kl = ((s.log()? - w.log()?)? + (second / (s.sqr()? * 2.0)?)?)?;
    c.out((kl + 0.5 * (2.0 * PI).ln())?)
}

/// Uniform(l, h)/Pareto(x_m, α): (α + 1) E[ln X] − ln α − α ln x_m − ln w, +∞ where
/// l < x_m.
fn uniform_pareto(p: &Uniform, q: &Pareto, c: &Ctx) -> Result<Tensor> {
    let (l, h) = (c.w(p.low())?, c.w(p.high())?);
    let (xm, a) = (c.w(q.scale())?, c.w(q.alpha())?);
    let outside = l.lt(&xm)?;
    let (l, h) = safe_interval(c, &outside, &l, &h, 1.0, 2.0)?;
    let w = (&h - &l)?;
    let e_ln_x = uniform_mean_log(&l, &h)?;
    let kl = (((&a + 1.0)? * e_ln_x)? - (a.log()? + (&a * xm.log()?)?)?)?;
    c.out(c.inf_where(&outside, &(kl - w.log()?)?)?)
}

/// The f64 parameters of a Beta, broadcast.
fn beta_ab(p: &Beta, c: &Ctx) -> Result<(Tensor, Tensor)> {
    Ok((c.w(p.concentration1())?, c.w(p.concentration0())?))
}

/// −H(p) of a Beta in f64, through the entropy kernel of a widened copy (on the graph).
fn neg_beta_entropy(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(Beta::new_with_validation(a, b, false)?.entropy()?.neg()?)
}

/// Beta/Beta: ln B(aq, bq) − ln B(ap, bp) + (ap − aq)(ψ(ap) − ψ(s)) + (bp − bq)(ψ(bp) − ψ(s)),
/// s = ap + bp.
fn beta_beta(p: &Beta, q: &Beta, c: &Ctx) -> Result<Tensor> {
    let (ap, bp) = beta_ab(p, c)?;
    let (aq, bq) = beta_ab(q, c)?;
    let ps = special::digamma(&(&ap + &bp)?)?;
    let ta = ((&ap - &aq)? * (special::digamma(&ap)? - &ps)?)?;
    let tb = ((&bp - &bq)? * (special::digamma(&bp)? - &ps)?)?;
    let kl = (special::lbeta(&aq, &bq)? - special::lbeta(&ap, &bp)?)?;
    c.out(((kl + ta)? + tb)?)
}

/// Beta/ContinuousBernoulli: −H(p) − E_p[ln q].
fn beta_continuous_bernoulli(p: &Beta, q: &ContinuousBernoulli, c: &Ctx) -> Result<Tensor> {
    let (a, b) = beta_ab(p, c)?;
    let mean = (&a / (&a + &b)?)?;
    let kl = (neg_beta_entropy(&a, &b)? - cb_cross(&mean, &cb_l(q, c)?)?)?;
    c.out(kl)
}

/// Beta(a, b)/Exponential(λ): −H(p) − ln λ + λ a/(a + b).
fn beta_exponential(p: &Beta, q: &Exponential, c: &Ctx) -> Result<Tensor> {
    let (a, b) = beta_ab(p, c)?;
    let lam = c.w(q.rate())?;
    let mean = (&a / (&a + &b)?)?;
    let kl = ((neg_beta_entropy(&a, &b)? - lam.log()?)? + (lam * mean)?)?;
    c.out(kl)
}

/// Beta(a, b)/Gamma(α, β): −H(p) + ln Γ(α) − α ln β − (α − 1)(ψ(a) − ψ(a + b)) + β a/(a + b).
fn beta_gamma(p: &Beta, q: &Gamma, c: &Ctx) -> Result<Tensor> {
    let (a, b) = beta_ab(p, c)?;
    let (al, be) = (c.w(q.concentration())?, c.w(q.rate())?);
    let s = (&a + &b)?;
    let e_ln_x = (special::digamma(&a)? - special::digamma(&s)?)?;
    let kl = ((neg_beta_entropy(&a, &b)? + special::lgamma(&al)?)? - (&al * be.log()?)?)?;
    let kl = (kl - ((al - 1.0)? * e_ln_x)?)?;
    c.out((kl + ((be * a)? / s)?)?)
}

/// Beta(a, b)/Normal(μ, σ): −H(p) + ½ ln(2πσ²) + (Var + (m − μ)²)/(2σ²), m = a/(a + b),
/// Var = m(1 − m)/(a + b + 1).
fn beta_normal(p: &Beta, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let (a, b) = beta_ab(p, c)?;
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let tot = (&a + &b)?;
    let m = (&a / &tot)?;
    let var = ((&m * (&b / &tot)?)? / (tot + 1.0)?)?;
    let second = (var + (m - mu)?.sqr()?)?;
    let kl = ((neg_beta_entropy(&a, &b)? + s.log()?)? + (second / (s.sqr()? * 2.0)?)?)?;
    c.out((kl + 0.5 * (2.0 * PI).ln())?)
}

/// Beta/Uniform(l, h): −H(p) + ln(h − l), +∞ where [0, 1] ⊄ [l, h].
fn beta_uniform(p: &Beta, q: &Uniform, c: &Ctx) -> Result<Tensor> {
    let (a, b) = beta_ab(p, c)?;
    let (l, h) = (c.w(q.low())?, c.w(q.high())?);
    let outside = (l.gt(0.0)? + h.lt(1.0)?)?.gt(0u8)?;
    let kl = (neg_beta_entropy(&a, &b)? + (h - l)?.log()?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// −H(p) of a ContinuousBernoulli with f64 logits L: E[X]·L − softplus(L) + ln C(L).
fn neg_cb_entropy(l: &Tensor) -> Result<Tensor> {
    cb_cross(&cb_mean(l)?, l)
}

/// ContinuousBernoulli/ContinuousBernoulli: −H(p) − E_p[ln q] =
/// m_p (Lp − Lq) − softplus(Lp) + softplus(Lq) + ln C(Lp) − ln C(Lq).
fn cb_cb(p: &ContinuousBernoulli, q: &ContinuousBernoulli, c: &Ctx) -> Result<Tensor> {
    let (lp, lq) = (cb_l(p, c)?, cb_l(q, c)?);
    let m = cb_mean(&lp)?;
    let kl = ((&m * (&lp - &lq)?)? - (special::softplus(&lp)? - special::softplus(&lq)?)?)?;
    c.out((kl + (cb_log_norm(&lp)? - cb_log_norm(&lq)?)?)?)
}

/// ContinuousBernoulli/Exponential(λ): −H(p) − ln λ + λ E[X].
fn cb_exponential(p: &ContinuousBernoulli, q: &Exponential, c: &Ctx) -> Result<Tensor> {
    let l = cb_l(p, c)?;
    let lam = c.w(q.rate())?;
    let kl = ((neg_cb_entropy(&l)? - lam.log()?)? + (lam * cb_mean(&l)?)?)?;
    c.out(kl)
}

/// ContinuousBernoulli/Normal(μ, σ): −H(p) + ½ ln(2πσ²) + (Var + (m − μ)²)/(2σ²).
fn cb_normal(p: &ContinuousBernoulli, q: &Normal, c: &Ctx) -> Result<Tensor> {
    let l = cb_l(p, c)?;
    let (mu, s) = (c.w(q.loc())?, c.w(q.scale())?);
    let second = (cb_var(&l)? + (cb_mean(&l)? - mu)?.sqr()?)?;
    let kl = ((neg_cb_entropy(&l)? + s.log()?)? + (second / (s.sqr()? * 2.0)?)?)?;
    c.out((kl + 0.5 * (2.0 * PI).ln())?)
}

/// ContinuousBernoulli/Uniform(l, h): −H(p) + ln(h − l), +∞ where [0, 1] ⊄ [l, h].
/// (torch also returns +∞ when l = 0 or h = 1, where the KL is finite; we do not.)
fn cb_uniform(p: &ContinuousBernoulli, q: &Uniform, c: &Ctx) -> Result<Tensor> {
    let lp = cb_l(p, c)?;
    let (l, h) = (c.w(q.low())?, c.w(q.high())?);
    let outside = (l.gt(0.0)? + h.lt(1.0)?)?.gt(0u8)?;
    let kl = (neg_cb_entropy(&lp)? + (h - l)?.log()?)?;
    c.out(c.inf_where(&outside, &kl)?)
}

/// Dirichlet/Dirichlet: −H(p) + ln B(q) − Σ_k (q_k − 1)(ψ(p_k) − ψ(Σp)), with H(p), ln B(q)
/// and ψ(p_k) − ψ(Σp) from Dirichlet's own kernels (widened copies on the graph), which
/// stay exact for huge concentrations (the textbook ln Γ(Σp) − Σ ln Γ(p_k) cancels
/// terms of order p ln p).
fn dirichlet_dirichlet(p: &Dirichlet, q: &Dirichlet, c: &Ctx) -> Result<Tensor> {
    let (kp, kq) = (p.event_shape(), q.event_shape());
    if kp != kq {
        return Err(Error::shape(
            "kl_divergence",
            format!("Dirichlet event shapes {kp:?} and {kq:?} differ"),
        ));
    }
    let ap = Dirichlet::new_with_validation(&c.w_event(p.concentration(), kp)?, false)?;
    let aq = c.w_event(q.concentration(), kq)?;
    let last = aq.rank() - 1;
    let lnb_q = Dirichlet::new_with_validation(&aq, false)?.log_normalizer()?;
    let cross = ((aq - 1.0)? * ap.mean_log()?)?.sum(last)?;
    let kl = ((ap.entropy()?.neg()? + lnb_q)? - cross)?;
    c.out(kl)
}
