//! The Dirichlet distribution.

use crate::constraints::Constraint;
use crate::distribution::{
    broadcast_to, checked_argument, default_validate_args, extended_shape, sample_extent,
    Distribution, Params,
};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::samplers::dirichlet_rsample;
use crate::special::{trigamma, xlogy};
use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Tensor, D};

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

/// The concentration from which a row's log_prob and entropy take the Stirling forms:
/// below it the direct forms lose at most ~6 digits to cancellation, as torch's do.
const STIRLING_FROM: f64 = 1e6;

/// Whether a row of α takes the Stirling forms (see [`STIRLING_FROM`]).
fn stirling_row(a: &[f64], lnb: f64) -> bool {
    a.iter().all(|v| v.is_finite())
        && (lnb == f64::NEG_INFINITY || a.iter().any(|&v| v >= STIRLING_FROM))
}

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

    /// ln B(α) in f64 (batch shape), on the graph of the concentration: the KL closed
    /// forms use it.
    pub(crate) fn log_normalizer(&self) -> Result<Tensor> {
        self.log_norm()
    }

    /// ψ(α_k) − ψ(α₀) = E[ln x_k] in f64 (shape of the concentration), on its graph,
    /// from the row kernel that forms α₀ − α_k from the other entries: the KL closed
    /// forms use it.
    pub(crate) fn mean_log(&self) -> Result<Tensor> {
        let a = self.concentration.to_dtype(DType::F64)?;
        crate::special::kernel::on_cpu(&[&a], |v| v[0].apply_op1(LnMultiBetaGrad))
    }

    /// ln B(α) = Σ_k ln Γ(α_k) − ln Γ(α₀) in f64, of the batch shape (computed once per
    /// batch element, not per sample). For K = 1 it is 0 exactly (the simplex is the
    /// point {1}); the general form is ∞ − ∞ there once ln Γ(α) overflows (α ≳ 2.5e305)
    /// and its derivative ψ(α) − ψ(α) is NaN for α = 5e-324.
    ///
    /// Evaluated row by row ([`LnMultiBeta`]) as a telescoping chain of two-argument
    /// log-betas, finite where the direct form is ∞ − ∞ (α = [f64::MAX, 2.5, 5e-324]).
    fn log_norm(&self) -> Result<Tensor> {
        let a = self.concentration.to_dtype(DType::F64)?;
        if self.event_shape[0] <= 1 || a.elem_count() == 0 {
            return Ok(a.sum(D::Minus1)?.zeros_like()?);
        }
        crate::special::kernel::on_cpu(&[&a], |v| v[0].apply_op1(LnMultiBeta))
    }

    /// Whether some batch row needs the Stirling forms of log_prob and entropy
    /// ([`crate::special::gamma::dirichlet_log_density_overflow`],
    /// [`crate::special::gamma::dirichlet_entropy_overflow`]): a concentration of at
    /// least [`STIRLING_FROM`] (the direct forms cancel terms of order α ln α), or
    /// ln B(α) = −∞ (the concentrations sum past f64::MAX: ∞ − ∞). One reduction over
    /// the batch-shaped parameters, read on the host.
    fn total_overflows(&self, lnb: &Tensor) -> Result<bool> {
        if lnb.elem_count() == 0 {
            return Ok(false);
        }
        let v = lnb.flatten_all()?.to_vec1::<f64>()?;
        if v.contains(&f64::NEG_INFINITY) {
            return Ok(true);
        }
        let mx = self
            .concentration
            .flatten_all()?
            .max(0)?
            .to_dtype(DType::F64)?;
        Ok(mx.to_scalar::<f64>()? >= STIRLING_FROM)
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
        // torch's promotion for the value's dtype (see `distribution`).
        let dt = crate::distribution::result_dtype(self.dtype(), self.batch_shape(), value);
        // The value's last dimension must be K exactly (no broadcast of the event).
        let v = checked_argument(
            NAME,
            "value",
            value,
            &self.batch_shape,
            &self.event_shape,
            dt,
            self.device(),
            self.validate.then_some(&Constraint::Simplex),
        )?;
        // Evaluated in f64 and rounded once (see `Params`).
        let v = v.to_dtype(DType::F64)?;
        let lnb = self.log_norm()?;
        let a = broadcast_to(&self.concentration.to_dtype(DType::F64)?, v.dims())?;
        if self.event_shape[0] > 1 && self.total_overflows(&lnb)? {
            let lp = crate::special::kernel::on_cpu(&[&a, &v], |t| {
                t[0].apply_op2(&t[1], OverflowLogDensity)
            })?;
            return Ok(lp.to_dtype(dt)?);
        }
        let t = xlogy(&(&a - 1.0)?, &v)?.sum(D::Minus1)?;
        Ok(t.broadcast_sub(&lnb)?.to_dtype(dt)?)
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
        // ψ(α₀) − ψ(α_k) = −∂ ln B/∂α_k, from the row kernel that forms it from the
        // sum of the other entries: directly, α₀ rounds to α_k next to an α_k near
        // f64::MAX and (α_k − 1)(ψ(α₀) − ψ(α_k)) ≈ Σ_{j≠k} α_j was lost.
        let d = crate::special::kernel::on_cpu(&[a], |v| v[0].apply_op1(LnMultiBetaGrad))?;
        let s = ((a - 1.0)? * d)?.sum(D::Minus1)?;
        let h = (&lnb - s)?;
        if !self.total_overflows(&lnb)? {
            return Ok(h.to_dtype(self.dtype())?);
        }
        // Rows with huge concentrations: the value from the closed form of
        // `dirichlet_entropy_overflow`, the gradient ∂H/∂α_k =
        // (α₀ − K)ψ'(α₀) − (α_k − 1)ψ'(α_k) from `trigamma_excess` (the two terms are
        // each ≈ 1: their excesses over 1 are taken separately), carried by a
        // zero-valued term (`grad_carrier`).
        let k = self.event_shape[0];
        let rows = a.flatten_all()?.to_vec1::<f64>()?;
        let lnbv = lnb.flatten_all()?.to_vec1::<f64>()?;
        let mut coef = vec![0.0; rows.len()];
        let fixed: Vec<f64> = rows
            .chunks(k)
            .zip(&lnbv)
            .zip(coef.chunks_mut(k))
            .map(|((r, &l), c)| {
                if stirling_row(r, l) {
                    let total: f64 = r.iter().sum();
                    let head = trigamma_excess(total, k as f64);
                    for (ck, &ak) in c.iter_mut().zip(r) {
                        *ck = head - trigamma_excess(ak, 1.0);
                    }
                    crate::special::gamma::dirichlet_entropy_overflow(r)
                } else {
                    f64::NAN
                }
            })
            .collect();
        let fixed = Tensor::from_vec(fixed, h.dims(), &Device::Cpu)?.to_device(h.device())?;
        let use_fixed = fixed.eq(&fixed)?;
        let h = use_fixed.where_cond(&fixed, &h)?;
        let h = if a.track_op() {
            let coef = Tensor::from_vec(coef, a.dims(), &Device::Cpu)?.to_device(a.device())?;
            (h + crate::special::kernel::grad_carrier(&coef, a)?.sum(D::Minus1)?)?
        } else {
            h
        };
        Ok(h.to_dtype(self.dtype())?)
    }

    /// α/α₀, from α scaled by its (detached) row maximum: the ratio is the same and
    /// its gradient too, and α₀ cannot overflow (Dirichlet(1e308, 1e308) has mean ½, not
    /// 0 from α/∞).
    fn mean(&self) -> Result<Tensor> {
        if self.concentration.elem_count() == 0 {
            // candle's max over no elements is an error; the mean is as empty.
            return Ok(self.concentration.clone());
        }
        let m = self.concentration.max_keepdim(D::Minus1)?.detach();
        let a = self.concentration.broadcast_div(&m)?;
        Ok(a.broadcast_div(&a.sum_keepdim(D::Minus1)?)?)
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

/// ln B(α) over the last dimension of an f64 tensor
/// ([`crate::special::gamma::ln_multivariate_beta`] per row), with gradient
/// ψ(α_k) − ψ(α₀) from [`crate::special::gamma::ln_multivariate_beta_grad`]. A row
/// kernel rather than tensor ops: a cumulative sum by matmul sent an infinite
/// gradient through the zeros of its triangular matrix (∞·0 = NaN).
struct LnMultiBeta;

/// The gradient rows of [`LnMultiBeta`], ψ(α_k) − ψ(α₀); differentiable once more
/// (the Hessian of ln B: ∂/∂α_j = ψ′(α_k)δ_kj − ψ′(α₀)).
struct LnMultiBetaGrad;

fn f64_rows<'a>(
    name: &str,
    s: &'a CpuStorage,
    l: &Layout,
) -> candle_core::Result<(std::borrow::Cow<'a, [f64]>, usize)> {
    match s {
        CpuStorage::F64(v) => Ok((
            crate::special::kernel::gather(v, l),
            l.shape().dims().last().copied().unwrap_or(1).max(1),
        )),
        _ => Err(candle_core::Error::Msg(format!(
            "{name}: f64 input expected"
        ))),
    }
}

impl CustomOp1 for LnMultiBeta {
    fn name(&self) -> &'static str {
        "dirichlet_ln_beta"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (data, k) = f64_rows(self.name(), s, l)?;
        let out: Vec<f64> = data
            .chunks(k)
            .map(crate::special::gamma::ln_multivariate_beta)
            .collect();
        let dims = l.shape().dims();
        Ok((CpuStorage::F64(out), Shape::from(&dims[..dims.len() - 1])))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let d = arg.apply_op1(LnMultiBetaGrad)?;
        Ok(Some(d.broadcast_mul(&g.unsqueeze(D::Minus1)?)?))
    }
}

impl CustomOp1 for LnMultiBetaGrad {
    fn name(&self) -> &'static str {
        "dirichlet_ln_beta_grad"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (data, k) = f64_rows(self.name(), s, l)?;
        let mut out = vec![0.0; data.len()];
        for (row, o) in data.chunks(k).zip(out.chunks_mut(k)) {
            crate::special::gamma::ln_multivariate_beta_grad(row, o);
        }
        Ok((CpuStorage::F64(out), l.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let t0 = trigamma(&arg.sum_keepdim(D::Minus1)?)?;
        let own = (g * trigamma(arg)?)?;
        Ok(Some(own.broadcast_sub(&(g.sum_keepdim(D::Minus1)? * t0)?)?))
    }
}

/// The Dirichlet log density per row of (α, x) (equal shapes, f64) for a batch in which
/// some row has huge concentrations ([`stirling_row`]): those rows by
/// [`crate::special::gamma::dirichlet_log_density_overflow`], the others directly.
/// Gradients ln x_k + ψ(α₀) − ψ(α_k) (from [`LnMultiBetaGrad`]) and (α_k − 1)/x_k.
struct OverflowLogDensity;

impl candle_core::CustomOp2 for OverflowLogDensity {
    fn name(&self) -> &'static str {
        "dirichlet_log_density"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        use crate::special::gamma as g;
        let (a, k) = f64_rows(self.name(), s1, l1)?;
        let (x, _) = f64_rows(self.name(), s2, l2)?;
        let out = a
            .chunks(k)
            .zip(x.chunks(k))
            .map(|(a, x)| {
                let lnb = g::ln_multivariate_beta(a);
                if stirling_row(a, lnb) {
                    g::dirichlet_log_density_overflow(a, x)
                } else if let Some(v) = g::dirichlet_face_limit(a, x) {
                    v
                } else {
                    // Terms at x_k = 0 remain only on a balanced face: dropped.
                    let t: f64 = a
                        .iter()
                        .zip(x)
                        .filter(|(_, &x)| x != 0.0)
                        .map(|(&a, &x)| crate::special::scalar::xlogy(a - 1.0, x))
                        .sum();
                    t - lnb
                }
            })
            .collect();
        let dims = l1.shape().dims();
        Ok((CpuStorage::F64(out), Shape::from(&dims[..dims.len() - 1])))
    }

    fn bwd(
        &self,
        a: &Tensor,
        x: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let g = g.unsqueeze(D::Minus1)?;
        let da = (x.log()? - a.apply_op1(LnMultiBetaGrad)?)?.broadcast_mul(&g)?;
        let dx = ((a - 1.0)? / x)?.broadcast_mul(&g)?;
        Ok((Some(da), Some(dx)))
    }
}

/// (α − c)ψ'(α) − 1, the excess over its limit 1: by the asymptotic series
/// ψ'(α) = 1/α + 1/(2α²) + 1/(6α³) − 1/(30α⁵) + … for α ≥ 1e4 (relative error below
/// 1e-20 there; the direct form would cancel to rounding), 0 at α = ∞, else directly.
fn trigamma_excess(alpha: f64, c: f64) -> f64 {
    if alpha == f64::INFINITY {
        return 0.0;
    }
    if alpha >= 1e4 {
        let r = 1.0 / alpha;
        let tail = r * (0.5 + r * (1.0 / 6.0 - r * r / 30.0));
        return -c * r + (1.0 - c * r) * tail;
    }
    (alpha - c) * crate::special::gamma::trigamma(alpha) - 1.0
}
