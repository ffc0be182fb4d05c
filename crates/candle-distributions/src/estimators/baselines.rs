//! Baselines for the score-function estimator: control variates that do not depend on
//! the draw they are subtracted from, so the estimator stays unbiased.

use super::{float_dtype, score_function_surrogate};
use crate::error::{Error, Result};
use candle_core::{DType, Tensor};

/// A baseline `b` for [`score_function_surrogate`]: a detached tensor broadcastable to
/// the objective values `f`. Subtracting it keeps the estimator unbiased as long as `b`
/// does not depend on the draw whose `∇ ln p` it multiplies (`E[b ∇θ ln p_θ(x)] =
/// b ∇θ Σₓ p_θ(x) = 0`), and lowers the variance when `b ≈ E[f]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::estimators::{Baseline, LeaveOneOut};
/// let f = Tensor::new(&[1.0f64, 2.0, 6.0], &Device::Cpu)?;
/// let b = LeaveOneOut::new(0).baseline(&f)?;
/// assert_eq!(b.to_vec1::<f64>()?, [4.0, 3.5, 1.5]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub trait Baseline {
    /// The baseline for objective values `f` (detached, in `f`'s dtype). Stateful
    /// baselines update themselves from `f` after computing the value they return.
    fn baseline(&mut self, f: &Tensor) -> Result<Tensor>;

    /// [`score_function_surrogate`]`(log_prob, f, Some(b))` with `b = self.baseline(f)`.
    fn surrogate(&mut self, log_prob: &Tensor, f: &Tensor) -> Result<Tensor> {
        let b = self.baseline(f)?;
        score_function_surrogate(log_prob, f, Some(&b))
    }
}

/// An exponential moving average of the objective across calls:
/// `b_t = m_{t−1}`, `m_t = decay · m_{t−1} + (1 − decay) · mean(f_t)`.
///
/// The baseline returned by a call is the average of **earlier** calls only, so it never
/// depends on the current draws (the estimator stays unbiased); the first call returns
/// 0 (no information yet) and initialises the average to `mean(f_1)`. The mean is over
/// all elements ([`MovingAverage::new`]) or over one sample dimension, keeping one
/// average per batch element ([`MovingAverage::over_dim`]). The average is kept in f64.
///
/// `decay ∈ [0, 1]`: 0 uses the previous call alone, values near 1 average over about
/// `1/(1 − decay)` calls.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::estimators::{Baseline, MovingAverage};
/// let mut ma = MovingAverage::new(0.5)?;
/// let f = |v: f64| Tensor::new(&[v, v], &Device::Cpu);
/// assert_eq!(ma.baseline(&f(4.0)?)?.to_scalar::<f64>()?, 0.0); // first call: 0, average := 4
/// assert_eq!(ma.baseline(&f(8.0)?)?.to_scalar::<f64>()?, 4.0); // average := 0.5·4 + 0.5·8
/// assert_eq!(ma.baseline(&f(0.0)?)?.to_scalar::<f64>()?, 6.0);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MovingAverage {
    decay: f64,
    dim: Option<usize>,
    average: Option<Tensor>,
}

const MA: &str = "MovingAverage";

impl MovingAverage {
    /// A moving average of `mean(f)` over all elements (a scalar baseline).
    /// Errors unless `0 ≤ decay ≤ 1`.
    pub fn new(decay: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&decay) {
            return Err(Error::InvalidParameter {
                distribution: MA,
                parameter: "decay",
                constraint: "in [0, 1]".into(),
                found: decay,
                index: 0,
            });
        }
        Ok(MovingAverage {
            decay,
            dim: None,
            average: None,
        })
    }

    /// A moving average of the mean of `f` over dimension `dim` (the sample dimension),
    /// one per remaining element: for `f` of shape `[n, B]` and `dim = 0`, a baseline
    /// of shape `[1, B]`. Every call must then pass `f` with the same shape outside `dim`.
    pub fn over_dim(decay: f64, dim: usize) -> Result<Self> {
        Ok(MovingAverage {
            dim: Some(dim),
            ..Self::new(decay)?
        })
    }

    /// The decay factor.
    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// The current average (f64), `None` before the first call.
    pub fn average(&self) -> Option<&Tensor> {
        self.average.as_ref()
    }

    /// Forgets the average (the next call returns 0 again).
    pub fn reset(&mut self) {
        self.average = None;
    }
}

impl Baseline for MovingAverage {
    fn baseline(&mut self, f: &Tensor) -> Result<Tensor> {
        let dtype = float_dtype(MA, &[f])?;
        let wide = f.detach().to_dtype(DType::F64)?;
        let mean = match self.dim {
            None => {
                if wide.elem_count() == 0 {
                    return Err(Error::shape(MA, "f has no elements to average"));
                }
                wide.mean_all()?
            }
            Some(d) => {
                if d >= wide.rank() || wide.dims()[d] == 0 {
                    return Err(Error::shape(
                        MA,
                        format!(
                            "cannot average f of shape {:?} over dimension {d}",
                            wide.dims()
                        ),
                    ));
                }
                wide.mean_keepdim(d)?
            }
        };
        let out = match &self.average {
            None => mean.zeros_like()?,
            Some(m) if m.dims() != mean.dims() => {
                return Err(Error::shape(
                    MA,
                    format!(
                        "f of shape {:?} gives an average of shape {:?}, earlier calls {:?}",
                        f.dims(),
                        mean.dims(),
                        m.dims()
                    ),
                ))
            }
            Some(m) => m.clone(),
        };
        self.average = Some(match &self.average {
            None => mean,
            Some(m) => ((m * self.decay)? + (mean * (1.0 - self.decay))?)?,
        });
        Ok(out.to_dtype(dtype)?)
    }
}

/// The leave-one-out baseline over the `n ≥ 2` draws along dimension `dim`:
/// `b_i = (Σ_j f_j − f_i) / (n − 1)`, the mean of the **other** draws, so `b_i` is
/// independent of draw `i` and the estimator stays unbiased (REINFORCE with
/// leave-one-out baseline, "RLOO": Kool, van Hoof & Welling, *Buy 4 REINFORCE samples,
/// get a baseline for free!*, 2019). Computed in f64, returned detached in `f`'s dtype,
/// with `f`'s shape.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::estimators::{Baseline, LeaveOneOut};
/// let f = Tensor::new(&[[1.0f32, 10.0], [3.0, 20.0]], &Device::Cpu)?; // 2 draws × 2
/// let b = LeaveOneOut::new(0).baseline(&f)?;
/// assert_eq!(b.to_vec2::<f32>()?, [[3.0, 20.0], [1.0, 10.0]]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaveOneOut {
    dim: usize,
}

impl LeaveOneOut {
    /// The leave-one-out baseline over the draws along `dim`.
    pub fn new(dim: usize) -> Self {
        LeaveOneOut { dim }
    }

    /// The sample dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl Baseline for LeaveOneOut {
    fn baseline(&mut self, f: &Tensor) -> Result<Tensor> {
        const NAME: &str = "LeaveOneOut";
        let dtype = float_dtype(NAME, &[f])?;
        let d = self.dim;
        let n = match f.dims().get(d) {
            Some(&n) if n >= 2 => n as f64,
            Some(_) => {
                return Err(Error::shape(
                    NAME,
                    format!(
                        "needs at least 2 draws along dimension {d}, f has shape {:?}",
                        f.dims()
                    ),
                ))
            }
            None => {
                return Err(Error::shape(
                    NAME,
                    format!(
                        "dimension {d} is out of range for f of shape {:?}",
                        f.dims()
                    ),
                ))
            }
        };
        let wide = f.detach().to_dtype(DType::F64)?;
        let total = wide.sum_keepdim(d)?;
        let b = (total.broadcast_sub(&wide)? / (n - 1.0))?;
        Ok(b.to_dtype(dtype)?)
    }
}
