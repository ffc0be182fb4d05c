//! Monte Carlo KL for any pair.

use crate::distribution::{broadcast_shapes, Distribution};
use crate::error::{Error, Result};
use crate::rng::Generator;
use candle_core::{DType, Tensor};

/// A Monte Carlo estimate of `KL(p ‖ q) = E_p[ln p(X) − ln q(X)]` from `n` draws of `p`,
/// and its standard error.
///
/// With draws X₁..Xₙ and dᵢ = ln p(Xᵢ) − ln q(Xᵢ): estimate d̄ = Σ dᵢ/n, standard error
/// s/√n with s² = Σ (dᵢ − d̄)²/(n − 1). Both have the broadcast of the batch shapes (events
/// are summed by `log_prob`). Draws are reparameterized (`rsample_and_log_prob`) when
/// `p` has rsample, so the estimate is differentiable with respect to both sides'
/// parameters (pathwise through p, directly through q); otherwise they come from
/// `sample_and_log_prob` and gradients reach p only through ln p. Works for any pair,
/// with or without a closed form ([`kl_divergence`](crate::kl_divergence)).
///
/// Errors: `n < 2` (no standard error) is [`Error::InvalidArgument`]; a draw of `p`
/// outside the support of `q` (the KL is then +∞) is the `OutOfSupport` error of
/// `q.log_prob` when `q` validates its arguments.
///
/// ```
/// use candle_distributions::prelude::*;
/// use candle_distributions::{kl_divergence, kl_divergence_mc};
/// let dev = candle_core::Device::Cpu;
/// let p = Normal::from_scalars(0.0, 1.0, candle_core::DType::F64, &dev)?;
/// let q = Normal::from_scalars(0.5, 1.5, candle_core::DType::F64, &dev)?;
/// let mut rng = Generator::new(7);
/// let (est, se) = kl_divergence_mc(&p, &q, 20_000, &mut rng)?;
/// let exact = kl_divergence(&p, &q)?.to_scalar::<f64>()?;
/// let (est, se) = (est.to_scalar::<f64>()?, se.to_scalar::<f64>()?);
/// assert!((est - exact).abs() < 4.0 * se);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn kl_divergence_mc(
    p: &dyn Distribution,
    q: &dyn Distribution,
    n: usize,
    rng: &mut Generator,
) -> Result<(Tensor, Tensor)> {
    if n < 2 {
        return Err(Error::InvalidArgument(format!(
            "kl_divergence_mc: n = {n} draws give no standard error (need n >= 2)"
        )));
    }
    let batch = broadcast_shapes(p.batch_shape(), q.batch_shape()).ok_or_else(|| {
        Error::shape(
            "kl_divergence_mc",
            format!(
                "batch shapes {:?} ({}) and {:?} ({}) do not broadcast",
                p.batch_shape(),
                p.name(),
                q.batch_shape(),
                q.name()
            ),
        )
    })?;
    if p.event_shape() != q.event_shape() {
        return Err(Error::shape(
            "kl_divergence_mc",
            format!(
                "event shapes {:?} ({}) and {:?} ({}) differ",
                p.event_shape(),
                p.name(),
                q.event_shape(),
                q.name()
            ),
        ));
    }
    let (x, lp) = if p.has_rsample() {
        p.rsample_and_log_prob(&[n], rng)?
    } else {
        p.sample_and_log_prob(&[n], rng)?
    };
    let lq = q.log_prob(&x)?;
    let out = if p.dtype() == DType::F64 || q.dtype() == DType::F64 {
        DType::F64
    } else {
        p.dtype()
    };
    // The differences are summed in f64: an f32 sum of 1e6 terms loses digits.
    let d = lp
        .to_dtype(DType::F64)?
        .broadcast_sub(&lq.to_dtype(DType::F64)?)?;
    let mut full = vec![n];
    full.extend_from_slice(&batch);
    let d = d.broadcast_as(full.as_slice())?;
    let mean = d.mean(0)?;
    let dev = d.broadcast_sub(&mean)?.detach();
    let var = (dev.sqr()?.sum(0)? / (n - 1) as f64)?;
    let se = (var / n as f64)?.sqrt()?;
    Ok((mean.to_dtype(out)?, se.to_dtype(out)?))
}
