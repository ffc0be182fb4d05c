//! The Dirichlet distribution.

use crate::constraints::Constraint;
use crate::distribution::{
    broadcast_to, check_value, default_validate_args, extended_shape, prepare_value, Distribution,
    Params,
};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::samplers::dirichlet_rsample;
use crate::special::{digamma, lgamma, xlogy};
use candle_core::{DType, Device, Tensor, D};

/// The Dirichlet distribution on the simplex of K categories, with `concentration`
/// α of shape `batch_shape ++ [K]`, all α_k > 0.
///
/// Density `p(x) = Γ(α₀) Π_k x_k^{α_k − 1} / Π_k Γ(α_k)` with α₀ = Σ α_k, on
/// {x_k ≥ 0, Σ x_k = 1}. Mean α/α₀, variance α(α₀ − α)/(α₀²(α₀ + 1)), mode as torch.
/// `rsample` normalizes K Gammas in log space (small concentrations keep their full
/// range instead of collapsing to 0/0 or 1/K; components are clamped into
/// [tiny, 1 − ε/2]) and differentiates with the pathwise gradient of Jankowiak &
/// Obermeyer (2018): x_k's marginal Beta(α_k, α₀ − α_k) draw with its exact implicit
/// gradient, the other components rescaled to keep the sum.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Dirichlet, Distribution, Generator};
/// let alpha = Var::new(&[1.0f64, 2.0, 3.0], &Device::Cpu)?;
/// let d = Dirichlet::new(alpha.as_tensor())?;
/// assert_eq!(d.event_shape(), &[3]);
/// let x = d.rsample(&[5], &mut Generator::new(0))?; // [5, 3], rows on the simplex
/// let s = x.sum(1)?.to_vec1::<f64>()?;
/// assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-12));
/// let g = x.narrow(1, 0, 1)?.sum_all()?.backward()?;
/// assert!(g.get(&alpha).is_some());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dirichlet {
    concentration: Tensor,
    batch_shape: Vec<usize>,
    event_shape: Vec<usize>,
    validate: bool,
}

const NAME: &str = "Dirichlet";

impl Dirichlet {
    /// Dirichlet(concentration), the last dimension holding the K categories.
    pub fn new(concentration: &Tensor) -> Result<Self> {
        Self::build(concentration, None)
    }

    /// As [`Dirichlet::new`], with argument validation set for this instance.
    pub fn new_with_validation(concentration: &Tensor, validate: bool) -> Result<Self> {
        Self::build(concentration, Some(validate))
    }

    fn build(concentration: &Tensor, validate: Option<bool>) -> Result<Self> {
        if concentration.rank() == 0 || concentration.dims().last() == Some(&0) {
            return Err(Error::shape(
                NAME,
                format!(
                    "concentration must have at least one dimension of size ≥ 1 (the categories), got shape {:?}",
                    concentration.dims()
                ),
            ));
        }
        let p = Params::new(
            NAME,
            &[("concentration", concentration, Constraint::Positive)],
            Some(validate.unwrap_or_else(default_validate_args)),
        )?;
        let dims = p.get(0).dims().to_vec();
        let k = dims.len() - 1;
        Ok(Dirichlet {
            concentration: p.get(0).clone(),
            batch_shape: dims[..k].to_vec(),
            event_shape: vec![dims[k]],
            validate: p.validate(),
        })
    }

    /// α, of shape `batch_shape ++ [K]`.
    pub fn concentration(&self) -> &Tensor {
        &self.concentration
    }

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.validate = on;
    }

    fn total(&self) -> Result<Tensor> {
        Ok(self.concentration.sum_keepdim(D::Minus1)?)
    }
}

impl Distribution for Dirichlet {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }

    fn event_shape(&self) -> &[usize] {
        &self.event_shape
    }

    fn support(&self) -> Constraint {
        Constraint::Simplex
    }

    fn device(&self) -> &Device {
        self.concentration.device()
    }

    fn dtype(&self) -> DType {
        self.concentration.dtype()
    }

    fn has_rsample(&self) -> bool {
        true
    }

    fn validate_args(&self) -> bool {
        self.validate
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = extended_shape(sample_shape, &self.batch_shape, &self.event_shape);
        let alpha = broadcast_to(&self.concentration, &shape)?;
        dirichlet_rsample(&alpha, rng.next_draw())
    }

    // Σ_k (α_k − 1) ln x_k + ln Γ(α₀) − Σ_k ln Γ(α_k)
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let full = extended_shape(&[], &self.batch_shape, &self.event_shape);
        let (v, shape) = prepare_value(NAME, value, &full, self.dtype(), self.device())?;
        if self.validate {
            check_value(NAME, "value", &v, &Constraint::Simplex)?;
        }
        // Evaluated in f64 and rounded once (see `Params`).
        let v = broadcast_to(&v, &shape)?.to_dtype(DType::F64)?;
        let a = broadcast_to(&self.concentration.to_dtype(DType::F64)?, &shape)?;
        let t = xlogy(&(&a - 1.0)?, &v)?.sum(D::Minus1)?;
        let norm = (lgamma(&a)?.sum(D::Minus1)? - lgamma(&a.sum(D::Minus1)?)?)?;
        Ok((t - norm)?.to_dtype(self.dtype())?)
    }

    // ln B(α) + (α₀ − K) ψ(α₀) − Σ_k (α_k − 1) ψ(α_k)
    fn entropy(&self) -> Result<Tensor> {
        let a = &self.concentration.to_dtype(DType::F64)?;
        let k = self.event_shape[0] as f64;
        let a0 = a.sum(D::Minus1)?;
        let lnb = (lgamma(a)?.sum(D::Minus1)? - lgamma(&a0)?)?;
        let t = ((&a0 - k)? * digamma(&a0)?)?;
        let s = ((a - 1.0)? * digamma(a)?)?.sum(D::Minus1)?;
        Ok(((lnb + t)? - s)?.to_dtype(self.dtype())?)
    }

    fn mean(&self) -> Result<Tensor> {
        Ok(self.concentration.broadcast_div(&self.total()?)?)
    }

    /// torch's convention: (α − 1)₊ / Σ(α − 1)₊, NaN where every α_k = 1, and the
    /// first vertex e₀ where every α_k < 1.
    fn mode(&self) -> Result<Tensor> {
        let a = &self.concentration;
        let am = (a - 1.0)?.relu()?;
        let m = am.broadcast_div(&am.sum_keepdim(D::Minus1)?)?;
        let all_small = a
            .lt(1.0)?
            .to_dtype(DType::U32)?
            .min_keepdim(D::Minus1)?
            .broadcast_as(a.dims())?
            .to_dtype(DType::U8)?;
        let k = self.event_shape[0];
        let mut e0 = vec![0f64; k];
        e0[0] = 1.0;
        let e0 = Tensor::from_vec(e0, k, &Device::Cpu)?
            .to_dtype(self.dtype())?
            .to_device(self.device())?
            .broadcast_as(a.dims())?;
        Ok(all_small.where_cond(&e0, &m)?)
    }

    fn variance(&self) -> Result<Tensor> {
        let a = &self.concentration;
        let a0 = self.total()?;
        let num = (a * a0.broadcast_sub(a)?)?;
        let den = (a0.sqr()? * (&a0 + 1.0)?)?;
        Ok(num.broadcast_div(&den)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let shape = extended_shape(&[], batch_shape, &self.event_shape);
        let c = self
            .concentration
            .broadcast_as(shape.as_slice())
            .map_err(|_| {
                Error::shape(
                    NAME,
                    format!(
                        "cannot expand batch_shape {:?} to {:?}",
                        self.batch_shape, batch_shape
                    ),
                )
            })?;
        let mut d = Dirichlet::build(&c, Some(false))?;
        d.set_validate_args(self.validate);
        Ok(Box::new(d))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
