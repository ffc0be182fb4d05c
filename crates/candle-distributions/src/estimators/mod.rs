//! Gradient estimators for expectations `∇θ E_{x ~ p_θ}[f(x)]`: the tools that train
//! distributions without a reparameterized sampler.
//!
//! ## Four ways to get a gradient through a random draw
//!
//! - **`sample()`** draws data: the graph is cut, `∂x/∂θ` is not defined and no
//!   gradient reaches θ. Right for data and targets; useless for learning θ on its own.
//! - **`rsample()`** (pathwise, reparameterization): `x = g(θ, ε)` with parameter-free
//!   noise ε, so `∇θ f(x) = f'(x) ∂g/∂θ` is an unbiased estimate of `∇θ E[f(x)]`. Low
//!   variance, but it needs `f` differentiable and a differentiable sampler: the
//!   continuous families have one, the discrete ones cannot (a draw is piecewise
//!   constant in θ, so its derivative is zero almost everywhere).
//! - **score function** (REINFORCE, likelihood ratio): `∇θ E[f(x)] = E[f(x) ∇θ ln p_θ(x)]`
//!   holds for any `f` (even a black box) and any family with a differentiable
//!   `log_prob`, discrete included. [`score_function_surrogate`] builds a loss whose
//!   value is `f` and whose gradient is that estimator. It is unbiased but noisy;
//!   subtracting a baseline `b` that does not depend on the draw keeps it unbiased
//!   (`E[b ∇ ln p] = b ∇ Σ p = 0`) and, when `b ≈ E[f]`, cuts the variance:
//!   [`MovingAverage`] (across calls) and [`LeaveOneOut`] (across the draws of one call).
//! - **relaxation** (Gumbel-softmax / Concrete, straight-through): replace the discrete
//!   draw by a differentiable surrogate that tends to it as the temperature τ → 0:
//!   [`gumbel_softmax`], [`gumbel_sigmoid`], [`straight_through`]. Low variance, but the
//!   gradient is that of the relaxed objective: biased, less so as τ shrinks, noisier
//!   as it does.
//!
//! [`variance_probe`] measures the mean and variance of any of these estimators on a
//! user's objective, over repeated draws from a seeded [`Generator`](crate::Generator).
//!
//! ```
//! use candle_core::{Device, Var};
//! use candle_distributions::estimators::score_function_surrogate;
//! use candle_distributions::prelude::*;
//!
//! // d/dloc E[x], x ~ Normal(loc, 1), is exactly 1; both estimators agree on average.
//! let loc = Var::new(0.5f64, &Device::Cpu)?;
//! let d = Normal::new(&loc, 1.0)?;
//! let mut rng = Generator::new(7);
//! let x = d.rsample(&[20_000], &mut rng)?;                  // pathwise
//! let g_path = x.mean_all()?.backward()?.get(&loc).unwrap().to_scalar::<f64>()?;
//! let x = d.sample(&[20_000], &mut rng)?;                   // score function
//! let sur = score_function_surrogate(&d.log_prob(&x)?, &x, None)?;
//! let g_score = sur.mean_all()?.backward()?.get(&loc).unwrap().to_scalar::<f64>()?;
//! assert!((g_path - 1.0).abs() < 1e-12);                // dx/dloc = 1 for every draw
//! assert!((g_score - 1.0).abs() < 0.05);
//! # Ok::<(), candle_distributions::Error>(())
//! ```

mod baselines;
mod gumbel;
mod surrogate;
mod variance_probe;

pub use baselines::{Baseline, LeaveOneOut, MovingAverage};
pub use gumbel::{gumbel_sigmoid, gumbel_softmax, straight_through};
pub use surrogate::score_function_surrogate;
pub use variance_probe::{variance_probe, GradientStats, NamedEstimator};

use crate::error::{Error, Result};
use candle_core::{DType, Tensor};

/// The first non-finite element of `t` (index, value), read on the host.
fn first_non_finite(t: &Tensor) -> Result<Option<(usize, f64)>> {
    let v = crate::distribution::to_f64_vec(t)?;
    Ok(v.iter().position(|x| !x.is_finite()).map(|i| (i, v[i])))
}

/// `Error::OutOfSupport` for an argument of an estimator function that must be finite.
fn require_finite(func: &'static str, argument: &'static str, t: &Tensor, why: &str) -> Result<()> {
    if let Some((index, found)) = first_non_finite(t)? {
        return Err(Error::OutOfSupport {
            distribution: func,
            argument,
            constraint: format!("finite{why}"),
            found,
            index,
        });
    }
    Ok(())
}

/// The dtype both tensors are computed in: f64 when either is f64; errors on non-float.
fn float_dtype(func: &str, ts: &[&Tensor]) -> Result<DType> {
    let mut out = DType::F32;
    for t in ts {
        match t.dtype() {
            DType::F64 => out = DType::F64,
            DType::F32 => {}
            dtype => {
                return Err(Error::DType {
                    context: func.to_string(),
                    dtype,
                })
            }
        }
    }
    Ok(out)
}

/// Checks a temperature: finite and positive.
fn check_tau(func: &'static str, tau: f64) -> Result<()> {
    if !(tau > 0.0 && tau.is_finite()) {
        return Err(Error::InvalidParameter {
            distribution: func,
            parameter: "tau",
            constraint: "positive and finite (0 < tau < inf)".into(),
            found: tau,
            index: 0,
        });
    }
    Ok(())
}
