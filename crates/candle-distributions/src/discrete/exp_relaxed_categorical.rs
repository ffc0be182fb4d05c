//! The relaxed categorical distribution in log space (the base of
//! `RelaxedOneHotCategorical`).

use super::categorical::host_tensor;
use super::probs_logits::{
    probs_logits_accessors, probs_logits_constructors, CategoricalParam, Given,
};
use crate::constraints::Constraint;
use crate::distribution::{
    broadcast_shapes, broadcast_to, check_param, checked_argument, default_validate_args,
    result_dtype, sample_extent, Distribution, Param,
};
use crate::error::{Error, Result};
use crate::rng::Generator;
use crate::special::kernel::{gather, on_cpu};
use crate::special::rows::log_softmax;
use crate::special::rows::log_softmax_row;
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, DType, Device, Layout, Shape, Tensor, D};

const NAME: &str = "ExpRelaxedCategorical";

/// The log of a Gumbel-softmax (concrete) draw, torch's `ExpRelaxedCategorical`
/// (Maddison, Mnih & Teh, "The Concrete Distribution", 2017; Jang, Gu & Poole,
/// "Categorical Reparameterization with Gumbel-Softmax", 2017).
///
/// - Parameters: `temperature` λ > 0 (broadcast with the batch) and `probs` or
///   `logits` of shape `batch_shape ++ [K]` (as [`crate::Categorical`]).
/// - Draw: x = log_softmax((ℓ + G)/λ) with G_k = −ln(−ln U_k) standard Gumbels; x lies
///   in {x ∈ ℝ^K : Σ e^{x_k} = 1}. `rsample` is pathwise in ℓ and λ. The row maximum
///   of ℓ + G is taken out before the division by λ, so a subnormal λ gives a one-hot
///   draw (0 and −∞), never NaN.
/// - Density (torch's, with respect to Lebesgue measure on the first K − 1
///   coordinates): ln p(x) = ln Γ(K) + (K − 1) ln λ + Σ_k log_softmax(ℓ − λx)_k.
/// - Support: real vectors (torch's `real_vector`).
/// - Classes of probability 0 (probs 0, logits −∞; torch returns NaN there): the law
///   lives on the face of the K' classes of positive probability, as the concrete
///   distribution of those classes. Such a class is x_k = −∞ in every draw, with no
///   gradient, and the density is the one above over the positive classes only (K' in
///   place of K). A value off that face — x_k > −∞ on a class of probability 0, or
///   x_k = −∞ on a positive class (the density's limit there is 0 for K' ≥ 2) — has
///   log_prob −∞, with no NaN in its gradients. K' = 1 is the point mass at the vertex
///   (log_prob 0 there).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, ExpRelaxedCategorical, Generator};
/// let d = ExpRelaxedCategorical::new(0.5, &Tensor::new(&[0.2f64, 0.3, 0.5], &Device::Cpu)?)?;
/// let x = d.rsample(&[4], &mut Generator::new(0))?; // [4, 3]
/// let s = x.exp()?.sum(1)?.to_vec1::<f64>()?;
/// assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-12));
/// assert!(d.log_prob(&x)?.to_vec1::<f64>()?.iter().all(|v| v.is_finite()));
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExpRelaxedCategorical {
    name: &'static str,
    /// λ broadcast to `batch_shape`, in the dtype.
    temperature: Tensor,
    param: CategoricalParam,
    given: Given,
    /// The parameter as given, in f64, before any broadcast to the batch (`rsample`
    /// normalises it itself, see there).
    own_raw: Tensor,
    batch_shape: Vec<usize>,
    event_shape: [usize; 1],
    validate: bool,
}

impl ExpRelaxedCategorical {
    probs_logits_constructors! {
        /// ExpRelaxedCategorical(temperature, probs).
        new;
        /// ExpRelaxedCategorical(temperature, logits).
        from_logits;
        "ExpRelaxedCategorical",
        |g, t, p, v| Self::build(NAME, t, g, p, v);
        temperature: impl Into<Param>;
        none
    }

    /// From a temperature and one row of weights, of `dtype` on `device`.
    pub fn from_scalars(
        temperature: f64,
        probs: &[f64],
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let t = host_tensor(vec![temperature], &[], dtype, device)?;
        Self::new(
            &t,
            &host_tensor(probs.to_vec(), &[probs.len()], dtype, device)?,
        )
    }

    /// The constructor of this family and of `RelaxedOneHotCategorical` (errors name
    /// `name`).
    pub(crate) fn build(
        name: &'static str,
        temperature: Param,
        given: Given,
        p: Param,
        validate: Option<bool>,
    ) -> Result<Self> {
        let [t, p] = crate::distribution::promote_params(
            name,
            [("temperature", temperature), (given.name(), p)],
        )?;
        let validate = validate.unwrap_or_else(default_validate_args);
        // Shapes first (as the other families): the parameter's own shape, then its
        // broadcast with the temperature; values after.
        let param = CategoricalParam::new(name, given, &p, false)?;
        let batch = broadcast_shapes(t.dims(), param.batch_shape()).ok_or_else(|| {
            Error::shape(
                name,
                format!(
                    "temperature of shape {:?} does not broadcast with batch_shape {:?}",
                    t.dims(),
                    param.batch_shape()
                ),
            )
        })?;
        let param = if validate {
            check_param(name, "temperature", &t, &Constraint::Positive)?;
            CategoricalParam::new(name, given, &p, true)?
        } else {
            param
        };
        let own_raw = param.raw().to_dtype(DType::F64)?;
        let param = if batch.as_slice() == param.batch_shape() {
            param
        } else {
            // Normalised before the expansion (the cache is broadcast): gradients from the
            // expanded batch are summed on ℓ, then pass the normalisation once (summing
            // after it would add ±∞ terms for subnormal weights).
            param.wide_logits()?;
            param.expand(name, &batch)?
        };
        Self::from_parts(
            name,
            broadcast_to(&t, &batch)?,
            param,
            (given, own_raw),
            validate,
        )
    }

    fn from_parts(
        name: &'static str,
        temperature: Tensor,
        param: CategoricalParam,
        (given, own_raw): (Given, Tensor),
        validate: bool,
    ) -> Result<Self> {
        Ok(ExpRelaxedCategorical {
            name,
            temperature,
            batch_shape: param.batch_shape().to_vec(),
            event_shape: [param.num_events()],
            param,
            given,
            own_raw,
            validate,
        })
    }

    /// λ, broadcast to `batch_shape`.
    pub fn temperature(&self) -> &Tensor {
        &self.temperature
    }

    probs_logits_accessors!(categorical param);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.validate = on;
    }

    /// The same law with the batch broadcast to `batch_shape` (errors name this
    /// family's name).
    pub(crate) fn expanded(&self, batch_shape: &[usize]) -> Result<Self> {
        let t = self.temperature.broadcast_as(batch_shape).map_err(|_| {
            Error::shape(
                self.name,
                format!(
                    "cannot expand batch_shape {:?} to {:?}",
                    self.batch_shape, batch_shape
                ),
            )
        })?;
        // Normalised before the expansion, as in `build`.
        self.param.wide_logits()?;
        Self::from_parts(
            self.name,
            t,
            self.param.expand(self.name, batch_shape)?,
            (self.given, self.own_raw.clone()),
            self.validate,
        )
    }

    /// The classes of probability 0 (ℓ = −∞) as a u8 mask, and ℓ with 0 in their place
    /// (so that no −∞ enters arithmetic whose backward could form 0·∞), both
    /// `batch_shape ++ [K]` in f64, on the graph of the parameter.
    fn face(&self) -> Result<(Tensor, Tensor)> {
        let l = self.param.wide_logits()?;
        let zero = l.eq(f64::NEG_INFINITY)?;
        let safe = zero.where_cond(&l.zeros_like()?, &l)?;
        Ok((zero, safe))
    }

    /// ln p(x) on the face of the K' positive classes,
    /// ln Γ(K') + (K' − 1) ln λ + Σ_{k: p_k > 0} log_softmax_{p > 0}(ℓ − λx)_k, for `x`
    /// (f64, `sample ++ batch ++ [K]`) whose entries flagged by `at_zero` (u8, same shape:
    /// the coordinates that are −∞ in log space, 0 on the simplex) hold any finite
    /// number. Returns the density (finite wherever λ and `x` are, with gradients free
    /// of NaN) and a u8 mask of the values off the face (`at_zero` differs from the
    /// zero classes somewhere in the row), whose density is −∞ (see [`on_face`]).
    pub(crate) fn face_log_density(
        &self,
        x: &Tensor,
        at_zero: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (zero, l) = self.face()?;
        let zero = zero.broadcast_as(x.shape())?.contiguous()?;
        // A count rather than a max: the reduction must accept empty batches.
        let off = zero
            .ne(at_zero)?
            .to_dtype(DType::F64)?
            .sum(D::Minus1)?
            .gt(0.0)?;
        let (lt, t) = self.row_temperature(&x.dims()[..x.rank() - 1])?;
        let tx = on_cpu(&[x, &lt, &t], |v| v[0].apply_op3(&v[1], &v[2], ScaledValue))?;
        let score = l.broadcast_sub(&tx)?;
        let neg_inf = Tensor::full(f64::NEG_INFINITY, x.shape(), x.device())?;
        let ls = log_softmax(&zero.where_cond(&neg_inf, &score)?)?;
        let s = zero.where_cond(&x.zeros_like()?, &ls)?.sum(D::Minus1)?;
        // K' per row (the value's batch shape), a constant of the parameter.
        let kp = (zero.to_dtype(DType::F64)?.affine(-1.0, 1.0)?).sum(D::Minus1)?;
        // (K' − 1) ln λ is 0 for K' = 1 even where λ = ∞ (a point mass).
        let scale = (kp.affine(1.0, -1.0)? * lt)?;
        let scale = kp.eq(1.0)?.where_cond(&kp.zeros_like()?, &scale)?;
        let ln_norm = (crate::special::lgamma(&kp)? + scale)?;
        Ok((s.broadcast_add(&ln_norm)?, off))
    }

    /// The draw of `rsample` in f64, before rounding to the dtype (RelaxedOneHotCategorical
    /// exponentiates it).
    pub(crate) fn wide_rsample(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<Tensor> {
        let shape = sample_extent(
            self.name,
            sample_shape,
            &self.batch_shape,
            &self.event_shape,
            self.dtype(),
        )?;
        let u = rng.uniform(&shape, DType::F64, self.device())?;
        let g = u.log()?.neg()?.log()?.neg()?;
        // The draw's gradient is kept in units of 1/c, c = the smallest λ among the batch
        // rows sharing a parameter row (c·∂/∂a = g_z·c/λ, of the size of the draw's
        // entries), through the sums over samples and over the rows of the expanded batch
        // and through the normalisation of the parameter, and divided by c after it: for
        // λ near 1e-308 the gradients ~1/λ would otherwise overflow to +∞ and −∞ in one
        // row, and the normalisation's Σg would be ∞ − ∞ = NaN.
        let rows = &shape[..shape.len() - 1];
        let (c, c_rows) = self.shared_temperature()?;
        let raw = grad_div(&self.own_raw, &c)?;
        let l = match self.given {
            Given::Logits => log_softmax(&raw)?,
            Given::Probs => crate::special::rows::log_normalize(&raw)?,
        };
        let a = g.broadcast_add(&l)?;
        // λ/c ≥ 1 per batch row (1 where they are equal, also for λ = ∞).
        let t = self.temperature.to_dtype(DType::F64)?.detach();
        let ratio = c_rows
            .eq(&t)?
            .where_cond(&t.ones_like()?, &(&t / &c_rows)?)?;
        let a = grad_div(&a, &ratio.broadcast_as(rows)?)?;
        let (lt, t) = self.row_temperature(rows)?;
        let x = on_cpu(&[&a, &lt, &t], |v| {
            v[0].apply_op3(&v[1], &v[2], ConcreteDraw)
        })?;
        Ok(x)
    }

    /// c, the smallest λ among the batch rows that share each row of the parameter as
    /// given (shape: the parameter's batch shape), and c broadcast back to
    /// `batch_shape`, both f64 and detached. c = λ where nothing was broadcast.
    fn shared_temperature(&self) -> Result<(Tensor, Tensor)> {
        let t = self.temperature.to_dtype(DType::F64)?.detach();
        let own = &self.own_raw.dims()[..self.own_raw.rank() - 1];
        if own == self.batch_shape.as_slice() {
            return Ok((t.clone(), t));
        }
        if t.elem_count() == 0 {
            // No draw rows: any positive c of the parameter's shape.
            let c = Tensor::ones(own, DType::F64, t.device())?;
            return Ok((c, t.ones_like()?));
        }
        let lead = self.batch_shape.len() - own.len();
        let mut c = t.clone();
        for _ in 0..lead {
            c = c.min(0)?;
        }
        for (i, &n) in own.iter().enumerate() {
            if n == 1 && c.dims()[i] != 1 {
                c = c.min_keepdim(i)?;
            }
        }
        let back = c.broadcast_as(self.batch_shape.as_slice())?;
        Ok((c, back))
    }

    /// (ln λ, λ) in f64 broadcast to `rows` (the leading dimensions of a draw or value).
    /// λ enters the graph through ln λ (see [`ConcreteDraw`], [`ScaledValue`]): each row
    /// contributes λ·∂/∂λ, of the size of the draw's own entries, and the sum over
    /// rows is divided by λ once, in the backward of the logarithm; for a subnormal λ,
    /// rows of ±∞ (∂/∂λ itself overflowing) would sum to ∞ − ∞ = NaN.
    fn row_temperature(&self, rows: &[usize]) -> Result<(Tensor, Tensor)> {
        let t = self.temperature.to_dtype(DType::F64)?;
        Ok((t.log()?.broadcast_as(rows)?, t.broadcast_as(rows)?))
    }
}

impl Distribution for ExpRelaxedCategorical {
    fn name(&self) -> &'static str {
        self.name
    }

    fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }

    fn event_shape(&self) -> &[usize] {
        &self.event_shape
    }

    fn support(&self) -> Constraint {
        Constraint::RealVector
    }

    fn device(&self) -> &Device {
        self.param.raw().device()
    }

    fn dtype(&self) -> DType {
        self.param.raw().dtype()
    }

    fn has_rsample(&self) -> bool {
        true
    }

    fn validate_args(&self) -> bool {
        self.validate
    }

    /// log_softmax((ℓ + G − m)/λ) with standard Gumbels G = −ln(−ln U) from f64 uniforms
    /// in (0, 1) (so G is finite), evaluated in f64 and rounded.
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        Ok(self
            .wide_rsample(sample_shape, rng)?
            .to_dtype(self.dtype())?)
    }

    /// The density on the face of the positive classes (see the type's docs); −∞ for
    /// a value off that face (x_k > −∞ on a class of probability 0, or x_k = −∞ on a
    /// positive class).
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let dt = result_dtype(self.dtype(), &self.batch_shape, value);
        let v = checked_argument(
            self.name,
            "value",
            value,
            &self.batch_shape,
            &self.event_shape,
            dt,
            self.device(),
            self.validate.then_some(&Constraint::RealVector),
        )?
        .to_dtype(DType::F64)?;
        let at_zero = v.eq(f64::NEG_INFINITY)?;
        let x = at_zero.where_cond(&v.zeros_like()?, &v)?;
        let (lp, off) = self.face_log_density(&x, &at_zero)?;
        Ok(on_face(&lp, &off)?.to_dtype(dt)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        Ok(Box::new(self.expanded(batch_shape)?))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `lp` where `off` is 0 and −∞ where it is 1 (values off the face of the positive
/// classes); the −∞ is a constant, so it sends no gradient into `lp`.
pub(crate) fn on_face(lp: &Tensor, off: &Tensor) -> Result<Tensor> {
    let neg_inf = Tensor::full(f64::NEG_INFINITY, lp.shape(), lp.device())?.to_dtype(lp.dtype())?;
    Ok(off.where_cond(&neg_inf, lp)?)
}

/// The relaxed draw x = log_softmax((a − m)/λ) along the last dimension, from
/// a = ℓ + G (f64, `rows ++ [K]`) and λ (f64, `rows`), with m = max_k a_k: a constant per
/// row, which log_softmax ignores, taken out so that the largest score is exactly 0 and
/// the others ≤ 0; a subnormal λ then gives −∞ (a one-hot draw), never ∞ − ∞ = NaN.
/// Entries a_k = −∞ (classes of probability 0) are −∞.
///
/// Inputs (a, ln λ, λ), the last two of shape `rows`; λ is used as given, and its
/// gradient goes to ln λ (see `row_temperature`). Backward, with p = e^x and
/// z = (a − m)/λ: an output at −∞ is constant (a class of probability 0, or one whose
/// score overflowed) and passes no gradient; the others give g_z = g − p·Σg,
/// ∂/∂a = g_z/λ, returned as λ·∂/∂a = g_z (the caller divides, see [`grad_div`]), and
/// ∂/∂ln λ = −Σ_k g_z,k z_k (no λ², which underflows for λ < 1e-154;
/// no 0·∞ from a zero g_z).
struct ConcreteDraw;

impl ConcreteDraw {
    /// z of one row into `z`.
    fn scores(a: &[f64], t: f64, z: &mut [f64]) {
        let m = a.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        for (z, &v) in z.iter_mut().zip(a) {
            *z = if v == f64::NEG_INFINITY {
                f64::NEG_INFINITY
            } else {
                (v - m) / t
            };
        }
    }
}

fn f64_data<'a>(
    name: &str,
    s: &'a CpuStorage,
    l: &Layout,
) -> candle_core::Result<std::borrow::Cow<'a, [f64]>> {
    match s {
        CpuStorage::F64(v) => Ok(gather(v, l)),
        other => Err(candle_core::Error::Msg(format!(
            "{name}: f64 input expected, found {:?}",
            other.dtype()
        ))),
    }
}

impl CustomOp3 for ConcreteDraw {
    fn name(&self) -> &'static str {
        "relaxed_categorical_draw"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        _s2: &CpuStorage,
        _l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let a = f64_data(self.name(), s1, l1)?;
        let t = f64_data(self.name(), s3, l3)?;
        let k = l1.dims().last().copied().unwrap_or(1);
        let mut out = vec![0.0; a.len()];
        if k > 0 {
            let mut z = vec![0.0; k];
            for ((o, a), &t) in out.chunks_mut(k).zip(a.chunks(k)).zip(t.iter()) {
                Self::scores(a, t, &mut z);
                log_softmax_row(&z, o);
            }
        }
        Ok((CpuStorage::F64(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        a: &Tensor,
        lt: &Tensor,
        t: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let k = a.dims().last().copied().unwrap_or(1);
        let (av, tv, xv, gv) = (host(a)?, host(t)?, host(res)?, host(g)?);
        let mut ga = vec![0.0; av.len()];
        let mut gt = vec![0.0; tv.len()];
        if k > 0 {
            let mut z = vec![0.0; k];
            let rows = ga
                .chunks_mut(k)
                .zip(av.chunks(k))
                .zip(xv.chunks(k).zip(gv.chunks(k)));
            for (((ga, a), (x, g)), (gt, &t)) in rows.zip(gt.iter_mut().zip(tv.iter())) {
                Self::scores(a, t, &mut z);
                let live = |j: usize| x[j] > f64::NEG_INFINITY;
                let sg: f64 = (0..k).filter(|&j| live(j)).map(|j| g[j]).sum();
                let mut s = 0.0;
                for j in (0..k).filter(|&j| live(j)) {
                    let gz = g[j] - x[j].exp() * sg;
                    ga[j] = gz;
                    if gz != 0.0 {
                        s += gz * z[j];
                    }
                }
                *gt = -s;
            }
        }
        let ga = Tensor::from_vec(ga, a.shape(), a.device())?.to_dtype(a.dtype())?;
        let gt = Tensor::from_vec(gt, lt.shape(), lt.device())?;
        // λ itself gets 0: its gradient is that of ln λ (candle needs every input's).
        Ok((Some(ga), Some(gt), Some(t.zeros_like()?)))
    }
}

/// The flat f64 contents of a (CPU) tensor of any layout.
fn host(x: &Tensor) -> candle_core::Result<Vec<f64>> {
    x.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()
}

/// λ·x for a value x (f64, `rows ++ [K]`), from inputs (x, ln λ, λ) with the last two of
/// shape `rows`. Backward: ∂/∂x = g·λ and ∂/∂ln λ = Σ_k g_k (λ x_k), the product λ·x
/// (a score of moderate size) formed before the sum: for a subnormal λ the draws are
/// of size ~1/λ and g·x alone would overflow.
struct ScaledValue;

impl CustomOp3 for ScaledValue {
    fn name(&self) -> &'static str {
        "relaxed_categorical_scaled_value"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        _s2: &CpuStorage,
        _l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f64_data(self.name(), s1, l1)?;
        let t = f64_data(self.name(), s3, l3)?;
        let k = l1.dims().last().copied().unwrap_or(1).max(1);
        let out: Vec<f64> = x
            .chunks(k)
            .zip(t.iter())
            .flat_map(|(x, &t)| x.iter().map(move |&v| v * t))
            .collect();
        Ok((CpuStorage::F64(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        lt: &Tensor,
        t: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let k = x.dims().last().copied().unwrap_or(1).max(1);
        let (tv, yv, gv) = (host(t)?, host(res)?, host(g)?);
        let mut gx = vec![0.0; gv.len()];
        let mut glt = vec![0.0; tv.len()];
        let rows = gx.chunks_mut(k).zip(gv.chunks(k).zip(yv.chunks(k)));
        for ((gx, (g, y)), (glt, &t)) in rows.zip(glt.iter_mut().zip(tv.iter())) {
            for j in 0..g.len() {
                gx[j] = g[j] * t;
                if g[j] != 0.0 {
                    *glt += g[j] * y[j];
                }
            }
        }
        let gx = Tensor::from_vec(gx, x.shape(), x.device())?;
        let glt = Tensor::from_vec(glt, lt.shape(), lt.device())?;
        Ok((Some(gx), Some(glt), Some(t.zeros_like()?)))
    }
}

/// The identity on x (f64, `rows ++ [K]`) whose gradient is divided by d (f64, `rows`,
/// positive) in the backward: the gradients that [`ConcreteDraw`] returns multiplied by
/// λ are scaled back in steps (λ/c per draw row, then c per parameter row, after the
/// sums and the normalisation), each quotient finite or ±∞ (the true value), never
/// ∞ − ∞. d gets no gradient.
fn grad_div(x: &Tensor, d: &Tensor) -> Result<Tensor> {
    on_cpu(&[x, d], |v| v[0].apply_op2(&v[1], GradDiv))
}

struct GradDiv;

impl candle_core::CustomOp2 for GradDiv {
    fn name(&self) -> &'static str {
        "relaxed_categorical_grad_div"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        _s2: &CpuStorage,
        _l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f64_data(self.name(), s1, l1)?;
        Ok((CpuStorage::F64(x.into_owned()), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        d: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let gx = g.broadcast_div(&d.unsqueeze(D::Minus1)?)?;
        Ok((Some(gx.reshape(x.shape())?), Some(d.zeros_like()?)))
    }
}
