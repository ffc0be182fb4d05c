//! The logistic-normal distribution on the simplex.

use crate::constraints::Constraint;
use crate::continuous::normal::{expand_normal, normal_pushforward, Normal};
use crate::distribution::{checked_argument, result_dtype, Distribution};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::transforms::{StickBreakingTransform, Transform, TransformedDistribution};
use candle_core::{DType, Device, Tensor};

const NAME: &str = "LogisticNormal";

/// The logistic-normal distribution (torch's `LogisticNormal(loc, scale)`): the law of
/// `Y = StickBreaking(X)` for `X ~ Normal(loc, scale)` with independent coordinates,
/// a point of the simplex of K + 1 entries when `loc` and `scale` have last dimension K.
///
/// - Parameters: `loc` real, `scale > 0`, broadcast against each other; their last
///   dimension (K) becomes the event, so `event_shape = [K + 1]` and `batch_shape` is
///   the rest. Scalar parameters are taken as K = 1 (torch expands them to `[1]`), a
///   law on the 2-simplex.
/// - Support: the simplex (non-negative entries summing to 1 over the last dimension).
/// - Density (change of variables through [`StickBreakingTransform`], whose inverse is
///   `x_k = ln y_k − ln(Σ_{j>k} y_j) + ln(K − k)`):
///   `log p(y) = Σ_k log N(x_k; loc_k, scale_k) − log|det ∂y_{0..K−1}/∂x|`.
/// - `rsample` pushes reparameterized normal draws through the transform (pathwise
///   gradients to `loc` and `scale`); `rsample_and_log_prob` takes the density from the
///   pre-image, never inverting the draw.
/// - Moments, entropy, cdf and icdf have no closed form and return
///   [`Error::NotImplemented`], as in torch.
///
/// Built on [`TransformedDistribution`] (errors name `LogisticNormal`), with the base
/// normal kept in [`LogisticNormal::base`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, LogisticNormal};
/// let dev = Device::Cpu;
/// let d = LogisticNormal::new(&Tensor::new(&[0.0f64, 0.5], &dev)?, 1.0)?;
/// assert_eq!(d.event_shape(), &[3]);
/// let y = d.sample(&[4], &mut Generator::new(0))?;
/// let sums = y.sum(1)?.to_vec1::<f64>()?;
/// assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-12));
/// // The centre of the simplex is the image of x = (0, 0) (the stick-breaking offsets
/// // ln(K − k) centre it), and there |det ∂y/∂x| = (2/3)(1/3)(1/2)(1/3) = 1/27:
/// // log p = log N(0; 0, 1) + log N(0; 0.5, 1) + 3 ln 3.
/// let c = Tensor::new(&[1.0f64 / 3.0, 1.0 / 3.0, 1.0 / 3.0], &dev)?;
/// let lp = d.log_prob(&c)?.to_scalar::<f64>()?;
/// let ln_phi = |z: f64| -0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln();
/// let want = ln_phi(0.0) + ln_phi(-0.5) + 3.0 * 3f64.ln();
/// assert!((lp - want).abs() < 1e-12, "{lp} {want}");
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct LogisticNormal {
    normal: Normal,
    inner: TransformedDistribution,
}

impl LogisticNormal {
    crate::distribution::params_constructors! {
        /// LogisticNormal(loc, scale): tensors or numbers (dtype rules:
        /// [`distribution`](crate::distribution)), broadcast against each other; the
        /// last dimension is the event. `from_scalars` gives a law on the 2-simplex
        /// (K = 1).
        "LogisticNormal", Self::build; loc, scale
    }

    fn build(loc: &Tensor, scale: &Tensor, validate: Option<bool>) -> Result<Self> {
        let normal = Normal::named_from_param_values(NAME, [loc.into(), scale.into()], validate)?;
        let normal = if normal.batch_shape().is_empty() {
            expand_normal(NAME, &normal, &[1])?
        } else {
            normal
        };
        Self::from_normal(normal)
    }

    fn from_normal(normal: Normal) -> Result<Self> {
        let inner = normal_pushforward(NAME, &normal, vec![Box::new(StickBreakingTransform)])?;
        Ok(LogisticNormal { normal, inner })
    }

    /// `loc` of the base normal, of shape `batch_shape ++ [K]`.
    pub fn loc(&self) -> &Tensor {
        self.normal.loc()
    }

    /// `scale` of the base normal, of shape `batch_shape ++ [K]`.
    pub fn scale(&self) -> &Tensor {
        self.normal.scale()
    }

    /// The base normal, with batch shape `batch_shape ++ [K]`.
    pub fn base(&self) -> &Normal {
        &self.normal
    }

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.normal.set_validate_args(on);
        self.inner.set_validate_args(on);
    }
}

impl LogisticNormal {
    /// This distribution with its parameters in f64 (converted on the graph, so
    /// gradients reach the f32 parameters), checks off: f32 log-densities are
    /// evaluated through it. In f32 the pre-image x = ln y_k − ln T_{k+1} + ln(K − k)
    /// carries an absolute rounding of a few ε·|ln y|, which z = (x − loc)/scale
    /// amplifies by 1/scale and the gradients by 1/scale² (a relative error of 3e-3 in
    /// ∂/∂loc at scale = 0.01); in f64 the result is the f32 rounding of the exact
    /// value.
    fn wide(&self) -> Result<TransformedDistribution> {
        let loc = self.normal.loc().to_dtype(DType::F64)?;
        let scale = self.normal.scale().to_dtype(DType::F64)?;
        let normal =
            Normal::named_from_param_values(NAME, [(&loc).into(), (&scale).into()], Some(false))?;
        let mut d = TransformedDistribution::named(
            NAME,
            Box::new(normal),
            vec![Box::new(StickBreakingTransform)],
        )?;
        d.set_validate_args(false);
        Ok(d)
    }
}

/// `normal` expanded to `batch_shape`, as a `Normal`.
impl Distribution for LogisticNormal {
    fn name(&self) -> &'static str {
        NAME
    }
    fn batch_shape(&self) -> &[usize] {
        self.inner.batch_shape()
    }
    fn event_shape(&self) -> &[usize] {
        self.inner.event_shape()
    }
    fn support(&self) -> Constraint {
        Constraint::Simplex
    }
    fn device(&self) -> &Device {
        self.normal.device()
    }
    fn dtype(&self) -> DType {
        self.normal.dtype()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    fn validate_args(&self) -> bool {
        self.inner.validate_args()
    }
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        self.inner.rsample(sample_shape, rng)
    }
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        self.inner.sample(sample_shape, rng)
    }
    /// Evaluated in f64 and rounded once for f32 distributions (see
    /// `LogisticNormal::wide`); the argument is checked in its own result dtype.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        if self.dtype() != DType::F32 {
            return self.inner.log_prob(value);
        }
        let dt = result_dtype(self.dtype(), self.batch_shape(), value);
        let v = checked_argument(
            NAME,
            "value",
            value,
            self.batch_shape(),
            self.event_shape(),
            dt,
            self.device(),
            self.validate_args().then_some(&Constraint::Simplex),
        )?;
        let lp = self.wide()?.log_prob(&v.to_dtype(DType::F64)?)?;
        Ok(lp.to_dtype(dt)?)
    }
    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        self.inner.rsample_and_log_prob(sample_shape, rng)
    }
    /// The draw is fixed (no gradient) and the log-density keeps its gradient in the
    /// parameters at that draw's pre-image x, clamped first into ±max/((K + 1)(K + 2))
    /// (max: the dtype's largest finite number). Beyond that bound the image on the
    /// simplex is a vertex to the last bit, so the draw is unchanged; the bound keeps
    /// the log-det, a sum of about (K + 1)(K + 2)/2 terms of size |x|, finite. Without
    /// it a normal draw that overflowed (loc = f32::MAX, scale = f32::MAX) gave
    /// log N(±∞) − log|det J(±∞)| = −∞ − (−∞).
    fn sample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let x = self
            .normal
            .sample(sample_shape, rng)
            .map_err(|e| e.renamed(NAME))?;
        let k = self.normal.batch_shape().last().copied().unwrap_or(1) as f64;
        let bound = crate::samplers::finite_max(self.dtype()) / ((k + 1.0) * (k + 2.0));
        let x = x.clamp(-bound, bound)?;
        let (y, ladj) = StickBreakingTransform
            .forward_and_log_det(&x)
            .map_err(|e| e.renamed(NAME))?;
        let base = self.normal.log_prob(&x).map_err(|e| e.renamed(NAME))?;
        let lp = (base.sum(candle_core::D::Minus1)? - ladj)?;
        Ok((y.detach(), lp))
    }
    fn stddev(&self) -> Result<Tensor> {
        Err(Error::not_implemented(NAME, "stddev"))
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let k = self.normal.batch_shape().last().copied().unwrap_or(1);
        let mut shape = batch_shape.to_vec();
        shape.push(k);
        let normal = expand_normal(NAME, &self.normal, &shape)?;
        let mut d = Self::from_normal(normal)?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
