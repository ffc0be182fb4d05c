//! The [`Distribution`] trait, shape rules and argument validation.
//!
//! Shapes follow torch.distributions: a draw has shape
//! `sample_shape ++ batch_shape ++ event_shape`; parameters broadcast against each
//! other with numpy rules to give `batch_shape`; `log_prob(value)` broadcasts `value`
//! against `batch_shape ++ event_shape` and returns one number per event.
//!
//! # Parameter and value dtypes (the promotion rules)
//!
//! This section is the one statement of how dtypes combine; other docs link here.
//!
//! Every constructor takes its parameters as [`Param`]s, so a parameter can be a
//! `&Tensor`, a `Tensor`, a `&Var` or a plain `f64`/`f32`. As in torch, the parameters'
//! common float dtype is chosen by category, weakest first:
//! 1. plain numbers take whatever dtype the tensors have;
//! 2. 0-dim tensors decide only when no parameter has dimensions;
//! 3. tensors with dimensions decide when present.
//!
//! Within the deciding category f64 wins over f32. With plain numbers only, the dtype is
//! f32 (torch's default dtype) on the CPU. So `Normal::new(&mean_f32, 1.0)` and
//! `Normal::new(&mean_f32, &Tensor::new(1.0f64, &dev)?)` are both f32 distributions.
//! Converting a parameter keeps it on the autograd graph: gradients reach the tensor
//! the caller passed, in its own dtype. Only f32 and f64 tensors are parameters (other
//! dtypes are [`Error::DType`]); all tensor parameters must be on one device. Builders
//! from plain numbers (`from_scalars(.., dtype, device)`) take the dtype explicitly.
//!
//! Values passed to `log_prob`, `cdf` and `icdf` are first broadcast against
//! `batch_shape ++ event_shape` (the trailing `event_shape` dimensions must match
//! exactly; a mismatch is [`Error::Shape`]), then checked against the support. They
//! then follow torch's promotion: an f64 value given to an f32 distribution is
//! evaluated in f64 (the parameters are widened, the value is not rounded) and the
//! results are f64, when the value has dimensions or when the parameters have none
//! (all 0-dim); a 0-dim f64 value against dimensioned f32 parameters gives f32
//! results, as a 0-dim tensor does not promote a dimensioned one. f32 values given to
//! an f64 distribution are widened exactly; integer tensors (u8, u32, i64) are cast to
//! the distribution's dtype. Gradients reach the parameters in their own dtype.
//!
//! # Sizes
//!
//! The element count of `sample_shape ++ batch_shape ++ event_shape` is computed with
//! overflow checks, and a request that cannot be allocated is an [`Error::Shape`] before
//! any work starts, never a panic or an abort.

use crate::constraints::{host_f64, Constraint};
use crate::error::{Error, Result};
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor, Var};
use std::sync::atomic::{AtomicBool, Ordering};

static DEFAULT_VALIDATE: AtomicBool = AtomicBool::new(true);

/// Sets whether distributions built from now on check their parameters at construction
/// and their arguments in `log_prob`/`cdf`/`icdf` (on by default, as in torch). With
/// checks off no host reads happen, and invalid input gives NaN or ±∞ instead of an
/// error.
pub fn set_default_validate_args(on: bool) {
    DEFAULT_VALIDATE.store(on, Ordering::Relaxed);
}

/// The current default of [`set_default_validate_args`].
pub fn default_validate_args() -> bool {
    DEFAULT_VALIDATE.load(Ordering::Relaxed)
}

/// A probability distribution over tensors (object safe: `Box<dyn Distribution>` works).
///
/// `rsample` draws with the reparameterization trick, so the result stays on the graph
/// of the parameters; `sample` draws without gradient. Methods that a distribution does
/// not define return [`Error::NotImplemented`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Exponential, Generator, Normal};
/// let dev = Device::Cpu;
/// let dists: Vec<Box<dyn Distribution>> = vec![
///     Box::new(Normal::new(&Tensor::new(&[0.0f32, 1.0], &dev)?, &Tensor::new(1.0f32, &dev)?)?),
///     Box::new(Exponential::new(&Tensor::new(&[2.0f32, 3.0], &dev)?)?),
/// ];
/// let mut rng = Generator::new(0);
/// for d in &dists {
///     assert_eq!(d.batch_shape(), &[2]);
///     let x = d.sample(&[5], &mut rng)?; // sample_shape ++ batch_shape
///     assert_eq!(x.dims(), &[5, 2]);
///     assert_eq!(d.log_prob(&x)?.dims(), &[5, 2]);
///     assert_eq!(d.expand(&[3, 2])?.batch_shape(), &[3, 2]);
/// }
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub trait Distribution: std::fmt::Debug + Send + Sync {
    /// Name used in errors and displays ("Normal", ...).
    fn name(&self) -> &'static str;
    /// Shape of independent, non-identical parameter batches.
    fn batch_shape(&self) -> &[usize];
    /// Shape of one event (empty for univariate distributions).
    fn event_shape(&self) -> &[usize];
    /// The set of values with positive density or mass.
    fn support(&self) -> Constraint;
    /// The device of the parameters.
    fn device(&self) -> &Device;
    /// The dtype of the parameters (F32 or F64).
    fn dtype(&self) -> DType;
    /// Whether `rsample` is available.
    fn has_rsample(&self) -> bool {
        false
    }
    /// Whether this instance validates arguments.
    fn validate_args(&self) -> bool;

    /// Reparameterized draw of shape `sample_shape ++ batch_shape ++ event_shape`,
    /// attached to the graph of the parameters.
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let _ = (sample_shape, rng);
        Err(Error::not_implemented(self.name(), "rsample"))
    }

    /// Draw with no gradient (default: `rsample(..)` detached).
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        Ok(self.rsample(sample_shape, rng)?.detach())
    }

    /// Log density (or log mass) of `value`, one number per event.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor>;

    /// Reparameterized draw and its log density in one pass; overridden where that
    /// saves work or is more exact than `log_prob(rsample(..))`.
    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let x = self.rsample(sample_shape, rng)?;
        let lp = self.log_prob(&x)?;
        Ok((x, lp))
    }

    /// Draw (no gradient) and its log density, which keeps the gradient with respect to
    /// the parameters (the score function).
    fn sample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let x = self.sample(sample_shape, rng)?;
        let lp = self.log_prob(&x)?;
        Ok((x, lp))
    }

    /// Cumulative distribution function.
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let _ = value;
        Err(Error::not_implemented(self.name(), "cdf"))
    }

    /// Inverse cumulative distribution function (quantile function) on [0, 1].
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let _ = q;
        Err(Error::not_implemented(self.name(), "icdf"))
    }

    /// Differential entropy (nats), of shape `batch_shape`.
    fn entropy(&self) -> Result<Tensor> {
        Err(Error::not_implemented(self.name(), "entropy"))
    }

    /// Mean (NaN where undefined, +∞ where infinite, as torch).
    fn mean(&self) -> Result<Tensor> {
        Err(Error::not_implemented(self.name(), "mean"))
    }

    /// Mode (NaN where not unique, as torch).
    fn mode(&self) -> Result<Tensor> {
        Err(Error::not_implemented(self.name(), "mode"))
    }

    /// Variance.
    fn variance(&self) -> Result<Tensor> {
        Err(Error::not_implemented(self.name(), "variance"))
    }

    /// Standard deviation (default: `sqrt(variance)`).
    fn stddev(&self) -> Result<Tensor> {
        Ok(self.variance()?.sqrt()?)
    }

    /// All values of a discrete support along a new leading dimension.
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let _ = expand;
        Err(Error::not_implemented(self.name(), "enumerate_support"))
    }

    /// The same distribution with parameters broadcast to a larger `batch_shape`.
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>>;

    /// For downcasting (KL dispatch).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The number of elements of a tensor of shape `shape`, or [`Error::Shape`] naming
/// `dist` when the product overflows `usize`.
pub fn checked_numel(dist: &str, shape: &[usize]) -> Result<usize> {
    // No early exit at a zero-size dimension: candle's own element count is an
    // unchecked product, so [2^32, 2^32, 0] must be refused even though it is empty.
    // Candle's contiguous strides multiply from the last dimension, so the product is
    // checked in that order too: [0, usize::MAX, 2] is empty from the front but its
    // strides overflow (a panic inside candle).
    let forward = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let backward = shape
        .iter()
        .rev()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    forward.and(backward).ok_or_else(|| {
        Error::shape(
            dist,
            format!("shape {shape:?} has more elements than fit in usize"),
        )
    })
}

/// Requests above this many bytes are tried with `try_reserve_exact` before any work:
/// an allocation that cannot succeed is then an error instead of an abort.
const PROBE_BYTES: usize = 1 << 30;

/// `sample_shape ++ batch_shape ++ event_shape`, checked: its element count must fit in
/// `usize` and a buffer of that many elements of `dtype` must be allocatable; otherwise
/// [`Error::Shape`] naming `dist`. Every `sample`/`rsample` path starts here.
pub fn sample_extent(
    dist: &str,
    sample_shape: &[usize],
    batch_shape: &[usize],
    event_shape: &[usize],
    dtype: DType,
) -> Result<Vec<usize>> {
    let shape = extended_shape(sample_shape, batch_shape, event_shape);
    let n = checked_numel(dist, &shape)?;
    check_allocatable(dist, &shape, n, dtype.size_in_bytes())?;
    Ok(shape)
}

/// The batch shape of an `expand`: its element count must fit in `usize` and a tensor
/// of that many f64 must not exceed `isize::MAX` bytes (no allocator could ever give
/// it; candle would panic with "capacity overflow"), else [`Error::Shape`]. `expand`
/// stays a view: a large but possible batch (2^40) is accepted, and the methods that
/// materialize it check their own allocation.
pub(crate) fn expand_extent(dist: &str, shape: &[usize]) -> Result<()> {
    let n = checked_numel(dist, shape)?;
    let bytes = n.checked_mul(DType::F64.size_in_bytes());
    if bytes.is_none_or(|b| b > isize::MAX as usize) {
        return Err(Error::shape(
            dist,
            format!("a batch of shape {shape:?} ({n} elements) cannot exist in memory"),
        ));
    }
    Ok(())
}

/// Errors unless `n` elements of `elem_bytes` bytes could be allocated at once; large
/// requests are probed (reserved and released, no page is touched).
pub(crate) fn check_allocatable(
    dist: &str,
    shape: &[usize],
    n: usize,
    elem_bytes: usize,
) -> Result<()> {
    let too_big = || {
        Error::shape(
            dist,
            format!(
                "a tensor of shape {shape:?} ({n} elements of {elem_bytes} bytes) cannot be allocated"
            ),
        )
    };
    let bytes = n.checked_mul(elem_bytes.max(1)).ok_or_else(too_big)?;
    if bytes > isize::MAX as usize {
        return Err(too_big());
    }
    if bytes > PROBE_BYTES {
        let mut probe: Vec<u8> = Vec::new();
        probe.try_reserve_exact(bytes).map_err(|_| too_big())?;
    }
    Ok(())
}

/// `sample_shape ++ batch_shape ++ event_shape`.
pub fn extended_shape(
    sample_shape: &[usize],
    batch_shape: &[usize],
    event_shape: &[usize],
) -> Vec<usize> {
    let mut s = Vec::with_capacity(sample_shape.len() + batch_shape.len() + event_shape.len());
    s.extend_from_slice(sample_shape);
    s.extend_from_slice(batch_shape);
    s.extend_from_slice(event_shape);
    s
}

/// Numpy broadcast of two shapes, or `None` if incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// A distribution parameter as a constructor takes it: a `&Tensor` (or `&Var`), or a
/// plain number. (There is deliberately no conversion from an owned `Tensor`: with one,
/// clippy asks every existing `new(&t, ..)` call to drop its borrow.) Plain numbers are "weak": they take the dtype and device of the tensor
/// parameters (see the [module docs](self) for the promotion rules).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_distributions::{Distribution, Normal};
/// let mean = Tensor::new(&[0.0f32, 1.0], &Device::Cpu)?;
/// let d = Normal::new(&mean, 2.0)?; // f32, like `mean`
/// assert_eq!(d.dtype(), DType::F32);
/// assert_eq!(Normal::new(0.0, 1.0)?.dtype(), DType::F32); // numbers only: f32
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum Param {
    /// A tensor parameter (a `Var` is kept as its tensor, so gradients reach it).
    Tensor(Tensor),
    /// A plain number.
    Number(f64),
}

impl From<&Tensor> for Param {
    fn from(t: &Tensor) -> Self {
        Param::Tensor(t.clone())
    }
}

impl From<&Var> for Param {
    fn from(v: &Var) -> Self {
        Param::Tensor(v.as_tensor().clone())
    }
}

impl From<f64> for Param {
    fn from(x: f64) -> Self {
        Param::Number(x)
    }
}

impl From<f32> for Param {
    fn from(x: f32) -> Self {
        Param::Number(x as f64)
    }
}

/// Resolves constructor parameters to tensors of one float dtype on one device, by the
/// promotion rules of the [module docs](self): dimensioned tensors decide the dtype,
/// else 0-dim tensors, else f32; plain numbers follow. Shapes are left alone
/// (broadcasting is [`broadcast_params`]'s).
pub(crate) fn promote_params<const N: usize>(
    dist: &'static str,
    params: [(&'static str, Param); N],
) -> Result<[Tensor; N]> {
    let mut device: Option<Device> = None;
    // (any f64 among dimensioned tensors, any dimensioned), same for 0-dim tensors.
    let (mut dim_f64, mut dim_any, mut zero_f64, mut zero_any) = (false, false, false, false);
    for (name, p) in &params {
        if let Param::Tensor(t) = p {
            let wide = match t.dtype() {
                DType::F32 => false,
                DType::F64 => true,
                other => {
                    return Err(Error::DType {
                        context: format!("{dist}: parameter `{name}`"),
                        dtype: other,
                    })
                }
            };
            if t.rank() > 0 {
                dim_any = true;
                dim_f64 |= wide;
            } else {
                zero_any = true;
                zero_f64 |= wide;
            }
            match &device {
                None => device = Some(t.device().clone()),
                Some(d) if !t.device().same_device(d) => {
                    return Err(Error::InvalidArgument(format!(
                        "{dist}: parameter `{name}` is on {:?}, the others on {:?}",
                        t.device(),
                        d
                    )))
                }
                Some(_) => {}
            }
        }
    }
    let dtype = match (dim_any, zero_any) {
        (true, _) if dim_f64 => DType::F64,
        (true, _) => DType::F32,
        (false, true) if zero_f64 => DType::F64,
        _ => DType::F32,
    };
    let device = device.unwrap_or(Device::Cpu);
    let convert = |p: Param| -> Result<Tensor> {
        match p {
            // `to_dtype` is on the graph (a no-op when the dtype already matches), so
            // gradients flow back to the caller's tensor in its own dtype.
            Param::Tensor(t) => Ok(t.to_dtype(dtype)?),
            Param::Number(x) => Ok(Tensor::new(x, &device)?.to_dtype(dtype)?),
        }
    };
    let mut out = Vec::with_capacity(N);
    for (_, p) in params {
        out.push(convert(p)?);
    }
    out.try_into()
        .map_err(|_| Error::InvalidArgument(format!("{dist}: parameter count changed")))
}

/// Scalar parameters as tensors of `dtype` on `device`: the body of every
/// `from_scalars`. Only f32 and f64 are float dtypes of distributions.
pub(crate) fn scalar_params<const N: usize>(
    dist: &'static str,
    values: [f64; N],
    dtype: DType,
    device: &Device,
) -> Result<[Tensor; N]> {
    if !matches!(dtype, DType::F32 | DType::F64) {
        return Err(Error::DType {
            context: format!("{dist}: from_scalars"),
            dtype,
        });
    }
    let mut out = Vec::with_capacity(N);
    for x in values {
        out.push(Tensor::new(x, device)?.to_dtype(dtype)?);
    }
    out.try_into()
        .map_err(|_| Error::InvalidArgument(format!("{dist}: parameter count changed")))
}

/// Broadcasts a distribution's parameters to their common shape, with one float dtype
/// (f32 and f64 mixed are promoted to f64) on one device.
pub(crate) fn broadcast_params(
    dist: &'static str,
    params: &[(&'static str, &Tensor)],
) -> Result<(Vec<Tensor>, Vec<usize>)> {
    let mut shape: Vec<usize> = vec![];
    let mut dtype = DType::F32;
    let Some(device) = params.first().map(|(_, t)| t.device().clone()) else {
        return Err(Error::InvalidArgument(format!(
            "{dist}: a distribution needs at least one parameter"
        )));
    };
    for (name, t) in params {
        match t.dtype() {
            DType::F32 => {}
            DType::F64 => dtype = DType::F64,
            other => {
                return Err(Error::DType {
                    context: format!("{dist}: parameter `{name}`"),
                    dtype: other,
                })
            }
        }
        if !t.device().same_device(&device) {
            return Err(Error::InvalidArgument(format!(
                "{dist}: parameter `{name}` is on {:?}, the others on {:?}",
                t.device(),
                device
            )));
        }
        shape = broadcast_shapes(&shape, t.dims()).ok_or_else(|| {
            Error::shape(
                dist,
                format!(
                    "parameter `{name}` of shape {:?} does not broadcast with shape {:?}",
                    t.dims(),
                    shape
                ),
            )
        })?;
    }
    checked_numel(dist, &shape)?;
    let out = params
        .iter()
        .map(|(_, t)| broadcast_to(&t.to_dtype(dtype)?, &shape))
        .collect::<Result<Vec<_>>>()?;
    Ok((out, shape))
}

/// Checks one parameter against its constraint.
pub(crate) fn check_param(
    dist: &'static str,
    name: &'static str,
    t: &Tensor,
    c: &Constraint,
) -> Result<()> {
    if let Some((index, found)) = c.check(t)? {
        return Err(Error::InvalidParameter {
            distribution: dist,
            parameter: name,
            constraint: c.to_string(),
            found,
            index,
        });
    }
    Ok(())
}

/// Checks a value against a support (or other domain) constraint.
pub(crate) fn check_value(
    dist: &'static str,
    argument: &'static str,
    t: &Tensor,
    c: &Constraint,
) -> Result<()> {
    if let Some((index, found)) = c.check(t)? {
        return Err(Error::OutOfSupport {
            distribution: dist,
            argument,
            constraint: c.to_string(),
            found,
            index,
        });
    }
    Ok(())
}

/// Brings a `log_prob`/`cdf`/`icdf` argument to the distribution's dtype and device and
/// broadcasts it against `batch_event_shape` (for univariate distributions; see
/// [`prepare_event_value`]). Returns the broadcast value and its shape.
pub(crate) fn prepare_value(
    dist: &'static str,
    value: &Tensor,
    batch_event_shape: &[usize],
    dtype: DType,
    device: &Device,
) -> Result<(Tensor, Vec<usize>)> {
    prepare_event_value(dist, value, batch_event_shape, &[], dtype, device)
}

/// The one path of every `log_prob`/`cdf`/`icdf` argument: the dtype rules of the
/// [module docs](self), the device of the distribution, and a broadcast against
/// `batch_shape ++ event_shape` *before* any support check, so supports with tensor
/// bounds (Uniform's `[low, high)`) meet the value elementwise. `batch_shape` here is
/// everything in front of `event_shape`; the value's trailing `event_shape.len()`
/// dimensions must equal `event_shape` exactly (a size-1 value dimension does not
/// stretch to K categories, nor K = 1 to more), as torch's `_validate_sample`.
pub(crate) fn prepare_event_value(
    dist: &'static str,
    value: &Tensor,
    batch_shape: &[usize],
    event_shape: &[usize],
    dtype: DType,
    device: &Device,
) -> Result<(Tensor, Vec<usize>)> {
    if !matches!(
        value.dtype(),
        DType::F32 | DType::F64 | DType::U32 | DType::I64 | DType::U8
    ) {
        return Err(Error::DType {
            context: format!("{dist}: value"),
            dtype: value.dtype(),
        });
    }
    let full = extended_shape(&[], batch_shape, event_shape);
    let e = event_shape.len();
    let dims = value.dims();
    if dims.len() < e || dims[dims.len() - e..] != *event_shape {
        return Err(Error::shape(
            dist,
            format!(
                "value of shape {dims:?} must end in event_shape {event_shape:?} (batch_shape ++ event_shape is {full:?})"
            ),
        ));
    }
    let shape = broadcast_shapes(dims, &full).ok_or_else(|| {
        Error::shape(
            dist,
            format!(
                "value of shape {dims:?} does not broadcast with batch_shape ++ event_shape {full:?}"
            ),
        )
    })?;
    // Every method materializes a result of this shape (and the support check reads
    // it on the host in f64): refuse what cannot be allocated before any of that.
    let n = checked_numel(dist, &shape)?;
    check_allocatable(dist, &shape, n, DType::F64.size_in_bytes())?;
    let v = value.to_dtype(dtype)?.to_device(device)?;
    Ok((broadcast_to(&v, &shape)?, shape))
}

/// [`prepare_event_value`] followed, when `validate`, by the check of `argument`
/// against `domain`: the whole argument path of a method in one call.
#[allow(clippy::too_many_arguments)]
pub(crate) fn checked_argument(
    dist: &'static str,
    argument: &'static str,
    value: &Tensor,
    batch_shape: &[usize],
    event_shape: &[usize],
    dtype: DType,
    device: &Device,
    domain: Option<&Constraint>,
) -> Result<Tensor> {
    let (v, _) = prepare_event_value(dist, value, batch_shape, event_shape, dtype, device)?;
    if let Some(c) = domain {
        check_value(dist, argument, &v, c)?;
    }
    Ok(v)
}

/// The dtype of the results of `log_prob`/`cdf`/`icdf` for an argument `value` of a
/// distribution of dtype `dist_dtype` (torch's promotion, see the module docs): an
/// f64 value promotes an f32 distribution to f64 when it has dimensions, or when the
/// parameters have none (all 0-dim: the same category, so the wider dtype wins); a
/// 0-dim f64 value against dimensioned f32 parameters does not, nor does any other
/// dtype (integers are cast to the distribution's dtype).
pub(crate) fn result_dtype(dist_dtype: DType, batch_shape: &[usize], value: &Tensor) -> DType {
    match (dist_dtype, value.dtype()) {
        (DType::F32, DType::F64) if value.rank() > 0 || batch_shape.is_empty() => DType::F64,
        _ => dist_dtype,
    }
}

/// Reads a scalar-like tensor on the host (for tests and displays).
pub fn to_f64_vec(t: &Tensor) -> Result<Vec<f64>> {
    host_f64(t)
}

/// `t` broadcast to `shape`, or `t` itself when it already has that shape: a no-op
/// broadcast would still add a graph node whose backward is a full reduction.
pub(crate) fn broadcast_to(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if t.dims() == shape {
        Ok(t.clone())
    } else {
        Ok(t.broadcast_as(shape)?)
    }
}

/// The `Distribution` methods that every [`Params`]-based univariate family writes the
/// same way (batch shape, no event shape, device, dtype, rsample available, validation
/// flag, `as_any`), for an `impl Distribution` block: `params_methods!(p);` names the
/// field that holds the `Params`. A discrete family writes
/// `params_methods!(discrete p, "RelaxedBernoulli")` instead: the same methods and
/// `name` (the file's `NAME`), but no `rsample` (its error,
/// [`no_rsample`](crate::discrete::no_rsample), names the alternatives given, `""` for
/// none).
macro_rules! params_methods {
    ($field:ident) => {
        $crate::distribution::params_methods!(@shared $field);
        fn has_rsample(&self) -> bool {
            true
        }
    };
    (discrete $field:ident, $alternatives:expr) => {
        $crate::distribution::params_methods!(@shared $field);
        fn name(&self) -> &'static str {
            NAME
        }
        fn rsample(
            &self,
            _sample_shape: &[usize],
            _rng: &mut $crate::Generator,
        ) -> $crate::Result<candle_core::Tensor> {
            Err($crate::discrete::no_rsample(NAME, $alternatives))
        }
    };
    (@shared $field:ident) => {
        fn batch_shape(&self) -> &[usize] {
            self.$field.batch_shape()
        }
        fn event_shape(&self) -> &[usize] {
            &[]
        }
        fn device(&self) -> &candle_core::Device {
            self.$field.device()
        }
        fn dtype(&self) -> candle_core::DType {
            self.$field.dtype()
        }
        fn validate_args(&self) -> bool {
            self.$field.validate()
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    };
}
pub(crate) use params_methods;

/// The constructors `new`, `new_with_validation` and `from_scalars` of a family with
/// its own parameters, as associated items inside its `impl` block:
/// `params_constructors! { /// doc of new
/// "Beta", Self::build; concentration1, concentration0 }`. The parameters (torch's names,
/// in constructor order) are promoted to one dtype ([`promote_params`]) and handed as
/// tensors to `build(&p1, .., validate: Option<bool>)`; the file's `NAME` names the
/// distribution in errors.
macro_rules! params_constructors {
    ($(#[$doc:meta])* $ty:literal, $build:expr; $($p:ident),+) => {
        $(#[$doc])*
        pub fn new($($p: impl Into<$crate::distribution::Param>),+) -> $crate::Result<Self> {
            let [$($p),+] = $crate::distribution::promote_params(
                NAME,
                [$((stringify!($p), $p.into())),+],
            )?;
            ($build)($(&$p),+, None)
        }

        #[doc = concat!("As [`", $ty, "::new`], with argument validation set for this instance.")]
        pub fn new_with_validation(
            $($p: impl Into<$crate::distribution::Param>,)+
            validate: bool,
        ) -> $crate::Result<Self> {
            let [$($p),+] = $crate::distribution::promote_params(
                NAME,
                [$((stringify!($p), $p.into())),+],
            )?;
            ($build)($(&$p),+, Some(validate))
        }

        #[doc = concat!("A scalar ", $ty, " of `dtype` (f32 or f64) on `device`.")]
        pub fn from_scalars(
            $($p: f64,)+
            dtype: candle_core::DType,
            device: &candle_core::Device,
        ) -> $crate::Result<Self> {
            let [$($p),+] = $crate::distribution::scalar_params(NAME, [$($p),+], dtype, device)?;
            Self::new($(&$p),+)
        }
    };
}
pub(crate) use params_constructors;

/// The parameters of a distribution with its own constructor (not a location-scale
/// family): broadcast to one shape and dtype, checked against their constraints, with
/// the argument checks shared by all methods.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    dist: &'static str,
    tensors: Vec<Tensor>,
    /// The parameters in f64: densities, CDFs and moments are evaluated in f64 and
    /// rounded once to the dtype, so f32 results carry one rounding, not the
    /// cancellations of a formula evaluated in f32 (ln Γ(1e4) ≈ 8e4 in a log-density
    /// of −5).
    /// Made on first use: sampling never needs it, and converting a large batch of
    /// parameters costs two full passes over memory.
    wide: std::sync::OnceLock<Vec<Tensor>>,
    batch_shape: Vec<usize>,
    validate: bool,
}

impl Params {
    /// Broadcasts `spec`'s tensors and, if validating (default: the global switch),
    /// checks each against its constraint.
    pub fn new(
        dist: &'static str,
        spec: &[(&'static str, &Tensor, Constraint)],
        validate: Option<bool>,
    ) -> Result<Self> {
        let named: Vec<(&'static str, &Tensor)> = spec.iter().map(|(n, t, _)| (*n, *t)).collect();
        let (tensors, batch_shape) = broadcast_params(dist, &named)?;
        let validate = validate.unwrap_or_else(default_validate_args);
        if validate {
            for ((name, _, c), t) in spec.iter().zip(&tensors) {
                check_param(dist, name, t, c)?;
            }
        }
        Ok(Params {
            dist,
            tensors,
            wide: std::sync::OnceLock::new(),
            batch_shape,
            validate,
        })
    }

    /// The distribution's name, for errors.
    pub fn dist(&self) -> &'static str {
        self.dist
    }

    /// Parameter `i` (constructor order), broadcast to `batch_shape`.
    pub fn get(&self, i: usize) -> &Tensor {
        &self.tensors[i]
    }

    pub fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }

    pub fn validate(&self) -> bool {
        self.validate
    }

    pub fn set_validate(&mut self, on: bool) {
        self.validate = on;
    }

    pub fn dtype(&self) -> DType {
        self.tensors[0].dtype()
    }

    pub fn device(&self) -> &Device {
        self.tensors[0].device()
    }

    /// `sample_shape ++ batch_shape`, checked by [`sample_extent`].
    pub fn sample_shape(&self, sample_shape: &[usize]) -> Result<Vec<usize>> {
        sample_extent(
            self.dist,
            sample_shape,
            &self.batch_shape,
            &[],
            self.dtype(),
        )
    }

    /// A `log_prob`/`cdf` argument in the result dtype ([`Params::result_dtype`]:
    /// the parameters' dtype, or f64 for an f64 value that promotes), broadcast with
    /// `batch_shape` and then, when validating, checked against `support`.
    pub fn value(&self, value: &Tensor, support: &Constraint) -> Result<Tensor> {
        self.argument("value", value, support)
    }

    fn argument(&self, name: &'static str, value: &Tensor, domain: &Constraint) -> Result<Tensor> {
        checked_argument(
            self.dist,
            name,
            value,
            &self.batch_shape,
            &[],
            self.result_dtype(value),
            self.device(),
            self.validate.then_some(domain),
        )
    }

    /// The dtype of results for the argument `value` ([`result_dtype`]).
    pub fn result_dtype(&self, value: &Tensor) -> DType {
        result_dtype(self.dtype(), &self.batch_shape, value)
    }

    /// A result computed in f64 for the argument `arg`, in [`Params::result_dtype`].
    pub fn out_for(&self, arg: &Tensor, t: Tensor) -> Result<Tensor> {
        Ok(t.to_dtype(self.result_dtype(arg))?)
    }

    /// An `icdf` argument: as [`Params::value`] with the check q ∈ [0, 1].
    pub fn probability(&self, q: &Tensor) -> Result<Tensor> {
        self.argument("q", q, &Constraint::UnitInterval)
    }

    /// Parameter `i` in f64.
    pub fn w(&self, i: usize) -> &Tensor {
        &self.wide_all()[i]
    }

    fn wide_all(&self) -> &[Tensor] {
        self.wide.get_or_init(|| {
            self.tensors
                .iter()
                .map(|t| {
                    // Converted before it is broadcast: the broadcast's backward then sums
                    // the per-element gradients in f64 and rounds the total once, where
                    // an f32 sum of terms of 1e39 (scale 1e-40) would overflow to +∞
                    // and −∞ and give NaN. A conversion to f64 cannot fail for the float
                    // dtypes `new` admits.
                    let wide = |t: &Tensor| -> candle_core::Result<Tensor> {
                        crate::special::kernel::unbroadcast(t)?
                            .to_dtype(DType::F64)?
                            .broadcast_as(t.dims())
                    };
                    wide(t).unwrap_or_else(|_| t.clone())
                })
                .collect()
        })
    }

    /// Parameter `i` in f64, broadcast to the shape of `like` (a value already
    /// broadcast with `batch_shape`).
    pub fn w_at(&self, i: usize, like: &Tensor) -> Result<Tensor> {
        broadcast_to(&self.wide_all()[i], like.dims())
    }

    /// A `log_prob`/`cdf` argument as [`Params::value`], in f64.
    pub fn wide_value(&self, value: &Tensor, support: &Constraint) -> Result<Tensor> {
        Ok(self.value(value, support)?.to_dtype(DType::F64)?)
    }

    /// A result computed in f64, in the parameters' dtype.
    pub fn out(&self, t: Tensor) -> Result<Tensor> {
        Ok(t.to_dtype(self.dtype())?)
    }

    /// The parameters broadcast to a larger `batch_shape`, for `expand`.
    pub fn expanded(&self, batch_shape: &[usize]) -> Result<Vec<Tensor>> {
        expand_extent(self.dist, batch_shape)?;
        self.tensors
            .iter()
            .map(|p| {
                p.broadcast_as(batch_shape).map_err(|_| {
                    Error::shape(
                        self.dist,
                        format!(
                            "cannot expand batch_shape {:?} to {:?}",
                            self.batch_shape, batch_shape
                        ),
                    )
                })
            })
            .collect()
    }
}
