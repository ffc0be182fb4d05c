//! The score-function (REINFORCE) surrogate loss.

use super::{float_dtype, require_finite};
use crate::distribution::{broadcast_shapes, broadcast_to, default_validate_args};
use crate::error::{Error, Result};
use candle_core::Tensor;

const NAME: &str = "score_function_surrogate";

/// A surrogate whose **value is `f`** and whose **gradient is the score-function
/// (REINFORCE) estimator** of `∇θ E[f(x)]`:
///
/// `s = f + (f − b)ᵈ · (ln p_θ(x) − (ln p_θ(x))ᵈ)`, where `ᵈ` means detached,
///
/// so `s = f` exactly (the added term is zero in value) and
/// `∇θ s = (f − b) ∇θ ln p_θ(x) + ∇θ f`. The last term is `f`'s own pathwise gradient,
/// present only when `f` depends on θ through the graph (for example a regularizer);
/// an `f` computed from a `sample()` draw contributes none. Averaged over draws
/// `x ~ p_θ`, `mean(s)` estimates the objective `E[f(x)]` and its gradient is an unbiased
/// estimate of `∇θ E[f(x)]` whenever the baseline `b` does not depend on the draw
/// (see [`MovingAverage`](super::MovingAverage), [`LeaveOneOut`](super::LeaveOneOut)).
///
/// - `log_prob`: `ln p_θ(x)` of the draws, on θ's graph (from `Distribution::log_prob`
///   of a `sample()`).
/// - `f`: the objective at the draws; broadcast against `log_prob` (numpy rules).
/// - `baseline`: `b`, broadcastable to the broadcast shape of `log_prob` and `f`; its
///   gradient is never used (it is detached).
///
/// The result has the broadcast shape, in f64 if any input is f64, else f32. Errors:
/// shapes that do not broadcast ([`Error::Shape`]); a non-float dtype; and, while
/// validation is on ([`set_default_validate_args`](crate::set_default_validate_args)),
/// a non-finite `log_prob`, `f` or `b` ([`Error::OutOfSupport`]): a draw of the
/// distribution has positive mass, so an infinite `ln p` means the values did not come
/// from it, and an infinite `f` has no finite gradient to estimate.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::estimators::score_function_surrogate;
/// // ln p = θ·x for one draw x = 2: the gradient is (f − b)·x = (5 − 1)·2 = 8.
/// let theta = Var::new(0.3f64, &Device::Cpu)?;
/// let log_p = (theta.as_tensor() * 2.0)?;
/// let f = Tensor::new(5.0f64, &Device::Cpu)?;
/// let b = Tensor::new(1.0f64, &Device::Cpu)?;
/// let s = score_function_surrogate(&log_p, &f, Some(&b))?;
/// assert_eq!(s.to_scalar::<f64>()?, 5.0);
/// assert_eq!(s.backward()?.get(&theta).unwrap().to_scalar::<f64>()?, 8.0);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn score_function_surrogate(
    log_prob: &Tensor,
    f: &Tensor,
    baseline: Option<&Tensor>,
) -> Result<Tensor> {
    let mut all = vec![log_prob, f];
    all.extend(baseline);
    let dtype = float_dtype(NAME, &all)?;
    let shape = broadcast_shapes(log_prob.dims(), f.dims()).ok_or_else(|| {
        Error::shape(
            NAME,
            format!(
                "log_prob of shape {:?} and f of shape {:?} do not broadcast",
                log_prob.dims(),
                f.dims()
            ),
        )
    })?;
    if let Some(b) = baseline {
        if broadcast_shapes(b.dims(), &shape).as_deref() != Some(&shape[..]) {
            return Err(Error::shape(
                NAME,
                format!(
                    "baseline of shape {:?} does not broadcast to the shape {shape:?} of log_prob and f",
                    b.dims()
                ),
            ));
        }
    }
    if default_validate_args() {
        let why = " (draws of the distribution have positive mass)";
        require_finite(NAME, "log_prob", log_prob, why)?;
        require_finite(NAME, "f", f, "")?;
        if let Some(b) = baseline {
            require_finite(NAME, "baseline", b, "")?;
        }
    }
    let lp = broadcast_to(&log_prob.to_dtype(dtype)?, &shape)?;
    let fv = broadcast_to(&f.to_dtype(dtype)?, &shape)?;
    let weight = match baseline {
        Some(b) => (&fv - broadcast_to(&b.to_dtype(dtype)?, &shape)?)?,
        None => fv.clone(),
    }
    .detach();
    // `lp - lp.detach()` is exactly zero in value, so the result is f to the last bit.
    let centred = (&lp - lp.detach())?;
    Ok((fv + (weight * centred)?)?)
}
