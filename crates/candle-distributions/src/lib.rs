//! # candle-distributions
//!
//! Probability distributions over [candle](https://github.com/huggingface/candle)
//! tensors with differentiable sampling: `torch.distributions` for Rust.
//!
//! ## `sample()` versus `rsample()`
//!
//! - [`Distribution::sample`] draws values with **no gradient**: the graph is cut, as
//!   for any data.
//! - [`Distribution::rsample`] draws by the **reparameterization trick**:
//!   `x = loc + scale · ε` with parameter-free noise `ε`, so `x` stays on the graph and
//!   gradients of any loss flow back to `loc` and `scale` (pathwise derivatives:
//!   dx/dloc = 1, dx/dscale = ε).
//! - Distributions without `rsample` are trained with score-function (REINFORCE)
//!   gradients from [`Distribution::log_prob`].
//!
//! Randomness comes from a seeded, counter-based [`Generator`] (Philox4x32-10): the same
//! seed gives the same samples whatever the number of threads.
//!
//! ```
//! use candle_core::{Device, Var};
//! use candle_distributions::prelude::*;
//!
//! let loc = Var::new(&[0.5f32, -1.0], &Device::Cpu)?;
//! let scale = Var::new(&[1.0f32, 0.1], &Device::Cpu)?;
//! let normal = Normal::new(loc.as_tensor(), scale.as_tensor())?;
//! let mut rng = Generator::new(42);
//! let (x, log_p) = normal.rsample_and_log_prob(&[1000], &mut rng)?; // x: [1000, 2]
//! let loss = (x.sqr()?.mean_all()? + log_p.mean_all()?)?;
//! let grads = loss.backward()?;
//! assert!(grads.get(&loc).is_some() && grads.get(&scale).is_some());
//! assert!(normal.sample(&[3], &mut rng)?.backward().is_ok()); // a leaf: no parameter gradients
//! # Ok::<(), candle_distributions::Error>(())
//! ```
//!
//! Parameter names, parameterizations and results follow torch.distributions, so code
//! ports line by line. Invalid parameters or values return an [`Error`] naming the
//! distribution, the parameter, the constraint and an offending value; checks can be
//! turned off globally ([`set_default_validate_args`]) or per instance.

#![warn(missing_docs)]

pub mod constraints;
pub mod continuous;
pub mod discrete;
pub mod distribution;
pub mod error;
pub mod estimators;
pub mod init;
pub mod kl;
pub mod multivariate;
pub mod rng;
pub mod samplers;
pub mod special;
pub mod transforms;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use constraints::Constraint;
pub use continuous::{
    Beta, Cauchy, Chi2, ContinuousBernoulli, Exponential, FisherSnedecor, Gamma, GeneralizedPareto,
    Gumbel, HalfCauchy, HalfNormal, InverseGamma, Kumaraswamy, Laplace, LogNormal, Normal, Pareto,
    StudentT, TanhNormal, TruncatedNormal, Uniform, VonMises, Weibull,
};
pub use discrete::*;
pub use distribution::{default_validate_args, set_default_validate_args, Distribution};
pub use error::{Error, Result};
pub use kl::{kl_divergence, kl_divergence_mc};
pub use multivariate::{Dirichlet, LogisticNormal};
pub use rng::Generator;
pub use transforms::{biject_to, transform_to};

/// The common imports: `use candle_distributions::prelude::*;`.
pub mod prelude {
    pub use crate::continuous::*;
    pub use crate::discrete::*;
    pub use crate::distribution::{set_default_validate_args, Distribution};
    pub use crate::estimators::{
        gumbel_softmax, score_function_surrogate, Baseline, LeaveOneOut, MovingAverage,
    };
    pub use crate::init::SeededVarMap;
    pub use crate::kl::{kl_divergence, kl_divergence_mc};
    pub use crate::multivariate::*;
    pub use crate::rng::Generator;
    pub use crate::Constraint;
}
