//! The [`Distribution`] trait, shape rules and argument validation.
//!
//! Shapes follow torch.distributions: a draw has shape
//! `sample_shape ++ batch_shape ++ event_shape`; parameters broadcast against each
//! other with numpy rules to give `batch_shape`; `log_prob(value)` broadcasts `value`
//! against `batch_shape ++ event_shape` and returns one number per event.

use crate::constraints::{host_f64, Constraint};
use crate::error::{Error, Result};
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor};
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

/// Broadcasts a distribution's parameters to their common shape, with one float dtype
/// (f32 and f64 mixed are promoted to f64) on one device.
pub(crate) fn broadcast_params(
    dist: &'static str,
    params: &[(&'static str, &Tensor)],
) -> Result<(Vec<Tensor>, Vec<usize>)> {
    let mut shape: Vec<usize> = vec![];
    let mut dtype = DType::F32;
    let device = params[0].1.device().clone();
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

/// Brings a `log_prob`/`cdf` argument to the distribution's dtype and device, and checks
/// that it broadcasts against `batch_shape ++ event_shape`. Returns the value and the
/// broadcast shape.
pub(crate) fn prepare_value(
    dist: &'static str,
    value: &Tensor,
    batch_event_shape: &[usize],
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
    let shape = broadcast_shapes(value.dims(), batch_event_shape).ok_or_else(|| {
        Error::shape(
            dist,
            format!(
                "value of shape {:?} does not broadcast with batch_shape ++ event_shape {:?}",
                value.dims(),
                batch_event_shape
            ),
        )
    })?;
    let v = value.to_dtype(dtype)?.to_device(device)?;
    Ok((v, shape))
}

/// Checks that a probability argument (of `icdf`) lies in [0, 1].
pub(crate) fn check_probability(dist: &'static str, q: &Tensor) -> Result<()> {
    check_value(dist, "q", q, &Constraint::UnitInterval)
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
/// field that holds the `Params`.
macro_rules! params_methods {
    ($field:ident) => {
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
        fn has_rsample(&self) -> bool {
            true
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

    /// `sample_shape ++ batch_shape`.
    pub fn sample_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        extended_shape(sample_shape, &self.batch_shape, &[])
    }

    /// A `log_prob`/`cdf` argument in the parameters' dtype, checked against `support`
    /// when validating, and broadcast with `batch_shape`.
    pub fn value(&self, value: &Tensor, support: &Constraint) -> Result<Tensor> {
        let (v, shape) = prepare_value(
            self.dist,
            value,
            &self.batch_shape,
            self.dtype(),
            self.device(),
        )?;
        // Broadcast first: a support with tensor bounds checks elementwise against
        // the batch.
        let v = broadcast_to(&v, &shape)?;
        if self.validate {
            check_value(self.dist, "value", &v, support)?;
        }
        Ok(v)
    }

    /// An `icdf` argument: as [`Params::value`] with the check q ∈ [0, 1].
    pub fn probability(&self, q: &Tensor) -> Result<Tensor> {
        self.value(q, &Constraint::UnitInterval)
            .map_err(|e| match e {
                Error::OutOfSupport {
                    distribution,
                    constraint,
                    found,
                    index,
                    ..
                } => Error::OutOfSupport {
                    distribution,
                    argument: "q",
                    constraint,
                    found,
                    index,
                },
                other => other,
            })
    }

    /// Parameter `i` in f64.
    pub fn w(&self, i: usize) -> &Tensor {
        &self.wide_all()[i]
    }

    fn wide_all(&self) -> &[Tensor] {
        self.wide.get_or_init(|| {
            self.tensors
                .iter()
                // A conversion to f64 cannot fail for the float dtypes `new` admits.
                .map(|t| t.to_dtype(DType::F64).unwrap_or_else(|_| t.clone()))
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
