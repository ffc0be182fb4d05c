//! The chi-squared distribution.

use super::gamma::Gamma;
use crate::constraints::Constraint;
use crate::distribution::{Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor};

/// The chi-squared distribution with `df` > 0 degrees of freedom: Gamma(df/2, 1/2).
///
/// Density `p(x) = x^{df/2 − 1} e^{−x/2} / (2^{df/2} Γ(df/2))` on x > 0; mean df,
/// variance 2·df. Every method is the Gamma's, so `rsample` carries the exact implicit
/// gradient in `df` and `cdf` = P(df/2, x/2) is differentiable in `df` too.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Chi2, Distribution};
/// let d = Chi2::new(&Tensor::new(2.0f64, &Device::Cpu)?)?;
/// // Chi2(2) is Exponential(1/2): cdf(x) = 1 − e^{−x/2}
/// let c = d.cdf(&Tensor::new(3.0f64, &Device::Cpu)?)?.to_scalar::<f64>()?;
/// assert!((c - (1.0 - (-1.5f64).exp())).abs() < 1e-14);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Chi2 {
    df: Tensor,
    gamma: Gamma,
}

const NAME: &str = "Chi2";

impl Chi2 {
    crate::distribution::params_constructors! {
        /// Chi2(df). Parameters are tensors or numbers (dtype rules:
        /// [`distribution`](crate::distribution)).
        "Chi2", Self::build; df
    }

    fn build(df: &Tensor, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(NAME, &[("df", df, Constraint::Positive)], validate)?;
        let df = p.get(0).clone();
        let half = (df.ones_like()? * 0.5)?;
        // df/2 rounds to 0 for the smallest subnormal df (and α = 0 is outside the Gamma's
        // domain: NaN everywhere); it is rounded up to that same smallest subnormal, the
        // nearest valid α.
        let tiny = match df.dtype() {
            DType::F32 => f32::from_bits(1) as f64,
            _ => f64::from_bits(1),
        };
        // Added as a constant where df/2 = 0, so the gradient stays d(df/2)/d df = ½.
        let alpha = (&df * 0.5)?;
        let alpha = (&alpha + (alpha.eq(0.0)?.to_dtype(df.dtype())? * tiny)?)?;
        let mut gamma = Gamma::build(NAME, &alpha, &half, Some(false))?;
        gamma.set_validate_args(p.validate());
        Ok(Chi2 { df, gamma })
    }

    /// Degrees of freedom, broadcast to `batch_shape`.
    pub fn df(&self) -> &Tensor {
        &self.df
    }

    /// The equivalent Gamma(df/2, 1/2).
    pub fn as_gamma(&self) -> &Gamma {
        &self.gamma
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.gamma.set_validate_args(on);
    }
}

impl Distribution for Chi2 {
    fn name(&self) -> &'static str {
        NAME
    }
    fn batch_shape(&self) -> &[usize] {
        self.gamma.batch_shape()
    }
    fn event_shape(&self) -> &[usize] {
        &[]
    }
    fn support(&self) -> Constraint {
        Constraint::NonNegative
    }
    fn device(&self) -> &Device {
        self.gamma.device()
    }
    fn dtype(&self) -> DType {
        self.gamma.dtype()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    fn validate_args(&self) -> bool {
        self.gamma.validate_args()
    }
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        self.gamma.rsample(sample_shape, rng)
    }
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        self.gamma.log_prob(value)
    }
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        self.gamma.cdf(value)
    }
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        self.gamma.icdf(q)
    }
    fn entropy(&self) -> Result<Tensor> {
        self.gamma.entropy()
    }
    fn mean(&self) -> Result<Tensor> {
        self.gamma.mean()
    }
    fn mode(&self) -> Result<Tensor> {
        self.gamma.mode()
    }
    fn variance(&self) -> Result<Tensor> {
        self.gamma.variance()
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        crate::distribution::expand_extent(NAME, batch_shape)?;
        let df = self.df.broadcast_as(batch_shape).map_err(|_| {
            crate::Error::shape(
                NAME,
                format!(
                    "cannot expand batch_shape {:?} to {:?}",
                    self.batch_shape(),
                    batch_shape
                ),
            )
        })?;
        let mut d = Chi2::build(&df, Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
