//! `Independent`: batch dimensions reinterpreted as event dimensions.

use crate::constraints::Constraint;
use crate::distribution::{checked_numel, Distribution};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::transforms::sum_rightmost_for;
use candle_core::{DType, Device, Tensor};

/// The distribution `base` with its rightmost `reinterpreted_batch_ndims` batch
/// dimensions counted as event dimensions (torch's `Independent`).
///
/// If `base` has batch shape `B ++ R` (with `|R| = reinterpreted_batch_ndims`) and event
/// shape `E`, this has batch shape `B` and event shape `R ++ E`, and its density is the
/// product over `R`:
///
/// `log p(x) = Σ_{r ∈ R} log p_base(x_r)`, `H = Σ_{r ∈ R} H_base`.
///
/// Draws, means and variances are the base's; `log_prob` and `entropy` sum over the
/// reinterpreted dimensions. This is how a diagonal Gaussian over vectors is written (a
/// VAE's encoder output): `Independent(Normal(loc [N, D], scale [N, D]), 1)` has batch
/// shape `[N]`, event shape `[D]`, and one log-density per row.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::prelude::*;
/// use candle_distributions::transforms::Independent;
/// let dev = Device::Cpu;
/// let normal = Normal::new(&Tensor::zeros((4, 3), candle_core::DType::F64, &dev)?, 1.0)?;
/// let d = Independent::new(Box::new(normal), 1)?;
/// assert_eq!((d.batch_shape(), d.event_shape()), (&[4usize][..], &[3usize][..]));
/// let x = Tensor::zeros((4, 3), candle_core::DType::F64, &dev)?;
/// let lp = d.log_prob(&x)?.to_vec1::<f64>()?; // 3 · log N(0; 0, 1) per row
/// assert!((lp[0] + 1.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct Independent {
    base: Box<dyn Distribution>,
    reinterpreted: usize,
    batch_shape: Vec<usize>,
    event_shape: Vec<usize>,
}

impl Independent {
    /// Reinterprets the rightmost `reinterpreted_batch_ndims` batch dimensions of `base`
    /// as event dimensions; [`Error::Shape`] when `base` has fewer batch dimensions.
    pub fn new(base: Box<dyn Distribution>, reinterpreted_batch_ndims: usize) -> Result<Self> {
        let b = base.batch_shape();
        if reinterpreted_batch_ndims > b.len() {
            return Err(Error::shape(
                "Independent",
                format!(
                    "reinterpreted_batch_ndims = {reinterpreted_batch_ndims} exceeds the base's batch rank ({} for batch_shape {b:?})",
                    b.len()
                ),
            ));
        }
        let cut = b.len() - reinterpreted_batch_ndims;
        let batch_shape = b[..cut].to_vec();
        let mut event_shape = b[cut..].to_vec();
        event_shape.extend_from_slice(base.event_shape());
        Ok(Independent {
            base,
            reinterpreted: reinterpreted_batch_ndims,
            batch_shape,
            event_shape,
        })
    }

    /// The base distribution.
    pub fn base(&self) -> &dyn Distribution {
        self.base.as_ref()
    }

    /// How many batch dimensions of the base are event dimensions here.
    pub fn reinterpreted_batch_ndims(&self) -> usize {
        self.reinterpreted
    }

    fn summed(&self, t: Result<Tensor>) -> Result<Tensor> {
        sum_rightmost_for(
            "Independent",
            &t.map_err(|e| e.renamed("Independent"))?,
            self.reinterpreted,
        )
    }
}

impl Distribution for Independent {
    fn name(&self) -> &'static str {
        "Independent"
    }
    fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }
    fn event_shape(&self) -> &[usize] {
        &self.event_shape
    }
    fn support(&self) -> Constraint {
        let base = self.base.support();
        if self.reinterpreted == 0 {
            return base;
        }
        Constraint::Independent {
            base: Box::new(base),
            reinterpreted_batch_ndims: self.reinterpreted,
        }
    }
    fn device(&self) -> &Device {
        self.base.device()
    }
    fn dtype(&self) -> DType {
        self.base.dtype()
    }
    fn has_rsample(&self) -> bool {
        self.base.has_rsample()
    }
    fn validate_args(&self) -> bool {
        self.base.validate_args()
    }
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        self.base
            .rsample(sample_shape, rng)
            .map_err(|e| e.renamed("Independent"))
    }
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        self.base
            .sample(sample_shape, rng)
            .map_err(|e| e.renamed("Independent"))
    }
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        self.summed(self.base.log_prob(value))
    }
    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let (x, lp) = self
            .base
            .rsample_and_log_prob(sample_shape, rng)
            .map_err(|e| e.renamed("Independent"))?;
        Ok((
            x,
            sum_rightmost_for("Independent", &lp, self.reinterpreted)?,
        ))
    }
    fn sample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let (x, lp) = self
            .base
            .sample_and_log_prob(sample_shape, rng)
            .map_err(|e| e.renamed("Independent"))?;
        Ok((
            x,
            sum_rightmost_for("Independent", &lp, self.reinterpreted)?,
        ))
    }
    fn entropy(&self) -> Result<Tensor> {
        self.summed(self.base.entropy())
    }
    fn mean(&self) -> Result<Tensor> {
        self.base.mean().map_err(|e| e.renamed("Independent"))
    }
    fn mode(&self) -> Result<Tensor> {
        self.base.mode().map_err(|e| e.renamed("Independent"))
    }
    fn variance(&self) -> Result<Tensor> {
        self.base.variance().map_err(|e| e.renamed("Independent"))
    }
    fn stddev(&self) -> Result<Tensor> {
        self.base.stddev().map_err(|e| e.renamed("Independent"))
    }
    /// Only without reinterpreted dimensions (torch: the joint support of several
    /// dimensions is not enumerated).
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        if self.reinterpreted > 0 {
            return Err(Error::NotImplemented {
                distribution: "Independent",
                method: "enumerate_support",
                reason: Some(
                    "the support over reinterpreted batch dimensions is a product set".into(),
                ),
            });
        }
        self.base
            .enumerate_support(expand)
            .map_err(|e| e.renamed("Independent"))
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let b = self.base.batch_shape();
        let mut base_shape = batch_shape.to_vec();
        base_shape.extend_from_slice(&b[b.len() - self.reinterpreted..]);
        checked_numel("Independent", &base_shape)?;
        let base = self
            .base
            .expand(&base_shape)
            .map_err(|e| e.renamed("Independent"))?;
        Ok(Box::new(Independent::new(base, self.reinterpreted)?))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
