//! The Dirichlet distribution.

use crate::constraints::Constraint;
use crate::distribution::{
    broadcast_to, checked_argument, default_validate_args, extended_shape, sample_extent,
    Distribution, Params,
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
    /// Dirichlet(concentration), the last dimension holding the K categories. Parameters
    /// are tensors or numbers (dtype rules: [`distribution`](crate::distribution)).
    pub fn new(concentration: impl Into<crate::distribution::Param>) -> Result<Self> {
        let [concentration] =
            crate::distribution::promote_params(NAME, [("concentration", concentration.into())])?;
        Self::build(&concentration, None)
    }

    /// As [`Dirichlet::new`], with argument validation set for this instance.
    pub fn new_with_validation(
        concentration: impl Into<crate::distribution::Param>,
        validate: bool,
    ) -> Result<Self> {
        let [concentration] =
            crate::distribution::promote_params(NAME, [("concentration", concentration.into())])?;
        Self::build(&concentration, Some(validate))
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

    /// ln B(α) = Σ_k ln Γ(α_k) − ln Γ(α₀) in f64, of the batch shape (computed once per
    /// batch element, not per sample). For K = 1 it is 0 exactly (the simplex is the
    /// point {1}); the general form is ∞ − ∞ there once ln Γ(α) overflows (α ≳ 2.5e305)
    /// and its derivative ψ(α) − ψ(α) is NaN for α = 5e-324.
    fn log_norm(&self) -> Result<Tensor> {
        let a = self.concentration.to_dtype(DType::F64)?;
        if self.event_shape[0] <= 1 {
            return Ok(a.sum(D::Minus1)?.zeros_like()?);
        }
        Ok((lgamma(&a)?.sum(D::Minus1)? - lgamma(&a.sum(D::Minus1)?)?)?)
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
        let shape = sample_extent(
            NAME,
            sample_shape,
            &self.batch_shape,
            &self.event_shape,
            self.dtype(),
        )?;
        let alpha = broadcast_to(&self.concentration, &shape)?;
        dirichlet_rsample(&alpha, rng.next_draw())
    }

    // Σ_k (α_k − 1) ln x_k + ln Γ(α₀) − Σ_k ln Γ(α_k)
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        // The value's last dimension must be K exactly (no broadcast of the event).
        let v = checked_argument(
            NAME,
            "value",
            value,
            &self.batch_shape,
            &self.event_shape,
            self.dtype(),
            self.device(),
            self.validate.then_some(&Constraint::Simplex),
        )?;
        // Evaluated in f64 and rounded once (see `Params`).
        let v = v.to_dtype(DType::F64)?;
        let a = broadcast_to(&self.concentration.to_dtype(DType::F64)?, v.dims())?;
        let t = xlogy(&(&a - 1.0)?, &v)?.sum(D::Minus1)?;
        Ok(t.broadcast_sub(&self.log_norm()?)?.to_dtype(self.dtype())?)
    }

    // ln B(α) + Σ_k (α_k − 1)(ψ(α₀) − ψ(α_k)), the textbook
    // ln B(α) + (α₀ − K)ψ(α₀) − Σ_k (α_k − 1)ψ(α_k) regrouped (α₀ − K = Σ_k (α_k − 1)):
    // the textbook form is ∞ − ∞ for K = 1 with α ≤ 1e-308 (ψ = −∞) and for α_k near
    // f64::MAX. K = 1 gives 0 exactly (a point mass). Where α₀ itself overflows the
    // result is not finite (ln B(α) needs ln Γ(α₀)).
    fn entropy(&self) -> Result<Tensor> {
        let a = &self.concentration.to_dtype(DType::F64)?;
        let lnb = self.log_norm()?;
        if self.event_shape[0] <= 1 {
            return Ok(lnb.to_dtype(self.dtype())?);
        }
        let psi0 = digamma(&a.sum_keepdim(D::Minus1)?)?;
        let s = ((a - 1.0)? * psi0.broadcast_sub(&digamma(a)?)?)?.sum(D::Minus1)?;
        Ok((lnb + s)?.to_dtype(self.dtype())?)
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
        // "No α_k ≥ 1" as a count (a sum), not a min: a min of an empty batch is an
        // error in candle, a sum is not.
        let all_small = a
            .ge(1.0)?
            .to_dtype(a.dtype())?
            .sum_keepdim(D::Minus1)?
            .eq(0.0)?
            .broadcast_as(a.dims())?;
        let k = self.event_shape[0];
        let mut e0 = vec![0f64; k];
        e0[0] = 1.0;
        let e0 = Tensor::from_vec(e0, k, &Device::Cpu)?
            .to_dtype(self.dtype())?
            .to_device(self.device())?
            .broadcast_as(a.dims())?;
        Ok(all_small.where_cond(&e0, &m)?)
    }

    // m_k(1 − m_k)/(α₀ + 1) with m_k = α_k/α₀, in f64 and with α scaled by its
    // largest component first: α_k(α₀ − α_k)/(α₀²(α₀ + 1)) is 0/0 where α₀² underflows
    // (f32 α = 1e-38, or K = 1 with any tiny α) and ∞/∞ where it overflows.
    fn variance(&self) -> Result<Tensor> {
        if self.concentration.elem_count() == 0 {
            return Ok(self.concentration.zeros_like()?);
        }
        let a = &self.concentration.to_dtype(DType::F64)?;
        let mx = a.max_keepdim(D::Minus1)?;
        let s = a.broadcast_div(&mx)?;
        let ss = s.sum_keepdim(D::Minus1)?;
        let m = s.broadcast_div(&ss)?;
        let om = ss.broadcast_sub(&s)?.broadcast_div(&ss)?;
        let den = ((&mx * &ss)? + 1.0)?;
        Ok((m * om)?.broadcast_div(&den)?.to_dtype(self.dtype())?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let shape = extended_shape(&[], batch_shape, &self.event_shape);
        crate::distribution::expand_extent(NAME, &shape)?;
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
