//! The stick-breaking bijection from `R^{K-1}` onto the simplex of `K` entries.

use super::{check_event_rank, Transform};
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::special;
use candle_core::{DType, Tensor, D};
use std::any::Any;

/// The stick-breaking bijection from `R^{K-1}` onto the interior of the `K`-simplex
/// (torch's `StickBreakingTransform`).
///
/// With `n = K − 1` inputs, shifted so that `x = 0` maps to the uniform point,
/// `x'_k = x_k − log(n − k)` and `z_k = σ(x'_k)` (`k = 0, …, n−1`):
///
/// `y_k = z_k · Π_{j<k} (1 − z_j)` for `k < n`, `y_n = Π_{j<n} (1 − z_j)`.
///
/// Everything is computed in log space, `log y_k = log σ(x'_k) + Σ_{j<k} log σ(−x'_j)`,
/// so inputs of magnitude 1e3 (or any finite magnitude) give a point of the simplex with
/// no NaN, and the log-det
///
/// `log|det ∂y_{0..n}/∂x| = Σ_k [log σ(−x'_k) + log y_k]`
///
/// uses the same log-space pieces (finite even where `y_k` underflows to 0). The Jacobian
/// is that of the map onto the first `n` coordinates (the last one is determined by
/// them). The inverse is `x_k = log y_k − log(Σ_{j>k} y_j) + log(n − k)`, with the tail
/// sums taken directly (not as `1 − cumsum`, which cancels) and clamped to the smallest
/// positive normal of the dtype.
///
/// - domain: real vectors (event dimension 1); codomain: the simplex.
/// - `forward_shape` adds one entry to the last dimension, `inverse_shape` removes one
///   ([`Error::Shape`] for a shape with no dimension, or an empty last dimension).
/// - Inputs outside the domain (NaN) give NaN; `inverse` of a vector off the simplex gives
///   what the formula gives.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{StickBreakingTransform, Transform};
/// let t = StickBreakingTransform;
/// let x = Tensor::new(&[0.0f64, 0.0], &Device::Cpu)?;
/// let y = t.forward(&x)?.to_vec1::<f64>()?; // x = 0 is the centre of the simplex
/// assert!(y.iter().all(|v| (v - 1.0 / 3.0).abs() < 1e-15));
/// let big = Tensor::new(&[1000.0f32, -1000.0], &Device::Cpu)?;
/// let y = t.forward(&big)?.to_vec1::<f32>()?;
/// assert!(y.iter().all(|v| v.is_finite()) && (y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StickBreakingTransform;

/// `log(n − k)` for `k = 0, …, n−1`: the shifts that centre the map.
fn log_offsets(x: &Tensor, n: usize) -> Result<Tensor> {
    let v: Vec<f64> = (0..n).map(|k| ((n - k) as f64).ln()).collect();
    Ok(Tensor::new(v, x.device())?.to_dtype(x.dtype())?)
}

/// A floor for log-space terms: `n + 1` of them summed stay finite in the dtype (the
/// matmul in `cumsum` would turn an infinite term into NaN through `0 · ∞`). Exponentials
/// of values this low are 0 anyway.
pub(crate) fn log_floor(dtype: DType, n: usize) -> f64 {
    let max = if dtype == DType::F32 {
        f32::MAX as f64
    } else {
        f64::MAX
    };
    -max / (2.0 * (n as f64 + 1.0))
}

/// `log σ(x) = −softplus(−x)`, exact for large |x|.
pub(crate) fn log_sigmoid(x: &Tensor) -> Result<Tensor> {
    special::softplus(&x.neg()?)?.neg().map_err(Into::into)
}

/// `t` with a zero prepended along the last dimension, and its last entry dropped:
/// turns an inclusive cumulative sum into an exclusive one without subtracting.
pub(crate) fn shift_right(t: &Tensor) -> Result<Tensor> {
    let n = t.dim(D::Minus1)?;
    let mut zshape = t.dims().to_vec();
    let last = zshape.len() - 1;
    zshape[last] = 1;
    let zero = Tensor::zeros(zshape, t.dtype(), t.device())?;
    if n <= 1 {
        return Ok(zero);
    }
    Ok(Tensor::cat(
        &[&zero, &super::narrow(t, last, 0, n - 1)?],
        last,
    )?)
}

impl StickBreakingTransform {
    /// `(log y, log-det)` from the log-space pieces.
    fn log_forward(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        check_event_rank(self.name(), x, 1)?;
        let last = x.rank() - 1;
        let n = x.dim(last)?;
        if n == 0 {
            // R^0 onto the one-point simplex {1}.
            let mut s = x.dims().to_vec();
            s[last] = 1;
            let ladj = Tensor::zeros(&x.dims()[..last], x.dtype(), x.device())?;
            return Ok((Tensor::zeros(s, x.dtype(), x.device())?, ladj));
        }
        let xs = x.broadcast_sub(&log_offsets(x, n)?)?;
        let floor = log_floor(x.dtype(), n);
        let log_z = log_sigmoid(&xs)?;
        let log_1mz = log_sigmoid(&xs.neg()?)?;
        let log_1mz_c = log_1mz.maximum(floor)?;
        let cum = crate::special::rows::cumsum(&log_1mz_c)?;
        let head = (log_z.maximum(floor)? + shift_right(&cum)?)?;
        let tail = super::narrow(&cum, last, n - 1, 1)?;
        let log_y = Tensor::cat(&[&head, &tail], last)?;
        let ladj = (log_1mz + head)?.sum(last)?;
        Ok((log_y, ladj))
    }
}

impl Transform for StickBreakingTransform {
    fn name(&self) -> &'static str {
        "StickBreakingTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.log_forward(x)?.0.exp()?)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        check_event_rank(self.name(), y, 1)?;
        let last = y.rank() - 1;
        let k = y.dim(last)?;
        if k == 0 {
            return Err(Error::shape(
                self.name(),
                format!(
                    "inverse needs a non-empty last dimension, got shape {:?}",
                    y.dims()
                ),
            ));
        }
        let n = k - 1;
        if n == 0 {
            return super::narrow(y, last, 0, 0);
        }
        let head = super::narrow(y, last, 0, n)?;
        let rest = super::narrow(y, last, 1, n)?;
        // Σ_{j>k} y_j: the tail sums of y without its first entry, summed directly (O(K)
        // per row, f64 accumulator) rather than as `1 − cumsum`, which cancels.
        let tails = special::rows::reverse_cumsum(&rest)?;
        let tiny = if y.dtype() == DType::F32 {
            f32::MIN_POSITIVE as f64
        } else {
            f64::MIN_POSITIVE
        };
        let tails = tails.maximum(tiny)?;
        let x = (head.log()? - tails.log()?)?.broadcast_add(&log_offsets(y, n)?)?;
        Ok(x)
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        Ok(self.log_forward(x)?.1)
    }

    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let (log_y, ladj) = self.log_forward(x)?;
        Ok((log_y.exp()?, ladj))
    }

    fn domain(&self) -> Constraint {
        Constraint::RealVector
    }

    fn codomain(&self) -> Constraint {
        Constraint::Simplex
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        let Some((&n, batch)) = shape.split_last() else {
            return Err(Error::shape(
                self.name(),
                "forward_shape needs at least 1 dimension, got shape []",
            ));
        };
        let mut s = batch.to_vec();
        s.push(n + 1);
        Ok(s)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        match shape.split_last() {
            Some((&k, batch)) if k > 0 => {
                let mut s = batch.to_vec();
                s.push(k - 1);
                Ok(s)
            }
            _ => Err(Error::shape(
                self.name(),
                format!("inverse_shape needs a non-empty last dimension, got shape {shape:?}"),
            )),
        }
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<StickBreakingTransform>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
