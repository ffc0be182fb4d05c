//! Kullback–Leibler divergence: `KL(p ‖ q) = ∫ p(x) ln(p(x)/q(x)) dx`.
//!
//! [`kl_divergence`] looks up a closed form by the concrete types of `p` and `q`
//! (through [`Distribution::as_any`]) in one registry, filled in one place with every
//! pair torch registers among this crate's families (and the pairs torch reaches through
//! subclassing or `TransformedDistribution`: Chi2 is a Gamma, LogNormal/LogNormal is the
//! KL of the underlying Normals, ...). [`kl_divergence_mc`] estimates any pair by Monte
//! Carlo, with its standard error.
//!
//! Conventions shared by every pair:
//! - the result has the broadcast of both batch shapes, and the dtype torch's promotion
//!   gives (f64 if either side is f64, else f32);
//! - parameters are widened to f64 on the autograd graph before any arithmetic, so f32
//!   users get the f32 rounding of an f64 result (the closed forms cancel: KL of two
//!   nearly equal laws is a difference of O(1) terms) and gradients reach both sides'
//!   parameter tensors;
//! - pairs whose value is +∞ by support (q has no mass where p has) return +∞; where
//!   that depends on the parameters (Uniform/Uniform, Pareto/Normal, ...) it is decided
//!   element by element, and the formula is evaluated at harmless stand-in parameters
//!   there so the backward pass never meets NaN;
//! - parameters are not validated again: the distributions did it when they were built.

mod bounded;
mod discrete;
mod location_scale;
mod monte_carlo;
mod positive;
mod structural;

pub use monte_carlo::kl_divergence_mc;

use crate::distribution::{broadcast_shapes, broadcast_to, Distribution};
use crate::error::{Error, Result};
use crate::special::kernel::{apply1, Map1};
use candle_core::{DType, Device, Tensor};
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A closed form over the erased pair; the registry guarantees the concrete types.
type KlFn = Box<dyn Fn(&dyn Distribution, &dyn Distribution, &Ctx) -> Result<Tensor> + Send + Sync>;

/// The shape, dtype and device of a KL result, and the f64 arithmetic helpers the
/// closed forms share.
pub(crate) struct Ctx {
    shape: Vec<usize>,
    dtype: DType,
    device: Device,
    /// Elements (u8 mask of the result shape) whose KL is not finite: their parameters
    /// are detached, so the backward pass never carries the 0·∞ of an overflowed term
    /// back to the parameters (those elements get gradient 0, the convention of
    /// `special::finite_or`).
    frozen: Option<Tensor>,
}

impl Ctx {
    fn new(p: &dyn Distribution, q: &dyn Distribution) -> Result<Self> {
        let shape = broadcast_shapes(p.batch_shape(), q.batch_shape()).ok_or_else(|| {
            Error::shape(
                "kl_divergence",
                format!(
                    "batch shapes {:?} ({}) and {:?} ({}) do not broadcast",
                    p.batch_shape(),
                    p.name(),
                    q.batch_shape(),
                    q.name()
                ),
            )
        })?;
        let dtype = if p.dtype() == DType::F64 || q.dtype() == DType::F64 {
            DType::F64
        } else {
            p.dtype()
        };
        Ok(Ctx {
            shape,
            dtype,
            device: p.device().clone(),
            frozen: None,
        })
    }

    /// `t` (of the result shape, or the result shape plus event dimensions) detached
    /// where the element is frozen.
    fn freeze(&self, t: Tensor) -> Result<Tensor> {
        match &self.frozen {
            None => Ok(t),
            Some(m) => {
                let mut m = m.clone();
                while m.rank() < t.rank() {
                    m = m.unsqueeze(m.rank())?;
                }
                Ok(m.broadcast_as(t.shape())?.where_cond(&t.detach(), &t)?)
            }
        }
    }

    /// A parameter widened to f64 (on the graph) and broadcast to the result shape.
    pub(crate) fn w(&self, t: &Tensor) -> Result<Tensor> {
        let t = t.to_dtype(DType::F64)?.to_device(&self.device)?;
        self.freeze(broadcast_to(&t, &self.shape)?)
    }

    /// Several parameters through [`Ctx::w`].
    pub(crate) fn ws<const N: usize>(&self, ts: [&Tensor; N]) -> Result<[Tensor; N]> {
        let mut out = Vec::with_capacity(N);
        for t in ts {
            out.push(self.w(t)?);
        }
        out.try_into()
            .map_err(|_| Error::InvalidArgument("kl_divergence: parameter count".into()))
    }

    /// A parameter in the result dtype and device, not broadcast (for fused kernels,
    /// which broadcast their inputs and compute in f64 element by element).
    pub(crate) fn t(&self, t: &Tensor) -> Result<Tensor> {
        let t = t.to_dtype(self.dtype)?.to_device(&self.device)?;
        match self.frozen {
            None => Ok(t),
            Some(_) => self.freeze(broadcast_to(&t, &self.shape)?),
        }
    }

    /// A parameter with trailing event dimensions `event` (Dirichlet's K).
    pub(crate) fn w_event(&self, t: &Tensor, event: &[usize]) -> Result<Tensor> {
        let mut shape = self.shape.clone();
        shape.extend_from_slice(event);
        let t = t.to_dtype(DType::F64)?.to_device(&self.device)?;
        self.freeze(broadcast_to(&t, &shape)?)
    }

    /// The f64 result rounded once to the result dtype.
    pub(crate) fn out(&self, t: Tensor) -> Result<Tensor> {
        Ok(t.to_dtype(self.dtype)?)
    }

    /// An f64 tensor of the result shape filled with `v`.
    pub(crate) fn full(&self, v: f64) -> Result<Tensor> {
        Ok(Tensor::full(v, self.shape.as_slice(), &self.device)?)
    }

    /// +∞ everywhere: the pairs whose value is infinite by support.
    pub(crate) fn infinite(&self) -> Result<Tensor> {
        self.out(self.full(f64::INFINITY)?)
    }

    /// `value` where `mask` is 0 and +∞ where it is 1 (`mask` a u8 tensor of the
    /// result shape).
    pub(crate) fn inf_where(&self, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
        Ok(mask.where_cond(&self.full(f64::INFINITY)?, value)?)
    }

    /// `x` with `stand_in` where `mask` is 1: the formula of a masked pair is
    /// evaluated there at a harmless point, so no NaN reaches the gradients.
    pub(crate) fn safe(&self, mask: &Tensor, x: &Tensor, stand_in: f64) -> Result<Tensor> {
        Ok(mask.where_cond(&self.full(stand_in)?, x)?)
    }
}

/// e^x − 1 − x without cancellation (the Bregman term of every scale ratio:
/// r − 1 − ln r with r = e^x). Series below |x| = 0.1 (14 terms: relative error
/// < 1e-17), the direct form above.
pub(crate) fn exp_m1_m_x_scalar(x: f64) -> f64 {
    if x.abs() < 0.1 {
        // Σ_{k≥2} x^k/k!, by Horner's rule from the small end.
        let mut s = 0.0;
        for k in (2..=15).rev() {
            s = (s + 1.0) * x / k as f64;
        }
        s * x
    } else if x == f64::INFINITY {
        f64::INFINITY
    } else {
        x.exp_m1() - x
    }
}

/// [`exp_m1_m_x_scalar`] on a tensor. Gradient expm1(x).
pub(crate) fn exp_m1_m_x(x: &Tensor) -> Result<Tensor> {
    fn bwd(x: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Tensor> {
        g * crate::special::expm1(x).map_err(candle_core::Error::from)?
    }
    apply1(
        x,
        Map1 {
            name: "exp_m1_m_x",
            f: exp_m1_m_x_scalar,
            bwd: Some(bwd),
        },
    )
}

/// E_p[z + e^{−z}] for z = (X − μ)/σ, the part of E_p[−ln q] of q = Gumbel(μ, σ) that
/// depends on p beyond its scale: `ez` = E[z] and `log_mgf` = ln E[e^{−z}].
///
/// z + e^{−z} ≥ 1 and grows without bound as |z| → ∞, so where a term overflowed (σ
/// negligible against p's spread: ∞ − ∞ in the sum) the expectation is +∞.
pub(crate) fn gumbel_cross(ez: &Tensor, log_mgf: &Tensor) -> Result<Tensor> {
    let s = (ez + log_mgf.exp()?)?;
    let nan = s.ne(&s)?;
    let inf = Tensor::full(f64::INFINITY, s.shape(), s.device())?.to_dtype(s.dtype())?;
    Ok(nan.where_cond(&inf, &s)?)
}

/// The Euler–Mascheroni constant γ.
pub(crate) const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The most general parent type of each family that torch reaches through subclassing:
/// a `Chi2` is a `Gamma` (torch's `Chi2(Gamma)`), so every Gamma pair applies to it.
fn parent(d: &dyn Distribution) -> Option<&dyn Distribution> {
    let any = d.as_any();
    if let Some(c) = any.downcast_ref::<crate::continuous::Chi2>() {
        return Some(c.as_gamma());
    }
    // torch's OneHotCategoricalStraightThrough(OneHotCategorical).
    if let Some(s) = any.downcast_ref::<crate::discrete::OneHotCategoricalStraightThrough>() {
        return Some(s.one_hot());
    }
    None
}

/// `d`, then its parents, most specific first.
fn lineage(d: &dyn Distribution) -> Vec<&dyn Distribution> {
    let mut out = vec![d];
    while let Some(p) = out.last().and_then(|d| parent(*d)) {
        out.push(p);
    }
    out
}

/// Downcasts an erased side of a registered pair.
fn cast<T: 'static>(d: &dyn Distribution) -> Result<&T> {
    d.as_any().downcast_ref::<T>().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "kl_divergence: registry entry for {} does not match its type",
            d.name()
        ))
    })
}

/// Registers `f` for the pair of concrete types `(P, Q)`.
fn add<P: 'static, Q: 'static>(
    table: &mut HashMap<(TypeId, TypeId), KlFn>,
    f: fn(&P, &Q, &Ctx) -> Result<Tensor>,
) {
    table.insert(
        (TypeId::of::<P>(), TypeId::of::<Q>()),
        Box::new(move |p, q, c| f(cast::<P>(p)?, cast::<Q>(q)?, c)),
    );
}

/// Registers a pair whose KL is +∞ for every parameter (no mass of q where p has some).
fn add_infinite<P: 'static, Q: 'static>(table: &mut HashMap<(TypeId, TypeId), KlFn>) {
    table.insert(
        (TypeId::of::<P>(), TypeId::of::<Q>()),
        Box::new(|_, _, c| c.infinite()),
    );
}

/// The registry: every closed form, in one place.
fn registry() -> &'static HashMap<(TypeId, TypeId), KlFn> {
    static TABLE: OnceLock<HashMap<(TypeId, TypeId), KlFn>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        location_scale::register(&mut t);
        positive::register(&mut t);
        bounded::register(&mut t);
        structural::register(&mut t);
        discrete::register(&mut t);
        t
    })
}

/// `KL(p ‖ q) = E_p[ln p(X) − ln q(X)]` in closed form, one value per element of the
/// broadcast of both batch shapes (events are summed over).
///
/// Dispatch is on the concrete types (`as_any`), most specific pair first, as torch's
/// `kl_divergence`: the pair `(P, Q)`, then `P` against `Q`'s parent type, then `P`'s
/// parent against `Q`, ... (a `Chi2` is also a `Gamma`). Pairs whose value is +∞ by
/// support give +∞. Gradients flow to the parameters of both sides. Results are
/// computed in f64 and rounded once to the promoted dtype (f64 if either side is f64).
///
/// Errors: [`Error::NotImplemented`] naming both distributions for a pair without a
/// closed form (use [`kl_divergence_mc`]), [`Error::Shape`] when the batch shapes do not
/// broadcast.
///
/// ```
/// use candle_distributions::prelude::*;
/// use candle_distributions::kl_divergence;
/// let dev = candle_core::Device::Cpu;
/// let p = Normal::from_scalars(0.0, 1.0, candle_core::DType::F64, &dev)?;
/// let q = Normal::from_scalars(1.0, 2.0, candle_core::DType::F64, &dev)?;
/// // ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − 1/2
/// let kl = kl_divergence(&p, &q)?.to_scalar::<f64>()?;
/// assert!((kl - (2f64.ln() + 2.0 / 8.0 - 0.5)).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn kl_divergence(p: &dyn Distribution, q: &dyn Distribution) -> Result<Tensor> {
    let table = registry();
    for pv in lineage(p) {
        for qv in lineage(q) {
            let key = (pv.as_any().type_id(), qv.as_any().type_id());
            if let Some(f) = table.get(&key) {
                let mut ctx = Ctx::new(p, q)?;
                let kl = f(pv, qv, &ctx)?;
                // Elements that overflowed to +∞ (or a limit the closed form cannot
                // reach) are evaluated again with their parameters detached, so that
                // gradients stay finite elsewhere (see `Ctx::frozen`).
                if kl.track_op() {
                    if let Some(mask) = non_finite_mask(&kl)? {
                        ctx.frozen = Some(mask);
                        return f(pv, qv, &ctx);
                    }
                }
                return Ok(kl);
            }
        }
    }
    Err(not_implemented(p, q, None))
}

/// A u8 mask of the elements of `t` that are ±∞ or NaN, or `None` when all are finite.
fn non_finite_mask(t: &Tensor) -> Result<Option<Tensor>> {
    // A finite sum means every term is finite: one reduction instead of a host copy
    // in the common case (a sum that overflows from finite terms falls through to the
    // exact scan below, which then finds none).
    let total = t
        .detach()
        .sum_all()?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?;
    if total.is_finite() {
        return Ok(None);
    }
    let flat = t.flatten_all()?;
    let bad: Vec<u8> = match t.dtype() {
        DType::F32 => flat
            .to_vec1::<f32>()?
            .iter()
            .map(|x| u8::from(!x.is_finite()))
            .collect(),
        _ => flat
            .to_dtype(DType::F64)?
            .to_vec1::<f64>()?
            .iter()
            .map(|x| u8::from(!x.is_finite()))
            .collect(),
    };
    if bad.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    Ok(Some(Tensor::from_vec(bad, t.shape(), t.device())?))
}

/// Whether [`kl_divergence`] has a closed form for the pair (without computing it):
/// the same dispatch, most specific pair first (a `Chi2` counts as a `Gamma`).
///
/// ```
/// use candle_distributions::prelude::*;
/// use candle_distributions::kl::has_closed_form;
/// let dev = candle_core::Device::Cpu;
/// let n = Normal::from_scalars(0.0, 1.0, candle_core::DType::F64, &dev)?;
/// let t = StudentT::from_scalars(3.0, 0.0, 1.0, candle_core::DType::F64, &dev)?;
/// assert!(has_closed_form(&n, &n) && !has_closed_form(&n, &t));
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn has_closed_form(p: &dyn Distribution, q: &dyn Distribution) -> bool {
    let table = registry();
    lineage(p).iter().any(|pv| {
        lineage(q)
            .iter()
            .any(|qv| table.contains_key(&(pv.as_any().type_id(), qv.as_any().type_id())))
    })
}

/// The error of a pair without a closed form.
pub(crate) fn not_implemented(
    p: &dyn Distribution,
    q: &dyn Distribution,
    why: Option<&str>,
) -> Error {
    let mut reason = format!("no closed form for KL({} ‖ {})", p.name(), q.name());
    if let Some(w) = why {
        reason.push_str(": ");
        reason.push_str(w);
    }
    reason.push_str("; kl_divergence_mc estimates it by Monte Carlo");
    Error::NotImplemented {
        distribution: p.name(),
        method: "kl_divergence",
        reason: Some(reason),
    }
}
