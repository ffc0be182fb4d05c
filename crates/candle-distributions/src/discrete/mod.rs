//! Discrete distributions and their continuous relaxations.
//!
//! Discrete laws have no `rsample` (a draw is piecewise constant in the parameters, so
//! its pathwise derivative is zero almost everywhere): train them with score-function
//! gradients from `log_prob` (see [`crate::estimators`]), or replace them by a relaxed
//! family (`RelaxedBernoulli`, `RelaxedOneHotCategorical`), which does have `rsample`.
//!
//! Every family given by `probs` or `logits` keeps the pair in one place
//! (`probs_logits.rs`): it is built from either, derives the other once, on first use,
//! and evaluates log-masses from whichever was given, without a round trip through the
//! other.

pub(crate) mod probs_logits;

/// The `rsample` error of a discrete family: a draw is piecewise constant in the
/// parameters, so its pathwise derivative is zero almost everywhere. `alternatives`
/// names the families with a pathwise gradient that can stand in for it (`""`: none).
pub(crate) fn no_rsample(name: &'static str, alternatives: &str) -> crate::Error {
    let mut reason = String::from(
        "a discrete draw is piecewise constant in the parameters (no pathwise gradient): \
         use score-function gradients from `log_prob` (crate::estimators)",
    );
    if !alternatives.is_empty() {
        reason.push_str(", or ");
        reason.push_str(alternatives);
    }
    crate::Error::NotImplemented {
        distribution: name,
        method: "rsample",
        reason: Some(reason),
    }
}

mod binomial;
mod negative_binomial;
mod poisson;
pub use binomial::Binomial;
pub use negative_binomial::NegativeBinomial;
pub use poisson::Poisson;

mod bernoulli;
pub use bernoulli::Bernoulli;
mod geometric;
pub use geometric::Geometric;
mod logit_relaxed_bernoulli;
pub use logit_relaxed_bernoulli::LogitRelaxedBernoulli;
mod relaxed_bernoulli;
pub use relaxed_bernoulli::RelaxedBernoulli;
mod categorical;
pub use categorical::Categorical;
mod one_hot_categorical;
pub use one_hot_categorical::OneHotCategorical;
mod one_hot_categorical_straight_through;
pub use one_hot_categorical_straight_through::OneHotCategoricalStraightThrough;
mod multinomial;
pub use multinomial::Multinomial;
mod exp_relaxed_categorical;
pub use exp_relaxed_categorical::ExpRelaxedCategorical;
mod relaxed_one_hot_categorical;
pub use relaxed_one_hot_categorical::RelaxedOneHotCategorical;
