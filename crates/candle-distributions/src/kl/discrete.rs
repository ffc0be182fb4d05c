//! Pairs of discrete families: Bernoulli, Binomial, Geometric, Poisson, Categorical,
//! OneHotCategorical (and OneHotCategoricalStraightThrough through it), the
//! Bernoulli/Poisson cross pair, and the pairs that are +∞ by support (Poisson against
//! the bounded counts, every discrete family against every continuous one).
//!
//! Every closed form is a sum of terms of the generalized KL
//! G(w, v) = w ln(w/v) − w + v ≥ 0 (the Bregman divergence of x ln x), evaluated from
//! ln w and ln v by one kernel ([`gen_kl`]): KL(p ‖ q) = Σ_k G(p_k, q_k) whenever both
//! mass functions sum to 1, so no two terms of opposite sign cancel (the KL of two
//! nearly equal laws keeps its relative accuracy), 0·ln 0 = 0 holds exactly for
//! −∞ log-masses, and G(w, 0) = +∞ for w > 0.

use super::{add, add_infinite, not_implemented, Ctx, KlFn};
use crate::continuous::{
    Beta, Cauchy, Chi2, ContinuousBernoulli, Exponential, FisherSnedecor, Gamma, GeneralizedPareto,
    Gumbel, HalfCauchy, HalfNormal, InverseGamma, Kumaraswamy, Laplace, LogNormal, Normal, Pareto,
    StudentT, TanhNormal, TruncatedNormal, Uniform, VonMises, Weibull,
};
use crate::discrete::probs_logits::BinaryParam;
use crate::discrete::{
    Bernoulli, Binomial, Categorical, ExpRelaxedCategorical, Geometric, LogitRelaxedBernoulli,
    Multinomial, NegativeBinomial, OneHotCategorical, Poisson, RelaxedBernoulli,
    RelaxedOneHotCategorical,
};
use crate::distribution::Distribution;
use crate::error::Result;
use crate::multivariate::{Dirichlet, LogisticNormal};
use crate::special::kernel::{apply2, Map2};
use candle_core::{DType, Tensor};
use std::any::TypeId;
use std::collections::HashMap;

pub(super) fn register(t: &mut HashMap<(TypeId, TypeId), KlFn>) {
    add::<Bernoulli, Bernoulli>(t, bernoulli_bernoulli);
    add::<Binomial, Binomial>(t, binomial_binomial);
    add::<Geometric, Geometric>(t, geometric_geometric);
    add::<Poisson, Poisson>(t, poisson_poisson);
    add::<Categorical, Categorical>(t, categorical_categorical);
    add::<OneHotCategorical, OneHotCategorical>(t, one_hot_one_hot);
    add::<Bernoulli, Poisson>(t, bernoulli_poisson);
    add::<Poisson, Bernoulli>(t, poisson_bernoulli);
    add::<Poisson, Binomial>(t, poisson_binomial);
    register_continuous_cross_pairs(t);
}

/// A law with atoms against a law with a density (either order) has KL +∞: the atoms
/// carry mass on a set of Lebesgue measure 0 (the density side has none there), and
/// the density side has mass where the atoms have none. torch registers none of these
/// pairs (it raises NotImplementedError); they are added here because their value is
/// known for every parameter. Scalar events against scalar events, vectors of K against
/// vectors of K.
fn register_continuous_cross_pairs(t: &mut HashMap<(TypeId, TypeId), KlFn>) {
    macro_rules! both_ways {
        ($t:ident; $($d:ty),+; $($c:ty),+) => {
            both_ways!(@outer $t; [$($c),+]; $($d),+);
        };
        (@outer $t:ident; $cs:tt; $($d:ty),+) => {
            $( both_ways!(@inner $t; $d; $cs); )+
        };
        (@inner $t:ident; $d:ty; [$($c:ty),+]) => {
            $(
                add_infinite::<$d, $c>($t);
                add_infinite::<$c, $d>($t);
            )+
        };
    }
    both_ways!(t;
        Bernoulli, Binomial, Geometric, Poisson, NegativeBinomial, Categorical;
        Beta, Cauchy, Chi2, ContinuousBernoulli, Exponential, FisherSnedecor, Gamma,
        GeneralizedPareto, Gumbel, HalfCauchy, HalfNormal, InverseGamma, Kumaraswamy,
        Laplace, LogNormal, Normal, Pareto, StudentT, TanhNormal, TruncatedNormal, Uniform,
        VonMises, Weibull, RelaxedBernoulli, LogitRelaxedBernoulli
    );
    // Vector events: one-hot vectors and counts against densities on the simplex.
    both_ways!(t;
        OneHotCategorical, Multinomial;
        Dirichlet, LogisticNormal, RelaxedOneHotCategorical, ExpRelaxedCategorical
    );
}

// ------------------------------------------------------------------ the G kernel

/// G(w, v) = w ln(w/v) − w + v from ℓ = ln w and m = ln v: e^ℓ·φ(m − ℓ) with
/// φ(d) = e^d − 1 − d, by its series near d = 0 (no cancellation), e^m − e^ℓ(1 + d)
/// elsewhere (|d| ≥ 0.1: the cancellation costs at most a factor 200 of ε). Limits:
/// G(0, v) = v, G(w, 0) = +∞ for w > 0.
fn gen_kl_scalar(l: f64, m: f64) -> f64 {
    if l == f64::NEG_INFINITY {
        return m.exp();
    }
    if m == f64::NEG_INFINITY {
        return f64::INFINITY;
    }
    let d = m - l;
    if d.abs() < 0.1 {
        l.exp() * super::exp_m1_m_x_scalar(d)
    } else {
        m.exp() - l.exp() * (1.0 + d)
    }
}

/// ∂G/∂ℓ = w (ℓ − m): 0 at w = 0 (the limit of w ln w), and 0 where G = +∞ (those
/// elements are frozen by `kl_divergence`, see `Ctx::frozen`).
fn gen_kl_dl(l: f64, m: f64) -> f64 {
    if l == f64::NEG_INFINITY || m == f64::NEG_INFINITY {
        return 0.0;
    }
    l.exp() * (l - m)
}

/// ∂G/∂m = v − w.
fn gen_kl_dm(l: f64, m: f64) -> f64 {
    if m == f64::NEG_INFINITY {
        return 0.0;
    }
    m.exp() - l.exp()
}

/// The generalized KL G(w, v) = w ln(w/v) − w + v ≥ 0 of two masses given by their
/// logarithms `l` = ln w, `m` = ln v (f64, −∞ for a mass of 0), broadcast; exact
/// gradients w·(ℓ − m) and v − w (0 at w = 0).
fn gen_kl(l: &Tensor, m: &Tensor) -> Result<Tensor> {
    fn bwd(
        l: &Tensor,
        m: &Tensor,
        _r: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let part = |name, f: fn(f64, f64) -> f64| {
            apply2(
                l,
                m,
                Map2 {
                    name,
                    f,
                    f32: f,
                    bwd: None,
                },
            )
            .map_err(candle_core::Error::from)
        };
        let gl = (g * part("gen_kl_dl", gen_kl_dl)?)?;
        let gm = (g * part("gen_kl_dm", gen_kl_dm)?)?;
        Ok((Some(gl), Some(gm)))
    }
    apply2(
        l,
        m,
        Map2 {
            name: "gen_kl",
            f: gen_kl_scalar,
            f32: gen_kl_scalar,
            bwd: Some(bwd),
        },
    )
}

// ------------------------------------------------------------- the binary pairs

/// (ln p, ln(1 − p)) in f64 of the result shape, from the parameter the family was
/// built with, by the pair's one rule (`BinaryParam::logs_of`) on the `Ctx`'s widened
/// and broadcast copy.
fn binary_logs(c: &Ctx, pair: &BinaryParam) -> Result<(Tensor, Tensor)> {
    BinaryParam::logs_of(pair.given(), &c.w(pair.raw())?)
}

/// Σ over {success, failure} of G: the KL of two Bernoulli laws from their log-masses.
fn bernoulli_terms(p: &(Tensor, Tensor), q: &(Tensor, Tensor)) -> Result<Tensor> {
    Ok((gen_kl(&p.0, &q.0)? + gen_kl(&p.1, &q.1)?)?)
}

/// Bernoulli(p)/Bernoulli(q): G(p, q) + G(1 − p, 1 − q)
/// = p ln(p/q) + (1 − p) ln((1 − p)/(1 − q)).
fn bernoulli_bernoulli(p: &Bernoulli, q: &Bernoulli, c: &Ctx) -> Result<Tensor> {
    let a = binary_logs(c, p.pair())?;
    let b = binary_logs(c, q.pair())?;
    c.out(bernoulli_terms(&a, &b)?)
}

/// Binomial(n, p)/Binomial(m, q): n·KL(Bernoulli(p) ‖ Bernoulli(q)) where n = m (the
/// binomial coefficients cancel), 0 where n = m = 0, +∞ where n > m (p has mass above
/// q's support). Where n < m the KL is finite but has no closed form (it needs
/// E_p[ln C(m, X)]): like torch, that is an error, for the whole call.
fn binomial_binomial(p: &Binomial, q: &Binomial, c: &Ctx) -> Result<Tensor> {
    let (n, m) = (c.w(p.total_count())?, c.w(q.total_count())?);
    let below = n
        .lt(&m)?
        .to_dtype(DType::F64)?
        .sum_all()?
        .to_scalar::<f64>()?;
    if below > 0.0 {
        return Err(not_implemented(
            p,
            q,
            Some("q.total_count > p.total_count in some element (finite, but no closed form, as in torch)"),
        ));
    }
    let above = n.gt(&m)?;
    let a = binary_logs(c, p.pair())?;
    let b = binary_logs(c, q.pair())?;
    let per_trial = bernoulli_terms(&a, &b)?;
    // n = 0 is a point mass at 0 on both sides: 0, also where the per-trial KL is +∞.
    let skip = n.eq(0.0)?.maximum(&above)?;
    let per_trial = skip.where_cond(&per_trial.zeros_like()?, &per_trial)?;
    c.out(c.inf_where(&above, &(n * per_trial)?)?)
}

/// Geometric(p)/Geometric(q) (failures before the first success):
/// ln(p/q) + ((1 − p)/p) ln((1 − p)/(1 − q)) = KL(Bernoulli(p) ‖ Bernoulli(q)) / p
/// (E[X] = (1 − p)/p). Where p = 0 (no mass on any integer; the family refuses it when
/// validating) the value is 0 if q = 0 too (the same improper law) and +∞ otherwise.
fn geometric_geometric(p: &Geometric, q: &Geometric, c: &Ctx) -> Result<Tensor> {
    let a = binary_logs(c, p.pair())?;
    let b = binary_logs(c, q.pair())?;
    let pp = a.0.exp()?;
    let p_zero = pp.eq(0.0)?;
    let q_zero = b.0.exp()?.eq(0.0)?;
    let kl = bernoulli_terms(&a, &b)?;
    let safe_p = p_zero.where_cond(&pp.ones_like()?, &pp)?;
    let safe_kl = p_zero.where_cond(&kl.zeros_like()?, &kl)?;
    let kl = (safe_kl / safe_p)?;
    let improper = p_zero.where_cond(
        &q_zero.where_cond(&c.full(0.0)?, &c.full(f64::INFINITY)?)?,
        &kl,
    )?;
    c.out(improper)
}

/// ln λ in f64 of the result shape, −∞ exactly at λ = 0 with gradient 0 there.
fn log_rate(c: &Ctx, rate: &Tensor) -> Result<Tensor> {
    let r = c.w(rate)?;
    let zero = r.eq(0.0)?;
    let ln = zero.where_cond(&r.ones_like()?, &r)?.log()?;
    Ok(zero.where_cond(&c.full(f64::NEG_INFINITY)?, &ln)?)
}

/// Poisson(λ)/Poisson(μ): λ ln(λ/μ) − λ + μ = G(λ, μ) (the log-factorials cancel);
/// μ where λ = 0, +∞ where μ = 0 < λ.
fn poisson_poisson(p: &Poisson, q: &Poisson, c: &Ctx) -> Result<Tensor> {
    let (a, b) = (log_rate(c, p.rate())?, log_rate(c, q.rate())?);
    c.out(gen_kl(&a, &b)?)
}

/// Bernoulli(p)/Poisson(λ): p ln p + (1 − p) ln(1 − p) − p ln λ + λ
/// = G(p, λ) + G(1 − p, 1) (ln q(0) = −λ, ln q(1) = ln λ − λ); +∞ where λ = 0 < p.
fn bernoulli_poisson(p: &Bernoulli, q: &Poisson, c: &Ctx) -> Result<Tensor> {
    let (lp, l1p) = binary_logs(c, p.pair())?;
    let lr = log_rate(c, q.rate())?;
    c.out((gen_kl(&lp, &lr)? + gen_kl(&l1p, &c.full(0.0)?)?)?)
}

/// Poisson(λ)/Bernoulli(q): +∞ for λ > 0 (mass on {2, 3, ...}); where λ = 0 (a point
/// mass at 0) it is −ln(1 − q). torch returns +∞ for every λ.
fn poisson_bernoulli(p: &Poisson, q: &Bernoulli, c: &Ctx) -> Result<Tensor> {
    let positive = c.w(p.rate())?.gt(0.0)?;
    let (_, l1q) = binary_logs(c, q.pair())?;
    c.out(c.inf_where(&positive, &l1q.neg()?)?)
}

/// Poisson(λ)/Binomial(n, q): +∞ for λ > 0 (mass above n); where λ = 0 it is
/// −n ln(1 − q) (0 for n = 0). torch returns +∞ for every λ.
fn poisson_binomial(p: &Poisson, q: &Binomial, c: &Ctx) -> Result<Tensor> {
    let positive = c.w(p.rate())?.gt(0.0)?;
    let n = c.w(q.total_count())?;
    let (_, l1q) = binary_logs(c, q.pair())?;
    let none = n.eq(0.0)?;
    let l1q = none.where_cond(&l1q.zeros_like()?, &l1q)?;
    c.out(c.inf_where(&positive, &(n * l1q)?.neg()?)?)
}

// --------------------------------------------------------- the categorical pairs

/// Categorical/Categorical: Σ_k G(p_k, q_k) = Σ_k p_k ln(p_k/q_k), from the normalised
/// f64 log-probabilities of both sides (exact −∞ for classes of probability 0, whose
/// terms are 0 in p and +∞ in q where p has mass). The number of categories must match.
fn categorical_categorical(p: &Categorical, q: &Categorical, c: &Ctx) -> Result<Tensor> {
    let (kp, kq) = (p.num_events(), q.num_events());
    if kp != kq {
        return Err(crate::Error::shape(
            "kl_divergence",
            format!("{} has {kp} categories but {} has {kq}", p.name(), q.name()),
        ));
    }
    let a = c.w_event(&p.param().wide_logits()?, &[kp])?;
    let b = c.w_event(&q.param().wide_logits()?, &[kq])?;
    let terms = gen_kl(&a, &b)?;
    c.out(terms.sum(terms.rank() - 1)?)
}

/// OneHotCategorical/OneHotCategorical: the KL of the underlying Categoricals.
fn one_hot_one_hot(p: &OneHotCategorical, q: &OneHotCategorical, c: &Ctx) -> Result<Tensor> {
    categorical_categorical(p.categorical(), q.categorical(), c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// G against w ln(w/v) − w + v in high-precision-free cases where the direct form
    /// is exact enough, and the limits.
    #[test]
    fn generalized_kl_scalar_limits_and_values() {
        let direct = |w: f64, v: f64| w * (w / v).ln() - w + v;
        for (w, v) in [(0.3f64, 0.6f64), (2.0, 0.5), (1e-3, 7.0), (5.0, 5.2)] {
            let g = gen_kl_scalar(w.ln(), v.ln());
            assert!(
                (g - direct(w, v)).abs() <= 1e-14 * direct(w, v).max(1.0),
                "{w} {v}"
            );
        }
        assert_eq!(gen_kl_scalar(f64::NEG_INFINITY, 2f64.ln()), 2.0);
        assert_eq!(gen_kl_scalar(f64::NEG_INFINITY, f64::NEG_INFINITY), 0.0);
        assert_eq!(gen_kl_scalar(0.0, f64::NEG_INFINITY), f64::INFINITY);
        // Nearly equal masses: w φ(d) = w (d²/2 + d³/6 + ...), no cancellation.
        let d = 1e-9f64;
        let g = gen_kl_scalar(0.0, d);
        let want = d * d / 2.0 + d * d * d / 6.0;
        assert!((g - want).abs() < 1e-15 * want, "{g} vs {want}");
    }
}
